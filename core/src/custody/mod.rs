//! Custody: where an environment's keys are held, and how they are
//! written, read and opened. [`crate::Custodian`] delegates to one
//! [`Custody`]; it has two implementations, peers behind this trait:
//!
//! - [`SingleCustody`]: each key whole, sealed at one provider;
//! - [`ShardedCustody`]: each key split k-of-n, one share per provider.
//!
//! A [`Provider`] is a store, a seal and an access trail that share
//! nothing with another provider's. Which kinds of store and seal make it
//! up is decided once, when the environment is connected.

mod sharded;
pub mod share;
mod single;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;

pub use sharded::{Adopted, Refresh, ShardedCustody, SlotRepair};
pub use single::SingleCustody;

use crate::access::{AccessRecord, AccessTrail, RunRecord};
use crate::account::Address;
use crate::error::Result;
use crate::keygen::GeneratedKey;
use crate::seal::{SealInit, Sealer};
use crate::secret::KeyMaterial;
use crate::store::record::{self, CURRENT_SCHEMA, Disabled};
use crate::store::{AccountRecord, AccountStore, Cursor, InitOutcome, Page, Scheme, StoredKey};

/// One independent holder of keys or shares: a store, the seal that
/// protects what it holds, and the trail its key uses are written to.
#[derive(Clone)]
pub struct Provider {
    /// As configured (`aws`, `pg`, `offline`); the environment's name for
    /// a single store.
    pub name: String,
    pub store: Arc<dyn AccountStore>,
    pub sealer: Arc<dyn Sealer>,
    pub trail: Arc<dyn AccessTrail>,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("store", &self.store)
            .field("seal", &self.sealer.id())
            .field("trail", &self.trail.name())
            .finish()
    }
}

/// What `init` did at one provider.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProviderInit {
    pub provider: String,
    pub accounts: InitOutcome,
    pub access_trail: String,
    pub access_trail_created: bool,
    /// What the seal set up (a transit key); absent for a seal with
    /// nothing to set up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal: Option<SealInit>,
}

impl Provider {
    /// Whether the provider answers now: its store describes its table and
    /// its seal's server answers, each within [`sharded::PROVIDER_TIMEOUT`].
    /// The error is one sentence, for a health display.
    pub async fn probe(&self) -> std::result::Result<(), String> {
        let within =
            |what: &str| format!("no answer {what} within {} s", sharded::PROVIDER_TIMEOUT.as_secs());
        match tokio::time::timeout(sharded::PROVIDER_TIMEOUT, self.store.describe()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err(within("from its store")),
        }
        match tokio::time::timeout(sharded::PROVIDER_TIMEOUT, self.sealer.probe()).await {
            Ok(answer) => answer.map_err(|e| e.to_string()),
            Err(_) => Err(within("from its seal")),
        }
    }

    pub async fn init(&self) -> Result<ProviderInit> {
        let accounts = self.store.init().await?;
        let access_trail_created = self.trail.init().await?;
        let seal = self.sealer.init().await?;
        Ok(ProviderInit {
            provider: self.name.clone(),
            accounts,
            access_trail: self.trail.name().to_owned(),
            access_trail_created,
            seal,
        })
    }
}

/// A new account, before its key is sealed.
#[derive(Debug)]
pub struct NewAccount {
    pub generated: GeneratedKey,
    pub created_by: String,
    /// The setter's caller, for `accounts = "created_by_key"` policies.
    pub created_api_key: Option<String>,
}

impl NewAccount {
    /// The account's record with its key held as `key`.
    pub fn record(&self, key: StoredKey) -> AccountRecord {
        AccountRecord {
            address: self.generated.address,
            scheme: Scheme::Secp256k1,
            public_key: record::format_public_key(&self.generated.public_key),
            key,
            created_at: Some(Utc::now()),
            created_by: Some(self.created_by.clone()),
            created_api_key: self.created_api_key.clone(),
            schema_version: CURRENT_SCHEMA,
            disabled: None,
        }
    }
}

/// How an environment holds its keys. Every key use goes through a
/// [`crate::Custodian`], which checks policy and writes the access trail
/// around these calls.
#[async_trait]
pub trait Custody: Send + Sync + fmt::Debug {
    /// What keys are bound to and errors name: the table, or the sharded
    /// environment's name.
    fn table(&self) -> &str;

    /// Every provider, in configured order; a single store is one.
    fn providers(&self) -> &[Provider];

    /// How many providers must answer for a key to be opened, and must
    /// record each use of one: 1 for a single store, k when sharded.
    fn quorum(&self) -> usize;

    /// The provider that holds whole keys, for operations on one store's
    /// sealed keys (`migrate`, `reseal`); `None` when keys are sharded.
    fn whole_keys(&self) -> Option<&Provider>;

    /// The sharded custody, for operations on shares (`repair`); `None`
    /// for a single store.
    fn sharded(&self) -> Option<&ShardedCustody> {
        None
    }

    /// Seals the new account's key and writes it: all or nothing.
    async fn create(&self, account: NewAccount) -> Result<AccountRecord>;

    /// The account's record, or `None` when no provider holds it.
    async fn get(&self, address: &Address) -> Result<Option<AccountRecord>>;

    /// Opens the record's key and checks it derives the record's address.
    async fn open(&self, record: &AccountRecord) -> Result<KeyMaterial>;

    /// Like [`Custody::open`], also naming each provider passed over (no
    /// share, or one that did not open or verify) and why.
    async fn open_noting(&self, record: &AccountRecord) -> Result<(KeyMaterial, Vec<(String, String)>)> {
        Ok((self.open(record).await?, Vec::new()))
    }

    /// Appends one access record: at the store's trail, or at no fewer
    /// than [`Custody::quorum`] providers' trails. Fails otherwise.
    async fn append_access(&self, access: &AccessRecord) -> Result<()>;

    /// Appends a bulk run's entry, where [`Custody::append_access`] would.
    async fn append_run(&self, run: &RunRecord) -> Result<()>;

    /// The account's latest access records, newest first.
    async fn latest_access(&self, address: &Address, limit: usize) -> Result<Vec<AccessRecord>>;

    /// Disables (Some) or enables (None) the account. True if it changed.
    async fn set_disabled(&self, address: &Address, disabled: Option<Disabled>) -> Result<bool>;

    /// Up to `limit` account items after `after`, for listings.
    async fn page(&self, after: Option<&Cursor>, limit: usize) -> Result<Page>;

    /// Creates (or checks) every provider's table and trail.
    async fn init(&self) -> Result<Vec<ProviderInit>>;
}
