//! The served application, on a floor under both adapters that serve it (the console's pages, and the HTTP API
//! and protocol endpoints, which mount them): the state every handler may reach ([`AppState`]) and what it holds (the
//! counters, the rate limits, the admission gate, the SCEP endpoint table, the OCSP and TSA signers, the console's CSRF key and
//! sign-in tickets), and the admin operations that the CLI, the admin API and the console all call, with the
//! callers' authentication and the API's error.

pub mod admission;
pub mod api_error;
pub mod auth;
pub mod csrf;
pub mod metrics;
pub mod ocsp_signer;
pub mod operations;
pub mod rate_limit;
pub mod scep_endpoints;
pub mod ticket;
pub mod tsa_signer;

use hcpki_ca::enroll::acme::{AcmeAuthority, Validator};
use hcpki_ca::enroll::est::EstAuthority;
use hcpki_ca::store::Store;
use std::sync::Arc;

/// What every handler may reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database (health pings, issued-certificate counts), and the SSO side's areas the console's help desk
    /// and session-lifetime pages read (portal users, sessions: on `dyn Store` while they move, issue #43).
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
    pub scep: Arc<scep_endpoints::Scep>,
    /// The CA as the admin API uses it (principals, facilities, credentials, refusals audited).
    pub admin: Arc<hcpki_ca::Authority>,
    /// The OCSP responder.
    pub ocsp: Arc<hcpki_ca::revocation::ocsp::Responder>,
    /// The web console's CSRF token key.
    pub console: Arc<csrf::CsrfKey>,
    /// The web console's session cookies of portal sign-ins (D42).
    pub console_tickets: Arc<ticket::Tickets>,
    /// Per-client-address rate limits (shared with the portal's listeners).
    pub limits: Arc<rate_limit::Guard>,
    /// The admission gate in front of the expensive work (shared with the portal's listeners, D138).
    pub admission: Arc<admission::Admission>,
    /// The SSO portal, when `[portal]` is configured (the help desk ends a person's sessions through it, so
    /// their clients get back-channel logout as on the person's own "log out everywhere").
    pub portal: Option<crate::portal::PortalState>,
    /// The process's clock (the authority's): handlers read the time here, never the system clock.
    pub clock: Arc<dyn hcpki_pkix::time::Clock>,
    /// The RFC 3161 time-stamping authority, when `[tsa]` is configured.
    pub tsa: Option<Arc<tsa_signer::ServedTsa>>,
    /// The issuance stop switch's settings (`[ca] resume_approval_minutes`, `halt_retry_after_secs`; D141).
    pub halt: hcpki_ca::halt::HaltSettings,
    /// What the signature verifier trusts (`[signing] anchors` and the `[[signing.tsa]]` roots).
    pub signatures: Arc<hcpki_docsig::signature::validation::SigningTrust>,
    /// What the CP/CPS draft says of this installation (read at start; D150), or why it could not be read.
    pub practice: Arc<Result<hcpki_ca::cps::PracticeFacts, hcpki_ca::cps::CpsError>>,
    /// What the compliance report reads of the configuration (D164).
    pub compliance: crate::compliance::evidence::Settings,
}
