//! GeneralName with an otherName whose type-id may use large arcs.
//!
//! ```text
//! -- RFC 5280 §4.2.1.6 (module with IMPLICIT TAGS)
//! GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
//! GeneralName ::= CHOICE {
//!      otherName                 [0]  OtherName,
//!      rfc822Name                [1]  IA5String,
//!      dNSName                   [2]  IA5String,
//!      directoryName             [4]  Name,
//!      uniformResourceIdentifier [6]  IA5String,
//!      iPAddress                 [7]  OCTET STRING,
//!      registeredID              [8]  OBJECT IDENTIFIER }
//! OtherName ::= SEQUENCE {
//!      type-id    OBJECT IDENTIFIER,
//!      value      [0] EXPLICIT ANY DEFINED BY type-id }
//! ```
//! x400Address [3] and ediPartyName [5] are not modelled: hcpki never issues
//! them and decoding them is an error.

use super::RawOid;
use der::asn1::{Ia5String, OctetString};
use der::{Any, Choice, Sequence};
use std::net::IpAddr;
use x509_cert::name::Name;

/// `GeneralNames`, the value of subjectAltName.
pub type GeneralNames = Vec<GeneralName>;

/// RFC 5280 `OtherName`, with a type-id of any arc size.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OtherName {
    /// `type-id`.
    pub type_id: RawOid,
    /// `value [0] EXPLICIT ANY`.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub value: Any,
}

/// RFC 5280 `GeneralName` (the forms hcpki reads and writes).
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
#[allow(missing_docs)]
pub enum GeneralName {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true")]
    OtherName(OtherName),
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT")]
    Rfc822Name(Ia5String),
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
    DnsName(Ia5String),
    #[asn1(context_specific = "4", tag_mode = "EXPLICIT", constructed = "true")]
    DirectoryName(Name),
    #[asn1(context_specific = "6", tag_mode = "IMPLICIT")]
    UniformResourceIdentifier(Ia5String),
    #[asn1(context_specific = "7", tag_mode = "IMPLICIT")]
    IpAddress(OctetString),
    #[asn1(context_specific = "8", tag_mode = "IMPLICIT")]
    RegisteredId(RawOid),
}

impl GeneralName {
    /// An iPAddress name: 4 octets for IPv4, 16 for IPv6 (RFC 5280 §4.2.1.6).
    pub fn ip(ip: IpAddr) -> der::Result<Self> {
        let octets = match ip {
            IpAddr::V4(v) => v.octets().to_vec(),
            IpAddr::V6(v) => v.octets().to_vec(),
        };
        Ok(Self::IpAddress(OctetString::new(octets)?))
    }

    /// An otherName whose value is a UTF8String.
    pub fn other_utf8(type_id: RawOid, value: &str) -> der::Result<Self> {
        let value = Any::encode_from(&der::asn1::Utf8StringRef::new(value)?)?;
        Ok(Self::OtherName(OtherName { type_id, value }))
    }

    /// The iPAddress as an [`IpAddr`], when this is a well-formed iPAddress.
    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Self::IpAddress(o) => match o.as_bytes().len() {
                4 => <[u8; 4]>::try_from(o.as_bytes()).ok().map(IpAddr::from),
                16 => <[u8; 16]>::try_from(o.as_bytes()).ok().map(IpAddr::from),
                _ => None,
            },
            _ => None,
        }
    }

    /// The UTF8String value of an otherName of the given type.
    pub fn other_utf8_value(&self, type_id: &RawOid) -> Option<String> {
        match self {
            Self::OtherName(o) if &o.type_id == type_id => {
                o.value.decode_as::<der::asn1::Utf8StringRef<'_>>().ok().map(|s| s.as_str().to_owned())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    #[test]
    fn other_name_with_uuid_arc_round_trips() {
        let names: GeneralNames = vec![
            GeneralName::other_utf8(RawOid::project(&[9, 1]), "HF00000017K").unwrap(),
            GeneralName::DnsName(Ia5String::new("hf00000017k.example").unwrap()),
            GeneralName::ip("2001:db8::1".parse().unwrap()).unwrap(),
        ];
        let der = names.to_der().unwrap();
        let back = GeneralNames::from_der(&der).unwrap();
        assert_eq!(back, names);
        assert_eq!(back[0].other_utf8_value(&RawOid::project(&[9, 1])).as_deref(), Some("HF00000017K"));
        assert_eq!(back[2].as_ip(), Some("2001:db8::1".parse().unwrap()));
    }
}
