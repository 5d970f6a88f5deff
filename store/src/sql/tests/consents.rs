//! Consents and identity links (issue #28, D88) on every backend: moved only from the state read, one of two
//! racing writers wins, withdrawn consents stay as history, links are updated rather than duplicated.

use super::{AT, NOW, TestDb, verified_log};
use crate::audit::{AuditEvent, Outcome};
use crate::consent::{
    ConsentDocument, ConsentMove, ConsentRecord, ConsentState, DocumentKind, EvidenceLevel, IdentityLinkRecord,
    SignatureEvidence,
};
use crate::facility::FacilityId;
use hcpki_model::UnixTime;

on_every_backend!(
    consents_move_once_from_the_state_read_and_stay_as_history,
    of_two_racing_signatures_or_withdrawals_one_is_written,
    identity_links_are_updated_not_duplicated,
    a_consents_documents_are_written_with_its_moves_and_swept_with_it,
);

fn event(action: &str, target: &str) -> AuditEvent {
    AuditEvent {
        actor: "oidc:emr".into(),
        action: action.into(),
        target: target.into(),
        outcome: Outcome::Ok,
        detail: serde_json::json!({ "patient": "pk1:patient" }),
    }
}

fn consent(id: &str, purpose: &str) -> ConsentRecord {
    ConsentRecord {
        id: id.parse().unwrap(),
        client_id: "emr".into(),
        purpose: purpose.into(),
        facility_id: facility(1).to_string(),
        patient_key: "pk1:patient".into(),
        physician_key: "hpki:00:MEDIS:Test1".into(),
        state: ConsentState::Requested,
        created_at: NOW,
        expires_at: NOW + 600,
        shown_at: None,
        ended_at: None,
        refusal: None,
        signature: None,
        withdrawal: None,
        withdrawn_at: None,
        network: None,
    }
}

fn evidence(level: EvidenceLevel, document: &str) -> SignatureEvidence {
    SignatureEvidence {
        level,
        document_sha256: document.repeat(32),
        format: "pades".into(),
        signature_level: "b-lt".into(),
        signer_sha256: "cd".repeat(32),
        time_stamp_at: NOW + 5,
    }
}

async fn consents_move_once_from_the_state_read_and_stay_as_history(db: TestDb) {
    let s = &*db.store;
    let other = db.another_handle().await;
    let a = consent("a", "record-link");
    s.consent_create(&a, &[], &event("consent.requested", "a"), AT).await.unwrap();
    assert_eq!(other.consent(&"a".parse().unwrap()).await.unwrap().as_ref(), Some(&a), "read back as stored");
    assert!(s.consent(&"missing".parse().unwrap()).await.unwrap().is_none());

    let (show, shown_event) = (ConsentMove::Show, event("consent.shown", "a"));
    let shown =
        s.consent_move(&"a".parse().unwrap(), ConsentState::Requested, &show, &[], &shown_event, AT).await.unwrap();
    let shown = shown.expect("requested: shown");
    assert_eq!((shown.state, shown.shown_at), (ConsentState::Shown, Some(NOW)));
    // A second writer that read `requested` finds it moved.
    let again =
        other.consent_move(&"a".parse().unwrap(), ConsentState::Requested, &show, &[], &shown_event, AT).await.unwrap();
    assert!(again.is_none(), "moved once");

    // A signature and a refusal race from `shown`: exactly one wins.
    let sign = ConsentMove::Sign(evidence(EvidenceLevel::PatientSignature, "ab"));
    let refuse = ConsentMove::Refuse("患者が拒否".into());
    let (signed_event, refused_event) = (event("consent.signed", "a"), event("consent.refused", "a"));
    let a_id = "a".parse().unwrap();
    let (x, y) = tokio::join!(
        s.consent_move(&a_id, ConsentState::Shown, &sign, &[], &signed_event, AT),
        other.consent_move(&a_id, ConsentState::Shown, &refuse, &[], &refused_event, AT)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert!(x.is_some() != y.is_some(), "one of the two: {x:?} {y:?}");
    let ended = s.consent(&"a".parse().unwrap()).await.unwrap().unwrap();
    match ended.state {
        ConsentState::Signed => {
            assert_eq!(ended.signature, Some(evidence(EvidenceLevel::PatientSignature, "ab")));
            assert_eq!(s.consent_live("emr", "pk1:patient", "record-link").await.unwrap(), Some(ended.clone()));
        }
        ConsentState::Refused => {
            assert_eq!((ended.refusal.as_deref(), ended.signature.as_ref()), (Some("患者が拒否"), None));
            assert!(s.consent_live("emr", "pk1:patient", "record-link").await.unwrap().is_none());
            // Drive a second request to a signature, so the rest of the test has a live consent.
            s.consent_create(&consent("a2", "record-link"), &[], &event("consent.requested", "a2"), AT).await.unwrap();
            s.consent_move(
                &"a2".parse().unwrap(),
                ConsentState::Requested,
                &sign,
                &[],
                &event("consent.signed", "a2"),
                AT,
            )
            .await
            .unwrap()
            .expect("signed");
        }
        other => panic!("ended as {other:?}"),
    }
    let live = s.consent_live("emr", "pk1:patient", "record-link").await.unwrap().expect("live");

    // While a consent is live, another of the same service, patient and purpose cannot be signed.
    s.consent_create(&consent("b", "record-link"), &[], &event("consent.requested", "b"), AT).await.unwrap();
    let attest = ConsentMove::Sign(evidence(EvidenceLevel::PhysicianAttestation, "ef"));
    assert!(
        s.consent_move(&"b".parse().unwrap(), ConsentState::Requested, &attest, &[], &event("x", "b"), AT)
            .await
            .unwrap()
            .is_none()
    );
    // Another purpose can.
    s.consent_create(&consent("c", "disclosure"), &[], &event("consent.requested", "c"), AT).await.unwrap();
    let c = s
        .consent_move(&"c".parse().unwrap(), ConsentState::Requested, &attest, &[], &event("consent.signed", "c"), AT)
        .await;
    assert_eq!(c.unwrap().unwrap().signature.unwrap().level, EvidenceLevel::PhysicianAttestation);

    // Nothing moves a pending consent after its deadline; a withdrawal has none.
    let late = (NOW + 600) * 1000;
    assert!(
        s.consent_move(
            &"b".parse().unwrap(),
            ConsentState::Requested,
            &refuse,
            &[],
            &event("x", "b"),
            UnixTime::from_millis(late)
        )
        .await
        .unwrap()
        .is_none()
    );
    let withdraw = ConsentMove::Withdraw(evidence(EvidenceLevel::PatientSignature, "99"));
    let withdrawn_event = event("consent.withdrawn", live.id.as_str());
    let gone = s
        .consent_move(&live.id, ConsentState::Signed, &withdraw, &[], &withdrawn_event, UnixTime::from_millis(late))
        .await
        .unwrap();
    let gone = gone.expect("signed: withdrawn");
    assert_eq!((gone.state, gone.withdrawn_at), (ConsentState::Withdrawn, Some(NOW + 600)));
    assert_eq!((gone.signature, gone.withdrawal.map(|w| w.document_sha256)), (live.signature, Some("99".repeat(32))));
    assert!(s.consent_live("emr", "pk1:patient", "record-link").await.unwrap().is_none(), "ended at once");
    assert!(
        s.consent_move(&live.id, ConsentState::Signed, &withdraw, &[], &event("x", "a"), UnixTime::from_millis(late))
            .await
            .unwrap()
            .is_none()
    );

    let history = s.consent_history("pk1:patient").await.unwrap();
    assert!(history.len() >= 3 && history.iter().any(|c| c.state == ConsentState::Withdrawn), "{history:?}");
    assert!(s.consent_history("pk1:other").await.unwrap().is_empty());

    // Retention: unsigned consents past their deadline and ended ones past theirs go; a live one never.
    let before = history.len() as u64;
    assert_eq!(
        s.consent_sweep(UnixTime::from_secs(NOW + 600), UnixTime::from_secs(NOW - 1), 100).await.unwrap(),
        1,
        "the unsigned request b"
    );
    let swept = s.consent_sweep(UnixTime::from_secs(NOW + 601), UnixTime::from_secs(NOW + 601), 100).await.unwrap();
    let left = s.consent_history("pk1:patient").await.unwrap();
    assert_eq!(left.len() as u64, before - 1 - swept);
    assert!(left.iter().all(|c| c.state == ConsentState::Signed), "only the live ones: {left:?}");
    assert!(left.iter().any(|c| c.id.as_str() == "c"));

    let actions: Vec<String> = verified_log(s).await.into_iter().map(|e| e.action).collect();
    assert!(actions.iter().all(|a| a.starts_with("consent.")), "nothing of the refused moves: {actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "consent.withdrawn").count(), 1);
}

/// Two consents of one service, patient and purpose signed at once on two handles: one becomes live, the other
/// is not written (PostgreSQL's writers really run together; the partial unique index is the backstop). Then
/// two withdrawals of the live one at once: one ends it.
async fn of_two_racing_signatures_or_withdrawals_one_is_written(db: TestDb) {
    let s = &*db.store;
    let other = db.another_handle().await;
    for id in ["x", "y"] {
        s.consent_create(&consent(id, "record-link"), &[], &event("consent.requested", id), AT).await.unwrap();
    }
    let sign = ConsentMove::Sign(evidence(EvidenceLevel::PatientSignature, "ab"));
    let (ex, ey) = (event("consent.signed", "x"), event("consent.signed", "y"));
    let (x_id, y_id) = ("x".parse().unwrap(), "y".parse().unwrap());
    let (x, y) = tokio::join!(
        s.consent_move(&x_id, ConsentState::Requested, &sign, &[], &ex, AT),
        other.consent_move(&y_id, ConsentState::Requested, &sign, &[], &ey, AT)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    let live = match (x, y) {
        (Some(live), None) | (None, Some(live)) => live,
        both => panic!("exactly one signature: {both:?}"),
    };
    assert_eq!(s.consent_live("emr", "pk1:patient", "record-link").await.unwrap().map(|c| c.id), Some(live.id.clone()));

    let withdraw = ConsentMove::Withdraw(evidence(EvidenceLevel::PatientSignature, "99"));
    let gone = event("consent.withdrawn", live.id.as_str());
    let (a, b) = tokio::join!(
        s.consent_move(&live.id, ConsentState::Signed, &withdraw, &[], &gone, AT),
        other.consent_move(&live.id, ConsentState::Signed, &withdraw, &[], &gone, AT)
    );
    assert!(a.unwrap().is_some() != b.unwrap().is_some(), "exactly one withdrawal");
    let actions: Vec<String> = verified_log(s).await.into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["consent.requested", "consent.requested", "consent.signed", "consent.withdrawn"]);
}

fn link(generation: i64, signing: &str, auth: Option<&str>) -> IdentityLinkRecord {
    IdentityLinkRecord {
        patient_key: "pk1:patient".into(),
        facility_id: facility(1).to_string(),
        signing_sha256: signing.repeat(32),
        auth_sha256: auth.map(|a| a.repeat(32)),
        confirmed_by: "hpki:00:MEDIS:Staff".into(),
        confirmed_at: NOW + generation,
        created_at: NOW,
        generation,
    }
}

async fn identity_links_are_updated_not_duplicated(db: TestDb) {
    let s = &*db.store;
    let other = db.another_handle().await;
    assert!(s.identity_link("pk1:patient").await.unwrap().is_none());
    let first = link(1, "a1", Some("b1"));
    assert!(s.identity_link_save(&first, None, &event("identity.linked", "pk1:patient"), AT).await.unwrap());
    assert!(!other.identity_link_save(&first, None, &event("x", "pk1:patient"), AT).await.unwrap(), "once");
    assert_eq!(other.identity_link("pk1:patient").await.unwrap(), Some(first.clone()));
    let by_auth = s.identity_links_of_certificate(&facility(1), &"b1".repeat(32)).await.unwrap();
    assert_eq!(by_auth, std::slice::from_ref(&first));
    assert!(s.identity_links_of_certificate(&facility(2), &"b1".repeat(32)).await.unwrap().is_empty());

    // A new card after an address change: the same row, one generation on; a writer that read the old one loses.
    let second = link(2, "a2", None);
    let corrected = event("identity.corrected", "pk1:patient");
    assert!(s.identity_link_save(&second, Some(1), &corrected, AT).await.unwrap());
    assert!(!other.identity_link_save(&link(2, "a3", None), Some(1), &corrected, AT).await.unwrap());
    assert_eq!(s.identity_link("pk1:patient").await.unwrap(), Some(second));
    assert!(s.identity_links_of_certificate(&facility(1), &"b1".repeat(32)).await.unwrap().is_empty());
    assert_eq!(s.identity_links_of_certificate(&facility(1), &"a2".repeat(32)).await.unwrap().len(), 1);
    assert!(s.identity_link_save(&link(5, "a4", None), Some(2), &corrected, AT).await.is_err(), "generation");

    let actions: Vec<String> = verified_log(s).await.into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["identity.linked", "identity.corrected"]);
}

/// The rendered PDF is stored with the request, the signed one and the card's certificate with the signature
/// (in the move's transaction: a move that loses writes none), a withdrawal's PDF on its own; the sweep takes a
/// consent's documents with it.
async fn a_consents_documents_are_written_with_its_moves_and_swept_with_it(db: TestDb) {
    let s = &*db.store;
    let other = db.another_handle().await;
    let rendered =
        ConsentDocument::new(&"d".parse().unwrap(), DocumentKind::Consent, b"%PDF-1.7 rendered".to_vec(), NOW);
    s.consent_create(
        &consent("d", "record-link"),
        std::slice::from_ref(&rendered),
        &event("consent.requested", "d"),
        AT,
    )
    .await
    .unwrap();
    assert_eq!(
        other.consent_document(&"d".parse().unwrap(), DocumentKind::Consent).await.unwrap(),
        Some(rendered.clone())
    );
    assert!(other.consent_document(&"d".parse().unwrap(), DocumentKind::SignedConsent).await.unwrap().is_none());

    let signed =
        ConsentDocument::new(&"d".parse().unwrap(), DocumentKind::SignedConsent, b"%PDF-1.7 signed".to_vec(), NOW + 5);
    let card = ConsentDocument::new(
        &"d".parse().unwrap(),
        DocumentKind::CardAuthentication,
        vec![0x30, 0x03, 0x02, 0x01, 0x01],
        NOW + 5,
    );
    let sign = ConsentMove::Sign(evidence(EvidenceLevel::PatientSignature, "ab"));
    let both = [signed.clone(), card.clone()];
    // From the wrong state: nothing moves, no document is written.
    assert!(
        s.consent_move(&"d".parse().unwrap(), ConsentState::Shown, &sign, &both, &event("x", "d"), AT)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.consent_document(&"d".parse().unwrap(), DocumentKind::SignedConsent).await.unwrap().is_none());
    s.consent_move(&"d".parse().unwrap(), ConsentState::Requested, &sign, &both, &event("consent.signed", "d"), AT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.consent_document(&"d".parse().unwrap(), DocumentKind::SignedConsent).await.unwrap(), Some(signed));
    assert_eq!(
        other.consent_document(&"d".parse().unwrap(), DocumentKind::CardAuthentication).await.unwrap(),
        Some(card)
    );
    assert_eq!(signed_sha(&rendered), rendered.sha256);

    // A withdrawal rendered later replaces an earlier rendering of it.
    for text in ["first", "second"] {
        let pdf =
            ConsentDocument::new(&"d".parse().unwrap(), DocumentKind::Withdrawal, text.as_bytes().to_vec(), NOW + 9);
        s.consent_document_put(&pdf, &event("consent.withdrawal_requested", "d"), AT).await.unwrap();
    }
    let withdrawal = s.consent_document(&"d".parse().unwrap(), DocumentKind::Withdrawal).await.unwrap().unwrap();
    assert_eq!(withdrawal.bytes, b"second");

    let withdraw = ConsentMove::Withdraw(evidence(EvidenceLevel::PatientSignature, "99"));
    s.consent_move(&"d".parse().unwrap(), ConsentState::Signed, &withdraw, &[], &event("consent.withdrawn", "d"), AT)
        .await
        .unwrap()
        .unwrap();
    let polled = other.consents_withdrawn_since("emr", UnixTime::from_secs(NOW - 1), 10).await.unwrap();
    assert_eq!(polled.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["d"]);
    assert!(other.consents_withdrawn_since("other-client", UnixTime::from_secs(NOW - 1), 10).await.unwrap().is_empty());

    let far = NOW + 10 * 365 * 86_400;
    assert_eq!(s.consent_sweep(UnixTime::from_secs(far), UnixTime::from_secs(far), 100).await.unwrap(), 1);
    for kind in [DocumentKind::Consent, DocumentKind::SignedConsent, DocumentKind::Withdrawal] {
        assert!(
            other.consent_document(&"d".parse().unwrap(), kind).await.unwrap().is_none(),
            "{kind:?} swept with its consent"
        );
    }
}

fn signed_sha(document: &ConsentDocument) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(&document.bytes))
}

/// The facility numbered `n` (the identity links' facility column holds its text).
fn facility(n: u64) -> FacilityId {
    FacilityId::from_number(n).unwrap()
}
