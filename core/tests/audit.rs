//! The integrity audit on both stores, seeded with one record of each kind
//! of problem.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rossignol_core::audit::{self, AuditOptions, AuditReport, FindingKind, Progress};
use rossignol_core::seal::SealContext;
use rossignol_core::store::record;
use rossignol_core::store::{Attr, Item};
use rossignol_core::{Address, PrivateKey, Requester};
use support::{Harness, legacy_item, sealed_item};

for_each_store!(
    a_clean_table_has_no_findings,
    each_seeded_problem_is_found,
    the_deep_audit_opens_every_key,
    a_cancelled_audit_says_so,
);

fn requester() -> Requester {
    Requester::operator("test-audit", "tests")
}

async fn audit(h: &Harness, deep: bool) -> (AuditReport, Progress) {
    let (tx, rx) = tokio::sync::watch::channel(Progress::default());
    let options = AuditOptions { deep, segments: 4 };
    let report =
        audit::run(&h.custodian, options, &requester(), tx, Arc::new(AtomicBool::new(false))).await.unwrap();
    let last = rx.borrow().clone();
    (report, last)
}

fn kinds_for(report: &AuditReport, address: &Address) -> Vec<FindingKind> {
    report.findings.iter().filter(|f| f.address == address.to_storage()).map(|f| f.kind).collect()
}

async fn a_clean_table_has_no_findings(h: &Harness) {
    for _ in 0..25 {
        h.custodian.create("test").await.unwrap();
    }
    for deep in [false, true] {
        let (report, progress) = audit(h, deep).await;
        assert_eq!(report.checked, 25);
        assert_eq!(report.ok, 25);
        let record_findings: Vec<_> =
            report.findings.iter().filter(|f| f.kind != FindingKind::TableSetting).collect();
        assert!(record_findings.is_empty(), "{record_findings:?}");
        assert_eq!(report.seals.get(h.custodian.sealer().id()), Some(&25));
        assert_eq!(progress.checked, 25);
        assert!(!report.cancelled);
    }
}

async fn each_seeded_problem_is_found(h: &Harness) {
    let clean = h.custodian.create("test").await.unwrap().address;

    // A legacy plaintext row from the Node service.
    let (item, _) = legacy_item([7u8; 32]);
    let legacy = Address::parse(item.address().unwrap()).unwrap();
    h.store.create(&item).await.unwrap();

    // A record whose public key does not match its address.
    let mismatched = PrivateKey::generate_os();
    let mut item = sealed_item(h, &mismatched).await;
    let stranger = PrivateKey::generate_os();
    item.insert("public_key", Attr::S(record::format_public_key(&stranger.public_key_uncompressed())));
    h.store.create(&item).await.unwrap();

    // A sealed key copied from another record (found by the deep audit).
    let victim = PrivateKey::generate_os();
    let victim_item = sealed_item(h, &victim).await;
    let copier = PrivateKey::generate_os();
    let mut item = sealed_item(h, &copier).await;
    item.insert("sealed_private_key", victim_item.get("sealed_private_key").unwrap().clone());
    h.store.create(&item).await.unwrap();

    // An unknown seal, an unknown schema, a malformed blob, no key at all,
    // and a plaintext attribute beside a sealed key.
    let unknown_seal = PrivateKey::generate_os();
    let mut item = sealed_item(h, &unknown_seal).await;
    item.insert("seal", Attr::S("kms:alias/retired".into()));
    h.store.create(&item).await.unwrap();
    let future = PrivateKey::generate_os();
    let mut item = sealed_item(h, &future).await;
    item.insert("schema_version", Attr::N("9".into()));
    h.store.create(&item).await.unwrap();
    let truncated = PrivateKey::generate_os();
    let mut item = sealed_item(h, &truncated).await;
    item.insert("sealed_private_key", Attr::B(vec![1, 2, 3]));
    h.store.create(&item).await.unwrap();
    let keyless = Address::from_bytes([0x44; 20]);
    let mut item = Item::default();
    item.insert("address", Attr::S(keyless.to_storage()));
    item.insert("public_key", Attr::S("0x04".into()));
    h.store.create(&item).await.unwrap();
    let doubled = PrivateKey::generate_os();
    let mut item = sealed_item(h, &doubled).await;
    item.insert("private_key", Attr::S("bGVha2Vk".into()));
    h.store.create(&item).await.unwrap();

    let (report, _) = audit(h, false).await;
    assert_eq!(report.checked, 9);
    assert!(kinds_for(&report, &clean).is_empty());
    assert_eq!(kinds_for(&report, &legacy), [FindingKind::PlaintextKeyAtRest]);
    let legacy_finding = report.findings.iter().find(|f| f.address == legacy.to_storage()).unwrap();
    assert_eq!(legacy_finding.kind.to_string(), "plaintext key at rest: re-seal");
    assert_eq!(kinds_for(&report, &mismatched.address()), [FindingKind::AddressMismatch]);
    assert!(kinds_for(&report, &copier.address()).is_empty(), "only opening can tell");
    assert_eq!(kinds_for(&report, &unknown_seal.address()), [FindingKind::UnknownSeal]);
    assert_eq!(kinds_for(&report, &future.address()), [FindingKind::UnknownSchema]);
    assert_eq!(kinds_for(&report, &truncated.address()), [FindingKind::MalformedSealedKey]);
    assert_eq!(kinds_for(&report, &keyless), [FindingKind::MissingSealedKey]);
    assert_eq!(kinds_for(&report, &doubled.address()), [FindingKind::PlaintextKeyAtRest]);
    assert_eq!(report.ok, 2, "the clean record and the copied one");
    assert_eq!(report.seals.get("plaintext"), Some(&1));
    assert_eq!(report.seals.get("kms:alias/retired"), Some(&1));

    let (deep, _) = audit(h, true).await;
    assert_eq!(kinds_for(&deep, &copier.address()), [FindingKind::UnsealFailed]);
    assert!(kinds_for(&deep, &clean).is_empty());
    assert_eq!(kinds_for(&deep, &legacy), [FindingKind::PlaintextKeyAtRest], "its key still derives it");
    assert_eq!(deep.ok, 1);

    let json = serde_json::to_value(&deep).unwrap();
    assert_eq!(json["checked"], 9);
    assert_eq!(json["ok"], 1);
    let finding = &json["findings"][0];
    assert!(finding["address"].is_string() && finding["kind"].is_string() && finding["detail"].is_string());
    assert!(json["warnings"].is_array());
}

async fn the_deep_audit_opens_every_key(h: &Harness) {
    // A record sealed for B holding A's key: the seal opens, the key does
    // not derive B.
    let a = PrivateKey::generate_os();
    let b = PrivateKey::generate_os();
    let b_address = b.address();
    let mut item = sealed_item(h, &b).await;
    let blob = h.custodian.sealer().seal(SealContext::record(&b_address, h.store.table()), &a).await.unwrap();
    item.insert("sealed_private_key", Attr::B(blob));
    h.store.create(&item).await.unwrap();
    let (shallow, _) = audit(h, false).await;
    assert!(kinds_for(&shallow, &b_address).is_empty());
    let (deep, progress) = audit(h, true).await;
    assert_eq!(kinds_for(&deep, &b_address), [FindingKind::KeyMismatch]);
    assert_eq!(progress.findings, deep.findings.len() as u64);
}

async fn a_cancelled_audit_says_so(h: &Harness) {
    h.custodian.create("test").await.unwrap();
    let (tx, _rx) = tokio::sync::watch::channel(Progress::default());
    let cancel = Arc::new(AtomicBool::new(true));
    let report = audit::run(&h.custodian, AuditOptions::default(), &requester(), tx, cancel).await.unwrap();
    assert!(report.cancelled);
}

#[test]
fn progress_gives_rate_and_eta() {
    let progress =
        Progress { checked: 500, findings: 0, total: Some(1500), elapsed: std::time::Duration::from_secs(2) };
    assert_eq!(progress.rate(), 250.0);
    assert_eq!(progress.eta(), Some(std::time::Duration::from_secs(4)));
    assert_eq!(Progress::default().eta(), None);
}
