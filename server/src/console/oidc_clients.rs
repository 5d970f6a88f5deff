//! The relying parties (issue #30 item 1, D103): `/console/oidc-clients` lists every registered OpenID Connect
//! client for operators and auditors; operators add one, give a secret client a new secret, and remove one after
//! a confirmation. Everything is `app::operations::oidc_clients`, which `/api/v1/oidc-clients` shares, so the
//! checks, the registration and its audit entries are the same whichever front end; `hcpki oidc client` calls
//! the same `oidc::registration` core. A secret hcpki makes is shown on the answer page of the POST that made
//! it, and nowhere else: it is not stored in clear, not logged, not audited, and no page can show it again.

use super::i18n::Lang;
use super::problem::Problem as PageProblem;
use super::view::{self, csrf_field, input, select, table_or_none};
use super::{OrPage, Viewer};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations::oidc_clients::{self as ops, Refused};
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcpki_ca::access::Action;
use hcpki_sso::oidc::client::AuthMethod;
use hcpki_sso::oidc::client_secret::{self, DEFAULT_OVERLAP_SECS, MAX_OVERLAP_SECS};
use hcpki_sso::oidc::jws::SigningAlg;
use hcpki_sso::oidc::registration::{Registered, Registration, RegistrationError};
use hcpki_sso::policy::Services;
use maud::{Markup, html};
use serde::Deserialize;

type Page = Result<Response, Response>;

/// The largest add form: a JWKS of a few RSA keys, URL-encoded (JSON's punctuation triples).
const MAX_ADD_FORM_BYTES: usize = 64 * 1024;
const LIST: &str = "/console/oidc-clients";
const ADD: &str = "/console/oidc-clients/add";
const ROTATE: &str = "/console/oidc-clients/rotate-secret";
const REMOVE: &str = "/console/oidc-clients/remove";

hcpki_html::messages! {
    Title => "OIDC クライアント (連携サービス)", "OIDC clients (relying services)";
    Lead => "ポータルでサインインさせるサービス (OpenID Connect のクライアント) の一覧です。API (/api/v1/oidc-clients) と hcpki oidc client コマンドと同じ登録です。",
        "The services that sign people in through the portal (OpenID Connect clients): the same registrations as the API (/api/v1/oidc-clients) and the hcpki oidc client command.";
    AddClient => "クライアントを登録", "Register a client";
    Networks => "同意を共有する地域医療連携ネットワーク", "Regional networks that share consents";
    Id => "クライアント ID", "Client ID";
    Service => "サービス", "Service";
    Auth => "認証方式", "Authentication";
    RedirectUris => "リダイレクト URI", "Redirect URIs";
    Par => "PAR 必須", "PAR required";
    Secret => "シークレット", "Secret";
    Actions => "操作", "Actions";
    Yes => "はい", "yes";
    No => "いいえ", "no";
    SecretSince => "現在のシークレットの作成:", "Current secret made";
    PreviousUntil => "以前のシークレットの有効期限:", "Previous secret works until";
    NoPrevious => "以前のシークレットはもう使えません", "No previous secret works any more";
    OverlapHours => "以前のシークレットを使える時間 (0〜720)", "Hours the previous secret keeps working (0 to 720)";
    Rotate => "シークレットを再発行", "Issue a new secret";
    Remove => "削除…", "Remove…";
    // ---- the add form ----
    AddLead => "サービスの管理者から受け取った情報を入力してください。鍵による認証 (private_key_jwt) が最も安全で、既定です。",
        "Enter what the service's administrator gave you. Authentication with a key (private_key_jwt) is the safest, and the default.";
    Basics => "基本", "Basics";
    IdHint => "半角英数字と記号、1〜128 文字、空白なし (例: emr-east)", "1 to 128 printable ASCII characters, no spaces (e.g. emr-east)";
    RedirectHint => "1 行に 1 つ。https:// で始まる完全な URI (http:// は 127.0.0.1 / localhost のみ)",
        "One per line: the exact URI, https:// (http:// only for 127.0.0.1 or localhost)";
    HowItSignsIn => "クライアントの認証方式", "How the client authenticates";
    PrivateKeyJwt => "private_key_jwt: クライアントの鍵で署名した JWT (推奨)", "private_key_jwt: a JWT signed with the client's key (recommended)";
    TlsClientAuth => "tls_client_auth: この CA が発行したクライアント証明書 (相互 TLS)", "tls_client_auth: a client certificate from this CA (mutual TLS)";
    SelfSignedTls => "self_signed_tls_client_auth: 自己署名のクライアント証明書 (相互 TLS、鍵は JWKS で登録)",
        "self_signed_tls_client_auth: a self-signed client certificate (mutual TLS; its key registered in the JWKS)";
    SecretBasic => "client_secret_basic: hcpki が作るシークレットを HTTP Basic で送る (鍵を持てないクライアント用。例: Apache mod_auth_openidc)",
        "client_secret_basic: a secret hcpki makes, sent with HTTP Basic (for a client that cannot hold a key, e.g. Apache mod_auth_openidc)";
    SecretPost => "client_secret_post: hcpki が作るシークレットをフォームで送る", "client_secret_post: a secret hcpki makes, sent in the form";
    Public => "none: 公開クライアント (PC・スマートフォンのアプリ、ブラウザアプリ。資格情報なし、PKCE 必須)",
        "none: a public client (a desktop or phone app, a browser app: no credentials, PKCE required)";
    SecretsForbiddenHere => "この環境ではクライアントシークレットが禁止されています ([oidc] client_secrets = false)。",
        "This deployment accepts no client secrets ([oidc] client_secrets = false).";
    Jwks => "公開鍵 (JWKS の JSON。private_key_jwt と self_signed_tls_client_auth)", "Public keys (JWKS JSON; private_key_jwt and self_signed_tls_client_auth)";
    TlsSubject => "証明書のサブジェクト DN (tls_client_auth。例: CN=emr,O=hcpki)", "Certificate subject DN (tls_client_auth; e.g. CN=emr,O=hcpki)";
    Options => "その他の設定 (任意)", "Other settings (optional)";
    ParLabel => "認可リクエストを PAR でのみ受け付ける (FAPI 2.0。シークレットとは併用できません)",
        "Accept authorization requests only when pushed (PAR, FAPI 2.0; not with a secret)";
    PostLogout => "ログアウト後の戻り先 URI (1 行に 1 つ)", "Post-logout redirect URIs (one per line)";
    Backchannel => "バックチャネルログアウト URI", "Back-channel logout URI";
    IdTokenAlg => "ID トークンの署名アルゴリズム", "ID token signing algorithm";
    UserinfoAlg => "userinfo の形式", "Userinfo format";
    PlainJson => "JSON (署名なし)", "plain JSON (unsigned)";
    Signed => "署名付き JWT", "signed JWT";
    Audiences => "トークン交換の相手のクライアント ID (空白または改行区切り。RFC 8693)", "Clients it may exchange tokens to (space or line separated; RFC 8693)";
    Register => "登録", "Register";
    // ---- answers ----
    Registered => "クライアントを登録しました", "Client registered";
    NotRegistered => "登録できませんでした。何も登録していません。", "Not registered: nothing was registered.";
    Detail => "詳細:", "Detail:";
    SecretMade => "クライアントシークレット (一度だけ表示)", "Client secret (shown once)";
    SecretRotated => "新しいクライアントシークレット (一度だけ表示)", "New client secret (shown once)";
    CopyNow => "今すぐコピーしてください。このシークレットは二度と表示されません。", "Copy it now: this secret is not shown again.";
    OnlyHash => "hcpki はシークレットのハッシュだけを保存するため、後から表示できません。失くしたときは、一覧から新しいシークレットを発行してください。",
        "hcpki keeps only its hash, so it cannot show it later. If it is lost, issue a new secret from the list.";
    WhereToPut => "サービスの設定に入れる場所", "Where it goes in the service's configuration";
    WhereGeneric => "サービスの OpenID Connect 設定の「クライアント ID」と「クライアントシークレット」(client_id / client_secret) に入れてください。設定ファイルに書く場合は、ほかの人が読めない権限にしてください。",
        "Put it in the service's OpenID Connect settings as its client ID and client secret (client_id / client_secret). In a configuration file, make the file readable by the service only.";
    WhereApache => "Apache mod_auth_openidc の場合:", "For Apache mod_auth_openidc:";
    TheSecretAbove => "(上のシークレット)", "(the secret above)";
    Discovery => "ディスカバリー URL", "Discovery URL";
    PreviousWorksUntil => "以前のシークレットは次の日時まで使えます。それまでにサービスの設定を新しいシークレットに替えてください:",
        "The previous secret keeps working until the time below: change the service's configuration to the new secret before then:";
    PreviousStopped => "以前のシークレットはすでに使えません。サービスの設定をすぐに新しいシークレットに替えてください。",
        "The previous secret no longer works: change the service's configuration to the new secret now.";
    BackToList => "OIDC クライアントの一覧へ", "Back to the OIDC clients";
    // ---- removal ----
    RemoveTitle => "クライアントの削除", "Remove a client";
    RemoveWarning => "このクライアントを削除すると、発行済みのトークンとリフレッシュトークンはすべて使えなくなり、サービスはポータルでサインインさせられなくなります。元に戻すには、もう一度登録し、サービスの設定も直す必要があります。",
        "Removing the client revokes every token and refresh token it holds, and the service can no longer sign anyone in through the portal. To undo it, register it again and update the service's configuration.";
    RemoveConfirm => "削除する", "Remove it";
    Cancel => "やめる", "Cancel";
    Removed => "クライアントを削除しました。発行済みのトークンは使えなくなりました。", "The client was removed; its tokens no longer work.";
    // ---- refusals of the add form, in plain words; the core's own text follows as the detail ----
    WhyReserved => "この ID はコンソール自身のクライアント用です。別の ID を選んでください。", "This id is the console's own client: choose another id.";
    WhyBadId => "クライアント ID は半角英数字と記号 1〜128 文字 (空白なし) で入力してください。", "Use 1 to 128 printable ASCII characters without spaces for the client ID.";
    WhyUnknownAuth => "認証方式を一覧から選んでください。", "Choose an authentication method from the list.";
    WhySecretWithPar => "PAR 必須 (FAPI 2.0) のクライアントはシークレットを使えません。鍵による方式 (private_key_jwt など) を選ぶか、「PAR でのみ受け付ける」を外してください。",
        "A client that must push its requests (PAR, FAPI 2.0) cannot use a secret: choose a key-based method (private_key_jwt, …) or untick “only when pushed”.";
    WhyServiceRefuses => "このサービスは、選んだ認証方式のクライアントを受け付けません (サービスの clients 規則。key: 鍵による方式だけ、confidential: 公開クライアント以外)。受け付けられる方式を選ぶか、サービスの規則を変更してください。",
        "The service does not admit clients that authenticate this way (its clients rule; key: key-based methods only, confidential: no public clients): choose a method it admits, or change the service's rule.";
    WhyPublicClientGiven => "公開クライアント (none) には、トークン交換の相手や同意書テンプレートを与えられません。公開クライアントの client_id は誰でも送れるため、その名前で誰にでも使われてしまいます。サービスのサーバーを機密クライアント (private_key_jwt・TLS・シークレット) として登録して与えるか、これらを外してください。",
        "A public client (none) cannot be given token exchange audiences or consent templates: anyone can send a public client's client_id, so anyone could use them in its name. Register the service's server as a confidential client (private_key_jwt, TLS or a secret) for them, or leave them out.";
    WhySecretsForbidden => "この環境ではクライアントシークレットが禁止されています ([oidc] client_secrets = false)。鍵による方式 (private_key_jwt など) で登録してください。",
        "This deployment accepts no client secrets ([oidc] client_secrets = false): register the client with a key (private_key_jwt, …).";
    WhyMissingJwks => "選んだ方式にはクライアントの公開鍵が必要です。「公開鍵」欄に JWKS の JSON を貼り付けてください。",
        "This method needs the client's public keys: paste its JWKS (JSON) into the “Public keys” field.";
    WhyNotJwks => "公開鍵の欄は {\"keys\": [...]} の形の JSON にしてください。", "The public keys must be JSON of the form {\"keys\": [...]}.";
    WhyMissingSubject => "tls_client_auth には証明書のサブジェクト DN が必要です。", "tls_client_auth needs the certificate's subject DN.";
    WhyNoRedirect => "リダイレクト URI を 1 つ以上入力してください (1 行に 1 つ)。", "Enter at least one redirect URI (one per line).";
    WhyBadRedirect => "リダイレクト URI とログアウト後の戻り先は https:// で始めてください (http:// は 127.0.0.1 / localhost のみ)。# 以降は付けられません。",
        "Redirect and post-logout URIs must start with https:// (http:// only for 127.0.0.1 or localhost) and carry no fragment (#).";
    WhyBadBackchannel => "バックチャネルログアウト URI は https:// (施設内ネットワークなら http://) の URL にしてください。",
        "The back-channel logout URI must be an https:// (or facility-network http://) URL.";
    WhyUnknownService => "このサービスはポリシーにありません。一覧から選ぶか、先にサービスを追加してください (hcpki service add)。",
        "The service is not in the policy: choose one from the list, or add it first (hcpki service add).";
    WhyExists => "この ID のクライアントはすでに登録されています。別の ID を選ぶか、先に既存のクライアントを削除してください。",
        "A client with this id exists already: choose another id, or remove the existing client first.";
    WhyAlg => "署名アルゴリズムは ES256・RS256・PS256 から選んでください。", "Choose ES256, RS256 or PS256 as the signing algorithm.";
    WhyOther => "登録できませんでした。詳細を確認し、もう一度お試しください。", "The registration failed: see the detail, and try again.";
}

/// `GET /console/oidc-clients` (operators and auditors).
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Page {
    let clients = ops::list(&state, &viewer.caller).await.or_page(&viewer)?;
    let t = |m: M| m.text(viewer.lang);
    let manage = viewer.can(&Action::ManageOidcClients);
    let now = viewer.now();
    let rows: Vec<Vec<Markup>> = clients
        .iter()
        .enumerate()
        .map(|(n, c)| {
            let cfg = &c.config;
            let mut row = vec![
                html! { code { (c.id) } },
                html! { (cfg.service) },
                html! { code { (cfg.auth.as_str()) } },
                html! { @for u in &cfg.redirect_uris { code { (u) } br; } },
                html! { (t(if cfg.require_pushed_authorization_requests { M::Yes } else { M::No })) },
                secret_cell(viewer.lang, c, now),
            ];
            if manage {
                row.push(actions_cell(&viewer, c, n));
            }
            row
        })
        .collect();
    let mut head = vec![t(M::Id), t(M::Service), t(M::Auth), t(M::RedirectUris), t(M::Par), t(M::Secret)];
    if manage {
        head.push(t(M::Actions));
    }
    let body = html! {
        p { (t(M::Lead)) }
        @if manage { p { a href=(ADD) { (t(M::AddClient)) } } }
        // Which of these services share consents (D169): the networks' page, for whoever may list clients.
        p { a href=(super::networks::PATH) { (t(M::Networks)) } }
        div class="scroll" data-oidc-clients=(clients.len()) { (table_or_none(viewer.lang, t(M::Title), &head, &rows)) }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::Title), body))
}

/// When a secret client's secret was made, and until when a previous one still works.
fn secret_cell(lang: Lang, c: &Registered, now: i64) -> Markup {
    let t = |m: M| m.text(lang);
    if !c.config.auth.is_secret() {
        return html! { "—" };
    }
    let since = client_secret::current_since(&c.config.secrets);
    let until = client_secret::overlap_ends(&c.config.secrets, now);
    html! {
        @if let Some(s) = since { (t(M::SecretSince)) " " (view::jst(s, lang)) br; }
        @match until {
            Some(u) => { (t(M::PreviousUntil)) " " strong data-previous-until=(c.id) { (view::jst(u, lang)) } },
            None => small { (t(M::NoPrevious)) },
        }
    }
}

/// An operator's forms on one client: a new secret (secret clients), and the way to its removal.
fn actions_cell(viewer: &Viewer, c: &Registered, n: usize) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    let hours = (DEFAULT_OVERLAP_SECS / 3600).to_string();
    let field = format!("overlap-{n}");
    let remove = format!("{REMOVE}?{}", serde_urlencoded::to_string([("id", &c.id)]).unwrap_or_default());
    html! {
        @if c.config.auth.is_secret() {
            form method="post" action=(ROTATE) {
                (csrf_field(&viewer.csrf()))
                input type="hidden" name="id" value=(c.id);
                (input(&field, "overlap_hours", t(M::OverlapHours), &hours, 3).numeric().size(4).required())
                button type="submit" { (t(M::Rotate)) }
            }
        }
        p { a href=(remove) data-remove=(c.id) { (t(M::Remove)) } }
    }
}

/// What the add form sends: the options of `hcpki oidc client add` that make sense in a form, the keys inline
/// as the API takes them. Everything is text, read into a [`Registration`] by [`AddForm::registration`].
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AddForm {
    id: String,
    service: String,
    auth: String,
    /// One URI per line.
    redirect_uris: String,
    /// A JWKS, as JSON text.
    jwks: String,
    tls_subject: String,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: String,
    id_token_alg: String,
    /// Empty: plain JSON.
    userinfo_alg: String,
    /// Present when ticked.
    require_par: Option<String>,
    token_exchange_audiences: String,
}

/// Why the add form was refused before the registration core saw it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// The JWKS field is not JSON.
    #[error("the public keys are not JSON ({0}): paste the client's JWKS, {{\"keys\": [...]}}")]
    JwksNotJson(String),
    /// A signing algorithm other than those offered.
    #[error("{0}")]
    Alg(String),
}

impl AddForm {
    /// The registration the form asks for, or the field that cannot be read.
    fn registration(&self) -> Result<Registration, FieldError> {
        let jwks = match self.jwks.trim() {
            "" => None,
            text => Some(serde_json::from_str(text).map_err(|e| FieldError::JwksNotJson(e.to_string()))?),
        };
        let alg = |name: &str| hcpki_sso::oidc::registration::signing_alg(name).map_err(FieldError::Alg);
        let id_token_signed_response_alg = match self.id_token_alg.trim() {
            "" => SigningAlg::default(),
            name => alg(name)?,
        };
        let userinfo_signed_response_alg = match self.userinfo_alg.trim() {
            "" => None,
            name => Some(alg(name)?),
        };
        Ok(Registration {
            id: self.id.trim().to_owned(),
            redirect_uris: words(&self.redirect_uris),
            auth: self.auth.trim().to_owned(),
            jwks,
            tls_subject: optional(&self.tls_subject),
            service: self.service.trim().to_owned(),
            post_logout_redirect_uris: words(&self.post_logout_redirect_uris),
            backchannel_logout_uri: optional(&self.backchannel_logout_uri),
            id_token_signed_response_alg,
            userinfo_signed_response_alg,
            require_pushed_authorization_requests: self.require_par.is_some(),
            token_exchange_audiences: words(&self.token_exchange_audiences),
        })
    }
}

/// The URIs or ids of a field, one per line or separated by spaces (none of them contains a space).
fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `GET /console/oidc-clients/add` (operators).
pub async fn add_form(State(state): State<AppState>, viewer: Viewer) -> Page {
    viewer.caller.may(Action::ManageOidcClients).await.or_page(&viewer)?;
    let services = ops::services(&state).await.or_page(&viewer)?;
    let blank = AddForm { auth: AuthMethod::PrivateKeyJwt.as_str().to_owned(), ..AddForm::default() };
    Ok(add_page(&viewer, &state, services.as_deref(), &blank, None, StatusCode::OK))
}

/// `POST /console/oidc-clients/add` (operators): registered (the secret shown once when one was made), or the
/// form again with what was typed and why it was refused; a refusal registers nothing.
pub async fn add(State(state): State<AppState>, viewer: Viewer, body: Body) -> Page {
    let name = Action::ManageOidcClients.name();
    viewer.caller.may(Action::ManageOidcClients).await.or_page(&viewer)?;
    let hint = format!("the form is at most {MAX_ADD_FORM_BYTES} bytes: register larger key sets with the admin API");
    let form: AddForm =
        viewer.form_limited(&name, "-", body, MAX_ADD_FORM_BYTES, &hint, Some(super::i18n::M::KeySetTooLarge)).await?;
    let services = ops::services(&state).await.or_page(&viewer)?;
    let refused = |problem: Problem, error: ApiError| {
        let status = error.status;
        add_page(&viewer, &state, services.as_deref(), &form, Some((&problem, &error)), status)
    };
    let registration = match form.registration() {
        Ok(r) => r,
        Err(e) => {
            let error = ApiError::bad_request("invalid registration", e.to_string());
            let error = viewer.caller.refuse(&name, form.id.trim(), error).await;
            return Err(refused(Problem::Field(e), error));
        }
    };
    let registered = match ops::add(&state, &viewer.caller, registration).await {
        Ok(c) => c,
        Err(Refused { error, reason: Some(reason) }) => return Err(refused(Problem::Core(reason), error)),
        Err(Refused { error, reason: None }) => {
            return Err(viewer.refusal(PageProblem::of(&error, PageProblem::NotFound)));
        }
    };
    let t = |m: M| m.text(viewer.lang);
    let body = match &registered.secret {
        Some(secret) => secret_shown(&viewer, &state, &registered.id, registered.config.auth, secret, None),
        None => html! {
            div class="notice" role="status" { p { (t(M::Registered)) } }
            (facts(viewer.lang, &registered))
            p { a href=(LIST) { (t(M::BackToList)) } }
        },
    };
    let title = if registered.secret.is_some() { t(M::SecretMade) } else { t(M::Registered) };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::CREATED, title, body))
}

/// What was wrong with an add form.
enum Problem {
    /// The registration core refused it.
    Core(RegistrationError),
    /// A field the core never saw.
    Field(FieldError),
}

impl Problem {
    /// The plain words of the refusal in `lang`, with what to do.
    fn words(&self) -> M {
        use RegistrationError as E;
        match self {
            Self::Field(FieldError::JwksNotJson(_)) => M::WhyNotJwks,
            Self::Field(FieldError::Alg(_)) => M::WhyAlg,
            Self::Core(e) => match e {
                E::Reserved(_) => M::WhyReserved,
                E::BadId(_) => M::WhyBadId,
                E::UnknownAuth(_) => M::WhyUnknownAuth,
                E::SecretWithPar => M::WhySecretWithPar,
                E::ServiceRefusesMethod { .. } => M::WhyServiceRefuses,
                E::PublicClientGiven { .. } => M::WhyPublicClientGiven,
                E::SecretsForbidden => M::WhySecretsForbidden,
                E::MissingJwks(_) => M::WhyMissingJwks,
                E::NotJwks => M::WhyNotJwks,
                E::MissingTlsSubject => M::WhyMissingSubject,
                E::NoRedirectUri => M::WhyNoRedirect,
                E::BadRedirectUri(_) => M::WhyBadRedirect,
                E::BadBackchannelUri(_) => M::WhyBadBackchannel,
                E::UnknownService(_) => M::WhyUnknownService,
                E::Exists(_) => M::WhyExists,
                _ => M::WhyOther,
            },
        }
    }
}

/// The add form, filled with `form`; with the refusal first when there was one.
fn add_page(
    viewer: &Viewer,
    state: &AppState,
    services: Option<&Services>,
    form: &AddForm,
    refusal: Option<(&Problem, &ApiError)>,
    status: StatusCode,
) -> Response {
    let t = |m: M| m.text(viewer.lang);
    let methods = [
        (AuthMethod::PrivateKeyJwt, M::PrivateKeyJwt),
        (AuthMethod::TlsClientAuth, M::TlsClientAuth),
        (AuthMethod::SelfSignedTlsClientAuth, M::SelfSignedTls),
        (AuthMethod::ClientSecretBasic, M::SecretBasic),
        (AuthMethod::ClientSecretPost, M::SecretPost),
        (AuthMethod::None, M::Public),
    ];
    let algs = SigningAlg::ALL.map(SigningAlg::as_str);
    let id_token_alg = if form.id_token_alg.is_empty() { SigningAlg::default().as_str() } else { &form.id_token_alg };
    let signed = t(M::Signed);
    let userinfo_options: Vec<(String, String)> = std::iter::once((String::new(), t(M::PlainJson).to_owned()))
        .chain(algs.iter().map(|a| ((*a).to_owned(), format!("{signed} ({a})"))))
        .collect();
    let userinfo_options: Vec<(&str, &str)> =
        userinfo_options.iter().map(|(v, text)| (v.as_str(), text.as_str())).collect();
    let service_field = match services {
        Some(services) => {
            let options: Vec<(String, String)> =
                services.iter().map(|s| (s.id.clone(), format!("{} ({})", s.name, s.id))).collect();
            let options: Vec<(&str, &str)> = options.iter().map(|(v, text)| (v.as_str(), text.as_str())).collect();
            select("service", "service", t(M::Service), &options, &form.service)
        }
        None => html! { (input("service", "service", t(M::Service), &form.service, 128).required()) },
    };
    let body = html! {
        @if let Some((problem, error)) = refusal {
            div class="error" role="alert" id="refusal" {
                p { strong { (t(M::NotRegistered)) } }
                p { (t(problem.words())) }
                p { small { (t(M::Detail)) " " (error.detail) } }
            }
        }
        p { (t(M::AddLead)) }
        form method="post" action=(ADD) {
            (csrf_field(&viewer.csrf()))
            fieldset {
                legend { (t(M::Basics)) }
                label for="id" { (t(M::Id)) " " small id="id-hint" { (t(M::IdHint)) } }
                input id="id" name="id" value=(form.id) maxlength="128" required aria-describedby="id-hint";
                (service_field)
                label for="redirect_uris" { (t(M::RedirectUris)) " " small { (t(M::RedirectHint)) } }
                textarea id="redirect_uris" name="redirect_uris" rows="3" cols="70" required { (form.redirect_uris) }
            }
            fieldset {
                legend { (t(M::HowItSignsIn)) }
                @if !ops::secrets_allowed(state) { p { (t(M::SecretsForbiddenHere)) } }
                @for (method, words) in &methods {
                    @let id = format!("auth-{}", method.as_str());
                    div {
                        div class="inline" {
                            input type="radio" id=(id) name="auth" value=(method.as_str())
                                checked[form.auth == method.as_str()];
                            label for=(id) { (t(*words)) }
                        }
                    }
                }
                label for="jwks" { (t(M::Jwks)) }
                textarea id="jwks" name="jwks" rows="6" cols="70" spellcheck="false" { (form.jwks) }
                (input("tls_subject", "tls_subject", t(M::TlsSubject), &form.tls_subject, 500).size(50))
            }
            fieldset {
                legend { (t(M::Options)) }
                div {
                    div class="inline" {
                        input type="checkbox" id="require_par" name="require_par" value="1"
                            checked[form.require_par.is_some()];
                        label for="require_par" { (t(M::ParLabel)) }
                    }
                }
                label for="post_logout_redirect_uris" { (t(M::PostLogout)) }
                textarea id="post_logout_redirect_uris" name="post_logout_redirect_uris" rows="2" cols="70" {
                    (form.post_logout_redirect_uris)
                }
                (input("backchannel_logout_uri", "backchannel_logout_uri", t(M::Backchannel),
                    &form.backchannel_logout_uri, 500).size(50))
                (select("id_token_alg", "id_token_alg", t(M::IdTokenAlg), &view::same(&algs), id_token_alg))
                (select("userinfo_alg", "userinfo_alg", t(M::UserinfoAlg), &userinfo_options, &form.userinfo_alg))
                (input("token_exchange_audiences", "token_exchange_audiences", t(M::Audiences),
                    &form.token_exchange_audiences, 2000).size(50))
            }
            button type="submit" { (t(M::Register)) }
        }
    };
    view::page(viewer.lang, viewer.principal(), status, t(M::AddClient), body)
}

/// A registered client's facts (never a secret).
fn facts(lang: Lang, c: &Registered) -> Markup {
    let t = |m: M| m.text(lang);
    html! {
        dl {
            dt { (t(M::Id)) } dd { code id="client-id" { (c.id) } }
            dt { (t(M::Service)) } dd { (c.config.service) }
            dt { (t(M::Auth)) } dd { code { (c.config.auth.as_str()) } }
            dt { (t(M::RedirectUris)) } dd { @for u in &c.config.redirect_uris { code { (u) } br; } }
            dt { (t(M::Par)) } dd { (t(if c.config.require_pushed_authorization_requests { M::Yes } else { M::No })) }
        }
    }
}

/// The page body that shows a secret, this once: the words to copy it now, where it goes, and after a
/// rotation until when the previous one works (`previous`: `Some(None)` when it stopped at once).
fn secret_shown(
    viewer: &Viewer,
    state: &AppState,
    id: &str,
    auth: AuthMethod,
    secret: &str,
    previous: Option<Option<i64>>,
) -> Markup {
    let t = |m: M| m.text(viewer.lang);
    let issuer = state.portal.as_ref().map(|p| p.oidc.issuer.trim_end_matches('/').to_owned());
    let apache = format!(
        "OIDCProviderMetadataURL {}/.well-known/openid-configuration\nOIDCClientID {id}\nOIDCClientSecret {}\n\
         OIDCProviderTokenEndpointAuth {}",
        issuer.as_deref().unwrap_or("https://…"),
        t(M::TheSecretAbove),
        auth.as_str()
    );
    html! {
        div class="notice warn" role="alert" {
            p { strong { (t(M::CopyNow)) } }
            p { (t(M::OnlyHash)) }
        }
        dl {
            dt { (t(M::Id)) } dd { code id="client-id" { (id) } }
            dt { (t(M::Secret)) } dd { code class="secret" id="client-secret" { (secret) } }
            dt { (t(M::Auth)) } dd { code { (auth.as_str()) } }
            @if let Some(issuer) = &issuer {
                dt { (t(M::Discovery)) } dd { code { (issuer) "/.well-known/openid-configuration" } }
            }
        }
        @match previous {
            Some(Some(until)) => p { (t(M::PreviousWorksUntil)) " " strong id="previous-until" { (view::jst(until, viewer.lang)) } },
            Some(None) => p id="previous-until" { (t(M::PreviousStopped)) },
            None => {},
        }
        h2 { (t(M::WhereToPut)) }
        p { (t(M::WhereGeneric)) }
        p { (t(M::WhereApache)) }
        pre { (apache) }
        p { a href=(LIST) { (t(M::BackToList)) } }
    }
}

/// The rotation form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateForm {
    id: String,
    overlap_hours: String,
}

/// `POST /console/oidc-clients/rotate-secret` (operators): a new secret, shown on this page only.
pub async fn rotate(State(state): State<AppState>, viewer: Viewer, body: Body) -> Page {
    let name = Action::ManageOidcClients.name();
    viewer.caller.may(Action::ManageOidcClients).await.or_page(&viewer)?;
    let form: RotateForm = viewer.form(&name, "-", body).await?;
    let max_hours = MAX_OVERLAP_SECS / 3600;
    let overlap = match form.overlap_hours.trim().parse::<i64>() {
        Ok(h) if (0..=max_hours).contains(&h) => h * 3600,
        _ => {
            let detail = format!("overlap {:?}: give whole hours, 0 to {max_hours}", form.overlap_hours);
            let e = ApiError::bad_request("invalid overlap", detail);
            return Err(viewer.refused(PageProblem::FormUnreadable, &name, &form.id, e).await);
        }
    };
    let rotated = ops::rotate_secret(&state, &viewer.caller, &form.id, overlap)
        .await
        .map_err(|r| viewer.refusal(PageProblem::of(&r.error, PageProblem::NoSuchClient)))?;
    let body = secret_shown(&viewer, &state, &form.id, rotated.auth, &rotated.secret, Some(rotated.previous_until));
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, M::SecretRotated.text(viewer.lang), body))
}

/// The client a removal is about: the query of [`remove_form`], the form of [`remove`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientId {
    id: String,
}

/// `GET /console/oidc-clients/remove?id=ID` (operators): what removing the client does, and the form that does
/// it.
pub async fn remove_form(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<ClientId>, QueryRejection>,
) -> Page {
    let name = Action::ManageOidcClients.name();
    viewer.caller.may(Action::ManageOidcClients).await.or_page(&viewer)?;
    let id = match query {
        Ok(Query(q)) => q.id,
        Err(e) => {
            let e = ApiError::bad_request("invalid query", format!("{e}: use the links on {LIST}"));
            return Err(viewer.refused(PageProblem::BadSearch, &name, "-", e).await);
        }
    };
    let listed = ops::list(&state, &viewer.caller).await.or_page(&viewer)?;
    let Some(client) = listed.iter().find(|c| c.id == id) else {
        let e = ApiError::not_found(format!("no client {id}: see {LIST}"));
        return Err(viewer.refused(PageProblem::NoSuchClient, &name, &id, e).await);
    };
    let t = |m: M| m.text(viewer.lang);
    let body = html! {
        (facts(viewer.lang, client))
        div class="notice warn" { p { (t(M::RemoveWarning)) } }
        form method="post" action=(REMOVE) {
            (csrf_field(&viewer.csrf()))
            input type="hidden" name="id" value=(client.id);
            button type="submit" class="danger" { (t(M::RemoveConfirm)) }
        }
        p { a href=(LIST) { (t(M::Cancel)) } }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::RemoveTitle), body))
}

/// `POST /console/oidc-clients/remove` (operators): removed, its grants revoked.
pub async fn remove(State(state): State<AppState>, viewer: Viewer, body: Body) -> Page {
    let name = Action::ManageOidcClients.name();
    viewer.caller.may(Action::ManageOidcClients).await.or_page(&viewer)?;
    let form: ClientId = viewer.form(&name, "-", body).await?;
    ops::remove(&state, &viewer.caller, &form.id)
        .await
        .map_err(|r| viewer.refusal(PageProblem::of(&r.error, PageProblem::NoSuchClient)))?;
    let t = |m: M| m.text(viewer.lang);
    let body = html! {
        div class="notice" role="status" { p { (t(M::Removed)) " " code id="removed" { (form.id) } } }
        p { a href=(LIST) { (t(M::BackToList)) } }
    };
    Ok(view::page(viewer.lang, viewer.principal(), StatusCode::OK, t(M::RemoveTitle), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_into_the_registration_the_api_would_make() {
        let form = AddForm {
            id: " wiki-b ".into(),
            service: "wiki".into(),
            auth: "client_secret_basic".into(),
            redirect_uris: "https://wiki.example/cb\r\n  https://wiki.example/cb2\r\n".into(),
            token_exchange_audiences: "emr  notes".into(),
            require_par: Some("1".into()),
            userinfo_alg: "PS256".into(),
            ..AddForm::default()
        };
        let r = form.registration().unwrap();
        assert_eq!(r.id, "wiki-b");
        assert_eq!(r.redirect_uris, ["https://wiki.example/cb", "https://wiki.example/cb2"]);
        assert_eq!(r.token_exchange_audiences, ["emr", "notes"]);
        assert!(r.require_pushed_authorization_requests && r.jwks.is_none() && r.tls_subject.is_none());
        assert_eq!(
            (r.id_token_signed_response_alg, r.userinfo_signed_response_alg),
            (SigningAlg::Es256, Some(SigningAlg::Ps256))
        );
        let bad = AddForm { jwks: "{keys".into(), ..form.clone() };
        assert!(matches!(bad.registration(), Err(FieldError::JwksNotJson(_))));
        let bad = AddForm { id_token_alg: "HS256".into(), ..form };
        assert!(matches!(bad.registration(), Err(FieldError::Alg(_))));
    }
}
