//! IHE IUA claims and the purpose of use (issue #29, D93, D94) read by the two independent relying-party
//! libraries: authlib (tests/peers/oidc_rp.py `iua`) validates the ID token and, with its own RFC 9068 validator,
//! the access token; openid-client and oauth4webapi (tests/peers/oidc_rp_node.mjs `iua`) do the same. The test
//! reads `extensions.ihe_iua` from what they validated. A login at a facility PC whose facility has a
//! 医療機関コード gives the organization members; refused purposes are refused at `/authorize`, audited, and
//! nothing is issued.

use crate::fixtures::{Key, csr};
use crate::harness::{Backend, Hcpki, describe, repo_root};
use crate::oidc::{self, PASSWORD, POST_LOGOUT, Portal, REDIRECT, Rp, challenge, enc, param, poll, tools, totp};
use base64::Engine as _;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;

on_both_backends!(iua_claims_and_purposes_read_by_authlib_and_openid_client);

/// The wiki asks for IUA's claims; the EMR does not.
const SERVICES: &str = r#"version = 1
[[service]]
id = "wiki"
name = "Staff wiki"
roles = []
facility_kinds = ["*"]
min_assurance = "password-totp"
claims = ["name", "ihe_iua"]
purposes = ["TREAT", "ETREAT"]
"#;
const HOME: &str = "urn:oid:1.2.392.200119.6.102";
/// A 医療機関コード of Tokyo (13), 医科 (1), with its check digit.
const MEDICAL_CODE: &str = "1311234569";

fn iua_claims_and_purposes_read_by_authlib_and_openid_client(b: Backend) {
    let extra = format!("\n[oidc]\nhome_community_id = \"{HOME}\"\n");
    let mut bob_secret = String::new();
    let p = Portal::start_with(b, &extra, |h| {
        std::fs::write(h.path("iua.toml"), SERVICES).unwrap();
        h.ok(&["service", "add", h.path("iua.toml").to_str().unwrap(), "--replace"]);
        let password = h.path("password");
        let out = h.ok(&[
            "portal",
            "user",
            "add",
            "bob",
            "--name",
            "Bob Nurse",
            "--role",
            "nurse",
            "--password-file",
            password.to_str().unwrap(),
        ]);
        bob_secret = out.lines().find_map(|l| l.strip_prefix("secret: ")).unwrap().to_owned();
    });

    // authlib: the ID token and the access token (its RFC 9068 validator), userinfo; the same IUA claims in all
    // three. No purpose in the request: treatment.
    let seen = peer(&p, "python", &bob_secret, 0, &[]);
    let at = &seen["access_token"];
    assert_eq!(seen["access_token_header"]["typ"], "at+jwt", "{seen}");
    let iua = &at["extensions"]["ihe_iua"];
    assert_eq!(iua["subject_name"], "Bob Nurse", "{seen}");
    assert_eq!(
        iua["subject_role"],
        json!({ "system": "urn:hcpki:codesystem:hc-role", "code": "nurse", "display": "看護師" }),
        "{seen}"
    );
    let treat = json!({ "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT",
        "display": "treatment" });
    assert_eq!((&iua["purpose_of_use"], &at["purpose_of_use"]), (&treat, &json!("TREAT")), "{seen}");
    assert_eq!(iua["home_community_id"], HOME, "{seen}");
    // A password login has no facility here and no HPKI registration number: those members are absent.
    for absent in ["subject_organization", "subject_organization_id", "national_provider_identifier"] {
        assert!(iua.get(absent).is_none(), "{absent}: {seen}");
    }
    assert_eq!(&seen["id_token"]["extensions"]["ihe_iua"], iua, "{seen}");
    assert_eq!(&seen["userinfo"]["extensions"]["ihe_iua"], iua, "{seen}");

    let all = json!(["TREAT", "ETREAT", "EMER", "HOPERAT", "HPAYMT", "PATRQT"]);
    assert_eq!(seen["purposes_supported"], all, "discovery: {seen}");

    // openid-client (ID token) and oauth4webapi (the access token, RFC 9068), the next TOTP step; the request
    // names emergency treatment, which the wiki accepts: the purpose travels through the grant to the tokens.
    let seen = peer(&p, "node", &bob_secret, 1, &["--purpose", "ETREAT"]);
    assert_eq!(seen["purposes_supported"], all, "discovery: {seen}");
    assert_eq!(seen["access_token"]["extensions"]["ihe_iua"]["subject_role"]["code"], "nurse", "{seen}");
    assert_eq!(seen["access_token"]["extensions"]["ihe_iua"]["purpose_of_use"]["code"], "ETREAT", "{seen}");
    assert_eq!(seen["access_token"]["purpose_of_use"], "ETREAT", "{seen}");
    assert_eq!(seen["access_token"]["extensions"]["ihe_iua"], seen["id_token"]["extensions"]["ihe_iua"], "{seen}");
    assert_eq!(seen["userinfo"]["extensions"]["ihe_iua"]["home_community_id"], HOME, "{seen}");

    // At a facility PC of a facility registered with its 医療機関コード: the organization and its identifiers.
    let (facility, cert, key) = pc_of_registered_clinic(&p.h);
    let pc = p.with_client_cert(cert, key);
    assert_eq!(pc.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let rp = Rp::load(&p);
    let tokens = oidc::code_flow(&pc, "rp1", &rp.assertion(&p, 60, None));
    let access = verified_access_token(&p, &tokens);
    let iua = &access["extensions"]["ihe_iua"];
    assert_eq!(iua["subject_organization"], "本郷クリニック", "{access}");
    assert_eq!(iua["subject_organization_id"], format!("urn:hcpki:facility:{facility}"), "{access}");
    assert_eq!(
        iua["subject_organization_identifiers"],
        json!([
            { "system": "urn:hcpki:facility", "value": facility },
            { "system": "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no", "value": MEDICAL_CODE },
        ]),
        "{access}"
    );
    assert!(iua.get("subject_role").is_none(), "alice has no hcRole: {access}");

    // Purposes refused at /authorize, at the client's redirect URI, audited, no code: one no provider knows
    // (invalid_request), one the wiki does not accept (access_denied).
    let verifier = "q".repeat(60);
    let authorize = |purpose: &str| {
        pc.get(&format!(
            "/authorize?response_type=code&client_id=rp1&scope=openid&state=s&redirect_uri={}&code_challenge={}&code_challenge_method=S256&purpose_of_use={purpose}",
            enc(REDIRECT),
            challenge(&verifier)
        ))
    };
    for (purpose, error, why) in [
        ("NORM", "invalid_request", "purpose_of_use must be one of TREAT"),
        ("HPAYMT", "access_denied", "service wiki does not accept purpose_of_use HPAYMT: it accepts TREAT, ETREAT"),
    ] {
        let r = authorize(purpose);
        assert!(r.location.starts_with(REDIRECT), "{purpose}: {r:?}");
        assert_eq!(param(&r.location, "error").as_deref(), Some(error), "{purpose}: {r:?}");
        assert!(param(&r.location, "error_description").unwrap().contains(why), "{purpose}: {r:?}");
        assert!(param(&r.location, "code").is_none(), "{purpose}: {r:?}");
        let audited = poll(|| {
            p.h.audit_entries().into_iter().find(|e| {
                e["action"] == "oidc.authorize"
                    && e["outcome"] == "denied"
                    && serde_json::to_string(&e["detail"]).unwrap().contains(why)
            })
        });
        assert_eq!(audited["target"], "rp1", "{audited}");
    }
    let granted = p.h.audit_entries().into_iter().filter(|e| {
        e["action"] == "oidc.authorize" && e["outcome"] == "ok" && e["detail"]["purpose_of_use"] == "ETREAT"
    });
    assert_eq!(granted.count(), 1, "openid-client's request, audited with its purpose");
    p.h.ok(&["audit", "verify"]);

    // IUA's limits and the home community are checked when any command reads the configuration: beyond an hour
    // is refused, naming the key and the limit, not clamped; a home community that is no URN OID too.
    let config = p.h.dir().join("hcpki.toml");
    let good = std::fs::read_to_string(&config).unwrap();
    let at = good.find("[portal]\n").unwrap() + "[portal]\n".len();
    std::fs::write(&config, format!("{}access_token_secs = 7200\n{}", &good[..at], &good[at..])).unwrap();
    let e = p.h.fails(&["service", "list"]);
    assert!(e.contains("access_token_secs = 7200: use 30 to 3600 (IHE IUA"), "{e}");
    std::fs::write(&config, good.replace(HOME, "1.2.392.200119.6.102")).unwrap();
    let e = p.h.fails(&["service", "list"]);
    assert!(e.contains("is not a URN OID: write urn:oid:"), "{e}");
    std::fs::write(&config, good).unwrap();
}

/// A PC certificate of a clinic registered with [`MEDICAL_CODE`]: (facility, cert, key).
fn pc_of_registered_clinic(h: &Hcpki) -> (String, PathBuf, PathBuf) {
    let facility = h.add_facility("本郷クリニック", Some(MEDICAL_CODE));
    h.ok(&["facility", "approve", &facility]);
    let req = csr(h.scratch(), "hongo", Key::P256, "hongo");
    let cert = h.path("hongo.pem");
    let (req, out) = (req.to_str().unwrap(), cert.to_str().unwrap());
    h.ok(&["issue", "--profile", "pc", "--facility", &facility, "--csr", req, "--out", out]);
    (facility, cert, h.path("hongo-p256.key"))
}

/// The access token of a token response, its signature verified against the JWKS; its claims.
fn verified_access_token(p: &Portal, tokens: &Value) -> Value {
    let at = tokens["access_token"].as_str().unwrap_or_else(|| panic!("{tokens}"));
    let jwks: Value = serde_json::from_str(&p.get("/jwks").body).unwrap();
    oidc::verify_jws(&jwks, at);
    let header = oidc::jws_part(at, 0);
    assert_eq!(header["typ"], "at+jwt", "{header}");
    let payload = at.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The `iua` command of a relying-party peer (`python`: authlib, `node`: openid-client) as bob, `step` TOTP steps
/// ahead, with `extra` arguments; what it saw (it must succeed).
pub(crate) fn peer(p: &Portal, which: &str, secret: &str, step: i64, extra: &[&str]) -> Value {
    let mut cmd = match which {
        "python" => {
            let mut c = Command::new(tools().join("bin/python"));
            c.arg(repo_root().join("tests/peers/oidc_rp.py"));
            c
        }
        _ => {
            let mut c = Command::new("node");
            c.arg(repo_root().join("tests/peers/oidc_rp_node.mjs"));
            c
        }
    };
    cmd.args(["iua", "--issuer", &p.issuer, "--ca", p.chain.to_str().unwrap()])
        .args(["--client-id", "rp1", "--key", p.rp_dir.join("key.pem").to_str().unwrap(), "--redirect-uri", REDIRECT])
        .args(["--post-logout", POST_LOGOUT, "--username", "bob", "--password-file"])
        .arg(p.h.path("password"))
        .args(["--totp-secret", secret]);
    if which == "node" {
        cmd.args(["--totp-step", &step.to_string()]);
    } else if step != 0 {
        panic!("the python peer takes the current TOTP step only");
    }
    let out = cmd.args(extra).output().unwrap();
    assert!(out.status.success(), "{which} relying party (iua)\n{}", describe(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", describe(&out)))
}
