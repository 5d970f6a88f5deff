//! The "certs-only" PKCS#7 / CMS message (RFC 5652 §5, degenerate SignedData) that EST and SCEP use to
//! carry certificates:
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType id-signedData, content [0] EXPLICIT SignedData }
//! SignedData ::= SEQUENCE { version 1, digestAlgorithms {}, encapContentInfo { id-data },
//!                           certificates [0] IMPLICIT CertificateSet, signerInfos {} }
//! ```

use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignedData, SignerInfos};
use const_oid::db::rfc5911::{ID_DATA, ID_SIGNED_DATA};
use der::{Any, Decode, Encode};
use x509_cert::Certificate;

/// DER of a certs-only SignedData holding `certificates` (each DER), in that order.
pub fn certs_only(certificates: &[Vec<u8>]) -> der::Result<Vec<u8>> {
    let choices = certificates
        .iter()
        .map(|der| Certificate::from_der(der).map(CertificateChoices::Certificate))
        .collect::<der::Result<Vec<_>>>()?;
    let set = CertificateSet::try_from(choices)?;
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: Default::default(),
        encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
        certificates: Some(set.clone()),
        crls: None,
        signer_infos: SignerInfos::try_from(Vec::new())?,
    };
    let mut der = ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed)? }.to_der()?;
    if certificates.len() < 2 {
        return Ok(der);
    }
    // DER sorts a SET OF by encoding, which may put a CA certificate first; clients such as micromdm's
    // scepclient keep the first certificate as theirs. CMS is BER (RFC 5652 §1), so the set is written in the
    // caller's order: the same bytes rearranged, every length unchanged.
    let sorted = set.to_der()?;
    let header = sorted.len() - certificates.iter().map(Vec::len).sum::<usize>();
    let body = sorted.get(header..).ok_or_else(|| der::Error::from(der::ErrorKind::Failed))?;
    let at = der.windows(body.len()).position(|w| w == body).ok_or_else(|| der::Error::from(der::ErrorKind::Failed))?;
    if let Some(slot) = der.get_mut(at..at + body.len()) {
        slot.copy_from_slice(&certificates.concat());
    }
    Ok(der)
}

/// DER of a degenerate SignedData holding one CRL (SCEP GetCRL, RFC 8894 §3.3.2.2).
pub(crate) fn crl_only(crl: &[u8]) -> der::Result<Vec<u8>> {
    use cms::revocation::{RevocationInfoChoice, RevocationInfoChoices};
    let crl = x509_cert::crl::CertificateList::from_der(crl)?;
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: Default::default(),
        encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
        certificates: None,
        crls: Some(RevocationInfoChoices::try_from(vec![RevocationInfoChoice::Crl(crl)])?),
        signer_infos: SignerInfos::try_from(Vec::new())?,
    };
    ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed)? }.to_der()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_round_trip() {
        let der = certs_only(&[]).unwrap();
        let ci = ContentInfo::from_der(&der).unwrap();
        assert_eq!(ci.content_type, ID_SIGNED_DATA);
        let sd: SignedData = ci.content.decode_as().unwrap();
        assert!(sd.signer_infos.0.is_empty());
        assert!(certs_only(&[vec![0x30, 0x00]]).is_err());
    }
}
