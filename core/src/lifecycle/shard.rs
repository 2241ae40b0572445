//! `shard --from ENV`: moves every account of a single-store environment
//! into a sharded one. The source is only read (and its access trail
//! written): nothing of it changes.
//!
//! Each account is read from the source's scan, its key opened with the
//! source's seal and checked against its address, then split and written
//! at every provider with conditional writes, read back and opened from
//! its shares. An account already sharded is opened from its shares
//! instead, and one a stopped run left short of a share is finished from
//! the others, so running it again after any stop finishes the job. The
//! run's entry goes to both environments' trails before any key is
//! opened, and each key moved is recorded in the source's trail before it
//! is opened for the move.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::sync::watch;

use super::{Job, Options, Outcome, Progress, Report, drive};
use crate::custodian::{Custodian, Requester};
use crate::custody::{Adopted, ShardedCustody};
use crate::error::{Error, Result};
use crate::secret::KeyMaterial;
use crate::store::{AccountRecord, Item, Scheme, StoredKey};

/// Shards every account of `source` into `custodian`'s environment.
pub async fn run(
    custodian: &Custodian,
    source: &Custodian,
    options: Options,
    requester: &Requester,
    progress: watch::Sender<Progress>,
    cancel: Arc<AtomicBool>,
) -> Result<Report> {
    super::ensure_sharded(
        custodian,
        "shard moves accounts into a sharded environment (pick one with --env)",
    )?;
    if source.custody().whole_keys().is_none() {
        return Err(Error::Config(format!(
            "shard moves whole keys out of a single store, and {} already holds its keys in shares",
            source.table()
        )));
    }
    let target = Arc::clone(&custodian.custody().providers()[0].sealer);
    let job = Job::Shard { source: source.clone() };
    drive(custodian, job, target, options, requester, progress, cancel).await
}

pub(super) async fn row(
    custodian: &Custodian,
    source: &Custodian,
    item: Item,
    dry_run: bool,
    mover: &Requester,
) -> Outcome {
    let Some(sharded) = custodian.custody().sharded() else {
        return Outcome::Failed("not sharded: the target is not a sharded environment".into());
    };
    let record = match AccountRecord::from_item(&item) {
        Ok(record) => record,
        Err(e) => return Outcome::Failed(format!("not sharded: {}", e.record_reason())),
    };
    match (&record.key, record.scheme) {
        (StoredKey::Sealed { .. }, Scheme::Secp256k1) => {}
        (StoredKey::LegacyPlaintext(_), _) => return Outcome::NotSealed,
        (StoredKey::Sealed { .. }, Scheme::Ed25519) => {
            return Outcome::Failed(format!(
                "not sharded: a Node-era ed25519 key is not split (the shares are over secp256k1); it stays in {}",
                source.table()
            ));
        }
        (StoredKey::Share(_) | StoredKey::Sharded(_), _) => {
            return Outcome::Failed("not sharded: it is a share already".into());
        }
    }
    match custodian.custody().get(&record.address).await {
        Ok(None) => {}
        Ok(Some(existing)) => match sharded.complete(&record, &existing, dry_run).await {
            Adopted::Sound => return Outcome::AlreadyDone { verified: true },
            Adopted::Completed => return Outcome::Written,
            Adopted::WouldComplete | Adopted::WouldClear => return Outcome::WouldWrite,
            Adopted::Changed => return Outcome::Changed,
            Adopted::Failed(reason) => return Outcome::Failed(format!("already begun, but {reason}")),
            // Fewer than k shares of an earlier run: written anew below.
            Adopted::Cleared => {}
        },
        Err(e) => return Outcome::Failed(format!("not sharded: {}", e.record_reason())),
    }
    move_key(sharded, source, &record, dry_run, mover).await
}

/// Opens the source's key (recorded first, unless only checking) and
/// writes it as shares.
async fn move_key(
    sharded: &ShardedCustody,
    source: &Custodian,
    record: &AccountRecord,
    dry_run: bool,
    mover: &Requester,
) -> Outcome {
    if !dry_run
        && let Err(e) = source.append_access(&record.address, mover, None, Some(sharded.label()), None).await
    {
        return Outcome::Failed(format!("not sharded: {e}"));
    }
    let key = match source.custody().open(record).await {
        Ok(KeyMaterial::Secp256k1(key)) => key,
        Ok(KeyMaterial::LegacyEd25519(_)) => {
            return Outcome::Failed("not sharded: it opened to an ed25519 key".into());
        }
        Err(e) => return Outcome::Failed(format!("not sharded: {}", e.record_reason())),
    };
    if dry_run {
        return Outcome::WouldWrite;
    }
    match sharded.adopt(record, &key).await {
        Ok(()) => Outcome::Written,
        Err(reason) => Outcome::Failed(format!("not sharded: {reason}")),
    }
}
