//! Seals by kind: a local key file, a KMS key in the store's account, or
//! an OpenBao/Vault transit key.

use std::sync::Arc;

use super::secrets::Secrets;
use crate::config::SealSpec;
use crate::error::{Error, Result};
use crate::seal::{KmsSealer, LocalSealer, SealRing, Sealer, TransitSealer};

/// The provider's seal and, when it keeps `also_open` seals from a
/// rotation, a [`SealRing`] that seals with `seal` and opens under any.
pub(super) async fn with_also_open(
    seal: &SealSpec,
    also_open: &[SealSpec],
    kms: Option<&aws_sdk_kms::Client>,
    secrets: &Secrets<'_>,
) -> Result<Arc<dyn Sealer>> {
    let primary = build(seal, kms, secrets, true).await?;
    if also_open.is_empty() {
        return Ok(primary);
    }
    let mut older = Vec::with_capacity(also_open.len());
    for spec in also_open {
        older.push(build(spec, kms, secrets, false).await?);
    }
    Ok(Arc::new(SealRing::new(primary, older)))
}

/// `create` makes a missing local key file; a key kept only to open old
/// records must already exist.
pub(super) async fn build(
    spec: &SealSpec,
    kms: Option<&aws_sdk_kms::Client>,
    secrets: &Secrets<'_>,
    create: bool,
) -> Result<Arc<dyn Sealer>> {
    Ok(match (spec, kms) {
        (SealSpec::Local { key_file }, _) if create => Arc::new(LocalSealer::open_or_create(key_file)?),
        (SealSpec::Local { key_file }, _) => Arc::new(LocalSealer::open_existing(key_file)?),
        (SealSpec::Kms { key_id }, Some(client)) => Arc::new(KmsSealer::new(client.clone(), key_id.clone())),
        (SealSpec::Kms { .. }, None) => {
            return Err(Error::Config(
                "a KMS seal needs KMS: give this store `kms_key_id` with its `region` (or use local:FILE)"
                    .into(),
            ));
        }
        // A named secret is this provider's own token: it wins over the
        // process-wide $BAO_TOKEN / $VAULT_TOKEN, which other providers
        // may need for another server.
        (SealSpec::Transit { url, key, mount, token_file, token_secret }, _) => {
            let token = match token_secret {
                Some(id) => secrets.read("transit_token_secret", id).await?,
                None => TransitSealer::find_token(|name| std::env::var(name).ok(), token_file.as_deref())?,
            };
            Arc::new(TransitSealer::with_token(url, mount.as_deref(), key, token)?)
        }
        (SealSpec::Shares, _) => {
            return Err(Error::Config(
                "a sharded environment's keys are sealed by each provider's own seal".into(),
            ));
        }
    })
}
