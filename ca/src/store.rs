//! Persistence behind one trait, with a SQLite and a PostgreSQL implementation.
//!
//! Only this module touches the database. Every mutating method is one
//! transaction that also appends its audit entry (see [`crate::audit`]), so an
//! action and its record commit or vanish together. Schema migrations live in
//! `migrations/sqlite` and `migrations/postgres` at the workspace root.

mod jobs;
mod rate_limits;
mod records;
mod sql;
mod sso;

pub use jobs::{ItemOutcome, JobItem, JobRecord, JobState, NewJob};
pub use rate_limits::{RateCount, RateSync, RateTotals};
pub use records::{
    Actor, AllocationRecord, AuthorityRecord, CertStatus, CertificateFilter, CertificateRecord, Completion,
    ExpiringCertificate, FacilityChange, FacilityFilter, ImportedCrl, IssuanceIntent, Registration, Revocation,
};
#[allow(unused_imports)]
use sql as _;
pub use sql::{PgStore, SqliteStore};
pub use sso::{
    GrantOp, GrantRecord, GrantUse, LoginThrottle, OidcClientRecord, OnceRecord, PortalUser, ServiceRecord,
    SessionRecord, SweepCounts, TokenWrite, TokenWritten,
};

use crate::audit::{AuditEntry, AuditEvent, AuditHead};
use crate::console_grant::ConsoleGrant;
use crate::enroll::CredentialRecord;
use crate::enroll::acme::{AcmeAccount, AcmeOrder};
use crate::enroll::scep::held::{HeldRequest, HeldState};
use crate::facility::{Allocation, Facility, FacilityId, FacilityState, NewFacility, Transition};
use crate::operator::{OperatorName, OperatorRecord};
use crate::profile::ProfileKind;
use std::sync::Arc;

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (the default).
    Sqlite,
    /// PostgreSQL (for several server replicas).
    Postgres,
}

/// Everything hcpki keeps.
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Register a facility: assigns the next [`FacilityId`] from a never-reset
    /// counter, state `applied`, audited as `facility.register`.
    /// A duplicate 医療機関コード is [`StoreError::DuplicateMedicalCode`].
    async fn register_facility(&self, new: &NewFacility, actor: &Actor) -> Result<Facility, StoreError>;

    /// Register many facilities in one transaction (bulk import, D29): each exactly as
    /// [`Store::register_facility`] does, with its own `facility.register` audit entry, one result per
    /// application in order. A 医療機関コード already registered is [`Registration::AlreadyRegistered`] and
    /// adds nothing; any other error rolls the whole batch back.
    async fn register_facilities(&self, batch: &[NewFacility], actor: &Actor) -> Result<Vec<Registration>, StoreError>;

    /// Apply a lifecycle transition (checked against the state read inside the
    /// transaction), audited as `facility.<verb>` with the reason.
    async fn transition_facility(
        &self,
        id: &FacilityId,
        transition: Transition,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<Facility, StoreError> {
        let change =
            FacilityChange { id: id.clone(), transition, reason: reason.map(str::to_owned), actor: actor.clone() };
        self.transition_facilities(std::slice::from_ref(&change))
            .await?
            .pop()
            .unwrap_or_else(|| Err(StoreError::Corrupt("a one-change batch answered nothing".into())))
    }

    /// Apply many lifecycle transitions in one transaction (group commit, D35 addendum): each exactly as
    /// [`Store::transition_facility`] would one after another, in order, with its own audit entry; a change
    /// that is refused (an unknown facility, a transition not allowed from the state the earlier changes of
    /// the batch left) is that change's error and does not stop the others. The outer error means the whole
    /// batch was rolled back (the database failed).
    async fn transition_facilities(
        &self,
        batch: &[FacilityChange],
    ) -> Result<Vec<Result<Facility, StoreError>>, StoreError>;

    /// One facility.
    async fn facility(&self, id: &FacilityId) -> Result<Option<Facility>, StoreError>;

    /// The facilities among `ids` that exist, in any order (one round trip per batch).
    async fn facilities(&self, ids: &[FacilityId]) -> Result<Vec<Facility>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.extend(self.facility(id).await?);
        }
        Ok(found)
    }

    /// Allocate `allocation` to `facility` (issue #24, item 2), audited as `facility.address.add`. Refused with
    /// [`StoreError::AllocationHeld`] when any facility's allocation (this one's too) shares an address with it:
    /// checked inside the transaction after the audit head lock, so of two concurrent overlapping adds exactly
    /// one wins; on PostgreSQL an exclusion constraint guards the table as well.
    async fn add_allocation(
        &self,
        facility: &FacilityId,
        allocation: &Allocation,
        actor: &Actor,
    ) -> Result<AllocationRecord, StoreError>;

    /// Take an allocation back from `facility`, audited as `facility.address.remove`;
    /// [`StoreError::UnknownAllocation`] when the facility does not hold exactly that prefix.
    async fn remove_allocation(
        &self,
        facility: &FacilityId,
        allocation: &Allocation,
        actor: &Actor,
    ) -> Result<AllocationRecord, StoreError>;

    /// The allocations of one facility, or of all, by facility then address.
    async fn allocations(&self, facility: Option<&FacilityId>) -> Result<Vec<AllocationRecord>, StoreError>;

    /// The allocations of the facilities among `ids`, in any order (one round trip per issuance batch).
    async fn allocations_of(&self, ids: &[FacilityId]) -> Result<Vec<AllocationRecord>, StoreError>;

    /// Facilities matching a filter, by ID.
    async fn list_facilities(&self, filter: &FacilityFilter) -> Result<Vec<Facility>, StoreError>;

    /// Record a CA (root or issuing) and its key URI, audited as `ca.create`.
    async fn put_authority(&self, record: &AuthorityRecord, actor: &Actor) -> Result<(), StoreError>;

    /// All recorded CAs.
    async fn authorities(&self) -> Result<Vec<AuthorityRecord>, StoreError>;

    /// Write-ahead record of an issuance: the serial (unique: a collision is
    /// [`StoreError::DuplicateSerial`]) and what will be signed, status `reserved`.
    /// Not audited yet; the audit entry comes with [`Store::complete_issuance`] or [`Store::fail_issuance`].
    async fn record_intent(&self, intent: &IssuanceIntent) -> Result<(), StoreError> {
        self.record_intents(std::slice::from_ref(intent)).await
    }

    /// [`Store::record_intent`] for many, in one transaction: all or none.
    async fn record_intents(&self, intents: &[IssuanceIntent]) -> Result<(), StoreError>;

    /// Store the signed certificate for a reserved serial, status `issued`,
    /// audited as `cert.issue`; if the facility is `approved` it becomes
    /// `active` in the same transaction (audited as `facility.activate`).
    async fn complete_issuance(
        &self,
        serial: &str,
        der: &[u8],
        actor: &Actor,
    ) -> Result<CertificateRecord, StoreError> {
        let completion = Completion { serial: serial.to_owned(), der: der.to_vec(), actor: actor.clone() };
        let mut done = self.complete_issuances(std::slice::from_ref(&completion)).await?;
        done.pop().ok_or_else(|| StoreError::UnknownSerial(serial.to_owned()))
    }

    /// [`Store::complete_issuance`] for many certificates, each audited with its own actor, in one
    /// transaction (group commit: one fsync for the batch): all or none.
    async fn complete_issuances(&self, issued: &[Completion]) -> Result<Vec<CertificateRecord>, StoreError>;

    /// Mark a reserved serial as failed (signing failed), audited as `cert.issue` / failed.
    async fn fail_issuance(&self, serial: &str, reason: &str, actor: &Actor) -> Result<(), StoreError>;

    /// One certificate by serial (lowercase hex, no leading zeros beyond DER's).
    async fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError>;

    /// Certificates matching a filter, newest first.
    async fn list_certificates(&self, filter: &CertificateFilter) -> Result<Vec<CertificateRecord>, StoreError>;

    /// Append an event that has no other row to go with (refusals, verifications).
    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditEntry, StoreError>;

    /// [`Store::append_audit`] for many events in one transaction (one commit for all: refusals are
    /// group-committed, D28 addendum), each its own chain entry, in the order given: all or none.
    async fn append_audits(&self, events: &[AuditEvent]) -> Result<Vec<AuditEntry>, StoreError>;

    /// Audit entries with `seq > after`, in order, at most `limit`.
    async fn audit_entries(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError>;

    /// The head of the audit chain.
    async fn audit_head(&self) -> Result<AuditHead, StoreError>;

    /// The last pruned entry (sequence number and hash) the remaining chain links to; `None` when nothing was
    /// ever pruned (the chain starts at the genesis hash).
    async fn audit_anchor(&self) -> Result<Option<AuditHead>, StoreError>;

    /// Delete the entries after the anchor up to `through`, at most `batch` of them, and move the anchor to the
    /// last one deleted, in one transaction (audit retention: the caller archived them first). The new anchor,
    /// or `None` when there was nothing left to prune up to `through`.
    async fn audit_prune(&self, through: i64, batch: i64) -> Result<Option<AuditHead>, StoreError>;

    /// Write a consistent copy of the whole database to `path` (a file that must not exist yet) while the
    /// database stays in use: SQLite's `VACUUM INTO`, one read transaction. PostgreSQL answers
    /// [`StoreError::SnapshotUnsupported`]: its own tools do this better (point-in-time recovery).
    async fn snapshot_into(&self, path: &std::path::Path) -> Result<(), StoreError>;

    /// Give back what the database layer caches inside this process, for an idle server: SQLite's page caches
    /// of the connections nobody is using (`PRAGMA shrink_memory`; a busy connection is left alone). Nothing for
    /// PostgreSQL, whose caches live in the database server. Returns how many connections gave theirs back.
    async fn release_memory(&self) -> Result<usize, StoreError>;

    /// Store a new enrollment credential, audited as `enroll.credential.create`. The facility must exist
    /// and may enroll (read inside the transaction): [`StoreError::UnknownFacility`] or
    /// [`StoreError::FacilityState`] otherwise.
    async fn create_credential(&self, record: &CredentialRecord, actor: &Actor) -> Result<(), StoreError>;

    /// One enrollment credential.
    async fn credential(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError>;

    /// Enrollment credentials, newest first, of one facility or all.
    async fn list_credentials(&self, facility: Option<&FacilityId>) -> Result<Vec<CredentialRecord>, StoreError>;

    /// Revoke an unrevoked credential, audited as `enroll.credential.revoke` (revoking twice changes nothing).
    async fn revoke_credential(&self, id: &str, actor: &Actor) -> Result<CredentialRecord, StoreError>;

    /// Mark a credential used, atomically: only if it is unused, unrevoked and unexpired at this moment, so
    /// of two concurrent uses exactly one wins ([`StoreError::CredentialSpent`] for the other). Audited as
    /// `enroll.credential.use` / ok with the profile, in the same transaction.
    async fn redeem_credential(&self, id: &str, profile: ProfileKind, actor: &Actor) -> Result<(), StoreError>;

    /// Give a redeemed credential back because the enrollment it was redeemed for was refused, audited as
    /// `enroll.credential.release` with the reason.
    async fn release_credential(&self, id: &str, reason: &str, actor: &Actor) -> Result<(), StoreError>;

    /// Hold a SCEP request for an operator (audited `scep.request.hold`); refused unless its facility exists
    /// and may enroll.
    async fn hold_scep_request(&self, request: &HeldRequest, actor: &Actor) -> Result<(), StoreError>;

    /// A held SCEP request by its ID.
    async fn scep_request(&self, id: &str) -> Result<Option<HeldRequest>, StoreError>;

    /// A held SCEP request by the client's transaction ID on one profile's endpoint.
    async fn scep_request_by_transaction(
        &self,
        profile: ProfileKind,
        transaction_id: &str,
    ) -> Result<Option<HeldRequest>, StoreError>;

    /// Held SCEP requests, newest first, optionally only those in `state` (`pending`, `issued`, `rejected`).
    async fn list_scep_requests(&self, state: Option<&str>) -> Result<Vec<HeldRequest>, StoreError>;

    /// Record an operator's decision on a pending request (audited `scep.request.approve|reject`); refused
    /// unless it is still pending.
    async fn decide_scep_request(
        &self,
        id: &str,
        decision: &HeldState,
        actor: &Actor,
    ) -> Result<HeldRequest, StoreError>;

    /// One cheap round trip, for health checks: `Ok` when the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The revoked, unexpired certificates of CA `ca` (only those recorded in CRL shard `shard`, when given):
    /// (serial, revoked at, RFC 5280 reason code), by serial.
    async fn revoked_of_ca(
        &self,
        ca: &str,
        shard: Option<u16>,
        now: i64,
    ) -> Result<Vec<(String, i64, i64)>, StoreError>;

    /// What a CRL of `ca` (or of its shard `shard`) depends on at `now`: the number of revoked, unexpired
    /// certificates, the latest revocation time and the sum of their reasons. A cached CRL whose marker
    /// differs is stale.
    async fn revocation_marker(&self, ca: &str, shard: Option<u16>, now: i64) -> Result<(i64, i64, i64), StoreError>;

    /// The same marker over every revocation of every CA, expired ones included. It moves whenever any CA's
    /// [`Store::revocation_marker`] can move through a revocation (not through an expiry), and costs one pass
    /// over the revocations without a join: the cheap check polled every second before the per-CA one.
    async fn revocations_marker(&self) -> Result<(i64, i64, i64), StoreError>;

    /// Whether any certificate of `ca` was recorded in CRL shard `shard` (its CRL is served even after
    /// `pc_crl_shards` shrank).
    async fn crl_shard_in_use(&self, ca: &str, shard: u16) -> Result<bool, StoreError>;

    /// The next CRL number of the CRL named `crl` (`pc`, `pc-17`): 1, 2, 3… across restarts and replicas
    /// (RFC 5280 §5.2.3).
    async fn next_crl_number(&self, crl: &str) -> Result<i64, StoreError>;

    /// Store a CRL signed elsewhere (the offline root's ARL) as the one to serve for `crl.ca`, audited as
    /// `crl.import`, only if its CRL number is above that of every CRL imported before for that CA
    /// ([`StoreError::CrlNotNewer`] otherwise, nothing stored): checked inside the transaction, so of two
    /// imports of the same number exactly one is stored.
    async fn import_crl(&self, crl: &ImportedCrl, actor: &Actor) -> Result<(), StoreError>;

    /// The imported CRL of `ca` with the highest CRL number, if any was imported.
    async fn imported_crl(&self, ca: &str) -> Result<Option<ImportedCrl>, StoreError>;

    /// The revocation of one certificate: (revoked at, RFC 5280 reason code), if it is revoked (OCSP answers
    /// for certificates past notAfter, which [`Store::revoked_of_ca`] leaves out).
    async fn revocation(&self, serial: &str) -> Result<Option<(i64, i64)>, StoreError>;

    /// Up to `limit` serials of `ca`'s issued, unexpired, unrevoked certificates after `after`, by serial (a
    /// page of the population an OCSP responder pre-signs answers for).
    async fn live_serials(&self, ca: &str, now: i64, after: &str, limit: i64) -> Result<Vec<String>, StoreError>;

    /// How many certificates are `issued`, per profile, sorted by profile (for metrics).
    async fn issued_counts(&self) -> Result<Vec<(String, i64)>, StoreError>;

    /// How many `issued` certificates expire in `[from, until)` (Unix seconds), per profile, sorted by profile
    /// (expiry monitoring).
    async fn expiring_counts(&self, from: i64, until: i64) -> Result<Vec<(String, i64)>, StoreError>;

    /// Claim for reporting, at `now`, up to `limit` `issued` certificates of `profile` whose notAfter is in
    /// `[from, until)`, that have no successor (no later-expiring issued certificate of the same facility,
    /// profile, subject and SANs: a renewed one needs nobody) and were not claimed before. Each is claimed once,
    /// whichever replica asks (expiry webhook).
    async fn expiry_claim(
        &self,
        profile: &str,
        from: i64,
        until: i64,
        limit: i64,
        now: i64,
    ) -> Result<Vec<ExpiringCertificate>, StoreError>;

    /// Give claims back (the report could not be delivered; the next round tries again), and forget claims of
    /// certificates that expired before `forget_before`.
    async fn expiry_release(&self, serials: &[String], forget_before: i64) -> Result<(), StoreError>;

    // ---- ACME (decision D17): state every replica shares ----

    /// Record a nonce handed out, valid until `expires_at`; nonces expired at `now` are swept.
    async fn acme_put_nonce(&self, nonce: &str, expires_at: i64, now: i64) -> Result<(), StoreError>;

    /// Delete a nonce if it exists and is unexpired at `now`: `true` for exactly one caller.
    async fn acme_take_nonce(&self, nonce: &str, now: i64) -> Result<bool, StoreError>;

    /// Record a new ACME account, audited as `acme.account.create`.
    async fn acme_create_account(&self, account: &AcmeAccount, actor: &Actor) -> Result<(), StoreError>;

    /// One ACME account.
    async fn acme_account(&self, id: &str) -> Result<Option<AcmeAccount>, StoreError>;

    /// The ACME account whose key has this RFC 7638 thumbprint.
    async fn acme_account_by_thumbprint(&self, thumbprint: &str) -> Result<Option<AcmeAccount>, StoreError>;

    /// Store an account's key, status and contact, audited as `acme.account.<action>`.
    async fn acme_update_account(&self, account: &AcmeAccount, action: &str, actor: &Actor) -> Result<(), StoreError>;

    /// Record a new order (version 0), audited as `acme.order.create`.
    async fn acme_create_order(&self, order: &AcmeOrder, actor: &Actor) -> Result<(), StoreError>;

    /// One order.
    async fn acme_order(&self, id: &str) -> Result<Option<AcmeOrder>, StoreError>;

    /// Store `order` only if the stored version is `order.version - 1`; `false` when another request
    /// changed it first.
    async fn acme_update_order(&self, order: &AcmeOrder) -> Result<bool, StoreError>;

    /// The ACME account whose order was finalized with certificate `serial`, if any: who may revoke it by
    /// account (RFC 8555 §7.6).
    async fn acme_certificate_account(&self, serial: &str) -> Result<Option<String>, StoreError>;

    /// Mark an issued certificate revoked with its RFC 5280 reason code, audited as `cert.revoke`, and answer
    /// its record as revoked ([`StoreError::UnknownSerial`] unless it is `issued`).
    async fn revoke_certificate(
        &self,
        serial: &str,
        reason: u8,
        actor: &Actor,
    ) -> Result<CertificateRecord, StoreError> {
        let one = Revocation { serial: serial.to_owned(), reason, actor: actor.clone() };
        self.revoke_certificates(std::slice::from_ref(&one))
            .await?
            .pop()
            .unwrap_or_else(|| Err(StoreError::Corrupt("a one-revocation batch answered nothing".into())))
    }

    /// Revoke many certificates in one transaction (group commit, D35 addendum 2): each exactly as
    /// [`Store::revoke_certificate`] would one after another, in order, with its own `cert.revoke` entry; a
    /// serial that is unknown or no longer `issued` (revoked by an earlier item of the same batch, say) is
    /// that item's [`StoreError::UnknownSerial`] and does not stop the others. The outer error means the
    /// whole batch was rolled back (the database failed).
    async fn revoke_certificates(
        &self,
        batch: &[Revocation],
    ) -> Result<Vec<Result<CertificateRecord, StoreError>>, StoreError>;
    /// Add an operator, or change an enabled operator's role, audited as `operator.add` / `operator.role`.
    /// A disabled operator stays disabled: [`StoreError::OperatorDisabled`].
    async fn put_operator(&self, record: &OperatorRecord, actor: &Actor) -> Result<OperatorRecord, StoreError>;

    /// One operator.
    async fn operator(&self, name: &OperatorName) -> Result<Option<OperatorRecord>, StoreError>;

    /// All operators, by name.
    async fn list_operators(&self) -> Result<Vec<OperatorRecord>, StoreError>;

    /// Disable an operator for good, audited as `operator.disable` (disabling twice changes nothing).
    async fn disable_operator(&self, name: &OperatorName, actor: &Actor) -> Result<OperatorRecord, StoreError>;

    /// Store a card-login challenge (not audited: the login it leads to is). Expired challenges nobody took
    /// are swept first, using `now`. A duplicate value is an error (32 random bytes never repeat).
    async fn put_login_challenge(&self, record: &LoginChallengeRecord, now: i64) -> Result<(), StoreError>;

    /// Take a card-login challenge: deletes it and returns what was stored, in one statement, so a value is
    /// handed out once across all replicas. Returned even when expired (and then gone), so the caller can say
    /// "expired" rather than "unknown"; `None` when it never existed or was taken already.
    async fn take_login_challenge(&self, challenge: &str) -> Result<Option<LoginChallengeRecord>, StoreError>;

    // ---- SSO portal and OpenID Connect provider (issue #6, D24) ----

    /// Add a password + TOTP account, audited as `portal.user.add` ([`StoreError::Database`] if the name is
    /// taken: check with [`Store::portal_user`] first for a clear message).
    async fn portal_add_user(&self, user: &PortalUser, actor: &Actor) -> Result<(), StoreError>;

    /// One account.
    async fn portal_user(&self, username: &str) -> Result<Option<PortalUser>, StoreError>;

    /// All accounts, by name.
    async fn portal_users(&self) -> Result<Vec<PortalUser>, StoreError>;

    /// Disable an account for good, audited as `portal.user.disable`; `false` if unknown or disabled already.
    /// Its live sessions end in the same transaction (reason `account-disabled`) and their grants are revoked;
    /// a server replica then sends their back-channel logout ([`Store::portal_claim_ended_sessions`]).
    async fn portal_disable_user(&self, username: &str, actor: &Actor) -> Result<bool, StoreError>;

    /// Record TOTP step `step` as used, atomically: `true` only if it is later than the last used step (of
    /// two logins with the same code, exactly one wins).
    async fn portal_use_totp_step(&self, username: &str, step: i64) -> Result<bool, StoreError>;

    /// Store a new session and the audit entry of the login that made it, in one transaction: a session never
    /// exists without its login's entry, nor an entry saying "ok" without its session, whatever crashes when.
    async fn portal_create_session(
        &self,
        session: &SessionRecord,
        login: &AuditEvent,
    ) -> Result<AuditEntry, StoreError>;

    /// A session that is neither ended nor expired at `now`.
    async fn portal_session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRecord>, StoreError>;

    /// End one live session; the session as it was, if it was live.
    async fn portal_end_session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRecord>, StoreError>;

    /// End every live session of `person_key` logged in with card `card_id` (card removal).
    async fn portal_end_card_sessions(
        &self,
        person_key: &str,
        card_id: &str,
        now: i64,
    ) -> Result<Vec<SessionRecord>, StoreError>;

    /// Link the anchor-bound card key `person_key` to `legacy_key`, the key its card gave before trust-anchor
    /// binding (migration 0021 lists those seen): the earlier key it is already linked to; else, if
    /// `legacy_key` is listed and unclaimed, claim it at `now`, move its console grant to `person_key` (unless
    /// `person_key` has one) and append `person.key-linked` in one transaction; else None (a new person, or the
    /// earlier key went to another anchor's card first).
    async fn person_key_link(
        &self,
        person_key: &str,
        legacy_key: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError>;

    /// The earlier key `person_key` is linked to ([`Self::person_key_link`]), if any: what its pairwise `sub`
    /// values are derived from, so relying parties keep the ones they knew.
    async fn person_key_linked(&self, person_key: &str) -> Result<Option<String>, StoreError>;

    /// The live sessions of person `person_key` at `now` (the person's own "sessions" page), newest first.
    async fn portal_person_sessions(&self, person_key: &str, now: i64) -> Result<Vec<SessionRecord>, StoreError>;

    /// "Log out everywhere": end every live session of `person_key` with `reason`, revoke their grants and
    /// append the audit entry `portal.logout` (actor `actor`, target the person, the reason and how many) in
    /// one transaction. The sessions are marked notified: the calling server sends their back-channel logout at
    /// once. The sessions ended.
    async fn portal_end_person_sessions(
        &self,
        person_key: &str,
        reason: &str,
        now: i64,
        actor: &Actor,
    ) -> Result<Vec<SessionRecord>, StoreError>;

    /// Register a client, audited as `oidc.client.add`.
    async fn oidc_add_client(&self, client: &OidcClientRecord, actor: &Actor) -> Result<(), StoreError>;

    /// One client.
    async fn oidc_client(&self, id: &str) -> Result<Option<OidcClientRecord>, StoreError>;

    /// All clients, by id.
    async fn oidc_clients(&self) -> Result<Vec<OidcClientRecord>, StoreError>;

    /// Remove a client and revoke its grants, audited as `oidc.client.remove`; `false` if unknown.
    async fn oidc_remove_client(&self, id: &str, actor: &Actor) -> Result<bool, StoreError>;

    /// Store a new grant (state `code`).
    async fn oidc_create_grant(&self, grant: &GrantRecord) -> Result<(), StoreError>;

    /// One grant, whatever its state.
    async fn oidc_grant(&self, id: &str) -> Result<Option<GrantRecord>, StoreError>;

    /// The grants among `ids` that exist, in no particular order (one statement for a batch of token requests).
    async fn oidc_grants(&self, ids: &[String]) -> Result<Vec<GrantRecord>, StoreError>;

    /// The token endpoint's writes for a batch of requests, in one transaction (one durable commit for all: the
    /// endpoint group-commits them, D28 addendum), one [`TokenWritten`] per write, as if applied in order.
    /// Each write's single-use value is recorded first; a value taken already (also by an earlier write of the
    /// batch) is a replay and its op is not applied. A code presented a second time or a refresh token already
    /// rotated revokes the grant ([`GrantUse::Replayed`]); so does a second op on the same grant in the batch.
    async fn oidc_token_writes(&self, writes: &[TokenWrite], now: i64) -> Result<Vec<TokenWritten>, StoreError>;

    /// Revoke one grant; the grant if it was not revoked already.
    async fn oidc_revoke_grant(&self, id: &str) -> Result<Option<GrantRecord>, StoreError>;

    /// Revoke every grant of a session (logout); those that were not revoked already.
    async fn oidc_revoke_session_grants(&self, session_hash: &str) -> Result<Vec<GrantRecord>, StoreError>;

    /// Store a single-use value until `expires_at`; `false` if `(kind, key)` is taken by a value unexpired at
    /// `now` (a replay). An expired value under the same key is replaced; other expired values are left to
    /// [`Store::portal_sweep`].
    async fn oidc_once_put(
        &self,
        kind: &str,
        key: &str,
        value: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Take a single-use value, if it exists and is unexpired at `now`: for exactly one caller.
    async fn oidc_once_take(&self, kind: &str, key: &str, now: i64) -> Result<Option<String>, StoreError>;

    /// The failed password sign-ins recorded for `username`: (failures, time of the last), if any.
    async fn portal_login_failures(&self, username: &str) -> Result<Option<(i64, i64)>, StoreError>;

    /// Admit and record a password sign-in attempt of `username` at `now`, or refuse it, in one statement
    /// (issue #24 item 8): `Some(count)` when `throttle` lets it through (the attempt is counted as a failure
    /// before the password is checked, so parallel attempts cannot all pass a check made before any was
    /// recorded; a success forgets with [`Store::portal_login_succeeded`]), `None` when the account must wait
    /// (nothing recorded). Shared by every replica (issue #9).
    async fn portal_login_attempt(
        &self,
        username: &str,
        now: i64,
        throttle: &LoginThrottle,
    ) -> Result<Option<i64>, StoreError>;

    /// Forget `username`'s failures (it signed in).
    async fn portal_login_succeeded(&self, username: &str) -> Result<(), StoreError>;

    /// Grant `grant.person_key` console access (or change its grant), audited as `console.grant.add` in the same
    /// transaction (D42).
    async fn console_grant_put(&self, grant: &ConsoleGrant, actor: &Actor) -> Result<(), StoreError>;

    /// Whether facility `facility` accepts a password + TOTP sign-in for its admins' changes (otherwise a
    /// card sign-in only; issue #24 item 7).
    async fn facility_admin_password_totp(&self, facility: &str) -> Result<bool, StoreError>;

    /// Accept (`true`) or refuse password + TOTP sign-ins for a facility admin's changes, audited as
    /// `facility.admin_login` in the same transaction; `false` (nothing audited) when it was so already.
    async fn set_facility_admin_password_totp(
        &self,
        facility: &FacilityId,
        allowed: bool,
        actor: &Actor,
    ) -> Result<bool, StoreError>;

    /// The console grant of a person, if any (read on every console request of a portal sign-in).
    async fn console_grant(&self, person_key: &str) -> Result<Option<ConsoleGrant>, StoreError>;

    /// Every console grant, by person key.
    async fn console_grants(&self) -> Result<Vec<ConsoleGrant>, StoreError>;

    /// Remove a person's console grant, audited as `console.grant.remove` in the same transaction; the grant as
    /// it was, or `None` (nothing audited) when there was none.
    async fn console_grant_remove(&self, person_key: &str, actor: &Actor) -> Result<Option<ConsoleGrant>, StoreError>;

    /// An operator clears `username`'s failed sign-ins (the help desk lifting a throttle), audited as
    /// `portal.user.clear_lockout` in the same transaction; false when none were recorded.
    async fn portal_clear_login_failures(&self, username: &str, actor: &Actor) -> Result<bool, StoreError>;

    // ---- SSO session lifecycle and services in the database (issue #6, D26) ----

    /// The session lifetime set for `facility`, seconds, if any.
    async fn portal_session_lifetime(&self, facility: &str) -> Result<Option<i64>, StoreError>;

    /// Every facility's session lifetime override: (facility, seconds, set by, set at).
    async fn portal_session_lifetimes(&self) -> Result<Vec<(String, i64, String, i64)>, StoreError>;

    /// Set (`Some`) or clear (`None`) a facility's session lifetime, audited as `portal.session_lifetime`;
    /// `false` when clearing one that was not set. Live sessions keep their deadline.
    async fn portal_set_session_lifetime(
        &self,
        facility: &str,
        secs: Option<i64>,
        actor: &Actor,
    ) -> Result<bool, StoreError>;

    /// Claim up to `limit` sessions ended by another process whose clients were not yet sent back-channel
    /// logout, marking them notified at `now` (one replica claims each session).
    async fn portal_claim_ended_sessions(&self, now: i64, limit: i64) -> Result<Vec<SessionRecord>, StoreError>;

    /// Renew the presence lease of the live, unlapsed session with this presence token hash and card until
    /// `until`; the session, if there is one.
    async fn portal_renew_presence(
        &self,
        presence_hash: &str,
        card_id: &str,
        until: i64,
        now: i64,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// End the sessions whose presence lease lapsed by `now` (reason `presence-lapsed`) and revoke their
    /// grants; their back-channel logout follows through [`Store::portal_claim_ended_sessions`]. How many.
    async fn portal_end_lapsed_sessions(&self, now: i64) -> Result<usize, StoreError>;

    /// Every grant made in a session, whatever its state (back-channel logout after the grants were revoked).
    async fn oidc_session_grants(&self, session_hash: &str) -> Result<Vec<GrantRecord>, StoreError>;

    /// Delete at most `batch` rows per table that nothing needs any more at `now`: sessions expired or ended
    /// (and notified) and grants past their deadline, both more than `grace` seconds ago, expired single-use
    /// values and login challenges, and rate-limit windows no replica reads any more. Safe to run on several replicas at once (deletes are idempotent).
    async fn portal_sweep(&self, now: i64, grace: i64, batch: i64) -> Result<SweepCounts, StoreError>;

    // ---- per-address rate limits shared by the replicas (issue #9, D31 addendum) ----

    /// One replica's periodic rate-limit sync: record that `sync.replica` is alive until `sync.alive_until`
    /// (forgetting replicas gone for an hour), add
    /// `sync.add` to the per-window totals (one transaction, rows in key order so concurrent syncs of
    /// PostgreSQL replicas cannot deadlock), then read back the totals of the `sync.watch` pairs from
    /// `sync.since` on and how many replicas are alive. Not audited; harmless to lose on power failure.
    async fn rate_limit_sync(&self, sync: &RateSync<'_>) -> Result<RateTotals, StoreError>;

    /// Mark `address` refused in `class` in the window starting at `window_start`. `true` for exactly one
    /// caller per window, and only when the previous window was not marked: the start of an engagement, which
    /// is audited once whichever replica refuses first (a flood going on across windows is one engagement).
    async fn rate_limit_engage(&self, class: &str, address: &str, window_start: i64) -> Result<bool, StoreError>;

    /// The services (in listing order), the change generation, and whether the services file was imported.
    async fn portal_services(&self) -> Result<(Vec<ServiceRecord>, i64, bool), StoreError>;

    /// The change generation of the services (cheap: replicas poll it).
    async fn portal_services_generation(&self) -> Result<i64, StoreError>;

    /// Add services, audited as `portal.service.add` (or `.replace` for an id that exists when `replace`);
    /// with `seed`, only if no services file was ever imported (then `false` and nothing changes), audited
    /// as `portal.service.import`. An existing id without `replace` is [`StoreError::Conflict`].
    async fn portal_put_services(
        &self,
        services: &[ServiceRecord],
        replace: bool,
        seed: bool,
        actor: &Actor,
    ) -> Result<bool, StoreError>;

    /// Remove a service, audited as `portal.service.remove`; `false` if unknown.
    async fn portal_remove_service(&self, id: &str, actor: &Actor) -> Result<bool, StoreError>;

    // ---- long operations (D38) ----

    /// Create a job with all its items in one transaction, state `queued`, audited as `job.create`.
    async fn create_job(&self, job: &NewJob, actor: &Actor) -> Result<JobRecord, StoreError>;

    /// One job with its progress.
    async fn job(&self, id: &str) -> Result<Option<JobRecord>, StoreError>;

    /// The newest jobs first, at most `limit`.
    async fn list_jobs(&self, limit: i64) -> Result<Vec<JobRecord>, StoreError>;

    /// A job's items in order: all of them, or those in `state`, from `after_seq` (exclusive), at most `limit`.
    async fn job_items(
        &self,
        id: &str,
        state: Option<&str>,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<JobItem>, StoreError>;

    /// Take a job for `owner`: one that is queued, or running with a heartbeat before `stale_before` (its
    /// worker died). Returns whether `owner` now holds it; two workers never both do.
    async fn claim_job(&self, id: &str, owner: &str, now: i64, stale_before: i64) -> Result<bool, StoreError>;

    /// Record items' outcomes and renew the heartbeat, only while `owner` still holds the job; `false` (and
    /// nothing written) when it does not.
    async fn record_job_items(
        &self,
        id: &str,
        owner: &str,
        outcomes: &[ItemOutcome],
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Leave a job in `state` (`queued` to pause, `done`, `failed`) while `owner` holds it, or cancel it
    /// (`owner` None, any unfinished job; audited as `job.cancel`). `false` when the job was not in a state
    /// that allows it.
    async fn end_job(
        &self,
        id: &str,
        owner: Option<&str>,
        state: JobState,
        note: Option<&str>,
        actor: &Actor,
    ) -> Result<bool, StoreError>;

    /// Register a batch of a facility-import job's items, approve each new facility when `approve` is set,
    /// and mark each item done (`New`, result the ID) or skipped (`AlreadyRegistered`), all in the same
    /// transaction: a resumed job never registers a row twice and never leaves one registered but not
    /// approved. `None` (nothing written) when `owner` no longer holds the job.
    async fn register_facilities_for_job(
        &self,
        id: &str,
        owner: &str,
        batch: &[(i64, NewFacility)],
        approve: bool,
        actor: &Actor,
    ) -> Result<Option<Vec<Registration>>, StoreError>;

    /// The issued successor of `serial` made by a re-issue (`certificates.replaces`), if there is one.
    async fn successor(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError>;
}

/// A card-login challenge as stored (the server's `login::challenge` issues and judges them).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LoginChallengeRecord {
    /// base64url (no padding) of the random challenge bytes: what the card signs.
    pub challenge: String,
    /// Opaque value binding the challenge to one browser session (e.g. a hash of a pre-login cookie).
    pub binding: String,
    /// The portal origin the challenge was issued for.
    pub origin: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; not accepted at or after this time.
    pub expires_at: i64,
}

/// Open the database named by `url` and bring its schema up to date.
///
/// `sqlite:PATH` / `sqlite://PATH` (created if missing) or `postgres://…` / `postgresql://…`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url).await?))
    } else {
        Err(StoreError::Url(url.to_owned()))
    }
}

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
    DuplicateAuthority(String),
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
        ca: String,
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

/// Create a fresh, uniquely named PostgreSQL database next to the one `admin_url`
/// names and return its URL (benchmarks and tests: every run starts empty).
pub async fn create_scratch_database(admin_url: &str, prefix: &str) -> Result<String, StoreError> {
    use sqlx::Connection;
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url).await.map_err(|e| StoreError::Connect(e.to_string()))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .map_err(|e| StoreError::Database(e.to_string()))?;
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    let prefix_end =
        base.rfind('/').filter(|i| *i > base.find("://").map(|s| s + 2).unwrap_or(0)).unwrap_or(base.len());
    Ok(format!("{}/{name}", base.get(..prefix_end).unwrap_or(base)))
}
