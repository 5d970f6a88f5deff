//! Signing sessions and batches (issue #48 item 3, D163) through the router, over the virtual HPKI card: one PIN
//! then confirmed signatures up to N; another page, sign-in or origin refused; a batch confirmed once and each
//! document signed; a card pulled mid-batch and a PIN blocked meanwhile end it. The timer is the core's
//! (`signing_session::tests`, the clock passed in): nobody waits 18 hours here.

use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::service::{DeriveToBeSigned, DocumentSignRequest, PinPrompt, Signed};
use crate::signing_session::Limits;

const OTHER: &str = "https://other.example";

fn binding(c: char) -> String {
    c.to_string().repeat(43)
}

/// The API over one HPKI card (reader R0), sessions of at most `max_signatures`; `pull_after`: the card leaves
/// its reader after that many document signatures (the person pulls it mid-batch).
fn hpki_app(
    max_signatures: u32,
    pull_after: Option<u32>,
) -> (Router, MemReaders, Arc<std::sync::Mutex<hcpki_vcard::card::VirtualCard>>) {
    let readers = MemReaders::with_readers(&["R0"]);
    let card = readers.insert("R0", hpki_identity().card());
    let broker = Broker::new(readers.clone());
    let service: Arc<dyn CardService> = match pull_after {
        Some(after) => {
            Arc::new(PullsCard { inner: broker, readers: readers.clone(), after, signed: AtomicU32::new(0) })
        }
        None => Arc::new(broker),
    };
    let mut config = AgentConfig {
        allowed_origins: vec![PORTAL.into(), OTHER.into()],
        pin_timeout_secs: 10,
        signing_session: Limits { max_signatures, max_hours: 18 },
        ..AgentConfig::default()
    };
    config.validate().unwrap();
    (router(AppState::new(service, &config, HOST.parse().unwrap(), None)), readers, card)
}

/// The real broker; the person takes the card out after `after` document signatures.
struct PullsCard {
    inner: Broker,
    readers: MemReaders,
    after: u32,
    signed: AtomicU32,
}

impl CardService for PullsCard {
    fn readers(&self) -> Result<Vec<crate::service::ReaderInfo>, crate::service::AgentError> {
        self.inner.readers()
    }
    fn sign(&self, r: &crate::service::SignRequest, p: &dyn PinPrompt) -> Result<Signed, crate::service::AgentError> {
        self.inner.sign(r, p)
    }
    fn sign_document(
        &self,
        request: &DocumentSignRequest,
        pin: &dyn PinPrompt,
        derive: &mut DeriveToBeSigned<'_>,
    ) -> Result<Signed, crate::service::AgentError> {
        let out = self.inner.sign_document(request, pin, derive);
        if self.signed.fetch_add(1, Ordering::SeqCst) + 1 == self.after {
            self.readers.remove("R0");
        }
        out
    }
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::service::CardEvent> {
        self.inner.subscribe()
    }
}

fn doc(n: usize) -> serde_json::Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    serde_json::json!({"format": "cades", "title": format!("処方箋 {n}"), "content": b64.encode(format!("Rp {n}\n"))})
}

/// Starts a document signature (`path`, `body` with kind hpki) from `origin`: the status code and the answer.
async fn start(app: &Router, origin: &str, path: &str, mut body: serde_json::Value) -> (StatusCode, serde_json::Value) {
    body["kind"] = "hpki".into();
    let (status, _, answer) = call(app, post_json(path, origin, &body.to_string())).await;
    (status, json(&answer))
}

/// Waits for the page's question, answers it (`form`: the PIN, or a click), and returns the final state.
async fn answer(app: &Router, id: &str, form: &str) -> serde_json::Value {
    let v = json(&call(app, get(&format!("/v1/sign/{id}?wait=10&seen=running"), Some(PORTAL))).await.2);
    assert_eq!(v["status"], "pin_required", "{v}");
    let token = page_token(app, id).await;
    let posted = call(app, post_form(&format!("/pin/{id}"), OWN, &format!("token={token}&{form}"))).await;
    assert_eq!(posted.0, StatusCode::SEE_OTHER, "{}", posted.2);
    final_state(app, id).await
}

fn check_p7s(file: &serde_json::Value, n: usize) {
    let p7s = base64::engine::general_purpose::STANDARD.decode(file["content"].as_str().unwrap()).unwrap();
    hcpki_docsig::signature::cades::verify(&p7s, format!("Rp {n}\n").as_bytes()).unwrap();
}

/// One PIN, then N−1 signatures each shown and confirmed by a click (no PIN field, a PIN posted there unused);
/// the N-th is the last; another tab (no key) is asked for the PIN, another sign-in or origin is refused and ends
/// the session; logout ends it.
#[tokio::test]
async fn a_signing_session_signs_up_to_n_documents_after_one_pin_each_confirmed() {
    let (app, _readers, card) = hpki_app(250, None);
    let opening = serde_json::json!({"session": {"binding": binding('a'), "max_signatures": 3}});
    let mut body = doc(1);
    body["session"] = opening["session"].clone();
    let (status, v) = start(&app, PORTAL, "/v1/documents", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let _ = call(&app, get(&format!("/v1/sign/{id}?wait=10&seen=running"), Some(PORTAL))).await;
    let page = call(&app, get(&format!("/pin/{id}"), None)).await.2;
    assert!(
        page.contains("署名セッションを開始します") && page.contains("3 件目まで") && page.contains("name=\"pin\""),
        "{page}"
    );
    let v = answer(&app, &id, "pin=hpki1234&action=sign").await;
    assert_eq!(v["status"], "done", "{v}");
    let signing = &v["result"]["document"]["signing"];
    assert_eq!(
        (signing["mode"].as_str(), signing["n"].as_u64(), signing["of"].as_u64()),
        (Some("session"), Some(1), Some(3)),
        "{v}"
    );
    check_p7s(&v["result"]["document"], 1);
    let key = signing["key"].as_str().unwrap().to_owned();
    let continuing = |c: char, key: &str| serde_json::json!({"binding": binding(c), "key": key});

    // The second: a click, no PIN; a PIN posted with it is not used.
    let mut body = doc(2);
    body["session"] = continuing('a', &key);
    let (status, v) = start(&app, PORTAL, "/v1/documents", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let asked = json(&call(&app, get(&format!("/v1/sign/{id}?wait=10&seen=running"), Some(PORTAL))).await.2);
    assert_eq!((asked["status"].as_str(), asked["confirm"].as_bool()), (Some("pin_required"), Some(true)), "{asked}");
    for (lang, want) in [("ja", "署名セッション: 2 件目 / 3 件"), ("en", "Signing session: signature 2 of 3")]
    {
        let page = call(&app, get(&format!("/pin/{id}?lang={lang}"), None)).await.2;
        assert!(page.contains(want) && page.contains("処方箋 2") && !page.contains("name=\"pin\""), "{page}");
    }
    let v = answer(&app, &id, "pin=wrong999&action=sign").await;
    assert_eq!(v["result"]["document"]["signing"]["n"], 2, "{v}");
    assert!(v["result"]["document"]["signing"].get("key").is_none(), "the key goes to the opening page only");
    check_p7s(&v["result"]["document"], 2);

    // Another tab has no key: it is asked for the PIN as always (and cancels).
    let (_, v) = start(&app, PORTAL, "/v1/documents", doc(9)).await;
    let id = v["id"].as_str().unwrap().to_owned();
    let asked = json(&call(&app, get(&format!("/v1/sign/{id}?wait=10&seen=running"), Some(PORTAL))).await.2);
    assert_eq!(asked["confirm"], false, "{asked}");
    call(&app, post_json(&format!("/v1/sign/{id}/cancel"), PORTAL, "")).await;

    // The third is the last of N = 3; the fourth is refused, used up.
    let mut body = doc(3);
    body["session"] = continuing('a', &key);
    let (_, v) = start(&app, PORTAL, "/v1/documents", body).await;
    let v = answer(&app, v["id"].as_str().unwrap(), "action=sign").await;
    assert_eq!(
        (v["result"]["document"]["signing"]["n"].as_u64(), v["result"]["document"]["signing"]["of"].as_u64()),
        (Some(3), Some(3))
    );
    let mut body = doc(4);
    body["session"] = continuing('a', &key);
    let (status, v) = start(&app, PORTAL, "/v1/documents", body).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("session_used_up")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("enter the signature PIN"), "{v}");
    assert_eq!(card.lock().unwrap().stats().signatures, 3);

    // A session used from another sign-in (another browser's portal session) or another origin: refused, ended.
    for (origin, c) in [(PORTAL, 'b'), (OTHER, 'a')] {
        let key = open_session(&app).await;
        let mut body = doc(5);
        body["session"] = continuing(c, &key);
        let (status, v) = start(&app, origin, "/v1/documents", body).await;
        assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("session_not_yours")), "{v}");
        let mut body = doc(5);
        body["session"] = continuing('a', &key);
        let (_, v) = start(&app, PORTAL, "/v1/documents", body).await;
        assert_eq!(v["error"]["code"], "session_ended", "ended by the misuse: {v}");
    }
    // Logout: the page ends its sessions.
    let key = open_session(&app).await;
    let (_, _, ended) =
        call(&app, post_json("/v1/signing-session/end", PORTAL, &format!(r#"{{"binding":"{}"}}"#, binding('a')))).await;
    assert_eq!(json(&ended)["ended"], 1);
    let mut body = doc(6);
    body["session"] = continuing('a', &key);
    assert_eq!(start(&app, PORTAL, "/v1/documents", body).await.1["error"]["code"], "session_ended");
}

/// A signature with the PIN that opens a session of the default limits; its key.
async fn open_session(app: &Router) -> String {
    let mut body = doc(0);
    body["session"] = serde_json::json!({"binding": binding('a')});
    let (_, v) = start(app, PORTAL, "/v1/documents", body).await;
    let v = answer(app, v["id"].as_str().unwrap(), "pin=hpki1234&action=sign").await;
    assert_eq!(v["result"]["document"]["signing"]["of"], 250, "{v}");
    v["result"]["document"]["signing"]["key"].as_str().unwrap().to_owned()
}

/// A batch: every document listed on one page, one PIN, each signed on its own and named "n of m"; inside a session
/// one click, each counted. A card pulled after the first document: the batch fails and hands out nothing, the
/// session ends. A PIN blocked meanwhile ends the session with the page's words. Sessions off (0): no key.
#[tokio::test]
async fn a_batch_is_confirmed_once_and_a_pulled_card_or_blocked_pin_ends_the_session() {
    let (app, _readers, card) = hpki_app(250, None);
    let batch = serde_json::json!({"documents": [doc(1), doc(2), doc(3)]});
    let (status, v) = start(&app, PORTAL, "/v1/documents/batch", batch).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let _ = call(&app, get(&format!("/v1/sign/{id}?wait=10&seen=running"), Some(PORTAL))).await;
    let page = call(&app, get(&format!("/pin/{id}"), None)).await.2;
    for want in ["3 件の文書に電子署名します", "文書 1 / 3", "文書 3 / 3", "処方箋 2", "name=\"pin\""]
    {
        assert!(page.contains(want), "{want}: {page}");
    }
    let v = answer(&app, &id, "pin=hpki1234&action=sign").await;
    let files = v["result"]["documents"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{v}");
    for (i, file) in files.iter().enumerate() {
        assert_eq!(
            (file["signing"]["mode"].as_str(), file["signing"]["item"].as_u64()),
            (Some("batch"), Some(i as u64 + 1))
        );
        check_p7s(file, i + 1);
    }
    assert_eq!(card.lock().unwrap().stats().signatures, 3, "each document its own signature");

    // Inside a session: one click for the batch, each counted.
    let key = open_session(&app).await;
    let batch = serde_json::json!({"documents": [doc(1), doc(2)], "session": {"binding": binding('a'), "key": key}});
    let (_, v) = start(&app, PORTAL, "/v1/documents/batch", batch).await;
    let v = answer(&app, v["id"].as_str().unwrap(), "action=sign").await;
    let counts: Vec<_> =
        v["result"]["documents"].as_array().unwrap().iter().map(|f| f["signing"]["session"]["n"].as_u64()).collect();
    assert_eq!(counts, [Some(2), Some(3)], "{v}");

    // The PIN blocked meanwhile (wrong PINs typed in another request): the session's next signature fails with the
    // page's words, and the session is gone.
    for _ in 0..20 {
        let mut body = doc(7);
        body["allow_last_try"] = true.into();
        let (_, v) = start(&app, PORTAL, "/v1/documents", body).await;
        let v = answer(&app, v["id"].as_str().unwrap(), "pin=wrong999&action=sign&confirm_last_try=yes").await;
        if v["error"]["code"] == "pin_blocked" {
            break;
        }
    }
    let mut body = doc(8);
    body["session"] = serde_json::json!({"binding": binding('a'), "key": key});
    let (status, v) = start(&app, PORTAL, "/v1/documents", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let v = final_state(&app, &id).await;
    assert_eq!(v["error"]["code"], "pin_blocked", "{v}");
    let page = call(&app, get(&format!("/pin/{id}"), None)).await.2;
    assert!(page.contains("PIN がロックされています") && page.contains("文書には署名されていません。"), "{page}");
    let mut body = doc(8);
    body["session"] = serde_json::json!({"binding": binding('a'), "key": key});
    assert_eq!(start(&app, PORTAL, "/v1/documents", body).await.1["error"]["code"], "session_ended");

    // Pulled after the first document of a batch inside a session: nothing handed out, the session ended.
    let (app, _readers, _) = hpki_app(250, Some(2));
    let key = open_session(&app).await;
    let batch = serde_json::json!({"documents": [doc(1), doc(2)], "session": {"binding": binding('a'), "key": key}});
    let (_, v) = start(&app, PORTAL, "/v1/documents/batch", batch).await;
    let v = answer(&app, v["id"].as_str().unwrap(), "action=sign").await;
    assert_eq!(v["status"], "failed", "{v}");
    assert!(matches!(v["error"]["code"].as_str(), Some("no_card" | "card_removed")), "{v}");
    assert!(v.get("result").is_none());
    let mut body = doc(3);
    body["session"] = serde_json::json!({"binding": binding('a'), "key": key});
    assert_eq!(start(&app, PORTAL, "/v1/documents", body).await.1["error"]["code"], "session_ended");

    // Off (0): the PIN opens nothing.
    let (app, _readers, _) = hpki_app(0, None);
    let mut body = doc(1);
    body["session"] = serde_json::json!({"binding": binding('a')});
    let (_, v) = start(&app, PORTAL, "/v1/documents", body).await;
    let v = answer(&app, v["id"].as_str().unwrap(), "pin=hpki1234&action=sign").await;
    assert_eq!(v["result"]["document"]["signing"], serde_json::json!({"mode": "single"}), "{v}");
}
