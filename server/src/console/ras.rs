//! The registration authorities in the console (issue #50 item 3, D167): every RA with its kind, prefectures
//! and staff, for operators and auditors (an RA's own too, its RA marked); the same operation as `hcpki ra list`
//! and `GET /api/v1/ras` (`app::operations::ras`). Creating RAs, assigning facilities and placing staff are the
//! central operators': the forms here (D174) call the same operations as `hcpki ra create|assign|member` and
//! `POST /api/v1/ras`, `/ras/assign`, `/ras/members`, behind the console's CSRF token and origin check. Each RA's
//! own queue is the console's home, filtered to its scope by the facility listing.

use super::problem::Problem;
use super::view::csrf_field;
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations::ras;
use crate::console::view;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::ra::{Ra, RaKind};
use hcpki_ca::registrar::ra::NewRa;
use hcpki_html::Lang;
use maud::{Markup, html};
use serde::Deserialize;

/// The page's address.
pub const PATH: &str = "/console/ras";

hcpki_html::messages! {
    Title => "登録局(RA)", "Registration authorities";
    Intro => "登録局は、範囲内の施設だけを登録・承認・停止・支援します。範囲外の施設への操作は拒否され、監査ログに残ります。登録局の作成・施設の割り当て・担当者の所属は中央の運用者がこのページ(または hcpki ra)で行います。",
        "A registration authority registers, approves, suspends and helps only the facilities in its scope; anything else is refused and audited. Central operators create RAs, assign facilities and place staff on this page (or with hcpki ra).";
    Create => "登録局を作成", "Create a registration authority";
    CreateButton => "作成する", "Create";
    Prefectures => "都道府県番号(都道府県の登録局、空白区切り。例: 13 14)", "Prefecture numbers (a prefecture RA; separated by spaces, e.g. 13 14)";
    Assign => "施設を接続プロバイダの登録局に割り当てる", "Assign a facility to a connection provider's RA";
    AssignHelp => "登録局を空欄にすると、施設を接続プロバイダから外します。都道府県の登録局の範囲は医療機関コードで決まります。",
        "Leave the RA empty to take the facility from its provider. A prefecture RA's scope follows the 医療機関コード.";
    Facility => "施設 ID", "Facility ID";
    Ra => "登録局", "Registration authority";
    NoRa => "(なし: 中央)", "(none: central)";
    AssignButton => "割り当てる", "Assign";
    Member => "担当者を登録局に所属させる", "Place a member of staff in an RA";
    MemberHelp => "運用者証明書の名前、またはコンソールの利用者キー(hpki:… など)を指定します。登録局を空欄にすると中央の担当者に戻ります。次の要求から反映されます。",
        "Give an operator certificate's name or a console person's key (hpki:…). Leave the RA empty to make them central again. It applies from their next request.";
    MemberKind => "担当者の種類", "Kind of member";
    Operator => "運用者(証明書)", "operator (certificate)";
    Person => "コンソール利用者(カード)", "console person (card)";
    Who => "名前またはキー", "Name or key";
    MemberButton => "所属を変更する", "Change membership";
    Refused => "この変更は受け付けられませんでした。何も変更していません。", "This change was refused; nothing was changed.";
    YouActFor => "あなたの所属する登録局:", "You act for:";
    Central => "あなたは中央の運用者です(全施設を扱えます)。", "You are a central operator (every facility).";
    Name => "名前", "Name";
    Kind => "種別", "Kind";
    Label => "名称", "Label";
    Scope => "範囲", "Scope";
    Staff => "担当者", "Staff";
    Provider => "接続プロバイダ", "connection provider";
    Prefecture => "都道府県", "prefecture";
    Assigned => "割り当てられた施設", "facilities assigned to it";
    PrefecturesNumbered => "都道府県番号", "prefecture numbers";
    None => "登録局はまだありません。", "No registration authority yet.";
    QueueOf => "この申請一覧は登録局の範囲内の施設だけです:", "This queue holds the facilities in the scope of";
}

/// `GET /console/ras`: the list, or the refusal page (facility admins; audited).
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Response, Response> {
    page(&state, &viewer, None, StatusCode::OK).await
}

/// The page, with a refused change's words above the forms when there was one.
async fn page(
    state: &AppState,
    viewer: &Viewer,
    refused: Option<&ApiError>,
    status: StatusCode,
) -> Result<Response, Response> {
    let (all, members) = ras::list(state, &viewer.caller).await.or_page(viewer)?;
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let body = html! {
        p { (t(M::Intro)) }
        @if let Some(e) = refused {
            div class="error" role="alert" id="problem" { p { (t(M::Refused)) } p { (e.detail) } }
        }
        @match viewer.principal().ra() {
            Some(ra) => p { (t(M::YouActFor)) " " strong { (ra.label) " (" (ra.name) ")" } },
            None => p { (t(M::Central)) },
        }
        @if all.is_empty() {
            p { (t(M::None)) }
        } @else {
            table {
                thead { tr { th { (t(M::Name)) } th { (t(M::Kind)) } th { (t(M::Label)) } th { (t(M::Scope)) } th { (t(M::Staff)) } } }
                tbody {
                    @for ra in &all {
                        tr {
                            td { (ra.name) }
                            td { (kind(lang, ra.kind)) }
                            td { (ra.label) }
                            td { (scope(lang, ra)) }
                            td {
                                @for (m, _) in members.iter().filter(|(_, r)| r == &ra.name) { code { (m) } " " }
                            }
                        }
                    }
                }
            }
        }
        @if viewer.can(&Action::ManageRas) {
            (forms(viewer, &all))
        }
    };
    Ok(view::page(lang, viewer.principal(), status, t(M::Title), body))
}

/// The central operators' forms: create an RA, assign a facility, place a member of staff.
fn forms(viewer: &Viewer, all: &[Ra]) -> Markup {
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let kinds = [("prefecture", t(M::Prefecture)), ("provider", t(M::Provider))];
    let providers: Vec<(&str, &str)> = std::iter::once(("", t(M::NoRa)))
        .chain(all.iter().filter(|r| r.kind == RaKind::Provider).map(|r| (r.name.as_str(), r.label.as_str())))
        .collect();
    let every: Vec<(&str, &str)> =
        std::iter::once(("", t(M::NoRa))).chain(all.iter().map(|r| (r.name.as_str(), r.label.as_str()))).collect();
    let member_kinds = [("operator", t(M::Operator)), ("person", t(M::Person))];
    html! {
        (view::section("create-ra", t(M::Create), html! {
            form method="post" action=(PATH) id="create" {
                (csrf_field(&viewer.csrf()))
                input type="hidden" name="op" value="create";
                (view::input("ra-name", "name", t(M::Name), "", 64).required().autocomplete("off"))
                (view::select("ra-kind", "kind", t(M::Kind), &kinds, "prefecture"))
                (view::input("ra-label", "label", t(M::Label), "", 200).required().autocomplete("off"))
                (view::input("ra-prefectures", "prefectures", t(M::Prefectures), "", 200).autocomplete("off"))
                p { button type="submit" { (t(M::CreateButton)) } }
            }
        }))
        (view::section("ra-assign", t(M::Assign), html! {
            p { (t(M::AssignHelp)) }
            form method="post" action=(PATH) id="assign" {
                (csrf_field(&viewer.csrf()))
                input type="hidden" name="op" value="assign";
                (view::input("assign-facility", "facility", t(M::Facility), "", 64).required().autocomplete("off"))
                (view::select("assign-ra", "ra", t(M::Ra), &providers, ""))
                p { button type="submit" { (t(M::AssignButton)) } }
            }
        }))
        (view::section("ra-member", t(M::Member), html! {
            p { (t(M::MemberHelp)) }
            form method="post" action=(PATH) id="member" {
                (csrf_field(&viewer.csrf()))
                input type="hidden" name="op" value="member";
                (view::select("member-kind", "kind", t(M::MemberKind), &member_kinds, "operator"))
                (view::input("member-who", "who", t(M::Who), "", 200).required().autocomplete("off"))
                (view::select("member-ra", "ra", t(M::Ra), &every, ""))
                p { button type="submit" { (t(M::MemberButton)) } }
            }
        }))
    }
}

/// The page's forms: `op` is `create` (`name`, `kind`, `label`, `prefectures`), `assign` (`facility`, `ra`) or
/// `member` (`kind`: operator|person, `who`, `ra`); an empty `ra` means none (central).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaForm {
    op: String,
    name: Option<String>,
    kind: Option<String>,
    label: Option<String>,
    prefectures: Option<String>,
    facility: Option<String>,
    who: Option<String>,
    ra: Option<String>,
}

/// `POST /console/ras` (central operators; anyone else refused, audited as `admin.ra.manage`).
pub async fn change(State(state): State<AppState>, viewer: Viewer, body: Body) -> Result<Response, Response> {
    let action = Action::ManageRas.name();
    let form: RaForm = viewer.form(&action, "-", body).await?;
    let ra = form.ra.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let caller = &viewer.caller;
    let done = match form.op.as_str() {
        "create" => {
            let new = NewRa {
                name: form.name.unwrap_or_default().trim().to_owned(),
                kind: form.kind.unwrap_or_default(),
                label: form.label.unwrap_or_default().trim().to_owned(),
                prefectures: form.prefectures.unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
            };
            ras::create(&state, caller, &new).await.map(|_| ())
        }
        "assign" => {
            ras::assign(&state, caller, form.facility.as_deref().unwrap_or_default().trim(), ra).await.map(|_| ())
        }
        "member" => {
            let who = form.who.unwrap_or_default();
            let (operator, person) = match form.kind.as_deref() {
                Some("person") => (None, Some(who.as_str())),
                _ => (Some(who.as_str()), None),
            };
            match ras::member(caller, operator, person).await {
                Ok(m) => ras::set_member(&state, caller, &m, ra).await,
                Err(e) => Err(e),
            }
        }
        op => {
            let e = ApiError::bad_request("invalid form", format!("op {op:?}: use create, assign or member"));
            return Err(viewer.refused(Problem::UnknownOperation, &action, "-", e).await);
        }
    };
    match done {
        Ok(()) => Ok(see_other(PATH)),
        Err(e)
            if e.status.is_client_error()
                && e.status != StatusCode::FORBIDDEN
                && e.status != StatusCode::UNAUTHORIZED =>
        {
            page(&state, &viewer, Some(&e), e.status).await
        }
        Err(e) => Err(viewer.refusal(Problem::of(&e, Problem::NotFound))),
    }
}

/// The note above an RA's own queue on the console's home.
pub fn queue_note(lang: Lang, ra: &Ra) -> Markup {
    html! { p class="hint" { (M::QueueOf.text(lang)) " " strong { (ra.label) " (" (ra.name) ")" } } }
}

fn kind(lang: Lang, k: RaKind) -> &'static str {
    match k {
        RaKind::Provider => M::Provider.text(lang),
        RaKind::Prefecture => M::Prefecture.text(lang),
    }
}

fn scope(lang: Lang, ra: &Ra) -> String {
    match ra.kind {
        RaKind::Prefecture => format!("{} {}", M::PrefecturesNumbered.text(lang), ra.prefecture_list()),
        RaKind::Provider => M::Assigned.text(lang).to_owned(),
    }
}
