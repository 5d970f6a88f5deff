//! OBJECT IDENTIFIER kept as its BER content octets.
//!
//! ```text
//! OBJECT IDENTIFIER ::= [UNIVERSAL 6] IMPLICIT <arcs, base-128>
//! ```
//! `const-oid` limits every arc to 32 bits, but the registration-free UUID arc
//! (`2.25.<128-bit>`, X.667) needs 128. This type validates the base-128
//! encoding and renders dotted decimal with `u128` arcs.

use der::{DecodeValue, EncodeValue, FixedTag, Header, Length, Reader, Tag, Writer};
use std::fmt;

/// An OBJECT IDENTIFIER of any arc size.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RawOid {
    ber: Vec<u8>,
}

/// Why an OID could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum OidError {
    /// The dotted form is empty, has an empty or non-numeric arc, or an arc beyond 128 bits.
    #[error("invalid dotted OID {0:?}: use arcs of decimal digits such as 2.25.1")]
    Dotted(String),
    /// The BER content is empty, not minimal, or truncated.
    #[error("invalid OBJECT IDENTIFIER encoding")]
    Encoding,
}

impl RawOid {
    /// Parse dotted decimal, e.g. `"2.25.1234"`.
    pub fn from_dotted(s: &str) -> Result<Self, OidError> {
        let bad = || OidError::Dotted(s.to_owned());
        let arcs: Vec<u128> = s
            .split('.')
            .map(|a| {
                if a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                a.parse::<u128>().map_err(|_| bad())
            })
            .collect::<Result<_, _>>()?;
        let (first, second, rest) = match arcs.as_slice() {
            [f, s, rest @ ..] if *f <= 2 && (*f == 2 || *s < 40) => (*f, *s, rest),
            _ => return Err(bad()),
        };
        let mut ber = Vec::new();
        push_base128(&mut ber, first.checked_mul(40).and_then(|v| v.checked_add(second)).ok_or_else(bad)?);
        for arc in rest {
            push_base128(&mut ber, *arc);
        }
        Ok(Self { ber })
    }

    /// An OID under the hcpki project arc ([`crate::oid::PROJECT_ARC`]).
    pub fn project(sub_arcs: &[u32]) -> Self {
        let mut ber = project_arc_ber();
        for arc in sub_arcs {
            push_base128(&mut ber, u128::from(*arc));
        }
        Self { ber }
    }

    /// Wrap BER content octets after checking them.
    pub fn from_ber(ber: &[u8]) -> Result<Self, OidError> {
        decode_arcs(ber)?;
        Ok(Self { ber: ber.to_vec() })
    }

    /// The BER content octets (no tag, no length).
    pub fn as_ber(&self) -> &[u8] {
        &self.ber
    }

    /// Dotted decimal form.
    pub fn to_dotted(&self) -> String {
        // `ber` is validated on construction, so decoding cannot fail here;
        // an empty string would only show a bug, never panic.
        decode_arcs(&self.ber)
            .map(|arcs| arcs.iter().map(u128::to_string).collect::<Vec<_>>().join("."))
            .unwrap_or_default()
    }

    /// The arcs (the first two split out of the first subidentifier).
    pub fn arcs(&self) -> Vec<u128> {
        decode_arcs(&self.ber).unwrap_or_default()
    }

    /// Whether this is the same OID as a `const-oid` one.
    pub fn matches(&self, oid: &const_oid::ObjectIdentifier) -> bool {
        self.ber == oid.as_bytes()
    }
}

impl fmt::Display for RawOid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_dotted())
    }
}

impl From<const_oid::ObjectIdentifier> for RawOid {
    fn from(oid: const_oid::ObjectIdentifier) -> Self {
        Self { ber: oid.as_bytes().to_vec() }
    }
}

impl FixedTag for RawOid {
    const TAG: Tag = Tag::ObjectIdentifier;
}

impl<'a> DecodeValue<'a> for RawOid {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let bytes = reader.read_vec(header.length())?;
        decode_arcs(&bytes).map_err(|_| der::Error::from(der::ErrorKind::Value { tag: Tag::ObjectIdentifier }))?;
        Ok(Self { ber: bytes })
    }
}

impl EncodeValue for RawOid {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.ber.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.ber)
    }
}

fn project_arc_ber() -> Vec<u8> {
    // 2.25 → first octet 2*40+25 = 105; then the UUID integer in base 128.
    let mut ber = vec![105u8];
    push_base128(&mut ber, 296_845_971_460_444_788_217_480_318_847_902_238_939u128);
    ber
}

fn push_base128(out: &mut Vec<u8>, mut value: u128) {
    let mut tmp = [0u8; 19];
    let mut n = 0usize;
    loop {
        if let Some(slot) = tmp.get_mut(n) {
            *slot = (value & 0x7f) as u8;
        }
        n += 1;
        value >>= 7;
        if value == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        let b = tmp.get(i).copied().unwrap_or(0);
        out.push(if i == 0 { b } else { b | 0x80 });
    }
}

fn decode_arcs(ber: &[u8]) -> Result<Vec<u128>, OidError> {
    let mut arcs = Vec::new();
    let mut value: u128 = 0;
    let mut in_arc = false;
    for &b in ber {
        if !in_arc && b == 0x80 {
            return Err(OidError::Encoding); // non-minimal leading 0x80
        }
        if value.leading_zeros() < 7 {
            return Err(OidError::Encoding);
        }
        value = (value << 7) | u128::from(b & 0x7f);
        in_arc = b & 0x80 != 0;
        if !in_arc {
            if arcs.is_empty() {
                let (first, second) = match value {
                    0..=39 => (0, value),
                    40..=79 => (1, value - 40),
                    _ => (2, value - 80),
                };
                arcs.push(first);
                arcs.push(second);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    if in_arc || arcs.is_empty() {
        return Err(OidError::Encoding);
    }
    Ok(arcs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    #[test]
    fn project_arc_round_trips_through_dotted_and_der() {
        let oid = RawOid::project(&[1, 1]);
        assert_eq!(oid.to_dotted(), format!("{}.1.1", crate::oid::PROJECT_ARC));
        assert_eq!(RawOid::from_dotted(&oid.to_dotted()), Ok(oid.clone()));
        let der = oid.to_der().unwrap();
        assert_eq!(RawOid::from_der(&der).unwrap(), oid);
    }

    #[test]
    fn agrees_with_const_oid_on_small_arcs() {
        let c = const_oid::db::rfc5280::ID_KP_CLIENT_AUTH;
        let r = RawOid::from_dotted(&c.to_string()).unwrap();
        assert!(r.matches(&c));
    }

    #[test]
    fn rejects_bad_forms() {
        for s in ["", "1", "3.1", "1.40", "1..2", "1.2.x", "1.2.-3"] {
            assert!(RawOid::from_dotted(s).is_err(), "{s}");
        }
        assert!(RawOid::from_ber(&[]).is_err());
        assert!(RawOid::from_ber(&[0x2a, 0x80, 0x01]).is_err());
        assert!(RawOid::from_ber(&[0x2a, 0x86]).is_err());
    }
}
