//! Shared test plumbing: reaching the real servers that `scripts/test`
//! starts (DynamoDB Local, moto's KMS), and throwaway tables.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region};
use rand_core::{OsRng, RngCore};
use rossignol_core::Custodian;
use rossignol_core::access::AccessTrail;
use rossignol_core::seal::{LocalSealer, Sealer};
use rossignol_core::store::AccountStore;
use rossignol_core::store::dynamo::{DynamoStore, DynamoTrail};
use rossignol_core::store::embedded::EmbeddedStore;

pub const DYNAMODB_ENDPOINT: &str = "ROSSIGNOL_TEST_DYNAMODB_ENDPOINT";
pub const KMS_ENDPOINT: &str = "ROSSIGNOL_TEST_KMS_ENDPOINT";

/// The endpoint in `var`, or `None` with a note when it is not running.
/// In CI (`CI=true`) a missing server fails the test instead.
pub fn server(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("{what} is required in CI, but {var} is not set; run the tests with `scripts/test`")
        }
        _ => {
            eprintln!("SKIPPED: {what} is not running ({var} is unset); `scripts/test` starts it");
            None
        }
    }
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-central-1".into());
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await
}

pub async fn dynamo_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk_config().await).endpoint_url(endpoint).build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

pub async fn kms_client(endpoint: &str) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::config::Builder::from(&sdk_config().await).endpoint_url(endpoint).build();
    aws_sdk_kms::Client::from_conf(config)
}

pub fn random_suffix() -> String {
    let mut bytes = [0u8; 6];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A DynamoDB Local table and its access trail table, with random names,
/// deleted on drop.
pub struct TestTable {
    pub store: DynamoStore,
    pub trail: DynamoTrail,
    pub client: aws_sdk_dynamodb::Client,
    pub name: String,
}

impl TestTable {
    /// A fresh table made by `init`, or `None` when DynamoDB Local is not
    /// running outside CI.
    pub async fn new(prefix: &str) -> Option<Self> {
        let endpoint = server(DYNAMODB_ENDPOINT, "DynamoDB Local")?;
        let client = dynamo_client(&endpoint).await;
        let name = format!("{prefix}_{}", random_suffix());
        let store = DynamoStore::new(client.clone(), &name).with_custom_endpoint(Some(endpoint));
        store.init().await.expect("init creates the test table");
        let trail = DynamoTrail::new(client.clone(), DynamoTrail::default_table(&name));
        trail.init().await.expect("init creates the access table");
        Some(TestTable { store, trail, client, name })
    }

    /// A table name that nothing has created.
    pub async fn unmade(prefix: &str) -> Option<Self> {
        let endpoint = server(DYNAMODB_ENDPOINT, "DynamoDB Local")?;
        let client = dynamo_client(&endpoint).await;
        let name = format!("{prefix}_{}", random_suffix());
        let store = DynamoStore::new(client.clone(), &name).with_custom_endpoint(Some(endpoint));
        let trail = DynamoTrail::new(client.clone(), DynamoTrail::default_table(&name));
        Some(TestTable { store, trail, client, name })
    }
}

impl Drop for TestTable {
    fn drop(&mut self) {
        let client = self.client.clone();
        let name = self.name.clone();
        // Drop cannot await; a short-lived runtime on its own thread can.
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                for table in [DynamoTrail::default_table(&name), name] {
                    let _ = runtime.block_on(client.delete_table().table_name(table).send());
                }
            }
        })
        .join();
    }
}

/// A store and custodian under test, with whatever keeps them alive.
pub struct Harness {
    pub store: Arc<dyn AccountStore>,
    pub custodian: Custodian,
    _table: Option<TestTable>,
    _dir: Option<tempfile::TempDir>,
}

impl Harness {
    pub fn embedded() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(
            EmbeddedStore::open(&dir.path().join("accounts.redb"), "rossignol_test").expect("opens"),
        );
        Self::build(store.clone(), store, None, Some(dir))
    }

    pub async fn dynamodb() -> Option<Self> {
        let table = TestTable::new("conformance").await?;
        let store: Arc<dyn AccountStore> = Arc::new(table.store.clone());
        let trail: Arc<dyn AccessTrail> = Arc::new(table.trail.clone());
        Some(Self::build(store, trail, Some(table), None))
    }

    fn build(
        store: Arc<dyn AccountStore>,
        trail: Arc<dyn AccessTrail>,
        table: Option<TestTable>,
        dir: Option<tempfile::TempDir>,
    ) -> Self {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        let sealer: Arc<dyn Sealer> = Arc::new(LocalSealer::from_key(&key));
        let custodian = Custodian::new(Arc::clone(&store), sealer, trail);
        Harness { store, custodian, _table: table, _dir: dir }
    }
}
