//! A time-stamp token as it arrives from outside — in a TSA's answer, in a signature's unsigned attribute, in a
//! PDF's /Contents — read and accepted by this one piece of code: the signers' client
//! ([`super::client::check_reply`], behind signing, `hcpki signature renew` and `hcpki tsa check`) and the
//! verifier and embedders of every format (`crate::signature::cades`, which XAdES and PAdES call) take and refuse
//! the same tokens (issue #42: a token the client had accepted was refused once embedded, so a B-T signature was
//! judged B-B, renewal failed, and `hcpki tsa check` still said the TSA was fine).
//!
//! What is read (RFC 3161 §2.4.2): a ContentInfo holding a SignedData with one signer over an encapsulated
//! id-ct-TSTInfo, in BER, its signed attributes in DER ([`hcpki_pkix::asn1::signed_data`]); `openssl ts -reply
//! -chain` writes the certificates in the order it was given, which DER would sort. What [`ReceivedToken::verify`]
//! accepts: TSTInfo version 1 without an unknown critical extension; the certificate the SignerInfo names is in
//! the token; the signed attributes (contentType id-ct-TSTInfo, messageDigest of the TSTInfo octets) verify, over
//! their octets as received, with that certificate's key; the ESS signingCertificate(V2) attribute binds that
//! certificate; and it is a TSA's (extendedKeyUsage timeStamping). Whether it is trusted, and whether the
//! imprint is over the right thing, is the caller's: the client checks its configured roots, nonce and policy;
//! the verifier its trust anchors and what the token covers.

use super::token_error::TokenError;
use super::{TstInfo, binding, signature};
use const_oid::db::rfc3161::ID_CT_TST_INFO;
use der::Encode;
use der::asn1::OctetString;
use hcpki_pkix::asn1::ber;
use hcpki_pkix::asn1::signed_data::ReceivedSignedData;
use x509_cert::Certificate;
use x509_cert::ext::pkix::ExtendedKeyUsage;

/// A token read from outside; see the module documentation.
#[derive(Clone, Debug)]
pub struct ReceivedToken {
    signed: ReceivedSignedData,
    encoding: Vec<u8>,
    tst_info_der: Vec<u8>,
    tst_info: TstInfo,
}

impl ReceivedToken {
    /// What errors call it.
    const WHAT: &'static str = "time-stamp token";

    /// Read `bytes`, the TimeStampToken (ContentInfo) as received: BER, one signer, DER signed attributes, an
    /// encapsulated TSTInfo that decodes.
    pub fn read(bytes: &[u8]) -> Result<Self, TokenError> {
        let signed = ReceivedSignedData::read(bytes, Self::WHAT)?;
        let encap = &signed.data().encap_content_info;
        if encap.econtent_type != ID_CT_TST_INFO {
            return Err(TokenError::NotTstInfo(encap.econtent_type.to_string()));
        }
        let content = encap.econtent.as_ref().ok_or(TokenError::NoTstInfo)?;
        // The eContent was rewritten in definite form (a segmented OCTET STRING joined): its value is the TSTInfo
        // octets the messageDigest covers (RFC 5652 §5.4).
        let octets: OctetString = content.decode_as().map_err(|e: der::Error| TokenError::TstInfo(e.to_string()))?;
        let tst_info_der = octets.as_bytes().to_vec();
        let tst_info: TstInfo = ber::decode(&tst_info_der).map_err(|e| TokenError::TstInfo(e.to_string()))?;
        Ok(Self { signed, encoding: bytes.to_vec(), tst_info_der, tst_info })
    }

    /// The token as received (what a signature embeds).
    pub fn encoding(&self) -> &[u8] {
        &self.encoding
    }

    /// What the token says.
    pub fn tst_info(&self) -> &TstInfo {
        &self.tst_info
    }

    /// The SignedData, with the octets of its parts.
    pub fn signed_data(&self) -> &ReceivedSignedData {
        &self.signed
    }

    /// The certificates the token carries, in the order received.
    pub fn certificates(&self) -> Vec<Certificate> {
        self.signed.certificates()
    }

    /// The acceptance of the token on its own terms (see the module documentation); the TSA certificate.
    pub fn verify(&self) -> Result<Certificate, TokenError> {
        if self.tst_info.version != 1 {
            return Err(TokenError::Version(self.tst_info.version));
        }
        if let Some(critical) = self.tst_info.extensions.iter().flatten().find(|e| e.critical) {
            return Err(TokenError::CriticalExtension(critical.extn_id.to_string()));
        }
        let info = self.signed.signer_info();
        let tsa = self.signed.signer_certificate().ok_or(TokenError::NoCertificate)?;
        let signed = self.signed.signed_attributes_der();
        let attributes = signature::verify(info, &signed, &self.tst_info_der, &tsa)?;
        let der =
            tsa.to_der().map_err(|e| TokenError::Binding(format!("the TSA certificate does not re-encode ({e})")))?;
        binding::check(attributes, &tsa, &der).map_err(TokenError::Binding)?;
        match tsa.tbs_certificate().get_extension::<ExtendedKeyUsage>() {
            Ok(Some((_, eku))) if eku.0.contains(&hcpki_pkix::oid::KP_TIME_STAMPING) => Ok(tsa),
            _ => Err(TokenError::NotTsa(tsa.tbs_certificate().subject().to_string())),
        }
    }
}
