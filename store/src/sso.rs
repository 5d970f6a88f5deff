//! Records of the SSO portal and the OpenID Connect provider (issue #6, D24), as the store keeps them.
//!
//! The store does not interpret them: what a session or grant means (subject, facility, claims) is JSON in
//! `data`, owned by `server::portal` and `server::oidc`. Secrets appear only as hashes or sealed values.

/// A password + TOTP account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalUser {
    /// Login name.
    pub username: String,
    /// Display name (`name` claim).
    pub display_name: String,
    /// A policy hcRole code, if the account carries a qualification.
    pub hc_role: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The TOTP secret, sealed.
    pub totp_secret: String,
    /// The last accepted TOTP step (a code of this step or earlier is a replay).
    pub last_totp_step: i64,
    /// Who added it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// Set once; a disabled account cannot log in.
    pub disabled_at: Option<i64>,
}

/// An SSO session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 (hex) of the cookie's random id.
    pub id_hash: String,
    /// Stable person identifier.
    pub person_key: String,
    /// The card that logged in, if any.
    pub card_id: Option<String>,
    /// JSON owned by the portal.
    pub data: String,
    /// When the credential was checked.
    pub auth_time: i64,
    /// Created.
    pub created_at: i64,
    /// Ends by itself then.
    pub expires_at: i64,
    /// Ended early (logout, card removal).
    pub ended_at: Option<i64>,
    /// The facility of the login's connection, if any (suspending or retiring it ends the session).
    pub facility_id: Option<String>,
    /// Why it ended early, when another process ended it (`account-disabled`, `facility-suspended`, …).
    pub end_reason: Option<String>,
    /// SHA-256 (hex) of the card agent's presence token (card sessions under `card_presence_secs`).
    pub presence_hash: Option<String>,
    /// The presence lease: the session is refused from then on unless the agent renews it.
    pub presence_until: Option<i64>,
    /// The serial of the facility PC certificate the login came through, if any: revoking or holding that
    /// certificate ends the session (issue #24 item 9).
    pub facility_serial: Option<String>,
    /// The running (or run out, not yet ended) lend of the session's card reader, if any (D91).
    pub lend: Option<LendRecord>,
}

/// A card session lent to a patient's card (D91, migration 0025): paused until `until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LendRecord {
    /// The lend ends then: the session ends unless the login card came back before.
    pub until: i64,
    /// The consent it was lent for (free text, audit only).
    pub lent_for: String,
    /// When a removal of the login card was reported during the lend, if one was.
    pub card_out_at: Option<i64>,
}

/// A registered relying party.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcClientRecord {
    /// `client_id`.
    pub id: String,
    /// JSON owned by the OIDC provider.
    pub data: String,
    /// Who registered it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

/// One authorization of a client in a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    /// Random id, also inside the code and refresh token.
    pub id: String,
    /// The client.
    pub client_id: String,
    /// The session's id hash.
    pub session_hash: String,
    /// JSON owned by the OIDC provider.
    pub data: String,
    /// SHA-256 of the unredeemed code.
    pub code_hash: Option<String>,
    /// SHA-256 of the current refresh token.
    pub refresh_hash: Option<String>,
    /// `code`, `active` or `revoked`.
    pub state: String,
    /// Created.
    pub created_at: i64,
    /// The code's deadline while unredeemed, then the refresh token's.
    pub expires_at: i64,
}

/// What presenting a code or refresh token did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantUse {
    /// Accepted; the grant as it is now.
    Accepted(GrantRecord),
    /// The grant exists but this secret was already used: a code redeemed (or a wrong code), or a refresh token
    /// the grant rotated out (D152). The grant is now revoked.
    Replayed(GrantRecord),
    /// No such grant, a refresh secret the grant never had, expired, or revoked before: nothing changed.
    Refused,
}

/// One use of a grant's secret at the token endpoint, for [`super::Store::oidc_use_grants`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantOp {
    /// Redeem grant `id`'s code (hash `code_hash`) once, before its deadline: the grant becomes `active` with
    /// refresh token hash `refresh_hash` until `expires_at`.
    Redeem {
        /// The grant.
        id: String,
        /// SHA-256 of the presented code.
        code_hash: String,
        /// SHA-256 of the first refresh token.
        refresh_hash: String,
        /// When the grant (its refresh token) ends.
        expires_at: i64,
        /// The grant's data from now on, when the redemption records something in it (the DPoP key the code
        /// was redeemed with, RFC 9449 §5); `None` keeps it.
        data: Option<String>,
    },
    /// Rotate grant `id`'s refresh token from `old_hash` to `new_hash`.
    Rotate {
        /// The grant.
        id: String,
        /// SHA-256 of the presented refresh token.
        old_hash: String,
        /// SHA-256 of its successor.
        new_hash: String,
    },
}

/// A single-use value recorded together with a token-endpoint write (a client assertion's jti, a DPoP proof's),
/// with the same rules as [`super::Oidc::oidc_once_put`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnceRecord {
    /// What kind of value (`jti`).
    pub kind: String,
    /// The value's key.
    pub key: String,
    /// Until when it must not be used again.
    pub expires_at: i64,
}

/// One token request's writes, for [`super::Oidc::oidc_token_writes`]: the single-use values to record (the
/// client assertion's jti, the DPoP proof's), and the grant op to apply if every one of them was fresh (none
/// when the request was refused before reaching the grant).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenWrite {
    /// The client assertion's jti, recorded before the op.
    pub once: Option<OnceRecord>,
    /// The DPoP proof's jti (RFC 9449 §11.1), recorded before the op like `once`.
    pub dpop: Option<OnceRecord>,
    /// The grant op.
    pub op: Option<GrantOp>,
}

/// What one [`TokenWrite`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenWritten {
    /// `false` when [`TokenWrite::once`] was taken already (a replay): the op was not applied.
    pub once_fresh: bool,
    /// `false` when [`TokenWrite::dpop`] was taken already (a replay): the op was not applied.
    pub dpop_fresh: bool,
    /// The op's outcome, if it was applied.
    pub grant: Option<GrantUse>,
}

/// One service of the authorization policy as the database keeps it (D22, D26): the TOML text of one
/// `[[service]]` table, parsed by the same strict parser as the services file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRecord {
    /// The service id.
    pub id: String,
    /// Listing order.
    pub position: i64,
    /// TOML of the service table.
    pub definition: String,
    /// Who last set it.
    pub updated_by: String,
    /// When.
    pub updated_at: i64,
}

/// The password throttle's schedule (D24, issue #24 item 8), handed to
/// [`PortalUsers::portal_login_attempt`](crate::PortalUsers::portal_login_attempt) so that the database decides and
/// records an attempt in one statement: after `free_failures` attempts an account waits `first_wait` seconds
/// after its last, doubling per further attempt up to `max_wait`; an attempt `forget_after` seconds after the
/// last counts afresh. The server's `portal::throttle` owns the numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Attempts allowed before waits start.
    pub free_failures: i64,
    /// The first wait, in seconds.
    pub first_wait: i64,
    /// The longest wait, in seconds.
    pub max_wait: i64,
    /// Idle seconds after which counting starts afresh.
    pub forget_after: i64,
}

/// Rows one sweep deleted, per table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepCounts {
    /// Ended (and notified) or expired SSO sessions.
    pub sessions: u64,
    /// Grants past their deadline.
    pub grants: u64,
    /// Expired single-use values (PAR requests, client assertion ids).
    pub once: u64,
    /// Expired card-login challenges nobody took.
    pub challenges: u64,
    /// Password-failure counts idle for longer than the grace period.
    pub login_failures: u64,
    /// Rate-limit windows older than the previous minute (no replica reads them).
    pub rate_limit_counts: u64,
    /// Signing requests a day past their deadline (issue #27 item 3).
    pub signing_requests: u64,
}

impl SweepCounts {
    /// How many tables the sweep deletes from.
    pub const TABLES: usize = 7;

    /// Rows deleted in all tables.
    pub fn total(&self) -> u64 {
        self.by_table().iter().map(|(_, n)| n).sum()
    }

    /// (table, rows) pairs, for metrics and output.
    pub fn by_table(&self) -> [(&'static str, u64); Self::TABLES] {
        [
            ("portal_sessions", self.sessions),
            ("oidc_grants", self.grants),
            ("oidc_once", self.once),
            ("login_challenges", self.challenges),
            ("portal_login_failures", self.login_failures),
            ("rate_limit_counts", self.rate_limit_counts),
            ("signing_requests", self.signing_requests),
        ]
    }
}

impl std::ops::AddAssign for SweepCounts {
    fn add_assign(&mut self, other: Self) {
        self.sessions += other.sessions;
        self.grants += other.grants;
        self.once += other.once;
        self.challenges += other.challenges;
        self.login_failures += other.login_failures;
        self.rate_limit_counts += other.rate_limit_counts;
        self.signing_requests += other.signing_requests;
    }
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
