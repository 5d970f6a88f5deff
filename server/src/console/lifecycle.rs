//! A facility's lifecycle changes (approve, reject, suspend, resume, retire) as a confirmation page and the
//! POST that acts (issue #45 item 2): the page shows what the operator decides on — for an approval the
//! address, contact and medical institution code with what was checked of it — and what the change does; the
//! POST asks the access decision again (`operations::authorize_transition`), needs the page's CSRF token, and
//! returns to the facility with a notice of what happened.

use super::i18n::M;
use super::notice::Done;
use super::problem::Problem;
use super::view::{self, csrf_field};
use super::{OrPage, Viewer, labels, see_other};
use crate::app::AppState;
use crate::app::operations::{self, MAX_REASON};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::facility::{Facility, Transition};
use maud::{Markup, html};
use serde::Deserialize;

type Page = Result<Response, Response>;

/// The transitions offered as buttons, in the order shown.
pub const OFFERED: [Transition; 5] =
    [Transition::Approve, Transition::Reject, Transition::Suspend, Transition::Resume, Transition::Retire];

/// The query of [`confirm`]: which transition.
#[derive(Debug, Deserialize)]
pub struct VerbQuery {
    verb: String,
}

/// `GET /console/facilities/{id}/transition?verb=…`: the confirmation page.
pub async fn confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<VerbQuery>,
) -> Page {
    let (fid, tr) = operations::authorize_transition(&viewer.caller, &id, &q.verb)
        .await
        .or_missing(&viewer, Problem::NoSuchTransition)?;
    let f = operations::facility(&state, &viewer.caller, fid.as_str())
        .await
        .or_missing(&viewer, Problem::NoSuchFacility)?;
    Ok(page(&viewer, &f, tr, "", None))
}

/// The buttons that open the confirmation of each of `which` (a GET form each, so no token is spent).
pub fn buttons(viewer: &Viewer, f: &Facility, which: &[Transition]) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    html! {
        @for tr in which {
            form class="inline" method="get" action={ "/console/facilities/" (f.id.as_str()) "/transition" } {
                input type="hidden" name="verb" value=(tr.verb());
                button type="submit" class=[dangerous(*tr).then_some("danger")]
                    aria-label={ (t(label(*tr))) " " (f.name) } {
                    (t(label(*tr))) "…"
                }
            }
            " "
        }
    }
}

/// The transition form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionForm {
    verb: String,
    reason: Option<String>,
}

/// `POST /console/facilities/{id}/transition` (operators): from the confirmation page.
pub async fn transition(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, body: Body) -> Page {
    let name = "admin.facility.transition";
    let form: TransitionForm = viewer.form(name, &id, body).await?;
    let (fid, tr) = operations::authorize_transition(&viewer.caller, &id, &form.verb)
        .await
        .or_missing(&viewer, Problem::NoSuchTransition)?;
    let reason = form.reason.as_deref().map(str::trim).unwrap_or("");
    if needs_reason(tr) && reason.is_empty() {
        // The operation would refuse it too, in the API's words; the page says it in the operator's and keeps
        // the page. Audited as the operation audits it.
        let e = crate::app::api_error::ApiError::bad_request(
            "invalid request",
            format!("a reason is required to {}", tr.verb()),
        );
        let action = format!("admin.facility.{}", tr.verb());
        viewer.caller.refuse(&action, fid.as_str(), e).await;
        let f = operations::facility(&state, &viewer.caller, fid.as_str()).await.or_page(&viewer)?;
        return Ok(page(&viewer, &f, tr, reason, Some(M::ReasonRequired)));
    }
    let reason = Some(reason).filter(|r| !r.is_empty());
    match operations::transition(&state, &viewer.caller, &fid, tr, reason).await {
        // Missing vetting evidence (D173) or a state that moved: what the refusal says, and where to record.
        Err(e) if tr == Transition::Approve && e.status == axum::http::StatusCode::CONFLICT => {
            return Err(super::vetting::approval_refused(&viewer, &fid, &e));
        }
        other => other.or_page(&viewer)?,
    };
    Ok(see_other(&done(tr).location(&format!("/console/facilities/{fid}"), "")))
}

/// The confirmation page of `tr` on `f`, with `reason` as typed and `problem` when the last try was refused.
fn page(viewer: &Viewer, f: &Facility, tr: Transition, reason: &str, problem: Option<M>) -> Response {
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let back = format!("/console/facilities/{}", f.id.as_str());
    let mut facts = labels::identity_facts(f, lang);
    facts.extend([(M::State, labels::state_badge(f.state, lang)), (M::Registered, view::jst(f.created_at, lang))]);
    let vetting = if f.medical_code.is_some() { M::VettingCode } else { M::VettingNoCode };
    let (title, consequence) = words(tr);
    let body = html! {
        @if let Some(p) = problem {
            div class="error" role="alert" id="problem" { p { (t(p)) } }
        }
        dl id="facility-facts" { @for (k, v) in &facts { dt { (t(*k)) } dd { (v) } } }
        @if tr == Transition::Approve {
            (view::section("vetting", t(M::Vetting), html! { p { (t(vetting)) } }))
        }
        div class="notice warn" role="note" id="consequence" {
            p { (t(consequence)) }
            @if matches!(tr, Transition::Reject | Transition::Retire) { p { strong { (t(M::CannotUndo)) } } }
        }
        form method="post" action={ "/console/facilities/" (f.id.as_str()) "/transition" } {
            (csrf_field(&viewer.csrf()))
            input type="hidden" name="verb" value=(tr.verb());
            @if needs_reason(tr) {
                @let field = view::input("reason", "reason", t(M::Reason), reason, MAX_REASON).size(40).required();
                p { (field) }
                p class="hint" id="reason-hint" { (t(M::ReasonHelp)) }
            }
            p {
                button type="submit" class=[dangerous(tr).then_some("danger")] id="confirm" { (t(label(tr))) }
                " "
                a href=(back) id="cancel" { (t(M::Cancel)) }
            }
        }
    };
    let status = if problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    view::page(lang, viewer.principal(), status, t(title), body)
}

/// Whether `tr` takes a reason.
fn needs_reason(tr: Transition) -> bool {
    matches!(tr, Transition::Reject | Transition::Suspend | Transition::Retire)
}

/// Whether `tr`'s button is red.
fn dangerous(tr: Transition) -> bool {
    matches!(tr, Transition::Reject | Transition::Suspend | Transition::Retire)
}

/// The button's word.
fn label(tr: Transition) -> M {
    match tr {
        Transition::Approve => M::Approve,
        Transition::Reject => M::Reject,
        Transition::Suspend => M::Suspend,
        Transition::Resume => M::Resume,
        _ => M::Retire,
    }
}

/// The confirmation page's title and what the change does.
fn words(tr: Transition) -> (M, M) {
    match tr {
        Transition::Approve => (M::ConfirmApprove, M::ApproveConsequence),
        Transition::Reject => (M::ConfirmReject, M::RejectConsequence),
        Transition::Suspend => (M::ConfirmSuspend, M::SuspendConsequence),
        Transition::Resume => (M::ConfirmResume, M::ResumeConsequence),
        _ => (M::ConfirmRetire, M::RetireConsequence),
    }
}

/// What the facility page says after `tr`.
fn done(tr: Transition) -> Done {
    match tr {
        Transition::Approve => Done::Approved,
        Transition::Reject => Done::Rejected,
        Transition::Suspend => Done::Suspended,
        Transition::Resume => Done::Resumed,
        _ => Done::Retired,
    }
}
