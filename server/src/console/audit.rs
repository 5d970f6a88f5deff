//! The audit viewer (operators and auditors): the newest entries matching filters on action (prefixes),
//! actor, target, outcome and UTC dates, and the same filters exported whole as JSON lines or RFC 5424
//! syslog messages (`crate::syslog`, the format of `hcpki audit export`). Login history is this viewer with
//! the login actions preset.

use super::i18n::M;
use super::view::{self, badge, table_or_none};
use super::{OrPage, Viewer};
use crate::http::AppState;
use crate::http::api_error::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_ca::access::Action;
use hcpki_ca::audit::AuditEntry;
use maud::{Markup, html};
use serde::Deserialize;

/// Entries read per database round trip.
const PAGE: i64 = 1000;
/// The viewer reads at most this many entries back from the newest, and shows at most [`MAX_ROWS`].
const SCAN_LIMIT: i64 = 50_000;
const MAX_ROWS: usize = 200;
/// Export pages (the whole log is streamed, page by page).
const EXPORT_PAGE: i64 = 5000;

/// The filters (query parameters; empty means any; `lang`, the language switch, is the guard's).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    target: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    until: Option<String>,
    format: Option<String>,
}

/// Parsed filters.
#[derive(Clone, Debug, Default)]
struct Filter {
    actions: Vec<String>,
    actor: Option<String>,
    target: Option<String>,
    outcome: Option<String>,
    from_ms: Option<i64>,
    until_ms: Option<i64>,
}

impl Filter {
    fn parse(q: &AuditQuery) -> Result<Self, String> {
        let text = |v: &Option<String>, name: &str| -> Result<Option<String>, String> {
            let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty());
            crate::http::operations::limit(name, v, 200)?;
            Ok(v.map(str::to_owned))
        };
        let actions = text(&q.action, "action")?
            .map(|a| a.split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        let outcome = text(&q.outcome, "outcome")?;
        if let Some(o) = &outcome
            && hcpki_ca::audit::Outcome::parse(o).is_none()
        {
            return Err(format!("outcome {o:?}: use ok, denied or failed"));
        }
        let day = |v: &Option<String>, name: &str| -> Result<Option<i64>, String> {
            text(v, name)?.map(|d| day_start_ms(&d).ok_or_else(|| format!("{name} {d:?}: use YYYY-MM-DD"))).transpose()
        };
        Ok(Self {
            actions,
            actor: text(&q.actor, "actor")?,
            target: text(&q.target, "target")?,
            outcome,
            from_ms: day(&q.from, "from")?,
            // The whole `until` day is included.
            until_ms: day(&q.until, "until")?.map(|ms| ms + 86_400_000),
        })
    }

    fn matches(&self, e: &AuditEntry) -> bool {
        (self.actions.is_empty() || self.actions.iter().any(|p| e.action.starts_with(p.as_str())))
            && self.actor.as_ref().is_none_or(|a| e.actor.contains(a.as_str()))
            && self.target.as_ref().is_none_or(|t| e.target.eq_ignore_ascii_case(t))
            && self.outcome.as_ref().is_none_or(|o| e.outcome == *o)
            && self.from_ms.is_none_or(|f| e.at_ms >= f)
            && self.until_ms.is_none_or(|u| e.at_ms < u)
    }
}

/// `YYYY-MM-DD` as Unix milliseconds at 00:00 UTC.
fn day_start_ms(s: &str) -> Option<i64> {
    let mut parts = s.split('-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u8 = parts.next()?.parse().ok()?;
    let d: u8 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let date = time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

async fn filter_for(viewer: &Viewer, q: &AuditQuery) -> Result<Filter, Response> {
    viewer.caller.may(Action::ReadAudit).await.or_page(viewer)?;
    match Filter::parse(q) {
        Ok(f) => Ok(f),
        Err(detail) => {
            let e = ApiError::bad_request("invalid filter", detail);
            Err(viewer.refusal(&viewer.caller.refuse(&Action::ReadAudit.name(), "-", e).await))
        }
    }
}

/// `GET /console/audit?…`: the newest matching entries.
pub async fn viewer(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<AuditQuery>,
) -> Result<Response, Response> {
    let filter = filter_for(&viewer, &q).await?;
    let store = state.admin.audit_log();
    let head = store.audit_head().await.map_err(|e| viewer.refusal(&ApiError::unavailable(e)))?;
    let mut found: Vec<AuditEntry> = Vec::new();
    let mut end = head.seq;
    let mut scanned = 0;
    let mut truncated = false;
    'scan: while end > 0 {
        if scanned >= SCAN_LIMIT {
            truncated = true;
            break;
        }
        let start = (end - PAGE).max(0);
        let page =
            store.audit_entries(start, end - start).await.map_err(|e| viewer.refusal(&ApiError::unavailable(e)))?;
        scanned += end - start;
        end = start;
        for e in page.into_iter().rev() {
            if filter.from_ms.is_some_and(|f| e.at_ms < f) {
                break 'scan;
            }
            if filter.matches(&e) {
                found.push(e);
                if found.len() >= MAX_ROWS {
                    truncated = end > 0;
                    break 'scan;
                }
            }
        }
    }
    let t = |m: M| m.text(viewer.lang);
    let rows: Vec<Vec<Markup>> = found
        .iter()
        .map(|e| {
            vec![
                html! { (e.seq) },
                html! { (hcpki_pkix::time::rfc3339(e.at_ms.div_euclid(1000))) },
                html! { (e.actor) },
                html! { code { (e.action) } },
                html! { (e.target) },
                badge(&e.outcome),
                html! { code { (e.detail) } },
            ]
        })
        .collect();
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let (action, actor, target, from, until) = (v(&q.action), v(&q.actor), v(&q.target), v(&q.from), v(&q.until));
    let outcome = q.outcome.as_deref().unwrap_or("");
    let outcomes = [("", t(M::AnyOutcome)), ("ok", "ok"), ("denied", "denied"), ("failed", "failed")];
    let query = serde_urlencoded::to_string([
        ("action", action.as_str()),
        ("actor", actor.as_str()),
        ("target", target.as_str()),
        ("outcome", outcome),
        ("from", from.as_str()),
        ("until", until.as_str()),
    ])
    .unwrap_or_default();
    let head = [t(M::Seq), t(M::At), t(M::ActorCol), t(M::ActionCol), t(M::TargetCol), t(M::Outcome), t(M::Detail)];
    let body = html! {
        form method="get" action="/console/audit" role="search" {
            fieldset {
                legend { (t(M::Filters)) }
                (view::input("action", "action", t(M::Action), &action, 200))
                (view::input("actor", "actor", t(M::Actor), &actor, 200))
                (view::input("target", "target", t(M::Target), &target, 200))
                (view::select("outcome", "outcome", t(M::Outcome), &outcomes, outcome))
                (view::input("from", "from", t(M::From), &from, 200).date())
                (view::input("until", "until", t(M::Until), &until, 200).date())
                p { button type="submit" { (t(M::Search)) } }
            }
        }
        p {
            a href={ "/console/audit/export?" (query) "&format=jsonl" } { (t(M::ExportJsonl)) }
            " · "
            a href={ "/console/audit/export?" (query) "&format=syslog" } { (t(M::ExportSyslog)) }
        }
        @if truncated { p role="status" { (t(M::ScanLimited)) } }
        (table_or_none(viewer.lang, t(M::Audit), &head, &rows))
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Audit), body))
}

/// `GET /console/audit/export?…&format=jsonl|syslog`: every matching entry up to the head as it is now,
/// oldest first, streamed; audited as `console.audit.export`.
pub async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<AuditQuery>,
) -> Result<Response, Response> {
    let filter = filter_for(&viewer, &q).await?;
    let syslog = match q.format.as_deref().unwrap_or("jsonl") {
        "jsonl" => false,
        "syslog" => true,
        other => {
            let e = ApiError::bad_request("invalid format", format!("format {other:?}: use jsonl or syslog"));
            return Err(viewer.refusal(&viewer.caller.refuse(&Action::ReadAudit.name(), "-", e).await));
        }
    };
    let store = state.admin.audit_log().clone();
    let head = store.audit_head().await.map_err(|e| viewer.refusal(&ApiError::unavailable(e)))?;
    let detail = serde_json::json!({ "format": if syslog { "syslog" } else { "jsonl" }, "up_to": head.seq });
    let event = hcpki_ca::audit::AuditEvent {
        actor: viewer.caller.actor().as_str().to_owned(),
        action: "console.audit.export".into(),
        target: "-".into(),
        outcome: hcpki_ca::audit::Outcome::Ok,
        detail,
    };
    store.append_audit(&event, state.clock.now()).await.map_err(|e| viewer.refusal(&ApiError::unavailable(e)))?;
    let hostname = crate::syslog::local_hostname();
    let stream = futures_util::stream::unfold(Some(0i64), move |after| {
        let (store, filter, hostname) = (store.clone(), filter.clone(), hostname.clone());
        async move {
            let after = after?;
            if after >= head.seq {
                return None;
            }
            match store.audit_entries(after, EXPORT_PAGE.min(head.seq - after)).await {
                Ok(page) => {
                    let next = page.last().map(|e| e.seq).filter(|s| *s > after);
                    let mut out = String::new();
                    for e in page.iter().filter(|e| filter.matches(e)) {
                        let line = if syslog {
                            crate::syslog::format(e, &hostname)
                        } else {
                            serde_json::to_string(e).unwrap_or_default()
                        };
                        out.push_str(&line);
                        out.push('\n');
                    }
                    Some((Ok::<Bytes, std::io::Error>(Bytes::from(out)), next))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let (ctype, ext) = if syslog { ("text/plain; charset=utf-8", "log") } else { ("application/x-ndjson", "jsonl") };
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"hcpki-audit.{ext}\"")),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, actor: &str, target: &str, outcome: &str, at_ms: i64) -> AuditEntry {
        AuditEntry {
            seq: 1,
            at_ms,
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            outcome: outcome.into(),
            detail: "{}".into(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn filters() {
        let q = AuditQuery {
            action: Some("login.,portal.login".into()),
            actor: Some("ops".into()),
            outcome: Some("denied".into()),
            from: Some("2026-11-23".into()),
            until: Some("2026-11-23".into()),
            ..Default::default()
        };
        let f = Filter::parse(&q).unwrap();
        let day = day_start_ms("2026-11-23").unwrap();
        assert!(f.matches(&entry("portal.login", "operator:ops", "x", "denied", day)));
        assert!(f.matches(&entry("login.card", "operator:ops", "x", "denied", day + 86_399_999)));
        assert!(!f.matches(&entry("login.card", "operator:ops", "x", "denied", day + 86_400_000)));
        assert!(!f.matches(&entry("cert.issue", "operator:ops", "x", "denied", day)));
        assert!(!f.matches(&entry("login.card", "operator:ops", "x", "ok", day)));
        let bad = |q: AuditQuery| Filter::parse(&q).unwrap_err();
        assert!(bad(AuditQuery { outcome: Some("maybe".into()), ..Default::default() }).contains("ok, denied"));
        assert!(bad(AuditQuery { from: Some("23/11/2026".into()), ..Default::default() }).contains("YYYY-MM-DD"));
        assert!(bad(AuditQuery { actor: Some("x".repeat(201)), ..Default::default() }).contains("longer"));
    }
}
