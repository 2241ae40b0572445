//! AES-256-GCM under a local key file, for the embedded and development
//! environments.
//!
//! Blob layout (version 1):
//! `0x01 | key id (8 bytes) | nonce (12 bytes) | ciphertext (32) | tag (16)`.
//! The key id is the first 8 bytes of SHA-256 of the key, so a blob names
//! the key that sealed it and keys can be rotated later. The additional
//! data binds the header, the address and the table.

use std::fmt;
use std::fs;
use std::io::{Read as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{SealContext, Sealer};
use crate::error::{Error, Result};

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = 1 + KEY_ID_LEN;
const BLOB_LEN: usize = HEADER_LEN + NONCE_LEN + 32 + 16;

/// A local AES-256-GCM sealing key.
pub struct LocalSealer {
    cipher: Aes256Gcm,
    key_id: [u8; KEY_ID_LEN],
    id: String,
    path: Option<PathBuf>,
}

impl LocalSealer {
    /// Uses the 32-byte key in `path`, creating it (mode 0600, in a 0700
    /// directory) on first use.
    pub fn open_or_create(path: &Path) -> Result<Self> {
        let key = match read_key_file(path) {
            Ok(key) => key,
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                create_key_file(path)?;
                read_key_file(path)?
            }
            Err(e) => return Err(e),
        };
        let mut sealer = Self::from_key(&key);
        sealer.path = Some(path.to_owned());
        Ok(sealer)
    }

    /// Uses the 32-byte key in `path`, which must exist: a key kept only
    /// to open records sealed before a rotation is never made up.
    pub fn open_existing(path: &Path) -> Result<Self> {
        let key = match read_key_file(path) {
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Config(format!(
                    "local key {} does not exist; restore it, or remove it from `also_open` once no record uses it",
                    path.display()
                )));
            }
            other => other?,
        };
        let mut sealer = Self::from_key(&key);
        sealer.path = Some(path.to_owned());
        Ok(sealer)
    }

    /// A sealer over key bytes already in memory (tests, benchmarks).
    pub fn from_key(key: &[u8; 32]) -> Self {
        let digest = Sha256::digest(key);
        let mut key_id = [0u8; KEY_ID_LEN];
        key_id.copy_from_slice(&digest[..KEY_ID_LEN]);
        LocalSealer {
            cipher: Aes256Gcm::new(key.into()),
            key_id,
            id: format!("local:{}", hex::encode(key_id)),
            path: None,
        }
    }

    fn aad(header: &[u8], ctx: SealContext<'_>) -> Vec<u8> {
        let address = ctx.address.to_storage();
        let mut aad = Vec::with_capacity(32 + header.len() + address.len() + ctx.table.len());
        aad.extend_from_slice(b"rossignol/local-seal\0");
        aad.extend_from_slice(header);
        aad.extend_from_slice(address.as_bytes());
        aad.push(0);
        aad.extend_from_slice(ctx.table.as_bytes());
        // A whole key's AAD is as it always was, so its records still open.
        if ctx.share.is_some() {
            aad.push(0);
            aad.extend_from_slice(&ctx.canonical_bytes());
        }
        aad
    }
}

impl fmt::Debug for LocalSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSealer").field("id", &self.id).field("path", &self.path).finish_non_exhaustive()
    }
}

#[async_trait]
impl Sealer for LocalSealer {
    fn id(&self) -> &str {
        &self.id
    }

    async fn seal_secret(&self, ctx: SealContext<'_>, secret: &Zeroizing<[u8; 32]>) -> Result<Vec<u8>> {
        let mut blob = Vec::with_capacity(BLOB_LEN);
        blob.push(VERSION);
        blob.extend_from_slice(&self.key_id);
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        blob.extend_from_slice(&nonce);
        let aad = Self::aad(&blob[..HEADER_LEN], ctx);
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret.as_slice(), aad: &aad })
            .map_err(|_| Error::Seal("AES-GCM encryption failed".into()))?;
        blob.extend_from_slice(&ciphertext);
        Ok(blob)
    }

    async fn open_secret(
        &self,
        ctx: SealContext<'_>,
        seal_id: &str,
        blob: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>> {
        if seal_id != self.id {
            return Err(ctx.foreign_seal(seal_id, &self.id));
        }
        if blob.len() != BLOB_LEN {
            return Err(ctx.unseal_error(format!("the sealed key is {} bytes, not {BLOB_LEN}", blob.len())));
        }
        if blob[0] != VERSION {
            return Err(ctx.unseal_error(format!("unknown local seal version {}", blob[0])));
        }
        if blob[1..HEADER_LEN] != self.key_id {
            return Err(ctx.unseal_error("the sealed key names a different local key than its record"));
        }
        let (header, rest) = blob.split_at(HEADER_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let aad = Self::aad(header, ctx);
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
                .map_err(|_| {
                    ctx.unseal_error("authentication failed: the sealed key was altered, or belongs to another record or table",
                    )
                })?,
        );
        ctx.exact_secret(plain, "the local seal")
    }
}

/// Checks a blob's shape without opening it: length, version, and that its
/// header names the key its record's `seal` names.
pub(crate) fn check_shape(seal_id: &str, blob: &[u8]) -> Result<(), String> {
    if blob.len() != BLOB_LEN {
        return Err(format!("a local seal is {BLOB_LEN} bytes; this one is {}", blob.len()));
    }
    if blob[0] != VERSION {
        return Err(format!("unknown local seal version {}", blob[0]));
    }
    let named = seal_id.strip_prefix("local:").unwrap_or_default();
    if hex::encode(&blob[1..HEADER_LEN]) != named {
        return Err(format!(
            "its header names local key {}, its record names {seal_id}",
            hex::encode(&blob[1..HEADER_LEN])
        ));
    }
    Ok(())
}

fn read_key_file(path: &Path) -> Result<Zeroizing<[u8; 32]>> {
    let display = path.display();
    let mut file = crate::private_fs::open_private(path, "local key", fs::OpenOptions::new().read(true))?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(32));
    file.read_to_end(&mut bytes).map_err(|e| Error::io(format!("reading local key {display}"), e))?;
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(Error::Config(format!(
            "local key {display} holds {} bytes, not 32; restore the right file or point `local_key_file` at it",
            bytes.len()
        )));
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

/// Writes a fresh key to a temporary file, then hard-links it into place,
/// so a concurrent creator either wins whole or finds a complete file.
fn create_key_file(path: &Path) -> Result<()> {
    let display = path.display();
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    crate::private_fs::create_private_dir(dir)?;
    let mut key = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(key.as_mut());
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        file.write_all(key.as_ref())?;
        file.sync_all()
    };
    let result = write().and_then(|()| match fs::hard_link(&tmp, path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = fs::remove_file(&tmp);
    result.map_err(|e| Error::io(format!("creating local key {display}"), e))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;
    use crate::account::Address;
    use crate::secret::PrivateKey;

    fn ctx<'a>(address: &'a Address, table: &'a str) -> SealContext<'a> {
        SealContext::record(address, table)
    }

    #[tokio::test]
    async fn seal_then_open_round_trips() {
        let sealer = LocalSealer::from_key(&[7u8; 32]);
        let key = PrivateKey::generate_os();
        let address = key.address();
        let blob = sealer.seal(ctx(&address, "t"), &key).await.unwrap();
        assert_eq!(blob.len(), BLOB_LEN);
        let opened = sealer.open(ctx(&address, "t"), sealer.id(), &blob).await.unwrap();
        assert_eq!(*opened.reveal_bytes(), *key.reveal_bytes());
    }

    #[tokio::test]
    async fn tampering_a_wrong_key_or_another_record_is_refused() {
        let sealer = LocalSealer::from_key(&[7u8; 32]);
        let key = PrivateKey::generate_os();
        let address = key.address();
        let blob = sealer.seal(ctx(&address, "t"), &key).await.unwrap();

        for index in [HEADER_LEN, HEADER_LEN + NONCE_LEN, BLOB_LEN - 1] {
            let mut tampered = blob.clone();
            tampered[index] ^= 1;
            let err = sealer.open(ctx(&address, "t"), sealer.id(), &tampered).await.unwrap_err();
            assert!(err.to_string().contains("authentication failed"), "{err}");
        }

        let other = Address::from_bytes([9u8; 20]);
        let err = sealer.open(ctx(&other, "t"), sealer.id(), &blob).await.unwrap_err();
        assert!(err.to_string().contains("another record"), "{err}");
        let err = sealer.open(ctx(&address, "other_table"), sealer.id(), &blob).await.unwrap_err();
        assert!(err.to_string().contains("another record or table"), "{err}");

        let wrong = LocalSealer::from_key(&[8u8; 32]);
        let err = wrong.open(ctx(&address, "t"), sealer.id(), &blob).await.unwrap_err();
        assert!(err.to_string().contains("sealed by local:"), "{err}");
        let err = wrong.open(ctx(&address, "t"), wrong.id(), &blob).await.unwrap_err();
        assert!(err.to_string().contains("different local key"), "{err}");
        assert!(!err.to_string().contains(&key.reveal_hex()[2..]));
    }

    #[tokio::test]
    async fn a_share_opens_only_in_its_own_slot_epoch_and_commitments() {
        use crate::seal::ShareBinding;
        let sealer = LocalSealer::from_key(&[7u8; 32]);
        let address = Address::from_bytes([3u8; 20]);
        let secret = Zeroizing::new([5u8; 32]);
        let binding = ShareBinding { index: 2, epoch: 1, commitments: "0xaa" };
        let blob = sealer.seal_secret(SealContext::share(&address, "t", binding), &secret).await.unwrap();
        let opened =
            sealer.open_secret(SealContext::share(&address, "t", binding), sealer.id(), &blob).await.unwrap();
        assert_eq!(*opened, *secret);
        let moved = [
            SealContext::share(&address, "t", ShareBinding { index: 3, ..binding }),
            SealContext::share(&address, "t", ShareBinding { epoch: 2, ..binding }),
            SealContext::share(&address, "t", ShareBinding { commitments: "0xab", ..binding }),
            SealContext::record(&address, "t"),
        ];
        for ctx in moved {
            let err = sealer.open_secret(ctx, sealer.id(), &blob).await.unwrap_err();
            assert!(err.to_string().contains("authentication failed"), "{ctx:?}: {err}");
        }
    }

    #[tokio::test]
    async fn any_32_byte_secret_round_trips() {
        // An ed25519 seed need not be a valid secp256k1 scalar.
        let sealer = LocalSealer::from_key(&[7u8; 32]);
        let address = Address::from_bytes([3u8; 20]);
        for secret in [[0u8; 32], [0xffu8; 32]] {
            let secret = Zeroizing::new(secret);
            let blob = sealer.seal_secret(ctx(&address, "t"), &secret).await.unwrap();
            assert_eq!(check_shape(sealer.id(), &blob), Ok(()));
            let opened = sealer.open_secret(ctx(&address, "t"), sealer.id(), &blob).await.unwrap();
            assert_eq!(*opened, *secret);
        }
    }

    #[test]
    fn a_kept_key_is_never_made_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.key");
        let err = LocalSealer::open_existing(&path).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(!path.exists());
        let made = LocalSealer::open_or_create(&path).unwrap();
        assert_eq!(LocalSealer::open_existing(&path).unwrap().id(), made.id());
    }

    #[test]
    fn key_file_is_created_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/master.key");
        let first = LocalSealer::open_or_create(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700);
        let second = LocalSealer::open_or_create(&path).unwrap();
        assert_eq!(first.id(), second.id());
        assert!(!format!("{first:?}").contains("cipher"));
    }

    #[test]
    fn a_linked_key_file_is_refused_and_a_new_one_gets_a_0700_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/master.key");
        LocalSealer::open_or_create(&path).unwrap();
        let link = dir.path().join("link.key");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let err = LocalSealer::open_existing(&link).unwrap_err();
        assert!(err.to_string().contains("replace the symlink"), "{err}");
        let err = LocalSealer::open_or_create(&link).unwrap_err();
        assert!(err.to_string().contains("replace the symlink"), "{err}");
    }

    #[test]
    fn a_key_file_open_to_others_or_of_the_wrong_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        fs::write(&path, [1u8; 32]).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = LocalSealer::open_or_create(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        fs::write(&path, [1u8; 16]).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let err = LocalSealer::open_or_create(&path).unwrap_err();
        assert!(err.to_string().contains("16 bytes"), "{err}");
    }
}
