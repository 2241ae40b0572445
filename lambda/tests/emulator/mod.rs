//! What the end-to-end tests share: the built `rossignol-lambda` binary
//! under the real Lambda runtime protocol, served by cargo-lambda's
//! emulator, against DynamoDB Local and moto's KMS.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rossignol_core::PrivateKey;
use rossignol_core::access::AccessTrail as _;
use rossignol_core::store::AccountStore as _;
use rossignol_core::store::dynamo::{DynamoStore, DynamoTrail};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The key the recorded events carry.
pub const API_KEY: &str = "test-api-key";
/// The address in the recorded getter events, to swap a real one in.
pub const ZERO: &str = "0x0000000000000000000000000000000000000000";

pub fn api_key_sha256() -> String {
    hex::encode(Sha256::digest(API_KEY))
}

/// What the end-to-end tests need, or `None` (with a note) outside CI.
pub struct Servers {
    pub dynamodb: String,
    pub kms: String,
}

pub fn servers() -> Option<Servers> {
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

/// A fresh accounts table and its access table on DynamoDB Local, and a
/// KMS key on moto, as `rossignol init` and the template make them.
pub struct Environment {
    pub table: String,
    pub key_id: String,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub kms: aws_sdk_kms::Client,
    pub store: DynamoStore,
    pub trail: DynamoTrail,
}

impl Environment {
    pub async fn new(servers: &Servers, prefix: &str) -> Self {
        let suffix = hex::encode(&PrivateKey::generate_os().reveal_bytes()[..6]);
        let table = format!("{prefix}_{suffix}");
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-central-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "e2e",
            ))
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
        Environment { table, key_id, dynamodb, kms, store, trail }
    }

    /// The variables every function of this environment gets.
    pub fn vars(&self) -> Vec<(String, String)> {
        vec![
            ("DYNAMO_DB_TABLE_NAME".into(), self.table.clone()),
            ("ROSSIGNOL_KMS_KEY_ID".into(), self.key_id.clone()),
            ("ROSSIGNOL_API_KEY_SHA256".into(), api_key_sha256()),
        ]
    }

    pub async fn drop_tables(&self) {
        for name in [DynamoTrail::default_table(&self.table), self.table.clone()] {
            let _ = self.dynamodb.delete_table().table_name(name).send().await;
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

/// One function: cargo-lambda's runtime API emulator on its own port (it
/// serves only the project's binary names, so one emulator per function),
/// and the binary polling it, as Lambda runs it. Both stop on drop.
pub struct Function {
    port: u16,
    log: PathBuf,
    emulator: Child,
    binary: Child,
}

impl Function {
    /// `env` comes last and may override any variable set here.
    pub fn start(servers: &Servers, dir: &Path, name: &str, env: &[(&str, &str)]) -> Self {
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

    pub fn url(&self, query: &str) -> String {
        format!("http://127.0.0.1:{}/lambda-url/_/{query}", self.port)
    }

    /// An HTTP call through the emulator's function URL (a v2 event).
    pub fn call(&self, method: &str, query: &str, api_key: Option<&str>) -> (u16, Value) {
        self.send(method, query, api_key, String::new())
    }

    /// A POST of `body` with the API key.
    pub fn post(&self, body: &Value) -> (u16, Value) {
        self.send("POST", "", Some(API_KEY), body.to_string())
    }

    pub fn send(&self, method: &str, query: &str, api_key: Option<&str>, body: String) -> (u16, Value) {
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

    /// A recorded event from tests/fixtures through `cargo lambda invoke`
    /// (e.g. a REST v1 event).
    pub fn invoke(&self, fixture: &str) -> Value {
        self.invoke_file(Path::new(&format!("{}/tests/fixtures/{fixture}.json", env!("CARGO_MANIFEST_DIR"))))
    }

    /// The event in `file` through `cargo lambda invoke`, as a direct
    /// invocation delivers it.
    pub fn invoke_file(&self, file: &Path) -> Value {
        let output = Command::new("cargo")
            .args([
                "lambda",
                "invoke",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &self.port.to_string(),
            ])
            .args(["--output-format", "json", "--data-file"])
            .arg(file)
            .arg("_")
            .output()
            .expect("cargo lambda invoke runs");
        assert!(output.status.success(), "invoke: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// What the binary has logged so far: sure to hold only lines written
    /// before an answer it gave (such as the cold start's).
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the binary and returns everything it logged. Read while it
    /// runs, the log could still miss lines written after the last answer.
    pub fn stopped_logs(&mut self) -> String {
        let _ = self.binary.kill();
        let _ = self.binary.wait();
        self.logs()
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
