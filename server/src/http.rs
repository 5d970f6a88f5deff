//! The HTTP side of `hcpki serve`: TLS policy, URL map, handlers and metrics.
//!
//! Nothing here signs or decides on certificates; handlers call into `hcpki_ca`: the store for health and
//! metrics, the enrollment protocol modules (through the interfaces they declare) for EST.

pub mod acme;
pub mod acme_validator;
pub mod admin;
pub mod api_error;
pub mod auth;
pub mod consents;
pub mod crl;
pub mod est;
pub mod health;
pub mod metrics;
pub mod ocsp;
pub mod ocsp_signer;
pub mod oidc;
pub mod operations;
pub mod portal_listener;
pub mod rate_limit;
pub mod routes;
pub mod scep;
pub mod scep_ra;
pub mod signatures;
pub mod signing_requests;
pub mod tls;
pub mod tsa;
pub mod tsa_client;
pub mod tsa_signer;

use hcpki_ca::enroll::acme::{AcmeAuthority, Validator};
use hcpki_ca::enroll::est::EstAuthority;
use hcpki_ca::store::Store;
use std::sync::Arc;

/// What every handler may reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database (health pings, issued-certificate counts).
    pub store: Arc<dyn Store>,
    /// The request counters and histograms `/metrics` reports.
    pub metrics: Arc<metrics::Metrics>,
    /// The CA as EST sees it.
    pub est: Arc<dyn EstAuthority>,
    /// The CA as ACME sees it.
    pub acme: Arc<dyn AcmeAuthority>,
    /// ACME challenge validation (network fetches, as `[acme]` configures them).
    pub acme_validator: Arc<dyn Validator>,
    /// The CA as SCEP sees it, and the SCEP endpoints.
    pub scep: Arc<scep::Scep>,
    /// The CA as the admin API uses it (principals, facilities, credentials, refusals audited).
    pub admin: Arc<hcpki_ca::Authority>,
    /// The OCSP responder.
    pub ocsp: Arc<hcpki_ca::revocation::ocsp::Responder>,
    /// The web console's CSRF token key.
    pub console: Arc<crate::console::csrf::CsrfKey>,
    /// The web console's session cookies of portal sign-ins (D42).
    pub console_tickets: Arc<crate::console::ticket::Tickets>,
    /// Per-client-address rate limits (shared with the portal's listeners).
    pub limits: Arc<rate_limit::Guard>,
    /// The SSO portal, when `[portal]` is configured (the help desk ends a person's sessions through it, so
    /// their clients get back-channel logout as on the person's own "log out everywhere").
    pub portal: Option<crate::portal::PortalState>,
    /// The process's clock (the authority's): handlers read the time here, never the system clock.
    pub clock: Arc<dyn hcpki_pkix::time::Clock>,
    /// The RFC 3161 time-stamping authority, when `[tsa]` is configured.
    pub tsa: Option<Arc<tsa_signer::ServedTsa>>,
    /// What the signature verifier trusts (`[signing] anchors` and the `[[signing.tsa]]` roots).
    pub signatures: Arc<hcpki_docsig::signature::validation::SigningTrust>,
}
