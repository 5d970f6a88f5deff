//! The offline root ceremony as docs/deployment.md "Offline root" describes it (issue #9), on both databases:
//! `hcpki init` in a ceremony directory, `hcpki backup --include-secrets` onto offline media, the online
//! installation restored from it (its PostgreSQL database with pg_dump/pg_restore) without `keys/root.p8`; online
//! issuance and revocation; the ceremony signs the root's CRL (ARL) for a year; online, tampered, foreign-key,
//! expired and older ARLs are refused (a clear error, a denied `crl.import` entry, nothing stored) and the good
//! one is imported and served at `/crl/root.crl` from the database with its cache headers, never opening the
//! root key; OpenSSL `verify -crl_check_all` with the two CRLs fetched over HTTP accepts a router certificate
//! and refuses the revoked one; a second ceremony revokes the PC CA and its ARL, imported while serving, makes
//! OpenSSL refuse PC certificates at the CA.

use crate::backup::copy_postgres;
use crate::fixtures::{Key, run_ok, unix_of};
use crate::harness::{Backend, Hcpki, describe};
use crate::peers;
use crate::revocation::{get, header, issue, serial_of, url_on};
use crate::serve::Served;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

on_both_backends!(an_arl_signed_at_the_ceremony_is_imported_online_and_completes_every_chain);

fn an_arl_signed_at_the_ceremony_is_imported_online_and_completes_every_chain(b: Backend) {
    // The ceremony: the hierarchy, its audit head for the record, a backup with the secrets onto offline media.
    let ceremony = Hcpki::initialized(b);
    assert!(ceremony.ok(&["audit", "verify"]).contains("audit log intact"));
    let media = ceremony.path("offline-media");
    ceremony.ok(&["backup", "--out", media.to_str().unwrap(), "--include-secrets"]);
    assert!(media.join("keys/root.p8").is_file(), "the root key is on the offline media");

    // Online: the same installation restored, the root key removed.
    let online = Hcpki::new(b);
    if b == Backend::Postgres {
        copy_postgres(&ceremony, &online);
    }
    online.ok(&["restore", "--from", media.to_str().unwrap()]);
    std::fs::remove_file(online.dir().join("keys/root.p8")).unwrap();
    let id = online.approved_facility("Offline root clinic");
    let kept = issue(&online, "router", &id, "kept", Key::Rsa2048);
    let gone = issue(&online, "router", &id, "gone", Key::P256);
    let pc = issue(&online, "pc", &id, "pc", Key::P256);
    online.ok(&["revoke", "--serial", &serial_of(&gone), "--reason", "keyCompromise"]);
    let elsewhere = online.path("online-arl.crl");
    for args in [vec!["crl", "--ca", "root"], vec!["ca", "sign-arl", "--out", elsewhere.to_str().unwrap()]] {
        assert!(online.fails(&args).contains("the key of CA root is not on this machine"), "{args:?}");
    }

    // The ceremony signs ARLs: one to become the older, one under a clock three days behind valid for a day
    // (expired by now), then the one carried online, valid [ca] root_crl_days (365) from its thisUpdate.
    let older = sign_arl(&ceremony, "older.crl", &[]);
    let expired = ceremony.path("expired.crl");
    let libfaketime = libfaketime();
    let faked = ceremony.run_with_envs(
        &[("LD_PRELOAD", libfaketime.as_str()), ("FAKETIME", "-3d")],
        &["ca", "sign-arl", "--days", "1", "--out", expired.to_str().unwrap()],
    );
    assert!(faked.status.success(), "{}", describe(&faked));
    let arl = sign_arl(&ceremony, "arl.crl", &[]);
    let (this_update, next_update) = crl_times(&arl);
    assert_eq!(next_update - this_update, 365 * 86_400, "a year from thisUpdate");
    assert_eq!(crl_number(&arl), 3);
    peers::pkilint_arl(&arl);

    // Refused online, each with its reason, a denied entry naming the file and nothing stored.
    let tampered = online.path("tampered.crl");
    let mut bytes = std::fs::read(&arl).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&tampered, bytes).unwrap();
    let other = Hcpki::initialized_afresh(b);
    let foreign = sign_arl(&other, "foreign.crl", &[]);
    refused(&online, &tampered, "does not verify under this installation's root certificate");
    refused(&online, &foreign, "does not verify under this installation's root certificate");
    refused(&online, &expired, "the CRL expired at");

    // Served: before any ARL, nothing can be (the root key is gone); once imported, the stored ARL byte for
    // byte, picked up by the running server within its one-second recheck.
    let server = Served::start(&online, &[]);
    let root_url = url_on(&online.ca_cert_file("router"), "crlDistributionPoints", "URI:", server.http_port);
    assert!(root_url.ends_with("/crl/root.crl"), "{root_url}");
    assert_eq!(get(&online, &root_url, &[]).0, 503, "no ARL and no root key: nothing to serve");
    let said = online.ok(&["ca", "import-arl", arl.to_str().unwrap()]);
    assert_eq!(imported_rows(&online), 1, "{said}");
    refused(&online, &older, "CRL number 1 of CA root is not above 3");
    let (headers, served) = served_when(&online, &root_url, &arl);
    assert!(headers.to_ascii_lowercase().contains("content-type: application/pkix-crl"), "{headers}");
    assert_eq!(unix_of(&header(&headers, "last-modified")), this_update, "Last-Modified is thisUpdate\n{headers}");
    assert_eq!(header(&headers, "cache-control"), "public, max-age=3600, no-transform", "{headers}");
    let etag = header(&headers, "etag");
    assert_eq!(get(&online, &root_url, &["-H", &format!("If-None-Match: {etag}")]).0, 304);

    // A relying party that checks the whole chain: both CRLs fetched over HTTP from the URLs the certificates
    // name. Without the ARL OpenSSL cannot check the router CA at all.
    let router_crl = fetch(&online, &url_on(&kept, "crlDistributionPoints", "URI:", server.http_port), "router.crl");
    let ok = crl_check_all(&online, "router", &[&served, &router_crl], &kept);
    assert!(ok.status.success(), "{}", describe(&ok));
    let revoked = crl_check_all(&online, "router", &[&served, &router_crl], &gone);
    assert!(!revoked.status.success() && describe(&revoked).contains("certificate revoked"), "{}", describe(&revoked));
    let no_arl = crl_check_all(&online, "router", &[&router_crl], &kept);
    assert!(describe(&no_arl).contains("unable to get certificate CRL"), "{}", describe(&no_arl));

    // How long the served ARL has left: /metrics, and `ca status`, which exits 1 within its warning window.
    let metrics = server.curl_https(&online.chain_file("server"), "/metrics");
    assert!(metrics.contains("hcpki_root_crl_seconds_left{crl_number=\"3\"}"), "{metrics}");
    let status = online.ok(&["ca", "status"]);
    assert!(status.contains("root CRL: imported ARL number 3"), "{status}");
    assert!(status.contains("key file:keys/root.p8 (not on this machine)"), "{status}");
    assert!(!status.contains("key file:keys/router.p8 (not"), "{status}");
    let soon = online.run(&["ca", "status", "--days", "400"]);
    assert_eq!(soon.status.code(), Some(1), "{}", describe(&soon));
    assert!(String::from_utf8_lossy(&soon.stderr).contains("WARNING: the served root CRL (ARL)"));

    // The next ceremony revokes the PC CA; its ARL, imported while serving, lists it, and OpenSSL then refuses
    // PC certificates at depth 1 while router certificates still verify.
    // The file from the last ceremony is never overwritten, and the refusal costs no CRL number.
    assert!(ceremony.fails(&["ca", "sign-arl", "--out", arl.to_str().unwrap()]).contains("exist already"));
    let pc_ca = serial_of(&ceremony.ca_cert_file("pc"));
    ceremony.ok(&["revoke", "--serial", &pc_ca, "--reason", "cACompromise"]);
    let second = sign_arl(&ceremony, "second.crl", &["--pem"]);
    peers::pkilint_arl(&second);
    online.ok(&["ca", "import-arl", second.to_str().unwrap()]);
    let second_der = online.path("second.der");
    run_ok(Command::new("openssl").args(["crl", "-outform", "DER", "-out"]).arg(&second_der).arg("-in").arg(&second));
    assert_eq!(crl_number(&second_der), 4, "the number after the imported ARL's");
    let (_, served) = served_when(&online, &root_url, &second_der);
    let pc_crl = fetch(&online, &url_on(&pc, "crlDistributionPoints", "URI:", server.http_port), "pc.crl");
    let refused_ca = crl_check_all(&online, "pc", &[&served, &pc_crl], &pc);
    assert!(
        describe(&refused_ca).contains("error 23 at 1 depth lookup: certificate revoked"),
        "{}",
        describe(&refused_ca)
    );
    let still = crl_check_all(&online, "router", &[&served, &router_crl], &kept);
    assert!(still.status.success(), "{}", describe(&still));

    // The root key was never needed online: absent throughout, and the server's only error is the request for
    // the root's CRL before any ARL was imported.
    assert!(!online.dir().join("keys/root.p8").exists());
    let log = server.stop();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert!(
        errors.len() == 1 && errors[0].contains("the key of CA root is not on this machine"),
        "unexpected errors:\n{}",
        errors.join("\n")
    );
    let imports: Vec<_> = online.audit_entries().into_iter().filter(|e| e["action"] == "crl.import").collect();
    let outcomes: Vec<&str> = imports.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["denied", "denied", "denied", "ok", "denied", "ok"], "{imports:?}");
    let signed = ceremony.audit_entries().into_iter().filter(|e| e["action"] == "crl.sign" && e["outcome"] == "ok");
    assert_eq!(signed.count(), 4, "older, expired, the imported one and the second");
    online.ok(&["audit", "verify"]);
    ceremony.ok(&["audit", "verify"]);
}

/// `hcpki ca sign-arl --out NAME ARGS` at `h`; the file.
fn sign_arl(h: &Hcpki, name: &str, args: &[&str]) -> PathBuf {
    let path = h.path(name);
    h.ok(&[&["ca", "sign-arl", "--out", path.to_str().unwrap()], args].concat());
    path
}

/// `hcpki ca import-arl FILE` fails saying `why`; the last audit entry is that refusal, naming the file by its
/// SHA-256; no row was added.
fn refused(online: &Hcpki, file: &Path, why: &str) {
    let rows = imported_rows(online);
    let said = online.fails(&["ca", "import-arl", file.to_str().unwrap()]);
    assert!(said.contains(why), "importing {} should say {why:?}:\n{said}", file.display());
    let entries = online.audit_entries();
    let last = entries.last().unwrap();
    assert_eq!((last["action"].as_str(), last["outcome"].as_str()), (Some("crl.import"), Some("denied")), "{last}");
    assert_eq!(last["detail"]["sha256"], hex::encode(Sha256::digest(std::fs::read(file).unwrap())), "{last}");
    assert!(last["detail"]["reason"].as_str().unwrap().contains(why), "{last}");
    assert_eq!(imported_rows(online), rows, "nothing stored for {}", file.display());
}

fn imported_rows(h: &Hcpki) -> i64 {
    h.db().scalar_i64("SELECT COUNT(*) FROM imported_crls")
}

/// GET `url` until it answers `expected`'s bytes (the server rechecks the database every second; polled, not
/// timed); the headers and the served file.
fn served_when(h: &Hcpki, url: &str, expected: &Path) -> (String, PathBuf) {
    let want = std::fs::read(expected).unwrap();
    for _ in 0..120 {
        let (status, headers, body) = get(h, url, &[]);
        if status == 200 && body == want {
            let path = h.path(&format!("served-{}", expected.file_name().unwrap().to_string_lossy()));
            std::fs::write(&path, body).unwrap();
            return (headers, path);
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    panic!("{url} never served {}", expected.display());
}

fn fetch(h: &Hcpki, url: &str, name: &str) -> PathBuf {
    let (status, headers, body) = get(h, url, &[]);
    assert_eq!(status, 200, "{url}\n{headers}");
    let path = h.path(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// `openssl verify -crl_check_all`: the root trusted, the issuing CA `ca` untrusted, every CRL given.
fn crl_check_all(h: &Hcpki, ca: &str, crls: &[&Path], cert: &Path) -> Output {
    let mut cmd = Command::new("openssl");
    cmd.args(["verify", "-crl_check_all", "-CAfile"])
        .arg(h.ca_cert_file("root"))
        .arg("-untrusted")
        .arg(h.ca_cert_file(ca));
    for crl in crls {
        cmd.arg("-CRLfile").arg(crl);
    }
    cmd.arg(cert).output().unwrap()
}

/// (thisUpdate, nextUpdate) of a DER CRL as OpenSSL reads them.
fn crl_times(crl: &Path) -> (i64, i64) {
    let out = run_ok(
        Command::new("openssl").args(["crl", "-inform", "DER", "-noout", "-lastupdate", "-nextupdate", "-in"]).arg(crl),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let field =
        |name: &str| unix_of(text.lines().find_map(|l| l.strip_prefix(name)).unwrap_or_else(|| panic!("{text}")));
    (field("lastUpdate="), field("nextUpdate="))
}

fn crl_number(crl: &Path) -> u64 {
    let out = run_ok(Command::new("openssl").args(["crl", "-inform", "DER", "-noout", "-text", "-in"]).arg(crl));
    crate::revocation::crl_number(&String::from_utf8_lossy(&out.stdout))
}

/// libfaketime's thread-safe library, as `scripts/deps` installs it and `scripts/fault` preloads it.
fn libfaketime() -> String {
    let path = format!("/usr/lib/{}-linux-gnu/faketime/libfaketimeMT.so.1", std::env::consts::ARCH);
    assert!(Path::new(&path).is_file(), "{path} is missing: run scripts/deps (package faketime)");
    path
}
