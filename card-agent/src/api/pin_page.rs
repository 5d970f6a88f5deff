//! The agent's own PIN page, `/pin/{id}` on 127.0.0.1. The portal opens it in a window; the PIN is
//! typed here and goes straight to the agent, never through the portal's page or server.
//!
//! The page loads nothing (CSP `default-src 'none'`), cannot be framed, and its form is accepted only
//! from its own origin with the operation's page token. After a post it redirects to itself (so a
//! reload never re-sends a PIN) and shows progress until the operation ends.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use hcpki_html::Head;
use maud::{Markup, PreEscaped, html};

use super::operations::{OpState, PinReply, pin_from_form};
use super::state::AppState;
use crate::driver::registry;
use crate::service::{CardKind, KeyRole};

const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The page's only style, inline (the CSP allows inline styles and loads nothing).
const STYLE: &str = "body{font-family:sans-serif;max-width:34em;margin:2em auto}.warn{color:#a00;font-weight:bold}\
                     .note{color:#555;font-size:small}";

pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(op) = state.ops.get(&id) else {
        return page(
            StatusCode::NOT_FOUND,
            "この操作は見つかりません / No such operation",
            html! { p { "It may have expired. Start the login again from the portal." } },
            false,
        );
    };
    match op.state() {
        OpState::PinRequired { kind, role, tries_left } => {
            let body = html! {
                p { (what(kind, role)) }
                @match tries_left {
                    Some(1) => p class="warn" {
                        "最後の1回です。誤るとカードがロックされます。" br;
                        "LAST TRY: a wrong PIN blocks this card until its issuer unblocks it."
                    },
                    Some(2) => p class="warn" { "残り2回。誤ると残り1回になります。 / 2 tries left." },
                    Some(n) => p { "残り" (n) "回 / " (n) " tries left." },
                    None => {},
                }
                form method="post" action={ "/pin/" (op.id) } {
                    input type="hidden" name="token" value=(op.page_token);
                    label { "PIN " input type="password" name="pin" autocomplete="off" autofocus required maxlength="16"; }
                    " "
                    button type="submit" name="action" value="sign" { "OK" }
                    " "
                    button type="submit" name="action" value="cancel" formnovalidate { "キャンセル / Cancel" }
                }
                p class="note" {
                    "この画面は端末のカードエージェントが表示しています。PINはこのPCの外に出ません。" br;
                    "This page is served by the card agent on this PC; the PIN never leaves it."
                }
            };
            page(StatusCode::OK, "PIN入力 / Enter PIN", body, false)
        }
        OpState::Running => page(StatusCode::OK, "カードと通信中 / Talking to the card", html! { p { "…" } }, true),
        OpState::Done(_) => page(
            StatusCode::OK,
            "完了 / Done",
            html! { p { "このウィンドウを閉じてください。 You can close this window." } },
            false,
        ),
        OpState::Failed(f) => {
            let body = html! { p class="warn" { (f.message) } p { "Return to the portal to try again." } };
            page(StatusCode::OK, "失敗 / Failed", body, false)
        }
    }
}

#[derive(serde::Deserialize)]
pub struct PinForm {
    token: String,
    #[serde(default)]
    pin: Option<String>,
    #[serde(default)]
    action: Option<String>,
}

impl std::fmt::Debug for PinForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinForm").field("action", &self.action).finish_non_exhaustive()
    }
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<PinForm>,
) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()).unwrap_or_default();
    if !origin.eq_ignore_ascii_case(&state.own_origin) {
        tracing::warn!(%origin, "refused a PIN post from another origin");
        return page(
            StatusCode::FORBIDDEN,
            "拒否 / Refused",
            html! { p { "PINs are accepted only from the agent's own page." } },
            false,
        );
    }
    let Some(op) = state.ops.get(&id) else {
        return page(StatusCode::NOT_FOUND, "この操作は見つかりません / No such operation", html! {}, false);
    };
    if !constant_time_eq(form.token.as_bytes(), op.page_token.as_bytes()) {
        return page(
            StatusCode::FORBIDDEN,
            "拒否 / Refused",
            html! { p { "The page is out of date: reload it." } },
            false,
        );
    }
    let reply = match (form.action.as_deref(), form.pin) {
        (Some("cancel"), _) => PinReply::Cancel,
        (_, Some(pin)) if !pin.is_empty() => PinReply::Pin(pin_from_form(pin)),
        _ => return page(StatusCode::BAD_REQUEST, "PINが空です / Empty PIN", html! { p { "Type the PIN." } }, false),
    };
    if !op.deliver(reply) {
        return page(StatusCode::CONFLICT, "PINは求められていません / No PIN is being asked for", html! {}, false);
    }
    Redirect::to(&format!("/pin/{id}")).into_response()
}

fn what(kind: CardKind, role: KeyRole) -> &'static str {
    registry::pin_labels(kind, role).page
}

fn page(status: StatusCode, title: &str, body: Markup, refresh: bool) -> Response {
    let head = Head {
        lang: "ja",
        title: "hcpki card agent",
        meta: html! { @if refresh { meta http-equiv="refresh" content="1"; } },
        assets: html! { style { (PreEscaped(STYLE)) } },
    };
    let html = hcpki_html::document(head, html! { body { h1 { (title) } (body) } }).into_string();
    let mut response = (status, Html(html)).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null` with the page's own
    // form post (Fetch, "serializing a request origin"), which `submit` must refuse; `same-origin` still
    // keeps the page's URL (the operation id) from any other site.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
