//! The break-glass uses to review (issue #29, D94): every `oidc.break_glass` entry of the audit log with outcome
//! `ok`, newest first, with who, which service, from which facility, when, and the reason given. Operators and
//! auditors (who read the audit log) see every facility's; a facility's administrator sees the uses made from
//! that facility's PCs. The list is read from the hash-chained audit log itself, so it cannot disagree with it.

use super::view::{self, table_or_none};
use super::{OrPage, Viewer};
use crate::app::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::{Action, Principal};
use hcpki_ca::audit::AuditEntry;
use hcpki_sso::oidc::break_glass::AUDIT_ACTION;
use maud::{Markup, html};

/// Entries read per database round trip, and how far back the list looks.
const PAGE: i64 = 1000;
const SCAN_LIMIT: i64 = 50_000;
/// Rows shown at most.
const MAX_ROWS: usize = 200;

hcpki_html::messages! {
    Title => "緊急時のアクセス(ブレークグラス)の確認", "Break-glass uses to review";
    Lead => "緊急時の目的(EMER)でサービスが開かれた記録です。理由が妥当か確認してください。", "Services opened for an emergency (EMER). Check that each reason holds.";
    LeadFacility => "この施設の PC から緊急時の目的で開かれた記録です。", "Emergency uses from this facility's PCs.";
    At => "日時 (UTC)", "When (UTC)";
    Who => "利用者", "Person";
    Service => "サービス", "Service";
    Facility => "施設", "Facility";
    Reason => "理由", "Reason";
    Seq => "監査番号", "Audit entry";
    Scanned => "直近の監査記録だけを表示しています。それより前は監査ログを検索してください。", "Only the most recent audit entries are shown; search the audit log for older ones.";
}

/// `GET /console/break-glass`.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Response, Response> {
    // Whose uses: every facility's for those who read the audit log, one facility's for its administrator.
    let facility = match viewer.principal() {
        Principal::FacilityAdmin { facility, .. } => {
            viewer.caller.may(Action::ReadFacility(facility)).await.or_page(&viewer)?;
            Some(facility.to_string())
        }
        _ => {
            viewer.caller.may(Action::ReadAudit).await.or_page(&viewer)?;
            None
        }
    };
    let store = state.admin.audit_log();
    let head = store.audit_head().await.map_err(|e| super::audit::unavailable(&viewer, &e))?;
    let (mut found, mut end, mut truncated): (Vec<AuditEntry>, i64, bool) = (Vec::new(), head.seq, false);
    while end > 0 && found.len() < MAX_ROWS {
        if head.seq - end >= SCAN_LIMIT {
            truncated = true;
            break;
        }
        let start = (end - PAGE).max(0);
        let page = store.audit_entries(start, end - start).await.map_err(|e| super::audit::unavailable(&viewer, &e))?;
        end = start;
        let uses = page.into_iter().rev().filter(|e| e.action == AUDIT_ACTION && e.outcome == "ok");
        found.extend(uses.filter(|e| facility.is_none() || detail(e, "facility") == facility));
    }
    found.truncate(MAX_ROWS);
    let t = |m: M| m.text(viewer.lang);
    let rows: Vec<Vec<Markup>> = found
        .iter()
        .map(|e| {
            let who = match (detail(e, "name"), detail(e, "hc_role")) {
                (Some(name), Some(role)) => format!("{name} ({role})"),
                (name, _) => name.unwrap_or_else(|| e.actor.clone()),
            };
            vec![
                html! { (hcpki_pkix::time::rfc3339(e.at_ms.div_euclid(1000))) },
                html! { (who) br; small { code { (e.actor) } } },
                html! { (detail(e, "service").unwrap_or_default()) " (" (e.target) ")" },
                html! { (detail(e, "facility").unwrap_or_else(|| "—".into())) },
                html! { (detail(e, "reason").unwrap_or_default()) },
                html! { (e.seq) },
            ]
        })
        .collect();
    let head_row = [t(M::At), t(M::Who), t(M::Service), t(M::Facility), t(M::Reason), t(M::Seq)];
    let body = html! {
        p { (if facility.is_some() { t(M::LeadFacility) } else { t(M::Lead) }) }
        @if truncated { p role="status" { (t(M::Scanned)) } }
        div data-break-glass-uses=(found.len()) { (table_or_none(viewer.lang, t(M::Title), &head_row, &rows)) }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Title), body))
}

/// A text member of an entry's detail.
fn detail(e: &AuditEntry, key: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(&e.detail).ok()?;
    value.get(key).and_then(serde_json::Value::as_str).map(str::to_owned)
}
