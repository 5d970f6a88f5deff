//! The events the transmitter sends and the Security Event Token that carries one (RFC 8417; SSF 1.0 §4): the
//! claims of a SET for one receiver, its subject as that receiver knows it.

use serde_json::{Value, json};

/// CAEP session revoked (CAEP 1.0 §3.1).
pub const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/// CAEP credential change (CAEP 1.0 §3.3).
pub const CREDENTIAL_CHANGE: &str = "https://schemas.openid.net/secevent/caep/event-type/credential-change";
/// RISC account disabled (RISC 1.0 §2.3).
pub const ACCOUNT_DISABLED: &str = "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
/// RISC account enabled (RISC 1.0 §2.4).
pub const ACCOUNT_ENABLED: &str = "https://schemas.openid.net/secevent/risc/event-type/account-enabled";
/// RISC account purged (RISC 1.0 §2.2).
pub const ACCOUNT_PURGED: &str = "https://schemas.openid.net/secevent/risc/event-type/account-purged";
/// SSF verification (SSF 1.0 §8.1.4.1).
pub const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";
/// SSF stream updated (SSF 1.0 §8.1.5).
pub const STREAM_UPDATED: &str = "https://schemas.openid.net/secevent/ssf/event-type/stream-updated";

/// The events a receiver may request (the SSF ones are always delivered).
pub const SUPPORTED: [&str; 5] =
    [SESSION_REVOKED, CREDENTIAL_CHANGE, ACCOUNT_DISABLED, ACCOUNT_ENABLED, ACCOUNT_PURGED];

/// The JWS `typ` of a SET (RFC 8417 §2.3; SSF 1.0 §4.1.2).
pub const SET_TYP: &str = "secevent+jwt";

/// Who ended a session, as CAEP's `initiating_entity` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Initiator {
    /// The person (logout, "log out everywhere", `/revoke` by the client on their behalf).
    User,
    /// An operator or the facility (help desk, de-provisioning, a facility suspended or retired).
    Admin,
    /// A rule (card removed, presence lapsed, a refresh token reused, a lend ran out).
    Policy,
    /// Anything else.
    System,
}

impl Initiator {
    /// The initiator of a session ended for `why` (the session's end reason).
    pub fn of(why: &str) -> Self {
        match why {
            "logout" | "ended-by-user" | "revoke" | "rp-logout" => Self::User,
            "ended-by-operator" | "account-disabled" | "facility-suspended" | "facility-retired"
            | "passkey-revoked" => Self::Admin,
            "card-removed" | "presence-lapsed" | "lend-expired" | "refresh-token-reused" | "idle" | "expired" => {
                Self::Policy
            }
            _ => Self::System,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
            Self::Policy => "policy",
            Self::System => "system",
        }
    }
}

/// A credential type of CAEP's credential-change event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A password.
    Password,
    /// A TOTP app.
    App,
    /// A passkey (a FIDO2 authenticator, platform or roaming: the portal does not tell them apart).
    Fido2,
}

/// What happened to the credential (CAEP's `change_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// A new credential.
    Create,
    /// A credential withdrawn.
    Revoke,
    /// A credential replaced.
    Update,
}

/// One event about a subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The session `sid` ended, for `why` (its end reason).
    SessionRevoked {
        /// The session's `sid`, as the client's ID tokens carried it.
        sid: String,
        /// The end reason.
        why: String,
    },
    /// A credential of the person changed.
    CredentialChange(Credential, Change),
    /// The account was disabled.
    AccountDisabled,
    /// The account was enabled again.
    AccountEnabled,
    /// The account was deleted.
    AccountPurged,
}

impl Event {
    /// The event type URI.
    pub fn uri(&self) -> &'static str {
        match self {
            Self::SessionRevoked { .. } => SESSION_REVOKED,
            Self::CredentialChange(..) => CREDENTIAL_CHANGE,
            Self::AccountDisabled => ACCOUNT_DISABLED,
            Self::AccountEnabled => ACCOUNT_ENABLED,
            Self::AccountPurged => ACCOUNT_PURGED,
        }
    }

    /// The SET's `sub_id` for the receiver that knows the person as `sub` (SSF 1.0 §3): the session's too
    /// where the event is about one (a complex subject, SSF 1.0 §3.3).
    fn subject(&self, issuer: &str, sub: &str) -> Value {
        let user = json!({ "format": "iss_sub", "iss": issuer, "sub": sub });
        match self {
            Self::SessionRevoked { sid, .. } => {
                json!({ "format": "complex", "user": user, "session": { "format": "opaque", "id": sid } })
            }
            _ => user,
        }
    }

    /// The event's members at `at` (Unix seconds).
    fn members(&self, at: i64) -> Value {
        match self {
            Self::SessionRevoked { why, .. } => json!({
                "event_timestamp": at,
                "initiating_entity": Initiator::of(why).as_str(),
                "reason_admin": { "en": why },
            }),
            Self::CredentialChange(credential, change) => json!({
                "event_timestamp": at,
                "credential_type": match credential {
                    Credential::Password => "password",
                    Credential::App => "app",
                    Credential::Fido2 => "fido2-roaming",
                },
                "change_type": match change {
                    Change::Create => "create",
                    Change::Revoke => "revoke",
                    Change::Update => "update",
                },
            }),
            Self::AccountDisabled | Self::AccountEnabled | Self::AccountPurged => json!({}),
        }
    }
}

/// The claims of a SET from `issuer` to the receiver `audience` (its client id) about the subject it knows as
/// `sub`, issued at `now` with id `jti` (RFC 8417 §2.2; SSF 1.0 §4.1: no `sub`, no `exp`).
pub fn set_claims(issuer: &str, audience: &str, jti: &str, now: i64, sub: &str, event: &Event) -> Value {
    json!({
        "iss": issuer,
        "aud": audience,
        "jti": jti,
        "iat": now,
        "sub_id": event.subject(issuer, sub),
        "events": { event.uri(): event.members(now) },
    })
}

/// The claims of a stream's own SET (verification, stream updated): its subject is the stream.
pub fn stream_claims(
    issuer: &str,
    audience: &str,
    jti: &str,
    now: i64,
    stream_id: &str,
    uri: &str,
    members: Value,
) -> Value {
    json!({
        "iss": issuer,
        "aud": audience,
        "jti": jti,
        "iat": now,
        "sub_id": { "format": "opaque", "id": stream_id },
        "events": { uri: members },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_revoked_set_names_the_session_and_the_user_as_the_client_knows_them() {
        let event = Event::SessionRevoked { sid: "s1".into(), why: "card-removed".into() };
        let c = set_claims("https://idp", "emr", "j1", 100, "pairwise-sub", &event);
        assert_eq!(c["aud"], "emr");
        assert_eq!(c["sub_id"]["user"]["sub"], "pairwise-sub");
        assert_eq!(c["sub_id"]["session"]["id"], "s1");
        assert_eq!(c["events"][SESSION_REVOKED]["initiating_entity"], "policy");
        assert!(c.get("sub").is_none() && c.get("exp").is_none(), "SSF 1.0 §4.1.8/§4.1.9");
    }

    #[test]
    fn a_credential_change_names_the_credential_and_the_change() {
        let c = set_claims("i", "a", "j", 1, "s", &Event::CredentialChange(Credential::App, Change::Update));
        assert_eq!(c["events"][CREDENTIAL_CHANGE]["credential_type"], "app");
        assert_eq!(c["events"][CREDENTIAL_CHANGE]["change_type"], "update");
        assert_eq!(c["sub_id"]["format"], "iss_sub");
    }

    #[test]
    fn who_ended_a_session() {
        assert_eq!(Initiator::of("logout"), Initiator::User);
        assert_eq!(Initiator::of("ended-by-operator"), Initiator::Admin);
        assert_eq!(Initiator::of("refresh-token-reused"), Initiator::Policy);
        assert_eq!(Initiator::of("something new"), Initiator::System);
    }
}
