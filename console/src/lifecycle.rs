//! `rossignol migrate`, `reseal`, `repair`, `refresh` and `shard`: bulk,
//! resumable and verified, over `rossignol_core::lifecycle`.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use rossignol_core::config::{Environment, SealSpec, StoreSpec};
use rossignol_core::lifecycle::{self, Operation, Options, Progress, Report};
use rossignol_core::{Requester, seal};
use serde::Serialize;
use tokio::sync::watch;

use crate::Failure;
use crate::output::Out;

/// How often the live progress line is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);

/// `rossignol migrate`, `repair PROVIDER` and `refresh`.
pub async fn run(
    env: &Environment,
    run: lifecycle::Run,
    dry_run: bool,
    concurrency: usize,
    json: bool,
    out: &mut Out,
) -> Result<(), Failure> {
    let how = Bulk { operation: run.operation(), dry_run, concurrency, json };
    bulk(env, how, out, async |custodian, options, requester, tx| {
        run.start(&custodian, options, &requester, tx, Arc::new(AtomicBool::new(false))).await
    })
    .await
}

/// `rossignol shard --from ENV`: every account of `source` split into
/// `env`'s shares; `source` is only read.
pub async fn shard(
    env: &Environment,
    source: &Environment,
    dry_run: bool,
    concurrency: usize,
    json: bool,
    out: &mut Out,
) -> Result<(), Failure> {
    if source.name == env.name {
        return Err(Failure::usage(format!(
            "--from names {}, the environment being sharded into; name the single-store environment the accounts come from",
            env.name
        )));
    }
    let from = source.connect().await?;
    let how = Bulk { operation: Operation::Shard, dry_run, concurrency, json };
    bulk(env, how, out, async |custodian, options, requester, tx| {
        let cancel = Arc::new(AtomicBool::new(false));
        lifecycle::shard::run(&custodian, &from, options, &requester, tx, cancel).await
    })
    .await
}

/// How one bulk command runs.
struct Bulk {
    operation: Operation,
    dry_run: bool,
    concurrency: usize,
    json: bool,
}

/// Runs a bulk operation with a live progress line on stderr, then prints
/// its report.
async fn bulk(
    env: &Environment,
    how: Bulk,
    out: &mut Out,
    run: impl AsyncFnOnce(
        rossignol_core::Custodian,
        Options,
        Requester,
        watch::Sender<Progress>,
    ) -> rossignol_core::Result<Report>,
) -> Result<(), Failure> {
    let Bulk { operation, dry_run, concurrency, json } = how;
    if env.read_only && !dry_run {
        return Err(
            rossignol_core::Error::ReadOnly { env: env.name.clone(), action: operation.as_str() }.into()
        );
    }
    let custodian = env.connect().await?;
    let options = Options { dry_run, concurrency, ..Options::default() };
    let requester = Requester::operator(format!("cli-{}", operation.as_str()), crate::commands::who());
    let (tx, rx) = watch::channel(Progress::default());
    let shown = show_progress(rx, operation, dry_run);
    let report = run(custodian, options, requester, tx).await;
    let _ = shown.await;
    let report = report?;
    if json {
        out.json(&report)?;
    } else {
        for line in summary_lines(&report) {
            out.line(&line)?;
        }
        if report.is_complete() && !dry_run && report.written > 0 {
            out.line("check it with: rossignol audit --deep")?;
        }
    }
    outcome(&report)
}

/// How `rossignol reseal` runs.
#[derive(Debug, Clone, Copy)]
pub struct ResealOptions {
    pub dry_run: bool,
    pub concurrency: usize,
    pub json: bool,
    /// Move keys from KMS to a local key file anyway.
    pub allow_downgrade: bool,
}

pub async fn reseal(env: &Environment, to: &str, how: ResealOptions, out: &mut Out) -> Result<(), Failure> {
    let ResealOptions { dry_run, concurrency, json, allow_downgrade } = how;
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::failed(format!("cannot read the current directory: {e}")))?;
    let spec = SealSpec::parse(to, &cwd).map_err(|e| Failure::usage(format!("--to: {e}")))?;
    let reaches_kms = matches!(env.store, StoreSpec::Dynamodb { .. }) || env.kms.is_some();
    if !reaches_kms && matches!(spec, SealSpec::Kms { .. }) {
        return Err(Failure::usage(format!(
            "environment {} reaches no KMS: its store is not DynamoDB and it has no `kms_key_id` with a `region`; use --to local:FILE",
            env.name
        )));
    }
    if env.read_only && !dry_run {
        return Err(rossignol_core::Error::ReadOnly { env: env.name.clone(), action: "reseal" }.into());
    }
    let custodian = env.connect().await?;
    rossignol_core::lifecycle::ensure_whole_keys(&custodian, "reseal")?;
    // Decided on the target's kind, before its key file is made.
    if seal::is_downgrade(custodian.sealer().known_seals(), &spec.to_arg()) {
        if !allow_downgrade {
            let from = custodian.sealer().known_seals().join(", ");
            return Err(rossignol_core::Error::SealDowngrade { from, to: spec.to_arg() }.into());
        }
        if !dry_run && crate::tui::safety::is_production(env) {
            confirm_production_downgrade(env, &spec.to_arg())?;
        }
    }
    let target = env.sealer(&spec).await?;
    if !dry_run && !custodian.sealer().can_open(target.id()) {
        eprintln!(
            "note: until its configuration names {}, environment {} cannot open the records resealed under it \
             (the configuration change is printed at the end)",
            spec.to_arg(),
            env.name
        );
    }
    let options = Options { dry_run, concurrency, allow_downgrade, ..Options::default() };
    let requester = Requester::operator("cli-reseal", crate::commands::who());
    let (tx, rx) = watch::channel(Progress::default());
    let shown = show_progress(rx, Operation::Reseal, dry_run);
    let report =
        lifecycle::reseal::run(&custodian, target, options, &requester, tx, Arc::new(AtomicBool::new(false)))
            .await;
    let _ = shown.await;
    let report = report?;
    let change = ConfigChange::after(env, &spec);
    if json {
        #[derive(Serialize)]
        struct Resealed<'a> {
            #[serde(flatten)]
            report: &'a Report,
            /// The environment's seals once the rotation is configured.
            configure: &'a ConfigChange,
        }
        out.json(&Resealed { report: &report, configure: &change })?;
    } else {
        for line in summary_lines(&report) {
            out.line(&line)?;
        }
        if !dry_run {
            for line in change.lines(env) {
                out.line(&line)?;
            }
        }
    }
    outcome(&report)
}

/// In a production environment, a downgrade also needs the environment's
/// name typed on the terminal; without a terminal it is refused.
fn confirm_production_downgrade(env: &Environment, target: &str) -> Result<(), Failure> {
    let refused = || {
        Failure::usage(format!(
            "moving the keys of production environment {} under {target} was not confirmed; nothing was moved. \
             Run it on a terminal and type the environment's name when asked",
            env.name
        ))
    };
    if !std::io::stdin().is_terminal() {
        return Err(refused());
    }
    eprint!(
        "Environment {} is production. Moving its keys under the local key {target} lets whoever reads that \
         file open them offline.\nType the environment's name to go on: ",
        env.name
    );
    let mut typed = String::new();
    std::io::stdin()
        .read_line(&mut typed)
        .map_err(|e| Failure::failed(format!("cannot read the terminal: {e}")))?;
    if typed.trim_end_matches(['\r', '\n']) == env.name { Ok(()) } else { Err(refused()) }
}

/// Draws the progress on stderr: a live line on a terminal; otherwise a
/// plain line every twentieth of the table (every 1000 rows when its size
/// is unknown), for logs and for whoever watches the process.
fn show_progress(
    mut rx: watch::Receiver<Progress>,
    operation: Operation,
    dry_run: bool,
) -> tokio::task::JoinHandle<()> {
    let live = std::io::stderr().is_terminal();
    tokio::spawn(async move {
        let mut drawn: Option<Instant> = None;
        let mut next_line_at = 1u64;
        while rx.changed().await.is_ok() {
            let progress = rx.borrow_and_update().clone();
            if live {
                if drawn.is_none_or(|at| at.elapsed() >= REDRAW) {
                    eprint!("\r\x1b[2K{}", progress_line(&progress, operation, dry_run));
                    drawn = Some(Instant::now());
                }
            } else if progress.examined >= next_line_at {
                eprintln!("{}", progress_line(&progress, operation, dry_run));
                // DynamoDB's count is an estimate, possibly far off: never
                // step by less than a twentieth of what was seen so far.
                let basis = progress.total.unwrap_or(20_000).max(progress.examined);
                next_line_at = progress.examined + (basis / 20).max(1);
            }
        }
        if live {
            eprint!("\r\x1b[2K");
        }
    })
}

fn done_word(operation: Operation, dry_run: bool) -> &'static str {
    match (operation, dry_run) {
        (Operation::Migrate, false) => "migrated",
        (Operation::Migrate, true) => "to migrate",
        (Operation::Reseal, false) => "resealed",
        (Operation::Reseal, true) => "to reseal",
        (Operation::Repair, false) => "repaired",
        (Operation::Repair, true) => "to repair",
        (Operation::Refresh, false) => "refreshed",
        (Operation::Refresh, true) => "to refresh",
        (Operation::Shard, false) => "sharded",
        (Operation::Shard, true) => "to shard",
    }
}

/// `migrate: 1500 of ~10000 rows examined (1234/s, about 7s left): 1490 migrated, 10 already done, 0 problem(s)`
pub(crate) fn progress_line(progress: &Progress, operation: Operation, dry_run: bool) -> String {
    let total = progress.total.map(|t| format!(" of ~{t}")).unwrap_or_default();
    let eta = progress.eta().map(|d| format!(", about {}s left", d.as_secs())).unwrap_or_default();
    format!(
        "{}: {}{total} rows examined ({:.0}/s{eta}): {} {}, {} already done, {} problem(s)",
        operation.as_str(),
        progress.examined,
        progress.rate(),
        progress.written,
        done_word(operation, dry_run),
        progress.already_done,
        progress.problems,
    )
}

/// The summary, then every row that was not done, for people.
pub(crate) fn summary_lines(report: &Report) -> Vec<String> {
    let seconds = report.elapsed.as_secs_f64();
    let rate = if seconds > 0.0 { report.examined as f64 / seconds } else { 0.0 };
    let already = match report.operation {
        Operation::Migrate => "already sealed",
        Operation::Reseal => "already under it",
        Operation::Repair => "already sound",
        Operation::Refresh => "already done",
        Operation::Shard => "already sharded",
    };
    let mut lines = Vec::new();
    if report.dry_run {
        lines.push(format!(
            "dry run of {} {}: {} rows examined in {seconds:.1} s: {} {} under {}, {} {already}, \
             {} would fail; nothing was written",
            report.operation.as_str(),
            scope(report),
            report.examined,
            report.would_write,
            match report.operation {
                Operation::Migrate => "would be migrated",
                Operation::Reseal => "would be resealed",
                Operation::Repair => "would be repaired",
                Operation::Refresh => "would be refreshed",
                Operation::Shard => "would be sharded",
            },
            report.target_seal,
            report.already_done,
            report.failed.len(),
        ));
    } else {
        lines.push(format!(
            "{} {}: {} rows examined in {seconds:.1} s ({rate:.0}/s): {} {} under {}, {} {already}, \
             {} verified, {} changed meanwhile, {} failed{}",
            report.operation.as_str(),
            scope(report),
            report.examined,
            report.written,
            done_word(report.operation, false),
            report.target_seal,
            report.already_done,
            report.verified,
            report.changed.len(),
            report.failed.len(),
            if report.cancelled { " (stopped early)" } else { "" },
        ));
    }
    if report.cleared + report.would_clear > 0 {
        lines.push(format!(
            "{} account(s) that never had enough shares (a create that never returned) {} removed",
            report.cleared + report.would_clear,
            if report.dry_run { "would be" } else { "were" }
        ));
    }
    if let Some(error) = &report.scan_error {
        lines.push(format!("the scan stopped early, rows after that point were not looked at: {error}"));
    }
    if report.not_sealed > 0 {
        lines.push(format!(
            "{} plaintext Node-era row(s) were left as they are; seal them with `rossignol migrate`{}",
            report.not_sealed,
            if report.source.is_some() { " on the source environment, then run this again" } else { "" }
        ));
    }
    if !report.failed.is_empty() {
        lines.push(if report.dry_run { "would fail:" } else { "failed:" }.to_owned());
        for failure in &report.failed {
            lines.push(format!("  {}  {}", failure.address, failure.reason));
        }
    }
    if !report.changed.is_empty() {
        lines.push("changed meanwhile (skipped, nothing overwritten):".to_owned());
        for address in &report.changed {
            lines.push(format!("  {address}"));
        }
    }
    lines
}

/// `on table T`, or for a shard `from table S into T`.
fn scope(report: &Report) -> String {
    match &report.source {
        Some(source) => format!("from table {source} into {}", report.table),
        None => format!("on table {}", report.table),
    }
}

/// Exit 1 when a row failed or changed meanwhile, saying what to do.
fn outcome(report: &Report) -> Result<(), Failure> {
    if report.is_complete() {
        return Ok(());
    }
    let command = report.operation.as_str();
    let mut problems = Vec::new();
    if !report.failed.is_empty() {
        problems.push(format!("{} row(s) failed", report.failed.len()));
    }
    if !report.changed.is_empty() {
        problems.push(format!("{} row(s) changed meanwhile and were skipped", report.changed.len()));
    }
    if report.cancelled {
        problems.push("the run was stopped early".to_owned());
    }
    if report.scan_error.is_some() {
        problems.push("the scan of the table failed before its end".to_owned());
    }
    Err(Failure::failed(format!(
        "{} (see above); run `rossignol {command}` again to finish: rows already done are skipped",
        problems.join(" and ")
    )))
}

/// The environment's seals once a rotation to `target` is configured: the
/// target seals, every seal used before stays open until the audit shows
/// none left under it.
#[derive(Debug, Serialize)]
struct ConfigChange {
    seal: String,
    also_open: Vec<String>,
    /// True when the configuration already reads so.
    already: bool,
    #[serde(skip)]
    target: SealSpec,
}

impl ConfigChange {
    fn after(env: &Environment, target: &SealSpec) -> Self {
        let mut also_open: Vec<String> = Vec::new();
        for old in std::iter::once(&env.seal).chain(&env.also_open) {
            if old != target && !also_open.contains(&old.to_arg()) {
                also_open.push(old.to_arg());
            }
        }
        let configured: Vec<String> = env.also_open.iter().map(SealSpec::to_arg).collect();
        let already = env.seal == *target && configured == also_open;
        ConfigChange { seal: target.to_arg(), also_open, already, target: target.clone() }
    }

    fn lines(&self, env: &Environment) -> Vec<String> {
        let mut lines = Vec::new();
        if self.already {
            lines.push(format!("environment {} already seals with {}.", env.name, self.seal));
        } else {
            lines.push(format!(
                "now make {} this environment's seal and keep the old seal(s) open: in its configuration, \
                 set these lines (and keep the others):",
                self.seal
            ));
            lines.push(String::new());
            lines.push(format!("  [environments.{}]", env.name));
            if let StoreSpec::Embedded { path } = &env.store {
                // The built-in `local` has no section yet; a section of its
                // own needs the store, the file and the table the keys are
                // bound to.
                lines.push("  store = \"embedded\"".to_owned());
                lines.push(format!("  path = {}", toml_string(&path.display().to_string())));
                lines.push(format!("  table = {}", toml_string(&env.table)));
            }
            lines.push(match &self.target {
                SealSpec::Kms { key_id } => {
                    format!("  kms_key_id = {}   # instead of any `local_key_file`", toml_string(key_id))
                }
                SealSpec::Local { key_file } if matches!(env.store, StoreSpec::Embedded { .. }) => {
                    format!("  local_key_file = {}", toml_string(&key_file.display().to_string()))
                }
                SealSpec::Local { key_file } => format!(
                    "  local_key_file = {}   # instead of any `kms_key_id`",
                    toml_string(&key_file.display().to_string())
                ),
                // `reseal` refuses a sharded environment before it gets here.
                // `reseal --to` takes kms: and local: only, and refuses a
                // sharded environment before it gets here.
                SealSpec::Transit { .. } | SealSpec::Shares => "  # unchanged".to_owned(),
            });
            if !self.also_open.is_empty() {
                let quoted: Vec<String> = self.also_open.iter().map(|s| toml_string(s)).collect();
                lines.push(format!("  also_open = [{}]", quoted.join(", ")));
            }
            lines.push(String::new());
        }
        if !self.also_open.is_empty() {
            lines.push(format!(
                "once `rossignol audit` counts no record under {}, remove it from `also_open`",
                self.also_open.join(" or ")
            ));
        }
        lines
    }
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
