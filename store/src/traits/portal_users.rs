//! SSO portal users (issue #6, D24): password accounts, TOTP steps, sign-in throttling, card-login challenges.

use crate::error::StoreError;
use crate::records::Actor;
use crate::sso::{LoginChallengeRecord, LoginThrottle, PortalUser};
use hcpki_model::UnixTime;

/// SSO portal users (issue #6, D24): password accounts, TOTP steps, sign-in throttling, card-login challenges.
#[async_trait::async_trait]
pub trait PortalUsers: Send + Sync {
    /// Store a card-login challenge (not audited: the login it leads to is). Expired challenges nobody took
    /// are swept first, using `now`. A duplicate value is an error (32 random bytes never repeat).
    async fn put_login_challenge(&self, record: &LoginChallengeRecord, now: UnixTime) -> Result<(), StoreError>;

    /// Take a card-login challenge: deletes it and returns what was stored, in one statement, so a value is
    /// handed out once across all replicas. Returned even when expired (and then gone), so the caller can say
    /// "expired" rather than "unknown"; `None` when it never existed or was taken already.
    async fn take_login_challenge(&self, challenge: &str) -> Result<Option<LoginChallengeRecord>, StoreError>;

    /// Add a password + TOTP account, audited as `portal.user.add` ([`StoreError::Database`] if the name is
    /// taken: check with [`Self::portal_user`] first for a clear message).
    async fn portal_add_user(&self, user: &PortalUser, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// One account.
    async fn portal_user(&self, username: &str) -> Result<Option<PortalUser>, StoreError>;

    /// All accounts, by name.
    async fn portal_users(&self) -> Result<Vec<PortalUser>, StoreError>;

    /// Disable an account for good, audited as `portal.user.disable`; `false` if unknown or disabled already.
    /// Its live sessions end in the same transaction (reason `account-disabled`) and their grants are revoked;
    /// a server replica then sends their back-channel logout ([`Sessions::portal_claim_ended_sessions`](crate::Sessions::portal_claim_ended_sessions)).
    async fn portal_disable_user(&self, username: &str, actor: &Actor, at: UnixTime) -> Result<bool, StoreError>;

    /// Record TOTP step `step` as used, atomically: `true` only if it is later than the last used step (of
    /// two logins with the same code, exactly one wins).
    async fn portal_use_totp_step(&self, username: &str, step: i64) -> Result<bool, StoreError>;

    /// The help desk gives an active account a new TOTP secret (`sealed_secret`) that nobody confirmed yet (a
    /// lost phone; an account past D161's set-up period), audited as `portal.user.totp_reset`; its sessions go
    /// on. The person signs in with a code of the new secret, which confirms it. `false` if unknown or disabled.
    async fn portal_reset_totp(
        &self,
        username: &str,
        sealed_secret: &str,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// An account's first second factor (D161's walk-through): replace the sealed TOTP secret nobody confirmed
    /// with `sealed_secret` and record `step` (its first accepted code) as used, audited as
    /// `portal.user.totp_enrol` in the same transaction — only while the account is active and no code was ever
    /// accepted (`last_totp_step` 0), so an enrolment offer is good once; `false` otherwise.
    async fn portal_enrol_totp(
        &self,
        username: &str,
        sealed_secret: &str,
        step: i64,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// The failed password sign-ins recorded for `username`: (failures, time of the last), if any.
    async fn portal_login_failures(&self, username: &str) -> Result<Option<(i64, i64)>, StoreError>;

    /// Admit and record a password sign-in attempt of `username` at `now`, or refuse it, in one statement
    /// (issue #24 item 8): `Some(count)` when `throttle` lets it through (the attempt is counted as a failure
    /// before the password is checked, so parallel attempts cannot all pass a check made before any was
    /// recorded; a success forgets with [`Self::portal_login_succeeded`]), `None` when the account must wait
    /// (nothing recorded). Shared by every replica (issue #9).
    async fn portal_login_attempt(
        &self,
        username: &str,
        now: UnixTime,
        throttle: &LoginThrottle,
    ) -> Result<Option<i64>, StoreError>;

    /// Forget `username`'s failures (it signed in).
    async fn portal_login_succeeded(&self, username: &str) -> Result<(), StoreError>;

    /// An operator clears `username`'s failed sign-ins (the help desk lifting a throttle), audited as
    /// `portal.user.clear_lockout` in the same transaction; false when none were recorded.
    async fn portal_clear_login_failures(
        &self,
        username: &str,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<bool, StoreError>;
}
