use super::*;
use crate::compliance::evidence::{
    Accounts, AdminHolder, ExpiringCertificate, LoginShare, PasswordPolicy, Scope, SessionLimits, TlsSettings,
};
use crate::compliance::item::Status;
use std::collections::BTreeMap;

const NOW: i64 = 1_790_000_000;

fn evidence() -> Evidence {
    Evidence {
        generated_at: NOW,
        scope: Scope::Installation,
        version: "test".into(),
        logins: LoginShare {
            since: NOW - LOGIN_WINDOW_DAYS * 86_400,
            total: 4,
            two_factor: 4,
            by_credential: BTreeMap::from([("card".into(), 3), ("password-totp".into(), 1)]),
            complete: true,
        },
        accounts: Accounts { active: 2, without_second_factor: Vec::new() },
        sessions: SessionLimits {
            portal_idle_minutes: 30,
            portal_absolute_hours: 12,
            console_idle_minutes: 30,
            console_absolute_hours: 8,
            bound_to_terminal: true,
        },
        passwords: PasswordPolicy { min_chars: 12, totp_required: true, forced_rotation: false },
        admins: vec![AdminHolder {
            who: "ops".into(),
            role: "operator".into(),
            facility: None,
            basis: "operator-certificate".into(),
            note: String::new(),
        }],
        audit_chain: AuditChain::Intact { entries: 10, head: "ab".into() },
        backup: Backup::Last {
            taken_at: NOW - 86_400,
            taken_by: "cli:ops".into(),
            location: "/backup/2026-11-28".into(),
            database: BackupDatabase::Sqlite,
            audit_head_seq: 9,
            includes_secrets: false,
        },
        tls: TlsSettings::of_this_build(),
        expiring: Vec::new(),
        signing_sessions: SigningSessions::AgentLimits {
            max_signatures: 250,
            max_hours: 18,
            facilities_lower: Some(0),
        },
    }
}

fn status(r: &Report, id: &str) -> Status {
    r.items.iter().chain(&r.disclosure).find(|i| i.id == id).map(|i| i.status).unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn a_healthy_installation_meets_what_hcpki_serves_and_leaves_the_rest_to_the_facility() {
    let r = assess(evidence(), Lang::En);
    for id in ["auth.two-factor", "auth.second-factor-enrolment", "auth.session-limits", "log.audit-chain", "net.tls"] {
        assert_eq!(status(&r, id), Status::Met, "{id}");
    }
    assert_eq!(status(&r, "access.administrators"), Status::FacilityDuty);
    assert_eq!(status(&r, "org.responsibility"), Status::FacilityDuty);
    assert_eq!(status(&r, "ops.backup"), Status::Met, "a backup a day old");
    let share = &r.items[0].evidence[0];
    assert!(share.contains("4 of 4") && share.contains("100.0%"), "{share}");
    assert!(r.items.iter().chain(&r.disclosure).all(|i| !i.to_do.is_empty() && !i.evidence.is_empty()));
    let sign = r.items.iter().find(|i| i.id == "sign.sessions").unwrap();
    assert!(sign.evidence[0].contains("at most 250 signatures within 18 hours"), "{sign:?}");
    assert_eq!(sign.evidence[1], "facilities with their own lower limit: 0");
    assert!(r.evidence.tls.versions.iter().any(|v| v.contains("1_3")), "{:?}", r.evidence.tls);
}

#[test]
fn the_share_counts_single_factor_logins_against_the_rule() {
    let mut e = evidence();
    e.logins.total = 3;
    e.logins.two_factor = 2;
    assert_eq!(e.logins.percent(), Some(66.7));
    let r = assess(e, Lang::Ja);
    assert_eq!(status(&r, "auth.two-factor"), Status::NotMet);
    assert!(r.items[0].evidence[0].contains("3 件のうち二要素 2 件(66.7%)"), "{:?}", r.items[0].evidence);
    let mut e = evidence();
    e.logins = LoginShare { complete: true, ..LoginShare::default() };
    assert_eq!(e.logins.percent(), None);
    assert_eq!(status(&assess(e, Lang::En), "auth.two-factor"), Status::Unknown, "no sign-ins: nothing to show");
}

#[test]
fn missing_factors_off_idle_locks_tampered_logs_and_expiring_certificates_are_said() {
    let mut e = evidence();
    e.accounts.without_second_factor = vec!["bob".into()];
    e.sessions.portal_idle_minutes = 0;
    e.audit_chain = AuditChain::Tampered { why: ": entry 3 was edited".into() };
    e.expiring = vec![ExpiringCertificate {
        serial: "0a".into(),
        profile: "pc".into(),
        facility: None,
        subject: "CN=pc".into(),
        not_after: NOW + 86_400,
    }];
    let r = assess(e, Lang::En);
    assert_eq!(status(&r, "auth.second-factor-enrolment"), Status::NotMet);
    assert!(r.items[1].evidence.contains(&"bob".to_owned()));
    assert_eq!(status(&r, "auth.session-limits"), Status::NotMet);
    assert_eq!(status(&r, "log.audit-chain"), Status::NotMet);
    assert_eq!(status(&r, "pki.expiring"), Status::FacilityDuty);
}

#[test]
fn both_languages_word_every_item_and_the_json_keeps_the_numbers() {
    let ja = assess(evidence(), Lang::Ja);
    let en = assess(evidence(), Lang::En);
    assert_eq!(ja.items.len(), en.items.len());
    for (a, b) in ja.items.iter().zip(&en.items) {
        assert_eq!(a.id, b.id);
        assert_ne!(a.title, b.title, "{}", a.id);
    }
    let json = crate::compliance::render::json(&ja);
    assert_eq!(json["evidence"]["logins"]["two_factor"], 4);
    assert_eq!(json["evidence"]["scope"]["kind"], "installation");
    assert_eq!(json["items"][0]["status"], "met");
    let html = crate::compliance::render::document(&en, Lang::En);
    assert!(html.starts_with("<!doctype html>") && html.contains("lang=\"en\""), "{html}");
    assert!(html.contains("data-status=\"met\""), "{html}");
    assert_eq!(json["evidence"]["backup"]["state"], "last");
    assert_eq!(json["evidence"]["backup"]["database"], "sqlite");
    assert_eq!(json["evidence"]["signing_sessions"]["state"], "agent-limits");
}

#[test]
fn an_old_or_missing_backup_is_not_met_and_a_postgresql_one_names_the_dump() {
    let mut e = evidence();
    e.backup = Backup::NoneRecorded;
    let r = assess(e, Lang::En);
    assert_eq!(status(&r, "ops.backup"), Status::NotMet);
    let mut e = evidence();
    e.backup = Backup::Last {
        taken_at: NOW - (BACKUP_WINDOW_DAYS + 1) * 86_400,
        taken_by: "cli:ops".into(),
        location: "/b".into(),
        database: BackupDatabase::Postgresql,
        audit_head_seq: 1,
        includes_secrets: true,
    };
    let r = assess(e, Lang::Ja);
    assert_eq!(status(&r, "ops.backup"), Status::NotMet, "older than the window");
    let item = r.items.iter().find(|i| i.id == "ops.backup").unwrap();
    assert!(item.evidence[0].contains("8日前") && item.evidence[0].contains("secrets/ を含む"), "{item:?}");
    assert!(item.evidence[1].contains("pg_dump"), "{item:?}");
}

#[test]
fn a_facility_s_own_signing_limit_is_said_and_zero_says_sessions_are_off() {
    let mut e = evidence();
    e.signing_sessions =
        SigningSessions::FacilityLimit { max_signatures: 5, max_hours: 8, set_by: "admin:x".into(), set_at: NOW };
    let r = assess(e, Lang::En);
    let sign = r.items.iter().find(|i| i.id == "sign.sessions").unwrap();
    assert!(sign.evidence[0].contains("at most 5 signatures within 8 hours") && sign.evidence[0].contains("admin:x"));
    let mut e = evidence();
    e.signing_sessions =
        SigningSessions::FacilityLimit { max_signatures: 0, max_hours: 8, set_by: "admin:x".into(), set_at: NOW };
    let r = assess(e, Lang::En);
    let sign = r.items.iter().find(|i| i.id == "sign.sessions").unwrap();
    assert!(sign.evidence[0].contains("off at this facility"), "{sign:?}");
}
