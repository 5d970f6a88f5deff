//! The message builder's output, read back with a real XML parser (roxmltree) for the elements the standard
//! requires, and validated by xmllint against `audit-message.rng` (hcpki's RELAX NG restatement of PS3.15 A.5.1)
//! when xmllint is installed (scripts/deps installs libxml2-utils).

use super::*;
use crate::atna::event::map;

fn source() -> AuditSource {
    AuditSource { source_id: "hcpki.example.jp".into(), site_id: Some("1310000001".into()), hostname: "ca1".into() }
}

fn entry(action: &str, outcome: &str, actor: &str, target: &str, detail: &str) -> AuditEntry {
    AuditEntry {
        seq: 42,
        at_ms: 1_795_456_800_123,
        actor: actor.into(),
        action: action.into(),
        target: target.into(),
        outcome: outcome.into(),
        detail: detail.into(),
        prev_hash: "aa".repeat(32),
        hash: "bb".repeat(32),
    }
}

fn xml(e: &AuditEntry) -> String {
    dicom_xml(e, &map(e), &source())
}

fn attr<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> &'a str {
    node.attribute(name).unwrap_or_else(|| panic!("{} has no {name}", node.tag_name().name()))
}

fn child<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> roxmltree::Node<'a, 'a> {
    node.children().find(|c| c.has_tag_name(name)).unwrap_or_else(|| panic!("no {name} in {}", node.tag_name().name()))
}

#[test]
fn a_login_has_every_required_element() {
    let text = xml(&entry("portal.login", "ok", "portal:pk-1", "alice", r#"{"credential":"card"}"#));
    let doc = roxmltree::Document::parse(&text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "AuditMessage");
    let event = child(root, "EventIdentification");
    assert_eq!(attr(event, "EventActionCode"), "E");
    assert_eq!(attr(event, "EventDateTime"), "2026-11-23T18:00:00.123Z");
    assert_eq!(attr(event, "EventOutcomeIndicator"), "0");
    let id = child(event, "EventID");
    assert_eq!(
        (attr(id, "csd-code"), attr(id, "codeSystemName"), attr(id, "originalText")),
        ("110114", "DCM", "User Authentication")
    );
    let types: Vec<_> =
        event.children().filter(|c| c.has_tag_name("EventTypeCode")).map(|c| attr(c, "csd-code")).collect();
    assert_eq!(types, ["110122", "portal.login"]);
    assert!(event.children().all(|c| !c.has_tag_name("EventOutcomeDescription")), "only failures describe one");
    let participants: Vec<_> = root.children().filter(|c| c.has_tag_name("ActiveParticipant")).collect();
    assert_eq!(participants.len(), 2);
    assert_eq!((attr(participants[0], "UserID"), attr(participants[0], "UserIsRequestor")), ("portal:pk-1", "true"));
    assert_eq!(attr(participants[1], "UserIsRequestor"), "false");
    assert_eq!(attr(participants[1], "NetworkAccessPointID"), "ca1");
    let source = child(root, "AuditSourceIdentification");
    assert_eq!(
        (attr(source, "AuditSourceID"), attr(source, "AuditEnterpriseSiteID")),
        ("hcpki.example.jp", "1310000001")
    );
    assert_eq!(attr(child(source, "AuditSourceTypeCode"), "csd-code"), "6");
    let object = child(root, "ParticipantObjectIdentification");
    assert_eq!((attr(object, "ParticipantObjectID"), attr(object, "ParticipantObjectTypeCode")), ("alice", "1"));
    assert_eq!(attr(child(object, "ParticipantObjectIDTypeCode"), "codeSystemName"), "RFC-3881");
    // Element order is the schema's.
    let order: Vec<_> = root.children().filter(|c| c.is_element()).map(|c| c.tag_name().name()).collect();
    assert_eq!(
        order,
        [
            "EventIdentification",
            "ActiveParticipant",
            "ActiveParticipant",
            "AuditSourceIdentification",
            "ParticipantObjectIdentification"
        ]
    );
    valid(&text);
}

#[test]
fn a_refusal_says_why_and_hostile_text_stays_text() {
    let text = xml(&entry(
        "oidc.token",
        "denied",
        "oidc:<evil>&\"'",
        "client\u{1}x",
        r#"{"reason":"wrong PKCE verifier <script>"}"#,
    ));
    let doc = roxmltree::Document::parse(&text).unwrap();
    let event = child(doc.root_element(), "EventIdentification");
    assert_eq!(attr(event, "EventOutcomeIndicator"), "4");
    assert_eq!(child(event, "EventOutcomeDescription").text(), Some("wrong PKCE verifier <script>"));
    let actor = doc.root_element().children().find(|c| c.has_tag_name("ActiveParticipant")).unwrap();
    assert_eq!(attr(actor, "UserID"), "oidc:<evil>&\"'");
    let object = child(doc.root_element(), "ParticipantObjectIdentification");
    assert_eq!(attr(object, "ParticipantObjectID"), "client\u{fffd}x");
    valid(&text);
}

#[test]
fn every_family_validates() {
    for (action, outcome, target, detail) in [
        ("portal.logout", "ok", "-", "{}"),
        ("oidc.token", "ok", "client-1", "{}"),
        ("break_glass.use", "ok", "svc", r#"{"reason":"cardiac arrest"}"#),
        ("delegation.grant", "ok", "staff-1", "{}"),
        ("cert.issue", "failed", "01ab", r#"{"error":"HSM down"}"#),
        ("cert.revoke", "ok", "01ab", "{}"),
        ("consent.signed", "ok", "c-1", r#"{"patient":"pk-9"}"#),
        ("facility.register", "ok", "F1", "{}"),
        ("system.thing", "ok", "", "{}"),
    ] {
        let e = entry(action, outcome, "system", target, detail);
        let text = xml(&e);
        roxmltree::Document::parse(&text).unwrap_or_else(|err| panic!("{action}: {err}\n{text}"));
        valid(&text);
    }
    let mut e = entry("x", "ok", "", "", "{}");
    e.at_ms = -1;
    valid(&xml(&e));
}

/// xmllint against the RELAX NG schema, when it is installed; a message it refuses fails the test.
fn valid(text: &str) {
    let Ok(version) = std::process::Command::new("xmllint").arg("--version").output() else {
        eprintln!("xmllint not installed: schema validation skipped (scripts/deps installs libxml2-utils)");
        return;
    };
    assert!(version.status.success());
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("audit-message.rng");
    std::fs::write(&schema, include_str!("../audit-message.rng")).unwrap();
    let message = dir.path().join("message.xml");
    std::fs::write(&message, text).unwrap();
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--relaxng")
        .arg(&schema)
        .arg(&message)
        .output()
        .unwrap();
    assert!(out.status.success(), "xmllint refused:\n{}\n{text}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_schema_refuses_what_the_standard_forbids() {
    if std::process::Command::new("xmllint").arg("--version").output().is_err() {
        return;
    }
    // A test that cannot fail is a defect: the schema must refuse a message without its EventID, or with an
    // outcome the standard does not define.
    let good = xml(&entry("portal.login", "ok", "a", "b", "{}"));
    for bad in [
        good.replace(r#"<EventID csd-code="110114" codeSystemName="DCM" originalText="User Authentication"/>"#, ""),
        good.replace(r#"EventOutcomeIndicator="0""#, r#"EventOutcomeIndicator="3""#),
        good.replace(r#" AuditSourceID="hcpki.example.jp""#, ""),
    ] {
        assert_ne!(bad, good);
        let dir = tempfile::tempdir().unwrap();
        let schema = dir.path().join("s.rng");
        std::fs::write(&schema, include_str!("../audit-message.rng")).unwrap();
        let message = dir.path().join("m.xml");
        std::fs::write(&message, &bad).unwrap();
        let out = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--relaxng")
            .arg(&schema)
            .arg(&message)
            .output()
            .unwrap();
        assert!(!out.status.success(), "xmllint accepted:\n{bad}");
    }
}
