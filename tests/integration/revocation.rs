//! Revocation by CLI and the CA's complete CRL, checked by OpenSSL (`crl -verify`, `verify -crl_check`),
//! strongSwan `pki --verify --crl` and pkilint's CRL linter, and served at the CRL distribution point over HTTP; refusals (unknown serial, revoked twice, unknown reason or CA) change nothing.
//! Publication over HTTP, regeneration and OCSP are issue #5.

use crate::fixtures::{Key, csr, run_ok};
use crate::harness::{Backend, Hcpki, describe};
use crate::peers;
use std::path::{Path, PathBuf};
use std::process::Command;

on_both_backends!(
    revoked_router_certificate_is_on_the_crl_and_fails_openssl_verify,
    bad_revocations_change_nothing,
    crl_is_served_at_its_distribution_point,
    suspending_holds_resuming_releases_retiring_revokes,
    a_relying_party_minutes_behind_accepts_the_crl,
);

/// Two router certificates; one revoked with keyCompromise. The router CA's CRL verifies under the CA, lists
/// exactly that serial with its reason, carries CRL number and AKI, lints clean; `openssl verify -crl_check`
/// refuses the revoked certificate and accepts the other. The next CRL has the next number.
fn revoked_router_certificate_is_on_the_crl_and_fails_openssl_verify(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Revoking clinic");
    let kept = issue_router(&h, &id, "kept", Key::P256);
    let gone = issue_router(&h, &id, "gone", Key::Rsa2048);
    let gone_serial = serial_of(&gone);

    let empty = crl(&h, "router", "empty.crl");
    let text = crl_text(&h, &empty);
    assert!(text.contains("No Revoked Certificates"), "{text}");

    h.ok(&["revoke", "--serial", &gone_serial, "--reason", "keyCompromise"]);
    let line = h.ok(&["cert", "list", "--facility", &id]);
    assert!(line.lines().any(|l| l.starts_with(&gone_serial) && l.contains("revoked")), "{line}");

    let pem = crl(&h, "router", "router.crl");
    let text = crl_text(&h, &pem);
    assert!(text.contains(&gone_serial.to_uppercase()), "the revoked serial is listed\n{text}");
    assert!(!text.contains(&serial_of(&kept).to_uppercase()), "only the revoked serial is listed\n{text}");
    assert!(text.contains("Key Compromise") && text.contains("X509v3 CRL Number") && text.contains("Authority Key"));
    assert!(crl_number(&text) > crl_number(&crl_text(&h, &empty)), "CRL numbers increase\n{text}");
    peers::pkilint_crl(&pem);

    let refused = crl_check(&h, &pem, &gone);
    assert!(!refused.status.success(), "a revoked certificate verified\n{}", describe(&refused));
    assert!(describe(&refused).contains("certificate revoked"), "{}", describe(&refused));
    let accepted = crl_check(&h, &pem, &kept);
    assert!(accepted.status.success(), "{}", describe(&accepted));
    // strongSwan, the IKE daemon's own certificate checks (issue 7 uses the same code in charon).
    let refused = pki_verify(&h, &gone, &pem);
    assert!(!refused.status.success(), "pki --verify accepted a revoked certificate\n{}", describe(&refused));
    assert!(describe(&refused).contains("revoked"), "{}", describe(&refused));
    let accepted = pki_verify(&h, &kept, &pem);
    assert!(accepted.status.success(), "{}", describe(&accepted));

    // The PC CA's CRL does not list router certificates; DER output works too.
    let der = h.path("pc.crl.der");
    h.ok(&["crl", "--ca", "pc", "--out", der.to_str().unwrap()]);
    let pc_text = String::from_utf8(
        run_ok(Command::new("openssl").args(["crl", "-inform", "DER", "-noout", "-text", "-in"]).arg(&der)).stdout,
    )
    .unwrap();
    assert!(pc_text.contains("No Revoked Certificates"), "{pc_text}");
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    assert!(audit.contains("cert.revoke"), "{audit}");
    h.ok(&["audit", "verify"]);
}

/// Unknown serial, a second revocation, an unknown reason, a bad serial and an unknown CA: clear errors,
/// nothing revoked twice, the audit chain intact.
fn bad_revocations_change_nothing(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Careful clinic");
    let cert = issue_router(&h, &id, "r", Key::P256);
    let serial = serial_of(&cert);
    assert!(h.fails(&["revoke", "--serial", &"7f".repeat(16)]).contains("not an issued, unrevoked certificate"));
    assert!(h.fails(&["revoke", "--serial", "xyz"]).contains("not a serial number"));
    assert!(h.fails(&["revoke", "--serial", &serial, "--reason", "bored"]).contains("unknown revocation reason"));
    assert!(h.ok(&["cert", "list", "--facility", &id]).contains(" issued "), "nothing revoked yet");
    h.ok(&["revoke", "--serial", &serial, "--reason", "superseded"]);
    assert!(h.fails(&["revoke", "--serial", &serial]).contains("not an issued, unrevoked certificate"));
    assert!(h.fails(&["crl", "--ca", "nope"]).contains("unknown CA"));
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    assert_eq!(audit.matches("cert.revoke").count(), 1, "{audit}");
    h.ok(&["audit", "verify"]);
}

/// The CRL at the URL the certificate's CRL distribution point names, over plain HTTP with curl: DER with
/// `application/pkix-crl`, ETag, Last-Modified and max-age; it verifies under the CA; `If-None-Match` gives
/// 304; a revocation made by the CLI (another process) appears without a restart (the server rechecks its
/// CA's revocations every second: polled here, not timed) with a new ETag; PEM at `.pem`; unknown names 404.
fn crl_is_served_at_its_distribution_point(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Publishing clinic");
    let cert = issue_router(&h, &id, "published", Key::P256);
    let text = crate::fixtures::x509_text(&cert, &["-ext", "crlDistributionPoints"]);
    let cdp = text.split("URI:").nth(1).map(str::trim).unwrap_or_else(|| panic!("no CDP URI\n{text}"));
    let path = &cdp[cdp.find("/crl/").unwrap_or_else(|| panic!("CDP {cdp} is not under /crl/"))..];
    let server = crate::serve::Served::start(&h, &[]);
    let url = format!("http://127.0.0.1:{}{path}", server.http_port);

    let (status, headers, body) = get(&h, &url, &[]);
    assert_eq!(status, 200, "{headers}");
    let lower = headers.to_ascii_lowercase();
    for expected in
        ["content-type: application/pkix-crl", "etag: \"", "last-modified: ", "cache-control: public, max-age="]
    {
        assert!(lower.contains(expected), "no {expected:?} in\n{headers}");
    }
    let first = h.path("first.crl");
    std::fs::write(&first, &body).unwrap();
    assert!(crl_text_der(&h, &first).contains("No Revoked Certificates"));
    let etag = header(&headers, "etag");
    let (status, _, _) = get(&h, &url, &["-H", &format!("If-None-Match: {etag}")]);
    assert_eq!(status, 304);

    let serial = serial_of(&cert);
    h.ok(&["revoke", "--serial", &serial, "--reason", "cessationOfOperation"]);
    let mut listed = None;
    for _ in 0..120 {
        let (status, headers, body) = get(&h, &url, &[]);
        assert_eq!(status, 200);
        let file = h.path("now.crl");
        std::fs::write(&file, &body).unwrap();
        if crl_text_der(&h, &file).contains(&serial.to_uppercase()) {
            listed = Some(header(&headers, "etag"));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let new_etag = listed.unwrap_or_else(|| panic!("the served CRL never listed {serial}"));
    assert_ne!(new_etag, etag);

    let (status, _, pem) = get(&h, &url.replace(".crl", ".pem"), &[]);
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&pem).starts_with("-----BEGIN X509 CRL-----"));
    assert_eq!(get(&h, &format!("http://127.0.0.1:{}/crl/nope.crl", server.http_port), &[]).0, 404);
    assert_eq!(get(&h, &format!("http://127.0.0.1:{}/crl/router.txt", server.http_port), &[]).0, 404);
    server.stop();
}

/// thisUpdate is back-dated five minutes (the `backdate_secs` default): read from the CRL, it lies 300 s before
/// the signing time (nextUpdate − one day), and `openssl verify -crl_check -attime` as a relying party whose
/// clock runs four minutes behind the CA accepts the certificate with it; six minutes before the signing time
/// (a minute before thisUpdate) OpenSSL refuses the CRL as not yet valid. The times are the CRL's own, never
/// the test's clock.
fn a_relying_party_minutes_behind_accepts_the_crl(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Slow clock clinic");
    let cert = issue_router(&h, &id, "slow", Key::P256);
    let pem = crl(&h, "router", "slow.crl");
    let out = run_ok(Command::new("openssl").args(["crl", "-noout", "-lastupdate", "-nextupdate", "-in"]).arg(&pem));
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| {
        let line = text.lines().find_map(|l| l.strip_prefix(name)).unwrap_or_else(|| panic!("no {name}\n{text}"));
        crate::fixtures::unix_of(line)
    };
    let (this_update, next_update) = (field("lastUpdate="), field("nextUpdate="));
    let signed = next_update - 86_400;
    assert_eq!(this_update, signed - 300, "thisUpdate five minutes before signing\n{text}");

    let at = |t: i64| {
        let mut cmd = Command::new("openssl");
        cmd.args(["verify", "-crl_check", "-attime", &t.to_string(), "-CAfile"])
            .arg(h.ca_cert_file("root"))
            .arg("-untrusted")
            .arg(h.ca_cert_file("router"))
            .arg("-CRLfile")
            .arg(&pem)
            .arg(&cert);
        cmd.output().unwrap()
    };
    let behind = at(signed - 240);
    assert!(behind.status.success(), "four minutes behind\n{}", describe(&behind));
    let too_far = at(this_update - 60);
    assert!(!too_far.status.success() && describe(&too_far).contains("CRL is not yet valid"), "{}", describe(&too_far));
}

/// A facility's state moves its certificates in the same transaction: suspend → every live certificate on
/// hold (certificateHold on the CRL, OpenSSL refuses it); resume → holds released (off the CRL, verifies again,
/// `cert.unhold` audited); suspend then retire → holds become cessationOfOperation; a certificate revoked
/// before stays revoked with its own reason throughout.
fn suspending_holds_resuming_releases_retiring_revokes(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Pausing clinic");
    let a = issue_router(&h, &id, "a", Key::P256);
    let c = issue_router(&h, &id, "c", Key::Rsa2048);
    let compromised = issue_router(&h, &id, "k", Key::P256);
    h.ok(&["revoke", "--serial", &serial_of(&compromised), "--reason", "keyCompromise"]);
    let other = h.approved_facility("Bystander clinic");
    let bystander = issue_router(&h, &other, "b", Key::P256);

    h.ok(&["facility", "suspend", &id, "--reason", "unpaid"]);
    let text = crl_text(&h, &crl(&h, "router", "suspended.crl"));
    for cert in [&a, &c] {
        assert!(text.contains(&serial_of(cert).to_uppercase()), "{text}");
        assert!(!crl_check(&h, &crl(&h, "router", "s.crl"), cert).status.success());
    }
    assert_eq!(text.matches("Certificate Hold").count(), 2, "{text}");
    assert_eq!(text.matches("Key Compromise").count(), 1, "{text}");
    assert!(!text.contains(&serial_of(&bystander).to_uppercase()), "another facility is untouched\n{text}");

    h.ok(&["facility", "resume", &id]);
    let resumed = crl(&h, "router", "resumed.crl");
    let text = crl_text(&h, &resumed);
    assert!(!text.contains("Certificate Hold") && text.contains("Key Compromise"), "{text}");
    for cert in [&a, &c] {
        let ok = crl_check(&h, &resumed, cert);
        assert!(ok.status.success(), "{}", describe(&ok));
    }
    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    assert_eq!(audit.matches("cert.unhold").count(), 2, "{audit}");

    h.ok(&["facility", "suspend", &id, "--reason", "incident"]);
    h.ok(&["facility", "retire", &id, "--reason", "closed"]);
    let text = crl_text(&h, &crl(&h, "router", "retired.crl"));
    assert_eq!(text.matches("Cessation Of Operation").count(), 2, "{text}");
    assert_eq!(text.matches("Key Compromise").count(), 1, "{text}");
    assert!(!text.contains("Certificate Hold"), "{text}");
    assert!(h.ok(&["cert", "list", "--facility", &id]).lines().all(|l| l.contains("revoked")));
    assert!(h.ok(&["cert", "list", "--facility", &other]).contains(" issued "));
    h.ok(&["audit", "verify"]);
}

// ---- helpers ----

/// curl GET: status, headers, body.
pub(crate) fn get(h: &Hcpki, url: &str, extra: &[&str]) -> (u16, String, Vec<u8>) {
    let headers = h.path(&format!("headers-{}", uuid::Uuid::new_v4().simple()));
    let out = Command::new("curl")
        .args(["--max-time", "30", "-sS", "-D"])
        .arg(&headers)
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    assert!(out.status.success(), "curl {url}\n{}", describe(&out));
    let headers = std::fs::read_to_string(&headers).unwrap();
    let status = headers.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap();
    (status, headers, out.stdout)
}

/// The URL that `cert`'s extension `ext` names after `label` (`crlDistributionPoints` and `URI:`, or
/// `authorityInfoAccess` and `OCSP - URI:`), pointed at the plain-HTTP listener on 127.0.0.1:`port`.
pub(crate) fn url_on(cert: &Path, ext: &str, label: &str, port: u16) -> String {
    let text = crate::fixtures::x509_text(cert, &["-ext", ext]);
    let url = text.split(label).nth(1).and_then(|s| s.lines().next()).map(str::trim);
    let url = url.unwrap_or_else(|| panic!("no {label} in\n{text}")).to_owned();
    let path = url.splitn(4, '/').nth(3).unwrap_or_else(|| panic!("no path in {url}"));
    format!("http://127.0.0.1:{port}/{path}")
}

pub(crate) fn header(headers: &str, name: &str) -> String {
    headers
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_else(|| panic!("no {name} in\n{headers}"))
}

/// `openssl crl -inform DER -verify` against the router CA; the text.
pub(crate) fn crl_text_der(h: &Hcpki, crl: &Path) -> String {
    let ca = h.ca_cert_file("router");
    let out = run_ok(
        Command::new("openssl")
            .args(["crl", "-inform", "DER", "-noout", "-text", "-verify", "-CAfile"])
            .arg(&ca)
            .arg("-in")
            .arg(crl),
    );
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("verify OK"), "openssl crl -verify\n{all}");
    all
}

fn issue_router(h: &Hcpki, facility: &str, name: &str, key: Key) -> PathBuf {
    issue(h, "router", facility, name, key)
}

/// `hcpki issue --profile PROFILE --facility F` for a fresh CSR; the certificate's path.
pub(crate) fn issue(h: &Hcpki, profile: &str, facility: &str, name: &str, key: Key) -> PathBuf {
    let request = csr(h.scratch(), name, key, profile);
    let out = h.path(&format!("{name}.pem"));
    h.ok(&[
        "issue",
        "--profile",
        profile,
        "--facility",
        facility,
        "--csr",
        request.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    out
}

pub(crate) fn serial_of(cert: &Path) -> String {
    let text = crate::fixtures::x509_text(cert, &["-serial"]);
    text.trim().trim_start_matches("serial=").to_ascii_lowercase()
}

/// `hcpki crl --ca CA --pem` written to a file.
pub(crate) fn crl(h: &Hcpki, ca: &str, name: &str) -> PathBuf {
    let path = h.path(name);
    h.ok(&["crl", "--ca", ca, "--pem", "--out", path.to_str().unwrap()]);
    path
}

/// `openssl crl -verify` against the router CA certificate (fails the test if the signature does not verify), text.
pub(crate) fn crl_text(h: &Hcpki, crl: &Path) -> String {
    crl_text_under(h, "router", crl)
}

/// [`crl_text`] for a PEM CRL of CA `ca`.
pub(crate) fn crl_text_under(h: &Hcpki, ca: &str, crl: &Path) -> String {
    let ca = h.ca_cert_file(ca);
    let out = run_ok(
        Command::new("openssl").args(["crl", "-noout", "-text", "-verify", "-CAfile"]).arg(&ca).arg("-in").arg(crl),
    );
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("verify OK"), "openssl crl -verify\n{all}");
    all
}

pub(crate) fn crl_number(text: &str) -> u64 {
    let mut lines = text.lines().skip_while(|l| !l.contains("X509v3 CRL Number"));
    lines.nth(1).and_then(|l| l.trim().parse().ok()).unwrap_or_else(|| panic!("no CRL number in\n{text}"))
}

/// strongSwan `pki --verify` with the root and router CA certificates and this CRL.
fn pki_verify(h: &Hcpki, cert: &Path, crl: &Path) -> std::process::Output {
    Command::new("pki")
        .arg("--verify")
        .arg("--in")
        .arg(cert)
        .arg("--cacert")
        .arg(h.ca_cert_file("root"))
        .arg("--cacert")
        .arg(h.ca_cert_file("router"))
        .arg("--crl")
        .arg(crl)
        .output()
        .unwrap()
}

/// `openssl verify -crl_check` with the router chain and this CRL.
pub(crate) fn crl_check(h: &Hcpki, crl: &Path, cert: &Path) -> std::process::Output {
    crl_check_under(h, "router", crl, cert)
}

/// [`crl_check`] with the chain of CA `ca`.
pub(crate) fn crl_check_under(h: &Hcpki, ca: &str, crl: &Path, cert: &Path) -> std::process::Output {
    Command::new("openssl")
        .arg("verify")
        .arg("-crl_check")
        .arg("-CAfile")
        .arg(h.ca_cert_file("root"))
        .arg("-untrusted")
        .arg(h.ca_cert_file(ca))
        .arg("-CRLfile")
        .arg(crl)
        .arg(cert)
        .output()
        .unwrap()
}
