//! The format and baseline level of a document signature, as the agent's API (`POST /documents`), its command
//! line (`sign --format --level`) and the portal's signing requests name them: defined in `hcpki-model` (the
//! lowest floor, shared with the signature formats and the server; D121) and re-exported here beside the other
//! values the agent and the portal agree on.

pub use hcpki_model::signature::{Format, Level, UnknownFormat, UnknownLevel};
