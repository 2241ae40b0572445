//! Case 1 (the store or the process killed during a bulk create) and case
//! 7 (migrate and reseal interrupted by a store kill).

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use anyhow::Context as _;
use futures::StreamExt as _;
use rossignol_core::LegacyKey;
use rossignol_core::store::dynamo::DynamoStore;
use rossignol_core::store::record::{self, LEGACY_PRIVATE_KEY, PUBLIC_KEY};
use rossignol_core::store::{AccountStore, Attr, Item};
use zeroize::Zeroizing;

use super::{created_address, mark, title};
use crate::chaos::process::{Line, Run};
use crate::chaos::{Case, Ctx, PATIENCE};

/// Writes `create` has in flight (its default `--concurrency`).
const IN_FLIGHT: usize = 16;

/// What a killed bulk create left behind.
struct Aftermath {
    printed: HashSet<String>,
    printed_at_kill: usize,
    stored: HashSet<String>,
    exit: String,
    audit_ok: u64,
    audit_findings: usize,
}

impl Aftermath {
    /// Printed implies stored and opening. The converse can only hold up
    /// to the writes in flight: a write that committed just before the kill
    /// (or whose answer the kill lost) is stored but was never printed. Those
    /// accounts are whole and open; they are counted, and bounded.
    fn holds(&self) -> bool {
        self.printed.is_subset(&self.stored)
            && self.stored.difference(&self.printed).count() <= IN_FLIGHT
            && self.audit_ok == self.stored.len() as u64
            && self.audit_findings == 0
    }

    fn describe(&self) -> String {
        let unstored = self.printed.difference(&self.stored).count();
        let unprinted = self.stored.difference(&self.printed).count();
        format!(
            "{} printed when killed, {} printed in all, {} stored; printed but not stored: {unstored}, \
             stored but not printed: {unprinted}; deep audit: {} ok, {} finding(s); the create {}",
            self.printed_at_kill,
            self.printed.len(),
            self.stored.len(),
            self.audit_ok,
            self.audit_findings,
            self.exit
        )
    }
}

/// Starts `create --count N --json` and calls `kill` once a tenth is printed.
fn create_and_kill(
    ctx: &Ctx,
    config: &Path,
    kill: &mut dyn FnMut(&mut Run),
) -> anyhow::Result<(HashSet<String>, usize, String)> {
    let count = ctx.sizes.creates;
    let mut run = Run::start(
        "rossignol create",
        &mut ctx.rossignol(config, &["create", "--count", &count.to_string(), "--json"]),
    )?;
    let mut printed = HashSet::new();
    let mut at_kill = None;
    while let Some(line) = run.next_line(crate::chaos::PATIENCE)? {
        if let Line::Out(text) = line
            && let Some(address) = created_address(&text)
        {
            printed.insert(address);
            if at_kill.is_none() && printed.len() as u64 >= count / 10 {
                at_kill = Some(printed.len());
                kill(&mut run);
            }
        }
    }
    let finished = run.finish(PATIENCE)?;
    let at_kill = at_kill.context("the create finished before a tenth was printed")?;
    anyhow::ensure!(
        (printed.len() as u64) < count,
        "the create printed all {count} addresses: the kill came too late to test anything"
    );
    let exit = format!("exited with {} ({:?})", finished.status, finished.last_error());
    Ok((printed, at_kill, exit))
}

fn deep_audit(ctx: &Ctx, config: &Path) -> anyhow::Result<(u64, usize)> {
    let audit = Run::start("rossignol audit", &mut ctx.rossignol(config, &["audit", "--deep", "--json"]))?
        .finish(PATIENCE)?;
    let report = audit.json()?;
    Ok((
        report["ok"].as_u64().unwrap_or_default(),
        report["findings"].as_array().map_or(usize::MAX, Vec::len),
    ))
}

pub async fn bulk_create(ctx: &mut Ctx) -> anyhow::Result<Case> {
    // DynamoDB Local SIGKILLed, then restarted on the same files.
    let (table, config) = ctx.table("chaos_kill", None).await?;
    let ddb_pid = ctx.ddb.pid().unwrap_or_default();
    let (printed, printed_at_kill, exit) =
        tokio::task::block_in_place(|| create_and_kill(ctx, &config, &mut |_| sigkill(ddb_pid)))?;
    tokio::task::block_in_place(|| ctx.ddb.restart())?;
    let stored = ctx.stored(&table).await?;
    let (audit_ok, audit_findings) = tokio::task::block_in_place(|| deep_audit(ctx, &config))?;
    let dynamo = Aftermath { printed, printed_at_kill, stored, exit, audit_ok, audit_findings };

    // The embedded store: the process itself SIGKILLed.
    let data = ctx.dir.join("embedded");
    std::fs::create_dir_all(&data)?;
    let embedded_config = ctx.dir.join("embedded.toml");
    std::fs::write(
        &embedded_config,
        format!(
            "default = \"local\"\n[environments.local]\nstore = \"embedded\"\npath = \"{}\"\nlocal_key_file = \"{}\"\n",
            data.join("chaos.redb").display(),
            data.join("chaos.key").display()
        ),
    )?;
    let embedded = tokio::task::block_in_place(|| -> anyhow::Result<Aftermath> {
        let (printed, printed_at_kill, exit) = create_and_kill(ctx, &embedded_config, &mut Run::kill)?;
        let list = Run::start(
            "rossignol list",
            &mut ctx.rossignol(&embedded_config, &["list", "--limit", "10000000", "--json"]),
        )?
        .finish(PATIENCE)?;
        let stored = list.out.iter().filter_map(|line| created_address(line)).collect();
        let (audit_ok, audit_findings) = deep_audit(ctx, &embedded_config)?;
        Ok(Aftermath { printed, printed_at_kill, stored, exit, audit_ok, audit_findings })
    })?;

    let count = ctx.sizes.creates;
    Ok(Case {
        number: 1,
        title: title(1),
        done: format!(
            "`rossignol create --count {count} --json` against DynamoDB Local (`-dbPath`, `-sharedDb`); \
             DynamoDB Local (pid {ddb_pid}) SIGKILLed once a tenth of the addresses were printed, then \
             restarted on the same files; every stored address listed, and `audit --deep` run. Then the \
             same on the embedded store, the `rossignol` process itself SIGKILLed."
        ),
        expected: format!(
            "every printed address is stored and opens (deep audit ok, no findings); every stored account was \
             printed, but for at most the {IN_FLIGHT} writes in flight at the kill (committed, answer never \
             printed), which must open too"
        ),
        seen: format!(
            "DynamoDB Local: {} — holds: {}. Embedded: {} — holds: {}.",
            dynamo.describe(),
            mark(dynamo.holds()),
            embedded.describe(),
            mark(embedded.holds())
        ),
        ok: dynamo.holds() && embedded.holds(),
    })
}

/// SIGKILLs a server this run started, by its PID (the restart reaps it).
fn sigkill(pid: u32) {
    let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
}

/// `migrate: 1500 of ~10000 rows examined (...): 1490 migrated, ...`: the rows written.
fn written_in(line: &str, operation: &str) -> Option<u64> {
    let (_, rest) = line.strip_prefix(&format!("{operation}: "))?.split_once("): ")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Runs `args` (a migrate or a reseal), SIGKILLs DynamoDB Local once a
/// tenth of `rows` is reported written, restarts it, runs it again to the
/// end, and checks the rerun's report. A line for the case's figures.
fn interrupted(
    ctx: &mut Ctx,
    config: &Path,
    operation: &str,
    args: &[&str],
    rows: u64,
) -> anyhow::Result<(bool, String)> {
    let ddb_pid = ctx.ddb.pid().unwrap_or_default();
    let mut run = Run::start(&format!("rossignol {operation}"), &mut ctx.rossignol(config, args))?;
    let mut reported = None;
    while let Some(line) = run.next_line(PATIENCE)? {
        if let Line::Err(text) = line
            && let Some(written) = written_in(&text, operation)
            && reported.is_none()
            && written >= rows / 10
        {
            anyhow::ensure!(written < rows, "the {operation} finished before the kill: {text}");
            reported = Some(written);
            sigkill(ddb_pid);
        }
    }
    let first = run.finish(PATIENCE)?;
    let reported = reported
        .with_context(|| format!("no progress line of the {operation} reached a tenth: {:?}", first.err))?;
    ctx.ddb.restart()?;
    let rerun = Run::start(&format!("rossignol {operation} (rerun)"), &mut ctx.rossignol(config, args))?
        .finish(PATIENCE)?;
    let report = rerun.json()?;
    let number = |key: &str| report[key].as_u64().unwrap_or(u64::MAX);
    let (examined, written, already, verified) =
        (number("examined"), number("written"), number("already_done"), number("verified"));
    let failed = report["failed"].as_array().map_or(usize::MAX, Vec::len);
    let holds = rerun.status.success()
        && examined == rows
        && written.checked_add(already) == Some(rows)
        && already >= reported
        && verified == rows
        && failed == 0;
    Ok((
        holds,
        format!(
            "{operation}: {reported} reported written when DynamoDB Local (pid {ddb_pid}) was killed; the \
             first run {} ({:?}); the rerun {}: {examined} examined, {written} written + {already} already \
             done = {}, {verified} verified, {failed} failed — holds: {}",
            first.status,
            first.last_error(),
            rerun.status,
            written.saturating_add(already),
            mark(holds)
        ),
    ))
}

/// A Node-era plaintext row, as the earlier service wrote them.
fn legacy_row() -> anyhow::Result<Item> {
    let seed = Zeroizing::new(rossignol_core::secret::random_bytes::<32>());
    let key = LegacyKey::from_seed(&seed);
    let public =
        key.verified_public_key().map_err(|e| anyhow::anyhow!("a legacy key without a public key: {e}"))?;
    let mut item = Item::default();
    item.insert("address", Attr::S(record::legacy_address(&public).to_storage()));
    item.insert(LEGACY_PRIVATE_KEY, Attr::S(key.reveal_base64().to_owned()));
    item.insert(PUBLIC_KEY, Attr::S(record::format_legacy_public_key(&public)));
    Ok(item)
}

pub async fn migrate_and_reseal(ctx: &mut Ctx) -> anyhow::Result<Case> {
    let rows = ctx.sizes.lifecycle_rows;
    // Migrate: Node-era rows sealed in place.
    let (table, config) = ctx.table("chaos_migrate", None).await?;
    let store: Arc<dyn AccountStore> = Arc::new(DynamoStore::new(ctx.client.clone(), &table));
    let mut seeding = futures::stream::iter(0..rows)
        .map(|_| {
            let store = Arc::clone(&store);
            async move { store.create(&legacy_row()?).await.map_err(anyhow::Error::from) }
        })
        .buffer_unordered(16);
    while let Some(result) = seeding.next().await {
        result?;
    }
    let (migrate_ok, migrate_seen) =
        tokio::task::block_in_place(|| interrupted(ctx, &config, "migrate", &["migrate", "--json"], rows))?;

    // Reseal: the same rows moved to another local key.
    let next_key = ctx.dir.join(format!("{table}-next.key"));
    let target = format!("local:{}", next_key.display());
    let (reseal_ok, reseal_seen) = tokio::task::block_in_place(|| {
        interrupted(ctx, &config, "reseal", &["reseal", "--to", &target, "--json"], rows)
    })?;
    Ok(Case {
        number: 7,
        title: title(7),
        done: format!(
            "{rows} Node-era plaintext rows seeded; `rossignol migrate --json` run and DynamoDB Local \
             SIGKILLed once a tenth was reported migrated, restarted, and `migrate` run again; then the same \
             for `rossignol reseal --to local:NEW --json` over those rows"
        ),
        expected: "the rerun finishes: every row examined and verified, written + already done = rows (each \
                   row written once), already done ≥ what was reported before the kill, nothing failed"
            .into(),
        seen: format!("{migrate_seen}. {reseal_seen}."),
        ok: migrate_ok && reseal_ok,
    })
}
