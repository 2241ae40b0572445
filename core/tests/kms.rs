//! KMS sealing against moto's KMS server, which enforces the encryption
//! context, and a custodian on DynamoDB Local sealed with it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use rossignol_core::seal::{KmsSealer, SealContext, Sealer};
use rossignol_core::store::{AccountStore, Attr, StoredKey};
use rossignol_core::{Address, Custodian, Error, KeyMaterial, PrivateKey};
use support::{KMS_ENDPOINT, TestTable, kms_client, server};

/// A fresh symmetric key on moto, and a sealer over it.
async fn sealer() -> Option<(KmsSealer, aws_sdk_kms::Client, String)> {
    let endpoint = server(KMS_ENDPOINT, "the KMS server (moto)")?;
    let client = kms_client(&endpoint).await;
    let key = client.create_key().description("rossignol test").send().await.expect("moto creates a key");
    let key_id = key.key_metadata.expect("metadata").key_id;
    Some((KmsSealer::new(client.clone(), key_id.clone()), client, key_id))
}

#[tokio::test]
async fn seal_and_open_round_trip_under_the_record_context() {
    let Some((sealer, _, key_id)) = sealer().await else { return };
    assert_eq!(sealer.id(), format!("kms:{key_id}"));
    let key = PrivateKey::generate_os();
    let address = key.address();
    let ctx = SealContext::record(&address, "rossignol_test");
    let blob = sealer.seal(ctx, &key).await.unwrap();
    assert!(!blob.windows(32).any(|w| w == key.reveal_bytes().as_slice()));
    let opened = sealer.open(ctx, sealer.id(), &blob).await.unwrap();
    assert_eq!(*opened.reveal_bytes(), *key.reveal_bytes());
}

#[tokio::test]
async fn another_address_or_table_cannot_open_it() {
    let Some((sealer, _, _)) = sealer().await else { return };
    let key = PrivateKey::generate_os();
    let address = key.address();
    let blob = sealer.seal(SealContext::record(&address, "t1"), &key).await.unwrap();

    let other = Address::from_bytes([0x11; 20]);
    let err = sealer.open(SealContext::record(&other, "t1"), sealer.id(), &blob).await.unwrap_err();
    assert!(matches!(err, Error::Unseal { .. }), "{err}");
    assert!(err.to_string().contains("another record or table"), "{err}");

    let err = sealer.open(SealContext::record(&address, "t2"), sealer.id(), &blob).await.unwrap_err();
    assert!(matches!(err, Error::Unseal { .. }), "{err}");
}

#[tokio::test]
async fn a_tampered_blob_or_another_key_is_refused() {
    let Some((sealer, client, _)) = sealer().await else { return };
    let key = PrivateKey::generate_os();
    let address = key.address();
    let ctx = SealContext::record(&address, "t");
    let blob = sealer.seal(ctx, &key).await.unwrap();

    let mut tampered = blob.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    assert!(sealer.open(ctx, sealer.id(), &tampered).await.is_err());

    let second = client.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
    let err = sealer.open(ctx, &format!("kms:{second}"), &blob).await.unwrap_err();
    assert!(matches!(err, Error::Unseal { .. }), "{err}");

    let err = sealer.open(ctx, "local:0011223344556677", &blob).await.unwrap_err();
    assert!(err.to_string().contains("configure the key that sealed it"), "{err}");
}

#[tokio::test]
async fn an_unknown_kms_key_says_which() {
    let Some((_, client, _)) = sealer().await else { return };
    let sealer = KmsSealer::new(client, "alias/does-not-exist");
    let key = PrivateKey::generate_os();
    let address = key.address();
    let err = sealer.seal(SealContext::record(&address, "t"), &key).await.unwrap_err();
    assert!(err.to_string().contains("alias/does-not-exist"), "{err}");
}

#[tokio::test]
async fn a_custodian_on_dynamodb_sealed_with_kms_binds_each_record() {
    let Some((sealer, _, _)) = sealer().await else { return };
    let Some(table) = TestTable::new("kms").await else { return };
    let store: Arc<dyn AccountStore> = Arc::new(table.store.clone());
    let custodian = Custodian::new(Arc::clone(&store), Arc::new(sealer), Arc::new(table.trail.clone()));

    let a = custodian.create("test").await.unwrap();
    let (_, key) = custodian.open_unrecorded(&a.address).await.unwrap();
    assert!(matches!(key, KeyMaterial::Secp256k1(_)));

    // A's sealed key copied onto B's record: KMS refuses the context.
    let b_key = PrivateKey::generate_os();
    let b = custodian.create_with_key(b_key.clone(), "test").await.unwrap();
    let StoredKey::Sealed { blob, .. } = &a.key else { panic!("sealed") };
    let mut forged = b.to_item().unwrap();
    let fresh = PrivateKey::generate_os();
    forged.insert("address", Attr::S(fresh.address().to_storage()));
    forged.insert(
        "public_key",
        Attr::S(rossignol_core::store::record::format_public_key(&fresh.public_key_uncompressed())),
    );
    forged.insert("sealed_private_key", Attr::B(blob.clone()));
    store.create(&forged).await.unwrap();
    let err = custodian.open_unrecorded(&fresh.address()).await.unwrap_err();
    assert!(matches!(err, Error::Unseal { .. }), "{err}");
}
