//! The subcommands, thin over `rossignol-core`.

use futures::StreamExt as _;
use rossignol_core::config::{Config, Environment};
use rossignol_core::lifecycle::Run;
use rossignol_core::store::{AccountRecord, Cursor};
use rossignol_core::{Address, Custodian, Requester};
use serde::Serialize;

use crate::Failure;
use crate::cli::{Cli, Command};
use crate::output::{EnvView, Out, RecordView, report_lines};

/// Accounts read per store request while listing.
const LIST_PAGE: usize = 200;

pub async fn run(cli: Cli) -> Result<(), Failure> {
    let mut config = Config::load(cli.global.config.as_deref())?;
    if cli.global.read_only {
        for env in config.environments.values_mut() {
            env.read_only = true;
        }
    }
    let env = config.environment(cli.global.env.as_deref())?;
    let Some(command) = cli.command else {
        return crate::tui::run(&config, env).await;
    };
    let mut out = Out::new();
    let result = match command {
        Command::Status => status(env, &mut out).await,
        Command::Envs { json } => envs(&config, json, &mut out),
        Command::Create { count, concurrency, json } => {
            create(env, count, concurrency.into(), json, &mut out).await
        }
        Command::Get { address, reveal, json } => get(env, &address, reveal, json, &mut out).await,
        Command::List { limit, after, json } => list(env, limit, after, json, &mut out).await,
        Command::Init { json } => init(env, json, &mut out).await,
        Command::Audit { deep, segments, json } => audit(env, deep, segments, json, &mut out).await,
        Command::Sign { address, message, transaction, typed_data, authorization, json } => {
            let input = crate::custody::SignInput { message, transaction, typed_data, authorization };
            crate::custody::sign(env, &address, input, json, &mut out).await
        }
        Command::Serve { rpc } => crate::serve::rpc(env, rpc, &mut out).await,
        Command::Export { address, out: file, passphrase_file } => {
            crate::custody::export(env, &address, &file, passphrase_file.as_deref(), &mut out).await
        }
        Command::Disable { address } => crate::custody::set_disabled(env, &address, true, &mut out).await,
        Command::Enable { address } => crate::custody::set_disabled(env, &address, false, &mut out).await,
        Command::Migrate { bulk } => bulk_run(env, Run::Migrate, &bulk, &mut out).await,
        Command::Refresh { bulk } => bulk_run(env, Run::Refresh, &bulk, &mut out).await,
        Command::Repair { provider, bulk } => bulk_run(env, Run::Repair { provider }, &bulk, &mut out).await,
        Command::Shard { from, bulk } => {
            let source = config.environment(Some(&from))?;
            crate::lifecycle::shard(env, source, bulk.dry_run, bulk.concurrency.into(), bulk.json, &mut out)
                .await
        }
        Command::Reseal { to, bulk, allow_downgrade } => {
            let how = crate::lifecycle::ResealOptions {
                dry_run: bulk.dry_run,
                concurrency: bulk.concurrency.into(),
                json: bulk.json,
                allow_downgrade,
            };
            crate::lifecycle::reseal(env, &to, how, &mut out).await
        }
    };
    out.flush()?;
    result
}

async fn bulk_run(
    env: &Environment,
    run: Run,
    bulk: &crate::cli::Bulk,
    out: &mut Out,
) -> Result<(), Failure> {
    crate::lifecycle::run(env, run, bulk.dry_run, bulk.concurrency.into(), bulk.json, out).await
}

/// `rossignol status`: where it points and what it holds.
async fn status(env: &Environment, out: &mut Out) -> Result<(), Failure> {
    let custodian = env.connect().await?;
    out.line(&format!(
        "environment {} ({}{})",
        env.name,
        env.seal_label(),
        if env.read_only { ", read-only" } else { "" }
    ))?;
    let providers = custodian.custody().providers();
    for provider in providers {
        if providers.len() > 1 {
            out.line(&format!("provider {} (seal {})", provider.name, provider.sealer.id()))?;
        }
        match provider.store.describe().await {
            Ok(report) => {
                for line in report_lines(&report) {
                    out.line(&line)?;
                }
            }
            // One provider down is shown, not hidden; alone, it is the error.
            Err(e) if providers.len() > 1 => out.line(&format!("  unreachable: {e}"))?,
            Err(e) => return Err(e.into()),
        }
    }
    out.line(
        "commands: rossignol create | get | list | sign | export | disable | enable | audit | migrate | reseal | init | envs   (rossignol --help for more)",
    )
}

fn envs(config: &Config, json: bool, out: &mut Out) -> Result<(), Failure> {
    for (name, environment) in &config.environments {
        let view = EnvView { name, default: *name == config.default, environment };
        if json { out.json(&view)? } else { out.line(&view.row())? }
    }
    Ok(())
}

pub(crate) fn who() -> String {
    crate::operator("rossignol-cli")
}

async fn create(
    env: &Environment,
    count: u64,
    concurrency: usize,
    json: bool,
    out: &mut Out,
) -> Result<(), Failure> {
    if env.read_only {
        return Err(rossignol_core::Error::ReadOnly { env: env.name.clone(), action: "create" }.into());
    }
    let custodian = env.connect().await?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut results = std::pin::pin!(custodian.create_many(count, &who(), concurrency, stop.clone()));
    let mut done = 0u64;
    let mut failure = None;
    while let Some(result) = results.next().await {
        match result {
            Ok(record) => {
                done += 1;
                let address = record.address.to_string();
                if json { out.json(&AddressLine { address: &address })? } else { out.line(&address)? }
            }
            // Start no new write, but let those in flight finish so that
            // every created address is printed.
            Err(e) => {
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
                failure.get_or_insert(e);
            }
        }
    }
    match failure {
        None => Ok(()),
        Some(e) => {
            Err(Failure::from(e).context(format!("created {done} of {count} accounts before this failure")))
        }
    }
}

#[derive(Serialize)]
struct AddressLine<'a> {
    address: &'a str,
}

pub(crate) fn parse_address(text: &str) -> Result<Address, Failure> {
    Address::parse(text.trim()).map_err(|e| Failure::usage(format!("{text:?} is not a valid address: {e}")))
}

async fn get(
    env: &Environment,
    address: &str,
    reveal: bool,
    json: bool,
    out: &mut Out,
) -> Result<(), Failure> {
    let address = parse_address(address)?;
    let custodian = env.connect().await?;
    let (record, key) = if reveal {
        let requester = Requester::operator("cli-reveal", who());
        let (record, key) = custodian.reveal(&address, &requester).await?;
        (record, Some(key))
    } else {
        let record = custodian.get(&address).await?;
        record.verify_public_key()?;
        (record, None)
    };
    let view = RecordView::from(&record);
    if json {
        #[derive(Serialize)]
        struct Revealed<'a> {
            #[serde(flatten)]
            record: &'a RecordView,
            #[serde(skip_serializing_if = "Option::is_none")]
            private_key: Option<&'a str>,
        }
        let secret = key.as_ref().map(|k| k.reveal_text());
        out.json(&Revealed { record: &view, private_key: secret.as_ref().map(|s| s.as_str()) })?;
    } else {
        for (name, value) in view.details() {
            out.line(&format!("{name:<15} {value}"))?;
        }
        if let Some(key) = &key {
            out.line(&format!("{:<15} {}", "private_key", key.reveal_text().as_str()))?;
        }
    }
    Ok(())
}

async fn list(
    env: &Environment,
    limit: Option<u64>,
    after: Option<String>,
    json: bool,
    out: &mut Out,
) -> Result<(), Failure> {
    let mut cursor = after.as_deref().map(parse_address).transpose()?.map(|a| Cursor(a.to_storage()));
    let custodian: Custodian = env.connect().await?;
    let mut shown = 0u64;
    let mut malformed = 0u64;
    loop {
        let remaining = limit.map_or(LIST_PAGE as u64, |l| (l - shown).min(LIST_PAGE as u64));
        let page = custodian.page(cursor.as_ref(), remaining as usize).await?;
        for item in &page.items {
            match AccountRecord::from_item(item) {
                Ok(record) => {
                    let view = RecordView::from(&record);
                    if json { out.json(&view)? } else { out.line(&view.row())? }
                }
                Err(e) => {
                    malformed += 1;
                    eprintln!("warning: {e}");
                }
            }
            shown += 1;
        }
        cursor = page.next;
        let Some(next) = &cursor else { break };
        if limit.is_some_and(|l| shown >= l) {
            eprintln!("more accounts follow; continue with: rossignol list --after {}", next.0);
            break;
        }
    }
    if malformed > 0 {
        return Err(Failure::failed(format!(
            "{malformed} malformed record(s) were skipped (see the warnings above); run an audit"
        )));
    }
    Ok(())
}

async fn init(env: &Environment, json: bool, out: &mut Out) -> Result<(), Failure> {
    let custodian = env.connect().await?;
    let outcome = custodian.init().await?;
    let report = &outcome.accounts.report;
    if json {
        out.json(&outcome)?;
    } else {
        out.line(if outcome.accounts.created {
            "created the table"
        } else {
            "the table exists; checked it"
        })?;
        for line in report_lines(report) {
            out.line(&line)?;
        }
        out.line(&format!(
            "access trail: {} ({})",
            outcome.access_trail,
            if outcome.access_trail_created { "created" } else { "exists" }
        ))?;
    }
    if report.is_healthy() {
        Ok(())
    } else {
        Err(Failure::failed(format!("table {} has settings to fix (marked FIX above)", report.table)))
    }
}

async fn audit(
    env: &Environment,
    deep: bool,
    segments: u32,
    json: bool,
    out: &mut Out,
) -> Result<(), Failure> {
    use std::io::IsTerminal as _;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    use rossignol_core::audit::{self, AuditOptions, Progress};

    let custodian = env.connect().await?;
    let (tx, mut rx) = tokio::sync::watch::channel(Progress::default());
    // A live progress line, only for a person watching.
    let show = std::io::stderr().is_terminal();
    let progress = tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            if show {
                eprint!("\r\x1b[2K{}", crate::output::progress_line(&rx.borrow()));
            }
        }
        if show {
            eprint!("\r\x1b[2K");
        }
    });
    let requester = Requester::operator("cli-audit", who());
    let options = AuditOptions { deep, segments };
    let report = audit::run(&custodian, options, &requester, tx, Arc::new(AtomicBool::new(false))).await;
    let _ = progress.await;
    let report = report?;
    if json {
        out.json(&report)?;
    } else {
        for line in crate::output::audit_lines(&report) {
            out.line(&line)?;
        }
    }
    if report.findings.is_empty() {
        Ok(())
    } else {
        Err(Failure::failed(format!(
            "the audit found {} problem(s) in table {}; see the findings above",
            report.findings.len(),
            custodian.table()
        )))
    }
}
