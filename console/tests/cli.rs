//! The `rossignol` binary as scripts use it: output, exit codes, errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use predicates::prelude::*;
use rossignol_core::{Address, PrivateKey};
use serde_json::Value;

mod cli_support;

use cli_support::{Sandbox, dynamodb_endpoint, json_lines, random_table, raw_client};

#[test]
fn envs_lists_the_builtin_local_default() {
    let sandbox = Sandbox::new();
    let out = sandbox.stdout(&["envs", "--json"]);
    let envs = json_lines(&out);
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0]["name"], "local");
    assert_eq!(envs[0]["default"], true);
    assert_eq!(envs[0]["store"]["store"], "embedded");
    sandbox.cmd().arg("envs").assert().success().stdout(predicate::str::contains("* local"));
}

#[test]
fn create_list_get_and_reveal_on_the_embedded_default() {
    let sandbox = Sandbox::new();
    let created = json_lines(&sandbox.stdout(&["create", "--count", "3", "--json"]));
    assert_eq!(created.len(), 3);
    let addresses: Vec<String> = created.iter().map(|v| v["address"].as_str().unwrap().to_owned()).collect();
    for address in &addresses {
        assert_eq!(Address::parse(address).unwrap().to_string(), *address, "EIP-55 form");
    }

    let listed = json_lines(&sandbox.stdout(&["list", "--json"]));
    assert_eq!(listed.len(), 3);
    for record in &listed {
        assert!(addresses.contains(&record["address"].as_str().unwrap().to_owned()));
        assert!(record.get("private_key").is_none());
        assert_eq!(record["scheme"], "secp256k1");
        assert_eq!(record["legacy_plaintext"], false);
        assert!(record["seal"].as_str().unwrap().starts_with("local:"));
    }

    let shown = json_lines(&sandbox.stdout(&["get", &addresses[0], "--json"]));
    assert!(shown[0].get("private_key").is_none());
    let text = sandbox.stdout(&["get", &addresses[0]]);
    assert!(text.contains("public_key") && !text.contains("private_key"), "{text}");

    // Lowercase input works too; the key derives the address.
    let lower = addresses[0].to_ascii_lowercase();
    let revealed = json_lines(&sandbox.stdout(&["get", &lower, "--reveal", "--json"]));
    let hex_key = revealed[0]["private_key"].as_str().unwrap();
    let key = PrivateKey::from_bytes(&hex::decode(hex_key.strip_prefix("0x").unwrap()).unwrap()).unwrap();
    assert_eq!(key.address().to_string(), addresses[0]);

    let text = sandbox.stdout(&["get", &addresses[0], "--reveal"]);
    assert!(text.contains(hex_key), "{text}");
}

#[test]
fn list_stops_at_its_limit_and_resumes_after() {
    let sandbox = Sandbox::new();
    sandbox.stdout(&["create", "-n", "5"]);
    let output = sandbox.cmd().args(["list", "--limit", "2", "--json"]).output().unwrap();
    assert!(output.status.success());
    let first = json_lines(&String::from_utf8(output.stdout).unwrap());
    assert_eq!(first.len(), 2);
    let hint = String::from_utf8(output.stderr).unwrap();
    let after = hint.split("--after ").nth(1).expect("a resume hint").trim().to_owned();
    let rest = json_lines(&sandbox.stdout(&["list", "--after", &after, "--json"]));
    assert_eq!(rest.len(), 3);
    let all: std::collections::HashSet<String> =
        first.iter().chain(&rest).map(|v| v["address"].as_str().unwrap().to_owned()).collect();
    assert_eq!(all.len(), 5);
}

#[test]
fn bad_input_exits_2_with_one_clear_sentence() {
    let sandbox = Sandbox::new();
    for (address, expected) in [
        ("0x123", "exactly 40"),
        ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "must start with `0x`"),
        ("0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "checksum"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeZ", "not a hex digit"),
    ] {
        sandbox
            .cmd()
            .args(["get", address])
            .assert()
            .code(2)
            .stderr(predicate::str::starts_with("error: ").and(predicate::str::contains(expected)));
    }
    sandbox.cmd().args(["create", "--count", "0"]).assert().code(2);
    sandbox
        .cmd()
        .args(["--env", "nowhere", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("known: local"));
}

#[test]
fn an_unknown_account_exits_1() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .args(["get", "0x0000000000000000000000000000000000000001"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no account with address"));
}

#[test]
fn a_read_only_environment_refuses_create() {
    let sandbox = Sandbox::new();
    let config =
        sandbox.config("default = \"vault\"\n[environments.vault]\nstore = \"embedded\"\nread_only = true\n");
    sandbox
        .cmd()
        .arg("--config")
        .arg(&config)
        .arg("create")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("environment vault is read-only; create is refused"));
    // Reading is still allowed.
    sandbox.cmd().arg("--config").arg(&config).arg("list").assert().success();
    assert!(
        !sandbox.path().join("data/vault.key").exists() || sandbox.path().join("data/vault.redb").exists()
    );
}

#[test]
fn a_broken_config_exits_2_and_names_the_problem() {
    let sandbox = Sandbox::new();
    let config = sandbox.config("[environments.staging]\ntable = \"rossignol_staging\"\n");
    sandbox.cmd().env("ROSSIGNOL_CONFIG", &config).arg("envs").assert().code(2).stderr(
        predicate::str::contains("environment `staging`").and(predicate::str::contains("kms_key_id")),
    );
    sandbox
        .cmd()
        .args(["--config", "/nonexistent/rossignol.toml", "envs"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read /nonexistent/rossignol.toml"));
}

#[test]
fn init_create_and_reveal_on_dynamodb_local_store_no_key_in_the_clear() {
    let Some(endpoint) = dynamodb_endpoint() else { return };
    let sandbox = Sandbox::new();
    let table = random_table("cli");
    let config = sandbox.config(&format!(
        "default = \"dev\"\n[environments.dev]\ntable = \"{table}\"\nregion = \"eu-central-1\"\n\
         endpoint_url = \"{endpoint}\"\nlocal_key_file = \"dev.key\"\n"
    ));
    let run = |args: &[&str]| {
        let output = sandbox.cmd().arg("--config").arg(&config).args(args).output().unwrap();
        (
            output.status.code(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };

    let (code, out, err) = run(&["list"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(err.contains("run `rossignol init`"), "{err}");

    let (code, out, err) = run(&["init"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("created the table"), "{out}");
    assert!(out.contains("encryption at rest: not reported by this endpoint"), "{out}");
    assert!(out.contains("point-in-time recovery: not reported by this endpoint"), "{out}");
    assert!(out.contains(&format!("access trail: {table}_access (created)")), "{out}");
    let (_, out, _) = run(&["init"]);
    assert!(out.contains("the table exists"), "{out}");

    let (code, out, err) = run(&["create", "-n", "4", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let addresses: Vec<String> =
        json_lines(&out).iter().map(|v| v["address"].as_str().unwrap().to_owned()).collect();
    assert_eq!(addresses.len(), 4);
    let mut keys = Vec::new();
    for address in &addresses {
        let (code, out, err) = run(&["get", address, "--reveal", "--json"]);
        assert_eq!(code, Some(0), "{err}");
        keys.push(json_lines(&out)[0]["private_key"].as_str().unwrap()[2..].to_owned());
    }

    // A raw scan of the table, as the aws CLI would do it.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = runtime.block_on(raw_client(&endpoint));
    let items = runtime.block_on(client.scan().table_name(&table).send()).unwrap().items.unwrap_or_default();
    assert_eq!(items.len(), 4);
    let dump = format!("{items:?}").to_ascii_lowercase();
    for key in &keys {
        assert!(!dump.contains(key), "a private key is in the clear in the table");
    }
    for item in &items {
        assert!(!item.contains_key("private_key"));
        let sealed = item["sealed_private_key"].as_b().unwrap().as_ref();
        for key in &keys {
            let bytes = hex::decode(key).unwrap();
            assert!(!sealed.windows(32).any(|w| w == bytes.as_slice()));
        }
    }
    // Each reveal was recorded in the access trail first.
    let trail = runtime
        .block_on(client.scan().table_name(format!("{table}_access")).send())
        .unwrap()
        .items
        .unwrap_or_default();
    assert_eq!(trail.len(), 4);
    assert!(trail.iter().all(|item| item["action"].as_s().unwrap() == "cli-reveal"));
    for name in [format!("{table}_access"), table] {
        let _ = runtime.block_on(client.delete_table().table_name(name).send());
    }
}

#[test]
fn missing_aws_credentials_are_named() {
    let Some(endpoint) = dynamodb_endpoint() else { return };
    let sandbox = Sandbox::new();
    let config = sandbox.config(&format!(
        "default = \"dev\"\n[environments.dev]\ntable = \"{}\"\nregion = \"eu-central-1\"\n\
         endpoint_url = \"{endpoint}\"\nlocal_key_file = \"dev.key\"\n",
        random_table("cli")
    ));
    sandbox
        .cmd()
        .arg("--config")
        .arg(&config)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", sandbox.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", sandbox.path().join("none"))
        .arg("list")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no AWS credentials were found"));
}

/// A loopback port that nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn an_unreachable_store_is_one_sentence_and_the_chain_goes_to_the_debug_log() {
    let sandbox = Sandbox::new();
    let config = sandbox.config(&format!(
        "default = \"dev\"\n[environments.dev]\ntable = \"nowhere\"\nregion = \"eu-central-1\"\n\
         endpoint_url = \"http://127.0.0.1:{}\"\nlocal_key_file = \"dev.key\"\n",
        closed_port()
    ));
    let run = |log: Option<&str>| {
        let mut command = sandbox.cmd();
        command.arg("--config").arg(&config).args(["list"]).env("AWS_ACCESS_KEY_ID", "test");
        command.env("AWS_SECRET_ACCESS_KEY", "test").env_remove("ROSSIGNOL_LOG");
        if let Some(log) = log {
            command.env("ROSSIGNOL_LOG", log);
        }
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        String::from_utf8(output.stderr).unwrap()
    };
    let stderr = run(None);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.len() < 300, "{} characters: {stderr}", stderr.len());
    assert!(stderr.starts_with("error: DynamoDB is unavailable: Scan failed after retries ("), "{stderr}");
    assert!(stderr.contains("try again"), "{stderr}");
    for internal in ["DispatchFailure", "ConnectorError", "hyper", "{"] {
        assert!(!stderr.contains(internal), "no SDK internals ({internal}): {stderr}");
    }
    let debug = run(Some("rossignol_core=debug"));
    assert!(debug.contains("AWS call failed") && debug.contains("dispatch failure"), "{debug}");
}

#[test]
fn an_aws_profile_from_the_config_supplies_credentials_and_region() {
    let Some(endpoint) = dynamodb_endpoint() else { return };
    let sandbox = Sandbox::new();
    let aws_config = sandbox.path().join("aws-config");
    let aws_credentials = sandbox.path().join("aws-credentials");
    std::fs::write(&aws_config, "[profile hey]\nregion = eu-central-1\n").unwrap();
    std::fs::write(&aws_credentials, "[hey]\naws_access_key_id = test\naws_secret_access_key = test\n")
        .unwrap();
    // No region and no credentials but the profile's.
    let config = sandbox.config(&format!(
        "default = \"dev\"\n[environments.dev]\ntable = \"{}\"\nprofile = \"hey\"\n\
         endpoint_url = \"{endpoint}\"\nlocal_key_file = \"dev.key\"\n",
        random_table("cli")
    ));
    let run = |args: &[&str]| {
        sandbox
            .cmd()
            .arg("--config")
            .arg(&config)
            .args(args)
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", &aws_config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &aws_credentials)
            .assert()
    };
    run(&["init"]).success();
    run(&["create", "-n", "2"]).success();
    run(&["list"]).success().stdout(predicate::str::contains("secp256k1").count(2));
}

#[test]
fn audit_reports_findings_and_exits_1_only_when_there_are_some() {
    let sandbox = Sandbox::new();
    sandbox.stdout(&["create", "-n", "3"]);
    let report: Value = serde_json::from_str(&sandbox.stdout(&["audit", "--deep", "--json"])).unwrap();
    assert_eq!(report["checked"], 3);
    assert_eq!(report["ok"], 3);
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    assert_eq!(report["deep"], true);

    // A Node-era plaintext row, written straight into the embedded store.
    {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let store = rossignol_core::store::embedded::EmbeddedStore::open(
            &sandbox.path().join("data/local.redb"),
            "rossignol_local",
        )
        .unwrap();
        let mut item = rossignol_core::store::Item::default();
        item.insert("address", rossignol_core::store::Attr::S(format!("0x{}", "ab".repeat(20))));
        item.insert("private_key", rossignol_core::store::Attr::S("c2VjcmV0".into()));
        item.insert("public_key", rossignol_core::store::Attr::S("cHVibGlj".into()));
        runtime.block_on(rossignol_core::store::AccountStore::create(&store, &item)).unwrap();
    }
    let output = sandbox.cmd().args(["audit", "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["checked"], 4);
    let kinds: Vec<&str> =
        report["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"plaintext_key_at_rest"), "{kinds:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("the audit found"));
    let text = sandbox.cmd().arg("audit").output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("plaintext key at rest: re-seal"), "{text}");
    assert!(text.contains("seals: "), "{text}");
}

#[test]
fn console_settings_are_checked_before_the_screen_opens() {
    let sandbox = Sandbox::new();
    for (text, expected) in [
        ("[keys]\nreveel = \"v\"\n", "no such action"),
        ("[keys]\nreveal = \"c\"\n", "already the key for create"),
        ("[theme]\nlocal = \"ultraviolet\"\n", "not a colour"),
    ] {
        let config = sandbox.config(text);
        sandbox
            .cmd()
            .arg("--config")
            .arg(&config)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected));
    }
}

/// The account whose key made `rsv` (65 bytes, v = 27 or 28) over `digest`.
fn recover(digest: &[u8; 32], rsv_hex: &str) -> Address {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    let rsv = hex::decode(rsv_hex.strip_prefix("0x").unwrap()).unwrap();
    let signature = Signature::from_slice(&rsv[..64]).unwrap();
    let recovery = RecoveryId::from_byte(rsv[64] - 27).unwrap();
    Address::from_public_key(
        &VerifyingKey::recover_from_prehash(digest, &signature, recovery).unwrap().into(),
    )
}

#[test]
fn sign_messages_and_transactions_without_showing_the_key() {
    use rossignol_core::sign::eip191_digest;

    let sandbox = Sandbox::new();
    let address = sandbox.stdout(&["create"]).trim().to_owned();
    let signed = json_lines(&sandbox.stdout(&["sign", &address, "--message", "hello", "--json"]));
    assert_eq!(signed[0]["address"], address);
    assert_eq!(signed[0]["scheme"], "secp256k1");
    let signature = signed[0]["signature"].as_str().unwrap();
    assert_eq!(recover(&eip191_digest(b"hello"), signature).to_string(), address);
    // Hex is bytes: the same message as text and as 0x hex sign the same.
    let text = sandbox.stdout(&["sign", &address, "--message", "0x68656c6c6f"]);
    assert_eq!(text.trim(), format!("signature        {signature}"));

    let tx = sandbox.path().join("tx.json");
    std::fs::write(
        &tx,
        r#"{"chainId": "1", "nonce": "0", "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000",
            "gas": "21000", "to": "0x3535353535353535353535353535353535353535", "value": "0x1"}"#,
    )
    .unwrap();
    let signed =
        json_lines(&sandbox.stdout(&["sign", &address, "--transaction", tx.to_str().unwrap(), "--json"]));
    assert!(signed[0]["raw_transaction"].as_str().unwrap().starts_with("0x02"));
    assert_eq!(signed[0]["hash"].as_str().unwrap().len(), 66);
    let piped = sandbox
        .cmd()
        .args(["sign", &address, "--transaction", "-", "--json"])
        .write_stdin(std::fs::read(&tx).unwrap())
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert_eq!(json_lines(&String::from_utf8(piped.stdout).unwrap()), signed, "deterministic");

    // Every signature is in the trail, with the digest and not the payload.
    let trail = sandbox.local_trail(&address);
    assert_eq!(trail.len(), 4);
    assert!(trail.iter().all(|r| r.action == "cli-sign" && r.digest.is_some()));
    assert_eq!(
        trail[3].digest.as_deref(),
        Some(format!("0x{}", hex::encode(eip191_digest(b"hello"))).as_str())
    );

    // Bad input names the field and exits 2; nothing is recorded for it.
    std::fs::write(&tx, r#"{"chainId": "1", "nonce": "0", "gasPrice": "1"}"#).unwrap();
    sandbox
        .cmd()
        .args(["sign", &address, "--transaction", tx.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`transaction.gas` is missing"));
    sandbox.cmd().args(["sign", &address]).assert().code(2);
    assert_eq!(sandbox.local_trail(&address).len(), 4);
}

#[test]
fn sign_typed_data_and_authorizations_from_files() {
    let sandbox = Sandbox::new();
    let address = sandbox.stdout(&["create"]).trim().to_owned();
    let typed = sandbox.path().join("mail.json");
    std::fs::write(
        &typed,
        r#"{"types": {"Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
                      "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"}, {"name": "contents", "type": "string"}]},
            "primaryType": "Mail",
            "domain": {"name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
            "message": {"from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
                        "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"}, "contents": "Hello, Bob!"}}"#,
    )
    .unwrap();
    let signed =
        json_lines(&sandbox.stdout(&["sign", &address, "--typed-data", typed.to_str().unwrap(), "--json"]));
    // The EIP's own digest of the Mail example, signed by this account.
    let mut digest = [0u8; 32];
    hex::decode_to_slice("be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2", &mut digest)
        .unwrap();
    assert_eq!(recover(&digest, signed[0]["signature"].as_str().unwrap()).to_string(), address);

    let auth = sandbox.path().join("auth.json");
    std::fs::write(
        &auth,
        r#"{"chainId": 8453, "address": "0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B", "nonce": 2}"#,
    )
    .unwrap();
    let signed =
        json_lines(&sandbox.stdout(&["sign", &address, "--authorization", auth.to_str().unwrap(), "--json"]));
    let tuple = &signed[0]["authorization"];
    assert_eq!((tuple["chainId"].as_str(), tuple["nonce"].as_str()), (Some("0x2105"), Some("0x2")));
    assert_eq!(tuple["address"], "0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B");
    assert!(tuple["yParity"] == "0x0" || tuple["yParity"] == "0x1");

    // An authorization for every chain is refused by the default policy,
    // by rule, after the refusal is recorded.
    std::fs::write(
        &auth,
        r#"{"chainId": 0, "address": "0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B", "nonce": 2}"#,
    )
    .unwrap();
    sandbox
        .cmd()
        .args(["sign", &address, "--authorization", auth.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`allow_chain_id_zero` rule"));
    let trail = sandbox.local_trail(&address);
    assert_eq!(trail.len(), 3);
    assert_eq!(trail[0].refused.as_deref(), Some("allow_chain_id_zero"));
    // A typed-data mistake names its path and exits 2.
    std::fs::write(&typed, r#"{"types": {"M": [{"name": "a", "type": "uint8"}]}, "primaryType": "M", "domain": {}, "message": {"a": 256}}"#).unwrap();
    sandbox
        .cmd()
        .args(["sign", &address, "--typed-data", typed.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`typed_data.message.a`"));
}

#[test]
fn a_disabled_account_is_refused_until_enabled_and_audits_count_it() {
    let sandbox = Sandbox::new();
    let address = sandbox.stdout(&["create"]).trim().to_owned();
    let out = sandbox.stdout(&["disable", &address]);
    assert_eq!(out.trim(), format!("{address} disabled"));
    let out = sandbox.stdout(&["disable", &address]);
    assert!(out.contains("already disabled"), "{out}");

    for args in [vec!["sign", &address, "--message", "x"], vec!["get", &address, "--reveal"]] {
        sandbox.cmd().args(&args).assert().code(1).stderr(
            predicate::str::contains("is disabled").and(predicate::str::contains("rossignol enable")),
        );
    }
    let listed = sandbox.stdout(&["list"]);
    assert!(listed.contains("[disabled]"), "{listed}");
    let shown = json_lines(&sandbox.stdout(&["get", &address, "--json"]));
    assert!(shown[0]["disabled_at"].is_string());
    assert!(shown[0]["disabled_by"].as_str().unwrap().starts_with("rossignol-cli:"));
    let audit = json_lines(&sandbox.stdout(&["audit", "--json"]));
    assert_eq!(audit[0]["disabled"], 1);
    assert!(audit[0]["findings"].as_array().unwrap().is_empty(), "disabled is not a finding");

    sandbox.stdout(&["enable", &address]);
    sandbox.stdout(&["sign", &address, "--message", "x"]);
    assert!(!sandbox.stdout(&["list"]).contains("[disabled]"));

    let config =
        sandbox.config("default = \"vault\"\n[environments.vault]\nstore = \"embedded\"\nread_only = true\n");
    sandbox
        .cmd()
        .arg("--config")
        .arg(&config)
        .args(["disable", &address])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("read-only; disable is refused"));
}

#[test]
fn export_writes_a_private_v3_keystore_that_opens_to_the_key() {
    use std::os::unix::fs::PermissionsExt as _;

    let sandbox = Sandbox::new();
    let address = sandbox.stdout(&["create"]).trim().to_owned();
    let passphrase = sandbox.path().join("passphrase");
    std::fs::write(&passphrase, "correct horse battery staple\n").unwrap();
    let out = sandbox.path().join("account.json");
    let printed = sandbox.stdout(&[
        "export",
        &address,
        "--out",
        out.to_str().unwrap(),
        "--passphrase-file",
        passphrase.to_str().unwrap(),
    ]);
    assert!(printed.contains("exported") && printed.contains("0600"), "{printed}");
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);

    let json = std::fs::read(&out).unwrap();
    let keystore: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(keystore["version"], 3);
    assert_eq!(keystore["crypto"]["kdf"], "scrypt");
    assert_eq!(keystore["crypto"]["kdfparams"]["n"], 262_144);
    let key = rossignol_core::keystore::decrypt(&json, b"correct horse battery staple").unwrap();
    assert_eq!(key.address().to_string(), address);
    let revealed = json_lines(&sandbox.stdout(&["get", &address, "--reveal", "--json"]));
    assert_eq!(revealed[0]["private_key"].as_str().unwrap(), key.reveal_hex().as_str());

    // Recorded like a reveal, before the reveal above.
    let trail = sandbox.local_trail(&address);
    assert_eq!(trail.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(), ["cli-reveal", "cli-export"]);

    // Never over an existing file; short passphrases and unreadable
    // passphrase files are usage errors; nothing is recorded for them.
    let args = |file: &Path| {
        vec![
            "export".to_owned(),
            address.clone(),
            "--out".into(),
            out.to_str().unwrap().into(),
            "--passphrase-file".into(),
            file.to_str().unwrap().into(),
        ]
    };
    sandbox.cmd().args(args(&passphrase)).assert().code(2).stderr(predicate::str::contains("already exists"));
    std::fs::remove_file(&out).unwrap();
    std::fs::write(&passphrase, "short\n").unwrap();
    sandbox.cmd().args(args(&passphrase)).assert().code(2).stderr(predicate::str::contains("at least 8"));
    sandbox
        .cmd()
        .args(args(&sandbox.path().join("missing")))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read the passphrase file"));
    assert!(!out.exists());
    assert_eq!(sandbox.local_trail(&address).len(), 2);
}
