//! What stops `serve`, and how it says it has stopped (issue #44).
//!
//! * Linux: Ctrl-C (SIGINT) and SIGTERM.
//! * Windows, in a console: Ctrl-C, Ctrl-Break and the console window closed (console control events); as a service
//!   or where Windows sends them, logoff and shutdown events too.
//! * Windows, at logoff, shutdown or restart of an interactive session: the session window's `WM_ENDSESSION`
//!   (`hcpki_agent_windows::session`), the only notice an interactive program gets. Windows may end the process as
//!   soon as that message is answered, so its handler asks for the stop and waits (at most [`ENDING_GRACE`]) until
//!   [`Lifecycle::finished`] says the agent has stopped: listener closed, operations failed, the card watcher
//!   joined, every card disconnected leaving it as it is.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

/// How long the session's end waits for the agent to stop before letting Windows go on.
pub const ENDING_GRACE: Duration = Duration::from_secs(5);

/// Why the agent stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C or Ctrl-Break.
    Interrupted,
    /// SIGTERM, or the Windows console it runs in was closed.
    Terminated,
    /// The user logs off.
    LoggingOff,
    /// Windows shuts down or restarts.
    ShuttingDown,
}

impl StopReason {
    /// For the log.
    pub fn describe(self) -> &'static str {
        match self {
            StopReason::Interrupted => "interrupted (Ctrl-C)",
            StopReason::Terminated => "asked to stop",
            StopReason::LoggingOff => "the user is logging off",
            StopReason::ShuttingDown => "the PC is shutting down",
        }
    }
}

/// The stop request and the "stopped" answer, shared by whatever can stop the agent.
#[derive(Debug)]
pub struct Lifecycle {
    stop: watch::Sender<Option<StopReason>>,
    done: Mutex<bool>,
    done_changed: Condvar,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle { stop: watch::Sender::new(None), done: Mutex::new(false), done_changed: Condvar::new() }
    }
}

impl Lifecycle {
    /// Asks the agent to stop (the first reason is kept).
    pub fn request_stop(&self, why: StopReason) {
        self.stop.send_if_modified(|current| {
            let first = current.is_none();
            if first {
                *current = Some(why);
            }
            first
        });
    }

    /// Resolves when a stop is asked for: through [`request_stop`](Self::request_stop) or one of the platform's
    /// signals.
    pub async fn stop_requested(&self) -> StopReason {
        let mut asked = self.stop.subscribe();
        tokio::select! {
            why = platform_signal() => {
                self.request_stop(why);
                why
            }
            Ok(why) = async { asked.wait_for(Option::is_some).await.map(|w| w.unwrap_or(StopReason::Terminated)) } => why,
        }
    }

    /// The agent has stopped.
    pub fn finished(&self) {
        *self.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.done_changed.notify_all();
    }

    /// Blocks until [`finished`](Self::finished) or `timeout`; true when the agent finished.
    pub fn wait_finished(&self, timeout: Duration) -> bool {
        let done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        let (done, _) = self
            .done_changed
            .wait_timeout_while(done, timeout, |finished| !*finished)
            .unwrap_or_else(PoisonError::into_inner);
        *done
    }
}

/// The first of the platform's stop signals. A signal that cannot be listened to is not waited for.
#[cfg(unix)]
async fn platform_signal() -> StopReason {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    tokio::select! {
        Ok(()) = tokio::signal::ctrl_c() => StopReason::Interrupted,
        Some(()) = async { term.as_mut()?.recv().await } => StopReason::Terminated,
    }
}

#[cfg(windows)]
async fn platform_signal() -> StopReason {
    use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, ctrl_logoff, ctrl_shutdown};
    let (mut c, mut brk, mut close, mut logoff, mut shutdown) =
        (ctrl_c().ok(), ctrl_break().ok(), ctrl_close().ok(), ctrl_logoff().ok(), ctrl_shutdown().ok());
    tokio::select! {
        Some(()) = async { c.as_mut()?.recv().await } => StopReason::Interrupted,
        Some(()) = async { brk.as_mut()?.recv().await } => StopReason::Interrupted,
        Some(()) = async { close.as_mut()?.recv().await } => StopReason::Terminated,
        Some(()) = async { logoff.as_mut()?.recv().await } => StopReason::LoggingOff,
        Some(()) = async { shutdown.as_mut()?.recv().await } => StopReason::ShuttingDown,
    }
}

#[cfg(not(any(unix, windows)))]
async fn platform_signal() -> StopReason {
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_requested_stop_is_seen_and_the_end_waits_for_the_agent() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let life = Arc::new(Lifecycle::default());
        assert!(!life.wait_finished(Duration::ZERO));
        // What the session window does at logoff: ask, then wait until the agent says it stopped.
        let session_end = {
            let life = Arc::clone(&life);
            std::thread::spawn(move || {
                life.request_stop(StopReason::LoggingOff);
                life.wait_finished(Duration::from_secs(60))
            })
        };
        let why = runtime.block_on(life.stop_requested());
        assert_eq!(why, StopReason::LoggingOff);
        life.request_stop(StopReason::Interrupted);
        assert_eq!(runtime.block_on(life.stop_requested()), StopReason::LoggingOff, "the first reason is kept");
        life.finished();
        assert!(session_end.join().unwrap());
    }
}
