//! The registration authorities in the console (issue #50 item 3, D167): every RA with its kind, prefectures
//! and staff, for operators and auditors (an RA's own too, its RA marked); the same operation as `hcpki ra list`
//! and `GET /api/v1/ras` (`app::operations::ras`). Creating RAs, assigning facilities and placing staff are the
//! central operators' (`hcpki ra`, the admin API). Each RA's own queue is the console's home, filtered to its
//! scope by the facility listing.

use super::{OrPage, Viewer};
use crate::app::AppState;
use crate::app::operations::ras;
use crate::console::view;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::ra::{Ra, RaKind};
use hcpki_html::Lang;
use maud::{Markup, html};

/// The page's address.
pub const PATH: &str = "/console/ras";

hcpki_html::messages! {
    Title => "登録局(RA)", "Registration authorities";
    Intro => "登録局は、範囲内の施設だけを登録・承認・停止・支援します。範囲外の施設への操作は拒否され、監査ログに残ります。登録局の作成・施設の割り当て・担当者の所属は中央の運用者が hcpki ra で行います。",
        "A registration authority registers, approves, suspends and helps only the facilities in its scope; anything else is refused and audited. Central operators create RAs, assign facilities and place staff with hcpki ra.";
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
    let (all, members) = ras::list(&state, &viewer.caller).await.or_page(&viewer)?;
    let lang = viewer.lang;
    let t = |m: M| m.text(lang);
    let body = html! {
        p { (t(M::Intro)) }
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
    };
    Ok(view::page(lang, viewer.principal(), StatusCode::OK, t(M::Title), body))
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
