//! `repair PROVIDER`: makes a lost or replaced provider's shares again from
//! k others, by Lagrange interpolation at its slot, without rebuilding any
//! key, and leaves the other providers untouched.
//!
//! Every address any provider holds is looked at. A share that opens and
//! verifies in the newest epoch is left as it is, so a stopped or crashed
//! run finishes when run again. An account that never had k shares (a
//! create that never returned) has its leftover shares removed.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::sync::watch;

use super::{Job, Options, Outcome, Progress, Report, drive};
use crate::account::Address;
use crate::custodian::{Custodian, Requester};
use crate::custody::SlotRepair;
use crate::error::{Error, Result};

/// Repairs `provider`'s slot for every account. The run's entry goes to
/// the access trail first (the shares of k providers are opened).
pub async fn run(
    custodian: &Custodian,
    provider: &str,
    options: Options,
    requester: &Requester,
    progress: watch::Sender<Progress>,
    cancel: Arc<AtomicBool>,
) -> Result<Report> {
    let sharded = super::ensure_sharded(custodian, "repair makes a provider's shares again")?;
    let providers = sharded.providers_named();
    let Some(slot) = providers.iter().position(|name| *name == provider) else {
        return Err(Error::Config(format!(
            "environment {} has no provider named `{provider}`; its providers are {}",
            custodian.table(),
            providers.join(", ")
        )));
    };
    let target = Arc::clone(&custodian.custody().providers()[slot].sealer);
    drive(custodian, Job::Repair { slot }, target, options, requester, progress, cancel).await
}

pub(super) async fn row(custodian: &Custodian, slot: usize, address: &str, dry_run: bool) -> Outcome {
    let (Some(sharded), Ok(address)) = (custodian.custody().sharded(), Address::parse(address)) else {
        return Outcome::Failed("not repaired: the address is not valid".into());
    };
    match sharded.repair_slot(&address, slot, dry_run).await {
        SlotRepair::Sound => Outcome::AlreadyDone { verified: true },
        SlotRepair::Rebuilt => Outcome::Written,
        SlotRepair::WouldRebuild => Outcome::WouldWrite,
        SlotRepair::Cleared => Outcome::Cleared,
        SlotRepair::WouldClear => Outcome::WouldClear,
        SlotRepair::Changed => Outcome::Changed,
        SlotRepair::Failed(reason) => Outcome::Failed(format!("not repaired: {reason}")),
    }
}
