//! The desk consents and signing requests share (issue #43 item 1): a relying service asks, through the API, for
//! a document to be signed at a physician's portal page; the physician (or the patient at their side) signs it
//! with a card there, or declines. Both desks run the same round:
//!
//! ```text
//! service ──API call (client auth + the physician's access token)──▶ service::authenticate, physician_session
//!                                                        │ 201 service::Created {id, page_url, status_url}
//! physician ──the page (portal session)──▶ page: the request shown to its own person, refusals audited
//!           ──the card agent signs B-B──▶ signature::check_b_b against the stored document, the signer bound to
//!                                         a person, signature::extend to the level (TSA, CRL cache)
//! service ──GET status (client auth)──▶ the state, and the signed document
//! ```
//!
//! What each request is — a document of any format and level, bound to the physician's HPKI signature
//! certificate ([`crate::signing_requests`]); a consent PDF from the operator's template, signed by the patient's
//! My Number card at B-LT, with its own life ([`crate::consent`]) — stays in its own core, above this floor.

pub mod page;
pub mod service;
pub mod signature;
