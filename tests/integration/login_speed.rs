//! Issue #26 item 5: a card login's speed as the physician feels it — from the click on the card button to the
//! home page, in headless Chromium with the real agent, pcscd and the virtual HPKI card — split into the time
//! of the page (browser, network, scripts, windows), the agent (its own work), the card (its APDU exchange) and
//! the server (the portal's `Server-Timing`), with the PIN typing measured apart and left out.
//!
//! Measured from outside: `tests/peers/chromium.py`'s `record`/`timeline` (every request, navigation, load and
//! click, with its moment), the portal's and the agent's `Server-Timing` headers on the answers, and the PIN
//! window's own `performance` entry (when it was ready for the person). Nothing is timed against a limit here:
//! [`a_card_login_splits_into_page_agent_card_and_server`] checks that every part is there and that they add up;
//! [`bench`] (ignored; docs/benchmarks.md) repeats logins with a cold and a warm agent and prints p50/p99 with the
//! same-run reference of the agent's signature driven directly.

use std::time::Instant;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::agent::{self, hpki};
use crate::browser::{AutoSelect, Chromium, issuer_cn, nss_db};
use crate::harness::{Backend, free_port};
use crate::oidc::{self, Portal};
use crate::pcsc_lock::pcsc_lock;
use crate::portal_card::{PIN, card_portal};

on_both_backends!(a_card_login_splits_into_page_agent_card_and_server);

/// One login, cold agent then warm: every part present, none negative, and the parts add up to the whole.
fn a_card_login_splits_into_page_agent_card_and_server(b: Backend) {
    let mut rig = Rig::start(b);
    let runs = [rig.login_cold(), rig.login(), rig.login()];
    for (i, t) in runs.iter().enumerate() {
        for (part, ms) in t.parts() {
            assert!(ms >= 0.0, "login {i}: {part} is {ms} ms: {t:?}");
        }
        assert!(t.card > 0.0 && t.server > 0.0 && t.agent > 0.0 && t.person > 0.0, "login {i}: {t:?}");
        let sum: f64 = t.parts().iter().map(|(_, ms)| ms).sum();
        assert!((sum - t.total).abs() < 0.01, "login {i}: the parts add up to {sum}, the whole is {}: {t:?}", t.total);
        assert!(t.pin_to_signed > 0.0 && t.signed_to_home > 0.0, "login {i}: {t:?}");
        let stages = t.to_pin + t.person + t.pin_to_signed + t.signed_to_home;
        assert!((stages - t.total).abs() < 0.01, "login {i}: the stages add up to {stages}: {t:?}");
    }
    // One signature per login, nothing more.
    assert_eq!(rig.card.card().stats().signatures, 3);
}

/// `cargo test --workspace --test integration login_speed::bench -- --ignored --nocapture`: `HCPKI_LOGIN_BENCH`
/// = `COLD,WARM` logins (default 10,25), `HCPKI_LOGIN_BENCH_BACKEND` = `sqlite` (default) or `postgres`. Prints
/// docs/benchmarks.md's table and the last warm login's requests.
#[test]
#[ignore = "a benchmark: run by hand, see docs/benchmarks.md"]
fn bench() {
    let counts = std::env::var("HCPKI_LOGIN_BENCH").unwrap_or_else(|_| "10,25".into());
    let (cold, warm) = counts.split_once(',').expect("HCPKI_LOGIN_BENCH=COLD,WARM");
    let (cold, warm): (usize, usize) = (cold.parse().unwrap(), warm.parse().unwrap());
    let b = match std::env::var("HCPKI_LOGIN_BENCH_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let mut rig = Rig::start(b);
    let started = Instant::now();
    let mut colds = Vec::new();
    let mut warms = Vec::new();
    // Alternated, so both see the same machine: each cold login is a fresh agent's first, then warm ones.
    let per_cold = warm.div_ceil(cold.max(1));
    while colds.len() < cold || warms.len() < warm {
        if colds.len() < cold {
            colds.push(rig.login_cold());
        } else {
            // The warm logins left over still start from a warm agent.
            rig.login();
        }
        for _ in 0..per_cold.min(warm - warms.len()) {
            warms.push(rig.login());
        }
    }
    let reference = rig.reference(warm.max(5));
    println!("\nbackend {b:?}, {cold} cold + {warm} warm logins in {:.0} s\n", started.elapsed().as_secs_f64());
    println!(
        "| agent | logins | **system p50 / p99** | page | agent | card | server | click → PIN window | PIN → signed | signed → home | PIN typing (left out) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, runs) in [("cold", &colds), ("warm", &warms)] {
        let pick = |f: fn(&Timing) -> f64| Stats::of(runs.iter().map(f).collect());
        println!(
            "| {name} | {} | **{}** | {} | {} | {} | {} | {} | {} | {} | {} |",
            runs.len(),
            pick(Timing::system),
            pick(|t| t.page),
            pick(|t| t.agent),
            pick(|t| t.card),
            pick(|t| t.server),
            pick(|t| t.to_pin),
            pick(|t| t.pin_to_signed),
            pick(|t| t.signed_to_home),
            pick(|t| t.person),
        );
    }
    let raw_card = Stats::of(reference.iter().map(|r| r.1).collect());
    let raw_op = Stats::of(reference.iter().map(|r| r.0).collect());
    println!(
        "\nreference, same run ({} signatures, warm agent, no browser): agent operation {raw_op}, card {raw_card}",
        reference.len()
    );
    for (name, runs) in [("cold", &colds), ("warm", &warms)] {
        let system = Stats::of(runs.iter().map(Timing::system).collect());
        println!(
            "{name}: system p50 = {:.0} × the raw card signature, {:.1} × the agent's operation driven directly",
            system.p50 / raw_card.p50,
            system.p50 / raw_op.p50
        );
    }
    if let Some(last) = warms.last() {
        println!("\nthe last warm login, ms from the click:\n{}", last.waterfall);
    }
}

/// A portal with card login, the agent, the card in reader 0, and a browser of the facility PC.
struct Rig {
    portal: Portal,
    agent: Option<agent::Served>,
    agent_port: u16,
    card: hcpki_vcard::vpcd::VpcdCard,
    browser: Chromium,
    _policy: AutoSelect,
    _pcsc: crate::pcsc_lock::PcscGuard,
}

impl Rig {
    fn start(b: Backend) -> Self {
        let pcsc = pcsc_lock();
        let agent_port = free_port();
        let portal = card_portal(b, &format!("http://127.0.0.1:{agent_port}"));
        let card = agent::insert(hpki(), 0);
        let (_, cert, key) = oidc::issue_pc(&portal.h, "Speed clinic");
        let home_dir = portal.h.path("browser-home");
        nss_db(&home_dir, &portal.h.chain_file("server"), &cert, &key, &portal.h.path("pc.p12"));
        let policy = AutoSelect::write(&[&portal.issuer], &issuer_cn(&cert));
        let browser = Chromium::start(&home_dir, &portal.h.path("chromium-profile"));
        let mut rig = Self { portal, agent: None, agent_port, card, browser, _policy: policy, _pcsc: pcsc };
        rig.restart_agent();
        rig
    }

    /// A fresh agent on the same port (the page knows it there), once it sees the card.
    fn restart_agent(&mut self) {
        drop(self.agent.take());
        let ca = self.portal.h.chain_file("server");
        let agent = agent::Served::start_with(
            &self.portal.issuer,
            &format!("127.0.0.1:{}", self.agent_port),
            &["--portal-ca-file", ca.to_str().unwrap()],
        );
        agent.wait_card(0, "hpki");
        self.agent = Some(agent);
    }

    /// A login with a freshly started agent.
    fn login_cold(&mut self) -> Timing {
        self.restart_agent();
        self.login()
    }

    /// One card login in the browser, timed, then signed out again.
    fn login(&mut self) -> Timing {
        let issuer = self.portal.issuer.clone();
        let home = format!("{issuer}/");
        let login = self.browser.goto(&format!("{issuer}/login"));
        assert!(login.starts_with(&format!("{issuer}/login")), "still signed in: {login}");
        self.browser.cmd(json!({"cmd": "record"}));
        self.browser.cmd(json!({"cmd": "click", "selector": "#card-login button[data-kind=hpki]"}));
        self.browser.cmd(json!({"cmd": "wait_popup", "contains": "/pin/"}));
        // When the PIN window was ready for the person: its own load, on the browser's clock (epoch ms).
        let ready = self.browser.cmd(json!({"cmd": "eval", "tab": "popup",
            "expr": "performance.timeOrigin + performance.getEntriesByType('navigation')[0].loadEventEnd"}))["value"]
            .as_f64()
            .unwrap();
        let typed =
            self.browser.try_cmd(&json!({"cmd": "type", "tab": "popup", "selector": "input[name=pin]", "text": PIN}));
        if typed["ok"] != true {
            let shown = self
                .browser
                .cmd(json!({"cmd": "eval", "tab": "popup", "expr": "location.href + ' ' + document.body.innerText"}));
            let status = self.browser.eval("document.getElementById('card-status').innerText");
            let signatures = self.card.card().stats().signatures;
            let events = self.browser.cmd(json!({"cmd": "timeline"}));
            panic!(
                "{typed}: the PIN window shows {}; the page {status}; signatures {signatures}; {events:#}",
                shown["value"]
            );
        }
        self.browser.cmd(json!({"cmd": "click", "tab": "popup", "selector": "button[value=sign]"}));
        let landed = self.browser.wait_exact_url(&home, "#card-status");
        assert_eq!(landed, home);
        let events = self.browser.cmd(json!({"cmd": "timeline"}))["events"].as_array().unwrap().clone();
        let timing = Timing::from_events(&events, ready, &issuer, &home);
        // Signed out again for the next login.
        self.browser.cmd(json!({"cmd": "click", "selector": "form[action='/logout'] button"}));
        self.browser.wait_url(&format!("{issuer}/logout"), "body");
        timing
    }

    /// `n` signatures through the warm agent with no browser, as `agent::Served::sign_with` drives them: for each,
    /// the whole operation's wall time and the card's (`result.card_micros`), in ms.
    fn reference(&mut self, n: usize) -> Vec<(f64, f64)> {
        let agent = self.agent.as_ref().unwrap();
        (0..n)
            .map(|i| {
                let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([i as u8; 32]);
                let started = Instant::now();
                let done = agent.sign_with("hpki", &challenge, PIN, || ());
                let wall = started.elapsed().as_secs_f64() * 1000.0;
                assert_eq!(done["status"], "done", "{done}");
                (wall, done["result"]["card_micros"].as_f64().unwrap() / 1000.0)
            })
            .collect()
    }
}

/// One login's split, in milliseconds. `total` is the click to the home page's load; `person` the PIN window
/// ready to the PIN submitted (the person's, left out of `system`); the others partition the rest.
#[derive(Debug)]
struct Timing {
    total: f64,
    person: f64,
    /// The portal's own time: the sum of its `Server-Timing` over the login's requests.
    server: f64,
    /// The card's APDU exchange (the agent's `Server-Timing` `card`).
    card: f64,
    /// The agent's own work on the operation (its `Server-Timing` `agent`).
    agent: f64,
    /// The rest: browser, network, TLS, scripts, the PIN window opening, navigations.
    page: f64,
    /// Click → PIN window ready, PIN submitted → the agent's answer (signature) in the page, and that answer
    /// → home page loaded.
    to_pin: f64,
    pin_to_signed: f64,
    signed_to_home: f64,
    /// Every noted event, ms from the click (for the bench's printout).
    waterfall: String,
}

impl Timing {
    fn from_events(events: &[Value], pin_ready: f64, issuer: &str, home: &str) -> Self {
        let t = |e: &Value| e["t"].as_f64().unwrap();
        let is = |e: &Value, what: &str, tab: &str| e["what"] == what && e["tab"] == tab;
        let click = events.iter().find(|e| is(e, "click", "main")).map(t).expect("the button's click");
        let submitted = events.iter().find(|e| is(e, "click", "popup")).map(t).expect("the PIN window's click");
        let arrived = events
            .iter()
            .position(|e| is(e, "navigated", "main") && e["url"] == home)
            .unwrap_or_else(|| panic!("no navigation to {home}: {events:?}"));
        let end = events[arrived..].iter().find(|e| is(e, "load", "main")).map(t).expect("the home page's load");
        let mut server = 0.0;
        let mut agent_split = None;
        let mut signed = None;
        for e in events.iter().filter(|e| is(e, "response", "main")) {
            let Some(header) = e["server_timing"].as_str() else { continue };
            let metrics = server_timing(header);
            let url = e["url"].as_str().unwrap_or_default();
            if url.starts_with(issuer) {
                server += metrics.iter().filter(|(n, _)| n == "app").map(|(_, d)| d).sum::<f64>();
            } else if url.contains("/v1/sign/") {
                let get = |name: &str| metrics.iter().find(|(n, _)| n == name).map(|(_, d)| *d);
                agent_split = Some((get("card").unwrap_or(0.0), get("agent").unwrap_or(0.0)));
                signed = Some(t(e));
            }
        }
        let (card, agent) = agent_split.unwrap_or_else(|| panic!("no agent Server-Timing: {events:?}"));
        let total = end - click;
        let person = submitted - pin_ready;
        let waterfall = events
            .iter()
            .map(|e| {
                let what = e["what"].as_str().unwrap_or_default();
                let detail = match what {
                    "request" => format!("{} {}", e["method"].as_str().unwrap_or_default(), short(e["url"].as_str())),
                    "response" => format!(
                        "{} {} {}",
                        e["status"],
                        short(e["url"].as_str()),
                        e["server_timing"].as_str().unwrap_or_default()
                    ),
                    "navigated" => short(e["url"].as_str()),
                    _ => String::new(),
                };
                format!("{:9.1}  {:5}  {what:11} {detail}", t(e) - click, e["tab"].as_str().unwrap_or("-"))
            })
            .collect::<Vec<_>>()
            .join("\n");
        Timing {
            total,
            person,
            server,
            card,
            agent,
            page: total - person - server - card - agent,
            to_pin: pin_ready - click,
            pin_to_signed: signed.unwrap_or(end) - submitted,
            signed_to_home: end - signed.unwrap_or(end),
            waterfall,
        }
    }

    /// The parts that partition `total`.
    fn parts(&self) -> [(&'static str, f64); 5] {
        [
            ("person", self.person),
            ("page", self.page),
            ("agent", self.agent),
            ("card", self.card),
            ("server", self.server),
        ]
    }

    /// What the system took: the whole without the person's typing.
    fn system(&self) -> f64 {
        self.total - self.person
    }
}

/// A URL without its query, for reading.
fn short(url: Option<&str>) -> String {
    url.unwrap_or_default().split('?').next().unwrap_or_default().to_owned()
}

/// `Server-Timing`'s metrics: (name, dur) pairs (W3C Server Timing; no commas inside our descriptions).
fn server_timing(header: &str) -> Vec<(String, f64)> {
    header
        .split(',')
        .filter_map(|metric| {
            let mut params = metric.split(';').map(str::trim);
            let name = params.next()?.to_owned();
            let dur = params.find_map(|p| p.strip_prefix("dur="))?.parse().ok()?;
            Some((name, dur))
        })
        .collect()
}

/// p50 and p99 (nearest rank) of samples in ms.
#[derive(Clone, Copy, Debug)]
struct Stats {
    p50: f64,
    p99: f64,
}

impl Stats {
    fn of(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        let rank = |p: f64| samples[((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
        Stats { p50: rank(0.50), p99: rank(0.99) }
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let one = |ms: f64| if ms < 10.0 { format!("{ms:.2}") } else { format!("{ms:.0}") };
        write!(f, "{} / {} ms", one(self.p50), one(self.p99))
    }
}

#[test]
fn server_timing_metrics_are_read_by_name() {
    let got = server_timing("card;dur=2.5;desc=\"card and reader\", pin;dur=900, agent;dur=0.4");
    assert_eq!(got, [("card".to_owned(), 2.5), ("pin".to_owned(), 900.0), ("agent".to_owned(), 0.4)]);
    let s = Stats::of(vec![5.0, 1.0, 3.0, 2.0, 4.0]);
    assert_eq!((s.p50, s.p99), (3.0, 5.0));
}
