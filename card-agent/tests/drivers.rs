//! Card driver tests, without a reader:
//!
//! * `transcripts`: the drivers against APDU transcripts written from the reference notes
//!   (`transcripts/make-transcripts`), so the exact command sequences are checked against the documented
//!   card behaviour.
//! * `vcard`: the drivers against `hcpki-vcard`'s emulated JPKI and HPKI cards (both layouts), in-process.
//! * `faults`: what cards and links do wrong — short, garbage or lying responses, missing files, removal
//!   mid-operation — ends as a typed error, never a panic.

#[cfg(test)] // Lets the helpers unwrap and index like the tests (clippy.toml allows it in test code only).
mod drivers {
    pub mod common;
    mod faults;
    mod transcripts;
    mod vcard;
}
