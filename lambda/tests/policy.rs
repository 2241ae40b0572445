//! Signing policy through the signer Lambda: each rule refuses what it
//! should and allows what it should, in Rossignol's JSON (403) and in
//! JSON-RPC (-32001, `data.rule`), and each refusal is in the access trail
//! with the rule's name, with nothing signed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use lambda_http::http::StatusCode;
use rossignol_core::Address;
use rossignol_core::access::AccessTrail as _;
use rossignol_lambda::{Entry, handle};
use serde_json::{Value, json};
use support::{Fixture, KEY_ID, fixture_with_policy, json_of, post_event};

const LISTED: &str = "0x3535353535353535353535353535353535353535";
const DELEGATE: &str = "0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B";
const UNLISTED: &str = "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe";

/// Creates an account through the setter with API key `key_id`.
async fn create_as(f: &Fixture, key_id: &str) -> String {
    let response = handle(Entry::Setter, &f.service, post_event("/setter", "", key_id)).await;
    assert_eq!(response.status(), StatusCode::OK);
    json_of(&response)["data"]["address"].as_str().unwrap().to_owned()
}

/// Rossignol's JSON: the status and the message.
async fn sign(f: &Fixture, key_id: &str, body: Value) -> (StatusCode, String) {
    let response = handle(Entry::Signer, &f.service, post_event("/signer", &body.to_string(), key_id)).await;
    let status = response.status();
    (status, json_of(&response)["message"].as_str().unwrap_or_default().to_owned())
}

/// The same request through JSON-RPC; `None` for kinds JSON-RPC has no
/// method for (authorizations).
async fn rpc(f: &Fixture, key_id: &str, address: &str, kind: &str, payload: &Value) -> Option<Value> {
    let (method, params) = match kind {
        "message" => ("personal_sign", json!([payload, address])),
        "typed_data" => ("eth_signTypedData_v4", json!([address, payload])),
        "transaction" => {
            let mut tx = payload.clone();
            tx["from"] = json!(address);
            ("eth_signTransaction", json!([tx]))
        }
        _ => return None,
    };
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let response = handle(Entry::Signer, &f.service, post_event("/rpc", &body.to_string(), key_id)).await;
    assert_eq!(response.status(), StatusCode::OK);
    Some(json_of(&response))
}

/// Asserts the outcome in both interfaces: allowed (`None`) or refused by
/// `rule`, and in the latter case that the trail holds the refusal.
async fn expect(
    f: &Fixture,
    key_id: &str,
    address: &str,
    kind: &str,
    payload: Value,
    refused_by: Option<&str>,
) {
    let (status, message) = sign(f, key_id, json!({"address": address, kind: payload.clone()})).await;
    let answer = rpc(f, key_id, address, kind, &payload).await;
    let what = format!("{kind} {payload} as {key_id}");
    match refused_by {
        None => {
            assert_eq!(status, StatusCode::OK, "{what}: {message}");
            if let Some(answer) = answer {
                assert!(answer.get("result").is_some(), "{what}: {answer}");
            }
        }
        Some(rule) => {
            assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {message}");
            assert!(
                message.contains(&format!("`{rule}` rule")) && message.ends_with("nothing was signed"),
                "{message}"
            );
            if let Some(answer) = answer {
                assert_eq!(answer["error"]["code"], -32001, "{what}: {answer}");
                assert_eq!(answer["error"]["data"]["rule"], rule, "{what}: {answer}");
            }
            let trail = f.store.latest(&Address::parse(address).unwrap(), 1).await.unwrap();
            assert_eq!(trail[0].refused.as_deref(), Some(rule), "{what}: the trail records the refusal");
            assert!(trail[0].digest.is_some(), "{what}: with the digest of what was refused");
        }
    }
}

fn transaction(chain_id: u64, to: Option<&str>, value: &str) -> Value {
    json!({"chainId": chain_id, "nonce": 0, "gas": 21000, "maxFeePerGas": "2", "maxPriorityFeePerGas": "1", "to": to, "value": value})
}

fn typed_data(domain: Value) -> Value {
    json!({"types": {"Mail": [{"name": "contents", "type": "string"}]}, "primaryType": "Mail", "domain": domain,
           "message": {"contents": "hi"}})
}

fn authorization(chain_id: u64, delegate: &str) -> Value {
    json!({"chainId": chain_id, "address": delegate, "nonce": 0})
}

#[tokio::test]
async fn each_rule_refuses_and_allows_in_both_interfaces() {
    let f = fixture_with_policy(&json!({
        "chain_ids": [1, 8453],
        "allowed_to": [LISTED, DELEGATE],
        "max_value_wei": "1000",
    }));
    let a = create_as(&f, KEY_ID).await;
    let a = a.as_str();
    let k = KEY_ID;
    // chain_ids
    expect(&f, k, a, "transaction", transaction(1, Some(LISTED), "0"), None).await;
    expect(&f, k, a, "transaction", transaction(10, Some(LISTED), "0"), Some("chain_ids")).await;
    expect(&f, k, a, "typed_data", typed_data(json!({"chainId": 8453, "verifyingContract": LISTED})), None)
        .await;
    expect(
        &f,
        k,
        a,
        "typed_data",
        typed_data(json!({"chainId": 5, "verifyingContract": LISTED})),
        Some("chain_ids"),
    )
    .await;
    expect(&f, k, a, "typed_data", typed_data(json!({"verifyingContract": LISTED})), Some("chain_ids")).await;
    expect(&f, k, a, "authorization", authorization(8453, DELEGATE), None).await;
    expect(&f, k, a, "authorization", authorization(137, DELEGATE), Some("chain_ids")).await;
    // allowed_to: recipients, verifying contracts, delegates
    expect(&f, k, a, "transaction", transaction(1, Some(UNLISTED), "0"), Some("allowed_to")).await;
    expect(&f, k, a, "transaction", transaction(1, None, "0"), Some("allowed_to")).await;
    expect(
        &f,
        k,
        a,
        "typed_data",
        typed_data(json!({"chainId": 1, "verifyingContract": UNLISTED})),
        Some("allowed_to"),
    )
    .await;
    expect(&f, k, a, "authorization", authorization(1, UNLISTED), Some("allowed_to")).await;
    // max_value_wei
    expect(&f, k, a, "transaction", transaction(1, Some(LISTED), "1000"), None).await;
    expect(&f, k, a, "transaction", transaction(1, Some(LISTED), "1001"), Some("max_value_wei")).await;
    // allow_chain_id_zero: off unless said
    expect(&f, k, a, "authorization", authorization(0, DELEGATE), Some("allow_chain_id_zero")).await;
    // Messages have no chain and no recipient.
    expect(&f, k, a, "message", json!("hello"), None).await;
}

#[tokio::test]
async fn kinds_and_accounts_and_per_key_overrides() {
    let f = fixture_with_policy(&json!({
        "kinds": ["message", "transaction"],
        "keys": {
            KEY_ID: {"kinds": ["message", "authorization"], "allow_chain_id_zero": true, "accounts": "created_by_key"},
        },
    }));
    let mine = create_as(&f, KEY_ID).await;
    let theirs = create_as(&f, "another-key").await;
    // The default policy, for any other key: kinds.
    expect(&f, "another-key", &theirs, "message", json!("hi"), None).await;
    expect(&f, "another-key", &theirs, "transaction", transaction(1, Some(LISTED), "1"), None).await;
    expect(&f, "another-key", &theirs, "typed_data", typed_data(json!({"chainId": 1})), Some("kinds")).await;
    expect(&f, "another-key", &theirs, "authorization", authorization(0, DELEGATE), Some("kinds")).await;
    // KEY_ID's own: other kinds, chain id 0 allowed, and only its accounts.
    expect(&f, KEY_ID, &mine, "authorization", authorization(0, DELEGATE), None).await;
    expect(&f, KEY_ID, &mine, "transaction", transaction(1, Some(LISTED), "1"), Some("kinds")).await;
    expect(&f, KEY_ID, &theirs, "message", json!("hi"), Some("accounts")).await;
    expect(&f, KEY_ID, &mine, "message", json!("hi"), None).await;

    // eth_accounts answers only what the caller may use.
    let accounts = |key_id: &'static str, path: String| {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_accounts", "params": []}).to_string();
        let f = &f;
        async move {
            json_of(&handle(Entry::Signer, &f.service, post_event(&path, &body, key_id)).await)["result"]
                .clone()
        }
    };
    let checksummed = |a: &str| Address::parse(a).unwrap().to_string();
    assert_eq!(accounts(KEY_ID, "/rpc/1".into()).await, json!([checksummed(&mine)]));
    assert_eq!(accounts(KEY_ID, format!("/rpc/1/{theirs}")).await, json!([]));
    assert_eq!(accounts(KEY_ID, format!("/rpc/1/{mine}")).await, json!([checksummed(&mine)]));
    let all = accounts("another-key", "/rpc/1".into()).await;
    assert_eq!(all.as_array().map(Vec::len), Some(2), "{all}");
}

#[test]
fn configuration_mistakes_are_named_when_it_loads() {
    use rossignol_core::policy::PolicyBook;
    let cases = [
        (json!({"kinds": ["messages"]}), "ROSSIGNOL_POLICY.kinds"),
        (json!({"chain_ids": []}), "ROSSIGNOL_POLICY.chain_ids"),
        (json!({"allowed_to": ["0x12"]}), "ROSSIGNOL_POLICY.allowed_to"),
        (json!({"max_value_wei": "1e18"}), "ROSSIGNOL_POLICY.max_value_wei"),
        (json!({"accounts": "mine"}), "ROSSIGNOL_POLICY.accounts"),
        (json!({"keys": {"abc": {"kinds": ["x"]}}}), "ROSSIGNOL_POLICY.keys.abc.kinds"),
        (json!({"chain_id": [1]}), "chain_id"),
    ];
    for (policy, named) in cases {
        let err = PolicyBook::from_json(&policy.to_string(), "ROSSIGNOL_POLICY").unwrap_err();
        assert!(err.contains(named), "{policy}: {err}");
    }
}
