//! The document-signing states of the page, rendered for each end a person can meet: each says what happened,
//! what to do, and that nothing was signed.

use std::sync::Arc;
use std::time::Duration;

use hcpki_html::Lang;

use super::view;
use crate::api::operations::{ApiFailure, Operations, Purpose};
use crate::document::signer::SignerShown;
use crate::document::{Document, Format, Level};
use crate::service::{CardKind, KeyRole};

#[test]
fn every_end_of_a_document_signature_says_nothing_was_signed_and_what_to_do() {
    let ops = Operations::new(Duration::from_secs(60));
    let shown = Arc::new(Document::new(Format::Cades, "同意書", None, b"ok".to_vec()).unwrap().shown(Level::BB));
    let purpose = Purpose::Document { origin: "https://portal.example".into(), shown, signer: SignerShown::default() };
    let op = ops.start("https://portal.example", purpose, CardKind::Jpki, KeyRole::Sign).unwrap();
    let failure = |code: &'static str, tries_left| ApiFailure { code, message: "agent says".into(), tries_left, ..Default::default() };
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
