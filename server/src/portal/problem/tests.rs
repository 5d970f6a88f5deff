use super::*;

/// One value of every variant.
fn every() -> Vec<Problem> {
    let refused = |cure| Problem::ServiceRefused {
        service: "電子カルテ".into(),
        cure,
        reason: "assurance password-totp is below the service's minimum card-pin".into(),
        back: Some("http://127.0.0.1:9/emr?error=access_denied&state=s".into()),
    };
    vec![
        Problem::AgentNotRunning,
        Problem::NoReader,
        Problem::NoCard,
        Problem::SeveralCards,
        Problem::WrongCard { asked: CardKind::Hpki },
        Problem::WrongCard { asked: CardKind::Jpki },
        Problem::CardUntrusted,
        Problem::CardExpired { kind: CardKind::Hpki },
        Problem::CardExpired { kind: CardKind::Jpki },
        Problem::CardRevoked { kind: CardKind::Hpki },
        Problem::CardRevoked { kind: CardKind::Jpki },
        Problem::LoginFailed,
        Problem::PcCertMissing,
        Problem::PcCertExpired,
        Problem::PcCertRevoked,
        Problem::PcCertOnHold,
        Problem::WrongPin { tries_left: Some(2) },
        Problem::WrongPin { tries_left: None },
        Problem::LastTry { kind: CardKind::Jpki },
        Problem::PinLocked { kind: CardKind::Hpki },
        Problem::PinLocked { kind: CardKind::Jpki },
        Problem::PinTimeout,
        Problem::CardError,
        Problem::FacilitySuspended { facility: "桜クリニック".into() },
        refused(Cure::CardLogin),
        refused(Cure::FacilityPc),
        refused(Cure::Conditions),
        Problem::EndedCardRemoved,
        Problem::EndedTimeout,
        Problem::EndedByAdmin,
        Problem::EndedTokenReused,
        Problem::EndedOtherTerminal,
        Problem::EndedIdle,
    ]
}

#[test]
fn every_problem_says_what_happened_and_what_to_do_in_both_languages() {
    for p in every() {
        for lang in [Lang::Ja, Lang::En] {
            for on_login_page in [true, false] {
                let html = p.render(lang, on_login_page, None).into_string();
                let code = p.code();
                assert!(html.contains(&format!("data-problem=\"{code}\"")), "{code}: {html}");
                assert!(html.contains("role=\"alert\""), "{code}: {html}");
                assert!(html.contains(&format!("<h2 id=\"problem-{code}\">{}</h2>", p.heading(lang))), "{html}");
                let paragraphs = html.matches("<p").count();
                assert!(paragraphs >= 1, "{code}: nothing says what to do: {html}");
                // A way on: the login page's own buttons, or a link.
                assert!(on_login_page || html.contains("href="), "{code}: no way on: {html}");
            }
        }
        assert_ne!(p.heading(Lang::Ja), p.heading(Lang::En), "{}", p.code());
    }
}

#[test]
fn codes_are_distinct_and_snake_case() {
    let mut codes: Vec<&str> = every().iter().map(Problem::code).collect();
    codes.dedup();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 26, "{codes:?}");
    assert!(codes.iter().all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')), "{codes:?}");
}

#[test]
fn the_data_a_problem_carries_is_shown_escaped() {
    let suspended = Problem::FacilitySuspended { facility: "桜<script>".into() };
    let html = suspended.render(Lang::Ja, false, None).into_string();
    assert!(html.contains("桜&lt;script&gt;") && !html.contains("<script>"), "{html}");
    assert!(html.contains("この施設は利用停止中です"), "{html}");
    let held = Problem::PcCertOnHold.render(Lang::En, false, Some("certificate 0A <b> is on hold")).into_string();
    assert!(held.contains("<span lang=\"en\">certificate 0A &lt;b&gt; is on hold</span>"), "{held}");
    let wrong = Problem::WrongPin { tries_left: Some(2) }.render(Lang::Ja, true, None).into_string();
    assert!(wrong.contains("PIN の残り回数: <strong>2</strong>"), "{wrong}");
    let en = Problem::WrongPin { tries_left: Some(2) }.render(Lang::En, true, None).into_string();
    assert!(en.contains("PIN tries left: <strong>2</strong>"), "{en}");
    let refused = every().into_iter().find(|p| p.code() == "service_refused").unwrap();
    let html = refused.render(Lang::Ja, false, None).into_string();
    assert!(html.contains("電子カルテ") && html.contains("カードでログインし直すと利用できます"), "{html}");
    assert!(html.contains("href=\"http://127.0.0.1:9/emr?error=access_denied&amp;state=s\""), "{html}");
}

#[test]
fn whom_to_contact_for_a_blocked_pin_depends_on_the_card() {
    let hpki = Problem::PinLocked { kind: CardKind::Hpki }.render(Lang::Ja, true, None).into_string();
    assert!(hpki.contains("HPKI 認証局") && hpki.contains("施設の管理者"), "{hpki}");
    let jpki = Problem::PinLocked { kind: CardKind::Jpki }.render(Lang::Ja, true, None).into_string();
    assert!(jpki.contains("市区町村の窓口"), "{jpki}");
    let en = Problem::PinLocked { kind: CardKind::Jpki }.render(Lang::En, true, None).into_string();
    assert!(en.contains("municipal office"), "{en}");
}

#[test]
fn the_last_try_is_used_only_after_a_labelled_confirmation() {
    let html = Problem::LastTry { kind: CardKind::Jpki }.render(Lang::Ja, true, None).into_string();
    assert!(html.contains("<input id=\"problem-confirm-last-try\" type=\"checkbox\""), "{html}");
    assert!(html.contains("<label for=\"problem-confirm-last-try\">"), "{html}");
    assert!(html.contains("data-kind=\"jpki\" data-last-try=\"yes\""), "{html}");
}
