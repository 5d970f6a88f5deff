//! Partitioned CRLs of the PC CA (`pc_crl_shards`, D20): with shards on, each new PC certificate's CRL
//! distribution point names `/crl/pc-<k>.crl` for the shard its serial falls into (recorded in the database);
//! that shard's CRL lists only its own revocations under a critical issuingDistributionPoint naming the same
//! URL. OpenSSL (`verify -crl_check`) refuses a revoked certificate and accepts a good one with its shard's
//! CRL, and cannot establish status from another shard's CRL; pkilint's CRL linter accepts it; `hcpki serve`
//! serves it; shrinking the setting moves no certificate.

use crate::fixtures::Key;
use crate::harness::{Backend, Hcpki, describe};
use crate::peers;
use crate::revocation::{crl_check_under, crl_number, crl_text_under, get, issue, serial_of};
use std::path::PathBuf;

on_both_backends!(pc_shard_crls_cover_their_shard_only, shard_crls_are_served_and_unknown_shards_are_404);

/// Shards on (2): PC certificates until two share a shard; one of those revoked. Its shard CRL verifies,
/// lists it (and nothing of the other shard), carries a critical IDP with the certificate's own CDP URL and
/// its own increasing CRL number, lints clean; OpenSSL refuses the revoked certificate and accepts its
/// neighbour with it, and fails to find a CRL in scope when given only the other shard's CRL. The complete
/// CRL lists it too, without IDP. Then shards off: old certificates keep their shard CRL, new ones point at
/// the complete CRL.
fn pc_shard_crls_cover_their_shard_only(b: Backend) {
    let h = Hcpki::initialized(b);
    set_pc_crl_shards(&h, 2);
    let id = h.approved_facility("Sharded clinic");
    let mut issued: Vec<(PathBuf, u16)> = Vec::new();
    let (gone, kept, k) = loop {
        let n = issued.len();
        assert!(n < 3, "three certificates over two shards must share one");
        let cert = issue_pc(&h, &id, &format!("pc{n}"));
        let k = shard_in_cdp(&cert);
        assert!(k < 2, "shard {k} out of range");
        let serial = serial_of(&cert);
        let stored = h.db().scalar_i64(&format!("SELECT crl_shard FROM certificates WHERE serial = '{serial}'"));
        assert_eq!(stored, i64::from(k), "the shard in the CDP is the one recorded");
        if let Some((first, _)) = issued.iter().find(|(_, s)| *s == k) {
            break (first.clone(), cert, k);
        }
        issued.push((cert, k));
    };
    let other = 1 - k;
    let gone_serial = serial_of(&gone);
    h.ok(&["revoke", "--serial", &gone_serial, "--reason", "keyCompromise"]);

    let shard_crl = shard_crl_pem(&h, k, "shard.crl");
    let text = crl_text_under(&h, "pc", &shard_crl);
    assert!(text.contains(&gone_serial.to_uppercase()), "the revoked serial is on its shard's CRL\n{text}");
    assert_eq!(text.matches("Serial Number:").count(), 1, "only the shard's revocation\n{text}");
    assert!(text.contains("X509v3 Issuing Distribution Point: critical"), "{text}");
    assert!(text.contains("Only User Certificates"), "{text}");
    let url = cdp_url(&gone);
    assert!(text.contains(&format!("URI:{url}")), "the IDP names the certificate's CDP {url}\n{text}");
    peers::pkilint_crl(&shard_crl);
    let next = crl_text_under(&h, "pc", &shard_crl_pem(&h, k, "shard-again.crl"));
    assert!(crl_number(&next) > crl_number(&text), "the shard's CRL numbers increase\n{next}");

    let other_crl = shard_crl_pem(&h, other, "other.crl");
    let other_text = crl_text_under(&h, "pc", &other_crl);
    assert!(other_text.contains("No Revoked Certificates"), "{other_text}");
    assert!(other_text.contains(&format!("/crl/pc-{other}.crl")), "{other_text}");

    let refused = crl_check_under(&h, "pc", &shard_crl, &gone);
    assert!(!refused.status.success(), "a revoked certificate verified\n{}", describe(&refused));
    assert!(describe(&refused).contains("certificate revoked"), "{}", describe(&refused));
    let accepted = crl_check_under(&h, "pc", &shard_crl, &kept);
    assert!(accepted.status.success(), "a good certificate of the same shard\n{}", describe(&accepted));
    // Another shard's CRL is out of scope (its IDP names another URL): OpenSSL says so (error 44).
    for cert in [&gone, &kept] {
        let out_of_scope = crl_check_under(&h, "pc", &other_crl, cert);
        assert!(!out_of_scope.status.success(), "verified with another shard's CRL\n{}", describe(&out_of_scope));
        assert!(describe(&out_of_scope).contains("different CRL scope"), "{}", describe(&out_of_scope));
    }

    // The complete CRL: everything, no IDP.
    let complete = h.path("complete.crl");
    h.ok(&["crl", "--ca", "pc", "--pem", "--out", complete.to_str().unwrap()]);
    let text = crl_text_under(&h, "pc", &complete);
    assert!(text.contains(&gone_serial.to_uppercase()) && !text.contains("Issuing Distribution Point"), "{text}");

    // Shards off: the old shard CRL is still made (a certificate names it); new certificates use the complete
    // CRL; a shard nobody uses and non-PC CAs are refused.
    set_pc_crl_shards(&h, 0);
    let text = crl_text_under(&h, "pc", &shard_crl_pem(&h, k, "after.crl"));
    assert!(text.contains(&gone_serial.to_uppercase()), "{text}");
    let new = issue_pc(&h, &id, "unsharded");
    assert!(cdp_url(&new).ends_with("/crl/pc.crl"), "{}", cdp_url(&new));
    let serial = serial_of(&new);
    let stored = h.db().strings(&format!(
        "SELECT COALESCE(CAST(crl_shard AS TEXT), 'none') FROM certificates WHERE serial = '{serial}'"
    ));
    assert_eq!(stored, ["none"]);
    assert!(h.fails(&["crl", "--ca", "pc", "--shard", "7"]).contains("no CRL shard 7"));
    assert!(h.fails(&["crl", "--ca", "router", "--shard", "0"]).contains("only the pc CA's CRL is partitioned"));
    h.ok(&["audit", "verify"]);
}

/// `hcpki serve` serves `/crl/pc-<k>.crl` (DER, pkix-crl) and `.pem`, listing a revocation of that shard;
/// shards out of range, other CAs' shards and malformed names are 404 with a message.
fn shard_crls_are_served_and_unknown_shards_are_404(b: Backend) {
    let h = Hcpki::initialized(b);
    set_pc_crl_shards(&h, 3);
    let id = h.approved_facility("Served shard clinic");
    let cert = issue_pc(&h, &id, "served");
    let k = shard_in_cdp(&cert);
    h.ok(&["revoke", "--serial", &serial_of(&cert), "--reason", "superseded"]);
    let server = crate::serve::Served::start(&h, &[]);
    let base = format!("http://127.0.0.1:{}", server.http_port);
    let path = cdp_url(&cert);
    let path = &path[path.find("/crl/").unwrap()..];

    let (status, headers, _) = get(&h, &format!("{base}{path}"), &[]);
    assert_eq!(status, 200, "{headers}");
    assert!(headers.to_ascii_lowercase().contains("content-type: application/pkix-crl"), "{headers}");
    let (status, _, pem) = get(&h, &format!("{base}{}", path.replace(".crl", ".pem")), &[]);
    assert_eq!(status, 200);
    let file = h.path("served-crl.pem");
    std::fs::write(&file, &pem).unwrap();
    let text = crl_text_under(&h, "pc", &file);
    assert!(text.contains(&serial_of(&cert).to_uppercase()) && text.contains(&format!("/crl/pc-{k}.crl")), "{text}");

    for (name, message) in [
        ("pc-3.crl", "no CRL shard 3"),
        ("pc-4096.crl", "no CRL shard 4096"),
        ("router-0.crl", "only the pc CA's CRL is partitioned"),
        ("pc-x.crl", "no CRL"),
    ] {
        let (status, _, body) = get(&h, &format!("{base}/crl/{name}"), &[]);
        assert_eq!(status, 404, "{name}");
        assert!(String::from_utf8_lossy(&body).contains(message), "{name}: {}", String::from_utf8_lossy(&body));
    }
    server.stop();
}

// ---- helpers ----

/// Set `[profiles] pc_crl_shards` in the test's hcpki.toml.
fn set_pc_crl_shards(h: &Hcpki, n: u16) {
    let config = h.dir().join("hcpki.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("pc_crl_shards")).collect();
    let mut out = Vec::new();
    for line in kept {
        out.push(line.to_owned());
        if line.trim() == "[profiles]" {
            out.push(format!("pc_crl_shards = {n}"));
        }
    }
    assert!(out.iter().any(|l| l.starts_with("pc_crl_shards")), "no [profiles] table in\n{text}");
    std::fs::write(&config, out.join("\n") + "\n").unwrap();
}

fn issue_pc(h: &Hcpki, facility: &str, name: &str) -> PathBuf {
    issue(h, "pc", facility, name, Key::P256)
}

/// The URL in the certificate's cRLDistributionPoints.
fn cdp_url(cert: &std::path::Path) -> String {
    let text = crate::fixtures::x509_text(cert, &["-ext", "crlDistributionPoints"]);
    text.split("URI:").nth(1).map(|s| s.trim().to_owned()).unwrap_or_else(|| panic!("no CDP URI\n{text}"))
}

/// The shard `k` of a CDP URL ending in `/crl/pc-<k>.crl`.
fn shard_in_cdp(cert: &std::path::Path) -> u16 {
    let url = cdp_url(cert);
    url.rsplit_once("/crl/pc-")
        .and_then(|(_, rest)| rest.strip_suffix(".crl"))
        .and_then(|k| k.parse().ok())
        .unwrap_or_else(|| panic!("CDP {url} names no PC CRL shard"))
}

/// `hcpki crl --ca pc --shard K --pem` written to a file.
fn shard_crl_pem(h: &Hcpki, k: u16, name: &str) -> PathBuf {
    let path = h.path(name);
    h.ok(&["crl", "--ca", "pc", "--shard", &k.to_string(), "--pem", "--out", path.to_str().unwrap()]);
    path
}
