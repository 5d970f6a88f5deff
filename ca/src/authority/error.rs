//! Why an authority operation failed: below the authority's files, which all return it.

use crate::csr::CsrError;
use crate::facility::FacilityId;
use crate::issuer::IssueError;
use crate::keys::KeyError;
use crate::profile::ProfileError;
use crate::store::StoreError;
use hcpki_model::CaName;

/// Why an authority operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorityError {
    /// Unknown CA name.
    #[error("unknown CA {0:?}: use root, router, pc or server")]
    UnknownCa(String),
    /// The database holds no CAs: run init first.
    #[error("this hcpki directory has no CAs yet: run `hcpki init --dir DIR` first")]
    NotInitialized,
    /// init on a database that already has CAs.
    #[error("CAs exist already in this database; hcpki init never replaces them")]
    AlreadyInitialized,
    /// Facility ID malformed.
    #[error(transparent)]
    FacilityId(#[from] crate::facility::FacilityIdError),
    /// The facility does not exist.
    #[error("no facility {0}: check the ID with `hcpki facility list`")]
    UnknownFacility(FacilityId),
    /// The facility may not receive certificates in its state.
    #[error("facility {id} is {state}; only approved or active facilities receive certificates")]
    FacilityState {
        /// The facility.
        id: FacilityId,
        /// Its state.
        state: crate::facility::FacilityState,
    },
    /// The CSR was refused.
    #[error(transparent)]
    Csr(#[from] CsrError),
    /// The profile refused the request.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Preparing or signing failed.
    #[error(transparent)]
    Issue(#[from] IssueError),
    /// A key could not be made or opened.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
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
    /// An enrollment credential could not be made or found.
    #[error(transparent)]
    Credential(#[from] crate::enroll::credential::CredentialError),
    /// An operator could not be added, found or used.
    #[error(transparent)]
    Operator(#[from] crate::operator::OperatorError),
    /// An address allocation is malformed or not unicast (issue #24, item 2).
    #[error(transparent)]
    Allocation(#[from] crate::facility::AllocationError),
    /// A console grant could not be made (D42).
    #[error(transparent)]
    ConsoleGrant(#[from] crate::console_grant::ConsoleGrantError),
    /// The serial is not an issued, unrevoked certificate.
    #[error("certificate {0} is not an issued, unrevoked certificate of this CA: check it with `hcpki cert show`")]
    NotRevocable(String),
    /// A CRL could not be made.
    #[error(transparent)]
    Crl(#[from] crate::revocation::crl::CrlError),
    /// The CA's key is not on this machine (its file or token object is missing): the offline root, or a
    /// directory set up without it.
    #[error(
        "the key of CA {0} is not on this machine; the root's CRL is signed at the ceremony (`hcpki ca sign-arl`) \
         and imported here (`hcpki ca import-arl`)"
    )]
    KeyOffline(CaName),
    /// An ARL validity outside what hcpki signs.
    #[error("an ARL valid for {0} days: use 1 to {max} days ([ca] root_crl_days, --days)", max = crate::revocation::arl::MAX_ARL_DAYS)]
    ArlDays(u32),
    /// A file offered as the root's CRL is not one this installation may serve.
    #[error(transparent)]
    Arl(#[from] crate::revocation::arl::ArlError),
    /// A CRL shard that does not exist was asked for.
    #[error(transparent)]
    Shard(#[from] crate::revocation::shard::ShardError),
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
    /// A certificate that cannot be re-issued.
    #[error("certificate {serial} cannot be re-issued: {why}")]
    NotReissuable {
        /// The certificate.
        serial: String,
        /// Why.
        why: String,
    },
}

impl From<hcpki_model::UnknownCa> for AuthorityError {
    fn from(e: hcpki_model::UnknownCa) -> Self {
        Self::UnknownCa(e.0)
    }
}

/// A CA key that is not on this machine (its file or token object is missing) as [`AuthorityError::KeyOffline`],
/// so the operator learns where the work belongs rather than which file was missing; any other error as it is.
pub(super) fn offline_key(ca: CaName, e: AuthorityError) -> AuthorityError {
    match e {
        AuthorityError::Key(KeyError::KeyFile { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            AuthorityError::KeyOffline(ca)
        }
        AuthorityError::Key(KeyError::Pkcs11NotFound(_)) => AuthorityError::KeyOffline(ca),
        other => other,
    }
}
