//! Password-guessing throttle: after [`FREE_FAILURES`] failed logins of one account, each further attempt
//! must wait twice as long as the last (30 s, 60 s, 120 s, … up to [`MAX_WAIT`]); a success clears it. The
//! counts live in the database (`portal_login_failures`, migration 0010), so every replica sees the same
//! ones: N replicas behind a load balancer do not give a guesser N times the attempts (issue #9). An account
//! is never locked for good: a permanent lock-out would let anyone lock any physician out by guessing.
//!
//! An attempt is admitted and counted in one statement before the password is checked (issue #24 item 8),
//! [`attempt`]: a check followed by a separate write let parallel attempts all pass the check before any was
//! counted, so 20 concurrent guesses were 20 argon2 checks however far past the free ones they were.

use hcpki_ca::store::{LoginThrottle, PortalUsers, StoreError};
use hcpki_pkix::time::UnixTime;

/// Failures allowed before waits start.
const FREE_FAILURES: i64 = 5;
/// The longest wait, in seconds.
const MAX_WAIT: i64 = 900;
/// A failure this long after the last one counts afresh. Not longer than the housekeeping's grace period,
/// which deletes rows idle that long (the same hour).
pub const FORGET_AFTER: i64 = 3600;
/// The first wait, in seconds.
const FIRST_WAIT: i64 = 30;

/// The schedule the store applies when it admits an attempt ([`verdict`] is the same rule in Rust).
const SCHEDULE: LoginThrottle = LoginThrottle {
    free_failures: FREE_FAILURES,
    first_wait: FIRST_WAIT,
    max_wait: MAX_WAIT,
    forget_after: FORGET_AFTER,
};

/// Admit a sign-in attempt of `name` at `now`, counting it as a failure until [`succeeded`] says otherwise:
/// `Ok(Ok(()))` when it may go on to the password check, `Ok(Err(seconds to wait))` when it is throttled (and
/// nothing was recorded).
pub async fn attempt(store: &dyn PortalUsers, name: &str, now: i64) -> Result<Result<(), i64>, StoreError> {
    if store.portal_login_attempt(name, UnixTime::from_secs(now), &SCHEDULE).await?.is_some() {
        return Ok(Ok(()));
    }
    // Refused by the database: how long is left, for the page (a row changed since reads as 1 s).
    Ok(Err(check(store, name, now).await?.err().unwrap_or(1)))
}

/// `Ok(Err(seconds to wait))` while `name` is throttled at `now`, otherwise `Ok(Ok(()))`: for showing the
/// state (the console's user page); sign-ins use [`attempt`].
pub async fn check(store: &dyn PortalUsers, name: &str, now: i64) -> Result<Result<(), i64>, StoreError> {
    Ok(match store.portal_login_failures(name).await? {
        Some((count, last)) => verdict(count, last, now),
        None => Ok(()),
    })
}

/// Record a success: the account starts afresh.
pub async fn succeeded(store: &dyn PortalUsers, name: &str) -> Result<(), StoreError> {
    store.portal_login_succeeded(name).await
}

/// Whether an account with `count` failures, the last at `last`, may try again at `now`.
fn verdict(count: i64, last: i64, now: i64) -> Result<(), i64> {
    if count < FREE_FAILURES || now - last >= FORGET_AFTER {
        return Ok(());
    }
    let wait = wait_after(count);
    if now < last + wait { Err(last + wait - now) } else { Ok(()) }
}

fn wait_after(count: i64) -> i64 {
    let doublings = (count - FREE_FAILURES).clamp(0, 20);
    (FIRST_WAIT << doublings).min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_failures() {
        for count in 0..FREE_FAILURES {
            assert_eq!(verdict(count, 100, 100), Ok(()), "{count} failures are free");
        }
        assert_eq!(verdict(FREE_FAILURES, 100, 100), Err(30));
        assert_eq!(verdict(FREE_FAILURES, 100, 130), Ok(()));
        assert_eq!(verdict(FREE_FAILURES + 1, 130, 130), Err(60));
        assert_eq!(verdict(FREE_FAILURES + 2, 190, 200), Err(110));
        assert_eq!(verdict(1000, 0, 0), Err(MAX_WAIT), "capped");
        assert_eq!(verdict(1000, 0, FORGET_AFTER), Ok(()), "forgotten after an idle hour");
    }
}
