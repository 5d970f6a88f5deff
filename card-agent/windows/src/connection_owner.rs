//! The Windows session of the program at the other end of a loopback TCP connection.
//!
//! `GetExtendedTcpTable(TCP_TABLE_OWNER_PID_CONNECTIONS)` lists every connection with the process id that owns its
//! local end; for a loopback connection the client's row has the client's address as its local end and the agent's
//! listener as its remote end. `ProcessIdToSessionId` then names that process's session. Any step that fails answers
//! None, which the agent treats as "not this session" (a connection closed meanwhile, a process the caller may not
//! query).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use windows_sys::Win32::Foundation::ERROR_INSUFFICIENT_BUFFER;
use windows_sys::Win32::NetworkManagement::IpHelper::{GetExtendedTcpTable, TCP_TABLE_OWNER_PID_CONNECTIONS};
use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};
use windows_sys::Win32::System::RemoteDesktop::ProcessIdToSessionId;

/// The session of the process whose connection comes from `peer` to `local` (an accepted socket's two addresses).
pub fn session_of_peer(local: SocketAddr, peer: SocketAddr) -> Option<u32> {
    session_of_process(owning_process(local, peer)?)
}

/// This process's session.
pub fn current_session() -> Option<u32> {
    session_of_process(std::process::id())
}

#[allow(unsafe_code)]
fn session_of_process(pid: u32) -> Option<u32> {
    // Process 0 (the idle process) owns no connection: it is what a table answers that knows no owner (Wine 8.0).
    if pid == 0 {
        return None;
    }
    // A value no session has, so that an implementation that reports success without writing (Wine 8.0's) is not
    // taken for session 0.
    let mut session = u32::MAX;
    // SAFETY: `session` is valid for one u32 write.
    let ok = unsafe { ProcessIdToSessionId(pid, &mut session) } != 0;
    (ok && session != u32::MAX).then_some(session)
}

/// The row size and layout of MIB_TCPROW_OWNER_PID (six DWORDs) and MIB_TCP6ROW_OWNER_PID.
const ROW4: usize = 24;
const ROW6: usize = 56;

fn owning_process(local: SocketAddr, peer: SocketAddr) -> Option<u32> {
    let (family, row) = match peer.ip() {
        IpAddr::V4(_) => (AF_INET, ROW4),
        IpAddr::V6(_) => (AF_INET6, ROW6),
    };
    let table = tcp_table(u32::from(family))?;
    let count = usize::try_from(u32_at(&table, 0)?).ok()?;
    (0..count).find_map(|i| {
        let at = 4 + i * row;
        let (row_local, row_remote, pid) = if row == ROW4 { row_v4(&table, at)? } else { row_v6(&table, at)? };
        (row_local == peer && row_remote == local).then_some(pid)
    })
}

/// MIB_TCPROW_OWNER_PID: state, local address, local port, remote address, remote port, owning pid. Addresses are in
/// network order as they lie in memory; ports in network order in the low 16 bits.
fn row_v4(table: &[u8], at: usize) -> Option<(SocketAddr, SocketAddr, u32)> {
    let addr = |off: usize| table.get(at + off..at + off + 4).and_then(|b| <[u8; 4]>::try_from(b).ok());
    let local = SocketAddr::new(Ipv4Addr::from(addr(4)?).into(), port(u32_at(table, at + 8)?));
    let remote = SocketAddr::new(Ipv4Addr::from(addr(12)?).into(), port(u32_at(table, at + 16)?));
    Some((local, remote, u32_at(table, at + 20)?))
}

/// MIB_TCP6ROW_OWNER_PID: local address (16), scope, port, remote address (16), scope, port, state, owning pid.
fn row_v6(table: &[u8], at: usize) -> Option<(SocketAddr, SocketAddr, u32)> {
    let addr = |off: usize| table.get(at + off..at + off + 16).and_then(|b| <[u8; 16]>::try_from(b).ok());
    let local = SocketAddr::new(Ipv6Addr::from(addr(0)?).into(), port(u32_at(table, at + 20)?));
    let remote = SocketAddr::new(Ipv6Addr::from(addr(24)?).into(), port(u32_at(table, at + 44)?));
    Some((local, remote, u32_at(table, at + 52)?))
}

fn port(dword: u32) -> u16 {
    u16::from_be((dword & 0xffff) as u16)
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    bytes.get(at..at + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_ne_bytes)
}

/// The whole table, asked for again while it grows between the size query and the read.
#[allow(unsafe_code)]
fn tcp_table(family: u32) -> Option<Vec<u8>> {
    let mut size = 0u32;
    for _ in 0..4 {
        // DWORD-aligned storage for the table.
        let mut buffer = vec![0u32; (size as usize).div_ceil(4).max(1)];
        let mut asked = u32::try_from(buffer.len() * 4).ok()?;
        // SAFETY: `buffer` holds `asked` writable bytes, 4-aligned as the table's DWORDs need; the function writes at
        // most `asked` bytes and sets `asked` to the size it needs when that is more.
        let status = unsafe {
            GetExtendedTcpTable(buffer.as_mut_ptr().cast(), &mut asked, 0, family, TCP_TABLE_OWNER_PID_CONNECTIONS, 0)
        };
        if status == 0 {
            let len = usize::try_from(asked).ok()?.min(buffer.len() * 4);
            return Some(buffer.iter().flat_map(|d| d.to_ne_bytes()).take(len).collect());
        }
        if status != ERROR_INSUFFICIENT_BUFFER {
            return None;
        }
        size = asked;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wine (the CI's Windows) lists connections without their owning process and reports no session: what it shows
    /// is that such a connection is not taken for anyone's. A real Windows PC shows the rest (docs/windows.md,
    /// acceptance checklist).
    fn under_wine() -> bool {
        std::path::Path::new(r"C:\windows\system32\winecfg.exe").exists()
    }

    #[test]
    fn this_process_has_a_session_and_owns_its_own_connections() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        let found = session_of_peer(listener.local_addr().unwrap(), peer);
        if under_wine() {
            assert_eq!(found, None, "Wine names no owner: nobody's");
        } else {
            assert_eq!(found, Some(current_session().expect("this process's session")));
        }
        // Nobody connects from a port nobody holds.
        let nowhere = SocketAddr::from(([127, 0, 0, 1], 9));
        assert_eq!(session_of_peer(listener.local_addr().unwrap(), nowhere), None);
    }
}
