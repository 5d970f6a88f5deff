//! What the card agent asks of Windows that Rust's standard library does not offer (issue #44), in one small crate so
//! that the agent itself keeps `forbid(unsafe_code)`:
//!
//! * [`smart_card_service::wait_started`]: `SCardAccessStartedEvent`, the event the Smart Card service sets when it
//!   starts. Windows 8 and later stop the service when the last reader is unplugged; a program waits on this event
//!   instead of polling `SCardEstablishContext` (which keeps answering `SCARD_E_NO_SERVICE` meanwhile).
//! * [`session::watch`]: a hidden top-level window whose messages say the session is ending (`WM_QUERYENDSESSION`,
//!   `WM_ENDSESSION`: logoff, shutdown, restart — an interactive program gets no console control event for these) and
//!   that it was locked, unlocked, switched away from or back to (`WM_WTSSESSION_CHANGE`, after
//!   `WTSRegisterSessionNotification`).
//! * [`connection_owner::session_of_peer`]: which Windows session the program at the other end of a loopback TCP
//!   connection runs in (`GetExtendedTcpTable` with owning process ids, then `ProcessIdToSessionId`), so that one
//!   user's agent answers only its own session's browser.
//!
//! Everything here is Windows-only; on other platforms the crate is empty.

#[cfg(windows)]
pub mod connection_owner;
#[cfg(windows)]
pub mod session;
#[cfg(windows)]
pub mod smart_card_service;
