#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Migrating Node-era rows and rotating seals, on every store: keys are
//! kept, nothing is clobbered or written unverified, a stopped run is
//! finished by running it again, and records stay readable mid-rotation.

#[macro_use]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use ed25519_dalek::Verifier as _;
use rossignol_core::audit::{self, AuditOptions, AuditReport, FindingKind};
use rossignol_core::lifecycle::{self, Options, Progress, Report};
use rossignol_core::seal::{KmsSealer, LocalSealer, SealContext, SealRing, Sealer};
use rossignol_core::sign::{Payload, Signed};
use rossignol_core::store::record::{
    DISABLED_AT, DISABLED_BY, LEGACY_PRIVATE_KEY, PUBLIC_KEY, SCHEMA_VERSION, SCHEME, SEAL,
    SEALED_PRIVATE_KEY,
};
use rossignol_core::store::{
    AccountStore, Attr, Cursor, InitOutcome, Item, Page, Segment, TableReport, parallel_scan,
};
use rossignol_core::{Address, Custodian, Error, KeyMaterial, PrivateKey, Requester, Result};
use support::{Harness, KMS_ENDPOINT, TestTable, kms_client, legacy_item, server};
use tokio::sync::{Notify, watch};
use zeroize::Zeroizing;

for_each_store!(
    legacy_rows_are_sealed_in_place_with_their_keys,
    a_row_changed_between_scan_and_write_is_skipped_and_reported,
    a_scan_that_fails_midway_still_reports_what_was_done,
    a_key_that_does_not_derive_its_address_is_never_written,
    a_dry_run_writes_nothing,
    a_second_run_is_a_no_op,
    a_rerun_reports_a_migrated_row_that_does_not_open,
    a_seal_that_cannot_open_what_it_seals_writes_nothing,
    disabled_rows_stay_disabled,
    a_stopped_migration_is_finished_by_running_it_again,
    a_local_reseal_keeps_every_record_readable_mid_rotation,
    a_reseal_dry_run_writes_nothing_and_a_key_it_cannot_open_is_reported,
);

fn requester() -> Requester {
    Requester { action: "test".into(), request_id: "lifecycle".into(), ..Default::default() }
}

async fn migrate(custodian: &Custodian, dry_run: bool) -> Report {
    let (tx, _rx) = watch::channel(Progress::default());
    let options = Options { dry_run, concurrency: 8, segments: 4, ..Options::default() };
    lifecycle::migrate::run(custodian, options, &requester(), tx, Arc::new(AtomicBool::new(false)))
        .await
        .unwrap()
}

async fn reseal(custodian: &Custodian, target: &Arc<dyn Sealer>, dry_run: bool) -> Report {
    let (tx, _rx) = watch::channel(Progress::default());
    let options = Options { dry_run, concurrency: 8, segments: 4, ..Options::default() };
    lifecycle::reseal::run(
        custodian,
        Arc::clone(target),
        options,
        &requester(),
        tx,
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .unwrap()
}

async fn audit(custodian: &Custodian, deep: bool) -> AuditReport {
    let (tx, _rx) = watch::channel(audit::Progress::default());
    let options = AuditOptions { deep, segments: 4 };
    audit::run(custodian, options, &requester(), tx, Arc::new(AtomicBool::new(false))).await.unwrap()
}

fn record_findings(report: &AuditReport) -> Vec<(String, FindingKind)> {
    report
        .findings
        .iter()
        .filter(|f| f.kind != FindingKind::TableSetting)
        .map(|f| (f.address.clone(), f.kind))
        .collect()
}

/// Every item of the table, by address.
async fn snapshot(store: &Arc<dyn AccountStore>) -> BTreeMap<String, Item> {
    let mut pages = parallel_scan(Arc::clone(store), 2, 100);
    let mut items = BTreeMap::new();
    while let Some(page) = pages.recv().await {
        for item in page.unwrap() {
            items.insert(item.address().unwrap().to_owned(), item);
        }
    }
    items
}

/// Seeds `n` legacy rows with distinct seeds; returns (address, base64 key, seed).
async fn seed_legacy(h: &Harness, n: usize, first: u8) -> Vec<(Address, String, [u8; 32])> {
    let mut rows = Vec::new();
    for i in 0..n {
        let mut seed = [first; 32];
        seed[0] = i as u8;
        seed[1] = (i >> 8) as u8;
        let (item, secret) = legacy_item(seed);
        h.store.create(&item).await.unwrap();
        rows.push((Address::parse(item.address().unwrap()).unwrap(), secret, seed));
    }
    rows
}

fn with_custodian(h: &Harness, store: Arc<dyn AccountStore>, sealer: Arc<dyn Sealer>) -> Custodian {
    Custodian::new(store, sealer, Arc::clone(h.custodian.trail()))
}

async fn legacy_rows_are_sealed_in_place_with_their_keys(h: &Harness) {
    let legacy = seed_legacy(h, 30, 0x11).await;
    for _ in 0..5 {
        h.custodian.create("test").await.unwrap();
    }
    let before = snapshot(&h.store).await;
    let audited = audit(&h.custodian, true).await;
    assert_eq!(audited.seals.get("plaintext"), Some(&30));

    let report = migrate(&h.custodian, false).await;
    assert_eq!(report.examined, 35);
    assert_eq!(report.written, 30);
    assert_eq!(report.verified, 30);
    assert_eq!(report.already_done, 5);
    assert_eq!(report.would_write, 0);
    assert!(report.failed.is_empty() && report.changed.is_empty(), "{report:?}");
    assert!(report.is_complete());
    assert_eq!(report.target_seal, h.custodian.sealer().id());

    let after = snapshot(&h.store).await;
    for (address, secret, seed) in &legacy {
        let item = &after[&address.to_storage()];
        let old = &before[&address.to_storage()];
        assert!(item.get(LEGACY_PRIVATE_KEY).is_none(), "the plaintext is gone");
        assert_eq!(item.get(SEAL), Some(&Attr::S(h.custodian.sealer().id().to_owned())));
        assert!(matches!(item.get(SEALED_PRIVATE_KEY), Some(Attr::B(blob)) if !blob.is_empty()));
        assert_eq!(item.get(SCHEME), Some(&Attr::S("ed25519".into())));
        assert_eq!(item.get(SCHEMA_VERSION), Some(&Attr::N("1".into())));
        assert_eq!(item.get(PUBLIC_KEY), old.get(PUBLIC_KEY));
        let Some(Attr::B(blob)) = item.get(SEALED_PRIVATE_KEY) else { unreachable!() };
        assert!(!blob.windows(32).any(|w| w == seed.as_slice()), "the seed is not in the clear");

        // The getter's path: the same base64 text and scheme as before.
        let (record, key) = h.custodian.reveal(address, &requester()).await.unwrap();
        assert_eq!(record.scheme.as_str(), "ed25519");
        assert!(!record.is_legacy());
        assert!(matches!(key, KeyMaterial::LegacyEd25519(_)));
        assert_eq!(key.reveal_text().as_str(), secret);
    }
    // The secp256k1 records were not touched.
    for (address, item) in &before {
        if item.get(LEGACY_PRIVATE_KEY).is_none() {
            assert_eq!(&after[address], item);
        }
    }

    // Signing still works, with the same ed25519 key.
    let (address, _, seed) = &legacy[3];
    let (_, signed) =
        h.custodian.sign(address, &Payload::Message(b"migrated".to_vec()), &requester()).await.unwrap();
    let Signed::Ed25519Message { signature, .. } = signed else { panic!("{signed:?}") };
    let verifying = ed25519_dalek::SigningKey::from_bytes(seed).verifying_key();
    verifying.verify(b"migrated", &ed25519_dalek::Signature::from_slice(&signature).unwrap()).unwrap();

    // The audit sees every record under the one seal and opens them all.
    let audited = audit(&h.custodian, true).await;
    assert_eq!(audited.checked, 35);
    assert_eq!(audited.ok, 35);
    assert!(record_findings(&audited).is_empty(), "{:?}", audited.findings);
    assert_eq!(audited.seals.get(h.custodian.sealer().id()), Some(&35));
    assert_eq!(audited.seals.get("plaintext"), None);
}

/// A store that changes one row (disables it) right before the migration
/// writes it: the race a conditional write must lose gracefully.
#[derive(Debug)]
struct Meddler {
    inner: Arc<dyn AccountStore>,
    target: String,
    meddled: AtomicBool,
}

#[async_trait]
impl AccountStore for Meddler {
    fn table(&self) -> &str {
        self.inner.table()
    }
    async fn create(&self, item: &Item) -> Result<()> {
        self.inner.create(item).await
    }
    async fn get(&self, address: &Address) -> Result<Option<Item>> {
        self.inner.get(address).await
    }
    async fn replace(&self, current: &Item, new: &Item) -> Result<()> {
        if current.address() == Some(self.target.as_str()) && !self.meddled.swap(true, Ordering::SeqCst) {
            let mut changed = current.clone();
            changed.insert(DISABLED_AT, Attr::S("2024-01-02T03:04:05.000Z".into()));
            changed.insert(DISABLED_BY, Attr::S("someone else".into()));
            self.inner.replace(current, &changed).await?;
        }
        self.inner.replace(current, new).await
    }
    async fn remove(&self, current: &Item) -> Result<()> {
        self.inner.remove(current).await
    }
    async fn scan_segment(&self, segment: Segment, after: Option<&Cursor>, limit: usize) -> Result<Page> {
        self.inner.scan_segment(segment, after, limit).await
    }
    async fn describe(&self) -> Result<TableReport> {
        self.inner.describe().await
    }
    async fn init(&self) -> Result<InitOutcome> {
        self.inner.init().await
    }
}

/// A store whose scan of the last segment fails once a row of another
/// segment has been written (a condition, not a sleep: on a loaded machine
/// no fixed delay guarantees that any row is done first).
#[derive(Debug)]
struct BrokenScan {
    inner: Arc<dyn AccountStore>,
    written: AtomicBool,
    wrote: Notify,
}

#[async_trait]
impl AccountStore for BrokenScan {
    fn table(&self) -> &str {
        self.inner.table()
    }
    async fn create(&self, item: &Item) -> Result<()> {
        self.inner.create(item).await
    }
    async fn get(&self, address: &Address) -> Result<Option<Item>> {
        self.inner.get(address).await
    }
    async fn replace(&self, current: &Item, new: &Item) -> Result<()> {
        self.inner.replace(current, new).await?;
        self.written.store(true, Ordering::SeqCst);
        self.wrote.notify_waiters();
        Ok(())
    }
    async fn remove(&self, current: &Item) -> Result<()> {
        self.inner.remove(current).await
    }
    async fn scan_segment(&self, segment: Segment, after: Option<&Cursor>, limit: usize) -> Result<Page> {
        if segment.index + 1 == segment.total {
            let first_write = async {
                loop {
                    let wrote = self.wrote.notified();
                    if self.written.load(Ordering::SeqCst) {
                        return;
                    }
                    wrote.await;
                }
            };
            // Bounded, so that a broken migration fails the test instead of hanging it.
            tokio::time::timeout(std::time::Duration::from_secs(120), first_write)
                .await
                .expect("no row of the other segments was written within 120 s");
            return Err(Error::Service {
                service: "test",
                operation: "Scan",
                message: "connection reset".into(),
            });
        }
        self.inner.scan_segment(segment, after, limit).await
    }
    async fn describe(&self) -> Result<TableReport> {
        self.inner.describe().await
    }
    async fn init(&self) -> Result<InitOutcome> {
        self.inner.init().await
    }
}

async fn a_scan_that_fails_midway_still_reports_what_was_done(h: &Harness) {
    seed_legacy(h, 40, 0x23).await;
    let broken: Arc<dyn AccountStore> = Arc::new(BrokenScan {
        inner: Arc::clone(&h.store),
        written: AtomicBool::new(false),
        wrote: Notify::new(),
    });
    let custodian = with_custodian(h, broken, Arc::clone(h.custodian.sealer()));

    let first = migrate(&custodian, false).await;
    let error = first.scan_error.as_deref().expect("the scan error is in the report");
    assert!(error.contains("connection reset"), "{error}");
    assert!(!first.is_complete());
    assert_eq!(first.written, first.verified, "what was written was verified: {first:?}");
    assert!(first.failed.is_empty() && first.written > 0 && first.written < 40, "{first:?}");
    let sealed =
        snapshot(&h.store).await.values().filter(|item| item.get(SEALED_PRIVATE_KEY).is_some()).count();
    assert_eq!(sealed as u64, first.written, "the report counts every row written");

    let second = migrate(&h.custodian, false).await;
    assert!(second.is_complete() && second.scan_error.is_none(), "{second:?}");
    assert_eq!((second.written, second.already_done), (40 - first.written, first.written));
}

async fn a_row_changed_between_scan_and_write_is_skipped_and_reported(h: &Harness) {
    let legacy = seed_legacy(h, 6, 0x22).await;
    let (victim, secret, _) = &legacy[2];
    let meddler: Arc<dyn AccountStore> = Arc::new(Meddler {
        inner: Arc::clone(&h.store),
        target: victim.to_storage(),
        meddled: AtomicBool::new(false),
    });
    let custodian = with_custodian(h, meddler, Arc::clone(h.custodian.sealer()));

    let report = migrate(&custodian, false).await;
    assert_eq!(report.changed, vec![victim.to_storage()]);
    assert_eq!(report.written, 5);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(!report.is_complete());

    // The other writer's change stands, and the row is still plaintext.
    let item = h.store.get(victim).await.unwrap().unwrap();
    assert_eq!(item.get(DISABLED_BY), Some(&Attr::S("someone else".into())));
    assert_eq!(item.get(LEGACY_PRIVATE_KEY), Some(&Attr::S(secret.clone())));

    // Running again picks it up, keeping the change.
    let report = migrate(&h.custodian, false).await;
    assert_eq!((report.written, report.already_done), (1, 5));
    assert!(report.is_complete());
    let item = h.store.get(victim).await.unwrap().unwrap();
    assert!(item.get(LEGACY_PRIVATE_KEY).is_none());
    assert_eq!(item.get(DISABLED_BY), Some(&Attr::S("someone else".into())));
    let (_, key) = h.custodian.open_unrecorded(victim).await.unwrap();
    assert_eq!(key.reveal_text().as_str(), secret);
}

async fn a_key_that_does_not_derive_its_address_is_never_written(h: &Harness) {
    let good = seed_legacy(h, 3, 0x33).await;

    // A key stored under another account's address.
    let (mut moved, moved_secret) = legacy_item([0x44; 32]);
    let (other, _) = legacy_item([0x45; 32]);
    moved.insert("address", other.get("address").unwrap().clone());
    moved.insert(PUBLIC_KEY, other.get(PUBLIC_KEY).unwrap().clone());
    h.store.create(&moved).await.unwrap();
    // A key pair whose halves do not match.
    let (mut torn, torn_secret) = legacy_item([0x46; 32]);
    let (_, donor_secret) = legacy_item([0x47; 32]);
    let mut pair = base64_decode(&torn_secret);
    pair[32..].copy_from_slice(&base64_decode(&donor_secret)[32..]);
    torn.insert(LEGACY_PRIVATE_KEY, Attr::S(base64_encode(&pair)));
    h.store.create(&torn).await.unwrap();
    // Not base64 at all.
    let (mut garbled, _) = legacy_item([0x48; 32]);
    garbled.insert(LEGACY_PRIVATE_KEY, Attr::S("not base64!".into()));
    h.store.create(&garbled).await.unwrap();

    let bad = [&moved, &torn, &garbled];
    for dry_run in [true, false] {
        let report = migrate(&h.custodian, dry_run).await;
        let failed: Vec<&str> = report.failed.iter().map(|f| f.address.as_str()).collect();
        for item in bad {
            assert!(failed.contains(&item.address().unwrap()), "{failed:?}");
        }
        assert_eq!(report.failed.len(), 3);
        let shown = serde_json::to_string(&report).unwrap();
        for secret in [&moved_secret, &torn_secret] {
            assert!(!shown.contains(secret.as_str()), "a key is in the report");
            assert!(!shown.contains(&secret[..20]), "a key is in the report");
        }
        assert!(report.failed.iter().all(|f| f.reason.starts_with("not migrated")), "{:?}", report.failed);
        for item in bad {
            let address = Address::parse(item.address().unwrap()).unwrap();
            assert_eq!(&h.store.get(&address).await.unwrap().unwrap(), item, "never written");
        }
    }
    for (address, secret, _) in &good {
        let (_, key) = h.custodian.open_unrecorded(address).await.unwrap();
        assert_eq!(key.reveal_text().as_str(), secret);
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn a_dry_run_writes_nothing(h: &Harness) {
    seed_legacy(h, 12, 0x55).await;
    h.custodian.create("test").await.unwrap();
    let before = snapshot(&h.store).await;
    let report = migrate(&h.custodian, true).await;
    assert!(report.dry_run);
    assert_eq!((report.examined, report.would_write, report.written), (13, 12, 0));
    assert_eq!(report.already_done, 1);
    assert_eq!(report.verified, 0);
    assert!(report.is_complete());
    assert_eq!(snapshot(&h.store).await, before);
}

async fn a_second_run_is_a_no_op(h: &Harness) {
    seed_legacy(h, 10, 0x66).await;
    let first = migrate(&h.custodian, false).await;
    assert_eq!(first.written, 10);
    let after_first = snapshot(&h.store).await;
    let second = migrate(&h.custodian, false).await;
    assert_eq!((second.examined, second.written, second.already_done), (10, 0, 10));
    assert_eq!(second.verified, 10, "a rerun opens and checks what earlier runs migrated");
    assert!(second.is_complete());
    assert_eq!(snapshot(&h.store).await, after_first);
}

/// A seal that encrypts but cannot decrypt (a KMS key without Decrypt, say).
#[derive(Debug)]
struct WriteOnly(LocalSealer);

#[async_trait]
impl Sealer for WriteOnly {
    fn id(&self) -> &str {
        self.0.id()
    }
    async fn seal_secret(&self, ctx: SealContext<'_>, secret: &Zeroizing<[u8; 32]>) -> Result<Vec<u8>> {
        self.0.seal_secret(ctx, secret).await
    }
    async fn open_secret(&self, ctx: SealContext<'_>, _: &str, _: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        Err(Error::Unseal { address: ctx.address.to_string(), reason: "Decrypt is not allowed".into() })
    }
}

/// Such a seal must never replace a working one: every row is refused
/// before its write, for migrate and for reseal alike.
async fn a_seal_that_cannot_open_what_it_seals_writes_nothing(h: &Harness) {
    seed_legacy(h, 3, 0x69).await;
    for _ in 0..3 {
        h.custodian.create("test").await.unwrap();
    }
    let before = snapshot(&h.store).await;
    let target: Arc<dyn Sealer> = Arc::new(WriteOnly(LocalSealer::from_key(&[0x6au8; 32])));

    let migrating = with_custodian(h, Arc::clone(&h.store), Arc::clone(&target));
    let report = migrate(&migrating, false).await;
    assert_eq!((report.written, report.failed.len()), (0, 3), "{report:?}");
    let report = reseal(&h.custodian, &target, false).await;
    assert_eq!((report.written, report.failed.len()), (0, 3), "{report:?}");
    for failure in &report.failed {
        assert!(failure.reason.contains("the new seal cannot be opened"), "{failure:?}");
    }
    assert_eq!(snapshot(&h.store).await, before, "nothing was written");
}

/// A run that died between a write and its read-back left a row it never
/// checked; the rerun checks it, and reports one that does not open.
async fn a_rerun_reports_a_migrated_row_that_does_not_open(h: &Harness) {
    let rows = seed_legacy(h, 3, 0x68).await;
    assert_eq!(migrate(&h.custodian, false).await.written, 3);
    // Row 0 ends up holding row 1's sealed seed: sealed for another address.
    let (first, second) = (&rows[0].0, &rows[1].0);
    let current = h.store.get(first).await.unwrap().unwrap();
    let donor = h.store.get(second).await.unwrap().unwrap();
    let mut broken = current.clone();
    broken.insert(SEALED_PRIVATE_KEY, donor.get(SEALED_PRIVATE_KEY).unwrap().clone());
    h.store.replace(&current, &broken).await.unwrap();

    let rerun = migrate(&h.custodian, false).await;
    assert_eq!((rerun.written, rerun.already_done, rerun.verified), (0, 2, 2), "{rerun:?}");
    assert_eq!(rerun.failed.len(), 1, "{rerun:?}");
    assert_eq!(rerun.failed[0].address, first.to_storage());
    assert!(rerun.failed[0].reason.starts_with("already migrated, but "), "{:?}", rerun.failed);
    assert!(!rerun.is_complete());
    assert_eq!(h.store.get(first).await.unwrap().unwrap(), broken, "nothing is rewritten");
}

async fn disabled_rows_stay_disabled(h: &Harness) {
    let legacy = seed_legacy(h, 2, 0x77).await;
    let (address, secret, _) = &legacy[0];
    assert!(h.custodian.set_disabled(address, Some("ops:alice")).await.unwrap());
    let before = h.store.get(address).await.unwrap().unwrap();

    let report = migrate(&h.custodian, false).await;
    assert_eq!(report.written, 2);
    let after = h.store.get(address).await.unwrap().unwrap();
    assert_eq!(after.get(DISABLED_AT), before.get(DISABLED_AT));
    assert_eq!(after.get(DISABLED_BY), Some(&Attr::S("ops:alice".into())));
    let err = h.custodian.reveal(address, &requester()).await.unwrap_err();
    assert!(matches!(err, Error::Disabled { .. }), "{err}");

    assert!(h.custodian.set_disabled(address, None).await.unwrap());
    let (_, key) = h.custodian.reveal(address, &requester()).await.unwrap();
    assert_eq!(key.reveal_text().as_str(), secret);
}

async fn a_stopped_migration_is_finished_by_running_it_again(h: &Harness) {
    let legacy = seed_legacy(h, 120, 0x88).await;
    let (tx, mut rx) = watch::channel(Progress::default());
    let cancel = Arc::new(AtomicBool::new(false));
    let stopper = {
        let cancel = Arc::clone(&cancel);
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                if rx.borrow().written >= 20 {
                    cancel.store(true, Ordering::SeqCst);
                    return;
                }
            }
        })
    };
    let options = Options { dry_run: false, concurrency: 2, segments: 4, ..Options::default() };
    let first = lifecycle::migrate::run(&h.custodian, options, &requester(), tx, cancel).await.unwrap();
    stopper.await.unwrap();
    assert!(first.cancelled);
    assert!(first.written >= 20 && first.written < 120, "{}", first.written);
    assert!(!first.is_complete());
    let audited = audit(&h.custodian, false).await;
    assert_eq!(audited.seals.get("plaintext"), Some(&(120 - first.written)));

    let second = migrate(&h.custodian, false).await;
    assert_eq!(second.written + first.written, 120, "every row written exactly once");
    assert_eq!(second.already_done, first.written);
    assert!(second.is_complete());
    for (address, secret, _) in &legacy {
        let (_, key) = h.custodian.open_unrecorded(address).await.unwrap();
        assert_eq!(key.reveal_text().as_str(), secret);
    }
}

async fn a_local_reseal_keeps_every_record_readable_mid_rotation(h: &Harness) {
    let old = Arc::clone(h.custodian.sealer());
    let mut secp = Vec::new();
    for _ in 0..40 {
        let key = PrivateKey::generate_os();
        h.custodian.create_with_key(key.clone(), "test").await.unwrap();
        secp.push(key);
    }
    let legacy = seed_legacy(h, 8, 0x99).await;
    let report = migrate(&h.custodian, false).await;
    assert_eq!(report.written, 8);
    let plaintext = seed_legacy(h, 2, 0x9a).await;

    let new: Arc<dyn Sealer> = Arc::new(LocalSealer::from_key(&[0xabu8; 32]));
    // Stop the rotation part way.
    let (tx, mut rx) = watch::channel(Progress::default());
    let cancel = Arc::new(AtomicBool::new(false));
    let stopper = {
        let cancel = Arc::clone(&cancel);
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                if rx.borrow().written >= 10 {
                    cancel.store(true, Ordering::SeqCst);
                    return;
                }
            }
        })
    };
    let options = Options { dry_run: false, concurrency: 2, segments: 4, ..Options::default() };
    let first = lifecycle::reseal::run(&h.custodian, Arc::clone(&new), options, &requester(), tx, cancel)
        .await
        .unwrap();
    stopper.await.unwrap();
    assert!(first.cancelled);
    assert!(first.written >= 10 && first.written < 48, "{}", first.written);
    assert_eq!(first.verified, first.written);

    // Mid-rotation: the rotated configuration (new seal, old kept open)
    // opens every record, and its audit knows both seals.
    let ring: Arc<dyn Sealer> = Arc::new(SealRing::new(Arc::clone(&new), vec![Arc::clone(&old)]));
    let rotating = with_custodian(h, Arc::clone(&h.store), Arc::clone(&ring));
    for key in &secp {
        let (_, opened) = rotating.open_unrecorded(&key.address()).await.unwrap();
        let KeyMaterial::Secp256k1(opened) = opened else { panic!("secp256k1") };
        assert_eq!(*opened.reveal_bytes(), *key.reveal_bytes());
    }
    for (address, secret, _) in &legacy {
        let (_, key) = rotating.open_unrecorded(address).await.unwrap();
        assert_eq!(key.reveal_text().as_str(), secret);
    }
    let audited = audit(&rotating, true).await;
    assert_eq!(audited.seals.get(new.id()), Some(&first.written));
    assert_eq!(audited.seals.get(old.id()), Some(&(48 - first.written)));
    assert_eq!(audited.seals.get("plaintext"), Some(&2));
    let unexpected: Vec<_> = record_findings(&audited)
        .into_iter()
        .filter(|(_, kind)| *kind != FindingKind::PlaintextKeyAtRest)
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    // The old configuration alone does not know the new seal.
    let audited = audit(&h.custodian, false).await;
    let unknown = audited.findings.iter().filter(|f| f.kind == FindingKind::UnknownSeal).count();
    assert_eq!(unknown as u64, first.written);

    // Finishing the rotation from the rotated configuration.
    let second = reseal(&rotating, &new, false).await;
    assert_eq!(second.written + first.written, 48, "each record resealed once");
    assert_eq!(second.already_done, first.written);
    assert_eq!(second.verified, 48, "every sealed key was verified");
    assert_eq!(second.not_sealed, 2);
    assert!(second.is_complete(), "{second:?}");
    let again = reseal(&rotating, &new, false).await;
    assert_eq!((again.written, again.already_done, again.verified), (0, 48, 48));

    // Done: the new seal alone opens everything, as before.
    let rotated = with_custodian(h, Arc::clone(&h.store), Arc::clone(&new));
    let audited = audit(&rotated, true).await;
    assert_eq!(audited.seals.get(new.id()), Some(&48));
    assert_eq!(audited.seals.get(old.id()), None);
    for key in &secp {
        let (_, opened) = rotated.open_unrecorded(&key.address()).await.unwrap();
        let KeyMaterial::Secp256k1(opened) = opened else { panic!("secp256k1") };
        assert_eq!(*opened.reveal_bytes(), *key.reveal_bytes());
    }
    for (address, secret, _) in &legacy {
        let (_, key) = rotated.reveal(address, &requester()).await.unwrap();
        assert_eq!(key.reveal_text().as_str(), secret);
    }
    for (address, secret, _) in &plaintext {
        let item = h.store.get(address).await.unwrap().unwrap();
        assert_eq!(item.get(LEGACY_PRIVATE_KEY), Some(&Attr::S(secret.clone())), "left for migrate");
    }
}

async fn a_reseal_dry_run_writes_nothing_and_a_key_it_cannot_open_is_reported(h: &Harness) {
    for _ in 0..6 {
        h.custodian.create("test").await.unwrap();
    }
    // A record under a key this environment does not have.
    let stranger = LocalSealer::from_key(&[0x5au8; 32]);
    let foreign = with_custodian(h, Arc::clone(&h.store), Arc::new(stranger));
    let lost = foreign.create("elsewhere").await.unwrap().address;

    let new: Arc<dyn Sealer> = Arc::new(LocalSealer::from_key(&[0x5bu8; 32]));
    let before = snapshot(&h.store).await;
    let report = reseal(&h.custodian, &new, true).await;
    assert!(report.dry_run);
    assert_eq!((report.examined, report.would_write, report.written), (7, 6, 0));
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].address, lost.to_storage());
    assert_eq!(snapshot(&h.store).await, before);

    let report = reseal(&h.custodian, &new, false).await;
    assert_eq!(report.written, 6);
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].reason.contains("not resealed"), "{:?}", report.failed);
    assert_eq!(h.store.get(&lost).await.unwrap(), before.get(&lost.to_storage()).cloned());
}

/// KMS to KMS against moto: the new key alone opens records still under
/// the old one (KMS ciphertexts name their key), and the audit of the
/// rotated configuration knows both.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kms_reseal_moves_every_key_to_the_new_kms_key() {
    let Some(endpoint) = server(KMS_ENDPOINT, "the KMS server (moto)") else { return };
    let Some(table) = TestTable::new("reseal_kms").await else { return };
    let client = kms_client(&endpoint).await;
    let mut key_ids = Vec::new();
    for _ in 0..2 {
        let key = client.create_key().description("rossignol reseal test").send().await.unwrap();
        key_ids.push(key.key_metadata.unwrap().key_id);
    }
    let old: Arc<dyn Sealer> = Arc::new(KmsSealer::new(client.clone(), key_ids[0].clone()));
    let new: Arc<dyn Sealer> = Arc::new(KmsSealer::new(client.clone(), key_ids[1].clone()));
    let store: Arc<dyn AccountStore> = Arc::new(table.store.clone());
    let trail = Arc::new(table.trail.clone());
    let before = Custodian::new(Arc::clone(&store), Arc::clone(&old), trail.clone());

    let mut keys = Vec::new();
    for _ in 0..12 {
        let key = PrivateKey::generate_os();
        before.create_with_key(key.clone(), "test").await.unwrap();
        keys.push(key);
    }
    let (legacy, secret) = legacy_item([0x61; 32]);
    store.create(&legacy).await.unwrap();
    let legacy = Address::parse(legacy.address().unwrap()).unwrap();
    assert_eq!(migrate(&before, false).await.written, 1);

    // Only the new key configured: records under the old one still open.
    let after = Custodian::new(Arc::clone(&store), Arc::clone(&new), trail.clone());
    let (_, key) = after.open_unrecorded(&keys[0].address()).await.unwrap();
    assert!(matches!(key, KeyMaterial::Secp256k1(_)));

    let report = reseal(&before, &new, false).await;
    assert_eq!((report.written, report.verified), (13, 13));
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.target_seal, new.id());

    let ring: Arc<dyn Sealer> = Arc::new(SealRing::new(Arc::clone(&new), vec![Arc::clone(&old)]));
    let rotating = Custodian::new(Arc::clone(&store), ring, trail.clone());
    let audited = audit(&rotating, true).await;
    assert_eq!(audited.seals.get(new.id()), Some(&13));
    assert!(record_findings(&audited).is_empty(), "{:?}", audited.findings);

    // The old key can no longer open what was resealed.
    let item = store.get(&keys[1].address()).await.unwrap().unwrap();
    let Some(Attr::B(blob)) = item.get(SEALED_PRIVATE_KEY) else { panic!("sealed") };
    let address = keys[1].address();
    let ctx = SealContext::record(&address, store.table());
    assert!(old.open(ctx, old.id(), blob).await.is_err());
    for key in &keys {
        let (_, opened) = after.open_unrecorded(&key.address()).await.unwrap();
        let KeyMaterial::Secp256k1(opened) = opened else { panic!("secp256k1") };
        assert_eq!(*opened.reveal_bytes(), *key.reveal_bytes());
    }
    let (_, key) = after.reveal(&legacy, &requester()).await.unwrap();
    assert_eq!(key.reveal_text().as_str(), secret);
}
