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
pub(crate) fn certs_only(certificates: &[Vec<u8>]) -> der::Result<Vec<u8>> {
    let choices = certificates
        .iter()
        .map(|der| Certificate::from_der(der).map(CertificateChoices::Certificate))
        .collect::<der::Result<Vec<_>>>()?;
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: Default::default(),
        encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
        certificates: Some(CertificateSet::try_from(choices)?),
        crls: None,
        signer_infos: SignerInfos::try_from(Vec::new())?,
    };
    ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed)? }.to_der()
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
