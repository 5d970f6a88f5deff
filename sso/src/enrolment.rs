//! The second factor every account must have (MHLW guideline 6.0, two factors from FY2027; issue #48 item 2,
//! D161): the date after which it is required, the grace after it, and the walk-through that gives an account
//! whose TOTP secret nobody ever confirmed (`last_totp_step` 0: made by SCIM or by the help desk and never used)
//! its first confirmed one — a new secret, shown once to the person at the facility PC, confirmed by a code.
//!
//! No HTTP and no store here: the window is a function of the configured dates and the time passed in; the
//! offer is a sealed value the sign-in page carries (new secret, account, expiry), which is good once because the
//! store takes it only while no code of the account was ever accepted
//! ([`hcpki_ca::store::PortalUsers::portal_enrol_totp`]).

use crate::secret::{PortalSecret, SecretError};
use crate::totp;
use hcpki_model::UnixTime;
use zeroize::Zeroizing;

/// How long the person has to add the secret to an app and type its first code.
pub const OFFER_SECS: i64 = 600;

/// `[portal] second_factor_grace_days` when not set.
pub const DEFAULT_GRACE_DAYS: u32 = 30;

/// When accounts without a confirmed second factor may still enrol at sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnrolmentRule {
    /// The deadline (`[portal] second_factor_deadline`, the start of that day in Japan), if one is set.
    deadline: Option<UnixTime>,
    /// Days after the deadline the walk-through is still offered.
    grace_days: u32,
}

/// Whether the walk-through is offered at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Offered; it closes at `closes` (none: no deadline is set). `overdue`: the deadline has passed and the
    /// grace runs (the page says so).
    Open { closes: Option<UnixTime>, overdue: bool },
    /// The grace ended at `since`: the account is refused until the help desk resets its second factor.
    Closed { since: UnixTime },
}

impl EnrolmentRule {
    /// The rule of a deadline (start of its day in Japan, if any) and grace days (at most 3650).
    pub fn new(deadline: Option<UnixTime>, grace_days: u32) -> Self {
        Self { deadline, grace_days: grace_days.min(3650) }
    }

    /// The deadline, if one is set.
    pub fn deadline(&self) -> Option<UnixTime> {
        self.deadline
    }

    /// The end of the grace, if a deadline is set.
    pub fn closes(&self) -> Option<UnixTime> {
        self.deadline.map(|d| UnixTime::from_secs(d.as_secs() + i64::from(self.grace_days) * 86_400))
    }

    /// The window at `now`.
    pub fn at(&self, now: UnixTime) -> Window {
        match (self.deadline, self.closes()) {
            (Some(_), Some(closes)) if now >= closes => Window::Closed { since: closes },
            (Some(deadline), closes) => Window::Open { closes, overdue: now >= deadline },
            _ => Window::Open { closes: None, overdue: false },
        }
    }
}

/// The start, in Japan (UTC+9, no daylight saving), of the day `date` (`YYYY-MM-DD`), as the configuration
/// names the deadline; `None` when it is not such a date.
pub fn start_of_day_in_japan(date: &str) -> Option<UnixTime> {
    const JST_SECS: i64 = 9 * 3600;
    let (y, rest) = date.split_once('-')?;
    let (m, d) = rest.split_once('-')?;
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > days_in_month {
        return None;
    }
    Some(UnixTime::from_secs(days_from_civil(y, m, d) * 86_400 - JST_SECS))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the well-known era-based conversion).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A new secret offered to one account at one facility PC until `expires`.
pub struct Offer {
    /// The account.
    pub username: String,
    /// The serial of the facility PC's certificate the offer was made to: it is taken only from that PC.
    pub pc: String,
    /// The new TOTP secret (shown once, stored only once confirmed).
    pub secret: Zeroizing<Vec<u8>>,
    /// When the offer lapses.
    pub expires: UnixTime,
}

impl std::fmt::Debug for Offer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Offer")
            .field("username", &self.username)
            .field("pc", &self.pc)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// Why an offer the page carried back is not taken.
#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    /// Past its ten minutes.
    #[error("the set-up page was open too long: sign in again to get a new one")]
    Expired,
    /// Not sealed by this portal for this account at this PC (altered, another account's, another PC's).
    #[error("the set-up page does not belong to this account at this PC: sign in again")]
    Foreign,
    /// The sealing failed (ours).
    #[error("the set-up could not be prepared: {0}")]
    Secret(#[from] SecretError),
}

impl Offer {
    /// A new secret for `username` at the PC of certificate `pc`, good for [`OFFER_SECS`] from `now`.
    pub fn new(username: &str, pc: &str, now: UnixTime) -> Result<Self, OfferError> {
        let secret = hcpki_pkix::keys::random_secret(totp::SECRET_LEN)
            .map_err(|e| OfferError::Secret(SecretError::Crypto(e.to_string())))?;
        let expires = UnixTime::from_secs(now.as_secs() + OFFER_SECS);
        Ok(Self { username: username.to_owned(), pc: pc.to_owned(), secret, expires })
    }

    /// What the seal binds: the account and the PC.
    fn bound_to(username: &str, pc: &str) -> String {
        format!("{username}\0{pc}")
    }

    /// The offer as the page carries it: expiry and secret sealed under the portal secret, bound to the account
    /// and the PC.
    pub fn seal(&self, secret: &PortalSecret) -> Result<String, OfferError> {
        let mut plain = Zeroizing::new(self.expires.as_secs().to_be_bytes().to_vec());
        plain.extend_from_slice(&self.secret);
        Ok(secret.seal_enrolment(&Self::bound_to(&self.username, &self.pc), &plain)?)
    }

    /// The offer `sealed` for `username` at the PC of certificate `pc`, if this portal sealed it for both and it
    /// has not lapsed at `now`.
    pub fn open(
        secret: &PortalSecret,
        username: &str,
        pc: &str,
        sealed: &str,
        now: UnixTime,
    ) -> Result<Self, OfferError> {
        let plain = secret.open_enrolment(&Self::bound_to(username, pc), sealed).map_err(|_| OfferError::Foreign)?;
        let (expires, key) = plain.split_at_checked(8).ok_or(OfferError::Foreign)?;
        let expires = UnixTime::from_secs(i64::from_be_bytes(expires.try_into().map_err(|_| OfferError::Foreign)?));
        if key.len() != totp::SECRET_LEN {
            return Err(OfferError::Foreign);
        }
        if now >= expires {
            return Err(OfferError::Expired);
        }
        Ok(Self { username: username.to_owned(), pc: pc.to_owned(), secret: Zeroizing::new(key.to_vec()), expires })
    }

    /// The secret as authenticator apps take it typed in: base32 in groups of four.
    pub fn typed_key(&self) -> String {
        let b32 = totp::base32(&self.secret);
        b32.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
    }

    /// The `otpauth://` URI of the secret (for a QR code or a phone's link).
    pub fn uri(&self, issuer: &str) -> String {
        totp::otpauth_uri(issuer, &self.username, &self.secret)
    }

    /// The step of `typed` if it is a code of the offered secret at `now` (within one step either side).
    pub fn confirms(&self, typed: &str, now: UnixTime) -> Option<i64> {
        totp::matching_step(&self.secret, typed, now.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> UnixTime {
        UnixTime::from_secs(s)
    }

    #[test]
    fn deadline_dates_are_the_start_of_the_day_in_japan() {
        // 2027-04-01T00:00+09:00 = 2027-03-31T15:00Z.
        assert_eq!(start_of_day_in_japan("2027-04-01"), Some(t(1_806_505_200)));
        assert_eq!(start_of_day_in_japan("1970-01-01"), Some(t(-9 * 3600)));
        assert_eq!(start_of_day_in_japan("2028-02-29").map(|d| d.as_secs() % 86_400), Some(15 * 3600));
        for bad in ["2027-02-29", "2027-13-01", "2027-04-00", "2027-4-1", "27-04-01", "2027/04/01", "", "2027-04-01T"] {
            assert_eq!(start_of_day_in_japan(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_window_is_open_until_the_grace_ends() {
        assert_eq!(EnrolmentRule::new(None, 30).at(t(5)), Window::Open { closes: None, overdue: false });
        let rule = EnrolmentRule::new(Some(t(1_000_000)), 2);
        let closes = t(1_000_000 + 2 * 86_400);
        assert_eq!(rule.at(t(999_999)), Window::Open { closes: Some(closes), overdue: false });
        assert_eq!(rule.at(t(1_000_000)), Window::Open { closes: Some(closes), overdue: true });
        assert_eq!(rule.at(closes), Window::Closed { since: closes });
        assert_eq!(EnrolmentRule::new(Some(t(7)), 0).at(t(7)), Window::Closed { since: t(7) });
    }

    #[test]
    fn an_offer_opens_only_for_its_account_unaltered_and_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let secret = PortalSecret::load_or_create(&dir.path().join("portal.secret")).unwrap();
        let now = t(1_800_000_000);
        let offer = Offer::new("alice", "0a1b", now).unwrap();
        let sealed = offer.seal(&secret).unwrap();
        let opened = Offer::open(&secret, "alice", "0a1b", &sealed, t(now.as_secs() + OFFER_SECS - 1)).unwrap();
        assert_eq!(*opened.secret, *offer.secret);
        let late = t(now.as_secs() + OFFER_SECS);
        assert!(matches!(Offer::open(&secret, "alice", "0a1b", &sealed, late), Err(OfferError::Expired)));
        assert!(matches!(Offer::open(&secret, "bob", "0a1b", &sealed, now), Err(OfferError::Foreign)));
        assert!(matches!(Offer::open(&secret, "alice", "0a1c", &sealed, now), Err(OfferError::Foreign)));
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert!(matches!(Offer::open(&secret, "alice", "0a1b", &altered, now), Err(OfferError::Foreign)));
        // A stored TOTP secret's seal is not an offer (another label), nor the other way round.
        let stored = secret.seal("alice", &[0u8; 28]).unwrap();
        assert!(matches!(Offer::open(&secret, "alice", "", &stored, now), Err(OfferError::Foreign)));
        assert!(secret.open("alice", &sealed).is_err());
        let code = totp::code(&offer.secret, totp::step_at(now.as_secs()));
        assert_eq!(offer.confirms(&format!("{code:06}"), now), Some(totp::step_at(now.as_secs())));
        assert_eq!(offer.typed_key().replace(' ', "").len(), 32);
    }
}
