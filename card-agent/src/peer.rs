//! Only this user's programs reach the agent (issue #44). The API listens on a loopback address, which every user of
//! the PC can reach: on a shared reception PC with fast user switching, another user's browser would otherwise find
//! this user's agent, and its card operations would run in this user's process (the PIN typed into this user's
//! agent's page). Each accepted connection is therefore traced to the program at its other end, and answered only
//! when that program is this user's:
//!
//! * Windows: the connection's owning process (`GetExtendedTcpTable`) must run in the agent's own Windows session
//!   (`hcpki_agent_windows::connection_owner`) — one session per signed-in user, so another user's and a
//!   disconnected session's programs are refused.
//! * Linux: the client socket's owner in `/proc/net/tcp` (or `tcp6`) must be the agent's own uid.
//!
//! A connection whose owner cannot be found (closed meanwhile, a process that may not be queried) is refused too.
//! `peer_check = "off"` in agent.toml turns this off, for a test harness whose browser the platform cannot trace (a
//! Linux Chromium talking to the Windows agent under Wine); it cannot reach further than the user who sets it, who
//! could run any program on the agent's port anyway (docs/windows.md, "Several users on one PC").

use std::net::SocketAddr;

/// Whose program is at the other end of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// This user's (on Windows: this session's).
    Own,
    /// Another user's or session's: what it is, for the log.
    Other(String),
    /// Not found (the reason, for the log): refused like another user's.
    Unknown(String),
}

/// Traces a connection accepted on `local` from `peer` to its owner.
pub trait PeerCheck: Send + Sync + 'static {
    fn check(&self, local: SocketAddr, peer: SocketAddr) -> Peer;
}

/// The platform's check (None where the platform offers no way: the agent then answers every local program, as
/// before issue #44).
pub fn platform_check() -> Option<Box<dyn PeerCheck>> {
    #[cfg(windows)]
    {
        Some(Box::new(SameSession))
    }
    #[cfg(target_os = "linux")]
    {
        Some(Box::new(SameUid))
    }
    #[cfg(not(any(windows, target_os = "linux")))]
    {
        None
    }
}

/// Windows: same session as the agent.
#[cfg(windows)]
#[derive(Debug)]
struct SameSession;

#[cfg(windows)]
impl PeerCheck for SameSession {
    fn check(&self, local: SocketAddr, peer: SocketAddr) -> Peer {
        use hcpki_agent_windows::connection_owner::{current_session, session_of_peer};
        match (current_session(), session_of_peer(local, peer)) {
            (Some(own), Some(theirs)) if own == theirs => Peer::Own,
            (Some(_), Some(theirs)) => Peer::Other(format!("a program of Windows session {theirs}")),
            (None, _) => Peer::Unknown("this process's own session is unknown".into()),
            (_, None) => Peer::Unknown("no process of this PC owns the connection".into()),
        }
    }
}

/// Linux: same uid as the agent.
#[cfg(target_os = "linux")]
#[derive(Debug)]
struct SameUid;

#[cfg(target_os = "linux")]
impl PeerCheck for SameUid {
    fn check(&self, local: SocketAddr, peer: SocketAddr) -> Peer {
        use std::os::unix::fs::MetadataExt as _;
        let table = if peer.is_ipv4() { "/proc/net/tcp" } else { "/proc/net/tcp6" };
        let own = match std::fs::metadata("/proc/self") {
            Ok(m) => m.uid(),
            Err(e) => return Peer::Unknown(format!("/proc/self: {e}")),
        };
        match std::fs::read_to_string(table) {
            Ok(text) => match owner_uid(&text, local, peer) {
                Some(uid) if uid == own => Peer::Own,
                Some(uid) => Peer::Other(format!("a program of uid {uid}")),
                None => Peer::Unknown(format!("{table} has no such connection")),
            },
            Err(e) => Peer::Unknown(format!("{table}: {e}")),
        }
    }
}

/// The uid that owns the socket whose local end is `peer` and remote end `local`, from the text of `/proc/net/tcp`
/// or `/proc/net/tcp6` (`sl local_address rem_address st … uid …`; addresses as the kernel's 32-bit words in hex, in
/// the machine's byte order, ports in hex).
pub fn owner_uid(table: &str, local: SocketAddr, peer: SocketAddr) -> Option<u32> {
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (from, to, uid) = (fields.get(1)?, fields.get(2)?, fields.get(7)?);
        (proc_addr(from)? == peer && proc_addr(to)? == local).then(|| uid.parse().ok()).flatten()
    })
}

/// `0100007F:1F45` (127.0.0.1:8005) or the 32-hex-digit IPv6 form.
fn proc_addr(text: &str) -> Option<SocketAddr> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Option<Vec<[u8; 4]>> = (0..addr.len() / 8)
        .map(|i| addr.get(i * 8..i * 8 + 8).and_then(|w| u32::from_str_radix(w, 16).ok()).map(u32::to_ne_bytes))
        .collect();
    let bytes: Vec<u8> = words?.concat();
    let ip: std::net::IpAddr = match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(std::net::Ipv4Addr::from)?.into(),
        16 => <[u8; 16]>::try_from(bytes).ok().map(std::net::Ipv6Addr::from)?.into(),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback connection from 127.0.0.1:40000 (uid 1000's browser) to the agent on 127.0.0.1:7717 (uid 0), and
    /// one from 127.0.0.1:40002 (uid 0): the kernel lists both ends of each.
    fn table() -> String {
        let word = |ip: [u8; 4]| format!("{:08X}", u32::from_ne_bytes(ip));
        let lo = word([127, 0, 0, 1]);
        format!(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
             0: {lo}:1E25 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n\
             1: {lo}:9C40 {lo}:1E25 01 00000000:00000000 00:00000000 00000000  1000        0 2 1\n\
             2: {lo}:1E25 {lo}:9C40 01 00000000:00000000 00:00000000 00000000     0        0 3 1\n\
             3: {lo}:9C42 {lo}:1E25 01 00000000:00000000 00:00000000 00000000     0        0 4 1\n"
        )
    }

    #[test]
    fn the_client_end_of_a_loopback_connection_names_its_user() {
        let agent = SocketAddr::from(([127, 0, 0, 1], 7717));
        let text = table();
        assert_eq!(owner_uid(&text, agent, SocketAddr::from(([127, 0, 0, 1], 40000))), Some(1000));
        assert_eq!(owner_uid(&text, agent, SocketAddr::from(([127, 0, 0, 1], 40002))), Some(0));
        assert_eq!(owner_uid(&text, agent, SocketAddr::from(([127, 0, 0, 1], 40004))), None, "no such connection");
        // The agent's own end (local 7717) is never taken for the client's.
        assert_eq!(owner_uid(&text, SocketAddr::from(([127, 0, 0, 1], 40000)), agent), Some(0));
    }

    #[test]
    fn ipv6_rows_are_read() {
        let words: String = std::net::Ipv6Addr::LOCALHOST
            .octets()
            .chunks(4)
            .map(|c| format!("{:08X}", u32::from_ne_bytes([c[0], c[1], c[2], c[3]])))
            .collect();
        let text = format!("header\n 0: {words}:9C40 {words}:1E25 01 0:0 0:0 0 1000 0 2 1\n");
        let agent = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 7717));
        assert_eq!(owner_uid(&text, agent, SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 40000))), Some(1000));
    }

    /// The check of this platform on a real loopback connection made by this process: its own. Under Wine (the CI's
    /// Windows), which lists connections without their owning process, the connection is refused as untraceable —
    /// what the agent must do when it cannot tell; a real Windows PC shows the rest (docs/windows.md).
    #[test]
    fn this_process_is_its_own_peer() {
        let Some(check) = platform_check() else { return };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, peer) = listener.accept().unwrap();
        let verdict = check.check(server.local_addr().unwrap(), peer);
        if cfg!(windows) && std::path::Path::new(r"C:\windows\system32\winecfg.exe").exists() {
            assert!(matches!(verdict, Peer::Unknown(_)), "{verdict:?}");
        } else {
            assert_eq!(verdict, Peer::Own);
        }
    }
}
