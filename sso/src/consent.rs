//! Patients' consents and their identity links (issue #28, groundwork; D88), with no HTTP: the portal pages,
//! the card agent and the service API adapt their requests to these functions later.
//!
//! A consent's life is a typed state machine ([`life`]): requested (by a relying service registered as an OIDC
//! client, or the portal) for a purpose the service declares → shown to the patient → signed (with the
//! evidence of [`evidence`]) or refused, or expired at a short deadline → withdrawn (撤回) by a signed
//! withdrawal, after which it stays as history. Each allowed move is a [`life::Step`] carrying the audit event
//! it must write ([`audit`]); [`record`] applies steps to the store, where a move succeeds only from the state
//! it was judged on. A patient is only ever a pseudonymous key ([`crate::patient_key`]); the card's certificates are
//! linked to that key by staff confirmation ([`identity`]). The clock is passed in everywhere.

pub mod agreement;
pub mod api;
pub mod ask;
pub mod audit;
pub mod desk;
pub mod error;
pub mod evidence;
pub mod history;
pub mod identification;
pub mod identity;
pub mod life;
pub mod network;
pub mod network_api;
pub mod purpose;
pub mod record;
pub mod request;
pub mod settings;
pub mod template;
#[cfg(test)]
mod tests;
pub mod token_claim;

pub use error::ConsentError;
