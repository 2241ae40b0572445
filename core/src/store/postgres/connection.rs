//! Reaching PostgreSQL: the URL (its password stays inside the pool's
//! configuration), TLS over rustls, the pool, and what a failure means.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime, TimeoutType,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::error::SqlState;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, Result};

pub(super) const SERVICE: &str = "PostgreSQL";
/// A dead or unreachable server answers within this, per connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Per statement, and per wait for a free pooled connection. Kept on the
/// client's side: a startup `statement_timeout` option is refused by
/// poolers such as PgBouncer.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(15);
const POOL_SIZE: usize = 16;

/// How the connection is protected, from the URL's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
    /// `sslmode=disable`, or no `sslmode` with every host on loopback.
    Plain,
    /// `sslmode=prefer` or `allow`: TLS when the server offers it.
    Prefer,
    /// `require`, `verify-ca`, `verify-full`, or no `sslmode` with a host
    /// off this machine: TLS, and the certificate is always verified.
    Tls,
}

/// A pool of connections to one database, and how to name it in messages.
#[derive(Clone)]
pub(super) struct Connection {
    pool: Pool,
    /// `host:port` (several joined by commas); never the password.
    pub endpoint: String,
    pub database: String,
    pub user: String,
    pub transport: Transport,
    /// Every host is a loopback address or a Unix socket.
    pub loopback: bool,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("location", &self.location())
            .field("user", &self.user)
            .field("transport", &self.transport)
            .finish()
    }
}

impl Connection {
    /// Parses `url` and builds the pool; nothing is contacted yet.
    pub fn open(url: &str) -> Result<Self> {
        let invalid = |why: &str| invalid_url(url, why);
        let (mut config, ssl_mode, root_cert) = parse_url(url)?;
        let user = config.get_user().ok_or_else(|| invalid("it names no user"))?.to_owned();
        if config.get_hosts().is_empty() {
            return Err(invalid("it names no host"));
        }
        let database = config.get_dbname().unwrap_or(&user).to_owned();
        let endpoint = endpoint(&config);
        let loopback = config.get_hosts().iter().all(is_loopback);
        let transport = match ssl_mode.as_deref() {
            Some("disable") => Transport::Plain,
            Some("allow" | "prefer") => Transport::Prefer,
            Some("require" | "verify-ca" | "verify-full") => Transport::Tls,
            None if loopback => Transport::Plain,
            None => Transport::Tls,
            Some(other) => {
                return Err(invalid(&format!(
                    "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
                )));
            }
        };
        config.ssl_mode(match transport {
            Transport::Plain => SslMode::Disable,
            Transport::Prefer => SslMode::Prefer,
            Transport::Tls => SslMode::Require,
        });
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("rossignol");
        }
        let tls = MakeRustlsConnect::new(tls_config(transport, root_cert.as_deref())?);
        // Verified recycling runs a query before a pooled connection is
        // reused, so one a restarted server dropped is replaced, never used.
        let manager =
            Manager::from_config(config, tls, ManagerConfig { recycling_method: RecyclingMethod::Verified });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(STATEMENT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| Error::Config(format!("could not set up the PostgreSQL pool: {e}")))?;
        Ok(Connection { pool, endpoint, database, user, transport, loopback })
    }

    /// `host:port/database`, for reports and messages.
    pub fn location(&self) -> String {
        format!("{}/{}", self.endpoint, self.database)
    }

    /// A pooled connection, checked alive, or a new one.
    pub async fn client(&self, operation: &'static str) -> Result<Object> {
        self.pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) => self.error(operation, "", e),
            PoolError::Timeout(TimeoutType::Wait) => self.unavailable(
                operation,
                format!("every pooled connection stayed busy for {} s", STATEMENT_TIMEOUT.as_secs()),
            ),
            PoolError::Timeout(_) => {
                self.unavailable(operation, format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))
            }
            other => Error::Service { service: SERVICE, operation, message: other.to_string() },
        })
    }

    /// Runs `work` with the statement timeout; `table` names the table a
    /// missing-relation error is about.
    pub async fn timed<T>(
        &self,
        operation: &'static str,
        table: &str,
        work: impl Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        match tokio::time::timeout(STATEMENT_TIMEOUT, work).await {
            Ok(result) => result.map_err(|e| self.error(operation, table, e)),
            Err(_) => {
                Err(self
                    .unavailable(operation, format!("no answer within {} s", STATEMENT_TIMEOUT.as_secs())))
            }
        }
    }

    pub fn unavailable(&self, operation: &'static str, cause: String) -> Error {
        Error::ServerUnavailable { service: SERVICE, endpoint: self.endpoint.clone(), operation, cause }
    }

    /// What a failed call means for the caller. The whole chain goes to the
    /// debug log; the message keeps to one sentence of what to do.
    pub fn error(&self, operation: &'static str, table: &str, e: tokio_postgres::Error) -> Error {
        tracing::debug!(operation, endpoint = %self.endpoint, error = %chain(&e), "PostgreSQL call failed");
        if let Some(db) = e.as_db_error() {
            let code = db.code();
            let class = code.code().get(..2).unwrap_or_default();
            return if *code == SqlState::UNDEFINED_TABLE {
                Error::TableMissing { table: table.to_owned() }
            } else if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            {
                Error::LoginRefused {
                    service: SERVICE,
                    endpoint: self.endpoint.clone(),
                    user: self.user.clone(),
                    reason: db.message().to_owned(),
                }
            } else if *code == SqlState::INVALID_CATALOG_NAME {
                Error::DatabaseMissing { endpoint: self.endpoint.clone(), database: self.database.clone() }
            } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
                Error::Service {
                    service: SERVICE,
                    operation,
                    message: format!(
                        "{}; grant user {} what it lacks (for `rossignol init`, CREATE on the schema) or use a user that has it",
                        db.message(),
                        self.user
                    ),
                }
            } else if matches!(class, "08" | "53" | "57" | "40") {
                // Connection exceptions, lack of resources, shutdown or
                // start-up, serialization failures: later may work.
                self.unavailable(operation, db.message().to_owned())
            } else {
                Error::Service {
                    service: SERVICE,
                    operation,
                    message: format!("{} ({})", db.message(), code.code()),
                }
            };
        }
        let text = e.to_string();
        if text.starts_with("error performing TLS handshake") {
            let cause = root_cause(&e);
            let advice = if cause.contains("does not support TLS") {
                "turn on ssl in the server's configuration"
            } else {
                "name the server's CA certificate with sslrootcert=PATH in the URL"
            };
            return Error::Service {
                service: SERVICE,
                operation,
                message: format!(
                    "TLS with {} failed ({cause}); {advice}, or use sslmode=disable only for a server on this machine",
                    self.endpoint
                ),
            };
        }
        let unreachable = e.is_closed()
            || ["error connecting", "error communicating", "timeout waiting", "unexpected message"]
                .iter()
                .any(|prefix| text.starts_with(prefix));
        if unreachable {
            self.unavailable(operation, root_cause(&e))
        } else {
            Error::Service { service: SERVICE, operation, message: chain(&e) }
        }
    }
}

fn invalid_url(url: &str, why: &str) -> Error {
    Error::Config(format!(
        "the PostgreSQL URL {} is not valid: {why}; write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE",
        redact_url(url)
    ))
}

/// The client configuration, and the two libpq parameters tokio-postgres
/// does not know: `sslmode` beyond `require`, and `sslrootcert`.
fn parse_url(url: &str) -> Result<(tokio_postgres::Config, Option<String>, Option<String>)> {
    let rest = ["postgres://", "postgresql://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme))
        .ok_or_else(|| invalid_url(url, "it does not start with postgres://"))?;
    // tokio-postgres splits the user part at the first `@`: a second one
    // would move part of the password into the host name.
    if rest.matches('@').count() > 1 {
        return Err(invalid_url(
            url,
            "it has more than one `@`; percent-encode an `@` in the password as %40",
        ));
    }
    // The parameters start at the first `?` after the user part.
    let host_start = rest.find('@').map_or(0, |at| at + 1);
    let (base, query) = match rest[host_start..].find('?') {
        Some(q) => (&rest[..host_start + q], &rest[host_start + q + 1..]),
        None => (rest, ""),
    };
    let (mut ssl_mode, mut root_cert, mut kept) = (None, None, Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned();
        match key {
            "sslmode" => ssl_mode = Some(decoded),
            "sslrootcert" => root_cert = Some(decoded),
            _ => kept.push(pair),
        }
    }
    let plain_url = if kept.is_empty() {
        format!("postgres://{base}")
    } else {
        format!("postgres://{base}?{}", kept.join("&"))
    };
    let config = plain_url.parse().map_err(|e| invalid_url(url, &chain(&e)))?;
    Ok((config, ssl_mode, root_cert))
}

/// `url` with any password replaced by `***`, for messages about a URL
/// that may not even parse. Everything up to the last `@` counts as the
/// user part, so an unencoded `@` in a password hides more, never less.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a postgres:// URL)".into();
    };
    let (user_part, host_part) = match rest.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, rest),
    };
    let user = user_part.map(|u| match u.split_once(':') {
        Some((name, _)) => format!("{name}:***@"),
        None => format!("{u}@"),
    });
    let host_part = match host_part.split_once('?') {
        Some((before, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| {
                    let key = pair.split_once('=').map_or(pair, |(k, _)| k);
                    if percent_encoding::percent_decode_str(key).decode_utf8_lossy() == "password" {
                        format!("{key}=***")
                    } else {
                        pair.to_owned()
                    }
                })
                .collect();
            format!("{before}?{}", pairs.join("&"))
        }
        None => host_part.to_owned(),
    };
    format!("{scheme}://{}{host_part}", user.unwrap_or_default())
}

fn endpoint(config: &tokio_postgres::Config) -> String {
    let ports = config.get_ports();
    let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| match host {
            Host::Tcp(name) if name.contains(':') => format!("[{name}]:{}", port(i)),
            Host::Tcp(name) => format!("{name}:{}", port(i)),
            Host::Unix(path) => format!("{}:{}", path.display(), port(i)),
        })
        .collect();
    hosts.join(",")
}

fn is_loopback(host: &Host) -> bool {
    match host {
        Host::Tcp(name) => name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()),
        Host::Unix(_) => true,
    }
}

/// rustls on the aws-lc-rs provider the AWS SDK already uses. Plain
/// connections never use it, so they need no certificates.
fn tls_config(transport: Transport, root_cert: Option<&str>) -> Result<rustls::ClientConfig> {
    let tls_error = |why: String| Error::Config(format!("PostgreSQL TLS: {why}"));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    match (transport, root_cert) {
        (Transport::Plain, _) => {}
        (_, Some(path)) if path != "system" => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| {
                    tls_error(format!(
                        "could not read sslrootcert={path} ({e}); point it at a PEM file of CA certificates"
                    ))
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(tls_error(format!("sslrootcert={path} holds no usable CA certificate")));
            }
        }
        _ => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() && transport == Transport::Tls {
                return Err(tls_error(
                    "this system has no CA certificates; name the server's CA with sslrootcert=PATH in the URL".into(),
                ));
            }
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// The innermost cause: "Connection refused (os error 111)".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut current = e;
    while let Some(next) = current.source() {
        let text = next.to_string();
        if !out.contains(&text) {
            out = format!("{out}: {text}");
        }
        current = next;
    }
    out
}
