//! `refresh`: every account of a sharded environment gets a new
//! polynomial of the same key (epoch + 1), so shares stolen before the
//! refresh are worthless after it. See
//! [`crate::custody::ShardedCustody::refresh_account`] for the two phases
//! that keep every account openable throughout; a stopped run is finished
//! by the next one, and every new share is read back before any old one
//! is given up.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::sync::watch;

use super::{Job, Options, Outcome, Progress, Report, drive};
use crate::account::Address;
use crate::custodian::{Custodian, Requester};
use crate::custody::Refresh;
use crate::error::Result;
use crate::seal::Sealer;

/// Refreshes every account. The run's entry goes to the access trail
/// first (every provider's share is opened).
pub async fn run(
    custodian: &Custodian,
    options: Options,
    requester: &Requester,
    progress: watch::Sender<Progress>,
    cancel: Arc<AtomicBool>,
) -> Result<Report> {
    super::ensure_sharded(custodian, "refresh re-randomises the shares of a sharded environment")?;
    let target: Arc<dyn Sealer> = Arc::clone(&custodian.custody().providers()[0].sealer);
    drive(custodian, Job::Refresh, target, options, requester, progress, cancel).await
}

pub(super) async fn row(custodian: &Custodian, address: &str, dry_run: bool) -> Outcome {
    let (Some(sharded), Ok(address)) = (custodian.custody().sharded(), Address::parse(address)) else {
        return Outcome::Failed("not refreshed: the address is not valid".into());
    };
    match sharded.refresh_account(&address, dry_run).await {
        Refresh::Refreshed { .. } => Outcome::Written,
        Refresh::WouldRefresh => Outcome::WouldWrite,
        Refresh::Changed => Outcome::Changed,
        Refresh::Failed(reason) => Outcome::Failed(format!("not refreshed: {reason}")),
    }
}
