//! How one share of a sharded key is stored at its provider, and the view
//! of every provider's share that a sharded environment reads.
//!
//! A share item is an account item like any other (same table, same
//! address key, same public attributes) whose key attribute is
//! `sealed_share` instead of `sealed_private_key`, with the public part of
//! the split beside it: `share_index`, `threshold`, `shares` (n), `epoch`
//! and the Feldman `commitments`. Each provider keeps the public part, so
//! any one of them can check its share alone.

use std::fmt;

use tiny_keccak::{Hasher as _, Keccak};

use crate::seal::ShareBinding;
use crate::store::item::{Attr, Item};
use crate::store::record::{
    COMMITMENTS, EPOCH, NEXT_COMMITMENTS, NEXT_EPOCH, NEXT_SEAL, NEXT_SEALED_SHARE, SEAL, SEALED_SHARE,
    SHARE_INDEX, SHARES, THRESHOLD,
};
use crate::vss::{self, Commitments};

/// One provider's share of a sharded key, sealed by that provider's seal.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedShare {
    /// 1..=n: the provider's slot.
    pub index: u8,
    pub threshold: u8,
    pub count: u8,
    /// Raised by every refresh; shares of different epochs never combine.
    pub epoch: u32,
    pub commitments: Commitments,
    pub seal: String,
    pub blob: Vec<u8>,
    /// A refresh under way: the share of the next epoch, same index.
    pub next: Option<Box<NextShare>>,
}

/// The next epoch's share of the same slot, written by a refresh before
/// any provider gives up its current one.
#[derive(Clone, PartialEq, Eq)]
pub struct NextShare {
    pub epoch: u32,
    pub commitments: Commitments,
    pub seal: String,
    pub blob: Vec<u8>,
}

impl fmt::Debug for NextShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NextShare {{ epoch: {}, seal: {:?}, blob: {} bytes }}",
            self.epoch,
            self.seal,
            self.blob.len()
        )
    }
}

impl SealedShare {
    /// The pending share as a share of its own (to open, or to promote).
    pub fn next_share(&self) -> Option<SealedShare> {
        let next = self.next.as_deref()?;
        Some(SealedShare {
            epoch: next.epoch,
            commitments: next.commitments.clone(),
            seal: next.seal.clone(),
            blob: next.blob.clone(),
            next: None,
            ..self.clone()
        })
    }
}

impl fmt::Debug for SealedShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SealedShare {{ index: {}, {}-of-{}, epoch: {}, seal: {:?}, blob: {} bytes }}",
            self.index,
            self.threshold,
            self.count,
            self.epoch,
            self.seal,
            self.blob.len()
        )?;
        if let Some(next) = &self.next {
            write!(f, " (next: epoch {}, {} bytes)", next.epoch, next.blob.len())?;
        }
        Ok(())
    }
}

/// `0x` + hex of the commitments, 33 bytes each, in order.
pub fn format_commitments(commitments: &Commitments) -> String {
    let bytes: Vec<u8> = commitments.to_bytes().concat();
    format!("0x{}", hex::encode(bytes))
}

/// `0x` + keccak-256 of the commitments: what a seal binds a share to.
pub fn commitments_digest(commitments: &Commitments) -> String {
    let mut keccak = Keccak::v256();
    for point in commitments.to_bytes() {
        keccak.update(&point);
    }
    let mut digest = [0u8; 32];
    keccak.finalize(&mut digest);
    format!("0x{}", hex::encode(digest))
}

fn parse_commitments(text: &str) -> Result<Commitments, String> {
    let bytes = text
        .strip_prefix("0x")
        .and_then(|digits| hex::decode(digits).ok())
        .ok_or("`commitments` is not 0x-prefixed hex")?;
    if bytes.is_empty() || bytes.len() % 33 != 0 {
        return Err(format!("`commitments` is {} bytes, not a whole number of 33-byte points", bytes.len()));
    }
    let points = bytes
        .chunks_exact(33)
        .map(|chunk| {
            let mut point = [0u8; 33];
            point.copy_from_slice(chunk);
            point
        })
        .collect();
    Commitments::from_bytes(points).map_err(|e| format!("`commitments`: {e}"))
}

impl SealedShare {
    /// The commitments' digest, once per use.
    pub fn commitments_digest(&self) -> String {
        commitments_digest(&self.commitments)
    }

    /// The binding its seal checks, with `digest` from
    /// [`SealedShare::commitments_digest`].
    pub fn binding<'a>(&self, digest: &'a str) -> ShareBinding<'a> {
        ShareBinding { index: self.index, epoch: self.epoch, commitments: digest }
    }

    /// Writes the share's attributes into `item`.
    pub(crate) fn write(&self, item: &mut Item) {
        item.insert(SEALED_SHARE, Attr::B(self.blob.clone()));
        item.insert(SEAL, Attr::S(self.seal.clone()));
        item.insert(SHARE_INDEX, Attr::N(self.index.to_string()));
        item.insert(THRESHOLD, Attr::N(self.threshold.to_string()));
        item.insert(SHARES, Attr::N(self.count.to_string()));
        item.insert(EPOCH, Attr::N(self.epoch.to_string()));
        item.insert(COMMITMENTS, Attr::S(format_commitments(&self.commitments)));
        for name in [NEXT_SEALED_SHARE, NEXT_SEAL, NEXT_EPOCH, NEXT_COMMITMENTS] {
            item.0.remove(name);
        }
        if let Some(next) = &self.next {
            item.insert(NEXT_SEALED_SHARE, Attr::B(next.blob.clone()));
            item.insert(NEXT_SEAL, Attr::S(next.seal.clone()));
            item.insert(NEXT_EPOCH, Attr::N(next.epoch.to_string()));
            item.insert(NEXT_COMMITMENTS, Attr::S(format_commitments(&next.commitments)));
        }
    }

    /// Reads the share's attributes of an item that has `sealed_share`.
    /// The reason names the attribute that is wrong.
    pub(crate) fn read(item: &Item) -> Result<Self, String> {
        let blob = match item.get(SEALED_SHARE) {
            Some(Attr::B(blob)) => blob.clone(),
            Some(other) => return Err(format!("`{SEALED_SHARE}` is of type {}, not B", other.type_name())),
            None => return Err(format!("`{SEALED_SHARE}` is missing")),
        };
        let text = |name: &str| match item.get(name) {
            Some(Attr::S(s)) => Ok(s.as_str()),
            Some(other) => Err(format!("`{name}` is of type {}, not S", other.type_name())),
            None => Err(format!("`{name}` is missing")),
        };
        let number = |name: &str| match item.get(name) {
            Some(Attr::N(n)) => n.parse::<u32>().map_err(|_| format!("`{name}` is not a whole number")),
            Some(other) => Err(format!("`{name}` is of type {}, not N", other.type_name())),
            None => Err(format!("`{name}` is missing")),
        };
        let small = |name: &str| {
            number(name).and_then(|n| {
                u8::try_from(n)
                    .ok()
                    .filter(|n| (1..=vss::MAX_SHARES).contains(n))
                    .ok_or(format!("`{name}` is {n}, outside 1..={}", vss::MAX_SHARES))
            })
        };
        let share = SealedShare {
            index: small(SHARE_INDEX)?,
            threshold: small(THRESHOLD)?,
            count: small(SHARES)?,
            epoch: number(EPOCH)?,
            commitments: parse_commitments(text(COMMITMENTS)?)?,
            seal: text(SEAL)?.to_owned(),
            blob,
            next: match item.get(NEXT_SEALED_SHARE) {
                None => None,
                Some(Attr::B(blob)) => Some(Box::new(NextShare {
                    epoch: number(NEXT_EPOCH)?,
                    commitments: parse_commitments(text(NEXT_COMMITMENTS)?)?,
                    seal: text(NEXT_SEAL)?.to_owned(),
                    blob: blob.clone(),
                })),
                Some(other) => {
                    return Err(format!("`{NEXT_SEALED_SHARE}` is of type {}, not B", other.type_name()));
                }
            },
        };
        if share.threshold < 2 || share.threshold > share.count || share.index > share.count {
            return Err(format!(
                "share {} of a {}-of-{} split is impossible",
                share.index, share.threshold, share.count
            ));
        }
        if share.commitments.threshold() != usize::from(share.threshold) {
            return Err(format!(
                "{} commitments for a threshold of {}",
                share.commitments.threshold(),
                share.threshold
            ));
        }
        Ok(share)
    }
}

/// What one provider answered for an address.
#[derive(Debug, Clone)]
pub enum SlotAnswer {
    /// Its share (not yet opened or verified).
    Share(SealedShare),
    /// It answered, and holds nothing for the address.
    Missing,
    /// It did not answer in time, failed, or held something unreadable.
    Failed(String),
}

/// One provider's slot in a [`ShareSet`].
#[derive(Debug, Clone)]
pub struct Slot {
    pub provider: String,
    pub answer: SlotAnswer,
}

/// Every provider's answer for one sharded account, in configured order:
/// what a sharded environment's read gives, and what its open combines.
#[derive(Debug, Clone)]
pub struct ShareSet {
    pub threshold: u8,
    pub count: u8,
    pub slots: Vec<Slot>,
    /// `sharded 2-of-3`, as listings show a record's seal.
    pub label: String,
}

impl ShareSet {
    pub fn new(threshold: u8, count: u8, slots: Vec<Slot>) -> Self {
        ShareSet { threshold, count, slots, label: format!("sharded {threshold}-of-{count}") }
    }

    /// The providers that gave no share, with why.
    pub fn unanswered(&self) -> Vec<(String, String)> {
        self.slots
            .iter()
            .filter_map(|slot| match &slot.answer {
                SlotAnswer::Share(_) => None,
                SlotAnswer::Missing => Some((slot.provider.clone(), "holds no share".to_owned())),
                SlotAnswer::Failed(why) => Some((slot.provider.clone(), why.clone())),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::PrivateKey;

    #[test]
    fn a_share_item_round_trips_and_names_what_is_wrong() {
        let key = PrivateKey::generate_os();
        let (_, commitments) = vss::split(&key, 2, 3, &mut rand_core::OsRng).unwrap();
        let share = SealedShare {
            index: 3,
            threshold: 2,
            count: 3,
            epoch: 7,
            commitments,
            seal: "local:0011223344556677".into(),
            blob: vec![1, 2, 3],
            next: None,
        };
        let mut item = Item::default();
        share.write(&mut item);
        assert_eq!(SealedShare::read(&item).unwrap(), share);
        assert!(!format!("{share:?}").contains("[1, 2, 3]"));

        let mut wrong = item.clone();
        wrong.insert(SHARE_INDEX, Attr::N("4".into()));
        assert!(SealedShare::read(&wrong).unwrap_err().contains("impossible"));
        let mut wrong = item.clone();
        wrong.insert(THRESHOLD, Attr::N("3".into()));
        assert!(SealedShare::read(&wrong).unwrap_err().contains("commitments for a threshold"));
        let mut wrong = item.clone();
        wrong.insert(COMMITMENTS, Attr::S("0x1234".into()));
        assert!(SealedShare::read(&wrong).unwrap_err().contains("33-byte points"));
        let mut wrong = item;
        wrong.0.remove(EPOCH);
        assert_eq!(SealedShare::read(&wrong).unwrap_err(), "`epoch` is missing");
    }
}
