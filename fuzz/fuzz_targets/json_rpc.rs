//! The JSON-RPC surface on arbitrary bodies, against an embedded store
//! holding one account: it must answer (or stay silent for notifications),
//! never panic, and every answer must be JSON-RPC 2.0: a result or an error
//! object with an integer code.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use rossignol_core::rpc::{self, Endpoint};
use rossignol_core::seal::LocalSealer;
use rossignol_core::store::embedded::EmbeddedStore;
use rossignol_core::{Custodian, Requester};

struct World {
    runtime: tokio::runtime::Runtime,
    custodian: Custodian,
    endpoints: Vec<Endpoint>,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Arc::new(EmbeddedStore::open(&dir.path().join("fuzz.redb"), "rossignol_fuzz").expect("a store"));
        let custodian = Custodian::new(store.clone(), Arc::new(LocalSealer::from_key(&[7; 32])), store);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let record = runtime.block_on(custodian.create("fuzz")).expect("an account");
        let endpoints = vec![
            Endpoint::default(),
            Endpoint { chain_id: Some(1), account: None },
            Endpoint { chain_id: Some(1), account: Some(record.address) },
        ];
        World { runtime, custodian, endpoints, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let world = world();
    let endpoint = &world.endpoints[usize::from(which) % world.endpoints.len()];
    let requester = Requester::operator("fuzz", "fuzz");
    let Some(answer) = world.runtime.block_on(rpc::handle(&world.custodian, endpoint, &requester, body)) else {
        return;
    };
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("the answer is JSON");
    let answers = match answer {
        serde_json::Value::Array(answers) => answers,
        single => vec![single],
    };
    for answer in answers {
        assert_eq!(answer["jsonrpc"], "2.0");
        assert!(answer.get("result").is_some() != answer["error"]["code"].is_i64(), "{answer}");
    }
});
