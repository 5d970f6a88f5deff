//! The signing-request pages (issue #27 item 3): the request as the physician checks it before signing, the
//! page after signing, and the refusals, Japanese first (`lang` switches), each saying what to do next.

use super::layout::{BodyData, Chrome, Scripts, jst, page, page_with};
use super::simple::refused;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::store::signing_request::SigningRequestRecord;
use hcpki_html::Lang;
use hcpki_model::signing_limit::SigningSessionLimit;
use hcpki_sso::signing_requests::{PageRefusal, RequestView, SignError};
use maud::{Markup, html};

/// The page's script.
pub const SCRIPT_PATH: &str = "/static/sign-request.js";

/// `lang`'s text of a pair.
fn w(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Ja { ja } else { en }
}

/// The request for the physician: who asks, what, how; the card button (with the agent at `agent`, when card
/// login is configured, and the facility's `limit` on signing sessions for the agent) and the refusal.
pub fn request(
    lang: Lang,
    view: &RequestView,
    csrf: &str,
    agent: Option<&str>,
    binding: &str,
    limit: Option<SigningSessionLimit>,
) -> Response {
    let r = &view.request;
    let action = format!("/sign/{}", r.id);
    let document = format!("/sign/{}/document", r.id);
    let body = html! {
        p { strong { (view.service) } (w(lang, " が、HPKI カードの署名用の鍵による署名を求めています。内容を確かめてから署名してください。",
            " asks for your signature with the signature key of your HPKI card. Check what it is before you sign.")) }
        (details(lang, r))
        p { a href=(document) download { (w(lang, "文書を開く・保存する", "Open or save the document")) } }
        @if agent.is_some() {
            form id="sign-request" method="post" action=(action) data-document=(document) data-format=(r.format)
                data-title=(r.title) data-session-binding=(binding)
                data-max-signatures=[limit.map(|l| l.max_signatures())] data-max-hours=[limit.map(|l| l.max_hours())]
                data-say-confirm=(w(lang, "署名セッション中です。カードエージェントの画面で内容を確かめ、「署名する」を押してください（暗証番号は不要です）。",
                    "You are in a signing session: check the document in the card agent's window and press \"Sign\" there (no PIN)."))
                data-say-preparing=(w(lang, "カードエージェントに文書を渡しています…", "Handing the document to the card agent…"))
                data-say-pin=(w(lang, "カードエージェントの画面で内容を確かめ、署名用の暗証番号を入力してください。",
                    "Check the document in the card agent's window and enter the signature PIN there."))
                data-say-verifying=(w(lang, "署名を確認しています…", "Checking the signature…"))
                data-say-cancelled=(w(lang, "署名を取り消しました。もう一度署名するにはボタンを押してください。",
                    "Signing was cancelled. Press the button to sign again."))
                data-say-no-agent=(w(lang, "カードエージェントが応答しません。起動してから、もう一度ボタンを押してください。",
                    "The card agent does not answer. Start it, then press the button again."))
                data-say-gone=(w(lang, "依頼を読み込めません。ページを開き直してください。", "The request cannot be read: reload the page.")) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="action" value="sign";
                input type="hidden" name="signature" value="";
                input type="hidden" name="signing" value="";
                p id="sign-status" role="status" aria-live="polite" {}
                button id="sign-button" type="button" hidden { (w(lang, "カードで署名する", "Sign with the card")) }
                noscript { p { (w(lang, "署名には JavaScript とカードエージェントが必要です。",
                    "Signing needs JavaScript and the card agent.")) } }
            }
        } @else {
            p class="error" role="alert" { (w(lang, "このポータルではカードによるログインが設定されていないため、署名できません。システム管理者に連絡してください。",
                "Card sign-in is not configured on this portal, so nothing can be signed here: contact the administrator.")) }
        }
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="action" value="refuse";
            button type="submit" class="danger" { (w(lang, "署名しない(依頼を断る)", "Do not sign (decline the request)")) }
        }
    };
    let title = w(lang, "文書への署名の依頼", "Signing request");
    match agent {
        Some(agent) => {
            let data = BodyData { agent: Some(agent), ..BodyData::default() };
            page_with(&Chrome::new(lang), StatusCode::OK, title, body, Some(Scripts { src: SCRIPT_PATH, agent, data }))
        }
        None => page(lang, StatusCode::OK, title, body),
    }
}

/// After signing: what was signed, by whom, and when the time stamp says.
pub fn signed(lang: Lang, r: &SigningRequestRecord) -> Response {
    let body = html! {
        div class="notice" role="status" { p { (w(lang, "署名しました。依頼元のサービスが署名済みの文書を受け取ります。このページは閉じてかまいません。",
            "Signed. The requesting service collects the signed document; you may close this page.")) } }
        (details(lang, r))
        dl {
            dt { (w(lang, "署名証明書の SHA-256", "Signer certificate SHA-256")) }
            dd { code class="wrap" { (r.signer_sha256.as_deref().unwrap_or("—")) } }
            dt { (w(lang, "タイムスタンプの時刻", "Time-stamp time")) }
            dd { @match r.gen_time { Some(t) => (jst(t, lang)), None => (w(lang, "なし(B-B)", "none (B-B)")) } }
        }
        p { a href="/" { (w(lang, "ポータルのトップへ", "To the portal's home")) } }
    };
    page(lang, StatusCode::OK, w(lang, "署名しました", "Signed"), body)
}

/// After declining.
pub fn declined(lang: Lang) -> Response {
    let body = html! {
        div class="notice" role="status" { p { (w(lang, "署名しませんでした。依頼元のサービスには「断られた」と伝わります。",
            "Not signed. The requesting service is told that you declined.")) } }
        p { a href="/" { (w(lang, "ポータルのトップへ", "To the portal's home")) } }
    };
    page(lang, StatusCode::OK, w(lang, "署名しませんでした", "Not signed"), body)
}

/// A request the page cannot show or sign.
pub fn page_refused(lang: Lang, why: PageRefusal) -> Response {
    let (status, text) = match why {
        PageRefusal::Unknown => (
            StatusCode::NOT_FOUND,
            w(
                lang,
                "この署名依頼は見つかりません(期限の翌日に削除されます)。依頼元のサービスで新しい依頼を作ってください。",
                "This signing request does not exist (requests are removed a day after their deadline): create a new one in the requesting service.",
            ),
        ),
        PageRefusal::OtherPerson => (
            StatusCode::FORBIDDEN,
            w(
                lang,
                "この署名依頼は、いまログインしている方あてではありません。依頼を受けたご本人のカードでログインし直してください。",
                "This signing request is not for the person signed in: sign in again with the card of the person it is for.",
            ),
        ),
        PageRefusal::NotPending("signed") => (
            StatusCode::CONFLICT,
            w(
                lang,
                "この依頼は署名済みです。依頼元のサービスに戻ってください。",
                "This request is signed already: go back to the requesting service.",
            ),
        ),
        PageRefusal::NotPending("expired") => (
            StatusCode::GONE,
            w(
                lang,
                "この依頼の期限(15 分)が過ぎました。依頼元のサービスで新しい依頼を作ってください。",
                "This request's time (15 minutes) ran out: create a new one in the requesting service.",
            ),
        ),
        PageRefusal::NotPending(_) => (
            StatusCode::CONFLICT,
            w(
                lang,
                "この依頼は断られたか取り消されています。必要なら依頼元のサービスで新しい依頼を作ってください。",
                "This request was declined or cancelled: create a new one in the requesting service if it is still needed.",
            ),
        ),
    };
    refused(lang, status, text)
}

/// A posted signature that was not taken.
pub fn sign_refused(lang: Lang, e: &SignError) -> Response {
    let (status, text) = match e {
        SignError::Page(why) => return page_refused(lang, *why),
        SignError::BadSignature(_) => (
            StatusCode::BAD_REQUEST,
            w(
                lang,
                "カードの署名を確認できなかったため、保存していません。ページを開き直し、カードでもう一度署名してください。",
                "The card's signature could not be checked, so nothing was kept: reload the page and sign with the card again.",
            ),
        ),
        SignError::NotThePhysician(_) => (
            StatusCode::FORBIDDEN,
            w(
                lang,
                "署名したカードが、ログインしている方のものではありません。ログインに使ったご自身の HPKI カードで署名してください。",
                "The card that signed is not the signed-in person's: sign with your own HPKI card, the one you signed in with.",
            ),
        ),
        SignError::NoTrustAnchors => (
            StatusCode::SERVICE_UNAVAILABLE,
            w(
                lang,
                "このポータルには HPKI の信頼点が設定されていないため、署名者を確かめられません。システム管理者に連絡してください。",
                "This portal has no HPKI trust anchors, so it cannot check who signed: contact the administrator.",
            ),
        ),
        SignError::NoTimeStamp(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            w(
                lang,
                "時刻認証局からタイムスタンプを得られなかったため、署名は保存していません(依頼は残っています)。しばらくしてからもう一度署名するか、システム管理者に連絡してください。",
                "No time-stamping authority gave a time stamp, so the signature was not kept (the request stays open): sign again later, or contact the administrator.",
            ),
        ),
        SignError::NoValidationData(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            w(
                lang,
                "署名者の失効情報(署名用 CA の CRL)がこのポータルに設定されていないため、長期署名(B-LT)を作れず、署名は保存していません(依頼は残っています)。システム管理者に連絡してください。",
                "The signer's revocation data (the signature CA's CRL) is not configured on this portal, so the long-term signature (B-LT) could not be made and nothing was kept (the request stays open): contact the administrator.",
            ),
        ),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            w(
                lang,
                "いまは処理できません。しばらくしてからもう一度お試しください。",
                "This cannot be done now: try again later.",
            ),
        ),
    };
    refused(lang, status, text)
}

/// The request's facts, as a description list.
fn details(lang: Lang, r: &SigningRequestRecord) -> Markup {
    let level = match r.level.as_str() {
        "b-t" => w(lang, "B-T(署名+タイムスタンプ)", "B-T (signature and time stamp)"),
        "b-lt" => w(lang, "B-LT(署名+タイムスタンプ+検証情報)", "B-LT (signature, time stamp and validation data)"),
        "b-lta" => w(
            lang,
            "B-LTA(署名+タイムスタンプ+検証情報+アーカイブタイムスタンプ)",
            "B-LTA (signature, time stamp, validation data and archive time stamp)",
        ),
        _ => w(lang, "B-B(署名のみ)", "B-B (signature only)"),
    };
    let format = match r.format.as_str() {
        "xades-eprescription" => w(lang, "XAdES 電子処方箋(EP.xsd)", "XAdES e-prescription (EP.xsd)"),
        "pades" => w(lang, "PAdES(PDF の中に署名)", "PAdES (signed inside the PDF)"),
        _ => w(lang, "CAdES 分離署名(.p7s)", "CAdES detached signature (.p7s)"),
    };
    html! {
        dl {
            dt { (w(lang, "文書の題名(依頼元の記載)", "Title (as the service gives it)")) } dd { (r.title) }
            dt { (w(lang, "署名の形式", "Format")) } dd { (format) }
            dt { (w(lang, "署名のレベル", "Level")) } dd { (level) }
            dt { (w(lang, "大きさ", "Size")) } dd { (r.document.len()) (w(lang, " バイト", " bytes")) }
            dt { "SHA-256" } dd { code class="wrap" { (r.document_sha256) } }
            dt { (w(lang, "期限", "Sign by")) } dd { (jst(r.expires_at, lang)) }
        }
    }
}
