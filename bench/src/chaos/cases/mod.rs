//! The seven cases of the reliability issue, one function each.

mod lambda_faults;
mod load;
mod soak;
mod store_kill;
mod throttle;

use super::{Case, Ctx};

pub fn title(number: u32) -> &'static str {
    match number {
        1 => "Store killed during a bulk create",
        2 => "KMS unreachable, then back",
        3 => "Access trail table missing or throttled",
        4 => "Throttling",
        5 => "Load",
        6 => "Soak",
        7 => "Migrate and reseal interrupted by a store kill",
        _ => "unknown case",
    }
}

pub async fn run(number: u32, ctx: &mut Ctx) -> anyhow::Result<Case> {
    match number {
        1 => store_kill::bulk_create(ctx).await,
        2 => lambda_faults::kms_unreachable(ctx).await,
        3 => lambda_faults::trail_unavailable(ctx).await,
        4 => throttle::bounded_retries(ctx).await,
        5 => load::scaled_out(ctx).await,
        6 => soak::creates_then_deep_audit(ctx).await,
        7 => store_kill::migrate_and_reseal(ctx).await,
        _ => anyhow::bail!("there is no case {number}"),
    }
}

/// The address in a `create --json` line, lowercase.
fn created_address(line: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    Some(value["address"].as_str()?.to_ascii_lowercase())
}

/// `yes`/`no` for a figure list.
fn mark(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}
