//! OpenBao's HTTP API as the transit seal speaks it: JSON over HTTP/1 (or
//! HTTPS) with the token header, connect and request timeouts, and a few
//! quick retries when the server cannot answer.
//!
//! Bodies that may hold a plaintext (the encrypt request, the decrypt
//! answer) live only in buffers sized up front and zeroized on drop; the
//! copies inside hyper, rustls and the kernel are out of our reach, as is
//! the token's copy in each request's (sensitive-marked) header.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per call, the first included, when nothing answers or the
/// server answers 5xx or 429: enough to ride out a restart or a leader
/// change, few enough that a dead server is reported within seconds.
const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Far above any answer the seal reads (a key's description is under
/// 1 KiB); a buffer of this capacity never reallocates, so no unwiped
/// copy of a plaintext is left behind.
const MAX_BODY: usize = 64 * 1024;

type Body = Full<Cursor<Zeroizing<Vec<u8>>>>;

/// A client of one OpenBao server, holding its token.
pub(super) struct Api {
    base: String,
    token: Zeroizing<String>,
    client: Client<HttpsConnector<HttpConnector>, Body>,
}

/// What OpenBao answered.
pub(super) struct Reply {
    pub status: StatusCode,
    pub body: Zeroizing<Vec<u8>>,
}

impl Reply {
    /// OpenBao's `errors`, joined (its reasons, which hold no plaintext),
    /// or `None` when the answer is not OpenBao's: another server, or a
    /// proxy, at that address.
    pub fn errors(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Errors {
            errors: Vec<String>,
        }
        serde_json::from_slice::<Errors>(&self.body).ok().map(|e| e.errors.join("; "))
    }
}

impl Api {
    /// `url` is the server's address (`https://bao.example:8200`);
    /// requests go to `{url}/v1/...`.
    pub fn new(url: &str, token: Zeroizing<String>) -> Result<Self> {
        let bad_url = || {
            Error::Config(format!(
                "`transit_url` {url:?} is not the http:// or https:// address of an OpenBao server; write it as https://bao.example:8200"
            ))
        };
        let uri: Uri = url.parse().map_err(|_| bad_url())?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad_url()),
        };
        if uri.authority().is_none() || uri.query().is_some() {
            return Err(bad_url());
        }
        if token.is_empty() || HeaderValue::from_str(&token).is_err() {
            return Err(Error::Config(
                "the OpenBao token is empty or holds characters an HTTP header cannot carry; check BAO_TOKEN, VAULT_TOKEN, `transit_token_file` or `transit_token_secret`".into(),
            ));
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = if https {
            HttpsConnectorBuilder::new().with_provider_and_native_roots(provider).map_err(|e| {
                Error::Config(format!(
                    "no CA certificates could be loaded to check {url} ({e}); install the system's CA bundle or point SSL_CERT_FILE at one"
                ))
            })?
        } else {
            // Plain HTTP never uses it; it only completes the connector.
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| Error::Config(format!("TLS setup failed: {e}")))?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            HttpsConnectorBuilder::new().with_tls_config(config)
        };
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        http.enforce_http(false);
        let connector = tls.https_or_http().enable_http1().wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Api { base: url.trim_end_matches('/').to_owned(), token, client })
    }

    /// The server's address, as messages name it.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Sends one request to `/v1/{path}`, retrying briefly while nothing
    /// answers or the server answers 5xx (sealed, restarting) or 429. An
    /// answer that never comes is [`Error::Unavailable`], naming the URL;
    /// any other answer is the caller's to read.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Zeroizing<Vec<u8>>>,
        operation: &'static str,
    ) -> Result<Reply> {
        let uri: Uri = format!("{}/v1/{path}", self.base)
            .parse()
            .map_err(|_| Error::Config(format!("{path:?} does not make a valid OpenBao request path")))?;
        let mut cause = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(FIRST_BACKOFF * 3u32.pow(attempt - 1)).await;
            }
            let request = self.request(method.clone(), uri.clone(), body.clone())?;
            match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(request)).await {
                Err(_) => {
                    cause = format!("no answer from {} within {} s", self.base, REQUEST_TIMEOUT.as_secs());
                }
                Ok(Err(e)) => cause = e,
                Ok(Ok(reply))
                    if reply.status.is_server_error() || reply.status == StatusCode::TOO_MANY_REQUESTS =>
                {
                    let errors = reply.errors().unwrap_or_default();
                    let sealed =
                        if reply.status == StatusCode::SERVICE_UNAVAILABLE { " (sealed?)" } else { "" };
                    cause = format!("{} answered HTTP {}{sealed} {errors}", self.base, reply.status.as_u16());
                }
                Ok(Ok(reply)) => return Ok(reply),
            }
            tracing::debug!(operation, attempt, %cause, "OpenBao did not answer");
        }
        Err(Error::Unavailable { service: "OpenBao", operation, cause })
    }

    fn request(&self, method: Method, uri: Uri, body: Option<Zeroizing<Vec<u8>>>) -> Result<Request<Body>> {
        let mut token = HeaderValue::from_str(&self.token)
            .map_err(|_| Error::Config("the OpenBao token cannot be sent in an HTTP header".into()))?;
        token.set_sensitive(true);
        Request::builder()
            .method(method)
            .uri(uri)
            .header("X-Vault-Token", token)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Cursor::new(body.unwrap_or_default())))
            .map_err(|e| Error::Config(format!("could not build an OpenBao request: {e}")))
    }

    /// One request and its whole answer; `Err` holds why nothing usable
    /// came back, naming the URL (the error chain goes to the debug log).
    async fn exchange(&self, request: Request<Body>) -> std::result::Result<Reply, String> {
        let unreachable = |e: &(dyn std::error::Error + 'static)| {
            tracing::debug!(error = %chain(e), url = %self.base, "OpenBao request failed");
            format!("no answer from {}: {}", self.base, innermost(e))
        };
        let response = self.client.request(request).await.map_err(|e| unreachable(&e))?;
        let status = response.status();
        let mut body = Zeroizing::new(Vec::with_capacity(MAX_BODY));
        let mut incoming = response.into_body();
        while let Some(frame) = incoming.frame().await {
            let frame = frame.map_err(|e| unreachable(&e))?;
            let Ok(data) = frame.into_data() else { continue };
            let fits = body.len() + data.len() <= MAX_BODY;
            if fits {
                body.extend_from_slice(&data);
            }
            wipe(data);
            if !fits {
                return Err(format!(
                    "{} answered more than {} KiB, far more than OpenBao sends",
                    self.base,
                    MAX_BODY / 1024
                ));
            }
        }
        Ok(Reply { status, body })
    }
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("url", &self.base).finish_non_exhaustive()
    }
}

/// Zeroes a received chunk when nothing else shares its buffer (hyper may
/// still hold the rest of its read buffer).
fn wipe(data: Bytes) {
    if let Ok(mut data) = data.try_into_mut() {
        data.fill(0);
    }
}

fn innermost<'a>(e: &'a (dyn std::error::Error + 'static)) -> &'a (dyn std::error::Error + 'static) {
    let mut e = e;
    while let Some(source) = e.source() {
        e = source;
    }
    e
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut e = e;
    while let Some(source) = e.source() {
        text.push_str(": ");
        text.push_str(&source.to_string());
        e = source;
    }
    text
}
