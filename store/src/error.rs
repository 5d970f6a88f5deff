//! Why a storage operation failed.

use crate::facility::{Allocation, FacilityId, FacilityState};
use hcpki_model::CaName;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL has an unknown scheme.
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://USER@HOST:PORT/DB")]
    Url(String),
    /// The database could not be reached or opened.
    #[error("cannot open database: {0}; check the URL, that the server runs and that you may connect")]
    Connect(String),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(String),
    /// The database's schema is outside the window this binary may run against (D137).
    #[error(transparent)]
    Schema(#[from] crate::schema::SchemaRefusal),
    /// No facility with that ID.
    #[error("no facility {0}: check the ID with `hcpki facility list`")]
    UnknownFacility(FacilityId),
    /// Another facility already has this 医療機関コード.
    #[error("医療機関コード {code} is already registered to facility {existing}")]
    DuplicateMedicalCode {
        /// The code.
        code: String,
        /// The facility holding it.
        existing: String,
    },
    /// The transition is not allowed from the current state.
    #[error(transparent)]
    Transition(#[from] crate::facility::TransitionError),
    /// The serial exists already (regenerate it).
    #[error("serial {0} exists already")]
    DuplicateSerial(String),
    /// No reserved issuance with that serial.
    #[error("no reserved issuance with serial {0}")]
    UnknownSerial(String),
    /// A CA with that name is recorded already.
    #[error("CA {0} exists already; hcpki never replaces a CA in place")]
    DuplicateAuthority(CaName),
    /// The facility may not receive credentials or certificates in its state.
    #[error("facility {id} is {state}; only approved or active facilities may enroll (approve or resume it first)")]
    FacilityState {
        /// The facility.
        id: FacilityId,
        /// Its state.
        state: FacilityState,
    },
    /// No enrollment credential with that ID.
    #[error("no enrollment credential {0}: check the ID with `hcpki enroll list`")]
    UnknownCredential(String),
    /// The credential was used, revoked or expired before this use could redeem it.
    #[error("enrollment credential {0} is no longer usable (used, revoked or expired): create a new one")]
    CredentialSpent(String),
    /// A registration authority, its assignment or membership refused (D167): the message says what to do.
    #[error(transparent)]
    Ra(#[from] crate::ra::RaError),
    /// No operator with that name.
    #[error("no operator {0}: check the name with `hcpki operator list`")]
    UnknownOperator(String),
    /// The operator is disabled; disabled operators are never re-enabled.
    #[error("operator {0} is disabled; disabled operators are never re-enabled: add the person under a new name")]
    OperatorDisabled(String),
    /// A service with this id is in the database already.
    #[error("service {0} exists already: see `hcpki service show {0}`, or add it with --replace")]
    ServiceExists(String),
    /// No pending SCEP request with that ID (unknown, or decided already).
    #[error("no pending SCEP request {0}: check the ID with `hcpki enroll pending list`")]
    UnknownHeldRequest(String),
    /// An imported CRL whose number is not above the one stored: relying parties that saw the newer one
    /// would ignore it, or it is a replay of an old list.
    #[error(
        "CRL number {number} of CA {ca} is not above {stored}, the number of the CRL imported before: sign a new \
         one at the ceremony (`hcpki ca sign-arl`)"
    )]
    CrlNotNewer {
        /// The CA.
        ca: CaName,
        /// The number of the CRL offered.
        number: i64,
        /// The highest number stored.
        stored: i64,
    },
    /// Another allocation (of another facility, or of this one) shares addresses with the one asked for.
    #[error(
        "{asked} overlaps {held}, which is allocated to facility {holder}: take it back from {holder} first \
         (`hcpki facility address remove {holder} {held}`) or allocate a range that does not overlap"
    )]
    AllocationHeld {
        /// The allocation asked for.
        asked: Allocation,
        /// The facility holding the overlapping allocation.
        holder: FacilityId,
        /// That allocation.
        held: Allocation,
    },
    /// The facility does not hold that allocation.
    #[error("facility {facility} holds no allocation {allocation}: see `hcpki facility address list {facility}`")]
    UnknownAllocation {
        /// The facility.
        facility: FacilityId,
        /// The allocation.
        allocation: Allocation,
    },
    /// The issuance stop switch refused a halt or an approval (D135); the refusal is audited.
    #[error(transparent)]
    Halt(#[from] crate::halt::HaltRefusal),
    /// A CA rollover step refused in its state (D145); nothing changed.
    #[error(transparent)]
    Rollover(#[from] crate::rollover::RolloverRefusal),
    /// A stored value could not be read back (damaged row).
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The database is temporarily unavailable (busy, connection lost, read-only, disk full).
    #[error("database unavailable: {0}; retry later")]
    Unavailable(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(String),
    /// This database is not copied by hcpki itself.
    #[error(
        "a PostgreSQL database is backed up with PostgreSQL's own tools (pg_dump -Fc, or pg_basebackup with WAL \
         archiving; docs/deployment.md); `hcpki backup` still saves the files beside it"
    )]
    SnapshotUnsupported,
    /// The pre-shared key is not this facility's, was withdrawn, or is past its overlap window (D156).
    #[error("pre-shared key {0} is not available: it is another facility's, withdrawn or rotated out; issue a new one")]
    PskUnavailable(String),
    /// The facility already has a router of that name (D168).
    #[error("facility {facility} already has a router named {name:?}: choose another name, or remove that one first")]
    RouterExists {
        /// The facility.
        facility: FacilityId,
        /// The name.
        name: String,
    },
    /// The facility has no router of that name (D168).
    #[error("facility {facility} has no router named {name:?}: see `hcpki router list {facility}`")]
    UnknownRouter {
        /// The facility.
        facility: FacilityId,
        /// The name.
        name: String,
    },
    /// The model is not on the approved list (D168).
    #[error("router model {0:?} is not on the approved list: see `hcpki router models`")]
    UnknownRouterModel(String),
    /// An approval lacks the vetting evidence its approver's requirements name (D173); the denied attempt is
    /// audited and nothing changed.
    #[error(
        "facility {facility} cannot be approved: the {scope} requirements ({required}) are not met: {}; nothing \
         changed",
        .missing.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    VettingMissing {
        /// The facility.
        facility: FacilityId,
        /// Whose requirements applied.
        scope: crate::vetting::RequirementScope,
        /// The requirements, as listed (`code,rules,assessment`).
        required: String,
        /// What is missing, each saying how to record it.
        missing: Vec<crate::vetting::Shortfall>,
    },
    /// The snapshot file could not be written.
    #[error(
        "cannot write the database snapshot {path}: {reason}; check that the directory exists, is writable and has room"
    )]
    Snapshot {
        /// Where it was to be written.
        path: String,
        /// What failed.
        reason: String,
    },
}
