//! The setter, getter and signer: thin over `rossignol-core`'s [`Custodian`], with
//! the original API's response shape `{success, message, data}`. Handlers
//! make no SDK calls of their own and log no payloads.

use std::fmt;
use std::sync::Arc;

use lambda_http::http::{Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt as _, Response};
use rossignol_core::access::{AccessTrail, Identity};
use rossignol_core::rpc::{self, Endpoint};
use rossignol_core::seal::KmsSealer;
use rossignol_core::sign::{MAX_BODY_BYTES, SignRequest};
use rossignol_core::store::dynamo::{DynamoStore, DynamoTrail};
use rossignol_core::{Address, Custodian, Error, Requester};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::settings::{ApiKeyCheck, Backend, CONFIG, Entry, Settings, StartupError};

/// What the handlers share across invocations: built once per cold start.
pub struct Service {
    custodian: Custodian,
    api_key: ApiKeyCheck,
    getter_enabled: bool,
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("custodian", &self.custodian)
            .field("api_key", &self.api_key)
            .field("getter_enabled", &self.getter_enabled)
            .finish()
    }
}

impl Service {
    pub fn new(custodian: Custodian, api_key: ApiKeyCheck) -> Self {
        Service { custodian, api_key, getter_enabled: true }
    }

    /// The custodian the handlers use: for `rossignol init`-like set-up
    /// and checks beside the handlers.
    pub fn custodian(&self) -> &Custodian {
        &self.custodian
    }

    /// `false` makes the getter answer 403 and point to the signer.
    pub fn with_getter_enabled(mut self, enabled: bool) -> Self {
        self.getter_enabled = enabled;
        self
    }

    /// Builds the custodian once per cold start. For [`Backend::Dynamo`],
    /// the AWS clients from the Lambda's environment (region, credentials,
    /// and `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_KMS` for local
    /// runs); for [`Backend::Configured`], the environment's providers as
    /// the console connects them, reading any secrets they name. No store
    /// or seal is contacted yet.
    pub async fn from_settings(settings: &Settings) -> Result<Self, StartupError> {
        let custodian = match &settings.backend {
            Backend::Dynamo { table, kms_key_id, access_table } => {
                let sdk = rossignol_core::aws::load(&Default::default()).await;
                let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
                let store = DynamoStore::new(dynamodb.clone(), table);
                let trail: Arc<dyn AccessTrail> = Arc::new(DynamoTrail::new(dynamodb, access_table));
                let sealer = KmsSealer::new(aws_sdk_kms::Client::new(&sdk), kms_key_id);
                Custodian::new(Arc::new(store), Arc::new(sealer), trail)
            }
            Backend::Configured(env) => env.connect().await.map_err(|e| {
                StartupError(format!(
                    "{CONFIG}: environment `{}` could not be set up: {}",
                    env.name,
                    crate::configured::reason(&e)
                ))
            })?,
        };
        // ROSSIGNOL_POLICY, when set; else the environment's own (none for
        // a single table).
        let custodian = match &settings.policies {
            Some(policies) => custodian.with_policies(policies.clone()),
            None => custodian,
        };
        Ok(Service::new(custodian, settings.api_key).with_getter_enabled(settings.getter_enabled))
    }
}

/// Who called, as API Gateway and the Lambda runtime tell it. Only
/// `identity` is this function's own finding; the rest is the event's word.
#[derive(Debug, Clone)]
struct Caller {
    request_id: String,
    api_key_id: Option<String>,
    source_ip: Option<String>,
    identity: Identity,
}

impl Caller {
    /// Who is using a key, for the access trail.
    fn requester(&self, entry: Entry) -> Requester {
        Requester {
            action: entry.as_str().into(),
            request_id: self.request_id.clone(),
            api_key_id: self.api_key_id.clone(),
            source_ip: self.source_ip.clone(),
            actor: None,
            identity: self.identity,
        }
    }

    fn of(request: &Request, identity: Identity) -> Self {
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
        Caller { request_id, api_key_id: api_key_id.filter(|k| !k.is_empty()), source_ip, identity }
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
        Error::InvalidAddress(_) | Error::InvalidRequest(_) => {
            failure(StatusCode::BAD_REQUEST, error.to_string())
        }
        Error::Refused(_) => failure(StatusCode::FORBIDDEN, error.to_string()),
        Error::NotFound { address, .. } => {
            failure(StatusCode::NOT_FOUND, format!("no account with address {address}"))
        }
        Error::Disabled { address, since } => failure(
            StatusCode::GONE,
            format!("account {address} is disabled (since {since}); nothing was revealed or signed"),
        ),
        Error::AccessTrail { .. } => retry_later(format!(
            "the access trail is unavailable, so no key was revealed or used; try again in a moment (request id {})",
            caller.request_id
        )),
        // A dependency that is down, throttling or unreachable: retryable.
        e => match e.outage() {
            Some(dependency) => retry_later(format!(
                "{dependency} is unavailable right now, so nothing was handed out; try again in a moment (request id {})",
                caller.request_id
            )),
            None => failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("internal error (request id {})", caller.request_id),
            ),
        },
    }
}

/// A 503 that tells the client to retry, and when.
fn retry_later(message: String) -> Response<Body> {
    let mut response = failure(StatusCode::SERVICE_UNAVAILABLE, message);
    response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

fn method_not_allowed(allowed: &'static str) -> Response<Body> {
    let mut response =
        failure(StatusCode::METHOD_NOT_ALLOWED, format!("method not allowed: this endpoint takes {allowed}"));
    response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static(allowed));
    response
}

/// Checks `X-Api-Key` against the configured hash (constant-time): the
/// caller's identity is verified, claimed (the check is off), or refused
/// (`None`).
fn api_key_identity(service: &Service, request: &Request) -> Option<Identity> {
    let ApiKeyCheck::Sha256(expected) = &service.api_key else { return Some(Identity::Claimed) };
    let given = request.headers().get("x-api-key")?;
    let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
    bool::from(digest.ct_eq(expected)).then_some(Identity::Verified)
}

/// Handles one invocation of `entry`. Never fails: every outcome is an
/// HTTP answer.
pub async fn handle(entry: Entry, service: &Service, request: Request) -> Response<Body> {
    let identity = api_key_identity(service, &request);
    let caller = Caller::of(&request, identity.unwrap_or(Identity::Claimed));
    let response = if identity.is_none() {
        failure(StatusCode::FORBIDDEN, "forbidden: a valid X-Api-Key header is required")
    } else {
        match entry {
            Entry::Setter => setter(service, &request, &caller).await,
            Entry::Getter => getter(service, &request, &caller).await,
            Entry::Signer => signer(service, &request, &caller).await,
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
    match service.custodian.create_through_key(&created_by, caller.api_key_id.as_deref()).await {
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
    if !service.getter_enabled {
        return failure(
            StatusCode::FORBIDDEN,
            "the getter is turned off in this environment: keys are not handed out. Use the signer instead: POST {\"address\", \"message\" | \"transaction\"} and get back a signature",
        );
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
    match service.custodian.reveal(&address, &caller.requester(Entry::Getter)).await {
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
            log_failure(caller, &address, &e, "reveal failed");
            error_response(caller, &e)
        }
    }
}

/// Logs a failed key use; what callers asked wrongly is only counted.
fn log_failure(caller: &Caller, address: &Address, error: &Error, what: &str) {
    match error {
        Error::NotFound { .. } | Error::Disabled { .. } | Error::InvalidRequest(_) | Error::Refused(_) => {
            tracing::info!(request_id = %caller.request_id, address = %address, refused = %error_kind(error), "{what}")
        }
        _ => tracing::error!(request_id = %caller.request_id, address = %address, error = %error, "{what}"),
    }
}

fn error_kind(error: &Error) -> &'static str {
    match error {
        Error::NotFound { .. } => "not_found",
        Error::Disabled { .. } => "disabled",
        Error::Refused(refusal) => refusal.rule,
        _ => "invalid_request",
    }
}

async fn signer(service: &Service, request: &Request, caller: &Caller) -> Response<Body> {
    if request.method() != Method::POST {
        return method_not_allowed("POST");
    }
    let body: &[u8] = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is {} bytes; the signer takes at most {MAX_BODY_BYTES}", body.len()),
        );
    }
    match Endpoint::from_path(request.raw_http_path()) {
        Some(Ok(endpoint)) => return json_rpc(service, caller, &endpoint, body).await,
        Some(Err(reason)) => return failure(StatusCode::NOT_FOUND, reason),
        None => {}
    }
    let parsed = match SignRequest::parse(body) {
        Ok(parsed) => parsed,
        Err(e) => return error_response(caller, &Error::InvalidRequest(e)),
    };
    let kind = parsed.payload.kind();
    match service.custodian.sign(&parsed.address, &parsed.payload, &caller.requester(Entry::Signer)).await {
        Ok((record, signed)) => {
            tracing::info!(request_id = %caller.request_id, address = %record.address, kind = %kind, "signed");
            let mut data = signed.to_json();
            if let Some(fields) = data.as_object_mut() {
                fields.insert("address".into(), record.address.to_storage().into());
                fields.insert("scheme".into(), record.scheme.as_str().into());
            }
            success(&format!("successfully signed {kind}"), data)
        }
        Err(e) => {
            log_failure(caller, &parsed.address, &e, "signing failed");
            error_response(caller, &e)
        }
    }
}

/// The JSON-RPC surface (`/rpc…`): every answer is JSON-RPC, on HTTP 200.
async fn json_rpc(service: &Service, caller: &Caller, endpoint: &Endpoint, body: &[u8]) -> Response<Body> {
    let requester = caller.requester(Entry::Signer);
    match rpc::handle(&service.custodian, endpoint, &requester, body).await {
        Some(answer) => {
            let mut response = Response::new(Body::Text(answer));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
            response
        }
        None => {
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
    }
}
