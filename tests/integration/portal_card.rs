//! A physician's whole day, end to end, with nothing mocked but the card itself: the facility PC's mutual TLS
//! certificate, an HPKI card (virtual, behind the real pcscd) signing through the real `hcpki-agent`, the
//! portal's card login (challenge, verification, session), two relying services opened without a second tap
//! (authorization code + PKCE, tokens carrying who, qualified as what, for which facility), and the card
//! removed: the session ends for every service. A JPKI (My Number) card goes the same way and opens only the
//! service that accepts identity-only logins. The browser is played by curl, making the page scripts' requests
//! one by one; `browser.rs` runs the same journey in headless Chromium with the scripts themselves.

use crate::agent::{self, hpki, jpki};
use crate::harness::Backend;
use crate::oidc::{self, Portal, REDIRECT, Rp};
use crate::pcsc_lock::pcsc_lock;
use base64::Engine as _;
use serde_json::Value;

on_both_backends!(
    card_login_opens_every_service_once_and_card_removal_ends_it,
    card_login_for_a_service_hands_the_presence_token_over_before_going_back,
    card_login_across_two_replicas_one_signature_and_logout_ends_it_on_both,
    jpki_card_opens_only_identity_services_and_is_refused_qualified_ones,
);

pub(crate) const PIN: &str = "hpki1234";
/// The EMR client's redirect URI (registered by `oidc::Portal`).
const EMR: &str = "http://127.0.0.1:9/emr";

/// A card in the reader as the login page sees it: the button pressed for it (`kind`) and its PIN.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Button {
    kind: &'static str,
    pin: &'static str,
}

/// The virtual HPKI card ([`hpki`]).
pub(crate) const HPKI: Button = Button { kind: "hpki", pin: PIN };
/// The virtual JPKI card ([`jpki`]): its authentication PIN.
pub(crate) const JPKI: Button = Button { kind: "jpki", pin: "1234" };

/// What every card login's ID token says of how the person logged in (RFC 8176): a smart card, a
/// hardware-held key, its PIN, so more than one factor. The facility certificate is not the person's method; it
/// is in `acr` (docs/portal.md).
const CARD_AMR: [&str; 4] = ["sc", "hwk", "pin", "mfa"];
/// The `acr` of a card login on a facility PC's connection.
const CARD_AT_FACILITY_ACR: &str = "urn:hcpki:acr:card-pin-facility-mtls";

/// A portal whose card login trusts the virtual cards' HPKI and JPKI CAs and whose pages talk to the card agent
/// at `agent_origin`.
pub(crate) fn card_portal(b: Backend, agent_origin: &str) -> Portal {
    // Card presence leases (D26) on, long enough for any test, so the home page carries a presence token.
    card_portal_with(b, agent_origin, "card_presence_secs = 600\n", |_| ())
}

/// [`card_portal`] with more `[portal]` settings (`extra`) and more set-up before the server starts.
pub(crate) fn card_portal_with(
    b: Backend,
    agent_origin: &str,
    extra: &str,
    before_serve: impl FnOnce(&crate::harness::Hcpki),
) -> Portal {
    card_portal_in(crate::harness::Hcpki::initialized(b), agent_origin, extra, before_serve)
}

/// [`card_portal_with`] on an initialized installation `h` (e.g. one that logs everything).
pub(crate) fn card_portal_in(
    h: crate::harness::Hcpki,
    agent_origin: &str,
    extra: &str,
    before_serve: impl FnOnce(&crate::harness::Hcpki),
) -> Portal {
    let cert_named = |identity: &hcpki_vcard::identity::Identity, name: &str| {
        identity.certificates().into_iter().find(|(n, _)| *n == name).unwrap().1.to_vec()
    };
    let (root, intermediate) = (cert_named(hpki(), "root-ca"), cert_named(hpki(), "authentication-ca"));
    let jpki_root = cert_named(jpki(), "auth-ca");
    // No CRL of the test HPKI CAs is published here: revocation of card logins is covered by card_login::*;
    // the card tests run fail-open (the audit entry says so).
    let extra = format!(
        "card_agent = \"{agent_origin}\"\n{extra}[login]\nhpki_anchors = [\"hpki-root.der\"]\n\
         jpki_anchors = [\"jpki-root.der\"]\nintermediates = [\"hpki-auth-ca.der\"]\nrevocation = \"fail-open\"\n"
    );
    Portal::start_in(h, &extra, |h| {
        std::fs::write(h.dir().join("hpki-root.der"), &root).unwrap();
        std::fs::write(h.dir().join("hpki-auth-ca.der"), &intermediate).unwrap();
        std::fs::write(h.dir().join("jpki-root.der"), &jpki_root).unwrap();
        before_serve(h);
    })
}

/// What card-login.js does with the login page's CSRF token `csrf`: a challenge for this browser, signed by the
/// HPKI card through `agent` after the PIN (typed in the agent's own page). The challenge and the agent's answer.
pub(crate) fn signed_challenge(pc: &impl PortalBrowser, agent: &agent::Served, csrf: &str) -> (String, Value) {
    signed_challenge_by(pc, agent, csrf, HPKI)
}

/// [`signed_challenge`] by the card of `button`.
fn signed_challenge_by(pc: &impl PortalBrowser, agent: &agent::Served, csrf: &str, button: Button) -> (String, Value) {
    let challenge = card_challenge(pc, csrf);
    let done = card_signs(agent, &challenge, button);
    (challenge, done)
}

/// The card signs `challenge` through `agent` after the PIN (typed in the agent's own page): its answer.
pub(crate) fn card_signs(agent: &agent::Served, challenge: &str, button: Button) -> Value {
    let done = agent.sign_with(button.kind, challenge, button.pin, || {});
    assert_eq!(done["status"], "done", "{done}");
    done
}

/// A browser on a portal as the login page's script drives it: it posts a form to a path of the portal, from
/// the portal's origin, with its own cookies. [`Portal`] is one; `demo`'s curl browser at the demo's portal is
/// another.
pub(crate) trait PortalBrowser {
    /// Posts `form` to `path` of the portal.
    fn post_page_form(&self, path: &str, form: &[(&str, &str)]) -> crate::oidc::Reply;
}

impl PortalBrowser for Portal {
    fn post_page_form(&self, path: &str, form: &[(&str, &str)]) -> crate::oidc::Reply {
        self.submit(path, form, None)
    }
}

/// The login page's request for a card-login challenge, with its CSRF token `csrf`: the challenge.
pub(crate) fn card_challenge(pc: &impl PortalBrowser, csrf: &str) -> String {
    let r = pc.post_page_form("/login/card/challenge", &[("csrf", csrf)]);
    assert_eq!(r.status, 200, "{r:?}");
    let issued: Value = serde_json::from_str(&r.body).unwrap();
    issued["challenge"].as_str().unwrap().to_owned()
}

/// The login form's post of the HPKI card's answer `done` to `challenge`.
pub(crate) fn post_login(pc: &impl PortalBrowser, csrf: &str, challenge: &str, done: &Value) -> crate::oidc::Reply {
    post_login_by(pc, csrf, challenge, done, HPKI)
}

/// [`post_login`] after the button of `button`.
fn post_login_by(
    pc: &impl PortalBrowser,
    csrf: &str,
    challenge: &str,
    done: &Value,
    button: Button,
) -> crate::oidc::Reply {
    let chain: Vec<&str> = done["result"]["chain"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let form = [
        ("csrf", csrf),
        ("challenge_id", challenge),
        ("kind", button.kind),
        ("signature", done["result"]["signature"].as_str().unwrap()),
        ("chain", &chain.join(",")),
        ("card_id", done["result"]["card_id"].as_str().unwrap()),
    ];
    pc.post_page_form("/login/card", &form)
}

/// A whole HPKI card login in the browser `pc` through `agent`: the session's card id and home page.
pub(crate) fn card_session(pc: &Portal, agent: &agent::Served) -> (String, crate::oidc::Reply) {
    card_session_by(pc, agent, HPKI)
}

/// [`card_session`] with the card of `button`.
fn card_session_by(pc: &Portal, agent: &agent::Served, button: Button) -> (String, crate::oidc::Reply) {
    card_session_across(pc, pc, agent, button)
}

/// A card login with the login page and the challenge from `challenger` and the card's answer posted to
/// `verifier`: one browser (one cookie jar) whose requests two replicas answer. The home page is `verifier`'s.
pub(crate) fn card_session_across(
    challenger: &Portal,
    verifier: &Portal,
    agent: &agent::Served,
    button: Button,
) -> (String, crate::oidc::Reply) {
    let csrf = field(&challenger.get("/login").body, "csrf");
    let (challenge, done) = signed_challenge_by(challenger, agent, &csrf, button);
    let r = post_login_by(verifier, &csrf, &challenge, &done, button);
    // Signed in, straight to the home page (D64), which hands the agent the session's presence token.
    assert_eq!((r.status, r.location.clone()), (303, format!("{}/", verifier.issuer)), "{r:?}");
    let home = verifier.get("/");
    assert_eq!(home.status, 200, "{home:?}");
    assert!(home.body.contains("data-presence="), "{home:?}");
    (done["result"]["card_id"].as_str().unwrap().to_owned(), home)
}

/// The `/authorize` request (code + PKCE S256 with `verifier`, nonce `n1`) of `client` redirecting to `uri`.
pub(crate) fn authorize_path(client: &str, uri: &str, verifier: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id={client}&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256&nonce=n1",
        oidc::enc(uri),
        oidc::challenge(verifier)
    )
}

/// A service opened from the session of browser `pc`: `client`'s authorization answered with a code at once
/// (no login, no card), redeemed at `token_at` with `rp`'s assertion. The token response and the ID token's
/// claims.
pub(crate) fn open_service(pc: &Portal, token_at: &Portal, rp: &Rp, client: &str, uri: &str) -> (Value, Value) {
    let verifier = "v".repeat(64);
    let r = pc.get(&authorize_path(client, uri, &verifier));
    let code = oidc::param(&r.location, "code").unwrap_or_else(|| panic!("{client}: no code: {r:?}"));
    let t = token_at.token(
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", uri), ("code_verifier", &verifier)],
        &rp.assertion_as(token_at, client, 60, None),
    );
    let id_token = t["id_token"].as_str().unwrap_or_else(|| panic!("{client}: {t}"));
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id_token.split('.').nth(1).unwrap()).unwrap();
    let claims = serde_json::from_slice::<Value>(&payload).unwrap();
    (t, claims)
}

/// What card-watch.js posts when the agent reports card `card_id` removed, with the home page's token `csrf`.
pub(crate) fn report_card_removed(pc: &Portal, csrf: &str, card_id: &str) -> crate::oidc::Reply {
    pc.submit("/logout/card-removed", &[("csrf", csrf), ("card_id", card_id)], None)
}

/// The EMR's and the wiki's ID token claims of one card session at `facility`: who, qualified as what, at
/// which facility, and a subject of each service's own.
fn check_card_claims(emr: &Value, wiki: &Value, facility: &str) {
    // How the physician logged in, whatever claims each service lists: card + PIN at a facility PC.
    for c in [emr, wiki] {
        assert_eq!((&c["acr"], &c["amr"]), (&CARD_AT_FACILITY_ACR.into(), &serde_json::json!(CARD_AMR)), "{c}");
    }
    assert_eq!(emr["hc_role"]["code"], "medical-doctor", "{emr}");
    assert_eq!(wiki["facility_id"], facility, "{wiki}");
    // Pairwise subjects are per service: both test clients redirect to 127.0.0.1, yet each service has its own;
    // what they get is never the card's own identifiers.
    assert_ne!(emr["sub"], wiki["sub"], "two services must not share a subject");
    for sub in [&emr["sub"], &wiki["sub"]] {
        assert!(!sub.as_str().unwrap().contains("Test000001"), "{sub}");
    }
}

/// The value of the `data-NAME` attribute in a page.
pub(crate) fn data_attribute(html: &str, name: &str) -> String {
    let value = html.split(&format!("data-{name}=\"")).nth(1).unwrap_or_else(|| panic!("no data-{name} in {html}"));
    value.split('"').next().unwrap().to_owned()
}

/// The home page's words for a card login at a facility PC (Japanese, the default), and its level attribute.
pub(crate) const AT_FACILITY_WORDS: &str = "カードと PIN(施設の PC)";
const AT_FACILITY_LEVEL: &str = "data-assurance=\"card-pin-facility\"";

/// The services a home page lists (`data-service`), in its order.
pub(crate) fn listed_services(html: &str) -> Vec<&str> {
    html.split("data-service=\"").skip(1).map(|rest| rest.split('"').next().unwrap()).collect()
}

pub(crate) fn field(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .map(|r| r.split('"').next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {name} in {html}"))
}

/// A card login a relying service started goes back to it and never shows a portal page, so its answer is the
/// "continuing" page: the session's presence token and card for the agent, then the `/authorize` it came from
/// (a login on the portal itself goes to the home page, which hands the token over; D64).
fn card_login_for_a_service_hands_the_presence_token_over_before_going_back(b: Backend) {
    let agent_port = crate::harness::free_port();
    let p = card_portal(b, &format!("http://127.0.0.1:{agent_port}"));
    let _pcsc = pcsc_lock();
    let agent = agent::Served::start_for(&p.issuer, &format!("127.0.0.1:{agent_port}"));
    let _card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");
    let (_, cert, key) = oidc::issue_pc(&p.h, "Service clinic");
    let pc = p.with_client_cert(cert, key);

    let back = authorize_path("emr", EMR, &"v".repeat(64));
    let page = pc.get(&format!("/login?return_to={}", oidc::enc(&back)));
    assert_eq!(page.status, 200, "{page:?}");
    let csrf = field(&page.body, "csrf");
    let (challenge, done) = signed_challenge(&pc, &agent, &csrf);
    let chain: Vec<&str> = done["result"]["chain"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let form = [
        ("csrf", csrf.as_str()),
        ("challenge_id", &challenge),
        ("kind", "hpki"),
        ("signature", done["result"]["signature"].as_str().unwrap()),
        ("chain", &chain.join(",")),
        ("return_to", &back),
    ];
    let r = pc.submit("/login/card", &form, None);
    assert_eq!(r.status, 200, "{r:?}");
    let card_id = done["result"]["card_id"].as_str().unwrap();
    assert!(r.body.contains(&format!("data-card=\"{card_id}\"")) && r.body.contains("data-presence="), "{r:?}");
    assert!(r.body.contains("data-continue=\"/authorize?response_type=code&amp;client_id=emr&amp;"), "{r:?}");
    assert!(r.body.contains("/static/card-watch.js"), "{r:?}");
    // Where it continues to: the service gets its code with no further card operation.
    let again = pc.get(&back);
    assert!(again.location.starts_with(EMR) && oidc::param(&again.location, "code").is_some(), "{again:?}");
}

fn card_login_opens_every_service_once_and_card_removal_ends_it(b: Backend) {
    let identity = hpki();
    let agent_port = crate::harness::free_port();
    let agent_origin = format!("http://127.0.0.1:{agent_port}");
    let p = card_portal(b, &agent_origin);
    let _pcsc = pcsc_lock();
    let agent = agent::Served::start_for(&p.issuer, &format!("127.0.0.1:{agent_port}"));
    let _card = agent::insert(identity, 0);
    agent.wait_card(0, "hpki");

    // The facility PC's certificate: the portal knows where the physician is.
    let (facility, cert, key) = oidc::issue_pc(&p.h, "Card clinic");
    let pc = p.with_client_cert(cert, key);

    // The login page: the card buttons, its script, the agent it talks to.
    let page = pc.get("/login");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("id=\"card-login\"") && page.body.contains(&agent_origin), "{page:?}");
    assert!(page.body.contains("/static/card-login.js"), "{page:?}");
    assert!(!page.body.contains("id=\"card-off\""), "card login is on: no 'card login is off' notice\n{page:?}");
    let script = pc.get("/static/card-login.js");
    assert!(script.status == 200 && script.body.contains("/login/card/challenge"), "{script:?}");
    let csrf = field(&page.body, "csrf");
    let origin = format!("Origin: {}", p.issuer);

    let login = |csrf: &str| signed_challenge(&pc, &agent, csrf);
    let post = |csrf: &str, challenge: &str, done: &Value| post_login(&pc, csrf, challenge, done);
    // A stale page (wrong CSRF token) gets no challenge.
    let stale =
        pc.curl(&["-H", &origin, "--data-urlencode", "csrf=forged", &format!("{}/login/card/challenge", p.issuer)]);
    assert_eq!(stale.status, 403, "{stale:?}");

    let (challenge, done) = login(&csrf);
    let card_id = done["result"]["card_id"].as_str().unwrap().to_owned();
    let r = post(&csrf, &challenge, &done);
    // Signed in: straight to the home page (D64), whose script hands the agent the session's presence token.
    assert_eq!((r.status, r.location.clone()), (303, format!("{}/", pc.issuer)), "{r:?}");
    // The same signature again: the challenge is spent.
    let page = pc.get("/login");
    let csrf2 = field(&page.body, "csrf");
    let replay = post(&csrf2, &challenge, &done);
    assert_eq!(replay.status, 401, "{replay:?}");
    assert!(replay.body.contains("challenge"), "{replay:?}");

    // Home: card + PIN + facility reaches the EMR as well as the wiki; the page watches the card.
    let home = pc.get("/");
    assert_eq!(home.status, 200, "{home:?}");
    assert_eq!(listed_services(&home.body), ["wiki", "emr"], "{home:?}");
    // The assurance in words for the person, its level for scripts (issue #26: no code shown).
    assert!(home.body.contains(AT_FACILITY_WORDS) && home.body.contains(AT_FACILITY_LEVEL), "{home:?}");
    assert!(home.body.contains("/static/card-watch.js"), "{home:?}");
    assert!(home.body.contains(&format!("data-card=\"{card_id}\"")), "{home:?}");
    assert!(home.body.contains("data-presence="), "{home:?}");

    // Two services, one tap: both authorizations answer with a code at once.
    let rp = Rp::load(&p);
    let (_, emr) = open_service(&pc, &p, &rp, "emr", EMR);
    let (_, wiki) = open_service(&pc, &p, &rp, "rp1", REDIRECT);
    check_card_claims(&emr, &wiki, &facility);

    // The physician's own sessions page (issue #8): how, where and on which PC this session signed in, and
    // the services holding grants from it.
    let own = pc.get("/sessions");
    assert_eq!(own.status, 200, "{own:?}");
    assert!(own.body.contains(AT_FACILITY_WORDS) && own.body.contains(&format!("({facility})")), "{own:?}");
    assert!(own.body.contains("(serial ") && own.body.contains("EMR (emr)"), "{own:?}");
    assert_eq!(own.body.matches("<tr data-session=").count(), 1, "{own:?}");

    let audit = p.h.ok(&["audit", "list", "--limit", "10000"]);
    let logins: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["action"] == "login.card")
        .collect();
    assert_eq!(logins.len(), 2, "{audit}");
    assert_eq!(logins[0]["outcome"], "ok");
    let detail: Value = serde_json::from_str(logins[0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["facility"], facility.as_str(), "{detail}");
    // The home page's decisions, recorded with the login (docs/portal.md): both services, nothing refused.
    assert_eq!(detail["services"], serde_json::json!({ "listed": ["wiki", "emr"], "refused": [] }), "{detail}");
    assert_eq!(logins[1]["outcome"], "denied");

    // The page hands the agent the session's presence token (D26): the agent renews the lease with it
    // while the card is in, and only for that card; no cookie, no page needed.
    let home = pc.get("/");
    let session_csrf = field(&home.body, "csrf");
    let token = data_attribute(&home.body, "presence");
    let presence = |card: &str, event: &str| {
        let (t, c, e) = (format!("token={token}"), format!("card_id={card}"), format!("event={event}"));
        let url = format!("{}/presence", p.issuer);
        p.curl(&["--data-urlencode", &t, "--data-urlencode", &c, "--data-urlencode", &e, &url]).status
    };
    assert_eq!(presence(&card_id, "present"), 200, "renewed; the answer carries the lease");
    assert_eq!(presence(&"0".repeat(64), "present"), 404, "another card");
    assert_eq!(presence("another-card", "present"), 400, "not a card id");
    assert_eq!(presence(&card_id, "inserted"), 400);
    assert_eq!(pc.get("/").status, 200, "a renewed session");

    // The card leaves the reader: the page script posts this, the session ends for every service.
    let wrong = report_card_removed(&pc, &session_csrf, "another-card");
    assert_eq!(wrong.status, 409, "{wrong:?}");
    let ended = report_card_removed(&pc, &session_csrf, &card_id);
    assert_eq!(ended.status, 200, "{ended:?}");
    let after = pc.get("/");
    assert_eq!(after.status, 303, "{after:?}");
    let r = pc.get(&format!("{}&prompt=none", authorize_path("rp1", REDIRECT, &"v".repeat(64))));
    assert_eq!(oidc::param(&r.location, "error").as_deref(), Some("login_required"), "{r:?}");
    let audit = p.h.ok(&["audit", "list", "--limit", "10000"]);
    assert!(audit.contains("card-removed"), "{audit}");
    assert_eq!(presence(&card_id, "present"), 404, "an ended session's lease renewed");
}

/// Issue #9, whole flows across replicas: two `hcpki serve` on one directory and database behind HAProxy (the
/// issuer names the balancer), each step of one browser sent to the replica the test picks ([`Portal::pinned`]):
/// replica A issues the card challenge, the card signs it once through the real agent and pcscd, the answer is
/// posted to B; the session opens the EMR on A and the wiki on B without another card operation, each token
/// good on the other replica; signing out on A ends the session on both (the cookie leads to /login, `prompt=none`
/// gets `login_required`, the tokens are refused at userinfo), also through the balancer.
fn card_login_across_two_replicas_one_signature_and_logout_ends_it_on_both(b: Backend) {
    let identity = hpki();
    let agent_port = crate::harness::free_port();
    let agent_origin = format!("http://127.0.0.1:{agent_port}");
    let lb_port = crate::harness::free_port();
    let issuer = format!("https://localhost:{lb_port}");
    let first =
        card_portal_with(b, &agent_origin, &format!("card_presence_secs = 600\nissuer = \"{issuer}\"\n"), |_| ());
    let second = first.replica();
    assert_eq!((first.issuer.as_str(), second.issuer.as_str()), (issuer.as_str(), issuer.as_str()));
    let _lb = crate::lb::LoadBalancer::start(&first.h, lb_port, &[first.bound_port(), second.bound_port()]);
    let _pcsc = pcsc_lock();
    let agent = agent::Served::start_for(&issuer, &format!("127.0.0.1:{agent_port}"));
    let card = agent::insert(identity, 0);
    agent.wait_card(0, "hpki");

    let (facility, cert, key) = oidc::issue_pc(&first.h, "Replicated clinic");
    // One browser (one cookie jar, the facility PC's certificate) seen by A, by B and through the balancer.
    let on_a = first.pinned().with_client_cert(cert.clone(), key.clone());
    let on_b = second.pinned().with_client_cert(cert.clone(), key.clone());
    let through_lb = first.with_client_cert(cert, key);

    // The challenge from A, the card's answer to B: the session is B's as much as A's.
    let (card_id, home) = card_session_across(&on_a, &on_b, &agent, HPKI);
    assert!(home.body.contains(AT_FACILITY_LEVEL) && home.body.contains(AT_FACILITY_WORDS), "{home:?}");
    assert!(home.body.contains(&format!("data-card=\"{card_id}\"")), "{home:?}");
    assert_eq!(on_a.get("/").status, 200, "the session made on B is live on A");
    let served = |replica: &Portal, route: &str| crate::lb::requests(&replica.metrics(), &format!("route=\"{route}\""));
    assert_eq!((served(&first, "/login/card/challenge"), served(&second, "/login/card/challenge")), (1, 0));
    assert_eq!((served(&first, "/login/card"), served(&second, "/login/card")), (0, 1));

    // The EMR on A, the wiki on B: no card operation, each access token good at the other replica.
    let rp = Rp::load(&first);
    let (emr_tokens, emr) = open_service(&on_a, &on_a, &rp, "emr", EMR);
    let (wiki_tokens, wiki) = open_service(&on_b, &on_b, &rp, "rp1", REDIRECT);
    check_card_claims(&emr, &wiki, &facility);
    let userinfo = |replica: &Portal, tokens: &Value| {
        let bearer = format!("Authorization: Bearer {}", tokens["access_token"].as_str().unwrap());
        replica.curl(&["-H", &bearer, &format!("{issuer}/userinfo")]).status
    };
    assert_eq!((userinfo(&on_b, &emr_tokens), userinfo(&on_a, &wiki_tokens)), (200, 200));
    assert_eq!(card.card().stats().signatures, 1, "one card signature for the login and both services");
    let logins: Vec<Value> = first.h.audit_list().into_iter().filter(|e| e["action"] == "login.card").collect();
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(logins[0]["outcome"], "ok", "{logins:?}");

    // Signed out on A: over on both, directly and through the balancer.
    on_a.sign_out();
    for (name, view) in [("A", &on_a), ("B", &on_b), ("the balancer", &through_lb), ("the balancer again", &through_lb)]
    {
        let home = view.get("/");
        assert!(home.status == 303 && home.location.contains("/login"), "{name}: {home:?}");
        let none = view.get(&format!("{}&prompt=none", authorize_path("rp1", REDIRECT, &"n".repeat(64))));
        assert_eq!(oidc::param(&none.location, "error").as_deref(), Some("login_required"), "{name}: {none:?}");
        assert_eq!((userinfo(view, &emr_tokens), userinfo(view, &wiki_tokens)), (401, 401), "{name}");
    }
    assert_eq!(card.card().stats().signatures, 1);
    first.h.ok(&["audit", "verify"]);
}

/// A service for identity-only logins, e.g. a citizen's own records: JPKI accepted, no qualification needed.
const RECORDS: &str = "version = 1\n[[service]]\nid = \"records\"\nname = \"My records\"\nroles = []\n\
                       facility_kinds = [\"*\"]\nmin_assurance = \"card-pin\"\nallow_jpki = true\n\
                       claims = [\"name\", \"hc_role\", \"facility_id\"]\n";

/// The issue's "JPKI authentication certificates are accepted where a service allows it (identity only, no
/// qualification)", end to end: a virtual JPKI card signs through the real agent and pcscd at a facility PC;
/// the home page lists exactly the service with `allow_jpki` (not the wiki, not the EMR), whose code flow
/// gives an ID token with the person (pairwise `sub`, the JPKI display name) and no `hc_role` although the
/// service asks for it; the EMR, which needs an hcRole, answers `access_denied` with the policy's reason,
/// audited as a denied `oidc.authorize` of the card holder; the login's entry records the listing with each
/// refusal's reason.
fn jpki_card_opens_only_identity_services_and_is_refused_qualified_ones(b: Backend) {
    let agent_port = crate::harness::free_port();
    let agent_origin = format!("http://127.0.0.1:{agent_port}");
    let p = card_portal_with(b, &agent_origin, "card_presence_secs = 600\n", |h| {
        std::fs::write(h.path("records.toml"), RECORDS).unwrap();
        h.ok(&["service", "add", h.path("records.toml").to_str().unwrap()]);
        let client = oidc::service_client(h, "records-rp", "records", &[]);
        h.ok(&client.iter().map(String::as_str).collect::<Vec<_>>());
    });
    let _pcsc = pcsc_lock();
    let agent = agent::Served::start_for(&p.issuer, &format!("127.0.0.1:{agent_port}"));
    let _card = agent::insert(jpki(), 0);
    agent.wait_card(0, "jpki");
    let (facility, cert, key) = oidc::issue_pc(&p.h, "Citizen clinic");
    let pc = p.with_client_cert(cert, key);

    let (_, home) = card_session_by(&pc, &agent, JPKI);
    assert_eq!(listed_services(&home.body), ["records"], "{home:?}");
    assert!(home.body.contains(AT_FACILITY_LEVEL) && home.body.contains(AT_FACILITY_WORDS), "{home:?}");

    let rp = Rp::load(&p);
    let tokens = oidc::code_flow(&pc, "records-rp", &rp.assertion_as(&p, "records-rp", 60, None));
    let claims = oidc::id_claims(&tokens);
    assert_eq!((&claims["acr"], &claims["amr"]), (&CARD_AT_FACILITY_ACR.into(), &serde_json::json!(CARD_AMR)));
    assert!(claims.get("hc_role").is_none(), "a JPKI login carries no qualification: {claims}");
    assert_eq!((&claims["name"], &claims["facility_id"]), (&"JPKI利用者".into(), &facility.as_str().into()));

    let verifier = "v".repeat(64);
    let r = pc.get(&format!(
        "/authorize?response_type=code&client_id=emr&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
        oidc::enc(EMR),
        oidc::challenge(&verifier)
    ));
    let back = oidc::refused_back(&r);
    assert_eq!(oidc::param(&back, "error").as_deref(), Some("access_denied"), "{r:?}");
    let jpki_refused = "JPKI (identity-only) logins are not accepted by the service";
    assert_eq!(oidc::param(&back, "error_description").as_deref(), Some(jpki_refused), "{r:?}");

    let entries = p.h.audit_entries();
    let login = entries.iter().find(|e| e["action"] == "login.card" && e["outcome"] == "ok").unwrap();
    let person = login["target"].as_str().unwrap();
    assert!(person.starts_with("jpki:"), "{login}");
    assert!(!claims["sub"].as_str().unwrap().contains(&person[5..]), "the pairwise sub is not the card's key");
    let detail = &login["detail"];
    assert!(detail["kind"] == "jpki" && detail["hc_role"].is_null(), "{login}");
    assert_eq!(
        detail["services"],
        serde_json::json!({ "listed": ["records"], "refused": [
            { "service": "wiki", "reason": jpki_refused },
            { "service": "emr", "reason": jpki_refused },
        ] }),
        "{login}"
    );
    let authorized = |outcome: &str, client: &str| {
        entries
            .iter()
            .find(|e| e["action"] == "oidc.authorize" && e["outcome"] == outcome && e["target"] == client)
            .unwrap_or_else(|| panic!("no {outcome} oidc.authorize of {client}: {entries:?}"))
    };
    let allowed = authorized("ok", "records-rp");
    assert_eq!(
        (&allowed["actor"], &allowed["detail"]["decision"]),
        (&format!("portal:{person}").into(), &"allowed".into())
    );
    let denied = authorized("denied", "emr");
    assert_eq!(denied["actor"], format!("portal:{person}"), "the card holder: {denied}");
    assert_eq!(denied["detail"]["decision"], format!("denied: {jpki_refused}"), "{denied}");
    p.h.ok(&["audit", "verify"]);
}
