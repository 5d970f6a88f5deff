//! Why an issuance failed: the request (CSR, profile, facility), the CA (its certificate and key), the
//! signature and the batch it went in, and re-issue.

use super::FacilityRefusal;
use crate::csr::CsrError;
use crate::issuer::IssueError;
use crate::profile::ProfileError;
use crate::store::StoreError;
use hcpki_model::CaName;
use hcpki_pkix::keys::KeyError;

/// Why a signing operation failed. Each message says what the requester or the operator must do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// The database holds other CAs but not this one (`init` makes all four in one run): the database lost it.
    #[error(
        "CA {0} is missing from this database although the other CAs are there: restore the installation from \
         its backup (`hcpki restore`)"
    )]
    MissingCa(CaName),
    /// The facility the request names is malformed, unknown or not in a state to be served.
    #[error(transparent)]
    Facility(#[from] FacilityRefusal),
    /// The CSR was refused.
    #[error(transparent)]
    Csr(#[from] CsrError),
    /// The profile refused the request.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// A router certificate the router register does not allow (D174): an unregistered router, one registered
    /// for pre-shared keys, or a model off the approved list while only approved models are accepted.
    #[error(transparent)]
    Router(#[from] Box<crate::router_register::RegisterError>),
    /// Preparing or signing failed.
    #[error(transparent)]
    Issue(#[from] IssueError),
    /// A key could not be made or opened.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A certificate was asked of a CA generation that is not in service, or of the previous one for a profile
    /// it does not issue (only OCSP responders are issued by it, D151).
    #[error(
        "the {ca} CA's generation {generation} does not issue this: generation {current} issues (`hcpki ca \
         rollover {ca} status` shows the generations in service)"
    )]
    Generation {
        /// The CA.
        ca: CaName,
        /// The generation asked for.
        generation: u32,
        /// The generation that issues.
        current: u32,
    },
    /// A stored CA certificate does not decode.
    #[error("stored certificate of CA {0} is damaged")]
    DamagedCa(CaName),
    /// The OCSP profile needs to know which CA.
    #[error("OCSP signer certificates are issued per CA: pass the CA to serve")]
    OcspCaRequired,
    /// Random source failed.
    #[error(transparent)]
    Random(#[from] crate::serial::RandomError),
    /// The CA's key does not match its certificate (wrong key file or HSM object).
    #[error("the key configured for CA {0} does not match its certificate: check the key URI and the HSM token")]
    KeyMismatch(CaName),
    /// Another request of the same batch failed to be recorded or stored, taking this one with it.
    #[error("not issued because its batch could not be recorded: {0}")]
    Batch(String),
    /// A re-issue of a certificate that already has a successor (D38): nothing to do.
    #[error("certificate {serial} was already re-issued as {successor}: the device collects {successor}")]
    AlreadyReissued {
        /// The predecessor.
        serial: String,
        /// Its successor.
        successor: String,
    },
    /// Issuance is halted by the operators (D135): nothing is issued on any replica until two named people
    /// approve resuming. Front ends answer 503 with `Retry-After` (EST), a problem document (ACME), a CertRep
    /// failure (SCEP) or the console's page.
    #[error(
        "issuance is halted by the operators (halt {id} since {since} Unix time: {reason}); nothing is issued \
         until two operators approve resuming; retry later"
    )]
    Halted {
        /// The halt in force.
        id: i64,
        /// Its reason, as the operator wrote it.
        reason: crate::store::halt::HaltReason,
        /// When it began, in Unix seconds.
        since: i64,
    },
    /// A certificate that cannot be re-issued.
    #[error("certificate {serial} cannot be re-issued: {why}")]
    NotReissuable {
        /// The certificate.
        serial: String,
        /// Why.
        why: String,
    },
}

impl SigningError {
    /// The CA's key is on a signing device that cannot be reached now (an HSM restarting or unplugged, D154):
    /// nothing was signed, and the same request may succeed later, so front ends answer "come back later".
    pub fn device_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Key(KeyError::DeviceUnavailable { .. })
                | Self::Issue(IssueError::Key(KeyError::DeviceUnavailable { .. }))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signing_device_away_is_recognised_however_it_was_wrapped() {
        let away = || KeyError::DeviceUnavailable { token: "hcpki".into(), detail: "C_GetSlotList".into() };
        assert!(SigningError::Key(away()).device_unavailable());
        assert!(SigningError::Issue(IssueError::Key(away())).device_unavailable());
        assert!(!SigningError::Key(KeyError::Pkcs11("C_Sign: KeyFunctionNotPermitted".into())).device_unavailable());
        assert!(!SigningError::Issue(IssueError::SelfCheck("bad".into())).device_unavailable());
    }
}
