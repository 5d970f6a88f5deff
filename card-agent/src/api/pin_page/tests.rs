//! The document-signing states of the page, rendered for each end a person can meet: each says what happened,
//! what to do, and that nothing was signed.

use std::sync::Arc;
use std::time::Duration;

use hcpki_agent_protocol::AuthPurpose;
use hcpki_html::Lang;

use super::view;
use crate::api::operations::{ApiFailure, Operations, Purpose};
use crate::document::signer::SignerShown;
use crate::document::{Document, Format, Level, Statement, StatementItem, StatementKind};
use crate::service::{CardKind, KeyRole};

#[test]
fn every_end_of_a_document_signature_says_nothing_was_signed_and_what_to_do() {
    let ops = Operations::new(Duration::from_secs(60));
    let shown = Arc::new(Document::new(Format::Cades, "同意書", None, b"ok".to_vec()).unwrap().shown(Level::BaselineB));
    let purpose = Purpose::Document { origin: "https://portal.example".into(), shown, signer: SignerShown::default() };
    let op = ops.start("https://portal.example", purpose, CardKind::Jpki, KeyRole::Sign, None).unwrap();
    let failure = |code: &'static str, tries_left| ApiFailure {
        code,
        message: "agent says".into(),
        tries_left,
        ..Default::default()
    };
    for (code, tries, ja, en) in [
        ("wrong_pin", Some(3), "PIN の残り回数は 3 回です。", "3 tries are left."),
        ("pin_blocked", Some(0), "市区町村の窓口", "The PIN is blocked"),
        ("pin_timeout", None, "7 秒以内に", "within 7 seconds"),
        ("cancelled", None, "キャンセルしました", "This operation was cancelled."),
        ("card_removed", None, "カードが抜かれました", "The card left the reader"),
        ("bad_document", None, "この文書には署名できません", "refused to sign this document"),
        ("no_time_stamp", None, "タイムスタンプを取得できませんでした", "no signed document was handed over"),
    ] {
        let page = view::failed(Lang::Ja, &op, &failure(code, tries), 7).into_string();
        assert!(page.contains(ja) && page.contains("文書には署名されていません。"), "{code} (ja): {page}");
        if ["wrong_pin", "pin_timeout", "cancelled", "card_removed"].contains(&code) {
            assert!(page.contains("依頼元の画面に戻"), "{code}: {page}");
        }
        let page = view::failed(Lang::En, &op, &failure(code, tries), 7).into_string();
        assert!(page.contains(en) && page.contains("Nothing was signed."), "{code} (en): {page}");
    }
    // A My Number card's signer is read after the password: the page says so instead of a name.
    let question = crate::service::PinQuestion::new(CardKind::Jpki, KeyRole::Sign, Some(5));
    let form = view::pin_form(Lang::Ja, &op, &question).into_string();
    assert!(form.contains("署名用パスワードの入力後に") && form.contains("同意書などへの電子署名"), "{form}");
    assert!(form.contains("マイナンバーカードの署名用パスワード（英数字 6〜16 文字）"), "{form}");
}

/// A consent PDF as the portal makes it (`consent_document::render`), of `kind`.
pub(in crate::api) fn consent_pdf(kind: StatementKind) -> (Statement, Vec<u8>) {
    let statement = Statement {
        kind,
        title: "診療情報の共有に関する同意書".into(),
        items: vec![
            StatementItem { label: "目的".into(), text: "他の医療機関との診療情報の共有".into() },
            StatementItem { label: "提供先".into(), text: "試験病院\n試験診療所".into() },
            StatementItem {
                label: "撤回の方法".into(), text: "いつでも受付で撤回できます。".into()
            },
        ],
        reference: "consent-4711".into(),
    };
    let pdf = hcpki_docsig::consent_document::render(&statement, 1_790_000_000).unwrap();
    (statement, pdf)
}

fn consent_op(ops: &Operations, kind: StatementKind, card: CardKind) -> Arc<crate::api::operations::Operation> {
    let (_, pdf) = consent_pdf(kind);
    let doc = Document::new(Format::Pades, "同意書", Some("consent.pdf"), pdf).unwrap();
    let shown = Arc::new(doc.shown(Level::BaselineB));
    let purpose = Purpose::Document { origin: "https://portal.example".into(), shown, signer: SignerShown::default() };
    ops.start("https://portal.example", purpose, card, KeyRole::Sign, None).unwrap()
}

/// The patient's page: the statement read from the PDF (title as the heading, each item's label and text, the
/// reference) in large type, in Japanese on both pages (`lang="ja"`), what signing means (and that it can be
/// withdrawn), the signing password's rules, "署名しない"; the technical facts folded away; a withdrawal and a
/// physician's attestation have their own words.
#[test]
fn the_consent_page_shows_the_statement_in_large_plain_words() {
    let ops = Operations::new(Duration::from_secs(60));
    let op = consent_op(&ops, StatementKind::Consent, CardKind::Jpki);
    let question = crate::service::PinQuestion::new(CardKind::Jpki, KeyRole::Sign, Some(5));
    let ja = view::pin_form(Lang::Ja, &op, &question).into_string();
    for want in [
        "<html lang=\"ja\">",
        "class=\"consent large-text\"",
        "<h1 lang=\"ja\">診療情報の共有に関する同意書</h1>",
        "同意書の内容をご確認ください",
        "<h2 lang=\"ja\">目的</h2><p lang=\"ja\">他の医療機関との診療情報の共有</p>",
        "<h2 lang=\"ja\">提供先</h2><p lang=\"ja\">試験病院\n試験診療所</p>",
        "consent-4711",
        "上の内容に同意したことになります",
        "撤回（取り消し）できます",
        "<label for=\"pin\">署名用パスワード（英数字6〜16文字）を入力してください</label>",
        "aria-describedby=\"pin-hint\"",
        "pattern=\"[A-Za-z0-9]{6,16}\"",
        "パスワードの残り回数：5 回",
        "同意して署名する",
        "署名しない",
        "<details>",
        "PDF 文書（PAdES 署名）",
    ] {
        assert!(ja.contains(want), "the consent page (ja) does not have {want:?}:\n{ja}");
    }
    assert!(!ja.contains("PIN"), "a patient's page says パスワード, not PIN:\n{ja}");
    let en = view::pin_form(Lang::En, &op, &question).into_string();
    for want in [
        "<html lang=\"en\">",
        "Please read the consent form",
        "<h1 lang=\"ja\">診療情報の共有に関する同意書</h1>",
        "You can withdraw (撤回) your consent",
        "Type your signing password (6 to 16 letters and digits)",
        "Do not sign",
    ] {
        assert!(en.contains(want), "the consent page (en) does not have {want:?}:\n{en}");
    }

    // Two tries left, then the last one: warned in the patient's words, the last one only with the box ticked.
    let two = view::pin_form(Lang::Ja, &op, &crate::service::PinQuestion::new(CardKind::Jpki, KeyRole::Sign, Some(2)));
    assert!(two.into_string().contains("aria-describedby=\"pin-hint pin-warning\""));
    let last = view::pin_form(Lang::Ja, &op, &crate::service::PinQuestion::new(CardKind::Jpki, KeyRole::Sign, Some(1)))
        .into_string();
    assert!(last.contains("市区町村の窓口で初期化するまで") && last.contains("name=\"confirm_last_try\""), "{last}");

    let withdrawal = consent_op(&ops, StatementKind::Withdrawal, CardKind::Jpki);
    let page = view::pin_form(Lang::Ja, &withdrawal, &question).into_string();
    for want in ["同意の撤回", "撤回書の内容をご確認ください", "上の同意を撤回", "撤回に署名する"]
    {
        assert!(page.contains(want), "the withdrawal page does not have {want:?}:\n{page}");
    }
    let attestation = consent_op(&ops, StatementKind::Attestation, CardKind::Hpki);
    let question = crate::service::PinQuestion::new(CardKind::Hpki, KeyRole::Sign, Some(15));
    let page = view::pin_form(Lang::Ja, &attestation, &question).into_string();
    for want in [
        "医師による同意の証明",
        "医師としてあなたの HPKI カードで証明します",
        "HPKI カードの署名用 PIN",
        "証明に署名する",
    ] {
        assert!(page.contains(want), "the attestation page does not have {want:?}:\n{page}");
    }
}

/// The ends a patient meets, in the patient's words: a wrong password with the tries left, a locked password
/// (the municipal office resets it; the physician can record an attestation today), the last try not allowed,
/// "do not sign", and the card problems; each says nothing was signed and to tell the staff.
#[test]
fn every_end_of_a_consent_says_what_to_do_in_the_patients_words() {
    let ops = Operations::new(Duration::from_secs(60));
    let op = consent_op(&ops, StatementKind::Consent, CardKind::Jpki);
    let failure = |code: &'static str, tries_left| ApiFailure {
        code,
        message: "agent says".into(),
        tries_left,
        ..Default::default()
    };
    for (code, tries, wants) in [
        (
            "wrong_pin",
            Some(4),
            &["署名用パスワードが違います", "パスワードの残りは 4 回です。", "もう一度署名するときや"][..],
        ),
        ("wrong_pin", Some(1), &["パスワードの残りは 1 回です。", "これが最後の 1 回です"][..]),
        ("pin_blocked", Some(0), &["署名用パスワードがロックされています", "市区町村の窓口", "医師による証明"][..]),
        (
            "last_try_not_confirmed",
            Some(1),
            &["署名用パスワードの残りが 1 回です", "残り回数は減っていません", "医師による証明"][..],
        ),
        ("cancelled", None, &["署名しませんでした", "「署名しない」が選ばれた"][..]),
        ("card_removed", None, &["カードが抜かれました"][..]),
        ("no_card", None, &["カードが見つかりません"][..]),
    ] {
        let page = view::failed(Lang::Ja, &op, &failure(code, tries), 7).into_string();
        assert_eq!(page.matches("担当者にお伝えください").count(), 1, "{code}: once:\n{page}");
        for want in wants.iter().chain(&[
            "文書には署名されていません。",
            "担当者にお伝えください。",
            "診療情報の共有に関する同意書",
        ]) {
            assert!(page.contains(want), "{code}: no {want:?}:\n{page}");
        }
        let en = view::failed(Lang::En, &op, &failure(code, tries), 7).into_string();
        assert!(en.contains("Nothing was signed.") && en.contains("please tell the staff."), "{code} (en): {en}");
    }
    let done = view::done(Lang::Ja, &op).into_string();
    assert!(done.contains("署名しました") && done.contains("カードをカードリーダーから抜いて"), "{done}");
}

/// A statement names its signer: a consent is the patient's (My Number card), an attestation the physician's (HPKI
/// card); the other card is refused before any card work. A PDF whose statement cannot be read is refused when it
/// is handed over: nothing is shown or signed.
#[test]
fn a_statement_is_signed_by_its_signer_and_one_that_cannot_be_read_is_refused() {
    let (_, pdf) = consent_pdf(StatementKind::Consent);
    let doc = Document::new(Format::Pades, "同意書", None, pdf.clone()).unwrap();
    assert_eq!(doc.statement().map(|s| s.reference.as_str()), Some("consent-4711"));
    assert!(doc.check_signer(CardKind::Jpki).is_ok());
    let refused = doc.check_signer(CardKind::Hpki).unwrap_err().to_string();
    assert!(refused.contains("the patient's My Number card") && refused.contains("nothing was signed"), "{refused}");
    let (_, attestation) = consent_pdf(StatementKind::Attestation);
    let doc = Document::new(Format::Pades, "証明", None, attestation).unwrap();
    assert!(doc.check_signer(CardKind::Hpki).is_ok() && doc.check_signer(CardKind::Jpki).is_err());

    // One character of the embedded statement changed: the agent cannot vouch for what it would show.
    let at = pdf.windows(6).position(|w| w == b"consen").unwrap();
    let mut tampered = pdf.clone();
    tampered[at] = b'C';
    let err = Document::new(Format::Pades, "同意書", None, tampered).unwrap_err().to_string();
    assert!(err.contains("cannot read") && err.contains("signs nothing"), "{err}");
}

/// The Smart Card service not running (issue #44): on Windows the page says the service stops while no reader is
/// plugged in and to plug one in, with no restart of the agent; elsewhere, to restart the PC. The page shows this
/// platform's words.
#[test]
fn no_service_says_what_to_do_on_each_platform() {
    use super::words::no_service_help;
    use crate::platform::Platform;
    for lang in [Lang::Ja, Lang::En] {
        let windows = no_service_help(lang, Platform::Windows);
        let unix = no_service_help(lang, Platform::Unix);
        assert!(windows.contains("Windows") && !unix.contains("Windows"), "{windows} / {unix}");
    }
    assert!(no_service_help(Lang::Ja, Platform::Windows).contains("カードリーダーがつながっているか"));
    assert!(no_service_help(Lang::En, Platform::Windows).contains("no restart needed"));
    let ops = Operations::new(Duration::from_secs(60));
    let op = ops
        .start(
            "https://portal.example",
            Purpose::Login { origin: "https://portal.example".into(), what: AuthPurpose::Login },
            CardKind::Hpki,
            KeyRole::Auth,
            None,
        )
        .unwrap();
    let failure = ApiFailure { code: "no_service", message: "x".into(), ..Default::default() };
    let page = view::failed(Lang::En, &op, &failure, 7).into_string();
    assert!(page.contains(no_service_help(Lang::En, Platform::CURRENT)), "{page}");
}

/// A patient identified at reception sees what they are doing — 受付での本人確認, not a portal login — in large
/// type, asked for the 4-digit user-authentication PIN (never the signing password), in either language; the
/// physician's login keeps its words. Each end of an identification sends the patient to the reception staff.
#[test]
fn an_identification_says_so_and_asks_for_the_four_digit_pin() {
    let ops = Operations::new(Duration::from_secs(60));
    let start = |what| {
        let purpose = Purpose::Login { origin: "https://portal.example".into(), what };
        ops.start("https://portal.example", purpose, CardKind::Jpki, KeyRole::Auth, None).unwrap()
    };
    let identify = start(AuthPurpose::Identification);
    let question = crate::service::PinQuestion::new(CardKind::Jpki, KeyRole::Auth, Some(3));
    let ja = view::pin_form(Lang::Ja, &identify, &question).into_string();
    for expected in [
        "class=\"identify large-text\"",
        "受付での本人確認",
        "マイナンバーカードの暗証番号（数字 4 桁）を入力してください",
        "マイナンバーカードの利用者証明用暗証番号（数字 4 桁）",
        "署名用の 6〜16 文字のパスワードではありません",
        "minlength=\"4\" maxlength=\"4\"",
        "inputmode=\"numeric\"",
        ">確認する</button>",
    ] {
        assert!(ja.contains(expected), "{expected}: {ja}");
    }
    assert!(!ja.contains("ポータルへのログイン") && !ja.contains("署名用パスワード（"), "{ja}");
    let en = view::pin_form(Lang::En, &identify, &question).into_string();
    assert!(en.contains("Confirming who you are at reception") && en.contains("<html lang=\"en\""), "{en}");
    assert!(en.contains("not the 6 to 16 character signing password") && !en.contains("Logging in"), "{en}");

    let login = start(AuthPurpose::Login);
    let physician = view::pin_form(Lang::Ja, &login, &question).into_string();
    assert!(physician.contains("ポータルへのログイン") && !physician.contains("受付での本人確認"), "{physician}");

    let done = view::done(Lang::Ja, &identify).into_string();
    assert!(done.contains("large-text") && done.contains("受付の担当者にお伝えください"), "{done}");
    for code in ["wrong_pin", "cancelled", "card_removed", "no_card"] {
        let failure = ApiFailure { code, message: "x".into(), tries_left: Some(2), ..Default::default() };
        let page = view::failed(Lang::Ja, &identify, &failure, 7).into_string();
        assert!(page.contains("受付の担当者") && !page.contains("ログインしてください"), "{code}: {page}");
        assert!(page.contains("受付での本人確認（ログインではありません）"), "{code}: {page}");
    }
}

/// On a PIN-pad reader (issue #45 item 7) the page says where to type and has no PIN field, in both languages; a
/// consent's page keeps the statement and says the same instead of its form, and follows the operation (reloads).
#[test]
fn on_a_pin_pad_the_page_says_where_to_type_and_asks_for_nothing() {
    let ops = Operations::new(Duration::from_secs(60));
    let purpose = Purpose::Login { origin: "https://portal.example".into(), what: AuthPurpose::Identification };
    let op = ops.start("https://portal.example", purpose, CardKind::Jpki, KeyRole::Auth, None).unwrap();
    let mut question = crate::service::PinQuestion::new(CardKind::Jpki, KeyRole::Auth, Some(3));
    question.on_pad = true;
    let page = view::pin_form(Lang::Ja, &op, &question).into_string();
    assert!(page.contains("カードリーダーのキーパッドで暗証番号を入力してください"), "{page}");
    assert!(!page.contains("name=\"pin\""), "no PIN field on a pad: {page}");
    let page = view::pin_form(Lang::En, &op, &question).into_string();
    assert!(
        page.contains("Type the PIN on the card reader's keypad") && page.contains("never reaches this PC"),
        "{page}"
    );

    let consent = consent_op(&ops, StatementKind::Consent, CardKind::Jpki);
    let mut question = crate::service::PinQuestion::new(CardKind::Jpki, KeyRole::Sign, Some(5));
    question.on_pad = true;
    let page = view::pin_form(Lang::Ja, &consent, &question).into_string();
    assert!(page.contains("診療情報の共有に関する同意書") && page.contains("キーパッド"), "{page}");
    assert!(!page.contains("name=\"pin\"") && page.contains("http-equiv=\"refresh\""), "{page}");
}
