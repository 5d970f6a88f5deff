//! Certificate serial numbers: 128 bits from the OS CSPRNG, positive.
//!
//! RFC 5280 §4.1.2.2 allows at most 20 octets; CA/B Forum asks for at least
//! 64 bits of CSPRNG output. hcpki draws 16 octets and clears the top bit, so
//! the INTEGER is positive and encodes in at most 16 octets (127 random bits).
//! Uniqueness is enforced by the database, not assumed.

use crate::serial_hex::SerialHex;
use x509_cert::serial_number::SerialNumber;

/// A freshly drawn serial, with its hex form as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Serial {
    number: SerialNumber,
    hex: String,
}

/// The OS random source failed.
#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RandomError;

impl Serial {
    /// Draw a new random serial.
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|_| RandomError)?;
        if let Some(first) = bytes.first_mut() {
            *first &= 0x7f;
            // Keep the length fixed (and ≥ 64 bits of entropy visible) by never starting with 0x00.
            if *first == 0 {
                *first = 0x01;
            }
        }
        let number = SerialNumber::new(&bytes).map_err(|_| RandomError)?;
        Ok(Self { hex: hex::encode(bytes), number })
    }

    /// The X.509 value.
    pub fn number(&self) -> &SerialNumber {
        &self.number
    }

    /// Lowercase hex of the INTEGER content octets, as stored and shown.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The stored form.
    pub fn stored(&self) -> SerialHex {
        SerialHex::from(self)
    }
}

impl From<&Serial> for SerialHex {
    fn from(serial: &Serial) -> Self {
        SerialHex::from_drawn(serial.hex.clone())
    }
}

/// The stored hex form of any serial (lowercase, content octets): [`SerialHex::of`]'s text.
pub fn to_hex(serial: &SerialNumber) -> String {
    hex::encode(serial.as_bytes())
}

/// Normalise user input (`0A:1B…`, `0a1b…`, `0x0A1B`) to the stored form: [`SerialHex::parse_input`]'s text.
pub fn normalise(input: &str) -> Option<String> {
    SerialHex::parse_input(input).map(SerialHex::into_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_positive_sixteen_octets_and_distinct() {
        let a = Serial::generate().unwrap();
        let b = Serial::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.number().as_bytes().len(), 16);
        assert!(a.number().as_bytes()[0] < 0x80);
        assert_eq!(to_hex(a.number()), a.hex());
        assert_eq!(normalise("0A:1B").as_deref(), Some("0a1b"));
        assert_eq!(normalise("xyz"), None);
        assert_eq!(Some(SerialHex::from(&a)), SerialHex::of(a.number()));
        assert_eq!(a.stored().as_str(), a.hex());
    }
}
