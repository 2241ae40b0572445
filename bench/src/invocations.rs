//! The Lambda setter, getter and signer, invoked over the runtime protocol
//! (the release `rossignol-lambda` binary polling [`runtime_api`]) with the
//! recorded REST v1 events, against the same calls made in process with the
//! SDK clients: KMS Encrypt + PutItem for the setter, GetItem + KMS Decrypt
//! for the getter and the signer. Interleaved in rounds, like the other
//! measurements; every call's time is kept, for rates and percentiles.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kms::primitives::Blob;
use serde_json::Value;

use crate::measure::{ROUNDS, rate};
use crate::runtime_api::{Function, Spec};
use crate::setup::{REGION, TEST_CREDENTIALS, raw_item};

/// The recorded API Gateway REST (v1) events the Lambda tests use.
pub(crate) const SETTER_EVENT: &str = include_str!("../../lambda/tests/fixtures/rest-v1-post.json");
const GETTER_EVENT: &str = include_str!("../../lambda/tests/fixtures/rest-v1-get.json");
/// The address in the recorded getter event, replaced by a real one.
const FIXTURE_ADDRESS: &str = "0x0000000000000000000000000000000000000000";
/// SHA-256 of `test-api-key`, the `X-Api-Key` of the recorded events: the
/// functions check it as they would in production.
pub const API_KEY_SHA256: &str = "4c806362b613f7496abf284146efd31da90e4b16169fe001841ca17290f427c4";

/// Where the Lambda processes find DynamoDB Local and moto, and the tables.
#[derive(Debug)]
pub struct Setup<'a> {
    pub lambda: &'a Path,
    /// The baseline Lambda (`rossignol-raw-lambda`).
    pub raw_lambda: &'a Path,
    pub dir: &'a Path,
    pub dynamodb_endpoint: &'a str,
    pub kms_endpoint: &'a str,
    /// The functions' accounts table (its access table beside it).
    pub table: &'a str,
    /// The baseline's table.
    pub raw_table: &'a str,
}

/// Every call's time, ours and the baseline's, for one handler.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub ours: Vec<Duration>,
    pub raw: Vec<Duration>,
    /// The same raw calls made by a minimal Lambda under the same runtime
    /// API (getter and signer only).
    pub raw_lambda: Vec<Duration>,
}

impl Samples {
    /// (Rossignol, raw) calls per second, one call at a time.
    pub fn rates(&self) -> (f64, f64) {
        let rate_of = |calls: &[Duration]| rate(calls.len() as u64, calls.iter().sum());
        (rate_of(&self.ours), rate_of(&self.raw))
    }

    /// Calls per second of the minimal Lambda, one at a time.
    pub fn raw_lambda_rate(&self) -> f64 {
        rate(self.raw_lambda.len() as u64, self.raw_lambda.iter().sum())
    }

    /// (p50, p99) of ours and of the baseline's.
    pub fn percentiles(&self) -> ((Duration, Duration), (Duration, Duration)) {
        (percentiles(&self.ours), percentiles(&self.raw))
    }
}

/// (p50, p99) by the nearest-rank method.
pub fn percentiles(calls: &[Duration]) -> (Duration, Duration) {
    let mut sorted = calls.to_vec();
    sorted.sort_unstable();
    let rank = |p: f64| {
        let index = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
        sorted.get(index).copied().unwrap_or_default()
    };
    (rank(0.50), rank(0.99))
}

/// What each handler measured.
#[derive(Debug, Clone, Default)]
pub struct Handlers {
    pub setter: Samples,
    pub getter: Samples,
    pub signer: Samples,
    /// The same transactions through the signer's JSON-RPC
    /// (`eth_signTransaction` at `/rpc/1`); `ours` only.
    pub signer_rpc: Samples,
}

pub async fn measure(
    setup: &Setup<'_>,
    client: &Client,
    kms: &aws_sdk_kms::Client,
    n: u64,
) -> anyhow::Result<Handlers> {
    anyhow::ensure!(
        GETTER_EVENT.contains(FIXTURE_ADDRESS),
        "the getter fixture lost its placeholder address"
    );
    let key_id = kms
        .create_key()
        .description("rossignol-bench")
        .send()
        .await
        .context("creating a KMS key in moto")?
        .key_metadata
        .context("moto answered CreateKey without key metadata")?
        .key_id;
    let result = measure_with(setup, client, kms, &key_id, n).await;
    let _ = kms.schedule_key_deletion().key_id(&key_id).pending_window_in_days(7).send().await;
    result
}

async fn measure_with(
    setup: &Setup<'_>,
    client: &Client,
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    n: u64,
) -> anyhow::Result<Handlers> {
    let env = vec![
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", TEST_CREDENTIALS.0.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", TEST_CREDENTIALS.1.to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", setup.dynamodb_endpoint.to_owned()),
        ("AWS_ENDPOINT_URL_KMS", setup.kms_endpoint.to_owned()),
        ("DYNAMO_DB_TABLE_NAME", setup.table.to_owned()),
        ("ROSSIGNOL_KMS_KEY_ID", key_id.to_owned()),
        ("ROSSIGNOL_API_KEY_SHA256", API_KEY_SHA256.to_owned()),
    ];
    let spec = |handler| Spec {
        binary: setup.lambda,
        handler,
        log: setup.dir.join(format!("lambda-{handler}.log")),
        env: env.clone(),
    };
    let mut setter = Function::start(&spec("setter"))?;
    let mut getter = Function::start(&spec("getter"))?;
    let mut signer = Function::start(&spec("signer"))?;
    let mut raw_env = env.clone();
    raw_env.push(("RAW_TABLE", setup.raw_table.to_owned()));
    raw_env.push(("RAW_KMS_KEY_ID", key_id.to_owned()));
    let mut raw_getter = Function::start(&Spec {
        binary: setup.raw_lambda,
        handler: "raw",
        log: setup.dir.join("lambda-raw.log"),
        env: raw_env,
    })?;
    let raw = Raw { client, kms, table: setup.raw_table, key_id };
    let round = (n / ROUNDS).max(1);
    let mut measured = Handlers::default();

    // The setter: each invocation creates an account.
    let mut addresses = Vec::new();
    let mut raw_addresses = Vec::new();
    for _ in 0..ROUNDS {
        tokio::task::block_in_place(|| {
            for _ in 0..round {
                let (elapsed, data) = invoke(&mut setter, setter_event)?;
                measured.setter.ours.push(elapsed);
                let address = data["address"]
                    .as_str()
                    .with_context(|| format!("the setter answered without an address: {data}"))?;
                addresses.push(address.to_owned());
            }
            anyhow::Ok(())
        })?;
        for _ in 0..round {
            let (elapsed, address) = raw.create().await?;
            measured.setter.raw.push(elapsed);
            raw_addresses.push(address);
        }
    }

    // The getter: each invocation reveals one of those accounts. The
    // signer: each signs a transaction with one. Both against the same
    // baseline, a GetItem and a Decrypt.
    let per_round = addresses.len().div_ceil(ROUNDS as usize);
    for (mine, raws) in addresses.chunks(per_round).zip(raw_addresses.chunks(per_round)) {
        tokio::task::block_in_place(|| {
            for address in mine {
                let (elapsed, data) = invoke(&mut getter, |id| getter_event(id, address))?;
                measured.getter.ours.push(elapsed);
                // Only the address is shown: `data` holds the private key.
                let answered = data["address"].as_str().unwrap_or_default();
                anyhow::ensure!(
                    answered.eq_ignore_ascii_case(address),
                    "the getter was asked for {address} and answered for {answered:?}"
                );
                anyhow::ensure!(data["private_key"].is_string(), "the getter answered without a private key");
            }
            for address in mine {
                let (elapsed, data) = invoke(&mut signer, |id| signer_event(id, address))?;
                measured.signer.ours.push(elapsed);
                anyhow::ensure!(
                    data["raw_transaction"].as_str().is_some_and(|raw| raw.starts_with("0x02")),
                    "the signer answered without a signed EIP-1559 transaction: {data}"
                );
                let (elapsed, result) = invoke_rpc(&mut signer, |id| rpc_event(id, address))?;
                measured.signer_rpc.ours.push(elapsed);
                anyhow::ensure!(
                    result == data["raw_transaction"],
                    "JSON-RPC signed {result}, the signer's JSON {}: the same transaction should sign alike",
                    data["raw_transaction"]
                );
            }
            anyhow::Ok(())
        })?;
        for address in raws {
            measured.getter.raw.push(raw.get(address).await?);
        }
        for address in raws {
            measured.signer.raw.push(raw.get(address).await?);
        }
        // The minimal Lambda, once per getter call and once per signer call.
        tokio::task::block_in_place(|| {
            for samples in [&mut measured.getter.raw_lambda, &mut measured.signer.raw_lambda] {
                for address in raws {
                    let (elapsed, data) = invoke(&mut raw_getter, |id| getter_event(id, address))?;
                    anyhow::ensure!(data["private_key"].is_string(), "the baseline Lambda answered {data}");
                    samples.push(elapsed);
                }
            }
            anyhow::Ok(())
        })?;
    }
    drop((setter, getter, signer, raw_getter));
    Ok(measured)
}

/// Invokes `function` with the event `event(request_id)` under a fresh
/// request id; the `data` of its answer, which must be a 200 with
/// `"success": true`.
fn invoke(
    function: &mut Function,
    event: impl FnOnce(&str) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<(Duration, Value)> {
    let request_id = request_id();
    let event = event(&request_id)?;
    let answer = function.invoke(&request_id, &event)?;
    let response = &answer.response;
    let body: Value =
        response["body"].as_str().and_then(|text| serde_json::from_str(text).ok()).with_context(|| {
            format!("{}: invocation {request_id} answered without a JSON body: {response}", function.name())
        })?;
    anyhow::ensure!(
        response["statusCode"] == 200 && body["success"] == true,
        "{}: invocation {request_id} answered {} with {body}",
        function.name(),
        response["statusCode"]
    );
    Ok((answer.elapsed, body["data"].clone()))
}

/// Like [`invoke`], for a JSON-RPC call: the `result` of its answer,
/// which must be a 200 without an error object.
fn invoke_rpc(
    function: &mut Function,
    event: impl FnOnce(&str) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<(Duration, Value)> {
    let request_id = request_id();
    let event = event(&request_id)?;
    let answer = function.invoke(&request_id, &event)?;
    let response = &answer.response;
    let body: Value =
        response["body"].as_str().and_then(|text| serde_json::from_str(text).ok()).with_context(|| {
            format!(
                "{}: JSON-RPC invocation {request_id} answered without a JSON body: {response}",
                function.name()
            )
        })?;
    anyhow::ensure!(
        response["statusCode"] == 200 && body.get("error").is_none(),
        "{}: JSON-RPC invocation {request_id} answered {} with {body}",
        function.name(),
        response["statusCode"]
    );
    Ok((answer.elapsed, body["result"].clone()))
}

/// A Lambda-style request id (a random UUID).
pub(crate) fn request_id() -> String {
    let hex = hex::encode(rossignol_core::secret::random_bytes::<16>());
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// The recorded setter event, under its own request id.
pub(crate) fn setter_event(request_id: &str) -> anyhow::Result<Vec<u8>> {
    event(SETTER_EVENT, request_id)
}

/// The recorded getter event, asking for `address`.
pub(crate) fn getter_event(request_id: &str, address: &str) -> anyhow::Result<Vec<u8>> {
    event(&GETTER_EVENT.replace(FIXTURE_ADDRESS, address), request_id)
}

/// The recorded POST event, sent to the signer with an EIP-1559
/// transaction to sign with `address`'s key.
fn signer_event(request_id: &str, address: &str) -> anyhow::Result<Vec<u8>> {
    let body = serde_json::json!({
        "address": address,
        "transaction": {
            "chainId": "1", "nonce": "0", "to": "0x3535353535353535353535353535353535353535",
            "value": "1000000000000000", "gas": "21000",
            "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000"
        }
    });
    post_event(request_id, "/signer", &body)
}

/// The recorded POST event at `/rpc/1`: `eth_signTransaction` of the
/// transaction [`signer_event`] signs, from `address`.
fn rpc_event(request_id: &str, address: &str) -> anyhow::Result<Vec<u8>> {
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "eth_signTransaction",
        "params": [{
            "from": address, "chainId": "0x1", "nonce": "0x0", "to": "0x3535353535353535353535353535353535353535",
            "value": "0x38d7ea4c68000", "gas": "0x5208", "type": "0x2",
            "maxFeePerGas": "0x6fc23ac00", "maxPriorityFeePerGas": "0x3b9aca00"
        }]
    });
    post_event(request_id, "/rpc/1", &body)
}

/// The recorded POST event, sent to `path` with `body`.
fn post_event(request_id: &str, path: &str, body: &Value) -> anyhow::Result<Vec<u8>> {
    let mut event: Value = serde_json::from_str(SETTER_EVENT).context("a recorded event is not JSON")?;
    event["path"] = path.into();
    event["body"] = body.to_string().into();
    self::event(&event.to_string(), request_id)
}

pub(crate) fn event(text: &str, request_id: &str) -> anyhow::Result<Vec<u8>> {
    let mut event: Value = serde_json::from_str(text).context("a recorded event is not JSON")?;
    if let Some(id) = event.pointer_mut("/requestContext/requestId") {
        *id = Value::String(request_id.to_owned());
    }
    Ok(serde_json::to_vec(&event)?)
}

/// The baseline: the same store and KMS calls, made in process.
struct Raw<'a> {
    client: &'a Client,
    kms: &'a aws_sdk_kms::Client,
    table: &'a str,
    key_id: &'a str,
}

impl Raw<'_> {
    /// KMS Encrypt of 32 random bytes, bound to {address, table} as
    /// Rossignol binds them, then a PutItem of an item of a record's size
    /// holding the ciphertext. Its time and the item's address.
    async fn create(&self) -> anyhow::Result<(Duration, String)> {
        let mut item: HashMap<String, AttributeValue> = raw_item();
        let address = item
            .get("address")
            .and_then(|a| a.as_s().ok())
            .cloned()
            .context("a raw item without an address")?;
        let secret = Blob::new(rossignol_core::secret::random_bytes::<32>().to_vec());
        let seal = format!("kms:{}", self.key_id);
        let start = Instant::now();
        let sealed = self
            .kms
            .encrypt()
            .key_id(self.key_id)
            .plaintext(secret)
            .encryption_context("address", &address)
            .encryption_context("table", self.table)
            .send()
            .await
            .context("KMS Encrypt (baseline)")?
            .ciphertext_blob
            .context("KMS answered Encrypt without a ciphertext")?;
        item.insert("sealed_private_key".into(), AttributeValue::B(sealed));
        item.insert("seal".into(), AttributeValue::S(seal));
        self.client
            .put_item()
            .table_name(self.table)
            .set_item(Some(item))
            .send()
            .await
            .context("PutItem (baseline)")?;
        Ok((start.elapsed(), address))
    }

    /// A consistent GetItem, then KMS Decrypt of the ciphertext it holds
    /// with the same context. Its time.
    async fn get(&self, address: &str) -> anyhow::Result<Duration> {
        let start = Instant::now();
        let item = self
            .client
            .get_item()
            .table_name(self.table)
            .key("address", AttributeValue::S(address.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .context("GetItem (baseline)")?
            .item
            .with_context(|| format!("raw item {address} vanished"))?;
        let sealed = item
            .get("sealed_private_key")
            .and_then(|b| b.as_b().ok())
            .cloned()
            .with_context(|| format!("raw item {address} has no sealed key"))?;
        let plaintext = self
            .kms
            .decrypt()
            .key_id(self.key_id)
            .ciphertext_blob(sealed)
            .encryption_context("address", address)
            .encryption_context("table", self.table)
            .send()
            .await
            .context("KMS Decrypt (baseline)")?
            .plaintext;
        let elapsed = start.elapsed();
        anyhow::ensure!(
            plaintext.is_some_and(|p| p.as_ref().len() == 32),
            "KMS Decrypt (baseline) gave back no 32-byte secret"
        );
        Ok(elapsed)
    }
}
