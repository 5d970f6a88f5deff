//! Passkeys in the portal as decisions over typed inputs (issue #48 item 1, D147, D157): who may register one,
//! what is kept of it, and a sign-in with one — the verified assertion, the account behind it still enabled,
//! the session to create with its audit entry. No axum: `portal/passkeys.rs` reads the requests and writes the
//! pages. The WebAuthn ceremonies themselves are `hcpki_sso::passkey`'s.
//!
//! A passkey belongs to a password + TOTP account (`pwd:<name>`): it is registered only from a session that
//! signed in with password and code (two factors, never one), and it signs that account in at
//! [`AssuranceLevel::Passkey`](hcpki_sso::policy::AssuranceLevel::Passkey) with the account's current role. The
//! session's `card_id` is `passkey:<credential id>`, so revoking the passkey ends the sessions it opened
//! ([`card_id`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::{PasskeyRecord, Passkeys, PortalUsers};
use hcpki_model::FacilityId;
use hcpki_sso::catalog::Catalog;
use hcpki_sso::facility::LoginFacility;
use hcpki_sso::passkey::{self, AssertionResponse, AttestationPolicy, NewCredential, PasskeyError, RelyingParty};
use hcpki_sso::policy::{self, Credential, HcRole, Subject};
use hcpki_sso::refusals::Refusals;
use hcpki_sso::session::{CredentialDetails, NewSession, Session};
use serde_json::json;

/// The audit action of a registration (allowed or refused).
pub const REGISTER: &str = "passkey.register";
/// The audit action of a sign-in with a passkey (allowed or refused).
pub const LOGIN: &str = "passkey.login";
/// The audit action of a rename.
pub const RENAME: &str = "passkey.rename";
/// The audit action of a revocation.
pub const REVOKE: &str = "passkey.revoke";
/// The longest name a person gives a passkey (characters).
pub const MAX_NAME_CHARS: usize = 64;

/// The session `card_id` of sessions a passkey opened: what [`Sessions::end_sessions_for_card`] ends when it is
/// revoked.
///
/// [`Sessions::end_sessions_for_card`]: hcpki_sso::session::Sessions::end_sessions_for_card
pub fn card_id(credential_id: &str) -> String {
    format!("passkey:{credential_id}")
}

/// Why a session may not register a passkey.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MayNotRegister {
    /// A card login: the card is the stronger way in, and a passkey would carry none of its qualification.
    #[error("passkeys are for staff accounts signed in with password and code: card holders sign in with the card")]
    CardLogin,
    /// A passkey login: a new passkey must rest on the account's password and code, not on another passkey (a
    /// stolen, unlocked device could otherwise add its thief's key).
    #[error("to add a passkey, sign out and sign in with your password and one-time code first")]
    PasskeyLogin,
    /// A password sign-in that is not a portal account's (none is today; kept so a new kind cannot slip in).
    #[error("this sign-in is not a staff account's: sign in with your user name, password and one-time code")]
    NotAnAccount,
}

/// Whether `session` may register a passkey: a password + TOTP sign-in of a `pwd:` account, acting as itself.
pub fn may_register(session: &Session) -> Result<(), MayNotRegister> {
    match session.subject.credential() {
        Credential::PasswordTotp if session.person_key.starts_with("pwd:") => Ok(()),
        Credential::PasswordTotp => Err(MayNotRegister::NotAnAccount),
        Credential::Passkey => Err(MayNotRegister::PasskeyLogin),
        Credential::Hpki | Credential::Jpki => Err(MayNotRegister::CardLogin),
    }
}

/// A passkey's name as typed: trimmed, 1 to [`MAX_NAME_CHARS`] characters, no control characters; empty
/// becomes `fallback`.
pub fn name(typed: &str, fallback: &str) -> Result<String, NameError> {
    let name = typed.trim();
    let name = if name.is_empty() { fallback } else { name };
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(NameError::TooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::Control);
    }
    Ok(name.to_owned())
}

/// Why a passkey name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Over [`MAX_NAME_CHARS`].
    #[error("the name is too long: at most {MAX_NAME_CHARS} characters")]
    TooLong,
    /// Control characters.
    #[error("the name contains control characters: type plain text")]
    Control,
}

/// What is kept of a credential `session`'s person registered at `now`.
pub fn record(session: &Session, credential: &NewCredential, name: String, now: i64) -> PasskeyRecord {
    PasskeyRecord {
        credential_id: credential.credential_id.clone(),
        person_key: session.person_key.clone(),
        user_handle: B64.encode(passkey::user_handle(&session.person_key)),
        subject_name: session.subject.name().to_owned(),
        subject_role: session.subject.role().map(|r| r.code().to_owned()),
        public_key: B64.encode(&credential.public_key),
        algorithm: credential.algorithm,
        sign_count: i64::from(credential.sign_count),
        backup_eligible: credential.backup_eligible,
        backup_state: credential.backup_state,
        transports: credential.transports.join(","),
        aaguid: hex::encode(credential.aaguid),
        attestation: credential.attestation.as_str().to_owned(),
        name,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    }
}

/// The audit entry of `person_key`'s act `action` on passkey `credential_id`.
pub fn event(
    person_key: &str,
    action: &str,
    credential_id: &str,
    outcome: Outcome,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        actor: format!("portal:{person_key}"),
        action: action.to_owned(),
        target: credential_id.to_owned(),
        outcome,
        detail,
    }
}

/// What a passkey sign-in reads besides its answer.
#[derive(Clone, Copy)]
pub struct Context<'a, S: PortalUsers + Passkeys + ?Sized> {
    /// The database (challenges, passkeys, accounts).
    pub store: &'a S,
    /// This portal as a relying party.
    pub rp: &'a RelyingParty,
    /// The services (the home page's decisions, recorded with the login).
    pub services: &'a Catalog,
    /// The audit entries of refusals.
    pub refusals: &'a Refusals,
}

pub use super::password_login::SignedIn;

/// Why a passkey sign-in started no session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// The ceremony refused the answer (its message says what to do).
    #[error(transparent)]
    Passkey(PasskeyError),
    /// The passkey's account is disabled or gone.
    #[error("the account of this passkey is disabled: ask the help desk")]
    AccountDisabled,
    /// Ours: the database or the services file.
    #[error("the portal cannot answer now: {0}")]
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
}

/// The rule on passkeys of the facility a ceremony happens at (D170): the one set for it, or any passkey when
/// none was set or the connection names no facility.
pub async fn facility_rule<S: Passkeys + ?Sized>(
    store: &S,
    facility: Option<&FacilityId>,
) -> Result<AttestationPolicy, hcpki_ca::store::StoreError> {
    let Some(facility) = facility else { return Ok(AttestationPolicy::None) };
    Ok(store.passkey_rule(facility).await?.map(|r| r.rule).unwrap_or_default())
}

/// Check a passkey sign-in answering the challenge of `binding` at `now` from `facility`: the ceremony (the
/// challenge taken once, the signature, the counter recorded with its `passkey.login` entry), then the account
/// still enabled, then the session to create. Every refusal is audited `passkey.login` (denied) with its code.
pub async fn sign_in<S: PortalUsers + Passkeys + ?Sized>(
    ctx: Context<'_, S>,
    binding: &str,
    answer: &AssertionResponse,
    facility: LoginFacility,
    now: i64,
) -> Result<SignedIn, Refused> {
    let facility_id = facility.context.as_ref().map(|f| f.id.to_string());
    let used = |stored: &PasskeyRecord, verified: &passkey::Verified| {
        let detail = json!({
            "sign_count": verified.sign_count,
            "backup_state": verified.backup_state,
            "facility": facility_id,
        });
        event(&stored.person_key, LOGIN, &stored.credential_id, Outcome::Ok, detail)
    };
    let rule = facility_rule(ctx.store, facility.context.as_ref().map(|f| &f.id))
        .await
        .map_err(|e| Refused::Unavailable(Box::new(e)))?;
    let (stored, _) = match passkey::sign_in(ctx.store, ctx.rp, binding, answer, &rule, used, now).await {
        Ok(done) => done,
        Err(PasskeyError::Store(e)) => return Err(Refused::Unavailable(Box::new(e))),
        Err(e) => {
            // The credential id is what the browser sent: bounded, as every refused value is.
            let target = hcpki_sso::refusals::named(Some(&answer.id));
            let detail = json!({ "reason": e.code(), "message": e.to_string(), "facility": facility_id });
            ctx.refusals.record("portal:anonymous", LOGIN, &target, detail).await;
            return Err(Refused::Passkey(e));
        }
    };
    let actor = format!("portal:{}", stored.person_key);
    let username = stored.person_key.strip_prefix("pwd:").unwrap_or_default();
    let account = ctx.store.portal_user(username).await.map_err(|e| Refused::Unavailable(Box::new(e)))?;
    let Some(account) = account.filter(|a| a.disabled_at.is_none()) else {
        let detail = json!({ "reason": "account-disabled", "facility": facility_id });
        ctx.refusals.record(&actor, LOGIN, &stored.credential_id, detail).await;
        return Err(Refused::AccountDisabled);
    };
    let role = account.hc_role.as_deref().and_then(HcRole::from_code);
    let session = NewSession {
        subject: Subject::passkey(account.display_name, role),
        person_key: stored.person_key.clone(),
        facility: facility.context,
        credential: CredentialDetails {
            method: "passkey".into(),
            card_id: Some(card_id(&stored.credential_id)),
            certificate: None,
            facility_certificate: facility.certificate,
        },
        auth_time: now,
        card_not_after: None,
        facility_not_after: facility.not_after,
    };
    let services = ctx.services.current().await.map_err(|e| Refused::Unavailable(Box::new(e)))?;
    let listing = json!(policy::listing(&session.subject, session.facility.as_ref(), &services));
    let entry = AuditEvent {
        actor,
        action: "portal.login".into(),
        target: username.to_owned(),
        outcome: Outcome::Ok,
        detail: json!({
            "credential": "passkey",
            "passkey": stored.credential_id,
            "facility": facility_id,
            "services": listing,
        }),
    };
    Ok(SignedIn { session, entry })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_text_of_a_sensible_length() {
        assert_eq!(name("  受付のPC  ", "パスキー").unwrap(), "受付のPC");
        assert_eq!(name("", "パスキー").unwrap(), "パスキー");
        assert_eq!(name(&"あ".repeat(MAX_NAME_CHARS + 1), "x"), Err(NameError::TooLong));
        assert_eq!(name("a\u{7}b", "x"), Err(NameError::Control));
    }

    fn session(subject: Subject, person_key: &str) -> Session {
        Session {
            id_hash: "h".into(),
            person_key: person_key.into(),
            subject,
            facility_id: None,
            credential: CredentialDetails::default(),
            auth_time: 0,
            expires_at: 1,
            presence: false,
            lend: None,
            terminal: None,
        }
    }

    /// Registration rests on two factors of the account itself: never a card's sign-in, never another passkey's.
    #[test]
    fn only_a_password_and_code_sign_in_of_an_account_registers() {
        let staff = session(Subject::password_totp("受付", None), "pwd:clerk");
        assert_eq!(may_register(&staff), Ok(()));
        let by_passkey = session(Subject::passkey("受付", None), "pwd:clerk");
        assert_eq!(may_register(&by_passkey), Err(MayNotRegister::PasskeyLogin));
        let doctor = session(Subject::hpki("医師", Some(HcRole::MedicalDoctor)), "hpki:00:MEDIS:1");
        assert_eq!(may_register(&doctor), Err(MayNotRegister::CardLogin));
        let resident = session(Subject::jpki("住民"), "jpki:1");
        assert_eq!(may_register(&resident), Err(MayNotRegister::CardLogin));
        let odd = session(Subject::password_totp("?", None), "hpki:00:MEDIS:1");
        assert_eq!(may_register(&odd), Err(MayNotRegister::NotAnAccount));
    }

    #[test]
    fn a_passkey_session_opened_by_a_credential_names_it_as_its_card() {
        assert_eq!(card_id("AbC-_"), "passkey:AbC-_");
    }
}
