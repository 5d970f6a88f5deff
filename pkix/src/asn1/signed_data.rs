//! A CMS SignedData with one signer (RFC 5652 §5.1), read as RFC 5652 lets it travel — BER — and kept as it
//! arrived: the decoded structure for reading, and the octets of each part for hashing and for writing it out
//! again with an unsigned attribute, a certificate or a CRL more.
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType id-signedData, content [0] EXPLICIT SignedData }
//! SignedData ::= SEQUENCE {
//!   version CMSVersion, digestAlgorithms DigestAlgorithmIdentifiers,
//!   encapContentInfo EncapsulatedContentInfo,
//!   certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//!   signerInfos SignerInfos }
//! SignerInfo ::= SEQUENCE {
//!   version CMSVersion, sid SignerIdentifier, digestAlgorithm DigestAlgorithmIdentifier,
//!   signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
//!   signatureAlgorithm SignatureAlgorithmIdentifier, signature SignatureValue,
//!   unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
//! Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }
//! RevocationInfoChoice ::= CHOICE { crl CertificateList, other [1] IMPLICIT OtherRevocationInfoFormat }
//! OtherRevocationInfoFormat ::= SEQUENCE { otherRevInfoFormat OBJECT IDENTIFIER, otherRevInfo ANY }
//! ```
//!
//! What must be DER, and only that: the signed attributes. RFC 5652 §5.4 computes the signature over their DER
//! encoding; a set that arrives in another encoding (out of order, indefinite, long-form lengths) is a signature
//! over other octets than the ones shown, and is refused — never re-encoded into what might have been signed.
//! Everything else may be any BER (indefinite lengths, segmented OCTET STRINGs, a SET OF in any order):
//! `openssl cms -sign -stream` and `openssl ts -reply -chain` write such files, and OpenSSL reads them.
//!
//! The `crls` field is kept as raw elements: the `cms` crate models `OtherRevocationInfoFormat`'s first field as
//! an AlgorithmIdentifier where RFC 5652 §10.2.1 has a bare OBJECT IDENTIFIER, so it could neither read nor
//! write the OCSP responses B-LT embeds there (id-ri-ocsp-response, RFC 5940 §4.1).

use super::ber::{self, BerError, Element, der_set_order, tlv};
use cms::cert::CertificateChoices;
use cms::content_info::CmsVersion;
use cms::signed_data::{
    CertificateSet, DigestAlgorithmIdentifiers, EncapsulatedContentInfo, SignedAttributes, SignedData,
    SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::ID_SIGNED_DATA;
use der::asn1::SetOfVec;
use der::{Any, Decode, Encode, Sequence};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

/// SignedData with `crls` as raw RevocationInfoChoice elements (see the module documentation).
#[derive(Clone, Debug, Sequence)]
struct SignedDataWire {
    version: CmsVersion,
    digest_algorithms: DigestAlgorithmIdentifiers,
    encap_content_info: EncapsulatedContentInfo,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    certificates: Option<CertificateSet>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    crls: Option<SetOfVec<Any>>,
    signer_infos: SignerInfos,
}

/// Why bytes are not a SignedData this reader takes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CmsError {
    /// Not BER at all: garbage, truncated, trailing octets.
    #[error("the {what} is not a BER encoding ({source})")]
    Ber {
        /// What was being read (`signature`, `time-stamp token`, …).
        what: &'static str,
        /// Where and why.
        source: BerError,
    },
    /// BER, but not the structure of a ContentInfo holding a SignedData.
    #[error("the {what} does not decode as a CMS SignedData ({detail})")]
    Structure {
        /// What was being read.
        what: &'static str,
        /// The decoder's words.
        detail: String,
    },
    /// A ContentInfo of another content type.
    #[error("the {what} is a CMS {content_type}, not a SignedData")]
    NotSignedData {
        /// What was being read.
        what: &'static str,
        /// The content type found.
        content_type: String,
    },
    /// Not exactly one SignerInfo.
    #[error("the {what} has {count} signers")]
    SignerCount {
        /// What was being read.
        what: &'static str,
        /// How many SignerInfos there are.
        count: usize,
    },
    /// The SignerInfo carries no signed attributes.
    #[error("the {what} has no signed attributes")]
    NoSignedAttributes {
        /// What was being read.
        what: &'static str,
    },
    /// The signed attributes are not in their DER encoding.
    #[error("the {what}'s signed attributes are not DER")]
    SignedAttributesNotDer {
        /// What was being read.
        what: &'static str,
    },
}

/// A ContentInfo holding a SignedData with exactly one SignerInfo, which carries signed attributes in DER.
#[derive(Clone, Debug)]
pub struct ReceivedSignedData {
    data: SignedData,
    signer: SignerInfo,
    revocation: Vec<Any>,
    parts: SignedDataParts,
}

/// The octets of a SignedData's parts as they arrived (each a whole element: identifier, length, contents).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedDataParts {
    /// `version`.
    pub version: Vec<u8>,
    /// `digestAlgorithms`.
    pub digest_algorithms: Vec<u8>,
    /// `encapContentInfo`.
    pub encap_content_info: Vec<u8>,
    /// `encapContentInfo.eContentType`.
    pub econtent_type: Vec<u8>,
    /// Each CertificateChoices of `certificates`, in the order received.
    pub certificates: Vec<Vec<u8>>,
    /// Each RevocationInfoChoice of `crls`, in the order received.
    pub crls: Vec<Vec<u8>>,
    /// The one SignerInfo.
    pub signer: SignerInfoParts,
}

/// The octets of a SignerInfo's parts as they arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerInfoParts {
    /// `version`.
    pub version: Vec<u8>,
    /// `sid`.
    pub sid: Vec<u8>,
    /// `digestAlgorithm`.
    pub digest_algorithm: Vec<u8>,
    /// `signedAttrs` as it sits in the SignerInfo (`[0] IMPLICIT`, DER).
    pub signed_attrs: Vec<u8>,
    /// `signatureAlgorithm`.
    pub signature_algorithm: Vec<u8>,
    /// `signature`.
    pub signature: Vec<u8>,
    /// Each Attribute of `unsignedAttrs`, in the order received.
    pub unsigned_attrs: Vec<AttributeParts>,
}

/// The octets of one Attribute as it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeParts {
    /// `attrType`.
    pub attr_type: Vec<u8>,
    /// Each value of `attrValues`, in the order received.
    pub values: Vec<Vec<u8>>,
    /// The whole Attribute as received; `None` once a value was added (then it is written from the above).
    encoding: Option<Vec<u8>>,
}

impl ReceivedSignedData {
    /// Read `bytes` (called `what` in errors): a BER ContentInfo holding a SignedData (see the module
    /// documentation for what must be DER), nothing after it.
    pub fn read(bytes: &[u8], what: &'static str) -> Result<Self, CmsError> {
        let ber = |source| CmsError::Ber { what, source };
        let structure = |detail: String| CmsError::Structure { what, detail };
        let content_info = Element::whole(bytes).map_err(ber)?;
        let [content_type, content] = children::<2>(&content_info, what)?;
        let content_type: ObjectIdentifier = ber::decode(content_type.encoding).map_err(ber)?;
        if content_type != ID_SIGNED_DATA {
            return Err(CmsError::NotSignedData { what, content_type: content_type.to_string() });
        }
        if content.identifier != 0xA0 {
            return Err(structure("the content is not [0]".into()));
        }
        let [signed_data] = children::<1>(&content, what)?;
        let definite = signed_data.definite().map_err(ber)?;
        let wire: SignedDataWire = ber::decode_definite(&definite).map_err(|e| structure(e.to_string()))?;
        let parts = SignedDataParts::of(&signed_data, what)?;
        let mut infos = wire.signer_infos.0.into_vec();
        let count = infos.len();
        let signer = match (infos.pop(), infos.is_empty()) {
            (Some(signer), true) => signer,
            _ => return Err(CmsError::SignerCount { what, count }),
        };
        let certificates = wire.certificates.as_ref().map_or(0, |set| set.0.len());
        let crls = wire.crls.as_ref().map_or(0, |set| set.len());
        let unsigned = signer.unsigned_attrs.as_ref().map_or(0, |set| set.len());
        if certificates != parts.certificates.len()
            || crls != parts.crls.len()
            || unsigned != parts.signer.unsigned_attrs.len()
        {
            return Err(structure("its parts do not match its structure".into()));
        }
        if signer.signed_attrs.as_ref().is_none_or(|a| a.is_empty()) {
            return Err(CmsError::NoSignedAttributes { what });
        }
        if !is_der_set(&parts.signer.signed_attrs) {
            return Err(CmsError::SignedAttributesNotDer { what });
        }
        let revocation = wire.crls.map(SetOfVec::into_vec).unwrap_or_default();
        let data = SignedData {
            version: wire.version,
            digest_algorithms: wire.digest_algorithms,
            encap_content_info: wire.encap_content_info,
            certificates: wire.certificates,
            crls: None,
            // The one SignerInfo is kept apart (`signer_info`), not copied.
            signer_infos: SignerInfos(SetOfVec::new()),
        };
        Ok(Self { data, signer, revocation, parts })
    }

    /// The SignedData without its revocation data and its SignerInfo (`crls` is `None`, `signerInfos` empty: see
    /// [`Self::revocation`] and [`Self::signer_info`]); every SET OF in the order received.
    pub fn data(&self) -> &SignedData {
        &self.data
    }

    /// The RevocationInfoChoice elements of `crls` (CRLs, and OCSP responses as `other`), in definite form.
    pub fn revocation(&self) -> &[Any] {
        &self.revocation
    }

    /// The octets of each part, as received.
    pub fn parts(&self) -> &SignedDataParts {
        &self.parts
    }

    /// The one SignerInfo.
    pub fn signer_info(&self) -> &SignerInfo {
        &self.signer
    }

    /// The certificates carried (`certificates`' Certificate choices), in the order received.
    pub fn certificates(&self) -> Vec<Certificate> {
        let choices = self.data.certificates.iter().flat_map(|set| set.0.iter());
        choices
            .filter_map(|choice| match choice {
                CertificateChoices::Certificate(c) => Some(c.clone()),
                CertificateChoices::Other(_) => None,
            })
            .collect()
    }

    /// The certificate the SignerInfo's `sid` names, among those carried.
    pub fn signer_certificate(&self) -> Option<Certificate> {
        self.data.certificates.iter().flat_map(|set| set.0.iter()).find_map(|choice| match choice {
            CertificateChoices::Certificate(c) if names(&self.signer.sid, c) => Some(c.clone()),
            _ => None,
        })
    }

    /// The signed attributes as the signature covers them: their DER with the SET OF tag (RFC 5652 §5.4), the
    /// very octets of the file.
    pub fn signed_attributes_der(&self) -> Vec<u8> {
        as_set(&self.parts.signer.signed_attrs)
    }
}

impl SignedDataParts {
    fn of(signed_data: &Element<'_>, what: &'static str) -> Result<Self, CmsError> {
        let structure = |detail: &str| CmsError::Structure { what, detail: detail.to_owned() };
        let fields = signed_data.children().map_err(|source| CmsError::Ber { what, source })?;
        let mut fields = fields.iter().peekable();
        let mut next = |name: &str| fields.next().ok_or_else(|| structure(&format!("no {name}")));
        let version = next("version")?.encoding.to_vec();
        let digest_algorithms = next("digestAlgorithms")?.encoding.to_vec();
        let encap = next("encapContentInfo")?;
        let econtent_type = encap
            .children()
            .map_err(|source| CmsError::Ber { what, source })?
            .first()
            .ok_or_else(|| structure("no eContentType"))?
            .encoding
            .to_vec();
        let encap_content_info = encap.encoding.to_vec();
        let mut certificates = Vec::new();
        let mut crls = Vec::new();
        let mut signer_infos = None;
        for field in fields {
            let elements = || -> Result<Vec<Vec<u8>>, CmsError> {
                let children = field.children().map_err(|source| CmsError::Ber { what, source })?;
                Ok(children.iter().map(|c| c.encoding.to_vec()).collect())
            };
            match field.identifier {
                0xA0 => certificates = elements()?,
                0xA1 => crls = elements()?,
                0x31 => signer_infos = Some(field.children().map_err(|source| CmsError::Ber { what, source })?),
                _ => return Err(structure("an unknown field")),
            }
        }
        let signer_infos = signer_infos.ok_or_else(|| structure("no signerInfos"))?;
        let [info] = signer_infos.as_slice() else {
            return Err(CmsError::SignerCount { what, count: signer_infos.len() });
        };
        let signer = SignerInfoParts::of(info, what)?;
        Ok(Self { version, digest_algorithms, encap_content_info, econtent_type, certificates, crls, signer })
    }

    /// The ContentInfo these parts make: each part's octets as they are, the elements of each SET OF in DER
    /// order (so that parts that are all DER make a DER whole), every enclosing length definite.
    pub fn encode(&self) -> Vec<u8> {
        let set_of = |identifier: u8, elements: &[Vec<u8>]| {
            let mut sorted = elements.to_vec();
            der_set_order(&mut sorted);
            tlv(identifier, &sorted.concat())
        };
        let mut fields = [self.version.as_slice(), &self.digest_algorithms, &self.encap_content_info].concat();
        if !self.certificates.is_empty() {
            fields.extend(set_of(0xA0, &self.certificates));
        }
        if !self.crls.is_empty() {
            fields.extend(set_of(0xA1, &self.crls));
        }
        fields.extend(set_of(0x31, &[self.signer.encode()]));
        let signed_data = tlv(0x30, &fields);
        let content_type = ID_SIGNED_DATA.to_der().unwrap_or_default();
        tlv(0x30, &[content_type, tlv(0xA0, &signed_data)].concat())
    }

    /// Set `version` (RFC 5652 §5.1: 5 once `other` revocation information is carried).
    pub fn set_version(&mut self, version: CmsVersion) {
        self.version = tlv(0x02, &[version as u8]);
    }
}

impl SignerInfoParts {
    fn of(info: &Element<'_>, what: &'static str) -> Result<Self, CmsError> {
        let structure = |detail: &str| CmsError::Structure { what, detail: detail.to_owned() };
        let ber = |source| CmsError::Ber { what, source };
        let fields = info.children().map_err(ber)?;
        let mut fields = fields.iter().peekable();
        let mut next = |name: &str| fields.next().map(|f| f.encoding.to_vec()).ok_or_else(|| structure(name));
        let (version, sid, digest_algorithm) = (next("no version")?, next("no sid")?, next("no digestAlgorithm")?);
        let signed_attrs = match fields.next_if(|f| f.identifier == 0xA0) {
            Some(attrs) => attrs.encoding.to_vec(),
            None => return Err(CmsError::NoSignedAttributes { what }),
        };
        let mut next = |name: &str| fields.next().map(|f| f.encoding.to_vec()).ok_or_else(|| structure(name));
        let (signature_algorithm, signature) = (next("no signatureAlgorithm")?, next("no signature")?);
        let mut unsigned_attrs = Vec::new();
        if let Some(unsigned) = fields.next_if(|f| f.identifier == 0xA1) {
            for attribute in unsigned.children().map_err(ber)? {
                let [attr_type, values] = children::<2>(&attribute, what)?;
                let values = values.children().map_err(ber)?.iter().map(|v| v.encoding.to_vec()).collect();
                unsigned_attrs.push(AttributeParts {
                    attr_type: attr_type.encoding.to_vec(),
                    values,
                    encoding: Some(attribute.encoding.to_vec()),
                });
            }
        }
        if fields.next().is_some() {
            return Err(structure("a field after unsignedAttrs"));
        }
        Ok(Self { version, sid, digest_algorithm, signed_attrs, signature_algorithm, signature, unsigned_attrs })
    }

    /// The SignerInfo these parts make.
    fn encode(&self) -> Vec<u8> {
        let mut fields = [
            self.version.as_slice(),
            &self.sid,
            &self.digest_algorithm,
            &self.signed_attrs,
            &self.signature_algorithm,
            &self.signature,
        ]
        .concat();
        if !self.unsigned_attrs.is_empty() {
            let mut attributes: Vec<Vec<u8>> = self.unsigned_attrs.iter().map(AttributeParts::encode).collect();
            der_set_order(&mut attributes);
            fields.extend(tlv(0xA1, &attributes.concat()));
        }
        tlv(0x30, &fields)
    }

    /// The values of the unsigned attribute `oid`, each as received, in order.
    pub fn unsigned_values(&self, oid: ObjectIdentifier) -> Vec<&[u8]> {
        let kind = oid.to_der().unwrap_or_default();
        self.unsigned_attrs
            .iter()
            .filter(|a| a.attr_type == kind)
            .flat_map(|a| a.values.iter().map(Vec::as_slice))
            .collect()
    }

    /// Add `value` (one whole element) to the unsigned attribute `oid`: to its first instance, or as a new one.
    pub fn add_unsigned_value(&mut self, oid: ObjectIdentifier, value: Vec<u8>) {
        let kind = oid.to_der().unwrap_or_default();
        match self.unsigned_attrs.iter_mut().find(|a| a.attr_type == kind) {
            Some(existing) => {
                existing.values.push(value);
                existing.encoding = None;
            }
            None => self.push_unsigned_attribute(oid, value),
        }
    }

    /// Add a new unsigned attribute `oid` with the one `value`, beside any other of its type.
    pub fn push_unsigned_attribute(&mut self, oid: ObjectIdentifier, value: Vec<u8>) {
        let attr_type = oid.to_der().unwrap_or_default();
        self.unsigned_attrs.push(AttributeParts { attr_type, values: vec![value], encoding: None });
    }
}

impl AttributeParts {
    /// The Attribute: as received when unchanged, else from its type and values (in DER order).
    fn encode(&self) -> Vec<u8> {
        if let Some(encoding) = &self.encoding {
            return encoding.clone();
        }
        let mut values = self.values.clone();
        der_set_order(&mut values);
        tlv(0x30, &[self.attr_type.clone(), tlv(0x31, &values.concat())].concat())
    }
}

/// The `N` elements inside `element`, or an error naming `what`.
fn children<'a, const N: usize>(element: &Element<'a>, what: &'static str) -> Result<[Element<'a>; N], CmsError> {
    let all = element.children().map_err(|source| CmsError::Ber { what, source })?;
    let count = all.len();
    all.try_into().map_err(|_| CmsError::Structure { what, detail: format!("{count} elements where {N} belong") })
}

/// Whether `sid` names `certificate` (RFC 5652 §5.3: by issuer and serial number, or by subject key identifier).
fn names(sid: &SignerIdentifier, certificate: &Certificate) -> bool {
    let tbs = certificate.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            id.issuer == *tbs.issuer() && id.serial_number == *tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(tbs.get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if own == *ski)
        }
    }
}

/// `signedAttrs` (`[0] IMPLICIT`) with the SET OF tag its signature is computed under.
fn as_set(signed_attrs: &[u8]) -> Vec<u8> {
    let mut set = signed_attrs.to_vec();
    if let Some(tag) = set.first_mut() {
        *tag = 0x31;
    }
    set
}

/// Whether `signed_attrs` is the DER of a SET OF Attribute: the decoder sorts a set given out of order and refuses
/// indefinite or long-form lengths, so only DER comes back as the same octets.
fn is_der_set(signed_attrs: &[u8]) -> bool {
    let set = as_set(signed_attrs);
    SignedAttributes::from_der(&set).and_then(|decoded| decoded.to_der()).is_ok_and(|again| again == set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_attributes_are_der_only_when_they_re_encode_to_themselves() {
        // [0] { Attribute { contentType, { id-data } } }
        let attribute = tlv(
            0x30,
            &[
                tlv(0x06, &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x03]),
                tlv(0x31, &tlv(0x06, &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01])),
            ]
            .concat(),
        );
        assert!(is_der_set(&tlv(0xA0, &attribute)));
        let mut indefinite = vec![0xA0, 0x80];
        indefinite.extend(&attribute);
        indefinite.extend([0, 0]);
        assert!(!is_der_set(&indefinite));
        let mut long_form = vec![0xA0, 0x81, u8::try_from(attribute.len()).unwrap()];
        long_form.extend(&attribute);
        assert!(!is_der_set(&long_form));
    }
}
