//! The services of the authorization policy, kept in the database (D22, D26) and read by every replica.
//!
//! The operator manages them with `hcpki service add|list|show|remove`, in the services file's strict schema.
//! The services file is a seed: the first command or server that finds the database never seeded imports it
//! (once, atomically, audited); afterwards the database is the source. A replica re-reads the services when
//! their change generation moves, checking it at most every `refresh` (so a change reaches every replica
//! within that time, without a restart). [`crate::policy::decide`] stays a pure function of the values read.

use crate::policy::{Services, ServicesError};
use hcpki_ca::store::{Actor, CatalogAreas, ServiceRecord, Services as ServiceRows, StoreError};
use hcpki_pkix::time::Clock;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// The services as this replica last read them.
#[derive(Debug)]
pub struct Catalog {
    store: Arc<dyn CatalogAreas>,
    seed: Option<PathBuf>,
    refresh: Duration,
    /// Stamps the seed's import.
    clock: Arc<dyn Clock>,
    cached: RwLock<Option<Cached>>,
}

#[derive(Debug, Clone)]
struct Cached {
    services: Arc<Services>,
    generation: i64,
    checked: Instant,
}

impl Catalog {
    /// The services in `store`, seeded from the file `seed` if the database was never seeded, re-checked at
    /// most every `refresh` (a span of `Instant`s); the import is stamped by `clock`.
    pub fn new(store: Arc<dyn CatalogAreas>, seed: Option<PathBuf>, refresh: Duration, clock: Arc<dyn Clock>) -> Self {
        Self { store, seed, refresh, clock, cached: RwLock::new(None) }
    }

    /// Forget the services read, so that the next [`Catalog::current`] reads the database at once rather than
    /// within `refresh` (the server's reload on `SIGHUP`, D136).
    pub fn forget(&self) {
        *self.cached.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// The current services.
    pub async fn current(&self) -> Result<Arc<Services>, CatalogError> {
        let cached = self.cached.read().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(c) = &cached {
            if c.checked.elapsed() < self.refresh {
                return Ok(c.services.clone());
            }
            if self.store.portal_services_generation().await? == c.generation {
                let mut slot = self.cached.write().unwrap_or_else(PoisonError::into_inner);
                if let Some(s) = slot.as_mut() {
                    s.checked = Instant::now();
                }
                return Ok(c.services.clone());
            }
        }
        let (services, generation) = load(self.store.as_ref(), self.seed.as_deref(), self.clock.as_ref()).await?;
        let services = Arc::new(services);
        let fresh = Cached { services: services.clone(), generation, checked: Instant::now() };
        *self.cached.write().unwrap_or_else(PoisonError::into_inner) = Some(fresh);
        Ok(services)
    }
}

/// The services in the database, after importing `seed` (at `clock`'s time) if the database was never seeded;
/// and their generation.
pub async fn load(
    store: &dyn ServiceRows,
    seed: Option<&std::path::Path>,
    clock: &dyn Clock,
) -> Result<(Services, i64), CatalogError> {
    let (mut rows, mut generation, seeded) = store.portal_services().await?;
    if !seeded && let Some(path) = seed {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ServicesError::Read { path: path.display().to_string(), source })?;
        let records = records(&text)?;
        if store.portal_put_services(&records, false, true, &Actor::system(), clock.now()).await? {
            tracing::info!(file = %path.display(), services = records.len(), "services file imported");
        }
        (rows, generation, _) = store.portal_services().await?;
    }
    let services = Services::from_definitions(rows.iter().map(|r| r.definition.as_str()))
        .map_err(|e| CatalogError::Damaged(e.to_string()))?;
    Ok((services, generation))
}

/// The database records of the services in a services file's text (checked by the strict parser).
pub fn records(text: &str) -> Result<Vec<ServiceRecord>, ServicesError> {
    Ok(Services::definitions(text)?
        .into_iter()
        .map(|(id, definition)| ServiceRecord { id, position: 0, definition, updated_by: String::new(), updated_at: 0 })
        .collect())
}

/// Why the services could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The seed file is unreadable or invalid: fix it (the message names the line) or import it with
    /// `hcpki service add`.
    #[error(transparent)]
    Seed(#[from] ServicesError),
    /// A stored definition no longer parses (edited by hand, or written by a newer version).
    #[error("a service stored in the database does not parse: {0}; fix it with `hcpki service add --replace`")]
    Damaged(String),
}
