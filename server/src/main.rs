//! `hcpki`: the hcpki server and admin CLI.
#![forbid(unsafe_code)]

mod cli;
mod cmd;
mod config;
mod http;
// Card login (issue #6): the portal's HTTP handlers wire it; until then the CLI (`hcpki login`, `hcpki bench
// login`) and the tests use part of its API, so the rest looks unused to the compiler.
#[allow(dead_code, unused_imports)]
mod login;
mod oidc;
mod output;
mod syslog;
// Used by the SSO portal and OIDC provider (issue #6) once they land; until then only its tests call it,
// so its public items and re-exports look unused to the compiler.
#[allow(dead_code, unused_imports)]
mod policy;
mod portal;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // The server logs one line per request by default; one-shot commands only warnings.
    let default_filter = if matches!(cli.command, cli::Command::Serve(_)) { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HCPKI_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal; log files and journald get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cmd::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
