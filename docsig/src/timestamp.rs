//! RFC 3161 time stamps: hcpki's time-stamping authority, with no HTTP (`hcpki serve` mounts it at `/tsa`).
//!
//! One call, [`TimeStampAuthority::answer`], turns the DER of a `TimeStampReq` into the DER of a
//! `TimeStampResp`: granted with a CMS SignedData token over a `TSTInfo`, or rejected with a `PKIStatusInfo`
//! naming the failure (RFC 3161 §2.4.2). Bad input never panics and never ends in anything but an answer the
//! client can print (`openssl ts -reply -in … -text`). The time comes from the caller: the authority never
//! reads a clock, so tests and the server decide what "now" is (D66). The key is any [`hcpki_pkix::keys::KeySource`]
//! (software or PKCS#11); the certificate is of the `tsa` profile (D65).
//!
//! [`client`] is the other side: a signer asking configured TSAs for tokens and checking them strictly (D70).

mod authority;
pub(crate) mod binding;
pub mod client;
mod ess;
mod imprint;
mod received;
mod refusal;
mod request;
mod response;
pub(crate) mod signature;
mod token;
mod token_error;
mod tst_info;

pub use authority::{Answer, TimeStampAuthority, TsaError, TsaSettings};
pub use ess::{EssCertIdV2, IssuerSerial, SigningCertificateV2};
pub use imprint::{HashAlgorithm, MessageImprint};
pub use received::ReceivedToken;
pub use refusal::{FailInfo, Refusal};
pub use request::{Request, TimeStampReq, parse_request};
pub use response::{PkiStatusInfo, TimeStampResp};
pub use token::TokenSigner;
pub use token_error::TokenError;
pub use tst_info::{Accuracy, GenTime, TstInfo};
// CAdES signatures (crate::signature::cades) build their signed attributes the same way.
pub(crate) use token::attribute;
