//! The list of a patient's consents at the staff member's facility (`/patients/consents`, issue #49 item 4):
//! staff type the facility's patient ID and see each consent recorded here, live or history, with a link to its
//! page. Japanese first; a refusal says what to do.

use super::layout::{jst, page};
use super::patient_desk::refusal_words;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_html::Lang;
use hcpki_sso::consent::desk::DeskError;
use hcpki_sso::consent::history::Listed;
use hcpki_sso::consent::life::Phase;
use maud::html;

/// The page's path (GET the form, POST the patient ID: it stays out of URLs and access logs).
pub const PATIENT_CONSENTS_PATH: &str = "/patients/consents";

fn w(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Ja { ja } else { en }
}

fn phase_words(lang: Lang, phase: Phase) -> &'static str {
    match phase {
        Phase::Requested => w(lang, "依頼中", "Requested"),
        Phase::Shown => w(lang, "署名待ち", "Awaiting signature"),
        Phase::Signed => w(lang, "有効(同意済み)", "Live (consented)"),
        Phase::Refused => w(lang, "拒否", "Refused"),
        Phase::Expired => w(lang, "期限切れ(未署名)", "Expired (never signed)"),
        Phase::Withdrawn => w(lang, "撤回済み", "Withdrawn"),
    }
}

/// The list (`listed`, for the patient ID `patient_id`), or the form alone, or why not (`refusal`).
pub fn patient_consents(
    lang: Lang,
    csrf: &str,
    patient_id: &str,
    listed: Option<&[Listed]>,
    refusal: Option<&DeskError>,
) -> Response {
    let body = html! {
        @if let Some(e) = refusal { div class="error" role="alert" { p { (refusal_words(lang, e).1) } } }
        p { (w(lang, "この医療機関で記録された、患者さんの同意の一覧です(有効なもの、撤回・拒否されたものを含みます)。受付の患者 ID を入力してください。ほかの医療機関の同意は表示されません。",
            "The consents recorded for a patient at this facility, live or ended (withdrawn, refused). Type the facility's patient ID. Other facilities' consents are not shown.")) }
        form method="post" action=(PATIENT_CONSENTS_PATH) {
            input type="hidden" name="csrf" value=(csrf);
            label for="patient-id" { (w(lang, "患者 ID(この医療機関の ID)", "Patient ID (this facility's)")) }
            input type="text" id="patient-id" name="patient_id" required autocomplete="off" inputmode="latin" maxlength="64" value=(patient_id);
            button type="submit" { (w(lang, "同意を表示する", "Show the consents")) }
        }
        @if let Some(listed) = listed {
            @if listed.is_empty() {
                p role="status" { (w(lang, "この患者 ID の同意は、この医療機関には記録されていません。", "No consent is recorded at this facility for this patient ID.")) }
            } @else {
                table {
                    caption { (w(lang, "患者 ID ", "Consents of patient ID ")) code { (patient_id) } (w(lang, " の同意", "")) }
                    thead { tr {
                        th scope="col" { (w(lang, "目的", "Purpose")) }
                        th scope="col" { (w(lang, "サービス", "Service")) }
                        th scope="col" { (w(lang, "状態", "State")) }
                        th scope="col" { (w(lang, "依頼日時", "Requested")) }
                        th scope="col" { (w(lang, "同意書", "Consent")) }
                    } }
                    tbody {
                        @for l in listed {
                            tr {
                                td { code { (l.consent.purpose) } }
                                td { code { (l.consent.client_id) } }
                                td { (phase_words(lang, l.phase)) }
                                td { (jst(l.consent.created_at, lang)) }
                                td { a href={ "/consent/" (l.consent.id) } { (w(lang, "開く", "Open")) } }
                            }
                        }
                    }
                }
            }
        }
    };
    let status = refusal.map_or(StatusCode::OK, |e| refusal_words(lang, e).0);
    page(lang, status, w(lang, "患者さんの同意の一覧", "A patient's consents"), body)
}
