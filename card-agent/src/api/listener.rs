//! The API's listener: a loopback TCP listener that hands the router only connections from this user's programs
//! (`crate::peer`). Another user's connection is closed before a byte of HTTP is read, and logged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::peer::{Peer, PeerCheck};

/// `axum::serve`'s listener for the agent.
pub struct OwnPrograms {
    inner: TcpListener,
    check: Option<Arc<dyn PeerCheck>>,
}

impl std::fmt::Debug for OwnPrograms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnPrograms").field("checked", &self.check.is_some()).finish_non_exhaustive()
    }
}

impl OwnPrograms {
    /// `inner`, answering only the programs `check` traces to this user (every program when None).
    pub fn new(inner: TcpListener, check: Option<Arc<dyn PeerCheck>>) -> Self {
        OwnPrograms { inner, check }
    }
}

impl axum::serve::Listener for OwnPrograms {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            let (stream, peer) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(check) = &self.check else { return (stream, peer) };
            let verdict = match stream.local_addr() {
                Ok(local) => check.check(local, peer),
                Err(e) => Peer::Unknown(e.to_string()),
            };
            match verdict {
                Peer::Own => return (stream, peer),
                Peer::Other(who) => {
                    tracing::warn!(%peer, %who, "refused a connection from another user's program (peer_check)");
                }
                Peer::Unknown(why) => {
                    tracing::warn!(%peer, %why, "refused a connection whose program could not be traced (peer_check)");
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}
