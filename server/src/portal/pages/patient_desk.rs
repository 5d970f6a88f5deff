//! The facility's patient desk pages (issue #28): asking the patient for a consent from the portal itself
//! (`/consents/new`: the purposes the operator configured for the portal, the facility's patient ID), and
//! identifying a returning patient with the My Number card's 4-digit PIN (`/patients/identify`). Japanese first;
//! every refusal says what to do.

use super::consent::{Flow, PageContext, card_page, flow_form, no_agent};
use super::layout::page;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_html::Lang;
use hcpki_sso::consent::desk::DeskError;
use hcpki_sso::consent::identification::Identified;
use hcpki_sso::consent::template::Template;
use hcpki_sso::presence::Issued;
use maud::{Markup, html};

/// The consent request form's path (GET the form, POST it).
pub const NEW_CONSENT_PATH: &str = "/consents/new";
/// The identification page's path (GET the page, POST the card's answer).
pub const IDENTIFY_PATH: &str = "/patients/identify";
/// Where its script gets a challenge.
pub const IDENTIFY_CHALLENGE_PATH: &str = "/patients/identify/challenge";

fn w(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Ja { ja } else { en }
}

/// The patient ID field both forms share.
fn patient_field(lang: Lang, value: &str) -> Markup {
    html! {
        label for="patient-id" { (w(lang, "患者 ID(この医療機関の ID)", "Patient ID (this facility's)")) }
        input type="text" id="patient-id" name="patient_id" required autocomplete="off" inputmode="latin" maxlength="64" value=(value);
    }
}

/// `GET /consents/new`: the portal's consents to ask for, or why this sign-in cannot ask (`refusal`).
pub fn new_consent(lang: Lang, templates: &[&Template], csrf: &str, refusal: Option<&DeskError>) -> Response {
    let body = html! {
        p { (w(lang, "患者さんにマイナンバーカードで同意していただく内容を選び、この医療機関の患者 ID を入力してください。次の画面で同意書を患者さんに見せ、署名していただきます。",
            "Choose what the patient consents to with the My Number card and type this facility's patient ID. The next page shows the consent to the patient, who signs it.")) }
        @if let Some(e) = refusal {
            div class="error" role="alert" { p { (refusal_words(lang, e).1) } }
        } @else if templates.is_empty() {
            div class="error" role="alert" { p { (w(lang, "このポータルから求められる同意が設定されていません。サービスの画面から同意を求めるか、システム管理者に設定を依頼してください。",
                "No consent is configured for this portal to ask: ask from the service's own screen, or ask the administrator to configure one.")) } }
        } @else {
            form method="post" action=(NEW_CONSENT_PATH) {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { (w(lang, "同意の内容", "What the consent is for")) }
                    @for (i, t) in templates.iter().enumerate() {
                        div {
                            input type="radio" name="purpose" id={ "purpose-" (t.purpose) } value=(t.purpose) checked[i == 0];
                            label for={ "purpose-" (t.purpose) } lang="ja" { (t.title) " — " (t.purpose_text) }
                        }
                    }
                }
                (patient_field(lang, ""))
                button type="submit" { (w(lang, "同意書を作る", "Make the consent document")) }
            }
        }
        p { a href=(IDENTIFY_PATH) { (w(lang, "再来の患者さんをマイナンバーカードで確認する", "Identify a returning patient with the My Number card")) } }
    };
    let status = refusal.map_or(StatusCode::OK, |e| refusal_words(lang, e).0);
    page(lang, status, w(lang, "患者さんの同意を求める", "Ask the patient for consent"), body)
}

/// What a refusal of the desk pages says, and its status.
pub fn refusal_words(lang: Lang, e: &DeskError) -> (StatusCode, String) {
    let (status, text) = match e {
        DeskError::NotAPhysician | DeskError::NoFacility => (StatusCode::FORBIDDEN, desk_words(lang, e)),
        DeskError::NotAMyNumberCard | DeskError::Card(_) => (StatusCode::BAD_REQUEST, desk_words(lang, e)),
        DeskError::Consent(hcpki_sso::consent::ConsentError::Ambiguous) => (StatusCode::CONFLICT, desk_words(lang, e)),
        other => return super::consent::refusal_words(lang, other),
    };
    (status, text.to_owned())
}

fn desk_words(lang: Lang, e: &DeskError) -> &'static str {
    match e {
        DeskError::NotAPhysician => w(
            lang,
            "同意を求められるのは、HPKI カードでログインした医師です。ご自身の HPKI カードでログインし直してください。",
            "A consent is asked for by a physician signed in with the HPKI card: sign in again with your HPKI card.",
        ),
        DeskError::NoFacility => w(
            lang,
            "この PC は医療機関の端末として登録されていない(施設の証明書がない)ため、患者さんの手続きはできません。医療機関の端末でログインしてください。",
            "This PC is not registered as a facility PC (no facility certificate), so no patient can be seen here: sign in at a facility PC.",
        ),
        DeskError::NotAMyNumberCard => w(
            lang,
            "使われたカードはマイナンバーカードではありません。患者さんのマイナンバーカードをカードリーダーに置いて、もう一度確認してください。何も記録していません。",
            "The card used is not a My Number card: put the patient's My Number card in the reader and check again. Nothing was recorded.",
        ),
        DeskError::Card(_) => w(
            lang,
            "カードの確認ができませんでした(カードの証明書が有効でない、失効している、または確認の期限が過ぎた)。もう一度ボタンを押してやり直してください。繰り返すときは、受付の記録と本人確認書類で確認してください。",
            "The card could not be checked (its certificate is not valid or is revoked, or the check took too long): press the button to try again. If it keeps failing, check the identity with the facility's records and an identity document.",
        ),
        _ => w(
            lang,
            "このカードは、この医療機関の複数の患者 ID に対応づけられています。受付の記録と本人確認書類で確認し、同意の画面で対応を訂正してください。",
            "This card is linked to more than one patient ID at this facility: check the identity with the facility's records and an identity document, and correct the links on the consent page.",
        ),
    }
}

/// The result of one identification, shown above the form for the next.
#[derive(Clone, Copy, Debug)]
pub struct Checked<'a> {
    /// The patient ID typed.
    pub patient_id: &'a str,
    /// What the card said.
    pub result: Identified,
    /// The patient-presence proof issued for the service chosen (D148), or why none was.
    pub presence: Option<Result<&'a Issued, &'a str>>,
}

/// A service a patient-presence proof may be issued for: its id and display name.
pub type PresenceService<'a> = (&'a str, &'a str);

/// The choice of the service a proof is for: the services whose policy requires one (D148).
fn service_field(lang: Lang, services: &[PresenceService<'_>]) -> Markup {
    html! {
        @if !services.is_empty() {
            label for="presence-service" { (w(lang, "受診確認トークンを発行するサービス", "Issue a presence proof for")) }
            select id="presence-service" name="service" {
                option value="" { (w(lang, "発行しない", "None")) }
                @for (id, name) in services { option value=(id) { (name) } }
            }
        }
    }
}

/// Why no presence proof was issued, in the page's words.
pub fn presence_refusal(lang: Lang, e: &hcpki_sso::presence::PresenceError) -> &'static str {
    match e {
        hcpki_sso::presence::PresenceError::NoService(_) => w(
            lang,
            "選んだサービスは設定されていないため、受診確認トークンを発行していません。一覧のサービスを選んでください。",
            "No presence proof was issued: the service chosen is not configured. Choose one of the services listed.",
        ),
        _ => w(
            lang,
            "受診確認トークンを発行できませんでした。本人確認の結果は上のとおりです。しばらくしてからもう一度確認してください。",
            "The presence proof could not be issued (the identification above stands): try again in a moment.",
        ),
    }
}

/// The proof issued, for the staff member's browser to hand to the service (its page reads `#presence-token`).
fn presence_result(lang: Lang, presence: Result<&Issued, &str>) -> Markup {
    match presence {
        Ok(issued) => html! {
            div class="notice" role="status" {
                p { (w(lang, "受診確認トークンを発行しました(", "A presence proof was issued for ")) code { (issued.claims.aud) }
                    (w(lang, " 向け、", "; it holds ")) ((issued.claims.exp - issued.claims.iat).div_euclid(60))
                    (w(lang, " 分間有効・1 回限り)。トークンには個人番号も基本 4 情報も含まれません。",
                        " minutes and is good once. It holds neither the individual number nor the basic four items.")) }
                label for="presence-token" { (w(lang, "受診確認トークン", "Presence proof")) }
                textarea id="presence-token" readonly rows="4" { (issued.token) }
            }
        },
        Err(why) => html! { div class="error" role="alert" { p { (why) } } },
    }
}

/// `GET /patients/identify`, and the answer to a check (`checked`) or its refusal (`refusal`).
pub fn identify(
    lang: Lang,
    csrf: &str,
    ctx: PageContext<'_>,
    checked: Option<Checked<'_>>,
    refusal: Option<&DeskError>,
    services: &[PresenceService<'_>],
) -> Response {
    let body = html! {
        @if let Some(c) = checked { (result(lang, c)) }
        @if let Some(p) = checked.and_then(|c| c.presence) { (presence_result(lang, p)) }
        @if let Some(e) = refusal { div class="error" role="alert" { p { (refusal_words(lang, e).1) } } }
        p { (w(lang, "同意の手続きで本人確認が済んでいる患者さんは、次の来院からマイナンバーカードと利用者証明用の暗証番号(数字 4 桁)だけで確認できます。受付の患者 ID を入力し、ボタンを押してください。マイナンバー(個人番号)は読み取りません。",
            "A patient whose identity was confirmed at a consent is identified on later visits with the My Number card and its 4-digit PIN alone: type the facility's patient ID and press the button. The individual number (My Number) is never read.")) }
        @if ctx.agent.is_some() {
            (flow_form(lang, "identify", IDENTIFY_PATH, Flow::Identify { challenge: IDENTIFY_CHALLENGE_PATH }, csrf,
                w(lang, "マイナンバーカードで確認する", "Check with the My Number card"),
                html! { (patient_field(lang, "")) (service_field(lang, services)) }))
        } @else {
            (no_agent(lang))
        }
        p { a href=(NEW_CONSENT_PATH) { (w(lang, "患者さんの同意を求める", "Ask the patient for consent")) } }
    };
    let status = refusal.map_or(StatusCode::OK, |e| refusal_words(lang, e).0);
    let title = w(lang, "再来の患者さんの確認(マイナンバーカード)", "Identify a returning patient (My Number card)");
    card_page(lang, status, title, body, csrf, ctx)
}

fn result(lang: Lang, c: Checked<'_>) -> Markup {
    match c.result {
        Identified::ThisPatient => html! {
            div class="notice" role="status" {
                p { strong { (w(lang, "確認できました。", "Identified.")) }
                    (w(lang, " このカードは患者 ID ", " This card belongs to patient ID ")) code { (c.patient_id) }
                    (w(lang, " の方のものとして、この医療機関で本人確認されています。", ", as confirmed at this facility.")) }
            }
        },
        Identified::AnotherPatient => html! {
            div class="error" role="alert" {
                p { strong { (w(lang, "一致しません。", "Not this patient.")) }
                    (w(lang, " このカードは、この医療機関では別の患者 ID の方として確認されています。入力した患者 ID ", " At this facility this card belongs to another patient ID. Check the ID typed, "))
                    code { (c.patient_id) }
                    (w(lang, " を確かめてください。間違いがなければ、受付の記録と本人確認書類で確認してください。",
                        ", and if it is right, check the identity with the facility's records and an identity document.")) }
            }
        },
        Identified::NotLinked => html! {
            div class="error" role="alert" {
                p { strong { (w(lang, "このカードはまだ本人確認されていません。", "This card is not linked yet.")) }
                    (w(lang, " この医療機関で、このカードと患者 ID の対応が記録されていません(カードを更新した場合を含みます)。同意の手続きで署名用電子証明書の基本 4 情報を確認すると、次から使えます。",
                        " No link of this card to a patient ID is recorded at this facility (a renewed card included). Confirm the signing certificate's basic four items at a consent, and the card works from then on.")) }
            }
        },
    }
}
