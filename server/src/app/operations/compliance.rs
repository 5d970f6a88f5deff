//! The compliance report (D164): one operation for `hcpki compliance report`, `GET /api/v1/compliance/report`
//! and `/console/compliance`. [`generate`] gathers the evidence from the store and the settings at the time it
//! is given, assesses it (`crate::compliance`, HTTP-free) and audits the generation (`compliance.report`);
//! [`report`] is the served form, which first asks the access decision for the caller's scope (operators and
//! auditors: the installation or any facility; a facility admin: their own facility only, a refusal audited).

use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use crate::compliance::evidence::{
    Accounts, AdminHolder, AuditChain, Backup, EXPIRY_WINDOW_DAYS, ExpiringCertificate, LOGIN_WINDOW_DAYS, LoginShare,
    PasswordPolicy, SessionLimits, Settings, SigningSessions, TlsSettings,
};
use crate::compliance::{Evidence, Report, Scope, assess};
use crate::config::Config;
use hcpki_ca::access::{Action, Principal};
use hcpki_ca::audit::{AuditEntry, AuditEvent, Outcome};
use hcpki_ca::facility::FacilityId;
use hcpki_ca::store::console_grant::ConsoleRole;
use hcpki_ca::store::{Actor, CertStatus, CertificateFilter, Store, StoreError};
use hcpki_html::Lang;
use hcpki_pkix::time::UnixTime;
use serde_json::{Value, json};

/// The audit action of every generated report.
pub const ACTION: &str = "compliance.report";
/// The most audit entries read back for the login share (the newest first).
const SCAN_LIMIT: i64 = 200_000;
const PAGE: i64 = 2000;
/// The most expiring certificates listed.
const EXPIRING_LIMIT: i64 = 1000;
/// Credentials of two different kinds of factor: card + PIN, password + TOTP, a passkey with user verification
/// (required at every passkey sign-in, D157).
const TWO_FACTOR: [&str; 3] = ["card", "password-totp", "passkey"];

/// What the report reads from `config`, once at start (the CLI reads it from `hcpki.toml` too).
pub fn settings(config: &Config) -> Settings {
    let (console_absolute, console_idle) = config.console.lifetimes();
    let (portal_idle_minutes, portal_absolute_hours) =
        config.portal.as_ref().map_or((0, 0), |p| (p.idle_minutes, p.session_hours));
    Settings {
        sessions: SessionLimits {
            portal_idle_minutes,
            portal_absolute_hours,
            console_idle_minutes: u32::try_from(console_idle.as_secs() / 60).unwrap_or(u32::MAX),
            console_absolute_hours: u32::try_from(console_absolute.as_secs() / 3600).unwrap_or(u32::MAX),
            bound_to_terminal: true,
        },
    }
}

/// Signing sessions: the facility's own limit (D172), else the card agent's defaults (D163) — with, for the
/// installation, how many facilities set lower.
async fn signing_sessions(store: &dyn Store, facility: Option<&FacilityId>) -> Result<SigningSessions, StoreError> {
    use hcpki_agent_protocol::signing_limit::{DEFAULT_MAX_HOURS, DEFAULT_MAX_SIGNATURES};
    let agent = |facilities_lower| SigningSessions::AgentLimits {
        max_signatures: DEFAULT_MAX_SIGNATURES,
        max_hours: DEFAULT_MAX_HOURS,
        facilities_lower,
    };
    Ok(match facility {
        None => agent(Some(store.signing_limits_set().await?)),
        Some(f) => match store.signing_limit(f).await? {
            Some(set) => SigningSessions::FacilityLimit {
                max_signatures: set.limit.max_signatures(),
                max_hours: set.limit.max_hours(),
                set_by: set.set_by,
                set_at: set.set_at,
            },
            None => agent(None),
        },
    })
}

/// The newest backup recorded (D176).
async fn backup(store: &dyn Store) -> Result<Backup, StoreError> {
    Ok(match store.last_backup().await? {
        None => Backup::NoneRecorded,
        Some(b) => Backup::Last {
            taken_at: b.taken_at.as_secs(),
            taken_by: b.taken_by,
            location: b.location,
            database: b.database,
            audit_head_seq: b.audit_head_seq,
            includes_secrets: b.includes_secrets,
        },
    })
}

/// The served report of `asked` (a facility admin who names none: their own facility; anyone else: the whole
/// installation), if the caller may read it; else an audited refusal.
pub async fn report(
    state: &AppState,
    caller: &Caller,
    asked: Option<FacilityId>,
    lang: Lang,
) -> Result<Report, ApiError> {
    let facility = asked.or_else(|| match &caller.principal {
        Principal::FacilityAdmin { facility, .. } => Some(facility.clone()),
        _ => None,
    });
    caller.may(Action::ReadCompliance(facility.as_ref())).await?;
    let scope = facility.map_or(Scope::Installation, Scope::Facility);
    let now = state.clock.now();
    let actor = caller.actor();
    generate(state.store.as_ref(), &state.compliance, scope, lang, now, &actor).await.map_err(ApiError::unavailable)
}

/// The `facility` a request names, parsed; an audited 400 saying what a facility ID looks like.
pub async fn facility_param(caller: &Caller, text: Option<&str>) -> Result<Option<FacilityId>, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => match FacilityId::parse(t) {
            Ok(f) => Ok(Some(f)),
            Err(e) => {
                let error = ApiError::bad_request("invalid facility", format!("{e}: give a facility ID such as HF…"));
                Err(caller.refuse(&Action::ReadCompliance(None).name(), "-", error).await)
            }
        },
    }
}

/// Gather, assess and audit one report, at `now`, for `actor`.
pub async fn generate(
    store: &dyn Store,
    settings: &Settings,
    scope: Scope,
    lang: Lang,
    now: UnixTime,
    actor: &Actor,
) -> anyhow::Result<Report> {
    let evidence = gather(store, settings, scope, now).await?;
    let report = assess(evidence, lang);
    let e = &report.evidence;
    let statuses: Vec<Value> = report.items.iter().map(|i| json!([i.id, i.status.as_str()])).collect();
    let event = AuditEvent {
        actor: actor.as_str().to_owned(),
        action: ACTION.into(),
        target: e.scope.facility().map_or_else(|| "installation".to_owned(), |f| f.to_string()),
        outcome: Outcome::Ok,
        detail: json!({
            "lang": report.lang,
            "logins": e.logins.total,
            "two_factor": e.logins.two_factor,
            "items": statuses,
        }),
    };
    store.append_audit(&event, now).await?;
    Ok(report)
}

/// Everything the report shows, read now.
pub async fn gather(store: &dyn Store, settings: &Settings, scope: Scope, now: UnixTime) -> anyhow::Result<Evidence> {
    let facility = scope.facility();
    let audit_chain = match crate::audit_chain::verify_chain(store, None).await? {
        Ok(head) => AuditChain::Intact { entries: head.seq, head: head.hash },
        Err(why) => AuditChain::Tampered { why },
    };
    Ok(Evidence {
        generated_at: now.as_secs(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        logins: logins(store, facility, now).await?,
        accounts: accounts(store, facility.is_some()).await?,
        sessions: settings.sessions,
        passwords: PasswordPolicy {
            min_chars: hcpki_sso::accounts::MIN_PASSWORD_CHARS,
            totp_required: true,
            forced_rotation: false,
        },
        admins: admins(store, facility).await?,
        audit_chain,
        backup: backup(store).await?,
        tls: TlsSettings::of_this_build(),
        expiring: expiring(store, facility, now).await?,
        signing_sessions: signing_sessions(store, facility).await?,
        scope,
    })
}

/// Successful sign-ins since [`LOGIN_WINDOW_DAYS`] days before `now` (of `facility`'s PCs only, when given):
/// card logins (`login.card`) and password + TOTP or passkey logins (`portal.login`), read newest first.
async fn logins(store: &dyn Store, facility: Option<&FacilityId>, now: UnixTime) -> Result<LoginShare, StoreError> {
    let since = now.as_secs() - LOGIN_WINDOW_DAYS * 86_400;
    let mut share = LoginShare { since, complete: true, ..LoginShare::default() };
    let mut end = store.audit_head().await?.seq;
    let stop = (end - SCAN_LIMIT).max(0);
    while end > 0 {
        if end <= stop {
            share.complete = false;
            break;
        }
        let start = (end - PAGE).max(stop);
        let page = store.audit_entries(start, end - start).await?;
        let mut older = false;
        for e in page.iter().rev() {
            if e.at_ms.div_euclid(1000) < since {
                older = true;
                continue;
            }
            if let Some(credential) = sign_in(e, facility) {
                share.total += 1;
                share.two_factor += u64::from(TWO_FACTOR.contains(&credential.as_str()));
                *share.by_credential.entry(credential).or_default() += 1;
            }
        }
        if older {
            break;
        }
        end = start;
    }
    Ok(share)
}

/// The credential of a successful sign-in entry (of `facility`, when given), none for any other entry.
fn sign_in(e: &AuditEntry, facility: Option<&FacilityId>) -> Option<String> {
    if e.outcome != Outcome::Ok.as_str() {
        return None;
    }
    let detail: Value = serde_json::from_str(&e.detail).ok()?;
    if facility.is_some_and(|f| detail.get("facility").and_then(Value::as_str) != Some(f.as_str())) {
        return None;
    }
    match e.action.as_str() {
        hcpki_sso::login::audit::ACTION => Some("card".to_owned()),
        "portal.login" => Some(detail.get("credential").and_then(Value::as_str).unwrap_or("unknown").to_owned()),
        _ => None,
    }
}

/// The active password accounts, and those that cannot show a second factor: the TOTP never confirmed (no
/// code ever accepted) and no passkey. A facility's report gives the count but not the names: accounts belong to
/// the installation, not to one facility.
async fn accounts(store: &dyn Store, facility_scope: bool) -> Result<Accounts, StoreError> {
    let mut found = Accounts::default();
    for u in store.portal_users().await?.into_iter().filter(|u| u.disabled_at.is_none()) {
        found.active += 1;
        if u.last_totp_step == 0 && store.passkeys_of(&format!("pwd:{}", u.username)).await?.is_empty() {
            found.without_second_factor.push(if facility_scope { "-".to_owned() } else { u.username });
        }
    }
    Ok(found)
}

/// Operators (admin API certificates) and console grants; a facility's report shows its own admins only.
async fn admins(store: &dyn Store, facility: Option<&FacilityId>) -> Result<Vec<AdminHolder>, StoreError> {
    let mut found = Vec::new();
    if facility.is_none() {
        for o in store.list_operators().await?.into_iter().filter(|o| o.disabled_at.is_none()) {
            found.push(AdminHolder {
                who: o.name.as_str().to_owned(),
                role: o.role.as_str().to_owned(),
                facility: None,
                basis: "operator-certificate".into(),
                note: String::new(),
            });
        }
    }
    for g in store.console_grants().await? {
        let of = g.role.facility().cloned();
        if facility.is_some() && of.as_ref() != facility {
            continue;
        }
        let role = match &g.role {
            ConsoleRole::Staff(r) => r.as_str(),
            ConsoleRole::FacilityAdmin(_) => "facility-admin",
        };
        found.push(AdminHolder {
            who: g.person_key,
            role: role.to_owned(),
            facility: of,
            basis: "console-grant".into(),
            note: g.note,
        });
    }
    Ok(found)
}

/// Issued certificates whose notAfter is within [`EXPIRY_WINDOW_DAYS`] days of `now`.
async fn expiring(
    store: &dyn Store,
    facility: Option<&FacilityId>,
    now: UnixTime,
) -> Result<Vec<ExpiringCertificate>, StoreError> {
    let from = now.as_secs();
    let filter = CertificateFilter {
        facility: facility.cloned(),
        status: Some(CertStatus::Issued),
        expiring: Some((from, from + EXPIRY_WINDOW_DAYS * 86_400)),
        limit: Some(EXPIRING_LIMIT),
        ..CertificateFilter::default()
    };
    Ok(store
        .list_certificates(&filter)
        .await?
        .into_iter()
        .map(|c| ExpiringCertificate {
            serial: c.serial.to_string(),
            profile: c.profile.to_string(),
            facility: c.facility,
            subject: c.subject,
            not_after: c.not_after,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, outcome: &str, detail: Value) -> AuditEntry {
        AuditEntry {
            seq: 1,
            at_ms: 0,
            actor: "a".into(),
            action: action.into(),
            target: "t".into(),
            outcome: outcome.into(),
            detail: detail.to_string(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn sign_ins_are_the_successful_card_and_portal_logins_of_the_scope() {
        let f = FacilityId::from_number(7).unwrap();
        let g = FacilityId::from_number(8).unwrap();
        let card = entry("login.card", "ok", json!({ "facility": f.as_str() }));
        let pwd = entry("portal.login", "ok", json!({ "credential": "password-totp", "facility": g.as_str() }));
        let refused = entry("portal.login", "denied", json!({ "credential": "password-totp" }));
        let other = entry("portal.logout", "ok", json!({}));
        assert_eq!(sign_in(&card, None).as_deref(), Some("card"));
        assert_eq!(sign_in(&pwd, None).as_deref(), Some("password-totp"));
        assert_eq!(sign_in(&card, Some(&f)).as_deref(), Some("card"));
        assert_eq!(sign_in(&pwd, Some(&f)), None, "another facility's PC");
        assert_eq!(sign_in(&refused, None), None);
        assert_eq!(sign_in(&other, None), None);
    }
}
