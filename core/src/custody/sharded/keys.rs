//! Splitting a key into sealed shares, reading every provider's share, and
//! opening a key from any k of them.

use rand_core::OsRng;
use zeroize::Zeroizing;

use super::{ShardedCustody, failed};
use crate::account::Address;
use crate::custodian::verified_key;
use crate::custody::Provider;
use crate::custody::share::{SealedShare, ShareSet, Slot, SlotAnswer, commitments_digest};
use crate::custody::{Custody as _, NewAccount};
use crate::error::{Error, Result};
use crate::seal::SealContext;
use crate::secret::{KeyMaterial, PrivateKey};
use crate::store::{AccountRecord, Item, StoredKey};
use crate::vss::{self, Commitments, Share};

/// The first epoch of a split; every refresh raises it.
pub(crate) const FIRST_EPOCH: u32 = 1;

/// A provider's slot, from its place in the configuration: share 1 is the
/// first provider's.
fn slot_index(slot: usize) -> u8 {
    (slot + 1) as u8
}

/// Splits the key, seals each share at its provider, then writes every
/// share at once with conditional writes. The account exists only when
/// all n are written; otherwise the shares that were written are removed
/// again and the failing provider is named.
pub(super) async fn create(custody: &ShardedCustody, account: NewAccount) -> Result<AccountRecord> {
    let public =
        account.record(StoredKey::Sharded(ShareSet::new(custody.threshold, custody.count(), Vec::new())));
    split_and_write(custody, &public, &account.generated.key).await
}

/// Splits `key` into n shares of a new epoch-1 polynomial and writes each
/// at its provider beside `public`'s public part (its `key` is replaced),
/// all or nothing as [`create`] describes. The record returned holds the
/// shares written.
pub(super) async fn split_and_write(
    custody: &ShardedCustody,
    public: &AccountRecord,
    key: &PrivateKey,
) -> Result<AccountRecord> {
    let (shares, commitments) = vss::split(key, custody.threshold, custody.count(), &mut OsRng)
        .map_err(|e| Error::Config(e.to_string()))?;
    let digest = commitments_digest(&commitments);
    let address = public.address;
    let sealed = custody
        .each(|slot, provider| {
            let share = SealedShare {
                index: slot_index(slot),
                threshold: custody.threshold,
                count: custody.count(),
                epoch: FIRST_EPOCH,
                commitments: commitments.clone(),
                seal: provider.sealer.id().to_owned(),
                blob: Vec::new(),
                next: None,
            };
            let value = shares[slot].reveal_value();
            let digest = &digest;
            async move {
                let ctx = SealContext::share(&address, provider.store.table(), share.binding(digest));
                let blob = provider.sealer.seal_secret(ctx, value).await?;
                Ok(SealedShare { blob, ..share })
            }
        })
        .await;
    drop(shares);
    let mut items: Vec<Item> = Vec::with_capacity(sealed.len());
    for (answer, provider) in sealed.iter().zip(&custody.providers) {
        match answer {
            Ok(share) => items
                .push(AccountRecord { key: StoredKey::Share(share.clone()), ..public.clone() }.to_item()?),
            Err(e) => return Err(failed(provider, "seal its share", e, "nothing was written".into())),
        }
    }
    let written = custody.each(|slot, provider| provider.store.create(&items[slot])).await;
    if written.iter().any(Result::is_err) {
        let kept = take_back(custody, &items, &written).await;
        let outcome = if kept.is_empty() {
            "nothing was created; try again".to_owned()
        } else {
            format!(
                "the shares written at {} could not be taken back; `rossignol audit` reports them as incomplete, and `rossignol repair` clears them",
                kept.join(", ")
            )
        };
        if let Some((provider, e)) = custody.first_failure(&written) {
            return Err(failed(provider, "store its share", e, outcome));
        }
    }
    let slots = custody
        .providers
        .iter()
        .zip(sealed)
        .map(|(provider, share)| Slot { provider: provider.name.clone(), answer: share_answer(share) })
        .collect();
    let set = ShareSet::new(custody.threshold, custody.count(), slots);
    Ok(AccountRecord { key: StoredKey::Sharded(set), ..public.clone() })
}

fn share_answer(share: Result<SealedShare>) -> SlotAnswer {
    match share {
        Ok(share) => SlotAnswer::Share(share),
        Err(e) => SlotAnswer::Failed(e.to_string()),
    }
}

/// Removes the shares a failed create wrote; names the providers where one
/// could not be removed.
async fn take_back(custody: &ShardedCustody, items: &[Item], written: &[Result<()>]) -> Vec<String> {
    let removed = custody
        .each(|slot, provider| async move {
            match written[slot] {
                Ok(()) => provider.store.remove(&items[slot]).await,
                Err(_) => Ok(()),
            }
        })
        .await;
    custody.failures("take back its share", &removed);
    removed
        .iter()
        .zip(&custody.providers)
        .filter(|(answer, _)| answer.is_err())
        .map(|(_, provider)| provider.name.clone())
        .collect()
}

/// Every provider's answer for `address`. The public part comes from the
/// first provider holding a share; `None` when at least k providers
/// answered and none holds one.
pub(super) async fn get(custody: &ShardedCustody, address: &Address) -> Result<Option<AccountRecord>> {
    let answers = custody.each(|_, provider| provider.store.get(address)).await;
    custody.failures("read the account", &answers);
    let mut public: Option<AccountRecord> = None;
    let mut slots = Vec::with_capacity(answers.len());
    let mut answered = 0;
    for (slot, (answer, provider)) in answers.into_iter().zip(&custody.providers).enumerate() {
        let answer = match answer
            .and_then(|item| item.map(|item| AccountRecord::from_item(&item)).transpose())
        {
            Ok(None) => {
                answered += 1;
                SlotAnswer::Missing
            }
            Ok(Some(record)) => {
                answered += 1;
                match &record.key {
                    StoredKey::Share(share) if share.index == slot_index(slot) => {
                        let share = share.clone();
                        // One disabled share refuses the key.
                        match &mut public {
                            Some(first) if first.disabled.is_none() => first.disabled = record.disabled,
                            Some(_) => {}
                            None => public = Some(record),
                        }
                        SlotAnswer::Share(share)
                    }
                    StoredKey::Share(share) => SlotAnswer::Failed(format!(
                        "it holds share {} in slot {}; keep the providers in the order the shares were made",
                        share.index,
                        slot_index(slot)
                    )),
                    _ => SlotAnswer::Failed("it holds a whole key, not a share".into()),
                }
            }
            Err(e) => SlotAnswer::Failed(e.to_string()),
        };
        slots.push(Slot { provider: provider.name.clone(), answer });
    }
    match public {
        Some(mut record) => {
            record.key = StoredKey::Sharded(ShareSet::new(custody.threshold, custody.count(), slots));
            Ok(Some(record))
        }
        None if answered >= custody.quorum() => Ok(None),
        None => Err(Error::Quorum {
            operation: "read the account",
            needed: custody.quorum(),
            got: answered,
            failures: describe(&ShareSet::new(custody.threshold, custody.count(), slots)),
        }),
    }
}

fn describe(set: &ShareSet) -> String {
    set.unanswered().iter().map(|(provider, why)| format!("{provider}: {why}")).collect::<Vec<_>>().join("; ")
}

/// One share opened by its provider's seal, in its own slot, and verified
/// against its commitments.
pub(super) struct Opened {
    pub(super) epoch: u32,
    pub(super) commitments: Commitments,
    pub(super) share: Share,
}

/// Opens every share that was read, each with its own provider's seal
/// and its slot's binding, and verifies each against its commitments; the
/// answers in slot order. Nothing is combined here.
pub(super) async fn open_each(
    custody: &ShardedCustody,
    address: Address,
    set: &ShareSet,
) -> Vec<Result<Opened>> {
    custody
        .each(|slot, provider| {
            let answer = set.slots.get(slot).map(|s| &s.answer);
            async move {
                match answer {
                    Some(SlotAnswer::Share(share)) => open_one(provider, address, share).await,
                    Some(SlotAnswer::Failed(why)) => Err(unsealed(address, why.clone())),
                    _ => Err(unsealed(address, "holds no share".into())),
                }
            }
        })
        .await
}

/// The shares of a refresh under way (`next_sealed_share`), opened and
/// verified like [`open_each`]; `None` for a slot without one.
pub(super) async fn open_next(
    custody: &ShardedCustody,
    address: Address,
    set: &ShareSet,
) -> Vec<Option<Result<Opened>>> {
    if !set.slots.iter().any(|s| matches!(&s.answer, SlotAnswer::Share(share) if share.next.is_some())) {
        return set.slots.iter().map(|_| None).collect();
    }
    custody
        .each(|slot, provider| {
            let next = match set.slots.get(slot).map(|s| &s.answer) {
                Some(SlotAnswer::Share(share)) => share.next_share(),
                _ => None,
            };
            async move {
                Ok(match next {
                    Some(share) => Some(open_one(provider, address, &share).await),
                    None => None,
                })
            }
        })
        .await
        .into_iter()
        .map(|answer| answer.unwrap_or_else(|e| Some(Err(e))))
        .collect()
}

fn unsealed(address: Address, reason: String) -> Error {
    Error::Unseal { address: address.to_string(), reason }
}

/// One share, opened with its provider's seal under its slot's binding,
/// and verified against its commitments.
pub(super) async fn open_one(provider: &Provider, address: Address, share: &SealedShare) -> Result<Opened> {
    let digest = share.commitments_digest();
    let ctx = SealContext::share(&address, provider.store.table(), share.binding(&digest));
    let value = provider.sealer.open_secret(ctx, &share.seal, &share.blob).await?;
    let share_value = Share::from_parts(share.index, value);
    if !share.commitments.verify(&share_value) {
        return Err(unsealed(
            address,
            format!("share {} does not verify against its commitments", share.index),
        ));
    }
    Ok(Opened { epoch: share.epoch, commitments: share.commitments.clone(), share: share_value })
}

/// The newest epoch that has at least k valid shares (of one set of
/// commitments), those shares and the commitments; epochs never mix.
pub(super) fn newest_quorum(
    custody: &ShardedCustody,
    opened: &[Result<Opened>],
) -> Option<(u32, Vec<Share>, Commitments)> {
    let valid: Vec<&Opened> = opened.iter().filter_map(|o| o.as_ref().ok()).collect();
    let mut epochs: Vec<u32> = valid.iter().map(|o| o.epoch).collect();
    epochs.sort_unstable_by(|a, b| b.cmp(a));
    epochs.dedup();
    epochs.into_iter().find_map(|epoch| {
        let first = valid.iter().find(|o| o.epoch == epoch)?;
        let shares: Vec<Share> = valid
            .iter()
            .filter(|o| o.epoch == epoch && o.commitments == first.commitments)
            .map(|o| o.share.clone())
            .collect();
        (shares.len() >= custody.quorum()).then(|| (epoch, shares, first.commitments.clone()))
    })
}

/// Opens the shares, combines k of the newest epoch that has k valid ones,
/// and checks the key derives the record's address; every share and the
/// key are zeroized when dropped here. Also names each provider passed
/// over, and why.
pub(super) async fn open(
    custody: &ShardedCustody,
    record: &AccountRecord,
) -> Result<(KeyMaterial, Vec<(String, String)>)> {
    let StoredKey::Sharded(set) = &record.key else {
        return Err(record.integrity("a sharded environment holds shares; this record holds a whole key"));
    };
    let address = record.address;
    let mut opened = open_each(custody, address, set).await;
    let pending: Vec<Result<Opened>> = open_next(custody, address, set).await.into_iter().flatten().collect();
    let passed_over: Vec<(String, String)> = opened
        .iter()
        .zip(&custody.providers)
        .filter_map(|(answer, provider)| {
            Some((provider.name.clone(), answer.as_ref().err()?.record_reason()))
        })
        .collect();
    for (provider, why) in &passed_over {
        tracing::warn!(address = %address, "opening {address} without provider {provider}: {why}");
    }
    // A refresh under way: its new epoch counts once k providers hold it.
    opened.extend(pending);
    let Some((_, shares, commitments)) = newest_quorum(custody, &opened) else {
        return Err(Error::Quorum {
            operation: "open their share",
            needed: custody.quorum(),
            got: opened.iter().filter(|o| o.is_ok()).count(),
            failures: passed_over.iter().map(|(p, why)| format!("{p}: {why}")).collect::<Vec<_>>().join("; "),
        });
    };
    // Each share was verified as it was opened.
    let key = vss::combine_verified(&shares, &commitments)
        .map_err(|e| record.integrity(format!("the shares did not combine: {e}")))?;
    let secret: Zeroizing<[u8; 32]> = key.reveal_bytes();
    Ok((verified_key(record, &secret)?, passed_over))
}
