//! The JSON-RPC surface as a property, on every CI run (the `json_rpc`
//! fuzz target explores further): any body gets a JSON-RPC 2.0 answer or,
//! for notifications only, none, and never a panic; and what parses signs:
//! a well-formed call for the account with any message or transaction
//! fields in range answers a signature that recovers the account.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use proptest::prelude::*;
use rossignol_core::rpc::{self, Endpoint};
use rossignol_core::seal::LocalSealer;
use rossignol_core::sign::eip191_digest;
use rossignol_core::store::embedded::EmbeddedStore;
use rossignol_core::{Address, Custodian, Requester};
use serde_json::{Value, json};

struct World {
    runtime: tokio::runtime::Runtime,
    custodian: Custodian,
    address: Address,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(&dir.path().join("rpc.redb"), "rossignol_rpc").unwrap());
    let custodian = Custodian::new(store.clone(), Arc::new(LocalSealer::from_key(&[7; 32])), store);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let address = runtime.block_on(custodian.create("proptest")).unwrap().address;
    World { runtime, custodian, address, _dir: dir }
}

impl World {
    fn call(&self, endpoint: &Endpoint, body: &[u8]) -> Option<Value> {
        let requester = Requester::operator("proptest", "proptest");
        let answer = self.runtime.block_on(rpc::handle(&self.custodian, endpoint, &requester, body))?;
        Some(serde_json::from_str(&answer).expect("every answer is JSON"))
    }
}

fn recover(digest: &[u8; 32], rsv: &str) -> Address {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    let rsv = hex::decode(rsv.trim_start_matches("0x")).unwrap();
    let signature = Signature::from_slice(&rsv[..64]).unwrap();
    let id = RecoveryId::from_byte(rsv[64] - 27).unwrap();
    Address::from_public_key(&VerifyingKey::recover_from_prehash(digest, &signature, id).unwrap().into())
}

fn well_formed(answer: &Value) -> bool {
    answer["jsonrpc"] == "2.0" && (answer.get("result").is_some() != answer["error"]["code"].is_i64())
}

/// JSON-ish values, deep enough to reach into params and typed data.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z0-9x_]{0,12}".prop_map(Value::from),
        Just(json!("0x3535353535353535353535353535353535353535")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z_]{1,10}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_body_gets_a_json_rpc_answer(body in prop::collection::vec(any::<u8>(), 0..256)) {
        let world = world();
        if let Some(answer) = world.call(&Endpoint { chain_id: Some(1), account: None }, &body) {
            prop_assert!(well_formed(&answer), "{answer}");
        }
    }

    #[test]
    fn any_method_and_params_get_a_json_rpc_answer(
        method in prop::sample::select(vec!["eth_accounts", "eth_chainId", "personal_sign", "eth_sign",
            "eth_signTypedData_v4", "eth_signTypedData", "eth_signTransaction", "eth_call", ""]),
        params in any_json(),
        batch in any::<bool>(),
    ) {
        let world = world();
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let body = if batch { json!([call, call]) } else { call };
        let answer = world.call(&Endpoint { chain_id: Some(1), account: Some(world.address) }, body.to_string().as_bytes());
        let answers = match answer.expect("calls with ids are answered") {
            Value::Array(answers) => answers,
            single => vec![single],
        };
        for answer in answers {
            prop_assert!(well_formed(&answer), "{answer}");
        }
    }

    #[test]
    fn what_parses_signs(
        message in prop::collection::vec(any::<u8>(), 0..64),
        nonce in any::<u64>(),
        gas in 21_000u64..30_000_000,
        fee in 1u64..u64::MAX,
        value in any::<u128>(),
        chain in 1u64..100_000,
    ) {
        let world = world();
        let address = world.address.to_string();
        let endpoint = Endpoint { chain_id: Some(chain), account: None };
        let data = format!("0x{}", hex::encode(&message));
        let signed = world.call(&endpoint, json!({"jsonrpc": "2.0", "id": 1, "method": "personal_sign", "params": [data, address]}).to_string().as_bytes()).unwrap();
        prop_assert_eq!(recover(&eip191_digest(&message), signed["result"].as_str().unwrap()), world.address);
        let tx = json!({"from": address, "nonce": nonce, "gas": gas, "maxFeePerGas": fee, "maxPriorityFeePerGas": fee / 2,
            "to": "0x3535353535353535353535353535353535353535", "value": format!("{value}")});
        let signed = world.call(&endpoint, json!({"jsonrpc": "2.0", "id": 2, "method": "eth_signTransaction", "params": [tx]}).to_string().as_bytes()).unwrap();
        prop_assert!(signed["result"].as_str().is_some_and(|raw| raw.starts_with("0x02")), "{signed}");
    }
}
