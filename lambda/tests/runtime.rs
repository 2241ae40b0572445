//! End to end: the built `rossignol-lambda` binary under the real Lambda
//! runtime protocol, served by cargo-lambda's emulator, against DynamoDB
//! Local and moto's KMS. Needs `scripts/test` (always run in CI).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rossignol_core::access::AccessTrail;
use rossignol_core::sign::eip191_digest;
use rossignol_core::store::dynamo::{DynamoStore, DynamoTrail};
use rossignol_core::store::{AccountStore, Attr};
use rossignol_core::{Address, PrivateKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The key the recorded events carry.
const API_KEY: &str = "test-api-key";

/// The account whose key made `rsv` (65 bytes, v = 27 or 28) over `digest`.
fn recover(digest: &[u8; 32], rsv: &[u8]) -> Address {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    let signature = Signature::from_slice(&rsv[..64]).unwrap();
    let recovery = RecoveryId::from_byte(rsv[64] - 27).unwrap();
    Address::from_public_key(
        &VerifyingKey::recover_from_prehash(digest, &signature, recovery).unwrap().into(),
    )
}

/// What the end-to-end test needs, or `None` (with a note) outside CI.
struct Servers {
    dynamodb: String,
    kms: String,
}

fn servers() -> Option<Servers> {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let cargo_lambda = Command::new("cargo")
        .args(["lambda", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    match (var("ROSSIGNOL_TEST_DYNAMODB_ENDPOINT"), var("ROSSIGNOL_TEST_KMS_ENDPOINT"), cargo_lambda) {
        (Some(dynamodb), Some(kms), true) => Some(Servers { dynamodb, kms }),
        _ if in_ci => {
            panic!("the end-to-end test needs DynamoDB Local, moto and cargo-lambda; run `scripts/test`")
        }
        _ => {
            eprintln!(
                "SKIPPED: DynamoDB Local, moto or cargo-lambda is missing; `scripts/test` provides them"
            );
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port} within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One function: cargo-lambda's runtime API emulator on its own port, and
/// the binary polling it, as Lambda runs it. Both stop on drop.
struct Function {
    port: u16,
    log: PathBuf,
    emulator: Child,
    binary: Child,
}

impl Function {
    fn start(servers: &Servers, dir: &Path, name: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let emulator = Command::new("cargo")
            .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(workspace)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join(format!("{name}-emulator.log"))).unwrap())
            .spawn()
            .expect("cargo lambda watch starts");
        wait_for_port(port, "cargo lambda watch");

        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let binary = Command::new(env!("CARGO_BIN_EXE_rossignol-lambda"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_REGION", "eu-central-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL_DYNAMODB", &servers.dynamodb)
            .env("AWS_ENDPOINT_URL_KMS", &servers.kms)
            .env("ROSSIGNOL_LOG", "trace")
            .envs(env.iter().copied())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("the lambda binary starts");
        Function { port, log, emulator, binary }
    }

    fn url(&self, query: &str) -> String {
        format!("http://127.0.0.1:{}/lambda-url/_/{query}", self.port)
    }

    /// An HTTP call through the emulator's function URL (a v2 event).
    fn call(&self, method: &str, query: &str, api_key: Option<&str>) -> (u16, Value) {
        self.send(method, query, api_key, String::new())
    }

    /// A POST of `body` with the API key.
    fn post(&self, body: &Value) -> (u16, Value) {
        self.send("POST", "", Some(API_KEY), body.to_string())
    }

    fn send(&self, method: &str, query: &str, api_key: Option<&str>, body: String) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut request = ureq::http::Request::builder().method(method).uri(self.url(query));
        if let Some(key) = api_key {
            request = request.header("X-Api-Key", key);
        }
        let mut response = agent.run(request.body(body).unwrap()).expect("the emulator answers");
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON, got {text:?}")))
    }

    /// A raw event through `cargo lambda invoke` (here a REST v1 event).
    fn invoke(&self, fixture: &str) -> Value {
        let file = format!("{}/tests/fixtures/{fixture}.json", env!("CARGO_MANIFEST_DIR"));
        let output = Command::new("cargo")
            .args([
                "lambda",
                "invoke",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &self.port.to_string(),
            ])
            .args(["--output-format", "json", "--data-file", &file, "_"])
            .output()
            .expect("cargo lambda invoke runs");
        assert!(output.status.success(), "invoke: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// Stops the binary and returns everything it logged. Read while it
    /// runs, the log could still miss lines written after the last answer.
    fn stopped_logs(&mut self) -> String {
        let _ = self.binary.kill();
        let _ = self.binary.wait();
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        for child in [&mut self.binary, &mut self.emulator] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn setter_getter_and_signer_under_the_runtime_protocol() {
    let Some(servers) = servers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let suffix = hex::encode(&PrivateKey::generate_os().reveal_bytes()[..6]);
    let table = format!("e2e_{suffix}");

    // Tables and the KMS key, as `rossignol init` and the template make them.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-central-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "e2e"))
        .load()
        .await;
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(&servers.dynamodb).build(),
    );
    let kms = aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(&sdk).endpoint_url(&servers.kms).build(),
    );
    let store =
        DynamoStore::new(dynamodb.clone(), &table).with_custom_endpoint(Some(servers.dynamodb.clone()));
    store.init().await.unwrap();
    let trail = DynamoTrail::new(dynamodb.clone(), DynamoTrail::default_table(&table));
    trail.init().await.unwrap();
    let key_id = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;

    let digest = hex::encode(Sha256::digest(API_KEY));
    let common = [
        ("DYNAMO_DB_TABLE_NAME", table.as_str()),
        ("ROSSIGNOL_KMS_KEY_ID", key_id.as_str()),
        ("ROSSIGNOL_API_KEY_SHA256", digest.as_str()),
    ];
    let with = |handler: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut env: Vec<(&str, &str)> = common.to_vec();
        env.push(("_HANDLER", handler));
        env.extend_from_slice(extra);
        env
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
    assert_eq!(records.len(), 3);
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

    // Only the reveal and the two signatures left records; the blind
    // getter and the switched-off getter revealed nothing.
    assert_eq!(trail.latest(&parsed, 10).await.unwrap().len(), 3);

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

    for name in [DynamoTrail::default_table(&table), table] {
        let _ = dynamodb.delete_table().table_name(name).send().await;
    }
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
    let out =
        run(&[("_HANDLER", "index.setter"), ("DYNAMO_DB_TABLE_NAME", "t_1"), ("ROSSIGNOL_KMS_KEY_ID", "k")]);
    assert!(out.contains("set the function's handler (_HANDLER) to `setter`, `getter` or `signer`"), "{out}");
    let out = run(&[("_HANDLER", "getter"), ("ROSSIGNOL_KMS_KEY_ID", "k")]);
    assert!(out.contains("DYNAMO_DB_TABLE_NAME is not set"), "{out}");
    let out = run(&[("_HANDLER", "setter"), ("DYNAMO_DB_TABLE_NAME", "t_1")]);
    assert!(out.contains("ROSSIGNOL_KMS_KEY_ID is not set"), "{out}");
}
