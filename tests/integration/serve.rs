//! `hcpki serve` against real TLS and HTTP clients: OpenSSL `s_client` for the TLS policy (what is
//! accepted, what is refused), curl for `/healthz` and `/metrics`, pkilint and `openssl verify` for the
//! server certificate, and SIGTERM for a clean stop.

use crate::harness::{Backend, Hcpki, describe};
use crate::peers;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

on_both_backends!(
    expiring_lists_exactly_the_certificates_in_the_window,
    tls_policy_openssl_accepts_and_refuses,
    healthz_metrics_over_curl_and_sigterm_stops_cleanly,
    server_certificate_life_cycle,
    rate_limits_refuse_a_flood_per_address_and_audit_it_once,
    rate_limits_hold_across_two_replicas_on_one_database,
    expiry_webhook_reports_each_unrenewed_certificate_once,
);

/// `hcpki cert expiring --days N`: a router certificate appears once the window reaches its notAfter and not
/// before; the exit status says whether anything expires (1) or not (0), for monitoring checks.
fn expiring_lists_exactly_the_certificates_in_the_window(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Expiring clinic");
    let request = crate::fixtures::csr(h.scratch(), "expiring", crate::fixtures::Key::P256, "router");
    let out = h.path("expiring.pem");
    h.ok(&[
        "issue",
        "--profile",
        "router",
        "--facility",
        &id,
        "--csr",
        crate::issue::path(&request),
        "--out",
        crate::issue::path(&out),
    ]);
    let listed = h.ok(&["cert", "list", "--facility", &id, "--json"]);
    let cert: serde_json::Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    let serial = cert["serial"].as_str().unwrap().to_owned();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let days_left = (cert["not_after"].as_i64().unwrap() - now) / 86_400;
    assert!(days_left > 30, "router certificates live longer than a month: {days_left} days");

    let inside = h.run(&["cert", "expiring", "--days", &(days_left + 2).to_string(), "--profile", "router", "--json"]);
    assert_eq!(inside.status.code(), Some(1), "{}", describe(&inside));
    let text = String::from_utf8_lossy(&inside.stdout);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains(&serial), "{text}");
    assert!(String::from_utf8_lossy(&inside.stderr).contains("1 issued certificates expire within"));

    let outside = h.run(&["cert", "expiring", "--days", &(days_left - 2).to_string(), "--profile", "router"]);
    assert_eq!(outside.status.code(), Some(0), "{}", describe(&outside));
    assert!(outside.stdout.is_empty(), "{}", describe(&outside));

    // A revoked certificate is no longer a renewal worry.
    h.ok(&["revoke", "--serial", &serial, "--reason", "superseded"]);
    let after = h.run(&["cert", "expiring", "--days", &(days_left + 2).to_string(), "--profile", "router"]);
    assert_eq!(after.status.code(), Some(0), "{}", describe(&after));

    let bad = h.fails(&["cert", "expiring", "--days", "0"]);
    assert!(bad.contains("--days"), "{bad}");
}

/// An independent scanner (sslscan, Debian) sees exactly the CRYPTREC high-security setting on every TLS listener
/// (the main HTTPS listener, the portal's and the portal's mTLS endpoints, D20): TLS 1.2 and 1.3 only, every
/// accepted suite ECDHE (or TLS 1.3) with AES-GCM, key exchange on P-256/P-384 only, and no renegotiation. The
/// policy does not depend on the database, so it runs once, on SQLite.
#[test]
fn sslscan_sees_only_tls12_tls13_aead_suites_and_nist_groups() {
    let p = crate::oidc::Portal::start_with(Backend::Sqlite, "mtls_listen = \"127.0.0.1:0\"\n", |_| ());
    let served = p.served();
    let mtls = served.listening.split(" and mtls https://").nth(1).and_then(|a| a.split_whitespace().next());
    let mtls_port = mtls.and_then(|a| a.rsplit(':').next()).unwrap_or_else(|| panic!("{}", served.listening));
    for (listener, port) in [
        ("https", served.https_port.to_string()),
        ("portal", p.bound_port().to_string()),
        ("mtls", mtls_port.to_owned()),
    ] {
        sslscan_sees_only_the_tls_policy(listener, &format!("127.0.0.1:{port}"));
    }
}

/// sslscan's XML report on `addr` (the `listener` named in failures) shows only the TLS policy.
fn sslscan_sees_only_the_tls_policy(listener: &str, addr: &str) {
    let out = Command::new("timeout")
        .args(["120", "sslscan", "--no-colour", "--xml=-", addr])
        .output()
        .expect("run sslscan (scripts/deps installs it)");
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && xml.contains("<ssltest"), "{listener}: sslscan failed\n{}", describe(&out));
    let attr = |line: &str, name: &str| -> String {
        let start =
            line.find(&format!(" {name}=\"")).map(|i| i + name.len() + 3).unwrap_or_else(|| panic!("{name} in {line}"));
        line[start..].split('"').next().unwrap().to_owned()
    };
    let lines = |tag: &str| {
        xml.lines().filter(|l| l.trim_start().starts_with(&format!("<{tag} "))).map(str::to_owned).collect::<Vec<_>>()
    };
    let enabled: Vec<String> = lines("protocol")
        .iter()
        .filter(|l| attr(l, "enabled") == "1")
        .map(|l| format!("{} {}", attr(l, "type"), attr(l, "version")))
        .collect();
    assert_eq!(enabled, ["tls 1.2", "tls 1.3"], "{listener}: protocols\n{xml}");
    let ciphers = lines("cipher");
    assert!(ciphers.len() >= 4, "{listener}: sslscan found {} suites\n{xml}", ciphers.len());
    for c in &ciphers {
        let name = attr(c, "cipher");
        let aead = name.contains("GCM") && !name.contains("CHACHA");
        let ecdhe = attr(c, "sslversion") == "TLSv1.3" || name.starts_with("ECDHE-");
        assert!(aead && ecdhe, "{listener}: suite {name} is not ECDHE + AES-GCM\n{xml}");
        assert!(["P-256", "P-384"].contains(&attr(c, "curve").as_str()), "{listener}: suite {name} on {c}");
    }
    let groups = lines("group");
    assert!(!groups.is_empty(), "{listener}: no key exchange group seen\n{xml}");
    for g in groups {
        let name = attr(&g, "name");
        assert!(name.starts_with("secp256r1") || name.starts_with("secp384r1"), "{listener}: group {name}\n{xml}");
    }
    assert!(xml.contains(r#"<renegotiation supported="0""#), "{listener}: renegotiation\n{xml}");
}

/// TLS 1.3 and TLS 1.2 ECDHE-ECDSA-AES-GCM are accepted with a certificate that verifies for the default
/// names; every older protocol, CBC suite, ChaCha20 suite and X25519-only client is refused by the server.
fn tls_policy_openssl_accepts_and_refuses(b: Backend) {
    let h = Hcpki::initialized(b);
    let server = Served::start(&h, &[]);
    let chain = h.chain_file("server");
    let chain = chain.to_str().unwrap();
    let verify = ["-CAfile", chain, "-verify_return_error"];

    let tls13 = server.s_client(&[&["-tls1_3", "-verify_hostname", "localhost"], &verify[..]].concat());
    accepted(&tls13, "TLSv1.3", "TLS_AES_256_GCM_SHA384");
    let tls12 = server.s_client(
        &[&["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-verify_ip", "127.0.0.1"], &verify[..]].concat(),
    );
    accepted(&tls12, "TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256");
    let ipv6 = server.s_client(&[&["-tls1_3", "-verify_ip", "::1"], &verify[..]].concat());
    accepted(&ipv6, "TLSv1.3", "TLS_AES_");
    // The certificate names this machine only: another name must fail verification.
    let wrong = server.s_client(&[&["-tls1_3", "-verify_hostname", "hcpki.example"], &verify[..]].concat());
    assert!(!wrong.status.success(), "s_client accepted a name the certificate lacks\n{}", describe(&wrong));

    // SECLEVEL=0 lets OpenSSL 3 *offer* TLS 1.0/1.1 and SHA-1 suites, so the refusal is the server's.
    let refused: &[&[&str]] = &[
        &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
        &["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"],
        &["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA@SECLEVEL=0"],
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256:AES128-SHA256"],
        &["-tls1_2", "-cipher", "AES128-GCM-SHA256"],
        &["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"],
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"],
        &["-tls1_3", "-groups", "X25519"],
        &["-tls1_2", "-groups", "X25519"],
    ];
    for args in refused {
        let out = server.s_client(args);
        let text = combined(&out);
        assert!(!out.status.success(), "s_client {args:?} was accepted\n{text}");
        // The server's alert, not the client failing to offer anything.
        assert!(text.contains("alert"), "s_client {args:?} failed without a server alert\n{text}");
    }
    server.stop();
}

/// `/healthz` and `/metrics` over HTTPS with curl (verifying the server certificate), `/healthz` over plain
/// HTTP, nothing else there; the request counter counts; SIGTERM exits 0 and logs the requests.
fn healthz_metrics_over_curl_and_sigterm_stops_cleanly(b: Backend) {
    let h = Hcpki::initialized(b);
    let server = Served::start(&h, &[]);
    let chain = h.chain_file("server");
    assert_eq!(server.curl_https(&chain, "/healthz"), "ok\n");
    assert_eq!(server.curl_https(&chain, "/healthz"), "ok\n");
    let metrics = server.curl_https(&chain, "/metrics");
    assert!(
        metrics.contains(r#"hcpki_http_requests_total{listener="https",route="/healthz",status="200"} 2"#),
        "{metrics}"
    );
    assert!(metrics.contains("# TYPE hcpki_http_request_duration_seconds histogram"), "{metrics}");
    assert!(metrics.contains(r#"hcpki_build_info{version=""#), "{metrics}");
    // The server's own certificate was issued through the pipeline and counts.
    assert!(metrics.contains(r#"hcpki_certificates_issued{profile="server"} 1"#), "{metrics}");
    // Expiry monitoring: the delegated OCSP signers (30 days) expire within 30 days, not within 7; the server
    // certificate (397 days) within neither.
    assert!(metrics.contains("# TYPE hcpki_certificates_expiring gauge"), "{metrics}");
    assert!(metrics.contains(r#"hcpki_certificates_expiring{profile="ocsp",within_days="30"} "#), "{metrics}");
    assert!(!metrics.contains(r#"hcpki_certificates_expiring{profile="ocsp",within_days="7"}"#), "{metrics}");
    assert!(!metrics.contains(r#"hcpki_certificates_expiring{profile="server""#), "{metrics}");

    assert_eq!(curl(&["-sS", "--fail", &format!("http://127.0.0.1:{}/healthz", server.http_port)]), "ok\n");
    let status = curl(&[
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("http://127.0.0.1:{}/metrics", server.http_port),
    ]);
    assert_eq!(status, "404", "/metrics must not be served over plain HTTP");
    let again = server.curl_https(&chain, "/metrics");
    assert!(again.contains(r#"route="/metrics",status="200"} 1"#), "{again}");
    assert!(again.contains(r#"listener="http",route="/healthz",status="200"} 1"#), "{again}");

    let log = server.stop();
    assert!(log.contains("route=\"/healthz\"") && log.contains("status=200"), "no request log line:\n{log}");
}

/// First start issues the certificate for the configured names (audited, pkilint-clean, verifies for
/// sslserver); a restart keeps it; other names (here the loopback defaults) get a new one for exactly those.
fn server_certificate_life_cycle(b: Backend) {
    let h = Hcpki::initialized(b);
    let names = ["--server-name", "hcpki.example", "--server-name", "127.0.0.1"];
    Served::start(&h, &names).stop();
    let cert = h.dir().join("tls/server.pem");
    let serial = serial_of(&cert);
    let chain = h.chain_file("server");
    peers::openssl_verify(&chain, &cert, Some("sslserver"));
    // pkilint only sees production-style names: it reports the single-label default `localhost` as an
    // ERROR (pkix.invalid_domain_name_syntax), see docs/interop.md.
    peers::pkilint(&cert);
    let audit = h.ok(&["audit", "list"]);
    assert!(
        audit.lines().any(|l| l.contains("\"cert.issue\"") && l.contains(&serial) && l.contains("\"system\"")),
        "no cert.issue audit entry by system for {serial}:\n{audit}"
    );

    let again = Served::start(&h, &names);
    let chain_s = chain.to_str().unwrap();
    let out = again.s_client(&["-verify_hostname", "hcpki.example", "-CAfile", chain_s, "-verify_return_error"]);
    accepted(&out, "TLSv1.3", "TLS_AES_");
    again.stop();
    assert_eq!(serial_of(&cert), serial, "a restart must keep a good certificate");

    let defaults = Served::start(&h, &[]);
    let out = defaults.s_client(&["-verify_hostname", "localhost", "-CAfile", chain_s, "-verify_return_error"]);
    accepted(&out, "TLSv1.3", "TLS_AES_");
    let old_name =
        defaults.s_client(&["-verify_hostname", "hcpki.example", "-CAfile", chain_s, "-verify_return_error"]);
    assert!(!old_name.status.success(), "the re-issued certificate still names hcpki.example\n{}", describe(&old_name));
    defaults.stop();
    assert_ne!(serial_of(&cert), serial, "other names must lead to a new certificate");
    peers::openssl_verify(&chain, &cert, Some("sslserver"));
}

/// Issue #9 rate limits: with small `[limits]`, the ninth OCSP request from one address in a minute gets 429
/// with Retry-After while another address (named by a trusted proxy's X-Forwarded-For) still gets answers;
/// ACME, EST and facility applications share the enrollment budget, ACME answering with its `rateLimited`
/// problem; each refused stretch is audited once, every refusal is counted, and the chain verifies.
fn rate_limits_refuse_a_flood_per_address_and_audit_it_once(b: Backend) {
    let h = Hcpki::initialized(b);
    h.append_config(
        "\n[limits]\nenroll_per_minute = 5\nrevocation_per_minute = 8\nlogin_per_minute = 3\n\
         trusted_proxies = [\"127.0.0.1/32\"]\n",
    );
    let server = Served::start(&h, &[]);
    let chain = h.chain_file("server");
    // status, Retry-After and body of one request.
    let ask = |url: &str, extra: &[&str]| -> (u16, String, String) {
        let body = h.path(&format!("body-{}", uuid::Uuid::new_v4().simple()));
        let head = h.path(&format!("head-{}", uuid::Uuid::new_v4().simple()));
        let out = curl(
            &[
                &["-sS", "--cacert", chain.to_str().unwrap(), "-o", body.to_str().unwrap()][..],
                &["-D", head.to_str().unwrap(), "-w", "%{http_code}"],
                extra,
                &[url],
            ]
            .concat(),
        );
        let headers = std::fs::read_to_string(&head).unwrap().to_ascii_lowercase();
        let retry = headers.lines().find_map(|l| l.strip_prefix("retry-after: ")).unwrap_or("").trim().to_owned();
        (out.parse().unwrap(), retry, std::fs::read_to_string(&body).unwrap_or_default())
    };
    let ocsp = format!("http://127.0.0.1:{}/ocsp/pc", server.http_port);
    for n in 0..8 {
        assert_ne!(ask(&ocsp, &[]).0, 429, "request {n} is inside the budget");
    }
    for _ in 0..2 {
        let (status, retry, body) = ask(&ocsp, &[]);
        assert_eq!(status, 429, "{body}");
        // The minute of the flood has to slide out: up to a minute, plus the part of the next one it takes.
        assert!(retry.parse::<u64>().is_ok_and(|s| (1..=120).contains(&s)), "Retry-After {retry:?}");
        assert!(body.contains("too many requests from 127.0.0.1"), "{body}");
    }
    let other = ["-H", "X-Forwarded-For: 198.51.100.7"];
    assert_ne!(ask(&ocsp, &other).0, 429, "another client behind the trusted proxy has its own budget");

    let https = format!("https://localhost:{}", server.https_port);
    let resolve = format!("localhost:{}:127.0.0.1", server.https_port);
    let local = ["--resolve", resolve.as_str()];
    for n in 0..5 {
        let url = if n % 2 == 0 { "/acme/directory" } else { "/.well-known/est/cacerts" };
        assert_ne!(ask(&format!("{https}{url}"), &local).0, 429, "enrollment request {n}");
    }
    let (status, _, body) = ask(&format!("{https}/acme/directory"), &local);
    assert_eq!(status, 429, "{body}");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["type"], "urn:ietf:params:acme:error:rateLimited", "{body}");
    let apply = [&local[..], &["-H", "Content-Type: application/json", "--data", "{}"]].concat();
    assert_eq!(ask(&format!("{https}/api/v1/applications"), &apply).0, 429, "applications share the budget");
    assert_ne!(ask(&format!("{https}/.well-known/est/cacerts"), &[&local[..], &other[..]].concat()).0, 429);

    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    let engaged: Vec<&str> = audit.lines().filter(|l| l.contains("ratelimit.engaged")).collect();
    assert_eq!(engaged.len(), 2, "one entry per refused stretch and class:\n{audit}");
    assert!(engaged.iter().any(|l| l.contains("revocation")) && engaged.iter().any(|l| l.contains("enroll")));
    let metrics = server.curl_https(&chain, "/metrics");
    assert!(metrics.contains(r#"hcpki_rate_limited_total{class="revocation"} 2"#), "{metrics}");
    assert!(metrics.contains(r#"hcpki_rate_limited_total{class="enroll"} 2"#), "{metrics}");
    h.ok(&["audit", "verify"]);
    server.stop();
}

/// Issue #9 with two `hcpki serve` replicas on one database (a SQLite file two processes share, or
/// PostgreSQL): an OCSP flood from one address alternating between them is refused after about the budget in
/// total, not twice it (each replica limited alone would allow the whole budget), the engagement is audited once
/// across both, and every refusal is counted by the replica that refused it.
fn rate_limits_hold_across_two_replicas_on_one_database(b: Backend) {
    const BUDGET: usize = 20;
    let h = Hcpki::initialized(b);
    h.append_config(&format!("\n[limits]\nrevocation_per_minute = {BUDGET}\nsync_secs = 1\n"));
    let replicas = [Served::start(&h, &[]), Served::start(&h, &[])];
    let chain = h.chain_file("server");
    // The second replica counted both at its first sync; the first learns of the second at its next one.
    crate::oidc::poll(|| {
        replicas[0].curl_https(&chain, "/metrics").contains("hcpki_rate_limit_replicas 2").then_some(())
    });

    let status = |server: &Served| -> u16 {
        let url = format!("http://127.0.0.1:{}/ocsp/pc", server.http_port);
        curl(&["-sS", "-o", "/dev/null", "-w", "%{http_code}", &url]).parse().unwrap()
    };
    let statuses: Vec<u16> = (0..2 * BUDGET).map(|n| status(&replicas[n % 2])).collect();
    let allowed = statuses.iter().filter(|s| **s != 429).count();
    // Between syncs each replica allows half of what the last totals it read leave of the budget, so however
    // the syncs (every second, on each replica's own clock) fall in the flood, the two together allow the
    // budget, plus at most half of it that one replica allowed on totals missing the other's latest counts
    // (`limiter::tests::replicas_split_what_is_left_of_the_limit`), plus one for a minute ending mid-flood
    // (the sliding window lets a 60th of the budget per second back in).
    assert!((BUDGET..=BUDGET + BUDGET / 2 + 1).contains(&allowed), "{allowed} of {} allowed: {statuses:?}", 2 * BUDGET);
    let refused = |r: &Served| -> u64 {
        let metrics = r.curl_https(&chain, "/metrics");
        let line = metrics.lines().find(|l| l.starts_with(r#"hcpki_rate_limited_total{class="revocation"}"#));
        line.and_then(|l| l.rsplit(' ').next()?.parse().ok()).unwrap_or_else(|| panic!("{metrics}"))
    };
    let counted: Vec<u64> = replicas.iter().map(refused).collect();
    assert_eq!(counted.iter().sum::<u64>(), (2 * BUDGET - allowed) as u64, "{counted:?}");
    assert!(counted.iter().all(|n| *n > 0), "both replicas refused the flood: {counted:?}");

    let audit = h.ok(&["audit", "list", "--limit", "1000"]);
    let engaged: Vec<&str> = audit.lines().filter(|l| l.contains("ratelimit.engaged")).collect();
    assert_eq!(engaged.len(), 1, "one engagement, whichever replica refused first:\n{audit}");
    assert!(engaged.iter().all(|l| l.contains("revocation") && l.contains("127.0.0.1")), "{engaged:?}");
    for r in replicas {
        r.stop();
    }
    h.ok(&["audit", "verify"]);
}

/// Issue #8's expiry webhook against Python's https server: of four routers, the one expiring within the window
/// with no successor is POSTed (the renewed one, same SANs with a later certificate, and the long-lived one are
/// not); a second server does not report it again; a report that cannot be delivered is audited `failed` and
/// its certificate reported by the next server that can deliver.
fn expiry_webhook_reports_each_unrenewed_certificate_once(b: Backend) {
    let h = Hcpki::initialized(b);
    let id = h.approved_facility("Webhook clinic");
    let zone = h.router_dns_name(&id);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let issue = |name: &str, days: Option<i64>| -> String {
        let request = crate::fixtures::csr(h.scratch(), name, crate::fixtures::Key::P256, "router");
        let out = h.path(&format!("{name}-{}.pem", uuid::Uuid::new_v4().simple()));
        let san = format!("{name}.{zone}");
        let mut args = vec!["issue", "--profile", "router", "--facility", &id, "--san", &san];
        let not_after = days.map(|d| hcpki_pkix::time::rfc3339(now + d * 86_400));
        if let Some(t) = &not_after {
            args.extend(["--not-after", t.as_str()]);
        }
        args.extend(["--csr", crate::issue::path(&request), "--out", crate::issue::path(&out)]);
        h.ok(&args);
        serial_of(&out)
    };
    let expiring = issue("r1", Some(10));
    issue("r2", Some(5));
    issue("r2", None); // r2 renewed
    issue("r3", None);
    let hook = h.dir().join("hook");
    std::fs::create_dir(&hook).unwrap();
    crate::peers::make_tls_pki(&hook);
    let base = std::fs::read_to_string(h.dir().join("hcpki.toml")).unwrap();
    let configure = |port: u16| {
        let monitor = format!(
            "\n[monitor]\nexpiry_webhook = \"https://localhost:{port}/hooks/expiry\"\nexpiry_days = 30\n\
             check_every_secs = 10\nca_file = \"hook/ca.pem\"\n"
        );
        std::fs::write(h.dir().join("hcpki.toml"), format!("{base}{monitor}")).unwrap();
    };
    let receive = |name: &str| -> serde_json::Value {
        let receiver =
            crate::peers::HttpsReceiver::start(&hook.join("server.pem"), &hook.join("server.key"), &h.path(name));
        configure(receiver.port);
        let server = Served::start(&h, &[]);
        let body = receiver.wait();
        server.stop();
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"))
    };
    let serials = |report: &serde_json::Value| -> Vec<String> {
        report["certificates"].as_array().unwrap().iter().map(|c| c["serial"].as_str().unwrap().to_owned()).collect()
    };
    let entries = |outcome: &str| -> Vec<serde_json::Value> {
        h.ok(&["audit", "list", "--limit", "1000"])
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["action"] == "monitor.expiry_webhook" && e["outcome"] == outcome)
            .collect()
    };

    let report = receive("first.json");
    assert_eq!(serials(&report), [expiring], "{report}");
    assert_eq!(report["event"], "hcpki.certificates.expiring");
    let first = &report["certificates"][0];
    // Whole days from the report's own `sent_at` to the certificate's end, 10 days after this test's start: 9, or
    // 10 when issuing and the server's first round fit in the test's first second (they often do since the test
    // key files are cheap to open) — the server's arithmetic is checked, not a race with it.
    let at = |field: &serde_json::Value| hcpki_pkix::time::parse_rfc3339(field.as_str().unwrap()).unwrap();
    let days_left = (at(&first["not_after"]) - at(&report["sent_at"])) / 86_400;
    assert_eq!(at(&first["not_after"]), now + 10 * 86_400, "{report}");
    assert!(at(&report["sent_at"]) >= now, "{report}");
    assert_eq!(
        (&first["profile"], &first["facility_id"], &first["days_left"]),
        (&json!("router"), &json!(id), &json!(days_left))
    );

    // Nobody listens: the report is audited as failed and the claim given back.
    let late = issue("r4", Some(3));
    configure(crate::harness::free_port());
    let server = Served::start(&h, &[]);
    let failed = crate::oidc::poll(|| entries("failed").into_iter().next());
    server.stop();
    let detail: serde_json::Value = serde_json::from_str(failed["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["serials"], json!([late]), "{failed}");
    assert!(detail["result"].as_str().unwrap().contains("refused"), "{failed}");
    // The next server that reaches the receiver reports r4, and never r1 again.
    let report = receive("second.json");
    assert_eq!(serials(&report), [late], "{report}");
    assert_eq!(entries("ok").len(), 2);
    h.ok(&["audit", "verify"]);
}

/// A running `hcpki serve` on free ports of 127.0.0.1 (the EST tests use it too).
pub struct Served {
    child: Option<Child>,
    pub https_port: u16,
    pub http_port: u16,
    /// The whole "listening" line (the portal's addresses follow the two above when `[portal]` is set).
    pub listening: String,
    log: PathBuf,
}

impl Served {
    /// Starts the server and waits for its "listening" line.
    pub fn start(h: &Hcpki, extra: &[&str]) -> Self {
        Self::start_on(h, "127.0.0.1:0", extra)
    }

    /// [`start`](Self::start) with its plain HTTP listener on `http_addr` (e.g. a port a load balancer was
    /// configured with before this replica came up).
    pub fn start_on(h: &Hcpki, http_addr: &str, extra: &[&str]) -> Self {
        Self::launch(h, &[], "127.0.0.1:0", http_addr, extra)
    }

    /// [`start_on`](Self::start_on) through a launcher ([`Hcpki::spawn_under`]).
    pub fn start_under(h: &Hcpki, launcher: &[&str], http_addr: &str, extra: &[&str]) -> Self {
        Self::launch(h, launcher, "127.0.0.1:0", http_addr, extra)
    }

    /// [`start_on`](Self::start_on) with its HTTPS listener on `https_addr` too (e.g. the port `[console] url`
    /// names).
    pub fn start_at(h: &Hcpki, https_addr: &str, http_addr: &str, extra: &[&str]) -> Self {
        Self::launch(h, &[], https_addr, http_addr, extra)
    }

    fn launch(h: &Hcpki, launcher: &[&str], https_addr: &str, http_addr: &str, extra: &[&str]) -> Self {
        let log = h.path(&format!("serve-{}.log", uuid::Uuid::new_v4().simple()));
        let args = [&["serve", "--https-addr", https_addr, "--http-addr", http_addr], extra].concat();
        let mut child = if launcher.is_empty() { h.spawn(&args, &log) } else { h.spawn_under(launcher, &args, &log) };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = |scheme: &str| -> Option<u16> {
            let rest = line.split(scheme).nth(1)?;
            let addr = rest.split_whitespace().next()?;
            addr.rsplit(':').next()?.parse().ok()
        };
        match (port("https://"), port("http://")) {
            (Some(https_port), Some(http_port)) => {
                Self { child: Some(child), https_port, http_port, listening: line.trim().to_owned(), log }
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no listening line from hcpki serve: {line:?}\n{}", std::fs::read_to_string(&log).unwrap());
            }
        }
    }

    /// The server's process ID (a job's owner names it; `HCPKI_FAULT_HOLD` files are named by it).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or_default()
    }

    /// `openssl s_client -connect 127.0.0.1:PORT -brief ARGS` with nothing to send.
    fn s_client(&self, args: &[&str]) -> Output {
        Command::new("timeout")
            .args(["20", "openssl", "s_client", "-brief", "-connect"])
            .arg(format!("127.0.0.1:{}", self.https_port))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run openssl s_client")
    }

    /// `curl --cacert CHAIN https://localhost:PORT/PATH` (localhost pinned to 127.0.0.1); the body.
    pub(crate) fn curl_https(&self, chain: &Path, path: &str) -> String {
        let port = self.https_port;
        curl(&[
            "-sS",
            "--fail",
            "--cacert",
            chain.to_str().unwrap(),
            "--resolve",
            &format!("localhost:{port}:127.0.0.1"),
            &format!("https://localhost:{port}{path}"),
        ])
    }

    /// SIGTERM, then the exit status must be 0 within a few seconds; returns the log.
    pub fn stop(mut self) -> String {
        terminate(self.child.take().unwrap(), &self.log, "hcpki serve")
    }
}

/// SIGTERM to a server `child` (`what`, logging to `log`): it must log "stopped" and exit 0 within a few
/// seconds. Returns the log.
pub fn terminate(mut child: Child, log: &Path, what: &str) -> String {
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not stop after SIGTERM\n{}", std::fs::read_to_string(log).unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(log).unwrap();
    assert_eq!(status.code(), Some(0), "{what} exit after SIGTERM\n{log}");
    assert!(log.contains("stopped"), "{log}");
    log
}

impl Drop for Served {
    fn drop(&mut self) {
        // A failed test must not leave a server running.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn accepted(out: &Output, protocol: &str, suite: &str) {
    let text = combined(out);
    assert!(out.status.success(), "s_client failed\n{text}");
    assert!(text.contains(&format!("Protocol version: {protocol}")), "{text}");
    assert!(text.contains(&format!("Ciphersuite: {suite}")), "{text}");
}

fn combined(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl").args(["--max-time", "20"]).args(args).output().expect("run curl");
    assert!(out.status.success(), "curl {args:?} failed\n{}", describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// The serial of a PEM certificate file, as openssl prints it (upper-case hex), lower-cased.
fn serial_of(cert: &Path) -> String {
    let out = Command::new("openssl").args(["x509", "-noout", "-serial", "-in"]).arg(cert).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8(out.stdout).unwrap().trim().trim_start_matches("serial=").to_ascii_lowercase()
}
