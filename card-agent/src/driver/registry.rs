//! The one list of card drivers. Detection probes them in this order; everything that depends on the kind
//! of card (labels, which operations it offers) looks its driver up here instead of matching on the kind.
//!
//! A new card type is a driver file beside this one and a row in [`DRIVERS`] (plus its virtual card in
//! `hcpki-vcard`, whose table mirrors this one): docs/architecture.md, "Card agent".

use super::{Driver, DriverError, PinCharset, PinLabels, Words, hpki, jpki};
use crate::service::{CardKind, KeyRole};
use crate::transport::Session;

/// Every driver, in probing order: the JPKI AP first (one APDU on a My Number card), then each HPKI
/// issuer's layout (they share AIDs, so each looks for its own files).
pub static DRIVERS: &[Driver] = &[&jpki::JPKI, &hpki::JMA, &hpki::JAHIS_EXAMPLE];

/// The driver of the card in the session, by probing each in turn. Ok(None): a card no driver serves.
pub fn probe(s: &mut Session<'_>) -> Result<Option<Driver>, DriverError> {
    for driver in DRIVERS {
        if driver.recognise(s)? {
            return Ok(Some(*driver));
        }
    }
    Ok(None)
}

/// The first driver serving `kind`: what the kind-wide answers (labels, operations offered) come from.
pub fn for_kind(kind: CardKind) -> Option<Driver> {
    DRIVERS.iter().copied().find(|d| d.kind() == kind)
}

/// The kind as the command line shows it (`HPKI`, `JPKI`).
pub fn display_name(kind: CardKind) -> &'static str {
    for_kind(kind).map_or_else(|| kind.as_str(), |d| d.display_name())
}

/// What the user is told a PIN of `role` on a card of `kind` is for.
pub fn pin_labels(kind: CardKind, role: KeyRole) -> PinLabels {
    // Every kind has a driver (a test below holds it); the fallback only keeps this total.
    let fallback = PinLabels {
        terminal: "card PIN",
        page: Words { ja: "PIN", en: "PIN" },
        charset: PinCharset::PrintableAscii,
        min_len: 1,
        max_len: 16,
    };
    for_kind(kind).map_or(fallback, |d| d.pin_labels(role))
}

/// The kind in words and whom to turn to when its PIN is blocked, as the PIN page says them.
pub fn card_labels(kind: CardKind) -> (Words, Words) {
    let unknown = Words { ja: "カード", en: "card" };
    let ask_issuer =
        Words { ja: "カードの発行元に連絡してください。", en: "Contact the card's issuer." };
    for_kind(kind).map_or((unknown, ask_issuer), |d| (d.labels().name, d.labels().unblock))
}

/// The kind of card that holds the holder's basic four items (the My Number card), if any driver has them.
pub fn basic_attributes_kind() -> Option<CardKind> {
    DRIVERS.iter().find(|d| d.has_basic_attributes()).map(|d| d.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_driver_and_names_are_unique() {
        for kind in CardKind::ALL {
            assert!(for_kind(kind).is_some(), "{kind} has no driver");
        }
        for (i, a) in DRIVERS.iter().enumerate() {
            for b in &DRIVERS[i + 1..] {
                assert_ne!(
                    a.name(),
                    b.name(),
                    "driver names must be unique: the broker's cache tells cards apart by them"
                );
            }
        }
    }

    #[test]
    fn labels_come_from_the_drivers() {
        assert_eq!(display_name(CardKind::Hpki), "HPKI");
        assert_eq!(display_name(CardKind::Jpki), "JPKI");
        assert_eq!(pin_labels(CardKind::Hpki, KeyRole::Sign).terminal, "HPKI card: signature PIN");
        assert_eq!(basic_attributes_kind(), Some(CardKind::Jpki));
    }
}
