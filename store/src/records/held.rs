//! SCEP requests held for an operator, as stored: a PKCSReq without a challenge password whose CSR names its
//! facility, kept until an operator issues or rejects it (`enroll::scep` decides what is held).

use hcpki_model::{FacilityId, ProfileKind};

/// Where a held request stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeldState {
    /// Waiting for an operator.
    Pending,
    /// Approved: the certificate's serial.
    Issued(String),
    /// Rejected, with the operator's reason.
    Rejected(String),
}

impl HeldState {
    /// `pending`, `issued` or `rejected`, as stored.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Issued(_) => "issued",
            Self::Rejected(_) => "rejected",
        }
    }
}

/// A held request as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldRequest {
    /// 16 lowercase hex characters: what the operator types.
    pub id: String,
    /// The client's transaction ID.
    pub transaction_id: String,
    /// The endpoint's profile.
    pub profile: ProfileKind,
    /// The facility the CSR names.
    pub facility: FacilityId,
    /// The CSR (DER).
    pub csr: Vec<u8>,
    /// Its state.
    pub state: HeldState,
    /// Unix seconds.
    pub created_at: i64,
    /// When an operator decided.
    pub decided_at: Option<i64>,
    /// Who decided.
    pub decided_by: Option<String>,
}
