#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Bulk operations that open every key (migrate, reseal, a deep audit)
//! leave a run-level entry in the access trail before they start, and do
//! not start without it; a reseal records every key it moves, and moving
//! keys from KMS to a local key file needs `allow_downgrade`.

#[macro_use]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rossignol_core::access::{AccessTrail, RunRecord};
use rossignol_core::audit::{self, AuditOptions};
use rossignol_core::lifecycle::{self, Options, Progress, Report};
use rossignol_core::seal::{KmsSealer, LocalSealer, Sealer};
use rossignol_core::store::dynamo::DynamoTrail;
use rossignol_core::store::{AccountStore, Item};
use rossignol_core::{Custodian, Error, Requester, Result};
use support::{
    DYNAMODB_ENDPOINT, Harness, KMS_ENDPOINT, TestTable, dynamo_client, kms_client, legacy_item, server,
};
use tokio::sync::watch;

for_each_store!(
    each_bulk_run_records_who_when_what_and_its_target_and_a_reseal_each_key_it_moves,
    a_bulk_run_whose_trail_entry_cannot_be_written_touches_nothing,
);

fn operator() -> Requester {
    Requester::operator("test-bulk", "tests:alice")
}

fn no_cancel() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

async fn reseal(custodian: &Custodian, target: &Arc<dyn Sealer>, options: Options) -> Result<Report> {
    let (tx, _rx) = watch::channel(Progress::default());
    lifecycle::reseal::run(custodian, Arc::clone(target), options, &operator(), tx, no_cancel()).await
}

async fn migrate(custodian: &Custodian) -> Result<Report> {
    let (tx, _rx) = watch::channel(Progress::default());
    lifecycle::migrate::run(custodian, Options::default(), &operator(), tx, no_cancel()).await
}

async fn audit(custodian: &Custodian, deep: bool) -> Result<audit::AuditReport> {
    let (tx, _rx) = watch::channel(audit::Progress::default());
    let options = AuditOptions { deep, segments: 4 };
    audit::run(custodian, options, &operator(), tx, no_cancel()).await
}

async fn snapshot(store: &Arc<dyn AccountStore>) -> BTreeMap<String, Item> {
    let mut items = BTreeMap::new();
    let mut after = None;
    loop {
        let page = store.page(after.as_ref(), 500).await.unwrap();
        for item in page.items {
            items.insert(item.address().unwrap().to_owned(), item);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return items,
        }
    }
}

async fn each_bulk_run_records_who_when_what_and_its_target_and_a_reseal_each_key_it_moves(h: &Harness) {
    let trail = h.custodian.trail();
    let mut addresses = Vec::new();
    for _ in 0..6 {
        addresses.push(h.custodian.create("test").await.unwrap().address);
    }
    let (legacy, _) = legacy_item([0x42; 32]);
    h.store.create(&legacy).await.unwrap();

    let migrated = migrate(&h.custodian).await.unwrap();
    let shallow = audit(&h.custodian, false).await.unwrap();
    assert_eq!(shallow.run_id, None, "a shallow audit opens no key and records no run");
    let deep = audit(&h.custodian, true).await.unwrap();
    let target: Arc<dyn Sealer> = Arc::new(LocalSealer::from_key(&[0x5a; 32]));
    let dry = reseal(&h.custodian, &target, Options { dry_run: true, ..Options::default() }).await.unwrap();
    let moved = reseal(&h.custodian, &target, Options::default()).await.unwrap();
    assert_eq!(moved.written, 7);

    let runs: Vec<RunRecord> = trail.latest_runs(10).await.unwrap();
    let summary: Vec<(&str, &str, Option<&str>, bool)> = runs
        .iter()
        .map(|r| (r.operation.as_str(), r.run_id.as_str(), r.target_seal.as_deref(), r.dry_run))
        .collect();
    let seal = h.custodian.sealer().id();
    assert_eq!(
        summary,
        [
            ("reseal", moved.run_id.as_str(), Some(target.id()), false),
            ("reseal", dry.run_id.as_str(), Some(target.id()), true),
            ("audit-deep", deep.run_id.as_deref().unwrap(), None, false),
            ("migrate", migrated.run_id.as_str(), Some(seal), false),
        ],
        "newest first"
    );
    for run in &runs {
        assert_eq!(run.action, "test-bulk");
        assert_eq!(run.actor.as_deref(), Some("tests:alice"));
        assert_eq!(run.table, h.store.table());
        assert_eq!(run.aws_identity, None, "no AWS identity outside AWS");
    }
    assert!(runs.windows(2).all(|w| w[0].at >= w[1].at));

    // Every key the reseal moved has its own entry under the run's id,
    // naming the seal it went under; the dry run moved none.
    addresses.push(rossignol_core::Address::parse(legacy.address().unwrap()).unwrap());
    for address in &addresses {
        let entries = trail.latest(address, 10).await.unwrap();
        let moves: Vec<_> = entries.iter().filter(|e| e.action == "test-bulk").collect();
        assert_eq!(moves.len(), 1, "{address}: {entries:?}");
        assert_eq!(moves[0].request_id, moved.run_id);
        assert_eq!(moves[0].target_seal.as_deref(), Some(target.id()));
        assert_eq!(moves[0].actor.as_deref(), Some("tests:alice"));
    }
}

/// The trail here is a DynamoDB table nobody made: every append fails.
async fn a_bulk_run_whose_trail_entry_cannot_be_written_touches_nothing(h: &Harness) {
    let Some(endpoint) = server(DYNAMODB_ENDPOINT, "DynamoDB Local") else { return };
    let missing = DynamoTrail::new(dynamo_client(&endpoint).await, "rossignol_no_such_trail");
    for _ in 0..3 {
        h.custodian.create("test").await.unwrap();
    }
    let (legacy, _) = legacy_item([0x43; 32]);
    h.store.create(&legacy).await.unwrap();
    let custodian = Custodian::new(Arc::clone(&h.store), Arc::clone(h.custodian.sealer()), Arc::new(missing));
    let before = snapshot(&h.store).await;

    let target: Arc<dyn Sealer> = Arc::new(LocalSealer::from_key(&[0x5b; 32]));
    let err = reseal(&custodian, &target, Options::default()).await.unwrap_err();
    assert!(matches!(err, Error::AccessTrail { .. }), "{err}");
    let err = migrate(&custodian).await.unwrap_err();
    assert!(matches!(err, Error::AccessTrail { .. }), "{err}");
    let err = audit(&custodian, true).await.unwrap_err();
    assert!(matches!(err, Error::AccessTrail { .. }), "{err}");
    assert_eq!(snapshot(&h.store).await, before, "nothing was written");
    audit(&custodian, false).await.unwrap();
}

/// KMS (moto) to a local key file is refused without `allow_downgrade`,
/// before any entry or row is written; with it, the keys move.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moving_keys_from_kms_to_a_local_key_needs_allow_downgrade() {
    let Some(endpoint) = server(KMS_ENDPOINT, "the KMS server (moto)") else { return };
    let Some(table) = TestTable::new("downgrade").await else { return };
    let client = kms_client(&endpoint).await;
    let key = client.create_key().description("rossignol downgrade test").send().await.unwrap();
    let kms: Arc<dyn Sealer> = Arc::new(KmsSealer::new(client, key.key_metadata.unwrap().key_id));
    let store: Arc<dyn AccountStore> = Arc::new(table.store.clone());
    let custodian = Custodian::new(Arc::clone(&store), kms, Arc::new(table.trail.clone()));
    for _ in 0..3 {
        custodian.create("test").await.unwrap();
    }
    let before = snapshot(&store).await;
    let local: Arc<dyn Sealer> = Arc::new(LocalSealer::from_key(&[0x5c; 32]));

    let err = reseal(&custodian, &local, Options::default()).await.unwrap_err();
    assert!(matches!(err, Error::SealDowngrade { .. }), "{err}");
    assert!(err.to_string().contains("--allow-downgrade"), "{err}");
    assert!(err.is_usage());
    assert_eq!(snapshot(&store).await, before);
    assert!(table.trail.latest_runs(5).await.unwrap().is_empty(), "refused before the run started");

    let report = reseal(&custodian, &local, Options { allow_downgrade: true, ..Options::default() }).await;
    let report = report.unwrap();
    assert_eq!((report.written, report.verified), (3, 3));
    let runs = table.trail.latest_runs(5).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].target_seal.as_deref(), Some(local.id()));
}
