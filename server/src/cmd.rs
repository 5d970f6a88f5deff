//! Command implementations: thin adapters from the CLI to `hcpki_ca`. Each command's module declares its own
//! arguments (`cli.rs` lists them as `Command` and `cli::run` dispatches down to them); what every command shares
//! (the audit actor, opening the database and the authority) lives in the leaf `context`, the options and value
//! parsers in `crate::args`.

pub mod audit;
pub mod backup;
#[cfg(feature = "bench")]
pub mod bench;
pub mod ca;
pub mod cert;
pub mod compliance;
pub mod console_grant;
mod context;
pub mod cps;
pub mod demo;
pub mod enroll;
pub mod facility;
mod facility_import;
pub mod halt;
pub mod init;
pub mod issue;
pub mod job;
pub mod lint;
pub mod login;
pub mod network;
pub mod oidc;
pub mod operator;
pub mod portal;
pub mod psk;
pub mod ra;
pub mod revocation;
pub mod router;
pub mod scim;
pub mod serve;
pub mod service;
pub mod signature;
pub mod tsa;
pub mod vetting;

pub use context::actor;
pub(crate) use context::{open, open_loaded, open_store, with_store};
