//! Each key whole, sealed at one provider: every environment before
//! sharding, and every `store = "dynamodb"`, `"embedded"` or
//! `"postgres"` environment still.

use async_trait::async_trait;

use super::{Custody, NewAccount, Provider, ProviderInit};
use crate::access::{self, AccessRecord, RunRecord};
use crate::account::Address;
use crate::custodian::{verified_key, verify_legacy};
use crate::error::{Error, Result};
use crate::seal::SealContext;
use crate::secret::KeyMaterial;
use crate::store::record::{self, Disabled};
use crate::store::{AccountRecord, Cursor, Page, StoredKey};

#[derive(Debug, Clone)]
pub struct SingleCustody {
    provider: [Provider; 1],
}

impl SingleCustody {
    pub fn new(provider: Provider) -> Self {
        SingleCustody { provider: [provider] }
    }

    fn provider(&self) -> &Provider {
        &self.provider[0]
    }

    fn not_found(&self, address: &Address) -> Error {
        Error::NotFound { address: address.to_string(), table: self.table().to_owned() }
    }
}

#[async_trait]
impl Custody for SingleCustody {
    fn table(&self) -> &str {
        self.provider().store.table()
    }

    fn providers(&self) -> &[Provider] {
        &self.provider
    }

    fn quorum(&self) -> usize {
        1
    }

    fn whole_keys(&self) -> Option<&Provider> {
        Some(self.provider())
    }

    async fn create(&self, account: NewAccount) -> Result<AccountRecord> {
        let provider = self.provider();
        let ctx = SealContext::record(&account.generated.address, self.table());
        let blob = provider.sealer.seal(ctx, &account.generated.key).await?;
        let record = account.record(StoredKey::Sealed { seal: provider.sealer.id().to_owned(), blob });
        provider.store.create(&record.to_item()?).await?;
        Ok(record)
    }

    async fn get(&self, address: &Address) -> Result<Option<AccountRecord>> {
        match self.provider().store.get(address).await? {
            Some(item) => AccountRecord::from_item(&item).map(Some),
            None => Ok(None),
        }
    }

    async fn open(&self, record: &AccountRecord) -> Result<KeyMaterial> {
        match &record.key {
            StoredKey::Sealed { seal, blob } => {
                let ctx = SealContext::record(&record.address, self.table());
                let secret = self.provider().sealer.open_secret(ctx, seal, blob).await?;
                verified_key(record, &secret)
            }
            StoredKey::LegacyPlaintext(key) => {
                verify_legacy(record, key)?;
                Ok(KeyMaterial::LegacyEd25519(key.clone()))
            }
            StoredKey::Share(_) | StoredKey::Sharded(_) => Err(record.integrity(
                "it holds one share of a sharded key, which opens only in its sharded environment",
            )),
        }
    }

    async fn append_access(&self, access: &AccessRecord) -> Result<()> {
        let trail = &self.provider().trail;
        trail.append(access).await.map_err(|e| access::unavailable(trail.as_ref(), e))
    }

    async fn append_run(&self, run: &RunRecord) -> Result<()> {
        let trail = &self.provider().trail;
        trail.append_run(run).await.map_err(|e| access::unavailable(trail.as_ref(), e))
    }

    async fn latest_access(&self, address: &Address, limit: usize) -> Result<Vec<AccessRecord>> {
        self.provider().trail.latest(address, limit).await
    }

    async fn set_disabled(&self, address: &Address, disabled: Option<Disabled>) -> Result<bool> {
        let store = &self.provider().store;
        let current = store.get(address).await?.ok_or_else(|| self.not_found(address))?;
        let record = AccountRecord::from_item(&current)?;
        if record.disabled.is_some() == disabled.is_some() {
            return Ok(false);
        }
        let mut updated = current.clone();
        record::set_disabled(&mut updated, disabled.as_ref());
        store.replace(&current, &updated).await?;
        Ok(true)
    }

    async fn page(&self, after: Option<&Cursor>, limit: usize) -> Result<Page> {
        self.provider().store.page(after, limit).await
    }

    async fn init(&self) -> Result<Vec<ProviderInit>> {
        Ok(vec![self.provider().init().await?])
    }
}
