//! [`UnixTime`], the one time value hcpki passes around: a moment, counted in milliseconds since the Unix epoch
//! (D123). Seconds or milliseconds are chosen where a value leaves the program (a database column, an X.509
//! time, a JWT claim), never by the code in between.

use std::fmt;
use std::time::Duration;

/// A moment, as milliseconds since 1970-01-01T00:00:00Z (rustls's `UnixTime`, in the finer unit the audit log
/// records). Made by a [`crate::Clock`] or at an edge (`from_secs` for a stored seconds column, `from_millis` for
/// an audit time); read back with [`Self::as_secs`] or [`Self::as_millis`] at the edge that writes it.
///
/// Signed, like the database columns it maps to: a time before 1970 is representable (a corrupt row reads back as
/// what it holds, it does not panic), and arithmetic saturates instead of wrapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(i64);

impl UnixTime {
    /// 1970-01-01T00:00:00Z.
    pub const EPOCH: Self = Self(0);

    /// The moment `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// The moment `secs` seconds after the epoch (saturating far outside any real time).
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch, rounded down (towards the past, also before 1970): what a seconds column
    /// holds for this moment.
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This moment moved `d` later, saturating.
    pub fn plus(self, d: Duration) -> Self {
        Self(self.0.saturating_add(millis(d)))
    }

    /// This moment moved `d` earlier, saturating.
    pub fn minus(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(millis(d)))
    }

    /// How long after `earlier` this moment is; zero when it is not after it.
    pub fn since(self, earlier: Self) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }
}

/// `d` in whole milliseconds, saturating at `i64::MAX`.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl fmt::Display for UnixTime {
    /// Seconds and milliseconds since the epoch (`1700000000.250`), for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.as_secs(), self.0.rem_euclid(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_down_and_milliseconds_are_kept() {
        let t = UnixTime::from_millis(1_700_000_000_999);
        assert_eq!(t.as_secs(), 1_700_000_000);
        assert_eq!(t.as_millis(), 1_700_000_000_999);
        assert_eq!(UnixTime::from_secs(5).as_millis(), 5_000);
        // Before the epoch, down is towards the past, as the audit chain's `div_euclid` always did.
        assert_eq!(UnixTime::from_millis(-1).as_secs(), -1);
        assert_eq!(UnixTime::from_secs(i64::MAX).as_millis(), i64::MAX);
        assert_eq!(t.to_string(), "1700000000.999");
    }

    #[test]
    fn arithmetic_saturates() {
        let t = UnixTime::from_secs(100);
        assert_eq!(t.plus(Duration::from_secs(60)), UnixTime::from_secs(160));
        assert_eq!(t.minus(Duration::from_millis(1)).as_millis(), 99_999);
        assert_eq!(t.since(UnixTime::from_secs(40)), Duration::from_secs(60));
        assert_eq!(UnixTime::EPOCH.since(t), Duration::ZERO);
        assert_eq!(t.plus(Duration::MAX).as_millis(), i64::MAX);
        assert!(UnixTime::EPOCH < t);
    }
}
