//! The signer entry point and the getter switch, on recorded API Gateway
//! events over an embedded store, for every status they answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine as _;
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use lambda_http::http::StatusCode;
use rossignol_core::account::keccak256;
use rossignol_core::sign::{MAX_BODY_BYTES, eip191_digest};
use rossignol_core::store::AccountStore as _;
use rossignol_core::{Address, PrivateKey};
use rossignol_lambda::{ApiKeyCheck, Entry, handle};
use serde_json::{Value, json};
use support::*;

/// The recorded POST with `body` as its body.
fn sign_event(body: &str) -> lambda_http::Request {
    let body = body.to_owned();
    event("rest-v1-post", None, move |v: &mut Value| {
        v["path"] = json!("/signer");
        v["resource"] = json!("/signer");
        v["body"] = json!(body);
    })
}

async fn sign(f: &Fixture, body: Value) -> (StatusCode, Value) {
    let response = handle(Entry::Signer, &f.service, sign_event(&body.to_string())).await;
    (response.status(), json_of(&response))
}

fn recover(digest: &[u8; 32], rsv_hex: &str) -> Address {
    let rsv = hex::decode(rsv_hex.strip_prefix("0x").unwrap()).unwrap();
    assert_eq!(rsv.len(), 65);
    let signature = Signature::from_slice(&rsv[..64]).unwrap();
    let recovery = RecoveryId::from_byte(rsv[64] - 27).unwrap();
    Address::from_public_key(
        &VerifyingKey::recover_from_prehash(digest, &signature, recovery).unwrap().into(),
    )
}

#[tokio::test]
async fn a_message_is_signed_and_recorded_without_its_payload() {
    let f = fixture();
    let address = create(&f, "rest-v1-post").await;
    let parsed = Address::parse(&address).unwrap();
    for (message, bytes) in [("0x68656c6c6f", b"hello".as_slice()), ("hello world", b"hello world")] {
        let (status, body) = sign(&f, json!({"address": parsed.to_string(), "message": message})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["success"], true);
        assert_eq!(body["message"], "successfully signed message");
        assert_eq!(body["data"]["address"], address);
        assert_eq!(body["data"]["scheme"], "secp256k1");
        assert!(body["data"].get("private_key").is_none());
        let signature = body["data"]["signature"].as_str().unwrap();
        assert_eq!(recover(&eip191_digest(bytes), signature), parsed);
    }
    let trail = f.custodian.trail().latest(&parsed, 10).await.unwrap();
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0].action, "signer");
    assert_eq!(trail[0].api_key_id.as_deref(), Some("k9x8w7v6u5"));
    let digest = format!("0x{}", hex::encode(eip191_digest(b"hello world")));
    assert_eq!(trail[0].digest.as_deref(), Some(digest.as_str()));
}

#[tokio::test]
async fn transactions_come_back_raw_with_their_hash() {
    let f = fixture();
    let key = PrivateKey::from_bytes(&[0x46; 32]).unwrap();
    let address = key.address();
    f.custodian.create_with_key(key, "test").await.unwrap();
    // The example of EIP-155 itself.
    let (status, body) = sign(
        &f,
        json!({"address": address.to_string(), "transaction": {
            "chainId": 1, "nonce": 9, "gasPrice": "20000000000", "gas": "21000",
            "to": "0x3535353535353535353535353535353535353535", "value": "1000000000000000000", "data": "0x"
        }}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "successfully signed transaction");
    let raw = body["data"]["raw_transaction"].as_str().unwrap();
    assert_eq!(
        raw,
        "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
    );
    let hash = keccak256(&hex::decode(&raw[2..]).unwrap());
    assert_eq!(body["data"]["hash"], format!("0x{}", hex::encode(hash)));

    let (status, body) = sign(
        &f,
        json!({"address": address.to_string(), "transaction": {
            "chainId": "0x89", "nonce": "0x0", "maxFeePerGas": "0x6fc23ac00", "maxPriorityFeePerGas": "0x3b9aca00",
            "gas": "0x5208", "value": "0x0", "data": "0x6080604052"
        }}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["raw_transaction"].as_str().unwrap().starts_with("0x02"));
}

#[tokio::test]
async fn legacy_accounts_sign_messages_with_ed25519() {
    let f = fixture();
    let signing = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
    let public = signing.verifying_key().to_bytes();
    let address = rossignol_core::store::record::legacy_address(&public);
    let mut item = rossignol_core::store::Item::default();
    let b64 = base64::engine::general_purpose::STANDARD;
    item.insert("address", rossignol_core::store::Attr::S(address.to_storage()));
    item.insert("private_key", rossignol_core::store::Attr::S(b64.encode(signing.to_keypair_bytes())));
    item.insert("public_key", rossignol_core::store::Attr::S(b64.encode(public)));
    f.store.create(&item).await.unwrap();

    let (status, body) = sign(&f, json!({"address": address.to_storage(), "message": "hello"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["scheme"], "ed25519");
    let signature = hex::decode(&body["data"]["signature"].as_str().unwrap()[2..]).unwrap();
    let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
    signing.verifying_key().verify_strict(b"hello", &signature).unwrap();

    let (status, body) = sign(
        &f,
        json!({"address": address.to_storage(), "transaction": {"chainId": 1, "nonce": 0, "gasPrice": 1, "gas": 21000}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("messages only"), "{body}");
}

#[tokio::test]
async fn every_refusal_has_its_status_and_says_why() {
    let f = fixture();
    let address = create(&f, "rest-v1-post").await;

    let (status, body) = sign(&f, json!({"address": address, "transaction": {"nonce": 1}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("`transaction.chainId`"), "{body}");
    let response = handle(Entry::Signer, &f.service, sign_event("{not json")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(json_of(&response)["message"].as_str().unwrap().contains("`body`"));

    let (status, body) = sign(&f, json!({"address": format!("0x{}", "ab".repeat(20)), "message": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let big = json!({"address": address, "message": "x".repeat(MAX_BODY_BYTES)}).to_string();
    let response = handle(Entry::Signer, &f.service, sign_event(&big)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(json_of(&response)["message"].as_str().unwrap().contains("at most 65536"));

    let get = event("rest-v1-get", Some(&address), no_edit);
    let response = handle(Entry::Signer, &f.service, get).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);

    let keyless = event("rest-v1-post", None, |v: &mut Value| {
        v["headers"].as_object_mut().unwrap().remove("X-Api-Key");
        v["multiValueHeaders"].as_object_mut().unwrap().remove("X-Api-Key");
        v["body"] = json!("{}");
    });
    assert_eq!(handle(Entry::Signer, &f.service, keyless).await.status(), StatusCode::FORBIDDEN);

    // Disabled: 410 from the signer and the getter, and nothing recorded.
    let parsed = Address::parse(&address).unwrap();
    f.custodian.set_disabled(&parsed, Some("ops")).await.unwrap();
    let (status, body) = sign(&f, json!({"address": address, "message": "x"})).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert!(body["message"].as_str().unwrap().contains("disabled"), "{body}");
    let response = handle(Entry::Getter, &f.service, event("rest-v1-get", Some(&address), no_edit)).await;
    assert_eq!(response.status(), StatusCode::GONE);
    assert!(json_of(&response).get("data").is_none());
    assert!(f.custodian.trail().latest(&parsed, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_getter_switch_turns_the_getter_off_and_points_to_the_signer() {
    let f = fixture();
    let address = create(&f, "rest-v1-post").await;
    let service = rossignol_lambda::Service::new(f.custodian.clone(), ApiKeyCheck::Sha256(api_key_hash()))
        .with_getter_enabled(false);
    let response = handle(Entry::Getter, &service, event("rest-v1-get", Some(&address), no_edit)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body = json_of(&response);
    assert!(body.get("data").is_none());
    assert!(body["message"].as_str().unwrap().contains("Use the signer"), "{body}");
    assert!(f.custodian.trail().latest(&Address::parse(&address).unwrap(), 10).await.unwrap().is_empty());

    let response = handle(
        Entry::Signer,
        &service,
        sign_event(&json!({"address": address, "message": "hi"}).to_string()),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unavailable_access_trail_is_503_and_signs_nothing() {
    let f = fixture_with(ApiKeyCheck::Sha256(api_key_hash()), Some(unreachable_trail().await));
    let address = create(&f, "rest-v1-post").await;
    let (status, body) = sign(&f, json!({"address": address, "message": "x"})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.get("data").is_none());
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("no key was revealed or used"), "{message}");
}
