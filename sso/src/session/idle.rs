//! The idle lock (issue #48 item 2, D161): the guideline's "long idle sessions must lock". Each answer to a
//! request in a session carries an activity stamp, the cookie [`SEEN_COOKIE`] = `<unix seconds>.<MAC>` (the MAC
//! under the portal secret over the session's id hash and the time, so it is neither forged nor moved to
//! another session). A request whose session was last used longer ago than the idle limit is not served: the
//! session is ended (`idle`) and the person signs in again, told why. The absolute limit (`session_hours`, the
//! certificates' notAfter) stays as it was.
//!
//! Why a cookie and not a column: the stamp is renewed on every request, and a write per page view would be a
//! write on the portal's hottest path (issue #52); the stamp is only as good as the browser that holds it, and
//! that browser is the session's own (the session is bound to it, [`super::terminal`]), so holding an old stamp
//! back only locks sooner. A request without a valid stamp counts from the login (`auth_time`).

use crate::secret::PortalSecret;

/// The activity stamp's cookie (`__Host-`, Secure, HttpOnly, SameSite=Lax, Path=/).
pub const SEEN_COOKIE: &str = "__Host-hcpki-seen";

/// `[portal] idle_minutes` when not set: the console's default, and the span the guideline's examples use.
pub const DEFAULT_IDLE_MINUTES: u32 = 30;

/// The idle limit: off, or 1 to 1440 minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdleLimit(Option<i64>);

impl IdleLimit {
    /// No idle lock.
    pub const OFF: Self = Self(None);

    /// `minutes` as configured (0: off; more than a day is a day).
    pub fn from_minutes(minutes: u32) -> Self {
        Self((minutes > 0).then(|| i64::from(minutes.min(1440)) * 60))
    }

    /// The limit in seconds, when on.
    pub fn secs(self) -> Option<i64> {
        self.0
    }
}

/// A session as the idle lock sees it.
#[derive(Clone, Copy, Debug)]
pub struct Activity<'a> {
    /// The session's id hash (the stamp's MAC is over it).
    pub id_hash: &'a str,
    /// Its login: the first use.
    pub auth_time: i64,
    /// Its own end (the stamp's cookie lasts no longer).
    pub expires_at: i64,
}

/// When the session was last used, from the request's stamp `cookie` (its time if it is this session's and not
/// in the future), else its login.
pub fn last_used(secret: &PortalSecret, session: Activity<'_>, cookie: Option<&str>, now: i64) -> i64 {
    let stamped = cookie.and_then(|c| c.split_once('.')).and_then(|(at, mac)| {
        let at: i64 = at.parse().ok()?;
        (at <= now && secret.activity_mac(session.id_hash, at) == mac).then_some(at)
    });
    stamped.unwrap_or(session.auth_time).max(session.auth_time)
}

/// Whether a request at `now` finds `session`, last used at `last_used`, locked under `limit`.
pub fn locked(limit: IdleLimit, last_used: i64, now: i64) -> bool {
    limit.secs().is_some_and(|secs| now - last_used >= secs)
}

/// How often at most a session's use is written to the database (`portal_sessions.seen_at`, D175): a sixth of
/// the limit, at least a minute. The housekeeping ends a session nobody used for the limit plus this, so it may
/// end one up to this much later than its next request would have; the request's own check stays exact.
pub fn seen_every(limit: IdleLimit) -> Option<i64> {
    limit.secs().map(|secs| (secs / 6).max(60))
}

/// Whether a request at `now` in a session last used at `last_used` writes its use: when it is the first in a
/// new [`seen_every`] period, so a session in use is written once a period and an idle one never.
pub fn seen_due(limit: IdleLimit, last_used: i64, now: i64) -> bool {
    seen_every(limit).is_some_and(|every| now.div_euclid(every) != last_used.div_euclid(every))
}

/// The last use before which the housekeeping ends a session at `now` as idle (none when the lock is off): the
/// written use lags the real one by less than [`seen_every`].
pub fn idle_before(limit: IdleLimit, now: i64) -> Option<i64> {
    Some(now - limit.secs()? - seen_every(limit)?)
}

/// The `Set-Cookie` value of the stamp "`session` used at `now`", kept no longer than the session
/// (`max_age`).
pub fn stamp(secret: &PortalSecret, session: Activity<'_>, now: i64) -> String {
    let mac = secret.activity_mac(session.id_hash, now);
    let max_age = (session.expires_at - now).max(0);
    format!("{SEEN_COOKIE}={now}.{mac}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

#[cfg(test)]
mod tests;
