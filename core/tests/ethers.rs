#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Signatures and keystores checked by an independent implementation:
//! ethers v6 in Node (`scripts/ethers-check.mjs`), which `scripts/test`
//! installs. Messages must recover the signer, transactions must decode to
//! the fields given with the signer as `from`, and keystores must open to
//! the same key.

mod support;

use std::io::Write as _;
use std::process::{Command, Stdio};

use rossignol_core::sign::{self, Payload, SignRequest, Signed};
use rossignol_core::{KeyMaterial, PrivateKey, keystore};
use serde_json::{Value, json};

const NODE_MODULES: &str = "ROSSIGNOL_TEST_NODE_MODULES";

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn signed(key: &PrivateKey, body: &Value) -> (SignRequest, Signed) {
    let request = SignRequest::parse(body.to_string().as_bytes()).unwrap();
    let signed = sign::sign(&KeyMaterial::Secp256k1(key.clone()), &request.payload, "").unwrap();
    (request, signed)
}

fn message_case(key: &PrivateKey, message: &str) -> Value {
    let address = key.address().to_string();
    let (request, signed) = signed(key, &json!({"address": address, "message": message}));
    let (Payload::Message(bytes), Signed::Message { signature, .. }) = (&request.payload, signed) else {
        panic!("a message")
    };
    json!({"kind": "message", "address": address, "message": hex0x(bytes), "signature": hex0x(&signature)})
}

/// `tx` in the request's shape; the expected fields are read back from it.
fn transaction_case(key: &PrivateKey, tx: Value) -> Value {
    let address = key.address().to_string();
    let (request, signed) = signed(key, &json!({"address": address, "transaction": tx.clone()}));
    let Signed::Transaction { raw, hash, .. } = signed else { panic!("a transaction") };
    let number = |name: &str| -> Value {
        match tx.get(name) {
            None => json!("0"),
            Some(Value::Number(n)) => json!(n.to_string()),
            Some(Value::String(s)) => match s.strip_prefix("0x") {
                Some(h) => json!(u128::from_str_radix(h, 16).unwrap().to_string()),
                None => json!(s),
            },
            Some(other) => panic!("{other}"),
        }
    };
    let Payload::Transaction(parsed) = &request.payload else { panic!("a transaction") };
    let tx_type = parsed.tx_type.number();
    // The same transaction as an ethers TransactionRequest, for ethers to
    // sign with the same key: its raw bytes must equal ours.
    let mut ethers_request = tx.clone();
    if let Some(fields) = ethers_request.as_object_mut() {
        if let Some(gas) = fields.remove("gas") {
            fields.insert("gasLimit".into(), gas);
        }
        fields.insert("type".into(), json!(tx_type));
    }
    let to =
        tx.get("to").and_then(Value::as_str).map(|t| rossignol_core::Address::parse(t).unwrap().to_string());
    json!({
        "kind": "transaction",
        "address": address,
        "raw": hex0x(&raw),
        "hash": hex0x(&hash),
        "type": tx_type,
        "privateKey": key.reveal_hex().as_str(),
        "request": ethers_request,
        "chainId": number("chainId"),
        "nonce": number("nonce"),
        "gas": number("gas"),
        "to": to,
        "value": number("value"),
        "data": tx.get("data").and_then(Value::as_str).unwrap_or("0x"),
        "gasPrice": number("gasPrice"),
        "maxFeePerGas": number("maxFeePerGas"),
        "maxPriorityFeePerGas": number("maxPriorityFeePerGas"),
    })
}

fn authorization_case(key: &PrivateKey, authorization: Value) -> Value {
    let address = key.address().to_string();
    let (_, signed) = signed(key, &json!({"address": address, "authorization": authorization.clone()}));
    let Signed::Authorization { signed, digest } = signed else { panic!("an authorization") };
    let json = signed.to_json();
    json!({
        "kind": "authorization",
        "privateKey": key.reveal_hex().as_str(),
        "address": address,
        "delegate": json["address"],
        "chainId": json["chainId"],
        "nonce": json["nonce"],
        "yParity": json["yParity"],
        "r": json["r"],
        "s": json["s"],
        "digest": hex0x(&digest),
    })
}

fn typed_data_case(key: &PrivateKey, typed: Value) -> Value {
    let address = key.address().to_string();
    let (_, signed) = signed(key, &json!({"address": address, "typed_data": typed.clone()}));
    let Signed::Message { signature, digest } = signed else { panic!("a signature") };
    json!({"kind": "typed_data", "address": address, "typedData": typed, "signature": hex0x(&signature), "digest": hex0x(&digest)})
}

/// An EIP-2612 permit as ethers sends it (a JSON string, the domain type
/// included), and nested structs with arrays and signed integers.
fn typed_data_examples() -> Vec<Value> {
    let permit = json!({
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "Permit": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"},
                       {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"},
                       {"name": "deadline", "type": "uint256"}]},
        "primaryType": "Permit",
        "domain": {"name": "USD Coin", "version": "2", "chainId": "0x1",
                   "verifyingContract": "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"},
        "message": {"owner": "0x3535353535353535353535353535353535353535",
                    "spender": "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae",
                    "value": "1000000", "nonce": 0, "deadline": "0x77359400"}});
    let order = json!({
        "types": {
            "Order": [{"name": "maker", "type": "address"}, {"name": "legs", "type": "Leg[]"},
                      {"name": "tags", "type": "bytes32[2]"}, {"name": "note", "type": "string"}],
            "Leg": [{"name": "delta", "type": "int128"}, {"name": "asset", "type": "bytes"},
                    {"name": "flags", "type": "bool[]"}]},
        "primaryType": "Order",
        "domain": {"name": "Exchange", "chainId": 8453, "salt": "0x0000000000000000000000000000000000000000000000000000000000000007"},
        "message": {"maker": "0x3535353535353535353535353535353535353535",
                    "legs": [{"delta": "-170141183460469231731687303715884105728", "asset": "0x", "flags": [true, false]},
                             {"delta": 42, "asset": "0xdeadbeef", "flags": []}],
                    "tags": ["0x0000000000000000000000000000000000000000000000000000000000000001",
                             "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"],
                    "note": "Grüße 🐦"}});
    vec![Value::String(permit.to_string()), order]
}

#[test]
fn ethers_recovers_our_signatures_and_opens_our_keystores() {
    let Some(modules) = support::server(NODE_MODULES, "ethers (node_modules)") else { return };
    let keys: Vec<PrivateKey> = (0..3).map(|_| PrivateKey::generate_os()).collect();
    let mut cases = Vec::new();
    for key in &keys {
        cases.push(message_case(key, "hello"));
        cases.push(message_case(key, "0x00ff10"));
        cases.push(message_case(key, "Grüße, 世界 🐦"));
        cases.push(transaction_case(
            key,
            json!({"chainId": 1, "nonce": "9", "gasPrice": "20000000000", "gas": 21000,
                   "to": "0x3535353535353535353535353535353535353535", "value": "1000000000000000000"}),
        ));
        cases.push(transaction_case(
            key,
            json!({"chainId": "0x89", "nonce": "0x2a", "maxFeePerGas": "0x6fc23ac00",
                   "maxPriorityFeePerGas": "1000000000", "gas": "0x186a0",
                   "to": "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe", "value": "0",
                   "data": "0xa9059cbb000000000000000000000000de0b295669a9fd93d5f28d9ec85e40f4cb697bae0000000000000000000000000000000000000000000000000000000000000001"}),
        ));
        // Contract creation: no recipient.
        cases.push(transaction_case(
            key,
            json!({"chainId": "11155111", "nonce": "0", "maxFeePerGas": "2", "maxPriorityFeePerGas": "2",
                   "gas": "500000", "data": "0x6080604052348015600f57600080fd5b50"}),
        ));
    }
    for key in &keys {
        cases.push(transaction_case(
            key,
            json!({"type": 1, "chainId": 10, "nonce": 3, "gasPrice": "1000000", "gas": 60000,
                   "to": "0x3535353535353535353535353535353535353535", "value": "5",
                   "accessList": [{"address": "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe",
                                   "storageKeys": ["0x0000000000000000000000000000000000000000000000000000000000000001"]}]}),
        ));
        // Type 4 carries an authorization signed by another account.
        let authority = PrivateKey::generate_os();
        let (_, auth) = signed(
            &authority,
            &json!({"address": authority.address().to_string(),
            "authorization": {"chainId": 8453, "address": "0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B", "nonce": 0}}),
        );
        let Signed::Authorization { signed: auth, .. } = auth else { panic!("an authorization") };
        cases.push(transaction_case(
            key,
            json!({"chainId": 8453, "nonce": 1, "maxFeePerGas": "2000000000", "maxPriorityFeePerGas": "1000000",
                   "gas": 100000, "to": authority.address().to_string(), "authorizationList": [auth.to_json()]}),
        ));
        cases.push(authorization_case(
            key,
            json!({"chainId": 1, "address": "0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B", "nonce": 7}),
        ));
        cases.push(authorization_case(key, json!({"chainId": "0x0", "address": "0x3535353535353535353535353535353535353535", "nonce": "0x100"})));
        for typed in typed_data_examples() {
            cases.push(typed_data_case(key, typed));
        }
    }
    // One keystore at the standard cost (scrypt n = 2^18), as exported.
    let passphrase = "correct horse battery staple";
    let json = keystore::encrypt(&keys[0], passphrase.as_bytes()).unwrap();
    cases.push(json!({
        "kind": "keystore",
        "address": keys[0].address().to_string(),
        "privateKey": keys[0].reveal_hex().as_str(),
        "json": json,
        "passphrase": passphrase,
    }));

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/ethers-check.mjs");
    let mut child = Command::new("node")
        .arg(script)
        .env(NODE_MODULES, &modules)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    child.stdin.take().unwrap().write_all(Value::Array(cases.clone()).to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ethers disagreed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("ok ")).count(), cases.len(), "{stdout}");
}
