//! The HTTP side of `hcpki serve`: TLS policy, URL map, handlers and metrics.
//!
//! Nothing here signs or decides on certificates; handlers call into `hcpki_ca` (through the store for now,
//! through the authority once enrollment protocols arrive).

pub mod health;
pub mod metrics;
pub mod routes;
pub mod server_cert;
pub mod tls;
mod tls_key;

use hcpki_ca::store::Store;
use std::sync::Arc;

/// What every handler may reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database (health pings, issued-certificate counts).
    pub store: Arc<dyn Store>,
    /// The request counters and histograms `/metrics` reports.
    pub metrics: Arc<metrics::Metrics>,
}
