//! The problem list's parsers: what a browser may ask the login page to show, and a card login's refusals.

use super::*;

#[test]
fn the_query_names_only_the_browsers_states_and_a_bounded_tries_count() {
    for code in [
        "agent_not_running",
        "no_reader",
        "no_card",
        "several_cards",
        "wrong_card",
        "wrong_pin",
        "last_try",
        "pin_locked",
        "pin_timeout",
        "card_error",
        "ended_card_removed",
        "ended_timeout",
        "ended_by_admin",
        "ended_token_reused",
        "ended_other_terminal",
        "ended_idle",
    ] {
        assert_eq!(Problem::from_query(code, None, None).map(|p| p.code()), Some(code));
    }
    // The server's own states carry data a query must not supply; unknown codes are no problem.
    for code in ["facility_suspended", "service_refused", "card_revoked", "pc_cert_revoked", "x", "", "NO_CARD"] {
        assert_eq!(Problem::from_query(code, None, None), None, "{code}");
    }
    assert_eq!(Problem::from_query("wrong_pin", Some("2"), None), Some(Problem::WrongPin { tries_left: Some(2) }));
    for bad in ["16", "255", "-1", "2x", "", "99999"] {
        assert_eq!(Problem::from_query("wrong_pin", Some(bad), None), Some(Problem::WrongPin { tries_left: None }));
    }
    assert_eq!(
        Problem::from_query("pin_locked", None, Some("jpki")),
        Some(Problem::PinLocked { kind: CardKind::Jpki })
    );
    assert_eq!(Problem::from_query("pin_locked", None, Some("x")), Some(Problem::PinLocked { kind: CardKind::Hpki }));
}

#[test]
fn card_login_refusals_are_the_card_problems() {
    let untrusted = CardLoginError::UntrustedChain { detail: "x".into() };
    assert_eq!(Problem::of_card_login(&untrusted, CardKind::Hpki), Problem::CardUntrusted);
    let expired = CardLoginError::ExpiredCard { not_after: "2020-01-01T00:00:00Z".into() };
    assert_eq!(Problem::of_card_login(&expired, CardKind::Jpki), Problem::CardExpired { kind: CardKind::Jpki });
    let revoked = CardLoginError::Revoked { reason: "keyCompromise".into(), at: "t".into(), certificate: "c".into() };
    assert_eq!(Problem::of_card_login(&revoked, CardKind::Hpki), Problem::CardRevoked { kind: CardKind::Hpki });
    assert_eq!(Problem::of_card_login(&CardLoginError::BadSignature, CardKind::Hpki), Problem::LoginFailed);
}
