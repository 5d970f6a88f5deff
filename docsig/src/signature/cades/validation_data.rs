//! B-LT: the validation data gathered at signing time — the signer's and the TSA's CA certificates, their CRLs
//! and OCSP responses — embedded where ETSI EN 319 122-1 §5.5.1 allows: SignedData.certificates for
//! certificates, SignedData.crls for CRLs (RevocationInfoChoice crl) and OCSP responses (RevocationInfoChoice
//! other, id-ri-ocsp-response, RFC 5940 §4.1). Nothing signed changes: the signature and its time stamps stay
//! valid, and an archive time stamp added later covers this data.

use super::error::CadesError;
use super::parsed::CadesSignature;
use cms::content_info::CmsVersion;
use const_oid::ObjectIdentifier;
use der::{Any, Decode, Encode, Tag, TagNumber, Tagged};
use hcpki_pkix::asn1::ber::tlv;
use hcpki_pkix::asn1::ocsp::OcspResponse;
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
    let signature = CadesSignature::from_ber(cms)?;
    let mut carried = signature.certificates();
    let mut new_certificates = Vec::new();
    for der in certificates {
        let cert = Certificate::from_der(der).map_err(|e| CadesError::Chain(e.to_string()))?;
        if !carried.contains(&cert) {
            carried.push(cert);
            new_certificates.push(der.clone());
        }
    }
    let mut revocation = signature.received().parts().crls.clone();
    for der in crls {
        <CertificateList>::from_der(der).map_err(CadesError::undecodable("CRL"))?;
        push_new(&mut revocation, der.clone());
    }
    for der in ocsp_responses {
        OcspResponse::from_der(der).map_err(CadesError::undecodable("OCSP response"))?;
        let format = ID_RI_OCSP_RESPONSE.to_der().map_err(CadesError::encoding("OCSP RevocationInfoChoice"))?;
        // `[1] IMPLICIT SEQUENCE { id-ri-ocsp-response, OCSPResponse }`.
        push_new(&mut revocation, tlv(0xA1, &[format, der.clone()].concat()));
    }
    let other_revocation = revocation.iter().any(|r| r.first() != Some(&0x30));
    signature.edited(|parts| {
        parts.certificates.extend(new_certificates);
        parts.crls = revocation;
        if other_revocation {
            parts.set_version(CmsVersion::V5);
        }
    })
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

fn push_new(all: &mut Vec<Vec<u8>>, item: Vec<u8>) {
    if !all.contains(&item) {
        all.push(item);
    }
}
