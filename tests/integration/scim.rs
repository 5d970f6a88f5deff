//! SCIM 2.0 provisioning of staff accounts (issue #51 item 3, D158) against the real server, on both databases:
//! a facility's HR system (a confidential OIDC client bound to its facility with `hcpki scim client add`) gets a
//! token from `/token` (client_credentials, scope scim), provisions and de-provisions its staff, and cannot see
//! or change another facility's — the attacks: a cross-facility read, write, PATCH, DELETE, a filter that would
//! match the other facility's account, a create naming the other facility; the SCIM token presented where a
//! user's access token goes. Then the independent peers from PyPI (`tests/peers/scim_peer.py`): scim2-client as
//! an HR system, and scim2-tester's conformance checks.

use crate::fixtures::{Key, csr};
use crate::harness::{Backend, describe, repo_root};
use crate::oidc::{PASSWORD, Portal, Rp, code_flow, issue_pc, tools, totp};
use serde_json::{Value, json};
use std::process::Command;

on_both_backends!(an_hr_system_provisions_its_facility_and_nothing_else, independent_scim_peers_agree);

const STAFF: &str = "urn:hcpki:params:scim:schemas:extension:staff:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// An answer: status, headers (lower-case names), JSON body (`Null` when empty).
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// `method` `path` under the portal's issuer with `headers` and a JSON `body`.
fn call(p: &Portal, method: &str, path: &str, headers: &[String], body: Option<&Value>) -> Answer {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (head, out) = (p.h.path(&format!("scim-head-{id}")), p.h.path(&format!("scim-body-{id}")));
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--cacert", p.chain.to_str().unwrap(), "--resolve", &format!("localhost:{}:127.0.0.1", p.port)]);
    cmd.args(["-X", method, "-D", head.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(body) = body {
        cmd.args(["-H", "Content-Type: application/scim+json", "--data-binary", &body.to_string()]);
    }
    let run = cmd.arg(format!("{}{path}", p.issuer)).output().unwrap();
    assert!(run.status.success(), "{}", describe(&run));
    let head = std::fs::read_to_string(&head).unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(json!(text)) };
    Answer { status, headers, body }
}

/// An HR system: its client id and secret, and its SCIM token once it has one.
struct Hr {
    secret: String,
    token: String,
}

impl Hr {
    /// `/token` with client_credentials and `scope` as `id`:`secret` (HTTP Basic): status and JSON.
    fn token(p: &Portal, id: &str, secret: &str, scope: &str) -> (u16, Value) {
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        let r = p.curl(&[
            "-H",
            &format!("Authorization: Basic {basic}"),
            "--data-urlencode",
            "grant_type=client_credentials",
            "--data-urlencode",
            &format!("scope={scope}"),
            &format!("{}/token", p.issuer),
        ]);
        (r.status, serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}")))
    }

    fn new(p: &Portal, id: &str, secret: &str) -> Self {
        let (status, body) = Self::token(p, id, secret, "scim");
        assert_eq!(status, 200, "{body}");
        assert_eq!((body["token_type"].as_str(), body["scope"].as_str()), (Some("Bearer"), Some("scim")), "{body}");
        assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none(), "{body}");
        Self { secret: secret.to_owned(), token: body["access_token"].as_str().unwrap().to_owned() }
    }

    fn call(&self, p: &Portal, method: &str, path: &str, body: Option<&Value>) -> Answer {
        self.call_if(p, method, path, None, body)
    }

    fn call_if(&self, p: &Portal, method: &str, path: &str, if_match: Option<&str>, body: Option<&Value>) -> Answer {
        let mut headers = vec![format!("Authorization: Bearer {}", self.token)];
        if let Some(tag) = if_match {
            headers.push(format!("If-Match: {tag}"));
        }
        call(p, method, &format!("/scim/v2{path}"), &headers, body)
    }
}

/// D175: an account HR A made (doc.a, with its initial password) has no second factor anyone saw. Its first
/// sign-in with the password and no code: at another facility's PC refused (its own facility's PCs only), at a
/// PC of facility A the set-up page with a new key; the key's code confirms it and signs in, and the account
/// leaves the help desk's not-ready list. Audited.
fn first_sign_in_sets_up_the_second_factor(p: &Portal, facility: &str) {
    let not_ready = || p.h.ok(&["portal", "user", "not-ready"]).lines().any(|l| l.starts_with("doc.a\t"));
    assert!(not_ready(), "a SCIM account starts without a confirmed second factor");
    let (_, other_cert, other_key) = issue_pc(&p.h, "Clinic Elsewhere");
    let elsewhere = p.with_client_cert(other_cert, other_key).other_browser("jar-doc-a-elsewhere");
    let refused = elsewhere.login("doc.a", PASSWORD, "", None);
    assert!(refused.status == 403 && refused.body.contains("所属する施設の PC"), "{refused:?}");
    let req = csr(p.h.scratch(), "clinic-a-pc", Key::P256, "clinic-a-pc");
    let cert = p.h.path("clinic-a-pc.pem");
    p.h.ok(&["issue", "--profile", "pc", "--facility", facility, "--csr", req.to_str().unwrap()]
        .into_iter()
        .chain(["--out", cert.to_str().unwrap()])
        .collect::<Vec<_>>());
    let at_pc = p.with_client_cert(cert, p.h.path("clinic-a-pc-p256.key")).other_browser("jar-doc-a");
    let page = at_pc.login("doc.a", PASSWORD, "", None);
    assert!(page.status == 200 && page.body.contains("二要素認証の設定"), "{page:?}");
    let field = |from: &str, to: &str| -> String {
        let start = page.body.find(from).unwrap_or_else(|| panic!("no {from} in {}", page.body)) + from.len();
        page.body[start..].split(to).next().unwrap().to_owned()
    };
    let key = field("id=\"enrol-key\"", "</code>").rsplit('>').next().unwrap().replace(' ', "");
    let offer = field("name=\"offer\" value=\"", "\"");
    let code = totp(&key, 0);
    let done = at_pc.submit("/login/enrol", &[("username", "doc.a"), ("offer", &offer), ("totp", &code)], None);
    assert_eq!(done.status, 303, "{done:?}");
    assert_eq!(at_pc.get("/").status, 200, "signed in");
    assert!(!not_ready(), "set up");
    let entries = p.h.audit_entries();
    assert!(
        entries.iter().any(|e| e["action"] == "portal.login"
            && e["target"] == "doc.a"
            && e["detail"]["reason"] == "second-factor-enrolment-other-facility"),
        "the refusal elsewhere is audited"
    );
    assert!(entries.iter().any(|e| e["action"] == "portal.user.totp_enrol" && e["target"] == "doc.a"));
}

/// Register a confidential client (client_secret_basic) and return its secret.
fn secret_client(h: &crate::harness::Hcpki, id: &str) -> String {
    let out = h.ok(&[
        "oidc",
        "client",
        "add",
        "--id",
        id,
        "--redirect-uri",
        "https://hr.example/cb",
        "--auth",
        "client_secret_basic",
        "--service",
        "wiki",
    ]);
    out.lines().find_map(|l| l.strip_prefix("client_secret: ")).unwrap().to_owned()
}

fn patch(ops: Value) -> Value {
    json!({ "schemas": [PATCH], "Operations": ops })
}

fn user(name: &str, extra: Value) -> Value {
    let mut u = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", STAFF],
        "userName": name,
        "displayName": format!("{name} display"),
        "password": PASSWORD,
    });
    if let (Some(u), Value::Object(extra)) = (u.as_object_mut(), extra) {
        u.extend(extra);
    }
    u
}

fn names(list: &Value) -> Vec<String> {
    list["Resources"].as_array().unwrap().iter().map(|r| r["userName"].as_str().unwrap().to_owned()).collect()
}

/// Two facilities, each with its HR system; the nurse of facility A signed in with a grant. HR A creates,
/// lists, filters, sorts, pages, PATCHes (with If-Match), de-provisions; HR B's accounts stay out of its reach.
fn an_hr_system_provisions_its_facility_and_nothing_else(b: Backend) {
    let secrets = std::cell::RefCell::new(Vec::new());
    let facilities = std::cell::RefCell::new(Vec::new());
    let nurse_totp = std::cell::RefCell::new(String::new());
    let p = Portal::start_with(b, "", |h| {
        let (fa, fb) = (h.approved_facility("Clinic A"), h.approved_facility("Clinic B"));
        for id in ["hr-a", "hr-b", "hr-unbound"] {
            secrets.borrow_mut().push(secret_client(h, id));
        }
        let out = h.ok(&[
            "portal",
            "user",
            "add",
            "nurse.a",
            "--name",
            "Nurse A",
            "--facility",
            &fa,
            "--password-file",
            h.path("password").to_str().unwrap(),
        ]);
        *nurse_totp.borrow_mut() = out.lines().find_map(|l| l.strip_prefix("secret: ")).unwrap().to_owned();
        facilities.borrow_mut().extend([fa, fb]);
    });
    let (fa, fb) = (facilities.borrow()[0].clone(), facilities.borrow()[1].clone());
    let secrets = secrets.into_inner();
    p.h.ok(&["scim", "client", "add", "hr-a", "--facility", &fa]);
    p.h.ok(&["scim", "client", "add", "hr-b", "--facility", &fb]);
    // A public client, an unknown one, an unknown facility: refused with what to do.
    assert!(p.h.fails(&["scim", "client", "add", "nobody", "--facility", &fa]).contains("oidc client add"));
    assert!(p.h.fails(&["scim", "client", "add", "hr-a", "--facility", "NOPE-1"]).contains("NOPE"));
    let listed = p.h.ok(&["scim", "client", "list"]);
    assert!(listed.contains("hr-a") && listed.contains(&fa) && listed.contains("hr-b"), "{listed}");

    // The token: scope scim only, a bound confidential client only.
    let (status, e) = Hr::token(&p, "hr-a", &secrets[0], "openid scim");
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_scope")), "{e}");
    let (status, e) = Hr::token(&p, "hr-unbound", &secrets[2], "scim");
    assert_eq!((status, e["error"].as_str()), (400, Some("unauthorized_client")), "{e}");
    assert!(e["error_description"].as_str().unwrap().contains("hcpki scim client add"), "{e}");
    let (status, _) = Hr::token(&p, "hr-a", "wrong-secret", "scim");
    assert_eq!(status, 401);
    let rp = Rp::load(&p);
    let assertion = rp.assertion_as(&p, "rp1", 60, None);
    let e = p.token(&[("grant_type", "client_credentials"), ("scope", "scim")], &assertion);
    assert_eq!(e["error"], "unauthorized_client", "a client with no facility binding: {e}");
    let hr_a = Hr::new(&p, "hr-a", &secrets[0]);
    let hr_b = Hr::new(&p, "hr-b", &secrets[1]);
    // The SCIM token is no user's access token: /userinfo refuses it.
    let userinfo = call(&p, "GET", "/userinfo", &[format!("Authorization: Bearer {}", hr_a.token)], None);
    assert_eq!(userinfo.status, 401, "{userinfo:?}");
    // And a user's access token is no SCIM token.
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let alice_tokens = code_flow(&p, "rp1", &rp.assertion_as(&p, "rp1", 60, None));
    let bearer = format!("Authorization: Bearer {}", alice_tokens["access_token"].as_str().unwrap());
    let refused = call(&p, "GET", "/scim/v2/Users", &[bearer], None);
    assert_eq!(refused.status, 401, "{refused:?}");
    assert!(refused.header("www-authenticate").is_some_and(|w| w.starts_with("Bearer")), "{refused:?}");
    assert_eq!(call(&p, "GET", "/scim/v2/Users", &[], None).status, 401);

    // Discovery is public and describes the staff extension.
    let spc = call(&p, "GET", "/scim/v2/ServiceProviderConfig", &[], None);
    assert_eq!((spc.status, &spc.body["patch"]["supported"]), (200, &json!(true)), "{spc:?}");
    assert_eq!(spc.header("content-type"), Some("application/scim+json"));
    let types = call(&p, "GET", "/scim/v2/ResourceTypes", &[], None);
    assert_eq!(types.body["totalResults"], 2, "{types:?}");
    let staff = call(&p, "GET", &format!("/scim/v2/Schemas/{STAFF}"), &[], None);
    assert_eq!(staff.status, 200, "{staff:?}");

    // Create: 201 with Location and ETag; the facility is the client's.
    let created = hr_a.call(
        &p,
        "POST",
        "/Users",
        Some(&user("doc.a", json!({ "externalId": "HR-A-1", STAFF: { "hcRole": "medical-doctor" } }))),
    );
    assert_eq!(created.status, 201, "{created:?}");
    assert!(created.body[STAFF].get("facility").is_none(), "returned on request only: {created:?}");
    let asked = hr_a.call(&p, "GET", &format!("/Users/doc.a?attributes={STAFF}:facility"), None);
    assert_eq!(asked.body[STAFF]["facility"], fa.as_str(), "{asked:?}");
    assert_eq!(created.body[STAFF]["hcRole"], "medical-doctor");
    assert!(created.header("location").is_some_and(|l| l.ends_with("/scim/v2/Users/doc.a")), "{created:?}");
    assert!(created.header("etag").is_some_and(|t| t.starts_with("W/\"")), "{created:?}");
    assert!(created.body.get("password").is_none(), "password is never returned");
    for name in ["doc.b", "doc.c"] {
        assert_eq!(hr_a.call(&p, "POST", "/Users", Some(&user(name, json!({})))).status, 201);
    }
    assert_eq!(hr_b.call(&p, "POST", "/Users", Some(&user("clerk.b", json!({})))).status, 201);
    // Names are the installation's: HR A cannot take B's, and learns only that it is taken.
    let taken = hr_a.call(&p, "POST", "/Users", Some(&user("clerk.b", json!({}))));
    assert_eq!((taken.status, taken.body["scimType"].as_str()), (409, Some("uniqueness")), "{taken:?}");
    // A create naming the other facility.
    let other = hr_a.call(&p, "POST", "/Users", Some(&user("spy", json!({ STAFF: { "facility": fb } }))));
    assert_eq!((other.status, other.body["scimType"].as_str()), (400, Some("mutability")), "{other:?}");
    let bad = hr_a.call(&p, "POST", "/Users", Some(&user("Bad Name", json!({}))));
    assert_eq!((bad.status, bad.body["scimType"].as_str()), (400, Some("invalidValue")), "{bad:?}");

    // List: A's accounts only (not alice, made with no facility; not B's).
    let all = hr_a.call(&p, "GET", "/Users", None);
    assert_eq!(names(&all.body), ["doc.a", "doc.b", "doc.c", "nurse.a"], "{all:?}");
    assert_eq!(names(&hr_b.call(&p, "GET", "/Users", None).body), ["clerk.b"]);
    // Filter, sort, page.
    let q = "/Users?filter=userName%20sw%20%22doc%22&sortBy=userName&sortOrder=descending&startIndex=2&count=1";
    let page = hr_a.call(&p, "GET", q, None);
    assert_eq!(
        (page.body["totalResults"].as_u64(), names(&page.body)),
        (Some(3), vec!["doc.b".to_owned()]),
        "{page:?}"
    );
    let search = hr_a.call(
        &p,
        "POST",
        "/Users/.search",
        Some(&json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "externalId eq \"HR-A-1\"" })),
    );
    assert_eq!(names(&search.body), ["doc.a"], "{search:?}");
    let invalid = hr_a.call(&p, "GET", "/Users?filter=userName%20eq", None);
    assert_eq!((invalid.status, invalid.body["scimType"].as_str()), (400, Some("invalidFilter")), "{invalid:?}");

    // The attacks: B's account does not exist for A — read, replace, PATCH, DELETE, filters.
    for (method, body) in [("GET", None), ("PUT", Some(user("clerk.b", json!({})))), ("DELETE", None)] {
        let r = hr_a.call(&p, method, "/Users/clerk.b", body.as_ref());
        assert_eq!(r.status, 404, "{method}: {r:?}");
    }
    let r = hr_a.call(
        &p,
        "PATCH",
        "/Users/clerk.b",
        Some(&patch(json!([{ "op": "replace", "path": "active", "value": false }]))),
    );
    assert_eq!(r.status, 404, "{r:?}");
    for filter in [
        "userName%20eq%20%22clerk.b%22",
        &format!("{}%3Afacility%20eq%20%22{fb}%22", STAFF),
        "userName%20pr%20or%20not%20(userName%20pr)",
    ] {
        let r = hr_a.call(&p, "GET", &format!("/Users?filter={filter}"), None);
        assert!(!names(&r.body).contains(&"clerk.b".to_owned()), "{filter}: {r:?}");
    }
    let clerk = hr_b.call(&p, "GET", "/Users/clerk.b", None);
    assert_eq!((clerk.status, &clerk.body["active"]), (200, &json!(true)), "B's account untouched: {clerk:?}");

    // PATCH with versions: a stale If-Match is a 412, the current one applies.
    let doc = hr_a.call(&p, "GET", "/Users/doc.b", None);
    let tag = doc.header("etag").unwrap().to_owned();
    let rename = patch(json!([{ "op": "replace", "path": "displayName", "value": "Dr. B" }]));
    let changed = hr_a.call_if(&p, "PATCH", "/Users/doc.b", Some(&tag), Some(&rename));
    assert_eq!((changed.status, &changed.body["displayName"]), (200, &json!("Dr. B")), "{changed:?}");
    assert_ne!(changed.header("etag"), Some(tag.as_str()));
    let stale = hr_a.call_if(&p, "PATCH", "/Users/doc.b", Some(&tag), Some(&rename));
    assert_eq!(stale.status, 412, "{stale:?}");
    let fixed = hr_a.call(
        &p,
        "PATCH",
        "/Users/doc.b",
        Some(&patch(json!([{ "op": "replace", "path": "userName", "value": "x" }]))),
    );
    assert_eq!((fixed.status, fixed.body["scimType"].as_str()), (400, Some("mutability")), "{fixed:?}");
    let bad_path = hr_a.call(
        &p,
        "PATCH",
        "/Users/doc.b",
        Some(&patch(json!([{ "op": "add", "path": "emails[type eq", "value": 1 }]))),
    );
    assert_eq!((bad_path.status, bad_path.body["scimType"].as_str()), (400, Some("invalidPath")), "{bad_path:?}");

    // Groups: the console administrators (a console grant) and the services (read-only).
    let groups = hr_a.call(&p, "GET", "/Groups", None);
    let ids: Vec<&str> =
        groups.body["Resources"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"console-admin") && ids.contains(&"service:wiki"), "{groups:?}");
    let add = patch(json!([{ "op": "add", "path": "members", "value": [{ "value": "doc.a" }] }]));
    let admins = hr_a.call(&p, "PATCH", "/Groups/console-admin", Some(&add));
    assert_eq!((admins.status, &admins.body["members"][0]["value"]), (200, &json!("doc.a")), "{admins:?}");
    let grants = p.h.ok(&["console-grant", "list"]);
    assert!(grants.contains("pwd:doc.a") && grants.contains(&fa), "{grants}");
    let outsider = patch(json!([{ "op": "add", "path": "members", "value": [{ "value": "clerk.b" }] }]));
    assert_eq!(hr_a.call(&p, "PATCH", "/Groups/console-admin", Some(&outsider)).status, 400);
    let service = hr_a.call(&p, "PATCH", "/Groups/service:wiki", Some(&add));
    assert!(service.status == 400 || service.status == 200, "{service:?}");
    let remove = patch(json!([{ "op": "remove", "path": "members[value eq \"doc.a\"]" }]));
    assert_eq!(hr_a.call(&p, "PATCH", "/Groups/console-admin", Some(&remove)).status, 200);
    assert!(!p.h.ok(&["console-grant", "list"]).contains("pwd:doc.a"));

    first_sign_in_sets_up_the_second_factor(&p, &fa);

    // De-provisioning: the nurse is signed in with a grant of rp1; active=false ends both.
    let nurse = p.other_browser("nurse-jar");
    assert_eq!(nurse.login("nurse.a", PASSWORD, &totp(&nurse_totp.borrow(), 0), None).status, 303);
    let tokens = code_flow(&nurse, "rp1", &rp.assertion_as(&nurse, "rp1", 60, None));
    let off = hr_a.call(
        &p,
        "PATCH",
        "/Users/nurse.a",
        Some(&patch(json!([{ "op": "replace", "path": "active", "value": false }]))),
    );
    assert_eq!((off.status, &off.body["active"]), (200, &json!(false)), "{off:?}");
    let home = nurse.get("/");
    assert!(home.status == 303 && home.location.contains("/login"), "the nurse's session ended: {home:?}");
    let refresh = nurse.token(
        &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
        &rp.assertion_as(&nurse, "rp1", 60, None),
    );
    assert_eq!(refresh["error"], "invalid_grant", "the grant ended with the account: {refresh}");
    let back = hr_a.call(
        &p,
        "PATCH",
        "/Users/nurse.a",
        Some(&patch(json!([{ "op": "replace", "path": "active", "value": true }]))),
    );
    assert_eq!((back.status, back.body["scimType"].as_str()), (400, Some("mutability")), "{back:?}");
    // DELETE disables too, then the account is gone for SCIM (404, RFC 7644 §3.6) but kept, disabled.
    assert_eq!(hr_a.call(&p, "DELETE", "/Users/doc.c", None).status, 204);
    assert_eq!(hr_a.call(&p, "GET", "/Users/doc.c", None).status, 404);
    assert_eq!(hr_a.call(&p, "DELETE", "/Users/doc.c", None).status, 404);
    assert!(p.h.ok(&["portal", "user", "list"]).lines().any(|l| l.starts_with("doc.c") && l.contains("disabled")));
    // A path the API does not have is a SCIM 404.
    let nowhere = hr_a.call(&p, "GET", "/Nowhere", None);
    assert_eq!((nowhere.status, nowhere.header("content-type")), (404, Some("application/scim+json")), "{nowhere:?}");

    // Audited with the client as actor: the writes, the de-provisioning with its sessions, the refusals.
    let entries = p.h.audit_entries();
    let by = |action: &str, target: &str| {
        entries.iter().find(|e| e["action"] == action && e["target"] == target && e["actor"] == "scim:hr-a").cloned()
    };
    assert!(by("portal.user.add", "doc.a").is_some_and(|e| e["detail"]["facility"] == fa.as_str()));
    assert!(by("portal.user.update", "doc.b").is_some());
    assert!(by("scim.user.delete", "doc.c").is_some());
    let disabled = by("portal.user.disable", "nurse.a").unwrap();
    assert_eq!(disabled["detail"]["sessions_ended"], 1, "{disabled}");
    assert!(
        by("console.grant.add", "pwd:doc.a").is_some()
            || entries.iter().any(|e| e["action"] == "console.grant.add" && e["actor"] == "scim:hr-a")
    );
    assert!(
        entries.iter().any(|e| e["action"] == "scim.refused" && e["actor"] == "scim:hr-a" && e["target"] == "clerk.b")
    );
    assert!(entries.iter().any(|e| e["action"] == "oidc.token.scim" && e["target"] == "hr-a"));
    p.h.ok(&["audit", "verify"]);

    // Unbinding takes effect at the next request, whatever the token's lifetime.
    p.h.ok(&["scim", "client", "remove", "hr-a"]);
    let gone = hr_a.call(&p, "GET", "/Users", None);
    assert_eq!(gone.status, 401, "{gone:?}");
    assert_eq!(hr_a.secret.len(), 43);
}

/// scim2-client as HR B's system (discover, create, filter, replace, PATCH, de-provision) and scim2-tester's
/// conformance checks of the User resource and discovery, both from PyPI.
fn independent_scim_peers_agree(b: Backend) {
    let secret = std::cell::RefCell::new(String::new());
    let facility = std::cell::RefCell::new(String::new());
    let p = Portal::start_with(b, "", |h| {
        *facility.borrow_mut() = h.approved_facility("Clinic P");
        *secret.borrow_mut() = secret_client(h, "hr-p");
    });
    p.h.ok(&["scim", "client", "add", "hr-p", "--facility", &facility.borrow()]);
    let peer = |mode: &str| -> Value {
        let out = Command::new(tools().join("bin/python"))
            .arg(repo_root().join("tests/peers/scim_peer.py"))
            .args([mode, "--issuer", &p.issuer, "--ca", p.chain.to_str().unwrap(), "--client-id", "hr-p"])
            .args(["--secret", &secret.borrow()])
            .output()
            .unwrap();
        assert!(out.status.success(), "scim_peer.py {mode}\n{}", describe(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)))
    };
    let seen = peer("client");
    assert_eq!(seen["resource_types"], json!(["Group", "User"]), "{seen}");
    assert_eq!(seen["created"]["active"], true, "{seen}");
    assert_eq!(seen["created"]["hc_role"], "nurse", "{seen}");
    assert_eq!(seen["found"], json!(["peer.user"]), "{seen}");
    assert_eq!(seen["replaced"]["display_name"], "Peer Replaced", "{seen}");
    assert_ne!(seen["replaced"]["version"], seen["created"]["version"], "{seen}");
    assert_eq!(seen["deprovisioned"]["active"], false, "{seen}");

    let checks = peer("conformance");
    // One deliberate deviation (D158): a de-provisioned account is never made active again, so scim2-tester's
    // random `active` (false at creation, then true in a PATCH) is refused with `mutability`. Anything else it
    // marks ERROR or CRITICAL fails the test.
    let failed: Vec<&Value> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| ["ERROR", "CRITICAL"].contains(&c["status"].as_str().unwrap()))
        .filter(|c| {
            !c["reason"].as_str().is_some_and(|r| r.contains("a de-provisioned (inactive) account stays disabled"))
        })
        .collect();
    assert!(failed.is_empty(), "scim2-tester found violations: {}", serde_json::to_string_pretty(&failed).unwrap());
    let passed = checks.as_array().unwrap().iter().filter(|c| c["status"] == "SUCCESS").count();
    assert!(passed >= 5, "scim2-tester ran its checks: {checks}");
}
