//! The portal's person key (D34): who a session, a console grant and an audit entry are about, across logins.
//! Parsed once from text into [`PersonKey`]; stored and shown as its [`Display`](std::fmt::Display) form.
//!
//! ```text
//! pwd:<account name>                          password + TOTP account
//! hpki:<anchor>:<issuer O>:<subject serialNumber>   HPKI card holder (the issuer's registration number)
//! hpki-cert:<anchor>:<SHA-256 hex>            HPKI card without those attributes (one certificate)
//! jpki:<anchor>:<SHA-256 hex>                 JPKI certificate (issuer DN ‖ serial)
//! ```
//!
//! `<anchor>` is [`AnchorId`]: the trust anchor the card's chain was validated to (issue #24, item 10). Before,
//! two configured anchors whose CAs share an organisation name gave their cards one key, and a console grant
//! for one person admitted the other. Text fields are percent-encoded ([`escape`]: `%`, `:` and control
//! characters), so no two field lists share a key. Keys of the earlier form (no anchor) are
//! [`PersonKey::is_legacy_card_key`]: migration 0021 lists them, and each is linked to the anchor-bound key
//! of the first login that produces it (its console grant moves over, its relying parties keep their `sub`).

use sha2::{Digest, Sha256};
use std::fmt;

/// Bytes of the anchor's SPKI hash kept: 128 bits, far beyond any number of configured anchors.
const ANCHOR_ID_BYTES: usize = 16;

/// The identity of a trust anchor in a person key: the first 16 bytes of SHA-256 over its
/// SubjectPublicKeyInfo (DER), as 32 lower-case hex digits. The key, not the name: two anchors with one name
/// are two anchors; the same anchor re-issued with its key is the same.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AnchorId(String);

impl AnchorId {
    /// The id of the anchor whose SubjectPublicKeyInfo is `spki_der`.
    pub fn of_spki(spki_der: &[u8]) -> Self {
        let digest = Sha256::digest(spki_der);
        Self(hex::encode(digest.get(..ANCHOR_ID_BYTES).unwrap_or_default()))
    }

    fn parse(text: &str) -> Option<Self> {
        (text.len() == 2 * ANCHOR_ID_BYTES && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(text.to_owned()))
    }
}

impl fmt::Display for AnchorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person key, typed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PersonKey {
    /// A password + TOTP account.
    Password {
        /// The account name.
        name: String,
    },
    /// An HPKI card holder: the issuing organisation's registration number, under one anchor.
    Hpki {
        /// The anchor the card chains to.
        anchor: AnchorId,
        /// The card certificate's issuer O.
        org: String,
        /// The card certificate's subject serialNumber.
        registration: String,
    },
    /// An HPKI card without issuer O or subject serialNumber: one certificate.
    HpkiCertificate {
        /// The anchor the card chains to.
        anchor: AnchorId,
        /// SHA-256 hex of the certificate's issuer DN ‖ serial.
        digest: String,
    },
    /// A JPKI authentication certificate.
    Jpki {
        /// The anchor the card chains to.
        anchor: AnchorId,
        /// SHA-256 hex of the certificate's issuer DN ‖ serial.
        digest: String,
    },
}

impl PersonKey {
    /// Parse a key as stored or typed (surrounding space trimmed).
    pub fn parse(text: &str) -> Result<Self, PersonKeyError> {
        let text = text.trim();
        let bad = || PersonKeyError::Malformed(text.chars().take(300).collect());
        if text.is_empty() || text.chars().count() > 300 || text.chars().any(char::is_control) {
            return Err(bad());
        }
        if Self::is_legacy_card_key(text) {
            return Err(PersonKeyError::Legacy(text.to_owned()));
        }
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        let fields: Vec<&str> = rest.split(':').collect();
        let anchor = || fields.first().and_then(|a| AnchorId::parse(a)).ok_or_else(bad);
        let digest = |i: usize| {
            fields.get(i).filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit())).map(|d| d.to_string())
        };
        match (kind, fields.len()) {
            ("pwd", _) if !rest.is_empty() => Ok(Self::Password { name: rest.to_owned() }),
            ("hpki", 3) => {
                let org = fields.get(1).and_then(|f| unescape(f)).filter(|f| !f.is_empty()).ok_or_else(bad)?;
                let registration = fields.get(2).and_then(|f| unescape(f)).filter(|f| !f.is_empty()).ok_or_else(bad)?;
                Ok(Self::Hpki { anchor: anchor()?, org, registration })
            }
            ("hpki-cert", 2) => Ok(Self::HpkiCertificate { anchor: anchor()?, digest: digest(1).ok_or_else(bad)? }),
            ("jpki", 2) => Ok(Self::Jpki { anchor: anchor()?, digest: digest(1).ok_or_else(bad)? }),
            _ => Err(bad()),
        }
    }

    /// Whether `text` is a card key of the form before trust-anchor binding (migration 0021):
    /// `hpki:<O>:<serialNumber>` without an anchor, `hpki-cert:<hex>`, `jpki:<hex>`.
    pub fn is_legacy_card_key(text: &str) -> bool {
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if let Some(rest) = text.strip_prefix("hpki-cert:").or_else(|| text.strip_prefix("jpki:")) {
            return hex64(rest);
        }
        // An anchor-bound HPKI key has an anchor id first and exactly three escaped fields; the old form had the
        // raw O (which could hold ':') first.
        text.strip_prefix("hpki:").is_some_and(|rest| {
            let fields: Vec<&str> = rest.split(':').collect();
            !(fields.len() == 3 && fields.first().is_some_and(|a| AnchorId::parse(a).is_some()))
        })
    }
}

impl fmt::Display for PersonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password { name } => write!(f, "pwd:{name}"),
            Self::Hpki { anchor, org, registration } => {
                write!(f, "hpki:{anchor}:{}:{}", escape(org), escape(registration))
            }
            Self::HpkiCertificate { anchor, digest } => write!(f, "hpki-cert:{anchor}:{digest}"),
            Self::Jpki { anchor, digest } => write!(f, "jpki:{anchor}:{digest}"),
        }
    }
}

/// Why text is not a person key; the message says what to use instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PersonKeyError {
    /// Not of any key form.
    #[error("{0:?} is not a person key: copy it from the console's user search or the audit log (login.card)")]
    Malformed(String),
    /// A card key without its trust anchor (from before migration 0021): no login produces it any more.
    #[error(
        "{0:?} is a card person key from before trust-anchor binding (migration 0021): have the person sign in \
         once, then copy the new key (hpki:<anchor>:…) from the console's refusal page or the audit log (login.card)"
    )]
    Legacy(String),
}

/// Percent-encode `%`, `:` and control characters (as UTF-8 bytes): the field separator never appears inside
/// a field, and the text stays readable (Japanese names are kept as they are).
pub fn escape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    for c in field.chars() {
        if c == '%' || c == ':' || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The inverse of [`escape`]; None for a broken escape or one that is not UTF-8.
fn unescape(field: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(field.len());
    let mut rest = field.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = tail.get(..2)?;
            bytes.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            rest = tail.get(2..)?;
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor(seed: &[u8]) -> AnchorId {
        AnchorId::of_spki(seed)
    }

    #[test]
    fn keys_round_trip_and_bind_the_anchor() {
        let a = PersonKey::Hpki { anchor: anchor(b"A"), org: "HCPKI TEST".into(), registration: "Test000001".into() };
        let b = PersonKey::Hpki { anchor: anchor(b"B"), org: "HCPKI TEST".into(), registration: "Test000001".into() };
        assert_ne!(a.to_string(), b.to_string(), "two anchors, two keys");
        for key in [a, b, PersonKey::Password { name: "alice".into() }] {
            assert_eq!(PersonKey::parse(&key.to_string()), Ok(key.clone()));
        }
        let j = PersonKey::Jpki { anchor: anchor(b"J"), digest: "ab".repeat(32) };
        assert_eq!(PersonKey::parse(&format!(" {j} ")), Ok(j));
    }

    #[test]
    fn separators_inside_fields_are_escaped_so_no_two_field_lists_share_a_key() {
        let id = anchor(b"A");
        let one = PersonKey::Hpki { anchor: id.clone(), org: "A:B".into(), registration: "C".into() };
        let two = PersonKey::Hpki { anchor: id, org: "A".into(), registration: "B:C".into() };
        assert_ne!(one.to_string(), two.to_string());
        assert!(one.to_string().ends_with(":A%3AB:C"), "{one}");
        assert_eq!(PersonKey::parse(&one.to_string()), Ok(one));
        assert_eq!(escape("100%:試験"), "100%25%3A試験");
        assert_eq!(unescape("100%25%3A試験").as_deref(), Some("100%:試験"));
        assert_eq!(unescape("%4"), None);
    }

    #[test]
    fn legacy_card_keys_are_recognised_and_refused_with_what_to_do() {
        for old in ["hpki:HCPKI TEST:Test000001", "hpki:A:B:C:D", &format!("jpki:{}", "0".repeat(64))] {
            assert!(PersonKey::is_legacy_card_key(old), "{old}");
            let e = PersonKey::parse(old).unwrap_err();
            assert!(matches!(e, PersonKeyError::Legacy(_)) && e.to_string().contains("sign in once"), "{e}");
        }
        let new = PersonKey::Hpki { anchor: anchor(b"A"), org: "O".into(), registration: "R".into() };
        assert!(!PersonKey::is_legacy_card_key(&new.to_string()));
        assert!(matches!(PersonKey::parse("hpki:zz:O:R"), Err(PersonKeyError::Legacy(_))));
        assert!(matches!(PersonKey::parse("nope"), Err(PersonKeyError::Malformed(_))));
        assert!(matches!(PersonKey::parse("a\nb"), Err(PersonKeyError::Malformed(_))));
    }
}
