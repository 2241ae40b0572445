//! Making one provider's share of an account again from k others, by
//! Lagrange interpolation at its index: the key is never rebuilt, and the
//! other providers are not touched.

use super::ShardedCustody;
use super::keys::{self, newest_quorum, open_each};
use crate::account::Address;
use crate::custody::share::{SealedShare, SlotAnswer, commitments_digest};
use crate::error::Error;
use crate::seal::SealContext;
use crate::store::{AccountRecord, StoredKey};
use crate::vss;

/// What repairing one account's slot came to.
#[derive(Debug, PartialEq, Eq)]
pub enum SlotRepair {
    /// The slot's share opens and verifies, in the newest epoch.
    Sound,
    /// Made again, written, read back, opened and verified.
    Rebuilt,
    WouldRebuild,
    /// Fewer than k shares were ever written (a create that never
    /// returned): what there was has been removed.
    Cleared,
    WouldClear,
    /// Another writer changed the slot meanwhile; a second run picks it up.
    Changed,
    Failed(String),
}

impl ShardedCustody {
    /// Makes the share of `slot` (0-based) for `address` again when it is
    /// missing, unreadable or of an older epoch, from k valid shares of
    /// the newest epoch at the other providers; clears an account that
    /// never had k shares.
    pub async fn repair_slot(&self, address: &Address, slot: usize, dry_run: bool) -> SlotRepair {
        let record = match keys::get(self, address).await {
            Ok(Some(record)) => record,
            Ok(None) => return SlotRepair::Sound,
            Err(e) => return SlotRepair::Failed(e.to_string()),
        };
        let StoredKey::Sharded(set) = &record.key else {
            return SlotRepair::Failed("the account holds a whole key, not shares".into());
        };
        let mut opened = open_each(self, *address, set).await;
        let unread = || Error::Unseal { address: address.to_string(), reason: "being repaired".into() };
        let target = std::mem::replace(&mut opened[slot], Err(unread())).ok();
        let Some((epoch, shares, commitments)) = newest_quorum(self, &opened) else {
            let held = set.slots.iter().filter(|s| matches!(s.answer, SlotAnswer::Share(_))).count();
            let all_answered = set.slots.iter().all(|s| !matches!(s.answer, SlotAnswer::Failed(_)));
            if held < usize::from(self.threshold) && all_answered {
                return if dry_run { SlotRepair::WouldClear } else { self.clear(address).await };
            }
            return SlotRepair::Failed(format!(
                "fewer than {} valid shares of one epoch at the other providers, so slot {} cannot be made again",
                self.threshold,
                slot + 1
            ));
        };
        if let Some(current) = &target
            && current.epoch == epoch
            && current.commitments == commitments
        {
            return SlotRepair::Sound;
        }
        if dry_run {
            return SlotRepair::WouldRebuild;
        }
        let index = (slot + 1) as u8;
        let value = match vss::share_at(&shares, &commitments, index) {
            Ok(value) => value,
            Err(e) => return SlotRepair::Failed(e.to_string()),
        };
        drop(shares);
        self.write_share(&record, slot, value, commitments, epoch).await
    }

    /// Seals `value` at the slot's provider, checks the seal opens to it,
    /// writes it over whatever the slot held (conditionally), and reads it
    /// back.
    async fn write_share(
        &self,
        record: &AccountRecord,
        slot: usize,
        value: vss::Share,
        commitments: vss::Commitments,
        epoch: u32,
    ) -> SlotRepair {
        let provider = &self.providers[slot];
        let address = record.address;
        let digest = commitments_digest(&commitments);
        let mut share = SealedShare {
            index: value.index(),
            threshold: self.threshold,
            count: self.count(),
            epoch,
            commitments,
            seal: provider.sealer.id().to_owned(),
            blob: Vec::new(),
            next: None,
        };
        let ctx = SealContext::share(&address, provider.store.table(), share.binding(&digest));
        share.blob = match provider.sealer.seal_secret(ctx, value.reveal_value()).await {
            Ok(blob) => blob,
            Err(e) => return SlotRepair::Failed(format!("not written: {}", e.record_reason())),
        };
        match provider.sealer.open_secret(ctx, &share.seal, &share.blob).await {
            Ok(opened) if *opened == **value.reveal_value() => {}
            Ok(_) => return SlotRepair::Failed("not written: the new seal opens to another share".into()),
            Err(e) => {
                return SlotRepair::Failed(format!(
                    "not written: the new seal does not open: {}",
                    e.record_reason()
                ));
            }
        }
        let mut repaired = record.clone();
        repaired.key = StoredKey::Share(share.clone());
        let new = match repaired.to_item() {
            Ok(item) => item,
            Err(e) => return SlotRepair::Failed(e.to_string()),
        };
        let written = match provider.store.get(&address).await {
            Ok(Some(current)) => provider.store.replace(&current, &new).await,
            Ok(None) => provider.store.create(&new).await,
            Err(e) => Err(e),
        };
        match written {
            Ok(()) => {}
            Err(Error::Changed { .. } | Error::AlreadyExists { .. }) => return SlotRepair::Changed,
            Err(e) => return SlotRepair::Failed(format!("not written: {e}")),
        }
        match provider.store.get(&address).await {
            // The seal was opened to the share before it was written.
            Ok(Some(item)) if item == new => SlotRepair::Rebuilt,
            Ok(_) => SlotRepair::Failed("written, but it read back otherwise; run repair again".into()),
            Err(e) => SlotRepair::Failed(format!("written, but reading it back failed: {e}")),
        }
    }

    /// Removes every share of an account that never had k of them.
    async fn clear(&self, address: &Address) -> SlotRepair {
        let removed = self
            .each(|_, provider| async move {
                match provider.store.get(address).await? {
                    Some(item) => provider.store.remove(&item).await,
                    None => Ok(()),
                }
            })
            .await;
        match self.first_failure(&removed) {
            None => SlotRepair::Cleared,
            Some((_, Error::Changed { .. })) => SlotRepair::Changed,
            Some((provider, e)) => {
                SlotRepair::Failed(format!("provider {} could not remove its share: {e}", provider.name))
            }
        }
    }
}
