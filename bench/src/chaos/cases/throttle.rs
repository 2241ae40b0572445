//! Case 4: DynamoDB throttling injected by a loopback proxy, first for a
//! few requests (the retries absorb it), then for longer than the retries
//! last (the outcome is reported, not hung).

use std::sync::atomic::Ordering;

use super::{created_address, mark, title};
use crate::chaos::process::Run;
use crate::chaos::proxy::Throttle;
use crate::chaos::{Case, Ctx, PATIENCE};

/// Attempts per request in the SDK's retry policy (core/src/aws.rs).
const MAX_ATTEMPTS: u64 = 8;
/// Requests refused in the first run.
const BURST: u64 = 6;
/// Accounts created in the first run.
const CREATES: u64 = 20;

pub async fn bounded_retries(ctx: &mut Ctx) -> anyhow::Result<Case> {
    let throttle = Throttle::start(&ctx.ddb.endpoint())?;
    let endpoint = throttle.endpoint();
    let (table, config) = ctx.table("chaos_throttle", Some(&endpoint)).await?;

    // A burst: the next BURST requests refused, then everything forwarded.
    throttle.policy.reset(None);
    throttle.policy.refuse_next.store(BURST, Ordering::SeqCst);
    let burst = tokio::task::block_in_place(|| {
        Run::start(
            "rossignol create",
            &mut ctx.rossignol(&config, &["create", "--count", &CREATES.to_string(), "--json"]),
        )?
        .finish(PATIENCE)
    })?;
    let (burst_refused, burst_forwarded) = throttle.policy.counts();
    let printed: Vec<String> = burst.out.iter().filter_map(|line| created_address(line)).collect();
    let stored = ctx.stored(&table).await?;
    let burst_ok = burst.status.success()
        && printed.len() as u64 == CREATES
        && printed.iter().all(|a| stored.contains(a))
        && burst_refused == BURST;

    // Throttling that outlasts the retries: every request refused.
    throttle.policy.reset(None);
    throttle.policy.refuse_all.store(true, Ordering::SeqCst);
    let sustained = tokio::task::block_in_place(|| {
        Run::start("rossignol create", &mut ctx.rossignol(&config, &["create", "--count", "1", "--json"]))?
            .finish(PATIENCE)
    })?;
    let (refused, forwarded) = throttle.policy.counts();
    let error = sustained.last_error();
    let one_sentence = sustained.err.len() == 1 && !error.is_empty();
    let sustained_ok = sustained.status.code() == Some(1)
        && forwarded == 0
        && refused > 0
        && refused % MAX_ATTEMPTS == 0
        && one_sentence
        && sustained.out.is_empty();
    let rows = ctx.count(&table).await?;
    Ok(Case {
        number: 4,
        title: title(4),
        done: format!(
            "a proxy in front of DynamoDB Local answers HTTP 400 ProvisionedThroughputExceededException: (a) to \
             the next {BURST} requests, during `rossignol create --count {CREATES}`; (b) to every request, \
             during `rossignol create --count 1`"
        ),
        expected: format!(
            "(a) the retries absorb it: exit 0, {CREATES} addresses printed and stored, {BURST} refusals seen; \
             (b) each request is tried exactly {MAX_ATTEMPTS} times (8 attempts, 50 ms initial backoff, 5 s \
             max), then the run ends with exit 1 and a one-sentence error, nothing printed: reported, not hung"
        ),
        seen: format!(
            "(a) exit {}, {} printed, all stored: {}, {burst_refused} refused + {burst_forwarded} forwarded, \
             {:.2} s; (b) exit {}, {refused} attempts refused ({} per request), {forwarded} forwarded, {:.2} s, \
             stderr {:?}; rows in the table: {rows}",
            burst.status,
            printed.len(),
            mark(printed.iter().all(|a| stored.contains(a))),
            burst.elapsed.as_secs_f64(),
            sustained.status,
            if refused % MAX_ATTEMPTS == 0 {
                format!("{MAX_ATTEMPTS} × {}", refused / MAX_ATTEMPTS)
            } else {
                "not a multiple of 8".into()
            },
            sustained.elapsed.as_secs_f64(),
            error
        ),
        ok: burst_ok && sustained_ok,
    })
}
