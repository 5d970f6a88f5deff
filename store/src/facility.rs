//! The facility registry's domain: identifiers, kinds and the lifecycle.
//!
//! A facility (hospital, clinic, pharmacy, …) is registered once and keeps its
//! [`FacilityId`] forever; certificates for its routers and PCs carry it.

pub mod allocation;
pub mod device_name;
mod kind;
mod medical_code;
pub mod phone;
pub mod security_officer;
mod state;

pub use allocation::{Allocation, AllocationError};
pub use device_name::{DeviceName, DeviceNameError, NamedDevice};
pub use hcpki_model::facility_id::{FacilityId, FacilityIdError};
pub use kind::FacilityKind;
pub use medical_code::{MedicalCodeError, MedicalInstitutionCode};
pub use phone::{PhoneDigits, PhoneError};
pub use security_officer::{NamedSecurityOfficer, SecurityOfficer, SecurityOfficerError};
pub use state::{FacilityState, Transition, TransitionError};

/// A registered facility as the registry holds it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Facility {
    /// The stable identifier.
    pub id: FacilityId,
    /// Display name (Japanese allowed).
    pub name: String,
    /// What kind of facility this is.
    pub kind: FacilityKind,
    /// 医療機関コード, when the facility has one.
    pub medical_code: Option<MedicalInstitutionCode>,
    /// Postal address.
    pub address: Option<String>,
    /// Contact (person, phone or mail) for the operating body's help desk.
    pub contact: Option<String>,
    /// Lifecycle state.
    pub state: FacilityState,
    /// Why the state last changed (operator's words), if given.
    pub state_reason: Option<String>,
    /// Who changed the state last.
    pub state_changed_by: String,
    /// When the state last changed (Unix seconds).
    pub state_changed_at: i64,
    /// When the facility was registered (Unix seconds).
    pub created_at: i64,
}

/// What an applicant supplies to register a facility, already validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFacility {
    /// Display name; non-empty, at most 200 characters.
    pub name: String,
    /// Kind.
    pub kind: FacilityKind,
    /// 医療機関コード, validated and consistent with `kind`.
    pub medical_code: Option<MedicalInstitutionCode>,
    /// Postal address.
    pub address: Option<String>,
    /// Contact.
    pub contact: Option<String>,
    /// Address allocations registered with the facility (CSV import), checked against every other facility's in
    /// the registering transaction.
    pub allocations: Vec<Allocation>,
}

/// Why a registration was refused before it reached the database.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The name is empty or too long.
    #[error("facility name must be 1 to 200 characters (got {0})")]
    Name(usize),
    /// The 医療機関コード is malformed.
    #[error(transparent)]
    MedicalCode(#[from] MedicalCodeError),
    /// The 医療機関コード's score-table digit does not fit the facility kind.
    #[error(
        "医療機関コード {code} has score table {table} ({table_name}), which does not fit a facility of kind {kind}: check the code or the --kind"
    )]
    CodeKindMismatch {
        /// The code.
        code: String,
        /// Its 点数表番号.
        table: u8,
        /// Its meaning.
        table_name: &'static str,
        /// The kind given.
        kind: FacilityKind,
    },
}

impl NewFacility {
    /// Validate an application.
    pub fn new(
        name: &str,
        kind: FacilityKind,
        medical_code: Option<&str>,
        address: Option<&str>,
        contact: Option<&str>,
    ) -> Result<Self, RegistrationError> {
        let name = name.trim();
        let len = name.chars().count();
        if len == 0 || len > 200 {
            return Err(RegistrationError::Name(len));
        }
        let medical_code = medical_code.map(MedicalInstitutionCode::parse).transpose()?;
        if let Some(code) = medical_code.as_ref().filter(|c| !kind.accepts_score_table(c.score_table())) {
            return Err(RegistrationError::CodeKindMismatch {
                code: code.to_string(),
                table: code.score_table(),
                table_name: code.score_table_name(),
                kind,
            });
        }
        let clean = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        Ok(Self {
            name: name.to_owned(),
            kind,
            medical_code,
            address: clean(address),
            contact: clean(contact),
            allocations: Vec::new(),
        })
    }
}
