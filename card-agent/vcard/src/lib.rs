//! Virtual HPKI and JPKI smart cards (issue #3), APDU by APDU, for tests and demos without a physical card.
//!
//! Layers: `apdu` (the card's view of C-/R-APDUs) → `fs`, `pin`, `key` (file system, retry counters, RSA)
//! → `jpki`, `hpki` (one emulated card each, an
//! `applet::Applet`) → `card` (the `Emulated` table of applets (power, reset, transcript, counters). `testpki`
//! issues certificates shaped like the real profiles; `identity` keeps one card's keys, certificates and
//! PINs in a directory. `vpcd` puts a card into a virtual reader of pcscd (vsmartcard's vpcd).
#![forbid(unsafe_code)]

pub mod apdu;
pub mod applet;
pub mod card;
pub mod fs;
pub mod hpki;
pub mod identity;
pub mod jpki;
pub mod key;
pub mod pin;
pub mod testpki;
pub mod vpcd;

#[cfg(test)]
mod test_support;
