//! CA key rollover for operators and auditors (issue #47, D145, D151): where each issuing CA's rollover stands,
//! who still holds certificates of the generation being replaced, and each generation's CRL; with the one
//! command (and admin API call) that takes the next step. The page reads the same operation as
//! `hcpki ca rollover <ca> status` and `GET /api/v1/ca/<ca>/rollover` (`operations::rollover::status`).
//! Operators also take the steps here (D165): each section has a form per step its state allows, posted with the
//! page's CSRF token to `/console/ca/rollover/{ca}/{step}`, which calls the same operation as the CLI and the API
//! (`operations::rollover::start` / `step`), audited with the operator as actor. Starting needs the root key on
//! the replica that answers (an installation whose root is offline starts at the ceremony with the CLI), and
//! each step still asks for a restart of every replica (D145).

use super::{OrPage, Viewer};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations::rollover as op;
use crate::console::view;
use crate::console::view::csrf_field;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::CaName;
use hcpki_ca::access::Action;
use hcpki_ca::authority::RolloverStatus;
use hcpki_ca::store::rollover::{RolloverState, RolloverStep};
use maud::{Markup, html};
use serde::Deserialize;
use std::str::FromStr;

/// The page's address.
pub const PATH: &str = "/console/ca/rollover";

/// The CAs a rollover applies to: the root (with link certificates both ways, D160) and the issuing CAs.
const ROLLED: [CaName; 4] = [CaName::Root, CaName::Router, CaName::Pc, CaName::Server];

hcpki_html::messages! {
    Title => "認証局の鍵の更新(ロールオーバー)", "CA key rollover";
    Lead => "ルート認証局と発行用の認証局(ルーター・PC・サーバー)ごとに、鍵の更新の状況、旧世代の証明書を持つ施設、世代ごとの CRL を示します。ルートの更新では新旧のルートが互いの鍵を証明するリンク証明書も配布します。手順は運用ガイドの「CA key rollover」にあります。",
        "For the root and each issuing CA (router, PC, server): where its key rollover stands, which facilities still hold certificates of the generation being replaced, and each generation's CRL. A root rollover also serves the link certificates by which each root generation certifies the other's key. The runbook is the operator guide's \"CA key rollover\".";
    Never => "鍵の更新はまだ行われていません(第1世代が発行中)。", "No rollover yet (generation 1 issues).";
    Generation => "新しい世代", "New generation";
    GenerationColumn => "世代", "Generation";
    State => "状態", "State";
    Started => "開始", "Started";
    Switched => "切り替え", "Switched";
    Ended => "終了", "Ended";
    Compromised => "旧鍵の危殆化により終了", "ended early: the old key was declared compromised";
    Published => "公開中:新旧の世代を配布し、旧世代がまだ発行しています", "published: both generations are served; the old one still issues";
    SwitchedState => "切り替え済み:新しい世代が発行し、旧世代の証明書も CRL・OCSP で応答しています", "switched: the new generation issues; the old one's certificates are still answered for (CRL, OCSP)";
    Retired => "終了:旧世代は使われていません", "retired: the old generation is out of service";
    Aborted => "中止:新しい世代は何も発行せずに破棄されました", "aborted: the new generation was dropped before it issued anything";
    OldHolders => "旧世代の有効な証明書を持つ施設", "Facilities holding valid certificates of the old generation";
    Facility => "施設", "Facility";
    Certificates => "証明書数", "Certificates";
    NoFacility => "(施設なし)", "(no facility)";
    Crls => "世代ごとの CRL", "CRL of each generation";
    Issuing => "発行中", "issuing";
    Previous => "前の世代", "previous";
    Role => "役割", "Role";
    Revoked => "失効数", "Revoked";
    NextStep => "次の手順", "Next step";
    NextPublished => "新しい世代を配布してから(全レプリカの再起動)、発行を切り替えます:", "Once the new generation is served (every replica restarted), switch issuing to it:";
    NextSwitched => "旧世代の証明書がすべて期限切れか再発行済みになったら、旧世代を終了します:", "When no valid certificate of the old generation is left (expired or re-issued), retire it:";
    NextNone => "新しい鍵への更新を始めるには(ルート鍵のある端末で):", "To start a rollover to a new key (on a machine with the root key):";
    ReadOnly => "監査担当は状態の確認だけができます。手順は運用者がこの画面、コマンドまたは API で行います。", "Auditors can only read the state; operators take the steps here, with the command or the API.";
    Steps => "手順を実行(運用者)", "Take the step (operators)";
    StepStart => "新しい鍵で更新を開始", "Start a rollover to a new key";
    StepSwitch => "新しい世代に発行を切り替え", "Switch issuing to the new generation";
    StepAbort => "更新を中止(新しい世代を破棄)", "Abort (drop the new generation)";
    StepRetire => "旧世代を終了", "Retire the old generation";
    CompromisedBox => "旧鍵が危殆化した(旧世代の CA 証明書を失効し、すぐに終了する)", "The old key is compromised (revoke the old CA certificate and retire at once)";
    AfterStep => "手順の後は全レプリカを再起動してください。", "Restart every replica after each step.";
}

/// A step's form: only the retirement's `compromised` box; the CSRF token is read by [`Viewer::form`].
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepForm {
    #[serde(default)]
    compromised: Option<String>,
}

/// `POST /console/ca/rollover/{ca}/{step}` (operators): `start`, `switch`, `abort` or `retire`, through the same
/// operation as `hcpki ca rollover` and the admin API; a step the state does not allow is the refusal page with
/// what to do (409), audited like the API's.
pub async fn step(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((ca, verb)): Path<(String, String)>,
    body: Body,
) -> Result<Response, Response> {
    let action = Action::ManageRollover.name();
    let form: StepForm = viewer.form(&action, &ca, body).await?;
    let ca = CaName::from_str(&ca).map_err(|e| ApiError::not_found(e.to_string())).or_page(&viewer)?;
    let step = step_named(&verb, form.compromised.is_some()).or_page(&viewer)?;
    match step {
        None => op::start(&state, &viewer.caller, ca).await.map(drop),
        Some(step) => op::step(&state, &viewer.caller, ca, step).await.map(drop),
    }
    .or_page(&viewer)?;
    Ok(super::see_other(&format!("{PATH}#rollover-{}", ca.as_str())))
}

/// `GET /console/ca/rollover`: every issuing CA's rollover (operators and auditors; others get the refusal page).
pub async fn show(State(state): State<AppState>, viewer: Viewer) -> Result<Response, Response> {
    let mut sections = Vec::new();
    for ca in ROLLED {
        let status = op::status(&state, &viewer.caller, ca).await.or_page(&viewer)?;
        sections.push(ca_section(&viewer, &status));
    }
    let t = |m: M| m.text(viewer.lang);
    let body = html! {
        p { (t(M::Lead)) }
        @if !viewer.can(&hcpki_ca::access::Action::ManageRollover) { p class="hint" { (t(M::ReadOnly)) } }
        @for s in &sections { (s) }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Title), body))
}

fn ca_section(viewer: &Viewer, s: &RolloverStatus) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    let lang = viewer.lang;
    let ca = s.ca.as_str();
    let (next, command) = match s.latest.as_ref().map(|r| r.state) {
        Some(RolloverState::Published) => (M::NextPublished, format!("hcpki ca rollover {ca} switch")),
        Some(RolloverState::Switched) => (M::NextSwitched, format!("hcpki ca rollover {ca} retire")),
        _ => (M::NextNone, format!("hcpki ca rollover {ca} start")),
    };
    let inner = html! {
        @match &s.latest {
            None => p id={ "rollover-" (ca) "-state" } data-state="none" { (t(M::Never)) },
            Some(r) => {
                dl id={ "rollover-" (ca) "-state" } data-state=(r.state.as_str()) {
                    dt { (t(M::Generation)) } dd { (r.generation) }
                    dt { (t(M::State)) } dd { (t(state_words(r.state))) }
                    dt { (t(M::Started)) } dd { (view::jst(r.started_at, lang)) " " code class="wrap" { (r.started_by) } }
                    @if let Some(at) = r.switched_at { dt { (t(M::Switched)) } dd { (view::jst(at, lang)) } }
                    @if let Some(at) = r.ended_at {
                        dt { (t(M::Ended)) }
                        dd {
                            (view::jst(at, lang))
                            @if let Some(by) = &r.ended_by { " " code class="wrap" { (by) } }
                            @if r.compromised { " — " (t(M::Compromised)) }
                        }
                    }
                }
            }
        }
        @if !s.old_holders.is_empty() {
            @let rows: Vec<Vec<Markup>> = s.old_holders.iter().map(|(f, n)| vec![
                html! { @match f { Some(f) => code { (f) }, None => (t(M::NoFacility)) } },
                html! { (n) },
            ]).collect();
            (view::table(t(M::OldHolders), &[t(M::Facility), t(M::Certificates)], &rows))
        }
        @if !s.crls.is_empty() {
            @let rows: Vec<Vec<Markup>> = s.crls.iter().map(|c| vec![
                html! { (c.generation) },
                html! { (t(if c.issuing { M::Issuing } else { M::Previous })) },
                html! { code class="wrap" { (c.url) } },
                html! { (c.revoked) },
            ]).collect();
            (view::table(t(M::Crls), &[t(M::GenerationColumn), t(M::Role), "URL", t(M::Revoked)], &rows))
        }
        p { (t(M::NextStep)) ": " (t(next)) " " code id={ "rollover-" (ca) "-next" } { (command) } }
        @if viewer.can(&Action::ManageRollover) { (step_forms(viewer, s)) }
    };
    view::section(&format!("rollover-{ca}"), &format!("{} CA", ca_label(s.ca)), inner)
}

/// The step a form's URL names: `None` for `start`.
fn step_named(verb: &str, compromised: bool) -> Result<Option<RolloverStep>, ApiError> {
    match verb {
        "start" => Ok(None),
        "switch" => Ok(Some(RolloverStep::Switch)),
        "abort" => Ok(Some(RolloverStep::Abort)),
        "retire" => Ok(Some(RolloverStep::Retire { compromised })),
        other => Err(ApiError::not_found(format!("no rollover step {other:?}: use start, switch, retire or abort"))),
    }
}

/// The forms of the steps `s`'s state allows, for operators: start when nothing is under way, switch or abort
/// once published, retire (with the compromise box) once switched.
fn step_forms(viewer: &Viewer, s: &RolloverStatus) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    let ca = s.ca.as_str();
    let steps: &[(&str, M)] = match s.latest.as_ref().map(|r| r.state) {
        Some(RolloverState::Published) => &[("switch", M::StepSwitch), ("abort", M::StepAbort)],
        Some(RolloverState::Switched) => &[("retire", M::StepRetire)],
        _ => &[("start", M::StepStart)],
    };
    let csrf = viewer.csrf();
    html! {
        fieldset id={ "rollover-" (ca) "-steps" } {
            legend { (t(M::Steps)) }
            @for (verb, words) in steps {
                form method="post" action={ (PATH) "/" (ca) "/" (verb) } {
                    (csrf_field(&csrf))
                    @if *verb == "retire" {
                        p { label { input type="checkbox" name="compromised" value="1"; " " (t(M::CompromisedBox)) } }
                    }
                    p { button type="submit" class=[(*verb == "abort").then_some("danger")] id={ "rollover-" (ca) "-" (verb) } { (t(*words)) } }
                }
            }
            p class="hint" { (t(M::AfterStep)) }
        }
    }
}

fn ca_label(ca: CaName) -> &'static str {
    match ca {
        CaName::Router => "Router",
        CaName::Pc => "PC",
        CaName::Server => "Server",
        _ => "Root",
    }
}

fn state_words(state: RolloverState) -> M {
    match state {
        RolloverState::Published => M::Published,
        RolloverState::Switched => M::SwitchedState,
        RolloverState::Retired => M::Retired,
        _ => M::Aborted,
    }
}
