//! Who may do what through the admin API: one pure function, [`decide`], over a [`Principal`] and an
//! [`Action`], table-tested below. The server only authenticates (maps a TLS client certificate or an
//! enrollment credential to a principal through [`crate::Authority`]) and asks here; no handler decides.
//!
//! | action | anonymous | facility admin (own facility) | auditor | operator |
//! |---|---|---|---|---|
//! | apply, whoami | yes | yes | yes | yes |
//! | list facilities (the approval queue) | 401 | 403 | yes | yes |
//! | read a facility, its certificates and credentials | 401 | yes | yes | yes |
//! | approve, reject, suspend, resume, retire | 401 | 403 | 403 | yes |
//! | create or revoke a credential | 401 | signed-in person only | 403 | yes |
//! | revoke a certificate of the facility | 401 | signed-in person only | 403 | yes |
//! | issue a device certificate with a key made by hcpki (PKCS#12) | 401 | signed-in person only | 403 | yes |
//! | read the audit log (login history, export) | 401 | 403 | yes | yes |
//! | list console grants | 401 | 403 | yes | yes |
//! | add or remove console grants | 401 | 403 | 403 | yes |
//! | list the OIDC relying parties | 401 | 403 | yes | yes |
//! | read a facility's address allocations | 401 | yes | yes | yes |
//! | add or remove address allocations | 401 | 403 | 403 | yes |
//! | register or remove an OIDC relying party | 401 | 403 | 403 | yes |
//!
//! Operators and auditors of a registration authority (D167: a connection provider or a prefecture; by
//! certificate or console grant, the membership `hcpki ra member` sets) are decided as above and then held to
//! their RA's scope: every action on one facility only where the facility's [`Placement`] is in the scope,
//! listing facilities (filtered to the scope by the operation) and the RAs themselves; nothing else (the
//! audit log, jobs, grants, relying parties, the help desk, session lifetimes, address allocations, the CA's
//! keys and brakes stay central). Their audit actor names the RA (`ra:<name>:operator:<name>`).
//!
//! A person signed in to the console through the SSO portal (D42) is an operator or auditor
//! ([`Principal::Person`], same column as a certificate operator of that role) or a facility admin
//! ([`AdminBasis::Person`]) by their console grant: no second table.
//!
//! The facility admin column splits by what proved the caller ([`AdminBasis`]); every one of them reads its
//! own facility, and only a named person changes anything (issue #24, item 7):
//!
//! | facility admin by | read own facility | create/revoke credentials, revoke certificates, PKCS#12 |
//! |---|---|---|
//! | PC certificate alone ([`AdminBasis::Certificate`]) | yes | 403: sign in through the portal with a grant |
//! | enrollment credential ([`AdminBasis::Credential`]) | yes | 403 |
//! | person at a facility PC, card login ([`AdminSignIn::Card`]) | yes | yes |
//! | person at a facility PC, password + TOTP where the facility allows it | yes | yes |
//! | person at a facility PC, password + TOTP where the facility does not ([`AdminSignIn::PasswordTotpNotAllowed`]) | yes | 403: use a card |
//!
//! A PC certificate stands for a machine that anyone at the facility may sit at; changes need someone the audit
//! can name. A facility admin never reaches another facility (403). An enrollment credential is a bearer secret
//! handed over for one device, and must not be a way to breed more of them.

use crate::facility::FacilityState;
use crate::facility::{FacilityId, Transition};
use crate::operator::{OperatorName, OperatorRole};
use crate::ra::{Member, Placement, Ra, RaName};
use crate::store::Actor;
use hcpki_model::{ProfileKind, SerialHex};

/// Who is calling, as authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// An hcpki operator (operator certificate from the server CA, enabled in the `operators` table).
    Operator {
        /// The name.
        name: OperatorName,
        /// Its role.
        role: OperatorRole,
        /// The registration authority it acts for (`None`: central, D167).
        ra: Option<Ra>,
    },
    /// A person signed in to the console through the SSO portal with an operator or auditor console grant
    /// (D42): decided exactly as an [`Principal::Operator`] of that role.
    Person {
        /// The portal person key (the card holder's).
        person_key: String,
        /// The display name from the login (shown, never decided on).
        name: String,
        /// The grant's role.
        role: OperatorRole,
        /// The registration authority the person acts for (`None`: central, D167).
        ra: Option<Ra>,
    },
    /// A facility's administrator, for that facility only.
    FacilityAdmin {
        /// The facility.
        facility: FacilityId,
        /// What proved it.
        basis: AdminBasis,
    },
    /// No client certificate, no credential.
    Anonymous,
}

/// How a facility admin authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminBasis {
    /// A current PC certificate of the facility (its serial), over TLS.
    Certificate(String),
    /// An active (unused, unexpired, unrevoked) enrollment credential of the facility (its ID), over HTTP
    /// Basic; checked, never redeemed.
    Credential(String),
    /// A portal sign-in at one of the facility's PCs by a person with a facility-admin console grant (D42); the
    /// connection presents that PC's certificate as well. The only basis that may change anything.
    Person {
        /// The portal person key.
        person_key: String,
        /// The serial of the facility PC certificate the request came through (named in the audit).
        pc: String,
        /// How the person signed in, against what the facility accepts.
        sign_in: AdminSignIn,
    },
}

/// How a facility admin by grant signed in to the portal, as it counts for changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminSignIn {
    /// An HPKI or JPKI card with its PIN.
    Card,
    /// Password + TOTP at a facility that accepts it for its admins (`hcpki facility admin-login`).
    PasswordTotp,
    /// Password + TOTP at a facility that takes changes only from a card sign-in (the default): read-only.
    PasswordTotpNotAllowed,
}

impl Principal {
    /// The role of an operator or auditor, whether by certificate or by console grant.
    pub fn staff_role(&self) -> Option<OperatorRole> {
        match self {
            Self::Operator { role, .. } | Self::Person { role, .. } => Some(*role),
            _ => None,
        }
    }

    /// The registration authority an operator or auditor acts for (`None`: central, or not staff).
    pub fn ra(&self) -> Option<&Ra> {
        match self {
            Self::Operator { ra, .. } | Self::Person { ra, .. } => ra.as_ref(),
            _ => None,
        }
    }

    /// How an RA's membership names this operator or auditor (the central actor); `None` for others.
    pub fn member(&self) -> Option<Member> {
        match self {
            Self::Operator { name, .. } => Some(Member::operator(name)),
            Self::Person { person_key, .. } => Some(Member::person(person_key)),
            _ => None,
        }
    }

    /// The audit actor: `operator:<name>` (`ra:<RA>:operator:<name>` for an RA's staff, and so for persons), `person:<person key>`, `facility-admin:<facility>` (with
    /// `:pc:<PC certificate serial>:person:<person key>` when a console grant made it: who, and at which PC; the
    /// person key last, as it may hold colons) or `api:anonymous`.
    pub fn actor(&self) -> Actor {
        match self {
            Self::Operator { name, ra: None, .. } => Actor(format!("operator:{name}")),
            Self::Person { person_key, ra: None, .. } => Actor(format!("person:{person_key}")),
            Self::Operator { ra: Some(ra), .. } | Self::Person { ra: Some(ra), .. } => {
                let member = self.member().map(|m| m.to_string()).unwrap_or_default();
                Actor(format!("ra:{}:{member}", ra.name))
            }
            Self::FacilityAdmin { facility, basis: AdminBasis::Person { person_key, pc, .. } } => {
                Actor(format!("facility-admin:{facility}:pc:{pc}:person:{person_key}"))
            }
            Self::FacilityAdmin { facility, .. } => Actor(format!("facility-admin:{facility}")),
            Self::Anonymous => Actor("api:anonymous".into()),
        }
    }
}

/// What a caller asks to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action<'a> {
    /// Register a facility (state `applied`).
    Apply,
    /// Ask who one is.
    WhoAmI,
    /// List facilities (e.g. the approval queue).
    ListFacilities,
    /// Read one facility.
    ReadFacility(&'a FacilityId),
    /// Move a facility through its lifecycle.
    Transition(Transition, &'a FacilityId),
    /// Create an enrollment credential for a facility.
    CreateCredential(&'a FacilityId),
    /// List a facility's credentials (never their secrets).
    ListCredentials(&'a FacilityId),
    /// Revoke a credential of this facility.
    RevokeCredential(&'a FacilityId),
    /// List a facility's certificates.
    ListCertificates(&'a FacilityId),
    /// Revoke a certificate of this facility (a stolen router, a PC given away).
    RevokeCertificate(&'a FacilityId),
    /// Issue a certificate for a device of this facility with a key hcpki makes (a PKCS#12 for a device
    /// without an enrollment client).
    IssueDeviceKey(&'a FacilityId),
    /// Read or export the audit log (every facility's entries, logins included).
    ReadAudit,
    /// Set or clear a facility's SSO session lifetime (D26).
    SetSessionLifetime(&'a FacilityId),
    /// Search the SSO portal's users (help desk): accounts, card holders, their logins and sessions.
    SearchUsers,
    /// End every SSO session of a person (help desk).
    EndUserSessions,
    /// Clear a password account's sign-in throttle (help desk).
    ClearLockout,
    /// See long operations (jobs, D38) and their progress.
    ReadJobs,
    /// Start, resume or cancel a long operation (bulk import, bulk re-issue; D38): the operating body's work.
    RunJobs,
    /// List who may use the console after a portal sign-in (D42).
    ListConsoleGrants,
    /// Add, change or remove a console grant (D42).
    ManageConsoleGrants,
    /// List the OpenID Connect relying parties (issue #6).
    ListOidcClients,
    /// Register or remove an OpenID Connect relying party: which services may receive whose identity.
    ManageOidcClients,
    /// Read a facility's address allocations (issue #24, item 2).
    ListAllocations(&'a FacilityId),
    /// Allocate addresses to a facility or take them back: which router identities it may have certified.
    ManageAllocations(&'a FacilityId),
    /// See whether issuance is halted, why and by whom, and the approvals to resume (D135).
    ReadIssuanceHalt,
    /// Halt all issuance, or approve resuming it (D135): the operating body's emergency brake.
    HaltIssuance,
    /// Read the CP/CPS draft of this installation (D150): its settings and CA keys, for the operating body.
    ReadPractice,
    /// Name the facility's security officer (セキュリティ責任者, D155): its own admins (signed in with a card, or
    /// password + TOTP where the facility accepts it) and operators.
    ManageSecurityOfficer(&'a FacilityId),
    /// Set the facility's own security rules — which passkeys it admits (D170), how far its signing sessions
    /// reach (D172): its own admins and operators, as the security officer.
    ManageFacilityRules(&'a FacilityId),
    /// Find who holds a network address, from the allocations and the certificates issued (issue #50 item 5):
    /// incident support, across every facility.
    FindAddress,
    /// See where a CA's key rollover stands and who still holds the old generation (D145).
    ReadRollover,
    /// Start, switch, retire or abort a CA's key rollover (D145).
    ManageRollover,
    /// Read the safety-guideline compliance report (D164): the whole installation's (`None`, the operating
    /// body's) or one facility's (its own admins too).
    ReadCompliance(Option<&'a FacilityId>),
    /// List the registration authorities (D167).
    ListRas,
    /// Create a registration authority, assign a facility to a provider RA (D167): the operating body's.
    ManageRas,
    /// Register or remove the facility's routers (D168): its own admins (as for credentials) and operators.
    ManageRouters(&'a FacilityId),
    /// Issue (or rotate) a pre-shared key of the facility's router, shown once (D156, D168): its own admins and
    /// operators.
    IssueRouterKey(&'a FacilityId),
    /// Withdraw a router's pre-shared key at once (D168): the operating body's decision.
    WithdrawRouterKey(&'a FacilityId),
    /// Approve a router model, change its tested status or withdraw it (D174): the list holds every
    /// facility's router certificates and keys, so it is the operating body's, not an RA's nor a facility's.
    ManageRouterModels,
    /// Record what the approver checked of the facility (the 医療機関コード against the register, a signed
    /// acceptance of the security rules, a vulnerability assessment) or warn it of what is overdue (D173):
    /// operators and the staff of an RA in whose scope it is.
    RecordVetting(&'a FacilityId),
    /// Accept the network's security rules for the facility (D173): its own admins (as for its own rules) and
    /// operators.
    AcceptSecurityRules(&'a FacilityId),
    /// Read the register of medical institutions and the overdue list (D173): operators, auditors and RA staff
    /// (the list filtered to their scope).
    ReadVettingLists,
    /// Import the register, set which evidence approvals need and the security rules' version (D173): the
    /// operating body's.
    ManageVetting,
}

impl Action<'_> {
    /// The audit action name of a refusal, e.g. `admin.facility.approve`.
    pub fn name(&self) -> String {
        match self {
            Self::Apply => "admin.facility.apply".into(),
            Self::WhoAmI => "admin.whoami".into(),
            Self::ListFacilities => "admin.facility.list".into(),
            Self::ReadFacility(_) => "admin.facility.read".into(),
            Self::Transition(t, _) => format!("admin.facility.{}", t.verb()),
            Self::CreateCredential(_) => "admin.credential.create".into(),
            Self::ListCredentials(_) => "admin.credential.list".into(),
            Self::RevokeCredential(_) => "admin.credential.revoke".into(),
            Self::ListCertificates(_) => "admin.certificate.list".into(),
            Self::RevokeCertificate(_) => "admin.certificate.revoke".into(),
            Self::IssueDeviceKey(_) => "admin.device.issue".into(),
            Self::ReadAudit => "admin.audit.read".into(),
            Self::SetSessionLifetime(_) => "admin.facility.session_lifetime".into(),
            Self::SearchUsers => "admin.user.search".into(),
            Self::EndUserSessions => "admin.user.end_sessions".into(),
            Self::ClearLockout => "admin.user.clear_lockout".into(),
            Self::ReadJobs => "admin.job.read".into(),
            Self::RunJobs => "admin.job.run".into(),
            Self::ListConsoleGrants => "admin.console_grant.list".into(),
            Self::ManageConsoleGrants => "admin.console_grant.manage".into(),
            Self::ListOidcClients => "admin.oidc_client.list".into(),
            Self::ManageOidcClients => "admin.oidc_client.manage".into(),
            Self::ListAllocations(_) => "admin.facility.address.list".into(),
            Self::ManageAllocations(_) => "admin.facility.address.manage".into(),
            Self::ReadIssuanceHalt => "admin.ca.halt.read".into(),
            Self::HaltIssuance => "admin.ca.halt.manage".into(),
            Self::ReadPractice => "admin.ca.cps.read".into(),
            Self::FindAddress => "admin.facility.address.find".into(),
            Self::ManageSecurityOfficer(_) => "admin.facility.security_officer".into(),
            Self::ManageFacilityRules(_) => "admin.facility.rules".into(),
            Self::ReadRollover => "admin.ca.rollover.read".into(),
            Self::ManageRollover => "admin.ca.rollover.manage".into(),
            Self::ReadCompliance(_) => "admin.compliance.report".into(),
            Self::ListRas => "admin.ra.list".into(),
            Self::ManageRas => "admin.ra.manage".into(),
            Self::ManageRouters(_) => "admin.router.manage".into(),
            Self::IssueRouterKey(_) => "admin.psk.issue".into(),
            Self::WithdrawRouterKey(_) => "admin.psk.withdraw".into(),
            Self::ManageRouterModels => "admin.router.model.manage".into(),
            Self::RecordVetting(_) => "admin.facility.vetting.record".into(),
            Self::AcceptSecurityRules(_) => "admin.facility.vetting.accept_rules".into(),
            Self::ReadVettingLists => "admin.vetting.read".into(),
            Self::ManageVetting => "admin.vetting.manage".into(),
        }
    }

    /// The facility the action is about, if any (the audit target).
    pub fn facility(&self) -> Option<&FacilityId> {
        match self {
            Self::Apply
            | Self::WhoAmI
            | Self::ListFacilities
            | Self::ReadAudit
            | Self::SearchUsers
            | Self::EndUserSessions
            | Self::ClearLockout
            | Self::ReadJobs
            | Self::RunJobs
            | Self::ListConsoleGrants
            | Self::ManageConsoleGrants
            | Self::ListOidcClients
            | Self::ManageOidcClients
            | Self::ReadIssuanceHalt
            | Self::HaltIssuance
            | Self::ReadPractice
            | Self::FindAddress => None,
            Self::ReadRollover | Self::ManageRollover | Self::ListRas | Self::ManageRas => None,
            Self::ManageRouterModels => None,
            Self::ReadVettingLists | Self::ManageVetting => None,
            Self::ReadCompliance(f) => *f,
            Self::ReadFacility(f)
            | Self::Transition(_, f)
            | Self::CreateCredential(f)
            | Self::ListCredentials(f)
            | Self::RevokeCredential(f)
            | Self::ListCertificates(f)
            | Self::RevokeCertificate(f)
            | Self::IssueDeviceKey(f)
            | Self::SetSessionLifetime(f)
            | Self::ListAllocations(f)
            | Self::ManageAllocations(f)
            | Self::ManageSecurityOfficer(f)
            | Self::ManageFacilityRules(f) => Some(f),
            Self::ManageRouters(f) | Self::IssueRouterKey(f) | Self::WithdrawRouterKey(f) => Some(f),
            Self::RecordVetting(f) | Self::AcceptSecurityRules(f) => Some(f),
        }
    }
}

/// Why an action is refused. The text says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denial {
    /// The caller did not authenticate and must (HTTP 401).
    #[error("{0}")]
    Unauthenticated(Unauthenticated),
    /// The caller is known but may not do this (HTTP 403).
    #[error("{0}")]
    Forbidden(Forbidden),
}

/// Why the caller must authenticate first (HTTP 401).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unauthenticated {
    /// Nothing proved who the caller is.
    #[error("authenticate with an operator certificate, the facility's PC certificate or an enrollment credential")]
    Anonymous,
    /// An enrollment credential that does not exist, or the wrong secret (the two are not told apart).
    #[error("unknown credential or wrong secret: check the ID and secret")]
    UnknownCredential,
    /// An `Authorization` header that is not HTTP Basic.
    #[error("the Authorization header must be HTTP Basic with the credential ID and secret")]
    NotBasic,
}

/// Why a caller who is known may not do this (HTTP 403).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Forbidden {
    /// The action is the operating body's: operators and auditors only.
    #[error("only hcpki operators and auditors may do this")]
    OperatorsOnly,
    /// An RA's operator or auditor asked for what only central operators do (D167).
    #[error(
        "you act for registration authority {0}: only the operating body's central operators may do this; ask them"
    )]
    CentralOnly(RaName),
    /// An RA's operator or auditor asked about a facility outside the RA's scope (D167).
    #[error(
        "facility {facility} is outside the scope of registration authority {ra}: its own RA or a central operator \
         acts for it"
    )]
    OutsideScope {
        /// The caller's RA.
        ra: RaName,
        /// The facility asked about.
        facility: FacilityId,
    },
    /// A facility is not activated by hand.
    #[error("a facility becomes active with its first certificate; approve it instead")]
    ActivateByApproving,
    /// An auditor asked to change something.
    #[error("auditors have read-only access: ask an operator")]
    AuditorReadOnly,
    /// A facility admin asked about another facility (or none).
    #[error("you act for facility {own} only; {} is another facility", .asked.as_ref().map_or("-", FacilityId::as_str))]
    OtherFacility {
        /// The admin's facility.
        own: FacilityId,
        /// The facility the action names, if any.
        asked: Option<FacilityId>,
    },
    /// A password + TOTP sign-in of a facility admin where the facility takes changes from cards only.
    #[error(
        "facility {0} takes changes only from a card sign-in: sign in to the portal with your HPKI or JPKI card \
         and PIN, or ask the operating body to accept password + TOTP for the facility's admins (hcpki facility \
         admin-login {0} --password-totp allow)"
    )]
    CardSignInOnly(FacilityId),
    /// A facility PC certificate alone asked to change something.
    #[error(
        "a facility PC certificate alone may only read: to create or revoke credentials and certificates or \
         issue PKCS#12 files, sign in through the portal at this PC (/console/login) as a person with a \
         facility-admin console grant for {0} (an operator adds it: hcpki console-grant add --role \
         facility-admin --facility {0} PERSON)"
    )]
    PcCertificateReadsOnly(FacilityId),
    /// An enrollment credential asked to change something.
    #[error(
        "an enrollment credential cannot create or revoke credentials or certificates: sign in through the \
         portal at a facility PC (its PC certificate on the connection) with a facility-admin console grant"
    )]
    CredentialReadsOnly,
    /// The client certificate identifies nobody.
    #[error("{0}")]
    Certificate(CertificateRefusal),
    /// A router's certificate: a device, not a person.
    #[error(
        "certificate {0} is a router's: routers are devices, not facility admins; use the facility's PC certificate"
    )]
    RouterCertificate(SerialHex),
    /// A certificate of a profile that authenticates nobody to the admin API.
    #[error("{0} certificates do not authenticate to the admin API")]
    NotAdminProfile(ProfileKind),
    /// An operator certificate without the operator's identity URI.
    #[error("certificate {0} names no operator")]
    NoOperatorNamed(SerialHex),
    /// The operator is disabled.
    #[error("operator {0} is disabled")]
    OperatorDisabled(OperatorName),
    /// The operator is not registered.
    #[error("operator {0} is not registered: see `hcpki operator list`")]
    OperatorUnknown(OperatorName),
    /// The enrollment credential is used, expired or revoked.
    #[error("credential {0}: use the facility's PC certificate or ask the operator for a new credential")]
    CredentialSpent(SpentCredential),
    /// The credential's facility may not enroll (rejected, suspended, retired, or not approved yet).
    #[error("facility {facility} is {state}")]
    FacilityState {
        /// The facility.
        facility: FacilityId,
        /// Where it stands.
        state: FacilityState,
    },
}

/// How an enrollment credential was spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpentCredential {
    /// Redeemed already.
    #[error("was already used")]
    Used,
    /// Past its expiry.
    #[error("expired")]
    Expired,
    /// Revoked by an operator.
    #[error("was revoked")]
    Revoked,
}

/// Why a certificate presented over TLS identifies nobody: the admin API's and EST re-enrollment's refusal,
/// safe to show the client.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateRefusal {
    /// Not a certificate.
    #[error("the client certificate does not decode")]
    Undecodable,
    /// Not byte-identical to one this CA issued (the serial as the certificate carries it, hex).
    #[error("certificate {0} was not issued by this CA")]
    NotIssuedHere(String),
    /// Revoked, or on hold while its facility is suspended.
    #[error("certificate {0} is revoked or on hold (its facility is suspended or retired)")]
    Revoked(SerialHex),
    /// Past its notAfter.
    #[error("certificate {0} is expired")]
    Expired(SerialHex),
    /// Recorded but not issued (an intent that never completed).
    #[error("certificate {0} is not issued")]
    NotIssued(SerialHex),
    /// A CA certificate.
    #[error("certificate {0} is not an end-entity certificate")]
    NotEndEntity(SerialHex),
    /// Neither a PC's nor a router's (EST re-enrollment).
    #[error("certificate {0} is not a facility certificate")]
    NotFacilityCertificate(SerialHex),
    /// A facility certificate without its facility.
    #[error("certificate {0} names no facility")]
    NoFacility(SerialHex),
    /// Its facility may not enroll.
    #[error("facility {facility} is {state}")]
    FacilityState {
        /// The facility.
        facility: FacilityId,
        /// Where it stands.
        state: FacilityState,
    },
    /// Its facility is not in the registry.
    #[error("facility {0} does not exist")]
    NoSuchFacility(FacilityId),
}

/// Decide whether `principal` may perform `action`; `placement` is where the action's facility stands for the
/// registration authorities, which the caller looks up for an RA's staff (without it they are refused any action
/// on a facility).
pub fn decide(principal: &Principal, action: &Action<'_>, placement: Option<&Placement>) -> Result<(), Denial> {
    use Action as A;
    let operators_only = || Denial::Forbidden(Forbidden::OperatorsOnly);
    match (principal, action) {
        (_, A::Apply | A::WhoAmI) => Ok(()),
        (Principal::Anonymous, _) => authenticated(principal),
        (Principal::Operator { .. } | Principal::Person { .. }, A::Transition(Transition::Activate, _)) => {
            Err(Denial::Forbidden(Forbidden::ActivateByApproving))
        }
        (
            Principal::Operator { role: OperatorRole::Auditor, .. }
            | Principal::Person { role: OperatorRole::Auditor, .. },
            a,
        ) if mutates(a) => Err(Denial::Forbidden(Forbidden::AuditorReadOnly)),
        (Principal::Operator { .. } | Principal::Person { .. }, a) => match principal.ra() {
            None => Ok(()),
            Some(ra) => within_scope(ra, a, placement),
        },
        // A session lifetime is the operating body's policy for the facility, not the facility's own choice;
        // addresses are the network operator's to allocate (a facility allocating itself addresses could
        // claim another's router identity);
        // the portal's users are people of every facility, the operating body's help desk's to look after.
        (
            Principal::FacilityAdmin { .. },
            A::ListFacilities
            | A::Transition(..)
            | A::ReadAudit
            | A::SetSessionLifetime(_)
            | A::ManageAllocations(_)
            | A::WithdrawRouterKey(_)
            | A::RecordVetting(_)
            | A::SearchUsers
            | A::EndUserSessions
            | A::ClearLockout,
        ) => Err(operators_only()),
        // Relying parties serve every facility: registering one is the operating body's decision.
        (
            Principal::FacilityAdmin { .. },
            A::ReadJobs
            | A::RunJobs
            | A::ListConsoleGrants
            | A::ManageConsoleGrants
            | A::ListOidcClients
            | A::ManageOidcClients
            | A::ReadIssuanceHalt
            | A::HaltIssuance
            | A::ReadPractice
            | A::FindAddress
            | A::ReadRollover
            | A::ManageRollover
            | A::ListRas
            | A::ManageRas
            | A::ManageRouterModels
            | A::ReadVettingLists
            | A::ManageVetting,
        ) => Err(operators_only()),
        (Principal::FacilityAdmin { facility, basis }, a) => {
            let target = a.facility();
            if target != Some(facility) {
                return Err(Denial::Forbidden(Forbidden::OtherFacility {
                    own: facility.clone(),
                    asked: target.cloned(),
                }));
            }
            match basis {
                _ if !mutates(a) => Ok(()),
                AdminBasis::Person { sign_in: AdminSignIn::Card | AdminSignIn::PasswordTotp, .. } => Ok(()),
                AdminBasis::Person { sign_in: AdminSignIn::PasswordTotpNotAllowed, .. } => {
                    Err(Denial::Forbidden(Forbidden::CardSignInOnly(facility.clone())))
                }
                AdminBasis::Certificate(_) => {
                    Err(Denial::Forbidden(Forbidden::PcCertificateReadsOnly(facility.clone())))
                }
                AdminBasis::Credential(_) => Err(Denial::Forbidden(Forbidden::CredentialReadsOnly)),
            }
        }
    }
}

/// What an RA's operator or auditor may do (D167): list facilities (the operation filters the list to the scope)
/// and the RAs; act on a facility in its scope; nothing central. A session lifetime is the operating body's
/// policy and addresses its network plan, whoever registered the facility.
fn within_scope(ra: &Ra, action: &Action<'_>, placement: Option<&Placement>) -> Result<(), Denial> {
    let central = || Err(Denial::Forbidden(Forbidden::CentralOnly(ra.name.clone())));
    match action {
        Action::ListFacilities | Action::ListRas | Action::ReadVettingLists => Ok(()),
        Action::SetSessionLifetime(_) | Action::ManageAllocations(_) => central(),
        a => match a.facility() {
            None => central(),
            Some(f) => match placement {
                Some(p) if &p.facility == f && ra.covers(p) => Ok(()),
                _ => Err(Denial::Forbidden(Forbidden::OutsideScope { ra: ra.name.clone(), facility: f.clone() })),
            },
        },
    }
}

/// Refuse the anonymous caller (before even looking up what it names, so it learns nothing of what exists).
pub fn authenticated(principal: &Principal) -> Result<(), Denial> {
    match principal {
        Principal::Anonymous => Err(Denial::Unauthenticated(Unauthenticated::Anonymous)),
        _ => Ok(()),
    }
}

/// Whether an action changes anything.
fn mutates(action: &Action<'_>) -> bool {
    matches!(
        action,
        Action::Transition(..)
            | Action::CreateCredential(_)
            | Action::RevokeCredential(_)
            | Action::RevokeCertificate(_)
            | Action::IssueDeviceKey(_)
            | Action::SetSessionLifetime(_)
            | Action::EndUserSessions
            | Action::ClearLockout
            | Action::RunJobs
            | Action::ManageConsoleGrants
            | Action::ManageOidcClients
            | Action::ManageAllocations(_)
            | Action::ManageSecurityOfficer(_)
            | Action::ManageFacilityRules(_)
            | Action::HaltIssuance
            | Action::ManageRollover
            | Action::ManageRas
            | Action::ManageRouterModels
            | Action::ManageRouters(_)
            | Action::IssueRouterKey(_)
            | Action::WithdrawRouterKey(_)
            | Action::RecordVetting(_)
            | Action::AcceptSecurityRules(_)
            | Action::ManageVetting
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Want {
        Yes,
        No401,
        No403,
    }
    use Want::*;

    #[test]
    fn the_table() {
        let f = FacilityId::from_number(1).unwrap();
        let g = FacilityId::from_number(2).unwrap();
        let op =
            Principal::Operator { name: OperatorName::parse("ops").unwrap(), role: OperatorRole::Operator, ra: None };
        let au =
            Principal::Operator { name: OperatorName::parse("aud").unwrap(), role: OperatorRole::Auditor, ra: None };
        let pc = Principal::FacilityAdmin { facility: f.clone(), basis: AdminBasis::Certificate("01".into()) };
        let cred = Principal::FacilityAdmin { facility: f.clone(), basis: AdminBasis::Credential("ab".into()) };
        let anon = Principal::Anonymous;
        let at_pc = |sign_in| Principal::FacilityAdmin {
            facility: f.clone(),
            basis: AdminBasis::Person { person_key: "pwd:z".into(), pc: "01".into(), sign_in },
        };
        let card_fa = at_pc(AdminSignIn::Card);
        let pwd_fa = at_pc(AdminSignIn::PasswordTotp);
        let pwd_no = at_pc(AdminSignIn::PasswordTotpNotAllowed);
        let card_op =
            Principal::Person { person_key: "hpki:x".into(), name: "X".into(), role: OperatorRole::Operator, ra: None };
        let card_au =
            Principal::Person { person_key: "hpki:y".into(), name: "Y".into(), role: OperatorRole::Auditor, ra: None };
        let approve = Action::Transition(Transition::Approve, &f);
        let suspend = Action::Transition(Transition::Suspend, &f);
        let activate = Action::Transition(Transition::Activate, &f);
        #[rustfmt::skip]
        let table: Vec<(Action<'_>, [Want; 7])> = vec![
            //                                      anon   pc     cred   person pwd-no auditor operator
            (Action::Apply,                         [Yes,   Yes,   Yes,   Yes,   Yes,   Yes,   Yes]),
            (Action::WhoAmI,                        [Yes,   Yes,   Yes,   Yes,   Yes,   Yes,   Yes]),
            (Action::ListFacilities,                [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::ReadFacility(&f),              [No401, Yes,   Yes,   Yes,   Yes,   Yes,   Yes]),
            (Action::ReadFacility(&g),              [No401, No403, No403, No403, No403, Yes,   Yes]),
            (approve,                               [No401, No403, No403, No403, No403, No403, Yes]),
            (suspend,                               [No401, No403, No403, No403, No403, No403, Yes]),
            (activate,                              [No401, No403, No403, No403, No403, No403, No403]),
            (Action::CreateCredential(&f),          [No401, No403, No403, Yes,   No403, No403, Yes]),
            (Action::CreateCredential(&g),          [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ListCredentials(&f),           [No401, Yes,   Yes,   Yes,   Yes,   Yes,   Yes]),
            (Action::ListCredentials(&g),           [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::RevokeCredential(&f),          [No401, No403, No403, Yes,   No403, No403, Yes]),
            (Action::RevokeCredential(&g),          [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ListCertificates(&f),          [No401, Yes,   Yes,   Yes,   Yes,   Yes,   Yes]),
            (Action::ListCertificates(&g),          [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::RevokeCertificate(&f),         [No401, No403, No403, Yes,   No403, No403, Yes]),
            (Action::RevokeCertificate(&g),         [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::IssueDeviceKey(&f),            [No401, No403, No403, Yes,   No403, No403, Yes]),
            (Action::IssueDeviceKey(&g),            [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ReadAudit,                     [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::SetSessionLifetime(&f),        [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::SearchUsers,                   [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::EndUserSessions,               [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ClearLockout,                  [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ReadJobs,                      [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::RunJobs,                       [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ListConsoleGrants,             [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::ManageConsoleGrants,           [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ListOidcClients,               [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::ManageOidcClients,             [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ListAllocations(&f),           [No401, Yes,   Yes,   Yes,   Yes,   Yes,   Yes]),
            (Action::ListAllocations(&g),           [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::ManageAllocations(&f),         [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ManageAllocations(&g),         [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ReadIssuanceHalt,              [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::HaltIssuance,                  [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ReadPractice,                  [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::FindAddress,                   [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::ManageSecurityOfficer(&f),     [No401, No403, No403, Yes,   No403, No403, Yes]),
            (Action::ManageSecurityOfficer(&g),     [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ManageFacilityRules(&f),         [No401, No403, No403, Yes,   No403, No403, Yes]),
            (Action::ManageFacilityRules(&g),         [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ManageRouters(&f),             [No401, No403, No403, Yes,   No403, No403, Yes]),
            (Action::ManageRouters(&g),             [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::RecordVetting(&f),             [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::AcceptSecurityRules(&f),       [No401, No403, No403, Yes,   No403, No403, Yes]),
            (Action::AcceptSecurityRules(&g),       [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ReadVettingLists,              [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::ManageVetting,                 [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::IssueRouterKey(&f),            [No401, No403, No403, Yes,   No403, No403, Yes]),
            (Action::IssueRouterKey(&g),            [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::WithdrawRouterKey(&f),         [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ReadRollover,                  [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::ManageRollover,                [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ReadCompliance(None),          [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::ReadCompliance(Some(&f)),      [No401, Yes,   Yes,   Yes,   Yes,   Yes,   Yes]),
            (Action::ReadCompliance(Some(&g)),      [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::ListRas,                       [No401, No403, No403, No403, No403, Yes,   Yes]),
            (Action::ManageRas,                     [No401, No403, No403, No403, No403, No403, Yes]),
            (Action::ManageRouterModels,            [No401, No403, No403, No403, No403, No403, Yes]),
        ];
        for (action, wants) in table {
            for (principal, want) in [&anon, &pc, &cred, &card_fa, &pwd_no, &au, &op].into_iter().zip(wants) {
                let got = match decide(principal, &action, None) {
                    Ok(()) => Yes,
                    Err(Denial::Unauthenticated(_)) => No401,
                    Err(Denial::Forbidden(_)) => No403,
                };
                assert_eq!(got, want, "{principal:?} {action:?}");
            }
            // A console grant's person is decided exactly as the certificate principal of the same role; a
            // password + TOTP facility admin where the facility accepts it, as a card holder.
            for (person, same) in [(&card_op, &op), (&card_au, &au), (&pwd_fa, &card_fa)] {
                assert_eq!(
                    decide(person, &action, None).is_ok(),
                    decide(same, &action, None).is_ok(),
                    "{person:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn refusals_say_what_to_do() {
        let f = FacilityId::from_number(1).unwrap();
        let pc = Principal::FacilityAdmin { facility: f.clone(), basis: AdminBasis::Certificate("01".into()) };
        let Err(Denial::Forbidden(why)) = decide(&pc, &Action::CreateCredential(&f), None) else { panic!() };
        let why = why.to_string();
        assert!(why.contains("sign in through the portal") && why.contains("console-grant add"), "{why}");
        let basis = AdminBasis::Person {
            person_key: "pwd:z".into(),
            pc: "01".into(),
            sign_in: AdminSignIn::PasswordTotpNotAllowed,
        };
        let pwd = Principal::FacilityAdmin { facility: f.clone(), basis };
        let Err(Denial::Forbidden(why)) = decide(&pwd, &Action::RevokeCertificate(&f), None) else { panic!() };
        let why = why.to_string();
        assert!(why.contains("card") && why.contains("admin-login"), "{why}");
    }

    /// An RA's staff (D167): the role decides as for central staff, then the scope: every facility action only on a
    /// facility placed in it (and refused without a placement, or with another facility's), the facility list and
    /// the RA list, nothing central.
    #[test]
    fn registration_authority_scope() {
        use crate::ra::{Prefecture, RaKind};
        let inside = FacilityId::from_number(1).unwrap();
        let outside = FacilityId::from_number(2).unwrap();
        let tokyo = Ra::new(
            RaName::parse("tokyo").unwrap(),
            RaKind::Prefecture,
            "東京都",
            vec![Prefecture::parse("13").unwrap()],
        )
        .unwrap();
        let at = |f: &FacilityId, pref: &str| Placement {
            facility: f.clone(),
            prefecture: Some(Prefecture::parse(pref).unwrap()),
            provider: None,
        };
        let (p_in, p_out) = (at(&inside, "13"), at(&outside, "27"));
        let op = Principal::Operator {
            name: OperatorName::parse("ra-ops").unwrap(),
            role: OperatorRole::Operator,
            ra: Some(tokyo.clone()),
        };
        let au = Principal::Person {
            person_key: "hpki:z".into(),
            name: "Z".into(),
            role: OperatorRole::Auditor,
            ra: Some(tokyo.clone()),
        };
        let forbidden = |p: &Principal, a: Action<'_>, place: Option<&Placement>| {
            matches!(decide(p, &a, place), Err(Denial::Forbidden(_)))
        };
        for t in [Transition::Approve, Transition::Reject, Transition::Suspend, Transition::Resume, Transition::Retire]
        {
            assert_eq!(decide(&op, &Action::Transition(t, &inside), Some(&p_in)), Ok(()), "{t:?}");
            assert!(forbidden(&op, Action::Transition(t, &outside), Some(&p_out)), "{t:?}");
            assert!(forbidden(&op, Action::Transition(t, &inside), None), "no placement: refused");
            assert!(forbidden(&op, Action::Transition(t, &outside), Some(&p_in)), "another facility's placement");
            assert!(forbidden(&au, Action::Transition(t, &inside), Some(&p_in)), "an RA auditor reads only");
        }
        for (a, b) in [
            (Action::ReadFacility(&inside), Action::ReadFacility(&outside)),
            (Action::ListCertificates(&inside), Action::ListCertificates(&outside)),
            (Action::ListCredentials(&inside), Action::ListCredentials(&outside)),
            (Action::ReadCompliance(Some(&inside)), Action::ReadCompliance(Some(&outside))),
        ] {
            assert_eq!(decide(&au, &a, Some(&p_in)), Ok(()), "{a:?}");
            assert!(forbidden(&au, b, Some(&p_out)), "{b:?}");
        }
        for a in [
            Action::CreateCredential(&inside),
            Action::RevokeCertificate(&inside),
            Action::IssueDeviceKey(&inside),
            Action::ManageSecurityOfficer(&inside),
            Action::RecordVetting(&inside),
            Action::AcceptSecurityRules(&inside),
        ] {
            assert_eq!(decide(&op, &a, Some(&p_in)), Ok(()), "{a:?}");
        }
        assert!(forbidden(&op, Action::RecordVetting(&outside), Some(&p_out)), "vetting outside the scope");
        assert_eq!(decide(&au, &Action::ReadVettingLists, None), Ok(()));
        assert_eq!(decide(&op, &Action::ListFacilities, None), Ok(()));
        assert_eq!(decide(&au, &Action::ListRas, None), Ok(()));
        for a in [
            Action::SetSessionLifetime(&inside),
            Action::ManageAllocations(&inside),
            Action::ReadAudit,
            Action::SearchUsers,
            Action::RunJobs,
            Action::ManageConsoleGrants,
            Action::FindAddress,
            Action::HaltIssuance,
            Action::ReadCompliance(None),
            Action::ManageRas,
            Action::ManageRouterModels,
            Action::ManageVetting,
        ] {
            let Err(Denial::Forbidden(why)) = decide(&op, &a, Some(&p_in)) else { panic!("{a:?} allowed") };
            assert!(why.to_string().contains("central operators"), "{a:?}: {why}");
        }
        let Err(Denial::Forbidden(why)) = decide(&op, &Action::Transition(Transition::Approve, &outside), Some(&p_out))
        else {
            panic!()
        };
        assert!(why.to_string().contains("outside the scope of registration authority tokyo"), "{why}");
        assert_eq!(op.actor().as_str(), "ra:tokyo:operator:ra-ops");
        assert_eq!(au.actor().as_str(), "ra:tokyo:person:hpki:z");
        assert_eq!(op.member().unwrap().as_str(), "operator:ra-ops");
    }

    #[test]
    fn actors_and_action_names() {
        let f = FacilityId::from_number(1).unwrap();
        let pc = Principal::FacilityAdmin { facility: f.clone(), basis: AdminBasis::Certificate("01".into()) };
        assert_eq!(pc.actor().as_str(), format!("facility-admin:{f}"));
        let op =
            Principal::Operator { name: OperatorName::parse("ops").unwrap(), role: OperatorRole::Operator, ra: None };
        assert_eq!(op.actor().as_str(), "operator:ops");
        assert_eq!(Principal::Anonymous.actor().as_str(), "api:anonymous");
        let basis = AdminBasis::Person { person_key: "pwd:z".into(), pc: "0a1b".into(), sign_in: AdminSignIn::Card };
        let fa = Principal::FacilityAdmin { facility: f.clone(), basis };
        assert_eq!(fa.actor().as_str(), format!("facility-admin:{f}:pc:0a1b:person:pwd:z"));
        assert_eq!(Action::Transition(Transition::Reject, &f).name(), "admin.facility.reject");
        assert_eq!(Action::ListFacilities.facility(), None);
    }
}
