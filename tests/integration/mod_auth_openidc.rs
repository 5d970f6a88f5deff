//! Issue #30 item 1 against the packaged relying-party module many intranet services sit behind: Debian 12's
//! Apache with **mod_auth_openidc** (2.4.12), which offers only secrets for the token endpoint. The operator
//! registers it with `--auth client_secret_basic` (hcpki makes the secret and prints it once); Apache, run here
//! as it is shipped (`apache2-bin`, its own configuration file), reads hcpki's discovery document, sends the
//! browser to `/authorize` with PKCE S256, and redeems the code with HTTP Basic; a password + TOTP user signs in
//! and the protected page (server-side includes of the module's claim variables) shows `sub`, `name`, `acr`
//! and the service's claims; RP-initiated logout ends hcpki's session too. Then a physician with a (virtual)
//! HPKI card at a facility PC signs in through the same module with a card login (the real card agent, pcscd):
//! the page gets the card login's `acr` and the facility the PC's certificate names. Around it: a wrong secret, a secret
//! sent to a key-only client, a secret in the form to a Basic client, and a rotated-out secret after its
//! overlap are refused with `invalid_client` and audited; nothing is issued.

use crate::agent::{self, hpki};
use crate::harness::{Backend, describe, free_port};
use crate::oidc::{self, PASSWORD, Portal, enc, totp};
use crate::pcsc_lock::pcsc_lock;
use crate::portal_card::{card_portal_with, card_session};
use base64::Engine as _;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

on_both_backends!(apache_mod_auth_openidc_signs_a_user_in_with_a_client_secret_and_pkce);

/// Debian's Apache, with the module, as a peer: a config of its own under a world-readable directory (Apache
/// drops to `nobody` for its workers when started as root).
struct Apache {
    child: Child,
    dir: PathBuf,
}

impl Apache {
    fn start(p: &Portal, secret: &str, port: u16) -> Self {
        let dir = tempfile::Builder::new().prefix("hcpki-apache").tempdir().unwrap().keep();
        let readable = |path: &Path| {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        readable(&dir);
        let htdocs = dir.join("htdocs");
        std::fs::create_dir_all(htdocs.join("protected")).unwrap();
        readable(&htdocs);
        readable(&htdocs.join("protected"));
        let page = "<html><body>\nsub=<!--#echo var=\"OIDC_CLAIM_sub\" -->\nname=<!--#echo var=\"OIDC_CLAIM_name\" -->\n\
                    acr=<!--#echo var=\"OIDC_CLAIM_acr\" -->\nfacility=<!--#echo var=\"OIDC_CLAIM_facility_id\" -->\n\
                    user=<!--#echo var=\"REMOTE_USER\" -->\n</body></html>\n";
        std::fs::write(htdocs.join("protected/index.shtml"), page).unwrap();
        std::fs::write(htdocs.join("loggedout.html"), "<html><body>signed out</body></html>\n").unwrap();
        let ca = dir.join("hcpki-ca.pem");
        std::fs::copy(p.h.chain_file("server"), &ca).unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let modules = "/usr/lib/apache2/modules";
        let passphrase = uuid::Uuid::new_v4().simple().to_string();
        let config = format!(
            r#"ServerRoot "{dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{dir}/httpd.pid"
DefaultRuntimeDir "{dir}"
ErrorLog "{dir}/error.log"
LogLevel warn auth_openidc:info
User nobody
Group nogroup
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule authz_user_module {modules}/mod_authz_user.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule include_module {modules}/mod_include.so
TypesConfig /dev/null
LoadModule auth_openidc_module {modules}/mod_auth_openidc.so
DocumentRoot "{htdocs}"
<Directory "{htdocs}">
    Options +Includes
    AddOutputFilter INCLUDES .shtml
    Require all granted
</Directory>
OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCCABundlePath "{ca}"
OIDCClientID apache-wiki
OIDCClientSecret {secret}
OIDCProviderTokenEndpointAuth client_secret_basic
OIDCPKCEMethod S256
OIDCScope "openid"
OIDCRedirectURI {base}/protected/redirect_uri
OIDCCryptoPassphrase {passphrase}
OIDCRemoteUserClaim sub
OIDCPassClaimsAs environment
<Location /protected/>
    AuthType openid-connect
    Require valid-user
</Location>
"#,
            dir = dir.display(),
            htdocs = htdocs.display(),
            ca = ca.display(),
            issuer = p.issuer,
        );
        let conf = dir.join("httpd.conf");
        std::fs::write(&conf, config).unwrap();
        let check = Command::new("/usr/sbin/apache2").arg("-t").arg("-f").arg(&conf).output().unwrap();
        assert!(check.status.success(), "apache2 -t\n{}", describe(&check));
        let mut child =
            Command::new("/usr/sbin/apache2").args(["-DFOREGROUND", "-f"]).arg(&conf).env("LANG", "C").spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = || std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            if let Ok(Some(status)) = child.try_wait() {
                panic!("Apache exited ({status}) before listening on {port}:\n{}", log());
            }
            assert!(std::time::Instant::now() < deadline, "Apache did not listen on {port}:\n{}", log());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Self { child, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `POST /token` with HTTP Basic `id:secret` (or `post`: the secret in the form), a made-up code: the answer's
/// status and JSON.
pub(crate) fn token_with_secret(p: &Portal, id: &str, secret: &str, post: bool) -> (u16, serde_json::Value) {
    let mut args = vec!["--data-urlencode".to_owned(), "grant_type=authorization_code".to_owned()];
    args.extend(["--data-urlencode".to_owned(), "code=nothing.nothing".to_owned()]);
    if post {
        args.extend(["--data-urlencode".to_owned(), format!("client_id={id}")]);
        args.extend(["--data-urlencode".to_owned(), format!("client_secret={secret}")]);
    } else {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret)));
        args.extend(["-H".to_owned(), format!("Authorization: Basic {basic}")]);
    }
    args.push(format!("{}/token", p.issuer));
    let r = p.curl(&args.iter().map(String::as_str).collect::<Vec<_>>());
    (r.status, serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}")))
}

fn apache_mod_auth_openidc_signs_a_user_in_with_a_client_secret_and_pkce(b: Backend) {
    // Registrations are re-read every second here (`services_refresh_secs`), so a rotation made with the CLI
    // reaches the running server quickly; the admin API's rotation takes effect on its own replica at once.
    let agent_port = free_port();
    let agent_origin = format!("http://127.0.0.1:{agent_port}");
    let p = card_portal_with(b, &agent_origin, "services_refresh_secs = 1\ncard_presence_secs = 600\n", |_| ());
    // The operator registers the module's client: hcpki makes the secret and prints it once.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let out = p.h.ok(&[
        "oidc",
        "client",
        "add",
        "--id",
        "apache-wiki",
        "--redirect-uri",
        &format!("{base}/protected/redirect_uri"),
        "--auth",
        "client_secret_basic",
        "--service",
        "wiki",
        "--post-logout-redirect-uri",
        &format!("{base}/loggedout.html"),
    ]);
    let secret = out.lines().find_map(|l| l.strip_prefix("client_secret: ")).unwrap().to_owned();
    assert_eq!(secret.len(), 43, "256 random bits: {out}");
    let listed = p.h.ok(&["oidc", "client", "list"]);
    assert!(listed.contains("client_secret_basic") && !listed.contains(&secret), "{listed}");
    let discovery = p.get("/.well-known/openid-configuration");
    assert!(discovery.body.contains("client_secret_basic"), "{discovery:?}");

    let apache = Apache::start(&p, &secret, port);
    // The browser at the protected page is sent to hcpki with PKCE S256.
    let r = p.curl(&[&format!("{base}/protected/index.shtml")]);
    assert_eq!(r.status, 302, "{r:?}\n{}", apache.log());
    let authorize = r.location.clone();
    assert!(authorize.starts_with(&format!("{}/authorize?", p.issuer)), "{authorize}");
    assert!(authorize.contains("code_challenge_method=S256") && authorize.contains("client_id=apache-wiki"));
    // Not signed in: the login page; the staff member signs in with password and TOTP, and the same request
    // gives the code.
    let path = authorize.strip_prefix(&p.issuer).unwrap();
    assert_eq!(p.get(path).status, 303);
    assert_eq!(p.login("alice", PASSWORD, &totp(&p.totp_secret, 0), None).status, 303);
    let r = p.get(path);
    assert_eq!(r.status, 303, "{r:?}");
    assert!(r.location.starts_with(&format!("{base}/protected/redirect_uri?")), "{r:?}");
    // Apache redeems the code with HTTP Basic and PKCE, and lets the browser in.
    let r = p.curl(&[&r.location]);
    assert_eq!(r.status, 302, "{r:?}\n{}", apache.log());
    let r = p.curl(&[&format!("{base}/protected/index.shtml")]);
    assert_eq!(r.status, 200, "{r:?}\n{}", apache.log());
    let line =
        |name: &str| r.body.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).unwrap_or_default().to_owned();
    assert!(!line("sub").is_empty() && line("sub") == line("user"), "{}", r.body);
    assert_eq!(line("name"), "Alice Staff", "{}", r.body);
    assert!(line("acr").contains("password"), "{}", r.body);

    // Secrets refused: a wrong one, one sent in the form to a Basic client, one sent to a key-only client.
    let (status, e) = token_with_secret(&p, "apache-wiki", "not-the-secret", false);
    assert_eq!((status, e["error"].as_str()), (401, Some("invalid_client")), "{e}");
    let (status, e) = token_with_secret(&p, "apache-wiki", &secret, true);
    assert_eq!((status, e["error"].as_str()), (401, Some("invalid_client")), "{e}");
    let (status, e) = token_with_secret(&p, "rp1", &secret, false);
    assert_eq!((status, e["error"].as_str()), (401, Some("invalid_client")), "{e}");
    // No secret at all (only client_id, as a public client would send): refused for the secret client and for
    // the key-based rp1 alike — `none` is for clients registered as public.
    for id in ["apache-wiki", "rp1"] {
        let form = format!("grant_type=authorization_code&code=nothing.nothing&client_id={id}");
        let r = p.curl(&["--data", &form, &format!("{}/token", p.issuer)]);
        let e: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{r:?}"));
        assert_eq!((r.status, e["error"].as_str()), (401, Some("invalid_client")), "{id}: {e}");
    }
    // The right secret over Basic authenticates (the made-up code is then the grant's refusal, not the client's).
    let (status, e) = token_with_secret(&p, "apache-wiki", &secret, false);
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")), "{e}");

    // RP-initiated logout through the module ends hcpki's session too.
    let logout = format!("{base}/protected/redirect_uri?logout={}", enc(&format!("{base}/loggedout.html")));
    let r = p.curl(&[&logout]);
    assert_eq!(r.status, 302, "{r:?}\n{}", apache.log());
    assert!(r.location.starts_with(&format!("{}/logout?", p.issuer)), "{r:?}");
    let path = r.location.strip_prefix(&p.issuer).unwrap().to_owned();
    let r = p.get(&path);
    assert_eq!(r.status, 303, "{r:?}");
    assert!(r.location.starts_with(&format!("{base}/loggedout.html")), "{r:?}");
    let home = p.get("/");
    assert_ne!(home.status, 200, "hcpki's session ended: {home:?}");
    let r = p.curl(&[&format!("{base}/protected/index.shtml")]);
    assert_eq!(r.status, 302, "Apache's session ended too: {r:?}");

    // The physician: the HPKI card in the facility PC's reader, the card login, then the module's page.
    // The PC's certificate needs no reader: issued before the readers' lock (its holders take turns).
    let (facility, cert, key) = oidc::issue_pc(&p.h, "Apache clinic");
    let doc = p.with_client_cert(cert, key).other_browser("doc-jar");
    let _pcsc = pcsc_lock();
    let agent = agent::Served::start_for(&p.issuer, &format!("127.0.0.1:{agent_port}"));
    let _card = agent::insert(hpki(), 0);
    agent.wait_card(0, "hpki");
    card_session(&doc, &agent);
    let r = doc.curl(&[&format!("{base}/protected/index.shtml")]);
    assert_eq!(r.status, 302, "{r:?}\n{}", apache.log());
    let r = doc.get(r.location.strip_prefix(&doc.issuer).unwrap());
    assert!(r.location.starts_with(&format!("{base}/protected/redirect_uri?")), "no second tap: {r:?}");
    assert_eq!(doc.curl(&[&r.location]).status, 302, "{}", apache.log());
    let r = doc.curl(&[&format!("{base}/protected/index.shtml")]);
    assert_eq!(r.status, 200, "{r:?}\n{}", apache.log());
    let line =
        |name: &str| r.body.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).unwrap_or_default().to_owned();
    assert!(!line("sub").is_empty() && line("name") != "Alice Staff" && !line("name").is_empty(), "{}", r.body);
    assert_eq!(line("acr"), "urn:hcpki:acr:card-pin-facility-mtls", "{}", r.body);
    assert_eq!(line("facility"), facility, "{}", r.body);

    // A rotation with no overlap: the old secret stops at once, the new one works.
    let out = p.h.ok(&["oidc", "client", "rotate-secret", "apache-wiki", "--overlap", "0s"]);
    let new = out.lines().find_map(|l| l.strip_prefix("client_secret: ")).unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while token_with_secret(&p, "apache-wiki", &secret, false).0 != 401 {
        assert!(std::time::Instant::now() < deadline, "the rotated-out secret still works");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let (status, e) = token_with_secret(&p, "apache-wiki", &new, false);
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")), "{e}");

    // The deployment forbids secrets (`[oidc] client_secrets = false`; a replica started with it, the database
    // shared): the current secret — leaked or not — no longer authenticates, discovery stops offering the
    // methods, and no new secret client can be registered; the key-based clients carry on.
    let cfg = p.h.dir().join("hcpki.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[oidc]\nclient_secrets = false\n");
    std::fs::write(&cfg, text).unwrap();
    let strict = p.replica();
    let (status, e) = token_with_secret(&strict, "apache-wiki", &new, false);
    assert_eq!((status, e["error"].as_str()), (401, Some("invalid_client")), "{e}");
    assert!(e["error_description"].as_str().is_some_and(|d| d.contains("client_secrets = false")), "{e}");
    let discovery: serde_json::Value =
        serde_json::from_str(&strict.get("/.well-known/openid-configuration").body).unwrap();
    let methods = discovery["token_endpoint_auth_methods_supported"].to_string();
    assert!(!methods.contains("client_secret") && methods.contains("private_key_jwt"), "{methods}");
    // Each endpoint's methods come from its declaration (D110): no `none` at introspection, `none` at revocation.
    let introspection = discovery["introspection_endpoint_auth_methods_supported"].to_string();
    assert!(!introspection.contains("\"none\"") && introspection.contains("tls_client_auth"), "{introspection}");
    assert!(discovery["revocation_endpoint_auth_methods_supported"].to_string().contains("\"none\""), "{discovery}");
    // The grant types from `oidc::grant_type::GrantType`, the values `/token` reads.
    let grants: Vec<&str> =
        discovery["grant_types_supported"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    assert_eq!(
        grants,
        [
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "client_credentials"
        ],
        "{discovery}"
    );
    let refused = p.h.fails(&[
        "oidc",
        "client",
        "add",
        "--id",
        "apache-2",
        "--redirect-uri",
        &format!("{base}/protected/redirect_uri"),
        "--auth",
        "client_secret_post",
        "--service",
        "wiki",
    ]);
    assert!(refused.contains("client_secrets = false"), "{refused}");
    assert!(!p.h.ok(&["oidc", "client", "list"]).contains("apache-2"), "nothing registered");

    // The audit: the registration and the rotation with the method, the refusals with how the client tried;
    // never a secret.
    let log = p.h.audit_entries();
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains(&secret) && !text.contains(&new), "a secret in the audit log");
    let signed_in = log.iter().filter(|e| e["action"] == "oidc.authorize" && e["target"] == "apache-wiki");
    let methods: Vec<&Value> = signed_in.map(|e| &e["detail"]["client_auth"]).collect();
    assert!(methods.len() >= 2 && methods.iter().all(|m| *m == "client_secret_basic"), "{methods:?}");
    let add = log.iter().find(|e| e["action"] == "oidc.client.add" && e["target"] == "apache-wiki").unwrap();
    assert_eq!(add["detail"]["auth"], "client_secret_basic", "{add}");
    assert!(log.iter().any(|e| e["action"] == "oidc.client.secret_rotate"), "rotation audited");
    let unauthenticated = log
        .iter()
        .filter(|e| e["action"] == "oidc.client.authenticate" && e["detail"]["sent"] == "none_or_certificate")
        .count();
    assert!(unauthenticated >= 2, "the two requests with only client_id, audited: {log:?}");
    let refusals: Vec<_> = log
        .iter()
        .filter(|e| e["action"] == "oidc.client.authenticate" && e["detail"]["sent"] == "http_basic")
        .collect();
    assert!(refusals.len() >= 4, "{refusals:?}");
    let forbidden = refusals.iter().any(|e| {
        e["target"] == "apache-wiki"
            && e["detail"]["reason"].as_str().is_some_and(|r| r.contains("client_secrets = false"))
    });
    assert!(forbidden, "the refusal under client_secrets = false, audited with its reason: {refusals:?}");
    p.h.ok(&["audit", "verify"]);
}
