//! End to end: ethers, viem and foundry's cast, unchanged, sign through the
//! signer Lambda's JSON-RPC (`scripts/rpc-clients/all.sh`), under the
//! runtime API emulator, against DynamoDB Local and moto's KMS, with the API
//! key and batching on. Every signature is in the access trail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use rossignol_core::Address;
use rossignol_core::access::AccessTrail as _;

mod emulator;

use emulator::{API_KEY, Environment, Function, servers};

/// A tool `scripts/test` provides; in CI its absence fails the test.
fn provided(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("{what} is required in CI, but {var} is not set; run the tests with `scripts/test`")
        }
        _ => {
            eprintln!("SKIPPED: {what} is missing ({var} is unset); `scripts/test` installs it");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ethers_viem_and_foundry_sign_through_the_signer_lambda() {
    let Some(servers) = servers() else { return };
    let Some(modules) = provided("ROSSIGNOL_TEST_NODE_MODULES", "ethers and viem (node_modules)") else {
        return;
    };
    let Some(cast) = provided("ROSSIGNOL_TEST_CAST", "foundry's cast") else { return };
    let dir = tempfile::tempdir().unwrap();
    let env = Environment::new(&servers, "clients").await;
    let vars = env.vars();
    let with = |handler: &'static str| {
        let mut vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        vars.push(("_HANDLER", handler));
        vars
    };
    let setter = Function::start(&servers, dir.path(), "setter", &with("setter"));
    let signer = Function::start(&servers, dir.path(), "signer", &with("signer"));
    let (status, body) = setter.call("POST", "", Some(API_KEY));
    assert_eq!(status, 200, "{body}");
    let address = body["data"]["address"].as_str().unwrap().to_owned();

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/rpc-clients/all.sh");
    let base = signer.url("");
    let output = Command::new("bash")
        .args([script, base.trim_end_matches('/'), &address, "8453"])
        .env("ROSSIGNOL_TEST_NODE_MODULES", &modules)
        .env("ROSSIGNOL_API_KEY", API_KEY)
        .env("CAST", &cast)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "a client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!stdout.contains("FAIL"), "{stdout}");

    // Each signature, by each client, is in the trail with its method and
    // the caller's verified API key.
    let trail = env.trail.latest(&Address::parse(&address).unwrap(), 100).await.unwrap();
    let count = |method: &str| trail.iter().filter(|r| r.action == format!("signer:{method}")).count();
    let counts = [count("personal_sign"), count("eth_signTypedData_v4"), count("eth_signTransaction")];
    assert_eq!(counts, [5, 3, 11], "{stdout}");
    assert!(
        trail.iter().all(|r| r.digest.is_some() && r.identity == rossignol_core::access::Identity::Verified)
    );

    // Without the key, nothing is signed.
    let (status, _) =
        signer.send("POST", "rpc/8453", None, r#"{"jsonrpc":"2.0","id":1,"method":"eth_accounts"}"#.into());
    assert_eq!(status, 403);
    env.drop_tables().await;
}
