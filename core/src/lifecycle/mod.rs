//! Bulk re-sealing of a whole table, in place: [`migrate`] seals the Node
//! service's plaintext rows, [`reseal`] moves sealed keys under another
//! seal (a key rotation).
//!
//! Both scan the table in parallel segments and treat each row on its own:
//! read it from the scan, verify that its key derives its address (and
//! stored public key), seal it, write it with one conditional replace (a
//! row changed meanwhile is skipped and reported, never clobbered), then
//! read it back, open it with the target seal and compare the bytes. A row
//! already done is skipped, so a run stopped anywhere, even killed, is
//! finished by running it again: each row is written at most once.
//!
//! The shape is the audit's: `run(custodian, options, requester, progress,
//! cancel)`, progress through a `watch` channel, cancellation between rows,
//! and a serialisable [`Report`] that never holds key material.
//!
//! Both open every key, so a run starts by writing a run-level entry to
//! the access trail (who, when, what, the target seal); if that entry
//! cannot be written, no row is touched. A reseal also records an entry
//! for every key it moves, before it moves it.

pub mod migrate;
pub mod refresh;
pub mod repair;
pub mod reseal;
pub mod shard;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq as _;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use zeroize::Zeroizing;

use crate::access::RunRecord;
use crate::custodian::{Custodian, Requester, verified_key};
use crate::error::{Error, Result};
use crate::seal::{SealContext, Sealer};
use crate::store::{AccountRecord, Item, StoredKey, parallel_scan};

/// Items per scan request.
const PAGE_SIZE: usize = 250;
/// How often progress is refreshed (and cancellation noticed) while
/// nothing else happens.
const TICK: Duration = Duration::from_millis(200);

/// How a run goes.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Check every row and report what would be written; write nothing.
    pub dry_run: bool,
    /// Rows being handled at once (each a few store and seal calls).
    pub concurrency: usize,
    /// Parallel scan segments.
    pub segments: u32,
    /// Reseal: allow moving keys to a weaker kind of seal (KMS to a local
    /// key file, see [`crate::seal::is_downgrade`]).
    pub allow_downgrade: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { dry_run: false, concurrency: 16, segments: 8, allow_downgrade: false }
    }
}

/// Which bulk operation a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Migrate,
    Reseal,
    Repair,
    Refresh,
    Shard,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Migrate => "migrate",
            Operation::Reseal => "reseal",
            Operation::Repair => "repair",
            Operation::Refresh => "refresh",
            Operation::Shard => "shard",
        }
    }
}

/// A run over a whole environment that needs nothing but its name and
/// the environment: what the console and the command line start.
/// (`reseal` also takes a target seal, `shard` a source environment.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Run {
    /// Seal the Node-era plaintext rows in place.
    Migrate,
    /// Make one provider's shares again from the others.
    Repair { provider: String },
    /// Give every account new shares of the same key.
    Refresh,
}

impl Run {
    pub fn operation(&self) -> Operation {
        match self {
            Run::Migrate => Operation::Migrate,
            Run::Repair { .. } => Operation::Repair,
            Run::Refresh => Operation::Refresh,
        }
    }

    /// Runs it, as [`migrate::run`], [`repair::run`] or [`refresh::run`].
    pub async fn start(
        &self,
        custodian: &Custodian,
        options: Options,
        requester: &Requester,
        progress: watch::Sender<Progress>,
        cancel: Arc<AtomicBool>,
    ) -> Result<Report> {
        match self {
            Run::Migrate => migrate::run(custodian, options, requester, progress, cancel).await,
            Run::Repair { provider } => {
                repair::run(custodian, provider, options, requester, progress, cancel).await
            }
            Run::Refresh => refresh::run(custodian, options, requester, progress, cancel).await,
        }
    }
}

/// Where a running migration or reseal is.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Rows looked at so far, whatever became of them.
    pub examined: u64,
    /// Rows written (in a dry run: rows that would be).
    pub written: u64,
    /// Rows skipped because they were already done.
    pub already_done: u64,
    /// Rows that failed or changed meanwhile.
    pub problems: u64,
    /// The table's item count, when the store gives one (an estimate on
    /// DynamoDB).
    pub total: Option<u64>,
    pub elapsed: Duration,
}

impl Progress {
    /// Rows examined per second so far.
    pub fn rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 { self.examined as f64 / seconds } else { 0.0 }
    }

    /// Time left at the current rate, when the total is known.
    pub fn eta(&self) -> Option<Duration> {
        let total = self.total?;
        let rate = self.rate();
        (rate > 0.0).then(|| Duration::from_secs_f64(total.saturating_sub(self.examined) as f64 / rate))
    }
}

/// A row that was not done, and why. Never holds key material.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowFailure {
    /// The address as stored.
    pub address: String,
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub operation: Operation,
    /// The run's entry in the access trail (and the request id of its
    /// per-key entries).
    pub run_id: String,
    pub table: String,
    /// Shard: the table the accounts come from (it is only read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The seal rows end up under.
    pub target_seal: String,
    pub dry_run: bool,
    /// Rows looked at.
    pub examined: u64,
    /// Rows this run sealed under the target and wrote (0 in a dry run).
    pub written: u64,
    /// Dry run: rows a real run would write.
    pub would_write: u64,
    /// Rows skipped because they were already done: already sealed
    /// (migrate), or already under the target seal (reseal).
    pub already_done: u64,
    /// Rows whose sealed key was opened under the target seal and checked
    /// against the address: every row written, and for a reseal every row
    /// already under the target too.
    pub verified: u64,
    /// Reseal: plaintext Node-era rows, left for `rossignol migrate`.
    pub not_sealed: u64,
    /// Repair: accounts that never had k shares (a create that never
    /// returned), whose leftover shares were removed.
    #[serde(skip_serializing_if = "is_zero")]
    pub cleared: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub would_clear: u64,
    /// Rows skipped because they changed between the scan and the write;
    /// a second run picks them up.
    pub changed: Vec<String>,
    /// Rows that were not done (or were written but did not verify).
    pub failed: Vec<RowFailure>,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
    /// Stopped early by the caller; a second run finishes the job.
    pub cancelled: bool,
    /// The scan of the table failed midway: rows after that point were not
    /// looked at, and a second run picks them up. What the report counts
    /// up to then stands.
    pub scan_error: Option<String>,
}

impl Report {
    fn new(operation: Operation, run_id: String, table: &str, target_seal: &str, dry_run: bool) -> Self {
        Report {
            operation,
            run_id,
            table: table.to_owned(),
            source: None,
            target_seal: target_seal.to_owned(),
            dry_run,
            examined: 0,
            written: 0,
            would_write: 0,
            already_done: 0,
            verified: 0,
            not_sealed: 0,
            cleared: 0,
            would_clear: 0,
            changed: Vec::new(),
            failed: Vec::new(),
            elapsed: Duration::ZERO,
            cancelled: false,
            scan_error: None,
        }
    }

    /// True when every row of the table was examined and is done: nothing
    /// failed, nothing changed meanwhile, the scan went to the end and the
    /// run was not stopped.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.changed.is_empty() && !self.cancelled && self.scan_error.is_none()
    }

    fn tally(&mut self, address: String, outcome: Outcome) {
        self.examined += 1;
        match outcome {
            Outcome::Written => {
                self.written += 1;
                self.verified += 1;
            }
            Outcome::WrittenUnverified(reason) => {
                self.written += 1;
                self.failed.push(RowFailure {
                    address,
                    reason: format!("WRITTEN BUT NOT VERIFIED: {reason}; check this account now"),
                });
            }
            Outcome::WouldWrite => self.would_write += 1,
            Outcome::AlreadyDone { verified } => {
                self.already_done += 1;
                self.verified += u64::from(verified);
            }
            Outcome::NotSealed => self.not_sealed += 1,
            Outcome::Cleared => self.cleared += 1,
            Outcome::WouldClear => self.would_clear += 1,
            Outcome::Changed => self.changed.push(address),
            Outcome::Failed(reason) => self.failed.push(RowFailure { address, reason }),
        }
    }

    fn progress(&self, total: Option<u64>, elapsed: Duration) -> Progress {
        Progress {
            examined: self.examined,
            written: self.written + self.would_write,
            already_done: self.already_done,
            problems: (self.failed.len() + self.changed.len()) as u64,
            total,
            elapsed,
        }
    }
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What became of one row.
#[derive(Debug)]
enum Outcome {
    /// Written, read back, opened under the target and checked.
    Written,
    /// Written, but reading it back and opening it failed.
    WrittenUnverified(String),
    WouldWrite,
    AlreadyDone {
        verified: bool,
    },
    NotSealed,
    /// Repair: an account that never had k shares, removed.
    Cleared,
    WouldClear,
    Changed,
    Failed(String),
}

/// The work of one bulk operation on one row.
#[derive(Debug, Clone)]
enum Job {
    Migrate,
    Reseal,
    /// Make the shares of one provider's slot again.
    Repair {
        slot: usize,
    },
    /// Give every account a new polynomial of the same key.
    Refresh,
    /// Split every whole key of `source` into this environment's shares.
    Shard {
        source: Custodian,
    },
}

impl Job {
    fn operation(&self) -> Operation {
        match self {
            Job::Migrate => Operation::Migrate,
            Job::Reseal => Operation::Reseal,
            Job::Repair { .. } => Operation::Repair,
            Job::Refresh => Operation::Refresh,
            Job::Shard { .. } => Operation::Shard,
        }
    }
}

/// Refuses `operation` (`migrate`, `reseal`) on an environment whose keys
/// are held in shares.
pub fn ensure_whole_keys(custodian: &Custodian, operation: &str) -> Result<()> {
    if custodian.custody().whole_keys().is_none() {
        return Err(Error::Config(format!(
            "{operation} works on one store's whole keys, and {} holds its keys in shares; `rossignol refresh` re-randomises them, and each provider keeps its own seal",
            custodian.table()
        )));
    }
    Ok(())
}

/// The custody of a sharded environment, for `what` (an operation's
/// purpose, said in its refusal) that only works on shares.
fn ensure_sharded<'a>(custodian: &'a Custodian, what: &str) -> Result<&'a crate::custody::ShardedCustody> {
    custodian.custody().sharded().ok_or_else(|| {
        Error::Config(format!("{what}, and {} holds whole keys in one store", custodian.table()))
    })
}

/// Writes the run-level entry of a bulk operation that opens keys, before
/// it opens any: fails closed, with [`Error::AccessTrail`] (or
/// [`Error::Identity`]) when it cannot be written.
pub(crate) async fn record_run(
    custodian: &Custodian,
    operation: &str,
    requester: &Requester,
    target_seal: Option<&str>,
    dry_run: bool,
) -> Result<RunRecord> {
    let run = RunRecord {
        at: chrono::Utc::now(),
        run_id: hex::encode(crate::secret::random_bytes::<8>()),
        operation: operation.to_owned(),
        action: requester.action.clone(),
        table: custodian.table().to_owned(),
        target_seal: target_seal.map(str::to_owned),
        dry_run,
        actor: requester.actor.clone(),
        aws_identity: custodian.aws_identity().await?,
    };
    custodian.custody().append_run(&run).await?;
    Ok(run)
}

/// Scans the table and handles every row with `job`, `options.concurrency`
/// rows at a time.
async fn drive(
    custodian: &Custodian,
    job: Job,
    target: Arc<dyn Sealer>,
    options: Options,
    requester: &Requester,
    progress: watch::Sender<Progress>,
    cancel: Arc<AtomicBool>,
) -> Result<Report> {
    let operation = job.operation();
    if matches!(job, Job::Migrate | Job::Reseal) {
        ensure_whole_keys(custodian, operation.as_str())?;
    }
    let started = Instant::now();
    if matches!(job, Job::Reseal)
        && !options.allow_downgrade
        && crate::seal::is_downgrade(custodian.sealer().known_seals(), target.id())
    {
        return Err(Error::SealDowngrade {
            from: custodian.sealer().known_seals().join(", "),
            to: target.id().to_owned(),
        });
    }
    // Whole-environment jobs on shares are under no one seal.
    let target_label = match (&job, custodian.custody().sharded()) {
        (Job::Refresh | Job::Shard { .. }, Some(sharded)) => sharded.label(),
        _ => target.id().to_owned(),
    };
    let run =
        record_run(custodian, operation.as_str(), requester, Some(&target_label), options.dry_run).await?;
    // The source's keys are opened too: its own trail records the run.
    if let Job::Shard { source } = &job {
        source.custody().append_run(&run).await?;
    }
    // Each key a reseal moves is recorded under the run's id.
    let mover = Arc::new(Requester { request_id: run.run_id.clone(), ..requester.clone() });
    let mut report = Report::new(operation, run.run_id, custodian.table(), &target_label, options.dry_run);
    if let Job::Shard { source } = &job {
        report.source = Some(source.table().to_owned());
    }
    let (total, pages) = match &job {
        // Every address any provider holds: the one being repaired may hold none.
        Job::Repair { .. } | Job::Refresh => {
            (None, union_scan(custodian.custody().providers(), options.segments))
        }
        Job::Shard { source } => (
            source.store().describe().await?.item_count,
            parallel_scan(Arc::clone(source.store()), options.segments, PAGE_SIZE),
        ),
        _ => (
            custodian.store().describe().await?.item_count,
            parallel_scan(Arc::clone(custodian.store()), options.segments, PAGE_SIZE),
        ),
    };
    progress.send_replace(report.progress(total, started.elapsed()));

    let concurrency = options.concurrency.max(1);
    let mut pages = Some(pages);
    let mut queue: VecDeque<Item> = VecDeque::new();
    let mut rows: JoinSet<(String, Outcome)> = JoinSet::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut scan_error = None;
    loop {
        if cancel.load(Ordering::Relaxed) && !report.cancelled {
            // Rows in flight finish (each is one atomic write); nothing new starts.
            report.cancelled = true;
            pages = None;
            queue.clear();
        }
        while rows.len() < concurrency
            && let Some(item) = queue.pop_front()
        {
            let custodian = custodian.clone();
            let target = Arc::clone(&target);
            let mover = Arc::clone(&mover);
            let dry_run = options.dry_run;
            let job = job.clone();
            rows.spawn(async move {
                let address = item.address().unwrap_or("<no address>").to_owned();
                let outcome = match job {
                    Job::Migrate => migrate::row(&custodian, target.as_ref(), item, dry_run).await,
                    Job::Reseal => reseal::row(&custodian, target.as_ref(), item, dry_run, &mover).await,
                    Job::Repair { slot } => repair::row(&custodian, slot, &address, dry_run).await,
                    Job::Refresh => refresh::row(&custodian, &address, dry_run).await,
                    Job::Shard { source } => shard::row(&custodian, &source, item, dry_run, &mover).await,
                };
                (address, outcome)
            });
        }
        if pages.is_none() && queue.is_empty() && rows.is_empty() {
            break;
        }
        let want_page = queue.len() < concurrency * 2;
        tokio::select! {
            page = next_page(&mut pages), if want_page => match page {
                Some(Ok(items)) => queue.extend(items),
                Some(Err(e)) => {
                    scan_error = Some(e);
                    pages = None;
                    queue.clear();
                }
                None => pages = None,
            },
            Some(done) = rows.join_next(), if !rows.is_empty() => {
                let (address, outcome) = done.map_err(|e| Error::Service {
                    service: operation.as_str(),
                    operation: "row",
                    message: e.to_string(),
                })?;
                report.tally(address, outcome);
                progress.send_replace(report.progress(total, started.elapsed()));
            }
            _ = tick.tick() => {
                progress.send_replace(report.progress(total, started.elapsed()));
            }
        }
    }
    // Rows done before the scan failed are reported, not lost with it.
    report.scan_error = scan_error.map(|e| e.to_string());
    report.changed.sort();
    report.failed.sort_by(|a, b| a.address.cmp(&b.address));
    report.elapsed = started.elapsed();
    progress.send_replace(report.progress(total, report.elapsed));
    Ok(report)
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Every address any provider holds, once, as items: each provider's table
/// is scanned in turn. A provider that cannot be scanned is named on the
/// log and passed over; its addresses are found at the others.
fn union_scan(providers: &[crate::custody::Provider], segments: u32) -> mpsc::Receiver<Result<Vec<Item>>> {
    let stores: Vec<(String, Arc<dyn crate::store::AccountStore>)> =
        providers.iter().map(|p| (p.name.clone(), Arc::clone(&p.store))).collect();
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        let mut seen = std::collections::HashSet::new();
        for (name, store) in stores {
            let mut pages = parallel_scan(store, segments, PAGE_SIZE);
            while let Some(page) = pages.recv().await {
                match page {
                    Ok(items) => {
                        let fresh: Vec<Item> = items
                            .into_iter()
                            .filter(|item| item.address().is_some_and(|a| seen.insert(a.to_owned())))
                            .collect();
                        if !fresh.is_empty() && tx.send(Ok(fresh)).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(
                            "provider {name} could not be scanned, so only the others' addresses are seen: {e}"
                        );
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// The next page of the scan, or never once the scan is dropped.
async fn next_page(pages: &mut Option<mpsc::Receiver<Result<Vec<Item>>>>) -> Option<Result<Vec<Item>>> {
    match pages {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Seals `secret` under `target` and opens the new seal again before
/// anything is written (a target that seals but cannot open, such as a KMS
/// key without Decrypt, must not replace a working seal); then writes
/// `current` changed by `change` with one conditional replace, reads the
/// row back and checks that it holds exactly that seal, for a key that
/// derives the record's address.
async fn write_verified(
    custodian: &Custodian,
    target: &dyn Sealer,
    record: &AccountRecord,
    current: &Item,
    secret: &Zeroizing<[u8; 32]>,
    change: impl FnOnce(&mut Item, Vec<u8>),
) -> Outcome {
    let ctx = SealContext::record(&record.address, custodian.table());
    let blob = match target.seal_secret(ctx, secret).await {
        Ok(blob) => blob,
        Err(e) => return Outcome::Failed(format!("not written: {}", e.record_reason())),
    };
    match target.open_secret(ctx, target.id(), &blob).await {
        Ok(opened) if bool::from(opened.as_slice().ct_eq(secret.as_slice())) => {}
        Ok(_) => return Outcome::Failed("not written: the new seal opens to another key".into()),
        Err(e) => {
            return Outcome::Failed(format!(
                "not written: the new seal cannot be opened: {}",
                e.record_reason()
            ));
        }
    }
    let mut new = current.clone();
    change(&mut new, blob.clone());
    match custodian.store().replace(current, &new).await {
        Ok(()) => {}
        Err(Error::Changed { .. }) => return Outcome::Changed,
        Err(e) => return Outcome::Failed(format!("not written: {e}")),
    }
    match read_back(custodian, target, record, &blob, secret).await {
        Ok(()) => Outcome::Written,
        Err(reason) => Outcome::WrittenUnverified(reason),
    }
}

/// Reads the row again: it must hold `blob` (already opened to `secret`)
/// under `target`, and `secret` must derive its address and public key.
async fn read_back(
    custodian: &Custodian,
    target: &dyn Sealer,
    record: &AccountRecord,
    blob: &[u8],
    secret: &Zeroizing<[u8; 32]>,
) -> std::result::Result<(), String> {
    let item = custodian
        .store()
        .get(&record.address)
        .await
        .map_err(|e| format!("reading it back failed: {e}"))?
        .ok_or("it was gone when read back")?;
    let stored = AccountRecord::from_item(&item).map_err(|e| format!("read back, it is malformed: {e}"))?;
    let StoredKey::Sealed { seal, blob: stored_blob } = &stored.key else {
        return Err("read back, it holds no sealed key".into());
    };
    if seal != target.id() {
        return Err(format!("read back, it is sealed by {seal}, not {}", target.id()));
    }
    if stored_blob.as_slice() != blob {
        return Err("read back, it holds another sealed key than the one written".into());
    }
    verified_key(&stored, secret).map_err(|e| e.record_reason())?;
    Ok(())
}
