//! Issue #24, items 4, 6 and 10: who a card login and a session are, decided by the server alone.
//!
//! * Item 4: the card id of a session is derived from the verified card certificate (the agent computes the
//!   same), never taken from the post; a card-removed report ends only the reporting person's sessions with
//!   their own card. Two people at one agent (an HPKI card, a JPKI card, real pcscd and `hcpki-agent`).
//! * Item 6: `prompt=login` and `max_age` cannot be skipped with a made-up `login_after`, plain or pushed; the
//!   forced-login marker is the server's own, single-use and bound to the request.
//! * Item 10: two trust anchors whose CAs carry the same names issue cards with the same organisation and
//!   registration number: two people, two person keys, a console grant admits only its own. A card key of the
//!   earlier form (listed by migration 0021) is claimed once, keeping its console grant and the pairwise `sub`
//!   relying parties knew.

use crate::agent::{self, hpki, jpki};
use crate::harness::Backend;
use crate::oidc::{self, PASSWORD, Portal, Reply, Rp, enc, param, totp};
use crate::pcsc_lock::pcsc_lock;
use crate::portal_card::{HPKI, JPKI, card_challenge, card_portal, card_session_across, card_signs, field};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hcpki_vcard::testpki::{HpkiCredentials, HpkiSubject};
use serde_json::Value;
use sha2::{Digest, Sha256};

on_both_backends!(
    a_posted_card_id_is_ignored_and_card_removal_ends_only_ones_own_session,
    a_made_up_login_after_does_not_skip_prompt_login_or_max_age,
    same_names_under_two_anchors_are_two_people_and_a_grant_admits_only_its_own,
    an_earlier_card_key_is_claimed_once_keeping_its_grant_and_sub,
);

/// Item 4. A colleague's session (their own JPKI card, their own browser) posts the victim's card id with the
/// login and then as a card-removed report: the session's card is the one its certificate says, the report is
/// refused (409, audited `portal.card-removed` denied), and the victim's session lives on. The presence endpoint
/// with the colleague's token and the victim's card finds no session. The colleague's own card-removed report
/// ends only the colleague's session.
fn a_posted_card_id_is_ignored_and_card_removal_ends_only_ones_own_session(b: Backend) {
    let agent_port = crate::harness::free_port();
    let agent_origin = format!("http://127.0.0.1:{agent_port}");
    let p = card_portal(b, &agent_origin);
    let _pcsc = pcsc_lock();
    let agent = agent::Served::start_for(&p.issuer, &format!("127.0.0.1:{agent_port}"));
    let _victims_card = agent::insert(hpki(), 0);
    let _colleagues_card = agent::insert(jpki(), 1);
    agent.wait_card(0, "hpki");
    agent.wait_card(1, "jpki");

    let victim = p.other_browser("jar-victim");
    let (victim_card, home) = card_session_across(&victim, &victim, &agent, HPKI);
    assert!(home.body.contains(&format!("data-card=\"{victim_card}\"")), "{home:?}");

    // The colleague's login carries the victim's card id (it is in the agent's log on the shared PC).
    let colleague = p.other_browser("jar-colleague");
    let csrf = field(&colleague.get("/login").body, "csrf");
    let challenge = card_challenge(&colleague, &csrf);
    let done = card_signs(&agent, &challenge, JPKI);
    let chain: Vec<&str> = done["result"]["chain"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let form = [
        ("csrf", csrf.as_str()),
        ("challenge_id", &challenge),
        ("kind", "jpki"),
        ("signature", done["result"]["signature"].as_str().unwrap()),
        ("chain", &chain.join(",")),
        ("card_id", &victim_card),
    ];
    let r = colleague.submit("/login/card", &form, None);
    // Signed in, straight to the home page (D64), whose script hands the agent the session's card id.
    assert_eq!((r.status, r.location.clone()), (303, format!("{}/", colleague.issuer)), "{r:?}");
    // The card id is SHA-256 of the verified card certificate, as the agent computes it.
    let own_card = hex::encode(Sha256::digest(STANDARD.decode(chain[0]).unwrap()));
    assert_eq!(done["result"]["card_id"], own_card.as_str(), "the agent and the server agree");
    assert!(!r.body.contains(&victim_card), "the posted card id reached the agent's page: {r:?}");
    let home = colleague.get("/");
    assert!(home.status == 200 && home.body.contains(&format!("data-card=\"{own_card}\"")), "{home:?}");
    assert!(home.body.contains("data-presence="), "{home:?}");
    assert!(!home.body.contains(&victim_card), "the posted card id reached the agent's page: {home:?}");

    // The colleague reports the victim's card removed: refused, audited, nobody signed out.
    let colleague_csrf = field(&home.body, "csrf");
    let r = crate::portal_card::report_card_removed(&colleague, &colleague_csrf, &victim_card);
    assert_eq!(r.status, 409, "{r:?}");
    assert!(r.body.contains("このセッションは別のカードで始まりました") && r.body.contains("ログアウト"), "{r:?}");
    assert_eq!(victim.get("/").status, 200, "the victim's session was ended by a colleague");
    assert_eq!(colleague.get("/").status, 200);
    let entries = p.h.audit_entries();
    let denied = entries
        .iter()
        .find(|e| e["action"] == "portal.card-removed" && e["outcome"] == "denied")
        .unwrap_or_else(|| panic!("no denied portal.card-removed: {entries:?}"));
    assert!(denied["actor"].as_str().unwrap().starts_with("portal:jpki:"), "{denied}");
    assert_eq!(denied["detail"]["card_id"], victim_card.as_str(), "{denied}");

    // The presence endpoint: the colleague's token with the victim's card is no session.
    let token = crate::portal_card::data_attribute(&home.body, "presence");
    let presence = |card: &str, event: &str| {
        let (t, c, e) = (format!("token={token}"), format!("card_id={card}"), format!("event={event}"));
        p.curl(&[
            "--data-urlencode",
            &t,
            "--data-urlencode",
            &c,
            "--data-urlencode",
            &e,
            &format!("{}/presence", p.issuer),
        ])
        .status
    };
    assert_eq!(presence(&victim_card, "removed"), 404);
    assert_eq!(victim.get("/").status, 200, "the victim's session was ended through the presence endpoint");

    // The colleague's own card leaves: their session ends, the victim's does not.
    let r = crate::portal_card::report_card_removed(&colleague, &colleague_csrf, &own_card);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(colleague.get("/").status, 303);
    assert_eq!(victim.get("/").status, 200);
    p.h.ok(&["audit", "verify"]);
}

/// The `/authorize` request of rp1 with PKCE `verifier` and `extra` parameters.
fn authorize(verifier: &str, extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id=rp1&scope=openid&redirect_uri={}&code_challenge={}\
         &code_challenge_method=S256{extra}",
        enc(oidc::REDIRECT),
        oidc::challenge(verifier)
    )
}

/// Item 6. With a live session (alice, password + TOTP), `prompt=login`, `max_age=0` and a pushed
/// `prompt=login` request each come with a made-up `login_after` (long ago, now, the future), and a pushed request
/// carries one inside: no code, the login page each time, each audited as a denied `oidc.authorize`. A real
/// marker is single-use and good only for its own request. After a real fresh login the flow completes, plain
/// and pushed.
fn a_made_up_login_after_does_not_skip_prompt_login_or_max_age(b: Backend) {
    let p = Portal::start(b);
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let rp = Rp::load(&p);
    let verifier = "a".repeat(60);
    let now = hcpki_pkix::time::now_unix();
    let to_login = |r: &Reply, what: &str| {
        assert!(param(&r.location, "code").is_none(), "{what}: a code without a fresh login: {r:?}");
        assert!(r.status == 303 && r.location.contains("/login?return_to="), "{what}: not the login page: {r:?}");
        param(&r.location, "return_to").unwrap()
    };
    let mut forged = 0;
    for forcing in ["&prompt=login", "&max_age=0"] {
        for after in ["1".to_owned(), now.to_string(), (now + 3600).to_string()] {
            let r = p.get(&authorize(&verifier, &format!("{forcing}&login_after={after}")));
            let back = to_login(&r, &format!("{forcing} login_after={after}"));
            assert!(!back.contains(&format!("login_after={after}&")) && !back.ends_with(&format!("={after}")));
            forged += 1;
        }
    }
    let code_challenge = oidc::challenge(&verifier);
    let push = |more: &[(&str, &str)]| {
        let mut form = vec![
            ("response_type", "code"),
            ("client_id", "rp1"),
            ("redirect_uri", oidc::REDIRECT),
            ("scope", "openid"),
            ("prompt", "login"),
            ("code_challenge", code_challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        form.extend_from_slice(more);
        let par = p.post_form("/par", &form, &rp.assertion(&p, 60, None));
        par["request_uri"].as_str().unwrap_or_else(|| panic!("PAR: {par}")).to_owned()
    };
    let uri = push(&[]);
    let r = p.get(&format!("/authorize?client_id=rp1&request_uri={}&login_after={now}", enc(&uri)));
    to_login(&r, "pushed, login_after in the query");
    forged += 1;
    let uri = push(&[("login_after", "1")]);
    let r = p.get(&format!("/authorize?client_id=rp1&request_uri={}", enc(&uri)));
    to_login(&r, "pushed, login_after pushed");

    // A real marker, taken from the redirect of a max_age=0 request, on a prompt=login request: not its
    // request. Then on its own request: spent.
    let back = to_login(&p.get(&authorize(&verifier, "&max_age=0")), "max_age=0");
    let marker = param(&back, "login_after").unwrap_or_else(|| panic!("no marker in {back}"));
    let r = p.get(&authorize(&verifier, &format!("&prompt=login&login_after={}", enc(&marker))));
    to_login(&r, "another request's marker");
    let r = p.get(&back);
    to_login(&r, "a spent marker");
    forged += 2;

    let entries = p.h.audit_entries();
    let refused: Vec<&Value> = entries
        .iter()
        .filter(|e| {
            e["action"] == "oidc.authorize"
                && e["outcome"] == "denied"
                && e["detail"]["reason"].as_str().is_some_and(|r| r.contains("login_after"))
        })
        .collect();
    assert_eq!(refused.len(), forged, "{entries:?}");
    assert!(refused.iter().all(|e| e["actor"] == "portal:pwd:alice" && e["target"] == "rp1"), "{refused:?}");
    assert!(!entries.iter().any(|e| e["action"] == "oidc.authorize" && e["outcome"] == "ok"), "a code was issued");

    // The real thing: a fresh login (the next TOTP step) completes the flow it was asked for.
    let back = to_login(&p.get(&authorize(&verifier, "&prompt=login")), "prompt=login");
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 1), None).status, 303);
    let r = p.get(&back);
    assert!(param(&r.location, "code").is_some(), "after the fresh login: {r:?}");
    // Pushed, in another browser with another person (its own TOTP steps).
    let bob = p.other_browser("jar-bob");
    let secret = add_user(&p, "bob");
    assert_eq!(bob.login("bob", PASSWORD, &totp(&secret, 0), None).status, 303);
    let uri = push(&[]);
    let back = to_login(&bob.get(&format!("/authorize?client_id=rp1&request_uri={}", enc(&uri))), "pushed");
    assert!(back.contains("request_uri=") && back.contains("login_after="), "{back}");
    assert_eq!(bob.login("bob", PASSWORD, &totp(&secret, 1), None).status, 303);
    let r = bob.get(&back);
    assert!(param(&r.location, "code").is_some(), "pushed, after the fresh login: {r:?}");
    p.h.ok(&["audit", "verify"]);
}

/// A password + TOTP account `name` (password [`PASSWORD`]): its TOTP secret.
fn add_user(p: &Portal, name: &str) -> String {
    let out = p.h.ok(&[
        "portal",
        "user",
        "add",
        name,
        "--name",
        name,
        "--password-file",
        p.h.path("password").to_str().unwrap(),
    ]);
    out.lines().find_map(|l| l.strip_prefix("secret: ")).unwrap().to_owned()
}

/// A portal over HTTPS whose `[login]` trusts the HPKI root and authentication CA of each of `pkis` (fail-open:
/// no CRL is served here). No card agent: answers are signed here with the card's key.
fn portal_trusting(b: Backend, pkis: &[&HpkiCredentials]) -> Portal {
    let names: Vec<(String, String)> =
        (0..pkis.len()).map(|i| (format!("hpki-root-{i}.der"), format!("hpki-auth-ca-{i}.der"))).collect();
    let anchors: Vec<&str> = names.iter().map(|(r, _)| r.as_str()).collect();
    let intermediates: Vec<&str> = names.iter().map(|(_, i)| i.as_str()).collect();
    let extra = format!(
        "card_agent = \"http://127.0.0.1:9\"\n[login]\nhpki_anchors = {anchors:?}\nintermediates = {intermediates:?}\n\
         revocation = \"fail-open\"\n"
    );
    Portal::start_with(b, &extra, |h| {
        for ((root, ca), pki) in names.iter().zip(pkis) {
            std::fs::write(h.dir().join(root), &pki.root).unwrap();
            std::fs::write(h.dir().join(ca), &pki.authentication_ca).unwrap();
        }
    })
}

/// What the login page script and the agent do, with the card's key here: a card login of `card` in browser
/// `browser`. The answer to the post.
fn card_login(browser: &Portal, card: &HpkiCredentials) -> Reply {
    let csrf = field(&browser.get("/login").body, "csrf");
    let challenge = card_challenge(browser, &csrf);
    let bytes = URL_SAFE_NO_PAD.decode(&challenge).unwrap();
    // The login message as the agent builds it (hcpki-agent-protocol): context, origin, challenge.
    let message = [b"hcpki card login v1\0".as_slice(), browser.issuer.as_bytes(), b"\0", &bytes].concat();
    let signature = STANDARD.encode(card.authentication.key.sign_sha256(&message).unwrap());
    let chain = [&card.authentication.cert, &card.authentication_ca].map(|c| STANDARD.encode(c)).join(",");
    let form = [
        ("csrf", csrf.as_str()),
        ("challenge_id", &challenge),
        ("kind", "hpki"),
        ("signature", &signature),
        ("chain", &chain),
        // Ignored by the server (item 4); earlier versions required it.
        ("card_id", &"0".repeat(64)),
    ];
    browser.submit("/login/card", &form, None)
}

/// A card login's answer started a session: the page handing the agent its presence token (the default
/// presence lease), or the redirect.
fn signed_in(r: &Reply) {
    assert!((r.status == 200 && r.body.contains("data-continue")) || r.status == 303, "not signed in: {r:?}");
}

/// The person key of the latest successful `login.card`.
fn last_card_person(p: &Portal) -> String {
    let entries = p.h.audit_entries();
    let login = entries.iter().rev().find(|e| e["action"] == "login.card" && e["outcome"] == "ok").unwrap();
    login["target"].as_str().unwrap().to_owned()
}

/// Item 10. Two test HPKIs with identical CA names (so the same issuer O) each issue a card to registration
/// number Test000001: each logs in, as a different person key naming its anchor; the same card again gives the
/// same key. A console operator grant for the first card's key admits it; the second card is refused (403,
/// audited `console.signin` denied, naming its own key), and a grant to the key form without an anchor is
/// refused with what to do.
fn same_names_under_two_anchors_are_two_people_and_a_grant_admits_only_its_own(b: Backend) {
    let (first, second) = (crate::test_pki::hpki(), crate::test_pki::other_hpki());
    let card_a = first.issue(&HpkiSubject::default()).unwrap();
    let card_b = second.issue(&HpkiSubject::default()).unwrap();
    assert_ne!(card_a.root, card_b.root);
    let p = portal_trusting(b, &[&card_a, &card_b]);
    let console = crate::console_card::console_of(&p);

    let (a, bee) = (p.other_browser("jar-a"), p.other_browser("jar-b"));
    signed_in(&card_login(&a, &card_a));
    let key_a = last_card_person(&p);
    signed_in(&card_login(&bee, &card_b));
    let key_b = last_card_person(&p);
    assert_ne!(key_a, key_b, "two anchors, one person key");
    for key in [&key_a, &key_b] {
        assert!(key.starts_with("hpki:") && key.ends_with(":HCPKI TEST:Test000001"), "{key}");
        assert_eq!(key.split(':').nth(1).map(str::len), Some(32), "the anchor id: {key}");
    }
    signed_in(&card_login(&p.other_browser("jar-a2"), &card_a));
    assert_eq!(last_card_person(&p), key_a, "one card, one key across logins");

    let refused = p.h.fails(&["console-grant", "add", "hpki:HCPKI TEST:Test000001", "--role", "operator"]);
    assert!(refused.contains("before trust-anchor binding") && refused.contains("sign in once"), "{refused}");
    p.h.ok(&["console-grant", "add", &key_a, "--role", "operator"]);
    let r = crate::console_card::console_sign_in(&a, &console);
    assert_eq!(r.status, 200, "{r:?}");
    let r = crate::console_card::console_sign_in(&bee, &console);
    assert_eq!(r.status, 403, "the other anchor's card with the same names: {r:?}");
    assert_eq!(crate::console_card::person_key_of(&r), key_b);
    let entries = p.h.audit_entries();
    let denied = entries.iter().find(|e| e["action"] == "console.signin" && e["outcome"] == "denied").unwrap();
    assert_eq!(denied["actor"], format!("person:{key_b}").as_str(), "{denied}");
    let granted = p.h.ok(&["console-grant", "list"]);
    assert!(granted.contains(&key_a) && !granted.contains(&key_b), "{granted}");
    p.h.ok(&["audit", "verify"]);
}

/// The pairwise `sub` hcpki gives `person_key` in `sector`, computed here from the portal secret file as the
/// server derives it (secret.rs): what a relying party saw before the upgrade for an earlier key.
fn pairwise_sub(p: &Portal, sector: &str, person_key: &str) -> String {
    use aws_lc_rs::hmac;
    let secret = std::fs::read(p.h.dir().join("secrets/portal.key")).unwrap();
    let root = hmac::Key::new(hmac::HMAC_SHA256, &secret);
    let pairwise = hmac::Key::new(hmac::HMAC_SHA256, hmac::sign(&root, b"hcpki portal pairwise-sub v1").as_ref());
    let mut ctx = hmac::Context::with_key(&pairwise);
    ctx.update(sector.as_bytes());
    ctx.update(&[0]);
    ctx.update(person_key.as_bytes());
    URL_SAFE_NO_PAD.encode(ctx.sign())
}

/// Item 10, the migration. An installation upgraded with a card person's earlier key (as migration 0021 lists
/// it from the sessions, grants and audit log) and that key's console grant: the first login of the card of
/// anchor A claims it (audited `person.key-linked`), the grant now names the anchor-bound key and admits it,
/// and the relying party gets the same `sub` as before the upgrade (the earlier key's, computed independently).
/// The card of anchor B with the same names gets neither: its own key, its own `sub`, no console.
fn an_earlier_card_key_is_claimed_once_keeping_its_grant_and_sub(b: Backend) {
    let (first, second) = (crate::test_pki::hpki(), crate::test_pki::other_hpki());
    let card_a = first.issue(&HpkiSubject::default()).unwrap();
    let card_b = second.issue(&HpkiSubject::default()).unwrap();
    let p = portal_trusting(b, &[&card_a, &card_b]);
    let console = crate::console_card::console_of(&p);
    let earlier = "hpki:HCPKI TEST:Test000001";
    // What the earlier version left: the grant to the earlier key, listed by 0021 for its first login.
    let db = p.h.db();
    db.execute(&format!(
        "INSERT INTO console_grants (person_key, role, facility_id, note, granted_at, granted_by) \
         VALUES ('{earlier}', 'operator', NULL, 'before 0021', 1, 'operator:admin')"
    ));
    db.execute(&format!("INSERT INTO person_key_links (legacy_key) VALUES ('{earlier}')"));
    let rp = Rp::load(&p);

    let a = p.other_browser("jar-a");
    signed_in(&card_login(&a, &card_a));
    let key_a = last_card_person(&p);
    assert_ne!(key_a, earlier);
    let tokens = oidc::code_flow(&a, "rp1", &rp.assertion(&p, 60, None));
    let sub = oidc::id_claims(&tokens)["sub"].as_str().unwrap().to_owned();
    assert_eq!(sub, pairwise_sub(&p, "service:wiki", earlier), "the sub relying parties knew");
    assert_ne!(sub, pairwise_sub(&p, "service:wiki", &key_a));
    assert_eq!(crate::console_card::console_sign_in(&a, &console).status, 200, "the grant carried over");
    let granted = p.h.ok(&["console-grant", "list"]);
    assert!(granted.contains(&key_a) && !granted.contains(earlier), "{granted}");
    let entries = p.h.audit_entries();
    let linked: Vec<&Value> = entries.iter().filter(|e| e["action"] == "person.key-linked").collect();
    assert_eq!(linked.len(), 1, "{entries:?}");
    assert_eq!((&linked[0]["target"], &linked[0]["detail"]["legacy_key"]), (&key_a.as_str().into(), &earlier.into()));

    // The other anchor's card with the same names: the earlier key is taken, so a person of its own.
    let bee = p.other_browser("jar-b");
    signed_in(&card_login(&bee, &card_b));
    let key_b = last_card_person(&p);
    assert_ne!(key_b, key_a);
    let tokens = oidc::code_flow(&bee, "rp1", &rp.assertion(&p, 60, None));
    let sub_b = oidc::id_claims(&tokens)["sub"].as_str().unwrap().to_owned();
    assert_eq!(sub_b, pairwise_sub(&p, "service:wiki", &key_b));
    assert_ne!(sub_b, sub);
    assert_eq!(crate::console_card::console_sign_in(&bee, &console).status, 403);
    // The first card again: still linked, same sub.
    signed_in(&card_login(&p.other_browser("jar-a2"), &card_a));
    let tokens = oidc::code_flow(&p.other_browser("jar-a2"), "rp1", &rp.assertion(&p, 60, None));
    assert_eq!(oidc::id_claims(&tokens)["sub"], sub.as_str());
    assert_eq!(p.h.audit_entries().iter().filter(|e| e["action"] == "person.key-linked").count(), 1);
    p.h.ok(&["audit", "verify"]);
}
