//! Who is logging in, and at which facility: the two inputs of a decision besides the service.
//!
//! Both are built by the login layer from verified evidence only (a card signature with its certificate chain,
//! a password with TOTP, a facility certificate from mutual TLS, never a header), so the policy trusts them.

use super::assurance::{Amr, AssuranceLevel};
use super::role::HcRole;
use hcpki_ca::FacilityId;
use hcpki_ca::facility::{Facility, FacilityKind, FacilityState, MedicalInstitutionCode};

/// The credential the user logged in with. It fixes `amr` and, with the facility, the assurance level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Credential {
    /// An HPKI authentication card with PIN; may carry an hcRole.
    Hpki,
    /// A JPKI (My Number card) authentication certificate with PIN: identity only, never a qualification.
    Jpki,
    /// Password plus TOTP, for staff without cards.
    PasswordTotp,
    /// A passkey of a password + TOTP account (D157): that account's strength and role, never a card's.
    Passkey,
}

impl Credential {
    /// Whether it is a card and its PIN (HPKI or JPKI): what the operating body's roles and a facility
    /// administrator's changes rest on. A passkey is not a card (D157), whatever its assurance.
    pub fn is_card(self) -> bool {
        match self {
            Self::Hpki | Self::Jpki => true,
            Self::PasswordTotp | Self::Passkey => false,
        }
    }
}

/// A logged-in person. Fields are private so that a JPKI subject can never carry an hcRole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    name: String,
    role: Option<HcRole>,
    credential: Credential,
}

impl Subject {
    /// A person who signed with an HPKI card; `role` is the decoded hcRole (cards without one exist,
    /// e.g. for administrative staff).
    pub fn hpki(name: impl Into<String>, role: Option<HcRole>) -> Self {
        Self { name: name.into(), role, credential: Credential::Hpki }
    }

    /// A person who signed with a JPKI card: identity only.
    pub fn jpki(name: impl Into<String>) -> Self {
        Self { name: name.into(), role: None, credential: Credential::Jpki }
    }

    /// A staff member who logged in with password and TOTP; `role` is what the account record holds.
    pub fn password_totp(name: impl Into<String>, role: Option<HcRole>) -> Self {
        Self { name: name.into(), role, credential: Credential::PasswordTotp }
    }

    /// A staff member who signed in with a passkey of their password + TOTP account; `role` is what the account
    /// record holds now (never an hcRole from a card: a passkey proves no qualification).
    pub fn passkey(name: impl Into<String>, role: Option<HcRole>) -> Self {
        Self { name: name.into(), role, credential: Credential::Passkey }
    }

    /// Display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The qualification, if any.
    pub fn role(&self) -> Option<HcRole> {
        self.role
    }

    /// How the person logged in.
    pub fn credential(&self) -> Credential {
        self.credential
    }

    /// The assurance level of this login at `facility`: the card level rises only with a verified facility.
    pub fn assurance(&self, facility: Option<&FacilityContext>) -> AssuranceLevel {
        match (self.credential, facility) {
            (Credential::PasswordTotp, _) => AssuranceLevel::PasswordTotp,
            // A facility PC certificate raises a card login only: a passkey is the same wherever it is used.
            (Credential::Passkey, _) => AssuranceLevel::Passkey,
            (Credential::Hpki | Credential::Jpki, None) => AssuranceLevel::CardPin,
            (Credential::Hpki | Credential::Jpki, Some(_)) => AssuranceLevel::CardPinFacility,
        }
    }

    /// The RFC 8176 methods of this login.
    pub fn amr(&self) -> &'static [Amr] {
        match self.credential {
            Credential::Hpki | Credential::Jpki => &[Amr::Sc, Amr::Hwk, Amr::Pin, Amr::Mfa],
            Credential::PasswordTotp => &[Amr::Pwd, Amr::Otp, Amr::Mfa],
            Credential::Passkey => &[Amr::Pop, Amr::User, Amr::Mfa],
        }
    }
}

/// The facility a request comes from, as the registry holds it, identified by the facility PC certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacilityContext {
    /// Stable identifier.
    pub id: FacilityId,
    /// Display name.
    pub name: String,
    /// Kind.
    pub kind: FacilityKind,
    /// Lifecycle state at the time of the request.
    pub state: FacilityState,
    /// 医療機関コード, when the registry has one (IHE IUA's organization identifiers, D93).
    pub medical_code: Option<MedicalInstitutionCode>,
}

impl From<&Facility> for FacilityContext {
    fn from(f: &Facility) -> Self {
        Self {
            id: f.id.clone(),
            name: f.name.clone(),
            kind: f.kind,
            state: f.state,
            medical_code: f.medical_code.clone(),
        }
    }
}
