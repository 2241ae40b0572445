//! Sharded custody against a single store, side by side in one run: the
//! issue's three providers (DynamoDB Local, PostgreSQL and an embedded
//! file, a local seal each, 2-of-3) against one DynamoDB Local table with
//! a local seal, in alternating rounds so that drift hurts both alike.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rossignol_core::custody::{Provider, ShardedCustody};
use rossignol_core::seal::LocalSealer;
use rossignol_core::store::AccountStore;
use rossignol_core::store::dynamo::DynamoTrail;
use rossignol_core::store::embedded::EmbeddedStore;
use rossignol_core::store::postgres::PostgresStore;
use rossignol_core::{Address, Custodian};

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
