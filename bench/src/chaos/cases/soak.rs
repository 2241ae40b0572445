//! Case 6: a long bulk create then a deep audit through the CLI, with the
//! peak resident set of each process, against a run a tenth the size.

use std::path::Path;

use super::{created_address, mark, title};
use crate::chaos::process::Run;
use crate::chaos::{Case, Ctx, PATIENCE};

/// How much more the full run may peak than the tenth and still be flat.
const FLAT: f64 = 1.5;

struct Soak {
    count: u64,
    printed: u64,
    create_kib: u64,
    audit_kib: u64,
    checked: u64,
    ok: u64,
    findings: usize,
    create_s: f64,
    audit_s: f64,
}

impl Soak {
    fn whole(&self) -> bool {
        self.printed == self.count
            && self.checked == self.count
            && self.ok == self.count
            && self.findings == 0
    }

    fn describe(&self) -> String {
        format!(
            "{}: {} printed, create peak {:.1} MiB in {:.0} s; deep audit {} checked, {} ok, {} finding(s), peak \
             {:.1} MiB in {:.0} s",
            self.count,
            self.printed,
            self.create_kib as f64 / 1024.0,
            self.create_s,
            self.checked,
            self.ok,
            self.findings,
            self.audit_kib as f64 / 1024.0,
            self.audit_s
        )
    }
}

fn soak(ctx: &Ctx, config: &Path, count: u64) -> anyhow::Result<Soak> {
    let create = Run::start(
        "rossignol create",
        &mut ctx.rossignol(config, &["create", "--count", &count.to_string(), "--json"]),
    )?
    .finish(PATIENCE)?;
    anyhow::ensure!(create.status.success(), "create failed: {}", create.last_error());
    let printed = create.out.iter().filter_map(|line| created_address(line)).count() as u64;
    let audit = Run::start("rossignol audit", &mut ctx.rossignol(config, &["audit", "--deep", "--json"]))?
        .finish(PATIENCE)?;
    let report = audit.json()?;
    Ok(Soak {
        count,
        printed,
        create_kib: create.peak_kib,
        audit_kib: audit.peak_kib,
        checked: report["checked"].as_u64().unwrap_or_default(),
        ok: report["ok"].as_u64().unwrap_or_default(),
        findings: report["findings"].as_array().map_or(usize::MAX, Vec::len),
        create_s: create.elapsed.as_secs_f64(),
        audit_s: audit.elapsed.as_secs_f64(),
    })
}

pub async fn creates_then_deep_audit(ctx: &mut Ctx) -> anyhow::Result<Case> {
    let count = ctx.sizes.soak;
    let (_, small_config) = ctx.table("chaos_soak_tenth", None).await?;
    let (_, config) = ctx.table("chaos_soak", None).await?;
    let small = tokio::task::block_in_place(|| soak(ctx, &small_config, count / 10))?;
    let full = tokio::task::block_in_place(|| soak(ctx, &config, count))?;
    let flat = |big: u64, little: u64| big as f64 <= little as f64 * FLAT;
    let create_flat = flat(full.create_kib, small.create_kib);
    let audit_flat = flat(full.audit_kib, small.audit_kib);
    Ok(Case {
        number: 6,
        title: title(6),
        done: format!(
            "`rossignol create --count {count} --json`, then `rossignol audit --deep --json`, on a fresh table; \
             the same at {} first; peak RSS of each process (VmHWM, sampled every 20 ms)",
            count / 10
        ),
        expected: format!(
            "nothing lost (every account printed, checked and opened, no findings), and peak RSS flat: the full \
             run within {FLAT}× the tenth's, for the create and for the audit"
        ),
        seen: format!(
            "{}. {}. Flat: create {} ({:.2}×), audit {} ({:.2}×)",
            small.describe(),
            full.describe(),
            mark(create_flat),
            full.create_kib as f64 / small.create_kib.max(1) as f64,
            mark(audit_flat),
            full.audit_kib as f64 / small.audit_kib.max(1) as f64
        ),
        ok: small.whole() && full.whole() && create_flat && audit_flat,
    })
}
