//! Addresses: derivation from public keys, EIP-55 formatting and parsing.
//!
//! The stored form (the DynamoDB partition key) is `0x` + 40 lowercase hex
//! digits, as in the tables the Node service wrote. Everything shown to a
//! person uses the EIP-55 checksum case.

use std::fmt;
use std::str::FromStr;

use tiny_keccak::{Hasher, Keccak};

/// Keccak-256, as Ethereum uses it (not NIST SHA3-256).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut hasher = Keccak::v256();
    hasher.update(data);
    hasher.finalize(&mut out);
    out
}

/// A 20-byte account address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address([u8; 20]);

/// Why a string is not an address. Each variant says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("it must start with `0x` followed by 40 hex digits")]
    MissingPrefix,
    #[error("it has {0} hex digits after `0x`; an address has exactly 40")]
    WrongLength(usize),
    #[error("character {ch:?} at position {position} is not a hex digit (0-9, a-f)")]
    NonHex { ch: char, position: usize },
    #[error(
        "its mixed-case checksum (EIP-55) does not match; the address has a typo or its letter case was changed. Copy it again from its source, or give it all lowercase"
    )]
    BadChecksum,
}

impl Address {
    pub const fn from_bytes(bytes: [u8; 20]) -> Self {
        Address(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// The same address as alloy's type, for its encoders.
    pub fn to_alloy(self) -> alloy_primitives::Address {
        alloy_primitives::Address::from(self.0)
    }

    /// Ethereum address of a secp256k1 public key: the last 20 bytes of the
    /// keccak-256 of the uncompressed point without its `0x04` tag.
    pub fn from_public_key(key: &k256::PublicKey) -> Self {
        use k256::elliptic_curve::sec1::ToEncodedPoint;
        let point = key.to_encoded_point(false);
        Self::from_uncompressed_point(point.as_bytes())
    }

    /// Same as [`Address::from_public_key`], from the 65-byte SEC1 encoding.
    pub(crate) fn from_uncompressed_point(point: &[u8]) -> Self {
        debug_assert_eq!(point.len(), 65);
        let hash = keccak256(&point[1..]);
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&hash[12..]);
        Address(bytes)
    }

    /// The stored form: `0x` + 40 lowercase hex digits.
    pub fn to_storage(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// The EIP-55 mixed-case checksum form.
    pub fn to_checksum(&self) -> String {
        let lower = hex::encode(self.0);
        let hash = keccak256(lower.as_bytes());
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            out.push(if nibble >= 8 { c.to_ascii_uppercase() } else { c });
        }
        out
    }

    /// Parses `0x` + 40 hex digits: all lowercase, all uppercase, or a
    /// correct EIP-55 mixed case.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let digits = input.strip_prefix("0x").ok_or(AddressError::MissingPrefix)?;
        if let Some((position, ch)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
            return Err(AddressError::NonHex { ch, position: position + 2 });
        }
        if digits.len() != 40 {
            return Err(AddressError::WrongLength(digits.len()));
        }
        let mut bytes = [0u8; 20];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| AddressError::MissingPrefix)?;
        let address = Address(bytes);
        let has_lower = digits.bytes().any(|b| b.is_ascii_lowercase());
        let has_upper = digits.bytes().any(|b| b.is_ascii_uppercase());
        if has_lower && has_upper && address.to_checksum()[2..] != *digits {
            return Err(AddressError::BadChecksum);
        }
        Ok(address)
    }
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

/// Displays the EIP-55 checksum form.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_checksum())
    }
}

/// Debug shows the stored, lowercase form.
impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.to_storage())
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_checksum())
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Address::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn eip55_examples_round_trip() {
        // The examples from EIP-55 itself.
        for expected in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
            "0x52908400098527886E0F7030069857D2E4169EE7",
            "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
            "0xde709f2102306220921060314715629080e2fb77",
            "0x27b1fdb04752bbc536007a920d24acb045561c26",
        ] {
            let address = Address::parse(expected).expect("EIP-55 example parses");
            assert_eq!(address.to_checksum(), expected);
            assert_eq!(address.to_string(), expected);
            assert_eq!(address.to_storage(), expected.to_ascii_lowercase());
        }
    }

    #[test]
    fn accepts_all_lower_and_all_upper() {
        let lower = Address::parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").expect("lower");
        let upper = Address::parse("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED").expect("upper");
        assert_eq!(lower, upper);
        assert_eq!(lower.to_string(), "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    }

    #[test]
    fn rejects_each_kind_of_bad_input_and_says_which() {
        assert_eq!(
            Address::parse("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            Err(AddressError::MissingPrefix)
        );
        assert_eq!(Address::parse("0x5aAeb6053F"), Err(AddressError::WrongLength(10)));
        assert_eq!(
            Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00"),
            Err(AddressError::WrongLength(42))
        );
        assert_eq!(
            Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg"),
            Err(AddressError::NonHex { ch: 'g', position: 41 })
        );
        // One letter's case flipped.
        assert_eq!(
            Address::parse("0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            Err(AddressError::BadChecksum)
        );
        let message = AddressError::WrongLength(10).to_string();
        assert!(message.contains("exactly 40"), "{message}");
    }

    #[test]
    fn private_key_one_has_the_known_address() {
        let mut bytes = [0u8; 32];
        bytes[31] = 1;
        let secret = k256::SecretKey::from_slice(&bytes).expect("1 is a valid scalar");
        let address = Address::from_public_key(&secret.public_key());
        assert_eq!(address.to_string(), "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    }

    #[test]
    fn keccak_of_empty_input_is_the_known_value() {
        assert_eq!(
            hex::encode(keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    proptest! {
        #[test]
        fn checksum_form_round_trips(bytes in any::<[u8; 20]>()) {
            let address = Address::from_bytes(bytes);
            prop_assert_eq!(Address::parse(&address.to_checksum()), Ok(address));
            prop_assert_eq!(Address::parse(&address.to_storage()), Ok(address));
            let upper = format!("0x{}", hex::encode_upper(bytes));
            prop_assert_eq!(Address::parse(&upper), Ok(address));
        }

        #[test]
        fn json_round_trips(bytes in any::<[u8; 20]>()) {
            let address = Address::from_bytes(bytes);
            let json = serde_json::to_string(&address).expect("serialises");
            prop_assert_eq!(serde_json::from_str::<Address>(&json).expect("parses"), address);
        }

        #[test]
        fn parse_never_panics(input in ".{0,64}") {
            let _ = Address::parse(&input);
        }

        #[test]
        fn a_single_case_flip_is_caught(bytes in any::<[u8; 20]>(), index in 0usize..40) {
            let address = Address::from_bytes(bytes);
            let checksum = address.to_checksum();
            let mut chars: Vec<char> = checksum.chars().collect();
            let c = chars[index + 2];
            prop_assume!(c.is_ascii_alphabetic());
            chars[index + 2] = if c.is_ascii_uppercase() { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() };
            let flipped: String = chars.into_iter().collect();
            let all_one_case = flipped[2..].bytes().all(|b| !b.is_ascii_uppercase())
                || flipped[2..].bytes().all(|b| !b.is_ascii_lowercase());
            prop_assume!(!all_one_case);
            prop_assert_eq!(Address::parse(&flipped), Err(AddressError::BadChecksum));
        }
    }
}
