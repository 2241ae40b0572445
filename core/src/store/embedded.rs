//! The embedded store: one redb file, for the zero-setup `local`
//! environment. Same semantics as DynamoDB: items by address, create never
//! overwrites, scans in segments.
//!
//! Items are kept as JSON in DynamoDB's `{"S": ...}` style, so both stores
//! read and write exactly the same attributes.

use std::fmt;
use std::ops::Bound;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use redb::{
    Database, ReadableDatabase as _, ReadableTable as _, ReadableTableMetadata as _, TableDefinition,
};

use super::{AccountStore, CheckStatus, Cursor, InitOutcome, Item, Page, Segment, SettingCheck, TableReport};
use crate::access::{AccessRecord, AccessTrail, RUNS, RunRecord};
use crate::account::Address;
use crate::error::{Error, Result};
use crate::private_fs;

const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");
/// The access trail: `address#accessed` (or `#runs#accessed`) -> item JSON.
const ACCESS: TableDefinition<&str, &[u8]> = TableDefinition::new("access");

/// Cheap to clone: clones share one open database.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    path: Arc<PathBuf>,
    table: Arc<str>,
}

impl fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedStore").field("path", &self.path).field("table", &self.table).finish()
    }
}

impl EmbeddedStore {
    /// Opens (or creates) the database file. `table` names the logical
    /// table, to which sealed keys are bound.
    pub fn open(path: &Path, table: impl Into<String>) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            private_fs::create_private_dir(dir)?;
        }
        // Sealed keys only, but still nobody else's business: create the
        // file 0600 before redb initialises it, and refuse one that is a
        // link, someone else's or open to others.
        private_fs::open_private(
            path,
            "embedded store",
            std::fs::OpenOptions::new().create(true).append(true).mode(0o600),
        )?;
        let db = Database::create(path).map_err(|e| Error::Embedded {
            path: path.display().to_string(),
            message: format!("{e}; if another `rossignol` is running on this environment, close it first"),
        })?;
        let table: String = table.into();
        let store = EmbeddedStore { db: Arc::new(db), path: Arc::new(path.to_owned()), table: table.into() };
        // Create both tables up front so readers never meet a missing one.
        store.write(ACCOUNTS, |_| Ok(()))?;
        store.write(ACCESS, |_| Ok(()))?;
        Ok(store)
    }

    fn err(&self, e: impl fmt::Display) -> Error {
        Error::Embedded { path: self.path.display().to_string(), message: e.to_string() }
    }

    /// One write transaction on `definition`, committed if `f` succeeds.
    fn write<T>(
        &self,
        definition: TableDefinition<&str, &[u8]>,
        f: impl FnOnce(&mut redb::Table<&str, &[u8]>) -> Result<T>,
    ) -> Result<T> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        let out = {
            let mut table = txn.open_table(definition).map_err(|e| self.err(e))?;
            f(&mut table)?
        };
        txn.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    fn read<T>(&self, f: impl FnOnce(&redb::ReadOnlyTable<&str, &[u8]>) -> Result<T>) -> Result<T> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = txn.open_table(ACCOUNTS).map_err(|e| self.err(e))?;
        f(&table)
    }

    /// Fails with `Changed` unless the stored item at `key` is `current`.
    fn ensure_unchanged(&self, table: &redb::Table<&str, &[u8]>, key: &str, current: &Item) -> Result<()> {
        let stored = match table.get(key).map_err(|e| self.err(e))? {
            Some(value) => Some(self.decode(key, value.value())?),
            None => None,
        };
        if stored.as_ref() != Some(current) {
            return Err(Error::Changed { address: key.to_owned(), table: self.table.to_string() });
        }
        Ok(())
    }

    fn decode(&self, key: &str, bytes: &[u8]) -> Result<Item> {
        serde_json::from_slice(bytes).map_err(|e| Error::MalformedRecord {
            address: key.to_owned(),
            reason: format!("the embedded entry is not a valid item ({e})"),
        })
    }

    /// Appends one trail entry under `partition#sort_key`, never over one.
    async fn append_entry(
        &self,
        partition: &str,
        sort_key: &str,
        item: &Item,
        subject: String,
    ) -> Result<()> {
        let key = format!("{partition}#{sort_key}");
        let bytes = serde_json::to_vec(item).map_err(|e| self.err(e))?;
        self.blocking(move |store| {
            store.write(ACCESS, |table| {
                if table.get(key.as_str()).map_err(|e| store.err(e))?.is_some() {
                    return Err(Error::AlreadyExists { address: subject, table: "access".into() });
                }
                table.insert(key.as_str(), bytes.as_slice()).map_err(|e| store.err(e))?;
                Ok(())
            })
        })
        .await
    }

    /// The latest `limit` trail entries of `partition`, newest first.
    async fn latest_entries(&self, partition: String, limit: usize) -> Result<Vec<Item>> {
        // `#` sorts before `$`, so this range is exactly the partition's keys.
        let low = format!("{partition}#");
        let high = format!("{partition}$");
        self.blocking(move |store| {
            let txn = store.db.begin_read().map_err(|e| store.err(e))?;
            let table = txn.open_table(ACCESS).map_err(|e| store.err(e))?;
            let mut out = Vec::new();
            for entry in table.range::<&str>(low.as_str()..high.as_str()).map_err(|e| store.err(e))?.rev() {
                if out.len() >= limit.max(1) {
                    break;
                }
                let (key, value) = entry.map_err(|e| store.err(e))?;
                out.push(store.decode(key.value(), value.value())?);
            }
            Ok(out)
        })
        .await
    }

    /// Runs blocking redb work off the async executor.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&EmbeddedStore) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || f(&this)).await.map_err(|e| self.err(e))?
    }
}

/// Addresses are uniformly distributed, so segment `i` of `n` takes the
/// addresses whose first byte falls in the `i`-th of `n` equal ranges.
fn segment_bounds(segment: Segment) -> (String, Option<String>) {
    let total = u32::from(segment.total.clamp(1, 256) as u16);
    let index = segment.index.min(total - 1);
    let low = 256 * index / total;
    let high = 256 * (index + 1) / total;
    let low_key = format!("0x{low:02x}");
    let high_key = (high < 256).then(|| format!("0x{high:02x}"));
    (if index == 0 { String::new() } else { low_key }, high_key)
}

#[async_trait]
impl AccountStore for EmbeddedStore {
    fn table(&self) -> &str {
        &self.table
    }

    async fn create(&self, item: &Item) -> Result<()> {
        let key = item
            .address()
            .ok_or_else(|| Error::MalformedRecord {
                address: "<missing>".into(),
                reason: "no address".into(),
            })?
            .to_owned();
        let bytes = serde_json::to_vec(item).map_err(|e| self.err(e))?;
        self.blocking(move |store| {
            store.write(ACCOUNTS, |table| {
                if table.get(key.as_str()).map_err(|e| store.err(e))?.is_some() {
                    return Err(Error::AlreadyExists {
                        address: key.clone(),
                        table: store.table.to_string(),
                    });
                }
                table.insert(key.as_str(), bytes.as_slice()).map_err(|e| store.err(e))?;
                Ok(())
            })
        })
        .await
    }

    async fn replace(&self, current: &Item, new: &Item) -> Result<()> {
        let key = super::replaced_address(current, new)?;
        let current = current.clone();
        let bytes = serde_json::to_vec(new).map_err(|e| self.err(e))?;
        self.blocking(move |store| {
            store.write(ACCOUNTS, |table| {
                store.ensure_unchanged(table, &key, &current)?;
                table.insert(key.as_str(), bytes.as_slice()).map_err(|e| store.err(e))?;
                Ok(())
            })
        })
        .await
    }

    async fn remove(&self, current: &Item) -> Result<()> {
        let key = current.address().unwrap_or_default().to_owned();
        let current = current.clone();
        self.blocking(move |store| {
            store.write(ACCOUNTS, |table| {
                store.ensure_unchanged(table, &key, &current)?;
                table.remove(key.as_str()).map_err(|e| store.err(e))?;
                Ok(())
            })
        })
        .await
    }

    async fn get(&self, address: &Address) -> Result<Option<Item>> {
        let key = address.to_storage();
        self.blocking(move |store| {
            store.read(|table| match table.get(key.as_str()).map_err(|e| store.err(e))? {
                Some(value) => store.decode(&key, value.value()).map(Some),
                None => Ok(None),
            })
        })
        .await
    }

    async fn scan_segment(&self, segment: Segment, after: Option<&Cursor>, limit: usize) -> Result<Page> {
        let after = after.map(|c| c.0.clone());
        let limit = limit.max(1);
        self.blocking(move |store| {
            store.read(|table| {
                let (low, high) = segment_bounds(segment);
                let start = match &after {
                    Some(cursor) if *cursor >= low => Bound::Excluded(cursor.as_str()),
                    _ => Bound::Included(low.as_str()),
                };
                let end = match &high {
                    Some(high) => Bound::Excluded(high.as_str()),
                    None => Bound::Unbounded,
                };
                let mut items = Vec::with_capacity(limit.min(1024));
                let mut more = false;
                for entry in table.range::<&str>((start, end)).map_err(|e| store.err(e))? {
                    let (key, value) = entry.map_err(|e| store.err(e))?;
                    if items.len() == limit {
                        more = true;
                        break;
                    }
                    items.push(store.decode(key.value(), value.value())?);
                }
                let next = if more {
                    items.last().and_then(Item::address).map(|a| Cursor(a.to_owned()))
                } else {
                    None
                };
                Ok(Page { items, next })
            })
        })
        .await
    }

    async fn describe(&self) -> Result<TableReport> {
        self.blocking(|store| {
            let count = store.read(|table| table.len().map_err(|e| store.err(e)))?;
            Ok(TableReport {
                table: store.table.to_string(),
                location: store.path.display().to_string(),
                item_count: Some(count),
                item_count_is_estimate: false,
                checks: vec![SettingCheck {
                    setting: "storage",
                    status: CheckStatus::Ok,
                    detail: "embedded redb file; keys are sealed with the local key".into(),
                }],
            })
        })
        .await
    }

    async fn init(&self) -> Result<InitOutcome> {
        // `open` already created the file and the table.
        Ok(InitOutcome { created: false, report: self.describe().await? })
    }
}

#[async_trait]
impl AccessTrail for EmbeddedStore {
    fn name(&self) -> &str {
        "the embedded access trail"
    }

    async fn append(&self, record: &AccessRecord) -> Result<()> {
        let partition = record.address.to_storage();
        self.append_entry(&partition, &record.sort_key(), &record.to_item(), record.address.to_string()).await
    }

    async fn latest(&self, address: &Address, limit: usize) -> Result<Vec<AccessRecord>> {
        let items = self.latest_entries(address.to_storage(), limit).await?;
        items.iter().map(AccessRecord::from_item).collect()
    }

    async fn append_run(&self, run: &RunRecord) -> Result<()> {
        self.append_entry(RUNS, &run.sort_key(), &run.to_item(), RUNS.to_owned()).await
    }

    async fn latest_runs(&self, limit: usize) -> Result<Vec<RunRecord>> {
        let items = self.latest_entries(RUNS.to_owned(), limit).await?;
        items.iter().map(RunRecord::from_item).collect()
    }

    async fn init(&self) -> Result<bool> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn the_directory_is_made_0700_and_a_file_open_to_others_or_linked_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let data = dir.path().join("data");
        let path = data.join("local.redb");
        drop(EmbeddedStore::open(&path, "t").unwrap_or_else(|e| panic!("{e}")));
        let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777).ok();
        assert_eq!(mode(&data), Some(0o700));
        assert_eq!(mode(&path), Some(0o600));

        let set = |m| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m));
        set(0o644).unwrap_or_else(|e| panic!("{e}"));
        let err = EmbeddedStore::open(&path, "t").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(&format!("chmod 600 {}", path.display())), "{err}");
        set(0o600).unwrap_or_else(|e| panic!("{e}"));

        let link = dir.path().join("link.redb");
        std::os::unix::fs::symlink(&path, &link).unwrap_or_else(|e| panic!("{e}"));
        let err = EmbeddedStore::open(&link, "t").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("replace the symlink"), "{err}");
    }

    #[test]
    fn segments_cover_every_first_byte_exactly_once() {
        for total in [1u32, 2, 3, 7, 8, 16, 255, 256] {
            let mut covered = [0u8; 256];
            for index in 0..total {
                let (low, high) = segment_bounds(Segment { index, total });
                for byte in 0..256u32 {
                    let key = format!("0x{byte:02x}00");
                    let inside =
                        key.as_str() >= low.as_str() && high.as_deref().is_none_or(|h| key.as_str() < h);
                    if inside {
                        covered[byte as usize] += 1;
                    }
                }
            }
            assert!(covered.iter().all(|&c| c == 1), "total {total}: {covered:?}");
        }
    }
}
