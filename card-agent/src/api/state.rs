//! What every handler of the local API shares: the card service, the operations in flight, and who this
//! listener is (its origin and `Host` names) for the guards.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::operations::Operations;
use crate::config::{AgentConfig, PinEntry};
use crate::document::time_stamps::TimeStamps;
use crate::presence::Presence;
use crate::service::{CardEvent, CardService, PinPrompt};
use crate::signing_session::{Limits, SigningSessions};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub(super) service: Arc<dyn CardService>,
    pub(super) ops: Arc<Operations>,
    pub(super) allowed_origins: Arc<Vec<String>>,
    /// `http://127.0.0.1:PORT`: the PIN page's origin.
    pub(super) own_origin: Arc<String>,
    /// `Host` values that name this listener.
    pub(super) own_hosts: Arc<Vec<String>>,
    pub(super) pin_entry: PinEntry,
    pub(super) pin_timeout: Duration,
    pub(super) terminal: Option<Arc<dyn PinPrompt>>,
    /// Card presence registrations, when `portal_ca_file` is set.
    pub(super) presence: Option<Arc<Presence>>,
    /// The TSAs of `[[signing.tsa]]`, for B-T document signatures; None when none is configured.
    pub(super) time_stamps: Option<Arc<TimeStamps>>,
    /// `[signing] ca_certificates` (DER): what document signatures carry beside the card's certificate.
    pub(super) ca_certificates: Arc<Vec<Vec<u8>>>,
    /// Open signing sessions, and agent.toml's `[signing_session]` limits (D163).
    pub(super) sessions: Arc<SigningSessions>,
    pub(super) session_limits: Limits,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("own_origin", &self.own_origin).finish_non_exhaustive()
    }
}

impl AppState {
    /// State for a listener bound to `addr`. `terminal` is the prompt used when `pin_entry` is terminal.
    pub fn new(
        service: Arc<dyn CardService>,
        config: &AgentConfig,
        addr: SocketAddr,
        terminal: Option<Arc<dyn PinPrompt>>,
    ) -> Self {
        let port = addr.port();
        let own_origin = match addr {
            SocketAddr::V4(a) => format!("http://{}:{port}", a.ip()),
            SocketAddr::V6(a) => format!("http://[{}]:{port}", a.ip()),
        };
        let own_hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")];
        AppState {
            service,
            ops: Arc::new(Operations::new(config.operation_ttl())),
            allowed_origins: Arc::new(config.allowed_origins.clone()),
            own_origin: Arc::new(own_origin),
            own_hosts: Arc::new(own_hosts),
            pin_entry: config.pin_entry,
            pin_timeout: config.pin_timeout(),
            terminal,
            presence: None,
            time_stamps: None,
            ca_certificates: Arc::default(),
            sessions: Arc::default(),
            session_limits: config.signing_session,
        }
    }

    /// With `[signing]`: the TSAs for B-T document signatures (without, a B-T request is refused: `no_tsa`) and
    /// the CA certificates signatures carry.
    pub fn with_signing(mut self, time_stamps: Option<Arc<TimeStamps>>, ca_certificates: Vec<Vec<u8>>) -> Self {
        self.time_stamps = time_stamps;
        self.ca_certificates = Arc::new(ca_certificates);
        self
    }

    /// The workstation was locked: the operations waiting for a PIN are cancelled
    /// (`Operations::cancel_pin_questions`), and every signing session ends (whoever unlocks the PC types the PIN
    /// again). How many questions were cancelled.
    pub fn cancel_pin_questions(&self) -> usize {
        let ended = self.sessions.end_all();
        if ended > 0 {
            tracing::info!(ended, "the workstation was locked: signing sessions ended");
        }
        self.ops.cancel_pin_questions()
    }

    /// Ends a card's signing sessions when it leaves its reader (the broker's `removed` event), for as long as the
    /// card service lives. Needs a Tokio runtime; without one (nothing serves the API) nothing is watched.
    pub(super) fn end_sessions_on_removal(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let mut events = self.service.subscribe();
        let sessions = Arc::clone(&self.sessions);
        runtime.spawn(async move {
            loop {
                match events.recv().await {
                    Ok(CardEvent::Removed { card_id: Some(card_id), reader }) => {
                        let ended = sessions.end_card(&card_id);
                        if ended > 0 {
                            tracing::info!(%reader, card_id, "the card was removed: its signing session ended");
                        }
                    }
                    // Events were missed: a removal among them cannot be ruled out.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        sessions.end_all();
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    Ok(_) => {}
                }
            }
        });
    }

    /// With card presence reporting (`POST /v1/presence` answers 503 without it).
    pub fn with_presence(mut self, presence: Arc<Presence>) -> Self {
        self.presence = Some(presence);
        self
    }
}
