//! The card agent's PIN page as a physician meets it (issue #26): the real `hcpki-agent` with a virtual HPKI
//! card behind the real pcscd, the page opened in headless Chromium (`tests/peers/chromium.py`) as the portal's
//! window opens it. In Japanese and English it names the site asking and what for, the card and its holder, the
//! tries left; it is used with the keyboard only (the PIN field has the focus, keys type the PIN, Enter
//! submits); each state a person can meet — wrong PIN, the last try, the PIN blocked, the card pulled out
//! during entry, no PIN typed in time — says what happened and what to do; and axe-core finds no serious or
//! critical WCAG 2.1 AA violation on any of them ([`crate::accessibility`]).
//!
//! Screenshots (`pin-ja.png`, `pin-en.png`, `pin-wrong.png`, `pin-last-try.png`, `pin-locked.png`, and the patient's
//! consent page `agent-consent-ja.png`, `agent-consent-wrong-ja.png`) are taken on
//! every run into the test's directory; `HCPKI_UPDATE_SCREENSHOTS=1` also copies them to `docs/screenshots/`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::accessibility::assert_wcag21_aa;
use crate::agent::{self, Served, hpki, jpki};
use crate::browser::Chromium;
use crate::harness::{keep_artifacts, repo_root};
use crate::pcsc_lock::pcsc_lock;

/// The portal whose login the agent signs for (nothing listens there: the test plays the portal's script).
const PORTAL: &str = "https://portal.example";
/// The virtual HPKI card's authentication PIN (fifteen tries).
const PIN: &str = "hpki1234";
/// The virtual My Number card's authentication PIN (three tries), and one it is not.
const JPKI_PIN: &str = "1234";
const JPKI_WRONG: &str = "9999";

#[test]
fn in_japanese_and_english_accessible_and_typed_with_the_keyboard_only() {
    let _pcsc = pcsc_lock();
    let t = Scene::new("pin-page");
    let _card = agent::insert(hpki(), 0);
    // Everything the agent can log (`HCPKI_LOG=trace`), to show the PIN is not in it.
    let log = t.dir.join("agent.log");
    let agent = Served::start_logging_to(PORTAL, "127.0.0.1:0", &log);
    agent.wait_card(0, "hpki");
    let mut browser = t.browser();

    // Japanese first: the browser asks for ja, as a Japanese clinic PC does.
    let op = Login::start(&agent, "hpki", false);
    browser.goto(&op.pin_url);
    assert_eq!(browser.eval("document.documentElement.lang"), "ja");
    let text = page_text(&mut browser);
    let tries = format!("{} 回", op.tries_left);
    for want in
        ["カードの PIN を入力してください", PORTAL, "ポータルへのログイン", "HPKI カード", "試験\u{3000}太郎", &tries]
    {
        assert!(text.contains(want), "the Japanese page does not say {want:?}:\n{text}");
    }
    // A label names the field; it takes no autofill, and its typed characters are never shown.
    let field = browser.eval(
        "(() => { const i = document.getElementById('pin'); return [i.type, i.autocomplete, i.labels.length, \
         i.required, document.activeElement === i]; })()",
    );
    assert_eq!(field, json!(["password", "off", 1, true, true]), "the PIN field");
    assert_wcag21_aa(&mut browser, "main", "the PIN page (ja)");
    t.screenshot(&mut browser, "pin-ja.png");

    // The switch, as on the console: the same page in English, kept by its cookie.
    browser.goto(&format!("{}?lang=en", op.pin_url));
    assert_eq!(browser.eval("document.documentElement.lang"), "en");
    let text = page_text(&mut browser);
    for want in ["Enter your card's PIN", PORTAL, "Logging in to the portal", "HPKI card", "PIN tries left"] {
        assert!(text.contains(want), "the English page does not say {want:?}:\n{text}");
    }
    assert_wcag21_aa(&mut browser, "main", "the PIN page (en)");
    t.screenshot(&mut browser, "pin-en.png");
    browser.goto(&op.pin_url);
    assert_eq!(browser.eval("document.documentElement.lang"), "en", "the switch's choice is kept");
    browser.goto(&format!("{}?lang=ja", op.pin_url));

    // Keyboard only: the focus is already in the PIN field (autofocus); keys type the PIN, Enter submits.
    wait_focus_on_pin(&mut browser);
    let typed = browser.cmd(json!({"cmd": "keys", "text": PIN}));
    assert_eq!(typed["focused"], "pin");
    browser.cmd(json!({"cmd": "key", "key": "Enter"}));
    wait_heading(&mut browser, "完了しました");
    assert_eq!(op.finish(&agent)["status"], "done");
    assert_wcag21_aa(&mut browser, "main", "the PIN page after signing");
    // The focus is visible: a focused control has an outline (the style's :focus-visible after a key press).
    browser.goto(&Login::start(&agent, "hpki", false).pin_url);
    browser.cmd(json!({"cmd": "key", "key": "Tab"}));
    let outline = browser.eval("getComputedStyle(document.activeElement).outlineStyle");
    assert_eq!(outline, "solid", "the keyboard focus is not visible");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("signing requested") && !logged.contains(PIN), "the agent's log:\n{logged}");
    t.publish(&["pin-ja.png", "pin-en.png"]);
}

#[test]
fn every_state_says_what_happened_and_what_to_do() {
    let _pcsc = pcsc_lock();
    let t = Scene::new("pin-page-states");
    let mut card = agent::insert(jpki(), 0);
    let agent = Served::start_with(PORTAL, "127.0.0.1:0", &[]);
    agent.wait_card(0, "jpki");
    let mut browser = t.browser();

    // A My Number card (three tries). A wrong PIN: the tries left, and to log in again.
    let wrong = Login::start(&agent, "jpki", false);
    submit_pin(&mut browser, &wrong.pin_url, JPKI_WRONG);
    wait_heading(&mut browser, "PIN が違います");
    assert!(page_text(&mut browser).contains("PIN の残り回数は 2 回です。"), "{}", page_text(&mut browser));
    assert_wcag21_aa(&mut browser, "main", "the wrong-PIN page");
    t.screenshot(&mut browser, "pin-wrong.png");
    assert_eq!(wrong.finish(&agent)["error"]["code"], "wrong_pin");

    // Again: one try left, and the page warns that the next wrong PIN blocks the card.
    let second = Login::start(&agent, "jpki", false);
    submit_pin(&mut browser, &second.pin_url, JPKI_WRONG);
    wait_heading(&mut browser, "PIN が違います");
    assert!(page_text(&mut browser).contains("次に間違えると PIN がロックされます"));

    // With one try left the agent asks for no PIN unless the login allowed the last try.
    let guarded = Login::start_until(&agent, "jpki", false, "failed");
    browser.goto(&guarded.pin_url);
    wait_heading(&mut browser, "PIN の残りが 1 回です");
    assert_wcag21_aa(&mut browser, "main", "the page of a login that may not spend the last try");

    // Allowed: the page warns, and the PIN goes to the card only with the confirmation box ticked.
    let last = Login::start(&agent, "jpki", true);
    browser.goto(&last.pin_url);
    let text = page_text(&mut browser);
    assert!(text.contains("これが最後の 1 回です"), "{text}");
    assert_eq!(browser.eval("document.getElementById('confirm-last-try').required"), true);
    assert_eq!(browser.eval("document.getElementById('pin').getAttribute('aria-describedby')"), "pin-warning");
    assert_wcag21_aa(&mut browser, "main", "the last-try page");
    t.screenshot(&mut browser, "pin-last-try.png");
    // The box is required by the browser, and by the agent: a form posted without it (the attribute taken away
    // here) is refused and its PIN not used; the notice links back to the form.
    browser.eval("document.getElementById('confirm-last-try').required = false");
    wait_focus_on_pin(&mut browser);
    browser.cmd(json!({"cmd": "keys", "text": JPKI_WRONG}));
    browser.cmd(json!({"cmd": "key", "key": "Enter"}));
    wait_heading(&mut browser, "最後の 1 回の確認がありません");
    assert_wcag21_aa(&mut browser, "main", "the refusal of an unconfirmed last try");
    assert_eq!(last.poll(&agent, |_| true)["status"], "pin_required", "the unconfirmed PIN was used");
    let back = browser.eval("document.querySelector('main a').href");
    assert_eq!(browser.goto(back.as_str().unwrap()), format!("{}?lang=ja", last.pin_url));
    // Keys only: the PIN, Tab to the box, Space ticks it, Enter submits — the wrong PIN blocks the card.
    wait_focus_on_pin(&mut browser);
    browser.cmd(json!({"cmd": "keys", "text": JPKI_WRONG}));
    assert_eq!(browser.cmd(json!({"cmd": "key", "key": "Tab"}))["focused"], "confirm-last-try");
    browser.cmd(json!({"cmd": "key", "key": " "}));
    browser.cmd(json!({"cmd": "key", "key": "Enter"}));
    wait_heading(&mut browser, "PIN がロックされています");
    assert_eq!(last.finish(&agent)["error"]["code"], "pin_blocked");

    // Blocked, on the next login: whom to turn to.
    let blocked = Login::start_until(&agent, "jpki", false, "failed");
    browser.goto(&blocked.pin_url);
    wait_heading(&mut browser, "PIN がロックされています");
    assert!(page_text(&mut browser).contains("市区町村の窓口"), "{}", page_text(&mut browser));
    assert_wcag21_aa(&mut browser, "main", "the PIN-blocked page");
    t.screenshot(&mut browser, "pin-locked.png");
    browser.goto(&format!("{}?lang=en", blocked.pin_url));
    wait_heading(&mut browser, "The PIN is blocked");
    assert_wcag21_aa(&mut browser, "main", "the PIN-blocked page (en)");
    browser.goto(&format!("{}?lang=ja", blocked.pin_url));

    // A fresh card; pulled out while its PIN page is open: the PIN is refused for a card that is gone.
    card.remove();
    agent.wait_empty(0);
    card = agent::insert(jpki(), 0);
    agent.wait_card(0, "jpki");
    let pulled = Login::start(&agent, "jpki", false);
    browser.goto(&pulled.pin_url);
    card.remove();
    agent.wait_empty(0);
    wait_focus_on_pin(&mut browser);
    browser.cmd(json!({"cmd": "keys", "text": JPKI_PIN}));
    browser.cmd(json!({"cmd": "key", "key": "Enter"}));
    wait_heading(&mut browser, "カードが抜かれました");
    assert_wcag21_aa(&mut browser, "main", "the card-removed page");
    assert_eq!(pulled.finish(&agent)["error"]["code"], "card_removed");
    drop(card);

    // No PIN typed in time (an agent whose pin_timeout_secs is 2).
    let config = t.dir.join("agent.toml");
    std::fs::write(&config, "version = 1\npin_timeout_secs = 2\n").unwrap();
    let card = agent::insert(jpki(), 0);
    drop(agent);
    let agent = Served::start_with(PORTAL, "127.0.0.1:0", &["--config", config.to_str().unwrap()]);
    agent.wait_card(0, "jpki");
    let late = Login::start(&agent, "jpki", false);
    browser.goto(&late.pin_url);
    assert_eq!(late.finish(&agent)["error"]["code"], "pin_timeout");
    browser.goto(&late.pin_url);
    wait_heading(&mut browser, "時間切れです");
    assert!(page_text(&mut browser).contains("2 秒以内に"), "{}", page_text(&mut browser));
    assert_wcag21_aa(&mut browser, "main", "the timed-out page");
    assert_eq!(card.card().stats().signatures, 0);
    // An operation the agent does not know (expired, or a mistyped address).
    let unknown = format!("{}/pin/unknown", late.pin_url.split("/pin/").next().unwrap());
    browser.goto(&unknown);
    wait_heading(&mut browser, "この操作は見つかりません");
    assert_wcag21_aa(&mut browser, "main", "the page of an unknown operation");
    t.publish(&["pin-wrong.png", "pin-last-try.png", "pin-locked.png"]);
}

/// A document signature on the agent's own page (issue #27 item 2): it names who asks, what is signed (type,
/// title, file name, size, the SHA-256 in full, the content as the agent read it) and who signs (the signature
/// certificate's holder and hcRole) before the HPKI signature PIN; a wrong PIN counts down and signs nothing, a
/// cancel and a card pulled out say so too; the right PIN gives a .p7s by the signature key. axe-core clean in
/// both languages; the agent's log names the document's and the signer certificate's SHA-256, never the PIN, the
/// title or the content. An e-prescription CSV that reads two ways is refused before any PIN, the card untouched;
/// a valid one is shown with each drug's 力価フラグ (issue #42 item 5).
#[test]
fn a_document_signature_shows_what_is_signed_and_who_signs() {
    let _pcsc = pcsc_lock();
    let t = Scene::new("sign-page");
    let mut card = agent::insert(hpki(), 0);
    let log = t.dir.join("agent.log");
    let agent = Served::start_logging_to(PORTAL, "127.0.0.1:0", &log);
    agent.wait_card(0, "hpki");
    let mut browser = t.browser();
    let content = "{\"resourceType\":\"Bundle\",\"type\":\"document\",\"id\":\"referral-secret-4711\"}\n";
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(content.as_bytes()));

    // A login cannot be pointed at the signature key: only POST /v1/documents reaches it.
    let login = json!({"challenge": "A".repeat(43), "kind": "hpki", "role": "sign"}).to_string();
    let (code, refused) = agent.http("POST", "/v1/sign", PORTAL, "application/json", &login);
    assert_eq!(
        (code, serde_json::from_str::<Value>(&refused).unwrap()["error"]["code"].clone()),
        (400, json!("sign_key_not_for_login"))
    );

    let op = Login::document(&agent, content);
    browser.goto(&op.pin_url);
    let text = page_text(&mut browser);
    let grouped: Vec<&str> = (0..8).map(|i| &sha[i * 8..i * 8 + 8]).collect();
    for want in [
        "文書に電子署名します",
        PORTAL,
        "ログインには使われません",
        "CAdES 分離署名（.p7s）",
        "診療情報提供書（試験）",
        "referral.json",
        "FHIR リソース（Bundle）",
        &grouped.join(" "),
        "試験\u{3000}太郎",
        "Medical Doctor",
        "HPKI カードの署名用 PIN（半角の英数字・記号 4〜16 文字）",
        "15 回",
        "署名する",
    ] {
        assert!(text.contains(want), "the Japanese signing page does not say {want:?}:\n{text}");
    }
    assert_wcag21_aa(&mut browser, "main", "the signing page (ja)");
    t.screenshot(&mut browser, "sign-ja.png");
    browser.goto(&format!("{}?lang=en", op.pin_url));
    let text = page_text(&mut browser);
    for want in ["Signing a document", "never used for logins", "Title (requester's)", "a FHIR resource"] {
        assert!(text.contains(want), "the English signing page does not say {want:?}:\n{text}");
    }
    assert_wcag21_aa(&mut browser, "main", "the signing page (en)");
    t.screenshot(&mut browser, "sign-en.png");
    browser.goto(&format!("{}?lang=ja", op.pin_url));

    // A wrong PIN: the tries left, nothing signed.
    submit_pin(&mut browser, &op.pin_url, "wrong-pin");
    wait_heading(&mut browser, "PIN が違います");
    let text = page_text(&mut browser);
    assert!(text.contains("PIN の残り回数は 14 回です。") && text.contains("文書には署名されていません。"), "{text}");
    assert_wcag21_aa(&mut browser, "main", "the signing page after a wrong PIN");
    t.screenshot(&mut browser, "sign-wrong.png");
    assert_eq!(op.finish(&agent)["error"]["code"], "wrong_pin");

    // Cancelled: nothing signed.
    let cancelled = Login::document(&agent, content);
    browser.goto(&cancelled.pin_url);
    browser.eval("document.querySelector('button[value=cancel]').click()");
    wait_heading(&mut browser, "キャンセルしました");
    assert!(page_text(&mut browser).contains("文書には署名されていません。"));
    assert_eq!(cancelled.finish(&agent)["error"]["code"], "cancelled");

    // The right PIN: a .p7s by the signature key over exactly this document.
    let signed = Login::document(&agent, content);
    submit_pin(&mut browser, &signed.pin_url, PIN);
    wait_heading(&mut browser, "完了しました");
    let done = signed.finish(&agent);
    let p7s = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        done["result"]["document"]["content"].as_str().unwrap(),
    )
    .unwrap();
    let checked = hcpki_docsig::signature::cades::verify(&p7s, content.as_bytes()).unwrap();
    let signature_cert = hpki().certificates().into_iter().find(|(n, _)| *n == "signature").unwrap().1.to_vec();
    assert_eq!(x509_cert::der::Encode::to_der(&checked.signer).unwrap(), signature_cert);

    // An e-prescription (issue #42 item 5). A CSV that reads two ways is refused by the API before any PIN is
    // asked, with its line in Japanese and English (the portal's page shows the message as it is), and the card is
    // not touched; a valid one is shown on the page as the strict reader reads it, each drug with its 力価フラグ.
    let prescription = |csv: &[u8]| {
        let content = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, csv);
        json!({"format": "xades-eprescription", "title": "処方箋", "file_name": "rx.csv", "kind": "hpki",
            "content": content})
        .to_string()
    };
    let untouched = card.card().stats();
    for (what, csv, [ja, en]) in crate::xades::ambiguous() {
        let (code, body) = agent.http("POST", "/v1/documents", PORTAL, "application/json", &prescription(&csv));
        let refused: Value = serde_json::from_str(&body).unwrap();
        assert_eq!((code, refused["error"]["code"].as_str()), (400, Some("bad_document")), "{what}: {body}");
        let message = refused["error"]["message"].as_str().unwrap_or_default();
        for want in [ja, en, "処方箋 CSV を一通りに読めないため署名できません", "nothing was signed"]
        {
            assert!(message.contains(want), "{what}: {want:?} not in {message}");
        }
    }
    assert_eq!(card.card().stats(), untouched, "the card was touched for a prescription it never signs");
    let rx = Login::started(&agent, "/v1/documents", &prescription(crate::xades::CSV.as_bytes()), "pin_required");
    browser.goto(&rx.pin_url);
    let text = page_text(&mut browser);
    for want in [
        "電子処方箋（XAdES 署名）",
        "処方 花子（ショホウ ハナコ）",
        "Rp1-1 ロキソプロフェンNa錠60mg 3錠（力価フラグ 1: 薬価単位）",
        "Rp3-1 【般】アモキシシリンカプセル 750ｍｇ（力価フラグ 2: 力価単位）",
        "［後発品変更不可］",
    ] {
        assert!(text.contains(want), "the e-prescription page does not say {want:?}:\n{text}");
    }
    assert_wcag21_aa(&mut browser, "main", "the e-prescription signing page (ja)");
    browser.goto(&format!("{}?lang=en", rx.pin_url));
    let text = page_text(&mut browser);
    assert!(text.contains("750 ｍｇ (potency flag 2: amount of the active ingredient)"), "{text}");
    browser.goto(&format!("{}?lang=ja", rx.pin_url));
    browser.eval("document.querySelector('button[value=cancel]').click()");
    wait_heading(&mut browser, "キャンセルしました");
    assert_eq!(rx.finish(&agent)["error"]["code"], "cancelled");
    assert_eq!(card.card().stats().signatures, untouched.signatures);

    // Pulled out while the page waits for the PIN: nothing signed.
    let pulled = Login::document(&agent, content);
    browser.goto(&pulled.pin_url);
    card.remove();
    agent.wait_empty(0);
    submit_pin(&mut browser, &pulled.pin_url, PIN);
    wait_heading(&mut browser, "カードが抜かれました");
    assert!(page_text(&mut browser).contains("文書には署名されていません。"));
    assert_wcag21_aa(&mut browser, "main", "the signing page after the card was pulled");
    assert_eq!(pulled.finish(&agent)["error"]["code"], "card_removed");
    drop(card);

    let logged = std::fs::read_to_string(&log).unwrap();
    let signer_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&signature_cert));
    let signed_line =
        logged.lines().find(|l| l.contains("document signed with the card's signature key")).unwrap_or("");
    assert!(signed_line.contains(&sha) && signed_line.contains(&signer_sha), "{logged}");
    for secret in [PIN, "referral-secret-4711", "診療情報提供書"] {
        assert!(!logged.contains(secret), "the agent logged {secret:?}");
    }
    t.publish(&["sign-ja.png", "sign-en.png", "sign-wrong.png"]);
}

/// The patient's consent (issue #28) on the agent's own page, the My Number card behind the real pcscd: the
/// consent PDF as the portal renders it (`consent_document::render`) is shown as its statement in large, plain
/// Japanese (title, items, what signing means, the signing password's rules) and in English, axe-core clean; a
/// wrong password counts down in the patient's words; the right one gives a PAdES PDF that pyHanko finds intact and
/// trusted under the JPKI signing CA, signed by the card's signing certificate, with the card's user-authentication
/// certificate beside it (`result.document.authentication_certificate`). Before that, the card problems a patient
/// meets end `failed` with their code and a page that says what to do: the physician's HPKI card in the reader
/// (`wrong_card`), two My Number cards in two readers (`several_cards`, naming both); and after it the card pulled
/// out during the signature (`card_removed`, the card made no signature). Screenshots `agent-consent-ja.png` and
/// `agent-consent-wrong-ja.png`.
#[test]
fn a_patient_signs_a_consent_with_the_my_number_card() {
    use hcpki_docsig::consent_document::{Item, Kind, Statement};
    let _pcsc = pcsc_lock();
    let t = Scene::new("consent-page");
    let statement = Statement {
        kind: Kind::Consent,
        title: "診療情報の共有に関する同意書".into(),
        items: vec![
            Item {
                label: "目的".into(), text: "この医療機関の診療情報を、あなたの受診歴と結び付けるため".into()
            },
            Item { label: "提供先".into(), text: "試験病院（連携先の医療機関）".into() },
            Item {
                label: "撤回の方法".into(),
                text: "いつでも受付で撤回できます。撤回はすぐに有効になります。".into(),
            },
        ],
        reference: "consent-pcsc-0001".into(),
    };
    let pdf = hcpki_docsig::consent_document::render(&statement, 1_790_000_000).unwrap();

    // The physician's HPKI card is still in the only reader: refused, naming it, nothing asked.
    let hpki_card = agent::insert(hpki(), 0);
    let log = t.dir.join("agent.log");
    let agent = Served::start_logging_to(PORTAL, "127.0.0.1:0", &log);
    agent.wait_card(0, "hpki");
    let mut browser = t.browser();
    let refused = Login::consent(&agent, &pdf, "failed");
    let ended = refused.finish(&agent);
    assert_eq!((ended["error"]["code"].as_str(), ended["error"]["found"].as_str()), (Some("wrong_card"), Some("hpki")));
    browser.goto(&refused.pin_url);
    wait_heading(&mut browser, "別の種類のカードが入っています");
    let text = page_text(&mut browser);
    assert!(
        text.contains("ここで使うのはマイナンバーカードです") && text.contains("文書には署名されていません。"),
        "{text}"
    );
    assert_wcag21_aa(&mut browser, "main", "the consent refused for the HPKI card");
    drop(hpki_card);
    agent.wait_empty(0);

    // Two patients' cards in two readers: which readers, and to leave one.
    let mut card = agent::insert(jpki(), 0);
    let other = agent::insert(jpki(), 1);
    agent.wait_card(0, "jpki");
    agent.wait_card(1, "jpki");
    let two = Login::consent(&agent, &pdf, "failed");
    let ended = two.finish(&agent);
    assert_eq!(ended["error"]["code"], "several_cards", "{ended}");
    assert_eq!(ended["error"]["readers"], json!(["Virtual PCD 00 00", "Virtual PCD 00 01"]));
    browser.goto(&two.pin_url);
    wait_heading(&mut browser, "同じ種類のカードが複数あります");
    assert!(page_text(&mut browser).contains("Virtual PCD 00 00、Virtual PCD 00 01"));
    assert_wcag21_aa(&mut browser, "main", "the consent refused for two cards");
    drop(other);
    agent.wait_empty(1);

    // The patient's page: the statement in large type, Japanese first.
    let op = Login::consent(&agent, &pdf, "pin_required");
    assert_eq!(op.tries_left, 5);
    browser.goto(&op.pin_url);
    assert_eq!(browser.eval("document.documentElement.lang"), "ja");
    let text = page_text(&mut browser);
    for want in [
        "同意書の内容をご確認ください",
        "診療情報の共有に関する同意書",
        "目的",
        "この医療機関の診療情報を、あなたの受診歴と結び付けるため",
        "試験病院（連携先の医療機関）",
        "consent-pcsc-0001",
        "同意は、あとからいつでも撤回（取り消し）できます。",
        "署名用パスワード（英数字6〜16文字）を入力してください",
        "パスワードの残り回数：5 回",
        "同意して署名する",
        "署名しない",
    ] {
        assert!(text.contains(want), "the consent page does not say {want:?}:\n{text}");
    }
    let large = browser.eval(
        "(() => { const c = document.querySelector('.large-text'); const h = document.querySelector('h1'); \
         return [parseFloat(getComputedStyle(c).fontSize) / parseFloat(getComputedStyle(document.body).fontSize), \
         h.lang]; })()",
    );
    assert!(large[0].as_f64().unwrap() >= 1.25 && large[1] == "ja", "large type, the title in Japanese: {large}");
    assert_wcag21_aa(&mut browser, "main", "the consent page (ja)");
    t.screenshot(&mut browser, "agent-consent-ja.png");
    browser.goto(&format!("{}?lang=en", op.pin_url));
    let text = page_text(&mut browser);
    for want in ["Please read the consent form", "診療情報の共有に関する同意書", "You can withdraw", "Agree and sign"]
    {
        assert!(text.contains(want), "the English consent page does not say {want:?}:\n{text}");
    }
    assert_wcag21_aa(&mut browser, "main", "the consent page (en)");
    browser.goto(&format!("{}?lang=ja", op.pin_url));

    // A wrong password (in the right format): the tries left, in the patient's words; nothing signed.
    submit_pin(&mut browser, &op.pin_url, "WRONG123");
    wait_heading(&mut browser, "署名用パスワードが違います");
    let text = page_text(&mut browser);
    assert!(text.contains("パスワードの残りは 4 回です。") && text.contains("担当者にお伝えください。"), "{text}");
    assert_wcag21_aa(&mut browser, "main", "the consent page after a wrong password");
    t.screenshot(&mut browser, "agent-consent-wrong-ja.png");
    assert_eq!(op.finish(&agent)["error"]["tries_left"], 4);

    // The right password: a PAdES PDF signed by the signing key, with the user-authentication certificate.
    let signed = Login::consent(&agent, &pdf, "pin_required");
    let at_password = card.card().stats().apdus;
    submit_pin(&mut browser, &signed.pin_url, "sign1234");
    wait_heading(&mut browser, "署名しました");
    assert_wcag21_aa(&mut browser, "main", "the consent signed");
    let done = signed.finish(&agent);
    let signing_apdus = card.card().stats().apdus - at_password;
    let b64 =
        |v: &Value| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, v.as_str().unwrap()).unwrap();
    let document = &done["result"]["document"];
    assert_eq!((document["format"].as_str(), document["level"].as_str()), (Some("pades"), Some("B-B")), "{done}");
    let cert = |name: &str| jpki().certificates().into_iter().find(|(n, _)| *n == name).unwrap().1.to_vec();
    assert_eq!(b64(&document["authentication_certificate"]), cert("auth"));
    let signed_pdf = b64(&document["content"]);
    assert!(signed_pdf.starts_with(&pdf), "the consent PDF changed");
    let checked = hcpki_docsig::signature::pades::verify(&signed_pdf).unwrap();
    assert_eq!(checked.signatures.len(), 1);
    assert_eq!(x509_cert::der::Encode::to_der(&checked.signatures[0].signer).unwrap(), cert("sign"));
    assert_eq!(hcpki_docsig::consent_document::read(&signed_pdf).unwrap(), Some(statement.clone()));
    let file = t.dir.join("consent.signed.pdf");
    std::fs::write(&file, &signed_pdf).unwrap();
    let sign_ca = t.dir.join("jpki-sign-ca.pem");
    crate::cades::write_pem(&sign_ca, "CERTIFICATE", &cert("sign-ca"));
    let out = crate::pades::pyhanko_validate(&file, &sign_ca, &sign_ca);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("INTACT:TRUSTED"), "pyHanko\n{}", crate::harness::describe(&out));

    // Pulled out during the signing transaction, before the card signs: nothing signed, and the page says so.
    let pulled = Login::consent(&agent, &pdf, "pin_required");
    let signatures = card.card().stats().signatures;
    card.remove_after_apdus(signing_apdus - 1);
    submit_pin(&mut browser, &pulled.pin_url, "sign1234");
    wait_heading(&mut browser, "カードが抜かれました");
    assert!(page_text(&mut browser).contains("文書には署名されていません。"));
    assert_wcag21_aa(&mut browser, "main", "the consent page after the card was pulled");
    assert_eq!(pulled.finish(&agent)["error"]["code"], "card_removed");
    assert!(card.wait_removed(Duration::from_secs(5)));
    assert_eq!(card.card().stats().signatures, signatures);
    card.remove();

    let logged = std::fs::read_to_string(&log).unwrap();
    for secret in ["sign1234", "SIGN1234", "WRONG123", "受診歴"] {
        assert!(!logged.contains(secret), "the agent logged {secret:?}");
    }
    assert!(logged.contains("consent-pcsc-0001"), "the consent's reference is in the log");
    t.publish(&["agent-consent-ja.png", "agent-consent-wrong-ja.png"]);
}

/// A login the test starts as the portal's script does, and follows through the API.
struct Login {
    id: String,
    pin_url: String,
    /// The tries left the agent reported when it asked for the PIN.
    tries_left: Value,
}

impl Login {
    /// `POST /v1/sign` for the authentication key of the card of `kind`; returns once the agent asks for the PIN.
    fn start(agent: &Served, kind: &str, allow_last_try: bool) -> Self {
        Self::start_until(agent, kind, allow_last_try, "pin_required")
    }

    /// [`start`](Self::start), returning once the operation has reached `status`.
    fn start_until(agent: &Served, kind: &str, allow_last_try: bool, status: &str) -> Self {
        let challenge = "A".repeat(43);
        let body = json!({"challenge": challenge, "kind": kind, "allow_last_try": allow_last_try}).to_string();
        Self::started(agent, "/v1/sign", &body, status)
    }

    /// POSTs `body` to `path` and follows the operation until it has reached `status`.
    fn started(agent: &Served, path: &str, body: &str, status: &str) -> Self {
        let (code, started) = agent.http("POST", path, PORTAL, "application/json", body);
        assert_eq!(code, 202, "{started}");
        let started: Value = serde_json::from_str(&started).unwrap();
        let login = Login {
            id: started["id"].as_str().unwrap().to_owned(),
            pin_url: started["pin_url"].as_str().unwrap().to_owned(),
            tries_left: Value::Null,
        };
        let reached = login.poll(agent, |s| s != "running");
        assert_eq!(reached["status"], status, "{reached}");
        Login { tries_left: reached["tries_left"].clone(), ..login }
    }

    /// `POST /v1/documents`: the portal's page asks the HPKI card's signature key to sign `content` (a referral
    /// letter); returns once the agent asks for the PIN.
    fn document(agent: &Served, content: &str) -> Self {
        let body = json!({
            "format": "cades", "title": "診療情報提供書（試験）", "file_name": "referral.json", "kind": "hpki",
            "content": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, content),
        });
        Self::started(agent, "/v1/documents", &body.to_string(), "pin_required")
    }

    /// `POST /v1/documents`: the portal's consent page hands the agent the consent PDF for the My Number card's
    /// signing key (PAdES B-B); returns once the operation has reached `status`.
    fn consent(agent: &Served, pdf: &[u8], status: &str) -> Self {
        let body = json!({
            "format": "pades", "title": "同意書", "kind": "jpki", "level": "b-b",
            "content": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pdf),
        });
        Self::started(agent, "/v1/documents", &body.to_string(), status)
    }

    /// The operation once it has ended.
    fn finish(&self, agent: &Served) -> Value {
        self.poll(agent, |s| s == "done" || s == "failed")
    }

    fn poll(&self, agent: &Served, until: impl Fn(&str) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = "running".to_owned();
        loop {
            let path = format!("/v1/sign/{}?wait=10&seen={seen}", self.id);
            let (_, body) = agent.http("GET", &path, PORTAL, "text/plain", "");
            let v: Value = serde_json::from_str(&body).unwrap();
            let status = v["status"].as_str().unwrap_or_default().to_owned();
            if until(&status) {
                return v;
            }
            assert!(Instant::now() < deadline, "operation {} stuck: {v}", self.id);
            seen = status;
        }
    }
}

/// Opens the PIN page and types `pin` with the keyboard (the field has the focus), then Enter.
fn submit_pin(browser: &mut Chromium, pin_url: &str, pin: &str) {
    browser.goto(pin_url);
    wait_focus_on_pin(browser);
    browser.cmd(json!({"cmd": "keys", "text": pin}));
    browser.cmd(json!({"cmd": "key", "key": "Enter"}));
}

fn page_text(browser: &mut Chromium) -> String {
    browser.eval("document.body.innerText").as_str().unwrap_or_default().to_owned()
}

/// Waits until the PIN field has the focus its `autofocus` gives it (Chromium moves the focus at a rendering
/// step after the load, later than the load event on a busy machine), so keys go to it.
fn wait_focus_on_pin(browser: &mut Chromium) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.eval("document.activeElement?.id ?? null") != "pin" {
        assert!(Instant::now() < deadline, "the PIN field never got the focus (autofocus)");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the page (after its form's post and redirect) shows the heading `want`.
fn wait_heading(browser: &mut Chromium, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let expr = "document.readyState === 'complete' ? document.querySelector('h1')?.innerText : null";
    let mut last = Value::Null;
    while Instant::now() < deadline {
        // A navigation in progress makes an evaluation fail: that is "not yet".
        let reply = browser.try_cmd(&json!({"cmd": "eval", "expr": expr}));
        if reply["value"] == want {
            return;
        }
        last = reply;
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the page never showed the heading {want:?}; last: {last}");
}

/// The test's directory (kept with `HCPKI_TEST_KEEP`), its screenshots, and its browser.
struct Scene {
    _root: tempfile::TempDir,
    dir: PathBuf,
    shots: PathBuf,
}

impl Scene {
    fn new(name: &str) -> Self {
        let mut root = tempfile::Builder::new().prefix(&format!("hcpki-{name}-")).tempdir().unwrap();
        if keep_artifacts() {
            root.disable_cleanup(true);
            eprintln!("HCPKI_TEST_KEEP: keeping {}", root.path().display());
        }
        let dir = root.path().to_owned();
        let shots = dir.join("screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Scene { _root: root, dir, shots }
    }

    /// Chromium asking for Japanese first, as a clinic PC's browser does.
    fn browser(&self) -> Chromium {
        let home = self.dir.join("browser-home");
        std::fs::create_dir_all(&home).unwrap();
        let mut browser = Chromium::start(&home, &self.dir.join("chromium-profile"));
        browser.cmd(json!({"cmd": "accept_language", "value": "ja,en-US;q=0.8"}));
        browser
    }

    fn screenshot(&self, browser: &mut Chromium, name: &str) {
        browser.screenshot(&self.shots.join(name));
    }

    /// With `HCPKI_UPDATE_SCREENSHOTS=1`, copies the named screenshots to `docs/screenshots/`.
    fn publish(&self, names: &[&str]) {
        if std::env::var_os("HCPKI_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
            let docs = repo_root().join("docs/screenshots");
            std::fs::create_dir_all(&docs).unwrap();
            for name in names {
                copy(&self.shots.join(name), &docs.join(name));
            }
        }
    }
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("{} → {}: {e}", from.display(), to.display()));
}
