//! `hcpki-agent-logon`: what the MSI starts at every user's logon (issue #44). It runs `hcpki-agent serve
//! --background` from its own directory without a console window, waits for it and passes its exit status on.
//!
//! `hcpki-agent` is a console program (its CLI prints to the terminal it is run from); started directly at logon it
//! would open a console window that a physician could close, stopping the agent. This launcher is a GUI-subsystem
//! program (no window of its own) that starts the agent with `CREATE_NO_WINDOW`. Elsewhere it only says it is
//! Windows'.
#![forbid(unsafe_code)]
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::process::ExitCode;

#[cfg(windows)]
fn main() -> ExitCode {
    use std::os::windows::process::CommandExt as _;
    /// `CREATE_NO_WINDOW` (winbase.h): a console program without a console window.
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    let Some(agent) = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join("hcpki-agent.exe"))) else {
        return ExitCode::FAILURE;
    };
    // Whatever goes wrong is in the agent's log (%LOCALAPPDATA%\hcpki-agent\agent.log); there is no one to tell here.
    match std::process::Command::new(agent).args(["serve", "--background"]).creation_flags(CREATE_NO_WINDOW).status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

#[cfg(not(windows))]
fn main() -> ExitCode {
    eprintln!("hcpki-agent-logon starts the agent at a Windows logon; elsewhere run `hcpki-agent serve`");
    ExitCode::FAILURE
}
