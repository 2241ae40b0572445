//! Private keys. They zeroize on drop, print as `[REDACTED]`, and become
//! bytes or text only through a method whose name says `reveal`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::account::Address;

const REDACTED: &str = "[REDACTED]";

/// `N` bytes from the OS CSPRNG (nonces, request ids).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand_core::RngCore as _;
    let mut out = [0u8; N];
    rand_core::OsRng.fill_bytes(&mut out);
    out
}

/// A secp256k1 private key. `k256::SecretKey` zeroizes its scalar on drop.
#[derive(Clone)]
pub struct PrivateKey(k256::SecretKey);

impl PrivateKey {
    /// A new key from the given cryptographic RNG (the OS CSPRNG in
    /// production, a seeded one in tests).
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        PrivateKey(k256::SecretKey::random(rng))
    }

    /// Wraps a k256 secret key (already zeroized on drop by k256), for
    /// callers that derive the public key on their own path, such as
    /// [`crate::keygen::generate_batch`].
    pub fn from_secret_key(secret: k256::SecretKey) -> Self {
        PrivateKey(secret)
    }

    /// A key from a non-zero scalar; the copy inside the key zeroizes on
    /// drop, the caller's copy is the caller's to clear.
    pub fn from_nonzero_scalar(scalar: k256::NonZeroScalar) -> Self {
        PrivateKey(k256::SecretKey::from(scalar))
    }

    /// A new key from the operating system's CSPRNG.
    pub fn generate_os() -> Self {
        Self::generate(&mut rand_core::OsRng)
    }

    /// Parses 32 big-endian bytes. Fails for zero or values not below the
    /// curve order; the error never contains the bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, InvalidKey> {
        // k256 would left-pad shorter slices; a stored key is exactly 32.
        if bytes.len() != 32 {
            return Err(InvalidKey);
        }
        k256::SecretKey::from_slice(bytes).map(PrivateKey).map_err(|_| InvalidKey)
    }

    pub fn public_key(&self) -> k256::PublicKey {
        self.0.public_key()
    }

    /// The 65-byte uncompressed SEC1 public key, `0x04 || x || y`. Uses
    /// k256's precomputed generator table, several times faster than the
    /// generic point multiplication behind `public_key()`.
    pub fn public_key_uncompressed(&self) -> [u8; 65] {
        use k256::elliptic_curve::ops::MulByGenerator as _;
        let point = k256::ProjectivePoint::mul_by_generator(&*self.0.to_nonzero_scalar()).to_affine();
        let mut out = [0u8; 65];
        out.copy_from_slice(point.to_encoded_point(false).as_bytes());
        out
    }

    pub fn address(&self) -> Address {
        Address::from_uncompressed_point(&self.public_key_uncompressed())
    }

    /// Signs a 32-byte digest: deterministic (RFC 6979), low-s, with the
    /// recovery id that Ethereum's `v` is built from.
    pub fn sign_prehash(&self, digest: &[u8; 32]) -> Result<RecoverableSignature, SigningFailed> {
        // `SigningKey` zeroizes its scalar on drop, like `SecretKey`.
        let signing = k256::ecdsa::SigningKey::from(&self.0);
        let (signature, recovery) = signing.sign_prehash_recoverable(digest).map_err(|_| SigningFailed)?;
        let (r, s) = signature.split_bytes();
        Ok(RecoverableSignature { r: r.into(), s: s.into(), recovery_id: recovery.to_byte() })
    }

    /// The 32 secret bytes, zeroized when the returned value drops.
    pub fn reveal_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.0.to_bytes());
        out
    }

    /// `0x` + 64 lowercase hex digits, zeroized when the returned value drops.
    pub fn reveal_hex(&self) -> Zeroizing<String> {
        let bytes = self.reveal_bytes();
        let mut out = Zeroizing::new(String::with_capacity(66));
        out.push_str("0x");
        out.push_str(&hex::encode(*bytes));
        out
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({REDACTED})")
    }
}

impl fmt::Display for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A secp256k1 signature with its recovery id (0 or 1): what Ethereum
/// encodes as `r ‖ s ‖ v`. Public data, so it prints as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoverableSignature {
    pub r: [u8; 32],
    pub s: [u8; 32],
    pub recovery_id: u8,
}

/// Signing failed; for a valid key this happens with negligible
/// probability (a zero `r` or `s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signature could not be computed (a zero r or s); sign again")]
pub struct SigningFailed;

/// Bytes that are not a valid secp256k1 private key. Says nothing more, on
/// purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid secp256k1 private key (32 bytes, non-zero, below the curve order)")]
pub struct InvalidKey;

/// The key of a row written by the Node service: base64 of a 64-byte
/// ed25519 secret key (seed || public key), kept exactly as stored so that
/// existing callers get back what they always got.
pub struct LegacyKey {
    base64: Zeroizing<String>,
}

impl LegacyKey {
    pub fn from_base64(base64: Zeroizing<String>) -> Self {
        LegacyKey { base64 }
    }

    /// The key pair of a 32-byte ed25519 seed, in the Node service's form:
    /// base64 of seed ‖ public key. For a key read from a canonical
    /// base64 row, `from_seed(&key.seed()?)` gives back exactly its text.
    pub fn from_seed(seed: &Zeroizing<[u8; 32]>) -> Self {
        let signing = ed25519_dalek::SigningKey::from_bytes(seed);
        let pair = Zeroizing::new(signing.to_keypair_bytes());
        LegacyKey { base64: Zeroizing::new(BASE64.encode(pair.as_slice())) }
    }

    /// The checked 32-byte seed (the secret half), zeroized on drop: what a
    /// migrated row seals.
    pub fn seed(&self) -> Result<Zeroizing<[u8; 32]>, String> {
        Ok(Zeroizing::new(self.signing_key()?.to_bytes()))
    }

    /// The stored base64 text, unchanged.
    pub fn reveal_base64(&self) -> &str {
        &self.base64
    }

    /// Decodes and checks the key pair: the seed derives the embedded public
    /// key. Returns that public key.
    pub fn verified_public_key(&self) -> Result<[u8; 32], String> {
        Ok(self.signing_key()?.verifying_key().to_bytes())
    }

    /// An ed25519 signature of `message` (RFC 8032, deterministic).
    pub fn sign(&self, message: &[u8]) -> Result<[u8; 64], String> {
        use ed25519_dalek::Signer as _;
        Ok(self.signing_key()?.sign(message).to_bytes())
    }

    /// The checked signing key; it zeroizes on drop.
    fn signing_key(&self) -> Result<ed25519_dalek::SigningKey, String> {
        let bytes = Zeroizing::new(
            BASE64
                .decode(self.base64.as_bytes())
                // Not the decoder's message: it quotes the offending character of the key.
                .map_err(|_| "the legacy private_key is not valid base64".to_owned())?,
        );
        let pair: &[u8; 64] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| format!("the legacy private_key decodes to {} bytes, not 64", bytes.len()))?;
        ed25519_dalek::SigningKey::from_keypair_bytes(pair)
            .map_err(|_| "the legacy private_key's seed does not derive its public half".to_owned())
    }
}

impl Clone for LegacyKey {
    fn clone(&self) -> Self {
        LegacyKey { base64: self.base64.clone() }
    }
}

impl fmt::Debug for LegacyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LegacyKey({REDACTED})")
    }
}

/// An opened key, of either scheme.
#[derive(Debug, Clone)]
pub enum KeyMaterial {
    Secp256k1(PrivateKey),
    LegacyEd25519(LegacyKey),
}

impl KeyMaterial {
    /// What a caller asked to see: `0x` hex for secp256k1, the stored base64
    /// for legacy rows.
    pub fn reveal_text(&self) -> Zeroizing<String> {
        match self {
            KeyMaterial::Secp256k1(key) => key.reveal_hex(),
            KeyMaterial::LegacyEd25519(key) => Zeroizing::new(key.reveal_base64().to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_one() -> PrivateKey {
        let mut bytes = [0u8; 32];
        bytes[31] = 1;
        PrivateKey::from_bytes(&bytes).expect("valid")
    }

    #[test]
    fn a_corrupt_legacy_key_is_refused_without_quoting_it() {
        let corrupt = LegacyKey::from_base64(Zeroizing::new("QUJD€REVG".to_owned()));
        let reason = corrupt.seed().expect_err("not base64");
        assert_eq!(reason, "the legacy private_key is not valid base64");
    }

    #[test]
    fn debug_and_display_are_redacted() {
        let key = key_one();
        let hex = key.reveal_hex();
        for shown in
            [format!("{key:?}"), format!("{key}"), format!("{:?}", KeyMaterial::Secp256k1(key.clone()))]
        {
            assert!(shown.contains(REDACTED), "{shown}");
            assert!(!shown.contains(&hex[2..]), "{shown}");
        }
        let legacy = LegacyKey::from_base64(Zeroizing::new("c2VjcmV0".to_owned()));
        assert_eq!(format!("{legacy:?}"), "LegacyKey([REDACTED])");
    }

    #[test]
    fn reveal_gives_hex_and_bytes() {
        let key = key_one();
        assert_eq!(key.reveal_hex().as_str(), format!("0x{}1", "0".repeat(63)));
        assert_eq!(key.reveal_bytes()[31], 1);
        assert_eq!(key.address().to_string(), "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    }

    #[test]
    fn invalid_bytes_are_refused_without_echoing_them() {
        assert_eq!(PrivateKey::from_bytes(&[0u8; 32]).err(), Some(InvalidKey));
        assert_eq!(PrivateKey::from_bytes(&[0xffu8; 32]).err(), Some(InvalidKey));
        assert_eq!(PrivateKey::from_bytes(&[1u8; 31]).err(), Some(InvalidKey));
    }

    #[test]
    fn the_table_path_matches_k256s_generic_public_key() {
        for _ in 0..64 {
            let key = PrivateKey::generate_os();
            let generic = key.public_key().to_encoded_point(false);
            assert_eq!(key.public_key_uncompressed().as_slice(), generic.as_bytes());
            assert_eq!(key.address(), Address::from_public_key(&key.public_key()));
        }
    }

    #[test]
    fn a_legacy_key_round_trips_through_its_seed() {
        let seed = Zeroizing::new([42u8; 32]);
        let key = LegacyKey::from_seed(&seed);
        assert_eq!(key.reveal_base64().len(), 88);
        assert_eq!(*key.seed().expect("valid"), *seed);
        let again = LegacyKey::from_seed(&key.seed().expect("valid"));
        assert_eq!(again.reveal_base64(), key.reveal_base64());
        let public = key.verified_public_key().expect("valid");
        let decoded = BASE64.decode(key.reveal_base64()).expect("base64");
        assert_eq!(&decoded[..32], seed.as_slice());
        assert_eq!(&decoded[32..], public.as_slice());
        assert!(LegacyKey::from_base64(Zeroizing::new("c2VjcmV0".into())).seed().is_err());
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(PrivateKey::generate_os().address(), PrivateKey::generate_os().address());
    }
}
