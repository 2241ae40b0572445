//! Sealing private keys at rest. A seal encrypts one key and binds it to
//! its record (address and table), so a sealed key copied onto another
//! record cannot be opened there.
//!
//! A seal works on 32 secret bytes: a secp256k1 scalar, or the seed of a
//! Node-era ed25519 key that `rossignol migrate` sealed. The record's
//! scheme says which; callers check what the bytes derive.

mod kms;
mod local;
mod ring;
mod transit;

use std::fmt;

use async_trait::async_trait;
use zeroize::Zeroizing;

pub use kms::KmsSealer;
pub use local::LocalSealer;
pub use ring::SealRing;
pub use transit::TransitSealer;

use crate::account::Address;
use crate::error::{Error, Result};
use crate::secret::PrivateKey;

/// What a sealed key is bound to: its record (address and table) and, for
/// one share of a sharded key, which share it is.
#[derive(Debug, Clone, Copy)]
pub struct SealContext<'a> {
    pub address: &'a Address,
    pub table: &'a str,
    pub share: Option<ShareBinding<'a>>,
}

/// Binds a sealed share to its slot: a share moved to another slot, or
/// kept across a refresh into another epoch, does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareBinding<'a> {
    /// The share's index, 1..=n.
    pub index: u8,
    pub epoch: u32,
    /// `0x` + keccak-256 of the epoch's VSS commitments.
    pub commitments: &'a str,
}

impl<'a> SealContext<'a> {
    /// A whole key sealed for its record.
    pub fn record(address: &'a Address, table: &'a str) -> Self {
        SealContext { address, table, share: None }
    }

    /// One share of the record's key, sealed for its slot.
    pub fn share(address: &'a Address, table: &'a str, binding: ShareBinding<'a>) -> Self {
        SealContext { address, table, share: Some(binding) }
    }

    /// The binding as name/value pairs, in a fixed order: what a KMS
    /// encryption context, a transit context or AES-GCM associated data
    /// is made of. A whole key's record gives `address` and `table` only,
    /// as it always has.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("address", self.address.to_storage()), ("table", self.table.to_owned())];
        if let Some(share) = &self.share {
            pairs.push(("share_index", share.index.to_string()));
            pairs.push(("epoch", share.epoch.to_string()));
            pairs.push(("commitments", share.commitments.to_owned()));
        }
        pairs
    }

    /// The pairs as one unambiguous byte string (`name=value`, NUL
    /// separated; no value holds a NUL), for seals that take bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(128);
        for (name, value) in self.pairs() {
            bytes.extend_from_slice(name.as_bytes());
            bytes.push(b'=');
            bytes.extend_from_slice(value.as_bytes());
            bytes.push(0);
        }
        bytes
    }

    /// Why the record's sealed key did not open; never holds key bytes.
    pub(crate) fn unseal_error(&self, reason: impl Into<String>) -> Error {
        Error::Unseal { address: self.address.to_string(), reason: reason.into() }
    }

    /// The opened plaintext as the 32-byte secret every seal holds.
    pub(crate) fn exact_secret(&self, plain: Zeroizing<Vec<u8>>, from: &str) -> Result<Zeroizing<[u8; 32]>> {
        let mut secret = Zeroizing::new([0u8; 32]);
        if plain.len() != secret.len() {
            return Err(self.unseal_error(format!("{from} gave {} bytes, not a 32-byte secret", plain.len())));
        }
        secret.copy_from_slice(&plain);
        Ok(secret)
    }

    /// The refusal of a blob sealed by a seal that `ours` does not open.
    pub(crate) fn foreign_seal(&self, seal_id: &str, ours: &str) -> Error {
        self.unseal_error(format!(
            "it was sealed by {seal_id}, but this environment seals with {ours}; configure the key that sealed it"
        ))
    }
}

/// What `rossignol init` did for a seal that has something to set up (a
/// transit key), and what it found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SealInit {
    /// The seal's id.
    pub seal: String,
    pub created: bool,
    pub checks: Vec<crate::store::SettingCheck>,
}

impl SealInit {
    pub fn is_healthy(&self) -> bool {
        self.checks.iter().all(|c| c.status != crate::store::CheckStatus::Wrong)
    }
}

/// Seals and opens 32-byte secrets.
#[async_trait]
pub trait Sealer: Send + Sync + fmt::Debug {
    /// The name recorded in each record's `seal` attribute, such as
    /// `local:1a2b3c4d5e6f7a8b` or `kms:arn:aws:kms:...`. New keys are
    /// sealed under it.
    fn id(&self) -> &str;

    /// Every seal this sealer is configured to open: its own and, for a
    /// [`SealRing`], those it also opens during a rotation. The audit
    /// reports records under any other seal as unknown.
    fn known_seals(&self) -> Vec<&str> {
        vec![self.id()]
    }

    /// Whether a blob under `seal_id` is worth handing to [`Sealer::open_secret`].
    /// A KMS sealer tries any `kms:` seal, since KMS ciphertexts name their
    /// key; a local sealer only its own key.
    fn can_open(&self, seal_id: &str) -> bool {
        seal_id == self.id()
    }

    /// Creates what the seal needs, or checks it (`rossignol init`);
    /// `None` for a seal with nothing to set up.
    async fn init(&self) -> Result<Option<SealInit>> {
        Ok(None)
    }

    /// Whether the seal's server answers now, for a provider's health: a
    /// seal held in this process (a local key) always does, and a KMS key
    /// is reached with its store's AWS reach, which the store's probe
    /// covers.
    async fn probe(&self) -> Result<()> {
        Ok(())
    }

    /// Encrypts 32 secret bytes for the record described by `ctx`.
    async fn seal_secret(&self, ctx: SealContext<'_>, secret: &Zeroizing<[u8; 32]>) -> Result<Vec<u8>>;

    /// Decrypts a blob sealed for `ctx` under the seal named `seal_id`.
    /// Callers must still check what the secret derives.
    async fn open_secret(
        &self,
        ctx: SealContext<'_>,
        seal_id: &str,
        blob: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>>;

    /// Encrypts a secp256k1 key for the record described by `ctx`.
    async fn seal(&self, ctx: SealContext<'_>, key: &PrivateKey) -> Result<Vec<u8>> {
        self.seal_secret(ctx, &key.reveal_bytes()).await
    }

    /// Decrypts a secp256k1 key sealed for `ctx` under the seal named
    /// `seal_id`. Callers must still check that it derives `ctx.address`.
    async fn open(&self, ctx: SealContext<'_>, seal_id: &str, blob: &[u8]) -> Result<PrivateKey> {
        let secret = self.open_secret(ctx, seal_id, blob).await?;
        PrivateKey::from_bytes(secret.as_slice()).map_err(|e| ctx.unseal_error(e.to_string()))
    }
}

/// The kinds of seal. A local key file protects keys as well as the file
/// is kept: whoever reads it opens every key offline. A KMS key never
/// leaves KMS, nor a transit key OpenBao, and every use of either is
/// authorised and logged by its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealKind {
    Local,
    Kms,
    Transit,
}

impl SealKind {
    /// The kind a seal id (`local:...`, `kms:...`, `transit:...`) names, if any.
    pub fn of(seal_id: &str) -> Option<Self> {
        if seal_id.starts_with("kms:") {
            Some(SealKind::Kms)
        } else if seal_id.starts_with("transit:") {
            Some(SealKind::Transit)
        } else if seal_id.starts_with("local:") {
            Some(SealKind::Local)
        } else {
            None
        }
    }

    /// Whether the key never leaves a server that authorises each use.
    pub fn is_server_held(self) -> bool {
        matches!(self, SealKind::Kms | SealKind::Transit)
    }
}

/// The downgrade rule, the one place it is decided: moving keys held
/// under the seals `from` to the seal `to` is a downgrade when any of them
/// is server-held (KMS or OpenBao transit) and `to` is a local key file.
/// Local to a server, and between servers (KMS to transit or back, one
/// KMS key to another), are not.
pub fn is_downgrade<'a>(from: impl IntoIterator<Item = &'a str>, to: &str) -> bool {
    let Some(target) = SealKind::of(to) else { return true };
    !target.is_server_held() && from.into_iter().filter_map(SealKind::of).any(SealKind::is_server_held)
}

/// Checks a sealed key's shape for its seal, without opening it: what an
/// audit can tell about every record cheaply.
pub fn check_shape(seal_id: &str, blob: &[u8]) -> std::result::Result<(), String> {
    /// KMS ciphertexts of a 32-byte key are a few hundred bytes.
    const KMS_MAX: usize = 6144;
    if seal_id.starts_with("local:") {
        local::check_shape(seal_id, blob)
    } else if seal_id.starts_with("transit:") {
        transit::check_shape(seal_id, blob)
    } else if seal_id.starts_with("kms:") {
        match blob.len() {
            0 => Err("the KMS ciphertext is empty".into()),
            n if n > KMS_MAX => Err(format!("the KMS ciphertext is {n} bytes, far more than a key needs")),
            _ => Ok(()),
        }
    } else {
        Err(format!("{seal_id:?} is not a seal Rossignol writes (local:..., kms:... or transit:...)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_server_held_key_to_a_local_key_is_a_downgrade() {
        assert!(is_downgrade(["kms:alias/a"], "local:0011223344556677"));
        assert!(is_downgrade(["transit:rossignol"], "local:0011223344556677"));
        assert!(is_downgrade(["local:0011223344556677", "kms:alias/a"], "local:8899aabbccddeeff"));
        assert!(is_downgrade(["local:0011223344556677", "transit:custody/k"], "local:8899aabbccddeeff"));
        assert!(!is_downgrade(["local:0011223344556677"], "kms:alias/a"));
        assert!(!is_downgrade(["local:0011223344556677"], "transit:rossignol"));
        assert!(!is_downgrade(["kms:alias/a"], "kms:alias/b"));
        assert!(!is_downgrade(["kms:alias/a"], "transit:rossignol"));
        assert!(!is_downgrade(["transit:rossignol", "kms:alias/a"], "kms:alias/b"));
        assert!(!is_downgrade(["transit:a"], "transit:b"));
        assert!(!is_downgrade(["local:0011223344556677"], "local:8899aabbccddeeff"));
        assert!(is_downgrade(["kms:alias/a"], "plaintext"), "an unknown kind is never assumed stronger");
        assert!(is_downgrade(["transit:a"], "plaintext"));
    }

    #[test]
    fn a_transit_blob_is_checked_for_its_shape() {
        let id = "transit:rossignol";
        let good = format!("vault:v1:{}", "A".repeat(80));
        assert_eq!(check_shape(id, good.as_bytes()), Ok(()));
        assert_eq!(check_shape(id, format!("vault:v12:{}", "A".repeat(80)).as_bytes()), Ok(()));
        for bad in [
            "",
            "vault:v1:",
            "vault:1:AAAA",
            "vault:v:AAAA",
            "vault:v0:AAAA",
            "vault:vx:AAAA",
            "vault:v1:!!!!",
        ] {
            assert!(check_shape(id, bad.as_bytes()).is_err(), "{bad:?}");
        }
        let long = format!("vault:v1:{}", "A".repeat(4096));
        assert!(check_shape(id, long.as_bytes()).unwrap_err().contains("far more"));
        assert!(check_shape(id, &[0xff, 0xfe]).is_err());
    }
}
