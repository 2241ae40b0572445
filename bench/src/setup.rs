//! Clients, tables and seed data for the measurements.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures::StreamExt as _;
use rossignol_core::access::AccessTrail;
use rossignol_core::seal::{LocalSealer, SealContext, Sealer};
use rossignol_core::store::AccountStore;
use rossignol_core::store::dynamo::{DynamoStore, DynamoTrail};
use rossignol_core::{Custodian, PrivateKey};

pub const REGION: &str = "eu-central-1";

/// The credentials the Lambda processes and the bench's KMS client use
/// against moto (any pair works; they name the same moto account).
pub const TEST_CREDENTIALS: (&str, &str) = ("test", "test");

async fn sdk(access_key: &str, secret_key: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            access_key, secret_key, None, None, "bench",
        ))
        .retry_config(rossignol_core::aws::retry_config())
        .load()
        .await
}

pub async fn client(endpoint: &str) -> Client {
    let sdk = sdk("bench", "bench").await;
    Client::from_conf(aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(endpoint).build())
}

/// A KMS client for moto.
pub async fn kms_client(endpoint: &str) -> aws_sdk_kms::Client {
    let sdk = sdk(TEST_CREDENTIALS.0, TEST_CREDENTIALS.1).await;
    aws_sdk_kms::Client::from_conf(aws_sdk_kms::config::Builder::from(&sdk).endpoint_url(endpoint).build())
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", hex::encode(rossignol_core::secret::random_bytes::<5>()))
}

/// A table made by `init`, as operators make them.
pub async fn table(client: &Client, endpoint: &str, name: &str) -> anyhow::Result<DynamoStore> {
    let store = DynamoStore::new(client.clone(), name).with_custom_endpoint(Some(endpoint.to_owned()));
    store.init().await.with_context(|| format!("creating table {name}"))?;
    DynamoTrail::new(client.clone(), DynamoTrail::default_table(name)).init().await?;
    Ok(store)
}

/// A custodian over `store`, sealing with a local key.
pub fn custodian(client: &Client, store: DynamoStore, key: &[u8; 32]) -> Custodian {
    let trail: Arc<dyn AccessTrail> =
        Arc::new(DynamoTrail::new(client.clone(), DynamoTrail::default_table(store.table())));
    Custodian::new(Arc::new(store), Arc::new(LocalSealer::from_key(key)), trail)
}

/// An item the size of a Rossignol record, for the raw baseline.
pub fn raw_item() -> HashMap<String, AttributeValue> {
    let address = format!("0x{}", hex::encode(rossignol_core::secret::random_bytes::<20>()));
    let public_key = format!("0x04{}", hex::encode(rossignol_core::secret::random_bytes::<64>()));
    HashMap::from([
        ("address".to_owned(), AttributeValue::S(address)),
        ("public_key".to_owned(), AttributeValue::S(public_key)),
        (
            "sealed_private_key".to_owned(),
            AttributeValue::B(Blob::new(rossignol_core::secret::random_bytes::<69>().to_vec())),
        ),
        ("seal".to_owned(), AttributeValue::S("local:0123456789abcdef".into())),
        ("scheme".to_owned(), AttributeValue::S("secp256k1".into())),
        ("created_at".to_owned(), AttributeValue::S("2026-11-24T15:00:00.000Z".into())),
        ("created_by".to_owned(), AttributeValue::S("bench".into())),
        ("schema_version".to_owned(), AttributeValue::N("1".into())),
    ])
}

/// Writes `n` valid sealed records straight to the table (BatchWriteItem),
/// to give the audits something to read.
pub async fn seed(client: &Client, store: &DynamoStore, key: &[u8; 32], n: u64) -> anyhow::Result<()> {
    let sealer = LocalSealer::from_key(key);
    let table = store.table().to_owned();
    let batches = (0..n).collect::<Vec<_>>();
    let mut writes = futures::stream::iter(batches.chunks(25).map(|chunk| chunk.len()).collect::<Vec<_>>())
        .map(|size| {
            let sealer = &sealer;
            let table = table.clone();
            async move {
                let mut requests = Vec::with_capacity(size);
                for _ in 0..size {
                    let key = PrivateKey::generate_os();
                    let address = key.address();
                    let blob = sealer.seal(SealContext::record(&address, &table), &key).await?;
                    let record = rossignol_core::store::AccountRecord {
                        address,
                        scheme: rossignol_core::store::Scheme::Secp256k1,
                        public_key: rossignol_core::store::record::format_public_key(
                            &key.public_key_uncompressed(),
                        ),
                        key: rossignol_core::store::StoredKey::Sealed { seal: sealer.id().to_owned(), blob },
                        created_at: None,
                        created_by: Some("bench-seed".into()),
                        created_api_key: None,
                        schema_version: rossignol_core::store::record::CURRENT_SCHEMA,
                        disabled: None,
                    };
                    let attributes = rossignol_core::store::dynamo::to_attributes(&record.to_item()?);
                    let put = PutRequest::builder().set_item(Some(attributes)).build()?;
                    requests.push(WriteRequest::builder().put_request(put).build());
                }
                write_batch(client, &table, requests).await
            }
        })
        .buffer_unordered(16);
    while let Some(result) = writes.next().await {
        result?;
    }
    Ok(())
}

/// One BatchWriteItem, retrying what DynamoDB hands back unprocessed.
async fn write_batch(client: &Client, table: &str, mut requests: Vec<WriteRequest>) -> anyhow::Result<()> {
    while !requests.is_empty() {
        let output = client.batch_write_item().request_items(table, requests).send().await?;
        requests = output.unprocessed_items.and_then(|mut m| m.remove(table)).unwrap_or_default();
    }
    Ok(())
}

/// A configuration file for the `rossignol` processes: the table on the
/// endpoint, sealed with the bench's local key.
pub fn config(dir: &Path, endpoint: &str, table: &str, key: &[u8; 32]) -> anyhow::Result<PathBuf> {
    let key_file = dir.join("bench.key");
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&key_file)?;
        file.write_all(key)?;
    }
    let path = dir.join(format!("{table}.toml"));
    std::fs::write(
        &path,
        format!(
            "default = \"bench\"\n[environments.bench]\ntable = \"{table}\"\nregion = \"{REGION}\"\n\
             endpoint_url = \"{endpoint}\"\nlocal_key_file = \"{}\"\n",
            key_file.display()
        ),
    )?;
    Ok(path)
}

/// A binary in `dir` (`rossignol`, `rossignol-lambda`); by default `dir`
/// is this binary's own directory (`target/release` under `scripts/bench`).
pub fn binary(dir: Option<&Path>, name: &str) -> anyhow::Result<PathBuf> {
    let path = match dir {
        Some(dir) => dir.join(name),
        None => std::env::current_exe()?.with_file_name(name),
    };
    anyhow::ensure!(
        path.exists(),
        "{} is missing; build it first: cargo build --release -p rossignol-console -p rossignol-lambda",
        path.display()
    );
    Ok(path)
}
