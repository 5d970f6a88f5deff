//! The Smart Card service's started event.
//!
//! Microsoft: `SCardAccessStartedEvent` "returns an event handle when an event signals that the smart card resource
//! manager is started"; the handle must not be closed, its reference is given back with `SCardReleaseStartedEvent`.

use std::time::Duration;

use windows_sys::Win32::Foundation::{WAIT_FAILED, WAIT_OBJECT_0};
use windows_sys::Win32::Security::Credentials::{SCardAccessStartedEvent, SCardReleaseStartedEvent};
use windows_sys::Win32::System::Threading::WaitForSingleObject;

/// Waits up to `timeout` for the Smart Card service to be running. True once it runs; false on timeout or when the
/// event cannot be had (the caller then waits as it would have without it).
#[allow(unsafe_code)]
pub fn wait_started(timeout: Duration) -> bool {
    let millis = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX - 1);
    // SAFETY: no arguments; the handle returned (or null) is only waited on below and given back with
    // SCardReleaseStartedEvent, never closed, as the function's documentation requires.
    let event = unsafe { SCardAccessStartedEvent() };
    if event.is_null() {
        std::thread::sleep(timeout);
        return false;
    }
    // SAFETY: `event` is a valid event handle until SCardReleaseStartedEvent below.
    let waited = unsafe { WaitForSingleObject(event, millis) };
    // SAFETY: gives back the reference taken by SCardAccessStartedEvent above, once.
    unsafe { SCardReleaseStartedEvent() };
    if waited == WAIT_FAILED {
        std::thread::sleep(timeout);
    }
    waited == WAIT_OBJECT_0
}
