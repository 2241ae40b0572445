//! `ROSSIGNOL_LOG` cannot lift the ceiling on the SDK, HTTP, TLS and Lambda
//! runtime crates: the getter under the runtime emulator, with a
//! target-specific `trace` directive for each of them in turn, reveals a
//! legacy row's key and a sealed row's key without either key, the sealed
//! blob or the caller's `X-Api-Key` reaching its logs. Before the fix,
//! `aws_smithy_runtime::client::orchestrator=trace` logged the GetItem
//! response and `lambda_runtime::layers::api_response=trace` the raw event.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use base64::Engine as _;
use rossignol_core::store::{AccountStore as _, Attr, Item};
use rossignol_core::{Address, LegacyKey};
use zeroize::Zeroizing;

mod emulator;

use emulator::{API_KEY, Environment, Function, servers};

/// The directives to try, one a line (see the file's header).
fn directives() -> impl Iterator<Item = &'static str> {
    include_str!("../../core/tests/vectors/log-directives.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// A Node-era row: the item, its address and its base64 key pair.
fn legacy_item() -> (Item, String, String) {
    let key = LegacyKey::from_seed(&Zeroizing::new(rossignol_core::secret::random_bytes::<32>()));
    let public = key.verified_public_key().unwrap();
    let address = rossignol_core::store::record::legacy_address(&public).to_storage();
    let secret = key.reveal_base64().to_owned();
    let public = rossignol_core::store::record::format_legacy_public_key(&public);
    let item = Item(BTreeMap::from([
        ("address".to_owned(), Attr::S(address.clone())),
        ("private_key".to_owned(), Attr::S(secret.clone())),
        ("public_key".to_owned(), Attr::S(public)),
    ]));
    (item, address, secret)
}

#[tokio::test(flavor = "multi_thread")]
async fn no_log_directive_lets_a_key_a_sealed_blob_or_the_api_key_into_the_logs() {
    let Some(servers) = servers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let env = Environment::new(&servers, "logs").await;
    let vars = env.vars();
    let with = |handler: &'static str, log: &'static str| {
        let mut vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        vars.extend([("_HANDLER", handler), ("ROSSIGNOL_LOG", log)]);
        vars
    };

    let setter = Function::start(&servers, dir.path(), "setter", &with("setter", "info"));
    let (status, body) = setter.call("POST", "", Some(API_KEY));
    assert_eq!(status, 200, "{body}");
    let sealed_address = body["data"]["address"].as_str().unwrap().to_owned();
    let sealed = match env
        .store
        .get(&Address::parse(&sealed_address).unwrap())
        .await
        .unwrap()
        .unwrap()
        .get("sealed_private_key")
    {
        Some(Attr::B(blob)) => base64::engine::general_purpose::STANDARD.encode(blob),
        other => panic!("a sealed key, got {other:?}"),
    };
    let (item, legacy_address, legacy_key) = legacy_item();
    env.store.create(&item).await.unwrap();

    for (i, directive) in directives().enumerate() {
        let name = format!("getter-{i}");
        let mut getter = Function::start(&servers, dir.path(), &name, &with("getter", directive));
        let mut revealed = Vec::new();
        for address in [&legacy_address, &sealed_address] {
            let (status, body) = getter.call("GET", &format!("?address={address}"), Some(API_KEY));
            assert_eq!(status, 200, "{directive}: {body}");
            revealed.push(body["data"]["private_key"].as_str().unwrap().to_owned());
        }
        assert_eq!(revealed[0], legacy_key);
        let logs = getter.stopped_logs();
        for (what, secret) in [
            ("the legacy key", &legacy_key[..40]),
            ("the sealed blob", &sealed[..40]),
            ("the revealed key", &revealed[1][2..42]),
            ("the API key", API_KEY),
        ] {
            assert!(!logs.contains(secret), "{directive} let {what} into the logs");
        }
    }
    env.drop_tables().await;
}
