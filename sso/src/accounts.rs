//! Password + TOTP accounts (the `password-totp` assurance level, for staff without cards): argon2id
//! password hashes, TOTP secrets sealed under the portal secret (D24).

use crate::policy::{HcRole, Subject};
use crate::secret::{PortalSecret, SecretError};
use crate::totp;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use hcpki_ca::store::{Actor, PortalUser, PortalUsers, StoreError};
use hcpki_pkix::time::UnixTime;
use zeroize::Zeroizing;

/// Longest user name (the account rule: 1–64 of `a-z 0-9 . _ - @`).
pub const MAX_USERNAME: usize = 64;
/// Longest password, in bytes: set at creation and enforced at sign-in before argon2 runs, so that a
/// sign-in form cannot make the server hash megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A user name that follows the account rule: 1–[`MAX_USERNAME`] of `a-z 0-9 . _ - @`. Every account was
/// made through [`add`], so a name that does not parse names no account, and the sign-in refuses it before
/// any I/O (issue #24 item 5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// `name` if it follows the account rule.
    pub fn parse(name: &str) -> Option<Self> {
        let fits = !name.is_empty()
            && name.len() <= MAX_USERNAME
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-@".contains(&b));
        fits.then(|| Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new account, and the secret for the authenticator app (shown once).
#[derive(Debug)]
pub struct Added {
    /// The account.
    pub user: PortalUser,
    /// The raw TOTP secret.
    pub totp_secret: Zeroizing<Vec<u8>>,
}

/// Make and store an account, made by `actor` at `now_ms` (Unix milliseconds).
#[allow(clippy::too_many_arguments)] // the account's fields, who and when: a struct would only rename these
pub async fn add(
    store: &dyn PortalUsers,
    secret: &PortalSecret,
    username: &str,
    display_name: &str,
    role: Option<HcRole>,
    password: &[u8],
    actor: &Actor,
    now_ms: i64,
) -> Result<Added, AccountError> {
    let added = new_account(secret, username, display_name, role, password, actor, now_ms)?;
    if store.portal_user(username).await?.is_some() {
        return Err(AccountError::Exists(username.to_owned()));
    }
    store.portal_add_user(&added.user, actor, UnixTime::from_millis(now_ms)).await?;
    Ok(added)
}

/// [`add`] for an account of `facility` (D158): stored with its provisioning row, so the facility's SCIM client
/// (its HR system) sees and manages it.
#[allow(clippy::too_many_arguments)] // as add, and the facility
pub async fn add_in_facility(
    store: &dyn hcpki_ca::store::ScimAccounts,
    facility: &hcpki_ca::facility::FacilityId,
    secret: &PortalSecret,
    username: &str,
    display_name: &str,
    role: Option<HcRole>,
    password: &[u8],
    actor: &Actor,
    now_ms: i64,
) -> Result<Added, AccountError> {
    let added = new_account(secret, username, display_name, role, password, actor, now_ms)?;
    if !store.scim_account_add(&added.user, facility, None, actor, UnixTime::from_millis(now_ms)).await? {
        return Err(AccountError::Exists(username.to_owned()));
    }
    Ok(added)
}

/// An account checked and hashed, not yet stored: what [`add`] stores, and what SCIM provisioning stores with
/// its facility (`crate::scim`).
#[allow(clippy::too_many_arguments)] // as add
pub fn new_account(
    secret: &PortalSecret,
    username: &str,
    display_name: &str,
    role: Option<HcRole>,
    password: &[u8],
    actor: &Actor,
    now_ms: i64,
) -> Result<Added, AccountError> {
    if Username::parse(username).is_none() {
        return Err(AccountError::Name(username.to_owned()));
    }
    let password_hash = hash_password(password)?;
    let totp_secret =
        hcpki_pkix::keys::random_secret(totp::SECRET_LEN).map_err(|e| AccountError::Hash(e.to_string()))?;
    let user = PortalUser {
        username: username.to_owned(),
        display_name: display_name.to_owned(),
        hc_role: role.map(|r| r.code().to_owned()),
        password_hash,
        totp_secret: secret.seal(username, &totp_secret)?,
        last_totp_step: 0,
        created_by: actor.as_str().to_owned(),
        created_at: now_ms.div_euclid(1000),
        disabled_at: None,
    };
    Ok(Added { user, totp_secret })
}

/// The shortest password accepted (D161: every password goes with a TOTP code, so no longer floor is forced).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The argon2id PHC string of a new password, checked for length ([`MIN_PASSWORD_CHARS`] characters to
/// [`MAX_PASSWORD_BYTES`]).
pub fn hash_password(password: &[u8]) -> Result<String, AccountError> {
    if password.len() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AccountError::LongPassword);
    }
    Ok(argon2::Argon2::default().hash_password(password).map_err(|e| AccountError::Hash(e.to_string()))?.to_string())
}

/// Check a password + TOTP login at `now`: the subject and the person key, or why not (for the audit log;
/// the person sees one message whatever failed).
pub async fn check(
    store: &dyn PortalUsers,
    secret: &PortalSecret,
    username: &Username,
    password: &str,
    code: &str,
    now: i64,
) -> Result<Result<(Subject, String), &'static str>, AccountError> {
    let Some(user) = store.portal_user(username.as_str()).await? else {
        // Hash anyway, so an unknown name takes as long as a wrong password.
        let _ = verify_password(DUMMY_HASH.to_owned(), password.to_owned()).await;
        return Ok(Err("unknown user"));
    };
    if user.disabled_at.is_some() {
        return Ok(Err("account disabled"));
    }
    if !verify_password(user.password_hash.clone(), password.to_owned()).await {
        return Ok(Err("wrong password"));
    }
    let totp_secret = secret.open(&user.username, &user.totp_secret)?;
    let Some(step) = totp::matching_step(&totp_secret, code, now) else {
        // No code typed, and no code of the account was ever accepted: its person may never have been shown its
        // secret (D161). A code typed is checked as one, whatever the account.
        return Ok(Err(if code.is_empty() && user.last_totp_step == 0 { NOT_ENROLLED } else { "wrong TOTP code" }));
    };
    if !store.portal_use_totp_step(&user.username, step).await? {
        return Ok(Err(CODE_USED));
    }
    Ok(Ok(signed_in_as(user)))
}

/// The subject and person key a password + TOTP sign-in of `user` gives.
pub fn signed_in_as(user: PortalUser) -> (Subject, String) {
    let role = user.hc_role.as_deref().and_then(HcRole::from_code);
    let person_key = format!("pwd:{}", user.username);
    (Subject::password_totp(user.display_name, role), person_key)
}

/// [`check`]'s refusal of the right password with no code for an account whose second factor was never
/// confirmed: the sign-in may walk its person through enrolment ([`crate::enrolment`]). Told apart like
/// [`CODE_USED`], and only to someone who knows the password.
pub const NOT_ENROLLED: &str = "second factor never confirmed";

/// The active accounts without a confirmed second factor (issue #48 item 2, D161): no one-time code ever accepted
/// (`last_totp_step` 0: the secret was made but nobody showed it works, e.g. a SCIM-provisioned account) and no
/// live passkey. They cannot sign in until they enrol; the help desk reaches them first. One query of the
/// accounts, one of each such account's passkeys (a help-desk list, not a hot path).
pub async fn not_ready(
    users: &dyn PortalUsers,
    passkeys: &dyn hcpki_ca::store::Passkeys,
) -> Result<Vec<PortalUser>, StoreError> {
    let mut found = Vec::new();
    for user in users.portal_users().await? {
        if user.disabled_at.is_some() || user.last_totp_step > 0 {
            continue;
        }
        let keys = passkeys.passkeys_of(&format!("pwd:{}", user.username)).await?;
        if keys.iter().all(|k| k.revoked_at.is_some()) {
            found.push(user);
        }
    }
    Ok(found)
}

/// [`check`]'s refusal of a code already used with the right password: the one refusal a sign-in page may tell
/// apart, as its person needs only the next code (issue #45 item 4).
pub const CODE_USED: &str = "TOTP code already used";

/// A real argon2id hash of a random password: what unknown names are checked against.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Qm3i8ED0hIX2iUwhUO2l3zrQhK3aZ8SvbA8b3hHPy0Q";

/// argon2 is slow on purpose: off the async threads.
async fn verify_password(hash: String, password: String) -> bool {
    let password = Zeroizing::new(password);
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Why an account could not be made or checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// Bad login name.
    #[error("user name {0:?}: use 1–64 of a-z 0-9 . _ - @")]
    Name(String),
    /// Too short a password.
    #[error("the password must have at least 12 characters")]
    WeakPassword,
    /// Too long a password (sign-in refuses longer ones before hashing them).
    #[error("the password must have at most 1024 bytes")]
    LongPassword,
    /// Taken.
    #[error("user {0} exists already: see `hcpki portal user list`")]
    Exists(String),
    /// Hashing or randomness failed.
    #[error("cannot hash the password: {0}")]
    Hash(String),
    /// The sealed TOTP secret does not open.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
