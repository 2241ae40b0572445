//! Shared test plumbing: reaching the real servers that `scripts/test`
//! starts (DynamoDB Local, moto's KMS, OpenBao, PostgreSQL), and throwaway tables.
#![allow(dead_code, unused_macros, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rossignol_core::PrivateKey;
use rossignol_core::seal::SealContext;
use rossignol_core::store::record::{self, LEGACY_PRIVATE_KEY, PUBLIC_KEY};
use rossignol_core::store::{AccountRecord, Attr, Item, Scheme, StoredKey};

use aws_config::{BehaviorVersion, Region};
use rand_core::{OsRng, RngCore};
use rossignol_core::Custodian;
use rossignol_core::access::AccessTrail;
use rossignol_core::seal::{LocalSealer, Sealer};
use rossignol_core::store::AccountStore;
use rossignol_core::store::dynamo::{DynamoStore, DynamoTrail};
use rossignol_core::store::embedded::EmbeddedStore;
use rossignol_core::store::postgres::PostgresStore;

pub mod postgres_server;

pub const DYNAMODB_ENDPOINT: &str = "ROSSIGNOL_TEST_DYNAMODB_ENDPOINT";
pub const KMS_ENDPOINT: &str = "ROSSIGNOL_TEST_KMS_ENDPOINT";
/// OpenBao's address and its dev root token (the transit engine enabled).
pub const BAO_ADDR: &str = "ROSSIGNOL_TEST_BAO_ADDR";
pub const BAO_TOKEN: &str = "ROSSIGNOL_TEST_BAO_TOKEN";
pub const POSTGRES_URL: &str = "ROSSIGNOL_TEST_POSTGRES_URL";

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

/// A PostgreSQL table and its access trail, with a random name, made by
/// `init` and dropped on drop.
pub struct PgTable {
    pub store: PostgresStore,
    pub url: String,
    pub name: String,
}

impl PgTable {
    /// A fresh pair of tables, or `None` when PostgreSQL is not running
    /// outside CI.
    pub async fn new(prefix: &str) -> Option<Self> {
        let table = Self::unmade(prefix)?;
        AccountStore::init(&table.store).await.expect("init creates the test tables");
        Some(table)
    }

    /// A table name that nothing has created.
    pub fn unmade(prefix: &str) -> Option<Self> {
        let url = server(POSTGRES_URL, "PostgreSQL")?;
        let name = format!("{prefix}_{}", random_suffix());
        let store = PostgresStore::connect(&url, &name).expect("a valid test URL and table name");
        Some(PgTable { store, url, name })
    }
}

impl Drop for PgTable {
    fn drop(&mut self) {
        let url = self.url.clone();
        let name = self.name.clone();
        // Drop cannot await; a short-lived runtime on its own thread can.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.ok()?;
                tokio::spawn(connection);
                let sql = format!("DROP TABLE IF EXISTS \"{name}\", \"{name}_access\"");
                client.batch_execute(&sql).await.ok()
            })
        })
        .join();
    }
}

/// A store and custodian under test, with whatever keeps them alive.
pub struct Harness {
    pub store: Arc<dyn AccountStore>,
    pub custodian: Custodian,
    _table: Option<TestTable>,
    _pg: Option<PgTable>,
    _dir: Option<tempfile::TempDir>,
}

impl Harness {
    /// Whether this harness runs on DynamoDB Local (else the embedded store).
    #[allow(dead_code)] // not every test binary asks
    pub fn is_dynamodb(&self) -> bool {
        self._table.is_some()
    }

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

    /// A PostgreSQL store that is its own access trail, like the embedded one.
    pub async fn postgres() -> Option<Self> {
        let table = PgTable::new("conformance").await?;
        let store = Arc::new(table.store.clone());
        let mut harness = Self::build(store.clone(), store, None, None);
        harness._pg = Some(table);
        Some(harness)
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
        Harness { store, custodian, _table: table, _pg: None, _dir: dir }
    }
}

/// Runs each named `async fn(&Harness)` against the embedded store, and
/// against DynamoDB Local and PostgreSQL when they run (always in CI).
macro_rules! for_each_store {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(&super::Harness::embedded()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some(harness) = super::Harness::dynamodb().await else { return };
                    super::$case(&harness).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some(harness) = super::Harness::postgres().await else { return };
                    super::$case(&harness).await;
                }
            )*
        }
    };
}

/// The item a correct create of `key` would write, without writing it.
pub async fn sealed_item(h: &Harness, key: &PrivateKey) -> Item {
    let address = key.address();
    let blob = h.custodian.sealer().seal(SealContext::record(&address, h.store.table()), key).await.unwrap();
    AccountRecord {
        address,
        scheme: Scheme::Secp256k1,
        public_key: record::format_public_key(&key.public_key_uncompressed()),
        key: StoredKey::Sealed { seal: h.custodian.sealer().id().to_owned(), blob },
        created_at: None,
        created_by: Some("test".into()),
        created_api_key: None,
        schema_version: record::CURRENT_SCHEMA,
        disabled: None,
    }
    .to_item()
    .unwrap()
}

/// A row as the Node service wrote it: base64 of the 64-byte ed25519
/// secret key and of its public key; address = ripemd160(public key).
pub fn legacy_item(seed: [u8; 32]) -> (Item, String) {
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    let public = signing.verifying_key().to_bytes();
    let secret_b64 = BASE64.encode(signing.to_keypair_bytes());
    let address = record::legacy_address(&public);
    let mut item = Item::default();
    item.insert("address", Attr::S(address.to_storage()));
    item.insert(LEGACY_PRIVATE_KEY, Attr::S(secret_b64.clone()));
    item.insert(PUBLIC_KEY, Attr::S(BASE64.encode(public)));
    (item, secret_b64)
}

/// The address that made a 65-byte `r || s || v` signature of `digest`;
/// `s` must be low.
pub fn recover(digest: &[u8; 32], rsv: &[u8]) -> rossignol_core::Address {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    let signature = Signature::from_slice(&rsv[..64]).unwrap();
    assert!(signature.normalize_s().is_none(), "s must be low");
    let recovery = RecoveryId::from_byte(rsv[64] - 27).unwrap();
    let key = VerifyingKey::recover_from_prehash(digest, &signature, recovery).unwrap();
    rossignol_core::Address::from_public_key(&key.into())
}
