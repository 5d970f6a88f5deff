//! SCEP requests held for an operator: a PKCSReq without a challenge password whose CSR names its facility
//! (subject serialNumber) is stored until `hcpki enroll pending approve ID` issues it or `reject ID` refuses
//! it; the client's CertPoll (or re-sent PKCSReq) finds the decision by transaction ID.

// The record is the store's (plain data it reads and writes); named here too.
pub use crate::store::{HeldRequest, HeldState};
