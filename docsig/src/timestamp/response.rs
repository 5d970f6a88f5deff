//! `TimeStampResp` and `PKIStatusInfo` (RFC 3161 §2.4.2).

use super::refusal::Refusal;
use cms::content_info::ContentInfo;
use der::Sequence;
use der::asn1::BitString;

/// RFC 3161 §2.4.2:
///
/// ```text
/// TimeStampResp ::= SEQUENCE  {
///      status                  PKIStatusInfo,
///      timeStampToken          TimeStampToken     OPTIONAL  }
/// TimeStampToken ::= ContentInfo
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampResp {
    /// Granted or rejected, and why.
    pub status: PkiStatusInfo,
    /// The token, when granted.
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<ContentInfo>,
}

/// RFC 3161 §2.4.2 (from RFC 2510):
///
/// ```text
/// PKIStatusInfo ::= SEQUENCE {
///     status        PKIStatus,
///     statusString  PKIFreeText     OPTIONAL,
///     failInfo      PKIFailureInfo  OPTIONAL  }
/// PKIStatus ::= INTEGER { granted (0), grantedWithMods (1), rejection (2), waiting (3), ... }
/// PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PkiStatusInfo {
    /// 0 granted, 2 rejection.
    pub status: u8,
    /// Why, in words (`Vec<String>` is DER's SEQUENCE OF UTF8String).
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    /// Why, as a bit.
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// PKIStatus granted.
pub const GRANTED: u8 = 0;
/// PKIStatus rejection.
pub const REJECTION: u8 = 2;

impl PkiStatusInfo {
    /// Granted, nothing more to say.
    pub fn granted() -> Self {
        Self { status: GRANTED, status_string: None, fail_info: None }
    }

    /// A rejection carrying the refusal's text and failure bit.
    pub fn rejection(refusal: &Refusal) -> der::Result<Self> {
        Ok(Self {
            status: REJECTION,
            status_string: Some(vec![refusal.to_string()]),
            fail_info: Some(fail_bits(refusal.fail_info().bit())?),
        })
    }
}

/// A named-bit BIT STRING with only bit `n` set, in DER (trailing zero bits dropped, X.690 §11.2.2).
fn fail_bits(n: u8) -> der::Result<BitString> {
    let len = usize::from(n / 8) + 1;
    let mut bytes = vec![0u8; len];
    if let Some(last) = bytes.last_mut() {
        *last = 0x80 >> (n % 8);
    }
    BitString::new(7 - n % 8, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_bits_are_der() {
        assert_eq!(der::Encode::to_der(&fail_bits(0).unwrap()).unwrap(), [0x03, 0x02, 0x07, 0x80]);
        assert_eq!(der::Encode::to_der(&fail_bits(2).unwrap()).unwrap(), [0x03, 0x02, 0x05, 0x20]);
        assert_eq!(der::Encode::to_der(&fail_bits(15).unwrap()).unwrap(), [0x03, 0x03, 0x00, 0x00, 0x01]);
        assert_eq!(der::Encode::to_der(&fail_bits(16).unwrap()).unwrap(), [0x03, 0x04, 0x07, 0x00, 0x00, 0x80]);
    }
}
