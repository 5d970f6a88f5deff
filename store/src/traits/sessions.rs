//! SSO sessions (issue #6, D26): creation, presence leases, ending, lifetimes, person keys, sweeping.

use crate::audit::{AuditEntry, AuditEvent};
use crate::error::StoreError;
use crate::facility::FacilityId;
use crate::records::Actor;
use crate::sso::{SessionRecord, SweepCounts};
use hcpki_model::UnixTime;

/// SSO sessions (issue #6, D26): creation, presence leases, ending, lifetimes, person keys, sweeping.
#[async_trait::async_trait]
pub trait Sessions: Send + Sync {
    /// Store a new session and the audit entry of the login that made it, in one transaction: a session never
    /// exists without its login's entry, nor an entry saying "ok" without its session, whatever crashes when.
    async fn portal_create_session(
        &self,
        session: &SessionRecord,
        login: &AuditEvent,
        at: UnixTime,
    ) -> Result<AuditEntry, StoreError>;

    /// A session that is neither ended nor expired at `now`.
    async fn portal_session(&self, id_hash: &str, now: UnixTime) -> Result<Option<SessionRecord>, StoreError>;

    /// A session's record whatever its state (ended, expired, lapsed), until the sweep removes it: how a
    /// session the browser's cookie still names ended (the portal tells the person, issue #26).
    async fn portal_session_record(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError>;

    /// End one live session, recording `reason` as its end reason (what the portal may tell the person on
    /// the next visit, D59); the session as it was, if it was live.
    async fn portal_end_session(
        &self,
        id_hash: &str,
        reason: &str,
        now: UnixTime,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// End every live session of `person_key` logged in with card `card_id` (card removal).
    async fn portal_end_card_sessions(
        &self,
        person_key: &str,
        card_id: &str,
        now: UnixTime,
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
        now: UnixTime,
    ) -> Result<Option<String>, StoreError>;

    /// The earlier key `person_key` is linked to ([`Self::person_key_link`]), if any: what its pairwise `sub`
    /// values are derived from, so relying parties keep the ones they knew.
    async fn person_key_linked(&self, person_key: &str) -> Result<Option<String>, StoreError>;

    /// The live sessions of person `person_key` at `now` (the person's own "sessions" page), newest first.
    async fn portal_person_sessions(&self, person_key: &str, now: UnixTime) -> Result<Vec<SessionRecord>, StoreError>;

    /// "Log out everywhere": end every live session of `person_key` with `reason`, revoke their grants and
    /// append the audit entry `portal.logout` (actor `actor`, target the person, the reason and how many) in
    /// one transaction. The sessions are marked notified: the calling server sends their back-channel logout at
    /// once. The sessions ended.
    async fn portal_end_person_sessions(
        &self,
        person_key: &str,
        reason: &str,
        now: UnixTime,
        actor: &Actor,
    ) -> Result<Vec<SessionRecord>, StoreError>;

    /// The session lifetime set for `facility`, seconds, if any.
    async fn portal_session_lifetime(&self, facility: &FacilityId) -> Result<Option<i64>, StoreError>;

    /// Every facility's session lifetime override: (facility, seconds, set by, set at).
    async fn portal_session_lifetimes(&self) -> Result<Vec<(String, i64, String, i64)>, StoreError>;

    /// Set (`Some`) or clear (`None`) a facility's session lifetime, audited as `portal.session_lifetime`;
    /// `false` when clearing one that was not set. Live sessions keep their deadline.
    async fn portal_set_session_lifetime(
        &self,
        facility: &FacilityId,
        secs: Option<i64>,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Claim up to `limit` sessions ended by another process whose clients were not yet sent back-channel
    /// logout, marking them notified at `now` (one replica claims each session).
    async fn portal_claim_ended_sessions(&self, now: UnixTime, limit: i64) -> Result<Vec<SessionRecord>, StoreError>;

    /// Renew the presence lease of the live, unlapsed session with this presence token hash and card until
    /// `until`; the session, if there is one.
    async fn portal_renew_presence(
        &self,
        presence_hash: &str,
        card_id: &str,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// End the sessions whose presence lease lapsed by `now` (reason `presence-lapsed`) and revoke their
    /// grants; their back-channel logout follows through [`Self::portal_claim_ended_sessions`]. How many.
    async fn portal_end_lapsed_sessions(&self, now: UnixTime) -> Result<usize, StoreError>;

    /// End up to `limit` live sessions spent at `now` (D175): past their absolute deadline (`expired`; only
    /// deadlines after `since`, older ones are the deleting sweep's) or, with `idle_before`, unlent and not seen
    /// in use since then (`idle`; a session is seen at its creation, and one made before migration 0050 is left
    /// to its next request's idle lock); their grants are revoked, and their back-channel logout and Shared Signals
    /// follow through [`Self::portal_claim_ended_sessions`]. How many.
    async fn portal_end_spent_sessions(
        &self,
        now: UnixTime,
        since: UnixTime,
        idle_before: Option<UnixTime>,
        limit: i64,
    ) -> Result<usize, StoreError>;

    /// Note that the live session `id_hash` was in use at `now` (written at most once per a few minutes by the
    /// idle lock, so the sweep above can tell idle sessions without a write per request).
    async fn portal_session_seen(&self, id_hash: &str, now: UnixTime) -> Result<(), StoreError>;

    /// Delete at most `batch` rows per table that nothing needs any more at `now`: sessions expired or ended
    /// (and notified) and grants past their deadline, both more than `grace` seconds ago, expired single-use
    /// values and login challenges, and rate-limit windows no replica reads any more. Safe to run on several replicas at once (deletes are idempotent).
    async fn portal_sweep(&self, now: UnixTime, grace: i64, batch: i64) -> Result<SweepCounts, StoreError>;

    /// Lend the live card session `id_hash` (not lent already, its presence lease not lapsed) until `until` for
    /// `lent_for` (D91), appending `entry` (`session.lend`) in the same transaction, at `at`: the session as
    /// lent, or None (nothing written) when it is no such session.
    async fn portal_lend_session(
        &self,
        id_hash: &str,
        until: UnixTime,
        lent_for: &str,
        entry: &AuditEvent,
        at: UnixTime,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// Note that the login card of `id_hash` was reported out at `now`, during its running lend: the session,
    /// if its lend runs.
    async fn portal_lend_card_out(&self, id_hash: &str, now: UnixTime) -> Result<Option<SessionRecord>, StoreError>;

    /// End the running lend of `id_hash` (the login card is back), its presence lease renewed until
    /// `presence_until` when given, appending `entry` (`session.lend.return`) in the same transaction, at
    /// `at`: the session, or None (nothing written) when no lend of it runs.
    async fn portal_return_lend(
        &self,
        id_hash: &str,
        presence_until: Option<UnixTime>,
        entry: &AuditEvent,
        at: UnixTime,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// End the sessions whose lend ran out by `now` without the card back (end reason `lend-expired`) and
    /// append `session.lend.expired` for each, in one transaction: every such session, their grants revoked
    /// (housekeeping; their back-channel logout follows through [`Self::portal_claim_ended_sessions`]), or only
    /// `only`'s (the browser's next request: marked notified, the calling server revokes its grants and sends
    /// the back-channel logout at once, as after a card removal).
    async fn portal_end_lapsed_lends(
        &self,
        now: UnixTime,
        only: Option<&str>,
    ) -> Result<Vec<SessionRecord>, StoreError>;
}
