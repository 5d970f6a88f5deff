//! The hcRole texts an HPKI certificate carries: subjectDirectoryAttributes → HCActorData → the free text under
//! the JHPKI role scheme. Read here, once, for every relying party (the card login maps them to its roles; the
//! signature verifier reports them).
//!
//! ```text
//! -- RFC 5280 §4.2.1.8
//! SubjectDirectoryAttributes ::= SEQUENCE SIZE (1..MAX) OF Attribute
//! Attribute ::= SEQUENCE { type 1.0.17090.0.1 (hcRole), values SET OF HCActorData }
//! -- ISO/TS 17090-3
//! HCActorData ::= SET OF HCActor
//! HCActor ::= SEQUENCE {
//!     codedData           [0] EXPLICIT CodedData OPTIONAL,
//!     regionalHCActorData [1] EXPLICIT SEQUENCE OF RegionalData OPTIONAL }
//! CodedData ::= SET {
//!     codingSchemeReference [0] EXPLICIT OBJECT IDENTIFIER,
//!     codeDataValue         [1] EXPLICIT PrintableString OPTIONAL,
//!     codeDataFreeText      [2] EXPLICIT DirectoryString OPTIONAL }
//! ```
//! Japanese HPKI names the role by its **free text** under scheme 1.2.392.100495.1.6.1.1, not by a code.

use der::asn1::ObjectIdentifier;
use der::{Any, Sequence, Tag, Tagged};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectDirectoryAttributes;
use x509_cert::ext::pkix::name::DirectoryString;

/// id-hcpki-at-healthcareactor (hcRole), ISO/TS 17090.
pub const HC_ACTOR_ATTRIBUTE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.0.17090.0.1");
/// The JHPKI role table: the coding scheme every Japanese hcRole names.
pub const JHPKI_ROLE_SCHEME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.100495.1.6.1.1");

/// `HCActor`.
#[derive(Clone, Debug, Sequence)]
struct HcActor {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    coded_data: Option<Any>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    regional_hc_actor_data: Option<Any>,
}

/// `CodedData`'s fields. The SET's elements are in tag order ([0] < [1] < [2]), which DER requires of a SET and
/// a SEQUENCE reads in order, so the SET is decoded as this SEQUENCE after re-tagging (see [`as_sequence`]).
#[derive(Clone, Debug, Sequence)]
struct CodedDataFields {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    coding_scheme_reference: ObjectIdentifier,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    code_data_value: Option<Any>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    code_data_free_text: Option<DirectoryString>,
}

/// The hcRole free texts of `cert` under the JHPKI scheme, in order, repeats removed (none without the
/// extension). A malformed hcRole attribute is an error: the certificate is not what its CA should issue.
pub fn certificate_texts(cert: &Certificate) -> Result<Vec<String>, der::Error> {
    match cert.tbs_certificate().get_extension::<SubjectDirectoryAttributes>()? {
        Some((_, attributes)) => texts(&attributes),
        None => Ok(Vec::new()),
    }
}

/// The hcRole free texts of a subjectDirectoryAttributes value under the JHPKI scheme, repeats removed.
pub fn texts(attributes: &SubjectDirectoryAttributes) -> Result<Vec<String>, der::Error> {
    let mut texts = Vec::new();
    for attribute in attributes.0.iter().filter(|a| a.oid == HC_ACTOR_ATTRIBUTE) {
        for hc_actor_data in attribute.values.iter() {
            let actors: Vec<HcActor> = as_sequence(hc_actor_data, Tag::Set)?.decode_as()?;
            for coded in actors.iter().filter_map(|a| a.coded_data.as_ref()) {
                let fields: CodedDataFields = as_sequence(coded, Tag::Set)?.decode_as()?;
                if fields.coding_scheme_reference == JHPKI_ROLE_SCHEME
                    && let Some(text) = fields.code_data_free_text
                {
                    texts.push(text.value().into_owned());
                }
            }
        }
    }
    texts.dedup();
    Ok(texts)
}

/// `value` (which must carry `tag`) with its tag replaced by SEQUENCE, to read a SET's fixed-order contents.
fn as_sequence(value: &Any, tag: Tag) -> Result<Any, der::Error> {
    if value.tag() != tag {
        return Err(der::Error::from(der::ErrorKind::TagUnexpected { expected: Some(tag), actual: value.tag() }));
    }
    Any::new(Tag::Sequence, value.value())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_of_wrong_tag_is_refused() {
        let any = Any::new(Tag::Sequence, [0x02u8, 0x01, 0x00].as_slice()).unwrap();
        assert!(as_sequence(&any, Tag::Set).is_err());
    }
}
