//! Account records and their mapping to and from stored items.
//!
//! Two shapes are read: Rossignol's sealed records (schema version 1) and
//! the Node service's legacy rows, which hold `private_key` and `public_key`
//! as base64 of an ed25519 key pair. Only the sealed shape is ever written.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, SecondsFormat, Utc};
use ripemd::{Digest, Ripemd160};
use zeroize::Zeroizing;

use super::item::{Attr, Item};
use crate::account::Address;
use crate::custody::share::{SealedShare, ShareSet};
use crate::error::{Error, Result};
use crate::secret::LegacyKey;

pub const ADDRESS: &str = "address";
pub const PUBLIC_KEY: &str = "public_key";
pub const SEALED_PRIVATE_KEY: &str = "sealed_private_key";
pub const SEAL: &str = "seal";
pub const SCHEME: &str = "scheme";
pub const CREATED_AT: &str = "created_at";
pub const CREATED_BY: &str = "created_by";
/// The API key id an account was created through (the setter's caller).
pub const CREATED_API_KEY: &str = "created_api_key";
pub const SCHEMA_VERSION: &str = "schema_version";
/// Set while an account is disabled; removed when it is enabled again.
pub const DISABLED_AT: &str = "disabled_at";
pub const DISABLED_BY: &str = "disabled_by";
/// The Node service's plaintext attribute. Never written by Rossignol.
pub const LEGACY_PRIVATE_KEY: &str = "private_key";
/// A sharded account's item at one provider: its sealed share and the
/// public part of the split (see [`crate::custody::share`]).
pub const SEALED_SHARE: &str = "sealed_share";
pub const SHARE_INDEX: &str = "share_index";
pub const THRESHOLD: &str = "threshold";
pub const SHARES: &str = "shares";
pub const EPOCH: &str = "epoch";
pub const COMMITMENTS: &str = "commitments";
/// A refresh's new share, kept beside the current one until every
/// provider holds its own (then it replaces the current share).
pub const NEXT_SEALED_SHARE: &str = "next_sealed_share";
pub const NEXT_SEAL: &str = "next_seal";
pub const NEXT_EPOCH: &str = "next_epoch";
pub const NEXT_COMMITMENTS: &str = "next_commitments";

/// The schema version Rossignol writes.
pub const CURRENT_SCHEMA: u32 = 1;

/// The signature scheme of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Secp256k1,
    /// The Node service's accounts.
    Ed25519,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Secp256k1 => "secp256k1",
            Scheme::Ed25519 => "ed25519",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "secp256k1" => Some(Scheme::Secp256k1),
            "ed25519" => Some(Scheme::Ed25519),
            _ => None,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the private key is held at rest.
#[derive(Clone)]
pub enum StoredKey {
    /// Sealed by the named seal (`local:...` or `kms:...`).
    Sealed { seal: String, blob: Vec<u8> },
    /// A Node-era row: the key in plaintext, base64.
    LegacyPlaintext(LegacyKey),
    /// One provider's share of a sharded key (an item as one provider
    /// holds it).
    Share(SealedShare),
    /// Every provider's answer for a sharded key: what a sharded
    /// environment reads, and opens by combining shares.
    Sharded(ShareSet),
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredKey::Sealed { seal, blob } => {
                write!(f, "Sealed {{ seal: {seal:?}, blob: {} bytes }}", blob.len())
            }
            StoredKey::LegacyPlaintext(_) => f.write_str("LegacyPlaintext([REDACTED])"),
            StoredKey::Share(share) => write!(f, "Share({share:?})"),
            StoredKey::Sharded(set) => write!(f, "Sharded({set:?})"),
        }
    }
}

/// When and by whom an account was disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disabled {
    pub at: DateTime<Utc>,
    pub by: Option<String>,
}

/// One account as stored.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    pub address: Address,
    pub scheme: Scheme,
    /// As stored: `0x04…` hex (secp256k1) or base64 (legacy ed25519).
    pub public_key: String,
    pub key: StoredKey,
    pub created_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
    /// The API key id of the setter call that created it, for a signing
    /// policy with `accounts = "created_by_key"`.
    pub created_api_key: Option<String>,
    /// 0 for legacy rows, which carry none.
    pub schema_version: u32,
    /// Set while the account is disabled: nothing is revealed or signed.
    pub disabled: Option<Disabled>,
}

impl AccountRecord {
    pub fn is_legacy(&self) -> bool {
        matches!(self.key, StoredKey::LegacyPlaintext(_))
    }

    /// The seal's name (for a sharded key, `sharded K-of-N`), or `None`
    /// for a plaintext legacy row.
    pub fn seal(&self) -> Option<&str> {
        match &self.key {
            StoredKey::Sealed { seal, .. } => Some(seal),
            StoredKey::Share(share) => Some(&share.seal),
            StoredKey::Sharded(set) => Some(&set.label),
            StoredKey::LegacyPlaintext(_) => None,
        }
    }

    /// Checks, without opening anything, that the stored public key derives
    /// the address.
    pub fn verify_public_key(&self) -> Result<()> {
        let derived =
            derive_address(self.scheme, &self.public_key).map_err(|reason| self.integrity(reason))?;
        if derived != self.address {
            return Err(self.integrity(format!("its public key derives {derived}, not the stored address")));
        }
        Ok(())
    }

    /// Fails with `Disabled` while the account is disabled.
    pub fn ensure_enabled(&self) -> Result<()> {
        match &self.disabled {
            None => Ok(()),
            Some(disabled) => Err(Error::Disabled {
                address: self.address.to_string(),
                since: disabled.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            }),
        }
    }

    pub(crate) fn integrity(&self, reason: impl Into<String>) -> Error {
        Error::Integrity { address: self.address.to_string(), reason: reason.into() }
    }

    /// The item Rossignol writes. Legacy rows are never written back as
    /// they are, so this refuses them.
    pub fn to_item(&self) -> Result<Item> {
        let mut item = Item::default();
        item.insert(ADDRESS, Attr::S(self.address.to_storage()));
        item.insert(PUBLIC_KEY, Attr::S(self.public_key.clone()));
        match &self.key {
            StoredKey::Sealed { seal, blob } => {
                item.insert(SEALED_PRIVATE_KEY, Attr::B(blob.clone()));
                item.insert(SEAL, Attr::S(seal.clone()));
            }
            StoredKey::Share(share) => share.write(&mut item),
            StoredKey::LegacyPlaintext(_) => return Err(self.integrity("refusing to write a plaintext key")),
            StoredKey::Sharded(_) => {
                return Err(self.integrity("a sharded key is written as one share per provider"));
            }
        }
        item.insert(SCHEME, Attr::S(self.scheme.as_str().to_owned()));
        if let Some(at) = self.created_at {
            item.insert(CREATED_AT, Attr::S(at.to_rfc3339_opts(SecondsFormat::Millis, true)));
        }
        if let Some(by) = &self.created_by {
            item.insert(CREATED_BY, Attr::S(by.clone()));
        }
        if let Some(key) = &self.created_api_key {
            item.insert(CREATED_API_KEY, Attr::S(key.clone()));
        }
        item.insert(SCHEMA_VERSION, Attr::N(self.schema_version.to_string()));
        if let Some(disabled) = &self.disabled {
            set_disabled(&mut item, Some(disabled));
        }
        Ok(item)
    }

    /// Reads either shape. Fails with `MalformedRecord` naming what is wrong.
    pub fn from_item(item: &Item) -> Result<Self> {
        let raw_address = item.address().unwrap_or("<missing>").to_owned();
        let malformed = |reason: String| Error::MalformedRecord { address: raw_address.clone(), reason };
        let string = |name: &str| -> Result<Option<String>> {
            match item.get(name) {
                None => Ok(None),
                Some(Attr::S(s)) => Ok(Some(s.clone())),
                Some(other) => Err(malformed(format!("`{name}` is of type {}, not S", other.type_name()))),
            }
        };

        let address =
            Address::parse(item.address().ok_or_else(|| malformed("it has no string `address`".into()))?)
                .map_err(|e| malformed(format!("its address is invalid: {e}")))?;
        let public_key =
            string(PUBLIC_KEY)?.ok_or_else(|| malformed(format!("`{PUBLIC_KEY}` is missing")))?;
        let created_at = string(CREATED_AT)?
            .map(|s| {
                DateTime::parse_from_rfc3339(&s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| malformed(format!("`{CREATED_AT}` is not RFC 3339 ({e})")))
            })
            .transpose()?;
        let created_by = string(CREATED_BY)?;
        let created_api_key = string(CREATED_API_KEY)?;
        let disabled = string(DISABLED_AT)?
            .map(|s| {
                let at = DateTime::parse_from_rfc3339(&s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| malformed(format!("`{DISABLED_AT}` is not RFC 3339 ({e})")))?;
                Ok::<_, Error>(Disabled { at, by: string(DISABLED_BY)? })
            })
            .transpose()?;
        let schema_version = match item.get(SCHEMA_VERSION) {
            None => 0,
            Some(Attr::N(n)) => {
                n.parse().map_err(|_| malformed(format!("`{SCHEMA_VERSION}` is not a number")))?
            }
            Some(other) => {
                return Err(malformed(format!("`{SCHEMA_VERSION}` is of type {}", other.type_name())));
            }
        };
        let scheme = match string(SCHEME)? {
            Some(s) => Scheme::parse(&s).ok_or_else(|| malformed(format!("unknown scheme {s:?}")))?,
            None => Scheme::Ed25519,
        };

        let key = match (item.get(SEALED_PRIVATE_KEY), item.get(LEGACY_PRIVATE_KEY)) {
            (None, None) if item.get(SEALED_SHARE).is_some() => {
                StoredKey::Share(SealedShare::read(item).map_err(malformed)?)
            }
            (Some(Attr::B(blob)), _) => {
                let seal = string(SEAL)?.ok_or_else(|| malformed(format!("`{SEAL}` is missing")))?;
                StoredKey::Sealed { seal, blob: blob.clone() }
            }
            (Some(other), _) => {
                return Err(malformed(format!(
                    "`{SEALED_PRIVATE_KEY}` is of type {}, not B",
                    other.type_name()
                )));
            }
            (None, Some(Attr::S(plain))) => {
                StoredKey::LegacyPlaintext(LegacyKey::from_base64(Zeroizing::new(plain.clone())))
            }
            (None, Some(other)) => {
                return Err(malformed(format!(
                    "`{LEGACY_PRIVATE_KEY}` is of type {}, not S",
                    other.type_name()
                )));
            }
            (None, None) => return Err(malformed("it holds no private key attribute".into())),
        };
        if matches!(key, StoredKey::Share(_)) && scheme != Scheme::Secp256k1 {
            return Err(malformed(format!("a share of a {scheme} key; only secp256k1 keys are sharded")));
        }
        if matches!(key, StoredKey::LegacyPlaintext(_)) && scheme != Scheme::Ed25519 {
            return Err(malformed(format!("a plaintext key with scheme {scheme}")));
        }

        Ok(AccountRecord {
            address,
            scheme,
            public_key,
            key,
            created_at,
            created_by,
            created_api_key,
            schema_version,
            disabled,
        })
    }
}

/// Marks `item` disabled, or enabled when `disabled` is `None`. Works on
/// the item, so legacy rows keep every attribute they had.
pub fn set_disabled(item: &mut Item, disabled: Option<&Disabled>) {
    item.0.remove(DISABLED_AT);
    item.0.remove(DISABLED_BY);
    if let Some(disabled) = disabled {
        item.insert(DISABLED_AT, Attr::S(disabled.at.to_rfc3339_opts(SecondsFormat::Millis, true)));
        if let Some(by) = &disabled.by {
            item.insert(DISABLED_BY, Attr::S(by.clone()));
        }
    }
}

/// The address a stored public key derives, by scheme.
fn derive_address(scheme: Scheme, public_key: &str) -> std::result::Result<Address, String> {
    match scheme {
        Scheme::Secp256k1 => {
            let hex_digits = public_key.strip_prefix("0x").ok_or("the public key does not start with 0x")?;
            let bytes = hex::decode(hex_digits).map_err(|_| "the public key is not hex")?;
            let key = k256::PublicKey::from_sec1_bytes(&bytes)
                .map_err(|_| "the public key is not a valid secp256k1 point")?;
            Ok(Address::from_public_key(&key))
        }
        Scheme::Ed25519 => {
            let bytes =
                BASE64.decode(public_key.as_bytes()).map_err(|_| "the legacy public key is not base64")?;
            if bytes.len() != 32 {
                return Err(format!("the legacy public key is {} bytes, not 32", bytes.len()));
            }
            Ok(legacy_address(&bytes))
        }
    }
}

/// The Node service's address: `0x` + hex(ripemd160(ed25519 public key)).
pub fn legacy_address(public_key: &[u8]) -> Address {
    let digest: [u8; 20] = Ripemd160::digest(public_key).into();
    Address::from_bytes(digest)
}

/// Formats a secp256k1 public key the way records store it.
pub fn format_public_key(uncompressed: &[u8; 65]) -> String {
    format!("0x{}", hex::encode(uncompressed))
}

/// Encodes a legacy ed25519 public key the way the Node service did.
pub fn format_legacy_public_key(public_key: &[u8; 32]) -> String {
    BASE64.encode(public_key)
}
