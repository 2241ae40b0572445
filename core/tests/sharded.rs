#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Sharded custody over real providers: three embedded stores with their
//! own local keys always; and DynamoDB Local sealed by moto's KMS,
//! PostgreSQL sealed by OpenBao's transit and an embedded store with a
//! local key when `scripts/test` started them (always in CI).

#[macro_use]
mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use rand_core::{OsRng, RngCore};
use rossignol_core::audit::{self, AuditOptions, AuditReport, FindingKind, Progress};
use rossignol_core::custody::share::{NextShare, SealedShare};
use rossignol_core::custody::{Provider, ShardedCustody};
use rossignol_core::lifecycle;
use rossignol_core::seal::{KmsSealer, LocalSealer, SealContext, Sealer, ShareBinding, TransitSealer};
use rossignol_core::sign::Payload;
use rossignol_core::store::dynamo::{DynamoStore, DynamoTrail};
use rossignol_core::store::embedded::EmbeddedStore;
use rossignol_core::store::postgres::PostgresStore;
use rossignol_core::store::record::{EPOCH, SEALED_SHARE, SHARE_INDEX};
use rossignol_core::store::{AccountRecord, AccountStore, Attr, Item, StoredKey};
use rossignol_core::vss::{self, Share};
use rossignol_core::{Address, Custodian, Error, KeyMaterial, PrivateKey, Requester};
use support::{BAO_ADDR, BAO_TOKEN, DYNAMODB_ENDPOINT, KMS_ENDPOINT, PgTable, TestTable, kms_client, server};
use zeroize::Zeroizing;

/// Three providers (2-of-3) and what keeps them alive.
struct Sharded {
    providers: Vec<Provider>,
    custodian: Custodian,
    _tables: (Option<TestTable>, Option<PgTable>),
    _dir: tempfile::TempDir,
}

fn local_key() -> LocalSealer {
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    LocalSealer::from_key(&key)
}

fn embedded(dir: &tempfile::TempDir, name: &str) -> Provider {
    let store =
        Arc::new(EmbeddedStore::open(&dir.path().join(format!("{name}.redb")), "rossignol_vault").unwrap());
    Provider { name: name.into(), store: store.clone(), sealer: Arc::new(local_key()), trail: store }
}

/// A provider whose DynamoDB endpoint nothing listens on.
async fn dead(name: &str) -> Provider {
    let client = support::dynamo_client("http://127.0.0.1:9").await;
    Provider {
        name: name.into(),
        store: Arc::new(DynamoStore::new(client.clone(), "rossignol_vault")),
        sealer: Arc::new(local_key()),
        trail: Arc::new(DynamoTrail::new(client, "rossignol_vault_access")),
    }
}

fn custodian(providers: Vec<Provider>) -> Custodian {
    let custody = ShardedCustody::new("vault", 2, providers).unwrap().with_timeout(Duration::from_secs(30));
    Custodian::with_custody(Arc::new(custody))
}

impl Sharded {
    fn embedded() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let providers: Vec<Provider> =
            ["aws", "pg", "offline"].iter().map(|name| embedded(&dir, name)).collect();
        Sharded { custodian: custodian(providers.clone()), providers, _tables: (None, None), _dir: dir }
    }

    /// The three: DynamoDB Local sealed by moto's KMS, PostgreSQL
    /// sealed by an OpenBao transit key, and an embedded store with a local
    /// key.
    async fn aws() -> Option<Self> {
        let endpoint = server(KMS_ENDPOINT, "moto (KMS)")?;
        server(DYNAMODB_ENDPOINT, "DynamoDB Local")?;
        let bao = server(BAO_ADDR, "OpenBao")?;
        let token = Zeroizing::new(server(BAO_TOKEN, "OpenBao")?);
        let transit =
            TransitSealer::with_token(&bao, None, &format!("sharded-{}", support::random_suffix()), token)
                .unwrap();
        transit.set_up().await.unwrap();
        let table = TestTable::new("sharded").await?;
        let kms = kms_client(&endpoint).await;
        let key = kms.create_key().description("rossignol sharded test").send().await.unwrap();
        let key_id = key.key_metadata.unwrap().key_id;
        let aws = Provider {
            name: "aws".into(),
            store: Arc::new(table.store.clone()),
            sealer: Arc::new(KmsSealer::new(kms, key_id)),
            trail: Arc::new(table.trail.clone()),
        };
        let dir = tempfile::tempdir().unwrap();
        let pg_table = PgTable::new("sharded").await?;
        let pg_store = Arc::new(PostgresStore::connect(&pg_table.url, &pg_table.name).unwrap());
        let pg = Provider {
            name: "pg".into(),
            store: pg_store.clone(),
            sealer: Arc::new(transit),
            trail: pg_store,
        };
        let providers = vec![aws, pg, embedded(&dir, "offline")];
        let tables = (Some(table), Some(pg_table));
        Some(Sharded { custodian: custodian(providers.clone()), providers, _tables: tables, _dir: dir })
    }

    /// The same providers, with `slot`'s replaced by one that is down.
    async fn with_dead(&self, slot: usize) -> Custodian {
        let mut providers = self.providers.clone();
        providers[slot] = dead(&providers[slot].name).await;
        custodian(providers)
    }

    async fn item(&self, slot: usize, address: &Address) -> Option<Item> {
        self.providers[slot].store.get(address).await.unwrap()
    }

    async fn put(&self, slot: usize, current: &Item, new: &Item) {
        self.providers[slot].store.replace(current, new).await.unwrap();
    }
}

macro_rules! for_each_setup {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(&super::Sharded::embedded()).await;
                }
            )*
        }
        mod aws_postgres_offline {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some(setup) = super::Sharded::aws().await else { return };
                    super::$case(&setup).await;
                }
            )*
        }
    };
}

for_each_setup!(
    a_created_key_is_held_in_shares_and_opens,
    open_works_without_one_provider_and_names_it,
    create_with_a_provider_down_leaves_nothing_behind,
    a_corrupted_share_is_passed_over,
    a_share_moved_to_another_record_or_slot_does_not_open,
    one_provider_alone_reveals_nothing,
    epochs_never_mix,
    sixty_four_concurrent_creates_are_all_complete,
    the_trail_needs_k_providers,
    one_disabled_share_refuses_the_key,
    the_audit_names_the_provider_and_the_slot,
    repair_restores_a_wiped_provider_exactly,
    refresh_keeps_every_key_and_changes_every_share,
    shard_moves_a_single_store_in_and_finishes_what_a_stop_left,
);

fn requester() -> Requester {
    Requester::operator("test-reveal", "tests")
}

async fn reveal(custodian: &Custodian, address: &Address) -> rossignol_core::Result<PrivateKey> {
    match custodian.reveal(address, &requester()).await?.1 {
        KeyMaterial::Secp256k1(key) => Ok(key),
        KeyMaterial::LegacyEd25519(_) => panic!("a secp256k1 key was expected"),
    }
}

async fn create(s: &Sharded) -> PrivateKey {
    let key = PrivateKey::generate_os();
    s.custodian.create_with_key(key.clone(), "tests").await.unwrap();
    key
}

fn share_of(item: &Item) -> SealedShare {
    let StoredKey::Share(share) = AccountRecord::from_item(item).unwrap().key else { panic!("a share") };
    share
}

async fn a_created_key_is_held_in_shares_and_opens(s: &Sharded) {
    let key = create(s).await;
    let address = key.address();
    let hex = &key.reveal_hex()[2..];
    for (slot, provider) in s.providers.iter().enumerate() {
        let item = s.item(slot, &address).await.expect("every provider holds a share");
        let share = share_of(&item);
        assert_eq!((share.index, share.threshold, share.count, share.epoch), (slot as u8 + 1, 2, 3, 1));
        assert_eq!(share.seal, provider.sealer.id());
        assert_eq!(
            share.commitments.address().unwrap(),
            address,
            "the constant commitment is the public key"
        );
        assert!(item.get("sealed_private_key").is_none(), "no whole key is stored anywhere");
        assert!(!format!("{:?}", item.0.values().collect::<Vec<_>>()).contains(hex));
    }
    assert_eq!(*reveal(&s.custodian, &address).await.unwrap().reveal_bytes(), *key.reveal_bytes());
    let (record, signed) =
        s.custodian.sign(&address, &Payload::Message(b"hello".to_vec()), &requester()).await.unwrap();
    assert_eq!(record.seal(), Some("sharded 2-of-3"));
    let rossignol_core::sign::Signed::Message { signature, digest, .. } = &signed else {
        panic!("a message")
    };
    assert_eq!(support::recover(digest, signature), address);
}

async fn open_works_without_one_provider_and_names_it(s: &Sharded) {
    let key = create(s).await;
    for slot in 0..3 {
        let custodian = s.with_dead(slot).await;
        let (record, opened) = custodian.reveal(&key.address(), &requester()).await.unwrap();
        let KeyMaterial::Secp256k1(opened) = opened else { panic!("secp256k1") };
        assert_eq!(*opened.reveal_bytes(), *key.reveal_bytes());
        let StoredKey::Sharded(set) = &record.key else { panic!("a sharded record") };
        let unanswered = set.unanswered();
        assert_eq!(unanswered.len(), 1, "{unanswered:?}");
        assert_eq!(unanswered[0].0, s.providers[slot].name);
        // The access trail names it too.
        let entry = &s.custodian.latest_access(&key.address(), 1).await.unwrap()[0];
        let failed = entry.providers_failed.as_deref().unwrap_or_default();
        assert!(failed.starts_with(&format!("{}: ", s.providers[slot].name)), "{entry:?}");
    }
    // Two down: nothing opens, and the error is a retryable one naming them.
    let mut providers = s.providers.clone();
    providers[0] = dead("aws").await;
    providers[2] = dead("offline").await;
    let err = reveal(&custodian(providers), &key.address()).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("aws") && text.contains("offline") && !text.contains(&key.reveal_hex()[2..]),
        "{text}"
    );
}

async fn create_with_a_provider_down_leaves_nothing_behind(s: &Sharded) {
    for slot in 0..3 {
        let custodian = s.with_dead(slot).await;
        let key = PrivateKey::generate_os();
        let err = custodian.create_with_key(key.clone(), "tests").await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&format!("provider {}", s.providers[slot].name)), "{text}");
        assert!(text.contains("nothing was"), "{text}");
        assert!(err.is_transient(), "a provider that is down is worth a retry: {text}");
        for live in (0..3).filter(|&other| other != slot) {
            assert_eq!(s.item(live, &key.address()).await, None, "slot {live} kept a share");
        }
    }
}

async fn a_corrupted_share_is_passed_over(s: &Sharded) {
    // A flipped ciphertext byte at the first provider.
    let key = create(s).await;
    let address = key.address();
    let item = s.item(0, &address).await.unwrap();
    let mut flipped = item.clone();
    let Some(Attr::B(blob)) = flipped.0.get_mut(SEALED_SHARE) else { panic!("sealed_share") };
    let last = blob.len() - 1;
    blob[last] ^= 1;
    s.put(0, &item, &flipped).await;
    assert_eq!(*reveal(&s.custodian, &address).await.unwrap().reveal_bytes(), *key.reveal_bytes());
    // The use is recorded before the share is found bad; a second entry
    // names it.
    let trail = s.custodian.latest_access(&address, 2).await.unwrap();
    let failed: Vec<Option<&str>> = trail.iter().map(|e| e.providers_failed.as_deref()).collect();
    assert!(failed.contains(&None), "{trail:?}");
    assert!(failed.iter().flatten().any(|f| f.starts_with("aws: ")), "{trail:?}");
    assert!(trail.iter().any(|e| e.request_id.ends_with("#shares")), "{trail:?}");

    // A valid seal over a wrong share at the second provider.
    let key = create(s).await;
    let address = key.address();
    let item = s.item(1, &address).await.unwrap();
    let share = share_of(&item);
    let digest = share.commitments_digest();
    let provider = &s.providers[1];
    let ctx = SealContext::share(&address, provider.store.table(), share.binding(&digest));
    let mut wrong = [0u8; 32];
    OsRng.fill_bytes(&mut wrong[1..]);
    let blob = provider.sealer.seal_secret(ctx, &Zeroizing::new(wrong)).await.unwrap();
    let mut resealed = item.clone();
    resealed.insert(SEALED_SHARE, Attr::B(blob));
    s.put(1, &item, &resealed).await;
    assert_eq!(*reveal(&s.custodian, &address).await.unwrap().reveal_bytes(), *key.reveal_bytes());
    // With the third provider down, the bad share is all that is left: refused.
    let err = reveal(&s.with_dead(2).await, &address).await.unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
}

async fn a_share_moved_to_another_record_or_slot_does_not_open(s: &Sharded) {
    let (a, b) = (create(s).await, create(s).await);
    // The first provider's share of `a`, written onto `b`'s record there.
    let a_item = s.item(0, &a.address()).await.unwrap();
    let b_item = s.item(0, &b.address()).await.unwrap();
    let mut moved = a_item.clone();
    moved.insert("address", b_item.get("address").unwrap().clone());
    for attr in ["public_key", "commitments"] {
        moved.insert(attr, b_item.get(attr).unwrap().clone());
    }
    s.put(0, &b_item, &moved).await;
    // `b` still opens from the other two; without them it does not.
    assert_eq!(*reveal(&s.custodian, &b.address()).await.unwrap().reveal_bytes(), *b.reveal_bytes());
    let err = reveal(&s.with_dead(1).await, &b.address()).await.unwrap_err();
    assert!(err.to_string().contains("aws"), "the moved share is named: {err}");

    // Slots: the second provider's share of `a`, relabelled as share 1, in
    // the first provider's store. Its seal binds slot 2, so it does not open
    // in slot 1 even under the same key.
    let dir = tempfile::tempdir().unwrap();
    let shared: Arc<dyn Sealer> = Arc::new(local_key());
    let providers: Vec<Provider> = ["one", "two", "three"]
        .iter()
        .map(|name| Provider { sealer: Arc::clone(&shared), ..embedded(&dir, name) })
        .collect();
    let same_key = custodian(providers.clone());
    let key = PrivateKey::generate_os();
    same_key.create_with_key(key.clone(), "tests").await.unwrap();
    let first = providers[0].store.get(&key.address()).await.unwrap().unwrap();
    let mut second = providers[1].store.get(&key.address()).await.unwrap().unwrap();
    second.insert(SHARE_INDEX, Attr::N("1".into()));
    providers[0].store.replace(&first, &second).await.unwrap();
    let mut two_left = providers.clone();
    two_left[2] = dead("three").await;
    let err = reveal(&custodian(two_left), &key.address()).await.unwrap_err();
    assert!(err.to_string().contains("one:"), "{err}");
}

async fn one_provider_alone_reveals_nothing(s: &Sharded) {
    let keys = [create(s).await, create(s).await, create(s).await];
    let addresses: HashSet<Address> = keys.iter().map(PrivateKey::address).collect();
    // Whoever holds the first provider's store and seal opens its shares...
    let provider = &s.providers[0];
    let mut shares = Vec::new();
    for key in &keys {
        let address = key.address();
        let share = share_of(&s.item(0, &address).await.unwrap());
        let digest = share.commitments_digest();
        let ctx = SealContext::share(&address, provider.store.table(), share.binding(&digest));
        let value = provider.sealer.open_secret(ctx, &share.seal, &share.blob).await.unwrap();
        // ... and no share is a key of any account,
        let as_key = PrivateKey::from_bytes(value.as_slice()).unwrap();
        assert!(!addresses.contains(&as_key.address()));
        shares.push((Share::from_parts(share.index, value), share.commitments));
    }
    // nor does any pair of them rebuild one: they are all share 1.
    for (_, commitments) in &shares {
        let pair = [shares[0].0.clone(), shares[1].0.clone()];
        assert!(vss::combine(&pair, commitments).is_err());
    }
}

async fn epochs_never_mix(s: &Sharded) {
    let key = create(s).await;
    let address = key.address();
    // A second split of the same key, as a refresh makes, written at the
    // first provider only: epoch 2 has one share, epoch 1 has two.
    let (fresh, commitments) = vss::split(&key, 2, 3, &mut OsRng).unwrap();
    let item = s.item(0, &address).await.unwrap();
    let old = share_of(&item);
    let digest = rossignol_core::custody::share::commitments_digest(&commitments);
    let provider = &s.providers[0];
    let binding = ShareBinding { index: 1, epoch: 2, commitments: &digest };
    let ctx = SealContext::share(&address, provider.store.table(), binding);
    let blob = provider.sealer.seal_secret(ctx, fresh[0].reveal_value()).await.unwrap();
    let mut renewed = AccountRecord::from_item(&item).unwrap();
    renewed.key = StoredKey::Share(SealedShare { epoch: 2, commitments, blob, ..old });
    s.put(0, &item, &renewed.to_item().unwrap()).await;
    assert_eq!(renewed.to_item().unwrap().get(EPOCH), Some(&Attr::N("2".into())));
    // Opened from epoch 1's two shares.
    assert_eq!(*reveal(&s.custodian, &address).await.unwrap().reveal_bytes(), *key.reveal_bytes());
    // Without the third provider, one share of each epoch is left: they do
    // not combine, though both are valid.
    let err = reveal(&s.with_dead(2).await, &address).await.unwrap_err();
    assert!(matches!(err, Error::Quorum { got: 2, needed: 2, .. }), "{err}");
}

async fn sixty_four_concurrent_creates_are_all_complete(s: &Sharded) {
    let created: Vec<AccountRecord> = futures::future::join_all((0..64).map(|_| s.custodian.create("tests")))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let addresses: HashSet<Address> = created.iter().map(|r| r.address).collect();
    assert_eq!(addresses.len(), 64);
    for (slot, provider) in s.providers.iter().enumerate() {
        let page = provider.store.page(None, 100).await.unwrap();
        assert_eq!(page.items.len(), 64, "{} holds one share per account", provider.name);
        assert!(page.items.iter().all(|item| share_of(item).index == slot as u8 + 1));
    }
    for record in &created {
        for slot in 0..3 {
            assert!(s.item(slot, &record.address).await.is_some(), "{} lacks slot {slot}", record.address);
        }
    }
    for record in created.iter().take(8) {
        reveal(&s.custodian, &record.address).await.unwrap();
    }
}

async fn the_trail_needs_k_providers(s: &Sharded) {
    let key = create(s).await;
    let address = key.address();
    reveal(&s.custodian, &address).await.unwrap();
    for provider in &s.providers {
        let records = provider.trail.latest(&address, 10).await.unwrap();
        assert_eq!(records.len(), 1, "{} recorded the reveal", provider.name);
    }
    // One trail down: recorded at the other two, and the key is used.
    reveal(&s.with_dead(1).await, &address).await.unwrap();
    assert_eq!(s.providers[0].trail.latest(&address, 10).await.unwrap().len(), 2);
    assert_eq!(s.providers[1].trail.latest(&address, 10).await.unwrap().len(), 1);
    // The merged trail shows each use once.
    assert_eq!(s.custodian.latest_access(&address, 10).await.unwrap().len(), 2);

    // Two trails refusing: fails closed, before anything is handed out.
    let mut providers = s.providers.clone();
    for slot in [0, 2] {
        providers[slot] =
            Provider { trail: dead(&providers[slot].name).await.trail, ..providers[slot].clone() };
    }
    let err = reveal(&custodian(providers), &address).await.unwrap_err();
    assert!(matches!(err, Error::AccessTrail { .. }), "{err}");
    assert!(err.is_transient());
}

async fn one_disabled_share_refuses_the_key(s: &Sharded) {
    let key = create(s).await;
    let address = key.address();
    assert!(s.custodian.set_disabled(&address, Some("ops")).await.unwrap());
    for slot in 0..3 {
        let record = AccountRecord::from_item(&s.item(slot, &address).await.unwrap()).unwrap();
        assert!(record.disabled.is_some(), "slot {slot} is disabled");
    }
    assert!(matches!(reveal(&s.custodian, &address).await, Err(Error::Disabled { .. })));
    assert!(s.custodian.set_disabled(&address, None).await.unwrap());
    reveal(&s.custodian, &address).await.unwrap();

    // Disabled at one provider only (another writer, or a partial run): refused.
    let item = s.item(2, &address).await.unwrap();
    let mut disabled = item.clone();
    disabled.insert("disabled_at", Attr::S("2026-01-02T03:04:05.000Z".into()));
    s.put(2, &item, &disabled).await;
    assert!(matches!(reveal(&s.custodian, &address).await, Err(Error::Disabled { .. })));
}

async fn audit(s: &Sharded, deep: bool) -> AuditReport {
    let (progress, _) = tokio::sync::watch::channel(Progress::default());
    let options = AuditOptions { deep, ..AuditOptions::default() };
    audit::run(&s.custodian, options, &requester(), progress, Arc::default()).await.unwrap()
}

fn findings(report: &AuditReport) -> Vec<(String, Option<String>, FindingKind)> {
    let mut found: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind != FindingKind::TableSetting)
        .map(|f| (f.address.clone(), f.provider.clone(), f.kind))
        .collect();
    found.sort();
    found
}

async fn the_audit_names_the_provider_and_the_slot(s: &Sharded) {
    let keys = [create(s).await, create(s).await, create(s).await];
    for deep in [false, true] {
        let report = audit(s, deep).await;
        assert_eq!(findings(&report), [], "a clean environment, deep = {deep}");
        assert_eq!(report.checked, 9);
        let names: Vec<&str> = report.providers.iter().map(|p| p.provider.as_str()).collect();
        assert_eq!(names, ["aws", "pg", "offline"]);
    }
    let [lost, corrupted, orphan] = [keys[0].address(), keys[1].address(), keys[2].address()];
    // A share lost at the last provider: repairable from the other two.
    let item = s.item(2, &lost).await.unwrap();
    s.providers[2].store.remove(&item).await.unwrap();
    // A flipped ciphertext byte at the second: only the deep audit sees it.
    let item = s.item(1, &corrupted).await.unwrap();
    let mut flipped = item.clone();
    let Some(Attr::B(blob)) = flipped.0.get_mut(SEALED_SHARE) else { panic!("sealed_share") };
    let middle = blob.len() / 2;
    blob[middle] ^= 1;
    s.put(1, &item, &flipped).await;
    // A create that never returned: one share left, at the first provider.
    for slot in [1, 2] {
        let item = s.item(slot, &orphan).await.unwrap();
        s.providers[slot].store.remove(&item).await.unwrap();
    }
    let name = |slot: usize| Some(s.providers[slot].name.clone());
    let stored = |address: Address| address.to_storage();
    let shallow = audit(s, false).await;
    let mut expected = vec![
        (stored(lost), name(2), FindingKind::Incomplete),
        (stored(orphan), name(1), FindingKind::Incomplete),
        (stored(orphan), name(2), FindingKind::Incomplete),
    ];
    expected.sort();
    assert_eq!(findings(&shallow), expected);
    let details: Vec<&str> = shallow.findings.iter().map(|f| f.detail.as_str()).collect();
    assert!(details.iter().any(|d| d.contains("rossignol repair offline")), "{details:?}");
    assert!(details.iter().any(|d| d.contains("never returned")), "{details:?}");
    let deep = audit(s, true).await;
    expected.push((stored(corrupted), name(1), FindingKind::UnsealFailed));
    expected.sort();
    assert_eq!(findings(&deep), expected);
}

/// The share a provider holds for `address`, opened with its own seal.
async fn opened_share(s: &Sharded, slot: usize, address: &Address) -> Zeroizing<[u8; 32]> {
    let share = share_of(&s.item(slot, address).await.unwrap());
    let provider = &s.providers[slot];
    let digest = share.commitments_digest();
    let ctx = SealContext::share(address, provider.store.table(), share.binding(&digest));
    provider.sealer.open_secret(ctx, &share.seal, &share.blob).await.unwrap()
}

/// Runs `run` to its end; its report.
async fn bulk(custodian: &Custodian, run: lifecycle::Run, dry_run: bool) -> lifecycle::Report {
    let (progress, _) = tokio::sync::watch::channel(lifecycle::Progress::default());
    let options = lifecycle::Options { dry_run, ..lifecycle::Options::default() };
    run.start(custodian, options, &requester(), progress, Arc::default()).await.unwrap()
}

async fn repair(s: &Sharded, provider: &str, dry_run: bool) -> lifecycle::Report {
    bulk(&s.custodian, lifecycle::Run::Repair { provider: provider.into() }, dry_run).await
}

async fn repair_restores_a_wiped_provider_exactly(s: &Sharded) {
    let keys = [create(s).await, create(s).await, create(s).await, create(s).await];
    let mut before = Vec::new();
    for key in &keys {
        let address = key.address();
        let others = (s.item(0, &address).await.unwrap(), s.item(1, &address).await.unwrap());
        before.push((address, opened_share(s, 2, &address).await, others));
    }
    // A create that never returned: one share, at the first provider only.
    let orphan = create(s).await.address();
    for slot in [1, 2] {
        let item = s.item(slot, &orphan).await.unwrap();
        s.providers[slot].store.remove(&item).await.unwrap();
    }
    // The offline provider is wiped.
    for (address, ..) in &before {
        let item = s.item(2, address).await.unwrap();
        s.providers[2].store.remove(&item).await.unwrap();
    }

    let dry = repair(s, "offline", true).await;
    assert_eq!((dry.would_write, dry.would_clear, dry.written), (4, 1, 0), "{dry:?}");
    assert_eq!(s.item(2, &before[0].0).await, None, "a dry run writes nothing");

    let report = repair(s, "offline", false).await;
    assert_eq!((report.written, report.verified, report.cleared), (4, 4, 1), "{report:?}");
    assert!(report.failed.is_empty() && report.changed.is_empty(), "{report:?}");
    for (address, share, (first, second)) in &before {
        assert_eq!(*opened_share(s, 2, address).await, **share, "the very share is made again");
        assert_eq!(s.item(0, address).await.as_ref(), Some(first), "the other providers are not touched");
        assert_eq!(s.item(1, address).await.as_ref(), Some(second));
    }
    for slot in 0..3 {
        assert_eq!(s.item(slot, &orphan).await, None, "the leftover is cleared at slot {slot}");
    }
    // The repaired slot works: with the first provider down, it is needed.
    let without_first = s.with_dead(0).await;
    for key in &keys {
        assert_eq!(
            *reveal(&without_first, &key.address()).await.unwrap().reveal_bytes(),
            *key.reveal_bytes()
        );
    }
    assert_eq!(findings(&audit(s, true).await), []);
    // Run again, it finds everything sound.
    let again = repair(s, "offline", false).await;
    assert_eq!((again.written, again.already_done), (0, 4), "{again:?}");

    let (progress, _) = tokio::sync::watch::channel(lifecycle::Progress::default());
    let err = lifecycle::repair::run(
        &s.custodian,
        "nope",
        lifecycle::Options::default(),
        &requester(),
        progress,
        Arc::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("its providers are aws, pg, offline"), "{err}");
}

async fn refresh(custodian: &Custodian, dry_run: bool) -> lifecycle::Report {
    bulk(custodian, lifecycle::Run::Refresh, dry_run).await
}

async fn refresh_keeps_every_key_and_changes_every_share(s: &Sharded) {
    let keys = [create(s).await, create(s).await, create(s).await];
    let mut before = Vec::new();
    for key in &keys {
        let mut shares = Vec::new();
        for slot in 0..3 {
            shares.push(opened_share(s, slot, &key.address()).await);
        }
        before.push(shares);
    }
    let dry = refresh(&s.custodian, true).await;
    assert_eq!((dry.would_write, dry.written), (3, 0), "{dry:?}");
    assert_eq!(share_of(&s.item(0, &keys[0].address()).await.unwrap()).epoch, 1, "a dry run changes nothing");

    let report = refresh(&s.custodian, false).await;
    assert_eq!(report.written, 3, "{report:?}");
    for (key, old) in keys.iter().zip(&before) {
        let address = key.address();
        for (slot, old) in old.iter().enumerate() {
            let share = share_of(&s.item(slot, &address).await.unwrap());
            assert_eq!((share.epoch, share.next.is_none()), (2, true));
            assert_ne!(*opened_share(s, slot, &address).await, **old, "slot {slot}'s share changed");
        }
        assert_eq!(*reveal(&s.custodian, &address).await.unwrap().reveal_bytes(), *key.reveal_bytes());
    }
    assert_eq!(findings(&audit(s, true).await), []);

    // With a provider down nothing is refreshed, and nothing is changed.
    let refused = refresh(&s.with_dead(2).await, false).await;
    assert_eq!((refused.written, refused.failed.len()), (0, 3), "{refused:?}");
    assert!(refused.failed[0].reason.contains("a refresh needs every provider"), "{refused:?}");
    assert!(share_of(&s.item(0, &keys[0].address()).await.unwrap()).next.is_none());

    // A run stopped after two providers took their new share (written here
    // as the run would): every key still opens, and the audit says so.
    let address = keys[0].address();
    let mut current = Vec::new();
    for slot in 0..3 {
        current.push(Share::from_parts(slot as u8 + 1, opened_share(s, slot, &address).await));
    }
    let commitments = share_of(&s.item(0, &address).await.unwrap()).commitments;
    let (fresh, renewed) = vss::refresh(&current, &commitments, &mut OsRng).unwrap();
    let digest = rossignol_core::custody::share::commitments_digest(&renewed);
    for (slot, (provider, share)) in s.providers.iter().zip(&fresh).take(2).enumerate() {
        let binding = ShareBinding { index: slot as u8 + 1, epoch: 3, commitments: &digest };
        let ctx = SealContext::share(&address, provider.store.table(), binding);
        let blob = provider.sealer.seal_secret(ctx, share.reveal_value()).await.unwrap();
        let item = s.item(slot, &address).await.unwrap();
        let mut record = AccountRecord::from_item(&item).unwrap();
        let StoredKey::Share(share) = &mut record.key else { panic!("a share") };
        share.next = Some(Box::new(NextShare {
            epoch: 3,
            commitments: renewed.clone(),
            seal: provider.sealer.id().to_owned(),
            blob,
        }));
        s.put(slot, &item, &record.to_item().unwrap()).await;
    }
    assert_eq!(*reveal(&s.custodian, &address).await.unwrap().reveal_bytes(), *keys[0].reveal_bytes());
    let kinds: Vec<FindingKind> = audit(s, false).await.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FindingKind::SharesDisagree, FindingKind::SharesDisagree], "{kinds:?}");
    // The next run finishes it from the two new shares: the stopped run's
    // polynomial, epoch 3, everywhere (the other accounts get epoch 3 too).
    let finished = refresh(&s.custodian, false).await;
    assert_eq!(finished.written, 3, "{finished:?}");
    for (slot, share) in fresh.iter().enumerate() {
        assert_eq!(*opened_share(s, slot, &address).await, **share.reveal_value(), "slot {slot}");
    }
    for key in &keys {
        for slot in 0..3 {
            let share = share_of(&s.item(slot, &key.address()).await.unwrap());
            assert_eq!((share.epoch, share.next.is_none()), (3, true));
        }
        assert_eq!(*reveal(&s.custodian, &key.address()).await.unwrap().reveal_bytes(), *key.reveal_bytes());
    }
    assert_eq!(findings(&audit(s, true).await), []);
}

async fn shard(s: &Sharded, source: &Custodian, dry_run: bool) -> lifecycle::Report {
    let (progress, _) = tokio::sync::watch::channel(lifecycle::Progress::default());
    let options = lifecycle::Options { dry_run, ..lifecycle::Options::default() };
    lifecycle::shard::run(&s.custodian, source, options, &requester(), progress, Arc::default())
        .await
        .unwrap()
}

async fn shard_moves_a_single_store_in_and_finishes_what_a_stop_left(s: &Sharded) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(&dir.path().join("single.redb"), "rossignol_single").unwrap());
    let source = Custodian::new(store.clone(), Arc::new(local_key()), store);
    let keys = [PrivateKey::generate_os(), PrivateKey::generate_os(), PrivateKey::generate_os()];
    for key in &keys {
        source.create_with_key(key.clone(), "tests").await.unwrap();
    }
    source.set_disabled(&keys[2].address(), Some("tests")).await.unwrap();
    let mut before = Vec::new();
    for key in &keys {
        before.push(source.store().get(&key.address()).await.unwrap().unwrap());
    }

    let dry = shard(s, &source, true).await;
    assert_eq!(
        (dry.would_write, dry.written, dry.source.as_deref()),
        (3, 0, Some("rossignol_single")),
        "{dry:?}"
    );
    assert_eq!(s.item(0, &keys[0].address()).await, None, "a dry run writes nothing");

    let report = shard(s, &source, false).await;
    assert_eq!((report.written, report.verified), (3, 3), "{report:?}");
    assert!(report.is_complete(), "{report:?}");
    for (key, item) in keys.iter().zip(&before) {
        let address = key.address();
        assert_eq!(
            source.store().get(&address).await.unwrap().as_ref(),
            Some(item),
            "the source is untouched"
        );
        for slot in 0..3 {
            let share = share_of(&s.item(slot, &address).await.unwrap());
            assert_eq!((share.index, share.epoch), (slot as u8 + 1, 1));
        }
        let moved = source.latest_access(&address, 10).await.unwrap();
        assert!(
            moved.iter().any(|entry| entry.target_seal.as_deref() == Some("sharded:vault")),
            "the source's trail records the key's move: {moved:?}"
        );
    }
    for key in &keys[..2] {
        assert_eq!(*reveal(&s.custodian, &key.address()).await.unwrap().reveal_bytes(), *key.reveal_bytes());
    }
    let disabled = s.custodian.custody().get(&keys[2].address()).await.unwrap().unwrap();
    assert!(disabled.disabled.is_some(), "a disabled account stays disabled");

    // A run that stopped midway: one account short of a share, one with
    // fewer than k.
    let short = keys[0].address();
    s.providers[1].store.remove(&s.item(1, &short).await.unwrap()).await.unwrap();
    let orphan = keys[1].address();
    for slot in [0, 2] {
        s.providers[slot].store.remove(&s.item(slot, &orphan).await.unwrap()).await.unwrap();
    }
    let again = shard(s, &source, false).await;
    assert_eq!((again.written, again.already_done, again.verified), (2, 1, 3), "{again:?}");
    assert!(again.is_complete(), "{again:?}");
    for key in &keys[..2] {
        assert_eq!(*reveal(&s.custodian, &key.address()).await.unwrap().reveal_bytes(), *key.reveal_bytes());
        for slot in 0..3 {
            assert!(s.item(slot, &key.address()).await.is_some(), "slot {slot} holds a share again");
        }
    }
    assert_eq!(findings(&audit(s, true).await), []);

    // Only from one store, only into shares.
    let (progress, _) = tokio::sync::watch::channel(lifecycle::Progress::default());
    let err = lifecycle::shard::run(
        &source,
        &s.custodian,
        lifecycle::Options::default(),
        &requester(),
        progress,
        Arc::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("into a sharded environment"), "{err}");
}

/// A provider's server killed while opens and creates are under way: every
/// open still works from the other two, every create either wrote all
/// three shares or left nothing at the live providers, and once the server
/// is back nothing was lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_provider_killed_midway() {
    let Some(mut server) = support::postgres_server::PostgresServer::start_new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let pg_store = Arc::new(PostgresStore::connect(&server.url(""), "rossignol_vault").unwrap());
    AccountStore::init(pg_store.as_ref()).await.unwrap();
    let pg = Provider {
        name: "pg".into(),
        store: pg_store.clone(),
        sealer: Arc::new(local_key()),
        trail: pg_store,
    };
    let providers = vec![embedded(&dir, "aws"), pg, embedded(&dir, "offline")];
    let s = Sharded { custodian: custodian(providers.clone()), providers, _tables: (None, None), _dir: dir };
    let keys: Vec<PrivateKey> = futures::future::join_all((0..8).map(|_| create(&s))).await;

    let opens = {
        let custodian = s.custodian.clone();
        let keys = keys.clone();
        tokio::spawn(async move {
            for _ in 0..4 {
                for key in &keys {
                    let opened = reveal(&custodian, &key.address()).await.expect("k providers are left");
                    assert_eq!(*opened.reveal_bytes(), *key.reveal_bytes());
                }
            }
        })
    };
    let creates = {
        let custodian = s.custodian.clone();
        tokio::spawn(async move {
            let mut made = Vec::new();
            for _ in 0..16 {
                let key = PrivateKey::generate_os();
                let outcome = custodian.create_with_key(key.clone(), "tests").await;
                made.push((key, outcome.map(drop)));
            }
            made
        })
    };
    server.stop();
    opens.await.unwrap();
    let made = creates.await.unwrap();

    let after_kill = made.iter().filter(|(_, outcome)| outcome.is_err()).count();
    for (key, outcome) in &made {
        let address = key.address();
        let live = [s.item(0, &address).await.is_some(), s.item(2, &address).await.is_some()];
        match outcome {
            Ok(()) => assert_eq!(live, [true, true], "a create that returned wrote every share"),
            Err(e) => {
                assert_eq!(live, [false, false], "a failed create left nothing behind: {e}");
                assert!(e.to_string().contains("provider pg"), "{e}");
            }
        }
    }
    // Dead for good now: creates fail, opens work and name it.
    let err = s.custodian.create("tests").await.unwrap_err();
    assert!(err.is_transient() && err.to_string().contains("provider pg"), "{err}");
    let (record, _) = s.custodian.reveal(&keys[0].address(), &requester()).await.unwrap();
    let StoredKey::Sharded(set) = &record.key else { panic!("a sharded record") };
    assert_eq!(set.unanswered().iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), ["pg"]);

    // Back again: a share pg wrote as it died, for a create that failed,
    // is cleared by repair; every account that was handed out is whole.
    server.start();
    let repaired = repair(&s, "pg", false).await;
    assert!(repaired.is_complete() && repaired.written == 0, "{repaired:?}");
    let report = audit(&s, true).await;
    assert_eq!(findings(&report), [], "{report:?}");
    let complete = made.iter().filter(|(_, outcome)| outcome.is_ok()).count() + keys.len();
    assert_eq!(report.providers.iter().map(|p| p.checked).collect::<Vec<_>>(), [complete as u64; 3]);
    eprintln!("{after_kill} of 16 creates failed once pg was stopped");
}
