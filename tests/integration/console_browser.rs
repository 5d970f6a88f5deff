//! The web console's journey in a real browser: headless Chromium (Debian's, over the DevTools protocol by
//! `tests/peers/chromium.py`, D27), one browser per person, each holding only its own client certificate in
//! its NSS database (none for the applicant), picked by an `AutoSelectCertificateForUrls` policy. Forms are
//! filled by typed text and submitted by real clicks, so Chromium's own `Origin`, `Sec-Fetch-Site` and
//! form encoding meet the console's checks. A second PC enrolls with an independent client (curl + OpenSSL
//! over EST) between the browser steps. Every page is checked for a label on each visible field.
//!
//! Screenshots of each page go to the test's directory; `HCPKI_UPDATE_SCREENSHOTS=1` also copies them to
//! `docs/screenshots/console-*.png` (SQLite run only). No PC/SC: this test does not take the PC/SC lock.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::admin::{As, issued, operator};
use crate::browser::{AutoSelect, Chromium, nss_db, nss_trust};
use crate::console::serials;
use crate::est::{Auth as EstAuth, Credential, Est, base64_of};
use crate::fixtures::{Key, csr, csr_der, medical_code};
use crate::harness::{Backend, Hcpki, repo_root};
use crate::oidc::Portal;

on_both_backends!(apply_approve_enroll_revoke_and_suspend_in_chromium);

fn apply_approve_enroll_revoke_and_suspend_in_chromium(b: Backend) {
    let p = Portal::start(b);
    let (h, server) = (&*p.h, p.served());
    let ops = operator(h, "ops", "operator");
    let origin = format!("https://127.0.0.1:{}", server.https_port);
    let _policy = AutoSelect::any_of(&[&origin, &p.issuer]);
    let mut shot = Shots::new(h.path("screenshots"));

    // The applicant: no client certificate.
    let home = h.path("applicant-home");
    nss_trust(&home, &h.chain_file("server"));
    let mut applicant = Chromium::start(&home, &h.path("applicant-profile"));
    // Headless Chromium asks for English; the switch makes the pages Japanese (and the cookie keeps them so).
    applicant.goto(&format!("{origin}/console/apply?lang=ja"));
    labelled(&mut applicant);
    // Keyboard only: the first Tab reaches the skip link, Enter on it moves to the content.
    let first = applicant.cmd(json!({"cmd": "key", "key": "Tab"}));
    assert_eq!(first["focused"], "skip", "{first}");
    applicant.cmd(json!({"cmd": "key", "key": "Enter"}));
    assert_eq!(applicant.eval("location.hash"), json!("#main"));
    let code = medical_code(6160);
    applicant.cmd(json!({"cmd": "type", "selector": "#name", "text": "桜クリニック"}));
    // No kind is chosen beforehand, and the kinds are words (issue #45 item 4).
    assert_eq!(applicant.eval("document.querySelector('#kind').value"), json!(""));
    assert_eq!(
        applicant.eval("[...document.querySelector('#kind').options].some(o => o.text === '診療所')"),
        json!(true)
    );
    applicant.eval("document.querySelector('#kind').value = 'clinic'");
    // The 医療機関コード as an IME types it: full-width digits with a hyphen (issue #45 item 4).
    let wide: String = code.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap()).collect();
    let typed = format!("{}－{}", &wide[..6], &wide[6..]);
    applicant.cmd(json!({"cmd": "type", "selector": "#medical_code", "text": typed}));
    applicant.cmd(json!({"cmd": "type", "selector": "#address", "text": "東京都千代田区1-1"}));
    shot.take(&mut applicant, "console-apply.png");
    // First a mistyped code (its check digit off by one): refused on the same form in the applicant's words,
    // everything typed kept, the focus on the code; then the same in English (issue #45 items 1 and 4).
    let last = code.chars().last().and_then(|c| c.to_digit(10)).unwrap();
    let mistyped = format!("{}{}", &code[..9], (last + 1) % 10);
    for (lang, says, name) in [
        ("ja", "医療機関コードを確かめてください", "console-apply-refused.png"),
        ("en", "Check the medical institution code", "console-apply-refused-en.png"),
    ] {
        applicant.eval(&format!("document.querySelector('#medical_code').value = {}", json!(mistyped)));
        applicant.cmd(json!({"cmd": "click", "selector": "form[action='/console/apply'] button"}));
        applicant.wait_exact_url(&format!("{origin}/console/apply"), "main");
        let problem = text(&mut applicant, "#problem");
        assert!(problem.contains(says), "{lang}: {problem}");
        assert_eq!(applicant.eval("document.activeElement.id"), json!("medical_code"), "{lang}: focus on the code");
        for (field, kept) in [("#name", "桜クリニック"), ("#kind", "clinic"), ("#address", "東京都千代田区1-1")]
        {
            assert_eq!(applicant.eval(&format!("document.querySelector('{field}').value")), json!(kept), "{lang}");
        }
        labelled(&mut applicant);
        crate::accessibility::assert_wcag21_aa(&mut applicant, "main", &format!("the refused application ({lang})"));
        shot.take(&mut applicant, name);
        if lang == "ja" {
            // The switch re-opens the (empty) form in English; the same values typed again.
            applicant.goto(&format!("{origin}/console/apply?lang=en"));
            applicant.cmd(json!({"cmd": "type", "selector": "#name", "text": "桜クリニック"}));
            applicant.eval("document.querySelector('#kind').value = 'clinic'");
            applicant.cmd(json!({"cmd": "type", "selector": "#address", "text": "東京都千代田区1-1"}));
        }
    }
    applicant.goto(&format!("{origin}/console/apply?lang=ja"));
    applicant.cmd(json!({"cmd": "type", "selector": "#name", "text": "桜クリニック"}));
    applicant.eval("document.querySelector('#kind').value = 'clinic'");
    applicant.cmd(json!({"cmd": "type", "selector": "#medical_code", "text": typed}));
    applicant.cmd(json!({"cmd": "type", "selector": "#address", "text": "東京都千代田区1-1"}));
    // Submitted with the Enter key from the last field typed in (implicit submission), not a click.
    applicant.cmd(json!({"cmd": "key", "key": "Enter"}));
    applicant.wait_url(&format!("{origin}/console/apply"), "[role=alert]");
    let id = text(&mut applicant, "#facility-id");
    assert!(id.starts_with("HF"), "{}", text(&mut applicant, "main"));
    shot.take(&mut applicant, "console-applied.png");
    drop(applicant);

    // The operator approves it from the queue, on a confirmation page showing the address, the code and what was
    // checked of it (issue #45 item 2); the facility's page then says what happened and what comes next.
    let mut operator = browser_for(h, "operator", &ops);
    operator.goto(&format!("{origin}/console/?lang=ja"));
    labelled(&mut operator);
    assert!(text(&mut operator, "main").contains("桜クリニック"));
    shot.take(&mut operator, "console-queue.png");
    operator.cmd(json!({"cmd": "click", "selector": "input[value=approve] + button"}));
    operator.wait_url(&format!("{origin}/console/facilities/{id}/transition?verb=approve"), "[role=alert]");
    let facts = text(&mut operator, "#facility-facts");
    for shown in ["東京都千代田区1-1", code.as_str(), "診療所", "申請中", "(日本時間)"] {
        assert!(facts.contains(shown), "the approval shows {shown:?}:\n{facts}");
    }
    labelled(&mut operator);
    crate::accessibility::assert_wcag21_aa(&mut operator, "main", "the approval's confirmation page");
    shot.take(&mut operator, "console-approve-confirm.png");
    operator.cmd(json!({"cmd": "click", "selector": "#confirm"}));
    let at = operator.wait_url(&format!("{origin}/console/facilities/{id}?"), "[role=alert]");
    assert_eq!(at, format!("{origin}/console/facilities/{id}?done=approved"));
    assert_eq!(text(&mut operator, "#facility-state"), "承認済み");
    assert!(text(&mut operator, "#done").contains("申請を承認しました"));
    crate::accessibility::assert_wcag21_aa(&mut operator, "main", "a facility page with a success notice");
    shot.take(&mut operator, "console-approved.png");
    assert!(text(&mut operator, "main").contains(&code), "the code as typed full-width is kept as its digits");
    // …and gives its logins a 10-hour SSO session lifetime (D26, D37).
    operator.cmd(json!({"cmd": "type", "selector": "#hours", "text": "10"}));
    operator.cmd(json!({"cmd": "click", "selector": "button[name=op][value=set]"}));
    operator.wait_url(&format!("{origin}/console/facilities/{id}"), "[role=alert]");
    assert!(text(&mut operator, "#session-lifetime").starts_with("10"), "{}", text(&mut operator, "main"));
    shot.take(&mut operator, "console-session-lifetime.png");
    // The same facility found from the list and opened with the keyboard alone (console_a11y's walk).
    crate::console_a11y::a_facility_is_found_and_opened_by_keyboard(&mut operator, &origin, &id, "承認済み");

    // The facility admin, alice, at the facility's PC (its certificate in the browser): the certificate alone
    // reads; signed in through the portal by password + TOTP (her facility-admin grant, and the facility
    // accepting password sign-ins for changes; issue #24 item 7), she creates an EST credential, shown once.
    crate::console_card::grant_facility_admin(h, &id);
    let admin = issued(h, "pc", &id, &[]);
    let mut facility = browser_for(h, "admin", &admin);
    facility.goto(&format!("{origin}/console/?lang=ja"));
    labelled(&mut facility);
    assert_eq!(text(&mut facility, "#facility-state"), "利用中");
    // Why the PC certificate alone shows no forms is a warning, never in the success colour (issue #45 item 8).
    assert_eq!(facility.eval("document.querySelector('#read-only').classList.contains('warn')"), json!(true));
    // The console's sign-in link, straight to the portal's login page (no SSO session yet): the README's demo
    // step. The form's POST redirects on to `/authorize` and then to the console's callback on another origin,
    // so the page's CSP `form-action` must name the console's origin, and only it (issue #45 item 5).
    console_sign_in_by_password(&mut facility, &p, &origin);
    facility.cmd(json!({"cmd": "click", "selector": "form[action$='/credentials'] button"}));
    facility.wait_url(&format!("{origin}/console/facilities/{id}/credentials"), "[role=alert]");
    let cred = Credential { id: text(&mut facility, "#cred-username"), secret: text(&mut facility, "#cred-password") };
    assert_eq!(facility.eval("document.querySelector('[role=alert]').classList.contains('warn')"), json!(true));
    shot.take(&mut facility, "console-credential.png");
    // A validity the form cannot take: said on the same form, the choices kept, the focus on the field; then a
    // second credential, revoked through its confirmation page (issue #45 items 1 and 2).
    facility.goto(&format!("{origin}/console/facilities/{id}"));
    facility.eval("document.querySelector('#profile').value = 'router'");
    facility.eval("document.querySelector('#valid_for').value = '99d'");
    facility.cmd(json!({"cmd": "click", "selector": "form[action$='/credentials'] button"}));
    facility.wait_exact_url(&format!("{origin}/console/facilities/{id}/credentials"), "main");
    assert!(text(&mut facility, "#problem").contains("有効期間は数字と単位で"), "{}", text(&mut facility, "main"));
    assert_eq!(facility.eval("document.querySelector('#profile').value"), json!("router"));
    assert_eq!(facility.eval("document.activeElement.id"), json!("valid_for"));
    labelled(&mut facility);
    crate::accessibility::assert_wcag21_aa(&mut facility, "main", "the refused credential form");
    shot.take(&mut facility, "console-credential-refused.png");
    facility.eval("document.querySelector('#valid_for').value = '1d'");
    facility.cmd(json!({"cmd": "click", "selector": "form[action$='/credentials'] button"}));
    facility.wait_url(&format!("{origin}/console/facilities/{id}/credentials"), "[role=alert]");
    let spare = text(&mut facility, "#cred-username");
    facility.goto(&format!("{origin}/console/facilities/{id}"));
    let revoke_cred = format!("form[action='/console/credentials/{spare}/revoke'] button");
    facility.cmd(json!({"cmd": "click", "selector": revoke_cred}));
    facility.wait_url(&format!("{origin}/console/credentials/{spare}/revoke"), "[role=alert]");
    assert!(text(&mut facility, "#credential-facts").contains(&spare), "the page names the credential");
    assert!(text(&mut facility, "#consequence").contains("もう機器を登録できなくなります"));
    labelled(&mut facility);
    crate::accessibility::assert_wcag21_aa(&mut facility, "main", "the credential revocation's confirmation");
    shot.take(&mut facility, "console-credential-revoke-confirm.png");
    facility.goto(&format!("{origin}/console/credentials/{spare}/revoke?lang=en"));
    assert!(text(&mut facility, "#consequence").contains("can no longer enroll"));
    crate::accessibility::assert_wcag21_aa(&mut facility, "main", "the credential revocation's confirmation (en)");
    shot.take(&mut facility, "console-credential-revoke-confirm-en.png");
    facility.goto(&format!("{origin}/console/credentials/{spare}/revoke?lang=ja"));
    facility.cmd(json!({"cmd": "click", "selector": "#cancel"}));
    facility.wait_url(&format!("{origin}/console/facilities/{id}"), "[role=alert]");
    assert!(h.ok(&["enroll", "list"]).lines().any(|l| l.contains(&spare) && l.contains("active")), "cancelled");
    facility.cmd(json!({"cmd": "click", "selector": revoke_cred}));
    facility.wait_url(&format!("{origin}/console/credentials/{spare}/revoke"), "[role=alert]");
    facility.cmd(json!({"cmd": "click", "selector": "#confirm"}));
    facility.wait_url(&format!("{origin}/console/facilities/{id}?done=credential-revoked"), "[role=alert]");
    assert!(text(&mut facility, "#done").contains("登録用クレデンシャルを取り消しました"));

    // An independent client enrolls a second PC with it; the console lists the device as issued.
    let known = serials(h, &id);
    let est = Est::new(h, server);
    let pc_csr = csr(h.scratch(), "pc-b", Key::P256, "pc-b");
    let reply = est.post("/.well-known/est/pc/simpleenroll", &base64_of(&csr_der(&pc_csr)), &EstAuth::Basic(&cred));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let serial = serials(h, &id).into_iter().find(|s| !known.contains(s)).expect("the enrolled PC");
    facility.goto(&format!("{origin}/console/facilities/{id}"));
    let status = format!("[data-serial='{serial}']");
    assert_eq!(text(&mut facility, &status), "有効");
    assert_eq!(facility.eval(&format!("document.querySelector(\"{status} .badge\").dataset.value")), json!("issued"));
    shot.take(&mut facility, "console-devices.png");

    // …revokes it "by mistake" and stops at the confirmation, which names the device and what revoking does;
    // cancelled, nothing is revoked. No reason is chosen beforehand and the reasons are words (issue #45 items 1
    // and 2): the form cannot be sent until one is picked.
    let form = format!("form[action='/console/certificates/{serial}/revoke'] button");
    facility.cmd(json!({"cmd": "click", "selector": form}));
    facility.wait_url(&format!("{origin}/console/certificates/{serial}/revoke"), "[role=alert]");
    assert!(text(&mut facility, "#consequence").contains("施設としてサインインできなくなります"));
    assert_eq!(text(&mut facility, "#device-profile"), "施設PC");
    labelled(&mut facility);
    crate::accessibility::assert_wcag21_aa(&mut facility, "main", "the revocation's confirmation page");
    shot.take(&mut facility, "console-revoke-confirm.png");
    facility.cmd(json!({"cmd": "click", "selector": "#cancel"}));
    facility.wait_url(&format!("{origin}/console/facilities/{id}"), "[role=alert]");
    assert!(still_issued(h, &serial), "cancelled: nothing revoked");
    assert_eq!(text(&mut facility, &status), "有効");
    facility.cmd(json!({"cmd": "click", "selector": form}));
    facility.wait_url(&format!("{origin}/console/certificates/{serial}/revoke"), "[role=alert]");
    let why = "#reason".to_owned();
    assert_eq!(facility.eval(&format!("document.querySelector({}).value", json!(why))), json!(""));
    let offered = facility.eval(&format!("[...document.querySelector({}).options].map(o => o.text)", json!(why)));
    assert_eq!(
        offered,
        json!([
            "選んでください",
            "鍵の漏えい・紛失",
            "廃止(使わなくなった)",
            "交換(新しい証明書に置き換えた)",
            "その他"
        ])
    );
    facility.cmd(json!({"cmd": "click", "selector": "#confirm"}));
    assert_eq!(facility.eval(&format!("document.querySelector({}).validity.valueMissing", json!(why))), json!(true));
    assert!(still_issued(h, &serial), "no reason: nothing revoked");
    facility.eval(&format!("document.querySelector({}).value = 'cessationOfOperation'", json!(why)));
    facility.cmd(json!({"cmd": "click", "selector": "#confirm"}));
    facility.wait_url(&format!("{origin}/console/facilities/{id}?done=certificate-revoked"), "[role=alert]");
    assert_eq!(text(&mut facility, &status), "失効済み");
    assert!(text(&mut facility, "#done").contains("証明書を失効しました"));
    shot.take(&mut facility, "console-device-revoked.png");
    // The same notice in English.
    facility.goto(&format!("{origin}/console/facilities/{id}?done=certificate-revoked&lang=en"));
    assert!(text(&mut facility, "#done").contains("The certificate is revoked"));
    assert_eq!(text(&mut facility, &status), "revoked");
    shot.take(&mut facility, "console-device-revoked-en.png");
    // Her menu links the compliance report of her own facility only (D164).
    facility.goto(&format!("{origin}/console/compliance?lang=ja"));
    assert_eq!(text(&mut facility, "#compliance-scope"), format!("施設 {id}"));
    facility.goto(&format!("{origin}/console/facilities/{id}?lang=ja"));

    // The help desk's search (D37), a CSV import with a bad row, and a bulk re-issue of the facility's PC
    // certificates, each watched to the end on its job page (D38).
    operator.goto(&format!("{origin}/console/users?q=ops&lang=ja"));
    labelled(&mut operator);
    shot.take(&mut operator, "console-users.png");
    operator.goto(&format!("{origin}/console/import"));
    labelled(&mut operator);
    let csv = format!(
        "name,kind,medical_code,address,contact\n青葉薬局,pharmacy,,東京都港区2-2,03-0000-0000\n壊れた行,spaceship,{},,\n",
        medical_code(6161)
    );
    operator.eval(&format!("document.querySelector('#csv').value = {}", json!(csv)));
    operator.cmd(json!({"cmd": "click", "selector": "form[action='/console/import'] button"}));
    operator.wait_url(&format!("{origin}/console/import"), "[role=alert]");
    assert!(text(&mut operator, "main").contains("spaceship"), "the bad row and its reason are shown");
    // The browser posts the textarea with CRLF line ends; the row is still named by its line in the text.
    assert_eq!(text(&mut operator, "main td"), "3");
    shot.take(&mut operator, "console-import-check.png");
    operator.cmd(json!({"cmd": "click", "selector": "form:has(input[name=mode][value=valid]) button"}));
    operator.wait_url(&format!("{origin}/console/jobs/"), "[role=alert]");
    finished(&mut operator);
    shot.take(&mut operator, "console-import-job.png");
    operator.goto(&format!("{origin}/console/reissue"));
    labelled(&mut operator);
    operator.cmd(json!({"cmd": "type", "selector": "#facility", "text": id}));
    operator.eval("document.querySelector('#profile').value = 'pc'");
    operator.cmd(json!({"cmd": "click", "selector": "form[action='/console/reissue'] button"}));
    operator.wait_url(&format!("{origin}/console/reissue"), "[role=alert]");
    shot.take(&mut operator, "console-reissue-preview.png");
    operator.cmd(json!({"cmd": "click", "selector": "form[action='/console/reissue/run'] button"}));
    operator.wait_url(&format!("{origin}/console/jobs/"), "[role=alert]");
    finished(&mut operator);
    shot.take(&mut operator, "console-reissue-job.png");
    operator.goto(&format!("{origin}/console/jobs"));
    shot.take(&mut operator, "console-jobs.png");

    // The operator suspends the facility with a reason; its admin's certificate is held from then on.
    // Sent without a reason, the confirmation says so on the same page in the operator's words.
    operator.goto(&format!("{origin}/console/facilities/{id}?lang=ja"));
    operator.cmd(json!({"cmd": "click", "selector": "form:has(input[value=suspend]) button"}));
    operator.wait_url(&format!("{origin}/console/facilities/{id}/transition?verb=suspend"), "[role=alert]");
    operator.eval("document.querySelector('#reason').removeAttribute('required')");
    operator.cmd(json!({"cmd": "click", "selector": "#confirm"}));
    operator.wait_exact_url(&format!("{origin}/console/facilities/{id}/transition"), "main");
    assert!(text(&mut operator, "#problem").contains("理由を入力してください"));
    crate::accessibility::assert_wcag21_aa(&mut operator, "main", "the suspension's confirmation with its error");
    shot.take(&mut operator, "console-suspend-error.png");
    operator.cmd(json!({"cmd": "type", "selector": "#reason", "text": "監査のため"}));
    operator.cmd(json!({"cmd": "click", "selector": "#confirm"}));
    operator.wait_url(&format!("{origin}/console/facilities/{id}?done=suspended"), "[role=alert]");
    assert_eq!(text(&mut operator, "#facility-state"), "利用停止中");
    assert!(text(&mut operator, "#done").contains("利用停止にしました"));
    shot.take(&mut operator, "console-suspended.png");
    // Her portal session ended with the facility (the console says sign in again and clears its cookie); the
    // certificate alone is then refused as the suspended facility's.
    facility.goto(&format!("{origin}/console/"));
    let refused = facility.goto(&format!("{origin}/console/"));
    assert!(refused.starts_with(&format!("{origin}/console/")));
    // …on a page that says, in Japanese first, what happened, the operator's reason and whom to contact (issue #45
    // item 1), no longer the access decision's English line.
    assert!(text(&mut facility, "#held").contains("利用を停止しました"), "{}", text(&mut facility, "main"));
    assert!(text(&mut facility, "#held").contains("運用主体"));
    assert_eq!(text(&mut facility, "#held-reason"), "監査のため");
    crate::accessibility::assert_wcag21_aa(&mut facility, "main", "the suspended facility's admin page");
    shot.take(&mut facility, "console-held.png");
    facility.goto(&format!("{origin}/console/?lang=en"));
    assert!(text(&mut facility, "#held").contains("has suspended this facility"));
    crate::accessibility::assert_wcag21_aa(&mut facility, "main", "the suspended facility's admin page (en)");
    shot.take(&mut facility, "console-held-en.png");

    // The audit log of the journey, in English by the switch.
    operator.goto(&format!("{origin}/console/audit?target={id}&lang=en"));
    labelled(&mut operator);
    // Each event in words, its stored code the cell's title (the entry's page shows it; rows stay short).
    let codes = operator
        .eval("[...document.querySelectorAll('.audit tbody td:nth-child(4) [title]')].map(e => e.title).join(' ')");
    let codes = codes.as_str().unwrap_or_default().to_owned();
    for action in ["facility.register", "facility.approve", "facility.activate", "facility.suspend"] {
        assert!(codes.contains(action), "{action} not shown:\n{codes}");
    }
    assert_eq!(operator.eval("document.documentElement.lang"), json!("en"));
    shot.take(&mut operator, "console-audit.png");
    // The compliance report (D164) from the menu, Japanese first: the whole installation for the operator, its
    // numbers the journey's own sign-ins (alice's password + TOTP at the facility's PC).
    operator.goto(&format!("{origin}/console/?lang=ja"));
    assert_eq!(operator.eval("document.querySelectorAll(\"nav a[href='/console/compliance']\").length"), json!(1));
    operator.goto(&format!("{origin}/console/compliance"));
    assert_eq!(text(&mut operator, "h1"), "安全管理ガイドライン適合レポート");
    assert_eq!(text(&mut operator, "#compliance-scope"), "システム全体");
    assert_eq!(operator.eval("document.getElementById('auth.two-factor').dataset.status"), json!("met"));
    labelled(&mut operator);
    crate::accessibility::assert_wcag21_aa(&mut operator, "main", "the compliance report (ja)");
    shot.take(&mut operator, "compliance-report-ja.png");
    operator.goto(&format!("{origin}/console/compliance?lang=en"));
    assert_eq!(text(&mut operator, "h1"), "Safety guideline compliance report");
    crate::accessibility::assert_wcag21_aa(&mut operator, "main", "the compliance report (en)");
    shot.take(&mut operator, "compliance-report-en.png");
    // The console's own 404 and 405 pages (issue #45 item 6), in both languages, a way back, the console's headers.
    for (lang, heading) in [("ja", "ページが見つかりません"), ("en", "Page not found")] {
        operator.goto(&format!("{origin}/console/no-such-page?lang={lang}"));
        assert_eq!(text(&mut operator, "h1"), heading);
        assert_eq!(operator.eval("document.querySelector('main a[href=\"/console/\"]') !== null"), json!(true));
        crate::accessibility::assert_wcag21_aa(&mut operator, "main", &format!("the console's 404 page ({lang})"));
        shot.take(&mut operator, &format!("console-404-{lang}.png"));
    }
    assert_error_page(&p, &format!("{origin}/console/no-such-page"), 404, "ページが見つかりません");
    assert_error_page(&p, &format!("{origin}/console/users/end-sessions"), 405, "この操作はこのページではできません");
    drop(facility);
    drop(operator);

    let trail = h.ok(&["audit", "list", "--limit", "2000"]);
    assert!(!trail.contains("console.csrf"), "no browser request was taken for a cross-site one:\n{trail}");
    h.ok(&["audit", "verify"]);
    shot.publish(b);
}

/// alice's password + TOTP login on the portal's own page in `browser`, typed, submitted with the Enter key
/// from the code field as people do; back on the portal's home.
pub(crate) fn portal_login_as_alice(browser: &mut Chromium, p: &Portal) {
    browser.goto(&format!("{}/", p.issuer));
    let code = crate::oidc::totp(&p.totp_secret, 0);
    for (field, value) in [("username", "alice"), ("password", crate::oidc::PASSWORD), ("totp", code.as_str())] {
        browser.cmd(json!({"cmd": "type", "selector": format!("input[name={field}]"), "text": value}));
    }
    browser.cmd(json!({"cmd": "key", "key": "Enter"}));
    browser.wait_exact_url(&format!("{}/", p.issuer), "body");
}

/// alice signs in to the console by password + TOTP from its sign-in link, on the portal's login page the link
/// leads to, typed and submitted with the Enter key; back on the console's home. Chromium checks the login
/// page's `form-action` along the POST's redirects (`/login` → `/authorize` → `/console/login/callback`): the
/// policy names the console's origin for the built-in console client's own callback, and a forged
/// `redirect_uri` on another origin widens nothing.
fn console_sign_in_by_password(browser: &mut Chromium, p: &Portal, console: &str) {
    browser.goto(&format!("{console}/console/"));
    browser.cmd(json!({"cmd": "click", "selector": "nav a[href='/console/login']"}));
    let login = browser.wait_url(&format!("{}/login?", p.issuer), "main");
    // The page's own policy forbids its scripts to fetch: the same URLs read with curl.
    let form_action = |url: &str| -> String {
        let headers = p.h.path(&format!("headers-{}", uuid::Uuid::new_v4().simple()));
        p.curl(&["-D", headers.to_str().unwrap(), url]);
        let headers = std::fs::read_to_string(&headers).unwrap();
        let csp = crate::revocation::header(&headers, "content-security-policy");
        csp.split(';').map(str::trim).find(|d| d.starts_with("form-action")).unwrap_or_default().to_owned()
    };
    assert_eq!(form_action(&login), format!("form-action 'self' {console}"));
    let forged = format!(
        "/authorize?response_type=code&client_id=hcpki-console&scope=openid&redirect_uri={}",
        crate::oidc::enc("https://evil.example/console/login/callback")
    );
    let foreign = format!("{}/login?return_to={}", p.issuer, crate::oidc::enc(&forged));
    assert_eq!(form_action(&foreign), "form-action 'self'", "a foreign redirect_uri widens nothing");
    let code = crate::oidc::totp(&p.totp_secret, 0);
    for (field, value) in [("username", "alice"), ("password", crate::oidc::PASSWORD), ("totp", code.as_str())] {
        browser.cmd(json!({"cmd": "type", "selector": format!("input[name={field}]"), "text": value}));
    }
    browser.cmd(json!({"cmd": "key", "key": "Enter"}));
    browser.wait_exact_url(&format!("{console}/console/"), "main");
}

/// `url` answers `status` with a themed page (Japanese by default) naming `heading`, and the security headers
/// every page has (issue #45 item 6).
pub(crate) fn assert_error_page(p: &Portal, url: &str, status: u16, heading: &str) {
    let headers = p.h.path(&format!("headers-{}", uuid::Uuid::new_v4().simple()));
    let r = p.curl(&["-D", headers.to_str().unwrap(), url]);
    assert_eq!(r.status, status, "{url}: {}", r.body);
    assert!(r.body.contains("<html lang=\"ja\"") && r.body.contains(heading), "{url}: {}", r.body);
    let headers = std::fs::read_to_string(&headers).unwrap();
    let csp = crate::revocation::header(&headers, "content-security-policy");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{url}: {csp}");
    assert_eq!(crate::revocation::header(&headers, "x-frame-options"), "DENY", "{url}");
    assert_eq!(crate::revocation::header(&headers, "cache-control"), "no-store", "{url}");
}

/// Reloads a job's page (as its refresh does) until every item is done or failed.
fn finished(browser: &mut Chromium) {
    let done = "(() => { const p = document.querySelector('progress'); \
                return !!p && p.value === p.max && !document.querySelector('meta[http-equiv=refresh]'); })()";
    for _ in 0..240 {
        if browser.eval(done) == json!(true) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
        let here = browser.eval("location.href");
        browser.goto(here.as_str().unwrap());
    }
    panic!("the job did not finish: {}", browser.eval("document.body.innerText"));
}

/// Screenshots taken, by file name, in the test's directory.
pub(crate) struct Shots {
    dir: PathBuf,
    taken: Vec<String>,
}

impl Shots {
    /// Screenshots into `dir` (created).
    pub(crate) fn new(dir: PathBuf) -> Self {
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir, taken: Vec::new() }
    }

    pub(crate) fn take(&mut self, browser: &mut Chromium, name: &str) {
        browser.screenshot(&self.dir.join(name));
        self.taken.push(name.to_owned());
    }

    /// `HCPKI_UPDATE_SCREENSHOTS=1` on the SQLite run: the screenshots taken into `docs/screenshots/`.
    pub(crate) fn publish(&self, b: Backend) {
        if b != Backend::Sqlite || std::env::var_os("HCPKI_UPDATE_SCREENSHOTS").is_none_or(|v| v != "1") {
            return;
        }
        let docs = repo_root().join("docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        for name in &self.taken {
            std::fs::copy(self.dir.join(name), docs.join(name)).unwrap();
        }
    }
}

/// A browser holding `who`'s certificate only.
pub(crate) fn browser_for(h: &Hcpki, name: &str, who: &As) -> Chromium {
    let As::Cert(cert, key) = who else { panic!("{name} has no certificate") };
    let home = h.path(&format!("{name}-home"));
    nss_db(&home, &h.chain_file("server"), cert, key, &h.path(&format!("{name}.p12")));
    Chromium::start(&home, &h.path(&format!("{name}-profile")))
}

/// Whether the CLI (the store) still lists `serial` as issued.
fn still_issued(h: &Hcpki, serial: &str) -> bool {
    h.ok(&["cert", "show", serial]).lines().any(|l| l.starts_with("status:") && l.trim_end().ends_with("issued"))
}

/// The text of the first element matching `selector`.
pub(crate) fn text(browser: &mut Chromium, selector: &str) -> String {
    let v = browser.eval(&format!("document.querySelector({})?.innerText ?? null", json!(selector)));
    match v {
        Value::String(s) => s.trim().to_owned(),
        _ => panic!("no {selector} on the page: {}", browser.eval("document.body.innerText")),
    }
}

/// Every visible form field has a label (accessibility basics).
pub(crate) fn labelled(browser: &mut Chromium) {
    let unlabelled = browser.eval(
        "[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]\
         .filter(e => e.labels.length === 0).map(e => e.outerHTML)",
    );
    assert_eq!(unlabelled, json!([]), "fields without a label");
}
