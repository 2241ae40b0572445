//! The signer's JSON-RPC surface through the Lambda handler: JSON-RPC 2.0
//! exactly (batches, notifications, the error codes), the path's chain and
//! account, and every signature in the access trail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use lambda_http::http::StatusCode;
use rossignol_core::Address;
use rossignol_core::access::AccessTrail as _;
use rossignol_lambda::{Entry, handle};
use serde_json::{Value, json};
use support::{Fixture, KEY_ID, create, fixture, json_of, post_event};

async fn rpc(f: &Fixture, path: &str, body: &Value) -> Value {
    let response = handle(Entry::Signer, &f.service, post_event(path, &body.to_string(), KEY_ID)).await;
    assert_eq!(response.status(), StatusCode::OK, "JSON-RPC answers on 200");
    json_of(&response)
}

fn call(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn code(answer: &Value) -> i64 {
    answer["error"]["code"].as_i64().unwrap_or_else(|| panic!("an error object, got {answer}"))
}

#[tokio::test]
async fn a_batch_answers_each_call_and_records_each_signature() {
    let f = fixture();
    let address = create(&f, "rest-v1-post").await;
    let path = format!("/rpc/8453/{address}");
    let tx = json!({"from": address, "to": "0x3535353535353535353535353535353535353535", "nonce": "0x0",
        "gas": "0x5208", "maxFeePerGas": "0x2", "maxPriorityFeePerGas": "0x1", "type": "0x2"});
    let batch = json!([
        call(1, "eth_chainId", json!([])),
        {"jsonrpc": "2.0", "id": "two", "method": "eth_accounts"},
        call(3, "personal_sign", json!(["0x68656c6c6f", address])),
        call(4, "eth_sign", json!([address, "0x68656c6c6f"])),
        call(5, "eth_signTransaction", json!([tx])),
        call(6, "eth_sendTransaction", json!([tx])),
        {"jsonrpc": "2.0", "method": "personal_sign", "params": ["0x01", address]},
    ]);
    let answers = rpc(&f, &path, &batch).await;
    let answers = answers.as_array().unwrap();
    // The notification gets no answer; the rest answer in order, by id.
    assert_eq!(answers.len(), 6);
    assert_eq!(answers[0], json!({"jsonrpc": "2.0", "id": 1, "result": "0x2105"}));
    let checksummed = Address::parse(&address).unwrap().to_string();
    assert_eq!(answers[1], json!({"jsonrpc": "2.0", "id": "two", "result": [checksummed]}));
    assert_eq!(answers[2]["result"], answers[3]["result"], "eth_sign and personal_sign sign the same way");
    assert!(answers[2]["result"].as_str().unwrap().len() == 132);
    let raw = answers[4]["result"].as_str().unwrap();
    assert!(raw.starts_with("0x02"), "{raw}");
    assert_eq!(code(&answers[5]), -32601, "nothing is proxied: {}", answers[5]);

    // Four signatures (the notification's too), each recorded on its own
    // with the method and its own request id.
    let trail = f.store.latest(&Address::parse(&address).unwrap(), 10).await.unwrap();
    let mut actions: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
    actions.sort();
    assert_eq!(
        actions,
        ["signer:eth_sign", "signer:eth_signTransaction", "signer:personal_sign", "signer:personal_sign"]
    );
    let mut ids: Vec<&str> = trail.iter().map(|r| r.request_id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(trail.iter().all(|r| r.digest.is_some() && r.api_key_id.as_deref() == Some(KEY_ID)));
}

#[tokio::test]
async fn json_rpc_errors_are_error_objects_with_the_standard_codes() {
    let f = fixture();
    let address = create(&f, "rest-v1-post").await;
    let other = "0x3535353535353535353535353535353535353535";
    let path = format!("/rpc/1/{address}");
    let response = handle(Entry::Signer, &f.service, post_event("/rpc/1", "{not json", KEY_ID)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let parse_error = json_of(&response);
    assert_eq!((code(&parse_error), &parse_error["id"]), (-32700, &Value::Null));

    let cases = [
        (json!([]), -32600),
        (json!({"jsonrpc": "1.0", "id": 1, "method": "eth_accounts"}), -32600),
        (json!({"jsonrpc": "2.0", "id": [1], "method": "eth_accounts"}), -32600),
        (json!({"jsonrpc": "2.0", "id": 1, "method": 5}), -32600),
        (call(1, "eth_getBalance", json!([address, "latest"])), -32601),
        (call(1, "personal_sign", json!(["0x01"])), -32602),
        (json!({"jsonrpc": "2.0", "id": 1, "method": "personal_sign", "params": {"data": "0x01"}}), -32602),
        (call(1, "personal_sign", json!(["0xabc", address])), -32602),
        // The path signs for one account and one chain.
        (call(1, "personal_sign", json!(["0x01", other])), -32602),
        (
            call(
                1,
                "eth_signTransaction",
                json!([{"from": address, "chainId": 5, "nonce": 0, "gas": 21000, "gasPrice": 1}]),
            ),
            -32602,
        ),
        (
            call(
                1,
                "eth_signTransaction",
                json!([{"from": address, "nonce": 0, "gas": 21000, "gasPrice": 1, "type": 3}]),
            ),
            -32602,
        ),
        (
            call(
                1,
                "eth_signTypedData_v4",
                json!([address, {"types": {"M": []}, "primaryType": "M", "domain": {"chainId": 2}, "message": {}}]),
            ),
            -32602,
        ),
    ];
    for (body, expected) in cases {
        let answer = rpc(&f, &path, &body).await;
        assert_eq!(code(&answer), expected, "{body} -> {answer}");
        assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let mismatch = rpc(
        &f,
        &path,
        &call(
            1,
            "eth_signTransaction",
            json!([{"from": address, "chainId": 5, "nonce": 0, "gas": 21000, "gasPrice": 1}]),
        ),
    )
    .await;
    assert!(mismatch["error"]["message"].as_str().unwrap().contains("params[0].chainId"), "{mismatch}");

    // An unknown account, a disabled one, and a chain-less endpoint.
    let unknown =
        rpc(&f, &format!("/rpc/1/{other}"), &call(1, "personal_sign", json!(["0x01", other]))).await;
    assert_eq!(code(&unknown), -32002);
    f.custodian.set_disabled(&Address::parse(&address).unwrap(), Some("test")).await.unwrap();
    assert_eq!(code(&rpc(&f, &path, &call(1, "personal_sign", json!(["0x01", address]))).await), -32003);
    assert_eq!(rpc(&f, &path, &call(1, "eth_accounts", json!([]))).await["result"], json!([]));
    assert_eq!(code(&rpc(&f, "/rpc", &call(1, "eth_chainId", json!([]))).await), -32005);

    // A bad path is not JSON-RPC at all.
    let response = handle(Entry::Signer, &f.service, post_event("/rpc/mainnet", "{}", KEY_ID)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_transaction_without_chain_id_takes_the_paths() {
    let f = fixture();
    let address = create(&f, "rest-v1-post").await;
    let tx = json!({"from": address, "to": "0x3535353535353535353535353535353535353535", "nonce": 0,
        "gas": 21000, "gasPrice": "1000000000"});
    let answer = rpc(&f, "/rpc/137", &call(7, "eth_signTransaction", json!([tx]))).await;
    // The same bytes as the transaction that names chain 137 itself
    // (RFC 6979 signatures are deterministic).
    let mut explicit = tx.clone();
    explicit["chainId"] = json!(137);
    let named = rpc(&f, "/rpc", &call(7, "eth_signTransaction", json!([explicit]))).await;
    assert!(answer["result"].is_string(), "{answer}");
    assert_eq!(answer["result"], named["result"]);
    // Without `from`, the path's account signs; with neither, it is refused.
    let without_from =
        json!({"to": "0x3535353535353535353535353535353535353535", "nonce": 0, "gas": 21000, "gasPrice": 1});
    let answer =
        rpc(&f, &format!("/rpc/137/{address}"), &call(8, "eth_signTransaction", json!([without_from]))).await;
    assert!(answer["result"].is_string(), "{answer}");
    let answer = rpc(&f, "/rpc/137", &call(9, "eth_signTransaction", json!([without_from]))).await;
    assert_eq!(code(&answer), -32602);
}
