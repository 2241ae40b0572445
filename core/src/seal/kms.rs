//! AWS KMS sealing: Encrypt/Decrypt of the 32-byte key under a KMS key,
//! with the encryption context `{address, table}` (and, for a share,
//! `{share_index, epoch, commitments}`). KMS refuses to decrypt
//! under any other context, so a sealed key moved onto another record
//! cannot be opened.

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use zeroize::Zeroizing;

use super::{SealContext, Sealer};
use crate::aws::sdk_error;
use crate::error::{Error, Result};

const PREFIX: &str = "kms:";

/// Seals with one KMS key.
#[derive(Debug, Clone)]
pub struct KmsSealer {
    client: Client,
    key_id: String,
    id: String,
}

impl KmsSealer {
    /// `key_id` is a key id, ARN, or alias (`alias/...`). The record's seal
    /// names it as configured; decryption passes it back to KMS, which
    /// refuses a blob sealed under another key.
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        let key_id = key_id.into();
        KmsSealer { client, id: format!("{PREFIX}{key_id}"), key_id }
    }
}

#[async_trait]
impl Sealer for KmsSealer {
    fn id(&self) -> &str {
        &self.id
    }

    fn can_open(&self, seal_id: &str) -> bool {
        seal_id.starts_with(PREFIX)
    }

    async fn seal_secret(&self, ctx: SealContext<'_>, secret: &Zeroizing<[u8; 32]>) -> Result<Vec<u8>> {
        let output = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(secret.to_vec()))
            .set_encryption_context(Some(ctx.pairs().into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("NotFoundException") => Error::Seal(format!(
                    "KMS key {} does not exist in this account and region; check `kms_key_id`",
                    self.key_id
                )),
                Some("DisabledException") | Some("KMSInvalidStateException") => {
                    Error::Seal(format!("KMS key {} is disabled or pending deletion", self.key_id))
                }
                Some("AccessDeniedException") => Error::Seal(format!(
                    "access to KMS key {} was denied; grant kms:Encrypt on it",
                    self.key_id
                )),
                _ => sdk_error("KMS", "Encrypt", e),
            })?;
        output
            .ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| Error::Seal("KMS answered Encrypt without a ciphertext".into()))
    }

    /// Passes the record's own key id to KMS, so a record sealed under
    /// another KMS key opens too (given kms:Decrypt on it): what lets a
    /// KMS-to-KMS rotation run with only the new key configured.
    async fn open_secret(
        &self,
        ctx: SealContext<'_>,
        seal_id: &str,
        blob: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>> {
        let Some(key_id) = seal_id.strip_prefix(PREFIX) else {
            return Err(ctx.foreign_seal(seal_id, "KMS"));
        };
        let output = self
            .client
            .decrypt()
            .key_id(key_id)
            .ciphertext_blob(Blob::new(blob.to_vec()))
            .set_encryption_context(Some(ctx.pairs().into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("InvalidCiphertextException") => ctx.unseal_error(
                    "KMS refused it: the sealed key was altered, or belongs to another record or table",
                ),
                Some("IncorrectKeyException") => {
                    ctx.unseal_error(format!("it was not sealed under KMS key {key_id}"))
                }
                Some("AccessDeniedException") => ctx
                    .unseal_error(format!("access to KMS key {key_id} was denied; grant kms:Decrypt on it")),
                Some("NotFoundException") => ctx.unseal_error(format!("KMS key {key_id} no longer exists")),
                _ => sdk_error("KMS", "Decrypt", e),
            })?;
        let plain = Zeroizing::new(
            output
                .plaintext
                .map(Blob::into_inner)
                .ok_or_else(|| ctx.unseal_error("KMS answered Decrypt without a plaintext"))?,
        );
        ctx.exact_secret(plain, "KMS")
    }
}
