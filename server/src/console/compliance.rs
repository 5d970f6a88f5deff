//! The safety-guideline compliance report (D164) in the console: operators and auditors see the whole
//! installation (or a facility they name), a facility admin their own facility; the same operation as
//! `hcpki compliance report` and `GET /api/v1/compliance/report` (`app::operations::compliance`), every
//! generation and every refusal audited. `?format=json` gives the same report as JSON for the signed-in person.

use super::{OrPage, Viewer};
use crate::app::AppState;
use crate::app::operations::compliance as ops;
use crate::compliance::render;
use crate::console::view;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hcpki_ca::access::Action;
use maud::html;
use std::collections::HashMap;

/// The page's address.
pub const PATH: &str = "/console/compliance";

hcpki_html::messages! {
    Facility => "施設ID(空欄ならシステム全体)", "Facility ID (empty: the whole installation)";
    Show => "表示", "Show";
}

/// `GET /console/compliance[?facility=&format=json]`: the report, or the refusal page (audited).
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Response> {
    let asked = query.get("facility").map(String::as_str);
    let facility = ops::facility_param(&viewer.caller, asked).await.or_page(&viewer)?;
    let report = ops::report(&state, &viewer.caller, facility, viewer.lang).await.or_page(&viewer)?;
    if query.get("format").is_some_and(|f| f == "json") {
        return Ok(Json(render::json(&report)).into_response());
    }
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let scope = report.evidence.scope.facility().map(|f| format!("&facility={f}")).unwrap_or_default();
    let body = html! {
        @if viewer.can(&Action::ReadCompliance(None)) {
            form method="get" action=(PATH) class="inline" {
                (view::input("facility", "facility", t(M::Facility), asked.unwrap_or(""), 16).size(16))
                " " button type="submit" { (t(M::Show)) }
            }
        }
        (render::body(&report, lang))
        (render::json_link(&format!("{PATH}?format=json{scope}"), lang))
    };
    Ok(view::page(lang, viewer.principal(), StatusCode::OK, render::title(lang), body))
}
