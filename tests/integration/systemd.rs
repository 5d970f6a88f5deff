//! `hcpki serve` under a service manager (D136), with the test as systemd: a unix datagram socket at
//! `$NOTIFY_SOCKET` that receives READY=1 once the listeners answer, WATCHDOG=1 at half of `$WATCHDOG_USEC`,
//! RELOADING=1 then READY=1 on SIGHUP while a keep-alive connection stays open and answers; and the key
//! passphrase as a `LoadCredential=` credential, whose absence fails the start naming it. One backend: none of
//! this touches the database beyond the watchdog's ping.

use crate::harness::{Backend, Hcpki, describe};
use crate::serve::Served;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// READY with the addresses, the watchdog fed, a reload on SIGHUP that keeps an open connection, names a
/// section that needs a restart and survives a broken hcpki.toml; STOPPING on SIGTERM.
#[test]
fn serve_notifies_readiness_feeds_the_watchdog_and_reloads_on_sighup_keeping_connections() {
    let h = Hcpki::initialized(Backend::Sqlite);
    let socket_path = h.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let h = h.with_env("NOTIFY_SOCKET", &socket_path).with_env("WATCHDOG_USEC", "400000");
    let server = Served::start(&h, &[]);

    let ready = next_message(&socket, |m| m.starts_with("READY=1"));
    assert!(ready.contains(&format!("STATUS=serving https://127.0.0.1:{}", server.https_port)), "{ready}");
    // Half of 400 ms: at least two keep-alives within a second.
    let started = Instant::now();
    next_message(&socket, |m| m == "WATCHDOG=1\n");
    next_message(&socket, |m| m == "WATCHDOG=1\n");
    assert!(started.elapsed() < Duration::from_secs(5), "watchdog too slow: {:?}", started.elapsed());

    // A keep-alive connection, opened and used before the reload.
    let mut conn = TcpStream::connect(("127.0.0.1", server.http_port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(healthz(&mut conn).starts_with("HTTP/1.1 200"), "first request");

    // A section that needs a restart changes: the reload says so and keeps serving.
    let config = h.dir().join("hcpki.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[ca]\nroot_crl_days = 200\nroot_crl_warn_days = 30\n")).unwrap();
    hangup(&server);
    next_message(&socket, |m| m.starts_with("RELOADING=1"));
    let again = next_message(&socket, |m| m.starts_with("READY=1"));
    assert!(again.contains("restart for [ca]"), "{again}");
    assert!(healthz(&mut conn).starts_with("HTTP/1.1 200"), "the same connection after the reload");

    // A file that no longer loads: reported, the running settings stay, the server answers.
    std::fs::write(&config, format!("{text}\nno_such_key = 1\n")).unwrap();
    hangup(&server);
    next_message(&socket, |m| m.starts_with("RELOADING=1"));
    let kept = next_message(&socket, |m| m.starts_with("READY=1"));
    assert!(kept.contains("hcpki.toml does not load"), "{kept}");
    assert!(healthz(&mut conn).starts_with("HTTP/1.1 200"), "the same connection after a failed reload");
    std::fs::write(&config, &text).unwrap();

    let log = server.stop();
    assert!(log.contains("[ca] changed; it takes effect at the next restart"), "{log}");
    assert!(log.contains("hcpki.toml not reloaded") && log.contains("no_such_key"), "{log}");
    next_message(&socket, |m| m.starts_with("STOPPING=1"));
}

/// `[keys] passphrase_credential`: without `$CREDENTIALS_DIRECTORY`, or with a directory that lacks it, `hcpki
/// serve` fails at start naming the credential and the `LoadCredential=` line to add; with it, it serves.
#[test]
fn a_start_without_the_passphrase_credential_fails_naming_it() {
    let h = Hcpki::initialized(Backend::Sqlite);
    let config = h.dir().join("hcpki.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let line = text.lines().find(|l| l.starts_with("passphrase_file")).expect("a passphrase_file line").to_owned();
    let file = line.split('"').nth(1).unwrap();
    let passphrase = if Path::new(file).is_absolute() { file.into() } else { h.dir().join(file) };
    let credentials = h.path("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::rename(&passphrase, credentials.join("key-passphrase")).unwrap();
    std::fs::write(&config, text.replace(&line, "passphrase_credential = \"key-passphrase\"")).unwrap();

    let bare = h.run(&["serve", "--https-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"]);
    let e = String::from_utf8_lossy(&bare.stderr);
    assert!(!bare.status.success(), "{}", describe(&bare));
    assert!(
        e.contains("the credential \"key-passphrase\" is missing") && e.contains("LoadCredential=key-passphrase:"),
        "{e}"
    );
    let empty = h.path("empty");
    std::fs::create_dir(&empty).unwrap();
    let other = h.run_with_env(
        "CREDENTIALS_DIRECTORY",
        empty.to_str().unwrap(),
        &["serve", "--https-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"],
    );
    let e = String::from_utf8_lossy(&other.stderr);
    assert!(!other.status.success() && e.contains("missing from $CREDENTIALS_DIRECTORY"), "{}", describe(&other));

    let h = h.with_env("CREDENTIALS_DIRECTORY", &credentials);
    let server = Served::start(&h, &[]);
    assert!(server.listening.contains("hcpki listening"), "{}", server.listening);
    server.stop();
}

/// The next datagram `want` accepts (others, e.g. keep-alives, are passed over).
fn next_message(socket: &UnixDatagram, want: impl Fn(&str) -> bool) -> String {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "no such notification within 30 s");
        let len = socket.recv(&mut buf).expect("a notification within 30 s");
        let message = String::from_utf8_lossy(&buf[..len]).into_owned();
        if want(&message) {
            return message;
        }
    }
}

fn hangup(server: &Served) {
    assert!(Command::new("kill").args(["-HUP", &server.pid().to_string()]).status().unwrap().success());
}

/// `GET /healthz` on an open HTTP/1.1 connection; the response head and body.
fn healthz(conn: &mut TcpStream) -> String {
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
        head.push_str(&line);
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}
