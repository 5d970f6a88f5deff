//! The password + TOTP sign-in as a decision over typed inputs (issue #25, step 4): the parsed form, the
//! facility of the connection and the time in; the session to create (with its audit entry) or the refusal out.
//! No axum, no headers: the adapter (`portal/handlers.rs`) parses the form, finds the connection's facility,
//! ends the browser's previous session and makes the new one, and turns a refusal into its page.
//!
//! The refusals are audited here, through the group-committed refusal writer, as the OIDC cores audit theirs.

use super::login_form::{Enrolment, PasswordLogin};
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::{Actor, PortalUsers, ScimAccounts};
use hcpki_model::UnixTime;
use hcpki_sso::accounts;
use hcpki_sso::catalog::Catalog;
use hcpki_sso::enrolment::{EnrolmentRule, Offer, OfferError, Window};
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
    /// Until when an account without a confirmed second factor may set one up at sign-in (D161).
    pub enrolment: &'a EnrolmentRule,
    /// The facility each account belongs to, if any: where it sets up its second factor (D175).
    pub accounts: &'a dyn ScimAccounts,
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
    /// The right password for an account whose second factor was never set up, at a facility PC and in time:
    /// no session yet, the set-up page with a new secret (D161).
    #[error("set up the second factor first")]
    MustEnrol {
        /// The new secret, for this account at this PC.
        offer: Offer,
        /// Until when set-up is offered.
        window: Window,
    },
    /// The set-up page's code is not one of the offered secret's: the page again, same offer.
    #[error("the code does not match the new secret: type the code the app shows now")]
    EnrolCode {
        /// The offer, unchanged.
        offer: Offer,
        /// Until when set-up is offered.
        window: Window,
    },
    /// The set-up page's offer lapsed, was altered, or was made for another account or PC.
    #[error("{0}")]
    Offer(OfferError),
    /// The account has a confirmed second factor now (the offer was used, or the person set it up elsewhere).
    #[error("the second factor is set up already: sign in with its code")]
    Enrolled,
    /// The grace after the deadline ended: the help desk must reset the account's second factor.
    #[error("the second-factor set-up period ended: ask the help desk to reset it")]
    EnrolmentClosed {
        /// When the grace ended.
        since: UnixTime,
    },
    /// Set-up is offered only at a facility PC (its certificate is the other thing the person has there).
    #[error("set up the second factor at a facility PC")]
    EnrolAtFacilityPc,
    /// The account belongs to a facility (its HR system made it over SCIM, D175): set-up is offered only at
    /// that facility's PCs.
    #[error("set up the second factor at a PC of your own facility")]
    EnrolAtOwnFacility,
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
        Err(accounts::NOT_ENROLLED) => {
            // The password was right: what is throttled next is the set-up's code (`enrol`).
            throttle::succeeded(ctx.store, username).await.map_err(Refused::unavailable)?;
            return Err(offer_enrolment(ctx, username, &actor, &facility, now).await);
        }
        Err(reason) => {
            let detail = json!({ "credential": "password-totp", "reason": reason, "facility": facility_id });
            ctx.refusals.record(&actor, "portal.login", username, detail).await;
            return Err(if reason == accounts::CODE_USED { Refused::CodeUsed } else { Refused::Credentials });
        }
    };
    throttle::succeeded(ctx.store, username).await.map_err(Refused::unavailable)?;
    signed_in(ctx, subject, person_key, facility, now, actor, json!({})).await
}

/// The right password of an account never set up: a new secret for this PC if set-up is open (the refusal
/// audited either way, with why).
async fn offer_enrolment(ctx: Context<'_>, username: &str, actor: &str, facility: &LoginFacility, now: i64) -> Refused {
    let facility_id = facility.context.as_ref().map(|f| f.id.to_string());
    let at = UnixTime::from_secs(now);
    let own = match at_own_facility(ctx, username, facility).await {
        Ok(own) => own,
        Err(e) => return e,
    };
    let (reason, refused) = match (ctx.enrolment.at(at), facility.certificate.as_deref()) {
        (Window::Closed { since }, _) => ("second-factor-enrolment-closed", Refused::EnrolmentClosed { since }),
        (_, None) => ("second-factor-enrolment-needs-facility-pc", Refused::EnrolAtFacilityPc),
        (Window::Open { .. }, Some(_)) if !own => {
            ("second-factor-enrolment-other-facility", Refused::EnrolAtOwnFacility)
        }
        (window @ Window::Open { .. }, Some(pc)) => match Offer::new(username, pc, at) {
            Ok(offer) => ("second-factor-enrolment-offered", Refused::MustEnrol { offer, window }),
            Err(e) => return Refused::unavailable(e),
        },
    };
    let detail = json!({ "credential": "password-totp", "reason": reason, "facility": facility_id });
    ctx.refusals.record(actor, "portal.login", username, detail).await;
    refused
}

/// The set-up page's confirmation (`POST /login/enrol`): throttled like a sign-in; at the facility PC the offer
/// was made to, in time, with a code of the offered secret, the account takes it as its first confirmed second
/// factor (once: the store takes it only while none was ever confirmed) and the person is signed in.
pub async fn enrol(ctx: Context<'_>, form: &Enrolment, facility: LoginFacility, now: i64) -> Result<SignedIn, Refused> {
    let username = form.username.as_str();
    let actor = format!("portal:pwd:{username}");
    let facility_id = facility.context.as_ref().map(|f| f.id.to_string());
    let refuse = |reason: &'static str| {
        let detail = json!({ "credential": "password-totp", "reason": reason, "facility": facility_id.clone() });
        (detail, reason)
    };
    if let Err(wait) = throttle::attempt(ctx.store, username, now).await.map_err(Refused::unavailable)? {
        let detail = json!({ "credential": "password-totp", "reason": "throttled", "retry_after": wait });
        ctx.refusals.record(&actor, "portal.enrol", username, detail).await;
        return Err(Refused::Throttled { wait });
    }
    let at = UnixTime::from_secs(now);
    let window = ctx.enrolment.at(at);
    let own = at_own_facility(ctx, username, &facility).await?;
    let outcome = match (window, facility.certificate.as_deref()) {
        (Window::Closed { since }, _) => Err((refuse("closed"), Refused::EnrolmentClosed { since })),
        (_, None) => Err((refuse("needs-facility-pc"), Refused::EnrolAtFacilityPc)),
        (Window::Open { .. }, Some(_)) if !own => Err((refuse("other-facility"), Refused::EnrolAtOwnFacility)),
        (Window::Open { .. }, Some(pc)) => match Offer::open(ctx.secret, username, pc, &form.offer, at) {
            Err(OfferError::Expired) => Err((refuse("offer-expired"), Refused::Offer(OfferError::Expired))),
            Err(e) => Err((refuse("offer-foreign"), Refused::Offer(e))),
            Ok(offer) => match offer.confirms(&form.totp, at) {
                None => Err((refuse("wrong-code"), Refused::EnrolCode { offer, window })),
                Some(step) => Ok((offer, step)),
            },
        },
    };
    let (offer, step) = match outcome {
        Ok(confirmed) => confirmed,
        Err(((detail, _), refused)) => {
            ctx.refusals.record(&actor, "portal.enrol", username, detail).await;
            return Err(refused);
        }
    };
    let sealed = ctx.secret.seal(username, &offer.secret).map_err(Refused::unavailable)?;
    let by = Actor(actor.clone());
    let taken = ctx.store.portal_enrol_totp(username, &sealed, step, &by, at).await.map_err(Refused::unavailable)?;
    let user = match ctx.store.portal_user(username).await.map_err(Refused::unavailable)? {
        Some(user) if taken && user.disabled_at.is_none() => user,
        _ => {
            ctx.refusals.record(&actor, "portal.enrol", username, refuse("enrolled-already").0).await;
            return Err(Refused::Enrolled);
        }
    };
    throttle::succeeded(ctx.store, username).await.map_err(Refused::unavailable)?;
    let (subject, person_key) = accounts::signed_in_as(user);
    signed_in(ctx, subject, person_key, facility, now, actor, json!({ "second_factor_enrolled": true })).await
}

/// Whether `facility` (the sign-in's PC) may set up `username`'s second factor as far as the account's own
/// facility goes (D175): an account of a facility — its HR system made it over SCIM, or the help desk with
/// `--facility` — at that facility's PCs only, so the new key is handed over where the facility that vouches
/// for the person stands; an account of no facility at any facility PC (D166).
async fn at_own_facility(ctx: Context<'_>, username: &str, facility: &LoginFacility) -> Result<bool, Refused> {
    let Some(own) = ctx.accounts.scim_account_facility(username).await.map_err(Refused::unavailable)? else {
        return Ok(true);
    };
    Ok(facility.context.as_ref().is_some_and(|f| f.id == own))
}

/// The session of a good password + TOTP sign-in and its `portal.login` entry (`extra` joins its detail).
async fn signed_in(
    ctx: Context<'_>,
    subject: hcpki_sso::policy::Subject,
    person_key: String,
    facility: LoginFacility,
    now: i64,
    actor: String,
    extra: serde_json::Value,
) -> Result<SignedIn, Refused> {
    let facility_id = facility.context.as_ref().map(|f| f.id.to_string());
    let target = person_key.strip_prefix("pwd:").unwrap_or(&person_key).to_owned();
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
    let mut detail = json!({ "credential": "password-totp", "facility": facility_id, "services": listing });
    if let (Some(d), Some(e)) = (detail.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    let entry = AuditEvent { actor, action: "portal.login".into(), target, outcome: Outcome::Ok, detail };
    Ok(SignedIn { session, entry })
}

#[cfg(test)]
mod tests;
