//! PLACEHOLDER: replaced by the SQLite/PostgreSQL implementation.
use super::StoreError;

/// SQLite store.
#[derive(Debug)]
pub struct SqliteStore;
/// PostgreSQL store.
#[derive(Debug)]
pub struct PgStore;

impl SqliteStore {
    /// Open.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Err(StoreError::Url(url.into()))
    }
}
impl PgStore {
    /// Open.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Err(StoreError::Url(url.into()))
    }
}
