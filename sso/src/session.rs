//! SSO sessions (D24): one login serves every relying service until it expires, the user logs out, or the
//! card that logged in is removed.
//!
//! The browser holds a random 256-bit id in a `__Host-` cookie (Secure, HttpOnly, SameSite=Lax, Path=/);
//! the database holds only its SHA-256, so a database reader cannot ride a session, and every replica sees
//! every session. A session is only ever made by [`Sessions::create`] after an explicit credential check:
//! a resumed TLS session, a facility certificate alone or a still-open connection never log anyone in.

use crate::lending::{self, ConsentRef, Lend, LendSecs, LendState};
use crate::policy::{FacilityContext, HcRole, Subject};
use crate::problem::Problem;
use crate::secret::PortalSecret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hcpki_ca::FacilityId;
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::{SessionAreas, SessionRecord, StoreError};
use hcpki_pkix::time::UnixTime;
use std::sync::Arc;

pub mod idle;
pub mod terminal;

use terminal::{Terminal, hash_id, sha256};

/// The session cookie. `__Host-`: only set over HTTPS, for this exact host, path `/` (RFC 6265bis §4.1.3.2).
pub const COOKIE: &str = "__Host-hcpki-session";

/// How long an ended or expired session's row is kept before the housekeeping deletes it (an access token, at
/// most 3600 s, `[portal] access_token_secs`, can outlive its grant's deadline, and introspection looks the grant
/// up). The cookie outlives its session by as much: a person who comes back after the session's time ran out is
/// told so (`ended_timeout`) instead of meeting a bare login page, and the cookie is gone when the row is. The
/// cookie names a session; it never extends one (the row's `expires_at` decides).
pub const KEPT_AFTER_END_SECS: i64 = 3600;

/// What a login proved, whichever way it happened (card or password + TOTP): the input of
/// [`Sessions::create`].
#[derive(Clone, Debug)]
pub struct NewSession {
    /// Who logged in.
    pub subject: Subject,
    /// A stable identifier of the person across logins (pairwise `sub` values are derived from it): e.g.
    /// `pwd:<username>`, or the card login's key (issuer + certificate subject identity).
    pub person_key: String,
    /// The facility of the connection, from its verified facility PC certificate, if any.
    pub facility: Option<FacilityContext>,
    /// How the credential was checked (audited and kept with the session).
    pub credential: CredentialDetails,
    /// When the credential was checked (Unix seconds): `auth_time`.
    pub auth_time: i64,
    /// The login certificate's notAfter (card logins): the session ends by then at the latest.
    pub card_not_after: Option<i64>,
    /// The facility PC certificate's notAfter, when the connection presented one: likewise.
    pub facility_not_after: Option<i64>,
}

/// The credential behind a session.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CredentialDetails {
    /// `password-totp`, `hpki-card`, `jpki-card`.
    pub method: String,
    /// The card's identifier, for [`Sessions::end_sessions_for_card`] (card logins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// The login certificate's serial (hex) and issuer, for card logins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The facility PC certificate's serial on the connection, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_certificate: Option<String>,
}

/// A live session.
#[derive(Clone, Debug)]
pub struct Session {
    /// SHA-256 (hex) of the cookie id; the key of grants made in this session.
    pub id_hash: String,
    /// The person.
    pub person_key: String,
    /// Who.
    pub subject: Subject,
    /// The facility at login (its current state is read from the registry at each decision).
    pub facility_id: Option<FacilityId>,
    /// How (card logins' audit, the card-removal hook, the person's sessions page).
    pub credential: CredentialDetails,
    /// When the credential was checked.
    pub auth_time: i64,
    /// When the session ends by itself.
    pub expires_at: i64,
    /// Whether the session lives on a card presence lease (the page hands [`presence_token`] to the agent).
    pub presence: bool,
    /// The lend of the card reader (D91), running or run out and not yet ended, if any.
    pub lend: Option<Lend>,
    /// The PC and browser the session was made on (D161); none for sessions made before.
    pub terminal: Option<Terminal>,
}

/// A session just made: what to send the browser.
#[derive(Debug)]
pub struct Created {
    /// The session.
    pub session: Session,
    /// The `Set-Cookie` header value.
    pub set_cookie: String,
    /// The session's CSRF token for forms (the card login's answer carries it, and the presence token derived
    /// from it).
    pub csrf: String,
    /// The `Set-Cookie` header value of the browser cookie the session is bound to ([`terminal`]): sent with
    /// [`Self::set_cookie`].
    pub set_browser_cookie: String,
}

/// The session store of the portal.
#[derive(Clone, Debug)]
pub struct Sessions {
    store: Arc<dyn SessionAreas>,
    secret: Arc<PortalSecret>,
    lifetime_secs: i64,
    presence_secs: Option<i64>,
    lend_secs: LendSecs,
    idle: idle::IdleLimit,
}

impl Sessions {
    /// Sessions in `store` lasting `lifetime_secs` unless ended, or their facility's own lifetime
    /// (`hcpki portal lifetime set`). With `presence_secs`, a card session also needs the card agent to
    /// renew its presence lease that often (D26).
    pub fn new(
        store: Arc<dyn SessionAreas>,
        secret: Arc<PortalSecret>,
        lifetime_secs: i64,
        presence_secs: Option<i64>,
    ) -> Self {
        Self { store, secret, lifetime_secs, presence_secs, lend_secs: LendSecs::DEFAULT, idle: idle::IdleLimit::OFF }
    }

    /// The same sessions locked after `idle` without a request (`[portal] idle_minutes`, D161).
    pub fn with_idle_limit(self, idle: idle::IdleLimit) -> Self {
        Self { idle, ..self }
    }

    /// The idle lock's limit.
    pub fn idle_limit(&self) -> idle::IdleLimit {
        self.idle
    }

    /// The same sessions with lends of the reader lasting `lend_secs` (`[portal] lend_secs`, D91).
    pub fn with_lend_secs(self, lend_secs: LendSecs) -> Self {
        Self { lend_secs, ..self }
    }

    /// How long a lend of the reader lasts.
    pub fn lend_secs(&self) -> LendSecs {
        self.lend_secs
    }

    /// The presence lease of card sessions, in seconds (None: card sessions have none).
    pub fn presence_secs(&self) -> Option<i64> {
        self.presence_secs
    }

    /// The card agent reports the session's card present: renew the lease; the session, if it is live.
    pub async fn renew_presence(&self, token: &str, card_id: &str, now: i64) -> Result<Option<Session>, SessionError> {
        let Some(secs) = self.presence_secs else { return Ok(None) };
        self.store
            .portal_renew_presence(&hash_id(token), card_id, UnixTime::from_secs(now + secs), UnixTime::from_secs(now))
            .await?
            .map(decode)
            .transpose()
    }

    /// The lifetime of a new session at `facility` (none: the configured default).
    async fn lifetime(&self, facility: Option<&FacilityContext>) -> Result<i64, SessionError> {
        match facility {
            Some(f) => Ok(self.store.portal_session_lifetime(&f.id).await?.unwrap_or(self.lifetime_secs)),
            None => Ok(self.lifetime_secs),
        }
    }

    /// Start a session for a login that has just been verified. `entry` is the login's audit event (outcome
    /// ok): it is written with the session in one transaction, its detail completed with the session's deadline,
    /// so no session exists without its entry. When no session can be made (a certificate of the login has
    /// expired, no randomness), the entry is written as denied with that reason instead. `now_ms` (Unix
    /// milliseconds) is when: the session's start and its entry's time. The session is bound to the PC whose TLS
    /// client certificate the login's connection presented (`pc_certificate`, DER) and to the browser
    /// ([`terminal`]).
    pub async fn create(
        &self,
        login: NewSession,
        pc_certificate: Option<&[u8]>,
        entry: AuditEvent,
        now_ms: i64,
    ) -> Result<Created, SessionError> {
        match self.start(login, pc_certificate, entry.clone(), now_ms).await {
            Err(e @ (SessionError::CertificateExpired | SessionError::Random(_) | SessionError::Damaged(_))) => {
                let mut denied = entry;
                denied.outcome = Outcome::Denied;
                if let Some(detail) = denied.detail.as_object_mut() {
                    detail.insert("reason".into(), e.to_string().into());
                }
                if let Err(store) = self.store.append_audit(&denied, UnixTime::from_millis(now_ms)).await {
                    tracing::error!(error = %store, action = denied.action, "cannot write the audit entry");
                }
                Err(e)
            }
            other => other,
        }
    }

    async fn start(
        &self,
        login: NewSession,
        pc_certificate: Option<&[u8]>,
        mut entry: AuditEvent,
        now_ms: i64,
    ) -> Result<Created, SessionError> {
        let raw = hcpki_pkix::keys::random_secret(32).map_err(|e| SessionError::Random(e.to_string()))?;
        let (bound, browser_cookie) =
            terminal::bind(pc_certificate).map_err(|e| SessionError::Random(e.to_string()))?;
        let id = B64.encode(raw.as_slice());
        let id_hash = hash_id(&id);
        let now = now_ms.div_euclid(1000);
        let lifetime = self.lifetime(login.facility.as_ref()).await?;
        let expires_at = deadline(now, lifetime, &[login.card_not_after, login.facility_not_after]);
        if expires_at <= now {
            return Err(SessionError::CertificateExpired);
        }
        if let Some(detail) = entry.detail.as_object_mut() {
            detail.insert("expires_at".into(), expires_at.into());
        }
        let csrf = self.secret.csrf_token(&id);
        // Card sessions under a presence lease: the agent's token is derived from the CSRF token (so the page
        // can hand it over without the database keeping it), only its hash is stored.
        // A passkey's session names its credential as `card_id` (so revoking it ends them, D157) but has no card
        // in a reader: no lease.
        let presence =
            self.presence_secs.filter(|_| login.credential.card_id.is_some() && login.subject.credential().is_card());
        let data = StoredData {
            name: login.subject.name().to_owned(),
            role: login.subject.role().map(|r| r.code().to_owned()),
            credential: credential_name(&login.subject).to_owned(),
            facility: login.facility.as_ref().map(|f| f.id.to_string()),
            details: login.credential.clone(),
            terminal: Some(bound.clone()),
        };
        let record = SessionRecord {
            id_hash: id_hash.clone(),
            person_key: login.person_key.clone(),
            card_id: login.credential.card_id.clone(),
            data: serde_json::to_string(&data).map_err(|e| SessionError::Damaged(e.to_string()))?,
            auth_time: login.auth_time,
            created_at: now,
            expires_at,
            ended_at: None,
            facility_id: login.facility.as_ref().map(|f| f.id.to_string()),
            end_reason: None,
            presence_hash: presence.map(|_| hash_id(&presence_token(&csrf))),
            presence_until: presence.map(|secs| now + secs),
            facility_serial: login.credential.facility_certificate.clone(),
            lend: None,
        };
        self.store.portal_create_session(&record, &entry, UnixTime::from_millis(now_ms)).await?;
        let max_age = expires_at - now + KEPT_AFTER_END_SECS;
        let set_cookie = format!("{COOKIE}={id}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}");
        let set_browser_cookie = terminal::set_cookie(&browser_cookie, max_age);
        let session = Session {
            id_hash,
            person_key: login.person_key,
            subject: login.subject,
            facility_id: login.facility.map(|f| f.id),
            credential: login.credential,
            auth_time: login.auth_time,
            expires_at: record.expires_at,
            presence: presence.is_some(),
            lend: None,
            terminal: Some(bound),
        };
        Ok(Created { session, set_cookie, csrf, set_browser_cookie })
    }

    /// The session a session cookie's value `id` names (none without a cookie), if it is live at `now` and not
    /// lent, with its CSRF token. A session whose reader is lent (D91) is nobody's to use: it is not returned
    /// (see [`Self::of_cookie_lent_ok`]).
    pub async fn of_cookie(&self, id: Option<&str>, now: i64) -> Result<Option<(Session, String)>, SessionError> {
        let found = self.of_cookie_any(id, now).await?;
        Ok(found.filter(|(s, _)| lending::state(s.lend.as_ref(), now) == LendState::NotLent))
    }

    /// The session a session cookie's value `id` names, if it is live at `now`, **lent or not** (a lend that ran
    /// out is over: not returned), with its CSRF token. Only the pages a lent session must keep serving use it:
    /// the consent pages (`/consent/*`), the lend's own endpoints and the card-removed report (D91). Whoever uses
    /// it decides what a lent session may do there; `session.lend` says whether it is lent.
    pub async fn of_cookie_lent_ok(
        &self,
        id: Option<&str>,
        now: i64,
    ) -> Result<Option<(Session, String)>, SessionError> {
        let found = self.of_cookie_any(id, now).await?;
        Ok(found.filter(|(s, _)| !matches!(lending::state(s.lend.as_ref(), now), LendState::RanOut(_))))
    }

    /// The session cookie's session live at `now` whatever its lend (running or run out): the lend guard's
    /// view, which ends run-out lends and pauses running ones.
    pub async fn of_cookie_any(&self, id: Option<&str>, now: i64) -> Result<Option<(Session, String)>, SessionError> {
        let Some(id) = id else { return Ok(None) };
        match self.store.portal_session(&hash_id(id), UnixTime::from_secs(now)).await? {
            Some(record) => Ok(Some((decode(record)?, self.secret.csrf_token(id)))),
            None => Ok(None),
        }
    }

    /// Lend the reader of card session `session` until `until` for `consent` (D91), appending `entry`
    /// (`session.lend`) with it at `now_ms`: the session as lent, or None when it cannot be lent any more
    /// (ended, lent meanwhile, its lease lapsed).
    pub async fn lend(
        &self,
        session: &Session,
        until: i64,
        consent: &ConsentRef,
        entry: &AuditEvent,
        now_ms: i64,
    ) -> Result<Option<Session>, SessionError> {
        let lent = self
            .store
            .portal_lend_session(
                &session.id_hash,
                UnixTime::from_secs(until),
                consent.as_str(),
                entry,
                UnixTime::from_millis(now_ms),
            )
            .await?;
        lent.map(decode).transpose()
    }

    /// Note that the login card of the lent session `id_hash` was reported out at `now`: the session, if its
    /// lend runs.
    pub async fn lend_card_out(&self, id_hash: &str, now: i64) -> Result<Option<Session>, SessionError> {
        self.store.portal_lend_card_out(id_hash, UnixTime::from_secs(now)).await?.map(decode).transpose()
    }

    /// End the running lend of `session` (its card is back), appending `entry` (`session.lend.return`) with it
    /// at `now_ms`; a session on a presence lease gets a fresh lease. The session, if its lend ran.
    pub async fn return_lend(
        &self,
        session: &Session,
        entry: &AuditEvent,
        now_ms: i64,
    ) -> Result<Option<Session>, SessionError> {
        let now = now_ms.div_euclid(1000);
        let lease = self.presence_secs.filter(|_| session.presence).map(|secs| now.saturating_add(secs));
        self.store
            .portal_return_lend(&session.id_hash, lease.map(UnixTime::from_secs), entry, UnixTime::from_millis(now_ms))
            .await?
            .map(decode)
            .transpose()
    }

    /// End the sessions whose lend ran out by `now` (`lend-expired`, audited `session.lend.expired`): only
    /// `only`'s (the browser's next request; the caller sends its back-channel logout) or all (housekeeping;
    /// notified through the claim of ended sessions). The sessions ended.
    pub async fn end_lapsed_lends(&self, now: i64, only: Option<&str>) -> Result<Vec<Session>, SessionError> {
        self.store.portal_end_lapsed_lends(UnixTime::from_secs(now), only).await?.into_iter().map(decode).collect()
    }

    /// How the session a session cookie's value `id` names ended, if it ended without the person's own doing
    /// (D59): its time ran out, its card's presence lease lapsed, or an operator or a registry change (account,
    /// facility, PC certificate) ended it. `None` without a cookie, for a session the person ended (sign-out,
    /// the sessions page, the page's own card watch, which names the removal itself) and for one swept away.
    pub async fn ended_of_cookie(&self, id: Option<&str>, now: i64) -> Result<Option<Problem>, SessionError> {
        let Some(id) = id else { return Ok(None) };
        Ok(self.store.portal_session_record(&hash_id(id)).await?.and_then(|r| ended_problem(&r, now)))
    }

    /// The session whose id hash is `id_hash`, if it is live at `now`, lent or not (the session behind a
    /// grant: the console checks it on every request, D42, and tells a lent session's person that it is paused,
    /// D91).
    pub async fn live_lent_ok(&self, id_hash: &str, now: i64) -> Result<Option<Session>, SessionError> {
        self.store.portal_session(id_hash, UnixTime::from_secs(now)).await?.map(decode).transpose()
    }

    /// The sessions of `person_key` live at `now`, newest first.
    pub async fn of_person(&self, person_key: &str, now: i64) -> Result<Vec<Session>, SessionError> {
        self.store.portal_person_sessions(person_key, UnixTime::from_secs(now)).await?.into_iter().map(decode).collect()
    }

    /// End a session at `now`, recording `why` (the reason its `portal.logout` entry names) as its end reason:
    /// [`Self::ended_of_cookie`] tells the person's next visit when `why` was not their own doing (the card agent's
    /// `card-removed`); the session, if it was live.
    pub async fn end_because(&self, id_hash: &str, why: &str, now: i64) -> Result<Option<Session>, SessionError> {
        self.store.portal_end_session(id_hash, why, UnixTime::from_secs(now)).await?.map(decode).transpose()
    }

    /// End every live session of `person_key` the card `card_id` logged in (the card agent's card-removed
    /// event) at `now`: never another person's, whatever card id their session holds.
    pub async fn end_sessions_for_card(
        &self,
        person_key: &str,
        card_id: &str,
        now: i64,
    ) -> Result<Vec<Session>, SessionError> {
        self.store
            .portal_end_card_sessions(person_key, card_id, UnixTime::from_secs(now))
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }
}

/// The end reason of a session ended because a refresh token of one of its grants was reused (D152).
pub const REFRESH_REUSED: &str = "refresh-token-reused";

/// The end reason of a session ended because its cookie came from another PC or browser (D161).
pub const OTHER_TERMINAL: &str = "other-terminal";

/// The end reason of a session locked after its idle time (D161).
pub const IDLE: &str = "idle";

/// The end reason of a session the housekeeping ended past its absolute deadline (D175): its relying services
/// hear that it ended rather than infer it.
pub const EXPIRED: &str = "expired";

/// The problem of an ended session's record at `now` (see [`Sessions::ended_of_cookie`]).
fn ended_problem(record: &SessionRecord, now: i64) -> Option<Problem> {
    if record.ended_at.is_some() {
        return match record.end_reason.as_deref()? {
            // The lease lapsed, or the card agent reported the card removed with no page open (the page's
            // own card watch ends its sessions without a reason: it names the removal itself).
            // A lend of the reader that ran out without the card back (D91) is a card removal too.
            "presence-lapsed" | "card-removed" | "lend-expired" => Some(Problem::EndedCardRemoved),
            "ended-by-operator"
            | "account-disabled"
            | "facility-suspended"
            | "facility-retired"
            | "certificate-held"
            | "certificate-revoked" => Some(Problem::EndedByAdmin),
            REFRESH_REUSED => Some(Problem::EndedTokenReused),
            OTHER_TERMINAL => Some(Problem::EndedOtherTerminal),
            IDLE => Some(Problem::EndedIdle),
            EXPIRED => Some(Problem::EndedTimeout),
            _ => None,
        };
    }
    if record.expires_at <= now {
        return Some(Problem::EndedTimeout);
    }
    record.presence_until.filter(|until| *until <= now).map(|_| Problem::EndedCardRemoved)
}

/// The card agent's presence token of the session whose CSRF token is `csrf`.
pub fn presence_token(csrf: &str) -> String {
    B64.encode(sha256(format!("hcpki card presence\0{csrf}").as_bytes()))
}

/// When a session started at `now` for `lifetime` seconds ends: never after any of the certificates the
/// login rests on (`limits`: the card's and the facility PC's notAfter, where present) stops being valid.
pub fn deadline(now: i64, lifetime: i64, limits: &[Option<i64>]) -> i64 {
    limits.iter().flatten().fold(now.saturating_add(lifetime), |end, limit| end.min(*limit))
}

/// The `Set-Cookie` value that deletes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

fn credential_name(subject: &Subject) -> &'static str {
    match subject.credential() {
        crate::policy::Credential::Hpki => "hpki",
        crate::policy::Credential::Jpki => "jpki",
        crate::policy::Credential::PasswordTotp => "password-totp",
        crate::policy::Credential::Passkey => "passkey",
    }
}

/// What `portal_sessions.data` holds.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredData {
    name: String,
    role: Option<String>,
    credential: String,
    facility: Option<String>,
    details: CredentialDetails,
    /// Absent in sessions made before D161.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    terminal: Option<Terminal>,
}

/// A stored session record as a session (the token exchange and the consent API read the session behind a
/// grant so).
pub fn decode(record: SessionRecord) -> Result<Session, SessionError> {
    let data: StoredData = serde_json::from_str(&record.data).map_err(|e| SessionError::Damaged(e.to_string()))?;
    let role = match &data.role {
        Some(code) => Some(HcRole::from_code(code).ok_or_else(|| SessionError::Damaged(format!("role {code}")))?),
        None => None,
    };
    let subject = match data.credential.as_str() {
        "hpki" => Subject::hpki(data.name, role),
        "jpki" => Subject::jpki(data.name),
        "password-totp" => Subject::password_totp(data.name, role),
        "passkey" => Subject::passkey(data.name, role),
        other => return Err(SessionError::Damaged(format!("credential {other}"))),
    };
    let facility_id = match &data.facility {
        Some(id) => Some(id.parse().map_err(|_| SessionError::Damaged(format!("facility {id}")))?),
        None => None,
    };
    Ok(Session {
        id_hash: record.id_hash,
        person_key: record.person_key,
        subject,
        facility_id,
        credential: data.details,
        auth_time: record.auth_time,
        expires_at: record.expires_at,
        presence: record.presence_hash.is_some(),
        lend: record.lend.map(|l| Lend { until: l.until, lent_for: l.lent_for, card_out_at: l.card_out_at }),
        terminal: data.terminal,
    })
}

/// Why a session could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness.
    #[error("cannot make a session id: {0}")]
    Random(String),
    /// A stored session does not decode.
    #[error("stored session data is damaged: {0}")]
    Damaged(String),
    /// A certificate the login rests on is past its notAfter: log in with a valid card (or renew the PC's
    /// facility certificate).
    #[error("a certificate of this login has expired: use a valid card, or renew this PC's certificate")]
    CertificateExpired,
}

#[cfg(test)]
mod tests {
    use super::deadline;

    #[test]
    fn the_session_ends_with_the_first_certificate_to_expire() {
        assert_eq!(deadline(1000, 3600, &[None, None]), 4600, "no certificate: the lifetime");
        assert_eq!(deadline(1000, 3600, &[Some(2000), None]), 2000, "the card expires first");
        assert_eq!(deadline(1000, 3600, &[Some(9000), Some(1500)]), 1500, "the facility certificate first");
        assert_eq!(deadline(1000, 3600, &[Some(9000), Some(9999)]), 4600, "both outlive the lifetime");
        assert_eq!(deadline(1000, 3600, &[Some(900), None]), 900, "an expired card: already over");
    }
}
