//! End to end: the built `rossignol-lambda` binary under the real Lambda
//! runtime protocol, served by cargo-lambda's emulator, against DynamoDB
//! Local and moto's KMS. Needs `scripts/test` (always run in CI).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use rossignol_core::access::{AccessTrail as _, Identity};
use rossignol_core::sign::eip191_digest;
use rossignol_core::store::{AccountStore, Attr};
use rossignol_core::{Address, PrivateKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod emulator;

use emulator::{API_KEY, Environment, Function, servers};

/// The account whose key made `rsv` (65 bytes, v = 27 or 28) over `digest`.
fn recover(digest: &[u8; 32], rsv: &[u8]) -> Address {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    let signature = Signature::from_slice(&rsv[..64]).unwrap();
    let recovery = RecoveryId::from_byte(rsv[64] - 27).unwrap();
    Address::from_public_key(
        &VerifyingKey::recover_from_prehash(digest, &signature, recovery).unwrap().into(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn setter_getter_and_signer_under_the_runtime_protocol() {
    let Some(servers) = servers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let env = Environment::new(&servers, "e2e").await;
    let (store, trail) = (&env.store, &env.trail);

    let common = env.vars();
    let with = |handler: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut vars: Vec<(&str, &str)> = common.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        vars.push(("_HANDLER", handler));
        vars.extend_from_slice(extra);
        vars
    };
    let setter = Function::start(&servers, dir.path(), "setter", &with("setter", &[]));
    let getter = Function::start(&servers, dir.path(), "getter", &with("getter", &[]));
    let blind_getter = Function::start(
        &servers,
        dir.path(),
        "blind-getter",
        &with("getter", &[("ROSSIGNOL_ACCESS_TABLE_NAME", "no_such_access_table")]),
    );
    let signer = Function::start(&servers, dir.path(), "signer", &with("signer", &[]));
    let getter_off = Function::start(
        &servers,
        dir.path(),
        "getter-off",
        &with("getter", &[("ROSSIGNOL_GETTER_ENABLED", "false")]),
    );
    let unchecked_getter = Function::start(
        &servers,
        dir.path(),
        "unchecked-getter",
        &with("getter", &[("ROSSIGNOL_API_KEY_SHA256", "unchecked")]),
    );

    // Setter, then getter: the revealed key derives the address.
    let (status, body) = setter.call("POST", "", Some(API_KEY));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "successfully created account");
    let address = body["data"]["address"].as_str().unwrap().to_owned();
    let parsed = Address::parse(&address).unwrap();

    let (status, body) = getter.call("GET", &format!("?address={address}"), Some(API_KEY));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "successfully retrieved account");
    assert_eq!(body["data"]["scheme"], "secp256k1");
    let private_key = body["data"]["private_key"].as_str().unwrap().to_owned();
    let key = PrivateKey::from_bytes(&hex::decode(&private_key[2..]).unwrap()).unwrap();
    assert_eq!(key.address(), parsed);

    // The access record was written.
    let records = trail.latest(&parsed, 10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].action, "getter");
    assert!(!records[0].request_id.is_empty());
    assert_eq!(records[0].source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(records[0].identity, Identity::Verified);

    // A direct invocation with a hand-made REST event: no X-Api-Key, and
    // someone else's API key id and source IP. Refused, nothing recorded.
    let forged = forged_event(dir.path(), &address);
    let answer = getter.invoke_file(&forged);
    assert_eq!(answer["statusCode"], 403, "{answer}");
    assert!(!answer["body"].as_str().unwrap().contains("private_key"), "{answer}");
    assert_eq!(trail.latest(&parsed, 10).await.unwrap().len(), 1);
    // With the check explicitly off it gets through, and the trail says
    // the event's identity is only claimed.
    let answer = unchecked_getter.invoke_file(&forged);
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let records = trail.latest(&parsed, 10).await.unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].api_key_id.as_deref(), Some("victim-backend-key"));
    assert_eq!(records[0].source_ip.as_deref(), Some("10.9.9.9"));
    assert_eq!(records[0].identity, Identity::Claimed);
    assert!(unchecked_getter.logs().contains("ROSSIGNOL_API_KEY_SHA256 is `unchecked`"));
    assert!(!getter.logs().contains("`unchecked`"));

    // A REST v1 event through `cargo lambda invoke`.
    let answer = setter.invoke("rest-v1-post");
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let inner: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["success"], true);

    // The signer: a message and a transaction, verified by recovery.
    let secret_message = "pay the bearer on demand";
    let (status, body) = signer.post(&json!({"address": address, "message": secret_message}));
    assert_eq!(status, 200, "{body}");
    let signature = hex::decode(&body["data"]["signature"].as_str().unwrap()[2..]).unwrap();
    let digest = eip191_digest(secret_message.as_bytes());
    assert_eq!(recover(&digest, &signature), parsed);
    let (status, body) = signer.post(&json!({"address": address, "transaction": {
        "chainId": 1, "nonce": 0, "maxFeePerGas": "2000000000", "maxPriorityFeePerGas": "1000000000",
        "gas": 21000, "to": "0x3535353535353535353535353535353535353535", "value": "1"
    }}));
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["raw_transaction"].as_str().unwrap().starts_with("0x02"), "{body}");
    let records = trail.latest(&parsed, 10).await.unwrap();
    assert_eq!(records.len(), 4);
    assert_eq!(records[1].action, "signer");
    assert_eq!(records[1].digest.as_deref(), Some(format!("0x{}", hex::encode(digest)).as_str()));

    // Every error status.
    let unknown = "0x00000000000000000000000000000000000000aa";
    for (function, method, query, api_key, expected) in [
        (&getter, "GET", String::new(), Some(API_KEY), 400),
        (&getter, "GET", "?address=0x1234".to_owned(), Some(API_KEY), 400),
        (&getter, "GET", format!("?address={unknown}"), Some(API_KEY), 404),
        (&getter, "POST", format!("?address={address}"), Some(API_KEY), 405),
        (&setter, "GET", String::new(), Some(API_KEY), 405),
        (&setter, "POST", String::new(), None, 403),
        (&getter, "GET", format!("?address={address}"), Some("wrong"), 403),
        (&blind_getter, "GET", format!("?address={address}"), Some(API_KEY), 503),
        (&signer, "GET", String::new(), Some(API_KEY), 405),
        (&getter_off, "GET", format!("?address={address}"), Some(API_KEY), 403),
    ] {
        let (status, body) = function.call(method, &query, api_key);
        assert_eq!(status, expected, "{method} {query}: {body}");
        assert_eq!(body["success"], false);
        assert!(body.get("data").is_none());
    }

    for (body, expected) in [
        (json!({"address": address, "transaction": {"nonce": 1}}).to_string(), 400),
        (json!({"address": unknown, "message": "x"}).to_string(), 404),
        (json!({"address": address, "message": "x".repeat(70_000)}).to_string(), 413),
    ] {
        let (status, body) = signer.send("POST", "", Some(API_KEY), body);
        assert_eq!(status, expected, "{body}");
        assert_eq!(body["success"], false);
    }

    // A sealed key moved onto another record: KMS refuses it, 500.
    let mut item = store.get(&parsed).await.unwrap().unwrap();
    let other = PrivateKey::generate_os();
    item.insert("address", Attr::S(other.address().to_storage()));
    store.create(&item).await.unwrap();
    let (status, body) =
        getter.call("GET", &format!("?address={}", other.address().to_storage()), Some(API_KEY));
    assert_eq!(status, 500, "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("internal error (request id "), "{body}");

    // Only the two reveals and the two signatures left records; the blind
    // getter and the switched-off getter revealed nothing.
    assert_eq!(trail.latest(&parsed, 10).await.unwrap().len(), 4);

    // Disabled: the signer answers 410.
    let current = store.get(&parsed).await.unwrap().unwrap();
    let mut disabled = current.clone();
    disabled.insert("disabled_at", Attr::S("2026-11-24T00:00:00.000Z".into()));
    store.replace(&current, &disabled).await.unwrap();
    let (status, body) = signer.post(&json!({"address": address, "message": "x"}));
    assert_eq!(status, 410, "{body}");

    // The logs hold no private key, no sealed blob, no payload.
    let sealed = match store.get(&parsed).await.unwrap().unwrap().get("sealed_private_key") {
        Some(Attr::B(blob)) => blob.clone(),
        other => panic!("a sealed key, got {other:?}"),
    };
    let sealed_b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &sealed);
    let mut blind_getter_logs = String::new();
    for (name, mut function) in [
        ("setter", setter),
        ("getter", getter),
        ("blind getter", blind_getter),
        ("signer", signer),
        ("switched-off getter", getter_off),
        ("unchecked getter", unchecked_getter),
    ] {
        let logs = function.stopped_logs();
        if name == "blind getter" {
            blind_getter_logs.clone_from(&logs);
        }
        assert!(!logs.contains(secret_message), "a signed payload is in the {name}'s logs");
        assert!(logs.contains("\"message\":\"handled\""), "{name}: structured logs expected: {logs}");
        assert!(
            !logs.to_ascii_lowercase().contains(&private_key[2..]),
            "a private key is in the {name}'s logs"
        );
        assert!(!logs.contains(&sealed_b64[..40]), "a sealed key is in the {name}'s logs");
        for line in logs.lines() {
            assert!(line.starts_with('{'), "not a JSON log line: {line}");
        }
    }
    assert!(blind_getter_logs.contains("reveal failed"));

    env.drop_tables().await;
}

/// The recorded REST getter event for `address`, as someone who can invoke
/// the function directly would forge it.
fn forged_event(dir: &std::path::Path, address: &str) -> std::path::PathBuf {
    let file = format!("{}/tests/fixtures/rest-v1-get.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(file).unwrap().replace(emulator::ZERO, address);
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["headers"].as_object_mut().unwrap().remove("X-Api-Key");
    event["multiValueHeaders"].as_object_mut().unwrap().remove("X-Api-Key");
    event["requestContext"]["identity"]["apiKey"] = Value::Null;
    event["requestContext"]["identity"]["apiKeyId"] = "victim-backend-key".into();
    event["requestContext"]["identity"]["sourceIp"] = "10.9.9.9".into();
    let path = dir.join("forged-event.json");
    std::fs::write(&path, event.to_string()).unwrap();
    path
}

#[test]
fn a_bad_handler_or_missing_variable_stops_the_cold_start() {
    let run = |env: &[(&str, &str)]| {
        let output = Command::new(env!("CARGO_BIN_EXE_rossignol-lambda"))
            .env_clear()
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(!output.status.success());
        String::from_utf8(output.stdout).unwrap() + &String::from_utf8(output.stderr).unwrap()
    };
    let digest = hex::encode(Sha256::digest(API_KEY));
    let hash = ("ROSSIGNOL_API_KEY_SHA256", digest.as_str());
    let out = run(&[
        ("_HANDLER", "index.setter"),
        ("DYNAMO_DB_TABLE_NAME", "t_1"),
        ("ROSSIGNOL_KMS_KEY_ID", "k"),
        hash,
    ]);
    assert!(out.contains("set the function's handler (_HANDLER) to `setter`, `getter` or `signer`"), "{out}");
    let out = run(&[("_HANDLER", "getter"), ("ROSSIGNOL_KMS_KEY_ID", "k"), hash]);
    assert!(out.contains("DYNAMO_DB_TABLE_NAME is not set"), "{out}");
    let out = run(&[("_HANDLER", "setter"), ("DYNAMO_DB_TABLE_NAME", "t_1"), hash]);
    assert!(out.contains("ROSSIGNOL_KMS_KEY_ID is not set"), "{out}");
    // Without the key check's setting the function does not start at all:
    // before, it served everyone.
    let out = run(&[("_HANDLER", "getter"), ("DYNAMO_DB_TABLE_NAME", "t_1"), ("ROSSIGNOL_KMS_KEY_ID", "k")]);
    assert!(out.contains("ROSSIGNOL_API_KEY_SHA256 is not set") && out.contains("`unchecked`"), "{out}");

    // ROSSIGNOL_CONFIG: what the configuration code and connecting refuse
    // stops the cold start too, in one line naming the variable.
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[environments.t]\nstore = \"embedded\"\npath = \"{}/t.redb\"\n\
         transit_url = \"http://127.0.0.1:9\"\ntransit_key = \"k\"\n",
        dir.path().display()
    );
    let data = dir.path().display().to_string();
    let with_config = [
        ("_HANDLER", "getter"),
        ("ROSSIGNOL_CONFIG", config.as_str()),
        ("ROSSIGNOL_DATA_DIR", data.as_str()),
        hash,
    ];
    let out = run(&with_config);
    assert!(
        out.contains("cold start failed")
            && out.contains("ROSSIGNOL_CONFIG: environment `t` could not be set up: no OpenBao token"),
        "{out}"
    );
    let out = run(&[with_config.as_slice(), &[("ROSSIGNOL_CONFIG", "[environments.t\n")]].concat());
    assert!(out.contains("ROSSIGNOL_CONFIG is not valid"), "{out}");
}
