//! The embedded store: one redb file, which is also its own trail.

use std::path::Path;
use std::sync::Arc;

use super::Built;
use crate::error::Result;
use crate::store::embedded::EmbeddedStore;

pub(super) fn build(path: &Path, table: &str) -> Result<Built> {
    let store = Arc::new(EmbeddedStore::open(path, table)?);
    Ok(Built { store: store.clone(), trail: store, kms: None, identity: None })
}
