//! The handlers on recorded API Gateway events (REST v1 and HTTP v2), over
//! an embedded store, for every status they answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use lambda_http::http::StatusCode;
use rossignol_core::access::Identity;
use rossignol_core::store::{AccountStore, Attr, Item};
use rossignol_core::{Address, PrivateKey};
use rossignol_lambda::{ApiKeyCheck, Entry, handle};
use serde_json::Value;

mod support;

use support::*;

#[tokio::test]
async fn setter_then_getter_over_rest_v1_records_the_caller() {
    let f = fixture();
    let address = create(&f, "rest-v1-post").await;
    assert_eq!(address, address.to_ascii_lowercase(), "the stored form, as the Node service returned");
    let parsed = Address::parse(&address).unwrap();
    let record = f.custodian.get(&parsed).await.unwrap();
    assert_eq!(
        record.created_by.as_deref(),
        Some("setter request=c6af9ac6-7b61-11e6-9a41-93e8deadbeef api_key=k9x8w7v6u5")
    );

    let response = handle(Entry::Getter, &f.service, event("rest-v1-get", Some(&address), no_edit)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_of(&response);
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "successfully retrieved account");
    let data = &body["data"];
    assert_eq!(data["address"], address);
    assert_eq!(data["scheme"], "secp256k1");
    assert_eq!(data["public_key"], record.public_key);
    let hex_key = data["private_key"].as_str().unwrap().strip_prefix("0x").unwrap();
    let key = PrivateKey::from_bytes(&hex::decode(hex_key).unwrap()).unwrap();
    assert_eq!(key.address(), parsed);

    let trail = f.custodian.trail().latest(&parsed, 10).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, "getter");
    assert_eq!(trail[0].request_id, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
    assert_eq!(trail[0].api_key_id.as_deref(), Some("k9x8w7v6u5"));
    assert_eq!(trail[0].source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(trail[0].identity, Identity::Verified);
}

/// A direct invocation with a hand-made event: no `X-Api-Key`, and an API
/// key id and source IP that name someone else.
fn forged(address: &str) -> lambda_http::Request {
    event("rest-v1-get", Some(address), |v| {
        v["headers"].as_object_mut().unwrap().remove("X-Api-Key");
        v["multiValueHeaders"].as_object_mut().unwrap().remove("X-Api-Key");
        v["requestContext"]["identity"]["apiKey"] = Value::Null;
        v["requestContext"]["identity"]["apiKeyId"] = "victim-backend-key".into();
        v["requestContext"]["identity"]["sourceIp"] = "10.9.9.9".into();
    })
}

#[tokio::test]
async fn a_forged_direct_invocation_gets_no_key_and_unchecked_runs_record_a_claim() {
    let f = fixture();
    let address = create(&f, "rest-v1-post").await;
    let parsed = Address::parse(&address).unwrap();
    let response = handle(Entry::Getter, &f.service, forged(&address)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(json_of(&response).get("data").is_none());
    assert!(f.custodian.trail().latest(&parsed, 10).await.unwrap().is_empty());

    // With the check explicitly off, the event's identity is only a claim.
    let open = fixture_with(ApiKeyCheck::Unchecked, None);
    let address = create(&open, "rest-v1-post").await;
    let parsed = Address::parse(&address).unwrap();
    let response = handle(Entry::Getter, &open.service, forged(&address)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let trail = open.custodian.trail().latest(&parsed, 10).await.unwrap();
    assert_eq!(trail[0].api_key_id.as_deref(), Some("victim-backend-key"));
    assert_eq!(trail[0].source_ip.as_deref(), Some("10.9.9.9"));
    assert_eq!(trail[0].identity, Identity::Claimed);
}

#[tokio::test]
async fn setter_then_getter_over_http_v2() {
    let f = fixture();
    let address = create(&f, "http-v2-post").await;
    let parsed = Address::parse(&address).unwrap();
    let record = f.custodian.get(&parsed).await.unwrap();
    assert_eq!(record.created_by.as_deref(), Some("setter request=5f8e2a7c-2b1d-4c3e-9f4a-7b6c5d4e3f21"));

    // Checksummed input is accepted too.
    let response =
        handle(Entry::Getter, &f.service, event("http-v2-get", Some(&parsed.to_string()), no_edit)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_of(&response)["data"]["address"], address);
    let trail = f.custodian.trail().latest(&parsed, 10).await.unwrap();
    assert_eq!(trail[0].source_ip.as_deref(), Some("198.51.100.9"));
    assert_eq!(trail[0].api_key_id, None);
}

#[tokio::test]
async fn legacy_rows_come_back_as_the_node_service_stored_them() {
    let f = fixture();
    let signing = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let public = signing.verifying_key().to_bytes();
    let b64 = base64::engine::general_purpose::STANDARD;
    let secret = b64.encode(signing.to_keypair_bytes());
    let address = rossignol_core::store::record::legacy_address(&public);
    let mut item = Item::default();
    item.insert("address", Attr::S(address.to_storage()));
    item.insert("private_key", Attr::S(secret.clone()));
    item.insert("public_key", Attr::S(b64.encode(public)));
    f.store.create(&item).await.unwrap();

    let response =
        handle(Entry::Getter, &f.service, event("rest-v1-get", Some(&address.to_storage()), no_edit)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let data = &json_of(&response)["data"];
    assert_eq!(data["private_key"], secret);
    assert_eq!(data["public_key"], b64.encode(public));
    assert_eq!(data["scheme"], "ed25519");
}

#[tokio::test]
async fn malformed_or_missing_addresses_are_400_and_say_why() {
    let f = fixture();
    for (address, expected) in [
        ("0x1234", "exactly 40"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeZ", "not a hex digit"),
        ("0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "checksum"),
        ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "must start with `0x`"),
    ] {
        for name in ["rest-v1-get", "http-v2-get"] {
            let response = handle(Entry::Getter, &f.service, event(name, Some(address), no_edit)).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{address}");
            let body = json_of(&response);
            assert_eq!(body["success"], false);
            assert!(body["message"].as_str().unwrap().contains(expected), "{body}");
        }
    }
    let response = handle(
        Entry::Getter,
        &f.service,
        event("rest-v1-get", None, |v| {
            v["queryStringParameters"] = Value::Null;
            v["multiValueQueryStringParameters"] = Value::Null;
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(json_of(&response)["message"].as_str().unwrap().contains("missing query parameter `address`"));
}

#[tokio::test]
async fn an_unknown_address_is_404_and_not_recorded() {
    let f = fixture();
    let unknown = "0x00000000000000000000000000000000000000aa";
    for name in ["rest-v1-get", "http-v2-get"] {
        let response = handle(Entry::Getter, &f.service, event(name, Some(unknown), no_edit)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(json_of(&response)["message"].as_str().unwrap().contains("no account with address"));
    }
    let trail = f.custodian.trail().latest(&Address::parse(unknown).unwrap(), 10).await.unwrap();
    assert!(trail.is_empty());
}

#[tokio::test]
async fn the_wrong_method_is_405_with_allow() {
    let f = fixture();
    for (entry, name, allowed) in [
        (Entry::Setter, "rest-v1-get", "POST"),
        (Entry::Setter, "http-v2-get", "POST"),
        (Entry::Getter, "rest-v1-post", "GET"),
        (Entry::Getter, "http-v2-post", "GET"),
    ] {
        let response = handle(entry, &f.service, event(name, None, no_edit)).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{entry} {name}");
        assert_eq!(response.headers()["allow"], allowed);
        assert_eq!(json_of(&response)["success"], false);
    }
    assert_eq!(f.store.describe().await.unwrap().item_count, Some(0), "nothing was created");
}

#[tokio::test]
async fn a_wrong_or_missing_api_key_is_403() {
    let f = fixture();
    for name in ["rest-v1-post", "http-v2-post"] {
        let wrong = event(name, None, |v| {
            v["headers"]["X-Api-Key"] = "nope".into();
            v["headers"]["x-api-key"] = "nope".into();
            v["multiValueHeaders"]["X-Api-Key"] = serde_json::json!(["nope"]);
        });
        assert_eq!(handle(Entry::Setter, &f.service, wrong).await.status(), StatusCode::FORBIDDEN);
        let missing = event(name, None, |v| {
            v["headers"].as_object_mut().unwrap().retain(|k, _| !k.eq_ignore_ascii_case("x-api-key"));
            if let Some(m) = v["multiValueHeaders"].as_object_mut() {
                m.remove("X-Api-Key");
            }
        });
        let response = handle(Entry::Setter, &f.service, missing).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(json_of(&response)["message"].as_str().unwrap().contains("X-Api-Key"));
    }
    assert_eq!(f.store.describe().await.unwrap().item_count, Some(0));

    // Without a configured key, the header is not required.
    let open = fixture_with(ApiKeyCheck::Unchecked, None);
    let missing = event("http-v2-post", None, |v| {
        v["headers"].as_object_mut().unwrap().remove("x-api-key");
    });
    assert_eq!(handle(Entry::Setter, &open.service, missing).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unavailable_access_trail_is_503_and_reveals_nothing() {
    let f = fixture_with(ApiKeyCheck::Sha256(api_key_hash()), Some(unreachable_trail().await));
    let address = create(&f, "rest-v1-post").await;

    let response = handle(Entry::Getter, &f.service, event("rest-v1-get", Some(&address), no_edit)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json_of(&response);
    assert_eq!(body["success"], false);
    assert!(body.get("data").is_none());
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("no key was revealed"), "{message}");
    assert!(message.contains("c6af9ac6-7b61-11e6-9a41-93e8deadbeef"), "{message}");
    assert!(!message.contains("127.0.0.1"), "no internals: {message}");
}

#[tokio::test]
async fn kms_unreachable_is_a_retryable_503_naming_it_and_nothing_is_handed_out() {
    use rossignol_core::seal::KmsSealer;
    use rossignol_core::store::{AccountRecord, Scheme, StoredKey};
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(
        rossignol_core::store::embedded::EmbeddedStore::open(&dir.path().join("db.redb"), "rossignol_test")
            .unwrap(),
    );
    let kms = KmsSealer::new(aws_sdk_kms::Client::new(&unreachable_aws().await), "alias/rossignol-test");
    let custodian = rossignol_core::Custodian::new(store.clone(), std::sync::Arc::new(kms), store.clone());
    let service = rossignol_lambda::Service::new(
        custodian.clone(),
        rossignol_lambda::ApiKeyCheck::Sha256(api_key_hash()),
    );
    // An account sealed under that KMS key (KMS never sees the blob).
    let key = PrivateKey::generate_os();
    let record = AccountRecord {
        address: key.address(),
        scheme: Scheme::Secp256k1,
        public_key: rossignol_core::store::record::format_public_key(&key.public_key_uncompressed()),
        key: StoredKey::Sealed { seal: "kms:alias/rossignol-test".into(), blob: vec![7; 180] },
        created_at: None,
        created_by: None,
        created_api_key: None,
        schema_version: rossignol_core::store::record::CURRENT_SCHEMA,
        disabled: None,
    };
    store.create(&record.to_item().unwrap()).await.unwrap();
    let address = key.address().to_storage();

    let setter = handle(Entry::Setter, &service, event("rest-v1-post", None, no_edit)).await;
    let getter = handle(Entry::Getter, &service, event("rest-v1-get", Some(&address), no_edit)).await;
    let signer = handle(
        Entry::Signer,
        &service,
        event("rest-v1-post", None, |e| {
            e["path"] = "/signer".into();
            e["body"] = serde_json::json!({"address": address, "message": "hello"}).to_string().into();
        }),
    )
    .await;
    for (entry, response) in [("setter", setter), ("getter", getter), ("signer", signer)] {
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{entry}");
        assert_eq!(response.headers()["retry-after"], "1", "{entry}");
        let body = json_of(&response);
        assert_eq!(body["success"], false, "{entry}");
        assert!(body.get("data").is_none(), "{entry}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with("KMS is unavailable right now") && message.contains("try again"),
            "{message}"
        );
        assert!(!message.contains("127.0.0.1"), "no internals: {message}");
    }
    // The setter wrote no account: only the one above is stored.
    assert_eq!(store.describe().await.unwrap().item_count, Some(1));
    drop(dir);
}

#[tokio::test]
async fn a_key_that_cannot_be_opened_is_500_without_internals() {
    let f = fixture();
    let address = create(&f, "rest-v1-post").await;
    let parsed = Address::parse(&address).unwrap();
    // The same record under another address: the seal refuses it.
    let mut item = f.custodian.get(&parsed).await.unwrap().to_item().unwrap();
    let other = PrivateKey::generate_os();
    item.insert("address", Attr::S(other.address().to_storage()));
    item.insert(
        "public_key",
        Attr::S(rossignol_core::store::record::format_public_key(&other.public_key_uncompressed())),
    );
    f.store.create(&item).await.unwrap();

    let response =
        handle(Entry::Getter, &f.service, event("rest-v1-get", Some(&other.address().to_storage()), no_edit))
            .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let message = json_of(&response)["message"].as_str().unwrap().to_owned();
    assert_eq!(message, "internal error (request id c6af9ac6-7b61-11e6-9a41-93e8deadbeef)");
}
