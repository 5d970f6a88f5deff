//! The Shared Signals transmitter's streams and outbox (issue #51 item 2, D162): one event stream per
//! confidential OIDC client, and the signed SETs waiting for their receiver.

use crate::error::StoreError;
use crate::records::Actor;
use hcpki_model::UnixTime;

/// A client's event stream as stored: its configuration is the transmitter's JSON (`hcpki_sso::ssf::stream`
/// reads and writes it), the store only keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsfStreamRecord {
    /// The stream's id (random).
    pub stream_id: String,
    /// The receiver: the OIDC client that created it.
    pub client_id: String,
    /// The configuration, JSON.
    pub config: String,
    /// `enabled`, `paused` or `disabled`.
    pub status: String,
    /// Why the status was last set, when a reason was given.
    pub status_reason: Option<String>,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Last changed (Unix seconds).
    pub updated_at: i64,
}

/// A signed SET waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsfOutboxRecord {
    /// The SET's `jti`.
    pub jti: String,
    /// Its stream.
    pub stream_id: String,
    /// The compact JWS.
    pub set_jwt: String,
    /// Pushed (RFC 8935) rather than polled (RFC 8936).
    pub push: bool,
    /// Queued (Unix seconds).
    pub created_at: i64,
    /// Delivery attempts so far (push).
    pub attempts: i64,
    /// The next attempt's time (push; Unix seconds).
    pub next_at: i64,
    /// What the last attempt got, when it failed.
    pub last_error: Option<String>,
}

/// An event about a person that the store records in the same transaction as the change it announces (D175),
/// so a change made by any process (the CLI, another replica) reaches the receivers: a server replica claims
/// it, signs it for each receiver and marks it done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsfPersonEvent {
    /// The person (`pwd:<name>`).
    pub person_key: String,
    /// What happened: one of [`PERSON_ACCOUNT_DISABLED`], [`PERSON_TOTP_RESET`], [`PERSON_TOTP_ENROLLED`] (a
    /// newer release may write others, which an older replica leaves alone).
    pub event: String,
    /// When (Unix milliseconds).
    pub created_at: i64,
}

/// The account was disabled (RISC `account-disabled`).
pub const PERSON_ACCOUNT_DISABLED: &str = "account-disabled";
/// The help desk gave the account a new TOTP secret (CAEP `credential-change`, app, update).
pub const PERSON_TOTP_RESET: &str = "totp-reset";
/// The person set up the account's first TOTP secret (CAEP `credential-change`, app, create).
pub const PERSON_TOTP_ENROLLED: &str = "totp-enrolled";

/// Streams and the outbox, shared by every replica through the database. Stream changes are audited
/// (`ssf.stream.*`); the outbox's rows are not (the session end they announce is).
#[async_trait::async_trait]
pub trait SsfStreams: Send + Sync {
    /// Keep `stream` (new, or replacing the row with its id), audited as `ssf.stream.put` with `detail`. A client
    /// has one stream: a second one of the same client fails on the table's unique key.
    async fn ssf_stream_put(
        &self,
        stream: &SsfStreamRecord,
        detail: serde_json::Value,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// The stream of `client_id`, if it has one.
    async fn ssf_stream_of(&self, client_id: &str) -> Result<Option<SsfStreamRecord>, StoreError>;

    /// The OIDC grants (any state) of `person_key`'s sessions whose client has a stream: where an event about
    /// the person (a credential changed, the account disabled) goes, and the subject each client knows.
    async fn ssf_person_grants(&self, person_key: &str) -> Result<Vec<crate::GrantRecord>, StoreError>;

    /// Delete the stream `stream_id` and every SET waiting in it, audited as `ssf.stream.delete`; whether it
    /// existed.
    async fn ssf_stream_delete(&self, stream_id: &str, actor: &Actor, at: UnixTime) -> Result<bool, StoreError>;

    /// Queue signed SETs (one statement each, in one transaction).
    async fn ssf_enqueue(&self, sets: &[SsfOutboxRecord]) -> Result<(), StoreError>;

    /// Poll delivery (RFC 8936 §2.4): drop the acknowledged `ack` jtis of `stream_id`, then up to `max` of the
    /// SETs still waiting in it, oldest first, and whether more wait.
    async fn ssf_poll(
        &self,
        stream_id: &str,
        ack: &[String],
        max: i64,
    ) -> Result<(Vec<SsfOutboxRecord>, bool), StoreError>;

    /// Push delivery: up to `limit` pushed SETs due at `now` (of enabled streams), oldest first, each with its
    /// stream's configuration (JSON) and claimed until `lease_until` so one replica sends it at a time.
    async fn ssf_due(
        &self,
        now: UnixTime,
        lease_until: UnixTime,
        limit: i64,
    ) -> Result<Vec<(SsfOutboxRecord, String)>, StoreError>;

    /// The receiver took `jti` (HTTP 202): it leaves the outbox.
    async fn ssf_delivered(&self, jti: &str) -> Result<(), StoreError>;

    /// An attempt at `jti` failed with `error`: try again at `next_at`.
    async fn ssf_failed(&self, jti: &str, error: &str, next_at: UnixTime) -> Result<(), StoreError>;

    /// SETs waiting in the outbox (push and poll), for the metrics.
    async fn ssf_waiting(&self) -> Result<i64, StoreError>;

    /// Claim up to `limit` person events no replica holds at `now`, oldest first, until `lease_until` (a replica
    /// that stops before [`Self::ssf_person_events_done`] leaves them to the next after the lease).
    async fn ssf_claim_person_events(
        &self,
        now: UnixTime,
        lease_until: UnixTime,
        limit: i64,
    ) -> Result<Vec<SsfPersonEvent>, StoreError>;

    /// The claimed `events` were signed and queued: they leave.
    async fn ssf_person_events_done(&self, events: &[SsfPersonEvent]) -> Result<(), StoreError>;
}
