//! The declarative services file: who may open each service, and which claims it receives.
//!
//! Raw TOML structures (`deny_unknown_fields`) are converted once into typed [`Service`]s; every error names
//! the service and says what the operator must change.

use super::assurance::AssuranceLevel;
use super::purpose::PurposeOfUse;
use super::role::HcRole;
use hcpki_ca::FacilityId;
use hcpki_ca::facility::FacilityKind;
use std::collections::{BTreeSet, HashSet};

/// The services file format this build reads.
pub const SERVICES_FILE_VERSION: u32 = 1;
/// The wildcard in `roles` and `facility_kinds`.
const ANY: &str = "*";

/// A relying service's authorization rules, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Stable identifier (lowercase letters, digits, `-`), also used in audit entries.
    pub id: String,
    /// Display name for the portal.
    pub name: String,
    /// Which qualifications may open it.
    pub roles: RoleRule,
    /// Which facility kinds admit it (besides `facilities_allow`).
    pub facility_kinds: KindRule,
    /// Facilities admitted whatever their kind.
    pub facilities_allow: BTreeSet<FacilityId>,
    /// Facilities refused whatever else matches. Beats every allowance.
    pub facilities_deny: BTreeSet<FacilityId>,
    /// The weakest login accepted.
    pub min_assurance: AssuranceLevel,
    /// Whether JPKI identity-only logins may open it (only with `roles = []`).
    pub allow_jpki: bool,
    /// The claims the service receives.
    pub claims: BTreeSet<Claim>,
    /// The purposes of use the service accepts in an authorization request (`purposes`, default `TREAT` only);
    /// `EMER` among them allows break-glass (D94).
    pub purposes: BTreeSet<PurposeOfUse>,
    /// What the service is for, in a sentence: the portal's tile shows it under the name.
    pub description: Option<String>,
    /// Which clients may sign people in to it, by how they authenticate (`clients`; issue #30).
    pub clients: ClientRule,
    /// Where a login started by the portal begins at the service (OpenID Connect's `initiate_login_uri`,
    /// Core §4): the portal's tile links there with `iss`, and the service sends the browser back to
    /// `/authorize`, which answers at once within the SSO session. Without it the tile names the service only.
    pub initiate_login_uri: Option<String>,
    /// `require_patient_presence` (issue #49 item 1, D148): the token endpoint issues this service's tokens only
    /// with a fresh patient-presence proof (受診確認トークン) issued for it, which it spends.
    pub require_patient_presence: bool,
}

impl Service {
    /// The web console as the portal's policy sees it (D42): open to every login at any active facility or
    /// none, with every claim, because who may use the console, and with which login, is decided by the
    /// console's grants on every request, not by a services-file entry an operator could forget to add.
    pub fn console() -> Self {
        Self {
            id: "hcpki-console".into(),
            name: "hcpki console".into(),
            roles: RoleRule::NoneRequired,
            facility_kinds: KindRule::Any,
            facilities_allow: BTreeSet::new(),
            facilities_deny: BTreeSet::new(),
            min_assurance: AssuranceLevel::PasswordTotp,
            allow_jpki: true,
            claims: Claim::ALL.into_iter().collect(),
            purposes: BTreeSet::from([PurposeOfUse::Treat]),
            clients: ClientRule::Any,
            description: None,
            initiate_login_uri: None,
            require_patient_presence: false,
        }
    }
}

/// Which clients a service admits, by how they authenticate at the token endpoint (`clients` in the services
/// file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientRule {
    /// `clients = "key"`: only clients that prove a private key (`private_key_jwt`, the TLS methods).
    KeyBased,
    /// `clients = "confidential"` (the default): keys or a client secret; no public client.
    Confidential,
    /// `clients = "any"`: public clients too (native and browser apps with PKCE and no credentials).
    Any,
}

impl ClientRule {
    /// The name in the services file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeyBased => "key",
            Self::Confidential => "confidential",
            Self::Any => "any",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::KeyBased, Self::Confidential, Self::Any].into_iter().find(|r| r.as_str() == text)
    }
}

/// Which qualifications a service needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleRule {
    /// `roles = []`: no qualification needed; identity is enough.
    NoneRequired,
    /// `roles = ["*"]`: any hcRole.
    AnyRole,
    /// One of these roles.
    OneOf(BTreeSet<HcRole>),
}

/// Which facility kinds admit a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KindRule {
    /// `facility_kinds = ["*"]`: every kind, and logins without a facility too.
    Any,
    /// Facilities of these kinds (an empty set admits only `facilities_allow`).
    OneOf(HashSet<FacilityKind>),
}

/// A claim a service may receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Claim {
    /// `name`: the person's display name.
    Name,
    /// `hc_role`: code and labels of the qualification.
    HcRole,
    /// `facility_id`.
    FacilityId,
    /// `facility_name`.
    FacilityName,
    /// `facility_kind`.
    FacilityKind,
    /// `acr`: the assurance level URI.
    Acr,
    /// `amr`: RFC 8176 methods.
    Amr,
    /// `extensions.ihe_iua`: IHE IUA's claims (subject, organization, role, purpose of use, home community,
    /// HPKI registration number) in the access token, the ID token and userinfo (D93).
    IheIua,
}

impl Claim {
    /// Every claim.
    pub const ALL: [Claim; 8] = [
        Self::Name,
        Self::HcRole,
        Self::FacilityId,
        Self::FacilityName,
        Self::FacilityKind,
        Self::Acr,
        Self::Amr,
        Self::IheIua,
    ];

    /// The claim name in tokens and in the services file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::HcRole => "hc_role",
            Self::FacilityId => "facility_id",
            Self::FacilityName => "facility_name",
            Self::FacilityKind => "facility_kind",
            Self::Acr => "acr",
            Self::Amr => "amr",
            Self::IheIua => "ihe_iua",
        }
    }
}

/// All configured services, in file order, ids unique.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Services(Vec<Service>);

impl Services {
    /// Parse the TOML text of a services file (the bench's and the tests' services; the server reads them from
    /// the database).
    #[cfg(any(test, feature = "test-support"))]
    pub fn parse(text: &str) -> Result<Self, ServicesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| ServicesError::Toml(e.to_string()))?;
        if raw.version != SERVICES_FILE_VERSION {
            return Err(ServicesError::Version(raw.version));
        }
        let mut seen = HashSet::new();
        let mut services = Vec::with_capacity(raw.service.len());
        for r in raw.service {
            if !seen.insert(r.id.clone()) {
                return Err(ServicesError::DuplicateId(r.id));
            }
            services.push(r.into_service()?);
        }
        Ok(Self(services))
    }

    /// The services of a services file as one definition each (the TOML of its `[[service]]` table), checked
    /// as [`Services::parse`] checks them: what the database stores (D26).
    pub fn definitions(text: &str) -> Result<Vec<(String, String)>, ServicesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| ServicesError::Toml(e.to_string()))?;
        if raw.version != SERVICES_FILE_VERSION {
            return Err(ServicesError::Version(raw.version));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(raw.service.len());
        for r in raw.service {
            if !seen.insert(r.id.clone()) {
                return Err(ServicesError::DuplicateId(r.id));
            }
            let definition = toml::to_string(&r).map_err(|e| ServicesError::Toml(e.to_string()))?;
            let id = r.into_service()?.id;
            out.push((id, definition));
        }
        Ok(out)
    }

    /// Services from stored definitions (each the TOML of one service table), in the order given.
    pub fn from_definitions<'a>(definitions: impl IntoIterator<Item = &'a str>) -> Result<Self, ServicesError> {
        let mut seen = HashSet::new();
        let mut services = Vec::new();
        for text in definitions {
            let raw: RawService = toml::from_str(text).map_err(|e| ServicesError::Toml(e.to_string()))?;
            if !seen.insert(raw.id.clone()) {
                return Err(ServicesError::DuplicateId(raw.id));
            }
            services.push(raw.into_service()?);
        }
        Ok(Self(services))
    }

    /// The services, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Service> {
        self.0.iter()
    }

    /// The service with this id.
    pub fn get(&self, id: &str) -> Option<&Service> {
        self.0.iter().find(|s| s.id == id)
    }
}

/// Why a services file was refused. Each message says what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServicesError {
    /// The file cannot be read.
    #[error("cannot read services file {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown or missing field, or a wrong type; the message names the line.
    #[error("services file: {0}")]
    Toml(String),
    /// A `version` this build does not read.
    #[error("services file version {0} is not supported: set version = 1")]
    Version(u32),
    /// Two services with one id.
    #[error("service id {0:?} appears twice: service ids must be unique")]
    DuplicateId(String),
    /// A malformed service id.
    #[error("service id {0:?} is invalid: use 1 to 64 lowercase letters, digits or '-'")]
    BadId(String),
    /// Empty display name.
    #[error("service {0:?}: name must not be empty")]
    EmptyName(String),
    /// An hcRole code not in the table.
    #[error(
        "service {service:?}: unknown role code {code:?}: use \"*\" or codes such as {examples} (docs/portal.md lists them all)"
    )]
    UnknownRole {
        /// The service.
        service: String,
        /// The code as written.
        code: String,
        /// A few valid codes.
        examples: String,
    },
    /// A facility kind not known.
    #[error(
        "service {service:?}: unknown facility kind {kind:?}: use \"*\" or hospital, clinic, dental, pharmacy, care, service-provider"
    )]
    UnknownKind {
        /// The service.
        service: String,
        /// The kind as written.
        kind: String,
    },
    /// `"*"` mixed with names.
    #[error("service {service:?}: {field} mixes \"*\" with names: write either [\"*\"] or a list of names")]
    MixedWildcard {
        /// The service.
        service: String,
        /// The field.
        field: &'static str,
    },
    /// A malformed facility id.
    #[error("service {service:?}: {source}")]
    BadFacility {
        /// The service.
        service: String,
        /// Why.
        source: hcpki_ca::facility::FacilityIdError,
    },
    /// A facility both allowed and denied: the intent is unclear.
    #[error(
        "service {service:?}: facility {facility} is in both facilities_allow and facilities_deny: remove it from one"
    )]
    AllowedAndDenied {
        /// The service.
        service: String,
        /// The facility.
        facility: FacilityId,
    },
    /// An unknown assurance level.
    #[error("service {service:?}: unknown min_assurance {level:?}: use password-totp, card-pin or card-pin-facility")]
    UnknownAssurance {
        /// The service.
        service: String,
        /// As written.
        level: String,
    },
    /// An unknown claim name.
    #[error(
        "service {service:?}: unknown claim {claim:?}: use name, hc_role, facility_id, facility_name, facility_kind, acr, amr, ihe_iua"
    )]
    UnknownClaim {
        /// The service.
        service: String,
        /// As written.
        claim: String,
    },
    /// JPKI allowed on a service that needs a qualification: JPKI logins would always be refused.
    #[error(
        "service {0:?}: allow_jpki = true needs roles = [] (a JPKI login carries no qualification); drop allow_jpki or the roles"
    )]
    JpkiNeedsNoRoles(String),
    /// A purpose of use that is not one of HL7's codes hcpki offers.
    #[error(
        "service {service:?}: unknown purpose of use {purpose:?}: use TREAT, ETREAT, EMER (break-glass), HOPERAT, HPAYMT or PATRQT"
    )]
    UnknownPurpose {
        /// The service.
        service: String,
        /// As written.
        purpose: String,
    },
    /// `clients` is not one of the rules.
    #[error(
        "service {service:?}: clients = {rule:?} is unknown: use \"key\", \"confidential\" (the default) or \"any\""
    )]
    UnknownClientRule {
        /// The service.
        service: String,
        /// What was written.
        rule: String,
    },
    /// `purposes = []`: no request could ever be accepted.
    #[error("service {0:?}: purposes is empty: leave it out (TREAT only) or list the purposes the service accepts")]
    NoPurposes(String),
    /// `EMER` (break-glass) on a service that admits JPKI logins or needs no qualification: break-glass is for
    /// qualified card holders, so the service must require an hcRole.
    #[error(
        "service {0:?}: purposes lists EMER (break-glass), which needs roles = [\"*\"] or a list of roles (break-glass is only for card logins with an hcRole)"
    )]
    BreakGlassNeedsRoles(String),
    /// An `initiate_login_uri` that is not an `https://` URL (or `http://` to a loopback address, for tests).
    #[error(
        "service {service:?}: initiate_login_uri {uri:?} must be an https:// URL (http:// only to 127.0.0.1, [::1] or localhost)"
    )]
    BadLaunchUri {
        /// The service.
        service: String,
        /// As written.
        uri: String,
    },
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: u32,
    #[serde(default)]
    service: Vec<RawService>,
}

/// One `[[service]]` table as written. `roles`, `facility_kinds` and `min_assurance` have no default on purpose:
/// an authorization rule left out by mistake must not open a service to everyone.
#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    id: String,
    name: String,
    roles: Vec<String>,
    facility_kinds: Vec<String>,
    #[serde(default)]
    facilities_allow: Vec<String>,
    #[serde(default)]
    facilities_deny: Vec<String>,
    min_assurance: String,
    #[serde(default)]
    allow_jpki: bool,
    #[serde(default)]
    claims: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purposes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clients: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    initiate_login_uri: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    require_patient_presence: bool,
}

impl RawService {
    fn into_service(self) -> Result<Service, ServicesError> {
        let id = self.id;
        let id_ok = (1..=64).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(ServicesError::BadId(id));
        }
        if self.name.trim().is_empty() {
            return Err(ServicesError::EmptyName(id));
        }
        let roles = match wildcard(&id, "roles", &self.roles)? {
            true => RoleRule::AnyRole,
            false if self.roles.is_empty() => RoleRule::NoneRequired,
            false => RoleRule::OneOf(parse_each(&self.roles, |code| {
                HcRole::from_code(code).ok_or_else(|| ServicesError::UnknownRole {
                    service: id.clone(),
                    code: code.to_owned(),
                    examples: "medical-doctor, dentist, pharmacist, nurse".to_owned(),
                })
            })?),
        };
        let facility_kinds = match wildcard(&id, "facility_kinds", &self.facility_kinds)? {
            true => KindRule::Any,
            false => KindRule::OneOf(parse_each(&self.facility_kinds, |kind| {
                kind.parse::<FacilityKind>()
                    .map_err(|_| ServicesError::UnknownKind { service: id.clone(), kind: kind.to_owned() })
            })?),
        };
        let facility =
            |f: &str| FacilityId::parse(f).map_err(|source| ServicesError::BadFacility { service: id.clone(), source });
        let facilities_allow: BTreeSet<_> = parse_each(&self.facilities_allow, facility)?;
        let facilities_deny: BTreeSet<_> = parse_each(&self.facilities_deny, facility)?;
        if let Some(f) = facilities_allow.intersection(&facilities_deny).next() {
            return Err(ServicesError::AllowedAndDenied { service: id, facility: f.clone() });
        }
        let min_assurance = AssuranceLevel::from_name(&self.min_assurance).ok_or_else(|| {
            ServicesError::UnknownAssurance { service: id.clone(), level: self.min_assurance.clone() }
        })?;
        if self.allow_jpki && roles != RoleRule::NoneRequired {
            return Err(ServicesError::JpkiNeedsNoRoles(id));
        }
        let claims = parse_each(&self.claims, |c| {
            Claim::ALL
                .into_iter()
                .find(|k| k.as_str() == c)
                .ok_or_else(|| ServicesError::UnknownClaim { service: id.clone(), claim: c.to_owned() })
        })?;
        let purposes = match &self.purposes {
            None => BTreeSet::from([PurposeOfUse::Treat]),
            Some(list) if list.is_empty() => return Err(ServicesError::NoPurposes(id)),
            Some(list) => parse_each(list, |p| {
                PurposeOfUse::from_code(p)
                    .ok_or_else(|| ServicesError::UnknownPurpose { service: id.clone(), purpose: p.to_owned() })
            })?,
        };
        if purposes.contains(&PurposeOfUse::Emer) && roles == RoleRule::NoneRequired {
            return Err(ServicesError::BreakGlassNeedsRoles(id));
        }
        if let Some(uri) = self.initiate_login_uri.as_deref().filter(|u| !launch_uri_ok(u)) {
            return Err(ServicesError::BadLaunchUri { service: id, uri: uri.to_owned() });
        }
        let clients = match self.clients.as_deref() {
            None => ClientRule::Confidential,
            Some(text) => ClientRule::parse(text)
                .ok_or_else(|| ServicesError::UnknownClientRule { service: id.clone(), rule: text.to_owned() })?,
        };
        Ok(Service {
            id,
            name: self.name,
            roles,
            facility_kinds,
            facilities_allow,
            facilities_deny,
            min_assurance,
            allow_jpki: self.allow_jpki,
            claims,
            purposes,
            clients,
            description: self.description.filter(|d| !d.trim().is_empty()),
            initiate_login_uri: self.initiate_login_uri,
            require_patient_presence: self.require_patient_presence,
        })
    }
}

/// An `initiate_login_uri` the portal may link to: `https://` (OpenID Connect Registration §2), or `http://` to
/// a loopback host (a service on the same machine, as in tests); no fragment, no space or quote.
fn launch_uri_ok(uri: &str) -> bool {
    if uri.len() > 2000 || uri.contains(['#', ' ', '"', '<', '>']) {
        return false;
    }
    if let Some(rest) = uri.strip_prefix("https://") {
        return !rest.is_empty() && !rest.starts_with('/');
    }
    let Some(rest) = uri.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    matches!(host, "127.0.0.1" | "[::1]" | "localhost")
}

/// Whether a list is exactly `["*"]`; `"*"` next to names is an error.
fn wildcard(service: &str, field: &'static str, list: &[String]) -> Result<bool, ServicesError> {
    match (list.iter().any(|s| s == ANY), list.len()) {
        (true, 1) => Ok(true),
        (true, _) => Err(ServicesError::MixedWildcard { service: service.to_owned(), field }),
        (false, _) => Ok(false),
    }
}

fn parse_each<T, C: FromIterator<T>>(
    list: &[String],
    parse: impl Fn(&str) -> Result<T, ServicesError>,
) -> Result<C, ServicesError> {
    list.iter().map(|s| parse(s.trim())).collect()
}
