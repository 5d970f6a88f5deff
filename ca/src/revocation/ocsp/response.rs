//! Signed OCSP responses (RFC 6960 §4.2) and the unsigned error responses.

use super::signer::{OcspError, OcspSigner};
use crate::revocation::CrlReason;
use crate::revocation::status::Revocation;
use der::Encode;
use der::asn1::{BitString, Null, OctetString};
use hcpki_pkix::asn1::ocsp::{
    BasicOcspResponse, CertId, CertStatus, ID_PKIX_OCSP_BASIC, OcspResponse, OcspResponseStatus, ResponderId,
    ResponseBytes, ResponseData, RevokedInfo, SingleResponse,
};
use hcpki_pkix::time::generalized;
use x509_cert::ext::Extension;

/// A certificate's status as answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Issued by the CA and not revoked.
    Good,
    /// Revoked (on hold included: certificateHold is a revocation reason).
    Revoked(Revocation),
    /// Not a certificate this CA issued.
    Unknown,
}

impl Status {
    /// Its name, for logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Revoked(_) => "revoked",
            Self::Unknown => "unknown",
        }
    }
}

/// One answer of a response: the CertID as asked and the status.
#[derive(Clone, Debug)]
pub struct Answer<'a> {
    /// The CertID exactly as the request carried it (clients match on it).
    pub cert_id: &'a CertId,
    /// The status.
    pub status: Status,
}

/// The validity window of a response (Unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// producedAt: when it was signed.
    pub produced_at: i64,
    /// thisUpdate: producedAt back-dated, so a relying party whose clock runs a little behind does not see
    /// an answer from the future.
    pub this_update: i64,
    /// nextUpdate.
    pub next_update: i64,
}

impl Window {
    /// When the answer is signed again: half-way from producedAt to nextUpdate (from the signing time, so
    /// the back-dating of thisUpdate does not bring re-signing forward).
    pub fn refresh_at(&self) -> i64 {
        self.produced_at + (self.next_update - self.produced_at) / 2
    }
}

/// A `successful` response with `answers`, the nonce echoed if given, signed by the delegated responder,
/// which is included so clients can verify it under the CA.
pub fn sign(
    signer: &OcspSigner,
    answers: &[Answer<'_>],
    nonce: Option<&Extension>,
    window: Window,
) -> Result<Vec<u8>, OcspError> {
    let this_update = generalized(window.this_update)?;
    let next_update = generalized(window.next_update)?;
    let responses = answers
        .iter()
        .map(|a| {
            Ok(SingleResponse {
                cert_id: a.cert_id.clone(),
                cert_status: cert_status(a.status)?,
                this_update,
                next_update: Some(next_update),
                single_extensions: None,
            })
        })
        .collect::<Result<Vec<_>, der::Error>>()?;
    let tbs = ResponseData {
        version: Default::default(),
        responder_id: ResponderId::ByKey(OctetString::new(signer.key_hash.as_slice())?),
        produced_at: generalized(window.produced_at)?,
        responses,
        response_extensions: nonce.map(|n| vec![n.clone()]),
    };
    let tbs_der = tbs.to_der()?;
    let signature = signer.key.sign(&tbs_der)?;
    let basic = BasicOcspResponse {
        tbs_response_data: tbs,
        signature_algorithm: signer.key.signature_algorithm(),
        signature: BitString::from_bytes(&signature)?,
        certs: Some(vec![signer.certificate.clone()]),
    };
    Ok(OcspResponse {
        response_status: OcspResponseStatus::Successful,
        response_bytes: Some(ResponseBytes {
            response_type: ID_PKIX_OCSP_BASIC,
            response: OctetString::new(basic.to_der()?)?,
        }),
    }
    .to_der()?)
}

/// An unsigned response carrying only an error status (RFC 6960 §2.3: these are not signed).
pub fn refusal(status: OcspResponseStatus) -> Vec<u8> {
    // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED }: five fixed octets, nothing to fail.
    vec![0x30, 0x03, 0x0a, 0x01, status as u8]
}

fn cert_status(status: Status) -> der::Result<CertStatus> {
    Ok(match status {
        Status::Good => CertStatus::Good(Null),
        Status::Unknown => CertStatus::Unknown(Null),
        Status::Revoked(r) => CertStatus::Revoked(RevokedInfo {
            revocation_time: generalized(r.at)?,
            // RFC 5280 §5.3.1: unspecified is never written; the CRL omits it too.
            revocation_reason: (r.reason.0 != CrlReason::Unspecified).then_some(r.reason.0),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;

    #[test]
    fn refusals_are_the_fixed_encoding() {
        for status in [OcspResponseStatus::MalformedRequest, OcspResponseStatus::Unauthorized] {
            let der = refusal(status);
            let parsed = OcspResponse::from_der(&der).unwrap();
            assert_eq!(parsed.response_status, status);
            assert_eq!(parsed.response_bytes, None);
            assert_eq!(parsed.to_der().unwrap(), der);
        }
    }
}
