//! The options every command takes: read by the commands without reaching up into the command list.

use clap::Args;
use std::path::PathBuf;

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The hcpki directory (configuration, SQLite database, software keys).
    #[arg(long, global = true, env = "HCPKI_DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Database URL, overriding the configuration: sqlite:PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, global = true, env = "HCPKI_DATABASE_URL")]
    pub database_url: Option<String>,
}
