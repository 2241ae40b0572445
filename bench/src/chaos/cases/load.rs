//! Case 5: Lambda scaled out. Each of setter, getter and signer runs as
//! several instances of the release binary polling one runtime API, and a
//! mixed stream of events is driven through them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rossignol_core::Address;
use rossignol_core::store::AccountStore as _;
use rossignol_core::store::dynamo::DynamoStore;

use super::lambda_faults::{call, function, lambda_env, signer_event};
use super::{mark, title};
use crate::chaos::{Case, Ctx};
use crate::emulator::Emulator;
use crate::invocations::{getter_event, setter_event};

/// Accounts the getter and signer events are about, made first.
const SEED: usize = 30;
const HANDLERS: [&str; 3] = ["setter", "getter", "signer"];

#[derive(Debug, Default)]
struct Seen {
    latencies: [Vec<Duration>; 3],
    errors: Vec<String>,
    created: Vec<String>,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

pub async fn scaled_out(ctx: &mut Ctx) -> anyhow::Result<Case> {
    let events = ctx.sizes.load_events;
    let instances = ctx.instances;
    let (table, _) = ctx.table("chaos_load", None).await?;
    let key_id = ctx.kms_key().await?;
    let env = lambda_env(&ctx.ddb.endpoint(), &ctx.moto.endpoint(), &table, &key_id);
    let mut functions = Vec::new();
    for handler in HANDLERS {
        functions.push(tokio::task::block_in_place(|| function(ctx, handler, &env, instances, "load"))?);
    }
    let seen = tokio::task::block_in_place(|| drive(&functions, events, instances))?;
    let tallies: Vec<_> = functions.iter().map(Emulator::tally).collect();
    let running = functions.iter_mut().all(Emulator::all_running);
    let init_errors: usize = functions.iter().map(|f| f.init_errors().len()).sum();
    drop(functions);

    // Every created address stored, and nothing else.
    let store = DynamoStore::new(ctx.client.clone(), &table);
    let mut missing = 0;
    for address in &seen.created {
        let parsed = Address::parse(address)?;
        if store.get(&parsed).await?.is_none() {
            missing += 1;
        }
    }
    let rows = ctx.count(&table).await?;
    let answered: u64 = tallies.iter().map(|t| t.answered).sum();
    let duplicates: u64 = tallies.iter().map(|t| t.duplicates + t.strays).sum();
    let handed = events + SEED as u64;
    let lost = handed.saturating_sub(answered);
    let mut figures = Vec::new();
    for (index, handler) in HANDLERS.iter().enumerate() {
        let mut sorted = seen.latencies[index].clone();
        sorted.sort();
        figures.push(format!(
            "{handler}: {} events, p50 {:.1} ms, p99 {:.1} ms",
            sorted.len(),
            percentile(&sorted, 50.0),
            percentile(&sorted, 99.0)
        ));
    }
    let ok = seen.errors.is_empty()
        && lost == 0
        && duplicates == 0
        && missing == 0
        && rows == seen.created.len() as u64
        && running
        && init_errors == 0;
    Ok(Case {
        number: 5,
        title: title(5),
        done: format!(
            "setter, getter and signer each as {instances} instances of the `rossignol-lambda` binary polling one runtime \
             API (9 processes, KMS from moto, DynamoDB Local); {SEED} setter events first, then {events} mixed \
             events (a third each, getter and signer on the accounts made) from {} concurrent callers",
            instances * 3
        ),
        expected: "0 errors (every answer a 200), 0 lost (every event answered exactly once), every created \
                   address stored and nothing else; p50 and p99 per handler reported (from queueing the event \
                   to its answer)"
            .into(),
        seen: format!(
            "{} errors{}; {answered} of {handed} events answered, {lost} lost, {duplicates} answered twice or \
             unasked; {} accounts created, {missing} not stored, {rows} rows in the table; all instances still \
             running: {}; {}",
            seen.errors.len(),
            seen.errors.first().map(|e| format!(" (first: {e})")).unwrap_or_default(),
            seen.created.len(),
            mark(running),
            figures.join("; ")
        ),
        ok,
    })
}

/// Seeds accounts, then drives the mixed events from `3 × instances` callers.
fn drive(functions: &[Emulator], events: u64, instances: usize) -> anyhow::Result<Seen> {
    let seen = Mutex::new(Seen::default());
    let record =
        |handler: usize, outcome: anyhow::Result<(u16, serde_json::Value, String)>, elapsed: Duration| {
            let mut seen = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match outcome {
                Ok((200, body, _)) => {
                    seen.latencies[handler].push(elapsed);
                    if handler == 0
                        && let Some(address) = body["data"]["address"].as_str()
                    {
                        seen.created.push(address.to_ascii_lowercase());
                    }
                }
                Ok((status, body, _)) => {
                    seen.errors.push(format!("{} answered {status}: {}", HANDLERS[handler], body["message"]))
                }
                Err(e) => seen.errors.push(format!("{e:#}")),
            }
        };
    let timed = |handler: usize, f: &dyn Fn() -> anyhow::Result<(u16, serde_json::Value, String)>| {
        let start = std::time::Instant::now();
        let outcome = f();
        record(handler, outcome, start.elapsed());
    };
    for _ in 0..SEED {
        timed(0, &|| call(&functions[0], setter_event));
    }
    let seeded: Vec<String> = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).created.clone();
    anyhow::ensure!(
        !seeded.is_empty(),
        "no account could be made: {:?}",
        seen.lock().map(|s| s.errors.clone())
    );
    let next = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..instances * 3 {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= events {
                        return;
                    }
                    let handler = (n % 3) as usize;
                    let address = &seeded[(n as usize / 3) % seeded.len()];
                    match handler {
                        0 => timed(0, &|| call(&functions[0], setter_event)),
                        1 => timed(1, &|| call(&functions[1], |id| getter_event(id, address))),
                        _ => timed(2, &|| call(&functions[2], |id| signer_event(id, address))),
                    }
                }
            });
        }
    });
    let seen = seen.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(seen)
}
