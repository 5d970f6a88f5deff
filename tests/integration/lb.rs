//! HAProxy (Debian's, a load balancer nobody here wrote) in TCP mode with round robin over `hcpki serve`
//! replicas: each new connection goes to the next replica, so a client that opens one connection per request
//! (curl, certbot with keep-alive off between steps) has consecutive requests answered by different
//! replicas. TLS passes through untouched: the replicas share the hcpki directory and its server certificate,
//! as a deployment behind a TCP load balancer does (docs/deployment.md).

use crate::harness::Hcpki;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running HAProxy listening on `127.0.0.1:port`.
pub struct LoadBalancer {
    child: Child,
}

impl LoadBalancer {
    /// Round robin on `port` (from `harness::free_port`: its URL goes into the replicas' configuration
    /// before they start) over the loopback `backends`' ports; waits until it accepts connections.
    pub fn start(h: &Hcpki, port: u16, backends: &[u16]) -> Self {
        let mut cfg = format!(
            "global\n    maxconn 512\n\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 120s\n    \
             timeout server 120s\n\nfrontend front\n    bind 127.0.0.1:{port}\n    default_backend replicas\n\n\
             backend replicas\n    balance roundrobin\n"
        );
        for (n, backend) in backends.iter().enumerate() {
            cfg.push_str(&format!("    server replica{n} 127.0.0.1:{backend}\n"));
        }
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
