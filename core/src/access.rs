//! The access trail: an append-only record of every time a key was
//! revealed. Reveals write it first and fail closed: no record, no key.
//!
//! On DynamoDB it is a table of its own (`<table>_access` by default) with
//! partition key `address` and sort key `accessed` = RFC 3339 time `#`
//! request id, so an account's trail reads back newest first with one
//! query. The embedded store keeps it in its own file.
//!
//! Bulk operations that open every key (migrate, reseal, a deep audit)
//! also write one [`RunRecord`] before they start, under the reserved
//! partition [`RUNS`], which no address can take (addresses are `0x` hex).

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::account::Address;
use crate::error::{Error, Result};
use crate::store::item::{Attr, Item};

pub const ACCESSED: &str = "accessed";
/// The trail's partition of run-level entries.
pub const RUNS: &str = "#runs";

/// One reveal, signature or export of one account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessRecord {
    pub address: Address,
    pub at: DateTime<Utc>,
    /// What happened: `getter`, `signer`, `cli-reveal`, `console-sign`, ...
    pub action: String,
    pub request_id: String,
    /// The API Gateway key id, when the call came through one.
    pub api_key_id: Option<String>,
    pub source_ip: Option<String>,
    /// Who, when known otherwise (an operator's login, a tool). A hint:
    /// `$USER` is whatever the process was given.
    pub actor: Option<String>,
    /// The caller's AWS identity (STS GetCallerIdentity ARN) in an AWS
    /// environment: proven, as AWS authenticated the credentials.
    pub aws_identity: Option<String>,
    /// For signatures: `0x` + keccak-256 of the bytes signed, never the
    /// payload itself.
    pub digest: Option<String>,
    /// Whether Rossignol checked the caller's credential itself, or only
    /// wrote down what the call said (`api_key_id`, `source_ip`, `actor`).
    pub identity: Identity,
    /// For a reseal: the seal the key was moved under.
    pub target_seal: Option<String>,
    /// Set when the signing policy refused the request: the rule's name.
    /// Nothing was opened or signed.
    pub refused: Option<String>,
    /// A sharded key use: the providers that gave no share, or a share
    /// that did not open or verify, and why (`pg: timed out; ...`). The
    /// key was opened from the others.
    pub providers_failed: Option<String>,
}

/// How much an access record's identity fields are worth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Identity {
    /// Rossignol verified the caller's credential (the Lambda: `X-Api-Key`
    /// against `ROSSIGNOL_API_KEY_SHA256`) before using the key.
    Verified,
    /// Recorded as given: nothing in Rossignol checked who called. Records
    /// written before this field existed read as claimed too.
    #[default]
    Claimed,
}

impl Identity {
    pub fn as_str(self) -> &'static str {
        match self {
            Identity::Verified => "verified",
            Identity::Claimed => "claimed",
        }
    }

    /// Only the exact word `verified` counts; anything else is a claim.
    fn from_stored(value: Option<&str>) -> Self {
        if value == Some("verified") { Identity::Verified } else { Identity::Claimed }
    }
}

impl AccessRecord {
    /// The sort key: time first, so a trail sorts chronologically; the
    /// request id makes it unique.
    pub fn sort_key(&self) -> String {
        format!("{}#{}", self.at.to_rfc3339_opts(SecondsFormat::Micros, true), self.request_id)
    }

    pub fn to_item(&self) -> Item {
        let mut item = Item::default();
        item.insert("address", Attr::S(self.address.to_storage()));
        item.insert(ACCESSED, Attr::S(self.sort_key()));
        item.insert("action", Attr::S(self.action.clone()));
        item.insert("request_id", Attr::S(self.request_id.clone()));
        item.insert("identity", Attr::S(self.identity.as_str().to_owned()));
        for (name, value) in [
            ("api_key_id", &self.api_key_id),
            ("source_ip", &self.source_ip),
            ("actor", &self.actor),
            ("aws_identity", &self.aws_identity),
            ("digest", &self.digest),
            ("target_seal", &self.target_seal),
            ("refused", &self.refused),
            ("providers_failed", &self.providers_failed),
        ] {
            if let Some(value) = value {
                item.insert(name, Attr::S(value.clone()));
            }
        }
        item
    }

    pub fn from_item(item: &Item) -> Result<Self> {
        let raw = item.address().unwrap_or("<missing>").to_owned();
        let malformed = |reason: &str| Error::MalformedRecord { address: raw.clone(), reason: reason.into() };
        let text = |name: &str| item.get(name).and_then(Attr::as_s).map(str::to_owned);
        let address =
            Address::parse(&raw).map_err(|_| malformed("an access record with an invalid address"))?;
        let accessed = text(ACCESSED).ok_or_else(|| malformed("an access record without `accessed`"))?;
        let at = accessed
            .split('#')
            .next()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| malformed("an access record whose `accessed` is not a time"))?
            .with_timezone(&Utc);
        Ok(AccessRecord {
            address,
            at,
            action: text("action").unwrap_or_default(),
            request_id: text("request_id").unwrap_or_default(),
            api_key_id: text("api_key_id"),
            source_ip: text("source_ip"),
            actor: text("actor"),
            aws_identity: text("aws_identity"),
            digest: text("digest"),
            identity: Identity::from_stored(text("identity").as_deref()),
            target_seal: text("target_seal"),
            refused: text("refused"),
            providers_failed: text("providers_failed"),
        })
    }
}

/// One run of a bulk operation that opens keys: who started it, when, on
/// which table, and under which seal the keys end up. Written before the
/// run opens any key; the run does not start without it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunRecord {
    pub at: DateTime<Utc>,
    /// Also the `request_id` of the run's per-key entries.
    pub run_id: String,
    /// `migrate`, `reseal` or `audit-deep`.
    pub operation: String,
    /// What started it: `cli-reseal`, `console-migrate`, ...
    pub action: String,
    pub table: String,
    /// The seal keys are moved under (none for an audit).
    pub target_seal: Option<String>,
    pub dry_run: bool,
    pub actor: Option<String>,
    pub aws_identity: Option<String>,
}

impl RunRecord {
    pub fn sort_key(&self) -> String {
        format!("{}#{}", self.at.to_rfc3339_opts(SecondsFormat::Micros, true), self.run_id)
    }

    pub fn to_item(&self) -> Item {
        let mut item = Item::default();
        item.insert("address", Attr::S(RUNS.to_owned()));
        item.insert(ACCESSED, Attr::S(self.sort_key()));
        item.insert("operation", Attr::S(self.operation.clone()));
        item.insert("action", Attr::S(self.action.clone()));
        item.insert("request_id", Attr::S(self.run_id.clone()));
        item.insert("table", Attr::S(self.table.clone()));
        item.insert("dry_run", Attr::Bool(self.dry_run));
        for (name, value) in
            [("target_seal", &self.target_seal), ("actor", &self.actor), ("aws_identity", &self.aws_identity)]
        {
            if let Some(value) = value {
                item.insert(name, Attr::S(value.clone()));
            }
        }
        item
    }

    pub fn from_item(item: &Item) -> Result<Self> {
        let malformed = |reason: &str| Error::MalformedRecord { address: RUNS.into(), reason: reason.into() };
        let text = |name: &str| item.get(name).and_then(Attr::as_s).map(str::to_owned);
        if item.address() != Some(RUNS) {
            return Err(malformed("a run entry outside the runs partition"));
        }
        let at = text(ACCESSED)
            .as_deref()
            .and_then(|accessed| accessed.split('#').next())
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| malformed("a run entry whose `accessed` is not a time"))?
            .with_timezone(&Utc);
        Ok(RunRecord {
            at,
            run_id: text("request_id").unwrap_or_default(),
            operation: text("operation").unwrap_or_default(),
            action: text("action").unwrap_or_default(),
            table: text("table").unwrap_or_default(),
            target_seal: text("target_seal"),
            dry_run: matches!(item.get("dry_run"), Some(Attr::Bool(true))),
            actor: text("actor"),
            aws_identity: text("aws_identity"),
        })
    }
}

/// Where access records go.
#[async_trait]
pub trait AccessTrail: Send + Sync + fmt::Debug {
    /// Where the trail is kept, for messages.
    fn name(&self) -> &str;

    /// Appends one record. Never overwrites an existing one.
    async fn append(&self, record: &AccessRecord) -> Result<()>;

    /// The account's latest records, newest first.
    async fn latest(&self, address: &Address, limit: usize) -> Result<Vec<AccessRecord>>;

    /// Appends one run-level entry, in the [`RUNS`] partition.
    async fn append_run(&self, run: &RunRecord) -> Result<()>;

    /// The latest run-level entries, newest first.
    async fn latest_runs(&self, limit: usize) -> Result<Vec<RunRecord>>;

    /// Creates the trail's table if missing. True if it created it.
    async fn init(&self) -> Result<bool>;
}

/// Wraps a failed append so callers answer "unavailable" and reveal nothing.
pub(crate) fn unavailable(trail: &dyn AccessTrail, source: Error) -> Error {
    Error::AccessTrail { trail: trail.name().to_owned(), reason: source.to_string() }
}
