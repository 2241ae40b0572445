//! Web3 Secret Storage (version 3) keystores: the encrypted JSON files that
//! geth, Clef, MetaMask and ethers write for one private key.
//!
//! A keystore comes from outside, so every number and length in it is
//! checked before any key derivation: a hostile file cannot make an import
//! spend minutes of CPU or gigabytes of memory. The MAC is compared in
//! constant time before anything is decrypted.

use std::fmt;

use ctr::cipher::generic_array::GenericArray;
use ctr::cipher::{KeyIvInit as _, StreamCipher as _};
use rand_core::CryptoRngCore;
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::account::{Address, keccak256};
use crate::secret::{InvalidKey, PrivateKey};

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

const DKLEN: usize = 32;
const IV_LEN: usize = 16;
const MAC_LEN: usize = 32;
const SALT_LEN: usize = 32;
const MAX_SALT: usize = 1024;
/// A secp256k1 key is 32 bytes (geth wrote shorter ones without their
/// leading zeros); anything longer cannot be one.
const MAX_CIPHERTEXT: usize = 32;
const MAX_LOG_N: u32 = 20;
const MAX_R: u64 = 32;
const MAX_P: u64 = 16;
const MAX_SCRYPT_MEMORY: u64 = 1 << 30;
/// 128·r·n·p, the bytes scrypt mixes: 8 times the standard n = 2^18, r = 8,
/// p = 1, so no file can hold the CPU for more than a few seconds.
const MAX_SCRYPT_WORK: u64 = 1 << 31;
const MAX_PBKDF2_ROUNDS: u64 = 10_000_000;

/// Why a keystore could not be read or written. No variant carries key
/// bytes or the passphrase.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    #[error(
        "the keystore is not a Web3 Secret Storage JSON object ({reason}); give the file exactly as the wallet wrote it"
    )]
    NotJson { reason: String },

    #[error("the keystore has no `{field}`; a Web3 Secret Storage (V3) file must have it")]
    MissingField { field: &'static str },

    #[error("the keystore field `{field}` is malformed: {reason}")]
    MalformedField { field: &'static str, reason: String },

    #[error(
        "unsupported {what} {found:?}; only {supported} is supported. Export the key again from its wallet in the standard V3 format"
    )]
    Unsupported { what: &'static str, found: String, supported: &'static str },

    #[error(
        "keystore parameter `{name}` = {value} is out of bounds: {bound}. Nothing was derived; if the file is genuine, re-encrypt it with standard parameters (scrypt n = 262144, r = 8, p = 1) and try again"
    )]
    OutOfBounds { name: &'static str, value: String, bound: String },

    #[error(
        "the keystore's MAC does not match: wrong passphrase, or the file was altered. Check the passphrase and that this is the file the wallet wrote"
    )]
    MacMismatch,

    #[error(
        "the keystore says its address is {expected}, but its key belongs to {actual}: the file was altered (a changed iv is not covered by the MAC) or assembled from two files. Nothing was imported"
    )]
    AddressMismatch { expected: Address, actual: Address },

    #[error("the decrypted key is not usable: {0}. The file was not written for an Ethereum key")]
    InvalidKey(#[from] InvalidKey),

    #[error(
        "the key derivation refused parameters that passed our bounds check; this is a bug, please report it"
    )]
    KdfRefused,
}

/// scrypt cost parameters for [`encrypt_with`]. Built only through
/// [`ScryptParams::new`], so a file we write is always one we would read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScryptParams {
    log_n: u8,
    r: u32,
    p: u32,
}

impl ScryptParams {
    /// geth's standard: n = 2^18, r = 8, p = 1 (256 MiB, about a second).
    pub const STANDARD: ScryptParams = ScryptParams { log_n: 18, r: 8, p: 1 };

    /// Parameters within the bounds [`decrypt`] accepts: n = 2^log_n from 2
    /// to 2^20, r from 1 to 32, p from 1 to 16, and 128·r·n at most 1 GiB.
    /// (RFC 7914's n < 2^(16·r) is an erratum, 5971: geth's own test file
    /// uses n = 2^18 with r = 1.)
    pub fn new(log_n: u8, r: u32, p: u32) -> Result<Self, KeystoreError> {
        let n = 1u64.checked_shl(u32::from(log_n)).ok_or_else(|| KeystoreError::OutOfBounds {
            name: "n",
            value: format!("2^{log_n}"),
            bound: format!("a power of two from 2 to 2^{MAX_LOG_N}"),
        })?;
        check_scrypt(n, u64::from(r), u64::from(p))
    }

    pub fn log_n(&self) -> u8 {
        self.log_n
    }

    pub fn n(&self) -> u64 {
        1u64 << self.log_n
    }

    pub fn r(&self) -> u32 {
        self.r
    }

    pub fn p(&self) -> u32 {
        self.p
    }
}

/// A V3 keystore of `key` under `passphrase`, with the standard scrypt
/// parameters and randomness from the OS.
pub fn encrypt(key: &PrivateKey, passphrase: &[u8]) -> Result<String, KeystoreError> {
    encrypt_with(key, passphrase, ScryptParams::STANDARD, &mut rand_core::OsRng)
}

/// A V3 keystore with the given scrypt parameters and RNG (salt, iv and
/// id all come from `rng`), pretty-printed as geth lays it out.
pub fn encrypt_with(
    key: &PrivateKey,
    passphrase: &[u8],
    params: ScryptParams,
    rng: &mut impl CryptoRngCore,
) -> Result<String, KeystoreError> {
    let mut salt = [0u8; SALT_LEN];
    let mut iv = [0u8; IV_LEN];
    let mut id = [0u8; 16];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut iv);
    rng.fill_bytes(&mut id);

    let derived = Kdf::Scrypt(params).derive(passphrase, &salt)?;
    // Holds the plaintext until the keystream is applied, hence zeroized.
    let mut ciphertext = key.reveal_bytes();
    apply_cipher(&derived, &iv, ciphertext.as_mut());
    let mac = mac(&derived, ciphertext.as_ref());

    let file = json!({
        "address": hex::encode(key.address().as_bytes()),
        "crypto": {
            "cipher": "aes-128-ctr",
            "ciphertext": hex::encode(ciphertext.as_ref()),
            "cipherparams": { "iv": hex::encode(iv) },
            "kdf": "scrypt",
            "kdfparams": {
                "dklen": DKLEN,
                "n": params.n(),
                "p": params.p,
                "r": params.r,
                "salt": hex::encode(salt),
            },
            "mac": hex::encode(mac),
        },
        "id": uuid::Builder::from_random_bytes(id).into_uuid().to_string(),
        "version": 3,
    });
    Ok(format!("{file:#}"))
}

/// The key in a V3 keystore. Accepts kdf `scrypt` and `pbkdf2`
/// (`hmac-sha256`), cipher `aes-128-ctr`, and geth's old `Crypto` spelling.
/// Keys shorter than 32 bytes are left-padded with zeros, as geth does.
pub fn decrypt(json: &[u8], passphrase: &[u8]) -> Result<PrivateKey, KeystoreError> {
    let file = Keystore::parse(json)?;
    let derived = file.kdf.derive(passphrase, &file.salt)?;
    if !bool::from(mac(&derived, &file.ciphertext).ct_eq(&file.mac)) {
        return Err(KeystoreError::MacMismatch);
    }
    let mut plaintext = Zeroizing::new(file.ciphertext.clone());
    apply_cipher(&derived, &file.iv, &mut plaintext);

    let mut padded = Zeroizing::new([0u8; DKLEN]);
    let start = DKLEN.checked_sub(plaintext.len()).ok_or(InvalidKey)?;
    padded.get_mut(start..).ok_or(InvalidKey)?.copy_from_slice(&plaintext);
    let key = PrivateKey::from_bytes(padded.as_ref())?;

    if let Some(expected) = file.address {
        let actual = key.address();
        if actual != expected {
            return Err(KeystoreError::AddressMismatch { expected, actual });
        }
    }
    Ok(key)
}

/// A parsed keystore whose every parameter is within bounds.
struct Keystore {
    address: Option<Address>,
    kdf: Kdf,
    salt: Vec<u8>,
    iv: [u8; IV_LEN],
    ciphertext: Vec<u8>,
    mac: [u8; MAC_LEN],
}

enum Kdf {
    Scrypt(ScryptParams),
    Pbkdf2 { rounds: u32 },
}

impl Keystore {
    fn parse(json: &[u8]) -> Result<Self, KeystoreError> {
        let root: Value = serde_json::from_slice(json).map_err(|e| KeystoreError::NotJson {
            reason: format!("invalid JSON at line {}, column {}", e.line(), e.column()),
        })?;
        let root = root
            .as_object()
            .ok_or_else(|| KeystoreError::NotJson { reason: format!("found {}", Kind(&root)) })?;

        let version = uint(root, "version")?;
        if version != 3 {
            return Err(KeystoreError::Unsupported {
                what: "keystore version",
                found: version.to_string(),
                supported: "version 3 (Web3 Secret Storage)",
            });
        }
        let address = match root.get("address") {
            None | Some(Value::Null) => None,
            Some(value) => Some(address(value)?),
        };
        let crypto = match root.get("crypto").filter(|value| !value.is_null()).or_else(|| root.get("Crypto"))
        {
            None | Some(Value::Null) => return Err(KeystoreError::MissingField { field: "crypto" }),
            Some(value) => object(value, "crypto")?,
        };

        let cipher = text(crypto, "crypto.cipher", "cipher")?;
        if cipher != "aes-128-ctr" {
            return Err(unsupported("cipher", cipher, "aes-128-ctr"));
        }
        let cipherparams =
            object(field(crypto, "crypto.cipherparams", "cipherparams")?, "crypto.cipherparams")?;
        let iv = fixed_hex::<IV_LEN>(cipherparams, "crypto.cipherparams.iv", "iv")?;
        let ciphertext = hex_field(crypto, "crypto.ciphertext", "ciphertext", 1, MAX_CIPHERTEXT)?;
        let mac = fixed_hex::<MAC_LEN>(crypto, "crypto.mac", "mac")?;

        let kdf_name = text(crypto, "crypto.kdf", "kdf")?;
        let params = object(field(crypto, "crypto.kdfparams", "kdfparams")?, "crypto.kdfparams")?;
        let kdf = match kdf_name {
            "scrypt" => {
                let n = uint_in(params, "crypto.kdfparams.n", "n")?;
                let r = uint_in(params, "crypto.kdfparams.r", "r")?;
                let p = uint_in(params, "crypto.kdfparams.p", "p")?;
                Kdf::Scrypt(check_scrypt(n, r, p)?)
            }
            "pbkdf2" => {
                let prf = text(params, "crypto.kdfparams.prf", "prf")?;
                if prf != "hmac-sha256" {
                    return Err(unsupported("pbkdf2 prf", prf, "hmac-sha256"));
                }
                let c = uint_in(params, "crypto.kdfparams.c", "c")?;
                let rounds =
                    u32::try_from(c)
                        .ok()
                        .filter(|&c| c >= 1 && u64::from(c) <= MAX_PBKDF2_ROUNDS)
                        .ok_or_else(|| out_of_bounds("c", c, format!("from 1 to {MAX_PBKDF2_ROUNDS}")))?;
                Kdf::Pbkdf2 { rounds }
            }
            other => return Err(unsupported("kdf", other, "scrypt or pbkdf2")),
        };
        let dklen = uint_in(params, "crypto.kdfparams.dklen", "dklen")?;
        if dklen != DKLEN as u64 {
            return Err(out_of_bounds("dklen", dklen, format!("exactly {DKLEN}")));
        }
        let salt = hex_field(params, "crypto.kdfparams.salt", "salt", 0, MAX_SALT)?;

        Ok(Keystore { address, kdf, salt, iv, ciphertext, mac })
    }
}

impl Kdf {
    fn derive(&self, passphrase: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; DKLEN]>, KeystoreError> {
        let mut derived = Zeroizing::new([0u8; DKLEN]);
        match self {
            Kdf::Scrypt(p) => {
                let params = scrypt::Params::new(p.log_n, p.r, p.p).map_err(|_| KeystoreError::KdfRefused)?;
                scrypt::scrypt(passphrase, salt, &params, derived.as_mut())
                    .map_err(|_| KeystoreError::KdfRefused)?;
            }
            Kdf::Pbkdf2 { rounds } => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(passphrase, salt, *rounds, derived.as_mut());
            }
        }
        Ok(derived)
    }
}

/// AES-128-CTR keyed with the first half of the derived key.
fn apply_cipher(derived: &[u8; DKLEN], iv: &[u8; IV_LEN], data: &mut [u8]) {
    let (key, _) = derived.split_at(16);
    let mut cipher = Aes128Ctr::new(GenericArray::from_slice(key), GenericArray::from_slice(iv));
    cipher.apply_keystream(data);
}

/// keccak256(second half of the derived key ‖ ciphertext).
fn mac(derived: &[u8; DKLEN], ciphertext: &[u8]) -> [u8; MAC_LEN] {
    let (_, mac_key) = derived.split_at(16);
    let mut body = Zeroizing::new(Vec::with_capacity(mac_key.len() + ciphertext.len()));
    body.extend_from_slice(mac_key);
    body.extend_from_slice(ciphertext);
    keccak256(&body)
}

fn check_scrypt(n: u64, r: u64, p: u64) -> Result<ScryptParams, KeystoreError> {
    if n < 2 || !n.is_power_of_two() || n > 1 << MAX_LOG_N {
        return Err(out_of_bounds(
            "n",
            n,
            format!("a power of two from 2 to 2^{MAX_LOG_N} ({})", 1u64 << MAX_LOG_N),
        ));
    }
    let r32 = u32::try_from(r)
        .ok()
        .filter(|&r| r >= 1 && u64::from(r) <= MAX_R)
        .ok_or_else(|| out_of_bounds("r", r, format!("from 1 to {MAX_R}")))?;
    let p32 = u32::try_from(p)
        .ok()
        .filter(|&p| p >= 1 && u64::from(p) <= MAX_P)
        .ok_or_else(|| out_of_bounds("p", p, format!("from 1 to {MAX_P}")))?;
    // n <= 2^20 and r <= 32: no overflow.
    let memory = 128 * r * n;
    if memory > MAX_SCRYPT_MEMORY {
        return Err(out_of_bounds(
            "128·r·n",
            memory,
            format!("scrypt memory at most {MAX_SCRYPT_MEMORY} bytes (1 GiB); here r = {r}, n = {n}"),
        ));
    }
    // And p <= 16: still no overflow.
    let work = memory * p;
    if work > MAX_SCRYPT_WORK {
        return Err(out_of_bounds(
            "128·r·n·p",
            work,
            format!(
                "scrypt work at most {MAX_SCRYPT_WORK} bytes (8 times the standard); here r = {r}, n = {n}, p = {p}"
            ),
        ));
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| KeystoreError::KdfRefused)?;
    Ok(ScryptParams { log_n, r: r32, p: p32 })
}

fn out_of_bounds(name: &'static str, value: u64, bound: String) -> KeystoreError {
    KeystoreError::OutOfBounds { name, value: value.to_string(), bound }
}

fn unsupported(what: &'static str, found: &str, supported: &'static str) -> KeystoreError {
    KeystoreError::Unsupported { what, found: found.chars().take(40).collect(), supported }
}

fn malformed(field: &'static str, reason: impl Into<String>) -> KeystoreError {
    KeystoreError::MalformedField { field, reason: reason.into() }
}

/// `obj[key]`, reported as `path` when missing or null.
fn field<'a>(obj: &'a Map<String, Value>, path: &'static str, key: &str) -> Result<&'a Value, KeystoreError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(KeystoreError::MissingField { field: path }),
        Some(value) => Ok(value),
    }
}

fn object<'a>(value: &'a Value, path: &'static str) -> Result<&'a Map<String, Value>, KeystoreError> {
    value.as_object().ok_or_else(|| malformed(path, format!("expected an object, found {}", Kind(value))))
}

fn text<'a>(obj: &'a Map<String, Value>, path: &'static str, key: &str) -> Result<&'a str, KeystoreError> {
    let value = field(obj, path, key)?;
    value.as_str().ok_or_else(|| malformed(path, format!("expected a string, found {}", Kind(value))))
}

fn uint(obj: &Map<String, Value>, key: &'static str) -> Result<u64, KeystoreError> {
    uint_in(obj, key, key)
}

fn uint_in(obj: &Map<String, Value>, path: &'static str, key: &str) -> Result<u64, KeystoreError> {
    match field(obj, path, key)? {
        Value::Number(number) => number
            .as_u64()
            .ok_or_else(|| malformed(path, format!("{number} is not a non-negative whole number"))),
        other => Err(malformed(path, format!("expected a number, found {}", Kind(other)))),
    }
}

/// Hex (optionally `0x`-prefixed) of `min..=max` bytes; the length is
/// checked before anything is decoded.
fn hex_field(
    obj: &Map<String, Value>,
    path: &'static str,
    key: &str,
    min: usize,
    max: usize,
) -> Result<Vec<u8>, KeystoreError> {
    let digits = hex_digits(obj, path, key)?;
    let len = digits.len() / 2;
    if !(min..=max).contains(&len) {
        let bound = if min == max { format!("exactly {min} bytes") } else { format!("{min} to {max} bytes") };
        return Err(KeystoreError::OutOfBounds { name: path, value: format!("{len} bytes"), bound });
    }
    hex::decode(digits).map_err(|e| malformed(path, format!("not hex ({e})")))
}

fn fixed_hex<const N: usize>(
    obj: &Map<String, Value>,
    path: &'static str,
    key: &str,
) -> Result<[u8; N], KeystoreError> {
    let bytes = hex_field(obj, path, key, N, N)?;
    <[u8; N]>::try_from(bytes).map_err(|_| malformed(path, format!("expected {N} bytes")))
}

fn hex_digits<'a>(
    obj: &'a Map<String, Value>,
    path: &'static str,
    key: &str,
) -> Result<&'a str, KeystoreError> {
    let text = text(obj, path, key)?;
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() % 2 != 0 {
        return Err(malformed(path, "odd number of hex digits"));
    }
    Ok(digits)
}

/// The optional `address`: 40 hex digits, with or without `0x`, any case
/// (geth writes lowercase without `0x`, so there is no checksum to check).
fn address(value: &Value) -> Result<Address, KeystoreError> {
    let text = value
        .as_str()
        .ok_or_else(|| malformed("address", format!("expected a string, found {}", Kind(value))))?;
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let mut bytes = [0u8; 20];
    if digits.len() != 40 {
        return Err(malformed(
            "address",
            format!("has {} characters; an address has 40 hex digits", digits.len()),
        ));
    }
    hex::decode_to_slice(digits, &mut bytes).map_err(|e| malformed("address", format!("not hex ({e})")))?;
    Ok(Address::from_bytes(bytes))
}

/// What a JSON value is, for messages that must not echo it.
struct Kind<'a>(&'a Value);

impl fmt::Display for Kind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic CSPRNG for tests, seeded by a number.
    fn seeded_rng(seed: u64) -> rand_chacha::ChaCha20Rng {
        <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(seed)
    }

    fn small() -> ScryptParams {
        ScryptParams::new(4, 8, 1).expect("within bounds")
    }

    #[test]
    fn standard_params_are_geths() {
        let standard = ScryptParams::new(18, 8, 1).expect("within bounds");
        assert_eq!(standard, ScryptParams::STANDARD);
        assert_eq!((standard.n(), standard.r(), standard.p()), (262_144, 8, 1));
    }

    #[test]
    fn params_outside_the_bounds_are_refused() {
        for (log_n, r, p) in
            [(0, 8, 1), (21, 8, 1), (64, 8, 1), (255, 8, 1), (4, 0, 1), (4, 33, 1), (4, 8, 0)]
        {
            assert!(ScryptParams::new(log_n, r, p).is_err(), "{log_n} {r} {p}");
        }
        // 128 · 32 · 2^20 is 4 GiB.
        assert!(matches!(
            ScryptParams::new(20, 32, 1),
            Err(KeystoreError::OutOfBounds { name: "128·r·n", .. })
        ));
        // RFC 7914's n < 2^(16·r) is an erratum; geth's vector needs 2^18 with r = 1.
        assert!(ScryptParams::new(18, 1, 8).is_ok());
    }

    #[test]
    fn round_trip_and_wrong_passphrase() {
        let key = PrivateKey::generate(&mut seeded_rng(7));
        let file = encrypt_with(&key, b"pass", small(), &mut seeded_rng(1)).expect("encrypts");
        let back = decrypt(file.as_bytes(), b"pass").expect("decrypts");
        assert_eq!(back.reveal_bytes(), key.reveal_bytes());
        let err = decrypt(file.as_bytes(), b"Pass").expect_err("wrong passphrase");
        assert!(matches!(err, KeystoreError::MacMismatch));
        assert!(err.to_string().contains("wrong passphrase, or the file was altered"), "{err}");
    }

    #[test]
    fn errors_do_not_echo_values() {
        let err = decrypt(br#"{"version": 3, "crypto": "secret-looking"}"#, b"p").expect_err("refused");
        assert!(!err.to_string().contains("secret-looking"), "{err}");
    }
}
