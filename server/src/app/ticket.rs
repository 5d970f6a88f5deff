//! The console's signed cookies (D42): the sign-in session after a portal login, and the short-lived state of
//! a sign-in in progress. Both are `base64url(payload).base64url(HMAC-SHA256(key, label ‖ 0 ‖ payload))` with
//! a key derived from the deployment's enrollment key (like the CSRF key, D36), so every replica accepts every
//! other's cookies and nothing is stored for them. The session cookie names the OIDC grant of the sign-in;
//! what it may do is read from the database on every request (the grant, the portal session, the console
//! grant), so the cookie itself only says *which* sign-in, *since when* and *last seen when*.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hcpki_model::UnixTime;
use std::time::Duration;

/// The session cookie. `__Host-`: HTTPS only, this exact host, path `/` (RFC 6265bis §4.1.3.2).
pub const SESSION_COOKIE: &str = "__Host-hcpki-console";
/// The sign-in in progress (the PKCE verifier's seed): sent back on the portal's redirect.
pub const LOGIN_COOKIE: &str = "__Host-hcpki-console-login";
/// How long a sign-in may take at the portal, a card PIN entry included.
pub const LOGIN: Duration = Duration::from_secs(600);
const SESSION_LABEL: &[u8] = b"hcpki console session v1";
const LOGIN_LABEL: &[u8] = b"hcpki console login v1";

/// The cookie keys and the session lifetimes.
pub struct Tickets {
    key: hmac::Key,
    /// A session lasts at most this long from its sign-in.
    pub absolute: Duration,
    /// A session without a request for this long has ended.
    pub idle: Duration,
}

impl std::fmt::Debug for Tickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tickets").field("absolute", &self.absolute).field("idle", &self.idle).finish()
    }
}

/// A console session as its cookie says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// The OIDC grant of the sign-in (the portal session and the person are found through it).
    pub grant: String,
    /// When the person signed in to the console (whole seconds in the cookie).
    pub issued_at: UnixTime,
    /// The last request (whole seconds in the cookie).
    pub seen_at: UnixTime,
}

/// Why a cookie was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TicketError {
    /// Not a cookie this deployment made (forged, tampered with, or from another deployment).
    #[error("the console session cookie is not valid: sign in again")]
    Invalid,
    /// Past the session's absolute lifetime.
    #[error("the console session has reached its maximum length: sign in again")]
    Expired,
    /// No request for longer than the idle limit.
    #[error("the console session ended after a period without activity: sign in again")]
    Idle,
}

impl Tickets {
    /// Keys from the deployment's secret (`EnrollmentKey::derive_for("console session")`) and the lifetimes.
    pub fn new(secret: &[u8], absolute: Duration, idle: Duration) -> Self {
        Self { key: hmac::Key::new(hmac::HMAC_SHA256, secret), absolute, idle }
    }

    /// The session cookie's value.
    pub fn session(&self, t: &Ticket) -> String {
        let mut payload = t.issued_at.as_secs().to_be_bytes().to_vec();
        payload.extend_from_slice(&t.seen_at.as_secs().to_be_bytes());
        payload.extend_from_slice(t.grant.as_bytes());
        self.seal(SESSION_LABEL, &payload)
    }

    /// Read a session cookie at `now`: signature, absolute and idle lifetimes.
    pub fn read_session(&self, text: &str, now: UnixTime) -> Result<Ticket, TicketError> {
        let payload = self.open(SESSION_LABEL, text)?;
        let (times, grant) = payload.split_at_checked(16).ok_or(TicketError::Invalid)?;
        let (issued, seen) = times.split_at(8);
        let issued_at = UnixTime::from_secs(i64::from_be_bytes(issued.try_into().map_err(|_| TicketError::Invalid)?));
        let seen_at = UnixTime::from_secs(i64::from_be_bytes(seen.try_into().map_err(|_| TicketError::Invalid)?));
        let grant = String::from_utf8(grant.to_vec()).map_err(|_| TicketError::Invalid)?;
        if now >= issued_at.plus(self.absolute) {
            return Err(TicketError::Expired);
        }
        if now >= seen_at.plus(self.idle) {
            return Err(TicketError::Idle);
        }
        Ok(Ticket { grant, issued_at, seen_at })
    }

    /// `Set-Cookie` for a session seen at `now`: Max-Age is what is left of it. `SameSite=Strict`: the cookie
    /// never rides a request another site started (the sign-in's last step is a page of the console itself).
    pub fn set_session(&self, t: &Ticket, now: UnixTime) -> String {
        let end = t.issued_at.plus(self.absolute).min(now.plus(self.idle));
        format!(
            "{SESSION_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
            self.session(&Ticket { seen_at: now, ..t.clone() }),
            (end.as_secs() - now.as_secs()).max(0)
        )
    }

    /// The sign-in state cookie for `seed`, valid [`LOGIN`]. `SameSite=Lax`: it must come back on the
    /// portal's redirect, a top-level GET that another origin (the portal's listener) started.
    pub fn set_login(&self, seed: &[u8], now: UnixTime) -> String {
        let mut payload = now.plus(LOGIN).as_secs().to_be_bytes().to_vec();
        payload.extend_from_slice(seed);
        let value = self.seal(LOGIN_LABEL, &payload);
        format!("{LOGIN_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}", LOGIN.as_secs())
    }

    /// The seed of a sign-in state cookie, if it is this deployment's and unexpired.
    pub fn read_login(&self, text: &str, now: UnixTime) -> Result<Vec<u8>, TicketError> {
        let payload = self.open(LOGIN_LABEL, text)?;
        let (expiry, seed) = payload.split_at_checked(8).ok_or(TicketError::Invalid)?;
        let expiry = i64::from_be_bytes(expiry.try_into().map_err(|_| TicketError::Invalid)?);
        if now.as_secs() >= expiry { Err(TicketError::Expired) } else { Ok(seed.to_vec()) }
    }

    fn seal(&self, label: &[u8], payload: &[u8]) -> String {
        let tag = hmac::sign(&self.key, &message(label, payload));
        format!("{}.{}", B64.encode(payload), B64.encode(tag.as_ref()))
    }

    fn open(&self, label: &[u8], text: &str) -> Result<Vec<u8>, TicketError> {
        let (payload, tag) = text.trim().split_once('.').ok_or(TicketError::Invalid)?;
        let payload = B64.decode(payload).map_err(|_| TicketError::Invalid)?;
        let tag = B64.decode(tag).map_err(|_| TicketError::Invalid)?;
        hmac::verify(&self.key, &message(label, &payload), &tag).map_err(|_| TicketError::Invalid)?;
        Ok(payload)
    }
}

/// `Set-Cookie` values that delete the session and the sign-in state.
pub fn clear_cookies() -> [String; 2] {
    [SESSION_COOKIE, LOGIN_COOKIE].map(|name| format!("{name}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"))
}

fn message(label: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut m = label.to_vec();
    m.push(0);
    m.extend_from_slice(payload);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOURS_8: Duration = Duration::from_secs(8 * 3600);
    const MINUTES_30: Duration = Duration::from_secs(1800);

    fn at(secs: i64) -> UnixTime {
        UnixTime::from_secs(secs)
    }

    #[test]
    fn sessions_are_signed_and_expire() {
        let k = Tickets::new(b"one deployment", HOURS_8, MINUTES_30);
        let t = Ticket { grant: "g1".into(), issued_at: at(1000), seen_at: at(1000) };
        let v = k.session(&t);
        assert_eq!(k.read_session(&v, at(1000)), Ok(t.clone()));
        assert_eq!(k.read_session(&v, at(1000 + 1800)), Err(TicketError::Idle));
        let late = k.session(&Ticket { seen_at: at(1000 + 8 * 3600 - 10), ..t.clone() });
        assert_eq!(k.read_session(&late, at(1000 + 8 * 3600)), Err(TicketError::Expired));
        assert_eq!(Tickets::new(b"another", HOURS_8, MINUTES_30).read_session(&v, at(1000)), Err(TicketError::Invalid));
        // Another grant (or a later issue time) spliced onto the old tag does not verify.
        let (_, tag) = v.split_once('.').unwrap();
        let mut forged = 5000i64.to_be_bytes().to_vec();
        forged.extend_from_slice(&1000i64.to_be_bytes());
        forged.extend_from_slice(b"g1");
        assert_eq!(k.read_session(&format!("{}.{tag}", B64.encode(forged)), at(5000)), Err(TicketError::Invalid));
        assert_eq!(k.read_session("garbage", at(1000)), Err(TicketError::Invalid));
        // A login cookie is not a session cookie, nor the other way round.
        let login = k.set_login(b"seed", at(1000));
        let value = login.split_once('=').unwrap().1.split(';').next().unwrap();
        assert_eq!(k.read_login(value, at(1000)), Ok(b"seed".to_vec()));
        assert_eq!(k.read_login(value, at(1000).plus(LOGIN)), Err(TicketError::Expired));
        assert_eq!(k.read_session(value, at(1000)), Err(TicketError::Invalid));
        assert_eq!(k.read_login(&v, at(1000)), Err(TicketError::Invalid));
    }
}
