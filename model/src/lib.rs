//! hcpki's domain values: the lowest floor, depending on nothing else of hcpki.
//!
//! Values that several floors need (the CA names revocation and the store use, the facility ID in every
//! record, the card kind the agent and the portal share) live here, so that no higher module has to be imported
//! by a lower one to name them. Each value parses once at the edge (`FromStr`, serde) and is passed typed.
#![forbid(unsafe_code)]

pub mod acme_id;
pub mod actor;
pub mod ca_name;
pub mod card_key;
pub mod card_kind;
pub mod cert_profile;
pub mod clock;
pub mod facility_id;
pub mod job_id;
pub mod name;
pub mod oidc_client_id;
pub mod overlap;
pub mod passkey_attestation;
pub mod profile_kind;
pub mod serial;
pub mod serial_hex;
pub mod signature;
pub mod signing_limit;
pub mod sso_id;
mod text_id;
pub mod unix_time;

pub use acme_id::{ACME_ID_OCTETS, AcmeAccountId, AcmeOrderId, InvalidAcmeId};
pub use actor::Actor;
pub use ca_name::{CaName, UnknownCa};
pub use card_key::{CardKeyAlgorithm, CardKeyError};
pub use card_kind::{CardKind, UnknownCardKind};
pub use cert_profile::{CertProfile, UnknownCertProfile};
pub use clock::{Clock, FixedClock, SystemClock};
pub use facility_id::{FacilityId, FacilityIdError};
pub use job_id::{InvalidJobId, JobId};
pub use oidc_client_id::{InvalidOidcClientId, OidcClientId};
pub use profile_kind::{ProfileKind, UnknownProfile};
pub use serial::{RandomError, Serial};
pub use serial_hex::{InvalidSerial, SerialHex};
pub use sso_id::{ConsentId, DelegationId, InvalidSsoId, MAX_SSO_ID_CHARS, SigningRequestId};
pub use unix_time::UnixTime;
