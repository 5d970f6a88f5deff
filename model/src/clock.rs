//! The clock, as an input: code that decides by the time takes a [`Clock`] (or the time itself) rather than
//! reading the system clock deep inside, so tests can fix it (kanidm passes `ct`, rustls a `TimeProvider`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::UnixTime;

/// Now, as a [`UnixTime`] (D123).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> UnixTime;

    /// Now, in Unix milliseconds (`self.now().as_millis()`), for code not yet passing a [`UnixTime`].
    fn now_unix_ms(&self) -> i64 {
        self.now().as_millis()
    }

    /// Now, in Unix seconds (`self.now().as_secs()`), for code not yet passing a [`UnixTime`].
    fn now_unix(&self) -> i64 {
        self.now().as_secs()
    }
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_millis(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0))
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug, Default)]
pub struct FixedClock {
    ms: AtomicI64,
}

impl FixedClock {
    /// A clock fixed at `unix` seconds.
    pub fn at(unix: i64) -> Self {
        Self { ms: AtomicI64::new(unix.saturating_mul(1000)) }
    }

    /// A clock fixed at `unix_ms` milliseconds.
    pub fn at_ms(unix_ms: i64) -> Self {
        Self { ms: AtomicI64::new(unix_ms) }
    }

    /// Move the clock forward (or back, with a negative count) by `secs` seconds.
    pub fn advance(&self, secs: i64) {
        self.ms.fetch_add(secs.saturating_mul(1000), Ordering::SeqCst);
    }

    /// Set the clock to `unix` seconds.
    pub fn set(&self, unix: i64) {
        self.ms.store(unix.saturating_mul(1000), Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_millis(self.ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_stands_still_until_moved() {
        let clock = FixedClock::at(1_700_000_000);
        assert_eq!(clock.now_unix(), 1_700_000_000);
        assert_eq!(clock.now_unix_ms(), 1_700_000_000_000);
        clock.advance(61);
        assert_eq!(clock.now_unix(), 1_700_000_061);
        clock.set(5);
        assert_eq!(clock.now_unix(), 5);
        assert_eq!(FixedClock::at_ms(1_999).now_unix(), 1);
    }

    #[test]
    fn system_clock_agrees_with_itself() {
        let clock = SystemClock;
        let (s, ms) = (clock.now_unix(), clock.now_unix_ms());
        assert!(s > 1_600_000_000);
        assert!((ms / 1000 - s).abs() <= 1);
    }
}
