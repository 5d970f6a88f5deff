//! The approved router models in the console (issue #50 item 2, D174): every model with its vendor, firmware
//! range, methods and tested status, for anyone signed in; central operators approve a model (or replace its
//! entry), change its tested status and withdraw it, through the operations behind `/api/v1/router-models`
//! and `hcpki router model-approve|model-status|model-remove`, with the same CSRF token and origin check as
//! every console form. Linked from each facility's routers page (the menu has no room left).

use super::problem::Problem;
use super::view::{self, csrf_field, table_or_none};
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations::routers::{self as ops, ModelBody};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::psk::VENDORS;
use hcpki_ca::store::router::RouterModelRecord;
use hcpki_html::Lang;
use maud::{Markup, html};
use serde::Deserialize;

/// The page's address.
pub const PATH: &str = "/console/router-models";

hcpki_html::messages! {
    Title => "承認済みルータ機種", "Approved router models";
    Intro => "ルータ証明書と事前共有鍵 (PSK) は、「承認済み機種のみ」が有効なとき、この一覧にある機種の、承認された方式のルータにだけ発行されます。一覧の変更は運用主体(中央の運用者)だけが行い、すべて監査ログに残ります。",
        "While \"approved models only\" is on, router certificates and pre-shared keys (PSK) are issued only for routers of a model on this list, for a method it is approved for. Only the operating body's central operators change the list; every change is audited.";
    OnlyOn => "承認済み機種のみ: 有効", "Approved models only: on";
    OnlyOff => "承認済み機種のみ: 無効(hcpki router approved-only on で有効にします)", "Approved models only: off (hcpki router approved-only on turns it on)";
    Models => "機種一覧", "Models";
    Model => "機種 ID", "Model id";
    Name => "名称", "Name";
    Vendor => "製造元", "Vendor";
    Firmware => "ファームウェア範囲", "Firmware range";
    Methods => "認証方式", "Methods";
    Tested => "検証状況", "Tested status";
    Guide => "設定ガイド", "Guide";
    PskVendor => "PSK の書式", "PSK syntax";
    Change => "変更", "Change";
    SetStatus => "検証状況を変更", "Change the status";
    Withdraw => "承認を取り消す", "Withdraw";
    Approve => "機種を承認(同じ ID は置き換え)", "Approve a model (the same id replaces it)";
    ApproveButton => "承認する", "Approve";
    CertAndPsk => "証明書と PSK", "certificate and PSK";
    CertOnly => "証明書のみ", "certificate only";
    PskOnly => "PSK のみ", "PSK only";
    Refused => "この変更は受け付けられませんでした。何も変更していません。", "This change was refused; nothing was changed.";
    OperatorsOnly => "一覧の変更は中央の運用者だけが行えます。", "Only central operators change the list.";
}

/// `GET /console/router-models` (anyone signed in).
pub async fn show(State(state): State<AppState>, viewer: Viewer) -> Result<Response, Response> {
    page(&state, &viewer, None, StatusCode::OK).await
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    refused: Option<&ApiError>,
    status: StatusCode,
) -> Result<Response, Response> {
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let (models, only) = ops::models(&viewer.caller, state).await.or_page(viewer)?;
    let manage = viewer.can(&Action::ManageRouterModels);
    let rows: Vec<Vec<Markup>> = models.iter().map(|m| row(viewer, m, manage)).collect();
    let mut head = vec![t(M::Model), t(M::Name), t(M::Vendor), t(M::Firmware), t(M::Methods), t(M::Tested)];
    if manage {
        head.push(t(M::Change));
    }
    let methods = [("certificate psk", t(M::CertAndPsk)), ("certificate", t(M::CertOnly)), ("psk", t(M::PskOnly))];
    let mut vendors = vec![("", "-")];
    vendors.extend(VENDORS.iter().map(|v| (v.as_str(), v.as_str())));
    let body = html! {
        p { (t(M::Intro)) }
        p id="approved-only" { (t(if only { M::OnlyOn } else { M::OnlyOff })) }
        @if let Some(e) = refused {
            div class="error" role="alert" id="problem" { p { (t(M::Refused)) } p { (e.detail) } }
        }
        (view::section("models", t(M::Models), html! {
            (table_or_none(lang, t(M::Models), &head, &rows))
        }))
        @if manage {
            (view::section("approve-model", t(M::Approve), html! {
                form method="post" action=(PATH) id="approve" {
                    (csrf_field(&viewer.csrf()))
                    input type="hidden" name="op" value="approve";
                    (view::input("m-model", "model", t(M::Model), "", 64).required().autocomplete("off"))
                    (view::input("m-name", "name", t(M::Name), "", 200).required().autocomplete("off"))
                    (view::input("m-vendor", "vendor", t(M::Vendor), "", 200).autocomplete("off"))
                    (view::input("m-firmware", "firmware", t(M::Firmware), "", 200).autocomplete("off"))
                    (view::select("m-methods", "auth_methods", t(M::Methods), &methods, "certificate psk"))
                    (view::select("m-psk-vendor", "psk_vendor", t(M::PskVendor), &vendors, ""))
                    (view::input("m-tested", "tested", t(M::Tested), "", 200).required().autocomplete("off"))
                    (view::input("m-guide", "guide", t(M::Guide), "docs/routers/README.md", 200).autocomplete("off"))
                    p { button type="submit" { (t(M::ApproveButton)) } }
                }
            }))
        } @else {
            p { (t(M::OperatorsOnly)) }
        }
    };
    Ok(view::page(lang, viewer.principal(), status, t(M::Title), body))
}

/// One model's row; for operators, its status form and its withdraw button.
fn row(viewer: &Viewer, m: &RouterModelRecord, manage: bool) -> Vec<Markup> {
    let t = |x: M| x.text(viewer.lang);
    let methods = m.auth_methods.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ");
    let mut cells = vec![
        html! { code { (m.model) } },
        html! { (m.name) },
        html! { (m.vendor) },
        html! { (m.firmware) },
        html! { (methods) },
        html! { (m.tested) },
    ];
    if manage {
        let id = format!("status-{}", m.model);
        cells.push(html! {
            form method="post" action=(PATH) {
                (csrf_field(&viewer.csrf()))
                input type="hidden" name="model" value=(m.model);
                (view::input(&id, "tested", t(M::Tested), &m.tested, 200).required())
                button type="submit" name="op" value="status" { (t(M::SetStatus)) }
                " "
                button type="submit" name="op" value="withdraw" formnovalidate { (t(M::Withdraw)) }
            }
        });
    }
    cells
}

/// The page's forms: `op` is `approve` (every field), `status` (`model`, `tested`) or `withdraw` (`model`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelForm {
    op: String,
    model: String,
    name: Option<String>,
    vendor: Option<String>,
    firmware: Option<String>,
    auth_methods: Option<String>,
    psk_vendor: Option<String>,
    tested: Option<String>,
    guide: Option<String>,
}

/// `POST /console/router-models` (central operators; anyone else is refused, audited).
pub async fn change(State(state): State<AppState>, viewer: Viewer, body: Body) -> Result<Response, Response> {
    let action = Action::ManageRouterModels.name();
    let form: ModelForm = viewer.form(&action, "-", body).await?;
    let done = match form.op.as_str() {
        "approve" => {
            let b = ModelBody {
                model: form.model,
                name: form.name.unwrap_or_default(),
                vendor: form.vendor.unwrap_or_default(),
                firmware: form.firmware.unwrap_or_default(),
                auth_methods: form.auth_methods.unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
                psk_vendor: form.psk_vendor,
                tested: form.tested.unwrap_or_default(),
                guide: form.guide,
            };
            ops::approve_model(&state, &viewer.caller, &b).await.map(|_| ())
        }
        "status" => {
            let tested = form.tested.unwrap_or_default();
            ops::set_model_tested(&state, &viewer.caller, &form.model, &tested).await.map(|_| ())
        }
        "withdraw" => ops::withdraw_model(&state, &viewer.caller, &form.model).await,
        op => {
            let e = ApiError::bad_request("invalid form", format!("op {op:?}: use approve, status or withdraw"));
            return Err(viewer.refused(Problem::UnknownOperation, &action, "-", e).await);
        }
    };
    match done {
        Ok(()) => Ok(see_other(&format!("{PATH}#models"))),
        Err(e) if e.status == StatusCode::BAD_REQUEST => page(&state, &viewer, Some(&e), StatusCode::BAD_REQUEST).await,
        Err(e) => Err(viewer.refusal(Problem::of(&e, Problem::NotFound))),
    }
}

/// The link to this page from a facility's routers page.
pub fn link(lang: Lang) -> Markup {
    html! { p { a href=(PATH) id="router-models-link" { (M::Title.text(lang)) } } }
}
