#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One suite, every store: the embedded store always, DynamoDB Local and
//! PostgreSQL when `scripts/test` started them (and always in CI).

#[macro_use]
mod support;

use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rossignol_core::access::Identity;
use rossignol_core::seal::SealContext;
use rossignol_core::store::record::{self, LEGACY_PRIVATE_KEY, PUBLIC_KEY, SEALED_PRIVATE_KEY};
use rossignol_core::store::{AccountRecord, AccountStore, Attr, Item, Scheme, parallel_scan};
use rossignol_core::{Address, Error, KeyMaterial, PrivateKey, Requester};
use support::{Harness, legacy_item, sealed_item};

for_each_store!(
    create_then_get_returns_the_record,
    a_missing_address_is_not_found,
    a_colliding_create_fails_and_leaves_the_original,
    sixty_four_concurrent_creates_are_all_kept,
    paging_resumes_from_its_cursor,
    a_parallel_scan_sees_every_item_once,
    reveal_opens_the_key_that_was_sealed,
    a_sealed_key_copied_to_another_record_is_refused,
    a_key_that_derives_another_address_is_an_integrity_error,
    a_tampered_sealed_key_is_refused,
    legacy_node_rows_are_read_and_verified,
    no_private_key_is_stored_in_any_attribute,
    describe_counts_and_init_is_idempotent,
    a_malformed_item_is_reported_not_hidden,
    every_reveal_is_recorded_first_newest_first,
    replace_writes_only_over_the_item_it_read,
    a_replace_never_drops_an_attribute_added_meanwhile,
    create_many_writes_batches_and_stops_when_asked,
    remove_takes_only_the_item_it_read,
);

async fn create_then_get_returns_the_record(h: &Harness) {
    let created = h.custodian.create("test:conformance").await.unwrap();
    let read = h.custodian.get(&created.address).await.unwrap();
    assert_eq!(read.address, created.address);
    assert_eq!(read.public_key, created.public_key);
    assert_eq!(read.scheme, Scheme::Secp256k1);
    assert_eq!(read.created_by.as_deref(), Some("test:conformance"));
    assert_eq!(read.schema_version, record::CURRENT_SCHEMA);
    assert_eq!(read.seal(), Some(h.custodian.sealer().id()));
    assert!(!read.is_legacy());
    read.verify_public_key().unwrap();
    let raw = h.store.get(&created.address).await.unwrap().unwrap();
    assert_eq!(raw.address(), Some(created.address.to_storage().as_str()));
}

async fn a_missing_address_is_not_found(h: &Harness) {
    let address = Address::from_bytes([0x42; 20]);
    assert!(h.store.get(&address).await.unwrap().is_none());
    let err = h.custodian.get(&address).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(err.to_string().contains(&address.to_string()), "{err}");
}

async fn a_colliding_create_fails_and_leaves_the_original(h: &Harness) {
    let key = PrivateKey::generate_os();
    let original = h.custodian.create_with_key(key.clone(), "first").await.unwrap();
    let err = h.custodian.create_with_key(key.clone(), "second").await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
    assert!(err.to_string().contains("nothing was overwritten"), "{err}");

    // A raw item with the same address is refused too.
    let mut clash = Item::default();
    clash.insert("address", Attr::S(original.address.to_storage()));
    clash.insert("created_by", Attr::S("intruder".into()));
    assert!(matches!(h.store.create(&clash).await, Err(Error::AlreadyExists { .. })));

    let kept = h.custodian.get(&original.address).await.unwrap();
    assert_eq!(kept.created_by.as_deref(), Some("first"));
    let (_, opened) = h.custodian.open_unrecorded(&original.address).await.unwrap();
    assert_eq!(opened.reveal_text(), key.reveal_hex());
}

async fn sixty_four_concurrent_creates_are_all_kept(h: &Harness) {
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let custodian = h.custodian.clone();
            tokio::spawn(async move { custodian.create(&format!("task-{i}")).await })
        })
        .collect();
    let mut created = HashSet::new();
    for task in tasks {
        created.insert(task.await.unwrap().unwrap().address);
    }
    assert_eq!(created.len(), 64);
    let stored = all_addresses(h.store.as_ref()).await;
    assert_eq!(stored, created);
    for address in &created {
        h.custodian.open_unrecorded(address).await.unwrap();
    }
}

async fn paging_resumes_from_its_cursor(h: &Harness) {
    let created = create_many(h, 30).await;
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = h.store.page(cursor.as_ref(), 7).await.unwrap();
        assert!(page.items.len() <= 7);
        seen.extend(page.items.iter().map(address_of));
        pages += 1;
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 100, "paging does not end");
    }
    assert!(pages >= 5, "30 items in pages of 7 took {pages} pages");
    let unique: HashSet<Address> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "an item came back twice");
    assert_eq!(unique, created);
}

async fn a_parallel_scan_sees_every_item_once(h: &Harness) {
    let created = create_many(h, 40).await;
    for segments in [1, 3, 8] {
        let mut rx = parallel_scan(Arc::clone(&h.store), segments, 5);
        let mut seen = Vec::new();
        while let Some(page) = rx.recv().await {
            seen.extend(page.unwrap().iter().map(address_of));
        }
        let unique: HashSet<Address> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "{segments} segments: an item came back twice");
        assert_eq!(unique, created, "{segments} segments");
    }
}

async fn reveal_opens_the_key_that_was_sealed(h: &Harness) {
    let key = PrivateKey::generate_os();
    let record = h.custodian.create_with_key(key.clone(), "test").await.unwrap();
    let (read, opened) = h.custodian.open_unrecorded(&record.address).await.unwrap();
    assert_eq!(read.address, key.address());
    let KeyMaterial::Secp256k1(opened) = opened else { panic!("a secp256k1 key") };
    assert_eq!(*opened.reveal_bytes(), *key.reveal_bytes());
}

async fn a_sealed_key_copied_to_another_record_is_refused(h: &Harness) {
    let victim = h.custodian.create("test").await.unwrap();
    let target = PrivateKey::generate_os();
    let mut item = sealed_item(h, &target).await;
    item.insert(SEALED_PRIVATE_KEY, Attr::B(blob_of(&victim)));
    h.store.create(&item).await.unwrap();

    let err = h.custodian.open_unrecorded(&target.address()).await.unwrap_err();
    assert!(matches!(err, Error::Unseal { .. }), "{err}");
    assert!(err.to_string().contains(&target.address().to_string()), "{err}");
}

async fn a_key_that_derives_another_address_is_an_integrity_error(h: &Harness) {
    // Sealed for B's record, but holding A's key: the seal opens, the
    // derivation check must catch it.
    let a = PrivateKey::generate_os();
    let b = PrivateKey::generate_os();
    let b_address = b.address();
    let blob = h.custodian.sealer().seal(SealContext::record(&b_address, h.store.table()), &a).await.unwrap();
    let mut item = sealed_item(h, &b).await;
    item.insert(SEALED_PRIVATE_KEY, Attr::B(blob));
    h.store.create(&item).await.unwrap();

    let err = h.custodian.open_unrecorded(&b_address).await.unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains(&b_address.to_string()), "{message}");
    assert!(!message.contains(&a.reveal_hex()[2..]), "{message}");
}

async fn a_tampered_sealed_key_is_refused(h: &Harness) {
    let key = PrivateKey::generate_os();
    let mut item = sealed_item(h, &key).await;
    let Some(Attr::B(blob)) = item.get(SEALED_PRIVATE_KEY).cloned() else { panic!("sealed") };
    let mut tampered = blob;
    let last = tampered.len() - 1;
    tampered[last] ^= 0x80;
    item.insert(SEALED_PRIVATE_KEY, Attr::B(tampered));
    h.store.create(&item).await.unwrap();
    let err = h.custodian.open_unrecorded(&key.address()).await.unwrap_err();
    assert!(matches!(err, Error::Unseal { .. }), "{err}");
}

async fn legacy_node_rows_are_read_and_verified(h: &Harness) {
    let (item, secret_b64) = legacy_item([3u8; 32]);
    let address = Address::parse(item.address().unwrap()).unwrap();
    h.store.create(&item).await.unwrap();

    let (record, key) = h.custodian.open_unrecorded(&address).await.unwrap();
    assert!(record.is_legacy());
    assert_eq!(record.scheme, Scheme::Ed25519);
    assert_eq!(record.schema_version, 0);
    assert_eq!(record.seal(), None);
    record.verify_public_key().unwrap();
    assert!(matches!(key, KeyMaterial::LegacyEd25519(_)));
    assert_eq!(key.reveal_text().as_str(), secret_b64);
    assert!(!format!("{record:?}").contains(&secret_b64));

    // A legacy row whose key does not derive its address.
    let (mut forged, _) = legacy_item([4u8; 32]);
    let (other, _) = legacy_item([5u8; 32]);
    forged.insert(PUBLIC_KEY, other.get(PUBLIC_KEY).unwrap().clone());
    let forged_address = Address::parse(forged.address().unwrap()).unwrap();
    h.store.create(&forged).await.unwrap();
    let err = h.custodian.open_unrecorded(&forged_address).await.unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }), "{err}");
}

async fn no_private_key_is_stored_in_any_attribute(h: &Harness) {
    let created = create_many(h, 10).await;
    let mut secrets = Vec::new();
    for address in &created {
        let (_, key) = h.custodian.open_unrecorded(address).await.unwrap();
        let KeyMaterial::Secp256k1(key) = key else { panic!("secp256k1") };
        secrets.push(*key.reveal_bytes());
    }
    let mut rx = parallel_scan(Arc::clone(&h.store), 2, 100);
    let mut scanned = 0;
    while let Some(page) = rx.recv().await {
        for item in page.unwrap() {
            scanned += 1;
            assert!(item.get(LEGACY_PRIVATE_KEY).is_none());
            for (name, value) in &item.0 {
                let haystack: Vec<u8> = match value {
                    Attr::S(s) | Attr::N(s) => s.to_ascii_lowercase().into_bytes(),
                    Attr::B(b) => b.clone(),
                    Attr::Bool(_) => continue,
                };
                for secret in &secrets {
                    for needle in [
                        secret.to_vec(),
                        hex::encode(secret).into_bytes(),
                        BASE64.encode(secret).to_ascii_lowercase().into_bytes(),
                    ] {
                        assert!(
                            !haystack.windows(needle.len()).any(|w| w == needle.as_slice()),
                            "a private key appears in attribute `{name}`"
                        );
                    }
                }
            }
        }
    }
    assert_eq!(scanned, 10);
}

async fn describe_counts_and_init_is_idempotent(h: &Harness) {
    create_many(h, 3).await;
    let report = h.store.describe().await.unwrap();
    assert_eq!(report.table, h.store.table());
    if !report.item_count_is_estimate {
        assert_eq!(report.item_count, Some(3));
    }
    assert!(report.is_healthy(), "{report:?}");
    let again = h.store.init().await.unwrap();
    assert!(!again.created);
    assert!(again.report.is_healthy(), "{:?}", again.report);
}

async fn a_malformed_item_is_reported_not_hidden(h: &Harness) {
    let address = Address::from_bytes([0x17; 20]);
    let mut item = Item::default();
    item.insert("address", Attr::S(address.to_storage()));
    item.insert(PUBLIC_KEY, Attr::S("0x04".into()));
    h.store.create(&item).await.unwrap();
    let err = h.custodian.get(&address).await.unwrap_err();
    assert!(matches!(err, Error::MalformedRecord { .. }), "{err}");
    assert!(err.to_string().contains("no private key attribute"), "{err}");
}

// Helpers.

fn address_of(item: &Item) -> Address {
    Address::parse(item.address().expect("an address")).expect("a valid address")
}

async fn all_addresses(store: &dyn AccountStore) -> HashSet<Address> {
    let mut out = HashSet::new();
    let mut cursor = None;
    loop {
        let page = store.page(cursor.as_ref(), 25).await.unwrap();
        out.extend(page.items.iter().map(address_of));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return out,
        }
    }
}

async fn create_many(h: &Harness, n: usize) -> HashSet<Address> {
    let mut out = HashSet::new();
    for _ in 0..n {
        out.insert(h.custodian.create("test").await.unwrap().address);
    }
    out
}

fn blob_of(record: &AccountRecord) -> Vec<u8> {
    match &record.key {
        rossignol_core::store::StoredKey::Sealed { blob, .. } => blob.clone(),
        other => panic!("expected a sealed key, got {other:?}"),
    }
}

async fn every_reveal_is_recorded_first_newest_first(h: &Harness) {
    let record = h.custodian.create("test").await.unwrap();
    let other = h.custodian.create("test").await.unwrap();
    for i in 0..3 {
        let requester = Requester {
            action: "getter".into(),
            request_id: format!("req-{i}"),
            api_key_id: Some("key-1".into()),
            source_ip: Some("203.0.113.7".into()),
            actor: None,
            identity: if i == 1 { Identity::Verified } else { Identity::Claimed },
        };
        let (_, key) = h.custodian.reveal(&record.address, &requester).await.unwrap();
        assert!(matches!(key, KeyMaterial::Secp256k1(_)));
    }
    let requester =
        Requester { action: "cli-reveal".into(), request_id: "req-x".into(), ..Default::default() };
    h.custodian.reveal(&other.address, &requester).await.unwrap();

    let trail = h.custodian.trail().latest(&record.address, 10).await.unwrap();
    assert_eq!(trail.len(), 3);
    let ids: Vec<&str> = trail.iter().map(|a| a.request_id.as_str()).collect();
    assert_eq!(ids, ["req-2", "req-1", "req-0"]);
    assert!(trail.iter().all(|a| a.address == record.address && a.action == "getter"));
    assert_eq!(trail[0].api_key_id.as_deref(), Some("key-1"));
    assert_eq!(trail[0].source_ip.as_deref(), Some("203.0.113.7"));
    // Whether the caller was verified is stored and read back.
    let identities: Vec<Identity> = trail.iter().map(|a| a.identity).collect();
    assert_eq!(identities, [Identity::Claimed, Identity::Verified, Identity::Claimed]);
    assert!(trail[0].at >= trail[1].at);
    assert_eq!(h.custodian.trail().latest(&record.address, 2).await.unwrap().len(), 2);
    assert_eq!(h.custodian.trail().latest(&other.address, 10).await.unwrap().len(), 1);

    // An unknown account is not found, and nothing is recorded for it.
    let nobody = Address::from_bytes([0x33; 20]);
    assert!(matches!(h.custodian.reveal(&nobody, &requester).await, Err(Error::NotFound { .. })));
    assert!(h.custodian.trail().latest(&nobody, 10).await.unwrap().is_empty());
}

async fn replace_writes_only_over_the_item_it_read(h: &Harness) {
    let record = h.custodian.create("test").await.unwrap();
    let current = h.store.get(&record.address).await.unwrap().unwrap();
    let mut first = current.clone();
    first.insert("note", Attr::S("first".into()));
    h.store.replace(&current, &first).await.unwrap();
    assert_eq!(h.store.get(&record.address).await.unwrap().unwrap(), first);

    // A writer still holding the old item is refused, and the row keeps
    // the first write.
    let mut stale = current.clone();
    stale.insert("note", Attr::S("stale".into()));
    let err = h.store.replace(&current, &stale).await.unwrap_err();
    assert!(matches!(err, Error::Changed { .. }), "{err}");
    assert!(err.to_string().contains("nothing was written"), "{err}");
    assert_eq!(h.store.get(&record.address).await.unwrap().unwrap(), first);

    // Removing an attribute is a replacement too.
    h.store.replace(&first, &current).await.unwrap();
    assert_eq!(h.store.get(&record.address).await.unwrap().unwrap(), current);

    // A missing row is never created by a replacement, nor is an address changed.
    let (ghost, _) = legacy_item([9u8; 32]);
    assert!(matches!(h.store.replace(&ghost, &ghost).await, Err(Error::Changed { .. })));
    assert_eq!(h.store.get(&address_of(&ghost)).await.unwrap(), None);
    assert!(matches!(h.store.replace(&current, &ghost).await, Err(Error::MalformedRecord { .. })));
}

/// Another writer adds an attribute Rossignol does not know between our
/// read and our replace: DynamoDB keeps it beside our change (its
/// conditional update names each attribute), the embedded and PostgreSQL
/// stores compare whole items and refuse the replace; it is never lost.
async fn a_replace_never_drops_an_attribute_added_meanwhile(h: &Harness) {
    let (legacy, _) = legacy_item([0x21; 32]);
    h.store.create(&legacy).await.unwrap();
    let address = address_of(&legacy);
    let mut labelled = legacy.clone();
    labelled.insert("label", Attr::S("vip".into()));
    h.store.replace(&legacy, &labelled).await.unwrap();

    let mut ours = legacy.clone();
    ours.0.remove(LEGACY_PRIVATE_KEY);
    ours.insert(record::SEAL, Attr::S("local:test".into()));
    let outcome = h.store.replace(&legacy, &ours).await;
    let stored = h.store.get(&address).await.unwrap().unwrap();
    assert_eq!(stored.get("label"), Some(&Attr::S("vip".into())), "{outcome:?}");
    match outcome {
        Ok(()) => {
            assert!(h.is_dynamodb(), "the embedded and PostgreSQL stores compare whole items");
            assert_eq!(stored.get(record::SEAL), Some(&Attr::S("local:test".into())));
            assert_eq!(stored.get(LEGACY_PRIVATE_KEY), None, "removed as asked");
        }
        Err(Error::Changed { .. }) => {
            assert!(!h.is_dynamodb(), "DynamoDB checks and updates only what differs");
            assert_eq!(stored, labelled, "nothing written");
        }
        Err(e) => panic!("{e}"),
    }
}

async fn create_many_writes_batches_and_stops_when_asked(h: &Harness) {
    use futures::StreamExt as _;
    use std::sync::atomic::{AtomicBool, Ordering};

    // 150 spans three key batches (64 + 64 + 22).
    let stop = Arc::new(AtomicBool::new(false));
    let created: Vec<_> = h.custodian.create_many(150, "bulk", 8, stop).collect().await;
    let addresses: HashSet<Address> = created.into_iter().map(|r| r.unwrap().address).collect();
    assert_eq!(addresses.len(), 150);
    assert_eq!(all_addresses(h.store.as_ref()).await, addresses);
    for address in addresses.iter().take(3) {
        let (record, _) = h.custodian.open_unrecorded(address).await.unwrap();
        assert_eq!(record.created_by.as_deref(), Some("bulk"));
    }

    // Stopped after the first result: the writes in flight finish, no more start.
    let stop = Arc::new(AtomicBool::new(false));
    let mut stream = std::pin::pin!(h.custodian.create_many(1_000, "bulk", 4, Arc::clone(&stop)));
    let mut more = 0;
    if let Some(first) = stream.next().await {
        first.unwrap();
        stop.store(true, Ordering::SeqCst);
    }
    while let Some(result) = stream.next().await {
        result.unwrap();
        more += 1;
    }
    assert!(more <= 4, "{more} writes after the stop");
    assert_eq!(all_addresses(h.store.as_ref()).await.len(), 150 + 1 + more);
}

async fn remove_takes_only_the_item_it_read(h: &Harness) {
    let key = PrivateKey::generate_os();
    let item = sealed_item(h, &key).await;
    let address = address_of(&item);
    h.store.create(&item).await.unwrap();
    let mut other = item.clone();
    other.insert("created_by", Attr::S("someone else".into()));
    assert!(matches!(h.store.remove(&other).await, Err(Error::Changed { .. })));
    assert_eq!(h.store.get(&address).await.unwrap(), Some(item.clone()), "a changed row is kept");
    h.store.remove(&item).await.unwrap();
    assert_eq!(h.store.get(&address).await.unwrap(), None);
    assert!(matches!(h.store.remove(&item).await, Err(Error::Changed { .. })), "nothing left to remove");
}
