//! PostgreSQL: one database holds the accounts table and its trail. Its
//! URL is written in the configuration or kept in Secrets Manager.

use std::sync::Arc;

use super::Built;
use super::secrets::Secrets;
use crate::config::DatabaseUrl;
use crate::error::{Error, Result};
use crate::store::postgres::PostgresStore;

pub(super) async fn build(url: &DatabaseUrl, table: &str, secrets: &Secrets<'_>) -> Result<Built> {
    let store = match (url.expose(), url.secret_id()) {
        (Some(written), _) => PostgresStore::connect(written, table)?,
        (None, Some(id)) => {
            let kept = secrets.read("url_secret", id).await?;
            // The store's own message shows the URL with its password
            // hidden; this says where the URL came from.
            PostgresStore::connect(&kept, table).map_err(|e| match e {
                Error::Config(reason) => Error::Config(format!(
                    "provider `{}` (its URL from secret {id}): {reason}",
                    secrets.provider
                )),
                other => other,
            })?
        }
        (None, None) => unreachable!("a database URL is written or kept in a secret"),
    };
    let store = Arc::new(store);
    Ok(Built { store: store.clone(), trail: store, kms: None, identity: None })
}
