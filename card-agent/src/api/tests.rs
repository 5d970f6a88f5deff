//! The API's guards and the web PIN flow, through the router, over virtual cards in in-process readers.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use tower::ServiceExt as _;

use super::*;
use crate::broker::Broker;
use crate::config::AgentConfig;
use crate::presence::Presence;
use crate::service::{CardService, login_message};
use crate::testkit::{MemReaders, hpki_identity, jpki_identity, verify};

const PORTAL: &str = "https://portal.example";
const HOST: &str = "127.0.0.1:7717";
const OWN: &str = "http://127.0.0.1:7717";

fn app() -> (Router, MemReaders) {
    app_waiting(10)
}

/// The API over one JPKI card, waiting `pin_timeout_secs` for a PIN.
fn app_waiting(pin_timeout_secs: u64) -> (Router, MemReaders) {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", jpki_identity(0).card());
    (app_over(readers.clone(), pin_timeout_secs), readers)
}

/// The API over `readers` as they are.
fn app_over(readers: MemReaders, pin_timeout_secs: u64) -> Router {
    let broker: Arc<dyn CardService> = Arc::new(Broker::new(readers.clone()));
    let mut config = AgentConfig { allowed_origins: vec![PORTAL.into()], pin_timeout_secs, ..AgentConfig::default() };
    config.validate().unwrap();
    let state = AppState::new(broker, &config, HOST.parse().unwrap(), None);
    router(state)
}

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(path: &str, origin: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path).header("host", HOST);
    if let Some(o) = origin {
        b = b.header("origin", o);
    }
    b.body(Body::empty()).unwrap()
}

fn post_json(path: &str, origin: &str, json: &str) -> Request<Body> {
    Request::post(path)
        .header("host", HOST)
        .header("origin", origin)
        .header("content-type", "application/json")
        .body(Body::from(json.to_owned()))
        .unwrap()
}

fn post_form(path: &str, origin: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header("host", HOST)
        .header("origin", origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap()
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap()
}

/// The operation's page token, scraped from its PIN page as a browser would submit it.
async fn page_token(app: &Router, id: &str) -> String {
    let page = call(app, get(&format!("/pin/{id}"), None)).await.2;
    page.split("name=\"token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

/// The certificate chain and the signature of a `done` operation.
fn signed(v: &serde_json::Value) -> (Vec<Vec<u8>>, Vec<u8>) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let signature = b64.decode(v["result"]["signature"].as_str().unwrap()).unwrap();
    let chain =
        v["result"]["chain"].as_array().unwrap().iter().map(|c| b64.decode(c.as_str().unwrap()).unwrap()).collect();
    (chain, signature)
}

/// Long-polls as a page does after the PIN window was used ("I last saw pin_required") until the
/// operation is done or failed.
async fn final_state(app: &Router, id: &str) -> serde_json::Value {
    let mut seen = "pin_required".to_owned();
    for _ in 0..50 {
        let v = json(&call(app, get(&format!("/v1/sign/{id}?wait=10&seen={seen}"), Some(PORTAL))).await.2);
        match v["status"].as_str().unwrap() {
            "done" | "failed" => return v,
            other => seen = other.to_owned(),
        }
    }
    panic!("operation {id} never finished");
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let (app, _) = app();
    let rebinding = Request::get("/v1/cards")
        .header("host", "evil.example:7717")
        .header("origin", PORTAL)
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&app, rebinding).await.0, StatusCode::MISDIRECTED_REQUEST);
    let (status, _, body) = call(&app, get("/v1/cards", None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json(&body)["error"]["code"], "origin_not_allowed");
    assert_eq!(call(&app, get("/v1/cards", Some("https://evil.example"))).await.0, StatusCode::FORBIDDEN);
    let (status, headers, body) = call(&app, get("/v1/cards", Some(PORTAL))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["access-control-allow-origin"], PORTAL);
    let v = json(&body);
    assert_eq!(v["readers"][0]["card"]["kind"], "jpki");
    // No key or PIN material: the certificates and identifiers only.
    assert!(!body.to_ascii_lowercase().contains("pin\""));
}

#[tokio::test]
async fn preflight_allows_only_listed_origins_and_private_network_access() {
    let (app, _) = app();
    let pre = |origin: &str| {
        Request::options("/v1/sign")
            .header("host", HOST)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-private-network", "true")
            .body(Body::empty())
            .unwrap()
    };
    let (status, headers, _) = call(&app, pre(PORTAL)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers["access-control-allow-origin"], PORTAL);
    assert_eq!(headers["access-control-allow-private-network"], "true");
    let (status, headers, _) = call(&app, pre("https://evil.example")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn a_login_signature_through_the_agents_own_pin_page() {
    let (app, _) = app();
    let challenge = [7u8; 32];
    let body = format!(
        r#"{{"challenge":"{}","kind":"jpki"}}"#,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(challenge)
    );
    let (status, _, body) = call(&app, post_json("/v1/sign", PORTAL, &body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let started = json(&body);
    let id = started["id"].as_str().unwrap().to_owned();
    assert_eq!(started["pin_url"], format!("{OWN}/pin/{id}"));

    let status_path = format!("/v1/sign/{id}?wait=10");
    let (_, _, body) = call(&app, get(&format!("/v1/sign/{id}?wait=0"), Some(PORTAL))).await;
    let body =
        if json(&body)["status"] == "running" { call(&app, get(&status_path, Some(PORTAL))).await.2 } else { body };
    let v = json(&body);
    assert_eq!(v["status"], "pin_required", "{body}");
    assert_eq!(v["tries_left"], 3);
    // Another origin cannot see the operation.
    assert_eq!(call(&app, get(&status_path, Some("https://other.example"))).await.0, StatusCode::FORBIDDEN);

    let (status, headers, _) = call(&app, get(&format!("/pin/{id}"), None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    // Not `no-referrer`: browsers would then send `Origin: null` with the page's own form post (found by
    // tests/integration/browser.rs in Chromium), and the post below would be refused.
    assert_eq!(headers["referrer-policy"], "same-origin");
    let token = page_token(&app, &id).await;

    // The portal's page cannot post the PIN: wrong origin, or no token.
    let pin_path = format!("/pin/{id}");
    let form = format!("token={token}&pin=1234&action=sign");
    assert_eq!(call(&app, post_form(&pin_path, PORTAL, &form)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, post_form(&pin_path, OWN, "token=nope&pin=1234")).await.0, StatusCode::FORBIDDEN);
    let (status, headers, _) = call(&app, post_form(&pin_path, OWN, &form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], format!("{pin_path}?lang=ja"));

    let v = final_state(&app, &id).await;
    assert_eq!(v["status"], "done", "{v}");
    let (chain, signature) = signed(&v);
    verify(&chain, &login_message(PORTAL, &challenge), &signature);
    // The finished operation says where its time went: the card, the PIN wait, the agent's own.
    let (_, headers, _) = call(&app, get(&format!("/v1/sign/{id}"), Some(PORTAL))).await;
    let timing = headers["server-timing"].to_str().unwrap();
    let parts: Vec<&str> = timing.split(", ").map(|p| p.split(';').next().unwrap()).collect();
    assert_eq!(parts, ["card", "pin", "agent"], "{timing}");
    assert!(!timing.contains("1234"), "{timing}");
    // A second PIN post has nothing to go to.
    assert_eq!(call(&app, post_form(&pin_path, OWN, &form)).await.0, StatusCode::CONFLICT);
}

#[tokio::test]
async fn cancelling_on_the_pin_page_fails_the_operation() {
    let (app, _) = app();
    let body = format!(r#"{{"challenge":"{}","kind":"jpki"}}"#, "A".repeat(43));
    let id = json(&call(&app, post_json("/v1/sign", PORTAL, &body)).await.2)["id"].as_str().unwrap().to_owned();
    let status_path = format!("/v1/sign/{id}?wait=10");
    let first = json(&call(&app, get(&format!("/v1/sign/{id}?wait=0"), Some(PORTAL))).await.2);
    if first["status"] == "running" {
        assert_eq!(json(&call(&app, get(&status_path, Some(PORTAL))).await.2)["status"], "pin_required");
    }
    let token = page_token(&app, &id).await;
    call(&app, post_form(&format!("/pin/{id}"), OWN, &format!("token={token}&action=cancel"))).await;
    let v = final_state(&app, &id).await;
    assert_eq!(v["status"], "failed");
    assert_eq!(v["error"]["code"], "cancelled");
}

/// The portal's page saw its PIN window closed by hand: it cancels the operation, which ends at once (no try
/// spent) instead of holding the card until the PIN timeout; another origin cannot, and the next login asks at
/// once (issue #45 item 5; in Chromium with the real agent and card:
/// `browser::*::one_card_tap_in_chromium_opens_two_services_and_pulling_the_card_signs_out`).
#[tokio::test]
async fn the_page_cancels_its_operation_when_the_pin_window_closes() {
    let (app, _) = app_waiting(600);
    let body = format!(r#"{{"challenge":"{}","kind":"jpki"}}"#, "A".repeat(43));
    let id = json(&call(&app, post_json("/v1/sign", PORTAL, &body)).await.2)["id"].as_str().unwrap().to_owned();
    let status_path = format!("/v1/sign/{id}?wait=10");
    if json(&call(&app, get(&format!("/v1/sign/{id}?wait=0"), Some(PORTAL))).await.2)["status"] == "running" {
        assert_eq!(json(&call(&app, get(&status_path, Some(PORTAL))).await.2)["status"], "pin_required");
    }
    let cancel = format!("/v1/sign/{id}/cancel");
    let (status, _, _) = call(&app, post_json(&cancel, "https://evil.example", "")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an origin not allowed is refused by the guard");
    assert_eq!(final_state_now(&app, &id).await, "pin_required", "nobody else ends it");
    let (status, _, _) = call(&app, post_json(&cancel, PORTAL, "")).await;
    assert_eq!(status, StatusCode::OK);
    let v = final_state(&app, &id).await;
    assert_eq!((v["status"].as_str(), v["error"]["code"].as_str()), (Some("failed"), Some("cancelled")));
    assert_eq!(call(&app, post_json("/v1/sign/unknown/cancel", PORTAL, "")).await.0, StatusCode::NOT_FOUND);
    // The card is free at once: the next login asks for its PIN (then is cancelled too, so that its card thread
    // does not hold the test's runtime open for the 600 s PIN timeout).
    let next = json(&call(&app, post_json("/v1/sign", PORTAL, &body)).await.2)["id"].as_str().unwrap().to_owned();
    let v = json(&call(&app, get(&format!("/v1/sign/{next}?wait=10"), Some(PORTAL))).await.2);
    assert_eq!(v["status"], "pin_required", "{v}");
    call(&app, post_json(&format!("/v1/sign/{next}/cancel"), PORTAL, "")).await;
    assert_eq!(final_state(&app, &next).await["error"]["code"], "cancelled");
}

async fn final_state_now(app: &Router, id: &str) -> String {
    let v = json(&call(app, get(&format!("/v1/sign/{id}?wait=0"), Some(PORTAL))).await.2);
    v["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let (app, _) = app();
    for (body, code) in [
        (r#"{"challenge":"AAAA","kind":"jpki"}"#, "bad_challenge"),
        (r#"{"challenge":"!!!!","kind":"jpki"}"#, "bad_challenge"),
        (r#"{"challenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","kind":"passport"}"#, "bad_request"),
        (r#"{"challenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","kind":"jpki","pin":"1234"}"#, "bad_request"),
        // The purpose is one of the protocol's names, never words a page would have the agent show.
        (
            r#"{"challenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","kind":"jpki","purpose":"受付での本人確認"}"#,
            "bad_request",
        ),
        // A consent is agreed to only over a document the agent shows (`POST /v1/documents`, role auth).
        (
            r#"{"challenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","kind":"jpki","purpose":"consent"}"#,
            "consent_needs_document",
        ),
        (r#"{"challenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","kind":"jpki","purpose":"Consent"}"#, "bad_request"),
        (r#"{"challenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","kind":"jpki","lang":"fr"}"#, "bad_request"),
        ("not json", "bad_request"),
    ] {
        let (status, _, resp) = call(&app, post_json("/v1/sign", PORTAL, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {resp}");
        assert_eq!(json(&resp)["error"]["code"], code, "{body}");
    }
    let huge = format!(r#"{{"challenge":"{}","kind":"jpki"}}"#, "A".repeat(20_000));
    assert_eq!(call(&app, post_json("/v1/sign", PORTAL, &huge)).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(call(&app, get("/v1/sign/unknown", Some(PORTAL))).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&app, get("/pin/unknown", None)).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn presence_registrations_need_the_portal_ca_and_an_https_origin() {
    let good = format!(r#"{{"token":"{}","card_id":"{}"}}"#, "t".repeat(43), "ab".repeat(32));
    let (app, _readers) = app();
    let (status, _, body) = call(&app, post_json("/v1/presence", PORTAL, &good)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(json(&body)["error"]["code"], "presence_off", "no portal_ca_file: {body}");

    let broker: Arc<dyn CardService> = Arc::new(Broker::new(MemReaders::with_readers(&["R0"])));
    let dev = "http://localhost:8443";
    let mut config = AgentConfig { allowed_origins: vec![PORTAL.into(), dev.into()], ..AgentConfig::default() };
    config.validate().unwrap();
    let presence = Arc::new(Presence::default());
    let app = router(AppState::new(broker, &config, HOST.parse().unwrap(), None).with_presence(presence.clone()));
    let (status, _, body) = call(&app, post_json("/v1/presence", dev, &good)).await;
    assert_eq!((status, json(&body)["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("insecure_origin")));
    let (status, _, body) = call(&app, post_json("/v1/presence", PORTAL, &good)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(json(&body)["report_to"], "https://portal.example/presence");
    call(&app, post_json("/v1/presence", PORTAL, &good)).await;
    assert_eq!(presence.len(), 1, "the same token again replaces its registration");
}

/// Starts a JPKI login (`allow_last_try` as given) and waits until the agent asks for the PIN (or fails).
async fn start_login(app: &Router, allow_last_try: bool) -> (String, serde_json::Value) {
    let body = format!(r#"{{"challenge":"{}","kind":"jpki","allow_last_try":{allow_last_try}}}"#, "A".repeat(43));
    let id = json(&call(app, post_json("/v1/sign", PORTAL, &body)).await.2)["id"].as_str().unwrap().to_owned();
    let v = json(&call(app, get(&format!("/v1/sign/{id}?wait=10"), Some(PORTAL))).await.2);
    (id, v)
}

fn get_with(path: &str, header: (&str, &str)) -> Request<Body> {
    Request::get(path).header("host", HOST).header(header.0, header.1).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_pin_page_says_who_asks_for_what_in_japanese_first_and_english_on_request() {
    let (app, _readers) = app();
    let (id, v) = start_login(&app, false).await;
    assert_eq!(v["status"], "pin_required", "{v}");
    let (_, _, page) = call(&app, get(&format!("/pin/{id}"), None)).await;
    assert!(page.contains("<html lang=\"ja\">"), "{page}");
    for want in ["カードの PIN を入力してください", PORTAL, "ポータルへのログイン", "マイナンバーカード", "3 回"]
    {
        assert!(page.contains(want), "no {want:?} in {page}");
    }
    // The field: labelled, a numeric keyboard for a 4-digit PIN, no autofill, the focus on it.
    assert!(page.contains("<label for=\"pin\">"), "{page}");
    for attr in ["inputmode=\"numeric\"", "autocomplete=\"off\"", "autofocus", "maxlength=\"4\"", "type=\"password\""] {
        assert!(page.contains(attr), "no {attr} in {page}");
    }
    // The switch: English, remembered in a cookie that the next request sends.
    let (_, headers, english) = call(&app, get(&format!("/pin/{id}?lang=en"), None)).await;
    assert!(english.contains("<html lang=\"en\">") && english.contains("Enter your card's PIN"), "{english}");
    assert!(english.contains("href=\"?lang=ja\"") && english.contains("My Number card"), "{english}");
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("hcpki_agent_lang=en;") && cookie.contains("SameSite=Strict"), "{cookie}");
    let (_, _, again) = call(&app, get_with(&format!("/pin/{id}"), ("cookie", "hcpki_agent_lang=en"))).await;
    assert!(again.contains("<html lang=\"en\">"));
    // A browser whose first language is English gets English without the switch.
    let (_, _, browser) = call(&app, get_with(&format!("/pin/{id}"), ("accept-language", "en-GB,ja;q=0.5"))).await;
    assert!(browser.contains("<html lang=\"en\">"));
}

#[tokio::test]
async fn the_last_try_goes_to_the_card_only_when_confirmed_on_the_page() {
    let (app, _readers) = app();
    for _ in 0..2 {
        let (id, _) = start_login(&app, false).await;
        let token = page_token(&app, &id).await;
        call(&app, post_form(&format!("/pin/{id}"), OWN, &format!("token={token}&pin=9999&action=sign"))).await;
        let v = final_state(&app, &id).await;
        assert_eq!(v["error"]["code"], "wrong_pin");
        let (_, _, page) = call(&app, get(&format!("/pin/{id}"), None)).await;
        assert!(page.contains("PIN が違います") && page.contains("もう一度ログイン"), "{page}");
    }
    // Not allowed by the login: no PIN asked, and the page says why.
    let (id, v) = start_login(&app, false).await;
    assert_eq!(v["error"]["code"], "last_try_not_confirmed", "{v}");
    assert!(call(&app, get(&format!("/pin/{id}"), None)).await.2.contains("PIN の残りが 1 回です"));
    // Allowed: the page warns and asks for the box; without it the PIN is not used.
    let (id, v) = start_login(&app, true).await;
    assert_eq!(v["tries_left"], 1, "{v}");
    let page = call(&app, get(&format!("/pin/{id}"), None)).await.2;
    assert!(page.contains("これが最後の 1 回です") && page.contains("name=\"confirm_last_try\""), "{page}");
    let token = page_token(&app, &id).await;
    let pin_path = format!("/pin/{id}");
    let unconfirmed = format!("token={token}&pin=1234&action=sign");
    let (status, _, page) = call(&app, post_form(&pin_path, OWN, &unconfirmed)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("最後の 1 回の確認がありません"), "{page}");
    let v = json(&call(&app, get(&format!("/v1/sign/{id}?wait=0"), Some(PORTAL))).await.2);
    assert_eq!(v["status"], "pin_required", "the unconfirmed PIN was not used: {v}");
    let confirmed = format!("{unconfirmed}&confirm_last_try=yes");
    assert_eq!(call(&app, post_form(&pin_path, OWN, &confirmed)).await.0, StatusCode::SEE_OTHER);
    assert_eq!(final_state(&app, &id).await["status"], "done");
    let page = call(&app, get(&pin_path, None)).await.2;
    assert!(page.contains("完了しました"), "{page}");
}

#[tokio::test]
async fn no_pin_typed_in_time_ends_the_operation_as_timed_out() {
    let (app, _readers) = app_waiting(1);
    let (id, _) = start_login(&app, false).await;
    let v = final_state(&app, &id).await;
    assert_eq!(v["error"]["code"], "pin_timeout", "{v}");
    let page = call(&app, get(&format!("/pin/{id}?lang=en"), None)).await.2;
    assert!(page.contains("Timed out") && page.contains("within 1 second,"), "{page}");
}

/// A login cannot be pointed at the signature key; a document goes through `POST /v1/documents`, is shown on the
/// agent's page with its SHA-256, and comes back as a .p7s by the signing key once the signing password is typed
/// there; a document over 10 MiB is refused with 413 before anything starts.
#[tokio::test]
async fn documents_go_to_the_signature_key_and_logins_never_do() {
    let (app, _) = app();
    let login = format!(r#"{{"challenge":"{}","kind":"jpki","role":"sign"}}"#, "A".repeat(43));
    let (status, _, body) = call(&app, post_json("/v1/sign", PORTAL, &login)).await;
    assert_eq!(
        (status, json(&body)["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("sign_key_not_for_login"))
    );

    let b64 = base64::engine::general_purpose::STANDARD;
    let content = b"consent: I agree to share my record.\n";
    let request = serde_json::json!({
        "format": "cades", "title": "情報提供への同意書", "file_name": "consent.txt",
        "content": b64.encode(content), "kind": "jpki",
    });
    let (status, _, body) = call(&app, post_json("/v1/documents", PORTAL, &request.to_string())).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = json(&body)["id"].as_str().unwrap().to_owned();
    let first = json(&call(&app, get(&format!("/v1/sign/{id}?wait=0"), Some(PORTAL))).await.2);
    if first["status"] == "running" {
        let v = json(&call(&app, get(&format!("/v1/sign/{id}?wait=10"), Some(PORTAL))).await.2);
        assert_eq!(v["status"], "pin_required");
        assert_eq!(v["role"], "sign");
    }
    let page = call(&app, get(&format!("/pin/{id}"), None)).await.2;
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(content));
    for want in ["文書に電子署名します", "情報提供への同意書", "consent.txt", &sha[..8], "署名用パスワード", "署名する"]
    {
        assert!(page.contains(want), "the page does not say {want:?}");
    }
    let token = page_token(&app, &id).await;
    let form = format!("token={token}&pin=sign1234&action=sign");
    assert_eq!(call(&app, post_form(&format!("/pin/{id}"), OWN, &form)).await.0, StatusCode::SEE_OTHER);
    let v = final_state(&app, &id).await;
    assert_eq!(v["status"], "done", "{v}");
    assert!(v.get("message_format").is_none(), "{v}");
    let p7s = b64.decode(v["result"]["document"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(v["result"]["document"]["level"], "B-B");
    let checked = hcpki_docsig::signature::cades::verify(&p7s, content).unwrap();
    let sign_cert = jpki_identity(0).certificates().into_iter().find(|(n, _)| *n == "sign").unwrap().1.to_vec();
    assert_eq!(der::Encode::to_der(&checked.signer).unwrap(), sign_cert);

    let over = serde_json::json!({
        "format": "cades", "title": "big", "content": b64.encode(vec![0u8; crate::document::MAX_DOCUMENT_BYTES + 1]),
        "kind": "hpki",
    });
    let (status, _, body) = call(&app, post_json("/v1/documents", PORTAL, &over.to_string())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(json(&body)["error"]["message"].as_str().unwrap().contains("10 MiB"), "{body}");
    let b_t = serde_json::json!({"format": "cades", "title": "t", "content": "eA==", "kind": "hpki", "level": "b-t"});
    let (status, _, body) = call(&app, post_json("/v1/documents", PORTAL, &b_t.to_string())).await;
    assert_eq!((status, json(&body)["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("no_tsa")));
}

/// `POST /v1/documents` of a small consent (CAdES) for the card of `kind`: the operation's id once it has left
/// `running` (asking for the password, or failed), and that state.
async fn start_consent(app: &Router, kind: &str, reader: Option<&str>) -> (String, serde_json::Value) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut request = serde_json::json!({
        "format": "cades", "title": "情報提供への同意書", "content": b64.encode(b"I agree.\n"), "kind": kind,
    });
    if let Some(r) = reader {
        request["reader"] = r.into();
    }
    let (status, _, body) = call(app, post_json("/v1/documents", PORTAL, &request.to_string())).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = json(&body)["id"].as_str().unwrap().to_owned();
    let v = json(&call(app, get(&format!("/v1/sign/{id}?wait=10&seen=running"), Some(PORTAL))).await.2);
    (id, v)
}

/// Every card problem a consent can meet ends the operation `failed` with a code the portal maps, the readers
/// concerned where that helps, and a page (Japanese first) that says what happened and what to do, and that
/// nothing was signed: no card; the other kind of card (a physician's HPKI card where the patient's My Number card
/// is asked for, and the reverse); two patient cards in two readers; the card pulled out while the password is
/// asked for. No PIN is asked for in the first three.
#[tokio::test]
async fn a_consent_refused_for_the_card_says_why_and_signs_nothing() {
    let page = |app: &Router, id: &str, lang: &'static str| {
        let (app, path) = (app.clone(), format!("/pin/{id}?lang={lang}"));
        async move { call(&app, get(&path, None)).await.2 }
    };
    let readers = MemReaders::with_readers(&["R0", "R1"]);
    let app = app_over(readers.clone(), 10);
    let (id, v) = start_consent(&app, "jpki", None).await;
    assert_eq!((v["status"].as_str(), v["error"]["code"].as_str()), (Some("failed"), Some("no_card")), "{v}");
    let ja = page(&app, &id, "ja").await;
    assert!(ja.contains("カードが見つかりません") && ja.contains("文書には署名されていません。"), "{ja}");

    readers.insert("R0", hpki_identity().card());
    let (id, v) = start_consent(&app, "jpki", None).await;
    assert_eq!(v["error"]["code"], "wrong_card", "{v}");
    assert_eq!(
        (v["error"]["readers"].clone(), v["error"]["found"].as_str()),
        (serde_json::json!(["R0"]), Some("hpki"))
    );
    let ja = page(&app, &id, "ja").await;
    for want in [
        "別の種類のカードが入っています",
        "「R0」に入っているのはHPKI カードです",
        "ここで使うのはマイナンバーカードです",
        "文書には署名されていません。",
    ] {
        assert!(ja.contains(want), "{want}: {ja}");
    }
    let en = page(&app, &id, "en").await;
    assert!(en.contains("is a HPKI card; this needs the My Number card") && en.contains("Nothing was signed."), "{en}");

    // The reverse: the patient's card where the physician's HPKI signature is asked for (the reader named).
    readers.insert("R1", jpki_identity(0).card());
    let (_, v) = start_consent(&app, "hpki", Some("R1")).await;
    assert_eq!((v["error"]["code"].as_str(), v["error"]["found"].as_str()), (Some("wrong_card"), Some("jpki")), "{v}");

    // Two patients' cards, no reader named: which readers, and to leave one.
    let two = MemReaders::with_readers(&["R0", "R1"]);
    two.insert("R0", jpki_identity(0).card());
    two.insert("R1", jpki_identity(1).card());
    let app = app_over(two.clone(), 10);
    let (id, v) = start_consent(&app, "jpki", None).await;
    assert_eq!(v["error"]["code"], "several_cards", "{v}");
    assert_eq!(v["error"]["readers"], serde_json::json!(["R0", "R1"]));
    let ja = page(&app, &id, "ja").await;
    assert!(
        ja.contains("マイナンバーカードが 2 台のカードリーダー（R0、R1）に入っていて")
            && ja.contains("ほかのカードを抜いて"),
        "{ja}"
    );

    // Pulled out while the password is asked for: the password is not used, nothing signed.
    let one = MemReaders::with_readers(&["R0"]);
    let card = one.insert("R0", jpki_identity(1).card());
    let app = app_over(one.clone(), 10);
    let (id, v) = start_consent(&app, "jpki", None).await;
    assert_eq!(v["status"], "pin_required", "{v}");
    one.remove("R0");
    let token = page_token(&app, &id).await;
    let form = format!("token={token}&pin=sign1234&action=sign");
    call(&app, post_form(&format!("/pin/{id}"), OWN, &form)).await;
    assert_eq!(final_state(&app, &id).await["error"]["code"], "card_removed");
    let ja = page(&app, &id, "ja").await;
    assert!(ja.contains("カードが抜かれました") && ja.contains("文書には署名されていません。"), "{ja}");
    assert_eq!(card.lock().unwrap().stats().signatures, 0);
}

/// The My Number card's signing password is 6 to 16 letters and digits: the field says so (and the browser checks
/// its pattern); a password posted in another format is not sent to the card, spends no try, and the page asks
/// for it again; the operation still waits, and the right password then signs.
#[tokio::test]
async fn a_signing_password_in_the_wrong_format_is_asked_again_without_spending_a_try() {
    let (app, readers) = app();
    let (id, v) = start_consent(&app, "jpki", None).await;
    assert_eq!((v["status"].as_str(), v["tries_left"].as_u64()), (Some("pin_required"), Some(5)), "{v}");
    let form = call(&app, get(&format!("/pin/{id}"), None)).await.2;
    for want in ["（英数字 6〜16 文字）", "minlength=\"6\"", "maxlength=\"16\"", "pattern=\"[A-Za-z0-9]{6,16}\""]
    {
        assert!(form.contains(want), "{want}: {form}");
    }
    assert!(!form.contains("inputmode=\"numeric\""), "{form}");
    let token = page_token(&app, &id).await;
    for bad in ["abc12", "abc-1234", "%E3%81%82bc1234", "A23456789012345678"] {
        let (status, _, page) =
            call(&app, post_form(&format!("/pin/{id}"), OWN, &format!("token={token}&pin={bad}&action=sign"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(page.contains("入力の形式が違います") && page.contains("残り回数は減っていません"), "{page}");
        assert!(page.contains(&format!("href=\"/pin/{id}?lang=ja\"")), "{page}");
    }
    let v = json(&call(&app, get(&format!("/v1/sign/{id}?wait=0"), Some(PORTAL))).await.2);
    assert_eq!((v["status"].as_str(), v["tries_left"].as_u64()), (Some("pin_required"), Some(5)), "{v}");
    let form = format!("token={token}&pin=sign1234&action=sign");
    assert_eq!(call(&app, post_form(&format!("/pin/{id}"), OWN, &form)).await.0, StatusCode::SEE_OTHER);
    assert_eq!(final_state(&app, &id).await["status"], "done");
    drop(readers);
}

/// The attack: a page of an allowed origin asks for an identification (the patient reads 受付での本人確認 and types
/// the PIN) to use the signature as a login, or the reverse. The purpose is bound into what the card signs: the
/// identification's signature verifies only over the identification message, never over the login message the
/// portal checks a login against (sso's `CardVerifier::verify_as` rebuilds the message of what it checks). The
/// page speaks the portal's language (`lang`), even over an earlier patient's cookie on the same PC.
#[tokio::test]
async fn an_identification_is_named_on_the_page_and_signs_its_own_message_only() {
    let (app, _readers) = app();
    let challenge = [9u8; 32];
    let body = format!(
        r#"{{"challenge":"{}","kind":"jpki","purpose":"identification","lang":"en"}}"#,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(challenge)
    );
    let (status, _, body) = call(&app, post_json("/v1/sign", PORTAL, &body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = json(&body)["id"].as_str().unwrap().to_owned();
    let v = json(&call(&app, get(&format!("/v1/sign/{id}?wait=10"), Some(PORTAL))).await.2);
    assert_eq!(v["status"], "pin_required", "{v}");
    let stale = get_with(&format!("/pin/{id}"), ("cookie", "hcpki_agent_lang=ja"));
    let (_, _, page) = call(&app, stale).await;
    assert!(page.contains("<html lang=\"en\">") && page.contains("Confirming who you are at reception"), "{page}");
    assert!(!page.contains("Logging in"), "{page}");
    let (_, _, ja) = call(&app, get(&format!("/pin/{id}?lang=ja"), None)).await;
    assert!(ja.contains("受付での本人確認（ログインではありません）"), "the switch still works: {ja}");

    let token = page_token(&app, &id).await;
    let form = format!("token={token}&pin=1234&action=sign&lang=en");
    let (status, headers, _) = call(&app, post_form(&format!("/pin/{id}"), OWN, &form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], format!("/pin/{id}?lang=en"), "the language is kept through the post");
    let v = final_state(&app, &id).await;
    assert_eq!(v["status"], "done", "{v}");
    let (chain, signature) = signed(&v);
    let identification = hcpki_agent_protocol::AuthPurpose::Identification.message(PORTAL, &challenge);
    verify(&chain, &identification, &signature);
    let as_login = std::panic::catch_unwind(|| verify(&chain, &login_message(PORTAL, &challenge), &signature));
    assert!(as_login.is_err(), "an identification's signature must not verify as a login");
}

/// D130 item 3, a consent given with the 4-digit user PIN: only through `POST /v1/documents` with `role: "auth"`,
/// over a patient's statement the agent shows (never through `/v1/sign`, where nothing is shown; never a bare
/// document, an HPKI card or a missing challenge), with the page saying "agree" and asking for the 4-digit PIN.
/// The card signs the consent's message over the challenge and the SHA-256 of the document shown: it verifies
/// there, and neither as a login nor over another document.
#[tokio::test]
async fn a_consent_by_the_user_pin_agrees_only_to_the_document_shown() {
    use hcpki_agent_protocol::AuthPurpose;
    use hcpki_agent_protocol::purpose::consent_challenge;
    use sha2::Digest as _;
    let (app, _readers) = app();
    let b64 = base64::engine::general_purpose::STANDARD;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let challenge = [5u8; 32];
    let (_, pdf) = super::pin_page::tests::consent_pdf(crate::document::StatementKind::Consent);
    let request = |content: &[u8], kind: &str, challenge: Option<&[u8]>| {
        let mut r = serde_json::json!({
            "format": "pades", "title": "同意書", "content": b64.encode(content), "kind": kind, "role": "auth",
        });
        if let Some(c) = challenge {
            r["challenge"] = url.encode(c).into();
        }
        r.to_string()
    };

    let via_sign = format!(r#"{{"challenge":"{}","kind":"jpki","purpose":"consent"}}"#, url.encode(challenge));
    let (status, _, body) = call(&app, post_json("/v1/sign", PORTAL, &via_sign)).await;
    assert_eq!(
        (status, json(&body)["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("consent_needs_document"))
    );
    for (refused, code) in [
        (request(&pdf, "jpki", None), "bad_challenge"),
        (request(&pdf, "jpki", Some(&[1u8; 3])), "bad_challenge"),
        (request(b"%PDF-1.7 no statement", "jpki", Some(&challenge)), "bad_document"),
        (request(&pdf, "hpki", Some(&challenge)), "bad_document"),
    ] {
        let (status, _, body) = call(&app, post_json("/v1/documents", PORTAL, &refused)).await;
        assert_eq!((status, json(&body)["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{body}");
    }

    let (status, _, body) =
        call(&app, post_json("/v1/documents", PORTAL, &request(&pdf, "jpki", Some(&challenge)))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = json(&body)["id"].as_str().unwrap().to_owned();
    let v = json(&call(&app, get(&format!("/v1/sign/{id}?wait=10"), Some(PORTAL))).await.2);
    assert_eq!((v["status"].as_str(), v["role"].as_str()), (Some("pin_required"), Some("auth")), "{v}");
    let (_, _, page) = call(&app, get(&format!("/pin/{id}?lang=ja"), None)).await;
    assert!(
        page.contains("診療情報の共有に関する同意書") && page.contains("利用者証明用暗証番号（数字4桁）"),
        "{page}"
    );
    assert!(page.contains(">同意する<") && !page.contains("署名用パスワード"), "{page}");
    let token = page_token(&app, &id).await;
    let form = format!("token={token}&pin=1234&action=sign&lang=ja");
    assert_eq!(call(&app, post_form(&format!("/pin/{id}"), OWN, &form)).await.0, StatusCode::SEE_OTHER);
    let v = final_state(&app, &id).await;
    assert_eq!(v["status"], "done", "{v}");
    assert!(v["result"].get("document").is_none(), "nothing is added to the document: {v}");
    let (_, _, done) = call(&app, get(&format!("/pin/{id}?lang=ja"), None)).await;
    assert!(done.contains("同意しました"), "{done}");
    let (chain, signature) = signed(&v);
    let sha: [u8; 32] = sha2::Sha256::digest(&pdf).into();
    verify(&chain, &AuthPurpose::Consent.message(PORTAL, &consent_challenge(&challenge, &sha)), &signature);
    for wrong in [
        login_message(PORTAL, &challenge),
        AuthPurpose::Consent.message(PORTAL, &consent_challenge(&challenge, &[0; 32])),
    ] {
        let other = std::panic::catch_unwind(|| verify(&chain, &wrong, &signature));
        assert!(other.is_err(), "the consent's answer must verify over its own message only");
    }
}

/// The API over one JPKI card in an emulated PIN-pad reader (`testkit`: no PIN-pad reader runs here) where the
/// person does `keys`, with the agent's `pin_pad` set to `pad_use`.
fn app_with_pad(keys: Option<crate::transport::func::PadKeys>, pad_use: crate::pin_pad::PadUse) -> Router {
    let readers = MemReaders::with_readers(&["R0"]);
    readers.insert("R0", jpki_identity(0).card());
    if let Some(keys) = keys {
        readers.with_pin_pad("R0", keys);
    }
    let broker: Arc<dyn CardService> = Arc::new(Broker::new(readers).with_pin_pad(pad_use));
    let mut config =
        AgentConfig { allowed_origins: vec![PORTAL.into()], pin_timeout_secs: 10, ..AgentConfig::default() };
    config.validate().unwrap();
    router(AppState::new(broker, &config, HOST.parse().unwrap(), None))
}

/// Issue #45 item 7: a reader with a PIN pad takes the PIN on its pad. The operation says `on_pad`, the agent's page
/// says where to type and has no PIN field, and the operation finishes without the page posting anything: the
/// reader completed the VERIFY. A wrong PIN, the cancel key, a PIN of the wrong length and a pad left alone end
/// as the page's own ends; `pin_pad = "require"` refuses a reader without a pad; `off` keeps the page's form.
#[tokio::test]
async fn a_pin_pad_reader_takes_the_pin_on_its_pad_and_the_page_asks_for_nothing() {
    use crate::pin_pad::PadUse;
    use crate::transport::func::PadKeys;
    let challenge = [3u8; 32];
    let login = format!(
        r#"{{"challenge":"{}","kind":"jpki","purpose":"identification","lang":"ja"}}"#,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(challenge)
    );
    let start = |app: Router| {
        let login = login.clone();
        async move {
            let (status, _, body) = call(&app, post_json("/v1/sign", PORTAL, &login)).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
            (app, json(&body)["id"].as_str().unwrap().to_owned())
        }
    };

    let (app, id) = start(app_with_pad(Some(PadKeys::Type("1234".into())), PadUse::Prefer)).await;
    let v = final_state(&app, &id).await;
    assert_eq!(v["status"], "done", "the reader verified the PIN, the page posted nothing: {v}");
    let (chain, signature) = signed(&v);
    verify(&chain, &hcpki_agent_protocol::AuthPurpose::Identification.message(PORTAL, &challenge), &signature);

    for (keys, code) in [
        (PadKeys::Type("9999".into()), "wrong_pin"),
        (PadKeys::Cancel, "cancelled"),
        (PadKeys::Type("12345".into()), "bad_pin_format"),
        (PadKeys::Nothing, "pin_timeout"),
    ] {
        let (app, id) = start(app_with_pad(Some(keys.clone()), PadUse::Prefer)).await;
        let v = final_state(&app, &id).await;
        assert_eq!((v["status"].as_str(), v["error"]["code"].as_str()), (Some("failed"), Some(code)), "{keys:?}: {v}");
    }
    let (app, id) = start(app_with_pad(None, PadUse::Require)).await;
    let v = final_state(&app, &id).await;
    assert_eq!(v["error"]["code"], "no_pin_pad", "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("pin_pad"), "{v}");

    // `off`: the pad is left alone, the page's form asks.
    let (app, id) = start(app_with_pad(Some(PadKeys::Cancel), PadUse::Off)).await;
    let v = json(&call(&app, get(&format!("/v1/sign/{id}?wait=10"), Some(PORTAL))).await.2);
    assert_eq!((v["status"].as_str(), v["on_pad"].as_bool()), (Some("pin_required"), Some(false)), "{v}");
    let (_, _, page) = call(&app, get(&format!("/pin/{id}"), None)).await;
    assert!(page.contains("name=\"pin\""), "{page}");
}

/// Signing sessions and batches (D163).
mod session;
