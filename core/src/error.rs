//! The one error type of `rossignol-core`.
//!
//! Every message says what happened and, where there is something to do,
//! what to do. No variant ever carries key material: integrity and sealing
//! failures name the address and the reason, never bytes.

use crate::account::AddressError;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid address: {0}")]
    InvalidAddress(#[from] AddressError),

    #[error("no account with address {address} in table {table}")]
    NotFound { address: String, table: String },

    #[error("an account with address {address} already exists in table {table}; nothing was overwritten")]
    AlreadyExists { address: String, table: String },

    #[error(
        "account {address} in table {table} changed or was removed since it was read; nothing was written. Read it again and retry"
    )]
    Changed { address: String, table: String },

    #[error(
        "account {address} is disabled (since {since}); nothing was revealed or signed. An operator can run `rossignol enable {address}` to use it again"
    )]
    Disabled { address: String, since: String },

    #[error("invalid request: {0}")]
    InvalidRequest(#[from] crate::sign::InvalidField),

    /// The signing policy refused; the refusal is in the access trail and
    /// nothing was opened.
    #[error("{0}; nothing was signed")]
    Refused(#[from] crate::policy::Refusal),

    #[error(transparent)]
    Keystore(#[from] crate::keystore::KeystoreError),

    #[error("integrity failure for account {address}: {reason}")]
    Integrity { address: String, reason: String },

    #[error("could not open the sealed key of account {address}: {reason}")]
    Unseal { address: String, reason: String },

    #[error("the access trail {trail} could not record this reveal, so nothing was revealed: {reason}")]
    AccessTrail { trail: String, reason: String },

    #[error(
        "the caller's AWS identity could not be resolved (STS GetCallerIdentity), so no key was used: {reason}; check the environment's credentials and `sts_endpoint_url`"
    )]
    Identity { reason: String },

    #[error(
        "moving keys from {from} to {to} is a downgrade to a weaker kind of seal (a local key file instead of KMS or OpenBao transit); nothing was moved. Pass --allow-downgrade if that is really meant"
    )]
    SealDowngrade { from: String, to: String },

    #[error("could not seal a key: {0}")]
    Seal(String),

    #[error("table {table} does not exist; run `rossignol init` for this environment to create it")]
    TableMissing { table: String },

    #[error(
        "no AWS credentials were found ({detail}); set a `profile` for this environment or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )]
    NoCredentials { detail: String },

    #[error(
        "{service} kept throttling {operation} after retries with backoff; wait a moment and try again, or raise the table's capacity"
    )]
    Throttled { service: &'static str, operation: &'static str },

    #[error(
        "{service} is unavailable: {operation} failed after retries ({cause}); check its endpoint, the region and the network, then try again"
    )]
    Unavailable { service: &'static str, operation: &'static str, cause: String },

    /// Too few providers of a sharded environment answered for the
    /// operation: retryable.
    #[error(
        "only {got} of the {needed} providers needed could {operation} ({failures}); nothing was handed out. Try again when they are back"
    )]
    Quorum { operation: &'static str, needed: usize, got: usize, failures: String },

    /// A write that every provider of a sharded environment must take
    /// failed at one; `outcome` says what was left.
    #[error("provider {provider} could not {operation} ({reason}); {outcome}")]
    Provider { provider: String, operation: &'static str, reason: String, outcome: String, transient: bool },

    /// A server reached by address (PostgreSQL) refused the connection,
    /// dropped it or did not answer in time. Retryable, like `Unavailable`.
    #[error(
        "{service} at {endpoint} is unavailable: {operation} failed ({cause}); check that the server is running and reachable, then try again"
    )]
    ServerUnavailable { service: &'static str, endpoint: String, operation: &'static str, cause: String },

    #[error(
        "{service} at {endpoint} refused the login of user {user} ({reason}); check the user and password in the environment's URL"
    )]
    LoginRefused { service: &'static str, endpoint: String, user: String, reason: String },

    #[error(
        "database {database} does not exist on the PostgreSQL server at {endpoint}; create it there (`createdb {database}`) or correct the database in the URL"
    )]
    DatabaseMissing { endpoint: String, database: String },

    #[error("{service} {operation} failed: {message}")]
    Service { service: &'static str, operation: &'static str, message: String },

    #[error("record {address} is malformed: {reason}")]
    MalformedRecord { address: String, reason: String },

    #[error("the embedded store at {path} failed: {message}")]
    Embedded { path: String, message: String },

    #[error("configuration error: {0}")]
    Config(String),

    #[error(
        "environment {env} is read-only; {action} is refused. Use a writable environment or set `read_only = false` for it"
    )]
    ReadOnly { env: String, action: &'static str },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// True when the error comes from what the caller asked for (bad input or
    /// configuration), as opposed to an operation that failed.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::InvalidAddress(_)
                | Error::InvalidRequest(_)
                | Error::Config(_)
                | Error::ReadOnly { .. }
                | Error::SealDowngrade { .. }
        )
    }

    /// True when trying again later may succeed: throttling, an access
    /// trail or a service that is unavailable.
    pub fn is_transient(&self) -> bool {
        self.outage().is_some()
    }

    /// The dependency whose outage this is, when trying again later may
    /// succeed: `"KMS"`, `"DynamoDB"`, `"the access trail rossignol_access"`.
    pub fn outage(&self) -> Option<String> {
        match self {
            Error::Throttled { service, .. }
            | Error::Unavailable { service, .. }
            | Error::ServerUnavailable { service, .. } => Some((*service).to_owned()),
            Error::AccessTrail { trail, .. } => Some(format!("the access trail {trail}")),
            Error::Quorum { .. } => Some("a quorum of providers".to_owned()),
            Error::Provider { provider, transient: true, .. } => Some(format!("provider {provider}")),
            _ => None,
        }
    }

    /// The reason part of an error about one record, for reports that
    /// already name the record (audit findings, migration failures).
    pub fn record_reason(&self) -> String {
        match self {
            Error::Integrity { reason, .. } | Error::Unseal { reason, .. } => reason.clone(),
            Error::MalformedRecord { reason, .. } => format!("malformed: {reason}"),
            other => other.to_string(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}
