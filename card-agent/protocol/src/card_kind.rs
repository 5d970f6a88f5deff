//! Which kind of card: defined in `hcpki-model` (the lowest floor, shared with the CA and the server) and
//! re-exported here, so the agent's protocol keeps its path.

pub use hcpki_model::card_kind::{CardKind, UnknownCardKind};
