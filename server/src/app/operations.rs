//! What the admin API and the web console both do, once: each operation takes input already read from the
//! request, asks `hcpki_ca::access::decide` (through [`Caller::may`]), calls `Authority`, and audits every
//! refusal with the caller as actor. `admin.rs` adapts them to JSON, `crate::console` to HTML forms; neither
//! holds a business rule of its own.

use super::AppState;
use super::api_error::ApiError;
use super::auth::Caller;
use axum::http::StatusCode;
use hcpki_ca::RegistryError;
use hcpki_ca::access::Action;
use hcpki_ca::authority::IssueRequest;
use hcpki_ca::enroll::credential::{self, DEFAULT_VALIDITY_SECS, Minted, Protocol};
use hcpki_ca::enroll::{CredentialRecord, NewCredential};
use hcpki_ca::facility::{Facility, FacilityId, FacilityKind, NewFacility, RegistrationError, Transition};
use hcpki_ca::profile::{ProfileKind, Vendor};
use hcpki_ca::serial::SerialHex;
use hcpki_ca::store::{CertificateFilter, CertificateRecord, FacilityFilter, StoreError};
use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
use serde::Deserialize;
use std::str::FromStr;

pub mod addresses;
pub mod compliance;
pub mod devices;
pub mod halt;
pub mod networks;
pub mod oidc_clients;
pub mod passkey_rule;
pub mod practice;
pub mod ras;
pub mod rollover;
pub mod routers;
pub mod security_officer;
pub mod signing_limit;
pub mod users;
pub mod vetting;

/// Longest facility name (characters): no field can fill a row or a log line.
pub const MAX_NAME: usize = 200;
/// Longest address.
pub const MAX_ADDRESS: usize = 300;
/// Longest contact.
pub const MAX_CONTACT: usize = 200;
/// Longest short field (kind, medical code, protocol, profile, validity, revocation reason).
pub const MAX_SHORT: usize = 32;
/// Longest reason of a transition.
pub const MAX_REASON: usize = 500;
const MAX_PROFILES: usize = 4;

/// What an applicant sends (a JSON body, or form fields of the same names).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// The facility's name.
    pub name: String,
    /// `hospital`, `clinic`, …
    pub kind: String,
    /// The medical institution code.
    pub medical_code: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Whom to contact.
    pub contact: Option<String>,
}

/// A refused form: the API's error (already audited) and, when the person at the form can fix it, which field and
/// rule it broke (`P`, one enum per form), so a page can say it in their words next to the values they typed.
#[derive(Debug)]
pub struct Refusal<P> {
    /// The audited error.
    pub error: ApiError,
    /// What to fix; none for what the form cannot change (access, the server's own trouble).
    pub problem: Option<P>,
}

impl<P> From<ApiError> for Refusal<P> {
    fn from(error: ApiError) -> Self {
        Self { error, problem: None }
    }
}

/// The JSON API answers with the error alone.
impl<P> From<Refusal<P>> for ApiError {
    fn from(r: Refusal<P>) -> Self {
        r.error
    }
}

/// Why an application was refused, as far as the applicant can fix it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApplicationProblem {
    /// The name is empty, too long or holds control characters.
    Name,
    /// The kind is not one of the list.
    Kind,
    /// The 医療機関コード is malformed (length, digits, check digit).
    MedicalCode,
    /// The code's score-table digit does not fit the kind.
    CodeKindMismatch,
    /// The code is already registered (to a facility the applicant is not told).
    CodeTaken,
    /// The address is too long or holds control characters.
    Address,
    /// The contact is too long or holds control characters.
    Contact,
}

/// Register a facility (state `applied`); anyone may.
pub async fn apply(
    state: &AppState,
    caller: &Caller,
    a: &Application,
) -> Result<Facility, Refusal<ApplicationProblem>> {
    caller.may(Action::Apply).await?;
    let action = Action::Apply.name();
    let new = match application(a) {
        Ok(n) => n,
        Err((detail, problem)) => {
            let error = caller.refuse(&action, "-", ApiError::bad_request("invalid application", detail)).await;
            return Err(Refusal { error, problem: Some(problem) });
        }
    };
    if let Err(error) = ras::may_register(caller, &new).await {
        return Err(error.into());
    }
    match state.admin.registrar().register_facility(&new, &caller.actor()).await {
        Ok(f) => ras::registered(state, caller, f).await.map_err(Refusal::from),
        Err(e) => {
            let taken = matches!(&e, RegistryError::Store(StoreError::DuplicateMedicalCode { .. }));
            let audited = refused(caller, &action, "-", e.into()).await;
            if taken {
                // The audit entry names the facility holding the code, for the operators; the applicant, who is
                // anyone, learns only that it is taken: naming the holder would map codes to facility IDs.
                let error = ApiError::new(StatusCode::CONFLICT, "conflict", CODE_TAKEN);
                return Err(Refusal { error, problem: Some(ApplicationProblem::CodeTaken) });
            }
            Err(audited.into())
        }
    }
}

/// What an applicant is told when the 医療機関コード is already registered (without the holder's ID).
pub const CODE_TAKEN: &str = "this 医療機関コード is already registered: check the code; if it is your facility's, \
                              contact the operating body rather than applying again";

fn application(a: &Application) -> Result<NewFacility, (String, ApplicationProblem)> {
    use ApplicationProblem as P;
    let field = |p: P| move |detail: String| (detail, p);
    limit("name", Some(&a.name), MAX_NAME).map_err(field(P::Name))?;
    limit("kind", Some(&a.kind), MAX_SHORT).map_err(field(P::Kind))?;
    limit("medical_code", a.medical_code.as_deref(), MAX_SHORT).map_err(field(P::MedicalCode))?;
    limit("address", a.address.as_deref(), MAX_ADDRESS).map_err(field(P::Address))?;
    limit("contact", a.contact.as_deref(), MAX_CONTACT).map_err(field(P::Contact))?;
    let kind = FacilityKind::from_str(&a.kind).map_err(|e| (e.to_string(), P::Kind))?;
    NewFacility::new(&a.name, kind, a.medical_code.as_deref(), a.address.as_deref(), a.contact.as_deref()).map_err(
        |e| {
            let problem = match &e {
                RegistrationError::Name(_) => P::Name,
                RegistrationError::CodeKindMismatch { .. } => P::CodeKindMismatch,
                _ => P::MedicalCode,
            };
            (e.to_string(), problem)
        },
    )
}

/// Facilities by `filter` (operators and auditors); a registration authority's staff see only its scope (D167),
/// whatever the filter says.
pub async fn list_facilities(
    state: &AppState,
    caller: &Caller,
    filter: &FacilityFilter,
) -> Result<Vec<Facility>, ApiError> {
    caller.may(Action::ListFacilities).await?;
    let scoped;
    let filter = match caller.principal.ra() {
        Some(ra) => {
            scoped = FacilityFilter { ra: Some(ra.clone()), ..filter.clone() };
            &scoped
        }
        None => filter,
    };
    state.admin.registrar().facilities().list_facilities(filter).await.map_err(ApiError::unavailable)
}

/// One facility (operators, auditors, the facility's admin).
pub async fn facility(state: &AppState, caller: &Caller, id: &str) -> Result<Facility, ApiError> {
    let name = "admin.facility.read";
    let id = facility_id(caller, name, id).await?;
    caller.may(Action::ReadFacility(&id)).await?;
    existing(state, caller, name, &id).await
}

/// The transition `verb` names, on a facility the caller may move (operators). Checked before any body is
/// read, so a caller who may not learns nothing from the body's errors.
pub async fn authorize_transition(caller: &Caller, id: &str, verb: &str) -> Result<(FacilityId, Transition), ApiError> {
    caller.authenticated("admin.facility.transition").await?;
    let t = match verb {
        "approve" => Transition::Approve,
        "reject" => Transition::Reject,
        "suspend" => Transition::Suspend,
        "resume" => Transition::Resume,
        "retire" => Transition::Retire,
        _ => {
            let e = ApiError::not_found(format!("no action {verb:?}: use approve, reject, suspend, resume or retire"));
            return Err(caller.refuse("admin.facility.transition", id, e).await);
        }
    };
    let id = facility_id(caller, &format!("admin.facility.{}", t.verb()), id).await?;
    caller.may(Action::Transition(t, &id)).await?;
    Ok((id, t))
}

/// Apply an authorised transition; `reason` is required to reject, suspend and retire.
pub async fn transition(
    state: &AppState,
    caller: &Caller,
    id: &FacilityId,
    t: Transition,
    reason: Option<&str>,
) -> Result<Facility, ApiError> {
    let name = format!("admin.facility.{}", t.verb());
    let needs_reason = matches!(t, Transition::Reject | Transition::Suspend | Transition::Retire);
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let checked = limit("reason", reason, MAX_REASON).and_then(|()| match reason {
        None if needs_reason => Err(format!("a reason is required to {}", t.verb())),
        _ => Ok(()),
    });
    if let Err(detail) = checked {
        return Err(caller.refuse(&name, id.as_str(), ApiError::bad_request("invalid request", detail)).await);
    }
    match state.admin.registrar().transition(id, t, reason, &caller.actor()).await {
        Ok(f) => Ok(f),
        Err(e) => Err(refused(caller, &name, id.as_str(), e.into()).await),
    }
}

/// A facility the caller may create credentials for (operators; its admin by PC certificate).
pub async fn authorize_credential(caller: &Caller, id: &str) -> Result<FacilityId, ApiError> {
    let id = facility_id(caller, "admin.credential.create", id).await?;
    caller.may(Action::CreateCredential(&id)).await?;
    Ok(id)
}

/// What a new enrollment credential is for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialRequest {
    /// `est`, `scep` or `acme`.
    pub protocol: String,
    /// Profiles it may enroll (`router`, `pc`).
    pub profiles: Vec<String>,
    /// How long it stays usable (`7d`, `12h`); a week when absent.
    pub valid_for: Option<String>,
}

/// Why a credential was not made, as far as the person at the form can fix it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialProblem {
    /// The protocol is not EST, SCEP or ACME.
    Protocol,
    /// The profile is not router or pc (or none, or too many).
    Profile,
    /// The validity is not a number with d, h or m between 1m and 90d.
    Validity,
}

/// Mint a credential for an authorised facility; the secret is in the answer only.
pub async fn create_credential(
    state: &AppState,
    caller: &Caller,
    id: &FacilityId,
    c: &CredentialRequest,
) -> Result<Minted, Refusal<CredentialProblem>> {
    let name = "admin.credential.create";
    let new = match credential_request(id.clone(), c) {
        Ok(n) => n,
        Err((detail, problem)) => {
            let error = caller.refuse(name, id.as_str(), ApiError::bad_request("invalid request", detail)).await;
            return Err(Refusal { error, problem: Some(problem) });
        }
    };
    match state.admin.registrar().create_credential(&new, &caller.actor()).await {
        Ok(m) => Ok(m),
        Err(e) => Err(refused(caller, name, id.as_str(), e.into()).await.into()),
    }
}

fn credential_request(
    facility: FacilityId,
    c: &CredentialRequest,
) -> Result<NewCredential, (String, CredentialProblem)> {
    use CredentialProblem as P;
    limit("protocol", Some(&c.protocol), MAX_SHORT).map_err(|d| (d, P::Protocol))?;
    limit("valid_for", c.valid_for.as_deref(), MAX_SHORT).map_err(|d| (d, P::Validity))?;
    if c.profiles.len() > MAX_PROFILES {
        return Err((format!("profiles: at most {MAX_PROFILES} entries"), P::Profile));
    }
    for p in &c.profiles {
        limit("profiles", Some(p), MAX_SHORT).map_err(|d| (d, P::Profile))?;
    }
    let protocol = Protocol::from_str(&c.protocol).map_err(|e| (e.to_string(), P::Protocol))?;
    let profiles = c
        .profiles
        .iter()
        .map(|p| ProfileKind::from_str(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| (e.to_string(), P::Profile))?;
    let valid_for = match &c.valid_for {
        Some(v) => credential::parse_validity(v).map_err(|e| (e.to_string(), P::Validity))?,
        None => DEFAULT_VALIDITY_SECS,
    };
    NewCredential::new(facility, protocol, &profiles, valid_for).map_err(|e| {
        let problem = match e {
            credential::CredentialError::Validity(_) => P::Validity,
            credential::CredentialError::UnknownProtocol(_) => P::Protocol,
            _ => P::Profile,
        };
        (e.to_string(), problem)
    })
}

/// A device without an enrollment client: what its certificate is for.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequest {
    /// `router` or `pc`.
    pub profile: String,
    /// A router's fixed address or extra DNS name (`203.0.113.7`), below the facility's name.
    pub san: Option<String>,
    /// The router's vendor (its EKU variant: `cisco`, `strongswan`, …).
    pub vendor: Option<String>,
    /// The facility's registered router it is for (`gw1`), held to the register (D174).
    pub router: Option<String>,
}

/// A PKCS#12 made for a device: the file, its passphrase (shown once, stored nowhere) and the certificate.
pub struct DevicePkcs12 {
    /// The PKCS#12 file.
    pub file: Vec<u8>,
    /// Its passphrase.
    pub passphrase: zeroize::Zeroizing<String>,
    /// The certificate's record.
    pub record: CertificateRecord,
}

/// Why a device's PKCS#12 was not made, as far as the person at the form can fix it (the console says it in
/// their words); the refusal itself is already audited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceProblem {
    /// Neither `router` nor `pc` was chosen.
    Profile,
    /// The vendor is not one of the list.
    Vendor,
    /// An extra name on a profile that takes none (a PC's names come from the facility).
    NameNotAllowed,
    /// The extra name is neither a DNS name nor an IP address.
    BadName,
    /// The extra DNS name is outside the facility's zone.
    NameOutsideFacility,
    /// The extra address is not allocated to the facility.
    AddressNotAllocated,
    /// Issuance is halted by the operators (the stop switch, D135): nothing was made; try after it resumes.
    Halted,
    /// The router register refused the router certificate (D174): the detail says what to register or choose.
    Router,
    /// Something else (the page shows the operation's own words).
    Other,
}

/// A refusal of [`issue_pkcs12`]: the API's error and what the form can say about it.
#[derive(Debug)]
pub struct DeviceRefusal {
    /// The audited error.
    pub error: ApiError,
    /// What to fix.
    pub problem: DeviceProblem,
}

impl DeviceRefusal {
    fn other(error: ApiError) -> Self {
        Self { error, problem: DeviceProblem::Other }
    }
}

impl DeviceProblem {
    /// The problem of a signing refusal, by the profile's error variant.
    fn of(e: &hcpki_ca::SigningError) -> Self {
        use hcpki_ca::profile::ProfileError as P;
        match e {
            hcpki_ca::SigningError::Profile(p) => match p {
                P::SanNotAllowed(..) => Self::NameNotAllowed,
                P::BadSan { .. } => Self::BadName,
                P::SanOutsideFacility { .. } => Self::NameOutsideFacility,
                P::AddressNotAllocated { .. } => Self::AddressNotAllocated,
                P::Variant(_) => Self::Vendor,
                _ => Self::Other,
            },
            hcpki_ca::SigningError::Halted { .. } => Self::Halted,
            hcpki_ca::SigningError::Router(r) if !matches!(**r, hcpki_ca::router_register::RegisterError::Store(_)) => {
                Self::Router
            }
            _ => Self::Other,
        }
    }
}

/// A facility the caller may issue device keys for (operators; its admin by PC certificate).
pub async fn authorize_device(caller: &Caller, id: &str) -> Result<FacilityId, ApiError> {
    let id = facility_id(caller, "admin.device.issue", id).await?;
    caller.may(Action::IssueDeviceKey(&id)).await?;
    Ok(id)
}

/// Make a P-256 key, issue its certificate for an authorised facility (audited as `cert.issue` with the
/// caller as actor) and wrap both with the chain in a PKCS#12 under a fresh passphrase.
pub async fn issue_pkcs12(
    state: &AppState,
    caller: &Caller,
    id: &FacilityId,
    d: &DeviceRequest,
) -> Result<DevicePkcs12, DeviceRefusal> {
    let name = "admin.device.issue";
    let checked = limit("profile", Some(&d.profile), MAX_SHORT)
        .and_then(|()| limit("san", d.san.as_deref(), MAX_NAME))
        .and_then(|()| limit("vendor", d.vendor.as_deref(), MAX_SHORT))
        .and_then(|()| limit("router", d.router.as_deref(), hcpki_ca::router_register::MAX_FIELD))
        .map_err(|detail| (detail, DeviceProblem::Other))
        .and_then(|()| {
            let profile = ProfileKind::from_str(&d.profile).map_err(|e| (e.to_string(), DeviceProblem::Profile))?;
            match profile {
                ProfileKind::Router | ProfileKind::Pc => Ok(profile),
                other => {
                    Err((format!("profile {other}: a facility's devices are router or pc"), DeviceProblem::Profile))
                }
            }
        })
        .and_then(|profile| {
            let eku = d.vendor.as_deref().map(|v| Vendor::from_str(v).map(|v| v.eku())).transpose();
            eku.map(|eku| (profile, eku)).map_err(|e| (e.to_string(), DeviceProblem::Vendor))
        });
    let (profile, router_eku) = match checked {
        Ok(p) => p,
        Err((detail, problem)) => {
            let error = caller.refuse(name, id.as_str(), ApiError::bad_request("invalid request", detail)).await;
            return Err(DeviceRefusal { error, problem });
        }
    };
    let unavailable = |e| DeviceRefusal::other(ApiError::unavailable(e));
    let (key, pkcs8) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).map_err(unavailable)?;
    let csr = hcpki_ca::csr::build(&key, x509_cert::name::Name::default())
        .map_err(|e| DeviceRefusal::other(ApiError::unavailable(e)))?;
    let request = IssueRequest {
        profile,
        facility: Some(id.clone()),
        csr: csr.into(),
        sans: d.san.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        device: None,
        router: d.router.as_ref().map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()),
        router_eku,
        ocsp_for: None,
        not_after: None,
    };
    let (issued, record) = match state.admin.pipeline().issue(&request, &caller.actor()).await {
        Ok(done) => done,
        Err(e) => {
            let problem = DeviceProblem::of(&e);
            let mut error = ApiError::from(e);
            // While halted, the wait the installation configured (D141), not the default.
            error.retry_after = error.retry_after.map(|_| state.halt.retry_after_secs);
            return Err(DeviceRefusal { error: refused(caller, name, id.as_str(), error).await, problem });
        }
    };
    let (file, passphrase) = crate::output::device_pkcs12(&state.admin, &pkcs8, &issued.der, &record)
        .map_err(|e| DeviceRefusal::other(ApiError::unavailable(e)))?;
    Ok(DevicePkcs12 { file, passphrase, record })
}

/// A facility's credentials, without secrets (operators, auditors, the facility's admin).
pub async fn credentials(state: &AppState, caller: &Caller, id: &str) -> Result<Vec<CredentialRecord>, ApiError> {
    let name = "admin.credential.list";
    let id = facility_id(caller, name, id).await?;
    caller.may(Action::ListCredentials(&id)).await?;
    existing(state, caller, name, &id).await?;
    state.admin.registrar().credentials(Some(&id)).await.map_err(ApiError::from)
}

/// Set (`Some(hours)`, 1–168) or clear (`None`) a facility's SSO session lifetime (operators; D26), as
/// `hcpki portal lifetime set|clear` does; the store audits `portal.session_lifetime`. `Ok(false)`: clearing
/// a lifetime that was not set.
/// The hours a facility's SSO session lifetime may be set to (D26).
pub const SESSION_HOURS: std::ops::RangeInclusive<u32> = 1..=168;

pub async fn set_session_lifetime(
    state: &AppState,
    caller: &Caller,
    id: &str,
    hours: Option<u32>,
) -> Result<bool, ApiError> {
    let name = "admin.facility.session_lifetime";
    let id = facility_id(caller, name, id).await?;
    caller.may(Action::SetSessionLifetime(&id)).await?;
    existing(state, caller, name, &id).await?;
    if let Some(h) = hours
        && !SESSION_HOURS.contains(&h)
    {
        let e = ApiError::bad_request("invalid session lifetime", format!("{h} hours: use 1 to 168 hours"));
        return Err(caller.refuse(name, id.as_str(), e).await);
    }
    let secs = hours.map(|h| i64::from(h) * 3600);
    state
        .store
        .portal_set_session_lifetime(&id, secs, &caller.actor(), state.clock.now())
        .await
        .map_err(ApiError::unavailable)
}

/// The credential `id`, when the caller may revoke it (operators; the facility's admin): what the console's
/// confirmation page shows and [`revoke_credential`] acts on. Refusals audited.
pub async fn revocable_credential(state: &AppState, caller: &Caller, id: &str) -> Result<CredentialRecord, ApiError> {
    let name = "admin.credential.revoke";
    let well_formed = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let record = if well_formed {
        state.admin.registrar().enrollment().credential(id).await.map_err(ApiError::unavailable)?
    } else {
        None
    };
    let Some(record) = record else {
        let e = ApiError::not_found(format!("no enrollment credential {id:?}: list the facility's credentials"));
        return Err(caller.refuse(name, "-", e).await);
    };
    caller.may(Action::RevokeCredential(&record.facility)).await?;
    Ok(record)
}

/// Revoke a credential (operators; the facility's admin by PC certificate). The caller is authenticated.
pub async fn revoke_credential(state: &AppState, caller: &Caller, id: &str) -> Result<CredentialRecord, ApiError> {
    let record = revocable_credential(state, caller, id).await?;
    match state.admin.registrar().revoke_credential(&record.id, &caller.actor()).await {
        Ok(c) => Ok(c),
        Err(e) => Err(refused(caller, "admin.credential.revoke", &record.id, e.into()).await),
    }
}

/// Revoke a facility certificate with an RFC 5280 reason name (`unspecified` when absent): operators; the
/// facility's admin by PC certificate. The caller is authenticated. hcpki's own certificates (server,
/// OCSP, operators) are revoked with the CLI.
pub async fn revoke_certificate(
    state: &AppState,
    caller: &Caller,
    serial: &str,
    reason: Option<&str>,
) -> Result<CertificateRecord, ApiError> {
    let name = "admin.certificate.revoke";
    let reason = match reason.unwrap_or("unspecified").parse::<hcpki_ca::revocation::Reason>() {
        Ok(r) => r,
        Err(e) => return Err(caller.refuse(name, "-", ApiError::bad_request("bad reason", e.to_string())).await),
    };
    let record = match SerialHex::parse_input(serial) {
        Some(s) => state.admin.pipeline().certificates().certificate(&s).await.map_err(ApiError::unavailable)?,
        None => None,
    };
    let Some((record, facility)) = record.and_then(|r| r.facility.clone().map(|f| (r, f))) else {
        let e = ApiError::not_found(format!("no facility certificate {serial:?}: list the facility's certificates"));
        return Err(caller.refuse(name, "-", e).await);
    };
    caller.may(Action::RevokeCertificate(&facility)).await?;
    match state.admin.revoker().revoke(&record.serial, reason, &caller.actor()).await {
        Ok(c) => Ok(c),
        Err(e) => Err(refused(caller, name, record.serial.as_str(), e.into()).await),
    }
}

/// A facility's certificates, newest first (operators, auditors, the facility's admin).
pub async fn certificates(state: &AppState, caller: &Caller, id: &str) -> Result<Vec<CertificateRecord>, ApiError> {
    let name = "admin.certificate.list";
    let id = facility_id(caller, name, id).await?;
    caller.may(Action::ListCertificates(&id)).await?;
    existing(state, caller, name, &id).await?;
    let filter = CertificateFilter { facility: Some(id), ..CertificateFilter::default() };
    state.admin.pipeline().certificates().list_certificates(&filter).await.map_err(ApiError::unavailable)
}

/// One facility certificate by serial (whoever may list that facility's certificates).
pub async fn certificate(state: &AppState, caller: &Caller, serial: &str) -> Result<CertificateRecord, ApiError> {
    let name = "admin.certificate.read";
    caller.authenticated(name).await?;
    let record = match SerialHex::parse_input(serial) {
        Some(s) => state.admin.pipeline().certificates().certificate(&s).await.map_err(ApiError::unavailable)?,
        None => None,
    };
    let Some((record, facility)) = record.and_then(|r| r.facility.clone().map(|f| (r, f))) else {
        let e = ApiError::not_found(format!("no facility certificate {serial:?}: check the serial (hex)"));
        return Err(caller.refuse(name, "-", e).await);
    };
    caller.may(Action::ListCertificates(&facility)).await?;
    Ok(record)
}

/// The error title of a malformed facility ID (the console tells it apart by this title and says it in words).
pub const INVALID_FACILITY_ID: &str = "invalid facility ID";

/// A facility ID from the request, or an audited 400. Anonymous callers are refused first: they learn
/// nothing but how to apply.
pub async fn facility_id(caller: &Caller, action: &str, text: &str) -> Result<FacilityId, ApiError> {
    caller.authenticated(action).await?;
    match FacilityId::parse(text) {
        Ok(id) => Ok(id),
        Err(e) => Err(caller.refuse(action, "-", ApiError::bad_request(INVALID_FACILITY_ID, e.to_string())).await),
    }
}

/// The facility `text` names, once `caller` may do `action_on` it and it exists: the three checks every
/// per-facility operation starts with, each refusal audited as `name`.
pub(super) async fn allowed_facility(
    state: &AppState,
    caller: &Caller,
    name: &str,
    text: &str,
    action_on: impl for<'a> FnOnce(&'a FacilityId) -> hcpki_ca::access::Action<'a>,
) -> Result<FacilityId, ApiError> {
    let id = facility_id(caller, name, text).await?;
    caller.may(action_on(&id)).await?;
    existing(state, caller, name, &id).await?;
    Ok(id)
}

/// The facility, or an audited 404.
pub(super) async fn existing(
    state: &AppState,
    caller: &Caller,
    action: &str,
    id: &FacilityId,
) -> Result<Facility, ApiError> {
    match state.admin.registrar().facilities().facility(id).await.map_err(ApiError::unavailable)? {
        Some(f) => Ok(f),
        None => {
            let e = ApiError::not_found(format!("no facility {id}: check the ID"));
            Err(caller.refuse(action, id.as_str(), e).await)
        }
    }
}

/// Audit a refusal the CA gave (the CA's own trouble, 503, is logged instead).
async fn refused(caller: &Caller, action: &str, target: &str, e: ApiError) -> ApiError {
    if e.status == axum::http::StatusCode::SERVICE_UNAVAILABLE { e } else { caller.refuse(action, target, e).await }
}

/// At most `max` characters and no control characters.
pub fn limit(field: &str, value: Option<&str>, max: usize) -> Result<(), String> {
    let Some(v) = value else { return Ok(()) };
    if v.chars().count() > max {
        return Err(format!("{field} is longer than {max} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{field} contains control characters"));
    }
    Ok(())
}
