//! Certificate serial numbers: defined in `hcpki-model`, re-exported at their old path.

pub use hcpki_model::serial::{RandomError, Serial, normalise, to_hex};
pub use hcpki_model::{InvalidSerial, SerialHex};
