//! OCSP messages (RFC 6960 §4.1.1 and §4.2.1), written with `der` because x509-ocsp has no release on the
//! der 0.8 / x509-cert 0.3 stack (see `shared/reference/crates.md`).
//!
//! ```text
//! -- RFC 6960 Appendix B.1 (module with EXPLICIT TAGS)
//! OCSPRequest ::= SEQUENCE {
//!     tbsRequest                  TBSRequest,
//!     optionalSignature   [0]     EXPLICIT Signature OPTIONAL }
//! TBSRequest ::= SEQUENCE {
//!     version             [0]     EXPLICIT Version DEFAULT v1,
//!     requestorName       [1]     EXPLICIT GeneralName OPTIONAL,
//!     requestList                 SEQUENCE OF Request,
//!     requestExtensions   [2]     EXPLICIT Extensions OPTIONAL }
//! Signature ::= SEQUENCE {
//!     signatureAlgorithm      AlgorithmIdentifier,
//!     signature               BIT STRING,
//!     certs               [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
//! Request ::= SEQUENCE {
//!     reqCert                     CertID,
//!     singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
//! CertID ::= SEQUENCE {
//!     hashAlgorithm       AlgorithmIdentifier,
//!     issuerNameHash      OCTET STRING, -- Hash of issuer's DN
//!     issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
//!     serialNumber        CertificateSerialNumber }
//! OCSPResponse ::= SEQUENCE {
//!     responseStatus         OCSPResponseStatus,
//!     responseBytes          [0] EXPLICIT ResponseBytes OPTIONAL }
//! OCSPResponseStatus ::= ENUMERATED { successful (0), malformedRequest (1), internalError (2),
//!     tryLater (3), sigRequired (5), unauthorized (6) }
//! ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING }
//! BasicOCSPResponse ::= SEQUENCE {
//!     tbsResponseData      ResponseData,
//!     signatureAlgorithm   AlgorithmIdentifier,
//!     signature            BIT STRING,
//!     certs            [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
//! ResponseData ::= SEQUENCE {
//!     version              [0] EXPLICIT Version DEFAULT v1,
//!     responderID              ResponderID,
//!     producedAt               GeneralizedTime,
//!     responses                SEQUENCE OF SingleResponse,
//!     responseExtensions   [1] EXPLICIT Extensions OPTIONAL }
//! ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }
//! KeyHash ::= OCTET STRING -- SHA-1 hash of responder's public key (excluding the tag and length fields)
//! SingleResponse ::= SEQUENCE {
//!     certID                       CertID,
//!     certStatus                   CertStatus,
//!     thisUpdate                   GeneralizedTime,
//!     nextUpdate         [0]       EXPLICIT GeneralizedTime OPTIONAL,
//!     singleExtensions   [1]       EXPLICIT Extensions OPTIONAL }
//! CertStatus ::= CHOICE {
//!     good        [0]     IMPLICIT NULL,
//!     revoked     [1]     IMPLICIT RevokedInfo,
//!     unknown     [2]     IMPLICIT UnknownInfo }
//! RevokedInfo ::= SEQUENCE {
//!     revocationTime              GeneralizedTime,
//!     revocationReason    [0]     EXPLICIT CRLReason OPTIONAL }
//! UnknownInfo ::= NULL
//! ```
//!
//! The serial number is a plain INTEGER here, not x509-cert's `SerialNumber`: a request may name any
//! serial (negative, over 20 octets), and the answer to that is `unknown`, not a decoding error.

use der::asn1::{BitString, GeneralizedTime, Int, Null, ObjectIdentifier, OctetString};
use der::{Any, Choice, Enumerated, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::CrlReason;
use x509_cert::name::Name;

/// `id-pkix-ocsp-basic` (RFC 6960 §4.2.1).
pub const ID_PKIX_OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// `id-pkix-ocsp-nonce` (RFC 6960 §4.4.1, RFC 8954).
pub const ID_PKIX_OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");

/// `Version ::= INTEGER { v1(0) }`.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, PartialOrd, Ord, Enumerated)]
#[asn1(type = "INTEGER")]
#[repr(u8)]
pub enum OcspVersion {
    /// The only version.
    #[default]
    V1 = 0,
}

/// `OCSPRequest`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OcspRequest {
    /// `tbsRequest`.
    pub tbs_request: TbsRequest,
    /// `optionalSignature [0] EXPLICIT`.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub optional_signature: Option<OcspSignature>,
}

/// `TBSRequest`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TbsRequest {
    /// `version [0] EXPLICIT DEFAULT v1`.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", default = "Default::default")]
    pub version: OcspVersion,
    /// `requestorName [1] EXPLICIT GeneralName` — kept opaque: hcpki answers unsigned requests and does not
    /// act on who claims to ask.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub requestor_name: Option<Any>,
    /// `requestList`.
    pub request_list: Vec<Request>,
    /// `requestExtensions [2] EXPLICIT` (the nonce).
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub request_extensions: Option<Extensions>,
}

/// `Signature` (of a signed request).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OcspSignature {
    /// `signatureAlgorithm`.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// `signature`.
    pub signature: BitString,
    /// `certs [0] EXPLICIT`.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub certs: Option<Vec<Certificate>>,
}

/// `Request`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct Request {
    /// `reqCert`.
    pub req_cert: CertId,
    /// `singleRequestExtensions [0] EXPLICIT`.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub single_request_extensions: Option<Extensions>,
}

/// `CertID`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CertId {
    /// `hashAlgorithm` (SHA-1 or SHA-256 here).
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// `issuerNameHash`.
    pub issuer_name_hash: OctetString,
    /// `issuerKeyHash`.
    pub issuer_key_hash: OctetString,
    /// `serialNumber`.
    pub serial_number: Int,
}

/// `OCSPResponseStatus`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, PartialOrd, Ord, Enumerated)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum OcspResponseStatus {
    Successful = 0,
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SigRequired = 5,
    Unauthorized = 6,
}

/// `OCSPResponse`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OcspResponse {
    /// `responseStatus`.
    pub response_status: OcspResponseStatus,
    /// `responseBytes [0] EXPLICIT` (only with `successful`).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub response_bytes: Option<ResponseBytes>,
}

/// `ResponseBytes`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct ResponseBytes {
    /// `responseType` (`id-pkix-ocsp-basic`).
    pub response_type: ObjectIdentifier,
    /// `response`: the DER `BasicOCSPResponse`.
    pub response: OctetString,
}

/// `BasicOCSPResponse`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct BasicOcspResponse {
    /// `tbsResponseData`.
    pub tbs_response_data: ResponseData,
    /// `signatureAlgorithm`.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// `signature`.
    pub signature: BitString,
    /// `certs [0] EXPLICIT`: the delegated responder's certificate.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub certs: Option<Vec<Certificate>>,
}

/// `ResponseData`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct ResponseData {
    /// `version [0] EXPLICIT DEFAULT v1`.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", default = "Default::default")]
    pub version: OcspVersion,
    /// `responderID`.
    pub responder_id: ResponderId,
    /// `producedAt`.
    pub produced_at: GeneralizedTime,
    /// `responses`.
    pub responses: Vec<SingleResponse>,
    /// `responseExtensions [1] EXPLICIT` (the nonce echoed).
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub response_extensions: Option<Extensions>,
}

/// `ResponderID` (EXPLICIT tags: the module's default).
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum ResponderId {
    /// `byName [1] Name`.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    ByName(Name),
    /// `byKey [2] KeyHash`: SHA-1 of the responder key's BIT STRING contents.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
    ByKey(OctetString),
}

/// `SingleResponse`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SingleResponse {
    /// `certID`, as asked.
    pub cert_id: CertId,
    /// `certStatus`.
    pub cert_status: CertStatus,
    /// `thisUpdate`.
    pub this_update: GeneralizedTime,
    /// `nextUpdate [0] EXPLICIT`.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub next_update: Option<GeneralizedTime>,
    /// `singleExtensions [1] EXPLICIT`.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub single_extensions: Option<Extensions>,
}

/// `CertStatus` (IMPLICIT tags, as written in the module).
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum CertStatus {
    /// `good [0] IMPLICIT NULL`.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    Good(Null),
    /// `revoked [1] IMPLICIT RevokedInfo`.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    Revoked(RevokedInfo),
    /// `unknown [2] IMPLICIT NULL`.
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
    Unknown(Null),
}

/// `RevokedInfo`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RevokedInfo {
    /// `revocationTime`.
    pub revocation_time: GeneralizedTime,
    /// `revocationReason [0] EXPLICIT CRLReason`.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub revocation_reason: Option<CrlReason>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    fn cert_id(serial: &[u8]) -> CertId {
        CertId {
            hash_algorithm: AlgorithmIdentifierOwned { oid: const_oid::db::rfc5912::ID_SHA_1, parameters: None },
            issuer_name_hash: OctetString::new(vec![1u8; 20]).unwrap(),
            issuer_key_hash: OctetString::new(vec![2u8; 20]).unwrap(),
            serial_number: Int::new(serial).unwrap(),
        }
    }

    #[test]
    fn request_round_trips_and_version_default_is_omitted() {
        let req = OcspRequest {
            tbs_request: TbsRequest {
                version: OcspVersion::V1,
                requestor_name: None,
                request_list: vec![Request { req_cert: cert_id(&[0x01, 0x02]), single_request_extensions: None }],
                request_extensions: None,
            },
            optional_signature: None,
        };
        let der = req.to_der().unwrap();
        // SEQUENCE { SEQUENCE { SEQUENCE OF ... } }: no [0] version inside the TBSRequest.
        assert_eq!(der[2], 0x30);
        assert_ne!(der[4], 0xa0);
        assert_eq!(OcspRequest::from_der(&der).unwrap(), req);
    }

    #[test]
    fn statuses_encode_with_their_tags() {
        let good = CertStatus::Good(Null).to_der().unwrap();
        assert_eq!(good, [0x80, 0x00]);
        let unknown = CertStatus::Unknown(Null).to_der().unwrap();
        assert_eq!(unknown, [0x82, 0x00]);
        let revoked = CertStatus::Revoked(RevokedInfo {
            revocation_time: GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(1_700_000_000))
                .unwrap(),
            revocation_reason: Some(CrlReason::KeyCompromise),
        })
        .to_der()
        .unwrap();
        assert_eq!(revoked[0], 0xa1);
        assert_eq!(CertStatus::from_der(&revoked).unwrap().to_der().unwrap(), revoked);
        let status = OcspResponse { response_status: OcspResponseStatus::MalformedRequest, response_bytes: None };
        assert_eq!(status.to_der().unwrap(), [0x30, 0x03, 0x0a, 0x01, 0x01]);
    }

    /// Requests made by `openssl ocsp -issuer ca.pem -serial 0x1234 [-sha256] -reqout` (OpenSSL 3.0): SHA-1 and
    /// SHA-256 CertIDs, each with a nonce.
    #[test]
    fn openssl_requests_decode() {
        let sha1 = "30683066303f303d303b300906052b0e03021a0500041476b3b6f408e4a7f0006b430211595e17ad61ad0f041459a20b0c13\
                    487d9ea506316a52a662536de175f502021234a2233021301f06092b06010505073001020412041028bdb27b9d889c1e70\
                    010dde9031b0dd";
        let sha256 = "308185308182305b30593057300d0609608648016503040201050004204b51ded2dd13125474491c94c8e6e468e2d054b54f\
                      835c2fee8356ea38cb22100420fab0500eb000322b1ad1ef7d8a12fdcc382920ee0ddf39b2677cb57eb5d25af3020212\
                      34a2233021301f06092b060105050730010204120410b2ace95fd26b4eaff48d41db6698c971";
        for (text, oid, hash_len) in
            [(sha1, const_oid::db::rfc5912::ID_SHA_1, 20), (sha256, const_oid::db::rfc5912::ID_SHA_256, 32)]
        {
            let compact: String = text.split_whitespace().collect();
            let der = hex::decode(compact).unwrap();
            let req = OcspRequest::from_der(&der).unwrap();
            let [one] = req.tbs_request.request_list.as_slice() else { panic!("one request") };
            assert_eq!(one.req_cert.hash_algorithm.oid, oid);
            assert_eq!(one.req_cert.issuer_key_hash.as_bytes().len(), hash_len);
            assert_eq!(one.req_cert.serial_number.as_bytes(), [0x12, 0x34]);
            let ext = req.tbs_request.request_extensions.as_ref().unwrap();
            assert_eq!(ext[0].extn_id, ID_PKIX_OCSP_NONCE);
            assert_eq!(req.to_der().unwrap(), der, "re-encodes byte for byte");
        }
    }

    /// A response made by `openssl ocsp -index … -rsigner … -reqin` (OpenSSL 3.0): decodes, its BasicOCSPResponse
    /// decodes, names the requested serial as good, echoes the nonce, and both re-encode byte for byte.
    #[test]
    fn openssl_response_decodes() {
        let der = include_bytes!("../../../fuzz/seeds/der_types/ocsp-response-good.der");
        let response = OcspResponse::from_der(der).unwrap();
        assert_eq!(response.response_status, OcspResponseStatus::Successful);
        let bytes = response.response_bytes.as_ref().unwrap();
        assert_eq!(bytes.response_type, ID_PKIX_OCSP_BASIC);
        let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).unwrap();
        let [single] = basic.tbs_response_data.responses.as_slice() else { panic!("one response") };
        assert_eq!(single.cert_id.serial_number.as_bytes(), [0x12, 0x34]);
        assert_eq!(single.cert_status, CertStatus::Good(Null));
        assert!(matches!(basic.tbs_response_data.responder_id, ResponderId::ByName(_)));
        let ext = basic.tbs_response_data.response_extensions.as_ref().unwrap();
        assert_eq!(ext[0].extn_id, ID_PKIX_OCSP_NONCE);
        assert_eq!(basic.to_der().unwrap(), bytes.response.as_bytes());
        assert_eq!(response.to_der().unwrap(), der);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&b""[..], b"\x30", b"\x30\x80", b"\x30\x03\x0a\x01\x04", b"\xff\xff\xff"] {
            assert!(OcspRequest::from_der(bytes).is_err());
            assert!(OcspResponse::from_der(bytes).is_err());
        }
    }
}
