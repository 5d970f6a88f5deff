//! Signing requests from relying services (issue #27 item 3, D79–D80), HTTP-free: the signing desk, over the
//! round every desk runs ([`crate::desk`]: the service's authentication, the physician's session, the page's
//! refusals, the signature's check and extension).
//!
//! ```text
//! service ──POST /api/v1/signing-requests (client auth + the physician's access token + document)──▶ create
//!                                                                        │ 201 {id, sign_url, status_url}
//! physician ──GET /sign/{id} (portal session of the token's person)──▶ desk::open ──▶ the page
//!           ──the page hands the document to the card agent, which signs B-B with the HPKI signature key
//!           ──POST /sign/{id} (.p7s)──▶ desk::complete: cades::verify against the stored document, the signer
//!                                       bound to the session's person (D79), a time stamp from [[signing.tsa]]
//!                                       for B-T, the validation data for B-LT and an archive time stamp for
//!                                       B-LTA (D82), stored
//! service ──GET /api/v1/signing-requests/{id} (client auth)──▶ status: state, and the signed document
//! ```
//!
//! Every step is audited (`signing_request.*`) with the service (client id), the document's SHA-256, format and
//! level, and once signed the signer certificate's SHA-256 and the time stamp's time; never the document, a
//! token or a PIN (the PIN never leaves the card agent). The HTTP adapters are `server::http::signing_requests`
//! (the API) and `server::portal::signing` (the page).

mod api;
mod desk;
mod fields;
mod mode;
#[cfg(test)]
mod tests;

pub use api::{create, status};
pub use desk::{MAX_SIGNATURE_BYTES, PageRefusal, Posted, RequestView, SignError, complete, document, open, refuse};
pub use fields::{Format, Level, NewRequest};
pub use mode::{SignatureMode, session_binding};

/// Largest document a service may send: 10 MiB (413 above).
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// The largest request body of the API: a document at the limit in base64, with room for the other fields.
pub const MAX_BODY_BYTES: usize = MAX_DOCUMENT_BYTES / 3 * 4 + 64 * 1024;
/// How long the physician has to sign: 15 minutes from the request.
pub const LIFETIME_SECS: i64 = 15 * 60;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The API's path.
pub const API_PATH: &str = "/api/v1/signing-requests";
/// The page's path prefix: `/sign/{id}`.
pub const PAGE_PATH: &str = "/sign";
