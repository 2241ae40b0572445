//! The measurements: each runs Rossignol and its raw baseline in the same
//! run, interleaved in rounds so that a noisy neighbour hurts both alike.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::StreamExt as _;
use rossignol_core::{Address, Custodian};

use crate::setup::raw_item;

/// Rounds each side is split into.
pub const ROUNDS: u64 = 5;

pub fn rate(n: u64, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// Creates `n` accounts and writes `n` raw items, `concurrency` at a time,
/// in alternating rounds. Returns (ours, raw) rates and the new addresses.
pub async fn create(
    custodian: &Custodian,
    client: &Client,
    raw_table: &str,
    n: u64,
    concurrency: usize,
) -> anyhow::Result<(f64, f64, Vec<Address>)> {
    let (mut ours, mut raw) = (Duration::ZERO, Duration::ZERO);
    let mut addresses = Vec::new();
    let round = n / ROUNDS;
    for index in 0..ROUNDS {
        // Alternate which side goes first, so that neither always follows
        // the other's writes.
        for side in [index % 2, 1 - index % 2] {
            let start = Instant::now();
            if side == 0 {
                let created: Vec<_> = futures::stream::iter(0..round)
                    .map(|_| custodian.create("bench"))
                    .buffer_unordered(concurrency)
                    .collect()
                    .await;
                ours += start.elapsed();
                for record in created {
                    addresses.push(record?.address);
                }
            } else {
                let written: Vec<_> = futures::stream::iter(0..round)
                    .map(|_| client.put_item().table_name(raw_table).set_item(Some(raw_item())).send())
                    .buffer_unordered(concurrency)
                    .collect()
                    .await;
                raw += start.elapsed();
                for result in written {
                    result?;
                }
            }
        }
    }
    Ok((rate(round * ROUNDS, ours), rate(round * ROUNDS, raw), addresses))
}

/// Reads and opens each account, against raw GetItem of the same keys in
/// the raw table (which holds the same addresses' shapes).
pub async fn get_open(
    custodian: &Custodian,
    client: &Client,
    raw_table: &str,
    addresses: &[Address],
) -> anyhow::Result<(f64, f64)> {
    // The raw table's own keys, so that its GetItems find items too.
    let raw_keys: Vec<String> = client
        .scan()
        .table_name(raw_table)
        .limit(i32::try_from(addresses.len()).unwrap_or(i32::MAX))
        .send()
        .await?
        .items
        .unwrap_or_default()
        .into_iter()
        .filter_map(|mut item| item.remove("address").and_then(|a| a.as_s().ok().cloned()))
        .collect();
    let n = addresses.len().min(raw_keys.len());
    anyhow::ensure!(n > 0, "nothing to read");
    let (mut ours, mut raw) = (Duration::ZERO, Duration::ZERO);
    let per_round = n.div_ceil(ROUNDS as usize);
    for (mine, theirs) in addresses[..n].chunks(per_round).zip(raw_keys[..n].chunks(per_round)) {
        let start = Instant::now();
        for address in mine {
            custodian.open_unrecorded(address).await?;
        }
        ours += start.elapsed();
        let start = Instant::now();
        for key in theirs {
            let item = client
                .get_item()
                .table_name(raw_table)
                .key("address", AttributeValue::S(key.clone()))
                .consistent_read(true)
                .send()
                .await?;
            anyhow::ensure!(item.item.is_some(), "raw item {key} vanished");
        }
        raw += start.elapsed();
    }
    Ok((rate(n as u64, ours), rate(n as u64, raw)))
}

/// Writes, reads and scans a scratch table until DynamoDB Local's JVM has
/// compiled its hot paths; the figures are thrown away.
pub async fn warm_up(client: &Client, endpoint: &str) -> anyhow::Result<()> {
    let table = crate::setup::unique("bench_warm_up");
    crate::setup::table(client, endpoint, &table).await?;
    raw_bulk(client, &table, 4000).await?;
    // Sequential writes, plain and conditional, the first rows' shapes.
    for i in 0..3000 {
        let put = client.put_item().table_name(&table).set_item(Some(raw_item()));
        let put = if i % 2 == 0 { put } else { put.condition_expression("attribute_not_exists(address)") };
        put.send().await?;
    }
    raw_scan(client, &table, 8).await?;
    let _ = client.delete_table().table_name(&table).send().await;
    Ok(())
}

/// Raw conditional PutItem of `n` items, 16 in flight: the fastest write of
/// new items that still never overwrites.
pub async fn raw_bulk(client: &Client, table: &str, n: u64) -> anyhow::Result<f64> {
    let start = Instant::now();
    let written: Vec<_> = futures::stream::iter(0..n)
        .map(|_| {
            client
                .put_item()
                .table_name(table)
                .set_item(Some(raw_item()))
                .condition_expression("attribute_not_exists(address)")
                .send()
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let elapsed = start.elapsed();
    for result in written {
        result?;
    }
    Ok(rate(n, elapsed))
}

/// A parallel scan that only counts: the raw audit baseline.
pub async fn raw_scan(client: &Client, table: &str, segments: i32) -> anyhow::Result<(u64, Duration)> {
    let start = Instant::now();
    let counts = futures::future::try_join_all((0..segments).map(|segment| async move {
        let mut count = 0u64;
        let mut start_key = None;
        loop {
            let output = client
                .scan()
                .table_name(table)
                .segment(segment)
                .total_segments(segments)
                .limit(1000)
                .set_exclusive_start_key(start_key)
                .send()
                .await?;
            count += output.items.map_or(0, |items| items.len() as u64);
            start_key = output.last_evaluated_key;
            if start_key.is_none() {
                return anyhow::Ok(count);
            }
        }
    }))
    .await?;
    Ok((counts.iter().sum(), start.elapsed()))
}

/// Runs a process to completion; its wall time.
pub fn timed(command: &mut Command) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let output =
        command.stdout(Stdio::null()).stderr(Stdio::piped()).output().context("starting a process")?;
    let elapsed = start.elapsed();
    // `rossignol audit` exits 1 when it finds problems; the bench seeds none.
    anyhow::ensure!(
        output.status.success(),
        "{:?} failed: {}",
        command,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(elapsed)
}

/// The median of `runs` timings of `command`.
pub fn median_of(runs: usize, mut command: impl FnMut() -> Command) -> anyhow::Result<Duration> {
    let mut times = (0..runs).map(|_| timed(&mut command())).collect::<anyhow::Result<Vec<_>>>()?;
    times.sort();
    Ok(times[times.len() / 2])
}

/// Diagnostic: the parts of a sequential create, interleaved in rounds,
/// printed as rates.
pub async fn create_parts(client: &Client, endpoint: &str, n: u64) -> anyhow::Result<()> {
    use rossignol_core::store::AccountStore as _;

    let table = crate::setup::unique("bench_parts");
    let store = crate::setup::table(client, endpoint, &table).await?;
    let custodian = crate::setup::custodian(client, store.clone(), &[7u8; 32]);
    let mut times = [Duration::ZERO; 4];
    let round = n / ROUNDS;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..round {
            client.put_item().table_name(&table).set_item(Some(raw_item())).send().await?;
        }
        times[0] += start.elapsed();
        let start = Instant::now();
        for _ in 0..round {
            client
                .put_item()
                .table_name(&table)
                .set_item(Some(raw_item()))
                .condition_expression("attribute_not_exists(#address)")
                .expression_attribute_names("#address", "address")
                .send()
                .await?;
        }
        times[1] += start.elapsed();
        let items: Vec<_> = (0..round)
            .map(|_| {
                let mut item = rossignol_core::store::Item::default();
                for (name, value) in raw_item() {
                    let attr = match value {
                        AttributeValue::S(s) => rossignol_core::store::Attr::S(s),
                        AttributeValue::N(n) => rossignol_core::store::Attr::N(n),
                        AttributeValue::B(b) => rossignol_core::store::Attr::B(b.into_inner()),
                        _ => continue,
                    };
                    item.insert(&name, attr);
                }
                item
            })
            .collect();
        let start = Instant::now();
        for item in &items {
            store.create(item).await?;
        }
        times[2] += start.elapsed();
        let start = Instant::now();
        for _ in 0..round {
            custodian.create("bench").await?;
        }
        times[3] += start.elapsed();
    }
    for (label, time) in
        ["raw PutItem", "raw conditional PutItem", "DynamoStore::create", "Custodian::create"]
            .iter()
            .zip(times)
    {
        println!("{label:<26} {:>7.0}/s", rate(round * ROUNDS, time));
    }
    let _ = client.delete_table().table_name(&table).send().await;
    Ok(())
}

/// Where a getter's time goes against DynamoDB Local and moto's KMS, each
/// part on its own and then together, sequentially: a consistent GetItem,
/// a KMS Decrypt, an access-trail-sized PutItem, the raw pair (GetItem
/// then Decrypt), and the getter's pattern (GetItem, then the PutItem and
/// the Decrypt at the same time).
pub async fn get_parts(
    client: &Client,
    kms: &aws_sdk_kms::Client,
    endpoint: &str,
    n: u64,
) -> anyhow::Result<()> {
    use aws_sdk_kms::primitives::Blob;

    let table = crate::setup::unique("bench_get_parts");
    crate::setup::table(client, endpoint, &table).await?;
    let key_id = kms.create_key().send().await?.key_metadata.context("CreateKey without metadata")?.key_id;
    let mut item = raw_item();
    let address = item.get("address").and_then(|a| a.as_s().ok()).cloned().context("no address")?;
    let sealed = kms
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(rossignol_core::secret::random_bytes::<32>().to_vec()))
        .encryption_context("address", &address)
        .send()
        .await?
        .ciphertext_blob
        .context("Encrypt without a ciphertext")?;
    item.insert("sealed_private_key".into(), AttributeValue::B(sealed.clone()));
    client.put_item().table_name(&table).set_item(Some(item)).send().await?;

    let get = || {
        client
            .get_item()
            .table_name(&table)
            .key("address", AttributeValue::S(address.clone()))
            .consistent_read(true)
            .send()
    };
    let decrypt = || {
        kms.decrypt()
            .key_id(&key_id)
            .ciphertext_blob(sealed.clone())
            .encryption_context("address", &address)
            .send()
    };
    // An access trail entry's size, under a fresh key each time.
    let trail = || client.put_item().table_name(&table).set_item(Some(raw_item())).send();
    let mut times = [Duration::ZERO; 5];
    let round = (n / ROUNDS).max(1);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..round {
            get().await?;
        }
        times[0] += start.elapsed();
        let start = Instant::now();
        for _ in 0..round {
            decrypt().await?;
        }
        times[1] += start.elapsed();
        let start = Instant::now();
        for _ in 0..round {
            trail().await?;
        }
        times[2] += start.elapsed();
        let start = Instant::now();
        for _ in 0..round {
            get().await?;
            decrypt().await?;
        }
        times[3] += start.elapsed();
        let start = Instant::now();
        for _ in 0..round {
            get().await?;
            let (put, open) = futures::future::join(trail(), decrypt()).await;
            put?;
            open?;
        }
        times[4] += start.elapsed();
    }
    let labels =
        ["GetItem", "KMS Decrypt", "trail PutItem", "GetItem, Decrypt", "GetItem, PutItem ‖ Decrypt"];
    for (label, time) in labels.iter().zip(times) {
        let per_call = time.as_secs_f64() * 1000.0 / (round * ROUNDS) as f64;
        println!("{label:<28} {:>7.0}/s  {per_call:.2} ms", rate(round * ROUNDS, time));
    }
    let _ = client.delete_table().table_name(&table).send().await;
    Ok(())
}
