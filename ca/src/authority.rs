//! The authority: CAs, registry and the issuance flow, wired to a store.
//!
//! ```text
//! IssueRequest ─▶ csr::parse (unless checked already) ─▶ facility state ─▶ profile (names, template)
//!   ─▶ Signer::prepare (lint) ─▶ store.record_intent ─▶ LintedTbs::sign ─▶ store.complete_issuance (+audit)
//! ```
//! Every refusal is audited with its reason (`cert.issue` / denied), so a
//! failed attempt leaves an audit entry and no other row.

use crate::audit::{AuditEvent, Outcome};
use crate::csr::CertificationRequest;
use crate::facility::{Allocation, Facility, FacilityId, NewFacility, Transition};
use crate::issuer::{IssueError, Issued, LintedTbs, Signer, TbsInput};
use crate::profile::{self, IssuerContext, NameRequest, ProfileKind, ProfileSettings};
use crate::revocation::shard::{CrlScope, Shard, ShardCount};
use crate::serial::Serial;
use crate::store::{
    Actor, AuthorityRecord, CertificateRecord, Completion, FacilityChange, IssuanceIntent, Store, StoreError,
};
use der::{Decode, Encode};
use hcpki_model::CertProfile;
use hcpki_model::SerialHex;
use hcpki_pkix::keys::{self, KeyAlgorithm, KeyContext, KeySource, KeyUri};
use hcpki_pkix::time::{Clock, SystemClock};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use x509_cert::Certificate;

pub use error::{AuthorityError, FacilityRefusal, RegistryError, RevocationError, SigningError};
pub use hcpki_model::CaName;
pub use request::IssueRequest;

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

/// Choices made at `init`.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// Where keys go.
    pub placement: KeyPlacement,
    /// Per-CA key algorithm overrides.
    pub algorithms: BTreeMap<CaName, KeyAlgorithm>,
}

/// An issuing CA, opened.
#[derive(Debug)]
struct OpenCa {
    certificate: Certificate,
    spki: spki::SubjectPublicKeyInfoOwned,
    not_after: i64,
    key: Box<dyn KeySource>,
}

/// A planned issuance: everything but the serial and the signature.
#[derive(Debug)]
struct Plan {
    profile: ProfileKind,
    ca: CaName,
    open: Arc<OpenCa>,
    template: profile::Template,
    subject_key: spki::SubjectPublicKeyInfoOwned,
    spki_sha256: String,
    facility: Option<FacilityId>,
    facility_dns: Option<String>,
    /// The PC CA's CRL shards when this certificate goes into one (D20), else off.
    crl_shards: ShardCount,
    /// The latest notAfter: the CA's own, or the request's when earlier.
    not_after_limit: i64,
    /// The certificate this one succeeds (a re-issue, D38).
    replaces: Option<SerialHex>,
}

impl Plan {
    fn signer(&self) -> Signer<'_> {
        Signer {
            ca_name: self.ca.as_str(),
            issuer: self.open.certificate.tbs_certificate().subject(),
            issuer_key: &self.open.spki,
            issuer_not_after: Some(self.not_after_limit),
            key: self.open.key.as_ref(),
        }
    }

    /// Draw a serial, point the CRL distribution point at the serial's CRL shard when sharding, and lint.
    fn prepare<'s>(
        &'s self,
        signer: &'s Signer<'s>,
        settings: &ProfileSettings,
        not_before: i64,
    ) -> Result<(LintedTbs<'s>, Option<Shard>), SigningError> {
        let serial = Serial::generate()?;
        let shard = self.crl_shards.shard_of(serial.number().as_bytes());
        let sharded;
        let template = match shard {
            Some(k) => {
                let mut t = self.template.clone();
                t.set_crl_url(&settings.crl_url(&CrlScope::shard(self.ca, k).name()))?;
                sharded = t;
                &sharded
            }
            None => &self.template,
        };
        let input = TbsInput {
            serial,
            subject_key: &self.subject_key,
            not_before,
            facility: self.facility.as_ref(),
            facility_dns: self.facility_dns.as_deref(),
        };
        Ok((signer.prepare(template, input)?, shard))
    }

    fn intent(&self, linted: &LintedTbs<'_>, shard: Option<Shard>, actor: &Actor) -> IssuanceIntent {
        IssuanceIntent {
            serial: linted.stored_serial(),
            ca: self.ca,
            profile: self.profile.into(),
            facility: self.facility.clone(),
            subject: linted.subject().to_owned(),
            sans: self.template.sans_display.clone(),
            not_before: linted.validity().0,
            not_after: linted.validity().1,
            tbs_sha256: linted.tbs_sha256(),
            spki_sha256: self.spki_sha256.clone(),
            requested_by: actor.as_str().to_owned(),
            crl_shard: shard.map(Shard::index),
            replaces: self.replaces.clone(),
        }
    }
}

/// A store error ends every request in `indices`: the first carries the error itself, the rest say the batch
/// failed with it.
fn fail_all(
    results: &mut [Option<Result<(Issued, CertificateRecord), SigningError>>],
    indices: impl IntoIterator<Item = usize>,
    error: StoreError,
) {
    let why = error.to_string();
    let mut first = Some(error);
    for i in indices {
        let err = match first.take() {
            Some(e) => SigningError::Store(e),
            None => SigningError::Batch(why.clone()),
        };
        set(results, i, Err(err));
    }
}

fn set<T>(results: &mut [Option<T>], i: usize, value: T) {
    if let Some(slot) = results.get_mut(i) {
        *slot = Some(value);
    }
}

/// Sign every linted TBS, on all cores when there is more than one.
fn sign_all(
    linted: Vec<(usize, LintedTbs<'_>, IssuanceIntent)>,
) -> Vec<(usize, SerialHex, Result<Issued, IssueError>)> {
    par_map(linted, |(i, l, _)| {
        let serial = l.stored_serial();
        (i, serial, l.sign())
    })
}

/// `items.map(f)` on every core, order kept. Issuance is CPU-bound outside the database (proof-of-possession
/// checks, TBS encoding, lints, signatures), so a batch spreads those over scoped threads.
fn par_map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(items.len());
    if threads <= 1 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let mut chunks: Vec<Vec<T>> = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    loop {
        let chunk: Vec<T> = items.by_ref().take(per).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            chunks.into_iter().map(|chunk| scope.spawn(move || chunk.into_iter().map(f).collect::<Vec<R>>())).collect();
        // No code path here panics; if one did, that chunk's results are missing and the caller reports
        // those requests as failed (see `issue_many`).
        handles.into_iter().filter_map(|h| h.join().ok()).flatten().collect()
    })
}

/// One request of a batch: the request, the actor it is issued for, and the serial it succeeds (re-issue).
type BatchItem<'a> = (&'a IssueRequest, &'a Actor, Option<&'a SerialHex>);

/// The authority.
#[derive(Debug)]
pub struct Authority {
    store: Arc<dyn Store>,
    settings: ProfileSettings,
    keys: KeyContext,
    records: BTreeMap<CaName, AuthorityRecord>,
    open: Mutex<BTreeMap<CaName, Arc<OpenCa>>>,
    /// Set by [`Authority::start_group_commit`] (long-running servers).
    queue: std::sync::OnceLock<queues::Queues>,
    /// The CRLs a server hands out (`revocation::publish`).
    crls: crate::revocation::publish::CrlCache,
    /// Where every method reads the time: the system clock unless a test fixes it ([`Authority::with_clock`]).
    clock: Arc<dyn Clock>,
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
        let uri_for = |ca: CaName| match &options.placement {
            KeyPlacement::Software => KeyUri::File(format!("keys/{ca}.p8").into()),
            KeyPlacement::Pkcs11 { token } => KeyUri::Pkcs11 { token: token.clone(), object: format!("hcpki-{ca}") },
        };
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
        let not_before = now - settings.backdate();
        let root_der = issue_ca_cert(
            &*store,
            clock.as_ref(),
            &root_signer,
            &root_template,
            root_key.public_key(),
            not_before,
            CaName::Root,
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
        let root_key_id = profile::key_identifier(root_key.public_key());
        let root_not_after = hcpki_pkix::time::unix(&root_cert.tbs_certificate().validity().not_after);
        for ca in [CaName::Router, CaName::Pc, CaName::Server] {
            let uri = uri_for(ca);
            let key = keys::generate(&uri, alg(ca), &keys)?;
            let ctx = IssuerContext {
                ca_name: CaName::Root.as_str(),
                subject: root_cert.tbs_certificate().subject(),
                key_id: &root_key_id,
            };
            let template = profile::ca::issuing(&settings, ca.common_name(), key.public_key(), &ctx)?;
            let signer = Signer {
                ca_name: CaName::Root.as_str(),
                issuer: root_cert.tbs_certificate().subject(),
                issuer_key: root_key.public_key(),
                issuer_not_after: Some(root_not_after),
                key: root_key.as_ref(),
            };
            let der =
                issue_ca_cert(&*store, clock.as_ref(), &signer, &template, key.public_key(), not_before, ca, actor)
                    .await?;
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
        Ok(Self::load(store, keys, settings).await?.with_clock(clock))
    }

    /// Load the hierarchy recorded in the store. Keys are opened on first use.
    pub async fn load(
        store: Arc<dyn Store>,
        keys: KeyContext,
        settings: ProfileSettings,
    ) -> Result<Self, AuthorityError> {
        let mut records = BTreeMap::new();
        for r in store.authorities().await? {
            records.insert(r.name, r);
        }
        if records.is_empty() {
            return Err(AuthorityError::NotInitialized);
        }
        Ok(Self {
            store,
            settings,
            keys,
            records,
            open: Mutex::new(BTreeMap::new()),
            queue: std::sync::OnceLock::new(),
            crls: Default::default(),
            clock: Arc::new(SystemClock),
        })
    }

    /// This authority reading the time from `clock` instead of the system clock (tests fix it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The clock this authority reads: a server's components share it, so one process has one clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Now, in Unix seconds, by this authority's clock.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now_unix()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The profile settings in force.
    pub fn settings(&self) -> &ProfileSettings {
        &self.settings
    }

    /// A CA's certificate (DER).
    pub fn ca_certificate(&self, ca: CaName) -> Result<&[u8], SigningError> {
        self.records.get(&ca).map(|r| r.cert_der.as_slice()).ok_or(SigningError::MissingCa(ca))
    }

    /// A CA's key URI.
    pub fn ca_key_uri(&self, ca: CaName) -> Result<&str, SigningError> {
        self.records.get(&ca).map(|r| r.key_uri.as_str()).ok_or(SigningError::MissingCa(ca))
    }

    /// The chain for a profile, issuing CA first, root last (DER).
    pub fn chain(&self, ca: CaName) -> Result<Vec<Vec<u8>>, SigningError> {
        let mut out = vec![self.ca_certificate(ca)?.to_vec()];
        if ca != CaName::Root {
            out.push(self.ca_certificate(CaName::Root)?.to_vec());
        }
        Ok(out)
    }

    /// Register a facility (state `applied`).
    pub async fn register_facility(&self, new: &NewFacility, actor: &Actor) -> Result<Facility, RegistryError> {
        Ok(self.store.register_facility(new, actor, self.clock.now()).await?)
    }

    /// Apply a lifecycle transition. When [`Authority::start_group_commit`] has run, concurrent calls share
    /// transactions (each change still checked against the state the changes before it left, and audited).
    pub async fn transition(
        &self,
        id: &FacilityId,
        t: Transition,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<Facility, RegistryError> {
        if let Some(queue) = self.queue.get() {
            let change = FacilityChange {
                id: id.clone(),
                transition: t,
                reason: reason.map(str::to_owned),
                actor: actor.clone(),
            };
            return queue.transition(change).await;
        }
        self.store.transition_facility(id, t, reason, actor, self.clock.now()).await.map_err(transition_error)
    }

    /// Apply many lifecycle transitions in one transaction ([`Store::transition_facilities`]): one result per
    /// change, in order, each what it would have been one after another. A database failure fails them all.
    pub async fn transition_many(&self, changes: &[FacilityChange]) -> Vec<Result<Facility, RegistryError>> {
        match self.store.transition_facilities(changes, self.clock.now()).await {
            Ok(results) => results.into_iter().map(|r| r.map_err(transition_error)).collect(),
            Err(e) => batch_failed("facility transitions", &e, changes.len()),
        }
    }

    /// Issue a certificate; every refusal is audited with its reason. When [`Authority::start_group_commit`]
    /// has run, concurrent calls share batches (one transaction each for intents and results).
    pub async fn issue(
        &self,
        request: &IssueRequest,
        actor: &Actor,
    ) -> Result<(Issued, CertificateRecord), SigningError> {
        if let Some(queue) = self.queue.get() {
            return queue.issue(request.clone(), actor.clone()).await;
        }
        self.issue_many(std::slice::from_ref(request), actor)
            .await
            .pop()
            .unwrap_or(Err(SigningError::Batch("no result".into())))
    }

    /// Issue many certificates through the same pipeline with group commit:
    /// every request is planned and linted on its own, then all intents are
    /// recorded in one transaction, signed on every core, and stored with
    /// their audit entries in one transaction. One result per request, in order;
    /// a refused request does not stop the others.
    pub async fn issue_many(
        &self,
        requests: &[IssueRequest],
        actor: &Actor,
    ) -> Vec<Result<(Issued, CertificateRecord), SigningError>> {
        let jobs: Vec<BatchItem<'_>> = requests.iter().map(|r| (r, actor, None)).collect();
        self.issue_batch(&jobs).await
    }

    /// The pipeline behind [`Authority::issue_many`] and the group-commit queue: each request with the actor
    /// it is issued for (intent, audit entries and refusals name that actor), and the certificate it succeeds
    /// when it is a re-issue.
    async fn issue_batch(&self, jobs: &[BatchItem<'_>]) -> Vec<Result<(Issued, CertificateRecord), SigningError>> {
        let t0 = std::time::Instant::now();
        let mut results: Vec<Option<Result<(Issued, CertificateRecord), SigningError>>> =
            jobs.iter().map(|_| None).collect();
        // CPU first, on every core: parse each CSR and check its proof of possession.
        let parsed = par_map(jobs.iter().enumerate().collect(), |(i, (r, _, _))| (i, r.csr.check()));
        // Then one round trip for every facility the batch names.
        let facilities = match self.batch_facilities(jobs.iter().map(|(r, _, _)| *r)).await {
            Ok(f) => f,
            Err(e) => {
                fail_all(&mut results, 0..jobs.len(), e);
                HashMap::new()
            }
        };
        let mut plans = Vec::with_capacity(jobs.len());
        for (i, csr) in parsed {
            if results.get(i).is_some_and(Option::is_some) {
                continue;
            }
            let planned = csr.map_err(SigningError::from).and_then(|csr| {
                let (request, actor, replaces) =
                    jobs.get(i).ok_or_else(|| SigningError::Batch("request index".into()))?;
                let mut plan = self.plan(request, csr, &facilities)?;
                plan.replaces = replaces.cloned();
                Ok((plan, *actor))
            });
            match planned {
                Ok((p, actor)) => plans.push((i, p, actor)),
                Err(e) => set(&mut results, i, Err(e)),
            }
        }
        let t_plan = t0.elapsed();
        let signers: Vec<Signer<'_>> = plans.iter().map(|(_, p, _)| p.signer()).collect();
        // Back-dated: relying parties with slow clocks must not see a future certificate.
        let not_before = self.now() - self.settings.backdate();
        let mut attempt = 0;
        let linted = loop {
            let pending: Vec<_> = plans
                .iter()
                .zip(&signers)
                .filter(|((i, _, _), _)| results.get(*i).is_some_and(Option::is_none)) // not refused on an earlier attempt
                .collect();
            let prepared = par_map(pending, |((i, plan, actor), signer)| {
                (
                    *i,
                    plan.prepare(signer, &self.settings, not_before).map(|(l, shard)| {
                        let intent = plan.intent(&l, shard, actor);
                        (l, intent)
                    }),
                )
            });
            let mut linted = Vec::with_capacity(prepared.len());
            for (i, outcome) in prepared {
                match outcome {
                    Ok((l, intent)) => linted.push((i, l, intent)),
                    Err(e) => set(&mut results, i, Err(e)),
                }
            }
            let intents: Vec<IssuanceIntent> = linted.iter().map(|(_, _, intent)| intent.clone()).collect();
            match self.store.record_intents(&intents, self.clock.now()).await {
                Ok(()) => break linted,
                // 127 random bits collide practically never; the unique index makes sure. Draw again.
                Err(StoreError::DuplicateSerial(_)) if attempt < 3 => attempt += 1,
                Err(e) => {
                    fail_all(&mut results, linted.into_iter().map(|(i, _, _)| i), e);
                    break Vec::new();
                }
            }
        };
        let t_intent = t0.elapsed();
        let signed = sign_all(linted);
        let t_sign = t0.elapsed();
        let actor_of = |i: usize| jobs.get(i).map(|(_, a, _)| (*a).clone()).unwrap_or_else(|| Actor("-".into()));
        let mut done = Vec::new();
        for (i, serial, outcome) in signed {
            match outcome {
                Ok(issued) => done.push((i, issued)),
                Err(e) => {
                    if let Err(store_err) =
                        self.store.fail_issuance(&serial, &e.to_string(), &actor_of(i), self.clock.now()).await
                    {
                        tracing::error!(error = %store_err, serial = serial.as_str(), "could not mark a failed issuance");
                    }
                    set(&mut results, i, Err(e.into()));
                }
            }
        }
        let batch: Vec<Completion> = done
            .iter()
            .map(|(i, d)| Completion { serial: d.serial.clone(), der: d.der.clone(), actor: actor_of(*i) })
            .collect();
        match self.store.complete_issuances(&batch, self.clock.now()).await {
            Ok(records) => {
                for ((i, issued), record) in done.into_iter().zip(records) {
                    set(&mut results, i, Ok((issued, record)));
                }
            }
            Err(e) => {
                // The certificates were signed but not stored: they are never released,
                // and their serials stay `reserved` for the operator to see.
                fail_all(&mut results, done.into_iter().map(|(i, _)| i), e);
            }
        }
        tracing::debug!(
            n = jobs.len(),
            plan_us = t_plan.as_micros() as u64,
            lint_and_intents_us = (t_intent - t_plan).as_micros() as u64,
            sign_us = (t_sign - t_intent).as_micros() as u64,
            store_us = (t0.elapsed() - t_sign).as_micros() as u64,
            "issuance batch"
        );
        let mut out = Vec::with_capacity(jobs.len());
        for ((request, actor, _), result) in jobs.iter().zip(results) {
            let result = result.unwrap_or(Err(SigningError::Batch("request was not processed".into())));
            if let Err(e) = &result {
                self.audit_refusal(request, e, actor).await;
            }
            out.push(result);
        }
        out
    }

    /// Audit a refused or failed issuance with its reason (`cert.issue` / denied or failed).
    async fn audit_refusal(&self, request: &IssueRequest, e: &SigningError, actor: &Actor) {
        let outcome = match e {
            SigningError::Store(_)
            | SigningError::Key(_)
            | SigningError::Random(_)
            | SigningError::Batch(_)
            | SigningError::Issue(IssueError::Lint(_))
            | SigningError::Issue(IssueError::SelfCheck(_))
            | SigningError::Issue(IssueError::Key(_)) => Outcome::Failed,
            _ => Outcome::Denied,
        };
        let event = AuditEvent {
            actor: actor.as_str().to_owned(),
            action: "cert.issue".into(),
            target: request.facility.as_ref().map_or_else(|| "-".into(), ToString::to_string),
            outcome,
            detail: serde_json::json!({ "profile": request.profile.as_str(), "reason": e.to_string() }),
        };
        if let Err(audit_err) = self.store.append_audit(&event, self.clock.now()).await {
            tracing::error!(error = %audit_err, "could not audit a refused issuance");
        }
    }

    /// The facilities a batch names with their address allocations (which router certificates' addresses must
    /// fall in), fetched in one query each.
    async fn batch_facilities(
        &self,
        requests: impl Iterator<Item = &IssueRequest>,
    ) -> Result<HashMap<FacilityId, (Facility, Vec<Allocation>)>, StoreError> {
        let mut ids: Vec<FacilityId> = requests.filter_map(|r| r.facility.clone()).collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut found: HashMap<FacilityId, (Facility, Vec<Allocation>)> =
            self.store.facilities(&ids).await?.into_iter().map(|f| (f.id.clone(), (f, Vec::new()))).collect();
        for record in self.store.allocations_of(&ids).await? {
            if let Some((_, allocations)) = found.get_mut(&record.facility) {
                allocations.push(record.allocation);
            }
        }
        Ok(found)
    }

    /// Everything about a request that does not depend on the serial.
    fn plan(
        &self,
        request: &IssueRequest,
        csr: CertificationRequest,
        facilities: &HashMap<FacilityId, (Facility, Vec<Allocation>)>,
    ) -> Result<Plan, SigningError> {
        let (facility, allocations) = match &request.facility {
            Some(id) => {
                let (f, allocations) = facilities.get(id).ok_or_else(|| FacilityRefusal::Unknown(id.clone()))?;
                if !f.state.may_enroll() {
                    return Err(FacilityRefusal::State { id: f.id.clone(), state: f.state }.into());
                }
                (Some(f.clone()), allocations.as_slice())
            }
            None => (None, [].as_slice()),
        };
        let ca = match request.profile {
            ProfileKind::Ocsp | ProfileKind::ScepRa => request.ocsp_for.ok_or(SigningError::OcspCaRequired)?,
            kind => CaName::for_profile(kind).ok_or(SigningError::OcspCaRequired)?,
        };
        let spec = self.settings.spec(request.profile, request.router_eku);
        profile::check_key(&spec, csr.key_type())?;
        let device = match (request.profile, &request.device) {
            (ProfileKind::Pc, None) => Some(profile::pc::default_device_id(&csr.spki_sha256())),
            (_, d) => d.clone(),
        };
        let names = profile::names(
            &spec,
            &self.settings,
            &NameRequest {
                facility: facility.as_ref(),
                allocations,
                sans: request.sans.clone(),
                device,
                ocsp_for: request.ocsp_for.map(|c| c.as_str().to_owned()),
            },
        )?;
        let open = self.open_ca(ca)?;
        let key_id = profile::key_identifier(&open.spki);
        let ctx = IssuerContext {
            ca_name: ca.as_str(),
            subject: open.certificate.tbs_certificate().subject(),
            key_id: &key_id,
        };
        let template = profile::template(&spec, &self.settings, names, csr.public_key(), &ctx)?;
        // Only the PC CA partitions its CRL (the router CA's must stay whole for IKE stacks), and only
        // certificates that name a CRL at all go into a shard.
        let crl_shards = if ca == CaName::Pc && template.has_crl_distribution_point() {
            self.settings.pc_crl_shards
        } else {
            ShardCount::OFF
        };
        Ok(Plan {
            profile: request.profile,
            ca,
            template,
            subject_key: csr.public_key().clone(),
            spki_sha256: csr.spki_sha256(),
            facility_dns: facility.as_ref().map(|f| self.settings.router_dns_name(&f.id)),
            facility: facility.map(|f| f.id),
            not_after_limit: request.not_after.map_or(open.not_after, |t| t.min(open.not_after)),
            open,
            crl_shards,
            replaces: None,
        })
    }

    fn open_ca(&self, ca: CaName) -> Result<Arc<OpenCa>, SigningError> {
        // A poisoned lock only means a thread panicked while holding it: the map gains whole `Arc`s by one insert,
        // so what it holds is intact. Reporting it as "not initialized" (as this once did) sent operators to
        // `hcpki init` for a fault that was not theirs.
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(o) = open.get(&ca) {
            return Ok(o.clone());
        }
        let record = self.records.get(&ca).ok_or(SigningError::MissingCa(ca))?;
        let certificate = Certificate::from_der(&record.cert_der).map_err(|_| SigningError::DamagedCa(ca))?;
        let spki_der = certificate.tbs_certificate().subject_public_key_info().to_der().map_err(IssueError::from)?;
        let spki = spki::SubjectPublicKeyInfoOwned::from_der(&spki_der).map_err(IssueError::from)?;
        let not_after = hcpki_pkix::time::unix(&certificate.tbs_certificate().validity().not_after);
        let key = keys::open(&KeyUri::from_str(&record.key_uri)?, &self.keys)?;
        if key.public_key() != &spki {
            return Err(SigningError::KeyMismatch(ca));
        }
        let o = Arc::new(OpenCa { certificate, spki, not_after, key });
        open.insert(ca, o.clone());
        Ok(o)
    }
}

/// Issue a CA certificate through the same pipeline (intent, lint, sign, store, audit).
// Eight arguments: `init`'s locals, each used once; the clock is the one `init` was given (issue #25).
#[allow(clippy::too_many_arguments)]
async fn issue_ca_cert(
    store: &dyn Store,
    clock: &dyn Clock,
    signer: &Signer<'_>,
    template: &profile::Template,
    subject_key: &spki::SubjectPublicKeyInfoOwned,
    not_before: i64,
    ca: CaName,
    actor: &Actor,
) -> Result<Vec<u8>, SigningError> {
    let linted = signer.prepare(
        template,
        TbsInput { serial: Serial::generate()?, subject_key, not_before, facility: None, facility_dns: None },
    )?;
    let spki_der = subject_key.to_der().map_err(IssueError::from)?;
    let intent = IssuanceIntent {
        serial: linted.stored_serial(),
        // The root signs every CA certificate, its own included (`init` is the only caller).
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
    };
    store.record_intent(&intent, clock.now()).await?;
    let serial = linted.stored_serial();
    let issued = linted.sign()?;
    store.complete_issuance(&serial, &issued.der, actor, clock.now()).await?;
    Ok(issued.der)
}

/// The answers of a batch the store rolled back as a whole: every item gets the same cause, logged once; an
/// unavailable database stays "retry later".
fn batch_failed<T, E: From<StoreError>>(what: &str, e: &StoreError, items: usize) -> Vec<Result<T, E>> {
    tracing::error!(error = %e, items, "{what} failed as a batch");
    let each = || match e {
        StoreError::Unavailable(why) => StoreError::Unavailable(why.clone()),
        other => StoreError::Database(other.to_string()),
    };
    (0..items).map(|_| Err(E::from(each()))).collect()
}

/// A store refusal of a transition as the authority's error: an unknown facility is named as such.
fn transition_error(e: StoreError) -> RegistryError {
    match e {
        StoreError::UnknownFacility(id) => FacilityRefusal::Unknown(id).into(),
        other => RegistryError::Store(other),
    }
}

mod acme;
pub mod addresses;
mod admin;
#[cfg(test)]
mod clock_tests;
mod console_grants;
mod enroll;
mod error;
mod offline_root;
mod queue;
mod queues;
mod reissue;
mod request;
pub mod revocation;
mod scep;
#[cfg(test)]
pub(crate) mod tests;
