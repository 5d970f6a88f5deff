//! Subject DNs, built attribute by attribute (never parsed from strings, so
//! a facility name with a comma cannot inject an RDN).

use crate::profile::ProfileError;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519;
use der::Any;
use der::asn1::{PrintableStringRef, Utf8StringRef};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

/// Builds a DN from the most general RDN (C) to the most specific (CN).
#[derive(Debug, Default)]
pub struct DnBuilder {
    rdns: RdnSequence,
}

impl DnBuilder {
    /// `C=` (PrintableString, two letters).
    pub fn country(self, c: &str) -> Result<Self, ProfileError> {
        self.printable(rfc4519::C, c)
    }

    /// `O=`.
    pub fn organization(self, o: &str) -> Result<Self, ProfileError> {
        self.string(rfc4519::O, o)
    }

    /// `serialNumber=` (PrintableString): the facility identifier.
    pub fn serial_number(self, s: &str) -> Result<Self, ProfileError> {
        self.printable(rfc4519::SERIAL_NUMBER, s)
    }

    /// `CN=`.
    pub fn common_name(self, cn: &str) -> Result<Self, ProfileError> {
        self.string(rfc4519::CN, cn)
    }

    /// The finished name.
    pub fn build(self) -> Name {
        Name::hazmat_from_rdn_sequence(self.rdns)
    }

    /// PrintableString when the text allows it (smaller, and what IKE stacks
    /// compare best), UTF8String otherwise (Japanese names).
    fn string(self, oid: ObjectIdentifier, value: &str) -> Result<Self, ProfileError> {
        if PrintableStringRef::new(value).is_ok() {
            self.printable(oid, value)
        } else {
            let any = Any::encode_from(&Utf8StringRef::new(value)?)?;
            self.push(oid, any)
        }
    }

    fn printable(self, oid: ObjectIdentifier, value: &str) -> Result<Self, ProfileError> {
        let p = PrintableStringRef::new(value)
            .map_err(|_| ProfileError::Encoding(format!("{value:?} is not a PrintableString")))?;
        let any = Any::encode_from(&p)?;
        self.push(oid, any)
    }

    fn push(mut self, oid: ObjectIdentifier, value: Any) -> Result<Self, ProfileError> {
        if value.value().is_empty() {
            return Err(ProfileError::Encoding(format!("empty value for {oid}")));
        }
        let mut rdn = RelativeDistinguishedName::default();
        rdn.insert(AttributeTypeAndValue { oid, value })?;
        self.rdns.push(rdn);
        Ok(self)
    }
}
