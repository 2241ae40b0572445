//! The setter, getter and signer on a sharded 2-of-3 environment given as
//! `ROSSIGNOL_CONFIG` text, over real providers: `aws` (DynamoDB Local
//! sealed by moto's KMS), `pg` (PostgreSQL sealed by OpenBao's transit, its
//! URL and token read from moto's Secrets Manager) and `offline` (an
//! embedded store with a local key file). Needs `scripts/test` (always run
//! in CI).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use rossignol_core::seal::LocalSealer;
use rossignol_core::sign::eip191_digest;
use rossignol_core::store::AccountStore as _;
use rossignol_core::store::embedded::EmbeddedStore;
use rossignol_core::store::postgres::PostgresStore;
use rossignol_core::{Address, PrivateKey};
use rossignol_lambda::{Entry, Service, Settings, StartupError, handle};
use serde_json::json;
use sha2::{Digest, Sha256};

mod support;

use support::{API_KEY, KEY_ID, event, json_of, no_edit, post_event, server};

const SECRETS_ENDPOINT: &str = "AWS_ENDPOINT_URL_SECRETS_MANAGER";

/// The servers `scripts/test` starts, or `None` (with a note) outside CI.
struct Servers {
    dynamodb: String,
    moto: String,
    postgres: String,
    bao: String,
    bao_token: String,
}

fn servers() -> Option<Servers> {
    Some(Servers {
        dynamodb: server("ROSSIGNOL_TEST_DYNAMODB_ENDPOINT", "DynamoDB Local")?,
        moto: server("ROSSIGNOL_TEST_KMS_ENDPOINT", "moto (KMS, Secrets Manager)")?,
        postgres: server("ROSSIGNOL_TEST_POSTGRES_URL", "PostgreSQL")?,
        bao: server("ROSSIGNOL_TEST_BAO_ADDR", "OpenBao")?,
        bao_token: server("ROSSIGNOL_TEST_BAO_TOKEN", "OpenBao")?,
    })
}

/// The function reaches Secrets Manager through the SDK's own endpoint
/// setting, `AWS_ENDPOINT_URL_SECRETS_MANAGER`, as a local run does;
/// `scripts/test` points it at moto. Without it the test cannot run: a
/// failure in CI, a note elsewhere.
fn secrets_endpoint_is(moto: &str) -> bool {
    if std::env::var(SECRETS_ENDPOINT).is_ok_and(|v| v == moto) {
        return true;
    }
    let why = format!("{SECRETS_ENDPOINT} is not moto's endpoint {moto}; run the tests through scripts/test");
    assert!(!std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"), "{why}");
    eprintln!("SKIPPED: {why}");
    false
}

/// Everything logged in this process, as the function's JSON lines.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let writer = move || Sink(sink.clone());
        let _ = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::INFO)
            .with_writer(writer)
            .try_init();
        buffer
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

async fn sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-central-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "test"))
        .load()
        .await
}

fn suffix() -> String {
    hex::encode(&PrivateKey::generate_os().reveal_bytes()[..6])
}

/// The three providers' places: a KMS key and two secrets on moto, names
/// for the DynamoDB and PostgreSQL tables, a directory for the embedded
/// store and its key file (made beforehand: a function never makes a key).
struct Vault {
    servers: Servers,
    dir: tempfile::TempDir,
    table: String,
    pg_table: String,
    key_id: String,
    url_secret: String,
    token_secret: String,
}

impl Vault {
    async fn new(servers: Servers) -> Self {
        let sdk = sdk().await;
        let kms = aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::config::Builder::from(&sdk).endpoint_url(&servers.moto).build(),
        );
        let key_id = kms.create_key().send().await.unwrap().key_metadata.unwrap().key_id;
        let secrets = aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(&sdk).endpoint_url(&servers.moto).build(),
        );
        let id = suffix();
        let url_secret = secrets
            .create_secret()
            .name(format!("rossignol/pg-url-{id}"))
            .secret_string(&servers.postgres)
            .send()
            .await
            .unwrap()
            .arn
            .unwrap();
        let token_secret = format!("rossignol/bao-token-{id}");
        secrets.create_secret().name(&token_secret).secret_string(&servers.bao_token).send().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        LocalSealer::open_or_create(&dir.path().join("offline.key")).unwrap();
        Vault {
            servers,
            dir,
            table: format!("lambda_vault_{id}"),
            pg_table: format!("lambda_vault_{id}"),
            key_id,
            url_secret,
            token_secret,
        }
    }

    /// The environment as `ROSSIGNOL_CONFIG` text; `dynamodb` is where
    /// the `aws` provider's DynamoDB is.
    fn config(&self, dynamodb: &str) -> String {
        let Vault { servers, dir, table, pg_table, key_id, url_secret, token_secret } = self;
        let (moto, bao, dir) = (&servers.moto, &servers.bao, dir.path().display());
        format!(
            r#"
[environments.vault]
store = "sharded"
threshold = 2
[[environments.vault.providers]]
name = "aws"
store = "dynamodb"
table = "{table}"
region = "eu-central-1"
endpoint_url = "{dynamodb}"
kms_endpoint_url = "{moto}"
kms_key_id = "{key_id}"
[[environments.vault.providers]]
name = "pg"
store = "postgres"
url_secret = "{url_secret}"
table = "{pg_table}"
region = "eu-central-1"
transit_url = "{bao}"
transit_key = "lambda-{table}"
transit_token_secret = "{token_secret}"
[[environments.vault.providers]]
name = "offline"
store = "embedded"
path = "{dir}/offline.redb"
local_key_file = "{dir}/offline.key"
"#
        )
    }

    fn settings(&self, config: &str) -> Result<Settings, StartupError> {
        let vars: HashMap<&str, String> = HashMap::from([
            ("_HANDLER", "setter".to_owned()),
            ("ROSSIGNOL_CONFIG", config.to_owned()),
            ("ROSSIGNOL_API_KEY_SHA256", hex::encode(Sha256::digest(API_KEY))),
        ]);
        Settings::from_vars(|name| vars.get(name).cloned())
    }

    async fn service(&self, dynamodb: &str) -> Service {
        Service::from_settings(&self.settings(&self.config(dynamodb)).unwrap()).await.unwrap()
    }

    /// What the live providers hold, each read on its own.
    async fn held_off_aws(&self) -> (usize, usize) {
        let pg = PostgresStore::connect(&self.servers.postgres, &self.pg_table).unwrap();
        let offline = EmbeddedStore::open(&self.dir.path().join("offline.redb"), "rossignol_vault").unwrap();
        (pg.page(None, 100).await.unwrap().items.len(), offline.page(None, 100).await.unwrap().items.len())
    }

    async fn drop_tables(&self) {
        let sdk = sdk().await;
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(&self.servers.dynamodb).build(),
        );
        for name in [format!("{}_access", self.table), self.table.clone()] {
            let _ = dynamodb.delete_table().table_name(name).send().await;
        }
        if let Ok((client, connection)) =
            tokio_postgres::connect(&self.servers.postgres, tokio_postgres::NoTls).await
        {
            tokio::spawn(connection);
            let t = &self.pg_table;
            let _ = client.batch_execute(&format!("DROP TABLE IF EXISTS \"{t}\", \"{t}_access\"")).await;
        }
    }
}

/// The account whose key made `rsv` (65 bytes, v = 27 or 28) over `digest`.
fn recover(digest: &[u8; 32], rsv: &[u8]) -> Address {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    let signature = Signature::from_slice(&rsv[..64]).unwrap();
    let recovery = RecoveryId::from_byte(rsv[64] - 27).unwrap();
    Address::from_public_key(
        &VerifyingKey::recover_from_prehash(digest, &signature, recovery).unwrap().into(),
    )
}

fn text_of(response: &Response<Body>) -> String {
    match response.body() {
        Body::Text(text) => text.clone(),
        other => panic!("a text body, got {other:?}"),
    }
}

async fn get(service: &Service, address: &str) -> Response<Body> {
    handle(Entry::Getter, service, event("rest-v1-get", Some(address), no_edit)).await
}

async fn sign(service: &Service, address: &str, message: &str) -> Response<Body> {
    let body = json!({"address": address, "message": message}).to_string();
    handle(Entry::Signer, service, post_event("/signer", &body, KEY_ID)).await
}

/// The signature in a signer answer recovers to `address`.
fn assert_signed_by(response: &Response<Body>, address: &Address, message: &str) {
    assert_eq!(response.status(), StatusCode::OK, "{}", text_of(response));
    let body = json_of(response);
    let signature = hex::decode(&body["data"]["signature"].as_str().unwrap()[2..]).unwrap();
    assert_eq!(recover(&eip191_digest(message.as_bytes()), &signature), *address);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sharded_environment_from_rossignol_config_creates_reveals_and_signs_and_survives_a_provider_down()
{
    let Some(servers) = servers() else { return };
    if !secrets_endpoint_is(&servers.moto) {
        return;
    }
    logs();
    let vault = Vault::new(servers).await;
    let secrets = [vault.servers.postgres.clone(), vault.servers.bao_token.clone()];

    // All three up: setter, getter (reveal), signer.
    let service = vault.service(&vault.servers.dynamodb).await;
    let made = service.custodian().init().await.unwrap();
    assert_eq!(made.providers.len(), 3, "{made:?}");
    let response = handle(Entry::Setter, &service, event("rest-v1-post", None, no_edit)).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", text_of(&response));
    let address = json_of(&response)["data"]["address"].as_str().unwrap().to_owned();
    let parsed = Address::parse(&address).unwrap();

    let response = get(&service, &address).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", text_of(&response));
    let private_key = json_of(&response)["data"]["private_key"].as_str().unwrap().to_owned();
    let key = PrivateKey::from_bytes(&hex::decode(&private_key[2..]).unwrap()).unwrap();
    assert_eq!(key.address(), parsed);
    assert_signed_by(&sign(&service, &address, "all three up").await, &parsed, "all three up");
    let trail = service.custodian().latest_access(&parsed, 10).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
    assert!(actions.contains(&"getter") && actions.contains(&"signer"), "{actions:?}");
    for shown in [format!("{service:?}"), logged()] {
        for secret in &secrets {
            assert!(!shown.contains(secret.as_str()), "a secret was shown");
        }
    }
    // The embedded store is one file, open in one place at a time.
    drop(service);
    assert_eq!(vault.held_off_aws().await, (1, 1));

    // `aws` unreachable: the getter and signer answer from `pg` and
    // `offline`, and only the log names `aws`.
    let before = logged().len();
    let degraded = vault.service("http://127.0.0.1:9").await;
    let response = get(&degraded, &address).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", text_of(&response));
    assert_eq!(json_of(&response)["data"]["private_key"], private_key.as_str());
    assert!(!text_of(&response).contains("aws"), "{}", text_of(&response));
    let response = sign(&degraded, &address, "one provider down").await;
    assert_signed_by(&response, &parsed, "one provider down");
    assert!(!text_of(&response).contains("aws"), "{}", text_of(&response));
    let since = logged()[before..].to_owned();
    assert!(since.contains("provider aws could not"), "{since}");

    // The setter fails retryably, and takes back what it wrote at the
    // live providers.
    let response = handle(Entry::Setter, &degraded, event("rest-v1-post", None, no_edit)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{}", text_of(&response));
    assert_eq!(response.headers()["retry-after"], "1");
    let body = json_of(&response);
    assert_eq!(body["success"], false);
    assert!(body.get("data").is_none());
    drop(degraded);
    assert_eq!(vault.held_off_aws().await, (1, 1), "only the first account, at each live provider");
    vault.drop_tables().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_that_cannot_be_read_stops_the_cold_start_naming_it() {
    let Some(servers) = servers() else { return };
    if !secrets_endpoint_is(&servers.moto) {
        return;
    }
    let vault = Vault::new(servers).await;
    let missing = format!("rossignol/no-such-secret-{}", suffix());
    let config = vault.config(&vault.servers.dynamodb).replace(&vault.token_secret, &missing);
    let err = Service::from_settings(&vault.settings(&config).unwrap()).await.unwrap_err().to_string();
    assert!(
        err.contains("ROSSIGNOL_CONFIG")
            && err.contains("provider `pg`")
            && err.contains("`transit_token_secret`")
            && err.contains(&missing)
            && err.contains("secretsmanager:GetSecretValue"),
        "{err}"
    );
    assert!(!err.contains(&vault.servers.bao_token) && !err.contains('\n'), "{err}");
}
