#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `rossignol` on a sharded environment: the commands and JSON shapes of a
//! single store, warnings on stderr only, and a provider that is down
//! named, never hidden.

use std::path::PathBuf;

use rossignol_core::Address;
use rossignol_core::sign::eip191_digest;
use serde_json::Value;

mod cli_support;

use cli_support::Sandbox;

/// Three embedded providers, 2-of-3; with `down`, the third is a DynamoDB
/// endpoint nothing listens on.
fn config(sandbox: &Sandbox, down: bool) -> PathBuf {
    let third = if down {
        "store = \"dynamodb\"\ntable = \"rossignol_vault\"\nregion = \"eu-central-1\"\n\
         endpoint_url = \"http://127.0.0.1:9\"\nlocal_key_file = \"c.key\"\n"
    } else {
        "store = \"embedded\"\npath = \"c.redb\"\nlocal_key_file = \"c.key\"\n"
    };
    let text = format!(
        "default = \"vault\"\n[environments.vault]\nstore = \"sharded\"\nthreshold = 2\n\
         [[environments.vault.providers]]\nname = \"a\"\nstore = \"embedded\"\npath = \"a.redb\"\nlocal_key_file = \"a.key\"\n\
         [[environments.vault.providers]]\nname = \"b\"\nstore = \"embedded\"\npath = \"b.redb\"\nlocal_key_file = \"b.key\"\n\
         [[environments.vault.providers]]\nname = \"c\"\n{third}\
         [environments.single]\nstore = \"embedded\"\npath = \"single.redb\"\nlocal_key_file = \"single.key\"\n"
    );
    let path = sandbox.path().join(if down { "down.toml" } else { "healthy.toml" });
    std::fs::write(&path, text).unwrap();
    path
}

fn recover(digest: &[u8; 32], signature: &str) -> Address {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    let rsv = hex::decode(signature.trim_start_matches("0x")).unwrap();
    let id = RecoveryId::from_byte(rsv[64] - 27).unwrap();
    let key =
        VerifyingKey::recover_from_prehash(digest, &Signature::from_slice(&rsv[..64]).unwrap(), id).unwrap();
    Address::from_public_key(&key.into())
}

#[test]
fn a_sharded_environment_answers_as_a_single_store_does() {
    let sandbox = Sandbox::new();
    let healthy = config(&sandbox, false);
    let init = sandbox.json(Some(&healthy), &["init", "--json"]);
    let providers: Vec<&str> =
        init["providers"].as_array().unwrap().iter().map(|p| p["provider"].as_str().unwrap()).collect();
    assert_eq!(providers, ["a", "b", "c"]);

    let created = sandbox.json(Some(&healthy), &["create", "--json"]);
    let address = created["address"].as_str().unwrap().to_owned();
    let record = sandbox.json(Some(&healthy), &["get", &address, "--json"]);
    assert_eq!(record["seal"], "sharded 2-of-3");
    let signed = sandbox.json(Some(&healthy), &["sign", &address, "--message", "hi", "--json"]);
    let signature = signed["signature"].as_str().unwrap();
    assert_eq!(recover(&eip191_digest(b"hi"), signature).to_string(), address);
    let listed = sandbox.ok(Some(&healthy), &["list"]);
    assert!(listed.contains(&address), "{listed}");
    let audit: Value = sandbox.json(Some(&healthy), &["audit", "--deep", "--json"]);
    assert_eq!(audit["findings"], Value::Array(Vec::new()));
    assert_eq!(audit["providers"].as_array().unwrap().len(), 3);

    // The third provider down: the key still opens from the other two, the
    // dead one is named on stderr, and stdout is the same JSON.
    let down = config(&sandbox, true);
    let output = sandbox.run(Some(&down), &["sign", &address, "--message", "hi", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(stdout, signed, "a deterministic signature, and nothing else on stdout");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("provider c"), "the provider that is down is named: {stderr}");

    // A create with it down fails, names it, and leaves nothing behind.
    let output = sandbox.run(Some(&down), &["create", "--json"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("provider c could not store its share") && stderr.contains("nothing was created"),
        "{stderr}"
    );
    let count = |list: &str| list.lines().filter(|line| line.starts_with("0x")).count();
    assert_eq!(count(&sandbox.ok(Some(&healthy), &["list"])), 1);
    let audit = sandbox.json(Some(&healthy), &["audit", "--json"]);
    assert_eq!(audit["findings"], Value::Array(Vec::new()), "no share was left behind");
}

#[test]
fn a_provider_unreachable_at_init_is_named() {
    let sandbox = Sandbox::new();
    let down = config(&sandbox, true);
    let output = sandbox.run(Some(&down), &["init"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("provider c could not be initialised"), "{stderr}");
}

#[test]
fn shard_moves_a_single_store_in_and_leaves_it_as_it_was() {
    let sandbox = Sandbox::new();
    let config = config(&sandbox, false);
    sandbox.json(Some(&config), &["init", "--json"]);
    let created = sandbox.ok(Some(&config), &["--env", "single", "create", "--count", "2", "--json"]);
    let addresses: Vec<String> = created
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["address"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(addresses.len(), 2);
    let revealed = |env: &str, address: &str| {
        sandbox.json(Some(&config), &["--env", env, "get", address, "--reveal", "--json"])["private_key"]
            .clone()
    };
    let before: Vec<Value> = addresses.iter().map(|a| revealed("single", a)).collect();

    let dry = sandbox.json(Some(&config), &["shard", "--from", "single", "--dry-run", "--json"]);
    assert_eq!(
        (dry["would_write"].as_u64(), dry["source"].as_str()),
        (Some(2), Some("rossignol_single")),
        "{dry}"
    );
    let moved = sandbox.json(Some(&config), &["shard", "--from", "single", "--json"]);
    assert_eq!((moved["written"].as_u64(), moved["verified"].as_u64()), (Some(2), Some(2)), "{moved}");
    for (address, key) in addresses.iter().zip(&before) {
        assert_eq!(&revealed("vault", address), key, "the same key, now held in shares");
        assert_eq!(&revealed("single", address), key, "and the source keeps it as it was");
    }
    let again = sandbox.json(Some(&config), &["shard", "--from", "single", "--json"]);
    assert_eq!((again["written"].as_u64(), again["already_done"].as_u64()), (Some(0), Some(2)), "{again}");
    let text = sandbox.ok(Some(&config), &["shard", "--from", "single"]);
    assert!(text.contains("shard from table rossignol_single into vault"), "{text}");

    let output = sandbox.run(Some(&config), &["shard", "--from", "vault"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the environment being sharded into"), "{stderr}");
    let output = sandbox.run(Some(&config), &["--env", "single", "shard", "--from", "vault"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("into a sharded environment"), "{stderr}");
}
