//! Relying parties registered by the operator (issue #6: "clients are registered by the operator (CLI/API)"):
//! `hcpki oidc client add|list|remove` and the admin API's `/api/v1/oidc-clients` (mutual TLS with an
//! operator certificate), one code behind both. What one adds the other lists; a client added over the API
//! works at once; PAR required (RFC 9126 §6) by the CLI's flag or the API's field is listed by both and
//! enforced at once; removal revokes its grants; auditors may list, facility admins nothing, and every change
//! and refusal is audited with its actor.

use crate::admin::{Api, As, issued, operator};
use crate::console_card::count;
use crate::harness::Backend;
use crate::oidc::{PASSWORD, Portal, REDIRECT, Rp, challenge, code_flow, enc, param, service_client, totp};
use serde_json::{Value, json};

on_both_backends!(operators_register_list_and_remove_clients_by_cli_and_api);

fn operators_register_list_and_remove_clients_by_cli_and_api(b: Backend) {
    let mut who = None;
    let p = Portal::start_with(b, "", |h| {
        let f = h.approved_facility("Client clinic");
        who = Some((operator(h, "ops", "operator"), operator(h, "aud", "auditor"), issued(h, "pc", &f, &[])));
    });
    let (ops, aud, pc) = who.unwrap();
    let h = &*p.h;
    let api = Api::new(h, p.served());
    let ids = |r: &crate::admin::Reply| -> Vec<String> {
        r.json["clients"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
    };

    // The CLI lists what Portal::start registered; the API (an auditor may read) the same.
    let listed = h.ok(&["oidc", "client", "list"]);
    assert!(listed.lines().any(|l| l.starts_with("rp1 ") && l.contains("private_key_jwt") && l.contains("wiki")));
    let r = api.get("/api/v1/oidc-clients", &aud);
    assert_eq!((r.status, ids(&r)), (200, vec!["emr".to_owned(), "rp1".to_owned()]), "{r:?}");
    let rp1 = r.json["clients"].as_array().unwrap().iter().find(|c| c["id"] == "rp1").unwrap();
    assert_eq!(
        (&rp1["auth"], &rp1["service"], &rp1["redirect_uris"]),
        (&json!("private_key_jwt"), &json!("wiki"), &json!([REDIRECT]))
    );

    // An operator registers a client over the API, with the fields of `hcpki oidc client add`.
    let jwks: Value = serde_json::from_str(&std::fs::read_to_string(p.rp_dir.join("jwks.json")).unwrap()).unwrap();
    let body = json!({
        "id": "api-rp", "redirect_uris": [REDIRECT], "auth": "private_key_jwt", "jwks": jwks, "service": "wiki",
        "id_token_signed_response_alg": "RS256",
    });
    let r = api.post("/api/v1/oidc-clients", &body, &ops);
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(
        (&r.json["created_by"], &r.json["id_token_signed_response_alg"]),
        (&json!("operator:ops"), &json!("RS256"))
    );
    let listed = h.ok(&["oidc", "client", "list"]);
    assert!(listed.lines().any(|l| l.starts_with("api-rp ") && l.contains("wiki")), "{listed}");
    // It works at once: a code flow, an RS256 ID token.
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let tokens = code_flow(&p, "api-rp", &Rp::load(&p).assertion_as(&p, "api-rp", 60, None));
    let header = tokens["id_token"].as_str().unwrap().split('.').next().unwrap().to_owned();
    assert!(header.starts_with("eyJhbGciOiJSUzI1NiI"), "an RS256 ID token: {tokens}");

    // PAR required (RFC 9126 §6): the API's field and the CLI's flag, each listed by both and enforced at once
    // (a plain authorization request refused back at the client); omitted, as the RFC's default, is false.
    let mut par = body.clone();
    par["id"] = json!("api-par");
    par["require_pushed_authorization_requests"] = json!(true);
    let r = api.post("/api/v1/oidc-clients", &par, &ops);
    assert_eq!((r.status, &r.json["require_pushed_authorization_requests"]), (201, &json!(true)), "{r:?}");
    let out =
        h.ok(&service_client(h, "cli-par", "wiki", &["--require-par"]).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.contains("pushed requests only"), "{out}");
    let listed = h.ok(&["oidc", "client", "list"]);
    for (id, required) in [("api-par", true), ("cli-par", true), ("api-rp", false), ("rp1", false)] {
        let line = listed.lines().find(|l| l.starts_with(&format!("{id} "))).unwrap_or_else(|| panic!("{listed}"));
        assert_eq!(line.contains(" par-required "), required, "{line}");
    }
    let r = api.get("/api/v1/oidc-clients", &aud);
    let flag = |id: &str| {
        let c = r.json["clients"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap();
        c.get("require_pushed_authorization_requests").cloned()
    };
    assert_eq!((flag("api-par"), flag("cli-par"), flag("api-rp")), (Some(json!(true)), Some(json!(true)), None));
    for id in ["api-par", "cli-par"] {
        let r = p.get(&format!(
            "/authorize?response_type=code&client_id={id}&scope=openid&redirect_uri={}&code_challenge={}\
             &code_challenge_method=S256",
            enc(REDIRECT),
            challenge(&"k".repeat(60))
        ));
        assert_eq!(param(&r.location, "error").as_deref(), Some("invalid_request"), "{id}: {r:?}");
        assert!(param(&r.location, "code").is_none(), "{id} was served a plain request: {r:?}");
    }

    // Refused and audited: who may not, and what the registration rules refuse (the CLI's messages).
    for (whom, name, status) in [(&aud, "auditor", 403), (&pc, "facility admin", 403), (&As::Nobody, "anonymous", 401)]
    {
        let other = json!({ "id": "x", "redirect_uris": [REDIRECT], "auth": "private_key_jwt", "jwks": jwks, "service": "wiki" });
        assert_eq!(api.post("/api/v1/oidc-clients", &other, whom).status, status, "{name} registered a client");
        let r = api.request("DELETE", "/api/v1/oidc-clients/rp1", None, whom, &[]);
        assert_eq!(r.status, status, "{name} removed a client: {r:?}");
    }
    assert_eq!(api.get("/api/v1/oidc-clients", &pc).status, 403, "a facility admin listed the clients");
    let refused = |change: Value, status: u16, says: &str| {
        let mut body = body.clone();
        body.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        let r = api.post("/api/v1/oidc-clients", &body, &ops);
        assert!(r.status == status && r.text.contains(says), "{change}: {r:?}");
    };
    refused(json!({}), 409, "exists already");
    refused(json!({ "id": "x", "service": "nope" }), 400, "no service");
    refused(json!({ "id": "x", "id_token_signed_response_alg": "HS256" }), 400, "unknown variant `HS256`");
    refused(json!({ "id": "x", "redirect_uris": ["http://rp.example/cb"] }), 400, "https://");
    refused(json!({ "id": "x", "auth": "tls_client_auth" }), 400, "subject DN");
    refused(json!({ "id": "hcpki-console" }), 400, "console");
    refused(json!({ "id": "x", "secret": "s" }), 400, "unknown field");
    refused(json!({ "id": "x", "require_pushed_authorization_requests": "yes" }), 400, "invalid type");
    let err = h.fails(
        &["oidc", "client", "add", "--id", "x", "--redirect-uri", REDIRECT, "--auth", "tls_client_auth"]
            .into_iter()
            .chain(["--service", "wiki"])
            .collect::<Vec<_>>(),
    );
    assert!(err.contains("subject DN"), "the CLI refuses as the API does: {err}");
    let r = api.get("/api/v1/oidc-clients", &ops);
    assert_eq!(ids(&r), ["api-par", "api-rp", "cli-par", "emr", "rp1"], "refusals registered nothing: {r:?}");

    // Removal over the API revokes the client's grants; removing it again is 404; the CLI removes too.
    let r = api.request("DELETE", "/api/v1/oidc-clients/api-rp", None, &ops, &[]);
    assert_eq!((r.status, &r.json["removed"]), (200, &json!("api-rp")), "{r:?}");
    let bearer = format!("Authorization: Bearer {}", tokens["access_token"].as_str().unwrap());
    assert_eq!(p.curl(&["-H", &bearer, &format!("{}/userinfo", p.issuer)]).status, 401, "its token outlived it");
    assert_eq!(api.request("DELETE", "/api/v1/oidc-clients/api-rp", None, &ops, &[]).status, 404);
    h.ok(&["oidc", "client", "remove", "emr"]);
    let err = h.fails(&["oidc", "client", "remove", "emr"]);
    assert!(err.contains("no client emr"), "{err}");
    assert_eq!(ids(&api.get("/api/v1/oidc-clients", &aud)), ["api-par", "cli-par", "rp1"]);
    assert!(!h.ok(&["oidc", "client", "list"]).contains("emr "), "the CLI still lists emr");

    let entries = h.audit_entries();
    let by =
        |action: &str, actor: &str| entries.iter().filter(|e| e["action"] == action && e["actor"] == actor).count();
    assert_eq!(by("oidc.client.add", "operator:ops"), 2, "{entries:?}");
    assert_eq!(by("oidc.client.remove", "operator:ops"), 1, "{entries:?}");
    assert_eq!(count(&entries, "oidc.client.remove", "ok"), 2, "{entries:?}");
    // auditor ×2, facility admin ×2, anonymous ×2, eight bad registrations and the second removal.
    assert_eq!(count(&entries, "admin.oidc_client.manage", "denied"), 15, "{entries:?}");
    assert_eq!(count(&entries, "admin.oidc_client.list", "denied"), 1, "{entries:?}");
    h.ok(&["audit", "verify"]);
}
