//! B-LT: the validation data gathered at signing time — the signer's and the TSA's CA certificates, their CRLs
//! and OCSP responses — embedded where ETSI EN 319 122-1 §5.5.1 allows: SignedData.certificates for
//! certificates, SignedData.crls for CRLs (RevocationInfoChoice crl) and OCSP responses (RevocationInfoChoice
//! other, id-ri-ocsp-response, RFC 5940 §4.1). Nothing signed changes: the signature and its time stamps stay
//! valid, and an archive time stamp added later covers this data.

use super::error::CadesError;
use super::parsed::CadesSignature;
use crate::asn1::ocsp::OcspResponse;
use cms::cert::CertificateChoices;
use cms::content_info::CmsVersion;
use cms::signed_data::CertificateSet;
use const_oid::ObjectIdentifier;
use der::asn1::SetOfVec;
use der::{Any, Decode, Encode, Tag, TagNumber, Tagged};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

/// id-ri-ocsp-response (RFC 5940 §4.1): an OCSPResponse as a RevocationInfoChoice `other`.
pub const ID_RI_OCSP_RESPONSE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.16.2");

/// The `.p7s` `cms` with `certificates`, `crls` (DER CertificateList) and `ocsp_responses` (DER OCSPResponse)
/// added to what it carries (each once). The SignedData version becomes 5 when an OCSP response is embedded
/// (RFC 5652 §5.1: `other` revocation information).
pub fn with_validation_data(
    cms: &[u8],
    certificates: &[Vec<u8>],
    crls: &[Vec<u8>],
    ocsp_responses: &[Vec<u8>],
) -> Result<Vec<u8>, CadesError> {
    let mut signature = CadesSignature::from_der(cms)?;
    let mut carried = signature.certificates();
    for der in certificates {
        let cert = Certificate::from_der(der).map_err(|e| CadesError::Chain(e.to_string()))?;
        if !carried.contains(&cert) {
            carried.push(cert);
        }
    }
    let mut revocation = signature.revocation().to_vec();
    for der in crls {
        <CertificateList>::from_der(der).map_err(CadesError::not_der("CRL"))?;
        push_new(&mut revocation, Any::from_der(der).map_err(CadesError::not_der("CRL"))?);
    }
    for der in ocsp_responses {
        OcspResponse::from_der(der).map_err(CadesError::not_der("OCSP response"))?;
        push_new(&mut revocation, ocsp_choice(der)?);
    }
    let set = CertificateSet::try_from(carried.into_iter().map(CertificateChoices::Certificate).collect::<Vec<_>>())
        .map_err(CadesError::encoding("certificates"))?;
    let version = if revocation.iter().any(|r| r.tag() != Tag::Sequence) {
        CmsVersion::V5
    } else {
        signature.signed_data().version
    };
    let sorted = SetOfVec::try_from(revocation).map_err(CadesError::encoding("crls"))?.into_vec();
    signature.set_validation_data(set, sorted, version);
    signature.to_der()
}

/// The embedded revocation data of `signature`: the CRLs and the OCSP responses (DER), other kinds skipped.
pub(super) fn embedded_revocation(signature: &CadesSignature) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut crls = Vec::new();
    let mut ocsp = Vec::new();
    for choice in signature.revocation() {
        if choice.tag() == Tag::Sequence {
            if let Ok(der) = choice.to_der() {
                crls.push(der);
            }
        } else if let Some(der) = ocsp_of(choice) {
            ocsp.push(der);
        }
    }
    (crls, ocsp)
}

/// `[1] IMPLICIT SEQUENCE { id-ri-ocsp-response, OCSPResponse }`.
fn ocsp_choice(der: &[u8]) -> Result<Any, CadesError> {
    let build = || -> der::Result<Any> {
        let inner = [ID_RI_OCSP_RESPONSE.to_der()?, der.to_vec()].concat();
        Any::new(Tag::ContextSpecific { constructed: true, number: TagNumber(1) }, inner)
    };
    build().map_err(CadesError::encoding("OCSP RevocationInfoChoice"))
}

/// The OCSPResponse inside an `other` choice of format id-ri-ocsp-response.
fn ocsp_of(choice: &Any) -> Option<Vec<u8>> {
    if choice.tag() != (Tag::ContextSpecific { constructed: true, number: TagNumber(1) }) {
        return None;
    }
    let mut reader = der::SliceReader::new(choice.value()).ok()?;
    let format = <ObjectIdentifier as der::Decode>::decode(&mut reader).ok()?;
    let response = <Any as der::Decode>::decode(&mut reader).ok()?;
    (format == ID_RI_OCSP_RESPONSE).then(|| response.to_der().ok()).flatten()
}

fn push_new(all: &mut Vec<Any>, item: Any) {
    if !all.contains(&item) {
        all.push(item);
    }
}
