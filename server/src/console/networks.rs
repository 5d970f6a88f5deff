//! Regional networks (地域医療連携ネットワーク, D169) in the console: operators and auditors see the declared
//! networks, their 管理責任者 and members; operators who register relying parties declare one (or replace a
//! declaration) through the operation behind `POST /api/v1/regional-networks` and `hcpki network declare`
//! (`app::operations::networks`), audited `network.declared` (refusals denied).

use super::view::{self, csrf_field};
use super::{OrPage, Viewer, see_other};
use crate::app::AppState;
use crate::app::operations::networks as ops;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_ca::store::NetworkRecord;
use hcpki_sso::consent::network::Declaration;
use maud::{Markup, html};
use serde::Deserialize;

/// The page's address.
pub const PATH: &str = "/console/networks";

hcpki_html::messages! {
    Title => "地域医療連携ネットワーク", "Regional networks";
    Help => "同意書テンプレートが名前で指定するネットワークです。参加サービスは、保持している患者の同意が有効か撤回されたかだけを確認できます。",
        "The networks consent templates name. Member services can check only whether the consent of a patient they hold is live or withdrawn.";
    Empty => "宣言されたネットワークはありません。", "No network is declared.";
    Name => "名前(英小文字・数字・. _ -)", "Name (a-z 0-9 . _ -)";
    NetworkTitle => "名称", "Title";
    Responsible => "管理責任者", "Responsible party";
    Contact => "管理責任者の連絡先", "Responsible party's contact";
    Items => "共同して利用する項目", "Items shared";
    Purpose => "利用目的", "Purpose";
    JointUsers => "共同して利用する者の範囲", "Scope of joint users";
    Facilities => "参加施設の施設ID(カンマ区切り)", "Member facility IDs (comma-separated)";
    Services => "参加サービスの ID(カンマ区切り)", "Member service ids (comma-separated)";
    Declare => "宣言する", "Declare";
    DeclareTitle => "ネットワークを宣言する(同じ名前なら置き換え)", "Declare a network (the same name replaces it)";
    Refused => "宣言できませんでした。何も変更していません。理由:", "Not declared; nothing changed. Why:";
}

/// The declaration form, as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkForm {
    name: String,
    title: String,
    responsible_name: String,
    responsible_contact: String,
    items: String,
    purpose: String,
    joint_users: String,
    facilities: String,
    services: String,
}

impl NetworkForm {
    /// The declaration the operation takes: the lists split on commas (full-width too) and white space.
    fn declaration(&self) -> Declaration {
        let list = |text: &str| {
            text.split([',', '、', '，', ' ', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Declaration {
            name: self.name.trim().to_owned(),
            title: self.title.trim().to_owned(),
            responsible_name: self.responsible_name.trim().to_owned(),
            responsible_contact: self.responsible_contact.trim().to_owned(),
            items: self.items.trim().to_owned(),
            purpose: self.purpose.trim().to_owned(),
            joint_users: self.joint_users.trim().to_owned(),
            facilities: list(&self.facilities),
            services: list(&self.services),
        }
    }
}

/// `GET /console/networks`: the networks, and the form for operators.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Response, Response> {
    let networks = ops::list(&state, &viewer.caller).await.or_page(&viewer)?;
    Ok(page(&viewer, &networks, &NetworkForm::default(), None, StatusCode::OK))
}

/// `POST /console/networks` (operators): declare, then back to the list; a refusal shows the form as typed.
pub async fn declare(State(state): State<AppState>, viewer: Viewer, body: Body) -> Result<Response, Response> {
    let name = "network.declared";
    let form: NetworkForm = viewer.form(name, "-", body).await?;
    match ops::declare(&state, &viewer.caller, &form.declaration()).await {
        Ok(n) => Ok(see_other(&format!("{PATH}#network-{}", n.name))),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            let networks = ops::list(&state, &viewer.caller).await.or_page(&viewer)?;
            Ok(page(&viewer, &networks, &form, Some(&e.detail), StatusCode::BAD_REQUEST))
        }
        Err(e) => Err::<Response, _>(e).or_page(&viewer),
    }
}

fn page(
    viewer: &Viewer,
    networks: &[NetworkRecord],
    typed: &NetworkForm,
    refused: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let body = html! {
        p { (t(M::Help)) }
        @if networks.is_empty() { p { (t(M::Empty)) } }
        @for n in networks { (network(lang, n)) }
        @if viewer.can(&Action::ManageOidcClients) { (form(viewer, typed, refused)) }
    };
    view::page(lang, viewer.principal(), status, t(M::Title), body)
}

fn network(lang: hcpki_html::Lang, n: &NetworkRecord) -> Markup {
    let t = |m: M| m.text(lang);
    html! {
        section id={ "network-" (n.name) } aria-labelledby={ "network-" (n.name) "-title" } {
            h2 id={ "network-" (n.name) "-title" } { (n.title) " (" (n.name) ")" }
            dl {
                dt { (t(M::Responsible)) } dd { (n.responsible_name) " — " (n.responsible_contact) }
                dt { (t(M::Items)) } dd { (n.items) }
                dt { (t(M::Purpose)) } dd { (n.purpose) }
                dt { (t(M::JointUsers)) } dd { (n.joint_users) }
                dt { (t(M::Facilities)) } dd { (n.facilities.join(", ")) }
                dt { (t(M::Services)) } dd { (n.services.join(", ")) }
            }
        }
    }
}

fn form(viewer: &Viewer, typed: &NetworkForm, refused: Option<&str>) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    let field = |id: &'static str, m: M, value: &str| -> Markup {
        html! { (view::input(id, id, t(m), value, 1000).required()) }
    };
    let inner = html! {
        @if let Some(why) = refused {
            div class="error" role="alert" id="problem" { p { (t(M::Refused)) " " (why) } }
        }
        form method="post" action=(PATH) {
            (csrf_field(&viewer.csrf()))
            (view::input("name", "name", t(M::Name), &typed.name, 64).required().focus_if(refused.is_some()))
            (field("title", M::NetworkTitle, &typed.title))
            (field("responsible_name", M::Responsible, &typed.responsible_name))
            (field("responsible_contact", M::Contact, &typed.responsible_contact))
            (field("items", M::Items, &typed.items))
            (field("purpose", M::Purpose, &typed.purpose))
            (field("joint_users", M::JointUsers, &typed.joint_users))
            (field("facilities", M::Facilities, &typed.facilities))
            (field("services", M::Services, &typed.services))
            p { button type="submit" { (t(M::Declare)) } }
        }
    };
    view::section("declare", t(M::DeclareTitle), inner)
}
