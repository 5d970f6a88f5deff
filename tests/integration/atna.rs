//! ATNA audit forwarding (issue #29 part 6, D97, D98) to a real audit repository: rsyslog with its gtls driver
//! (RFC 5425, client certificates required: `x509/certvalid`), parsing each ITI-20 message as RFC 5424.
//!
//! One journey: every entry of the hash-chained log arrives as a DICOM audit message; the repository goes down,
//! hcpki restarts, entries pile up; the repository comes back and the backlog arrives, nothing lost, repeats
//! bounded by at-least-once. One refusal: a repository whose certificate does not chain to `[atna] ca_file`
//! gets nothing, and the failure is counted, logged and audited.

use crate::harness::{Backend, Hcpki, describe};
use crate::serve::Served;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

on_both_backends!(
    every_entry_reaches_the_repository_across_an_outage_and_a_restart,
    a_repository_with_the_wrong_certificate_gets_nothing
);

/// Entries per connection in these tests: small, so the journey takes several batches and the mark moves in
/// steps.
const BATCH: usize = 5;

fn every_entry_reaches_the_repository_across_an_outage_and_a_restart(b: Backend) {
    let h = crate::audit::with_history(b);
    let pki = Pki::make(h.scratch());
    let mut repository = TlsRsyslog::start(&pki, &pki.server, &pki.ca(), None);

    // Mutual TLS: the repository refuses a client whose certificate it cannot verify, and one with none.
    openssl_send(&repository, &pki, Some(&pki.stranger), "FROM-A-STRANGER");
    openssl_send(&repository, &pki, None, "WITHOUT-A-CERTIFICATE");

    configure(&h, &pki, repository.port);
    let server = Served::start(&h, &[]);
    let head = head(&h);
    let received = repository.wait_for_entries(head);
    let entries = h.audit_list();
    for entry in entries.iter().take_while(|e| e["seq"].as_i64().unwrap() <= head) {
        let seq = entry["seq"].as_i64().unwrap();
        let got = &received[&seq][0];
        check_message(entry, got);
    }
    let all = repository.lines().join("\n");
    assert!(!all.contains("FROM-A-STRANGER") && !all.contains("WITHOUT-A-CERTIFICATE"), "{all}");
    // The standard's events: the certificate issued and the refused issuance of the history.
    let issued = message_of(&received, &entries, |e| e["action"] == "cert.issue" && e["outcome"] == "ok");
    assert_eq!(code(&issued, "EventID"), "110113");
    assert_eq!(attr(&issued, "EventIdentification", "EventActionCode"), "C");
    let refused = message_of(&received, &entries, |e| e["action"] == "cert.issue" && e["outcome"] == "denied");
    assert_eq!(attr(&refused, "EventIdentification", "EventOutcomeIndicator"), "4");
    let chain = h.chain_file("server");
    let metrics = poll_metrics(&server, &chain, |m| metric(m, "hcpki_atna_backlog") == Some(0));
    assert!(metric(&metrics, "hcpki_atna_sent_total").unwrap() >= head, "{metrics}");

    // The repository goes down; entries written meanwhile wait in the log.
    repository.stop();
    h.add_facility("Registered while the repository is down", None);
    poll_metrics(&server, &chain, |m| metric(m, r#"hcpki_atna_failures_total{reason="connect"}"#) >= Some(1));
    // hcpki restarts while it is still down, and more is written while hcpki is stopped.
    let log = server.stop();
    assert!(log.contains("ATNA: audit messages not delivered"), "{log}");
    assert!(log.contains("cannot connect to the audit repository"), "{log}");
    h.add_facility("Registered while hcpki is stopped", None);
    let marked = h.db().scalar_i64("SELECT acked_seq FROM audit_forwarding WHERE destination = 'atna'");
    assert!(marked >= head, "the mark survives the restart: {marked} < {head}");

    repository = TlsRsyslog::start(&pki, &pki.server, &pki.ca(), Some(repository.port));
    let server = Served::start(&h, &[]);
    let head = self::head(&h);
    let received = repository.wait_for_entries(head);
    let entries = h.audit_list();
    let failing = entries
        .iter()
        .find(|e| e["action"] == "atna.forward" && e["outcome"] == "failed")
        .unwrap_or_else(|| panic!("the outage is audited once: {entries:?}"));
    assert!(failing["detail"].as_str().unwrap().contains("cannot connect"), "{failing}");
    for entry in entries.iter().take_while(|e| e["seq"].as_i64().unwrap() <= head) {
        check_message(entry, &received[&entry["seq"].as_i64().unwrap()][0]);
    }
    // At least once: a batch interrupted before its confirmation is sent again, nothing more.
    let repeats: usize = received.values().map(|copies| copies.len() - 1).sum();
    assert!(repeats <= 2 * BATCH, "{repeats} repeated messages");
    poll_metrics(&server, &chain, |m| metric(m, "hcpki_atna_backlog") == Some(0));
    drop(server);
}

fn a_repository_with_the_wrong_certificate_gets_nothing(b: Backend) {
    let h = Hcpki::initialized(b);
    let pki = Pki::make(h.scratch());
    // A certificate for the right names, but not from the CA of `[atna] ca_file`.
    let mut repository = TlsRsyslog::start(&pki, &pki.stranger, &pki.ca(), None);
    configure(&h, &pki, repository.port);
    let server = Served::start(&h, &[]);
    let chain = h.chain_file("server");
    let metrics =
        poll_metrics(&server, &chain, |m| metric(m, r#"hcpki_atna_failures_total{reason="certificate"}"#) >= Some(1));
    assert_eq!(metric(&metrics, "hcpki_atna_sent_total"), Some(0), "{metrics}");
    assert_eq!(metric(&metrics, "hcpki_atna_acknowledged_seq"), Some(0), "{metrics}");
    assert_eq!(h.db().scalar_i64("SELECT COUNT(*) FROM audit_forwarding"), 0, "nothing marked sent");
    let failing = crate::oidc::poll(|| {
        h.audit_list().into_iter().find(|e| e["action"] == "atna.forward" && e["outcome"] == "failed")
    });
    assert!(failing["detail"].as_str().unwrap().contains("certificate is refused"), "{failing}");
    // The handshake failed before any byte of a message: the repository has nothing.
    assert!(repository.lines().is_empty(), "{:?}", repository.lines());

    // The right repository, but one that does not trust hcpki's client certificate (its client CA is another):
    // rsyslog drops the session after the handshake, unread, and hcpki must not take that for a confirmation.
    let port = repository.port;
    repository.stop();
    let repository = TlsRsyslog::start(&pki, &pki.server, &pki.stranger.cert, Some(port));
    let metrics = poll_metrics(&server, &chain, |m| {
        metric(m, r#"hcpki_atna_failures_total{reason="unconfirmed"}"#) >= Some(1)
            || metric(m, r#"hcpki_atna_failures_total{reason="handshake"}"#) >= Some(1)
    });
    assert_eq!(metric(&metrics, "hcpki_atna_sent_total"), Some(0), "{metrics}");
    assert_eq!(h.db().scalar_i64("SELECT COUNT(*) FROM audit_forwarding"), 0, "nothing marked sent");
    assert!(repository.lines().is_empty(), "{:?}", repository.lines());

    let log = server.stop();
    assert!(log.contains("the audit repository's certificate is refused"), "{log}");
    assert!(log.contains("check [atna] ca_file"), "{log}");

    // Retention keeps what the repository has not confirmed: here, everything.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let archive = h.path("never.jsonl");
    let at = hcpki_pkix::time::rfc3339(now + 2 * 86_400);
    let out = h.run(&["audit", "prune", "--archive", archive.to_str().unwrap(), "--keep-days", "1", "--at", &at]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("keeping the entries after 0"), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing older than 1 days to prune"), "{}", describe(&out));
}

/// The head of the audit log.
fn head(h: &Hcpki) -> i64 {
    h.audit_list().last().map_or(0, |e| e["seq"].as_i64().unwrap())
}

/// `[atna]` pointing at the repository on `port`, with the client certificate and its key installed: the key
/// encrypted under the installation's passphrase, as hcpki keeps keys.
fn configure(h: &Hcpki, pki: &Pki, port: u16) {
    let dir = h.dir().join("atna");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(pki.dir.join("ca.pem"), dir.join("ca.pem")).unwrap();
    std::fs::copy(&pki.client.cert, dir.join("client.pem")).unwrap();
    let out = Command::new("openssl")
        .args(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in"])
        .arg(&pki.client.key)
        .arg("-out")
        .arg(h.dir().join("keys/atna.p8"))
        .arg("-passout")
        .arg(format!("file:{}", h.dir().join("secrets/key-passphrase").display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let config = h.dir().join("hcpki.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[atna]\naddress = \"127.0.0.1:{port}\"\nca_file = \"atna/ca.pem\"\ncertificate = \"atna/client.pem\"\n\
         key = \"file:keys/atna.p8\"\nsource_id = \"hcpki.test\"\nsite_id = \"1310000001\"\nbatch = {BATCH}\n\
         poll_secs = 1\nretry_max_secs = 1\n"
    ));
    std::fs::write(&config, text).unwrap();
}

/// One received message against its entry: ITI-20's header (facility 10, the outcome's severity, MSGID), the
/// entry named in the structured data, and the XML with the elements PS3.15 A.5 requires.
fn check_message(entry: &serde_json::Value, got: &serde_json::Value) {
    let severity = match entry["outcome"].as_str().unwrap() {
        "ok" => 6,
        "denied" => 4,
        _ => 3,
    };
    assert_eq!(got["pri"], (10 * 8 + severity).to_string(), "{got}");
    assert_eq!(got["msgid"], "IHE+RFC-3881", "{got}");
    assert_eq!(got["app"], "hcpki", "{got}");
    let sd = got["sd"].as_str().unwrap();
    assert!(sd.contains(&format!("hash=\"{}\"", entry["hash"].as_str().unwrap())), "{sd}");
    let xml = xml_of(got);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "AuditMessage");
    let event = root.children().find(|c| c.has_tag_name("EventIdentification")).expect("EventIdentification");
    for a in ["EventActionCode", "EventDateTime", "EventOutcomeIndicator"] {
        assert!(event.attribute(a).is_some(), "{a} missing: {xml}");
    }
    let id = event.children().find(|c| c.has_tag_name("EventID")).expect("EventID");
    assert_eq!(id.attribute("codeSystemName"), Some("DCM"), "{xml}");
    let types: Vec<_> = event.children().filter(|c| c.has_tag_name("EventTypeCode")).collect();
    assert!(types.iter().any(|t| t.attribute("csd-code") == entry["action"].as_str()), "{xml}");
    let actor = root.children().find(|c| c.has_tag_name("ActiveParticipant")).expect("ActiveParticipant");
    assert_eq!(actor.attribute("UserID"), entry["actor"].as_str(), "{xml}");
    let source = root.children().find(|c| c.has_tag_name("AuditSourceIdentification")).expect("source");
    assert_eq!(source.attribute("AuditSourceID"), Some("hcpki.test"));
    assert_eq!(source.attribute("AuditEnterpriseSiteID"), Some("1310000001"));
}

/// The XML of a received message (rsyslog keeps the BOM in MSG).
fn xml_of(got: &serde_json::Value) -> String {
    got["msg"].as_str().unwrap().trim_start_matches('\u{feff}').to_owned()
}

/// The message of the first entry matching `which`.
fn message_of(
    received: &BTreeMap<i64, Vec<serde_json::Value>>,
    entries: &[serde_json::Value],
    which: impl Fn(&serde_json::Value) -> bool,
) -> String {
    let entry = entries.iter().find(|e| which(e)).unwrap_or_else(|| panic!("no such entry in {entries:?}"));
    xml_of(&received[&entry["seq"].as_i64().unwrap()][0])
}

fn attr(xml: &str, element: &str, name: &str) -> String {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let node = doc.descendants().find(|n| n.has_tag_name(element)).unwrap();
    node.attribute(name).unwrap().to_owned()
}

fn code(xml: &str, element: &str) -> String {
    attr(xml, element, "csd-code")
}

/// `/metrics` once `done` holds.
fn poll_metrics(server: &Served, chain: &Path, done: impl Fn(&str) -> bool) -> String {
    crate::oidc::poll(|| Some(server.curl_https(chain, "/metrics")).filter(|m| done(m)))
}

/// The value of the series `name` (with its labels, as rendered).
fn metric(metrics: &str, name: &str) -> Option<i64> {
    metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// A certificate and its key (PEM files).
struct Pair {
    cert: PathBuf,
    key: PathBuf,
}

/// The test PKI (peers::make_tls_pki: a CA, a server certificate for localhost and 127.0.0.1, a self-signed
/// stranger for the same names) plus a client certificate (clientAuth) from the same CA, for hcpki.
struct Pki {
    dir: PathBuf,
    server: Pair,
    stranger: Pair,
    client: Pair,
}

impl Pki {
    /// The CA certificate.
    fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    fn make(scratch: &Path) -> Self {
        let dir = scratch.join("atna-pki");
        std::fs::create_dir_all(&dir).unwrap();
        crate::peers::make_tls_pki(&dir);
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl").current_dir(&dir).args(args).output().unwrap();
            assert!(out.status.success(), "openssl {args:?}\n{}", describe(&out));
        };
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=hcpki.test",
            "-keyout",
            "client.key",
            "-out",
            "client.csr",
        ]);
        std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-days",
            "1",
            "-extfile",
            "client.ext",
            "-out",
            "client.pem",
        ]);
        let pair = |name: &str| Pair { cert: dir.join(format!("{name}.pem")), key: dir.join(format!("{name}.key")) };
        Self { server: pair("server"), stranger: pair("stranger"), client: pair("client"), dir }
    }
}

/// rsyslogd as an ATNA audit repository: imtcp with the gtls driver (RFC 5425) on a loopback port, requiring a
/// client certificate from the test CA (`x509/certvalid`), writing each message's parsed RFC 5424 fields as one
/// JSON object per line.
struct TlsRsyslog {
    child: Option<std::process::Child>,
    port: u16,
    out: PathBuf,
}

impl TlsRsyslog {
    /// Serving `identity`, accepting client certificates that chain to `client_ca`, on `port` (a restart) or a
    /// free one; its messages go to the same file every time.
    fn start(pki: &Pki, identity: &Pair, client_ca: &Path, port: Option<u16>) -> Self {
        let port = port.unwrap_or_else(crate::harness::free_port);
        let work = pki.dir.join("repository");
        std::fs::create_dir_all(&work).unwrap();
        let out = work.join("received.jsonl");
        let conf = work.join(format!("rsyslog-{}.conf", uuid::Uuid::new_v4().simple()));
        std::fs::write(
            &conf,
            format!(
                r#"global(workDirectory="{work}" defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="{ca}"
       defaultNetstreamDriverCertFile="{cert}" defaultNetstreamDriverKeyFile="{key}")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
input(type="imtcp" port="{port}" address="127.0.0.1" ruleset="atna")
template(name="fields" type="list" option.jsonf="on") {{
  property(outname="pri" name="pri" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}}
ruleset(name="atna") {{ action(type="omfile" file="{out}" template="fields") }}
"#,
                work = work.display(),
                ca = client_ca.display(),
                cert = identity.cert.display(),
                key = identity.key.display(),
                out = out.display()
            ),
        )
        .unwrap();
        let mut child = Command::new("rsyslogd")
            .args(["-n", "-f"])
            .arg(&conf)
            .arg("-i")
            .arg(conf.with_extension("pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rsyslogd (scripts/deps installs rsyslog and rsyslog-gnutls)");
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self { child: Some(child), port, out };
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("rsyslogd did not listen on {port}");
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.out).unwrap_or_default().lines().map(str::to_owned).collect()
    }

    /// Once every entry up to `head` arrived: the messages by entry sequence number (repeats kept).
    fn wait_for_entries(&self, head: i64) -> BTreeMap<i64, Vec<serde_json::Value>> {
        crate::oidc::poll(|| {
            let mut by_seq: BTreeMap<i64, Vec<serde_json::Value>> = BTreeMap::new();
            for line in self.lines() {
                let got: serde_json::Value = serde_json::from_str(&line).unwrap();
                let sd = got["sd"].as_str().unwrap_or_default();
                let seq = sd.split("seq=\"").nth(1).and_then(|r| r.split('"').next()).and_then(|s| s.parse().ok());
                if let Some(seq) = seq {
                    by_seq.entry(seq).or_default().push(got);
                }
            }
            (1..=head).all(|s| by_seq.contains_key(&s)).then_some(by_seq)
        })
    }
}

impl Drop for TlsRsyslog {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `openssl s_client` sending one ITI-20-looking message marked `marker`, presenting `client` (or no
/// certificate); waits for the connection to end.
fn openssl_send(repository: &TlsRsyslog, pki: &Pki, client: Option<&Pair>, marker: &str) {
    let message = format!("<86>1 2026-11-27T00:00:00.000Z h hcpki - IHE+RFC-3881 - {marker}");
    let mut command = Command::new("timeout");
    command.args(["20", "openssl", "s_client", "-quiet", "-connect"]).arg(format!("127.0.0.1:{}", repository.port));
    command.arg("-CAfile").arg(pki.ca());
    if let Some(pair) = client {
        command.arg("-cert").arg(&pair.cert).arg("-key").arg(&pair.key);
    }
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        let _ = write!(stdin, "{} {message}", message.len());
    }
    let _ = child.wait();
}
