//! Each key split k-of-n with Feldman VSS (see [`crate::vss`]), one share
//! per provider, each share sealed by its own provider's seal alone.
//!
//! - Reads go to every provider at once, each within a timeout; any k
//!   healthy providers are enough to open a key, and the others are named.
//! - A key use is recorded at every provider that answers, and goes ahead
//!   only once k of them have recorded it: no one provider can hide an
//!   access, and one provider down blocks nothing.
//! - A provider's slot is its place in the configuration (the first is
//!   share 1). A share opens only in its own slot, record and epoch: the
//!   seal binds all three.

mod adopt;
mod keys;
mod refresh;
mod repair;

pub use adopt::Adopted;
pub use refresh::Refresh;
pub use repair::SlotRepair;

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;

use super::{Custody, NewAccount, Provider, ProviderInit};
use crate::access::{AccessRecord, RunRecord};
use crate::account::Address;
use crate::error::{Error, Result};
use crate::secret::KeyMaterial;
use crate::store::record::{self, Disabled};
use crate::store::{AccountRecord, Cursor, Item, Page};
use crate::vss;

/// How long one provider has to answer one call before it is counted as
/// down for that call.
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct ShardedCustody {
    /// The environment's name: what errors and listings call it.
    namespace: String,
    threshold: u8,
    providers: Vec<Provider>,
    timeout: Duration,
}

impl ShardedCustody {
    /// `threshold` of the `providers` (at least 2, at most 16, each named
    /// once) rebuild a key.
    pub fn new(namespace: impl Into<String>, threshold: u8, providers: Vec<Provider>) -> Result<Self> {
        let count = u8::try_from(providers.len()).unwrap_or(u8::MAX);
        if threshold < 2 || threshold > count || count > vss::MAX_SHARES {
            return Err(Error::Config(format!(
                "`threshold = {threshold}` with {} providers cannot be: it must be at least 2 and at most the number of providers (at most {})",
                providers.len(),
                vss::MAX_SHARES
            )));
        }
        for (i, provider) in providers.iter().enumerate() {
            if providers[..i].iter().any(|earlier| earlier.name == provider.name) {
                return Err(Error::Config(format!(
                    "provider `{}` is named twice; give each provider its own name",
                    provider.name
                )));
            }
        }
        Ok(ShardedCustody { namespace: namespace.into(), threshold, providers, timeout: PROVIDER_TIMEOUT })
    }

    /// Gives each provider `timeout` per call instead of [`PROVIDER_TIMEOUT`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// What the trail calls a key's move into these shares.
    pub fn label(&self) -> String {
        format!("sharded:{}", self.namespace)
    }

    pub fn threshold(&self) -> u8 {
        self.threshold
    }

    /// The providers' names, in slot order.
    pub fn providers_named(&self) -> Vec<&str> {
        self.providers.iter().map(|p| p.name.as_str()).collect()
    }

    fn count(&self) -> u8 {
        self.providers.len() as u8
    }

    /// Runs `call` at every provider at once, each within the timeout;
    /// the answers come back in provider order.
    async fn each<'a, T, F, Fut>(&'a self, call: F) -> Vec<Result<T>>
    where
        F: Fn(usize, &'a Provider) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        futures::future::join_all(
            self.providers
                .iter()
                .enumerate()
                .map(|(slot, provider)| self.within(provider, call(slot, provider))),
        )
        .await
    }

    async fn within<T>(&self, provider: &Provider, call: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(self.timeout, call).await.unwrap_or_else(|_| {
            Err(Error::Unavailable {
                service: "a provider",
                operation: "its call",
                cause: format!(
                    "provider {} did not answer within {} s",
                    provider.name,
                    self.timeout.as_secs_f32()
                ),
            })
        })
    }

    /// Ok when at least k providers recorded an entry; the fail-closed
    /// [`Error::AccessTrail`] otherwise.
    fn recorded_at_quorum(&self, answers: &[Result<()>]) -> Result<()> {
        let failures = self.failures("record a key use", answers);
        let recorded = answers.len() - failures.len();
        if recorded < self.quorum() {
            return Err(Error::AccessTrail {
                trail: format!("of {} (at least {} of its providers)", self.namespace, self.threshold),
                reason: format!("only {recorded} recorded it ({})", failures.join("; ")),
            });
        }
        Ok(())
    }

    /// The first provider whose answer was an error, and the error.
    fn first_failure<'a, T>(&'a self, answers: &'a [Result<T>]) -> Option<(&'a Provider, &'a Error)> {
        self.providers
            .iter()
            .zip(answers)
            .find_map(|(provider, answer)| Some((provider, answer.as_ref().err()?)))
    }

    /// Names the providers whose answer was an error, with why; warns of
    /// each on the log (stderr), never on stdout.
    fn failures<T>(&self, operation: &str, answers: &[Result<T>]) -> Vec<String> {
        answers
            .iter()
            .zip(&self.providers)
            .filter_map(|(answer, provider)| {
                let error = answer.as_ref().err()?;
                tracing::warn!(provider = %provider.name, "provider {} could not {operation}: {error}", provider.name);
                Some(format!("{}: {error}", provider.name))
            })
            .collect()
    }
}

/// A provider's failure in a write every provider must take; `outcome`
/// says what was left behind.
fn failed(provider: &Provider, operation: &'static str, error: &Error, outcome: String) -> Error {
    Error::Provider {
        provider: provider.name.clone(),
        operation,
        reason: error.to_string(),
        outcome,
        transient: error.is_transient(),
    }
}

#[async_trait]
impl Custody for ShardedCustody {
    fn table(&self) -> &str {
        &self.namespace
    }

    fn providers(&self) -> &[Provider] {
        &self.providers
    }

    fn quorum(&self) -> usize {
        usize::from(self.threshold)
    }

    fn whole_keys(&self) -> Option<&Provider> {
        None
    }

    fn sharded(&self) -> Option<&ShardedCustody> {
        Some(self)
    }

    async fn create(&self, account: NewAccount) -> Result<AccountRecord> {
        keys::create(self, account).await
    }

    async fn get(&self, address: &Address) -> Result<Option<AccountRecord>> {
        keys::get(self, address).await
    }

    async fn open(&self, record: &AccountRecord) -> Result<KeyMaterial> {
        keys::open(self, record).await.map(|(key, _)| key)
    }

    async fn open_noting(&self, record: &AccountRecord) -> Result<(KeyMaterial, Vec<(String, String)>)> {
        keys::open(self, record).await
    }

    /// Recorded at every provider that answers; enough only when at least
    /// k did.
    async fn append_access(&self, access: &AccessRecord) -> Result<()> {
        let answers = self.each(|_, provider| provider.trail.append(access)).await;
        self.recorded_at_quorum(&answers)
    }

    async fn append_run(&self, run: &RunRecord) -> Result<()> {
        let answers = self.each(|_, provider| provider.trail.append_run(run)).await;
        self.recorded_at_quorum(&answers)
    }

    /// Every provider's copy, merged: a record any one of them kept shows.
    async fn latest_access(&self, address: &Address, limit: usize) -> Result<Vec<AccessRecord>> {
        let answers = self.each(|_, provider| provider.trail.latest(address, limit)).await;
        let failures = self.failures("read the access trail", &answers);
        if failures.len() == answers.len() {
            return Err(Error::Quorum {
                operation: "read the access trail",
                needed: 1,
                got: 0,
                failures: failures.join("; "),
            });
        }
        let mut merged: Vec<AccessRecord> = answers.into_iter().flatten().flatten().collect();
        merged.sort_by_key(|record| std::cmp::Reverse(record.sort_key()));
        merged.dedup_by_key(|record| record.sort_key());
        merged.truncate(limit);
        Ok(merged)
    }

    /// Changed at every provider that holds a share: one disabled share is
    /// enough to refuse the key, so a partial disable already holds.
    async fn set_disabled(&self, address: &Address, disabled: Option<Disabled>) -> Result<bool> {
        let items = self.each(|_, provider| provider.store.get(address)).await;
        self.failures("read the account", &items);
        if let Some((provider, error)) = self.first_failure(&items) {
            let outcome = "nothing was changed; run it again when it is back".to_owned();
            return Err(failed(provider, "read the account", error, outcome));
        }
        let items: Vec<Option<Item>> = items.into_iter().flatten().collect();
        if items.iter().all(Option::is_none) {
            return Err(Error::NotFound { address: address.to_string(), table: self.namespace.clone() });
        }
        let answers = self
            .each(|slot, provider| {
                let current = items[slot].as_ref();
                let disabled = disabled.as_ref();
                async move {
                    let Some(current) = current else { return Ok(false) };
                    if AccountRecord::from_item(current)?.disabled.is_some() == disabled.is_some() {
                        return Ok(false);
                    }
                    let mut updated = current.clone();
                    record::set_disabled(&mut updated, disabled);
                    provider.store.replace(current, &updated).await.map(|()| true)
                }
            })
            .await;
        self.failures("change the account", &answers);
        if let Some((provider, error)) = self.first_failure(&answers) {
            let outcome = "the providers that answered were changed; run it again when it is back".to_owned();
            return Err(failed(provider, "change the account", error, outcome));
        }
        Ok(answers.into_iter().flatten().any(|changed| changed))
    }

    /// The first provider that answers lists for all: every provider keeps
    /// every account's public part.
    async fn page(&self, after: Option<&Cursor>, limit: usize) -> Result<Page> {
        let mut failures = Vec::new();
        for provider in &self.providers {
            match self.within(provider, provider.store.page(after, limit)).await {
                Ok(page) => {
                    for failure in &failures {
                        tracing::warn!("listing from provider {}: {failure}", provider.name);
                    }
                    return Ok(page);
                }
                Err(e) => failures.push(format!("{}: {e}", provider.name)),
            }
        }
        Err(Error::Quorum { operation: "list accounts", needed: 1, got: 0, failures: failures.join("; ") })
    }

    /// Every provider's table and trail; any that fails is named.
    async fn init(&self) -> Result<Vec<ProviderInit>> {
        let answers = self.each(|_, provider| provider.init()).await;
        let mut inits = Vec::with_capacity(answers.len());
        for (answer, provider) in answers.into_iter().zip(&self.providers) {
            match answer {
                Ok(init) => inits.push(init),
                Err(e) => {
                    let outcome =
                        "the providers that answered were initialised; fix it and run `rossignol init` again";
                    return Err(failed(provider, "be initialised", &e, outcome.to_owned()));
                }
            }
        }
        Ok(inits)
    }
}
