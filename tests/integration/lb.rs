//! HAProxy (Debian's, a load balancer nobody here wrote) with round robin over `hcpki serve` replicas. In TCP
//! mode (`start`) each new connection goes to the next replica, so a client that opens one connection per request
//! (curl) has consecutive requests answered by different replicas; TLS passes through untouched (the replicas
//! share the hcpki directory and its server certificate, as behind a TCP load balancer, docs/deployment.md).
//! In HTTP mode (`start_http`) HAProxy ends TLS and balances each request, so a client that keeps its
//! connection (certbot) is spread over the replicas too.

use crate::harness::Hcpki;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running HAProxy listening on `127.0.0.1:port`.
pub struct LoadBalancer {
    child: Child,
}

impl LoadBalancer {
    /// Round robin on `port` (from `harness::free_port`: its URL goes into the replicas' configuration
    /// before they start) over the loopback `backends`' ports, per TCP connection, TLS passed through; waits
    /// until it accepts connections.
    pub fn start(h: &Hcpki, port: u16, backends: &[u16]) -> Self {
        Self::start_tcp(h, port, backends, "", "")
    }

    /// [`start`](Self::start) that follows replicas coming and going, as in front of a rolling restart: each
    /// backend is checked every 100 ms (a TCP connect) and out of the round after one failed check, back after
    /// one good one, and a connection a backend refuses is sent to another (`option redispatch`). A backend
    /// may be a port no replica listens on yet.
    pub fn start_with_failover(h: &Hcpki, port: u16, backends: &[u16]) -> Self {
        Self::start_tcp(h, port, backends, "    option redispatch\n    retries 3\n", " check inter 100ms fall 1 rise 1")
    }

    /// TCP mode with `defaults_extra` lines in `defaults` and `server_options` on each backend.
    fn start_tcp(h: &Hcpki, port: u16, backends: &[u16], defaults_extra: &str, server_options: &str) -> Self {
        let mut cfg = format!(
            "global\n    maxconn 512\n\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 120s\n    \
             timeout server 120s\n{defaults_extra}\nfrontend front\n    bind 127.0.0.1:{port}\n    default_backend replicas\n\n\
             backend replicas\n    balance roundrobin\n"
        );
        for (n, backend) in backends.iter().enumerate() {
            cfg.push_str(&format!("    server replica{n} 127.0.0.1:{backend}{server_options}\n"));
        }
        Self::run(h, port, &cfg)
    }

    /// Round robin per HTTP request (clients that keep one connection, like certbot, still reach every
    /// replica): TLS ends at HAProxy with `front_pem` (certificate and key, for localhost) and starts again to
    /// each backend, whose certificate must chain to `backend_ca` for the name localhost.
    pub fn start_http(h: &Hcpki, port: u16, backends: &[u16], front_pem: &Path, backend_ca: &Path) -> Self {
        let mut cfg = format!(
            "global\n    maxconn 512\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 120s\n    \
             timeout server 120s\n    option http-server-close\n\nfrontend front\n    \
             bind 127.0.0.1:{port} ssl crt {}\n    default_backend replicas\n\n\
             backend replicas\n    balance roundrobin\n    http-reuse never\n",
            front_pem.display()
        );
        for (n, backend) in backends.iter().enumerate() {
            cfg.push_str(&format!(
                "    server replica{n} 127.0.0.1:{backend} ssl verify required ca-file {} sni str(localhost) \
                 verifyhost localhost\n",
                backend_ca.display()
            ));
        }
        Self::run(h, port, &cfg)
    }

    fn run(h: &Hcpki, port: u16, cfg: &str) -> Self {
        let path = h.path(&format!("haproxy-{port}.cfg"));
        std::fs::write(&path, cfg).unwrap();
        let check = Command::new("haproxy").arg("-c").arg("-f").arg(&path).output().expect("haproxy (scripts/deps)");
        assert!(check.status.success(), "haproxy -c: {}", crate::harness::describe(&check));
        let log = std::fs::File::create(h.path(&format!("haproxy-{port}.log"))).unwrap();
        // -db: stay in the foreground, so the test owns the process.
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start haproxy");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "haproxy did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child }
    }
}

impl Drop for LoadBalancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The count of `hcpki_http_requests_total` samples in a `/metrics` text whose labels contain `filter`.
pub fn requests(metrics: &str, filter: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("hcpki_http_requests_total{") && l.contains(filter))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}
