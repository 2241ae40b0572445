//! What the console holds about accounts: views without key material, and
//! the one type that carries a revealed key.

use std::fmt;

use chrono::{DateTime, Utc};
use rossignol_core::access::AccessRecord;
use rossignol_core::store::AccountRecord;
use zeroize::Zeroizing;

pub use super::field::{Input, SecretInput};

/// An account as listed and detailed: every attribute but the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountView {
    /// EIP-55.
    pub address: String,
    pub scheme: &'static str,
    /// `None` in list rows: the list never shows it, and at 132 characters
    /// it would be a quarter of a 100,000-row list's memory. The details
    /// screen loads the whole record.
    pub public_key: Option<String>,
    pub seal: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
    pub schema_version: u32,
    pub legacy: bool,
    /// When it was disabled (and by whom), if it is.
    pub disabled: Option<String>,
    /// A sharded account's slots, one line per provider: which share it
    /// holds, or why it gave none. Empty for a whole key.
    pub shares: Vec<ShareLine>,
}

/// Whether one provider of a sharded environment answers, as the header
/// shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderHealth {
    pub name: String,
    pub health: Health,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Not asked yet since connecting.
    Checking,
    Up,
    /// It did not answer: why, in one sentence.
    Down(String),
}

/// One provider's slot of a sharded account, as the details show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLine {
    pub text: String,
    /// False when the provider gave no share: shown as a warning.
    pub answered: bool,
}

impl From<&AccountRecord> for AccountView {
    fn from(record: &AccountRecord) -> Self {
        AccountView {
            address: record.address.to_string(),
            scheme: record.scheme.as_str(),
            public_key: Some(record.public_key.clone()),
            seal: record.seal().map(str::to_owned),
            created_at: record.created_at,
            created_by: record.created_by.clone(),
            schema_version: record.schema_version,
            legacy: record.is_legacy(),
            disabled: record.disabled.as_ref().map(|d| {
                let at = d.at.format("%Y-%m-%d %H:%M:%S UTC");
                match &d.by {
                    Some(by) => format!("since {at} by {by}"),
                    None => format!("since {at}"),
                }
            }),
            shares: share_lines(record),
        }
    }
}

/// `aws: share 1, epoch 1, kms:alias/v` per provider; a provider that gave
/// no share says why.
fn share_lines(record: &AccountRecord) -> Vec<ShareLine> {
    use rossignol_core::custody::share::SlotAnswer;
    use rossignol_core::store::StoredKey;
    let StoredKey::Sharded(set) = &record.key else { return Vec::new() };
    set.slots
        .iter()
        .map(|slot| {
            let (text, answered) = match &slot.answer {
                SlotAnswer::Share(share) => {
                    (format!("share {}, epoch {}, {}", share.index, share.epoch, share.seal), true)
                }
                SlotAnswer::Missing => ("no share".to_owned(), false),
                SlotAnswer::Failed(why) => (format!("did not answer ({why})"), false),
            };
            ShareLine { text: format!("{}: {text}", slot.provider), answered }
        })
        .collect()
}

impl AccountView {
    /// What a list row keeps: everything but the public key.
    pub fn summary(record: &AccountRecord) -> Self {
        AccountView { public_key: None, ..AccountView::from(record) }
    }
}

/// One row of the list: an account, or a stored item that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Account(AccountView),
    Malformed { address: String, error: String },
}

impl Row {
    pub fn address(&self) -> &str {
        match self {
            Row::Account(view) => &view.address,
            Row::Malformed { address, .. } => address,
        }
    }

    pub fn account(&self) -> Option<&AccountView> {
        match self {
            Row::Account(view) => Some(view),
            Row::Malformed { .. } => None,
        }
    }
}

/// One access trail entry, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailEntry {
    pub at: DateTime<Utc>,
    pub action: String,
    pub request_id: String,
    pub who: String,
}

impl From<&AccessRecord> for TrailEntry {
    fn from(record: &AccessRecord) -> Self {
        let who = match (&record.api_key_id, &record.actor) {
            (Some(key), Some(actor)) => format!("{actor} (api key {key})"),
            (Some(key), None) => format!("api key {key}"),
            (None, Some(actor)) => actor.clone(),
            (None, None) => "-".to_owned(),
        };
        // The AWS identity is the proven name; the actor a hint beside it.
        let who = match (&record.aws_identity, who.as_str()) {
            (Some(arn), "-") => arn.clone(),
            (Some(arn), _) => format!("{arn} ({who})"),
            (None, _) => who,
        };
        TrailEntry {
            at: record.at,
            // A policy refusal opened nothing; the row says so and why.
            action: match &record.refused {
                Some(rule) => format!("{} refused ({rule})", record.action),
                None => record.action.clone(),
            },
            request_id: record.request_id.clone(),
            who,
        }
    }
}

/// A revealed private key. Zeroized on drop; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(text: Zeroizing<String>) -> Self {
        Secret(text)
    }

    /// The key text, for the one place that shows or copies it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// As many bullets as the key has characters.
    pub fn masked(&self) -> String {
        "•".repeat(self.0.chars().count().min(66))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// What a confirmed reveal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevealPurpose {
    Show,
    Copy,
}
