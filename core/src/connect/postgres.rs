//! PostgreSQL: one database holds the accounts table and its trail.

use std::sync::Arc;

use super::Built;
use crate::error::Result;
use crate::store::postgres::PostgresStore;

pub(super) fn build(url: &str, table: &str) -> Result<Built> {
    let store = Arc::new(PostgresStore::connect(url, table)?);
    Ok(Built { store: store.clone(), trail: store, kms: None, identity: None })
}
