//! ATNA audit forwarding (issue #29 part 6, D97, D98): the hash-chained audit log sent to an IHE audit record
//! repository as DICOM PS3.15 Annex A.5 audit messages, over syslog on TLS (RFC 5425, ITI-20) with mutual TLS,
//! resumed after the last entry the repository confirmed.
//!
//! * [`event`]: which ATNA event an hcpki action is (a pure table, by action-name prefix).
//! * [`message`]: the audit message XML of one entry.
//! * [`transport`]: the TLS connection to the repository and its confirmation.
//! * [`forwarder`]: the background task of `hcpki serve`, the mark, the retries.
//! * [`counters`]: its figures in `/metrics`.

pub mod counters;
pub mod event;
pub mod forwarder;
pub mod message;
pub mod transport;

pub use counters::Counters;
