//! The serving thread of a [`VpcdCard`](super::VpcdCard): enter the namespace, connect, answer
//! vpcd frame by frame, reconnect when vpcd goes away, stop when told.

use super::error::VpcdError;
use super::link::Link;
use super::target::VpcdTarget;
use crate::card::VirtualCard;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::sync::mpsc::Sender;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// A connect that takes longer than this is a dead address, not a slow vpcd.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause after the first failed connection; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// vpcd's control messages (one byte).
const POWER_OFF: u8 = 0x00;
const POWER_ON: u8 = 0x01;
const RESET: u8 = 0x02;
const GET_ATR: u8 = 0x04;

/// Why one connection ended.
#[derive(Debug)]
enum End {
    /// Read or write failed: vpcd closed (pcscd stopped), or `remove` shut the socket down.
    Closed(io::Error),
    /// The APDU trigger fired.
    Pulled,
}

/// The thread's body. Reports the first connection's outcome on `ready`, then serves.
pub(super) fn run(target: &VpcdTarget, card: &Mutex<VirtualCard>, link: &Link, ready: &Sender<Result<(), VpcdError>>) {
    let _running = Running(link);
    let first = enter_netns(target)
        .and_then(|()| resolve(target))
        .and_then(|addrs| Ok((connect_with_retries(target, &addrs, link)?, addrs)));
    let (mut socket, addrs) = match first {
        Ok(connected) => connected,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    match register(link, &socket) {
        Ok(true) => {}
        Ok(false) => {
            let _ = ready.send(Err(VpcdError::Thread("removed while connecting".to_owned())));
            return;
        }
        Err(e) => {
            let _ = ready.send(Err(VpcdError::Thread(format!("cannot keep a handle on the connection: {e}"))));
            return;
        }
    }
    insertion_power(card);
    tracing::info!("card inserted: connected to {target}");
    let _ = ready.send(Ok(()));
    loop {
        let end = serve_connection(&socket, target.quickack, card, link);
        let _ = socket.shutdown(Shutdown::Both);
        // Out of the reader is out of power: the session is gone, and a card inserted again answers
        // only after vpcd powers it (as pcscd does on every insertion).
        card.lock().unwrap_or_else(PoisonError::into_inner).power_off();
        {
            let mut state = link.lock();
            state.socket = None;
            state.powered = false;
            if state.stop {
                tracing::info!("card removed from {target}");
                return;
            }
        }
        if let End::Closed(e) = &end {
            tracing::warn!("{target} closed the connection ({e}); reconnecting");
        }
        socket = match reconnect(target, &addrs, link) {
            Some(s) => s,
            None => return,
        };
        match register(link, &socket) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::error!("cannot keep a handle on the connection to {target}: {e}; giving up");
                return;
            }
        }
        insertion_power(card);
        tracing::info!("reconnected to {target}");
    }
}

/// Marks the thread as gone however it ends, and wakes `wait_removed`.
struct Running<'a>(&'a Link);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.running = false;
        state.socket = None;
        self.0.changed.notify_all();
    }
}

/// Answers vpcd until the connection ends.
fn serve_connection(socket: &Socket, quickack: bool, card: &Mutex<VirtualCard>, link: &Link) -> End {
    let lock = || card.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let message = match read_frame(socket, quickack) {
            Ok(m) => m,
            Err(e) => return End::Closed(e),
        };
        let reply = match message.as_slice() {
            [] => None,
            [POWER_OFF] => {
                lock().power_off();
                set_powered(link, false);
                None
            }
            [POWER_ON] => {
                lock().power_on();
                set_powered(link, true);
                None
            }
            [RESET] => {
                lock().reset();
                set_powered(link, true);
                None
            }
            [GET_ATR] => Some(lock().atr().to_vec()),
            [other] => {
                tracing::warn!("unknown vpcd control byte {other:02X}; ignored");
                None
            }
            capdu => {
                if pull_now(link) {
                    tracing::info!("pulling the card before it answers {}", hex::encode_upper(capdu));
                    return End::Pulled;
                }
                Some(lock().process(capdu))
            }
        };
        if let Some(reply) = reply
            && let Err(e) = write_frame(socket, &reply)
        {
            return End::Closed(e);
        }
    }
}

/// A reader powers a card when it is inserted. vpcd usually says so with a power-on message, but
/// after a card vanished in the middle of an exchange pcscd can skip it for the next card in that
/// slot (seen with vpcd 0.8: the card then answered 6F00 to everything). A new connection is a
/// new insertion, so the card starts powered with a fresh session either way.
fn insertion_power(card: &Mutex<VirtualCard>) {
    card.lock().unwrap_or_else(PoisonError::into_inner).power_on();
}

fn set_powered(link: &Link, powered: bool) {
    link.lock().powered = powered;
    link.changed.notify_all();
}

/// Counts one C-APDU against the trigger; `true` when this one must find the card gone.
fn pull_now(link: &Link) -> bool {
    let mut state = link.lock();
    match state.remove_after {
        Some(0) => {
            state.remove_after = None;
            state.stop = true;
            true
        }
        Some(n) => {
            state.remove_after = Some(n - 1);
            false
        }
        None => false,
    }
}

/// One frame: u16 big-endian length, then the payload. vpcd 0.8 sends the two parts in separate
/// segments; re-arming QUICKACK before each read makes the kernel ACK the first at once, so vpcd's
/// Nagle-delayed second part is not held back for the delayed-ACK timer.
fn read_frame(socket: &Socket, quickack: bool) -> io::Result<Vec<u8>> {
    let mut stream = socket;
    let mut len = [0u8; 2];
    arm_quickack(socket, quickack);
    stream.read_exact(&mut len)?;
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    arm_quickack(socket, quickack);
    stream.read_exact(&mut payload)?;
    Ok(payload)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn arm_quickack(socket: &Socket, quickack: bool) {
    if quickack && let Err(e) = socket.set_tcp_quickack(true) {
        tracing::debug!("TCP_QUICKACK: {e}");
    }
}

/// TCP_QUICKACK is Linux's; elsewhere (the agent's tests built as Windows code) the socket keeps its defaults.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn arm_quickack(_socket: &Socket, _quickack: bool) {}

/// Length and payload in one write, so this side never splits a frame.
fn write_frame(socket: &Socket, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "reply longer than a vpcd frame"))?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    let mut stream = socket;
    stream.write_all(&frame)
}

/// Moves this thread into the target's network namespace; the sockets it makes afterwards live
/// there for good, whatever thread uses them.
fn enter_netns(target: &VpcdTarget) -> Result<(), VpcdError> {
    let Some(path) = &target.netns else {
        return Ok(());
    };
    let netns_error = |reason: String| VpcdError::Netns { path: path.clone(), reason };
    #[cfg(target_os = "linux")]
    {
        let file = std::fs::File::open(path).map_err(|e| netns_error(e.to_string()))?;
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| netns_error(e.to_string()))
    }
    #[cfg(not(target_os = "linux"))]
    Err(netns_error("network namespaces exist on Linux only: run the virtual card there".into()))
}

fn resolve(target: &VpcdTarget) -> Result<Vec<SocketAddr>, VpcdError> {
    let resolve_error = |error| VpcdError::Resolve { target: target.to_string(), error };
    let addrs: Vec<SocketAddr> =
        (target.host.as_str(), target.port).to_socket_addrs().map_err(resolve_error)?.collect();
    if addrs.is_empty() {
        return Err(resolve_error(io::Error::new(io::ErrorKind::NotFound, "no address")));
    }
    Ok(addrs)
}

/// The first connection: `target.connect_attempts` tries with growing pauses.
fn connect_with_retries(target: &VpcdTarget, addrs: &[SocketAddr], link: &Link) -> Result<Socket, VpcdError> {
    let attempts = target.connect_attempts.max(1);
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match connect_any(addrs) {
            Ok(socket) => return Ok(socket),
            Err(error) if attempt >= attempts => {
                return Err(VpcdError::Unreachable { target: target.to_string(), attempts, error });
            }
            Err(e) => tracing::debug!("{target}: attempt {attempt}: {e}"),
        }
        if !pause_unless_stopped(link, backoff) {
            return Err(VpcdError::Thread("removed while connecting".to_owned()));
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
        attempt += 1;
    }
}

/// After vpcd went away: try until it is back or the card is removed (`None`). The namespace is
/// entered again each time: `scripts/pcsc-stack stop; start` makes a new one under the same name.
fn reconnect(target: &VpcdTarget, addrs: &[SocketAddr], link: &Link) -> Option<Socket> {
    let mut backoff = FIRST_BACKOFF;
    loop {
        if !pause_unless_stopped(link, backoff) {
            return None;
        }
        if let Err(e) = enter_netns(target) {
            tracing::debug!("reconnect: {e}");
            backoff = (backoff * 2).min(MAX_BACKOFF);
            continue;
        }
        match connect_any(addrs) {
            Ok(socket) => return Some(socket),
            Err(e) => tracing::debug!("reconnect: {e}"),
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Sleeps `pause` unless the card is removed meanwhile; `false` when it was.
fn pause_unless_stopped(link: &Link, pause: Duration) -> bool {
    let state = link.lock();
    let state = match link.changed.wait_timeout_while(state, pause, |s| !s.stop) {
        Ok((s, _)) => s,
        Err(poisoned) => poisoned.into_inner().0,
    };
    !state.stop
}

fn connect_any(addrs: &[SocketAddr]) -> io::Result<Socket> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in addrs {
        match connect(*addr) {
            Ok(socket) => return Ok(socket),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn connect(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.connect_timeout(&SockAddr::from(addr), CONNECT_TIMEOUT)?;
    // The card answers one small frame at a time; nothing is gained by coalescing.
    socket.set_tcp_nodelay(true)?;
    Ok(socket)
}

/// Keeps a clone of the connection where `remove` can shut it down. `false` when the card was
/// removed meanwhile (the connection is then closed at once).
fn register(link: &Link, socket: &Socket) -> io::Result<bool> {
    let clone = socket.try_clone()?;
    let mut state = link.lock();
    if state.stop {
        let _ = socket.shutdown(Shutdown::Both);
        return Ok(false);
    }
    state.socket = Some(clone);
    state.connections += 1;
    Ok(true)
}
