//! The password + TOTP sign-in as a decision over typed inputs (issue #25, step 4): the parsed form, the
//! facility of the connection and the time in; the session to create (with its audit entry) or the refusal out.
//! No axum, no headers: the adapter (`portal/handlers.rs`) parses the form, finds the connection's facility,
//! ends the browser's previous session and makes the new one, and turns a refusal into its page.
//!
//! The refusals are audited here, through the group-committed refusal writer, as the OIDC cores audit theirs.

use super::login_form::PasswordLogin;
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::PortalUsers;
use hcpki_sso::accounts;
use hcpki_sso::catalog::Catalog;
use hcpki_sso::facility::LoginFacility;
use hcpki_sso::policy;
use hcpki_sso::refusals::Refusals;
use hcpki_sso::secret::PortalSecret;
use hcpki_sso::session::{CredentialDetails, NewSession};
use hcpki_sso::throttle;
use serde_json::json;

/// What the sign-in reads besides its form.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The database (accounts, throttle counts).
    pub store: &'a dyn PortalUsers,
    /// The portal secret (sealed TOTP secrets).
    pub secret: &'a PortalSecret,
    /// The services of the policy (the home page's decisions, recorded with the login).
    pub services: &'a Catalog,
    /// The audit entries of refusals.
    pub refusals: &'a Refusals,
}

/// Without the store (an area trait, not `Debug`): what a sign-in's log needs is the rest.
impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("services", &self.services)
            .field("refusals", &self.refusals)
            .finish_non_exhaustive()
    }
}

/// A good sign-in: the session to create and its `portal.login` entry (written with it, in one transaction).
#[derive(Debug)]
pub struct SignedIn {
    /// The session.
    pub session: NewSession,
    /// Its audit entry.
    pub entry: AuditEvent,
}

/// Why no session was started. The messages are what the person is shown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// Too many failed sign-ins of this account lately: the attempt waits before any password check.
    #[error("too many failed sign-ins for this account: wait {wait} s and try again")]
    Throttled {
        /// Seconds until the next attempt is checked.
        wait: i64,
    },
    /// Unknown or disabled account, wrong password or code (one message whatever failed; the audit entry says).
    #[error("wrong user name, password or code")]
    Credentials,
    /// The right password with a code of the account's that was already used: told apart (issue #45 item 4), as
    /// the person needs only the next code, and only someone who knows the password and holds a current code
    /// can learn it.
    #[error("this one-time code was already used: wait for the next one")]
    CodeUsed,
    /// The database (or the account's sealed secret) could not be read: ours, logged; the person retries.
    #[error("the portal cannot answer now: {0}")]
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
}

impl Refused {
    fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(e))
    }
}

/// Check a password + TOTP sign-in at `now` from `facility`: throttle first (counted before the password is
/// checked, so parallel guesses cannot all pass a check made before any of them was recorded), then the
/// account, then the session to create with the policy's decisions for the home page.
pub async fn sign_in(
    ctx: Context<'_>,
    form: &PasswordLogin,
    facility: LoginFacility,
    now: i64,
) -> Result<SignedIn, Refused> {
    let username = form.username.as_str();
    let actor = format!("portal:pwd:{username}");
    match throttle::attempt(ctx.store, username, now).await.map_err(Refused::unavailable)? {
        Ok(()) => {}
        Err(wait) => {
            let detail = json!({ "credential": "password-totp", "reason": "throttled", "retry_after": wait });
            ctx.refusals.record(&actor, "portal.login", username, detail).await;
            return Err(Refused::Throttled { wait });
        }
    }
    let checked = accounts::check(ctx.store, ctx.secret, &form.username, &form.password, &form.totp, now)
        .await
        .map_err(Refused::unavailable)?;
    let facility_id = facility.context.as_ref().map(|f| f.id.to_string());
    let (subject, person_key) = match checked {
        Ok(found) => found,
        Err(reason) => {
            let detail = json!({ "credential": "password-totp", "reason": reason, "facility": facility_id });
            ctx.refusals.record(&actor, "portal.login", username, detail).await;
            return Err(if reason == accounts::CODE_USED { Refused::CodeUsed } else { Refused::Credentials });
        }
    };
    throttle::succeeded(ctx.store, username).await.map_err(Refused::unavailable)?;
    let session = NewSession {
        subject,
        person_key,
        facility: facility.context,
        credential: CredentialDetails {
            method: "password-totp".into(),
            card_id: None,
            certificate: None,
            facility_certificate: facility.certificate,
        },
        auth_time: now,
        card_not_after: None,
        facility_not_after: facility.not_after,
    };
    let services = ctx.services.current().await.map_err(Refused::unavailable)?;
    // The home page's decisions for this login, recorded once here rather than on every page view.
    let listing = json!(policy::listing(&session.subject, session.facility.as_ref(), &services));
    let entry = AuditEvent {
        actor,
        action: "portal.login".into(),
        target: username.to_owned(),
        outcome: Outcome::Ok,
        detail: json!({ "credential": "password-totp", "facility": facility_id, "services": listing }),
    };
    Ok(SignedIn { session, entry })
}

#[cfg(test)]
mod tests;
