//! `migrate`: seals every Node-era plaintext row in place, under the
//! environment's seal.
//!
//! A migrated row keeps its address, `scheme: ed25519`, its base64
//! `public_key` and every other attribute (`disabled_at` included); the
//! 32-byte seed of its key pair is sealed into `sealed_private_key`, `seal`
//! names the seal, `schema_version` becomes 1, and `private_key` is gone.
//! Opened again, the seed rebuilds exactly the base64 text the row held,
//! so the getter keeps answering what it always did.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use subtle::ConstantTimeEq as _;
use tokio::sync::watch;

use super::{Job, Options, Outcome, Progress, Report, drive, write_verified};
use crate::custodian::{Custodian, Requester};
use crate::error::Result;
use crate::seal::Sealer;
use crate::secret::LegacyKey;
use crate::store::record::{
    CURRENT_SCHEMA, LEGACY_PRIVATE_KEY, SCHEMA_VERSION, SCHEME, SEAL, SEALED_PRIVATE_KEY,
};
use crate::store::{AccountRecord, Attr, Item, Scheme, StoredKey};

/// Migrates every plaintext row of the custodian's table, sealing it with
/// the custodian's sealer (its primary seal, during a rotation).
///
/// `progress` receives updates as rows are done; setting `cancel` stops
/// the run between rows and returns a report of what was done. Rows
/// already migrated are not written again but opened and checked (counted
/// in `already_done` and `verified`), so running it again after a stop (or
/// a crash, even between a write and its read-back) finishes the job. A
/// row whose key does not derive its address is never written. Fails only
/// when the run's entry cannot be written to the access trail (nothing is
/// opened then) or the table cannot be described; a scan that fails midway
/// ends the run with `scan_error` in its report, and everything about
/// single rows is in the report too.
pub async fn run(
    custodian: &Custodian,
    options: Options,
    requester: &Requester,
    progress: watch::Sender<Progress>,
    cancel: Arc<AtomicBool>,
) -> Result<Report> {
    let target = Arc::clone(custodian.sealer());
    drive(custodian, Job::Migrate, target, options, requester, progress, cancel).await
}

pub(super) async fn row(custodian: &Custodian, target: &dyn Sealer, item: Item, dry_run: bool) -> Outcome {
    let record = match AccountRecord::from_item(&item) {
        Ok(record) => record,
        Err(e) => return Outcome::Failed(format!("not migrated: {}", e.record_reason())),
    };
    let key = match &record.key {
        StoredKey::LegacyPlaintext(key) => key,
        // An ed25519 row that is sealed was migrated, perhaps by a run that
        // died before reading it back: open and check it again, so a rerun
        // finishes the verification too.
        StoredKey::Sealed { .. } if record.scheme == Scheme::Ed25519 => {
            return match custodian.open(&record).await {
                Ok(_) => Outcome::AlreadyDone { verified: true },
                Err(e) => Outcome::Failed(format!("already migrated, but {}", e.record_reason())),
            };
        }
        StoredKey::Sealed { .. } => return Outcome::AlreadyDone { verified: false },
        StoredKey::Share(_) | StoredKey::Sharded(_) => {
            return Outcome::Failed("not migrated: it holds one share of a sharded key".into());
        }
    };
    // The key pair must be whole and derive the stored public key and address.
    if let Err(e) = custodian.open(&record).await {
        return Outcome::Failed(format!("not migrated: {}", e.record_reason()));
    }
    let seed = match key.seed() {
        Ok(seed) => seed,
        Err(reason) => return Outcome::Failed(format!("not migrated: {reason}")),
    };
    // What the getter returns after migration is rebuilt from the seed; it
    // must be the very text the row holds now.
    let rebuilt = LegacyKey::from_seed(&seed);
    if !bool::from(rebuilt.reveal_base64().as_bytes().ct_eq(key.reveal_base64().as_bytes())) {
        return Outcome::Failed(
            "not migrated: its private_key is not canonical base64, so the getter could not return the same text after migration"
                .into(),
        );
    }
    if dry_run {
        return Outcome::WouldWrite;
    }
    let seal = target.id().to_owned();
    let scheme = record.scheme.as_str();
    write_verified(custodian, target, &record, &item, &seed, |new, blob| {
        new.0.remove(LEGACY_PRIVATE_KEY);
        new.insert(SEALED_PRIVATE_KEY, Attr::B(blob));
        new.insert(SEAL, Attr::S(seal));
        new.insert(SCHEME, Attr::S(scheme.to_owned()));
        new.insert(SCHEMA_VERSION, Attr::N(CURRENT_SCHEMA.to_string()));
    })
    .await
}
