//! Why a revocation failed: revoking by serial, signing a CA's CRL or a shard's, the offline root's ARL.

use super::SigningError;
use crate::store::StoreError;
use hcpki_model::{CaName, SerialHex};

/// Why a revocation operation failed. Each message says what the operator must do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RevocationError {
    /// The serial is not an issued, unrevoked certificate (ACME answers `alreadyRevoked`, the API 409).
    #[error("certificate {0} is not an issued, unrevoked certificate of this CA: check it with `hcpki cert show`")]
    NotRevocable(SerialHex),
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
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The CA that signs the CRL could not be opened (its certificate or key), as [`SigningError`] says.
    #[error(transparent)]
    Ca(#[from] SigningError),
    /// The batch the revocation went in (group commit) could not be run: the server is stopping, or its worker
    /// ended.
    #[error("not revoked because its batch could not be run: {0}; retry")]
    Batch(String),
    /// The served CRLs' cache was left unusable by a thread that panicked while holding it.
    #[error("{0}: a thread panicked while publishing CRLs; restart `hcpki serve`")]
    CrlCache(#[from] crate::revocation::publish::CachePoisoned),
    /// The store's CRL counter does not fit a CRL number (RFC 5280 §5.2.3: a non-negative integer).
    #[error(
        "the CRL counter {0} is not a valid CRL number: restore the installation from its backup (`hcpki restore`)"
    )]
    CrlNumber(i64),
}
