//! The issuance stop switch's page for operators (issue #46 item 5, D135, D141): whether issuance runs; while it
//! is halted, who halted it, when and why, and the approvals to resume given so far; a halt with its reason and an
//! approval to resume, each through a confirmation page that says what it does. Both call the one operation
//! `hcpki ca halt` / `hcpki ca resume` and the admin API call (`operations::halt`), with the signed-in operator
//! (certificate or card) as the named person; the switch's refusals (already halted, the same person twice, a
//! reason missing) come back on this page in the operator's words, what was typed kept. Auditors read.

use super::i18n::M as Ui;
use super::notice::{self, Done, DoneQuery};
use super::view::{self, csrf_field};
use super::{OrPage, Viewer, see_other};
use crate::app::operations::halt as op;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::store::halt::{APPROVALS_NEEDED, ApprovalOutcome, Halt, HaltRefusal};
use maud::{Markup, html};
use serde::Deserialize;

use crate::app::AppState;

type Page = Result<Response, Response>;

/// The page's address.
pub const PATH: &str = "/console/ca/halt";

/// Longest reason the form takes (the switch's own rule is 500 characters; the field stops there).
const REASON_MAX: usize = 500;

hcpki_html::messages! {
    Title => "証明書発行の停止スイッチ", "Issuance stop switch";
    Running => "証明書の発行は稼働中です。", "Certificates are being issued.";
    HaltedLead => "すべての証明書発行を停止中です(全レプリカ)。EST・SCEP・ACME・コンソール・一括再発行の要求は、理由を添えて「後でやり直してください」と断られます。OCSP・CRL・ログインは止まっていません。",
        "All certificate issuance is halted on every replica. EST, SCEP, ACME, console and bulk re-issue requests are refused with the reason and told to try later. OCSP, CRLs and sign-in keep working.";
    HaltNumber => "停止番号", "Halt number";
    HaltReason => "停止の理由", "Reason for the halt";
    HaltedBy => "停止した人", "Halted by";
    HaltedAt => "停止した日時", "Halted at";
    Approvals => "再開の承認", "Approvals to resume";
    ApprovalsHelp => "再開には、異なる2人の運用者の承認が必要です。承認は次の時間だけ有効です:", "Resuming takes the approvals of two different operators; an approval counts for";
    Minutes => "分", "minutes";
    Approver => "承認した人", "Approver";
    ApprovedAt => "承認した日時", "Approved at";
    CountsUntil => "有効期限", "Counts until";
    Expired => "期限切れ(数えません)", "expired (not counted)";
    NoApprovals => "まだ承認はありません。", "No approvals yet.";
    StillNeeded => "再開に必要な残りの承認", "Approvals still needed";
    HaltSection => "発行を停止する", "Halt issuance";
    HaltHelp => "不正発行の疑い、鍵の漏えいの疑い、HSM の障害など、発行を直ちに止めるべきときに使います。止めるのは1人でできます。",
        "Use it when issuance must stop at once: a suspected mis-issuance, a suspected key compromise, a failing HSM. One operator can stop it.";
    ReasonLabel => "理由(申請を断られた全員に表示されます)", "Reason (shown to everyone refused)";
    ReasonHint => "1〜500 文字、1 行で。例: 鍵の調査中のため発行を停止しています", "1–500 characters on one line, e.g. Issuance is halted while a key is investigated";
    HaltButton => "発行を停止する…", "Halt issuance…";
    ApproveButton => "再開を承認する…", "Approve resuming…";
    ConfirmHaltTitle => "発行停止の確認", "Confirm halting issuance";
    HaltConsequence => "すべての証明書発行(EST・SCEP・ACME・コンソール・一括再発行・サーバー自身の証明書の更新)が、全レプリカで直ちに止まります。OCSP・CRL・ログインは止まりません。再開には、異なる2人の運用者の承認が必要です(あなたも承認者の1人になれます)。",
        "All certificate issuance (EST, SCEP, ACME, the console, bulk re-issue, the server's own certificates) stops at once on every replica. OCSP, CRLs and sign-in keep working. Resuming takes two different operators' approvals (you may be one of them).";
    HaltConfirm => "発行を停止する", "Halt issuance";
    ConfirmApproveTitle => "再開の承認の確認", "Confirm approving the resume";
    ApproveResumes => "あなたの承認で2人目になり、発行は直ちに全レプリカで再開します。停止の原因が解消していることを確かめてから承認してください。",
        "Yours is the second approval: issuance resumes at once on every replica. Approve only once the cause of the halt is resolved.";
    ApproveRecords => "あなたの承認を記録します。発行は止まったままで、別の運用者1人が有効期限内に承認すると再開します。",
        "Your approval is recorded; issuance stays halted until one more, different operator approves within the time it counts.";
    ApproveConfirm => "再開を承認する", "Approve resuming";
    ReasonRefused => "停止の理由を 1〜500 文字の 1 行で入力してください(申請を断られた全員に表示されます)。何も変更していません。",
        "Give the halt a reason of 1–500 characters on one line (everyone refused is shown it). Nothing was changed.";
    AlreadyHalted => "発行はすでに停止中です(別の運用者が先に停止しました)。停止中の理由はそのままです。何も変更していません。",
        "Issuance is already halted (another operator halted it first); its reason stays. Nothing was changed.";
    NotHalted => "発行は停止していないため、再開の承認はいりません(別の運用者の承認で再開した可能性があります)。何も変更していません。",
        "Issuance is not halted, so there is nothing to approve (another operator's approval may have resumed it). Nothing was changed.";
    SameApprover => "あなたはこの停止の再開をすでに承認しています。再開には、別の運用者の承認が必要です。何も変更していません。",
        "You have already approved resuming this halt: a different operator must approve. Nothing was changed.";
    Unnamed => "このログインは特定の個人を示さないため、承認できません。自分の運用者証明書か、自分のカードでログインして承認してください。何も変更していません。",
        "This sign-in does not name one person, so it cannot approve: approve with your own operator certificate, or sign in with your own card. Nothing was changed.";
    DocumentsSection => "認証局の文書", "CA documents";
    CpsLink => "証明書ポリシー/認証実施規程(CP/CPS)の下書きをダウンロード", "Download the CP/CPS draft";
    CpsHint => "RFC 3647 の章立てで、この環境の設定から証明書プロファイル・有効期間・鍵長・CRL/OCSP の章を生成します。「TO COMPLETE」の部分は運営主体が記入してください。",
        "In RFC 3647's outline: the chapters on profiles, lifetimes, key sizes, CRLs and OCSP are generated from this installation's settings; the operating body completes the parts marked TO COMPLETE.";
    RolloverLink => "認証局の鍵の更新(ロールオーバー)の状況", "Where each CA's key rollover stands";
    ReadOnly => "監査担当は状態の確認だけができます。停止・再開の承認は運用者が行います。", "Auditors can only read the state; operators halt and approve.";
}

/// The halt form's field and the confirmation's.
#[derive(Debug, Default, Deserialize)]
pub struct ReasonQuery {
    #[serde(default)]
    reason: String,
}

/// The halt form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaltForm {
    reason: String,
}

/// The approval form (the token only).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveForm {}

/// `GET /console/ca/halt`: the state, the approvals, and the forms this viewer may use.
pub async fn show(State(state): State<AppState>, viewer: Viewer, Query(q): Query<DoneQuery>) -> Page {
    let halt = op::status(&state, &viewer.caller).await.or_page(&viewer)?;
    Ok(page(&state, &viewer, halt.as_ref(), notice::render(q.done(), viewer.lang), "", None))
}

/// `GET /console/ca/halt/confirm?reason=…`: what halting does, with the reason to confirm; a reason the switch
/// would refuse is said on the state page, the reason kept.
pub async fn confirm_halt(State(state): State<AppState>, viewer: Viewer, Query(q): Query<ReasonQuery>) -> Page {
    viewer.caller.may(Action::HaltIssuance).await.or_page(&viewer)?;
    let halt = op::status(&state, &viewer.caller).await.or_page(&viewer)?;
    if let Some(h) = &halt {
        let refusal = HaltRefusal::AlreadyHalted { id: h.id, by: h.halted_by.clone() };
        return Ok(page(&state, &viewer, halt.as_ref(), html! {}, &q.reason, Some(refusal)));
    }
    if let Err(refusal) = hcpki_ca::store::halt::HaltReason::parse(&q.reason) {
        return Ok(page(&state, &viewer, None, html! {}, &q.reason, Some(refusal)));
    }
    let t = |m: M| m.text(viewer.lang);
    let body = html! {
        dl { dt { (t(M::HaltReason)) } dd id="confirm-reason" { (q.reason.trim()) } }
        div class="notice warn" role="note" id="consequence" { p { (t(M::HaltConsequence)) } }
        form method="post" action=(PATH) {
            (csrf_field(&viewer.csrf()))
            input type="hidden" name="reason" value=(q.reason.trim());
            p {
                button type="submit" class="danger" id="confirm" { (t(M::HaltConfirm)) }
                " "
                a href=(PATH) id="cancel" { (Ui::Cancel.text(viewer.lang)) }
            }
        }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::ConfirmHaltTitle), body))
}

/// `POST /console/ca/halt` (operators): halt, from the confirmation page.
pub async fn halt(State(state): State<AppState>, viewer: Viewer, body: Body) -> Page {
    let form: HaltForm = viewer.form(&Action::HaltIssuance.name(), "issuance", body).await?;
    match op::halt(&state, &viewer.caller, &form.reason).await.or_page(&viewer)? {
        Ok(_) => Ok(see_other(&Done::IssuanceHalted.location(PATH, ""))),
        Err(refusal) => {
            let halt = op::status(&state, &viewer.caller).await.or_page(&viewer)?;
            Ok(page(&state, &viewer, halt.as_ref(), html! {}, &form.reason, Some(refusal)))
        }
    }
}

/// `GET /console/ca/halt/approve`: the halt, the approvals so far, and what this approval does.
pub async fn confirm_approve(State(state): State<AppState>, viewer: Viewer) -> Page {
    viewer.caller.may(Action::HaltIssuance).await.or_page(&viewer)?;
    let Some(h) = op::status(&state, &viewer.caller).await.or_page(&viewer)? else {
        return Ok(page(&state, &viewer, None, html! {}, "", Some(HaltRefusal::NotHalted)));
    };
    let t = |m: M| m.text(viewer.lang);
    let live = h.live_approvals(viewer.at(), state.halt.approval_window).count();
    let resumes = live + 1 >= APPROVALS_NEEDED;
    let body = html! {
        (facts(&viewer, &h))
        (approvals(&state, &viewer, &h))
        div class="notice warn" role="note" id="consequence" {
            p { (t(if resumes { M::ApproveResumes } else { M::ApproveRecords })) }
        }
        form method="post" action={ (PATH) "/approve" } {
            (csrf_field(&viewer.csrf()))
            p {
                button type="submit" id="confirm" { (t(M::ApproveConfirm)) }
                " "
                a href=(PATH) id="cancel" { (Ui::Cancel.text(viewer.lang)) }
            }
        }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::ConfirmApproveTitle), body))
}

/// `POST /console/ca/halt/approve` (operators, each a named person): approve resuming.
pub async fn approve(State(state): State<AppState>, viewer: Viewer, body: Body) -> Page {
    let _: ApproveForm = viewer.form(&Action::HaltIssuance.name(), "issuance", body).await?;
    match op::approve_resume(&state, &viewer.caller).await.or_page(&viewer)? {
        Ok(ApprovalOutcome::Recorded { .. }) => Ok(see_other(&Done::ResumeApproved.location(PATH, ""))),
        Ok(ApprovalOutcome::Resumed { .. }) => Ok(see_other(&Done::IssuanceResumed.location(PATH, ""))),
        Err(refusal) => {
            let halt = op::status(&state, &viewer.caller).await.or_page(&viewer)?;
            Ok(page(&state, &viewer, halt.as_ref(), html! {}, "", Some(refusal)))
        }
    }
}

/// The state page: `done` is the notice of the action just taken, `reason` the halt form's text as typed and
/// `refused` the switch's refusal of the last try (the page's status then says so).
fn page(
    state: &AppState,
    viewer: &Viewer,
    halt: Option<&Halt>,
    done: Markup,
    reason: &str,
    refused: Option<HaltRefusal>,
) -> Response {
    let t = |m: M| m.text(viewer.lang);
    let may_act = viewer.can(&Action::HaltIssuance);
    let body = html! {
        (done)
        @if let Some(r) = &refused {
            div class="error" role="alert" id="problem" { p { (t(refusal_words(r))) } }
        }
        @match halt {
            None => p id="halt-state" data-halted="false" { strong { (t(M::Running)) } },
            Some(h) => {
                div class="notice warn" role="status" id="halt-state" data-halted="true" { p { (t(M::HaltedLead)) } }
                (facts(viewer, h))
                (approvals(state, viewer, h))
            }
        }
        @if !may_act {
            p class="hint" { (t(M::ReadOnly)) }
        } @else if halt.is_some() {
            form method="get" action={ (PATH) "/approve" } {
                p { button type="submit" id="approve" { (t(M::ApproveButton)) } }
            }
        } @else {
            @let focus = matches!(refused, Some(HaltRefusal::Reason));
            @let field = view::input("reason", "reason", t(M::ReasonLabel), reason, REASON_MAX)
                .size(60).required().hint(t(M::ReasonHint)).focus_if(focus);
            (view::section("halt-form", t(M::HaltSection), html! {
                p { (t(M::HaltHelp)) }
                form method="get" action={ (PATH) "/confirm" } {
                    p { (field) }
                    p { button type="submit" class="danger" id="halt" { (t(M::HaltButton)) } }
                }
            }))
        }
        (view::section("ca-documents", t(M::DocumentsSection), html! {
            p { a href=(super::practice::PATH) id="cps-download" download="cp-cps.md" { (t(M::CpsLink)) } }
            p { a href=(super::rollover::PATH) id="rollover-link" { (t(M::RolloverLink)) } }
            p class="hint" { (t(M::CpsHint)) }
        }))
    };
    let status = match &refused {
        None => StatusCode::OK,
        Some(HaltRefusal::Reason) => StatusCode::BAD_REQUEST,
        Some(HaltRefusal::Unnamed(_)) => StatusCode::FORBIDDEN,
        Some(_) => StatusCode::CONFLICT,
    };
    view::page(viewer.lang, viewer.principal(), status, t(M::Title), body)
}

/// Who halted, when and why.
fn facts(viewer: &Viewer, h: &Halt) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    html! {
        dl id="halt-facts" {
            dt { (t(M::HaltNumber)) } dd { (h.id) }
            dt { (t(M::HaltReason)) } dd id="halt-reason" { (h.reason.as_str()) }
            dt { (t(M::HaltedBy)) } dd id="halted-by" { code class="wrap" { (h.halted_by) } }
            dt { (t(M::HaltedAt)) } dd { (view::jst(h.halted_at, viewer.lang)) }
        }
    }
}

/// The approvals given so far, each with when it stops counting, and how many are still needed.
fn approvals(state: &AppState, viewer: &Viewer, h: &Halt) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    let window = state.halt.approval_window;
    let live = h.live_approvals(viewer.at(), window).count();
    let window_secs = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
    let rows: Vec<Vec<Markup>> = h
        .approvals
        .iter()
        .map(|a| {
            let until = a.at.saturating_add(window_secs);
            vec![
                html! { code class="wrap" { (a.approver.as_str()) } },
                view::jst(a.at, viewer.lang),
                if until > viewer.now() {
                    view::jst(until, viewer.lang)
                } else {
                    html! { (t(M::Expired)) }
                },
            ]
        })
        .collect();
    let inner = html! {
        p { (t(M::ApprovalsHelp)) " " (window.as_secs() / 60) " " (t(M::Minutes)) }
        @if rows.is_empty() {
            p { (t(M::NoApprovals)) }
        } @else {
            (view::table(t(M::Approvals), &[t(M::Approver), t(M::ApprovedAt), t(M::CountsUntil)], &rows))
        }
        dl { dt { (t(M::StillNeeded)) } dd id="still-needed" { (APPROVALS_NEEDED.saturating_sub(live)) } }
    };
    view::section("approvals", t(M::Approvals), inner)
}

/// The switch's refusal in the operator's words.
fn refusal_words(r: &HaltRefusal) -> M {
    match r {
        HaltRefusal::Reason => M::ReasonRefused,
        HaltRefusal::AlreadyHalted { .. } => M::AlreadyHalted,
        HaltRefusal::NotHalted => M::NotHalted,
        HaltRefusal::SameApprover(_) => M::SameApprover,
        _ => M::Unnamed,
    }
}
