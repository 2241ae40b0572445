//! The two tables: how `init` creates them and how `describe` checks them.

use tokio_postgres::{Client, Error as PgError};

use super::connection::Connection;
use super::quote;
use crate::store::{CheckStatus, SettingCheck};

/// One table `init` makes: its name, its columns, its primary key.
pub(super) struct Table {
    name: String,
    columns: &'static [(&'static str, &'static str)],
    key: &'static [&'static str],
}

/// Byte order (`COLLATE "C"`), as DynamoDB sorts keys: cursors and the
/// trail's newest-first order never depend on the server's locale.
pub(super) fn accounts(name: &str) -> Table {
    Table { name: name.to_owned(), columns: &[("address", "text"), ("item", "jsonb")], key: &["address"] }
}

pub(super) fn trail(name: &str) -> Table {
    Table {
        name: name.to_owned(),
        columns: &[("address", "text"), ("accessed", "text"), ("item", "jsonb")],
        key: &["address", "accessed"],
    }
}

impl Table {
    fn create_sql(&self) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|(name, kind)| {
                let collate = if *kind == "text" { " COLLATE \"C\"" } else { "" };
                format!("{name} {}{collate} NOT NULL", kind.to_uppercase())
            })
            .collect();
        format!(
            "CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ({}))",
            quote(&self.name),
            columns.join(", "),
            self.key.join(", ")
        )
    }

    fn expected(&self) -> String {
        let columns: Vec<String> = self.columns.iter().map(|(name, kind)| format!("{name} {kind}")).collect();
        format!("{}; primary key ({})", columns.join(", "), self.key.join(", "))
    }
}

/// Creates each missing table in one transaction, under a lock that
/// serializes concurrent `init`s, and says which ones it created.
pub(super) async fn create(client: &mut Client, tables: &[Table]) -> Result<Vec<bool>, PgError> {
    let transaction = client.transaction().await?;
    transaction.execute("SELECT pg_advisory_xact_lock(hashtext('rossignol init'))", &[]).await?;
    let mut created = Vec::with_capacity(tables.len());
    for table in tables {
        let exists: bool = transaction
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&quote(&table.name)])
            .await?
            .try_get(0)?;
        if !exists {
            transaction.batch_execute(&table.create_sql()).await?;
        }
        created.push(!exists);
    }
    transaction.commit().await?;
    Ok(created)
}

/// The settings checks, or `None` when the accounts table is missing.
pub(super) async fn checks(
    client: &Client,
    conn: &Connection,
    accounts_table: &str,
    trail_table: &str,
) -> Result<Option<Vec<SettingCheck>>, PgError> {
    let Some(accounts_check) = shape_check(client, "accounts table", &accounts(accounts_table)).await? else {
        return Ok(None);
    };
    let trail_check = match shape_check(client, "access trail table", &trail(trail_table)).await? {
        Some(check) => check,
        None => SettingCheck {
            setting: "access trail table",
            status: CheckStatus::Wrong,
            detail: format!("{trail_table} is missing; run `rossignol init` for this environment"),
        },
    };
    Ok(Some(vec![accounts_check, trail_check, transport_check(client, conn).await?, SettingCheck {
        setting: "encryption at rest",
        status: CheckStatus::NotReported,
        detail: "PostgreSQL does not report whether its disks are encrypted; keys are sealed before they are stored"
            .into(),
    }]))
}

/// Columns and primary key as the catalog has them, `None` if no table.
async fn shape_check(
    client: &Client,
    setting: &'static str,
    table: &Table,
) -> Result<Option<SettingCheck>, PgError> {
    let rows = client
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), \
                    array_position(i.indkey::int2[], a.attnum) \
             FROM pg_attribute a \
             LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary \
             WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
            &[&quote(&table.name)],
        )
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut columns = Vec::new();
    let mut key: Vec<(i32, String)> = Vec::new();
    for row in &rows {
        let (name, kind, position): (String, String, Option<i32>) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if let Some(position) = position {
            key.push((position, name.clone()));
        }
        columns.push(format!("{name} {kind}"));
    }
    key.sort();
    let key: Vec<String> = key.into_iter().map(|(_, name)| name).collect();
    let found = format!("{}; primary key ({})", columns.join(", "), key.join(", "));
    let has_columns = table.columns.iter().all(|(name, kind)| columns.contains(&format!("{name} {kind}")));
    Ok(Some(if has_columns && key == table.key {
        SettingCheck { setting, status: CheckStatus::Ok, detail: format!("{}: {found}", table.name) }
    } else {
        SettingCheck {
            setting,
            status: CheckStatus::Wrong,
            detail: format!("{}: expected {}, found {found}", table.name, table.expected()),
        }
    }))
}

/// Whether this very connection is encrypted, as the server sees it.
async fn transport_check(client: &Client, conn: &Connection) -> Result<SettingCheck, PgError> {
    let setting = "transport";
    let row =
        client.query_opt("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).await?;
    let (tls, version): (bool, Option<String>) = match row {
        Some(row) => (row.try_get(0)?, row.try_get(1)?),
        None => (false, None),
    };
    Ok(if tls {
        let version = version.unwrap_or_else(|| "TLS".into());
        SettingCheck {
            setting,
            status: CheckStatus::Ok,
            detail: format!("{version}, server certificate verified"),
        }
    } else if conn.loopback {
        SettingCheck {
            setting,
            status: CheckStatus::Ok,
            detail: format!("not encrypted; the server is on this machine ({})", conn.endpoint),
        }
    } else {
        SettingCheck {
            setting,
            status: CheckStatus::Wrong,
            detail: format!("not encrypted on the way to {}; add sslmode=require to the URL", conn.endpoint),
        }
    })
}
