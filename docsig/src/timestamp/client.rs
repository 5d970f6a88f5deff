//! The signers' side of RFC 3161: ask a configured list of TSAs, in order, for a token over a SHA-256 digest,
//! and keep the first token that passes every check (D70). HTTP-free like the authority: the bytes travel
//! through a [`Transport`] the caller gives (`hcpki`'s outbound HTTP client; a fake in tests), and the time the
//! checks compare genTime with is passed in.
//!
//! A token is accepted only when all of these hold ([`check_reply`]): the response is BER and `granted`; the
//! token is what [`crate::timestamp::ReceivedToken`] accepts — the one reader of tokens, which the verifier and
//! the embedders of every format use too, so that `hcpki tsa check` refuses whatever signing would — a CMS
//! SignedData over a `TSTInfo` with one signer, DER signed attributes (contentType, messageDigest) and a signature
//! that verifies with the certificate it names; that certificate is a TSA certificate (extended key
//! usage critical, timeStamping alone), bound by the ESS signingCertificate(V2) attribute, and chains to one of
//! the roots configured for this TSA, valid at genTime; the token repeats the request's imprint and nonce, names
//! the configured policy when one is configured, and its genTime lies within [`MAX_SKEW_SECS`] of this host's
//! clock. The local clock is never a time stamp: when no TSA gives such a token, signing fails.

mod chain;
mod error;
mod list;
mod query;
mod verdict;

pub use chain::{TrustError, TsaTrust};
pub use error::StampError;
pub use list::{Attempt, NoTimeStamp, Stamped, Transport, TsaEndpoint, stamp};
pub use query::Query;
pub use verdict::{MAX_SKEW_SECS, Stamp, check_reply};

#[cfg(test)]
mod tests;
