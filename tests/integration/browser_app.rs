//! Issue #30 item 2, browser apps: a public client whose page runs in the browser redeems its code, calls
//! userinfo and revokes its token from its own origin, in headless Chromium — which enforces CORS as every
//! browser does, so the page reads an answer only if hcpki allowed its origin. The app is registered with
//! `--auth none` and a redirect URI on its origin, its page served by Python's http.server on a loopback port
//! (a secure context, so WebCrypto works; and in the portal's own address space, as a facility's intranet app
//! is, so Chromium's Local Network Access asks no one); the page's script makes its own DPoP key and proofs with WebCrypto, reads the `DPoP-Nonce` of the
//! `use_dpop_nonce` answer (exposed to it) and retries, and presents the bound token at userinfo. A page on
//! another origin can read discovery (a public document) but neither `/token` (its preflight refused) nor
//! `/revoke` (answered without the headers); a confidential client's site is no browser app's origin.

use crate::browser::{Chromium, nss_trust};
use crate::harness::{Backend, free_port};
use crate::oidc::{self, PASSWORD, Portal, enc, totp};
use crate::public_client::APP_SERVICE;
use serde_json::{Value, json};

on_both_backends!(a_browser_app_redeems_its_code_and_calls_userinfo_from_its_own_origin);

/// A site's static pages (`cb.html`, `index.html`: empty pages the test's scripts run in) on a loopback port:
/// Python's http.server, stopped on drop.
struct Site {
    origin: String,
    child: std::process::Child,
}

impl Site {
    fn start(dir: &std::path::Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        for page in ["cb.html", "index.html"] {
            std::fs::write(dir.join(page), "<!doctype html><html lang=\"en\"><title>app</title><p>app</p>\n").unwrap();
        }
        let port = free_port();
        let child = std::process::Command::new("python3")
            .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "http.server did not listen on {port}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self { origin: format!("http://127.0.0.1:{port}"), child }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn a_browser_app_redeems_its_code_and_calls_userinfo_from_its_own_origin(b: Backend) {
    let scratch = tempfile::tempdir().unwrap();
    let (app, other) = (Site::start(&scratch.path().join("app")), Site::start(&scratch.path().join("other")));
    let (app_origin, other_origin) = (app.origin.as_str(), other.origin.as_str());
    let redirect = format!("{app_origin}/cb.html");
    let p = Portal::start_with(b, "", |h| {
        let services = h.path("app-service.toml");
        std::fs::write(&services, APP_SERVICE).unwrap();
        h.ok(&["service", "add", services.to_str().unwrap()]);
        h.ok(&["oidc", "client", "add", "--id", "web-emr", "--redirect-uri", &redirect, "--auth", "none"]
            .into_iter()
            .chain(["--service", "desktop-emr"])
            .collect::<Vec<_>>());
    });

    // Preflights as a browser sends them: the app's origin gets the CORS answer; another site, and the
    // confidential rp1's site (its redirect URI's origin), get a 403 saying why.
    // The answer and its headers (lower-cased).
    let preflight = |origin: &str| {
        let dump = p.h.path(&format!("preflight-{}", origin.rsplit(':').next().unwrap()));
        let r = p.curl(&[
            "-X",
            "OPTIONS",
            "-H",
            &format!("Origin: {origin}"),
            "-H",
            "Access-Control-Request-Method: POST",
            "-H",
            "Access-Control-Request-Headers: content-type, dpop",
            "-H",
            "Access-Control-Request-Private-Network: true",
            "-D",
            dump.to_str().unwrap(),
            &format!("{}/token", p.issuer),
        ]);
        (r, std::fs::read_to_string(&dump).unwrap().to_ascii_lowercase())
    };
    let (ok, headers) = preflight(app_origin);
    assert_eq!(ok.status, 204, "{ok:?}");
    assert!(headers.contains(&format!("access-control-allow-origin: {app_origin}")), "{headers}");
    assert!(headers.contains("access-control-allow-headers: authorization, content-type, dpop"), "{headers}");
    assert!(!headers.contains("access-control-allow-credentials"), "never cookies: {headers}");
    // A browser still on Private Network Access asks whether a page outside the facility network may reach it.
    assert!(headers.contains("access-control-allow-private-network: true"), "{headers}");
    for origin in [other_origin, "http://127.0.0.1:9"] {
        let (refused, headers) = preflight(origin);
        assert_eq!(refused.status, 403, "{origin}: {refused:?}");
        assert!(!headers.contains("access-control-allow-origin"), "{headers}");
        assert!(refused.body.contains("--auth none"), "says what to do: {refused:?}");
    }

    // The person signs in (curl, then the cookies into Chromium); the app sends the browser to /authorize.
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let home = p.h.path("app-browser-home");
    nss_trust(&home, &p.h.chain_file("server"));
    let mut browser = Chromium::start(&home, &p.h.path("app-chromium-profile"));
    for (name, value) in p.cookies() {
        browser.cmd(json!({"cmd": "cookie", "url": p.issuer, "name": name, "value": value}));
    }
    let verifier = "w".repeat(64);
    let authorize = format!(
        "{}/authorize?response_type=code&client_id=web-emr&scope=openid&redirect_uri={}&code_challenge={}&code_challenge_method=S256&state=s",
        p.issuer,
        enc(&redirect),
        oidc::challenge(&verifier)
    );
    let landed = browser.goto(&authorize);
    assert!(landed.starts_with(&format!("{redirect}?")) && landed.contains("code="), "{landed}");

    // The app's script, in its page.
    let seen = browser.eval(&app_script(&p.issuer, &redirect, &verifier));
    assert_eq!(seen["first"], json!({ "status": 400, "error": "use_dpop_nonce" }), "{seen}");
    assert_eq!(seen["nonce_readable"], true, "DPoP-Nonce exposed to the page: {seen}");
    assert_eq!(seen["token"], json!({ "status": 200, "token_type": "DPoP", "expires_in": 300, "refresh": true }));
    assert_eq!((&seen["userinfo"]["status"], &seen["userinfo"]["name"]), (&json!(200), &json!("Alice Staff")));
    assert_eq!(seen["as_bearer"]["status"], 401, "{seen}");
    let challenge = seen["as_bearer"]["www_authenticate"].as_str().unwrap_or_default();
    assert!(challenge.starts_with("DPoP error=\"invalid_token\""), "the challenge is readable: {seen}");
    assert_eq!((&seen["revoke"], &seen["jwks_keys"].as_u64().is_some_and(|n| n > 0)), (&json!(200), &true));

    // Another site's page: discovery yes; /token and /revoke unreadable (the browser says only TypeError).
    browser.goto(&format!("{other_origin}/index.html"));
    let other = browser.eval(&other_site_script(&p.issuer));
    assert_eq!(
        other,
        json!({ "discovery": p.issuer, "token": "blocked: TypeError", "revoke": "blocked: TypeError" }),
        "{other}"
    );
}

/// The browser app: discovery, its own P-256 DPoP key (not extractable), the code redeemed with a proof (the
/// first without a nonce, answered `use_dpop_nonce`), userinfo with a proof carrying `ath`, the token as a
/// bearer token (refused, the challenge read), revocation, the JWKS. What it read, as JSON.
fn app_script(issuer: &str, redirect: &str, verifier: &str) -> String {
    format!(
        r#"(async () => {{
  const issuer = {issuer}, redirect = {redirect}, verifier = {verifier};
  const out = {{}};
  const conf = await (await fetch(issuer + '/.well-known/openid-configuration')).json();
  const code = new URL(location.href).searchParams.get('code');
  const keys = await crypto.subtle.generateKey({{ name: 'ECDSA', namedCurve: 'P-256' }}, false, ['sign']);
  const pub = await crypto.subtle.exportKey('jwk', keys.publicKey);
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const part = (obj) => b64(new TextEncoder().encode(JSON.stringify(obj)));
  const proof = async (htm, htu, nonce, ath) => {{
    const header = {{ typ: 'dpop+jwt', alg: 'ES256', jwk: {{ kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y }} }};
    const claims = {{ jti: crypto.randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) }};
    if (nonce) claims.nonce = nonce;
    if (ath) claims.ath = ath;
    const input = part(header) + '.' + part(claims);
    const sig = await crypto.subtle.sign({{ name: 'ECDSA', hash: 'SHA-256' }}, keys.privateKey, new TextEncoder().encode(input));
    return input + '.' + b64(sig);
  }};
  const body = () => new URLSearchParams({{ grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: verifier, client_id: 'web-emr' }});
  let r = await fetch(conf.token_endpoint, {{ method: 'POST', body: body(), headers: {{ DPoP: await proof('POST', conf.token_endpoint) }} }});
  out.first = {{ status: r.status, error: (await r.json()).error }};
  const nonce = r.headers.get('DPoP-Nonce');
  out.nonce_readable = Boolean(nonce);
  r = await fetch(conf.token_endpoint, {{ method: 'POST', body: body(), headers: {{ DPoP: await proof('POST', conf.token_endpoint, nonce) }} }});
  const tokens = await r.json();
  out.token = {{ status: r.status, token_type: tokens.token_type, expires_in: tokens.expires_in, refresh: Boolean(tokens.refresh_token) }};
  const ath = b64(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(tokens.access_token)));
  const next = r.headers.get('DPoP-Nonce');
  r = await fetch(conf.userinfo_endpoint, {{ headers: {{ Authorization: 'DPoP ' + tokens.access_token, DPoP: await proof('GET', conf.userinfo_endpoint, next, ath) }} }});
  out.userinfo = {{ status: r.status, ...(await r.json()) }};
  r = await fetch(conf.userinfo_endpoint, {{ headers: {{ Authorization: 'Bearer ' + tokens.access_token }} }});
  out.as_bearer = {{ status: r.status, www_authenticate: r.headers.get('WWW-Authenticate') }};
  r = await fetch(conf.revocation_endpoint, {{ method: 'POST', body: new URLSearchParams({{ token: tokens.refresh_token, client_id: 'web-emr' }}) }});
  out.revoke = r.status;
  out.jwks_keys = (await (await fetch(conf.jwks_uri)).json()).keys.length;
  return out;
}})()"#,
        issuer = Value::from(issuer),
        redirect = Value::from(redirect),
        verifier = Value::from(verifier),
    )
}

/// Another site's page trying the same endpoints.
fn other_site_script(issuer: &str) -> String {
    format!(
        r#"(async () => {{
  const issuer = {issuer};
  const out = {{}};
  out.discovery = (await (await fetch(issuer + '/.well-known/openid-configuration')).json()).issuer;
  const attempt = async (path, init) => {{
    try {{ await fetch(issuer + path, init); return 'read'; }} catch (e) {{ return 'blocked: ' + e.name; }}
  }};
  const form = new URLSearchParams({{ grant_type: 'refresh_token', refresh_token: 'x.y', client_id: 'web-emr' }});
  out.token = await attempt('/token', {{ method: 'POST', body: form, headers: {{ DPoP: 'x' }} }});
  out.revoke = await attempt('/revoke', {{ method: 'POST', body: new URLSearchParams({{ token: 'x.y', client_id: 'web-emr' }}) }});
  return out;
}})()"#,
        issuer = Value::from(issuer),
    )
}
