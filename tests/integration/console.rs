//! The web console (`/console/…`) driven by curl over real TLS with the same certificates as the admin API:
//! an operator certificate, facility PC certificates, no certificate at all. The journey from the
//! application form to a revoked device and a suspended facility (a PC enrolled over EST in between), the
//! role table through HTML forms, CSRF tokens and Origin checks, bad form input, and the security headers.
//! Every refusal changes nothing and is audited.

use crate::admin::{Api, As, Reply, issued, operator};
use crate::est::{Auth as EstAuth, Credential, Est, base64_of};
use crate::fixtures::{Key, csr, csr_der, medical_code};
use crate::harness::{Backend, Hcpki};
use crate::oidc::Portal;
use crate::serve::Served;
use serde_json::json;

on_both_backends!(
    journey_from_application_form_to_revoked_device,
    roles_csrf_and_bad_input_are_refused_and_audited,
    pkcs12_for_a_device_without_an_enrollment_client,
);

/// A console client: GETs pages, posts forms with the page's CSRF token and the server's own Origin.
pub(crate) struct Console<'a> {
    api: Api<'a>,
    origin: String,
}

impl<'a> Console<'a> {
    pub(crate) fn new(h: &'a Hcpki, server: &Served) -> Self {
        Self { api: Api::new(h, server), origin: format!("Origin: https://127.0.0.1:{}", server.https_port) }
    }

    pub(crate) fn get(&self, path: &str, who: &As) -> Reply {
        self.api.get(path, who)
    }

    pub(crate) fn get_with(&self, path: &str, who: &As, extra: &[&str]) -> Reply {
        self.api.request("GET", path, None, who, extra)
    }

    /// POST `fields` (plus `csrf`, when given) form-encoded, with `extra` curl arguments.
    pub(crate) fn post_raw(&self, path: &str, body: &str, who: &As, extra: &[&str]) -> Reply {
        let mut args = vec!["-H", "Content-Type: application/x-www-form-urlencoded"];
        args.extend_from_slice(extra);
        self.api.request("POST", path, Some(body), who, &args)
    }

    /// POST a form from this console: the token of `page`, the server's Origin.
    pub(crate) fn submit(&self, path: &str, fields: &[(&str, &str)], page: &Reply, who: &As) -> Reply {
        let token = csrf_of(page);
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &form(&all), who, &["-H", &self.origin])
    }
}

/// The first CSRF token on a page.
pub(crate) fn csrf_of(page: &Reply) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.text.find(marker).unwrap_or_else(|| panic!("no form on the page: {page:?}")) + marker.len();
    page.text[start..].split('"').next().unwrap().to_owned()
}

/// `application/x-www-form-urlencoded`.
pub(crate) fn form(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                b' ' => "+".into(),
                b => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// The error box of a refused form (`id="problem"`): what the page says to fix. (Not the whole page: the CSRF
/// token is base64url and may hold `--`.)
fn problem_of(r: &Reply) -> &str {
    let at = r.text.find("id=\"problem\"").unwrap_or_else(|| panic!("no problem box: {r:?}"));
    r.text[at..].split("</div>").next().unwrap_or_default()
}

/// The passphrase and the file (written to a scratch file; its path) of the console's PKCS#12 answer `r`.
pub(crate) fn pkcs12_of(h: &Hcpki, r: &Reply) -> (String, std::path::PathBuf) {
    let between = |start: &str, end: char| {
        let at = r.text.find(start).unwrap_or_else(|| panic!("no {start}: {r:?}")) + start.len();
        r.text[at..].split(end).next().unwrap().to_owned()
    };
    let pass = between("id=\"p12-passphrase\">", '<');
    let data = between("href=\"data:application/x-pkcs12;base64,", '"');
    let p12 = h.path("device.p12");
    std::fs::write(&p12, base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data).unwrap()).unwrap();
    (pass, p12)
}

/// The serials of the facility's certificates.
pub(crate) fn serials(h: &Hcpki, facility: &str) -> Vec<String> {
    h.cert_list(Some(facility))
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["serial"].as_str().map(str::to_owned))
        .collect()
}

/// The status badge shown for a serial on a facility page.
fn status_of(page: &Reply, serial: &str) -> String {
    let m = format!("data-serial=\"{serial}\">");
    let at = page.text.find(&m).unwrap_or_else(|| panic!("{serial} not listed: {page:?}")) + m.len();
    page.text[at..].split("</span></span>").next().unwrap().to_owned()
}

fn location(r: &Reply) -> String {
    r.headers
        .lines()
        .find_map(|l| l.to_ascii_lowercase().starts_with("location:").then(|| l[9..].trim().to_owned()))
        .unwrap_or_else(|| panic!("no Location: {r:?}"))
}

/// Anonymous application form → the operator approves from the queue → the facility admin (PC certificate)
/// creates an EST credential, shown once → a second PC enrolls with it over EST (curl + OpenSSL) → the
/// device is listed as issued → the admin revokes it → listed as revoked → the operator suspends the
/// facility → the audit viewer and both exports show what happened.
fn journey_from_application_form_to_revoked_device(b: Backend) {
    let p = Portal::start(b);
    let (h, server) = (&*p.h, p.served());
    let ops = operator(h, "ops", "operator");
    let c = Console::new(h, server);

    let page = c.get("/console/apply", &As::Nobody);
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("<html lang=\"ja\"") && page.text.contains("施設の利用申請"), "{page:?}");
    // Every field's hint is tied to it, the kind list's too (issue #45 item 1).
    for id in ["name", "kind", "medical_code", "address", "contact"] {
        assert!(page.text.contains(&format!("aria-describedby=\"{id}-hint\"")), "{id}: {page:?}");
        assert!(page.text.contains(&format!("id=\"{id}-hint\"")), "{id}: {page:?}");
    }
    let code = medical_code(5150);
    let fields = [
        ("name", "桜クリニック"),
        ("kind", "clinic"),
        ("medical_code", code.as_str()),
        ("address", "東京都千代田区1-1"),
        ("contact", "受付 ０３（５５５５）０１２３"),
    ];
    let r = c.submit("/console/apply", &fields, &page, &As::Nobody);
    assert_eq!(r.status, 201, "{r:?}");
    let marker = "id=\"facility-id\">";
    let at = r.text.find(marker).unwrap() + marker.len();
    let id = r.text[at..].split('<').next().unwrap().to_owned();
    assert!(h.ok(&["facility", "show", &id]).contains("applied"));
    // The same code applied for again, anonymously: refused, without naming the facility that holds it (which
    // would let anyone map codes to facility IDs); the operators' audit entry keeps the holder.
    let again = c.get("/console/apply", &As::Nobody);
    let r = c.submit("/console/apply", &fields, &again, &As::Nobody);
    assert_eq!(r.status, 409, "{r:?}");
    assert!(!r.text.contains(&id) && r.text.contains("role=\"alert\""), "the holder is not told: {r:?}");
    // …said in Japanese on the same form, with what was typed kept (issue #45 item 1).
    assert!(r.text.contains("すでに登録されています") && r.text.contains("何も登録していません"), "{r:?}");
    assert!(r.text.contains("value=\"桜クリニック\"") && r.text.contains("value=\"clinic\" selected"), "{r:?}");
    let api = Api::new(h, server);
    let body = json!({"name": "x", "kind": "clinic", "medical_code": code});
    let r = api.post("/api/v1/applications", &body, &As::Nobody);
    assert_eq!(r.status, 409, "{r:?}");
    assert!(!r.text.contains(&id), "the API does not tell either: {r:?}");
    let trail = h.ok(&["audit", "list", "--limit", "500"]);
    assert!(trail.lines().any(|l| l.contains("\"denied\"") && l.contains(&id)), "the audit names the holder");

    let queue = c.get("/console/", &ops);
    assert_eq!(queue.status, 200, "{queue:?}");
    assert!(queue.text.contains(&id) && queue.text.contains("桜クリニック"), "{queue:?}");
    // Approving goes through a confirmation page that shows what the operator decides on (issue #45 item 2).
    assert!(queue.text.contains("診療所") && queue.text.contains("申請中"), "kinds and states in words: {queue:?}");
    let confirm = c.get(&format!("/console/facilities/{id}/transition?verb=approve"), &ops);
    assert_eq!(confirm.status, 200, "{confirm:?}");
    for shown in ["東京都千代田区1-1", code.as_str(), "検査数字", "申請の承認の確認", "日本時間"]
    {
        assert!(confirm.text.contains(shown), "the confirmation shows {shown:?}: {confirm:?}");
    }
    assert!(h.ok(&["facility", "show", &id]).contains("applied"), "opening the confirmation approves nothing");
    let r = c.submit(&format!("/console/facilities/{id}/transition"), &[("verb", "approve")], &confirm, &ops);
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(location(&r), format!("/console/facilities/{id}?done=approved"));
    assert!(h.ok(&["facility", "show", &id]).contains("approved"));
    let done = c.get(&location(&r), &ops);
    assert!(done.text.contains("role=\"status\"") && done.text.contains("申請を承認しました"), "{done:?}");
    // Who changed the state, as the audit viewer names people (issue #45 item 2), the stored text as its title.
    assert!(
        done.text.contains("title=\"operator:ops\"><span class=\"role\">運用者</span> <span class=\"wrap\">ops</span>"),
        "{done:?}"
    );

    // The help desk finds the facility by the number a caller reads out (issue #45 item 3), in the console, the
    // admin API and the CLI, in any of the forms people write it; a number it cannot read is said on the same
    // page with what was typed kept, and audited.
    for said in ["03-5555-0123", "+81 3 5555 0123", "０３５５５５０１２３"] {
        let query = form(&[("phone", said)]);
        let found = c.get(&format!("/console/facilities?{query}"), &ops);
        assert_eq!(found.status, 200, "{found:?}");
        assert!(found.text.contains(&format!("/console/facilities/{id}\"")), "{said}: {found:?}");
        let listed = api.get(&format!("/api/v1/facilities?{query}"), &ops);
        assert_eq!(listed.json["facilities"].as_array().map(Vec::len), Some(1), "{said}: {listed:?}");
        assert_eq!(listed.json["facilities"][0]["id"], id.as_str(), "{listed:?}");
    }
    assert!(h.ok(&["facility", "list", "--phone", "03-5555-0123"]).contains(&id));
    assert!(!h.ok(&["facility", "list", "--phone", "03-5555-9999"]).contains(&id));
    let nobody = c.get("/console/facilities?phone=0120-000-000", &ops);
    assert!(!nobody.text.contains(&format!("/console/facilities/{id}\"")), "{nobody:?}");
    let typo = c.get("/console/facilities?phone=03-5555-01x3&q=%E6%A1%9C", &ops);
    assert_eq!(typo.status, 400, "{typo:?}");
    assert!(typo.text.contains("role=\"alert\"") && typo.text.contains("数字・空白・ハイフン"), "{typo:?}");
    assert!(typo.text.contains("value=\"03-5555-01x3\"") && typo.text.contains("value=\"桜\""), "kept: {typo:?}");
    assert_eq!(api.get("/api/v1/facilities?phone=12", &ops).status, 400);
    assert!(h.fails(&["facility", "list", "--phone", "12"]).contains("4 to 15 digits"));
    // The notice is one of the console's own texts, never the query's.
    let forged = c.get(&format!("/console/facilities/{id}?done=%3Cscript%3E"), &ops);
    assert!(!forged.text.contains("id=\"done\"") && !forged.text.contains("&lt;script"), "{forged:?}");

    // The facility's PC: a PC certificate of the facility (issued by the CLI here). The PC alone reads; the
    // facility admin, alice, signed in at it through the portal, makes changes (issue #24 item 7).
    let admin = issued(h, "pc", &id, &[]);
    let pc_serial = serials(h, &id).pop().unwrap();
    let home = c.get("/console/", &admin);
    assert_eq!(home.status, 200, "{home:?}");
    assert!(home.text.contains("桜クリニック") && home.text.contains("active"), "{home:?}");
    crate::console_card::grant_facility_admin(h, &id);
    let alice = crate::console_card::sign_in_at_pc(&p, &admin, "jar-alice", 0);
    let home = alice.get(&api, &format!("/console/facilities/{id}"));
    let r = alice.submit(
        &api,
        &format!("/console/facilities/{id}/credentials"),
        &[("protocol", "est"), ("profile", "pc"), ("valid_for", "1d")],
        &home,
    );
    assert_eq!(r.status, 201, "{r:?}");
    let value = |name: &str| {
        let m = format!("id=\"cred-{name}\">");
        let at = r.text.find(&m).unwrap_or_else(|| panic!("no {name}: {r:?}")) + m.len();
        r.text[at..].split('<').next().unwrap().to_owned()
    };
    let cred = Credential { id: value("username"), secret: value("password") };
    assert!(r.text.contains("/.well-known/est/pc/simpleenroll"), "{r:?}");
    let again = c.get(&format!("/console/facilities/{id}"), &admin);
    assert!(again.text.contains(&cred.id) && !again.text.contains(&cred.secret), "shown once: {again:?}");
    assert!(
        again.text.contains("<span class=\"role\">施設管理者</span> <span class=\"wrap\">alice(パスワード)・施設PC"),
        "the credential's maker by role and name: {again:?}"
    );

    // An independent client enrolls a PC with the credential.
    let known = serials(h, &id);
    let est = Est::new(h, server);
    let pc_csr = csr(h.scratch(), "pc2", Key::P256, "pc2");
    let reply = est.post("/.well-known/est/pc/simpleenroll", &base64_of(&csr_der(&pc_csr)), &EstAuth::Basic(&cred));
    assert_eq!(reply.status, 200, "{}", reply.body);
    est.save_pkcs7(&reply.body, "pc2.pem");
    let serial = serials(h, &id).into_iter().find(|s| !known.contains(s)).expect("the enrolled PC is listed");
    let listed = c.get(&format!("/console/facilities/{id}"), &admin);
    assert!(status_of(&listed, &serial).contains("issued"), "{listed:?}");
    // alice names the PC as staff call it (D134): kept per device ID, shown in the list and on the revocation's
    // confirmation; a name the rules refuse comes back on the same page, kept, nothing stored.
    let device = h
        .cert_list(Some(&id))
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|c| c["serial"] == serial.as_str())
        .and_then(|c| c["sans"].as_array()?.iter().find_map(|s| Some(s.as_str()?.split("/device/").nth(1)?.to_owned())))
        .expect("the enrolled PC's device ID");
    let naming = format!("/console/facilities/{id}/devices/{device}/name");
    assert!(!listed.text.contains(&naming), "the PC certificate alone is offered no naming: {listed:?}");
    let own = alice.get(&api, &format!("/console/facilities/{id}"));
    assert!(own.text.contains(&format!("href=\"{naming}\"")), "{own:?}");
    let form_page = alice.get(&api, &naming);
    assert_eq!(form_page.status, 200, "{form_page:?}");
    let long = "診".repeat(33);
    let r = alice.submit(&api, &naming, &[("name", &long)], &form_page);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("32 文字以内") && r.text.contains(&format!("value=\"{long}\"")), "{r:?}");
    let r = alice.submit(&api, &naming, &[("name", "　受付PC ")], &form_page);
    assert_eq!(location(&r), format!("/console/facilities/{id}?done=device-named#devices"), "{r:?}");
    let named = alice.get(&api, &location(&r));
    assert!(named.text.contains("<strong class=\"device-name\">受付PC</strong>"), "{named:?}");
    let r = api.post(&format!("/api/v1/facilities/{id}/devices/pc-00000000/name"), &json!({"name": "x"}), &ops);
    assert_eq!(r.status, 404, "no such PC: {r:?}");
    let r = api.post(&format!("/api/v1/facilities/{id}/devices/{device}/name"), &json!({"name": "a\tb"}), &ops);
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(c.get(&naming, &admin).status, 403, "the PC certificate alone names nothing");
    // The same naming from the CLI, with the same check of the device.
    assert!(h.fails(&["facility", "name-device", &id, "pc-00000000", "x"]).contains("has no PC"));
    assert!(h.fails(&["facility", "name-device", &id, &device, "  "]).contains("empty"));
    h.ok(&["facility", "name-device", &id, &device, "受付PC"]);
    // Revoking: a confirmation page naming the device and what revoking does to it; sent without a reason it
    // revokes nothing and says so on the same page (issue #45 item 2).
    let confirm = alice.get(&api, &format!("/console/certificates/{serial}/revoke"));
    assert_eq!(confirm.status, 200, "{confirm:?}");
    assert!(
        confirm.text.contains("施設PC") && confirm.text.contains("施設としてサインインできなくなります"),
        "{confirm:?}"
    );
    assert!(confirm.text.contains("id=\"device-name\"><strong>受付PC</strong>"), "the PC by its name: {confirm:?}");
    assert!(!confirm.text.contains(" selected>鍵"), "no reason chosen beforehand: {confirm:?}");
    let revoke = format!("/console/certificates/{serial}/revoke");
    let r = alice.submit(&api, &revoke, &[("reason", "")], &confirm);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("失効理由を選んでください") && r.text.contains("role=\"alert\""), "{r:?}");
    assert!(status_of(&c.get(&format!("/console/facilities/{id}"), &admin), &serial).contains("issued"), "not revoked");
    let r = alice.submit(&api, &revoke, &[("reason", "keyCompromise")], &confirm);
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(location(&r), format!("/console/facilities/{id}?done=certificate-revoked#devices"));
    let after = c.get(&format!("/console/facilities/{id}"), &admin);
    assert!(status_of(&after, &serial).contains("revoked"), "{after:?}");

    // The operator suspends the facility; the admin's PC certificate is held, so the console refuses it.
    let detail = c.get(&format!("/console/facilities/{id}/transition?verb=suspend"), &ops);
    assert!(detail.text.contains("保留"), "what suspending does: {detail:?}");
    let r = c.submit(
        &format!("/console/facilities/{id}/transition"),
        &[("verb", "suspend"), ("reason", "監査のため / audit")],
        &detail,
        &ops,
    );
    assert_eq!(r.status, 303, "{r:?}");
    let shown = c.get(&format!("/console/facilities/{id}"), &ops);
    assert!(shown.text.contains("suspended") && shown.text.contains("監査のため"), "{shown:?}");
    assert_eq!(c.get("/console/", &admin).status, 403);

    // A rejected application reads 却下, not 廃止 (D132), in the console, the API and the CLI, and gets no
    // certificate and no credential, as a retired facility gets none.
    let turned_down = h.add_facility("却下される診療所", None);
    let confirm = c.get(&format!("/console/facilities/{turned_down}/transition?verb=reject"), &ops);
    let r = c.submit(
        &format!("/console/facilities/{turned_down}/transition"),
        &[("verb", "reject"), ("reason", "書類不備")],
        &confirm,
        &ops,
    );
    assert_eq!(location(&r), format!("/console/facilities/{turned_down}?done=rejected"), "{r:?}");
    let page = c.get(&location(&r), &ops);
    assert!(
        page.text.contains("data-value=\"rejected\">却下</span>") && !page.text.contains("廃止</span>"),
        "{page:?}"
    );
    assert_eq!(api.get(&format!("/api/v1/facilities/{turned_down}"), &ops).json["state"], "rejected");
    let rejected = api.get("/api/v1/facilities?state=rejected", &ops);
    assert_eq!(rejected.json["facilities"][0]["id"], turned_down.as_str(), "{rejected:?}");
    assert!(h.ok(&["facility", "show", &turned_down]).contains("rejected"));
    let listed = c.get("/console/facilities?state=rejected", &ops);
    assert!(listed.text.contains(&turned_down) && !listed.text.contains(&format!("{id}<")), "{listed:?}");
    let req = csr(h.scratch(), "rejected-pc", Key::P256, "rejected-pc");
    let out = h.path("rejected-pc.pem");
    let (req, out) = (req.to_str().unwrap(), out.to_str().unwrap());
    let refused = h.fails(&["issue", "--profile", "pc", "--facility", &turned_down, "--csr", req, "--out", out]);
    assert!(refused.contains("is rejected"), "{refused}");
    for verb in ["approve", "retire", "resume"] {
        let r = api.post(&format!("/api/v1/facilities/{turned_down}/{verb}"), &json!({"reason": "x"}), &ops);
        assert_eq!(r.status, 409, "a rejection is final: {verb} {r:?}");
    }

    // Audit viewer, login history and exports.
    let audit = c.get(&format!("/console/audit?target={id}"), &ops);
    assert_eq!(audit.status, 200, "{audit:?}");
    for action in ["facility.register", "facility.approve", "facility.activate", "facility.suspend"] {
        assert!(audit.text.contains(action), "{action} not in the viewer: {audit:?}");
    }
    let jsonl = c.get(&format!("/console/audit/export?target={id}&format=jsonl"), &ops);
    assert_eq!(jsonl.status, 200, "{jsonl:?}");
    assert!(jsonl.headers.to_ascii_lowercase().contains("attachment"), "{jsonl:?}");
    let lines: Vec<serde_json::Value> = jsonl.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() >= 4 && lines.iter().all(|e| e["target"] == id.as_str()), "{}", jsonl.text);
    let syslog = c.get(&format!("/console/audit/export?target={id}&format=syslog"), &ops);
    assert!(syslog.text.lines().all(|l| l.starts_with('<') && l.contains("[hcpki@32473 seq=")), "{}", syslog.text);
    assert_eq!(syslog.text.lines().count(), lines.len());
    let logins = c.get("/console/audit?action=login.%2Cportal.login", &ops);
    assert_eq!(logins.status, 200, "{logins:?}");
    let trail = h.ok(&["audit", "list", "--limit", "2000"]);
    for (actor, action) in [
        ("api:anonymous", "facility.register"),
        ("operator:ops", "facility.approve"),
        (&format!("facility-admin:{id}:pc:{pc_serial}:person:pwd:alice") as &str, "enroll.credential.create"),
        (&format!("facility-admin:{id}:pc:{pc_serial}:person:pwd:alice"), "cert.revoke"),
        (&format!("facility-admin:{id}:pc:{pc_serial}:person:pwd:alice"), "facility.device.name"),
        ("operator:ops", "facility.suspend"),
        ("operator:ops", "console.audit.export"),
    ] {
        assert!(
            trail.lines().any(|l| l.contains(&format!("\"{actor}\"")) && l.contains(&format!("\"{action}\""))),
            "no audit entry {actor} {action}\n{trail}"
        );
    }
    h.ok(&["audit", "verify"]);
}

/// A facility admin acting on another facility, an auditor approving, forged, foreign, missing and expired
/// tokens, a foreign or missing Origin, oversize and malformed fields: each a clear HTML error, nothing
/// changed, audited. Security headers on every answer; Japanese by default, English on request.
fn roles_csrf_and_bad_input_are_refused_and_audited(b: Backend) {
    let h = Hcpki::initialized(b);
    let ops = operator(&h, "ops", "operator");
    let aud = operator(&h, "aud", "auditor");
    let f = h.approved_facility("Own clinic");
    let g = h.approved_facility("Other clinic");
    let applied = h.add_facility("Waiting clinic", None);
    let admin = issued(&h, "pc", &f, &[]);
    let other_pc = issued(&h, "pc", &g, &[]);
    let server = Served::start(&h, &[]);
    let c = Console::new(&h, &server);
    let g_serial = serials(&h, &g).pop().unwrap();
    let facilities = || h.ok(&["facility", "list"]);
    let before = facilities();
    let certs_before = h.cert_list(None);

    // Headers on pages and refusals alike.
    for (path, who) in
        [("/console/", &ops), ("/console/apply", &As::Nobody), (&format!("/console/facilities/{g}") as &str, &admin)]
    {
        let r = c.get(path, who);
        let lower = r.headers.to_ascii_lowercase();
        for header in [
            "content-security-policy: default-src 'none'; style-src 'self'",
            "frame-ancestors 'none'",
            "strict-transport-security: max-age=",
            "x-content-type-options: nosniff",
            "referrer-policy: same-origin",
            "x-frame-options: deny",
        ] {
            assert!(lower.contains(header), "{path}: no {header:?}\n{}", r.headers);
        }
        assert!(!r.text.contains("<script"), "{path}: no scripts");
    }

    // A refusal no form words itself (another facility's page) says in the page's language what happened and
    // what to do; the operation's own English reason is in the audit log only (issue #45 item 1).
    let r = c.get(&format!("/console/facilities/{g}"), &admin);
    assert!(r.status == 403 && r.text.contains("この操作を行う権限がありません"), "{r:?}");
    let r = c.get(&format!("/console/facilities/{g}?lang=en"), &admin);
    assert!(r.text.contains("You may not do this") && r.text.contains("only their own facility"), "{r:?}");
    assert!(!r.text.contains("another facility"), "no developer text: {r:?}");
    // A malformed facility ID in the address and an unknown lifecycle change: each said in words, with the way
    // back to the facility search, not the generic "could not be accepted" or "not found".
    for path in ["/console/facilities/HF123", "/console/facilities/HF123/transition?verb=approve"] {
        let r = c.get(path, &ops);
        assert!(r.status == 400 && r.text.contains("施設 ID の形が正しくありません"), "{path}: {r:?}");
        assert!(r.text.contains("href=\"/console/facilities\""), "{path}: the way back: {r:?}");
    }
    let r = c.get(&format!("/console/facilities/{f}/transition?verb=destroy&lang=en"), &ops);
    assert!(r.status == 404 && r.text.contains("Facilities have no such change"), "{r:?}");

    // Language: Japanese by default, English by Accept-Language or the switch (which sets a cookie).
    assert!(c.get("/console/", &ops).text.contains("承認待ちの申請"));
    let en = c.get_with("/console/", &ops, &["-H", "Accept-Language: en-GB,en;q=0.9"]);
    assert!(en.text.contains("<html lang=\"en\"") && en.text.contains("Applications waiting for approval"), "{en:?}");
    let switched = c.get("/console/?lang=en", &ops);
    assert!(switched.text.contains("Applications waiting"), "{switched:?}");
    assert!(switched.headers.contains("hcpki_console_lang=en"), "{switched:?}");

    // A facility admin reaches its own facility only.
    let own = c.get(&format!("/console/facilities/{f}"), &admin);
    assert_eq!(own.status, 200, "{own:?}");
    // (A PC certificate alone is served no form of its facility, issue #24 item 7; the application form's
    // token is bound to it all the same.)
    let own = c.get("/console/apply", &admin);
    let r = c.get(&format!("/console/facilities/{g}"), &admin);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.text.contains("自分の施設のページだけ") && r.text.contains("role=\"alert\""), "{r:?}");
    for path in ["/console/audit", "/console/facilities", "/console/audit/export?format=jsonl"] {
        assert_eq!(c.get(path, &admin).status, 403, "{path}");
    }
    // …and its valid token does not reach another facility's certificate, credential form or lifecycle.
    let r = c.submit(&format!("/console/certificates/{g_serial}/revoke"), &[("reason", "keyCompromise")], &own, &admin);
    assert_eq!(r.status, 403, "{r:?}");
    let r = c.submit(
        &format!("/console/facilities/{g}/credentials"),
        &[("protocol", "est"), ("profile", "pc")],
        &own,
        &admin,
    );
    assert_eq!(r.status, 403, "{r:?}");
    let r =
        c.submit(&format!("/console/facilities/{f}/transition"), &[("verb", "retire"), ("reason", "x")], &own, &admin);
    assert_eq!(r.status, 403, "{r:?}");
    // An auditor reads but does not approve.
    let queue = c.get("/console/", &aud);
    assert!(queue.text.contains(&applied) && !queue.text.contains("verb"), "no forms for an auditor: {queue:?}");
    let ops_page = c.get(&format!("/console/facilities/{applied}/transition?verb=approve"), &ops);
    // (No page gives an auditor a form but the application form, whose token is bound to its certificate.)
    let aud_form = c.get("/console/apply", &aud);
    let r = c.submit(&format!("/console/facilities/{applied}/transition"), &[("verb", "approve")], &aud_form, &aud);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.text.contains("監査担当は閲覧のみ"), "{r:?}");

    // CSRF: tokens are per certificate, unforgeable; POSTs need this server's Origin.
    let approve = format!("/console/facilities/{applied}/transition");
    let origin = format!("Origin: https://127.0.0.1:{}", server.https_port);
    let token = csrf_of(&ops_page);
    let cases: Vec<(String, &As, Vec<String>, u16, &str)> = vec![
        (form(&[("verb", "approve")]), &ops, vec![origin.clone()], 403, "有効期限が切れていた"),
        (
            form(&[("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), ("verb", "approve")]),
            &ops,
            vec![origin.clone()],
            403,
            "name=\"verb\" value=\"approve\"",
        ),
        (
            form(&[("csrf", &csrf_of(&own)), ("verb", "approve")]),
            &ops,
            vec![origin.clone()],
            403,
            "有効期限が切れていた",
        ),
        (
            form(&[("csrf", &token), ("verb", "approve")]),
            &ops,
            vec!["Origin: https://evil.example".into()],
            403,
            "コンソールのページから送られていない",
        ),
        (form(&[("csrf", &token), ("verb", "approve")]), &ops, vec![], 403, "コンソールのページから送られていない"),
        (
            form(&[("csrf", &token), ("verb", "approve")]),
            &ops,
            vec![origin.clone(), "Sec-Fetch-Site: cross-site".into()],
            403,
            "コンソールのページから送られていない",
        ),
        (
            form(&[("csrf", &token), ("verb", "approve")]),
            &ops,
            vec![origin.clone(), "Authorization: Basic eDp5".into()],
            400,
            "パスワードや登録用クレデンシャル",
        ),
    ];
    for (body, who, headers, status, says) in &cases {
        let mut extra = Vec::new();
        for hd in headers {
            extra.push("-H");
            extra.push(hd.as_str());
        }
        let r = c.post_raw(&approve, body, who, &extra);
        assert_eq!(r.status, *status, "{body} {headers:?}: {r:?}");
        assert!(r.text.contains(says), "{body} {headers:?} must say {says:?}: {r:?}");
    }
    assert!(h.ok(&["facility", "show", &applied]).contains("applied"), "nothing approved");
    // The revocation's POST keeps its guard behind the confirmation page: without the page's token an operator's
    // browser revokes nothing.
    let r =
        c.post_raw(&format!("/console/certificates/{g_serial}/revoke"), "reason=keyCompromise", &ops, &["-H", &origin]);
    assert_eq!(r.status, 403, "{r:?}");

    // Bad form input: oversize, malformed, too long, unknown fields, missing reason.
    let apply_page = c.get("/console/apply", &As::Nobody);
    let long = "x".repeat(201);
    let big = "x".repeat(9000);
    for (fields, status, says) in [
        (vec![("name", big.as_str()), ("kind", "clinic")], 413, "8192 バイトまで"),
        // What the applicant can fix: on the same form, in their words, the rest kept (issue #45 item 1).
        (vec![("name", long.as_str()), ("kind", "clinic")], 400, "名称を 1〜200 文字で"),
        (vec![("name", "x"), ("kind", "castle"), ("address", "東京都港区")], 400, "種別を一覧から選んで"),
        (vec![("name", "x"), ("kind", "clinic"), ("admin", "1")], 400, "内容を読み取れません"),
        (vec![("name", "x\u{7}"), ("kind", "clinic")], 400, "制御文字"),
        (vec![("name", "x"), ("kind", "pharmacy"), ("medical_code", "13-1-000000")], 400, "医療機関コードを確かめて"),
        (vec![("kind", "clinic")], 400, "内容を読み取れません"),
    ] {
        let r = c.submit("/console/apply", &fields, &apply_page, &As::Nobody);
        assert_eq!(r.status, status, "{fields:.60?}: {r:?}");
        assert!(r.text.contains(says) && r.text.contains("role=\"alert\""), "must say {says:?}: {r:?}");
        if fields.iter().any(|(k, v)| *k == "address" && !v.is_empty()) {
            assert!(r.text.contains("value=\"東京都港区\""), "the address kept: {r:?}");
        }
    }
    // English on request, the same rule.
    let r = c.submit("/console/apply?lang=en", &[("name", "x"), ("kind", "castle")], &apply_page, &As::Nobody);
    assert!(r.text.contains("Choose the kind from the list") && r.text.contains("Nothing was registered"), "{r:?}");
    let r = c.submit(&format!("/console/facilities/{applied}/transition"), &[("verb", "reject")], &ops_page, &ops);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("理由を入力してください") && r.text.contains("role=\"alert\""), "{r:?}");
    let r = c.submit(&format!("/console/facilities/{applied}/transition"), &[("verb", "explode")], &ops_page, &ops);
    assert_eq!(r.status, 404, "{r:?}");
    let r = c.get("/console/audit?outcome=maybe", &ops);
    assert_eq!(r.status, 400, "{r:?}");

    assert_eq!(facilities(), before, "no facility was added or changed");
    assert_eq!(h.cert_list(None), certs_before, "no certificate was revoked");
    assert!(h.ok(&["enroll", "list"]).trim().is_empty(), "no credential was made");
    let _ = other_pc;
    let trail = h.ok(&["audit", "list", "--limit", "3000"]);
    let denied: Vec<&str> = trail.lines().filter(|l| l.contains("\"denied\"")).collect();
    for (actor, action, says) in [
        (format!("facility-admin:{f}"), "admin.certificate.revoke", "another facility"),
        (format!("facility-admin:{f}"), "admin.credential.create", "another facility"),
        (format!("facility-admin:{f}"), "admin.audit.read", "only hcpki operators"),
        ("operator:aud".into(), "admin.facility.approve", "read-only"),
        ("operator:ops".into(), "console.csrf", "security token"),
        ("console:anonymous".into(), "console.csrf", "evil.example"),
        ("console:anonymous".into(), "console.csrf", "no Origin"),
        ("api:anonymous".into(), "admin.facility.apply", "at most 8192 bytes"),
        ("api:anonymous".into(), "admin.facility.apply", "longer than 200"),
        ("operator:ops".into(), "admin.facility.reject", "reason is required"),
    ] {
        assert!(
            denied.iter().any(|l| l.contains(&format!("\"{actor}\""))
                && l.contains(&format!("\"{action}\""))
                && l.contains(says)),
            "no denied audit entry {actor} {action} saying {says:?}\n{}",
            denied.join("\n")
        );
    }
    h.ok(&["audit", "verify"]);
    server.stop();
}

/// A facility admin makes a PKCS#12 for a router without an enrollment client: OpenSSL and NSS read it
/// with the passphrase shown once (`issue::check_p12`), the certificate verifies under the router chain with
/// the facility's name and the extra address; another facility's admin cannot; the passphrase is in no
/// audit entry.
fn pkcs12_for_a_device_without_an_enrollment_client(b: Backend) {
    let p = Portal::start(b);
    let (h, server) = (&*p.h, p.served());
    let f = h.approved_facility("Router clinic");
    let g = h.approved_facility("Other clinic");
    let admin = issued(h, "pc", &f, &[]);
    let other = issued(h, "pc", &g, &[]);
    let c = Console::new(h, server);
    let api = Api::new(h, server);
    crate::console_card::grant_facility_admin(h, &f);
    let alice = crate::console_card::sign_in_at_pc(&p, &admin, "jar-alice", 0);
    let pc_serial = serials(h, &f).pop().unwrap();

    let page = alice.get(&api, &format!("/console/facilities/{f}"));
    assert!(page.text.contains("/pkcs12"), "{page:?}");
    let fields = [("profile", "router"), ("san", "203.0.113.7"), ("vendor", "cisco")];
    let r = alice.submit(&api, &format!("/console/facilities/{f}/pkcs12"), &fields, &page);
    assert_eq!(r.status, 201, "{r:?}");
    assert!(r.headers.to_ascii_lowercase().contains("cache-control: no-store"), "{r:?}");
    let (pass, p12) = pkcs12_of(h, &r);
    let leaf = h.path("device.pem");
    let out = std::process::Command::new("openssl")
        .args(["pkcs12", "-in", p12.to_str().unwrap(), "-passin", &format!("pass:{pass}"), "-nokeys", "-clcerts"])
        .args(["-out", leaf.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::harness::describe(&out));
    crate::issue::check_p12(h, &p12, &pass, &leaf);
    crate::peers::openssl_verify(&h.chain_file("router"), &leaf, None);
    let text = crate::fixtures::x509_text(&leaf, &["-text", "-noout"]);
    assert!(text.contains("IP Address:203.0.113.7") && text.contains(&h.router_dns_name(&f)), "{text}");
    assert!(text.contains("ipsec Internet Key Exchange"), "the cisco EKU variant: {text}");

    // Another facility's admin, with its own valid token, makes nothing for this facility.
    let theirs = c.get("/console/apply", &other);
    let before = h.cert_list(None).len();
    let r = c.submit(&format!("/console/facilities/{f}/pkcs12"), &fields, &theirs, &other);
    assert_eq!(r.status, 403, "{r:?}");
    let r = alice.submit(&api, &format!("/console/facilities/{f}/pkcs12"), &[("profile", "server")], &page);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("機器の種類") && r.text.contains("何も作成していません"), "in the admin's words: {r:?}");
    // A PC given an extra name (the issue's "take no --san" in CLI words): said in the admin's words on the form,
    // with what was typed kept and no CLI flag named (issue #45 item 1).
    let pc_named = [("profile", "pc"), ("san", "受付PC.example"), ("vendor", "")];
    let r = alice.submit(&api, &format!("/console/facilities/{f}/pkcs12"), &pc_named, &page);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(problem_of(&r).contains("追加の名前を付けられません") && !problem_of(&r).contains("--"), "{r:?}");
    assert!(r.text.contains("value=\"受付PC.example\"") && r.text.contains("value=\"pc\" selected"), "kept: {r:?}");
    let r = alice.submit(
        &api,
        &format!("/console/facilities/{f}/pkcs12"),
        &[("profile", "router"), ("san", "198.51.100.9")],
        &page,
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("割り当てられていません") && r.text.contains("198.51.100.9"), "{r:?}");
    assert_eq!(h.cert_list(None).len(), before, "nothing issued");
    // A PC's PKCS#12 leads straight to naming it (D134).
    let r = alice.submit(&api, &format!("/console/facilities/{f}/pkcs12"), &[("profile", "pc")], &page);
    assert_eq!(r.status, 201, "{r:?}");
    let link = format!("id=\"p12-name\" href=\"/console/facilities/{f}/devices/pc-");
    assert!(r.text.contains(&link), "{r:?}");
    // The credential form's refusals: on the same form in the admin's words, the choices kept (issue #45 item 1).
    let creds = format!("/console/facilities/{f}/credentials");
    for (fields, says) in [
        ([("protocol", "est"), ("profile", "router"), ("valid_for", "99d")], "有効期間は数字と単位で"),
        ([("protocol", "smtp"), ("profile", "router"), ("valid_for", "1d")], "登録方法(プロトコル)を一覧から"),
        ([("protocol", "est"), ("profile", "server"), ("valid_for", "1d")], "機器の種類(ルータ または 施設PC)"),
    ] {
        let r = alice.submit(&api, &creds, &fields, &page);
        assert_eq!(r.status, 400, "{r:?}");
        assert!(
            r.text.contains(says) && r.text.contains("何も作成していません") && !problem_of(&r).contains("--"),
            "{r:?}"
        );
        let kept = fields[2].1;
        assert!(r.text.contains(&format!("value=\"{kept}\"")), "kept: {r:?}");
    }
    let r = alice.submit(
        &api,
        &format!("{creds}?lang=en"),
        &[("protocol", "est"), ("profile", "pc"), ("valid_for", "2w")],
        &page,
    );
    assert!(r.text.contains("Give the validity as a number and a unit") && r.text.contains("value=\"2w\""), "{r:?}");
    assert!(h.ok(&["enroll", "list"]).trim().is_empty(), "no credential was made");

    let trail = h.ok(&["audit", "list", "--limit", "2000"]);
    assert!(!trail.contains(&pass), "the passphrase is stored nowhere");
    assert!(
        trail.lines().any(|l| l.contains(&format!("\"facility-admin:{f}:pc:{pc_serial}:person:pwd:alice\""))
            && l.contains("\"cert.issue\"")),
        "{trail}"
    );
    assert!(
        trail.lines().any(|l| l.contains(&format!("\"facility-admin:{g}\""))
            && l.contains("\"admin.device.issue\"")
            && l.contains("another facility")),
        "{trail}"
    );
    h.ok(&["audit", "verify"]);
}
