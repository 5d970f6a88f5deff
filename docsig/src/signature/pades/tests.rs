//! PAdES in-process: the reader on well-formed and hostile files, signing at every level around the test HPKI
//! card's signature key, and the checks refusing what was changed.

mod judged;
mod reader;
mod revisions;
pub(crate) mod sample;
pub(crate) mod signing;
