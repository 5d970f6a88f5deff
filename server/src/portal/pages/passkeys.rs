//! The account's passkeys page (issue #48 item 1, D157): the person's passkeys with rename and revoke forms, and
//! the registration form (its script asks the browser for the new credential), or why this sign-in may not add
//! one. Japanese first, as every portal page.

use super::layout::{BodyData, Chrome, Scripts, jst_bare, page_with};
use crate::portal::words::M;
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::store::PasskeyRecord;
use hcpki_html::Lang;
use maud::html;

/// The page's script: the registration here, the sign-in on the login page.
pub const SCRIPT_PATH: &str = "/static/passkey.js";

/// Text in the page's language.
pub(crate) fn say(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

/// The passkeys page in `lang` for `name`: `keys` (revoked ones too, shown as such), and the registration form
/// when `may_not_register` is None, else that reason.
pub fn passkeys(
    lang: Lang,
    name: &str,
    keys: &[PasskeyRecord],
    csrf: &str,
    may_not_register: Option<&str>,
) -> Response {
    let t = |m: M| m.text(lang);
    let s = |ja, en| say(lang, ja, en);
    let body = html! {
        p { (t(M::SessionsOf)) strong { (name) } " · " (t(M::TimesInJst)) " · " a href="/" { (t(M::Home)) } }
        p { (s("パスキーは、この PC やスマートフォンの指紋・顔認証・PIN で解錠する鍵です。パスワードとワンタイムコードの代わりにログインに使えます。カードが必要なサービスは開けません。",
               "A passkey is a key on this PC or your phone, unlocked by fingerprint, face or PIN. It signs you in instead of your password and one-time code. It does not open services that need a card.")) }
        @if keys.is_empty() {
            p id="no-passkeys" { (s("登録されたパスキーはありません。", "No passkey is registered.")) }
        } @else {
            div class="scroll" {
            table {
                caption { (s("登録済みのパスキー", "Your passkeys")) }
                thead { tr {
                    th scope="col" { (s("名前", "Name")) }
                    th scope="col" { (s("登録", "Registered")) }
                    th scope="col" { (s("最後の使用", "Last used")) }
                    th scope="col" { (s("種類", "Kind")) }
                    th scope="col" { (s("操作", "Action")) }
                } }
                tbody { @for k in keys {
                    tr data-passkey=(k.credential_id) data-revoked[k.revoked_at.is_some()] {
                        td { (k.name) }
                        td { (jst_bare(k.created_at)) }
                        td { @match k.last_used_at { Some(at) => (jst_bare(at)), None => "—" } }
                        td { @if k.backup_eligible {
                            (s("同期されるパスキー", "synced passkey"))
                        } @else {
                            (s("この機器だけのパスキー", "this device only"))
                        } }
                        td { @if let Some(at) = k.revoked_at {
                            (s("削除済み ", "removed ")) (jst_bare(at))
                        } @else {
                            form method="post" action="/passkeys/rename" class="inline" {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="id" value=(k.credential_id);
                                label for={"rename-" (k.credential_id)} { (s("新しい名前", "New name")) }
                                input id={"rename-" (k.credential_id)} name="name" value=(k.name) maxlength="64" required;
                                button type="submit" { (s("名前を変更", "Rename")) }
                            }
                            form method="post" action="/passkeys/revoke" class="inline" {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="id" value=(k.credential_id);
                                button type="submit" class="danger" { (s("削除(使えなくする)", "Remove (revoke)")) }
                            }
                        } }
                    }
                } }
            }
            }
        }
        section aria-labelledby="add-heading" {
            h2 id="add-heading" { (s("パスキーを登録する", "Add a passkey")) }
            @if let Some(why) = may_not_register {
                div class="notice warn" id="passkey-register-off" { p { (why) } }
            } @else {
                form id="passkey-register" method="post" action="/passkeys/register"
                    data-say-working=(s("認証器の操作を待っています(指紋・顔認証・PIN)…", "Waiting for your authenticator (fingerprint, face or PIN)…"))
                    data-say-cancelled=(s("登録は取り消されました。もう一度「パスキーを登録」を押してください。", "The registration was cancelled: press “Add a passkey” again."))
                    data-say-unsupported=(s("このブラウザーはパスキーに対応していません。Chrome、Edge、Safari の最新版を使ってください。", "This browser does not support passkeys: use a current Chrome, Edge or Safari.")) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="id"; input type="hidden" name="clientDataJSON";
                    input type="hidden" name="attestationObject"; input type="hidden" name="transports";
                    label for="passkey-name" { (s("パスキーの名前(例: 受付の PC)", "Name of the passkey (e.g. reception PC)")) }
                    input id="passkey-name" name="name" maxlength="64" autocomplete="off";
                    button type="button" id="passkey-add" class="primary" { (s("パスキーを登録", "Add a passkey")) }
                    p id="passkey-status" role="status" {}
                }
            }
        }
    };
    let scripts = Scripts { src: SCRIPT_PATH, agent: "", data: BodyData { csrf: Some(csrf), ..BodyData::default() } };
    page_with(&Chrome::new(lang), StatusCode::OK, s("パスキー", "Passkeys"), body, Some(scripts))
}
