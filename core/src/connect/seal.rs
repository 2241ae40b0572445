//! Seals by kind: a local key file, a KMS key in the store's account, or
//! an OpenBao/Vault transit key.

use std::sync::Arc;

use crate::config::SealSpec;
use crate::error::{Error, Result};
use crate::seal::{KmsSealer, LocalSealer, SealRing, Sealer, TransitSealer};

/// The provider's seal and, when it keeps `also_open` seals from a
/// rotation, a [`SealRing`] that seals with `seal` and opens under any.
pub(super) fn with_also_open(
    seal: &SealSpec,
    also_open: &[SealSpec],
    kms: Option<&aws_sdk_kms::Client>,
) -> Result<Arc<dyn Sealer>> {
    let primary = build(seal, kms, true)?;
    if also_open.is_empty() {
        return Ok(primary);
    }
    let also_open = also_open.iter().map(|spec| build(spec, kms, false)).collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(SealRing::new(primary, also_open)))
}

/// `create` makes a missing local key file; a key kept only to open old
/// records must already exist.
pub(super) fn build(
    spec: &SealSpec,
    kms: Option<&aws_sdk_kms::Client>,
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
        (SealSpec::Transit { url, key, mount, token_file }, _) => {
            Arc::new(TransitSealer::from_environment(url, mount.as_deref(), key, token_file.as_deref())?)
        }
        (SealSpec::Shares, _) => {
            return Err(Error::Config(
                "a sharded environment's keys are sealed by each provider's own seal".into(),
            ));
        }
    })
}
