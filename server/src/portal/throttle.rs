//! Password-guessing throttle: after [`FREE_FAILURES`] failed logins of one account, each further attempt
//! must wait twice as long as the last (30 s, 60 s, 120 s, … up to [`MAX_WAIT`]); a success clears it. Kept in
//! memory per replica: an attacker spreading guesses over N replicas gets N times the rate, still
//! exponential (recorded in D24).

use std::collections::HashMap;
use std::sync::Mutex;

/// Failures allowed before waits start.
const FREE_FAILURES: u32 = 5;
/// The longest wait, in seconds.
const MAX_WAIT: i64 = 900;
/// Entries idle this long are forgotten.
const FORGET_AFTER: i64 = 3600;
/// Above this many entries, idle ones are pruned on the next failure.
const PRUNE_AT: usize = 10_000;

/// Failed logins per account name.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl Throttle {
    /// `Err(seconds to wait)` while `name` is throttled at `now`.
    pub fn check(&self, name: &str, now: i64) -> Result<(), i64> {
        let Ok(map) = self.failures.lock() else { return Ok(()) };
        match map.get(name) {
            Some((count, last)) if *count >= FREE_FAILURES => {
                let wait = wait_after(*count);
                if now < last + wait { Err(last + wait - now) } else { Ok(()) }
            }
            _ => Ok(()),
        }
    }

    /// Record a failure.
    pub fn failed(&self, name: &str, now: i64) {
        let Ok(mut map) = self.failures.lock() else { return };
        if map.len() > PRUNE_AT {
            map.retain(|_, (_, last)| now - *last < FORGET_AFTER);
        }
        let entry = map.entry(name.to_owned()).or_insert((0, now));
        if now - entry.1 >= FORGET_AFTER {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
    }

    /// Record a success: the account starts afresh.
    pub fn succeeded(&self, name: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(name);
        }
    }
}

/// The first wait, in seconds.
const FIRST_WAIT: i64 = 30;

fn wait_after(count: u32) -> i64 {
    let doublings = count.saturating_sub(FREE_FAILURES).min(20);
    (FIRST_WAIT << doublings).min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_failures() {
        let t = Throttle::default();
        for _ in 0..FREE_FAILURES {
            assert!(t.check("a", 100).is_ok());
            t.failed("a", 100);
        }
        assert_eq!(t.check("a", 100), Err(30));
        assert!(t.check("a", 130).is_ok());
        t.failed("a", 130);
        assert_eq!(t.check("a", 130), Err(60));
        assert!(t.check("b", 130).is_ok(), "other accounts are not affected");
        t.succeeded("a");
        assert!(t.check("a", 130).is_ok());
    }
}
