//! The issuance pipeline (Boulder's CA side of its issuance cycle): each request planned (facility state,
//! profile, names, template), linted, its intent recorded, signed once and stored with its audit entry; every
//! refusal audited with its reason (`cert.issue` / denied), so a failed attempt leaves an audit entry and no
//! other row.
//!
//! ```text
//! IssueRequest ─▶ csr::parse (unless checked already) ─▶ facility state ─▶ profile (names, template)
//!   ─▶ Signer::prepare (lint) ─▶ store.record_intent ─▶ LintedTbs::sign ─▶ store.complete_issuance (+audit)
//! ```
//!
//! A batch passes typed stages: `Planned` (CSR, facility, profile; on every core) → `Linted` (a serial, a
//! linted TBS and its intent; the batch's intents recorded in one transaction) → `Signed` (on every core) →
//! stored with the audit entries in one transaction.

use crate::audit::{AuditEvent, Outcome as AuditOutcome};
use crate::batch::set;
use crate::csr::CertificationRequest;
use crate::error::{FacilityRefusal, SigningError};
use crate::facility::{Allocation, Facility, FacilityId};
use crate::group_commit::GroupCommit;
use crate::hierarchy::{Hierarchy, OpenCa};
use crate::issuer::{IssueError, Issued, LintedTbs, Signer, TbsInput};
use crate::profile::{self, IssuerContext, NameRequest, ProfileKind, ProfileSettings};
use crate::request::IssueRequest;
use crate::revocation::shard::{CrlScope, Shard, ShardCount};
use crate::router_register::RegisterView;
use crate::serial::Serial;
use crate::store::{
    Actor, AuditLog, CertificateRecord, Completion, Facilities, Issuance, IssuanceHalts, IssuanceIntent,
    RouterRegister, StoreError,
};
use hcpki_model::{CaName, SerialHex};
use hcpki_pkix::time::UnixTime;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The pipeline, with the store areas it writes: certificates (intents, results), facilities (read) and the
/// audit log (refusals).
pub struct Pipeline {
    hierarchy: Arc<Hierarchy>,
    certificates: Arc<dyn Issuance>,
    facilities: Arc<dyn Facilities>,
    audit: Arc<dyn AuditLog>,
    /// The stop switch's shared state, read before every batch (D135).
    halts: Arc<dyn IssuanceHalts>,
    /// The router register, which every router certificate is held to (D174).
    routers: Arc<dyn RouterRegister>,
    /// Set by [`Pipeline::start_group_commit`] (long-running servers).
    pub(crate) queue: OnceLock<GroupCommit<(IssueRequest, Actor), Outcome>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("hierarchy", &self.hierarchy).finish_non_exhaustive()
    }
}

/// An issuance's answer.
pub(crate) type Outcome = Result<(Issued, CertificateRecord), SigningError>;

/// One request of a batch: the request, the actor it is issued for, and the serial it succeeds (re-issue).
pub(crate) type BatchItem<'a> = (&'a IssueRequest, &'a Actor, Option<&'a SerialHex>);

/// A batch's first stage: a request planned (CSR and proof of possession checked, facility in a state that
/// may enroll, names and template made), everything but the serial and the signature.
struct Planned<'j> {
    index: usize,
    plan: Plan,
    actor: &'j Actor,
}

/// The second stage: a serial drawn, the TBS linted, its intent made; the batch's intents are recorded in one
/// transaction before anything is signed. Not `Clone`, as the [`LintedTbs`] it holds.
struct Linted<'s> {
    index: usize,
    tbs: LintedTbs<'s>,
    intent: IssuanceIntent,
}

/// The third stage: signed (and self-verified); the batch's certificates are stored in one transaction.
struct Signed {
    index: usize,
    issued: Issued,
}

impl Pipeline {
    pub(crate) fn new(
        hierarchy: Arc<Hierarchy>,
        certificates: Arc<dyn Issuance>,
        facilities: Arc<dyn Facilities>,
        audit: Arc<dyn AuditLog>,
        halts: Arc<dyn IssuanceHalts>,
        routers: Arc<dyn RouterRegister>,
    ) -> Self {
        Self { hierarchy, certificates, facilities, audit, halts, routers, queue: OnceLock::new() }
    }

    /// The certificates this pipeline records, for listings and look-ups (re-issue asks for successors there;
    /// its writes go through [`Pipeline::issue`], audited).
    pub fn certificates(&self) -> &Arc<dyn Issuance> {
        &self.certificates
    }

    /// Issue a certificate; every refusal is audited with its reason. When [`Pipeline::start_group_commit`]
    /// has run, concurrent calls share batches (one transaction each for intents and results).
    pub async fn issue(
        &self,
        request: &IssueRequest,
        actor: &Actor,
    ) -> Result<(Issued, CertificateRecord), SigningError> {
        if let Some(queue) = self.queue.get() {
            return queue
                .submit((request.clone(), actor.clone()))
                .await
                .map_err(|e| SigningError::Batch(e.to_string()))?;
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

    /// Issue an OCSP responder certificate under generation `generation` of the CA it serves, which may be the
    /// previous one a switched rollover keeps in service: each generation's answers are signed by a responder
    /// that generation certified (D151). Other profiles are issued by the generation that issues, only.
    pub async fn issue_in_generation(
        &self,
        request: &IssueRequest,
        generation: u32,
        actor: &Actor,
    ) -> Result<(Issued, CertificateRecord), SigningError> {
        let ca = request.ocsp_for.ok_or(SigningError::OcspCaRequired)?;
        let served = self.hierarchy.generations(ca);
        if !served.serves(generation) || (request.profile != ProfileKind::Ocsp && generation != served.current) {
            return Err(SigningError::Generation { ca, generation, current: served.current });
        }
        let jobs: [BatchItem<'_>; 1] = [(request, actor, None)];
        self.issue_batch_in(&jobs, Some(generation)).await.pop().unwrap_or(Err(SigningError::Batch("no result".into())))
    }

    /// The pipeline behind [`Pipeline::issue_many`] and the group-commit queue: each request with the actor
    /// it is issued for (intent, audit entries and refusals name that actor), and the certificate it succeeds
    /// when it is a re-issue.
    pub(crate) async fn issue_batch(
        &self,
        jobs: &[BatchItem<'_>],
    ) -> Vec<Result<(Issued, CertificateRecord), SigningError>> {
        self.issue_batch_in(jobs, None).await
    }

    /// [`Pipeline::issue_batch`] by the CA generation `generation` (checked by the caller), or by the one that
    /// issues.
    async fn issue_batch_in(
        &self,
        jobs: &[BatchItem<'_>],
        generation: Option<u32>,
    ) -> Vec<Result<(Issued, CertificateRecord), SigningError>> {
        // The stop switch (D135): the one place every front end's issuance passes, so none can go around it.
        if let Some(refused) = self.refuse_while_halted(jobs).await {
            return refused;
        }
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
        // The router register, when the batch holds router certificates (D174): one read of the setting and the
        // list, one of each facility's routers.
        let register = match self.batch_register(jobs.iter().map(|(r, _, _)| *r)).await {
            Ok(v) => v,
            Err(e) => {
                let routers = jobs.iter().enumerate().filter(|(_, (r, _, _))| r.profile == ProfileKind::Router);
                fail_all(&mut results, routers.map(|(i, _)| i).collect::<Vec<_>>(), e);
                RegisterView::default()
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
                let mut plan = self.plan(request, csr, &facilities, &register, generation)?;
                plan.replaces = replaces.cloned();
                Ok(Planned { index: i, plan, actor })
            });
            match planned {
                Ok(p) => plans.push(p),
                Err(e) => set(&mut results, i, Err(e)),
            }
        }
        let t_plan = t0.elapsed();
        let signers: Vec<Signer<'_>> = plans.iter().map(|p| p.plan.signer()).collect();
        // Back-dated: relying parties with slow clocks must not see a future certificate.
        let not_before = UnixTime::from_secs(self.hierarchy.now() - self.hierarchy.settings().backdate());
        let mut attempt = 0;
        let linted = loop {
            let pending: Vec<_> = plans
                .iter()
                .zip(&signers)
                .filter(|(p, _)| results.get(p.index).is_some_and(Option::is_none)) // not refused on an earlier attempt
                .collect();
            let prepared = par_map(pending, |(Planned { index, plan, actor }, signer)| {
                let linted = plan.prepare(signer, self.hierarchy.settings(), not_before).map(|(tbs, shard)| {
                    let intent = plan.intent(&tbs, shard, actor);
                    Linted { index: *index, tbs, intent }
                });
                (*index, linted)
            });
            let mut linted = Vec::with_capacity(prepared.len());
            for (i, outcome) in prepared {
                match outcome {
                    Ok(l) => linted.push(l),
                    Err(e) => set(&mut results, i, Err(e)),
                }
            }
            let intents: Vec<IssuanceIntent> = linted.iter().map(|l| l.intent.clone()).collect();
            match self.certificates.record_intents(&intents, self.hierarchy.at()).await {
                Ok(()) => break linted,
                // 127 random bits collide practically never; the unique index makes sure. Draw again.
                Err(StoreError::DuplicateSerial(_)) if attempt < 3 => attempt += 1,
                Err(e) => {
                    fail_all(&mut results, linted.into_iter().map(|l| l.index), e);
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
                Ok(issued) => done.push(Signed { index: i, issued }),
                Err(e) => {
                    if let Err(store_err) = self
                        .certificates
                        .fail_issuance(&serial, &e.to_string(), &actor_of(i), self.hierarchy.at())
                        .await
                    {
                        tracing::error!(error = %store_err, serial = serial.as_str(), "could not mark a failed issuance");
                    }
                    set(&mut results, i, Err(e.into()));
                }
            }
        }
        let batch: Vec<Completion> = done
            .iter()
            .map(|d| Completion {
                serial: d.issued.serial.clone(),
                der: d.issued.der.clone(),
                actor: actor_of(d.index),
            })
            .collect();
        match self.certificates.complete_issuances(&batch, self.hierarchy.at()).await {
            Ok(records) => {
                for (Signed { index, issued }, record) in done.into_iter().zip(records) {
                    set(&mut results, index, Ok((issued, record)));
                }
            }
            Err(e) => {
                // The certificates were signed but not stored: they are never released,
                // and their serials stay `reserved` for the operator to see.
                fail_all(&mut results, done.into_iter().map(|d| d.index), e);
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

    /// Every request of the batch refused, each audited, while a halt is in force (or when its state cannot be
    /// read: the batch could not be recorded either); `None` while issuance runs.
    async fn refuse_while_halted(
        &self,
        jobs: &[BatchItem<'_>],
    ) -> Option<Vec<Result<(Issued, CertificateRecord), SigningError>>> {
        let refusal = match self.halts.issuance_halt().await {
            Ok(None) => return None,
            Ok(Some(halt)) => Ok(halt),
            Err(e) => Err(e.to_string()),
        };
        let mut out = Vec::with_capacity(jobs.len());
        for (request, actor, _) in jobs {
            let e = match &refusal {
                Ok(halt) => crate::halt::refusal(halt),
                Err(why) => SigningError::Batch(format!("the issuance stop switch cannot be read: {why}")),
            };
            self.audit_refusal(request, &e, actor).await;
            out.push(Err(e));
        }
        Some(out)
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
            | SigningError::Issue(IssueError::Key(_)) => AuditOutcome::Failed,
            _ => AuditOutcome::Denied,
        };
        let event = AuditEvent {
            actor: actor.as_str().to_owned(),
            action: "cert.issue".into(),
            target: request.facility.as_ref().map_or_else(|| "-".into(), ToString::to_string),
            outcome,
            detail: serde_json::json!({ "profile": request.profile.as_str(), "reason": e.to_string() }),
        };
        if let Err(audit_err) = self.audit.append_audit(&event, self.hierarchy.at()).await {
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
            self.facilities.facilities(&ids).await?.into_iter().map(|f| (f.id.clone(), (f, Vec::new()))).collect();
        for record in self.facilities.allocations_of(&ids).await? {
            if let Some((_, allocations)) = found.get_mut(&record.facility) {
                allocations.push(record.allocation);
            }
        }
        Ok(found)
    }

    /// What the router register says for the batch's router certificates: nothing is read when it has none.
    async fn batch_register(&self, requests: impl Iterator<Item = &IssueRequest>) -> Result<RegisterView, StoreError> {
        let mut ids: Vec<&FacilityId> =
            requests.filter(|r| r.profile == ProfileKind::Router).filter_map(|r| r.facility.as_ref()).collect();
        if ids.is_empty() {
            return Ok(RegisterView::default());
        }
        ids.sort();
        ids.dedup();
        let mut view = RegisterView {
            strict: self.routers.approved_models_only().await?,
            models: self.routers.router_models().await?,
            routers: HashMap::with_capacity(ids.len()),
        };
        for id in ids {
            view.routers.insert(id.clone(), self.routers.routers(Some(id)).await?);
        }
        Ok(view)
    }

    /// Everything about a request that does not depend on the serial.
    fn plan(
        &self,
        request: &IssueRequest,
        csr: CertificationRequest,
        facilities: &HashMap<FacilityId, (Facility, Vec<Allocation>)>,
        register: &RegisterView,
        generation: Option<u32>,
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
        let settings = self.hierarchy.settings();
        if let (ProfileKind::Router, Some(f)) = (request.profile, &facility) {
            let zone = settings.router_dns_name(&f.id);
            register.router_for(&f.id, request.router.as_deref(), &request.sans, &zone).map_err(Box::new)?;
        }
        let spec = settings.spec(request.profile, request.router_eku);
        profile::check_key(&spec, csr.key_type())?;
        let device = match (request.profile, &request.device) {
            (ProfileKind::Pc, None) => Some(profile::pc::default_device_id(&csr.spki_sha256())),
            (_, d) => d.clone(),
        };
        let names = profile::names(
            &spec,
            settings,
            &NameRequest {
                facility: facility.as_ref(),
                allocations,
                sans: request.sans.clone(),
                device,
                ocsp_for: request.ocsp_for.map(|c| c.as_str().to_owned()),
            },
        )?;
        let generation = generation.unwrap_or(self.hierarchy.generations(ca).current);
        let open = self.hierarchy.open_generation(ca, generation)?;
        let key_id = profile::key_identifier(&open.spki);
        let ctx = IssuerContext {
            ca_name: ca.as_str(),
            subject: open.certificate.tbs_certificate().subject(),
            key_id: &key_id,
        };
        let mut template = profile::template(&spec, settings, names, csr.public_key(), &ctx)?;
        // A later generation's certificates point at its own CRL (D151); the first generation's URL is the CA's.
        // Its caIssuers names its own certificate too (D160), served at `/ca/<ca>-g<n>.crt`.
        if generation > 1 && template.has_crl_distribution_point() {
            let name = CrlScope::of_generation(ca, generation, None).name();
            template.set_crl_url(&settings.crl_url(&name))?;
            template.set_ca_issuers_url(&settings.ca_cert_url(&name))?;
        }
        // Only the PC CA partitions its CRL (the router CA's must stay whole for IKE stacks), and only
        // certificates that name a CRL at all go into a shard.
        let crl_shards = if ca == CaName::Pc && template.has_crl_distribution_point() {
            settings.pc_crl_shards
        } else {
            ShardCount::OFF
        };
        Ok(Plan {
            profile: request.profile,
            ca,
            template,
            subject_key: csr.public_key().clone(),
            spki_sha256: csr.spki_sha256(),
            facility_dns: facility.as_ref().map(|f| settings.router_dns_name(&f.id)),
            facility: facility.map(|f| f.id),
            not_after_limit: request.not_after.map_or(open.not_after, |t| t.min(open.not_after)),
            open,
            generation,
            crl_shards,
            replaces: None,
        })
    }
}

/// A planned issuance: everything but the serial and the signature.
#[derive(Debug)]
struct Plan {
    profile: ProfileKind,
    ca: CaName,
    open: Arc<OpenCa>,
    /// The generation of `open` (D151).
    generation: u32,
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
        not_before: UnixTime,
    ) -> Result<(LintedTbs<'s>, Option<Shard>), SigningError> {
        let serial = Serial::generate()?;
        let shard = self.crl_shards.shard_of(serial.number().as_bytes());
        let sharded;
        let template = match shard {
            Some(k) => {
                let mut t = self.template.clone();
                t.set_crl_url(&settings.crl_url(&CrlScope::of_generation(self.ca, self.generation, Some(k)).name()))?;
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
            generation: self.generation,
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

/// Sign every linted TBS, on all cores when there is more than one.
fn sign_all(linted: Vec<Linted<'_>>) -> Vec<(usize, SerialHex, Result<Issued, IssueError>)> {
    par_map(linted, |Linted { index, tbs, .. }| {
        let serial = tbs.stored_serial();
        (index, serial, tbs.sign())
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
