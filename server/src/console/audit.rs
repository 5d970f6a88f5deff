//! The audit viewer (operators and auditors): the newest entries matching filters on action (prefixes),
//! actor, target, outcome and UTC dates, and the same filters exported whole as JSON lines or RFC 5424
//! syslog messages (`crate::syslog`, the format of `hcpki audit export`). Login history is this viewer with
//! the login actions preset.
//!
//! The pages show entries as people read them ([`readable`], issue #45 item 3): actors as roles and names,
//! events and outcomes in words, times in Japan time, details as keys and values; [`PAGE_ROWS`] a page, older
//! ones a link away, and each entry its own page ([`entry`]) with every stored value as it is. The exports stay
//! raw and UTC.

pub(super) mod readable;
mod words;

use super::i18n::M;
use super::problem::Problem;
use super::view::{self, table_or_none};
use super::{OrPage, Viewer};
use crate::app::AppState;
use crate::app::api_error::ApiError;
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
/// The viewer reads at most this many entries back from where it starts, and shows at most [`PAGE_ROWS`]: 64
/// entries with long actors once made a page 151,000 pixels tall (issue #45 item 3).
const SCAN_LIMIT: i64 = 50_000;
const PAGE_ROWS: usize = 50;
/// The characters of the one detail value a table row shows (the entry's page shows them all).
const ROW_DETAIL_CHARS: usize = 24;
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
    /// Older than this entry (the next page's link).
    before: Option<String>,
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
    /// Where the viewer starts: entries older than this one (the pages' links).
    before: Option<i64>,
}

impl Filter {
    fn parse(q: &AuditQuery) -> Result<Self, String> {
        let text = |v: &Option<String>, name: &str| -> Result<Option<String>, String> {
            let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty());
            crate::app::operations::limit(name, v, 200)?;
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
            before: text(&q.before, "before")?
                .map(|b| b.parse::<i64>().map_err(|_| format!("before {b:?}: use an entry's number")))
                .transpose()?,
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

/// A failure of the audit log's store as the refusal page (logged with its cause).
pub(super) fn unavailable(viewer: &Viewer, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console audit page: the audit log is unreadable");
    viewer.refusal(Problem::Unavailable)
}

async fn filter_for(viewer: &Viewer, q: &AuditQuery) -> Result<Filter, Response> {
    viewer.caller.may(Action::ReadAudit).await.or_page(viewer)?;
    match Filter::parse(q) {
        Ok(f) => Ok(f),
        Err(detail) => {
            let e = ApiError::bad_request("invalid filter", detail);
            Err(viewer.refused(Problem::BadSearch, &Action::ReadAudit.name(), "-", e).await)
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
    let head = store.audit_head().await.map_err(|e| unavailable(&viewer, &e))?;
    let mut found: Vec<AuditEntry> = Vec::new();
    let mut end = filter.before.map_or(head.seq, |b| (b - 1).clamp(0, head.seq));
    let mut scanned = 0;
    let mut truncated = false;
    'scan: while end > 0 {
        if scanned >= SCAN_LIMIT {
            truncated = true;
            break;
        }
        let start = (end - PAGE).max(0);
        let page = store.audit_entries(start, end - start).await.map_err(|e| unavailable(&viewer, &e))?;
        scanned += end - start;
        end = start;
        for e in page.into_iter().rev() {
            if filter.from_ms.is_some_and(|f| e.at_ms < f) {
                break 'scan;
            }
            if filter.matches(&e) {
                found.push(e);
                if found.len() >= PAGE_ROWS {
                    break 'scan;
                }
            }
        }
    }
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let rows: Vec<Vec<Markup>> = found
        .iter()
        .map(|e| {
            vec![
                html! { a href={ "/console/audit/" (e.seq) } aria-label={ (t(M::Detail)) " " (e.seq) } { (e.seq) } },
                crate::portal::jst_seconds_bare(e.at_ms.div_euclid(1000)),
                readable::actor(lang, &e.actor),
                readable::action(lang, &e.action),
                html! { span class="target wrap" title=(e.target) { (e.target) } },
                readable::outcome(lang, &e.outcome),
                readable::summary(lang, &e.detail, ROW_DETAIL_CHARS),
            ]
        })
        .collect();
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let (action, actor, target, from, until) = (v(&q.action), v(&q.actor), v(&q.target), v(&q.from), v(&q.until));
    let outcome = q.outcome.as_deref().unwrap_or("");
    let word = |w: words::M| w.text(lang);
    let outcomes = [
        ("", t(M::AnyOutcome)),
        ("ok", word(words::M::OutcomeOk)),
        ("denied", word(words::M::OutcomeDenied)),
        ("failed", word(words::M::OutcomeFailed)),
    ];
    let filters = [
        ("action", action.as_str()),
        ("actor", actor.as_str()),
        ("target", target.as_str()),
        ("outcome", outcome),
        ("from", from.as_str()),
        ("until", until.as_str()),
    ];
    let query = serde_urlencoded::to_string(filters).unwrap_or_default();
    // The next page starts below the last entry shown, when the scan stopped with entries left.
    let older = found.last().map(|e| e.seq).filter(|s| found.len() >= PAGE_ROWS && *s > 1);
    let head = [
        t(M::Seq),
        word(words::M::AtJapan),
        t(M::ActorCol),
        t(M::ActionCol),
        t(M::TargetCol),
        t(M::Outcome),
        t(M::Detail),
    ];
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
        p { (word(words::M::TimesInJapan)) }
        div class="audit" { (table_or_none(lang, t(M::Audit), &head, &rows)) }
        @if filter.before.is_some() || older.is_some() {
            nav class="pages" aria-label=(word(words::M::Pages)) { p {
                @if filter.before.is_some() { a href={ "/console/audit?" (query) } { (word(words::M::Newest)) } }
                @if filter.before.is_some() && older.is_some() { " · " }
                @if let Some(s) = older {
                    a href={ "/console/audit?" (query) "&before=" (s) } rel="next" { (word(words::M::Older)) }
                }
            } }
        }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Audit), body))
}

/// `GET /console/audit/{seq}`: one entry, every stored value: the actor, event and outcome in words and as stored,
/// the time in Japan time and UTC, the detail as keys and values and as its JSON, and its place in the chain.
pub async fn entry(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::extract::Path(seq): axum::extract::Path<String>,
) -> Result<Response, Response> {
    viewer.caller.may(Action::ReadAudit).await.or_page(&viewer)?;
    let lang = viewer.lang;
    let word = |w: words::M| w.text(lang);
    let store = state.admin.audit_log();
    let found = match seq.parse::<i64>() {
        Ok(n) if n >= 1 => {
            store.audit_entries(n - 1, 1).await.map_err(|e| unavailable(&viewer, &e))?.into_iter().find(|e| e.seq == n)
        }
        _ => None,
    };
    let back = html! { p { a href="/console/audit" { (word(words::M::BackToLog)) } } };
    let Some(e) = found else {
        let body = html! { p { (word(words::M::NoSuchEntry)) } (back) };
        return Ok(view::page(lang, viewer.principal(), StatusCode::NOT_FOUND, word(words::M::EntryTitle), body));
    };
    let actor = readable::Actor::parse(&e.actor);
    let secs = e.at_ms.div_euclid(1000);
    let facts = [
        (words::M::Number, html! { (e.seq) }),
        (words::M::Time, crate::portal::jst_seconds(secs, lang)),
        (words::M::UtcTime, html! { code { (hcpki_pkix::time::rfc3339(secs)) } }),
        (words::M::Role, html! { (actor.role().text(lang)) }),
        (words::M::Actor, html! { span class="wrap" { (actor.name(lang)) } }),
        (words::M::StoredActor, html! { code class="wrap" { (e.actor) } }),
        (words::M::Event, html! { (readable::action_label(&e.action).text(lang)) }),
        (words::M::EventCode, html! { code class="wrap" { (e.action) } }),
        (words::M::Target, html! { span class="wrap" { (e.target) } }),
        (words::M::Outcome, readable::outcome(lang, &e.outcome)),
    ];
    let body = html! {
        dl { @for (k, v) in &facts { dt { (k.text(lang)) } dd { (v) } } }
        (view::section("details", word(words::M::Details), readable::details(lang, &e.detail, usize::MAX, usize::MAX)))
        (view::section("raw", word(words::M::RawDetail), html! { pre { (e.detail) } }))
        (view::section("chain", word(words::M::Chain), html! {
            dl {
                dt { (word(words::M::PrevHash)) } dd { code class="wrap" { (e.prev_hash) } }
                dt { (word(words::M::Hash)) } dd { code class="wrap" { (e.hash) } }
            }
        }))
        (back)
    };
    let title = format!("{} {}", word(words::M::EntryTitle), e.seq);
    Ok(view::page(lang, viewer.principal(), StatusCode::OK, &title, body))
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
            return Err(viewer.refused(Problem::UnknownOperation, &Action::ReadAudit.name(), "-", e).await);
        }
    };
    let store = state.admin.audit_log().clone();
    let head = store.audit_head().await.map_err(|e| unavailable(&viewer, &e))?;
    let detail = serde_json::json!({ "format": if syslog { "syslog" } else { "jsonl" }, "up_to": head.seq });
    let event = hcpki_ca::audit::AuditEvent {
        actor: viewer.caller.actor().as_str().to_owned(),
        action: "console.audit.export".into(),
        target: "-".into(),
        outcome: hcpki_ca::audit::Outcome::Ok,
        detail,
    };
    store.append_audit(&event, state.clock.now()).await.map_err(|e| unavailable(&viewer, &e))?;
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
        assert!(bad(AuditQuery { before: Some("x".into()), ..Default::default() }).contains("entry's number"));
        assert_eq!(
            Filter::parse(&AuditQuery { before: Some("7".into()), ..Default::default() }).unwrap().before,
            Some(7)
        );
    }
}
