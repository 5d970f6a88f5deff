//! hcRole from an HPKI certificate: subjectDirectoryAttributes → HCActorData → the free text under the JHPKI
//! role scheme → [`HcRole`].
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
//! Japanese HPKI names the role by its **free text** under scheme 1.2.392.100495.1.6.1.1, not by a code
//! (reference §3.3). Only texts confirmed in real certificates or issuer code are mapped ([`CONFIRMED_TEXTS`]);
//! any other text gives no role and a warning, never a guess (docs/portal.md "Card login").

use crate::policy::{HC_ACTOR_ATTRIBUTE_OID, HcRole, JHPKI_ROLE_SCHEME_OID};
use der::asn1::ObjectIdentifier;
use der::{Any, Sequence, Tag, Tagged};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectDirectoryAttributes;
use x509_cert::ext::pkix::name::DirectoryString;

/// Certificate free texts known to name a role: "Medical Doctor" is decoded from a MEDIS certificate; the two
/// director texts come from public login code (reference §3.3). Extend only from real certificates or the CP
/// §7.1.2 table.
pub const CONFIRMED_TEXTS: [(&str, HcRole); 3] = [
    ("Medical Doctor", HcRole::MedicalDoctor),
    ("Director of Hospital", HcRole::DirectorOfHospital),
    ("Director of Clinic", HcRole::DirectorOfClinic),
];

/// What the certificate says about the holder's role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleClaim {
    /// No hcRole attribute (cards for administrative staff exist).
    Absent,
    /// A confirmed text, mapped.
    Known(HcRole),
    /// hcRole present but its text is not in [`CONFIRMED_TEXTS`] (or is ambiguous): treated as no role.
    Unrecognised(String),
}

impl RoleClaim {
    /// The role the policy may use.
    pub fn role(&self) -> Option<HcRole> {
        match self {
            Self::Known(r) => Some(*r),
            Self::Absent | Self::Unrecognised(_) => None,
        }
    }
}

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

/// The role claimed by `cert`. A malformed hcRole attribute is an error (the certificate is not what its CA
/// should issue); texts that are merely unknown are not.
pub fn decode(cert: &Certificate) -> Result<RoleClaim, der::Error> {
    match cert.tbs_certificate().get_extension::<SubjectDirectoryAttributes>()? {
        Some((_, attributes)) => from_attributes(&attributes),
        None => Ok(RoleClaim::Absent),
    }
}

/// The role claimed by a subjectDirectoryAttributes value.
fn from_attributes(attributes: &SubjectDirectoryAttributes) -> Result<RoleClaim, der::Error> {
    let hc_actor = ObjectIdentifier::new(HC_ACTOR_ATTRIBUTE_OID).map_err(der::Error::from)?;
    let scheme = ObjectIdentifier::new(JHPKI_ROLE_SCHEME_OID).map_err(der::Error::from)?;
    let mut texts = Vec::new();
    for attribute in attributes.0.iter().filter(|a| a.oid == hc_actor) {
        for hc_actor_data in attribute.values.iter() {
            let actors: Vec<HcActor> = as_sequence(hc_actor_data, Tag::Set)?.decode_as()?;
            for coded in actors.iter().filter_map(|a| a.coded_data.as_ref()) {
                let fields: CodedDataFields = as_sequence(coded, Tag::Set)?.decode_as()?;
                if fields.coding_scheme_reference == scheme
                    && let Some(text) = fields.code_data_free_text
                {
                    texts.push(text.value().into_owned());
                }
            }
        }
    }
    texts.dedup();
    Ok(match texts.as_slice() {
        [] => RoleClaim::Absent,
        [text] => match CONFIRMED_TEXTS.iter().find(|(t, _)| t == text) {
            Some((_, role)) => RoleClaim::Known(*role),
            None => {
                tracing::warn!(text = %text, "hcRole text is not a confirmed JHPKI role string; treated as no role");
                RoleClaim::Unrecognised(text.clone())
            }
        },
        several => {
            // The CP allows one hcRole per certificate; several means we do not understand this profile.
            tracing::warn!(texts = ?several, "several hcRole texts in one certificate; treated as no role");
            RoleClaim::Unrecognised(several.join(" | "))
        }
    })
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
    use der::Decode;
    use hcpki_vcard::testpki::{HpkiSubject, HpkiTestCas};

    fn cert(der: &[u8]) -> Certificate {
        Certificate::from_der(der).unwrap()
    }

    fn issued(role: Option<&str>) -> Certificate {
        let subject = HpkiSubject { role: role.map(str::to_owned), ..HpkiSubject::default() };
        cert(&HpkiTestCas::new().unwrap().issue(&subject).unwrap().authentication.cert)
    }

    #[test]
    fn confirmed_texts_map_to_roles() {
        assert_eq!(decode(&issued(Some("Medical Doctor"))).unwrap(), RoleClaim::Known(HcRole::MedicalDoctor));
        assert_eq!(decode(&issued(Some("Director of Clinic"))).unwrap(), RoleClaim::Known(HcRole::DirectorOfClinic));
    }

    #[test]
    fn no_attribute_is_absent_and_unknown_text_is_not_guessed() {
        assert_eq!(decode(&issued(None)).unwrap(), RoleClaim::Absent);
        // "Nurse" is our label for 看護師 but not a confirmed certificate string.
        let claim = decode(&issued(Some("Nurse"))).unwrap();
        assert_eq!(claim, RoleClaim::Unrecognised("Nurse".into()));
        assert_eq!(claim.role(), None);
    }

    #[test]
    fn the_medis_bytes_decode() {
        // The test PKI's encoder is checked byte for byte against the MEDIS certificate's attribute (reference
        // §3.3) in its own tests; decoding its output is decoding the real structure.
        let medis = hcpki_vcard::testpki::hc_role_attributes("Medical Doctor");
        let attributes = SubjectDirectoryAttributes::from_der(&medis).unwrap();
        assert_eq!(from_attributes(&attributes).unwrap(), RoleClaim::Known(HcRole::MedicalDoctor));
    }

    #[test]
    fn a_set_of_wrong_tag_is_refused() {
        let any = Any::new(Tag::Sequence, [0x02u8, 0x01, 0x00].as_slice()).unwrap();
        assert!(as_sequence(&any, Tag::Set).is_err());
    }
}
