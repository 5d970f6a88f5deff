//! Time as hcpki stores it (Unix seconds) and as X.509 encodes it.

use std::time::{Duration, UNIX_EPOCH};
use x509_cert::time::{Time, Validity};

/// Clock difference tolerated between the parties that set a deadline and those that check it, in seconds:
/// between a relying service and us (client-assertion times), and between two `hcpki serve` replicas (a code,
/// pushed request, card-login challenge or access token made on one and checked on another). Every such check
/// allows it once: database deadlines that another replica checks (and sweeps) are written this much later,
/// our own tokens' `exp` is checked with it. One minute, so replicas kept within ±30 s of each other (NTP
/// keeps them within milliseconds) lose nothing of a lifetime, and no more: a credential outlives its stated
/// lifetime by at most this (D41 addendum).
pub const CLOCK_LEEWAY_SECS: i64 = 60;

pub use hcpki_model::UnixTime;
pub use hcpki_model::clock::{Clock, FixedClock, SystemClock};

/// Now, from the system clock (for the command line; servers read their [`Clock`]).
pub fn now() -> UnixTime {
    SystemClock.now()
}

/// Now, in Unix seconds, from the system clock.
pub fn now_unix() -> i64 {
    SystemClock.now_unix()
}

/// Now, in Unix milliseconds, from the system clock.
pub fn now_unix_ms() -> i64 {
    SystemClock.now_unix_ms()
}

/// Unix seconds of an X.509 time.
pub fn unix(t: &Time) -> i64 {
    t.to_unix_duration().as_secs() as i64
}

/// A validity from `not_before` (Unix seconds) lasting `days`; UTCTime before 2050, GeneralizedTime after (RFC 5280 §4.1.2.5).
pub fn validity(not_before: i64, days: u32) -> der::Result<Validity> {
    let nb = UNIX_EPOCH + Duration::from_secs(not_before.max(0) as u64);
    let na = nb + Duration::from_secs(u64::from(days) * 86_400);
    Ok(Validity::new(Time::try_from(nb)?, Time::try_from(na)?))
}

/// RFC 3339 text of Unix seconds, for display.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// Unix seconds of an RFC 3339 time (`2027-03-31T23:59:59Z`), `None` if it is not one.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// A validity from `not_before` to `not_after` (both Unix seconds).
pub fn validity_until(not_before: i64, not_after: i64) -> der::Result<Validity> {
    let nb = UNIX_EPOCH + Duration::from_secs(not_before.max(0) as u64);
    let na = UNIX_EPOCH + Duration::from_secs(not_after.max(0) as u64);
    Ok(Validity::new(Time::try_from(nb)?, Time::try_from(na)?))
}

/// Unix seconds as an ASN.1 GeneralizedTime (OCSP writes every time this way, RFC 6960 §4.2.1).
pub fn generalized(unix: i64) -> der::Result<der::asn1::GeneralizedTime> {
    der::asn1::GeneralizedTime::from_unix_duration(Duration::from_secs(unix.max(0) as u64))
}
