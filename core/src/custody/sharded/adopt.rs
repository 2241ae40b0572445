//! Taking in a whole key from a single-store environment (`rossignol
//! shard --from ENV`): split and written like a new account, keeping the
//! account's public part (creation, creator, disabled) as it was.
//!
//! A run that stopped between providers is finished from what it left: a
//! slot still missing is made again from k others, and an account with
//! fewer than k shares is cleared and written anew.

use super::{ShardedCustody, keys};
use crate::custody::SlotRepair;
use crate::custody::share::SlotAnswer;
use crate::store::{AccountRecord, StoredKey};

/// Where an account already at the sharded environment stands.
#[derive(Debug, PartialEq, Eq)]
pub enum Adopted {
    /// Every slot holds a share, and the key opens from them.
    Sound,
    /// Slots a stopped run left empty were made again, and the key opens.
    Completed,
    WouldComplete,
    /// Fewer than k shares were ever written: cleared, to be written anew.
    Cleared,
    WouldClear,
    /// Another writer changed a share meanwhile; a second run picks it up.
    Changed,
    Failed(String),
}

impl ShardedCustody {
    /// Splits `source`'s key and writes its shares with `source`'s public
    /// part, then reads them back and opens the key from them. `source`
    /// must not be held here yet (the writes are conditional).
    pub async fn adopt(&self, source: &AccountRecord, key: &crate::PrivateKey) -> Result<(), String> {
        keys::split_and_write(self, source, key).await.map_err(|e| e.to_string())?;
        let read_back = match keys::get(self, &source.address).await {
            Ok(Some(record)) => record,
            Ok(None) => return Err("written, but it was gone when read back".into()),
            Err(e) => return Err(format!("written, but reading it back failed: {e}")),
        };
        match self.finish(&read_back).await {
            Adopted::Sound => Ok(()),
            Adopted::Failed(reason) => Err(format!("written, but {reason}")),
            other => Err(format!("written, but it read back as {other:?}; run it again")),
        }
    }

    /// Checks `existing`, an account that is already here (as
    /// [`crate::custody::Custody::get`] read it), against `source` and
    /// finishes what an earlier run left: missing slots are made again
    /// from the others. The source's key is not needed for that.
    pub async fn complete(&self, source: &AccountRecord, existing: &AccountRecord, dry_run: bool) -> Adopted {
        if existing.public_key != source.public_key {
            return Adopted::Failed(
                "the sharded environment holds another public key for this address; look at both before going on"
                    .into(),
            );
        }
        let StoredKey::Sharded(set) = &existing.key else {
            return Adopted::Failed("it holds a whole key here, not shares".into());
        };
        if let Some((provider, why)) = set.slots.iter().find_map(|slot| match &slot.answer {
            SlotAnswer::Failed(why) => Some((&slot.provider, why)),
            _ => None,
        }) {
            return Adopted::Failed(format!(
                "provider {provider} did not answer ({why}); run it again when it is back"
            ));
        }
        let missing: Vec<usize> = (0..set.slots.len())
            .filter(|&slot| matches!(set.slots[slot].answer, SlotAnswer::Missing))
            .collect();
        if missing.is_empty() {
            return self.finish(existing).await;
        }
        for &slot in &missing {
            match self.repair_slot(&source.address, slot, dry_run).await {
                SlotRepair::Sound | SlotRepair::Rebuilt | SlotRepair::WouldRebuild => {}
                SlotRepair::Cleared => return Adopted::Cleared,
                SlotRepair::WouldClear => return Adopted::WouldClear,
                SlotRepair::Changed => return Adopted::Changed,
                SlotRepair::Failed(reason) => return Adopted::Failed(reason),
            }
        }
        if dry_run {
            return Adopted::WouldComplete;
        }
        match keys::get(self, &source.address).await {
            Ok(Some(repaired)) => match self.finish(&repaired).await {
                Adopted::Sound => Adopted::Completed,
                other => other,
            },
            Ok(None) => Adopted::Failed("it was gone when read back".into()),
            Err(e) => Adopted::Failed(format!("reading it back failed: {e}")),
        }
    }

    /// Every slot holds a share, and the key they open to derives the
    /// record's address.
    async fn finish(&self, record: &AccountRecord) -> Adopted {
        let StoredKey::Sharded(set) = &record.key else {
            return Adopted::Failed("it holds a whole key here, not shares".into());
        };
        if let Some(slot) = set.slots.iter().find(|slot| !matches!(slot.answer, SlotAnswer::Share(_))) {
            return Adopted::Failed(format!("provider {} holds no share of it", slot.provider));
        }
        match keys::open(self, record).await {
            Ok(_) => Adopted::Sound,
            Err(e) => Adopted::Failed(e.record_reason()),
        }
    }
}
