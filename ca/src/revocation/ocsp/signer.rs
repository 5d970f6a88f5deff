//! The delegated responder's signer and the responder's error: below the responder (`ocsp`) and the response
//! encoder (`response`), which both use them.

use crate::store::StoreError;
use der::Decode;
use hcpki_pkix::keys::KeySource;
use sha1::{Digest, Sha1};
use std::sync::Arc;
use x509_cert::Certificate;

/// A delegated responder: its certificate (issued by the CA it answers for) and key.
#[derive(Debug)]
pub struct OcspSigner {
    pub(super) certificate: Certificate,
    pub(super) key: Arc<dyn KeySource>,
    /// ResponderID byKey: SHA-1 of the responder key's BIT STRING contents (RFC 6960 §4.2.1).
    pub(super) key_hash: [u8; 20],
    pub(super) not_after: i64,
}

impl OcspSigner {
    /// The signer for `certificate` (DER), which must certify `key`.
    pub fn new(certificate: &[u8], key: Arc<dyn KeySource>) -> Result<Self, OcspError> {
        let certificate = Certificate::from_der(certificate)?;
        let spki = certificate.tbs_certificate().subject_public_key_info();
        if spki != key.public_key() {
            return Err(OcspError::SignerMismatch);
        }
        let key_hash = Sha1::digest(spki.subject_public_key.raw_bytes()).into();
        let not_after = hcpki_pkix::time::unix(&certificate.tbs_certificate().validity().not_after);
        Ok(Self { certificate, key, key_hash, not_after })
    }

    /// The responder certificate's notAfter (Unix seconds): answers never outlive it.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }
}

/// Why the responder could not be set up or could not sign.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OcspError {
    /// A responder or CA certificate does not decode, or an answer does not encode.
    #[error("OCSP encoding: {0}")]
    Der(#[from] der::Error),
    /// The responder certificate is not for the responder key.
    #[error("the OCSP responder certificate does not match its key; delete the certificate and restart")]
    SignerMismatch,
    /// The key refused to sign.
    #[error(transparent)]
    Key(#[from] hcpki_pkix::keys::KeyError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The thread that signs ended without an answer (it panicked or the runtime is shutting down).
    #[error("the OCSP signing task did not finish: {0}")]
    SigningTask(String),
}
