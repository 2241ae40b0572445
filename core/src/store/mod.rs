//! Account stores. A store keeps [`Item`]s by address and never overwrites
//! one; the mapping between items and [`AccountRecord`]s lives in
//! [`record`], once for every store.

pub mod dynamo;
pub mod embedded;
pub(crate) mod item;
pub mod postgres;
pub mod record;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

pub use item::{Attr, Item};
pub use record::{ADDRESS, AccountRecord, Scheme, StoredKey};

use crate::account::Address;
use crate::error::Result;

/// Where to resume paging: the stored address of the last item returned.
/// It can be printed and passed back later (`rossignol list --after`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

/// One page of items and, unless this was the last page, where to resume.
#[derive(Debug, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<Cursor>,
}

/// One segment of a parallel scan: `index` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub index: u32,
    pub total: u32,
}

impl Segment {
    pub const WHOLE: Segment = Segment { index: 0, total: 1 };
}

/// How a table setting looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    /// The endpoint does not report this setting (DynamoDB Local).
    NotReported,
    Wrong,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SettingCheck {
    pub setting: &'static str,
    pub status: CheckStatus,
    pub detail: String,
}

/// What `describe` reports about a table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableReport {
    pub table: String,
    /// The endpoint or file the table lives at.
    pub location: String,
    pub item_count: Option<u64>,
    /// DynamoDB refreshes its count about every six hours.
    pub item_count_is_estimate: bool,
    pub checks: Vec<SettingCheck>,
}

impl TableReport {
    pub fn is_healthy(&self) -> bool {
        self.checks.iter().all(|c| c.status != CheckStatus::Wrong)
    }
}

/// What `init` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InitOutcome {
    pub created: bool,
    pub report: TableReport,
}

/// A table of accounts.
#[async_trait]
pub trait AccountStore: Send + Sync + fmt::Debug {
    /// The table's name; sealed keys are bound to it.
    fn table(&self) -> &str;

    /// Writes `item` only if no item has its address. A collision fails
    /// with `AlreadyExists` and leaves the existing item untouched.
    async fn create(&self, item: &Item) -> Result<()>;

    async fn get(&self, address: &Address) -> Result<Option<Item>>;

    /// Writes `new` in place of `current` only if the stored item is still
    /// `current`: one conditional write, so a row changed (or removed)
    /// meanwhile fails with `Changed` and is never clobbered. Both items
    /// must carry the same address. DynamoDB checks every attribute of
    /// `current` and the absence of every attribute Rossignol writes, and
    /// updates only what differs, so an attribute unknown to Rossignol
    /// that another writer added meanwhile is kept; the embedded and
    /// PostgreSQL stores compare the whole item and refuse such a row as
    /// changed.
    async fn replace(&self, current: &Item, new: &Item) -> Result<()>;

    /// Removes the item only if the stored item is still `current` (one
    /// conditional delete): what a failed sharded create uses to take back
    /// the shares it wrote. A row changed meanwhile fails with `Changed`.
    async fn remove(&self, current: &Item) -> Result<()>;

    /// Up to `limit` items of one scan segment, after `after`.
    async fn scan_segment(&self, segment: Segment, after: Option<&Cursor>, limit: usize) -> Result<Page>;

    /// Up to `limit` items of the whole table, after `after`.
    async fn page(&self, after: Option<&Cursor>, limit: usize) -> Result<Page> {
        self.scan_segment(Segment::WHOLE, after, limit).await
    }

    /// Count and settings.
    async fn describe(&self) -> Result<TableReport>;

    /// Creates the table if it is missing, then reports its settings.
    async fn init(&self) -> Result<InitOutcome>;
}

/// The address both items of a [`AccountStore::replace`] carry.
pub(crate) fn replaced_address(current: &Item, new: &Item) -> Result<String> {
    match (current.address(), new.address()) {
        (Some(a), Some(b)) if a == b => Ok(a.to_owned()),
        (a, _) => Err(crate::error::Error::MalformedRecord {
            address: a.unwrap_or("<missing>").to_owned(),
            reason: "a replacement must keep the item's address".into(),
        }),
    }
}

/// Scans the whole table in `segments` concurrent segments. Pages arrive
/// on the returned channel as they are read; its small bound keeps memory
/// flat however large the table. Dropping the receiver stops the scan.
pub fn parallel_scan(
    store: Arc<dyn AccountStore>,
    segments: u32,
    page_size: usize,
) -> mpsc::Receiver<Result<Vec<Item>>> {
    let segments = segments.max(1);
    let (tx, rx) = mpsc::channel(segments as usize * 2);
    for index in 0..segments {
        let store = Arc::clone(&store);
        let tx = tx.clone();
        tokio::spawn(async move {
            let segment = Segment { index, total: segments };
            let mut after: Option<Cursor> = None;
            loop {
                match store.scan_segment(segment, after.as_ref(), page_size).await {
                    Ok(page) => {
                        let done = page.next.is_none();
                        if !page.items.is_empty() && tx.send(Ok(page.items)).await.is_err() {
                            return;
                        }
                        if done {
                            return;
                        }
                        after = page.next;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        });
    }
    rx
}
