//! The PostgreSQL store: accounts in `<table>` (address, item JSONB) and
//! the access trail in `<table>_access` (address, accessed, item JSONB),
//! the items being the same DynamoDB-style JSON the embedded store keeps.
//! Same contract as the other stores: create never overwrites, a replace
//! is one conditional write, scans run in segments.

use std::fmt;

use async_trait::async_trait;
use md5::{Digest as _, Md5};
use tokio_postgres::types::Json;

use super::{AccountStore, Attr, Cursor, InitOutcome, Item, Page, Segment, TableReport};
use crate::access::{ACCESSED, AccessRecord, AccessTrail, RUNS, RunRecord};
use crate::account::Address;
use crate::error::{Error, Result};

mod connection;
mod schema;

use connection::Connection;
pub use connection::redact_url;

/// A table of accounts and its access trail in one PostgreSQL database.
/// Cheap to clone: clones share one pool.
#[derive(Clone)]
pub struct PostgresStore {
    conn: Connection,
    table: String,
    trail: String,
    sql: Statements,
}

/// Every statement, written once for the validated table names.
#[derive(Clone)]
struct Statements {
    insert: String,
    select: String,
    update: String,
    delete: String,
    scan: String,
    count: String,
    trail_insert: String,
    trail_latest: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.conn.location())
            .field("user", &self.conn.user)
            .field("table", &self.table)
            .field("transport", &self.conn.transport)
            .finish()
    }
}

/// The longest name whose `_access` table still fits PostgreSQL's 63 bytes.
const MAX_TABLE_NAME: usize = 63 - "_access".len();

/// Refuses anything but a plain identifier, so a name is never SQL.
pub fn validate_table_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_TABLE_NAME;
    if valid {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "{name:?} cannot be a PostgreSQL table name here; use 1 to {MAX_TABLE_NAME} ASCII letters, digits or underscores, starting with a letter or underscore"
        )))
    }
}

/// The scan segment (of `total`) that holds `address`: the first four
/// bytes of md5(address), big-endian, modulo `total`; the scan query
/// computes the same in SQL.
pub fn segment_of(address: &str, total: u32) -> u32 {
    let digest = Md5::digest(address.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % total.max(1)
}

impl PostgresStore {
    /// Checks `url` and `table` and sets up the pool; the server is first
    /// contacted by the first operation. `url` is
    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=require]`.
    pub fn connect(url: &str, table: &str) -> Result<Self> {
        validate_table_name(table)?;
        let conn = Connection::open(url)?;
        let trail = format!("{table}_access");
        let (t, a) = (quote(table), quote(&trail));
        let sql = Statements {
            insert: format!(
                "INSERT INTO {t} (address, item) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING address"
            ),
            select: format!("SELECT item FROM {t} WHERE address = $1"),
            update: format!("UPDATE {t} SET item = $3 WHERE address = $1 AND item = $2 RETURNING address"),
            delete: format!("DELETE FROM {t} WHERE address = $1 AND item = $2 RETURNING address"),
            scan: format!(
                "SELECT address, item FROM {t} WHERE address > $1 \
                 AND ($2::bigint = 1 OR ('x' || left(md5(address), 8))::bit(32)::bigint % $2::bigint = $3::bigint) \
                 ORDER BY address LIMIT $4::bigint"
            ),
            count: format!("SELECT count(*) FROM {t}"),
            trail_insert: format!(
                "INSERT INTO {a} (address, accessed, item) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING address"
            ),
            trail_latest: format!("SELECT item FROM {a} WHERE address = $1 ORDER BY accessed DESC LIMIT $2"),
        };
        Ok(PostgresStore { conn, table: table.to_owned(), trail, sql })
    }

    /// Where the tables live: `host:port/database`, never the password.
    pub fn location(&self) -> String {
        self.conn.location()
    }

    /// Runs one statement and returns its rows (writes return the
    /// address they wrote); `table` is what a missing-relation error names.
    async fn query(
        &self,
        operation: &'static str,
        table: &str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>> {
        let client = self.conn.client(operation).await?;
        self.conn
            .timed(operation, table, async {
                let statement = client.prepare_cached(sql).await?;
                client.query(&statement, params).await
            })
            .await
    }

    /// Appends one trail entry, keyed by its own `address` and `accessed`
    /// (as DynamoDB keys it), never over one; `subject` names it in errors.
    async fn append_entry(&self, item: &Item, subject: String) -> Result<()> {
        let partition = address_of(item)?;
        let sort_key = item.get(ACCESSED).and_then(Attr::as_s).ok_or_else(|| Error::MalformedRecord {
            address: partition.to_owned(),
            reason: "a trail entry without `accessed`".into(),
        })?;
        let written = self
            .query("append", &self.trail, &self.sql.trail_insert, &[&partition, &sort_key, &Json(item)])
            .await?;
        if written.is_empty() {
            return Err(Error::AlreadyExists { address: subject, table: self.trail.clone() });
        }
        Ok(())
    }

    async fn latest_entries(&self, partition: &str, limit: usize) -> Result<Vec<Item>> {
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let rows = self.query("latest", &self.trail, &self.sql.trail_latest, &[&partition, &limit]).await?;
        rows.iter().map(|row| decode(partition, row, 0)).collect()
    }
}

/// `name` as a quoted identifier; [`validate_table_name`] already
/// refused anything that would need escaping.
fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

/// The item in `column`. A malformed one is named by its attribute, never
/// shown: serde's message would quote the value, which may be a key.
fn decode(address: &str, row: &tokio_postgres::Row, column: usize) -> Result<Item> {
    let malformed = |reason: String| Error::MalformedRecord { address: address.to_owned(), reason };
    let value: serde_json::Value =
        row.try_get(column).map_err(|_| malformed("the stored item is not JSON".into()))?;
    let serde_json::Value::Object(attributes) = value else {
        return Err(malformed("the stored item is not a JSON object".into()));
    };
    let mut item = Item::default();
    for (name, value) in attributes {
        let attr = serde_json::from_value::<Attr>(value).map_err(|_| {
            malformed(format!("attribute `{name}` is not a typed value such as {{\"S\": \"...\"}}"))
        })?;
        item.0.insert(name, attr);
    }
    Ok(item)
}

fn address_of(item: &Item) -> Result<&str> {
    item.address()
        .ok_or_else(|| Error::MalformedRecord { address: "<missing>".into(), reason: "no address".into() })
}

#[async_trait]
impl AccountStore for PostgresStore {
    fn table(&self) -> &str {
        &self.table
    }

    async fn create(&self, item: &Item) -> Result<()> {
        let address = address_of(item)?;
        let written = self.query("create", &self.table, &self.sql.insert, &[&address, &Json(item)]).await?;
        if written.is_empty() {
            return Err(Error::AlreadyExists { address: address.to_owned(), table: self.table.clone() });
        }
        Ok(())
    }

    /// Compares the whole stored item, like the embedded store: a row
    /// another writer changed in any way (an attribute added) is refused.
    async fn replace(&self, current: &Item, new: &Item) -> Result<()> {
        let address = super::replaced_address(current, new)?;
        let written = self
            .query("replace", &self.table, &self.sql.update, &[&address, &Json(current), &Json(new)])
            .await?;
        if written.is_empty() {
            return Err(Error::Changed { address, table: self.table.clone() });
        }
        Ok(())
    }

    async fn remove(&self, current: &Item) -> Result<()> {
        let address = current.address().unwrap_or_default().to_owned();
        let removed =
            self.query("remove", &self.table, &self.sql.delete, &[&address, &Json(current)]).await?;
        if removed.is_empty() {
            return Err(Error::Changed { address, table: self.table.clone() });
        }
        Ok(())
    }

    async fn get(&self, address: &Address) -> Result<Option<Item>> {
        let key = address.to_storage();
        let rows = self.query("get", &self.table, &self.sql.select, &[&key]).await?;
        rows.first().map(|row| decode(&key, row, 0)).transpose()
    }

    async fn scan_segment(&self, segment: Segment, after: Option<&Cursor>, limit: usize) -> Result<Page> {
        let limit = limit.max(1);
        let after = after.map_or("", |c| c.0.as_str());
        let total = i64::from(segment.total.max(1));
        let index = i64::from(segment.index);
        // One more than asked says whether there is a next page.
        let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
        let rows = self.query("scan", &self.table, &self.sql.scan, &[&after, &total, &index, &fetch]).await?;
        let more = rows.len() > limit;
        let mut items = Vec::with_capacity(rows.len().min(limit));
        for row in rows.iter().take(limit) {
            let address: String = row.try_get(0).map_err(|e| self.conn.error("scan", &self.table, e))?;
            items.push(decode(&address, row, 1)?);
        }
        let next =
            if more { items.last().and_then(Item::address).map(|a| Cursor(a.to_owned())) } else { None };
        Ok(Page { items, next })
    }

    async fn describe(&self) -> Result<TableReport> {
        let client = self.conn.client("describe").await?;
        let checks = schema::checks(&client, &self.conn, &self.table, &self.trail);
        let checks = self
            .conn
            .timed("describe", &self.table, checks)
            .await?
            .ok_or_else(|| Error::TableMissing { table: self.table.clone() })?;
        let count = self.conn.timed("describe", &self.table, client.query_one(&self.sql.count, &[])).await?;
        let count: i64 = count.try_get(0).map_err(|e| self.conn.error("describe", &self.table, e))?;
        Ok(TableReport {
            table: self.table.clone(),
            location: self.conn.location(),
            item_count: u64::try_from(count).ok(),
            item_count_is_estimate: false,
            checks,
        })
    }

    /// Creates both tables if missing; `created` is true only if this call
    /// created the accounts table.
    async fn init(&self) -> Result<InitOutcome> {
        let mut client = self.conn.client("init").await?;
        let created = self
            .conn
            .timed(
                "init",
                &self.table,
                schema::create(&mut client, &[schema::accounts(&self.table), schema::trail(&self.trail)]),
            )
            .await?;
        drop(client);
        Ok(InitOutcome { created: created.first().copied().unwrap_or(false), report: self.describe().await? })
    }
}

#[async_trait]
impl AccessTrail for PostgresStore {
    fn name(&self) -> &str {
        &self.trail
    }

    async fn append(&self, record: &AccessRecord) -> Result<()> {
        self.append_entry(&record.to_item(), record.address.to_string()).await
    }

    async fn latest(&self, address: &Address, limit: usize) -> Result<Vec<AccessRecord>> {
        let items = self.latest_entries(&address.to_storage(), limit).await?;
        items.iter().map(AccessRecord::from_item).collect()
    }

    async fn append_run(&self, run: &RunRecord) -> Result<()> {
        self.append_entry(&run.to_item(), RUNS.to_owned()).await
    }

    async fn latest_runs(&self, limit: usize) -> Result<Vec<RunRecord>> {
        let items = self.latest_entries(RUNS, limit).await?;
        items.iter().map(RunRecord::from_item).collect()
    }

    async fn init(&self) -> Result<bool> {
        let mut client = self.conn.client("init").await?;
        let created = self
            .conn
            .timed("init", &self.trail, schema::create(&mut client, &[schema::trail(&self.trail)]))
            .await?;
        Ok(created.first().copied().unwrap_or(false))
    }
}

#[cfg(test)]
mod tests;
