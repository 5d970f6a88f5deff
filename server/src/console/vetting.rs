//! Vetting evidence before approval in the console (issue #50 item 4, D173): a facility's evidence page (what the
//! approver checked, what an approval still lacks, the warnings sent) with its forms, a section on the facility's
//! page (the newest warning, where its admins see their facility), the register page (status, import, look-up,
//! requirements, the rules' version) and the overdue list with a warn button per facility. Every form is the
//! operation behind the admin API and `hcpki register` / `hcpki facility vetting` (`app::operations::vetting`),
//! behind the console's CSRF token and origin check. Linked from the facility page, not the menu (no room).

use super::problem::Problem;
use super::view::{self, csrf_field, table_or_none};
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations::vetting::{self as ops, AssessmentBody, DEFAULT_WITHIN_DAYS, RulesBody};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::{Action, Principal};
use hcpki_ca::facility::Facility;
use hcpki_ca::vetting::{Overdue, Shortfall, VettingWarning};
use hcpki_html::Lang;
use maud::{Markup, html};
use serde::Deserialize;

/// The register's page.
pub const REGISTER_PATH: &str = "/console/register";
/// The overdue list's page.
pub const OVERDUE_PATH: &str = "/console/vetting/overdue";
/// Largest register the console takes (about 80,000 rows); the whole country's goes through `hcpki register
/// import` or `PUT /api/v1/register`.
pub const MAX_CSV_BYTES: usize = 8 * 1024 * 1024;

type Page = Result<Response, Response>;

hcpki_html::messages! {
    Vetting => "審査記録", "Vetting evidence";
    VettingLink => "審査記録(医療機関コードの照合・セキュリティ規程への同意・脆弱性診断)", "Vetting evidence (code check, security rules, vulnerability assessment)";
    Back => "施設のページに戻る", "Back to the facility";
    Warning => "運営主体からの警告", "Warning from the operating body";
    WarnedBy => "送信者", "from";
    Ready => "承認に必要な審査記録はそろっています。", "The evidence an approval needs is recorded.";
    MissingIntro => "承認には次の審査記録が足りません:", "An approval still lacks:";
    RequirementsOf => "適用される要件", "Requirements applied";
    Nothing => "なし", "none";
    CodeCheck => "医療機関コードの照合", "医療機関コード checked against the register";
    SecurityRules => "セキュリティ規程への同意", "Acceptance of the security rules";
    Assessment => "脆弱性診断", "Vulnerability assessment (脆弱性診断)";
    NotRecorded => "未記録", "not recorded";
    NotInRegister => "登録簿にありません", "not in the register";
    NameMatches => "名称一致", "name matches";
    NameDiffers => "名称不一致", "name differs";
    PrefMatches => "都道府県一致", "prefecture matches";
    PrefDiffers => "都道府県不一致", "prefecture differs";
    Note => "確認メモ", "Note";
    CheckedBy => "記録者", "recorded by";
    Version => "版", "Version";
    AcceptedOn => "同意日", "Accepted on";
    AcceptedBy => "同意者", "Accepted by";
    Online => "施設管理者がオンラインで同意", "accepted online by the facility's admin";
    Paper => "署名済みの書面を記録", "signed paper recorded by staff";
    Last => "前回の診断日", "Last assessment";
    NextDue => "次回の期限", "Next due";
    Assessor => "診断者", "Assessor";
    CheckCodeButton => "登録簿と照合して記録", "Check against the register and record";
    NoteHint => "名称や所在地が登録簿と異なるとき、書類で確認した内容を書きます(書くと照合済みになります)。", "When the name or address differs from the register, write what the documents show (the check then counts).";
    AcceptOnline => "現行のセキュリティ規程に同意する", "Accept the current security rules";
    AcceptOnlineHelp => "施設を代表して同意する方の氏名を入力してください。同意は監査ログに記録されます。", "Type the name of the person accepting for the facility. The acceptance is recorded in the audit log.";
    RecordPaper => "書面での同意を記録", "Record a signed acceptance";
    RecordAssessment => "診断を記録", "Record the assessment";
    NextDueHint => "空欄なら前回の1年後。", "Empty: a year after the last.";
    Warn => "警告を送る", "Send a warning";
    Message => "本文(空欄なら定型文)", "Message (empty: the standard words)";
    Refused => "記録できませんでした。何も変更していません。", "Not recorded; nothing changed.";
    Register => "医療機関の登録簿", "Register of medical institutions";
    RegisterLink => "医療機関の登録簿(地方厚生局の一覧)", "Register of medical institutions (the Regional Bureaus' list)";
    OverdueLink => "期限切れ・期限間近の施設", "Facilities overdue or due soon";
    NeverImported => "登録簿はまだ取り込まれていません。", "The register was never imported.";
    Imported => "取り込み", "Imported";
    Rows => "件数", "Institutions";
    Source => "ファイル", "File";
    ImportHelp => "地方厚生局の医療機関一覧を CSV(UTF-8)で貼り付けてください。1行目は列名(医療機関コード, 医療機関名称, 都道府県, 所在地 ほか)。一行でも誤りがあれば何も取り込まず、誤りのある行と列を示します。取り込むと登録簿全体が置き換わります。Shift_JIS のファイルは UTF-8 に変換してから。", "Paste the Regional Bureaus' list as CSV (UTF-8). The first row names the columns (医療機関コード, 医療機関名称, 都道府県, 所在地 and others). If any row is bad nothing is imported and every bad row and column is named. An import replaces the whole register. Convert Shift_JIS files to UTF-8 first.";
    CsvText => "CSV", "CSV";
    ImportButton => "登録簿を置き換える", "Replace the register";
    ImportedNow => "登録簿を置き換えました", "The register was replaced";
    Added => "追加", "added";
    Removed => "削除", "removed";
    Changed => "変更", "changed";
    Lookup => "医療機関コードで検索", "Look up a 医療機関コード";
    LookupButton => "検索", "Look up";
    NotListed => "登録簿にないコードです。", "The register does not list this code.";
    Name => "名称", "Name";
    Prefecture => "都道府県", "Prefecture";
    Address => "所在地", "Address";
    RulesVersion => "現行のセキュリティ規程の版", "Current security rules version";
    NotSet => "未設定", "not set";
    SetVersion => "版を設定", "Set the version";
    Requirements => "承認に必要な審査記録", "Evidence approvals need";
    Scope => "対象", "Scope";
    Required => "必要なもの", "Required";
    ScopeField => "対象(central または登録局名)", "Scope (central or an RA's name)";
    RequireField => "必要なもの(code, rules, assessment をカンマ区切り、または none)", "Required (code, rules, assessment, comma-separated, or none)";
    SetRequirements => "要件を設定", "Set the requirements";
    Overdue => "期限切れ・期限間近の施設", "Facilities overdue or due soon";
    OverdueHelp => "脆弱性診断の期限を過ぎた施設、期限が近い施設、現行より古いセキュリティ規程に同意している施設です。登録局の方には範囲内の施設だけが表示されます。", "Facilities whose vulnerability assessment is overdue or due soon, or whose accepted security rules are older than the current version. An RA's staff see the facilities in their scope only.";
    WithinDays => "日以内に期限が来るものも含める", "days ahead to include";
    Show => "表示", "Show";
    Facility => "施設", "Facility";
    Reasons => "理由", "Reasons";
    LastWarned => "前回の警告", "Last warned";
    AssessmentOverdue => "脆弱性診断の期限切れ", "assessment overdue";
    AssessmentDueSoon => "脆弱性診断の期限間近", "assessment due soon";
    RulesOutdated => "古い版の規程に同意", "older rules accepted";
    Warned => "警告を送りました。", "The warning was sent.";
    NotApproved => "承認できませんでした", "Not approved";
}

/// The facility page's vetting section: the newest warning (what its admins must notice), whether an approval
/// would have what it needs, and the link to the evidence page.
pub async fn section(state: &AppState, viewer: &Viewer, f: &Facility) -> Result<Markup, Response> {
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let evidence = ops::show(state, &viewer.caller, f.id.as_str()).await.or_page(viewer)?;
    let lists = viewer.can(&Action::ReadVettingLists);
    let page = format!("/console/facilities/{}/vetting", f.id.as_str());
    Ok(view::section(
        "vetting",
        t(M::Vetting),
        html! {
            @if let Some(w) = evidence.warnings.first() { (warning(lang, w)) }
            @if !matches!(viewer.principal(), Principal::FacilityAdmin { .. }) { (missing(lang, &evidence.missing)) }
            p { a href=(page) id="vetting-link" { (t(M::VettingLink)) } }
            @if lists {
                p { a href=(REGISTER_PATH) { (t(M::RegisterLink)) } " · " a href=(OVERDUE_PATH) { (t(M::OverdueLink)) } }
            }
        },
    ))
}

/// The answer to an approval the core refused (missing vetting evidence, D173, or a state that moved): the
/// refusal's words, which say what is missing and how to record it, and the link to the evidence page.
pub fn approval_refused(viewer: &Viewer, id: &hcpki_ca::facility::FacilityId, e: &ApiError) -> Response {
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let body = html! {
        div class="error" role="alert" id="problem" { p { (t(M::NotApproved)) } p { (e.detail) } }
        p { a href={ "/console/facilities/" (id.as_str()) "/vetting" } id="vetting-link" { (t(M::VettingLink)) } }
        p { a href={ "/console/facilities/" (id.as_str()) } { (t(M::Back)) } }
    };
    view::page(lang, viewer.principal(), StatusCode::CONFLICT, t(M::NotApproved), body)
}

fn warning(lang: Lang, w: &VettingWarning) -> Markup {
    html! {
        div class="notice warn" role="note" id="vetting-warning" {
            p { strong { (M::Warning.text(lang)) } " (" (view::jst(w.warned_at, lang)) ")" }
            p { (w.message) }
        }
    }
}

fn missing(lang: Lang, missing: &[Shortfall]) -> Markup {
    html! {
        @if missing.is_empty() {
            p id="vetting-ready" { (M::Ready.text(lang)) }
        } @else {
            div id="vetting-missing" {
                p { (M::MissingIntro.text(lang)) }
                ul { @for m in missing { li { (m.to_string()) } } }
            }
        }
    }
}

/// `GET /console/facilities/{id}/vetting`.
pub async fn show(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Page {
    page(&state, &viewer, &id, None).await
}

/// The evidence page, with a refusal's words above the forms when there was one.
async fn page(state: &AppState, viewer: &Viewer, id: &str, refused: Option<&ApiError>) -> Page {
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let f = crate::app::operations::facility(state, &viewer.caller, id)
        .await
        .or_missing(viewer, Problem::NoSuchFacility)?;
    let e = ops::show(state, &viewer.caller, id).await.or_page(viewer)?;
    let record = viewer.can(&Action::RecordVetting(&f.id));
    let accept = viewer.can(&Action::AcceptSecurityRules(&f.id));
    let admin = matches!(viewer.principal(), Principal::FacilityAdmin { .. });
    let current = state.admin.registrar().rules_version().await.map_err(ApiError::from).or_page(viewer)?;
    let action = format!("/console/facilities/{}/vetting", f.id.as_str());
    let code = match &e.recorded.code {
        None => html! { (t(M::NotRecorded)) },
        Some(c) => html! {
            code { (c.code) } " "
            @match &c.register_name {
                None => { (t(M::NotInRegister)) }
                Some(n) => {
                    (n) " (" (t(if c.name_matches { M::NameMatches } else { M::NameDiffers })) ", "
                    (t(if c.prefecture_matches { M::PrefMatches } else { M::PrefDiffers })) ")"
                }
            }
            @if let Some(n) = &c.note { br; (t(M::Note)) ": " (n) }
            br; small { (t(M::CheckedBy)) " " (c.checked_by) ", " (view::jst(c.checked_at, lang)) }
        },
    };
    let rules = match &e.recorded.rules {
        None => html! { (t(M::NotRecorded)) },
        Some(r) => html! {
            (t(M::Version)) " " (r.version) ", " (t(M::AcceptedOn)) " " (r.accepted_on) ", " (t(M::AcceptedBy)) " " (r.accepted_by)
            " (" (t(if r.basis == hcpki_ca::vetting::RulesBasis::Online { M::Online } else { M::Paper })) ")"
            br; small { (t(M::CheckedBy)) " " (r.recorded_by) ", " (view::jst(r.recorded_at, lang)) }
        },
    };
    let assessment = match &e.recorded.assessment {
        None => html! { (t(M::NotRecorded)) },
        Some(a) => html! {
            (t(M::Last)) " " (a.last) ", " (t(M::NextDue)) " " strong { (a.next_due) }
            @if let Some(by) = &a.assessor { ", " (t(M::Assessor)) " " (by) }
            br; small { (t(M::CheckedBy)) " " (a.recorded_by) ", " (view::jst(a.recorded_at, lang)) }
        },
    };
    let today = hcpki_ca::vetting::Day::of_unix(viewer.now()).to_string();
    let body = html! {
        p { a href={ "/console/facilities/" (f.id.as_str()) } { (t(M::Back)) } }
        @if let Some(err) = refused {
            div class="error" role="alert" id="problem" { p { (t(M::Refused)) } p { (err.detail) } }
        }
        @for w in &e.warnings { (warning(lang, w)) }
        dl id="vetting-evidence" {
            dt { (t(M::CodeCheck)) } dd id="vetting-code" { (code) }
            dt { (t(M::SecurityRules)) } dd id="vetting-rules" { (rules) }
            dt { (t(M::Assessment)) } dd id="vetting-assessment" { (assessment) }
        }
        @if !admin {
            p { (t(M::RequirementsOf)) ": " (e.scope) " — " (if e.required == "none" { t(M::Nothing).to_owned() } else { e.required.clone() }) }
            (missing(lang, &e.missing))
        }
        @if record {
            (view::section("check-code", t(M::CodeCheck), html! {
                form method="post" action=(action) {
                    (csrf_field(&viewer.csrf()))
                    (view::input("code-note", "note", t(M::Note), "", 500).autocomplete("off").hint(t(M::NoteHint)))
                    p { button type="submit" name="op" value="code" { (t(M::CheckCodeButton)) } }
                }
            }))
        }
        @if accept {
            (view::section("accept-rules", t(M::SecurityRules), html! {
                form method="post" action=(action) {
                    (csrf_field(&viewer.csrf()))
                    @if admin {
                        p { (t(M::RulesVersion)) ": " strong { (current.as_deref().unwrap_or(t(M::NotSet))) } }
                        p { (t(M::AcceptOnlineHelp)) }
                    } @else {
                        (view::input("rules-version", "version", t(M::Version), current.as_deref().unwrap_or(""), 32).autocomplete("off"))
                        (view::input("rules-on", "accepted_on", t(M::AcceptedOn), &today, 10).date().required())
                    }
                    (view::input("rules-by", "accepted_by", t(M::AcceptedBy), "", 100).required().autocomplete("name"))
                    p { button type="submit" name="op" value="rules" { (t(if admin { M::AcceptOnline } else { M::RecordPaper })) } }
                }
            }))
        }
        @if record {
            (view::section("record-assessment", t(M::Assessment), html! {
                form method="post" action=(action) {
                    (csrf_field(&viewer.csrf()))
                    (view::input("assessment-last", "last", t(M::Last), "", 10).date().required())
                    (view::input("assessment-next", "next_due", t(M::NextDue), "", 10).date().hint(t(M::NextDueHint)))
                    (view::input("assessment-by", "assessor", t(M::Assessor), "", 200).autocomplete("organization"))
                    p { button type="submit" name="op" value="assessment" { (t(M::RecordAssessment)) } }
                }
            }))
            (view::section("warn", t(M::Warn), html! {
                form method="post" action=(action) {
                    (csrf_field(&viewer.csrf()))
                    (view::input("warn-message", "message", t(M::Message), "", 1000).autocomplete("off"))
                    p { button type="submit" name="op" value="warn" { (t(M::Warn)) } }
                }
            }))
        }
    };
    let status =
        refused.map_or(StatusCode::OK, |e| if e.status.is_client_error() { e.status } else { StatusCode::BAD_REQUEST });
    let title = format!("{} — {}", f.name, t(M::Vetting));
    Ok(view::page(lang, viewer.principal(), status, &title, body))
}

/// The evidence page's forms: `op` is `code` (`note`), `rules` (`version`, `accepted_on`, `accepted_by`),
/// `assessment` (`last`, `next_due`, `assessor`) or `warn` (`message`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VettingForm {
    op: String,
    note: Option<String>,
    version: Option<String>,
    accepted_on: Option<String>,
    accepted_by: Option<String>,
    last: Option<String>,
    next_due: Option<String>,
    assessor: Option<String>,
    message: Option<String>,
}

/// `POST /console/facilities/{id}/vetting`.
pub async fn change(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>, body: Body) -> Page {
    let form: VettingForm = viewer.form("admin.facility.vetting.record", &id, body).await?;
    let (s, c) = (&state, &viewer.caller);
    let done = match form.op.as_str() {
        "code" => ops::check_code(s, c, &id, form.note.as_deref()).await.map(|_| ()),
        "rules" => {
            let b = RulesBody {
                version: form.version,
                accepted_on: form.accepted_on,
                accepted_by: form.accepted_by.unwrap_or_default(),
            };
            ops::accept_rules(s, c, &id, &b).await.map(|_| ())
        }
        "assessment" => {
            let b = AssessmentBody {
                last: form.last.unwrap_or_default(),
                next_due: form.next_due,
                assessor: form.assessor,
            };
            ops::assessment(s, c, &id, &b).await.map(|_| ())
        }
        "warn" => ops::warn(s, c, &id, None, form.message.as_deref()).await.map(|_| ()),
        op => {
            let e = ApiError::bad_request("invalid form", format!("op {op:?}: use code, rules, assessment or warn"));
            return Err(viewer.refused(Problem::UnknownOperation, "admin.facility.vetting.record", &id, e).await);
        }
    };
    match done {
        Ok(()) => Ok(see_other(&format!("/console/facilities/{id}/vetting"))),
        Err(e)
            if e.status.is_client_error()
                && e.status != StatusCode::FORBIDDEN
                && e.status != StatusCode::UNAUTHORIZED =>
        {
            page(&state, &viewer, &id, Some(&e)).await
        }
        Err(e) => Err(viewer.refusal(Problem::of(&e, Problem::NoSuchFacility))),
    }
}

/// `?code=` of the register page, `?within_days=` of the overdue list.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    code: Option<String>,
    within_days: Option<u32>,
}

/// `GET /console/register`.
pub async fn register(State(state): State<AppState>, viewer: Viewer, Query(q): Query<ListQuery>) -> Page {
    register_page(&state, &viewer, q.code.as_deref(), None).await
}

/// What the register page shows after a form: an import's counts, or a refusal.
enum Outcome {
    Imported(hcpki_ca::registrar::vetting::Imported),
    Refused(ApiError),
}

async fn register_page(state: &AppState, viewer: &Viewer, code: Option<&str>, outcome: Option<Outcome>) -> Page {
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let (import, requirements, version) = ops::status(state, &viewer.caller).await.or_page(viewer)?;
    let manage = viewer.can(&Action::ManageVetting);
    let code = code.map(str::trim).filter(|c| !c.is_empty());
    let found = match code {
        Some(c) => Some(ops::register_entry(state, &viewer.caller, c).await),
        None => None,
    };
    let requirement_rows: Vec<Vec<Markup>> = requirements
        .iter()
        .map(|r| vec![html! { (r.scope.to_string()) }, html! { (r.requirements.list()) }, html! { (r.set_by) }])
        .collect();
    let body = html! {
        p { a href=(OVERDUE_PATH) { (t(M::OverdueLink)) } }
        @match &outcome {
            Some(Outcome::Imported(i)) => div class="notice" role="status" id="imported" {
                p { (t(M::ImportedNow)) ": " (i.import.rows) " (" (t(M::Added)) " " (i.import.added) ", "
                    (t(M::Removed)) " " (i.import.removed) ", " (t(M::Changed)) " " (i.import.changed) ")" }
            },
            Some(Outcome::Refused(e)) => div class="error" role="alert" id="problem" { p { (t(M::Refused)) } p { (e.detail) } },
            None => {},
        }
        @match &import {
            None => p id="register-status" { (t(M::NeverImported)) },
            Some(i) => dl id="register-status" {
                dt { (t(M::Imported)) } dd { (view::jst(i.imported_at, lang)) " (" (i.imported_by) ")" }
                dt { (t(M::Rows)) } dd { (i.rows) }
                dt { (t(M::Source)) } dd { (i.source) " " small { "sha256 " (i.sha256) } }
            },
        }
        (view::section("lookup", t(M::Lookup), html! {
            form method="get" action=(REGISTER_PATH) {
                (view::input("lookup-code", "code", t(M::CodeCheck), code.unwrap_or(""), 10).numeric().autocomplete("off"))
                p { button type="submit" { (t(M::LookupButton)) } }
            }
            @match &found {
                Some(Ok(e)) => dl id="register-entry" {
                    dt { (t(M::Name)) } dd { (e.name) }
                    dt { (t(M::Prefecture)) } dd { (hcpki_ca::vetting::prefecture_name(e.prefecture).unwrap_or("-")) }
                    dt { (t(M::Address)) } dd { (e.address) }
                },
                Some(Err(_)) => p id="register-entry" { (t(M::NotListed)) },
                None => {},
            }
        }))
        (view::section("requirements", t(M::Requirements), html! {
            p { (t(M::RulesVersion)) ": " strong id="rules-version" { (version.as_deref().unwrap_or(t(M::NotSet))) } }
            (table_or_none(lang, t(M::Requirements), &[t(M::Scope), t(M::Required), t(M::CheckedBy)], &requirement_rows))
            @if manage {
                form method="post" action=(REGISTER_PATH) {
                    (csrf_field(&viewer.csrf()))
                    (view::input("req-scope", "scope", t(M::ScopeField), "central", 64).required().autocomplete("off"))
                    (view::input("req-list", "require", t(M::RequireField), "", 40).required().autocomplete("off"))
                    p { button type="submit" name="op" value="requirements" { (t(M::SetRequirements)) } }
                }
                form method="post" action=(REGISTER_PATH) {
                    (csrf_field(&viewer.csrf()))
                    (view::input("rules-version-new", "version", t(M::RulesVersion), "", 32).required().autocomplete("off"))
                    p { button type="submit" name="op" value="rules_version" { (t(M::SetVersion)) } }
                }
            }
        }))
        @if manage {
            (view::section("import", t(M::ImportButton), html! {
                p { (t(M::ImportHelp)) }
                form method="post" action=(REGISTER_PATH) {
                    (csrf_field(&viewer.csrf()))
                    label for="register-csv" { (t(M::CsvText)) }
                    textarea id="register-csv" name="csv" rows="12" cols="80" required {}
                    p { button type="submit" name="op" value="import" { (t(M::ImportButton)) } }
                }
            }))
        }
    };
    let status = match &outcome {
        Some(Outcome::Refused(e)) if e.status.is_client_error() => e.status,
        Some(Outcome::Refused(_)) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    Ok(view::page(lang, viewer.principal(), status, t(M::Register), body))
}

/// The register page's forms: `op` is `import` (`csv`), `requirements` (`scope`, `require`) or `rules_version`
/// (`version`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterForm {
    op: String,
    csv: Option<String>,
    scope: Option<String>,
    require: Option<String>,
    version: Option<String>,
}

/// `POST /console/register` (central operators).
pub async fn register_change(State(state): State<AppState>, viewer: Viewer, body: Body) -> Page {
    let name = "admin.vetting.manage";
    viewer.caller.may(Action::ManageVetting).await.or_page(&viewer)?;
    let hint = format!(
        "the CSV is larger than the console takes ({} MiB): use hcpki register import FILE or PUT /api/v1/register",
        MAX_CSV_BYTES / (1024 * 1024)
    );
    let form: RegisterForm =
        viewer.form_limited(name, "medical-register", body, MAX_CSV_BYTES * 3 + 4096, &hint, None).await?;
    let (s, c) = (&state, &viewer.caller);
    let outcome = match form.op.as_str() {
        "import" => match ops::import_register(s, c, form.csv.unwrap_or_default().as_bytes(), "console").await {
            Ok(i) => Outcome::Imported(i),
            Err(e) => Outcome::Refused(e),
        },
        "requirements" => {
            let set = ops::set_requirements(
                s,
                c,
                form.scope.as_deref().unwrap_or("central"),
                form.require.as_deref().unwrap_or(""),
            )
            .await;
            match set {
                Ok(_) => return Ok(see_other(&format!("{REGISTER_PATH}#requirements"))),
                Err(e) => Outcome::Refused(e),
            }
        }
        "rules_version" => match ops::set_rules_version(s, c, form.version.as_deref().unwrap_or("")).await {
            Ok(_) => return Ok(see_other(&format!("{REGISTER_PATH}#requirements"))),
            Err(e) => Outcome::Refused(e),
        },
        op => {
            let e =
                ApiError::bad_request("invalid form", format!("op {op:?}: use import, requirements or rules_version"));
            return Err(viewer.refused(Problem::UnknownOperation, name, "medical-register", e).await);
        }
    };
    register_page(&state, &viewer, None, Some(outcome)).await
}

/// `GET /console/vetting/overdue?within_days=N`.
pub async fn overdue(State(state): State<AppState>, viewer: Viewer, Query(q): Query<ListQuery>) -> Page {
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let within = q.within_days.unwrap_or(DEFAULT_WITHIN_DAYS);
    let list = ops::overdue(&state, &viewer.caller, Some(within)).await.or_page(&viewer)?;
    let rows: Vec<Vec<Markup>> = list
        .facilities
        .iter()
        .map(|f| {
            let page = format!("/console/facilities/{}/vetting", f.facility.as_str());
            vec![
                html! { a href={ "/console/facilities/" (f.facility.as_str()) } { (f.name) } " " code { (f.facility.as_str()) } },
                html! { ul { @for r in &f.reasons { li { (reason(lang, r)) } } } },
                html! { @if let Some(at) = f.last_warned_at { (view::jst(at, lang)) } @else { "-" } },
                html! {
                    @if viewer.can(&Action::RecordVetting(&f.facility)) {
                        form class="inline" method="post" action=(page) {
                            (csrf_field(&viewer.csrf()))
                            button type="submit" name="op" value="warn" aria-label={ (t(M::Warn)) " " (f.name) } { (t(M::Warn)) }
                        }
                    }
                },
            ]
        })
        .collect();
    let body = html! {
        p { (t(M::OverdueHelp)) }
        p { a href=(REGISTER_PATH) { (t(M::RegisterLink)) } }
        form method="get" action=(OVERDUE_PATH) {
            (view::input("within-days", "within_days", t(M::WithinDays), &within.to_string(), 3).numeric())
            p { button type="submit" { (t(M::Show)) } }
        }
        (table_or_none(lang, t(M::Overdue), &[t(M::Facility), t(M::Reasons), t(M::LastWarned), ""], &rows))
    };
    Ok(view::page(lang, viewer.principal(), StatusCode::OK, t(M::Overdue), body))
}

fn reason(lang: Lang, r: &Overdue) -> String {
    match r {
        Overdue::AssessmentOverdue { due } => format!("{} ({due})", M::AssessmentOverdue.text(lang)),
        Overdue::AssessmentDueSoon { due } => format!("{} ({due})", M::AssessmentDueSoon.text(lang)),
        Overdue::RulesOutdated { accepted, current } => {
            format!("{} ({accepted} → {current})", M::RulesOutdated.text(lang))
        }
    }
}
