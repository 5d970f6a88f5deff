//! The time-stamping authority (issue #27, item 4): the `tsa` profile (critical EKU timeStamping alone,
//! server CA, pkilint clean, OpenSSL's timestampsign purpose) and `hcpki serve`'s RFC 3161 `/tsa`, asked by
//! `openssl ts -query` and checked by `openssl ts -reply -text` and `openssl ts -verify`; bad requests get
//! rejections OpenSSL prints with the right failInfo. The signers' side (D70): `[[signing.tsa]]` tried in order by
//! `hcpki tsa stamp` / `hcpki tsa check`, hcpki's own `/tsa` and a reference TSA nobody here wrote (`openssl ts
//! -reply` behind tests/peers/tsa_reference.py) among them — its `-chain` token (certificates out of DER order)
//! taken, its faulty answers (another imprint, another policy, no token, a broken signature) each refused by
//! `hcpki tsa check` as signing refuses them (issue #42).

use crate::fixtures::{Key, csr, run_ok, x509_text};
use crate::harness::{Backend, Hcpki, describe};
use crate::peers;
use crate::serve::Served;
use std::path::{Path, PathBuf};
use std::process::Command;

on_both_backends!(
    tsa_profile_is_clean_and_for_time_stamping_only,
    openssl_verifies_time_stamps,
    bad_requests_get_rejections_with_fail_info,
    tsa_key_on_pkcs11_token,
    signers_take_the_first_valid_time_stamp_of_their_list,
);

/// The policy of the test TSA (an arc of the private-enterprise space reserved for examples is not needed:
/// any OID with small arcs does).
const POLICY: &str = "1.3.6.1.4.1.99999.3161.1";

/// `hcpki issue --profile tsa`: issued by the server CA, critical EKU with timeStamping alone, keyUsage
/// digitalSignature + nonRepudiation, no SAN; pkilint finds nothing, `openssl verify -purpose timestampsign`
/// accepts it under the server chain and refuses it for TLS. A SAN or a facility is refused.
fn tsa_profile_is_clean_and_for_time_stamping_only(b: Backend) {
    let h = Hcpki::initialized(b);
    let cert = issue_tsa(&h, "tsa");
    let text = x509_text(&cert, &["-text"]);
    assert!(text.contains("CN=hcpki Server CA"), "{text}");
    assert!(text.contains("X509v3 Extended Key Usage: critical\n                Time Stamping\n"), "{text}");
    assert!(text.contains("Digital Signature, Non Repudiation"), "{text}");
    assert!(!text.contains("Subject Alternative Name"), "{text}");
    peers::pkilint(&cert);
    let chain = h.chain_file("server");
    peers::openssl_verify(&chain, &cert, Some("timestampsign"));
    peers::openssl_verify_refuses(&chain, &cert, Some("sslserver"));
    let request = csr(h.scratch(), "tsa-san", Key::P256, "tsa");
    let err = h.fails(&["issue", "--profile", "tsa", "--csr", path(&request), "--san", "tsa.example"]);
    assert!(err.contains("the TSA is named by its subject"), "{err}");
}

/// `openssl ts -query` (SHA-256/384/512, with and without nonce and certReq) → `POST /tsa` → `openssl ts
/// -reply -text` shows a granted token with our policy, and `openssl ts -verify` accepts it against the data
/// and against the query, under the root with the TSA certificate and server CA as untrusted; a tampered
/// file fails. The TSA certificate `hcpki serve` issued itself passes pkilint.
fn openssl_verifies_time_stamps(b: Backend) {
    let h = Hcpki::initialized(b);
    let (server, tsa) = serve_tsa(&h);
    let data = h.path("document.txt");
    std::fs::write(&data, "紹介状 referral letter, version 1\n").unwrap();
    let (root, untrusted) = (h.ca_cert_file("root"), untrusted(&h, &tsa));
    for (digest, extra) in
        [("-sha256", &["-cert"][..]), ("-sha256", &["-no_nonce"][..]), ("-sha384", &["-cert"]), ("-sha512", &[])]
    {
        let name = format!("q{digest}{}", extra.join(""));
        let query = query(&h, &name, &[&["-data", path(&data), digest], extra].concat());
        let reply = post(&server, &h, &query, &name);
        let text = reply_text(&reply);
        assert!(text.contains("Status: Granted."), "{name}: {text}");
        assert!(text.contains(&format!("Policy OID: {POLICY}")), "{name}: {text}");
        assert!(text.contains("Accuracy: 0x01 seconds"), "{name}: {text}");
        assert!(text.contains("Ordering: no"), "{name}: {text}");
        assert_eq!(text.contains("Nonce: unspecified"), extra.contains(&"-no_nonce"), "{name}: {text}");
        assert!(text.contains("TSA: DirName:") && text.contains("hcpki Time-Stamping Authority"), "{name}: {text}");
        let ok = verify("-data", &data, &reply, &root, &untrusted);
        assert!(
            ok.status.success() && String::from_utf8_lossy(&ok.stdout).contains("Verification: OK"),
            "{name}\n{}",
            describe(&ok)
        );
        let ok = verify("-queryfile", &query, &reply, &root, &untrusted);
        assert!(ok.status.success(), "{name} against the query\n{}", describe(&ok));
    }
    let query = query(&h, "tampered", &["-data", path(&data), "-sha256", "-cert"]);
    let reply = post(&server, &h, &query, "tampered");
    let tampered = h.path("document-tampered.txt");
    std::fs::write(&tampered, "紹介状 referral letter, version 2\n").unwrap();
    let bad = verify("-data", &tampered, &reply, &root, &untrusted);
    assert!(!bad.status.success(), "a tampered file verified\n{}", describe(&bad));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("message imprint mismatch"), "{}", describe(&bad));
    peers::pkilint(&tsa);
    server.stop();
}

/// Garbage, truncated DER, SHA-1, a digest of the wrong length, a foreign policy, an extension, version 2:
/// each gets a rejection (HTTP 200, `application/timestamp-reply`) that `openssl ts -reply -text` prints with
/// the failInfo RFC 3161 names; the TSA keeps answering. A wrong media type is HTTP 415.
fn bad_requests_get_rejections_with_fail_info(b: Backend) {
    let h = Hcpki::initialized(b);
    let (server, _tsa) = serve_tsa(&h);
    let data = h.path("document.txt");
    std::fs::write(&data, "data").unwrap();
    let good = std::fs::read(query(&h, "good", &["-data", path(&data), "-sha256", "-cert"])).unwrap();
    let sha1 = std::fs::read(query(&h, "sha1", &["-data", path(&data), "-sha1"])).unwrap();
    let foreign =
        std::fs::read(query(&h, "policy", &["-data", path(&data), "-sha256", "-tspolicy", "1.2.3.4"])).unwrap();
    let imprint = |hash: &[u8], len: usize| {
        // SEQUENCE { SEQUENCE { OID sha256, NULL }, OCTET STRING }
        let alg = der(0x30, &[&der(0x06, hash)[..], &[0x05, 0x00]].concat());
        der(0x30, &[alg, der(0x04, &vec![0x11; len])].concat())
    };
    let sha256 = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    let request = |version: u8, tail: &[u8], len: usize| {
        der(0x30, &[&[0x02, 0x01, version][..], &imprint(&sha256, len), tail].concat())
    };
    // [0] IMPLICIT Extensions { Extension { OID 1.2.3.4, OCTET STRING { NULL } } }
    let extension = der(0xa0, &der(0x30, &[der(0x06, &[0x2a, 0x03, 0x04]), der(0x04, &[0x05, 0x00])].concat()));
    let cases: [(&str, Vec<u8>, &str); 8] = [
        ("garbage", b"not a time-stamp request".to_vec(), "the data submitted has the wrong format"),
        ("truncated", good[..good.len() - 5].to_vec(), "the data submitted has the wrong format"),
        ("trailing", [&good[..], &[0x00]].concat(), "the data submitted has the wrong format"),
        ("sha1", sha1, "unrecognized or unsupported algorithm identifier"),
        ("short-digest", request(1, &[], 20), "the data submitted has the wrong format"),
        ("foreign-policy", foreign, "the requested TSA policy is not supported by the TSA"),
        ("extension", request(1, &extension, 32), "the requested extension is not supported by the TSA"),
        ("version-2", request(2, &[], 32), "transaction not permitted or supported"),
    ];
    for (name, body, fail) in cases {
        let file = h.path(&format!("{name}.tsq"));
        std::fs::write(&file, body).unwrap();
        let reply = post(&server, &h, &file, name);
        let text = reply_text(&reply);
        assert!(text.contains("Status: Rejected."), "{name}: {text}");
        assert!(text.contains(fail), "{name}: wanted {fail:?}\n{text}");
        assert!(text.contains("TST info:\nNot included."), "{name}: {text}");
    }
    // Still answering, and the right request still granted.
    let file = h.path("after.tsq");
    std::fs::write(&file, &good).unwrap();
    assert!(reply_text(&post(&server, &h, &file, "after")).contains("Status: Granted."));
    let out = curl(&[
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--data-binary",
        &format!("@{}", path(&file)),
        "-H",
        "Content-Type: text/plain",
        &url(&server),
    ]);
    assert_eq!(out.trim(), "415");
    server.stop();
}

/// CA keys on SoftHSM: the TSA key is made on the same token (object `hcpki-tsa`), and its tokens verify.
fn tsa_key_on_pkcs11_token(b: Backend) {
    use crate::pkcs11::{MODULE, SoftHsm, TOKEN};
    let plain = Hcpki::new(b);
    let hsm = SoftHsm::new(&plain.path("softhsm"));
    let h = plain.with_env("SOFTHSM2_CONF", &hsm.conf);
    h.ok(&["init", "--pkcs11-module", MODULE, "--pkcs11-token-label", TOKEN, "--pkcs11-pin-file", path(&hsm.pin_file)]);
    let (server, tsa) = serve_tsa(&h);
    let data = h.path("document.txt");
    std::fs::write(&data, "処方箋 prescription\n").unwrap();
    let query = query(&h, "hsm", &["-data", path(&data), "-sha256", "-cert"]);
    let reply = post(&server, &h, &query, "hsm");
    assert!(reply_text(&reply).contains("Status: Granted."));
    let (root, untrusted) = (h.ca_cert_file("root"), untrusted(&h, &tsa));
    let ok = verify("-data", &data, &reply, &root, &untrusted);
    assert!(ok.status.success(), "{}", describe(&ok));
    let objects = hsm.list_objects(Some("privkey"));
    assert!(objects.contains("hcpki-tsa"), "no TSA key on the token:\n{objects}");
    assert!(!h.dir().join("keys/tsa.p8").exists(), "the TSA key was written to a file");
    server.stop();
}

/// A signer's list: a dead URL, then hcpki's `/tsa` under roots that are not its own (the reference TSA's),
/// then hcpki's `/tsa` under its own chain with its policy, then the reference TSA. `hcpki tsa stamp` takes the
/// token of the third and reports why the first two failed; `openssl ts -verify` accepts that token.
/// `hcpki tsa check` asks each alone: the first two fail saying why, hcpki's and OpenSSL's tokens pass our
/// checks (ESS signingCertificate v1, RSA or ECDSA, another policy). A list where nothing answers writes
/// nothing and says the local clock is never used.
fn signers_take_the_first_valid_time_stamp_of_their_list(b: Backend) {
    let h = Hcpki::initialized(b);
    let (server, tsa) = serve_tsa(&h);
    let reference = ReferenceTsa::start(&h.path("reference"));
    let own = url(&server);
    let chain = h.chain_file("server");
    let foreign = reference.root();
    let config = std::fs::read_to_string(h.dir().join("hcpki.toml")).unwrap();
    let with_list = |entries: &[(&str, &Path, Option<&str>)]| {
        let mut text = config.clone();
        for (url, roots, policy) in entries {
            text += &format!("\n[[signing.tsa]]\nurl = \"{url}\"\nroots = [\"{}\"]\n", path(roots));
            if let Some(policy) = policy {
                text += &format!("policy = \"{policy}\"\n");
            }
        }
        std::fs::write(h.dir().join("hcpki.toml"), text).unwrap();
    };
    let dead = "http://127.0.0.1:1/tsa";
    let (chain, foreign) = (chain.as_path(), foreign.as_path());
    with_list(&[
        (dead, chain, None),
        (own.as_str(), foreign, None),
        (own.as_str(), chain, Some(POLICY)),
        (reference.url.as_str(), foreign, Some(ReferenceTsa::POLICY)),
    ]);
    let data = h.path("letter.txt");
    std::fs::write(&data, "紹介状 referral letter\n").unwrap();
    let token = h.path("letter.tst");
    let out = h.run(&["tsa", "stamp", "--data", path(&data), "--out", path(&token)]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stdout.contains(&format!("time stamp from {own}: genTime ")) && stdout.contains(POLICY), "{stdout}");
    assert!(stderr.contains(&format!("TSA 1 failed: {dead}: no answer")), "{stderr}");
    assert!(stderr.contains(&format!("TSA 2 failed: {own}: the TSA certificate")), "{stderr}");
    assert!(stderr.contains("does not chain to the roots configured for this TSA"), "{stderr}");
    assert!(!stderr.contains("TSA 3 failed"), "{stderr}");
    let verified = Command::new("openssl")
        .args(["ts", "-verify", "-token_in", "-in", path(&token), "-data", path(&data)])
        .args(["-CAfile", path(&h.ca_cert_file("root")), "-untrusted", path(&untrusted(&h, &tsa))])
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", describe(&verified));

    let out = h.run(&["tsa", "check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "one TSA failing fails the check\n{}", describe(&out));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with(&format!("1. {dead}: FAILED: no answer")), "{stdout}");
    assert!(lines[1].starts_with(&format!("2. {own}: FAILED: the TSA certificate")), "{stdout}");
    assert!(lines[2].starts_with(&format!("3. {own}: OK, genTime ")), "{stdout}");
    assert!(lines[3].starts_with(&format!("4. {}: OK, genTime ", reference.url)), "{stdout}");
    assert!(lines[3].contains(ReferenceTsa::POLICY) && lines[3].contains("CN=Reference TSA (openssl ts)"), "{stdout}");
    assert_eq!(lines[4], "2 of 4 TSAs gave a valid time stamp", "{stdout}");

    // The reference TSA's other faces (tests/peers/tsa_reference.py): through /chain, OpenSSL's token carries the
    // TSA certificate, then its root, out of DER's order; signing takes it (issue #42), and so does the check.
    // Each fault is refused by the one acceptance signing uses, so `hcpki tsa check` says FAILED for each.
    let faces = ["chain", "imprint", "policy", "unsigned", "forged"].map(|face| reference.at(face));
    with_list(&faces.each_ref().map(|url| (url.as_str(), foreign, Some(ReferenceTsa::POLICY))));
    let out = h.run(&["tsa", "check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with(&format!("1. {}: OK, genTime ", faces[0])), "{stdout}");
    for (line, (face, why)) in lines[1..5].iter().zip([
        (&faces[1], "messageImprint is not the one sent"),
        (&faces[2], "names TSA policy 1.3.6.1.4.1.99999.3161.8"),
        (&faces[3], "granted the request but sent no token"),
        (&faces[4], "signature does not check out"),
    ]) {
        assert!(line.contains(&format!("{face}: FAILED: ")) && line.contains(why), "{face}: {stdout}");
    }
    assert_eq!(lines[5], "1 of 5 TSAs gave a valid time stamp", "{stdout}");
    with_list(&[(faces[0].as_str(), foreign, Some(ReferenceTsa::POLICY))]);
    let chained = h.path("letter-chain.tst");
    h.ok(&["tsa", "stamp", "--data", path(&data), "--out", path(&chained)]);
    let token = hcpki_docsig::timestamp::ReceivedToken::read(&std::fs::read(&chained).unwrap()).unwrap();
    let carried = &token.signed_data().parts().certificates;
    let root = crate::oidc::pem_to_der(&std::fs::read_to_string(reference.root()).unwrap());
    // As OpenSSL wrote them: the TSA certificate first, then its root, which DER would put first (it is the
    // shorter encoding: X.690 §11.6 sorts by the octets, where the length comes before anything else).
    assert_eq!(carried.len(), 2);
    assert!(carried[1] == root && carried[0].len() > root.len(), "the chain's order is DER's: the test proves nothing");
    let verified = Command::new("openssl")
        .args(["ts", "-verify", "-token_in", "-in", path(&chained), "-data", path(&data)])
        .args(["-CAfile", path(&reference.root())])
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", describe(&verified));

    with_list(&[(dead, chain, None)]);
    let nowhere = h.path("nowhere.tst");
    let err = h.fails(&["tsa", "stamp", "--data", path(&data), "--out", path(&nowhere)]);
    assert!(err.contains("the local clock is never a time stamp") && err.contains(&format!("1. {dead}")), "{err}");
    assert!(!nowhere.exists(), "a token was written though no TSA gave one");
    server.stop();
}

/// tests/peers/tsa_reference.py: `openssl ts -reply` per request behind Python's http.server, with its own
/// root and TSA certificate.
pub(crate) struct ReferenceTsa {
    child: std::process::Child,
    dir: PathBuf,
    pub(crate) url: String,
}

impl ReferenceTsa {
    /// The policy it stamps under.
    pub(crate) const POLICY: &str = "1.3.6.1.4.1.99999.3161.7";

    pub(crate) fn start(dir: &Path) -> Self {
        let mut command = Command::new("python3");
        command.arg(crate::harness::repo_root().join("tests/peers/tsa_reference.py"));
        command.args(["--dir", path(dir), "--policy", Self::POLICY]);
        let (child, port) = peers::spawn_listening(command);
        Self { child, dir: dir.to_owned(), url: format!("http://127.0.0.1:{port}/tsa") }
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.dir.join("root.pem")
    }

    /// Its directory (root.pem, tsa.pem).
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The URL of one of its faces (`chain`, `imprint`, `policy`, `unsigned`, `forged`: the script's doc).
    pub(crate) fn at(&self, face: &str) -> String {
        format!("{}/{face}", self.url.trim_end_matches("/tsa"))
    }
}

impl Drop for ReferenceTsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `hcpki serve` with `[tsa]`; the TSA certificate it issued.
fn serve_tsa(h: &Hcpki) -> (Served, PathBuf) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(h.dir().join("hcpki.toml")).unwrap();
    write!(f, "\n[tsa]\npolicy = \"{POLICY}\"\n").unwrap();
    let server = Served::start(h, &[]);
    (server, h.dir().join("tsa/tsa.pem"))
}

/// The TSA certificate and the server CA, for `-untrusted`.
fn untrusted(h: &Hcpki, tsa: &Path) -> PathBuf {
    let out = h.path("untrusted.pem");
    let server_ca = std::fs::read_to_string(h.ca_cert_file("server")).unwrap();
    std::fs::write(&out, std::fs::read_to_string(tsa).unwrap() + &server_ca).unwrap();
    out
}

/// `openssl ts -query ARGS -out <name>.tsq`.
fn query(h: &Hcpki, name: &str, args: &[&str]) -> PathBuf {
    let out = h.path(&format!("{name}.tsq"));
    run_ok(Command::new("openssl").args(["ts", "-query"]).args(args).arg("-out").arg(&out));
    out
}

/// POST the query to `/tsa`; the reply must be HTTP 200 `application/timestamp-reply`.
fn post(server: &Served, h: &Hcpki, query: &Path, name: &str) -> PathBuf {
    let reply = h.path(&format!("{name}.tsr"));
    let meta = curl(&[
        "-sS",
        "-o",
        path(&reply),
        "-w",
        "%{http_code} %{content_type}",
        "--data-binary",
        &format!("@{}", path(query)),
        "-H",
        "Content-Type: application/timestamp-query",
        &url(server),
    ]);
    assert_eq!(meta.trim(), "200 application/timestamp-reply", "{name}");
    reply
}

fn url(server: &Served) -> String {
    format!("http://127.0.0.1:{}/tsa", server.http_port)
}

fn curl(args: &[&str]) -> String {
    String::from_utf8_lossy(&run_ok(Command::new("curl").args(args)).stdout).into_owned()
}

/// `openssl ts -reply -in REPLY -text`.
fn reply_text(reply: &Path) -> String {
    let out = run_ok(Command::new("openssl").args(["ts", "-reply", "-text", "-in"]).arg(reply));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `openssl ts -verify -data FILE` or `-queryfile FILE` of `reply`, trusting `root` only, the TSA certificate
/// and its CA in `untrusted`.
fn verify(against: &str, file: &Path, reply: &Path, root: &Path, untrusted: &Path) -> std::process::Output {
    Command::new("openssl")
        .args(["ts", "-verify", against, path(file), "-in", path(reply), "-CAfile", path(root)])
        .args(["-untrusted", path(untrusted)])
        .output()
        .unwrap()
}

/// One DER TLV (short or one-octet long form: the requests here are small).
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let header = if len < 0x80 { vec![tag, len as u8] } else { vec![tag, 0x81, len as u8] };
    [header, content.to_vec()].concat()
}

/// A TSA certificate for a fresh P-256 key, through `hcpki issue`.
fn issue_tsa(h: &Hcpki, name: &str) -> PathBuf {
    let request = csr(h.scratch(), name, Key::P256, name);
    let out = h.path(&format!("{name}.pem"));
    h.ok(&["issue", "--profile", "tsa", "--csr", path(&request), "--out", path(&out)]);
    out
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}
