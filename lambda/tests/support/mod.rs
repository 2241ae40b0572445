//! What the handler tests share: a service over an embedded store, and
//! recorded API Gateway events to drive it with.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use rossignol_core::Custodian;
use rossignol_core::access::AccessTrail;
use rossignol_core::seal::{LocalSealer, Sealer};
use rossignol_core::store::embedded::EmbeddedStore;
use rossignol_lambda::{ApiKeyCheck, Entry, Service, handle};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const API_KEY: &str = "test-api-key";

/// The endpoint in `var`, or `None` with a note when its server is not
/// running. In CI (`CI=true`) a missing server fails the test instead.
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
pub const ZERO: &str = "0x0000000000000000000000000000000000000000";

pub struct Fixture {
    pub service: Service,
    pub store: Arc<EmbeddedStore>,
    pub custodian: Custodian,
    _dir: tempfile::TempDir,
}

pub fn api_key_hash() -> [u8; 32] {
    Sha256::digest(API_KEY.as_bytes()).into()
}

pub fn fixture_with(api_key: ApiKeyCheck, trail: Option<Arc<dyn AccessTrail>>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(&dir.path().join("db.redb"), "rossignol_test").unwrap());
    let sealer: Arc<dyn Sealer> = Arc::new(LocalSealer::from_key(&[5u8; 32]));
    let trail = trail.unwrap_or_else(|| store.clone());
    let custodian = Custodian::new(store.clone(), sealer, trail);
    Fixture { service: Service::new(custodian.clone(), api_key), store, custodian, _dir: dir }
}

pub fn fixture() -> Fixture {
    fixture_with(ApiKeyCheck::Sha256(api_key_hash()), None)
}

/// A fixture whose signer applies `policy`, given as `ROSSIGNOL_POLICY`.
pub fn fixture_with_policy(policy: &Value) -> Fixture {
    let mut f = fixture();
    let book =
        rossignol_core::policy::PolicyBook::from_json(&policy.to_string(), "ROSSIGNOL_POLICY").unwrap();
    f.custodian = f.custodian.clone().with_policies(book);
    f.service = Service::new(f.custodian.clone(), ApiKeyCheck::Sha256(api_key_hash()));
    f
}

/// A REST (v1) POST event to `path` with `body`, from API key `key_id`.
pub fn post_event(path: &str, body: &str, key_id: &str) -> lambda_http::Request {
    let (path, body, key_id) = (path.to_owned(), body.to_owned(), key_id.to_owned());
    event("rest-v1-post", None, move |v: &mut Value| {
        v["path"] = Value::String(path.clone());
        v["resource"] = Value::String(path.clone());
        v["requestContext"]["path"] = Value::String(format!("/staging{path}"));
        v["requestContext"]["identity"]["apiKeyId"] = Value::String(key_id);
        v["body"] = Value::String(body);
    })
}

/// The API key id of the recorded events.
pub const KEY_ID: &str = "k9x8w7v6u5";

/// A recorded event, with the address and method swapped in as needed.
pub fn event(name: &str, address: Option<&str>, edit: impl FnOnce(&mut Value)) -> lambda_http::Request {
    let text = std::fs::read_to_string(format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    let text = match address {
        Some(address) => text.replace(ZERO, address),
        None => text,
    };
    let mut value: Value = serde_json::from_str(&text).unwrap();
    edit(&mut value);
    lambda_http::request::from_str(&value.to_string()).unwrap()
}

pub fn no_edit(_: &mut Value) {}

pub fn json_of(response: &Response<Body>) -> Value {
    assert_eq!(response.headers()["content-type"], "application/json");
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("a text body, got {other:?}"),
    }
}

pub async fn create(f: &Fixture, name: &str) -> String {
    let response = handle(Entry::Setter, &f.service, event(name, None, no_edit)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_of(&response);
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "successfully created account");
    body["data"]["address"].as_str().unwrap().to_owned()
}

/// AWS clients' configuration for a closed loopback port, without retries:
/// every call fails at once, as when the service is unreachable.
pub async fn unreachable_aws() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-central-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "test"))
        .endpoint_url("http://127.0.0.1:1")
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}

/// An access trail on a closed loopback port: every append fails at once.
pub async fn unreachable_trail() -> Arc<dyn AccessTrail> {
    Arc::new(rossignol_core::store::dynamo::DynamoTrail::new(
        aws_sdk_dynamodb::Client::new(&unreachable_aws().await),
        "rossignol_test_access",
    ))
}
