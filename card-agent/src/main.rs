//! `hcpki-agent`: the one local program that owns the PC/SC readers and serves
//! both HPKI and JPKI cards (issue #3). This is the skeleton the workspace
//! builds today; it accepts `--version` and `--help` and does nothing else.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        Some("--version") | Some("-V") => {
            println!("hcpki-agent {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("--help") | Some("-h") | None => {
            println!(
                "hcpki-agent {}: local HPKI/JPKI card agent for hcpki.\n\n\
                 Not functional yet: the PC/SC broker, card drivers and PIN entry arrive with issue #3.",
                env!("CARGO_PKG_VERSION")
            );
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("hcpki-agent: unknown argument {other:?}; try --help");
            ExitCode::from(2)
        }
    }
}
