//! SCEP (RFC 8894) against real clients: certmonger (`getcert add-scep-ca` + `request`, AES), micromdm
//! `scepclient` (DES only, so on a `legacy_ciphers` endpoint), strongSwan `pki --scep` (enroll, renew with
//! the old certificate, and the held-for-approval flow with polling). Every refusal is checked for its
//! failInfo or HTTP status, its audit entry, and that nothing was issued. Certificates pass `openssl verify`
//! against `hcpki ca chain` and pkilint.

use crate::fixtures::{run_ok, x509_text};
use crate::harness::{Backend, Hcpki, describe};
use crate::peers::{self, Pkilint};
use crate::serve::Served;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

on_both_backends!(
    certmonger_enrolls_a_pc_with_aes,
    scepclient_enrolls_a_router_on_a_legacy_endpoint,
    strongswan_enrolls_and_renews_a_router,
    held_request_is_approved_and_polled,
    bad_input_is_refused_audited_and_issues_nothing,
    strongswan_enrolls_through_an_ra_key_on_softhsm,
    held_request_on_one_replica_is_polled_from_the_other,
);

/// certmonger enrolls a PC over AES (its default) with a challenge; the CSR's requested keyCertSign and
/// codeSigning EKU are not copied.
fn certmonger_enrolls_a_pc_with_aes(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("certmonger clinic");
    let server = Served::start(&h, &[]);
    let scep = Scep::new(&h, &server, "pc");
    let challenge = scep.challenge(&id, "pc");
    let cert = scep.certmonger(&challenge, "pc1", &["-u", "keyCertSign", "-U", "1.3.6.1.5.5.7.3.3"]);
    peers::openssl_verify(&h.chain_file("pc"), &cert, Some("sslclient"));
    // The RA certificate itself chains to the PC CA; both lint clean.
    peers::openssl_verify(&h.chain_file("pc"), &scep.ra, None);
    let mut lint = Pkilint::certs();
    lint.add(&cert);
    lint.add(&scep.ra);
    lint.check();
    let text = x509_text(&cert, &["-text"]);
    assert!(!text.contains("Certificate Sign") && !text.contains("Code Signing"), "{text}");
    assert!(text.contains(&format!("/facility/{id}/device/")), "{text}");
    assert_eq!(h.cert_list(Some(&id)).len(), 1);
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    assert!(audit.contains("scep:credential:"), "issuance actor is the credential\n{audit}");
    server.stop();
}

/// micromdm scepclient only encrypts with DES: refused (badAlg) on the default endpoint, enrolled on one
/// configured with `legacy_ciphers = true`, where strongSwan also enrolls with 3DES.
fn scepclient_enrolls_a_router_on_a_legacy_endpoint(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("scepclient clinic");
    h.append_config("\n[serve.scep.legacy]\nprofile = \"router\"\nlegacy_ciphers = true\n");
    let server = Served::start(&h, &[]);
    let scep = Scep::new(&h, &server, "router");
    let challenge = scep.challenge(&id, "router");

    let refused = scep.scepclient("router", &challenge, "refused");
    assert!(!refused.status.success(), "DES must be refused by default:\n{}", describe(&refused));
    assert!(describe(&refused).contains("badAlg"), "{}", describe(&refused));
    assert!(h.ok(&["audit", "list", "--limit", "1000"]).contains("DES-CBC is not accepted"));
    assert_eq!(h.cert_list(Some(&id)).len(), 0);

    let out = scep.scepclient("legacy", &challenge, "legacy");
    assert!(out.status.success(), "{}", describe(&out));
    let cert = h.path("scepclient-legacy/cert.pem");
    let mut lint = Pkilint::certs();
    check_router(&h, &cert, &[&format!("DNS:{}", h.router_dns_name(&id))], &mut lint);
    assert!(scep.caps("legacy").contains("DES3") && !scep.caps("router").contains("DES3"));

    // 3DES from strongSwan on the legacy endpoint; the answer comes back in 3DES too.
    let des3 = h.path("des3.pem");
    let args = ["--password", &scep.challenge(&id, "router"), "--cipher", "des3"];
    let out = scep.pki_scep("legacy", &scep.pki_key("des3"), "CN=gw", &args, &des3);
    assert!(out.status.success(), "{}", describe(&out));
    check_router(&h, &des3, &[&format!("DNS:{}", h.router_dns_name(&id))], &mut lint);
    lint.check();
    server.stop();
}

/// strongSwan enrolls an RSA router with a challenge and a requested IP SAN, then renews it with a new key
/// signed by the old certificate (RenewalReq): same subject and names.
fn strongswan_enrolls_and_renews_a_router(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("strongSwan SCEP clinic");
    let server = Served::start(&h, &[]);
    let scep = Scep::new(&h, &server, "router");
    let dns = h.router_dns_name(&id);

    let key = scep.pki_key("r1");
    let challenge = scep.challenge(&id, "router");
    let cert = h.path("r1.pem");
    let out = scep.pki_scep("router", &key, "CN=r1", &["--password", &challenge, "--san", "192.0.2.7"], &cert);
    assert!(out.status.success(), "{}", describe(&out));
    let mut lint = Pkilint::certs();
    check_router(&h, &cert, &[&format!("DNS:{dns}"), "IP Address:192.0.2.7"], &mut lint);

    let new_key = scep.pki_key("r1-new");
    let renewed = h.path("r1-new.pem");
    let old = ["--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()];
    let out = scep.pki_scep("router", &new_key, "CN=r1", &old, &renewed);
    assert!(out.status.success(), "{}", describe(&out));
    check_router(&h, &renewed, &[&format!("DNS:{dns}"), "IP Address:192.0.2.7"], &mut lint);
    lint.check();
    assert_eq!(x509_text(&renewed, &["-subject"]), x509_text(&cert, &["-subject"]));
    assert_ne!(x509_text(&renewed, &["-serial"]), x509_text(&cert, &["-serial"]));
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    assert!(audit.contains("scep:certificate:"), "renewal actor is the old certificate\n{audit}");

    // The router certificate cannot renew at the PC endpoint.
    let out = scep.pki_scep("pc", &scep.pki_key("r1-pc"), "CN=r1", &old, &h.path("r1-pc.pem"));
    assert!(!out.status.success(), "{}", describe(&out));
    assert_eq!(h.cert_list(Some(&id)).len(), 2);
    server.stop();
}

/// A PKCSReq without a challenge whose subject names the facility is held; strongSwan polls (CertPoll)
/// until the operator approves; a second one is rejected and its poll ends in FAILURE.
fn held_request_is_approved_and_polled(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Approval clinic");
    let server = Served::start(&h, &[]);
    let scep = Scep::new(&h, &server, "router");
    let dn = format!("C=JP, serialNumber={id}, CN=gw");

    let cert = h.path("held.pem");
    let client = scep.pki_scep_spawn("router", &scep.pki_key("held"), &dn, &["--interval", "1"], &cert);
    let held = wait_for_pending(&h, 1);
    assert_eq!(h.cert_list(Some(&id)).len(), 0, "nothing issued before approval");
    let serial = h.ok(&["enroll", "pending", "approve", &held]).trim().to_owned();
    let out = client.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let mut lint = Pkilint::certs();
    check_router(&h, &cert, &[&format!("DNS:{}", h.router_dns_name(&id))], &mut lint);
    lint.check();
    assert!(x509_text(&cert, &["-serial"]).to_lowercase().contains(&serial), "{serial}");

    let client = scep.pki_scep_spawn("router", &scep.pki_key("held2"), &dn, &["--interval", "1"], &h.path("held2.pem"));
    let second = wait_for_pending(&h, 1);
    assert_ne!(second, held);
    h.ok(&["enroll", "pending", "reject", &second, "--reason", "unknown device"]);
    let out = client.wait_with_output().unwrap();
    assert!(!out.status.success(), "{}", describe(&out));
    assert_eq!(h.cert_list(Some(&id)).len(), 1);
    let listed = h.ok(&["enroll", "pending", "list", "--all", "--json"]);
    assert!(listed.contains("\"rejected\"") && listed.contains("\"issued\""), "{listed}");
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    for action in ["scep.request.hold", "scep.request.approve", "scep.request.reject"] {
        assert!(audit.contains(action), "{action} not audited\n{audit}");
    }

    // Without a challenge and without a facility in the subject: refused, nothing held.
    let out = scep.pki_scep("router", &scep.pki_key("anon"), "CN=anon", &[], &h.path("anon.pem"));
    assert!(!out.status.success(), "{}", describe(&out));
    assert_eq!(h.ok(&["enroll", "pending", "list"]).trim(), "");
    server.stop();
}

/// With the CA keys on a SoftHSM2 token, the RA key is made there too (CKA_DECRYPT) and unwraps the
/// request's content key with CKM_RSA_PKCS: strongSwan enrolls as with a software RA.
fn strongswan_enrolls_through_an_ra_key_on_softhsm(b: Backend) {
    use crate::pkcs11::{MODULE, SoftHsm, TOKEN};
    let plain = Hcpki::new(b);
    let hsm = SoftHsm::new(&plain.path("softhsm"));
    let h = plain.with_env("SOFTHSM2_CONF", &hsm.conf);
    let pin = hsm.pin_file.to_str().unwrap();
    h.ok(&["init", "--pkcs11-module", MODULE, "--pkcs11-token-label", TOKEN, "--pkcs11-pin-file", pin]);
    let id = h.approved_facility("HSM SCEP clinic");
    let server = Served::start(&h, &[]);
    let scep = Scep::new(&h, &server, "router");
    let challenge = scep.challenge(&id, "router");
    let cert = h.path("hsm-r1.pem");
    let out = scep.pki_scep("router", &scep.pki_key("hsm-r1"), "CN=r1", &["--password", &challenge], &cert);
    assert!(out.status.success(), "{}", describe(&out));
    let mut lint = Pkilint::certs();
    check_router(&h, &cert, &[&format!("DNS:{}", h.router_dns_name(&id))], &mut lint);
    lint.check();
    let objects = hsm.list_objects(None);
    assert!(objects.contains("hcpki-scep-ra"), "the RA key must be on the token:\n{objects}");
    assert!(!h.dir().join("keys/scep-ra.p8").exists(), "no software RA key beside HSM CA keys");
    server.stop();
}

/// Wrong, reused, expired and wrong-profile challenges, a name of another facility, garbage, a certs-only
/// PKCS#7 instead of a PKIMessage, an oversize body, GetCRL before CRLs exist: refused with the right
/// answer, audited, nothing issued; the audit chain still verifies.
fn bad_input_is_refused_audited_and_issues_nothing(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Refusing SCEP clinic");
    let other = h.approved_facility("Other SCEP clinic");
    let server = Served::start(&h, &[]);
    let scep = Scep::new(&h, &server, "router");
    let key = scep.pki_key("bad");
    let pc = Scep::new(&h, &server, "pc");
    let try_enroll = |endpoint: &str, args: &[&str]| {
        let client = if endpoint == "pc" { &pc } else { &scep };
        let out = client.pki_scep(endpoint, &key, "CN=bad", args, &h.path("bad.pem"));
        assert!(!out.status.success(), "must be refused:\n{}", describe(&out));
        describe(&out)
    };

    let challenge = scep.challenge(&id, "router");
    let wrong = format!("{}{}", &challenge[..32], "0".repeat(32));
    assert!(try_enroll("router", &["--password", &wrong]).contains("badRequest"));
    let unknown = format!("{}{}", "0".repeat(32), &challenge[32..]);
    assert!(try_enroll("router", &["--password", &unknown]).contains("badRequest"));
    assert!(try_enroll("router", &["--password", "not-a-credential"]).contains("badRequest"));
    // A router-only credential on the PC endpoint.
    assert!(try_enroll("pc", &["--password", &challenge]).contains("badRequest"));
    // A name of another facility: refused by the profile, the credential is given back.
    let stolen = format!("gw.{}", h.router_dns_name(&other));
    assert!(try_enroll("router", &["--password", &challenge, "--san", &stolen]).contains("badRequest"));
    assert_eq!(h.cert_list(None).iter().filter(|c| c.contains(&id) || c.contains(&other)).count(), 0);

    // Still good after all that; then used up.
    let out = scep.pki_scep("router", &key, "CN=bad", &["--password", &challenge], &h.path("good.pem"));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(try_enroll("router", &["--password", &challenge]).contains("badRequest"));
    let expired = scep.challenge(&id, "router");
    h.db().execute(&format!("UPDATE enrollment_credentials SET expires_at = 1 WHERE id = '{}'", &expired[..32]));
    assert!(try_enroll("router", &["--password", &expired]).contains("badRequest"));
    assert_eq!(h.cert_list(Some(&id)).len(), 1);

    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    for reason in ["wrong secret", "unknown credential", "does not allow the pc profile", "outside facility"] {
        assert!(audit.contains(reason), "{reason:?} not audited\n{audit}");
    }
    assert!(audit.contains("already used") && audit.contains("credential expired"), "{audit}");

    // HTTP-level refusals: there is no PKIMessage to answer.
    let r = scep.post("router", b"garbage");
    assert_eq!(r.0, 400, "{}", r.1);
    assert!(r.1.contains("not a SCEP PKIMessage"), "{}", r.1);
    let certs_only = scep.get_bytes("router", "GetCACert");
    let r = scep.post("router", &certs_only);
    assert_eq!(r.0, 400, "{}", r.1);
    let r = scep.post("router", &vec![0x30; 100 * 1024]);
    assert_eq!(r.0, 413, "{}", r.1);
    let r = scep.get_status("router", "operation=PKIOperation&message=%%%");
    assert_eq!(r, 400);
    assert_eq!(scep.get_status("nonesuch", "operation=GetCACaps"), 404);
    // Cisco's CGI paths reach the same endpoints.
    for path in ["/scep/router/cgi-bin/pkiclient.exe", "/scep/pc/pkiclient.exe", "/cgi-bin/pkiclient.exe"] {
        assert_eq!(scep.get_path_status(&format!("{path}?operation=GetCACaps")), 200, "{path}");
    }
    assert!(h.ok(&["audit", "list", "--limit", "1000"]).contains("message= is not base64"));
    // GetNextCACert is served during a CA rollover (D145); without one there is no next CA: 404, not a bad request.
    assert_eq!(scep.get_status("router", "operation=GetNextCACert"), 404);
    assert_eq!(scep.get_status("router", "operation=GetNextCRL"), 400, "an operation SCEP does not have");
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    assert!(audit.contains("scep.PKIOperation") && audit.contains("over 65536 bytes"), "{audit}");
    assert_eq!(h.cert_list(Some(&id)).len(), 1);
    h.ok(&["audit", "verify"]);
    server.stop();
}

/// Issue #9, whole flows across replicas: strongSwan `pki --scep` talks to HAProxy (plain HTTP passed through,
/// round robin with failover) in front of two replicas on one directory and database. Its PKCSReq without a
/// challenge is held by replica A, the only one running then; replica B comes up, A stops (a rolling restart);
/// the operator approves with `hcpki enroll pending approve`, and the device's CertPoll is answered by B with the
/// certificate.
fn held_request_on_one_replica_is_polled_from_the_other(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Replicated approval clinic");
    let first = Served::start(&h, &[]);
    let (second_port, lb_port) = (crate::harness::free_port(), crate::harness::free_port());
    let _lb = crate::lb::LoadBalancer::start_with_failover(&h, lb_port, &[first.http_port, second_port]);
    let scep = Scep { port: lb_port, ..Scep::new(&h, &first, "router") };
    let dn = format!("C=JP, serialNumber={id}, CN=gw");

    let scep_answers = |server: &Served| {
        crate::lb::requests(&server.curl_https(&h.chain_file("server"), "/metrics"), "route=\"/scep/")
    };
    let before = scep_answers(&first);
    let cert = h.path("held.pem");
    let client = scep.pki_scep_spawn("router", &scep.pki_key("held"), &dn, &["--interval", "1"], &cert);
    let held = wait_for_pending(&h, 1);
    assert!(scep_answers(&first) > before, "replica A, the only one up, holds the request");
    let second = Served::start_on(&h, &format!("127.0.0.1:{second_port}"), &[]);
    first.stop();
    let serial = h.ok(&["enroll", "pending", "approve", &held]).trim().to_owned();
    let out = client.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let mut lint = Pkilint::certs();
    check_router(&h, &cert, &[&format!("DNS:{}", h.router_dns_name(&id))], &mut lint);
    lint.check();
    assert!(x509_text(&cert, &["-serial"]).to_lowercase().contains(&serial), "{serial}");
    assert!(scep_answers(&second) >= 1, "replica B answered the polls");
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    for action in ["scep.request.hold", "scep.request.approve"] {
        assert_eq!(audit.matches(&format!("\"{action}\"")).count(), 1, "{action}\n{audit}");
    }
    assert_eq!(h.cert_list(Some(&id)).len(), 1);
    h.ok(&["audit", "verify"]);
    second.stop();
}

/// The SCEP side of a running server, and the RA/CA files clients are configured with.
pub(crate) struct Scep<'a> {
    h: &'a Hcpki,
    port: u16,
    /// The RA certificate of the endpoint's CA.
    ra: PathBuf,
    /// The issuing CA.
    ca: PathBuf,
    /// The root.
    root: PathBuf,
}

impl<'a> Scep<'a> {
    /// Fetch GetCACert of `endpoint` and split it into RA, issuing CA and root.
    pub(crate) fn new(h: &'a Hcpki, server: &Served, endpoint: &str) -> Self {
        let port = server.http_port;
        let der = h.path(&format!("getcacert-{endpoint}.der"));
        let out = run_ok(
            Command::new("curl")
                .args(["-sS", "--fail", "-o"])
                .arg(&der)
                .arg(format!("http://127.0.0.1:{port}/scep/{endpoint}?operation=GetCACert")),
        );
        assert!(out.status.success());
        let pem = run_ok(Command::new("openssl").args(["pkcs7", "-inform", "DER", "-print_certs", "-in"]).arg(&der));
        let text = String::from_utf8(pem.stdout).unwrap();
        let certs: Vec<String> = text
            .split("-----END CERTIFICATE-----")
            .filter_map(|c| c.find("-----BEGIN").map(|i| format!("{}-----END CERTIFICATE-----\n", &c[i..])))
            .collect();
        assert_eq!(certs.len(), 3, "GetCACert must hold the RA, the issuing CA and the root:\n{text}");
        let write = |name: &str, pem: &str| {
            let p = h.path(&format!("{endpoint}-{name}.pem"));
            std::fs::write(&p, pem).unwrap();
            p
        };
        assert!(x509_text(&write("ra", &certs[0]), &["-subject"]).contains("SCEP RA"));
        Self { h, port, ra: write("ra", &certs[0]), ca: write("ca", &certs[1]), root: write("root", &certs[2]) }
    }

    fn url(&self, endpoint: &str) -> String {
        format!("http://127.0.0.1:{}/scep/{endpoint}", self.port)
    }

    /// A SCEP challenge for the facility and profile.
    pub(crate) fn challenge(&self, facility: &str, profile: &str) -> String {
        let out =
            self.h.ok(&["enroll", "credential", "--facility", facility, "--protocol", "scep", "--profile", profile]);
        let c = out.lines().find_map(|l| l.strip_prefix("challenge=")).unwrap_or_else(|| panic!("{out}")).to_owned();
        assert_eq!(c.len(), 64, "{c}");
        c
    }

    fn caps(&self, endpoint: &str) -> String {
        let out = run_ok(
            Command::new("curl").args(["-sS", "--fail"]).arg(format!("{}?operation=GetCACaps", self.url(endpoint))),
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn get_bytes(&self, endpoint: &str, operation: &str) -> Vec<u8> {
        let url = format!("{}?operation={operation}", self.url(endpoint));
        run_ok(Command::new("curl").args(["-sS", "--fail"]).arg(url)).stdout
    }

    fn get_status(&self, endpoint: &str, query: &str) -> u16 {
        self.get_path_status(&format!("/scep/{endpoint}?{query}"))
    }

    fn get_path_status(&self, path_and_query: &str) -> u16 {
        let out = Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("http://127.0.0.1:{}{path_and_query}", self.port))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }

    /// POST a PKIOperation body; (status, body text).
    fn post(&self, endpoint: &str, body: &[u8]) -> (u16, String) {
        let file = self.h.path(&format!("post-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&file, body).unwrap();
        let out = Command::new("curl")
            .args(["-sS", "-w", "\n%{http_code}", "-H", "Content-Type: application/x-pki-message", "--data-binary"])
            .arg(format!("@{}", file.display()))
            .arg(format!("{}?operation=PKIOperation", self.url(endpoint)))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap();
        (status.trim().parse().unwrap(), body.to_owned())
    }

    /// An RSA-2048 key from `pki --gen` (SCEP clients need RSA: answers are encrypted to them).
    pub(crate) fn pki_key(&self, name: &str) -> PathBuf {
        let path = self.h.path(&format!("{name}.key"));
        let out = run_ok(Command::new("pki").args(["--gen", "--type", "rsa", "--size", "2048", "--outform", "pem"]));
        std::fs::write(&path, out.stdout).unwrap();
        path
    }

    fn pki_scep_command(&self, endpoint: &str, key: &Path, dn: &str, extra: &[&str], out: &Path) -> Command {
        let mut cmd = Command::new("timeout");
        cmd.args(["120", "pki", "--scep", "--url", &self.url(endpoint), "--in"]).arg(key);
        cmd.args(["--dn", dn, "--cacert-enc"]).arg(&self.ra).arg("--cacert-sig").arg(&self.ra);
        cmd.arg("--cacert").arg(&self.ca).arg("--cacert").arg(&self.root);
        cmd.args(["--outform", "pem", "--maxpolltime", "100"]).args(extra);
        cmd.stdout(Stdio::from(std::fs::File::create(out).unwrap())).stderr(Stdio::piped());
        cmd
    }

    /// `pki --scep`: the certificate goes to `out`; the process output is returned whatever the status.
    pub(crate) fn pki_scep(&self, endpoint: &str, key: &Path, dn: &str, extra: &[&str], out: &Path) -> Output {
        self.pki_scep_command(endpoint, key, dn, extra, out).output().unwrap()
    }

    fn pki_scep_spawn(&self, endpoint: &str, key: &Path, dn: &str, extra: &[&str], out: &Path) -> std::process::Child {
        self.pki_scep_command(endpoint, key, dn, extra, out).spawn().unwrap()
    }

    /// micromdm scepclient in its own directory (it keeps self.pem and csr.pem in the working directory).
    fn scepclient(&self, endpoint: &str, challenge: &str, dir: &str) -> Output {
        let dir = self.h.path(&format!("scepclient-{dir}"));
        std::fs::create_dir_all(&dir).unwrap();
        Command::new("timeout")
            .args(["60", "scepclient", "-server-url", &self.url(endpoint), "-challenge", challenge])
            .args(["-private-key", "key.pem", "-certificate", "cert.pem", "-cn", "gw"])
            .current_dir(&dir)
            .output()
            .unwrap()
    }

    /// certmonger on a private dbus session with its state in the test directory (harness.md §6); returns
    /// the certificate file.
    fn certmonger(&self, challenge: &str, name: &str, extra: &[&str]) -> PathBuf {
        let t = self.h.path(&format!("certmonger-{name}"));
        for d in ["st/requests", "st/cas", "st/local", "home"] {
            std::fs::create_dir_all(t.join(d)).unwrap();
        }
        let (key, cert) = (t.join("key.pem"), t.join("cert.pem"));
        let script = t.join("enroll.sh");
        let url = format!("http://127.0.0.1:{}/scep/pc", self.port);
        let chain = self.h.path(&format!("certmonger-{name}-chain.pem"));
        std::fs::write(&chain, [std::fs::read(&self.ca).unwrap(), std::fs::read(&self.root).unwrap()].concat())
            .unwrap();
        std::fs::write(
            &script,
            format!(
                "set -e\ngetcert add-scep-ca -s -c S -u {url} -r {ra} -N {chain}\n\
                 getcert request -s -c S -k {key} -f {cert} -N CN={name} -L {challenge} -I {name} -w -v {extra}\n\
                 getcert list -s\n",
                ra = self.ra.display(),
                chain = chain.display(),
                key = key.display(),
                cert = cert.display(),
                extra = extra.join(" "),
            ),
        )
        .unwrap();
        let st = t.join("st");
        let out = Command::new("timeout")
            .args(["120", "dbus-run-session", "--", "certmonger", "-s", "-n", "-c"])
            .arg(format!("sh {}", script.display()))
            .env("HOME", t.join("home"))
            .env("CERTMONGER_REQUESTS_DIR", st.join("requests"))
            .env("CERTMONGER_CAS_DIR", st.join("cas"))
            .env("CERTMONGER_LOCAL_CA_DIR", st.join("local"))
            .env("CERTMONGER_CONFIG_DIR", &st)
            .output()
            .unwrap();
        let text = describe(&out);
        assert!(text.contains("status: MONITORING") && cert.exists(), "certmonger did not get a certificate:\n{text}");
        cert
    }
}

/// Wait until `n` SCEP requests are pending (the client sent its PKCSReq); returns the newest one's ID.
/// A loop over an observable event, not a timed assertion: the bound only keeps a broken run from hanging.
fn wait_for_pending(h: &Hcpki, n: usize) -> String {
    for _ in 0..600 {
        let list = h.ok(&["enroll", "pending", "list"]);
        let ids: Vec<&str> = list.lines().filter_map(|l| l.split_whitespace().next()).collect();
        if ids.len() >= n {
            return ids[0].to_owned();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no SCEP request was held");
}

/// A router certificate: verifies against its chain, carries exactly these SANs (OpenSSL text); added to
/// `lint` (the test lints its certificates in one pkilint run).
fn check_router(h: &Hcpki, cert: &Path, sans: &[&str], lint: &mut Pkilint) {
    peers::openssl_verify(&h.chain_file("router"), cert, None);
    lint.add(cert);
    let text = x509_text(cert, &["-ext", "subjectAltName"]);
    let got: Vec<&str> = text.lines().skip(1).flat_map(|l| l.split(", ")).map(str::trim).collect();
    assert_eq!(got, sans, "{text}");
}
