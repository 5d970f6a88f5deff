//! A certificate serial as the store records it and every output shows it: lower-case hex text.

use std::fmt;
use std::str::FromStr;
use x509_cert::serial_number::SerialNumber;

/// A recorded serial: non-empty lower-case hex (`0-9a-f`), held exactly as the `serial` columns store it.
///
/// Serials hcpki issues are the hex of the INTEGER's content octets (even length, [`SerialHex::of`]); user input
/// is normalised to that form ([`SerialHex::parse_input`]). Odd-length text is still a valid stored serial: the
/// columns are text, the store accepts any hex a caller records (its tests record `e2b`), and refusing it on read
/// would turn such a row into an error — so the invariant is "hex digits", not "whole octets", and turning the
/// text into octets ([`SerialHex::to_bytes`]) is where an odd length is refused, as `hex::decode` refused it.
///
/// `Ord` is the text's byte order, so Rust sorts serials as `ORDER BY serial` does on both databases.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SerialHex(String);

/// A text that is no stored serial (empty, or not lower-case hex).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a serial number {0:?}: expected lower-case hexadecimal digits")]
pub struct InvalidSerial(pub String);

impl SerialHex {
    /// The serial stored as exactly this text: no trimming, no case folding (stored rows hold the canonical form).
    pub fn from_stored(text: &str) -> Result<Self, InvalidSerial> {
        if !text.is_empty() && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidSerial(text.to_owned()))
        }
    }

    /// The stored form of an X.509 serial: lower-case hex of the INTEGER's content octets.
    pub fn of(number: &SerialNumber) -> Option<Self> {
        Self::from_octets(number.as_bytes())
    }

    /// The stored form of an INTEGER's big-endian content octets (an OCSP CertID's, a CRL entry's); `None` for
    /// no octets, which no INTEGER has.
    pub fn from_octets(octets: &[u8]) -> Option<Self> {
        (!octets.is_empty()).then(|| Self(hex::encode(octets)))
    }

    /// A serial a person or a peer typed (`0A:1B…`, `0a1b…`, `0x0A1B`), normalised to the stored form: colons
    /// and a `0x` prefix dropped, lower case, an odd length padded with a leading `0`. `None` if it is no hex.
    pub fn parse_input(input: &str) -> Option<Self> {
        let s: String = input.trim().trim_start_matches("0x").chars().filter(|c| *c != ':').collect();
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let s = s.to_ascii_lowercase();
        Some(Self(if s.len() % 2 == 1 { format!("0{s}") } else { s }))
    }

    /// A drawn serial's hex (`hex::encode` of its 16 octets, so non-empty lower-case hex).
    pub(crate) fn from_drawn(hex: String) -> Self {
        Self(hex)
    }

    /// The stored text, byte for byte.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored text, owned.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The INTEGER's big-endian content octets (what a CRL entry or an OCSP CertID carries); `None` for an
    /// odd-length text, which names no whole octets.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        hex::decode(&self.0).ok()
    }
}

/// Debug-formatted as the text (`"0a1b"`), as the `String` it replaces was, so logs and messages stay the same.
impl fmt::Debug for SerialHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for SerialHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Maps keyed by serial are looked up by its stored text (`Hash`, `Eq` and `Ord` are the text's).
impl std::borrow::Borrow<str> for SerialHex {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SerialHex {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for SerialHex {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for SerialHex {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// The stored text form, exactly ([`SerialHex::from_stored`]).
impl FromStr for SerialHex {
    type Err = InvalidSerial;
    fn from_str(s: &str) -> Result<Self, InvalidSerial> {
        Self::from_stored(s)
    }
}

impl From<SerialHex> for String {
    fn from(serial: SerialHex) -> Self {
        serial.0
    }
}

/// Serialised as its stored text, so JSON output keeps the text the database holds.
impl serde::Serialize for SerialHex {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Read as its stored text, refused unless it is one.
impl<'de> serde::Deserialize<'de> for SerialHex {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_stored(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_texts_round_trip_byte_for_byte() {
        for text in ["0a", "01ab", "7f", "e2b", "00", "0123456789abcdef0123456789abcdef01234567"] {
            let serial = SerialHex::from_stored(text).unwrap();
            assert_eq!(serial.as_str(), text);
            assert_eq!(serial.to_string(), text);
            assert_eq!(text.parse::<SerialHex>().unwrap(), serial);
            assert_eq!(serde_json::to_string(&serial).unwrap(), format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<SerialHex>(&format!("\"{text}\"")).unwrap(), serial);
            assert_eq!(serial.clone().into_string(), text);
            assert_eq!(format!("{serial:?}"), format!("{text:?}"));
        }
    }

    #[test]
    fn other_texts_are_refused() {
        for text in ["", "nope", "0A", "0x0a", "0a:1b", " 0a", "0a\n", "ｆ", "-1", "g0"] {
            assert_eq!(SerialHex::from_stored(text), Err(InvalidSerial(text.to_owned())), "{text:?}");
            assert!(serde_json::from_str::<SerialHex>(&serde_json::to_string(text).unwrap()).is_err());
        }
    }

    #[test]
    fn ordering_is_the_texts_ordering() {
        let texts = ["e2b", "0a", "ff", "e2", "10", "0a02", "e3", "7f", "80", "e1"];
        let mut as_text = texts.to_vec();
        as_text.sort();
        let mut typed: Vec<SerialHex> = texts.iter().map(|t| SerialHex::from_stored(t).unwrap()).collect();
        typed.sort();
        assert_eq!(typed.iter().map(SerialHex::as_str).collect::<Vec<_>>(), as_text);
        for a in &texts {
            for b in &texts {
                let (x, y) = (SerialHex::from_stored(a).unwrap(), SerialHex::from_stored(b).unwrap());
                assert_eq!(x.cmp(&y), a.cmp(b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn octets_and_input_forms() {
        let number = SerialNumber::new(&[0x01, 0xab]).unwrap();
        let serial = SerialHex::of(&number).unwrap();
        assert_eq!(serial.as_str(), "01ab");
        assert_eq!(serial.to_bytes().as_deref(), Some(&[0x01, 0xab][..]));
        assert_eq!(SerialHex::from_stored("e2b").unwrap().to_bytes(), None);
        assert_eq!(SerialHex::from_octets(&[]), None);
        assert_eq!(SerialHex::parse_input("0A:1B").unwrap().as_str(), "0a1b");
        assert_eq!(SerialHex::parse_input(" 0xABC ").unwrap().as_str(), "0abc");
        assert_eq!(SerialHex::parse_input("xyz"), None);
        assert_eq!(SerialHex::parse_input(""), None);
    }
}
