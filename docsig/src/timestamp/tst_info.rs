//! `TSTInfo`: what the token says (RFC 3161 §2.4.2).

use super::imprint::MessageImprint;
use const_oid::ObjectIdentifier;
use der::asn1::{GeneralizedTime, Int};
use der::{DecodeValue, EncodeValue, FixedTag, Header, Length, Reader, Sequence, Tag, Writer};
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

/// RFC 3161 §2.4.2:
///
/// ```text
/// TSTInfo ::= SEQUENCE  {
///    version                      INTEGER  { v1(1) },
///    policy                       TSAPolicyId,
///    messageImprint               MessageImprint,
///    serialNumber                 INTEGER,
///    genTime                      GeneralizedTime,
///    accuracy                     Accuracy                 OPTIONAL,
///    ordering                     BOOLEAN             DEFAULT FALSE,
///    nonce                        INTEGER                  OPTIONAL,
///    tsa                          [0] GeneralName          OPTIONAL,
///    extensions                   [1] IMPLICIT Extensions   OPTIONAL  }
/// ```
///
/// This TSA never writes `extensions`; another TSA's are read (and none is understood, so a critical one makes
/// the client refuse the token).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TstInfo {
    /// 1.
    pub version: u8,
    /// The TSA's policy.
    pub policy: ObjectIdentifier,
    /// The request's imprint, as received.
    pub message_imprint: MessageImprint,
    /// Unique per token.
    pub serial_number: SerialNumber,
    /// The time: written to the second, read with any fraction.
    pub gen_time: GenTime,
    /// How far genTime may lie from UTC.
    #[asn1(optional = "true")]
    pub accuracy: Option<Accuracy>,
    /// Always false: tokens are not ordered by genTime beyond its accuracy.
    #[asn1(default = "Default::default")]
    pub ordering: bool,
    /// The request's nonce.
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    /// The TSA's name (its certificate's subject).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<GeneralName>,
    /// Extensions (none written).
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}

/// genTime, RFC 3161 §2.4.2: a `GeneralizedTime` "YYYYMMDDhhmmss[.s...]Z". This TSA writes it to the second (its
/// accuracy covers the truncation, D66); tokens of other TSAs are read with any fraction of a second, which is
/// dropped: many TSAs stamp to the millisecond, and der's `GeneralizedTime` refuses fractions (RFC 5280's
/// profile, not RFC 3161's). The fraction must still be DER (X.690 §11.7: no trailing zero, no empty fraction).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct GenTime(pub GeneralizedTime);

impl GenTime {
    /// Unix seconds (a fraction dropped).
    pub fn unix(&self) -> i64 {
        i64::try_from(self.0.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
    }
}

impl FixedTag for GenTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

impl<'a> DecodeValue<'a> for GenTime {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let text = reader.read_vec(header.length())?;
        let (seconds, rest) = text.split_at_checked(14).ok_or_else(|| reader.error(Self::TAG.value_error()))?;
        let fraction_is_der = match rest {
            [b'Z'] => true,
            [b'.', digits @ .., b'Z'] => {
                digits.iter().all(u8::is_ascii_digit) && digits.last().is_some_and(|last| *last != b'0')
            }
            _ => false,
        };
        if !fraction_is_der {
            return Err(reader.error(Self::TAG.value_error()));
        }
        let whole = [&[0x18, 15][..], seconds, b"Z"].concat();
        der::Decode::from_der(&whole).map(Self)
    }
}

impl EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<Length> {
        self.0.value_len()
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.0.encode_value(writer)
    }
}

/// RFC 3161 §2.4.2:
///
/// ```text
/// Accuracy ::= SEQUENCE {
///          seconds        INTEGER              OPTIONAL,
///          millis     [0] INTEGER  (1..999)    OPTIONAL,
///          micros     [1] INTEGER  (1..999)    OPTIONAL  }
/// ```
#[derive(Clone, Copy, Debug, Eq, PartialEq, Sequence)]
pub struct Accuracy {
    /// Whole seconds.
    #[asn1(optional = "true")]
    pub seconds: Option<u32>,
    /// Milliseconds, 1–999.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<u16>,
    /// Microseconds, 1–999.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<u16>,
}
