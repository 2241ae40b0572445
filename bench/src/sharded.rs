//! Sharded custody against a single store, side by side in one run: the
//! issue's three providers (DynamoDB Local, PostgreSQL and an embedded
//! file, a local seal each, 2-of-3) against one DynamoDB Local table with
//! a local seal, in alternating rounds so that drift hurts both alike.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt as _, TryStreamExt as _};
use rossignol_core::audit::{self, AuditOptions};
use rossignol_core::custody::{Provider, ShardedCustody};
use rossignol_core::seal::LocalSealer;
use rossignol_core::store::dynamo::DynamoTrail;
use rossignol_core::store::embedded::EmbeddedStore;
use rossignol_core::store::postgres::PostgresStore;
use rossignol_core::store::{AccountStore, parallel_scan};
use rossignol_core::{Address, Custodian, Requester};
use tokio::sync::watch;

use crate::measure::{ROUNDS, rate};
use crate::report::{Figure, Row, Target};
use crate::setup;

/// The sharded create and open rows, each against the single store.
pub async fn rows(client: &aws_sdk_dynamodb::Client, endpoint: &str, ops: u64) -> anyhow::Result<Vec<Row>> {
    let single_table = setup::table(client, endpoint, &setup::unique("bench_single")).await?;
    let single = setup::custodian(client, single_table, &rossignol_core::secret::random_bytes());
    let providers =
        vec![dynamodb_provider(client, endpoint).await?, postgres_provider().await?, embedded_provider()?];
    let sharded = Custodian::with_custody(Arc::new(ShardedCustody::new("bench_vault", 2, providers)?));

    let mut created: (Vec<Address>, Vec<Address>) = (Vec::new(), Vec::new());
    let (ours, theirs) = alternate(
        ops,
        || async { sharded.create("bench").await.map(|r| r.address) },
        || async { single.create("bench").await.map(|r| r.address) },
        &mut created,
    )
    .await?;
    let mut rows = vec![Row {
        operation: "sharded create (2-of-3), vs single-store create".into(),
        ours: Figure::Rate(ours),
        raw: Some(Figure::Rate(theirs)),
        target: Target::RateRatioAtLeast(0.5),
        note: "split + 3 seals + 3 conditional writes at once (DynamoDB Local, PostgreSQL, embedded) vs 1 seal + 1 PutItem".into(),
    }];
    let (sharded_addresses, single_addresses) = created;
    let (sharded, single) = (&sharded, &single);
    let mut next = (0usize, 0usize);
    let mut opened = (Vec::new(), Vec::new());
    let (ours, theirs) = alternate(
        ops,
        || {
            let address = sharded_addresses[next.0 % sharded_addresses.len()];
            next.0 += 1;
            async move { sharded.open_unrecorded(&address).await.map(|_| address) }
        },
        || {
            let address = single_addresses[next.1 % single_addresses.len()];
            next.1 += 1;
            async move { single.open_unrecorded(&address).await.map(|_| address) }
        },
        &mut opened,
    )
    .await?;
    rows.push(Row {
        operation: "sharded get + open (2-of-3), vs single-store get + open".into(),
        ours: Figure::Rate(ours),
        raw: Some(Figure::Rate(theirs)),
        target: Target::RateRatioAtLeast(0.7),
        note: "3 reads at once (DynamoDB Local, PostgreSQL, embedded) + 3 opens + 3 verifications + combine vs 1 GetItem + 1 open".into(),
    });
    Ok(rows)
}

/// Accounts being created at once while seeding the audited environment.
const SEED_CONCURRENCY: usize = 32;

/// The audit of `records` sharded accounts: each provider's rate, against
/// a counting scan of the same table in the same run, and the whole run's.
pub async fn audit_rows(
    client: &aws_sdk_dynamodb::Client,
    endpoint: &str,
    records: u64,
) -> anyhow::Result<Vec<Row>> {
    let providers =
        vec![dynamodb_provider(client, endpoint).await?, postgres_provider().await?, embedded_provider()?];
    let sharded =
        Custodian::with_custody(Arc::new(ShardedCustody::new("bench_audit", 2, providers.clone())?));
    eprintln!("bench: seeding {records} sharded accounts for the audits");
    let seeded = futures::stream::iter(0..records)
        .map(|_| sharded.create("bench"))
        .buffer_unordered(SEED_CONCURRENCY)
        .try_fold(0u64, |n, _| async move { Ok(n + 1) })
        .await?;
    anyhow::ensure!(seeded == records, "seeded {seeded} of {records} accounts");

    let mut rows = Vec::new();
    for deep in [false, true] {
        // The counting scans before and after the audit, averaged: caches
        // warm up, and drift hurts both alike.
        let before = count_scans(client, &providers, records).await?;
        let (progress, _) = watch::channel(audit::Progress::default());
        let options = AuditOptions { deep, ..AuditOptions::default() };
        let requester = Requester::operator("bench-audit", "bench");
        let report = audit::run(&sharded, options, &requester, progress, Arc::default()).await?;
        let after = count_scans(client, &providers, records).await?;
        let raw: Vec<Duration> = before.iter().zip(&after).map(|(b, a)| (*b + *a) / 2).collect();
        let raw_total: Duration = raw.iter().sum();
        anyhow::ensure!(report.findings.is_empty(), "the audit found {:?}", report.findings.first());
        let kind = if deep { "deep audit" } else { "audit" };
        for ((part, provider), raw) in report.providers.iter().zip(&providers).zip(raw) {
            rows.push(Row {
                operation: format!("sharded {kind}, {records} accounts: provider {}", part.provider),
                ours: Figure::Rate(rate(part.checked, part.elapsed)),
                raw: Some(Figure::Rate(rate(records, raw))),
                target: Target::Report,
                note: format!(
                    "{} of {}'s shares{} vs {}",
                    if deep { "every check, and opening and verifying each" } else { "every check" },
                    provider.name,
                    if deep { "" } else { " (n shares, one epoch and one set of commitments per address)" },
                    raw_baseline(&provider.name)
                ),
            });
        }
        rows.push(Row {
            operation: format!("sharded {kind}, {records} accounts: whole run"),
            ours: Figure::Rate(rate(records, report.elapsed)),
            raw: Some(Figure::Rate(rate(records, raw_total))),
            target: Target::Report,
            note: "the three providers one after another, then the cross-check of every address, vs the three counting scans one after another (each scan: the mean of one before and one after the audit)".into(),
        });
    }
    Ok(rows)
}

/// Each provider's counting scan, in turn; each must see `records`.
async fn count_scans(
    client: &aws_sdk_dynamodb::Client,
    providers: &[Provider],
    records: u64,
) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(providers.len());
    for provider in providers {
        let (count, elapsed) = count_scan(client, provider).await?;
        anyhow::ensure!(count == records, "provider {} holds {count} records", provider.name);
        times.push(elapsed);
    }
    Ok(times)
}

/// A counting scan of one provider's table, 8 segments: the SDK's own for
/// DynamoDB, the store's for the others.
async fn count_scan(
    client: &aws_sdk_dynamodb::Client,
    provider: &Provider,
) -> anyhow::Result<(u64, Duration)> {
    if provider.name == "aws" {
        return crate::measure::raw_scan(client, provider.store.table(), 8).await;
    }
    let start = Instant::now();
    let mut pages = parallel_scan(Arc::clone(&provider.store), 8, 1000);
    let mut count = 0u64;
    while let Some(page) = pages.recv().await {
        count += page?.len() as u64;
    }
    Ok((count, start.elapsed()))
}

fn raw_baseline(provider: &str) -> &'static str {
    match provider {
        "aws" => "a counting parallel Scan of its table (8 segments)",
        _ => "the store's own parallel scan of its table, counted (8 segments)",
    }
}

fn sealer() -> Arc<LocalSealer> {
    Arc::new(LocalSealer::from_key(&rossignol_core::secret::random_bytes()))
}

/// "aws": a DynamoDB Local table of its own.
async fn dynamodb_provider(client: &aws_sdk_dynamodb::Client, endpoint: &str) -> anyhow::Result<Provider> {
    let table = setup::unique("bench_shard_aws");
    let store = setup::table(client, endpoint, &table).await?;
    Ok(Provider {
        name: "aws".into(),
        store: Arc::new(store),
        sealer: sealer(),
        trail: Arc::new(DynamoTrail::new(client.clone(), DynamoTrail::default_table(&table))),
    })
}

/// "pg": PostgreSQL, as `scripts/test` starts it
/// (`ROSSIGNOL_TEST_POSTGRES_URL`).
async fn postgres_provider() -> anyhow::Result<Provider> {
    let url = std::env::var("ROSSIGNOL_TEST_POSTGRES_URL").map_err(|_| {
        anyhow::anyhow!("ROSSIGNOL_TEST_POSTGRES_URL is unset; run the bench through scripts/bench")
    })?;
    let store = Arc::new(PostgresStore::connect(&url, &setup::unique("bench_shard_pg"))?);
    AccountStore::init(store.as_ref()).await?;
    Ok(Provider { name: "pg".into(), store: store.clone(), sealer: sealer(), trail: store })
}

/// "offline": an embedded file.
fn embedded_provider() -> anyhow::Result<Provider> {
    let path = std::env::temp_dir().join(format!("{}.redb", setup::unique("bench_shard_offline")));
    let store = Arc::new(EmbeddedStore::open(&path, "bench_vault")?);
    Ok(Provider { name: "offline".into(), store: store.clone(), sealer: sealer(), trail: store })
}

/// `n` sequential calls of each side, in alternating rounds; the rates of
/// each side, and what each call gave.
async fn alternate<A, B, FA, FB>(
    n: u64,
    mut ours: A,
    mut theirs: B,
    results: &mut (Vec<Address>, Vec<Address>),
) -> anyhow::Result<(f64, f64)>
where
    A: FnMut() -> FA,
    B: FnMut() -> FB,
    FA: Future<Output = rossignol_core::Result<Address>>,
    FB: Future<Output = rossignol_core::Result<Address>>,
{
    let (mut ours_time, mut theirs_time) = (Duration::ZERO, Duration::ZERO);
    let round = (n / ROUNDS).max(1);
    for index in 0..ROUNDS {
        for side in [index % 2, 1 - index % 2] {
            let start = Instant::now();
            for _ in 0..round {
                if side == 0 {
                    results.0.push(ours().await?);
                } else {
                    results.1.push(theirs().await?);
                }
            }
            if side == 0 {
                ours_time += start.elapsed();
            } else {
                theirs_time += start.elapsed();
            }
        }
    }
    Ok((rate(round * ROUNDS, ours_time), rate(round * ROUNDS, theirs_time)))
}
