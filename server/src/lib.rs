//! The hcpki server and admin CLI as a library. `src/main.rs` is the `hcpki` binary: the process's allocator and
//! a call to [`main`]. Every module is private: [`main`] is the whole public interface, and with the feature
//! `fuzzing` the module `fuzzing`, through which the fuzz targets (`fuzz/`) reach the parsers of outside input.
#![forbid(unsafe_code)]

mod app;
mod args;
mod atna;
mod audit_chain;
mod backup;
mod cli;
mod cmd;
mod compliance;
mod config;
mod console;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod http;
mod jobs;
mod memory;
mod monitor;
mod outbound;
mod output;
mod panics;
mod portal;
mod server_cert;
mod syslog;
mod systemd;
mod tls_key;
mod typed_input;
mod web;

use clap::Parser;
use std::process::ExitCode;

/// `hcpki`: parse the command line, set up logging (`HCPKI_LOG`), run the command on a Tokio runtime.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Servers (and the demo that becomes one) log one line per request by default; one-shot commands only
    // warnings.
    let serving = match &cli.command {
        cli::Command::Serve(_) => true,
        cli::Command::Demo(demo) => demo.serving.serve,
        _ => false,
    };
    let default_filter = if serving { "info" } else { "warn" };
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
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
