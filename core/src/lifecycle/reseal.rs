//! `reseal`: re-encrypts every sealed key under another seal, for a key
//! rotation (KMS to KMS, local to local, local to KMS).
//!
//! Each row is opened with the environment's sealer (its own seal and any
//! `also_open`), checked against its address, sealed under the target and
//! written with one conditional replace; only `sealed_private_key` and
//! `seal` change. Rows already under the target are opened and checked
//! too, so a finished run has verified every sealed key.
//!
//! The run starts with a run-level entry in the access trail, and each key
//! is recorded there (action of the requester, request id = the run's,
//! `target_seal`) before it is moved; a key whose entry cannot be written
//! is not moved. Moving keys from KMS to a local key file is refused
//! unless [`Options::allow_downgrade`] is set.
//!
//! While a rotation runs, records live under both seals. To keep them all
//! readable, configure the target as the environment's seal and the old
//! one in `also_open` (before or right after the run), until
//! `rossignol audit` shows no record left under the old seal.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::sync::watch;

use super::{Job, Options, Outcome, Progress, Report, drive, write_verified};
use crate::custodian::{Custodian, Requester, verified_key};
use crate::error::Result;
use crate::seal::{SealContext, Sealer};
use crate::store::record::{SEAL, SEALED_PRIVATE_KEY};
use crate::store::{AccountRecord, Attr, Item, StoredKey};

/// Moves every sealed key of the custodian's table under `target`.
///
/// The custodian's sealer opens the rows as they are; `target` seals and
/// then opens them again to verify. Plaintext rows are left alone (counted
/// in `not_sealed`: migrate them first). Progress, cancellation and
/// resumption work as in [`super::migrate::run`]. Fails before touching any
/// row with [`crate::Error::SealDowngrade`] for a downgrade not allowed, and
/// with [`crate::Error::AccessTrail`] when the run's entry cannot be written.
pub async fn run(
    custodian: &Custodian,
    target: Arc<dyn Sealer>,
    options: Options,
    requester: &Requester,
    progress: watch::Sender<Progress>,
    cancel: Arc<AtomicBool>,
) -> Result<Report> {
    drive(custodian, Job::Reseal, target, options, requester, progress, cancel).await
}

pub(super) async fn row(
    custodian: &Custodian,
    target: &dyn Sealer,
    item: Item,
    dry_run: bool,
    mover: &Requester,
) -> Outcome {
    let record = match AccountRecord::from_item(&item) {
        Ok(record) => record,
        Err(e) => return Outcome::Failed(format!("not resealed: {}", e.record_reason())),
    };
    let StoredKey::Sealed { seal, blob } = &record.key else {
        return Outcome::NotSealed;
    };
    let ctx = SealContext::record(&record.address, custodian.table());
    if seal == target.id() {
        let checked = match target.open_secret(ctx, seal, blob).await {
            Ok(secret) => verified_key(&record, &secret).map(drop),
            Err(e) => Err(e),
        };
        return match checked {
            Ok(()) => Outcome::AlreadyDone { verified: true },
            Err(e) => Outcome::Failed(format!("already under {seal}, but {}", e.record_reason())),
        };
    }
    let secret = match custodian.sealer().open_secret(ctx, seal, blob).await {
        Ok(secret) => secret,
        Err(e) => return Outcome::Failed(format!("not resealed: {}", e.record_reason())),
    };
    if let Err(e) = verified_key(&record, &secret) {
        return Outcome::Failed(format!("not resealed: {}", e.record_reason()));
    }
    if dry_run {
        return Outcome::WouldWrite;
    }
    let new_seal = target.id().to_owned();
    if let Err(e) = custodian.append_access(&record.address, mover, None, Some(new_seal.clone()), None).await
    {
        return Outcome::Failed(format!("not resealed: {e}"));
    }
    write_verified(custodian, target, &record, &item, &secret, |new, blob| {
        new.insert(SEALED_PRIVATE_KEY, Attr::B(blob));
        new.insert(SEAL, Attr::S(new_seal));
    })
    .await
}
