//! The integrity audit: every record of a table checked with a parallel
//! scan, and the table's settings. A deep audit also opens every key and
//! checks that it derives its address.
//!
//! Findings are problems with a record (or a setting that is wrong);
//! warnings are what could not be checked (a setting the endpoint does not
//! report).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::account::keccak256;
use crate::custodian::{Custodian, Requester};
use crate::custody::Provider;
use crate::custody::share::SealedShare;
use crate::error::{Error, Result};
use crate::seal;
use crate::seal::SealContext;
use crate::store::record::{
    CREATED_AT, CREATED_BY, CURRENT_SCHEMA, DISABLED_AT, DISABLED_BY, LEGACY_PRIVATE_KEY, PUBLIC_KEY,
    SCHEMA_VERSION, SCHEME, SEAL, SEALED_PRIVATE_KEY, SEALED_SHARE,
};
use crate::store::{AccountRecord, Attr, CheckStatus, Item, StoredKey, parallel_scan};
use crate::vss;

/// Items per scan request.
const PAGE_SIZE: usize = 1000;
/// Pages being checked at once.
const PAGES_IN_FLIGHT: usize = 8;
/// The operation a deep audit's run-level trail entry names.
pub const DEEP_RUN: &str = "audit-deep";

#[derive(Debug, Clone, Copy)]
pub struct AuditOptions {
    /// Also open every sealed key and check that it derives the address.
    pub deep: bool,
    /// Parallel scan segments.
    pub segments: u32,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions { deep: false, segments: 8 }
    }
}

/// Where a running audit is.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub checked: u64,
    pub findings: u64,
    /// The table's item count, when the store gives one (an estimate on
    /// DynamoDB).
    pub total: Option<u64>,
    pub elapsed: Duration,
}

impl Progress {
    /// Records checked per second so far.
    pub fn rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 { self.checked as f64 / seconds } else { 0.0 }
    }

    /// Time left at the current rate, when the total is known.
    pub fn eta(&self) -> Option<Duration> {
        let total = self.total?;
        let rate = self.rate();
        (rate > 0.0).then(|| Duration::from_secs_f64(total.saturating_sub(self.checked) as f64 / rate))
    }
}

/// What is wrong with a record or setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The item cannot be read as an account record.
    Malformed,
    /// The stored public key does not derive the address.
    AddressMismatch,
    /// No sealed key (and no legacy key) is stored.
    MissingSealedKey,
    /// The sealed key's shape is wrong for its seal.
    MalformedSealedKey,
    /// A private key is stored in plaintext (a Node-era row, or a stray
    /// attribute beside a sealed key).
    PlaintextKeyAtRest,
    /// Sealed by a key this environment does not know.
    UnknownSeal,
    UnknownSchema,
    /// Deep: the sealed key does not open for this record.
    UnsealFailed,
    /// Deep: the opened key derives another address.
    KeyMismatch,
    /// A table setting is wrong.
    TableSetting,
    /// Sharded: some providers hold no share of the address (a create
    /// that never returned, or a provider that lost its shares).
    Incomplete,
    /// Sharded: the providers' shares are of different epochs or
    /// commitments (an interrupted refresh).
    SharesDisagree,
    /// Sharded: a share in the wrong slot, a share in a single store, or
    /// a whole key at one provider of a sharded environment.
    WrongSlot,
    /// Deep, sharded: the opened share is not on the committed polynomial.
    ShareInvalid,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Malformed => "malformed",
            FindingKind::AddressMismatch => "address_mismatch",
            FindingKind::MissingSealedKey => "missing_sealed_key",
            FindingKind::MalformedSealedKey => "malformed_sealed_key",
            FindingKind::PlaintextKeyAtRest => "plaintext_key_at_rest",
            FindingKind::UnknownSeal => "unknown_seal",
            FindingKind::UnknownSchema => "unknown_schema",
            FindingKind::UnsealFailed => "unseal_failed",
            FindingKind::KeyMismatch => "key_mismatch",
            FindingKind::TableSetting => "table_setting",
            FindingKind::Incomplete => "incomplete",
            FindingKind::SharesDisagree => "shares_disagree",
            FindingKind::WrongSlot => "wrong_slot",
            FindingKind::ShareInvalid => "share_invalid",
        }
    }

    fn label(self) -> &'static str {
        match self {
            FindingKind::Malformed => "malformed record",
            FindingKind::AddressMismatch => "address does not match its public key",
            FindingKind::MissingSealedKey => "no sealed key",
            FindingKind::MalformedSealedKey => "malformed sealed key",
            FindingKind::PlaintextKeyAtRest => "plaintext key at rest: re-seal",
            FindingKind::UnknownSeal => "unknown seal",
            FindingKind::UnknownSchema => "unknown schema version",
            FindingKind::UnsealFailed => "sealed key does not open",
            FindingKind::KeyMismatch => "key derives another address",
            FindingKind::TableSetting => "table setting",
            FindingKind::Incomplete => "incomplete shares",
            FindingKind::SharesDisagree => "shares of different epochs",
            FindingKind::WrongSlot => "in the wrong place",
            FindingKind::ShareInvalid => "share does not verify",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The record's address as stored (or the table, for a setting).
    pub address: String,
    /// In a sharded environment: the provider where it was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    pub kind: FindingKind,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// What could not be checked: a setting, or a record.
    pub subject: String,
    pub detail: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AuditReport {
    pub checked: u64,
    /// Records with no finding.
    pub ok: u64,
    pub findings: Vec<Finding>,
    pub warnings: Vec<Warning>,
    /// Records per seal (`plaintext` for legacy rows), to follow a rotation.
    pub seals: BTreeMap<String, u64>,
    /// Accounts disabled by an operator (counted, not findings).
    pub disabled: u64,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
    pub deep: bool,
    /// A deep audit's run-level entry in the access trail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    pub cancelled: bool,
    /// In a sharded environment: each provider's part of the run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderAudit>,
}

/// One provider's part of an audit: what it held and how fast it was read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProviderAudit {
    pub provider: String,
    pub checked: u64,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
}

/// Which provider a page came from and, in a sharded environment, the
/// share its slot must hold.
#[derive(Clone)]
struct Place {
    provider: Provider,
    /// `None` in a single store, which holds whole keys.
    slot: Option<u8>,
}

/// One share as the cross-provider check sees it: its slot, epoch and
/// commitments' digest.
type ShareMark = (u8, u32, String);

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What checking one page gave.
#[derive(Default)]
struct PageResult {
    checked: u64,
    ok: u64,
    findings: Vec<Finding>,
    seals: BTreeMap<String, u64>,
    disabled: u64,
    shares: Vec<(String, ShareMark)>,
}

/// Runs the audit. `progress` receives updates as pages are checked; setting
/// `cancel` stops it between pages, with a report of what was checked.
/// A deep audit opens every key, so it first writes a run-level entry to
/// the access trail for `requester`, and does not start without it.
pub async fn run(
    custodian: &Custodian,
    options: AuditOptions,
    requester: &Requester,
    progress: watch::Sender<Progress>,
    cancel: Arc<AtomicBool>,
) -> Result<AuditReport> {
    let started = Instant::now();
    let mut report = AuditReport { deep: options.deep, ..AuditReport::default() };
    if options.deep {
        let run = crate::lifecycle::record_run(custodian, DEEP_RUN, requester, None, false).await?;
        report.run_id = Some(run.run_id);
    }
    let custody = custodian.custody();
    let sharded = custody.whole_keys().is_none();
    let mut state = Progress::default();
    let mut shares: BTreeMap<String, Vec<ShareMark>> = BTreeMap::new();
    for (index, provider) in custody.providers().iter().enumerate() {
        let place = Place { provider: provider.clone(), slot: sharded.then_some(index as u8 + 1) };
        let provider_started = Instant::now();
        let before = report.checked;
        audit_provider(
            custodian,
            &place,
            options,
            &mut report,
            &mut shares,
            (&progress, &mut state, started),
            &cancel,
        )
        .await?;
        if sharded {
            report.providers.push(ProviderAudit {
                provider: provider.name.clone(),
                checked: report.checked - before,
                elapsed: provider_started.elapsed(),
            });
        }
        if report.cancelled {
            break;
        }
    }
    if sharded && !report.cancelled {
        let names: Vec<&str> = custody.providers().iter().map(|p| p.name.as_str()).collect();
        report.findings.extend(cross_check(&shares, &names, custody.quorum()));
    }
    report.findings.sort_by(|a, b| (a.kind, &a.address).cmp(&(b.kind, &b.address)));
    report.elapsed = started.elapsed();
    Ok(report)
}

/// One provider's table: its settings, then every item, pages at a time.
async fn audit_provider(
    custodian: &Custodian,
    place: &Place,
    options: AuditOptions,
    report: &mut AuditReport,
    shares: &mut BTreeMap<String, Vec<ShareMark>>,
    progress: (&watch::Sender<Progress>, &mut Progress, Instant),
    cancel: &AtomicBool,
) -> Result<()> {
    let table = place.provider.store.describe().await?;
    let provider = place.slot.map(|_| place.provider.name.clone());
    for check in &table.checks {
        match check.status {
            CheckStatus::Ok => {}
            CheckStatus::Wrong => report.findings.push(Finding {
                address: table.table.clone(),
                provider: provider.clone(),
                kind: FindingKind::TableSetting,
                detail: format!("{}: {}", check.setting, check.detail),
            }),
            CheckStatus::NotReported => report.warnings.push(Warning {
                subject: format!("{} of {}", check.setting, table.table),
                detail: format!("unknown: {}", check.detail),
            }),
        }
    }
    let (progress, state, started) = progress;
    state.total = match (state.total, table.item_count) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    };
    progress.send_replace(state.clone());

    let mut pages = parallel_scan(Arc::clone(&place.provider.store), options.segments, PAGE_SIZE);
    let mut checking: JoinSet<PageResult> = JoinSet::new();
    let mut scan_error = None;
    let mut scanning = true;
    while scanning || !checking.is_empty() {
        if cancel.load(Ordering::Relaxed) {
            report.cancelled = true;
            break;
        }
        let room = checking.len() < PAGES_IN_FLIGHT;
        tokio::select! {
            page = pages.recv(), if scanning && room => match page {
                Some(Ok(items)) => {
                    let custodian = custodian.clone();
                    let place = place.clone();
                    checking.spawn(async move { check_page(&custodian, &place, items, options.deep).await });
                }
                Some(Err(e)) => {
                    scan_error = Some(e);
                    scanning = false;
                }
                None => scanning = false,
            },
            Some(done) = checking.join_next(), if !checking.is_empty() => {
                let page = done.map_err(|e| Error::Service {
                    service: "audit",
                    operation: "check",
                    message: e.to_string(),
                })?;
                report.checked += page.checked;
                report.ok += page.ok;
                report.disabled += page.disabled;
                report.findings.extend(page.findings);
                for (address, mark) in page.shares {
                    shares.entry(address).or_default().push(mark);
                }
                for (seal, n) in page.seals {
                    *report.seals.entry(seal).or_default() += n;
                }
                state.checked = report.checked;
                state.findings = report.findings.len() as u64;
                state.elapsed = started.elapsed();
                progress.send_replace(state.clone());
            }
        }
    }
    checking.abort_all();
    if let Some(e) = scan_error {
        return Err(e);
    }
    Ok(())
}

/// Across providers: every address has a share at every provider, all of
/// one epoch and one set of commitments.
fn cross_check(
    shares: &BTreeMap<String, Vec<ShareMark>>,
    providers: &[&str],
    threshold: usize,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (address, marks) in shares {
        let held: Vec<&str> =
            marks.iter().filter_map(|(slot, ..)| providers.get(usize::from(*slot) - 1).copied()).collect();
        let missing: Vec<&str> = providers.iter().copied().filter(|p| !held.contains(p)).collect();
        for provider in &missing {
            let detail = if held.len() >= threshold {
                format!(
                    "no share here, while {} hold theirs; `rossignol repair {provider}` makes it again",
                    held.join(", ")
                )
            } else {
                format!(
                    "incomplete, never returned: only {} hold(s) a share, fewer than the {threshold} that rebuild it; `rossignol repair` clears it",
                    held.join(", ")
                )
            };
            findings.push(Finding {
                address: address.clone(),
                provider: Some((*provider).to_owned()),
                kind: FindingKind::Incomplete,
                detail,
            });
        }
        let newest =
            marks.iter().max_by_key(|(_, epoch, _)| *epoch).map(|(_, epoch, digest)| (*epoch, digest));
        for (slot, epoch, digest) in marks {
            if Some((*epoch, digest)) != newest {
                let (newest_epoch, _) = newest.unwrap_or((0, digest));
                findings.push(Finding {
                    address: address.clone(),
                    provider: providers.get(usize::from(*slot) - 1).map(|p| (*p).to_owned()),
                    kind: FindingKind::SharesDisagree,
                    detail: format!(
                        "its share is of epoch {epoch}, others of epoch {newest_epoch} or other commitments; `rossignol refresh` finishes an interrupted refresh"
                    ),
                });
            }
        }
    }
    findings
}

async fn check_page(custodian: &Custodian, place: &Place, items: Vec<Item>, deep: bool) -> PageResult {
    let mut result = PageResult::default();
    // Every seal the environment is configured to open: mid-rotation, the
    // records still under a seal kept in `also_open` are not unknown.
    let sealer = &place.provider.sealer;
    let known_seals = sealer.known_seals();
    let provider = place.slot.map(|_| place.provider.name.clone());
    for item in items {
        result.checked += 1;
        result.disabled += u64::from(item.get(DISABLED_AT).is_some());
        if !deep && let Some(seal) = sound_record(&item, &known_seals) {
            result.ok += 1;
            match result.seals.get_mut(seal) {
                Some(n) => *n += 1,
                None => {
                    result.seals.insert(seal.to_owned(), 1);
                }
            }
            continue;
        }
        let address = item.address().unwrap_or("<no address>").to_owned();
        let (problems, seal, mark) = check_item(custodian, place, &item, &known_seals, deep).await;
        if let Some(mark) = mark {
            result.shares.push((address.clone(), mark));
        }
        if let Some(seal) = seal {
            *result.seals.entry(seal).or_default() += 1;
        }
        if problems.is_empty() {
            result.ok += 1;
        }
        result.findings.extend(problems.into_iter().map(|(kind, detail)| Finding {
            address: address.clone(),
            provider: provider.clone(),
            kind,
            detail,
        }));
    }
    result
}

/// The shallow audit's common case, checked in place without building a
/// record: a current-schema secp256k1 record under a known seal, with a
/// well-formed sealed key, no plaintext beside it, readable optional
/// attributes, and a public key whose keccak-256 gives the stored address.
/// Returns its seal; `None` when anything differs, so that [`check_item`]
/// looks again and names the problem. (Unlike `check_item`, it does not
/// check that the public key is a point on the curve: forging one that
/// still hashes to its address would need a keccak preimage, and the deep
/// audit derives every public key from its private key anyway.)
fn sound_record<'a>(item: &'a Item, known_seals: &[&str]) -> Option<&'a str> {
    let Some(Attr::B(blob)) = item.get(SEALED_PRIVATE_KEY) else { return None };
    if item.get(LEGACY_PRIVATE_KEY).is_some() || item.get(SCHEME)?.as_s()? != "secp256k1" {
        return None;
    }
    let seal = item.get(SEAL)?.as_s()?;
    if !known_seals.contains(&seal) || seal::check_shape(seal, blob).is_err() {
        return None;
    }
    match item.get(SCHEMA_VERSION)? {
        Attr::N(n) if n.parse() == Ok(CURRENT_SCHEMA) => {}
        _ => return None,
    }
    for name in [CREATED_BY, DISABLED_BY] {
        if let Some(attr) = item.get(name) {
            attr.as_s()?;
        }
    }
    for name in [CREATED_AT, DISABLED_AT] {
        if let Some(attr) = item.get(name) {
            chrono::DateTime::parse_from_rfc3339(attr.as_s()?).ok()?;
        }
    }
    // The stored form: 0x + 40 lowercase hex digits.
    let address = item.address()?.strip_prefix("0x")?;
    if address.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut stored = [0u8; 20];
    hex::decode_to_slice(address, &mut stored).ok()?;
    let mut point = [0u8; 64];
    hex::decode_to_slice(item.get(PUBLIC_KEY)?.as_s()?.strip_prefix("0x04")?, &mut point).ok()?;
    (keccak256(&point)[12..] == stored).then_some(seal)
}

/// The problems of one item, the name of its seal (`plaintext` for a
/// legacy row) when it has one, and, at a sharded provider, its share's
/// mark for the check across providers.
async fn check_item(
    custodian: &Custodian,
    place: &Place,
    item: &Item,
    known_seals: &[&str],
    deep: bool,
) -> (Vec<(FindingKind, String)>, Option<String>, Option<ShareMark>) {
    let mut problems = Vec::new();
    let mut mark = None;
    let sealed = item.get(SEALED_PRIVATE_KEY).is_some() || item.get(SEALED_SHARE).is_some();
    let plaintext = item.get(LEGACY_PRIVATE_KEY).is_some();
    if !sealed && !plaintext {
        problems.push((FindingKind::MissingSealedKey, "the record holds no sealed_private_key".into()));
        return (problems, None, None);
    }
    let record = match AccountRecord::from_item(item) {
        Ok(record) => record,
        Err(e) => {
            problems.push((FindingKind::Malformed, e.to_string()));
            return (problems, None, None);
        }
    };
    if sealed && plaintext {
        problems.push((
            FindingKind::PlaintextKeyAtRest,
            format!("a plaintext `{LEGACY_PRIVATE_KEY}` attribute sits beside the sealed key; remove it"),
        ));
    }
    if let Err(e) = record.verify_public_key() {
        problems.push((FindingKind::AddressMismatch, e.record_reason()));
    }
    let seal = match &record.key {
        StoredKey::LegacyPlaintext(_) => {
            problems.push((
                FindingKind::PlaintextKeyAtRest,
                "a Node-era row holds its key in plaintext: re-seal it".into(),
            ));
            "plaintext".to_owned()
        }
        StoredKey::Sealed { seal: seal_id, blob } => {
            if place.slot.is_some() {
                problems.push((
                    FindingKind::WrongSlot,
                    "a whole key at one provider of a sharded environment: whoever holds this provider can open it".into(),
                ));
            }
            if let Err(detail) = seal::check_shape(seal_id, blob) {
                problems.push((FindingKind::MalformedSealedKey, detail));
            }
            if !known_seals.contains(&seal_id.as_str()) {
                problems.push((
                    FindingKind::UnknownSeal,
                    unknown_seal_detail(seal_id, place.provider.sealer.id(), known_seals),
                ));
            }
            if record.schema_version != CURRENT_SCHEMA {
                problems.push((
                    FindingKind::UnknownSchema,
                    format!(
                        "schema version {} (this Rossignol knows {CURRENT_SCHEMA})",
                        record.schema_version
                    ),
                ));
            }
            seal_id.clone()
        }
        StoredKey::Share(share) => {
            if place.slot.is_some() {
                mark = Some((share.index, share.epoch, share.commitments_digest()));
            }
            match place.slot {
                None => problems.push((
                    FindingKind::WrongSlot,
                    "it holds one share of a sharded key, which only its sharded environment opens".into(),
                )),
                Some(slot) if slot != share.index => problems
                    .push((FindingKind::WrongSlot, format!("it holds share {} in slot {slot}", share.index))),
                Some(_) => {}
            }
            if let Err(detail) = seal::check_shape(&share.seal, &share.blob) {
                problems.push((FindingKind::MalformedSealedKey, detail));
            }
            if let Some(next) = &share.next {
                problems.push((
                    FindingKind::SharesDisagree,
                    format!(
                        "a refresh to epoch {} is unfinished; `rossignol refresh` finishes it",
                        next.epoch
                    ),
                ));
            }
            if !known_seals.contains(&share.seal.as_str()) {
                let primary = place.provider.sealer.id();
                problems
                    .push((FindingKind::UnknownSeal, unknown_seal_detail(&share.seal, primary, known_seals)));
            }
            share.seal.clone()
        }
        StoredKey::Sharded(set) => set.label.clone(),
    };
    // Opening is only meaningful for a record that passed every cheap check
    // (a legacy row's plaintext finding aside: its key is still verified).
    if deep && problems.iter().all(|(kind, _)| *kind == FindingKind::PlaintextKeyAtRest) {
        if let StoredKey::Share(share) = &record.key {
            if let Some(problem) = open_share(place, &record, share).await {
                problems.push(problem);
            }
            return (problems, Some(seal), mark);
        }
        match custodian.open(&record).await {
            Ok(_) => {}
            Err(e @ Error::Integrity { .. }) => problems.push((FindingKind::KeyMismatch, e.record_reason())),
            Err(e) => problems.push((FindingKind::UnsealFailed, e.record_reason())),
        }
    }
    (problems, Some(seal), mark)
}

/// Opens one share with its provider's seal under its slot's binding and
/// checks it against its commitments; the key is never rebuilt.
async fn open_share(
    place: &Place,
    record: &AccountRecord,
    share: &SealedShare,
) -> Option<(FindingKind, String)> {
    let digest = share.commitments_digest();
    let ctx = SealContext::share(&record.address, place.provider.store.table(), share.binding(&digest));
    match place.provider.sealer.open_secret(ctx, &share.seal, &share.blob).await {
        Ok(value) => {
            let opened = vss::Share::from_parts(share.index, value);
            (!share.commitments.verify(&opened)).then(|| {
                let detail = format!("share {} does not verify against its commitments", share.index);
                (FindingKind::ShareInvalid, detail)
            })
        }
        Err(e) => Some((FindingKind::UnsealFailed, e.record_reason())),
    }
}

fn unknown_seal_detail(seal_id: &str, primary: &str, known_seals: &[&str]) -> String {
    let also: Vec<&str> = known_seals.iter().copied().filter(|s| *s != primary).collect();
    if also.is_empty() {
        format!("sealed by {seal_id}; this environment seals with {primary}")
    } else {
        format!(
            "sealed by {seal_id}; this environment seals with {primary} and also opens {}",
            also.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::PrivateKey;
    use crate::seal::LocalSealer;
    use crate::store::embedded::EmbeddedStore;

    /// The fast path may only pass what the full check passes.
    #[tokio::test]
    async fn the_fast_path_never_passes_what_the_full_check_would_not() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store =
            Arc::new(EmbeddedStore::open(&dir.path().join("a.redb"), "t").unwrap_or_else(|e| panic!("{e}")));
        let custodian = Custodian::new(store.clone(), Arc::new(LocalSealer::from_key(&[1; 32])), store);
        let record = custodian.create("test").await.unwrap_or_else(|e| panic!("{e}"));
        let item = record.to_item().unwrap_or_else(|e| panic!("{e}"));
        let known = custodian.sealer().known_seals();
        let place = Place { provider: custodian.custody().providers()[0].clone(), slot: None };
        assert!(sound_record(&item, &known).is_some(), "a correct record takes the fast path");

        let other = PrivateKey::generate_os();
        let replacements = [
            Attr::S(String::new()),
            Attr::S("0x04".into()),
            Attr::S(record.address.to_string()),
            Attr::S(crate::store::record::format_public_key(&other.public_key_uncompressed())),
            Attr::S("ed25519".into()),
            Attr::S("2026-13-45T00:00:00Z".into()),
            Attr::S("local:0000000000000000".into()),
            Attr::N("2".into()),
            Attr::N("1".into()),
            Attr::B(vec![1; 69]),
            Attr::B(Vec::new()),
            Attr::Bool(true),
        ];
        let mut variants = Vec::new();
        for name in item.0.keys() {
            let mut without = item.clone();
            without.0.remove(name);
            variants.push(without);
            for value in &replacements {
                let mut changed = item.clone();
                changed.insert(name, value.clone());
                variants.push(changed);
            }
        }
        for extra in [LEGACY_PRIVATE_KEY, CREATED_BY, DISABLED_AT, DISABLED_BY] {
            for value in &replacements {
                let mut changed = item.clone();
                changed.insert(extra, value.clone());
                variants.push(changed);
            }
        }
        for variant in &variants {
            if sound_record(variant, &known).is_some() {
                let (problems, ..) = check_item(&custodian, &place, variant, &known, false).await;
                assert!(problems.is_empty(), "the fast path passed {variant:?}: {problems:?}");
            }
        }
    }
}
