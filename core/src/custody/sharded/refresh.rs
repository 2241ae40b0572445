//! Refreshing an account's shares: a new polynomial of the same key
//! (epoch + 1), so shares stolen before are worthless after.
//!
//! Two phases, each a conditional write per provider:
//! 1. every provider gets its new share beside its current one
//!    (`next_sealed_share`), sealed by its own seal for the new epoch;
//! 2. once all n hold a new share that opens and verifies, each new share
//!    replaces the current one.
//!
//! Until phase 2 begins nothing old is given up, and shares of the two
//! epochs never combine. A run stopped anywhere is finished by the next:
//! a complete phase 1 is promoted, a phase 1 with k new shares is filled
//! in from them, and one with fewer is started again.

use rand_core::OsRng;

use super::ShardedCustody;
use super::keys::{self, Opened, newest_quorum, open_each, open_next};
use crate::account::Address;
use crate::custody::share::{NextShare, SealedShare, commitments_digest};
use crate::error::{Error, Result};
use crate::seal::SealContext;
use crate::store::{AccountRecord, Item, StoredKey};
use crate::vss::{self, Commitments, Share};

/// What refreshing one account came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Refresh {
    /// Every provider now holds a share of the new epoch, and only that.
    Refreshed {
        epoch: u32,
    },
    WouldRefresh,
    /// Another writer changed a share meanwhile; a second run picks it up.
    Changed,
    Failed(String),
}

impl ShardedCustody {
    /// Gives `address` a new polynomial of the same key, or finishes the
    /// refresh a stopped run left.
    pub async fn refresh_account(&self, address: &Address, dry_run: bool) -> Refresh {
        match self.refresh_inner(address, dry_run).await {
            Ok(done) => done,
            Err(Error::Changed { .. } | Error::AlreadyExists { .. }) => Refresh::Changed,
            Err(e) => Refresh::Failed(e.record_reason()),
        }
    }

    async fn refresh_inner(&self, address: &Address, dry_run: bool) -> Result<Refresh> {
        let record = keys::get(self, address)
            .await?
            .ok_or_else(|| Error::NotFound { address: address.to_string(), table: self.namespace.clone() })?;
        let StoredKey::Sharded(set) = &record.key else {
            return Err(record.integrity("the account holds a whole key, not shares"));
        };
        if let Some((provider, why)) = set.unanswered().into_iter().next() {
            return Err(record.integrity(format!(
                "provider {provider} {why}; a refresh needs every provider (`rossignol repair {provider}` first)"
            )));
        }
        let current = open_each(self, *address, set).await;
        let Some((epoch, shares, commitments)) = newest_quorum(self, &current) else {
            return Err(record.integrity("fewer than k valid shares of one epoch"));
        };
        if shares.len() < self.providers.len()
            || current.iter().any(|o| o.as_ref().map_or(true, |o| o.epoch != epoch))
        {
            return Err(record.integrity(format!(
                "not every provider holds a valid share of epoch {epoch}; run `rossignol repair` for the others first"
            )));
        }
        if dry_run {
            return Ok(Refresh::WouldRefresh);
        }
        let pending: Vec<Option<Opened>> =
            open_next(self, *address, set).await.into_iter().map(|o| o.and_then(Result::ok)).collect();
        let next = pending_quorum(self, &pending, epoch);
        let (new_epoch, new_shares, new_commitments) = match next {
            // Phase 1 done, or k new shares to fill it in from.
            Some((new_epoch, valid, new_commitments)) => {
                let mut all = Vec::with_capacity(self.providers.len());
                for slot in 0..self.providers.len() {
                    let share = vss::share_at(&valid, &new_commitments, (slot + 1) as u8);
                    all.push(share.map_err(|e| record.integrity(e.to_string()))?);
                }
                (new_epoch, all, new_commitments)
            }
            None => {
                let (fresh, renewed) = vss::refresh(&shares, &commitments, &mut OsRng)
                    .map_err(|e| record.integrity(e.to_string()))?;
                (epoch + 1, fresh, renewed)
            }
        };
        drop(shares);
        // Phase 1: each provider gets its new share beside the current one.
        let written = self
            .each(|slot, provider| {
                let share = &new_shares[slot];
                let pending = pending[slot]
                    .as_ref()
                    .filter(|o| o.epoch == new_epoch && o.commitments == new_commitments);
                let new_commitments = &new_commitments;
                async move {
                    if pending.is_some() {
                        return Ok(());
                    }
                    let next = seal_checked(provider, address, share, new_epoch, new_commitments).await?;
                    update_share(provider, address, epoch, |current| current.next = Some(Box::new(next)))
                        .await
                }
            })
            .await;
        self.all_done(written, "take its new share")?;
        drop(new_shares);
        // Phase 2: every provider holds a new share; each replaces its current one.
        let promoted = self
            .each(|_, provider| async move {
                update_share(provider, address, epoch, |current| {
                    if let Some(next) = current.next_share() {
                        *current = next;
                    }
                })
                .await
            })
            .await;
        self.all_done(promoted, "give up its old share")?;
        Ok(Refresh::Refreshed { epoch: new_epoch })
    }
}

impl ShardedCustody {
    /// The first provider's failure, named; `Changed` passes as it is.
    fn all_done(&self, answers: Vec<Result<()>>, operation: &'static str) -> Result<()> {
        for (answer, provider) in answers.into_iter().zip(&self.providers) {
            match answer {
                Ok(()) => {}
                Err(e @ Error::Changed { .. }) => return Err(e),
                Err(e) => {
                    let outcome = "no share was given up; run `rossignol refresh` again".to_owned();
                    return Err(super::failed(provider, operation, &e, outcome));
                }
            }
        }
        Ok(())
    }
}

/// The valid pending shares of one newer epoch, when at least k agree.
fn pending_quorum(
    custody: &ShardedCustody,
    pending: &[Option<Opened>],
    current_epoch: u32,
) -> Option<(u32, Vec<Share>, Commitments)> {
    let first = pending.iter().flatten().find(|o| o.epoch > current_epoch)?;
    let valid: Vec<Share> = pending
        .iter()
        .flatten()
        .filter(|o| o.epoch == first.epoch && o.commitments == first.commitments)
        .map(|o| o.share.clone())
        .collect();
    (valid.len() >= usize::from(custody.threshold)).then(|| (first.epoch, valid, first.commitments.clone()))
}

/// Seals `share` at `provider` for the new epoch and checks the seal opens
/// to it before anything is written.
async fn seal_checked(
    provider: &crate::custody::Provider,
    address: &Address,
    share: &Share,
    epoch: u32,
    commitments: &Commitments,
) -> Result<NextShare> {
    let digest = commitments_digest(commitments);
    let binding = crate::seal::ShareBinding { index: share.index(), epoch, commitments: &digest };
    let ctx = SealContext::share(address, provider.store.table(), binding);
    let blob = provider.sealer.seal_secret(ctx, share.reveal_value()).await?;
    let opened = provider.sealer.open_secret(ctx, provider.sealer.id(), &blob).await?;
    if *opened != **share.reveal_value() {
        return Err(Error::Seal(format!("provider {}'s new seal opens to another share", provider.name)));
    }
    Ok(NextShare { epoch, commitments: commitments.clone(), seal: provider.sealer.id().to_owned(), blob })
}

/// Reads the provider's item, changes its share with `change` (when it is
/// still of `epoch`, or already changed), writes it with one conditional
/// replace, and reads it back.
async fn update_share(
    provider: &crate::custody::Provider,
    address: &Address,
    epoch: u32,
    change: impl FnOnce(&mut SealedShare),
) -> Result<()> {
    let current = provider.store.get(address).await?.ok_or_else(|| Error::Changed {
        address: address.to_storage(),
        table: provider.store.table().to_owned(),
    })?;
    let mut record = AccountRecord::from_item(&current)?;
    let StoredKey::Share(share) = &mut record.key else {
        return Err(record.integrity("the provider holds a whole key, not a share"));
    };
    if share.epoch != epoch && share.next.is_none() {
        // Promoted already by a run that stopped after this provider.
        return Ok(());
    }
    change(share);
    let new: Item = record.to_item()?;
    if new == current {
        return Ok(());
    }
    provider.store.replace(&current, &new).await?;
    match provider.store.get(address).await? {
        Some(stored) if stored == new => Ok(()),
        _ => Err(Error::Changed { address: address.to_storage(), table: provider.store.table().to_owned() }),
    }
}
