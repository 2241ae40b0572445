//! The setter and getter: thin over `rossignol-core`'s [`Custodian`], with
//! the original API's response shape `{success, message, data}`. Handlers
//! make no SDK calls of their own and log no payloads.

use std::fmt;
use std::sync::Arc;

use lambda_http::http::{Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt as _, Response};
use rossignol_core::access::AccessTrail;
use rossignol_core::seal::KmsSealer;
use rossignol_core::store::dynamo::{DynamoStore, DynamoTrail};
use rossignol_core::{Address, Custodian, Error, Requester};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::settings::{Entry, Settings};

/// What the handlers share across invocations: built once per cold start.
pub struct Service {
    custodian: Custodian,
    api_key_sha256: Option<[u8; 32]>,
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("custodian", &self.custodian)
            .field("api_key_check", &self.api_key_sha256.is_some())
            .finish()
    }
}

impl Service {
    pub fn new(custodian: Custodian, api_key_sha256: Option<[u8; 32]>) -> Self {
        Service { custodian, api_key_sha256 }
    }

    /// Builds the AWS clients from the Lambda's environment (region,
    /// credentials, and `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_KMS`
    /// for local runs). Nothing is contacted yet.
    pub async fn from_settings(settings: &Settings) -> Self {
        let sdk = rossignol_core::aws::load(&Default::default()).await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let store = DynamoStore::new(dynamodb.clone(), &settings.table);
        let trail: Arc<dyn AccessTrail> = Arc::new(DynamoTrail::new(dynamodb, &settings.access_table));
        let sealer = KmsSealer::new(aws_sdk_kms::Client::new(&sdk), &settings.kms_key_id);
        Service::new(Custodian::new(Arc::new(store), Arc::new(sealer), trail), settings.api_key_sha256)
    }
}

/// Who called, as API Gateway and the Lambda runtime tell it.
#[derive(Debug, Clone)]
struct Caller {
    request_id: String,
    api_key_id: Option<String>,
    source_ip: Option<String>,
}

impl Caller {
    fn of(request: &Request) -> Self {
        let (gateway_id, api_key_id, source_ip) = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV1(ctx)) => {
                (ctx.request_id.clone(), ctx.identity.api_key_id.clone(), ctx.identity.source_ip.clone())
            }
            Some(RequestContext::ApiGatewayV2(ctx)) => {
                (ctx.request_id.clone(), None, ctx.http.source_ip.clone())
            }
            _ => (None, None, None),
        };
        // The Lambda request id is the one CloudWatch shows next to the logs.
        let request_id = request
            .lambda_context_ref()
            .map(|c| c.request_id.clone())
            .filter(|id| !id.is_empty())
            .or(gateway_id)
            .unwrap_or_else(|| "unknown".into());
        Caller { request_id, api_key_id: api_key_id.filter(|k| !k.is_empty()), source_ip }
    }
}

/// An answer in the original API's shape.
fn reply(status: StatusCode, body: Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}

fn failure(status: StatusCode, message: impl Into<String>) -> Response<Body> {
    reply(status, json!({ "success": false, "message": message.into() }))
}

fn success(message: &str, data: Value) -> Response<Body> {
    reply(StatusCode::OK, json!({ "success": true, "message": message, "data": data }))
}

/// Maps a core error to a status, without internals for server-side ones.
fn error_response(caller: &Caller, error: &Error) -> Response<Body> {
    match error {
        Error::InvalidAddress(_) => failure(StatusCode::BAD_REQUEST, error.to_string()),
        Error::NotFound { address, .. } => {
            failure(StatusCode::NOT_FOUND, format!("no account with address {address}"))
        }
        Error::AccessTrail { .. } => failure(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the access trail is unavailable, so no key was revealed; try again later (request id {})",
                caller.request_id
            ),
        ),
        e if e.is_transient() => failure(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the service is busy; try again later (request id {})", caller.request_id),
        ),
        _ => failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error (request id {})", caller.request_id),
        ),
    }
}

fn method_not_allowed(allowed: &'static str) -> Response<Body> {
    let mut response =
        failure(StatusCode::METHOD_NOT_ALLOWED, format!("method not allowed: this endpoint takes {allowed}"));
    response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static(allowed));
    response
}

/// True when no key is configured, or `X-Api-Key` hashes to it. The
/// comparison is constant-time.
fn api_key_ok(service: &Service, request: &Request) -> bool {
    let Some(expected) = &service.api_key_sha256 else { return true };
    let Some(given) = request.headers().get("x-api-key") else { return false };
    let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
    bool::from(digest.ct_eq(expected))
}

/// Handles one invocation of `entry`. Never fails: every outcome is an
/// HTTP answer.
pub async fn handle(entry: Entry, service: &Service, request: Request) -> Response<Body> {
    let caller = Caller::of(&request);
    let response = if !api_key_ok(service, &request) {
        failure(StatusCode::FORBIDDEN, "forbidden: a valid X-Api-Key header is required")
    } else {
        match entry {
            Entry::Setter => setter(service, &request, &caller).await,
            Entry::Getter => getter(service, &request, &caller).await,
        }
    };
    tracing::info!(
        request_id = %caller.request_id,
        entry = %entry,
        method = %request.method(),
        status = response.status().as_u16(),
        "handled"
    );
    response
}

async fn setter(service: &Service, request: &Request, caller: &Caller) -> Response<Body> {
    if request.method() != Method::POST {
        return method_not_allowed("POST");
    }
    let mut created_by = format!("setter request={}", caller.request_id);
    if let Some(key) = &caller.api_key_id {
        created_by.push_str(&format!(" api_key={key}"));
    }
    match service.custodian.create(&created_by).await {
        Ok(record) => {
            tracing::info!(request_id = %caller.request_id, address = %record.address, "created account");
            success("successfully created account", json!({ "address": record.address.to_storage() }))
        }
        Err(e) => {
            tracing::error!(request_id = %caller.request_id, error = %e, "create failed");
            error_response(caller, &e)
        }
    }
}

async fn getter(service: &Service, request: &Request, caller: &Caller) -> Response<Body> {
    if request.method() != Method::GET {
        return method_not_allowed("GET");
    }
    let query = request.query_string_parameters_ref();
    let Some(raw) = query.and_then(|q| q.first("address")) else {
        return failure(
            StatusCode::BAD_REQUEST,
            "missing query parameter `address`: call GET ?address=0x followed by 40 hex digits",
        );
    };
    let address = match Address::parse(raw.trim()) {
        Ok(address) => address,
        Err(e) => return error_response(caller, &Error::InvalidAddress(e)),
    };
    let requester = Requester {
        action: "getter".into(),
        request_id: caller.request_id.clone(),
        api_key_id: caller.api_key_id.clone(),
        source_ip: caller.source_ip.clone(),
        actor: None,
    };
    match service.custodian.reveal(&address, &requester).await {
        Ok((record, key)) => {
            tracing::info!(request_id = %caller.request_id, address = %record.address, "revealed account");
            // `0x` hex for secp256k1; legacy rows keep their stored base64.
            let private_key = key.reveal_text();
            let scheme = record.scheme.as_str();
            success(
                "successfully retrieved account",
                json!({
                    "address": record.address.to_storage(),
                    "public_key": record.public_key,
                    "private_key": private_key.as_str(),
                    "scheme": scheme,
                }),
            )
        }
        Err(e) => {
            match &e {
                Error::NotFound { .. } => {}
                _ => {
                    tracing::error!(request_id = %caller.request_id, address = %address, error = %e, "reveal failed")
                }
            }
            error_response(caller, &e)
        }
    }
}
