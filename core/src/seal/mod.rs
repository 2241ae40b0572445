//! Sealing private keys at rest. A seal encrypts one key and binds it to
//! its record (address and table), so a sealed key copied onto another
//! record cannot be opened there.

mod kms;
mod local;

use std::fmt;

use async_trait::async_trait;

pub use kms::KmsSealer;
pub use local::LocalSealer;

use crate::account::Address;
use crate::error::Result;
use crate::secret::PrivateKey;

/// What a sealed key is bound to.
#[derive(Debug, Clone, Copy)]
pub struct SealContext<'a> {
    pub address: &'a Address,
    pub table: &'a str,
}

/// Seals and opens 32-byte secp256k1 keys.
#[async_trait]
pub trait Sealer: Send + Sync + fmt::Debug {
    /// The name recorded in each record's `seal` attribute, such as
    /// `local:1a2b3c4d5e6f7a8b` or `kms:arn:aws:kms:...`.
    fn id(&self) -> &str;

    /// Encrypts `key` for the record described by `ctx`.
    async fn seal(&self, ctx: SealContext<'_>, key: &PrivateKey) -> Result<Vec<u8>>;

    /// Decrypts a blob sealed for `ctx` under the seal named `seal_id`.
    /// Callers must still check that the key derives `ctx.address`.
    async fn open(&self, ctx: SealContext<'_>, seal_id: &str, blob: &[u8]) -> Result<PrivateKey>;
}

/// Checks a sealed key's shape for its seal, without opening it: what an
/// audit can tell about every record cheaply.
pub fn check_shape(seal_id: &str, blob: &[u8]) -> std::result::Result<(), String> {
    /// KMS ciphertexts of a 32-byte key are a few hundred bytes.
    const KMS_MAX: usize = 6144;
    if seal_id.starts_with("local:") {
        local::check_shape(seal_id, blob)
    } else if seal_id.starts_with("kms:") {
        match blob.len() {
            0 => Err("the KMS ciphertext is empty".into()),
            n if n > KMS_MAX => Err(format!("the KMS ciphertext is {n} bytes, far more than a key needs")),
            _ => Ok(()),
        }
    } else {
        Err(format!("{seal_id:?} is not a seal Rossignol writes (local:... or kms:...)"))
    }
}
