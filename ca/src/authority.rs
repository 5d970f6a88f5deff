//! The authority, in parts along Boulder's lines, each owning the store areas it uses:
//!
//! ```text
//! Authority ─┬─ Registrar  (registrar.rs: facilities, allocations, credentials, held SCEP requests, operators,
//!            │              console grants, who a caller is)         Facilities, Enrollment, Operators, ConsoleGrants
//!            ├─ Pipeline   (pipeline.rs: plan ─▶ lint ─▶ intent ─▶ sign ─▶ store, in batches)       Issuance
//!            ├─ Revoker    (revocation.rs, offline_root.rs: revoke, CRLs, the ARL)                  Revocations
//!            └─ Hierarchy  (hierarchy.rs: the CAs' certificates and keys, settings, clock)
//! ```
//! Callers name the part they use (`authority.pipeline().issue(…)`, `authority.revoker().revoke(…)`). The
//! authority itself keeps what spans parts: `init`/`load`, group commit, an operator's certificate, an approved
//! SCEP request, re-issue (issue, then revoke the predecessor), and the protocol front ends' interfaces
//! (`EnrollAuthority`, `ScepAuthority`, `AcmeAuthority`). OCSP answers are `revocation::ocsp`'s.

use crate::hierarchy::Hierarchy;
use crate::issuer::{IssueError, Signer, TbsInput};
use crate::pipeline::Pipeline;
use crate::profile::{self, IssuerContext, ProfileSettings};
use crate::registrar::Registrar;
use crate::revoker::Revoker;
use crate::serial::Serial;
use crate::store::{Actor, AuditLog, AuthorityRecord, Issuance, IssuanceIntent, Jobs, Maintenance, Store};
use der::{Decode, Encode};
use hcpki_model::CertProfile;
use hcpki_pkix::keys::{self, KeyAlgorithm, KeyContext, KeyUri};
use hcpki_pkix::time::{Clock, SystemClock, UnixTime};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use x509_cert::Certificate;

pub use crate::error::{AuthorityError, FacilityRefusal, RegistryError, RevocationError, SigningError};
pub use crate::request::IssueRequest;
pub use hcpki_model::CaName;
pub use rollover::{GenerationCrl, RolloverError, RolloverOptions, RolloverStatus};

/// Default key algorithm of a CA: RSA for the root and router CA (every IKE stack
/// verifies RSA chains; some older routers verify nothing else), P-256 for
/// the TLS-only CAs.
pub fn default_algorithm(ca: CaName) -> KeyAlgorithm {
    match ca {
        CaName::Root => KeyAlgorithm::Rsa3072,
        CaName::Router => KeyAlgorithm::Rsa2048,
        CaName::Pc | CaName::Server => KeyAlgorithm::P256,
    }
}

/// Where `init` makes the CA keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPlacement {
    /// Encrypted PKCS#8 files under `keys/` in the hcpki directory.
    Software,
    /// Key pairs on this PKCS#11 token.
    Pkcs11 {
        /// Token label.
        token: String,
    },
}

impl KeyPlacement {
    /// The key of `ca`'s `generation` here: generation 1 is `init`'s (`keys/router.p8`, `hcpki-router`), a
    /// rollover's carries its number (`keys/router-g2.p8`, `hcpki-router-g2`), so no key is ever overwritten.
    pub fn uri(&self, ca: CaName, generation: u32) -> KeyUri {
        let name = if generation <= 1 { ca.to_string() } else { format!("{ca}-g{generation}") };
        match self {
            Self::Software => KeyUri::File(format!("keys/{name}.p8").into()),
            Self::Pkcs11 { token } => KeyUri::Pkcs11 { token: token.clone(), object: format!("hcpki-{name}") },
        }
    }

    /// Where the key at `uri` is: a rollover makes the new key beside the old one unless told otherwise.
    pub fn of(uri: &KeyUri) -> Self {
        match uri {
            KeyUri::File(_) => Self::Software,
            KeyUri::Pkcs11 { token, .. } => Self::Pkcs11 { token: token.clone() },
        }
    }
}

/// Choices made at `init`.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// Where keys go.
    pub placement: KeyPlacement,
    /// Per-CA key algorithm overrides.
    pub algorithms: BTreeMap<CaName, KeyAlgorithm>,
}

/// The authority: its parts, and the store they were given.
pub struct Authority {
    store: Arc<dyn Store>,
    /// The ACME front end's own area (accounts, orders, nonces), for [`crate::enroll::acme::AcmeAuthority`].
    acme: Arc<dyn crate::store::Acme>,
    /// Long operations (D38): the server's job runner, listings and console read and drive them here.
    jobs: Arc<dyn Jobs>,
    /// The audit chain, for its readers (the console's viewer and export) and writers outside the parts.
    audit: Arc<dyn AuditLog>,
    /// The database's upkeep (its backend, snapshots, memory release, a round trip), for the server's tasks,
    /// backups and benches.
    maintenance: Arc<dyn Maintenance>,
    hierarchy: Arc<Hierarchy>,
    registrar: Arc<Registrar>,
    pipeline: Arc<Pipeline>,
    revoker: Arc<Revoker>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("hierarchy", &self.hierarchy)
            .field("registrar", &self.registrar)
            .field("pipeline", &self.pipeline)
            .field("revoker", &self.revoker)
            .finish_non_exhaustive()
    }
}

impl Authority {
    /// Create the hierarchy: root, then the router, PC and server CAs signed by it, at the system clock's time.
    pub async fn init(
        store: Arc<dyn Store>,
        keys: KeyContext,
        settings: ProfileSettings,
        options: &InitOptions,
        actor: &Actor,
    ) -> Result<Self, AuthorityError> {
        Self::init_with_clock(store, keys, settings, options, actor, Arc::new(SystemClock)).await
    }

    /// [`Authority::init`] reading the time from `clock` (tests fix it); the authority keeps that clock.
    pub async fn init_with_clock(
        store: Arc<dyn Store>,
        keys: KeyContext,
        settings: ProfileSettings,
        options: &InitOptions,
        actor: &Actor,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuthorityError> {
        if !store.authorities().await?.is_empty() {
            return Err(AuthorityError::AlreadyInitialized);
        }
        let uri_for = |ca: CaName| options.placement.uri(ca, 1);
        let alg = |ca: CaName| options.algorithms.get(&ca).copied().unwrap_or(default_algorithm(ca));

        let root_uri = uri_for(CaName::Root);
        let root_key = keys::generate(&root_uri, alg(CaName::Root), &keys)?;
        let root_template = profile::ca::root(&settings, CaName::Root.common_name(), root_key.public_key())?;
        let root_signer = Signer {
            ca_name: CaName::Root.as_str(),
            issuer: &root_template.subject,
            issuer_key: root_key.public_key(),
            issuer_not_after: None,
            key: root_key.as_ref(),
        };
        let now = clock.now_unix();
        let not_before = UnixTime::from_secs(now - settings.backdate());
        let root_der = issue_ca_cert(
            store.as_ref(),
            clock.as_ref(),
            &root_signer,
            &root_template,
            root_key.public_key(),
            not_before,
            (CaName::Root, 1),
            actor,
        )
        .await?;
        store
            .put_authority(
                &AuthorityRecord {
                    name: CaName::Root,
                    key_uri: root_uri.to_string(),
                    cert_der: root_der.clone(),
                    parent: None,
                    created_at: now,
                },
                actor,
                clock.now(),
            )
            .await?;
        let root_cert = Certificate::from_der(&root_der).map_err(|_| SigningError::DamagedCa(CaName::Root))?;
        let root = RootIssuer { certificate: &root_cert, key: root_key.as_ref(), generation: 1 };
        let making = Making { store: store.as_ref(), clock: clock.as_ref(), settings: &settings, keys: &keys, actor };
        for ca in [CaName::Router, CaName::Pc, CaName::Server] {
            let uri = uri_for(ca);
            let der = making.issuing_ca(&root, ca, 1, &uri, alg(ca)).await?;
            store
                .put_authority(
                    &AuthorityRecord {
                        name: ca,
                        key_uri: uri.to_string(),
                        cert_der: der,
                        parent: Some(CaName::Root),
                        created_at: now,
                    },
                    actor,
                    clock.now(),
                )
                .await?;
        }
        Self::load_with_clock(store, keys, settings, clock).await
    }

    /// Load the hierarchy recorded in the store. Keys are opened on first use.
    pub async fn load(
        store: Arc<dyn Store>,
        keys: KeyContext,
        settings: ProfileSettings,
    ) -> Result<Self, AuthorityError> {
        Self::load_with_clock(store, keys, settings, Arc::new(SystemClock)).await
    }

    async fn load_with_clock(
        store: Arc<dyn Store>,
        keys: KeyContext,
        settings: ProfileSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuthorityError> {
        let mut records = BTreeMap::new();
        for r in store.authorities().await? {
            records.insert(r.name, r);
        }
        if records.is_empty() {
            return Err(AuthorityError::NotInitialized);
        }
        let rollovers = store.rollovers().await?;
        Ok(Self::assemble(store, Hierarchy::new(records, &rollovers, keys, settings, clock)))
    }

    /// The parts over `hierarchy`, each given the store areas it uses.
    fn assemble(store: Arc<dyn Store>, hierarchy: Hierarchy) -> Self {
        let hierarchy = Arc::new(hierarchy);
        let registrar = Registrar {
            hierarchy: hierarchy.clone(),
            facilities: store.clone(),
            enrollment: store.clone(),
            operators: store.clone(),
            grants: store.clone(),
            device_names: store.clone(),
            security_officers: store.clone(),
            passkey_rules: store.clone(),
            signing_limits: store.clone(),
            ras: store.clone(),
            vetting: store.clone(),
            certificates: store.clone(),
            audit: store.clone(),
            queue: OnceLock::new(),
        };
        let pipeline =
            Pipeline::new(hierarchy.clone(), store.clone(), store.clone(), store.clone(), store.clone(), store.clone());
        let revoker = Revoker {
            hierarchy: hierarchy.clone(),
            revocations: store.clone(),
            audit: store.clone(),
            crls: Default::default(),
            queue: OnceLock::new(),
        };
        Self {
            acme: store.clone(),
            jobs: store.clone(),
            audit: store.clone(),
            maintenance: store.clone(),
            store,
            hierarchy,
            registrar: Arc::new(registrar),
            pipeline: Arc::new(pipeline),
            revoker: Arc::new(revoker),
        }
    }

    /// This authority reading the time from `clock` instead of the system clock (tests fix it). Call it before
    /// [`Authority::start_group_commit`]: the parts are made again.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        let hierarchy = self.hierarchy.with_clock(clock);
        Self::assemble(self.store, hierarchy)
    }

    /// The registration authority: facilities, credentials, held requests, operators, console grants.
    pub fn registrar(&self) -> &Registrar {
        &self.registrar
    }

    /// The issuance pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Revocation and CRLs.
    pub fn revoker(&self) -> &Revoker {
        &self.revoker
    }

    /// The CA hierarchy: certificates, keys, settings, clock.
    pub fn hierarchy(&self) -> &Hierarchy {
        &self.hierarchy
    }

    /// The clock this authority reads: a server's components share it, so one process has one clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        self.hierarchy.clock()
    }

    /// Long operations (D38): jobs and their items.
    pub fn jobs(&self) -> &Arc<dyn Jobs> {
        &self.jobs
    }

    /// The audit chain.
    pub fn audit_log(&self) -> &Arc<dyn AuditLog> {
        &self.audit
    }

    /// The database's upkeep: its backend, snapshots, memory release and a round trip.
    pub fn maintenance(&self) -> &Arc<dyn Maintenance> {
        &self.maintenance
    }

    /// The whole store the parts were given, for what is assembled from it: the server's `AppState` and the
    /// SSO side's housekeeping, portal listener, demo account and bench (still on `dyn Store` while it moves,
    /// issue #43 item 1). The parts never do; listings and look-ups read through the area that owns the rows
    /// ([`Registrar::facilities`], [`Registrar::device_names`], [`Pipeline::certificates`], [`Authority::jobs`],
    /// [`Authority::audit_log`], [`Authority::maintenance`]).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The profile settings in force.
    pub fn settings(&self) -> &ProfileSettings {
        self.hierarchy.settings()
    }

    /// A CA's certificate (DER).
    pub fn ca_certificate(&self, ca: CaName) -> Result<&[u8], SigningError> {
        self.hierarchy.ca_certificate(ca)
    }

    /// A CA's key URI.
    pub fn ca_key_uri(&self, ca: CaName) -> Result<&str, SigningError> {
        self.hierarchy.ca_key_uri(ca)
    }

    /// The chain for a profile, issuing CA first, root last (DER).
    pub fn chain(&self, ca: CaName) -> Result<Vec<Vec<u8>>, SigningError> {
        self.hierarchy.chain(ca)
    }
}

/// The root as the issuer of an issuing CA's certificate: its certificate and its key, opened, and its generation
/// (a later one's ARL and certificate URLs carry it, D160).
pub(crate) struct RootIssuer<'a> {
    pub(crate) certificate: &'a Certificate,
    pub(crate) key: &'a dyn keys::KeySource,
    pub(crate) generation: u32,
}

impl RootIssuer<'_> {
    /// The name of this root generation's ARL and certificate URLs: `root`, `root-g2`, … (D151's naming).
    pub(crate) fn url_name(&self) -> String {
        crate::revocation::shard::CrlScope::of_generation(CaName::Root, self.generation, None).name()
    }
}

/// What making a CA needs besides the root: where it is recorded, the time, the profile settings, where keys are
/// made, and who asked. `init` and a rollover (`authority/rollover.rs`) make issuing CAs through it alike.
pub(crate) struct Making<'a> {
    pub(crate) store: &'a dyn Issuance,
    pub(crate) clock: &'a dyn Clock,
    pub(crate) settings: &'a ProfileSettings,
    pub(crate) keys: &'a KeyContext,
    pub(crate) actor: &'a Actor,
}

impl Making<'_> {
    /// A new issuing CA of `generation`: its key made at `uri`, its certificate signed by the root, linted,
    /// recorded and audited like every certificate (`issue_ca_cert`). Returns the certificate (DER).
    pub(crate) async fn issuing_ca(
        &self,
        root: &RootIssuer<'_>,
        ca: CaName,
        generation: u32,
        uri: &KeyUri,
        algorithm: KeyAlgorithm,
    ) -> Result<Vec<u8>, AuthorityError> {
        let key = keys::generate(uri, algorithm, self.keys)?;
        let root_key_id = profile::key_identifier(root.key.public_key());
        let root_tbs = root.certificate.tbs_certificate();
        let url_name = root.url_name();
        let ctx = IssuerContext { ca_name: &url_name, subject: root_tbs.subject(), key_id: &root_key_id };
        let name = generation_common_name(ca, generation);
        let template = profile::ca::issuing(self.settings, &name, key.public_key(), &ctx)?;
        let signer = Signer {
            ca_name: CaName::Root.as_str(),
            issuer: root_tbs.subject(),
            issuer_key: root.key.public_key(),
            issuer_not_after: Some(hcpki_pkix::time::unix(&root_tbs.validity().not_after)),
            key: root.key,
        };
        let not_before = UnixTime::from_secs(self.clock.now_unix() - self.settings.backdate());
        let made = (ca, root.generation);
        let der =
            issue_ca_cert(self.store, self.clock, &signer, &template, key.public_key(), not_before, made, self.actor)
                .await?;
        Ok(der)
    }
}

/// A CA generation's common name: `init`'s is the CA's own (`hcpki Router CA`), a rollover's adds its number
/// (`hcpki Router CA G2`), so both generations' certificates, CRLs and paths are told apart by name as well as
/// by key identifier (D145).
/// The root keeps its name (D160): its link certificates are self-issued only under one name.
pub fn generation_common_name(ca: CaName, generation: u32) -> String {
    if generation <= 1 || ca == CaName::Root {
        ca.common_name().to_owned()
    } else {
        format!("{} G{generation}", ca.common_name())
    }
}

/// Issue a CA certificate through the same pipeline (intent, lint, sign, store, audit). `(ca, root_generation)`:
/// the CA it certifies and the generation of the root that signs it (whose ARL lists it if revoked).
// Eight arguments: `init`'s locals, each used once; the clock is the one `init` was given (issue #25).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn issue_ca_cert(
    store: &dyn Issuance,
    clock: &dyn Clock,
    signer: &Signer<'_>,
    template: &profile::Template,
    subject_key: &spki::SubjectPublicKeyInfoOwned,
    not_before: UnixTime,
    (ca, root_generation): (CaName, u32),
    actor: &Actor,
) -> Result<Vec<u8>, SigningError> {
    let linted = signer.prepare(
        template,
        TbsInput { serial: Serial::generate()?, subject_key, not_before, facility: None, facility_dns: None },
    )?;
    let spki_der = subject_key.to_der().map_err(IssueError::from)?;
    let intent = IssuanceIntent {
        serial: linted.stored_serial(),
        // The root signs every CA certificate: its own, the issuing CAs', and a root rollover's link certificates.
        ca: CaName::Root,
        profile: CertProfile::Ca(ca),
        facility: None,
        subject: linted.subject().to_owned(),
        sans: vec![],
        not_before: linted.validity().0,
        not_after: linted.validity().1,
        tbs_sha256: linted.tbs_sha256(),
        spki_sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&spki_der)),
        requested_by: actor.as_str().to_owned(),
        crl_shard: None,
        replaces: None,
        generation: root_generation,
    };
    store.record_intent(&intent, clock.now()).await?;
    let serial = linted.stored_serial();
    let issued = linted.sign()?;
    store.complete_issuance(&serial, &issued.der, actor, clock.now()).await?;
    Ok(issued.der)
}

mod acme;
mod admin;
#[cfg(test)]
mod clock_tests;
mod enroll;
mod queue;
mod reissue;
mod rollover;
#[cfg(test)]
mod rollover_tests;
mod root_links;
mod scep;
#[cfg(test)]
pub(crate) mod tests;
