//! What a caller asks the authority to issue.

use crate::csr;
use crate::facility::FacilityId;
use crate::profile::{ProfileKind, RouterEku};
use hcpki_model::CaName;

/// An issuance request, as raw as the caller received it.
#[derive(Clone, Debug)]
pub struct IssueRequest {
    /// Which profile.
    pub profile: ProfileKind,
    /// The facility, for the profiles that name one (router, pc): parsed by the caller at its edge.
    pub facility: Option<FacilityId>,
    /// The CSR: PEM or DER, or already checked by an enrollment front end.
    pub csr: csr::Csr,
    /// `--san` values.
    pub sans: Vec<String>,
    /// `--device`.
    pub device: Option<String>,
    /// The facility's registered router a router certificate is for (`--router`, the API's and the console's
    /// `router`); without it the certificate's identities name the router (D174).
    pub router: Option<String>,
    /// Router EKU variant.
    pub router_eku: Option<RouterEku>,
    /// For OCSP signers and SCEP RAs: the CA they serve.
    pub ocsp_for: Option<CaName>,
    /// End the validity here (Unix seconds) when that comes before the profile's lifetime and the CA's own
    /// end; never later. `hcpki issue --not-after` for a device known to leave service, and the only way to
    /// make an already expired certificate (the issue-7 interop matrix's negative cell): the validity starts
    /// five minutes back, so a time in those five minutes still passes the validity-order lint.
    pub not_after: Option<i64>,
}
