//! `rossignol-bench`: Rossignol against the raw store, side by side, in one
//! run, against DynamoDB Local. Prints a Markdown table of rates or times,
//! the raw baseline, the ratio and the target. `scripts/bench` starts the
//! servers and runs it.

mod chaos;
mod cold_start;
mod console_rss;
mod emulator;
mod invocations;
mod measure;
mod report;
mod runtime_api;
mod setup;
mod sharded;
mod typed_data;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use report::{Figure, Row, Target};

#[derive(Debug, Parser)]
#[command(about = "Measures Rossignol against the raw store, side by side")]
struct Args {
    /// DynamoDB Local's endpoint
    #[arg(long, env = "ROSSIGNOL_BENCH_DYNAMODB_ENDPOINT")]
    endpoint_url: Option<String>,
    /// Operations for the create and get measurements
    #[arg(long, default_value_t = 1000)]
    ops: u64,
    /// Accounts for the bulk create
    #[arg(long, default_value_t = 10_000)]
    bulk: u64,
    /// Records in the audited table
    #[arg(long, default_value_t = 100_000)]
    audit_records: u64,
    /// Larger tables the console browses to the end, memory measured
    /// (more records are added to the audited table for each)
    #[arg(long, value_delimiter = ',', default_values_t = [300_000u64, 1_000_000])]
    console_records: Vec<u64>,
    /// moto's endpoint, for KMS (the Lambda setter and getter rows); without
    /// one those rows are skipped
    #[arg(long, env = "ROSSIGNOL_TEST_KMS_ENDPOINT")]
    kms_endpoint_url: Option<String>,
    /// Where the `rossignol` and `rossignol-lambda` binaries are [default:
    /// this binary's directory, target/release under scripts/bench]
    #[arg(long, value_name = "DIR")]
    binaries: Option<PathBuf>,
    /// Only the Lambda setter, getter and signer rows (a smoke test of them)
    #[arg(long, hide = true)]
    only_lambda: bool,
    /// Only the sharded custody rows
    #[arg(long, hide = true)]
    only_sharded: bool,
    #[command(subcommand)]
    tool: Option<Tool>,
}

#[derive(Debug, Subcommand)]
enum Tool {
    /// A raw Scan of one page, as a whole process (the time-to-first-page baseline)
    #[command(hide = true)]
    RawScan {
        #[arg(long)]
        table: String,
        #[arg(long)]
        limit: i32,
    },
    /// Where a sequential create's time goes: plain and conditional raw
    /// PutItem, the store's create of a ready item, and the whole create
    CreateParts {
        #[arg(long, default_value_t = 500)]
        ops: u64,
    },
    /// Where a getter's time goes: GetItem, Decrypt and a trail PutItem on
    /// their own and together (needs --kms-endpoint-url)
    GetParts {
        #[arg(long, default_value_t = 500)]
        ops: u64,
    },
    /// Faults injected into real servers and processes (scripts/chaos):
    /// each case printed as done / expected / seen; exit 1 if any is not
    /// as expected
    Chaos(chaos::ChaosArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(Tool::Chaos(chaos)) = &args.tool {
        return chaos::run(chaos).await;
    }
    let Some(endpoint) = args.endpoint_url.as_deref() else {
        anyhow::bail!(
            "--endpoint-url (or ROSSIGNOL_BENCH_DYNAMODB_ENDPOINT) is required: DynamoDB Local's endpoint"
        );
    };
    let client = setup::client(endpoint).await;
    if let Some(Tool::RawScan { table, limit }) = &args.tool {
        let page = client.scan().table_name(table).limit(*limit).send().await?;
        println!("{}", page.items.map_or(0, |items| items.len()));
        return Ok(());
    }
    if let Some(Tool::CreateParts { ops }) = &args.tool {
        return measure::create_parts(&client, endpoint, *ops).await;
    }
    if let Some(Tool::GetParts { ops }) = &args.tool {
        let kms_endpoint = args.kms_endpoint_url.as_deref().context("get-parts needs --kms-endpoint-url")?;
        let kms = setup::kms_client(kms_endpoint).await;
        return measure::get_parts(&client, &kms, endpoint, *ops).await;
    }
    let rows = run(&args, &client, endpoint).await?;
    println!("{}", report::table(&rows));
    for row in &rows {
        println!("- {}: {}", row.operation, row.note);
    }
    Ok(())
}

async fn run(args: &Args, client: &aws_sdk_dynamodb::Client, endpoint: &str) -> anyhow::Result<Vec<Row>> {
    let key: [u8; 32] = rossignol_core::secret::random_bytes();
    let dir = std::env::temp_dir().join(setup::unique("rossignol-bench"));
    std::fs::create_dir_all(&dir)?;
    let lambda = setup::binary(args.binaries.as_deref(), "rossignol-lambda")?;
    let raw_lambda = setup::binary(args.binaries.as_deref(), "rossignol-raw-lambda")?;
    if args.only_lambda {
        let rows = lambda_rows(args, client, endpoint, (&lambda, &raw_lambda), &dir).await;
        let _ = std::fs::remove_dir_all(&dir);
        return rows;
    }
    if args.only_sharded {
        measure::warm_up(client, endpoint).await?;
        let mut rows = sharded::rows(client, endpoint, args.ops).await?;
        rows.extend(sharded::audit_rows(client, endpoint, args.audit_records).await?);
        return Ok(rows);
    }
    let rossignol = setup::binary(args.binaries.as_deref(), "rossignol")?;
    let mut rows = Vec::new();
    let note = |text: &str| text.to_owned();

    // A freshly started DynamoDB Local runs cold (the JVM compiles as it
    // goes): warm it up so the first rows do not pay for it.
    eprintln!("bench: warming up DynamoDB Local");
    measure::warm_up(client, endpoint).await?;

    eprintln!("bench: create and get ({} operations each)", args.ops);
    let ours_table = setup::unique("bench_ours");
    let raw_table = setup::unique("bench_raw");
    let store = setup::table(client, endpoint, &ours_table).await?;
    setup::table(client, endpoint, &raw_table).await?;
    let custodian = setup::custodian(client, store, &key);
    let (ours, raw, addresses) = measure::create(&custodian, client, &raw_table, args.ops, 1).await?;
    rows.push(Row {
        operation: "create, sequential".into(),
        ours: Figure::Rate(ours),
        raw: Some(Figure::Rate(raw)),
        target: Target::RateRatioAtLeast(0.8),
        note: note("keygen + local seal + conditional PutItem vs plain PutItem of the same size; bound by the store's round trip"),
    });
    let (ours, raw, _) = measure::create(&custodian, client, &raw_table, args.ops * 2, 16).await?;
    rows.push(Row {
        operation: "create, 16 concurrent".into(),
        ours: Figure::Rate(ours),
        raw: Some(Figure::Rate(raw)),
        target: Target::RateRatioAtLeast(0.8),
        note: note("same, 16 in flight; bound by DynamoDB Local's write throughput"),
    });
    let (ours, raw) = measure::get_open(&custodian, client, &raw_table, &addresses).await?;
    rows.push(Row {
        operation: "get + open".into(),
        ours: Figure::Rate(ours),
        raw: Some(Figure::Rate(raw)),
        target: Target::RateRatioAtLeast(0.8),
        note: note("consistent GetItem + AES-GCM open + address check vs consistent GetItem"),
    });

    eprintln!("bench: sharded custody against a single store ({} operations each)", args.ops);
    rows.extend(sharded::rows(client, endpoint, args.ops).await?);
    rows.extend(sharded::audit_rows(client, endpoint, args.audit_records).await?);

    eprintln!("bench: bulk create ({} accounts)", args.bulk);
    let bulk_table = setup::unique("bench_bulk");
    setup::table(client, endpoint, &bulk_table).await?;
    let bulk_raw = setup::unique("bench_bulk_raw");
    setup::table(client, endpoint, &bulk_raw).await?;
    let config = setup::config(&dir, endpoint, &bulk_table, &key)?;
    // The raw writes before and after ours, averaged: drift hurts both alike.
    let raw_before = measure::raw_bulk(client, &bulk_raw, args.bulk).await?;
    let elapsed = measure::timed(Command::new(&rossignol).arg("--config").arg(&config).args([
        "create",
        "--count",
        &args.bulk.to_string(),
    ]))?;
    let raw_after = measure::raw_bulk(client, &bulk_raw, args.bulk).await?;
    let raw = (raw_before + raw_after) / 2.0;
    rows.push(Row {
        operation: format!("bulk create --count {}", args.bulk),
        ours: Figure::Rate(args.bulk as f64 / elapsed.as_secs_f64()),
        raw: Some(Figure::Rate(raw)),
        target: Target::RateRatioAtLeast(0.8),
        note: note("the whole `rossignol create` process vs conditional PutItem, 16 in flight"),
    });

    eprintln!("bench: seeding {} records for the audits", args.audit_records);
    let audit_table = setup::unique("bench_audit");
    let audit_store = setup::table(client, endpoint, &audit_table).await?;
    let seeding = Instant::now();
    setup::seed(client, &audit_store, &key, args.audit_records).await?;
    eprintln!("bench: seeded in {:.1} s", seeding.elapsed().as_secs_f64());
    let config = setup::config(&dir, endpoint, &audit_table, &key)?;
    let audit = |deep: bool| {
        let mut command = Command::new(&rossignol);
        command.arg("--config").arg(&config).args(["audit", "--json"]);
        if deep {
            command.arg("--deep");
        }
        command
    };
    // The raw scan before and after ours, averaged.
    let (count, raw_before) = measure::raw_scan(client, &audit_table, 8).await?;
    let ours = measure::timed(&mut audit(false))?;
    let (_, raw_after) = measure::raw_scan(client, &audit_table, 8).await?;
    let raw = (raw_before + raw_after) / 2;
    anyhow::ensure!(count == args.audit_records, "the raw scan saw {count} records");
    rows.push(Row {
        operation: format!("audit, {} records", args.audit_records),
        ours: Figure::Rate(count as f64 / ours.as_secs_f64()),
        raw: Some(Figure::Rate(count as f64 / raw.as_secs_f64())),
        target: Target::RateRatioAtLeast(0.8),
        note: note("`rossignol audit` (parallel scan, 8 segments, every check) vs a counting parallel scan"),
    });
    let deep = measure::timed(&mut audit(true))?;
    rows.push(Row {
        operation: format!("deep audit, {} records", args.audit_records),
        ours: Figure::Rate(count as f64 / deep.as_secs_f64()),
        raw: None,
        target: Target::RateAtLeast(25_000.0),
        note: note(
            "opens every key (AES-GCM) and derives its address (secp256k1 point multiplication): CPU-bound",
        ),
    });

    eprintln!("bench: time to first page");
    let ours = measure::median_of(5, || {
        let mut command = Command::new(&rossignol);
        command.arg("--config").arg(&config).args(["list", "--limit", "50"]);
        command
    })?;
    let raw = measure::median_of(5, || {
        let mut command = Command::new(std::env::current_exe().unwrap_or_default());
        command.args(["--endpoint-url", endpoint, "raw-scan", "--table", &audit_table, "--limit", "50"]);
        command
    })?;
    rows.push(Row {
        operation: "time to first page (list --limit 50)".into(),
        ours: Figure::Time(ours),
        raw: Some(Figure::Time(raw)),
        target: Target::TimeRatioAtMost(1.5),
        note: note("whole processes, median of 5: `rossignol list --limit 50` vs a raw Scan of 50"),
    });

    // The same table, grown: memory must not grow with it.
    let mut records = args.audit_records;
    for size in std::iter::once(args.audit_records).chain(args.console_records.iter().copied()) {
        if size > records {
            eprintln!("bench: adding {} records, to {size}", size - records);
            setup::seed(client, &audit_store, &key, size - records).await?;
            records = size;
        } else if size < records {
            continue;
        }
        eprintln!("bench: the console browsing all {size} records");
        let (time, rss) = console_rss::measure(&rossignol, &config, size)?;
        rows.push(Row {
            operation: format!("console, browse {size} records to the end"),
            ours: Figure::TimeAndMemory(time, rss),
            raw: None,
            target: Target::MemoryAtMost { mib: 64.0 },
            note: note(
                "the real console in tmux: `G` pages to the last account; time to read all, peak RSS (VmHWM)",
            ),
        });
    }

    eprintln!("bench: EIP-712 typed data, the Mail example");
    let (ours, raw) = typed_data::measure(args.ops * 20)?;
    rows.push(Row {
        operation: "EIP-712 typed data signature (Mail example)".into(),
        ours: Figure::Rate(ours),
        raw: Some(Figure::Rate(raw)),
        target: Target::Report,
        note: format!(
            "{:.1} µs per signature from the client's JSON (strict validation with field paths, alloy's hashing, \
             k256), vs {:.1} µs for alloy's own TypedData (serde, hashing) and the same k256 signature",
            1e6 / ours,
            1e6 / raw
        ),
    });

    eprintln!("bench: Lambda cold init");
    let (time, rss) = cold_start::measure(&lambda, 7)?;
    rows.push(Row {
        operation: "Lambda cold init".into(),
        ours: Figure::TimeAndMemory(time, rss),
        raw: None,
        target: Target::AtMost { millis: 30.0, mib: 24.0 },
        note: note("process start to the first poll of the runtime API, median of 7; peak RSS by then"),
    });
    rows.extend(lambda_rows(args, client, endpoint, (&lambda, &raw_lambda), &dir).await?);

    for table in [ours_table, raw_table, bulk_table, bulk_raw, audit_table] {
        for name in [rossignol_core::store::dynamo::DynamoTrail::default_table(&table), table] {
            let _ = client.delete_table().table_name(name).send().await;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rows)
}

/// The Lambda setter, getter and signer over the runtime protocol, against the
/// same store and KMS calls made in process; none without a KMS endpoint.
async fn lambda_rows(
    args: &Args,
    client: &aws_sdk_dynamodb::Client,
    endpoint: &str,
    (lambda, raw_lambda): (&Path, &Path),
    dir: &Path,
) -> anyhow::Result<Vec<Row>> {
    let Some(kms_endpoint) = args.kms_endpoint_url.as_deref().filter(|url| !url.trim().is_empty()) else {
        eprintln!(
            "bench: skipping the Lambda setter, getter and signer rows: no KMS endpoint \
             (--kms-endpoint-url, or ROSSIGNOL_TEST_KMS_ENDPOINT as scripts/test sets it)"
        );
        return Ok(Vec::new());
    };
    eprintln!("bench: Lambda setter, getter and signer over the runtime API ({} invocations each)", args.ops);
    let table = setup::unique("bench_lambda");
    let raw_table = setup::unique("bench_lambda_raw");
    let measured = async {
        setup::table(client, endpoint, &table).await?;
        setup::table(client, endpoint, &raw_table).await?;
        let kms = setup::kms_client(kms_endpoint).await;
        let setup = invocations::Setup {
            lambda,
            raw_lambda,
            dir,
            dynamodb_endpoint: endpoint,
            kms_endpoint,
            table: &table,
            raw_table: &raw_table,
        };
        invocations::measure(&setup, client, &kms, args.ops).await
    }
    .await;
    for table in [table, raw_table] {
        for name in [rossignol_core::store::dynamo::DynamoTrail::default_table(&table), table] {
            let _ = client.delete_table().table_name(name).send().await;
        }
    }
    let measured = measured?;
    let handlers = [
        (
            "setter",
            &measured.setter,
            Target::Report,
            "the release binary handling the recorded REST v1 POST event under a local runtime API, \
             KMS from moto: keygen + KMS Encrypt + conditional PutItem, vs KMS Encrypt + PutItem of the \
             same size in process; sequential, event handed out to response received. Bound by the \
             round trips: one KMS call and one DynamoDB call an invocation on both sides, \
             plus the runtime API's local HTTP exchange",
        ),
        (
            "getter",
            &measured.getter,
            Target::Report,
            "same, the recorded REST v1 GET event for an account the setter made: consistent GetItem, \
             then the access-trail PutItem and KMS Decrypt at the same time, vs consistent GetItem + KMS \
             Decrypt: two round trips on both sides",
        ),
        (
            "signer",
            &measured.signer,
            Target::Report,
            "same, the recorded POST event with an EIP-1559 transaction for an account the setter made: \
             GetItem, then trail PutItem and Decrypt together, then signing (RLP, keccak, RFC 6979), vs \
             GetItem + Decrypt",
        ),
    ];
    let mut rows = Vec::new();
    let (rpc, own) = (measured.signer_rpc.rates().0, measured.signer.rates().0);
    rows.push(Row {
        operation: "Lambda signer, JSON-RPC vs its own JSON".into(),
        ours: Figure::Rate(rpc),
        raw: Some(Figure::Rate(own)),
        target: Target::RateRatioAtLeast(0.9),
        note:
            "the same EIP-1559 transaction for the same account, as `eth_signTransaction` at /rpc/1 and as \
               Rossignol's JSON at /signer, through the same signer function, alternately; the raw \
               transactions must be equal"
                .into(),
    });
    for (handler, samples, target, note) in handlers {
        let (ours, raw) = samples.rates();
        let (ours_pct, mut raw_pct) = samples.percentiles();
        rows.push(Row {
            operation: format!("Lambda {handler}, runtime API"),
            ours: Figure::Rate(ours),
            raw: Some(Figure::Rate(raw)),
            target,
            note: note.into(),
        });
        // Like for like: the same raw pair made by a minimal Lambda on the
        // same runtime and runtime API, which pays the platform's exchange too.
        let like_for_like = match handler {
            "getter" => Some(0.9),
            "signer" => Some(0.85),
            _ => None,
        };
        if let Some(ratio) = like_for_like {
            raw_pct = invocations::percentiles(&samples.raw_lambda);
            rows.push(Row {
                operation: format!("Lambda {handler} vs a minimal Lambda"),
                ours: Figure::Rate(ours),
                raw: Some(Figure::Rate(samples.raw_lambda_rate())),
                target: Target::RateRatioAtLeast(ratio),
                note: "the same invocations against `rossignol-raw-lambda` (bench/src/bin): lambda_http on \
                       the same runtime API, a consistent GetItem and a KMS Decrypt, nothing else"
                    .into(),
            });
        }
        let against =
            if like_for_like.is_some() { "the minimal Lambda's" } else { "the in-process baseline's" };
        rows.push(Row {
            operation: format!("Lambda {handler} latency, p50 / p99"),
            ours: Figure::Percentiles(ours_pct.0, ours_pct.1),
            raw: Some(Figure::Percentiles(raw_pct.0, raw_pct.1)),
            target: Target::Report,
            note: format!("per invocation, {} of each, sequential; beside {against}", samples.ours.len()),
        });
    }
    Ok(rows)
}
