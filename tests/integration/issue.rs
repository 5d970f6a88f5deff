//! Every profile on both key types: the certificate verifies against its chain (OpenSSL), lints clean
//! (pkilint), and router certificates pass NSS's IPsec usage (vfychain -u 12, as libreswan checks).

use crate::fixtures::{Key, csr, x509_text};
use crate::harness::{Backend, Hcpki};
use crate::peers::{self, Pkilint};
use std::path::Path;

on_both_backends!(
    router_rsa2048,
    router_p256,
    router_ipv6,
    router_dns_name_below_facility_name,
    router_eku_variants,
    router_p12_for_a_device_without_enrollment_client,
    pc_rsa2048,
    pc_p256_with_device,
    server_rsa2048,
    server_p256,
);

fn router_rsa2048(b: Backend) {
    router(b, Key::Rsa2048);
}

fn router_p256(b: Backend) {
    router(b, Key::P256);
}

fn pc_rsa2048(b: Backend) {
    pc(b, Key::Rsa2048, None);
}

fn pc_p256_with_device(b: Backend) {
    pc(b, Key::P256, Some("pc-01"));
}

fn server_rsa2048(b: Backend) {
    server(b, Key::Rsa2048);
}

fn server_p256(b: Backend) {
    server(b, Key::P256);
}

/// A router certificate with the facility's DNS name and an IPv4 address.
fn router(b: Backend, key: Key) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("テスト診療所");
    let dns = h.router_dns_name(&id);
    assert!(
        dns.starts_with(&format!("{}.", id.to_ascii_lowercase())),
        "router_dns_name {dns:?} must be <facility-id-lowercase>.<zone>"
    );
    let cert = issue_router(&h, &id, key, &[&dns, "192.0.2.10"], &[]);
    check_router(&h, &cert, &id, &[&format!("DNS:{dns}"), "IP Address:192.0.2.10"]);
    assert_eq!(h.cert_list(Some(&id)).len(), 1, "cert list --facility {id} shows the new certificate");
}

/// An IPv6 identity (ID_IPV6_ADDR) next to the DNS name.
fn router_ipv6(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("IPv6 clinic");
    let dns = h.router_dns_name(&id);
    let cert = issue_router(&h, &id, Key::P256, &[&dns, "2001:db8::1"], &[]);
    // OpenSSL 3.0 prints IPv6 SANs uncompressed and uppercase.
    check_router(&h, &cert, &id, &[&format!("DNS:{dns}"), "IP Address:2001:DB8:0:0:0:0:0:1"]);
}

/// A facility owns its name and everything below it (one name per router).
fn router_dns_name_below_facility_name(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Two-router clinic");
    let below = format!("gw1.{}", h.router_dns_name(&id));
    let cert = issue_router(&h, &id, Key::Rsa2048, &[&below], &[]);
    check_router(&h, &cert, &id, &[&format!("DNS:{below}")]);
}

/// Every EKU variant of the router profile still passes the IPsec checks.
fn router_eku_variants(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("EKU clinic");
    let dns = h.router_dns_name(&id);
    // OpenSSL's names: id-kp-ipsecIKE is "ipsec Internet Key Exchange"; ikeIntermediate
    // (1.3.6.1.5.5.8.2.2) is printed numerically by OpenSSL 3.0, by name ("IP security end entity") elsewhere.
    const SERVER: &[&str] = &["tls web server authentication"];
    const CLIENT: &[&str] = &["tls web client authentication"];
    const IKE: &[&str] = &["ipsec internet key exchange", "1.3.6.1.5.5.7.3.17"];
    const IKE_INTERMEDIATE: &[&str] = &["1.3.6.1.5.5.8.2.2", "ip security end entity"];
    let variants: [(&str, &[&[&str]]); 3] = [
        ("none", &[]),
        ("ike", &[SERVER, CLIENT, IKE]),
        ("ike-intermediate", &[SERVER, CLIENT, IKE, IKE_INTERMEDIATE]),
    ];
    let mut lint = Pkilint::certs();
    for (variant, wanted) in variants {
        let cert = issue_router(&h, &id, Key::P256, &[&dns], &["--eku", variant]);
        check_router_linted_with(&h, &cert, &id, &[&format!("DNS:{dns}")], &mut lint);
        let ext = x509_text(&cert, &["-ext", "extendedKeyUsage"]).to_lowercase();
        if wanted.is_empty() {
            assert!(ext.trim().is_empty(), "--eku none must leave out EKU, got {ext}");
        }
        for any_of in wanted {
            assert!(any_of.iter().any(|w| ext.contains(w)), "--eku {variant} must include {any_of:?}, got {ext}");
        }
    }
    lint.check();
}

/// `hcpki issue --p12`: hcpki makes the key and writes key, certificate and chain as PKCS#12 with the key
/// under PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and an HMAC-SHA256 MAC, the passphrase printed once. OpenSSL
/// reads and checks it, the key in it belongs to the certificate, a wrong passphrase fails, and NSS (libreswan's
/// certificate store) imports it.
fn router_p12_for_a_device_without_enrollment_client(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("PKCS#12 clinic");
    let (p12, cert) = (h.path("gw.p12"), h.path("gw.pem"));
    let args = ["issue", "--profile", "router", "--facility", &id, "--san", "192.0.2.7", "--vendor", "fortigate"];
    let out = h.run(&[&args[..], &["--p12", p12.to_str().unwrap(), "--out", cert.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", crate::harness::describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let pass = stderr.lines().find_map(|l| l.strip_prefix("passphrase: ")).expect("passphrase printed").to_owned();
    // Read aloud over the phone (D129): seven groups of four capitals and digits without look-alikes, typed with
    // the hyphens (check_p12 opens the file with it exactly as printed).
    let groups: Vec<&str> = pass.split('-').collect();
    assert!(
        groups.len() == 7
            && groups.iter().all(|g| g.len() == 4)
            && pass.bytes().all(|c| c == b'-' || hcpki_pkix::asn1::pkcs12::PASSPHRASE_ALPHABET.contains(&c)),
        "a generated passphrase in seven groups of four: {pass:?}"
    );
    assert!(stderr.contains("hyphens included"), "the output must say the hyphens are typed: {stderr}");
    check_router(&h, &cert, &id, &["IP Address:192.0.2.7"]);
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&p12).unwrap().permissions().mode() & 0o777, 0o600);
    }
    check_p12(&h, &p12, &pass, &cert);
}

/// A PKCS#12 made by hcpki, read by OpenSSL and NSS: the format (PBES2 AES-256, SHA-256 MAC), three
/// certificates (device, issuing CA, root), a wrong passphrase refused, and the key that of `cert`.
pub(crate) fn check_p12(h: &Hcpki, p12: &Path, pass: &str, cert: &Path) {
    let openssl = |extra: &[&str], pass: &str| {
        let passin = format!("pass:{pass}");
        std::process::Command::new("openssl")
            .args(["pkcs12", "-in", p12.to_str().unwrap(), "-passin", &passin])
            .args(extra)
            .output()
            .unwrap()
    };
    let info = openssl(&["-info", "-noout"], pass);
    assert!(info.status.success(), "{}", crate::harness::describe(&info));
    let info_text = String::from_utf8_lossy(&info.stderr);
    for wanted in ["MAC: sha256", "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC", "PRF hmacWithSHA256"] {
        assert!(info_text.contains(wanted), "{wanted:?} missing:\n{info_text}");
    }
    assert_eq!(info_text.matches("Certificate bag").count(), 3, "router, router CA, root:\n{info_text}");
    assert!(!openssl(&["-info", "-noout"], "wrong").status.success(), "a wrong passphrase must fail");

    let key = openssl(&["-nocerts", "-nodes"], pass);
    assert!(key.status.success(), "{}", crate::harness::describe(&key));
    let pubkey = |args: &[&str], input: Option<&[u8]>| {
        use std::io::Write;
        let mut child = std::process::Command::new("openssl")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.unwrap_or_default()).unwrap();
        child.wait_with_output().unwrap().stdout
    };
    let from_p12 = pubkey(&["pkey", "-pubout"], Some(&key.stdout));
    let from_cert = pubkey(&["x509", "-pubkey", "-noout", "-in", cert.to_str().unwrap()], None);
    assert!(!from_p12.is_empty() && from_p12 == from_cert, "the key in the file is the certificate's");

    let nss = h.scratch().join("nss");
    std::fs::create_dir_all(&nss).unwrap();
    let db = format!("sql:{}", nss.display());
    let run = |program: &str, args: &[&str]| std::process::Command::new(program).args(args).output().unwrap();
    assert!(run("certutil", &["-N", "-d", &db, "--empty-password"]).status.success());
    let import = run("pk12util", &["-i", p12.to_str().unwrap(), "-d", &db, "-W", pass]);
    assert!(import.status.success(), "{}", crate::harness::describe(&import));
}

/// A facility PC's TLS client certificate.
fn pc(b: Backend, key: Key, device: Option<&str>) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("テスト薬局");
    let csr = csr(h.scratch(), "pc", key, "pc");
    let out = h.path(&format!("pc-{key:?}.pem"));
    let mut args = vec!["issue", "--profile", "pc", "--facility", &id, "--csr", path(&csr), "--out", path(&out)];
    if let Some(d) = device {
        args.extend(["--device", d]);
    }
    h.ok(&args);

    let chain = h.chain_file("pc");
    peers::openssl_verify(&chain, &out, Some("sslclient"));
    peers::openssl_verify_refuses(&chain, &out, Some("sslserver"));
    peers::pkilint(&out);
    peers::vfychain(&h.ca_cert_file("root"), &h.ca_cert_file("pc"), &out, 0);
    assert_subject_carries(&out, &id);
    if let Some(d) = device {
        let text = x509_text(&out, &["-text"]);
        assert!(text.contains(d), "the device identifier {d} must appear in the certificate:\n{text}");
    }
}

/// hcpki's own TLS server certificate: no facility.
fn server(b: Backend, key: Key) {
    let h = Hcpki::initialized(b);
    let csr = csr(h.scratch(), "server", key, "hcpki.example.jp");
    let out = h.path(&format!("server-{key:?}.pem"));
    h.ok(&[
        "issue",
        "--profile",
        "server",
        "--csr",
        path(&csr),
        "--san",
        "hcpki.example.jp",
        "--san",
        "127.0.0.1",
        "--out",
        path(&out),
    ]);
    let chain = h.chain_file("server");
    peers::openssl_verify(&chain, &out, Some("sslserver"));
    peers::pkilint(&out);
    let san = x509_text(&out, &["-ext", "subjectAltName"]);
    for want in ["DNS:hcpki.example.jp", "IP Address:127.0.0.1"] {
        assert!(san.contains(want), "server SAN must contain {want}:\n{san}");
    }
}

/// Issues a router certificate for `facility` with the given SANs; returns the PEM path.
fn issue_router(h: &Hcpki, facility: &str, key: Key, sans: &[&str], extra: &[&str]) -> std::path::PathBuf {
    let n = uuid::Uuid::new_v4().simple().to_string();
    let csr = csr(h.scratch(), &format!("router{n}"), key, "router");
    let out = h.path(&format!("router{n}.pem"));
    let mut args = vec!["issue", "--profile", "router", "--facility", facility, "--csr", path(&csr)];
    for s in sans {
        args.extend(["--san", s]);
    }
    args.extend(extra);
    args.extend(["--out", path(&out)]);
    h.ok(&args);
    out
}

/// The checks every router certificate must pass. Shared with the PKCS#11 tests.
pub fn check_router(h: &Hcpki, cert: &Path, facility: &str, sans: &[&str]) {
    let mut lint = Pkilint::certs();
    check_router_linted_with(h, cert, facility, sans, &mut lint);
    lint.check();
}

/// [`check_router`] with the certificate added to `lint`, linted with the test's other certificates in one
/// pkilint run.
pub fn check_router_linted_with(h: &Hcpki, cert: &Path, facility: &str, sans: &[&str], lint: &mut Pkilint) {
    let chain = h.chain_file("router");
    peers::openssl_verify(&chain, cert, None);
    lint.add(cert);
    peers::vfychain(&h.ca_cert_file("root"), &h.ca_cert_file("router"), cert, 12);
    let san = x509_text(cert, &["-ext", "subjectAltName"]);
    for want in sans {
        assert!(san.contains(want), "router SAN must contain {want}:\n{san}");
    }
    let ku = x509_text(cert, &["-ext", "keyUsage"]);
    assert!(
        ku.contains("critical") && ku.contains("Digital Signature"),
        "RFC 4945: KU digitalSignature, critical:\n{ku}"
    );
    assert_subject_carries(cert, facility);
}

/// Every facility certificate carries the facility ID in the subject serialNumber attribute.
pub fn assert_subject_carries(cert: &Path, facility: &str) {
    let subject = x509_text(cert, &["-subject"]);
    assert!(
        subject.contains(&format!("serialNumber={facility}")),
        "the subject must carry serialNumber={facility}: {subject}"
    );
}

/// A path as a CLI argument (test paths are ASCII temp paths).
pub fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}
