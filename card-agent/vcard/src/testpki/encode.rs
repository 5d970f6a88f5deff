//! Just enough DER writing for the extensions rcgen has no model for (certificatePolicies, a
//! directoryName SAN, subjectDirectoryAttributes). Definite lengths, one-byte tags.

use crate::fs::ber_length;
use der::asn1::ObjectIdentifier;

/// `tag ‖ length ‖ content`.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(ber_length(content.len()));
    out.extend_from_slice(content);
    out
}

/// The concatenation of already encoded parts inside one TLV.
pub(crate) fn constructed(tag: u8, parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// SEQUENCE.
pub(crate) fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    constructed(0x30, parts)
}

/// SET (the caller gives the elements in DER order; every SET here has one element or a fixed,
/// already sorted, order).
pub(crate) fn set(parts: &[Vec<u8>]) -> Vec<u8> {
    constructed(0x31, parts)
}

/// OBJECT IDENTIFIER.
pub(crate) fn oid(oid: &ObjectIdentifier) -> Vec<u8> {
    tlv(0x06, oid.as_bytes())
}

/// UTF8String.
pub(crate) fn utf8(s: &str) -> Vec<u8> {
    tlv(0x0C, s.as_bytes())
}

/// PrintableString when the text allows it (X.680 §41.4), else UTF8String.
pub(crate) fn directory_string(s: &str) -> Vec<u8> {
    if is_printable(s) { tlv(0x13, s.as_bytes()) } else { utf8(s) }
}

/// IA5String.
pub(crate) fn ia5(s: &str) -> Vec<u8> {
    tlv(0x16, s.as_bytes())
}

/// A Name (RDNSequence) with one attribute per RDN, in the order given.
pub(crate) fn name(attributes: &[(ObjectIdentifier, Vec<u8>)]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> = attributes.iter().map(|(ty, value)| set(&[sequence(&[oid(ty), value.clone()])])).collect();
    sequence(&rdns)
}

/// Whether every character is in PrintableString's alphabet.
pub(crate) fn is_printable(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c))
}
