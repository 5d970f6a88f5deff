//! The session's end, lock and switches, through a hidden top-level window.
//!
//! Microsoft: an interactive program is not sent `CTRL_LOGOFF_EVENT` or `CTRL_SHUTDOWN_EVENT` ("received only by
//! services"); it learns that the session ends from `WM_QUERYENDSESSION` and `WM_ENDSESSION`, sent to its top-level
//! windows (not to message-only ones), and may be ended as soon as it has answered `WM_ENDSESSION`. Lock, unlock and
//! fast user switching arrive as `WM_WTSSESSION_CHANGE` once the window is registered with
//! `WTSRegisterSessionNotification(NOTIFY_FOR_THIS_SESSION)`.

use std::io;
use std::sync::OnceLock;
use std::sync::mpsc;

use windows_sys::Win32::Foundation::{HWND, LPARAM, LRESULT, WPARAM};
use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
use windows_sys::Win32::System::RemoteDesktop::{NOTIFY_FOR_THIS_SESSION, WTSRegisterSessionNotification};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DefWindowProcW, DispatchMessageW, ENDSESSION_LOGOFF, GetMessageW, MSG, RegisterClassW,
    TranslateMessage, WM_ENDSESSION, WM_QUERYENDSESSION, WM_WTSSESSION_CHANGE, WNDCLASSW, WTS_CONSOLE_CONNECT,
    WTS_CONSOLE_DISCONNECT, WTS_REMOTE_CONNECT, WTS_REMOTE_DISCONNECT, WTS_SESSION_LOCK, WTS_SESSION_UNLOCK,
};

/// What happened to the session the agent runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    /// The session ends (`logoff`), or Windows shuts down or restarts: the process may be ended as soon as the
    /// handler returns, so the handler stops the agent before it returns.
    Ending { logoff: bool },
    /// The workstation was locked.
    Locked,
    /// It was unlocked.
    Unlocked,
    /// The console (or the remote connection) left this session: another user's session is in front (fast user
    /// switching), or this one was disconnected.
    Disconnected,
    /// The console (or a remote connection) came back to this session.
    Connected,
}

/// The event a window message stands for, if any.
pub fn event_of(message: u32, wparam: usize, lparam: isize) -> Option<SessionEvent> {
    match message {
        // wParam is TRUE when the session really ends (FALSE: another program refused and it goes on).
        WM_ENDSESSION if wparam != 0 => {
            // The ENDSESSION_* flags are the low 32 bits of lParam (ENDSESSION_LOGOFF is their top bit).
            let flags = lparam as usize as u32;
            Some(SessionEvent::Ending { logoff: flags & ENDSESSION_LOGOFF != 0 })
        }
        WM_WTSSESSION_CHANGE => match u32::try_from(wparam).ok()? {
            WTS_SESSION_LOCK => Some(SessionEvent::Locked),
            WTS_SESSION_UNLOCK => Some(SessionEvent::Unlocked),
            WTS_CONSOLE_DISCONNECT | WTS_REMOTE_DISCONNECT => Some(SessionEvent::Disconnected),
            WTS_CONSOLE_CONNECT | WTS_REMOTE_CONNECT => Some(SessionEvent::Connected),
            _ => None,
        },
        _ => None,
    }
}

type Handler = Box<dyn Fn(SessionEvent) + Send + Sync>;
static HANDLER: OnceLock<Handler> = OnceLock::new();

/// What [`watch`] could set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watching {
    /// Lock, unlock and switches are reported too (`WTSRegisterSessionNotification` succeeded), not only the end.
    pub session_changes: bool,
}

/// Starts the hidden window on a thread of its own and calls `handler` there for each [`SessionEvent`]. One per
/// process. An error when no window can be made (no desktop: a service, or a Wine without one): the caller then
/// stops on console control events only.
pub fn watch(handler: impl Fn(SessionEvent) + Send + Sync + 'static) -> io::Result<Watching> {
    HANDLER.set(Box::new(handler)).map_err(|_| io::Error::other("the session is already watched"))?;
    let (ready, started) = mpsc::channel();
    std::thread::Builder::new().name("session-watch".into()).spawn(move || run_window(&ready))?;
    started.recv().map_err(|_| io::Error::other("the session window's thread ended"))?
}

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

#[allow(unsafe_code)]
fn run_window(ready: &mpsc::Sender<io::Result<Watching>>) {
    let class_name = wide("hcpki-agent-session");
    let title = wide("hcpki-agent");
    // SAFETY: a null module name asks for this executable's own handle; nothing is freed.
    let instance = unsafe { GetModuleHandleW(std::ptr::null()) };
    let class = WNDCLASSW {
        lpfnWndProc: Some(window_proc),
        hInstance: instance,
        lpszClassName: class_name.as_ptr(),
        // SAFETY: every other field of WNDCLASSW is a number, a handle or a pointer, for which zero means "none".
        ..unsafe { std::mem::zeroed() }
    };
    // SAFETY: `class` and the class name it points to live until the end of this function, which runs the window's
    // message loop, i.e. for as long as the window exists.
    if unsafe { RegisterClassW(&class) } == 0 {
        let _ = ready.send(Err(io::Error::last_os_error()));
        return;
    }
    // A top-level window that is never shown: a message-only window (HWND_MESSAGE) would not be asked whether the
    // session may end.
    // SAFETY: the class was registered above with this module; the strings outlive the call; no parent, no menu,
    // no creation data.
    let window = unsafe {
        CreateWindowExW(
            0,
            class_name.as_ptr(),
            title.as_ptr(),
            0,
            0,
            0,
            0,
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            instance,
            std::ptr::null(),
        )
    };
    if window.is_null() {
        let _ = ready.send(Err(io::Error::last_os_error()));
        return;
    }
    // SAFETY: `window` is this thread's live window.
    let session_changes = unsafe { WTSRegisterSessionNotification(window, NOTIFY_FOR_THIS_SESSION) } != 0;
    let _ = ready.send(Ok(Watching { session_changes }));
    // SAFETY: MSG is plain data; zero is a valid value to be overwritten by GetMessageW.
    let mut message: MSG = unsafe { std::mem::zeroed() };
    // SAFETY: `message` is valid for writes; the loop ends on WM_QUIT (0) or an error (-1).
    while unsafe { GetMessageW(&mut message, std::ptr::null_mut(), 0, 0) } > 0 {
        // SAFETY: `message` was filled by GetMessageW above.
        unsafe {
            TranslateMessage(&message);
            DispatchMessageW(&message);
        }
    }
}

#[allow(unsafe_code)]
unsafe extern "system" fn window_proc(window: HWND, message: u32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    if message == WM_QUERYENDSESSION {
        // The agent never holds the session up: nothing it does is worth a "this app is preventing shutdown" screen.
        return 1;
    }
    if let Some(event) = event_of(message, wparam, lparam) {
        if let Some(handler) = HANDLER.get() {
            handler(event);
        }
        return 0;
    }
    // SAFETY: the arguments are the ones Windows passed to this window procedure.
    unsafe { DefWindowProcW(window, message, wparam, lparam) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_messages_become_session_events() {
        let logoff = ENDSESSION_LOGOFF as usize as isize;
        assert_eq!(event_of(WM_ENDSESSION, 1, logoff), Some(SessionEvent::Ending { logoff: true }));
        assert_eq!(event_of(WM_ENDSESSION, 1, 0), Some(SessionEvent::Ending { logoff: false }));
        assert_eq!(event_of(WM_ENDSESSION, 0, logoff), None, "another program cancelled the end");
        assert_eq!(event_of(WM_WTSSESSION_CHANGE, WTS_SESSION_LOCK as usize, 0), Some(SessionEvent::Locked));
        assert_eq!(event_of(WM_WTSSESSION_CHANGE, WTS_SESSION_UNLOCK as usize, 0), Some(SessionEvent::Unlocked));
        assert_eq!(
            event_of(WM_WTSSESSION_CHANGE, WTS_CONSOLE_DISCONNECT as usize, 0),
            Some(SessionEvent::Disconnected)
        );
        assert_eq!(event_of(WM_WTSSESSION_CHANGE, WTS_REMOTE_CONNECT as usize, 0), Some(SessionEvent::Connected));
        assert_eq!(event_of(WM_QUERYENDSESSION, 1, 0), None);
    }
}
