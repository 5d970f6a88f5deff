//! Document signatures (issue #27): the formats hcpki produces and checks, with no HTTP and no private key.
//!
//! The signer is always outside: the physician's HPKI card signs, through the card agent, the exact bytes a
//! format's `prepare` step returns, and the format's `assemble` step wraps the signature value into the signed
//! document. So this core never holds a signature key, and the same code serves a card, a remote-signing service
//! or a test key. Time stamps come from a TSA the caller asks; the local clock is never a time stamp (MHLW
//! guideline Q&A Q-52).

pub mod cades;
pub mod file;
pub mod pades;
pub mod validation;
pub mod verdict;
pub mod xades;
