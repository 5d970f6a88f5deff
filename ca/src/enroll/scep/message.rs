//! The SCEP `PKIMessage` (RFC 8894 §3.2): a CMS SignedData whose content is the `pkcsPKIEnvelope` and whose
//! signed attributes carry the SCEP fields:
//!
//! ```text
//! ContentInfo { id-signedData, SignedData {
//!     encapContentInfo { id-data, OCTET STRING (DER of ContentInfo { id-envelopedData, … }) } -- absent on
//!                                                                   -- FAILURE and PENDING answers
//!     certificates { signer certificate },
//!     signerInfos { SignerInfo { sid IssuerAndSerialNumber, signedAttrs {
//!         contentType, messageDigest,
//!         id-messageType  (2.16.840.1.113733.1.9.2) PrintableString "19" PKCSReq …
//!         id-pkiStatus    (…9.3)  PrintableString "0" SUCCESS, "2" FAILURE, "3" PENDING   -- CertRep only
//!         id-failInfo     (…9.4)  PrintableString "0".."4"                                -- on FAILURE
//!         id-senderNonce  (…9.5)  OCTET STRING, id-recipientNonce (…9.6) OCTET STRING   -- CertRep only
//!         id-transactionID (…9.7) PrintableString } } } } }
//! ```

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use const_oid::db::rfc5912;
use der::asn1::{Any, OctetString, PrintableString, SetOfVec};
use der::{Decode, Encode, Tag, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::certificate::{CertificateInner, Raw};
use x509_cert::serial_number::SerialNumber;

const ID_MESSAGE_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.2");
const ID_PKI_STATUS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.3");
const ID_FAIL_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.4");
const ID_SENDER_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.5");
const ID_RECIPIENT_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.6");
const ID_TRANSACTION_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.7");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// The request message types (RFC 8894 §3.2.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// 17: renewal signed by the current certificate.
    RenewalReq,
    /// 19: enrollment.
    PkcsReq,
    /// 20: poll for a pending request (GetCertInitial).
    CertPoll,
    /// 21: fetch a certificate by issuer and serial.
    GetCert,
    /// 22: fetch the CRL covering a certificate.
    GetCrl,
}

impl MessageType {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "17" => Some(Self::RenewalReq),
            "19" => Some(Self::PkcsReq),
            "20" => Some(Self::CertPoll),
            "21" => Some(Self::GetCert),
            "22" => Some(Self::GetCrl),
            _ => None,
        }
    }

    /// The name RFC 8894 gives it, for logs and audit.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RenewalReq => "RenewalReq",
            Self::PkcsReq => "PKCSReq",
            Self::CertPoll => "CertPoll",
            Self::GetCert => "GetCert",
            Self::GetCrl => "GetCRL",
        }
    }
}

/// `failInfo` values (RFC 8894 §3.2.1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailInfo {
    /// 0: unrecognised or unsupported algorithm.
    BadAlg,
    /// 1: integrity check (signature) failed.
    BadMessageCheck,
    /// 2: transaction not permitted or supported.
    BadRequest,
    /// 3: signingTime too far off.
    BadTime,
    /// 4: no certificate matches the criteria.
    BadCertId,
}

impl FailInfo {
    fn code(self) -> &'static str {
        match self {
            Self::BadAlg => "0",
            Self::BadMessageCheck => "1",
            Self::BadRequest => "2",
            Self::BadTime => "3",
            Self::BadCertId => "4",
        }
    }

    /// The RFC name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadAlg => "badAlg",
            Self::BadMessageCheck => "badMessageCheck",
            Self::BadRequest => "badRequest",
            Self::BadTime => "badTime",
            Self::BadCertId => "badCertId",
        }
    }
}

/// The fields every answer echoes: known once the signed attributes decoded, trusted or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// What was asked.
    pub message_type: MessageType,
    /// The client's transaction ID (PrintableString).
    pub transaction_id: String,
    /// The client's nonce, returned as recipientNonce.
    pub sender_nonce: Vec<u8>,
}

/// A requester's certificate as sent, serial of any length.
pub type SignerCertificate = CertificateInner<Raw>;

/// SignedData as clients send it: like [`SignedData`], but certificates and signer IDs are read without
/// RFC 5280's 20-octet serial limit, which self-signed SCEP signer certificates exceed (certmonger: 32).
#[derive(Clone, Debug, der::Sequence)]
struct ReceivedSignedData {
    version: CmsVersion,
    digest_algorithms: SetOfVec<Any>,
    encap_content_info: EncapsulatedContentInfo,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true", optional = "true")]
    certificates: Option<SetOfVec<Any>>,
    signer_infos: SetOfVec<Any>,
}

/// SignerInfo with an issuerAndSerialNumber signer ID (what SCEP clients send), serial of any length.
#[derive(Clone, Debug, der::Sequence)]
struct ReceivedSignerInfo {
    version: CmsVersion,
    sid: RawIssuerAndSerialNumber,
    digest_alg: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    signed_attrs: Option<SetOfVec<Attribute>>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: OctetString,
}

/// `IssuerAndSerialNumber` (RFC 5652 §10.2.4) with a serial of any length.
#[derive(Clone, Debug, PartialEq, Eq, der::Sequence)]
pub struct RawIssuerAndSerialNumber {
    /// The issuer.
    pub issuer: x509_cert::name::Name,
    /// The serial.
    pub serial_number: SerialNumber<Raw>,
}

/// A request whose signature checked out.
#[derive(Debug)]
pub struct PkiMessage {
    /// Type, transaction and nonce.
    pub header: Header,
    /// The signer's certificate (self-signed for a first enrollment, the current one for a renewal), read
    /// without RFC 5280's limits: certmonger's self-signed certificates have 32-byte serials.
    pub signer: SignerCertificate,
    /// Its DER.
    pub signer_der: Vec<u8>,
    /// The `pkcsPKIEnvelope` (DER ContentInfo), still encrypted.
    pub envelope: Vec<u8>,
}

/// Why a request is not accepted as a PKIMessage.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {
    /// Not a SignedData with SCEP attributes: answered with HTTP 400, since there is nothing to answer to.
    #[error("not a SCEP PKIMessage: {0}")]
    Undecodable(String),
    /// A PKIMessage that fails a check: answered with a signed CertRep FAILURE.
    #[error("{reason}")]
    Rejected {
        /// What to echo.
        header: Header,
        /// The failInfo.
        fail: FailInfo,
        /// Why, for the log and audit.
        reason: String,
    },
}

/// Decode a PKIMessage and verify its signature and message digest.
pub fn parse(der: &[u8]) -> Result<PkiMessage, MessageError> {
    let undecodable = |what: String| MessageError::Undecodable(what);
    let info =
        ContentInfo::from_der(der).map_err(|e| undecodable(format!("the body is not a CMS ContentInfo ({e})")))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(undecodable(format!("content type {} is not signedData", info.content_type)));
    }
    let signed: ReceivedSignedData =
        info.content.decode_as().map_err(|e| undecodable(format!("the content is not a SignedData ({e})")))?;
    let [signer_info] = signed.signer_infos.as_slice() else {
        return Err(undecodable(format!("{} signers; a PKIMessage has exactly one", signed.signer_infos.len())));
    };
    let signer_info: ReceivedSignerInfo =
        signer_info.decode_as().map_err(|e| undecodable(format!("the SignerInfo does not decode ({e})")))?;
    let attrs = signer_info.signed_attrs.as_ref().ok_or_else(|| undecodable("no signed attributes".into()))?;
    let text = |oid| attribute(attrs, oid).and_then(string_value);
    let message_type = text(ID_MESSAGE_TYPE).ok_or_else(|| undecodable("no messageType attribute".into()))?;
    let message_type = MessageType::parse(&message_type)
        .ok_or_else(|| undecodable(format!("messageType {message_type:?} is not a SCEP request")))?;
    let transaction_id = text(ID_TRANSACTION_ID).ok_or_else(|| undecodable("no transactionID attribute".into()))?;
    let sender_nonce = attribute(attrs, ID_SENDER_NONCE)
        .and_then(|a| a.decode_as::<OctetString>().ok())
        .ok_or_else(|| undecodable("no senderNonce attribute".into()))?
        .into_bytes()
        .into_vec();
    let header = Header { message_type, transaction_id, sender_nonce };
    let reject = |fail, reason: String| MessageError::Rejected { header: header.clone(), fail, reason };

    let econtent = signed
        .encap_content_info
        .econtent
        .as_ref()
        .filter(|_| signed.encap_content_info.econtent_type == ID_DATA)
        .and_then(|c| c.decode_as::<OctetString>().ok())
        .ok_or_else(|| reject(FailInfo::BadRequest, "the SignedData carries no id-data pkcsPKIEnvelope".into()))?;
    let (signer, signer_der) = signer_certificate(&signed, &signer_info.sid)
        .ok_or_else(|| reject(FailInfo::BadMessageCheck, "the signer's certificate is not in the message".into()))?;
    let digest = digest_algorithm(signer_info.digest_alg.oid)
        .ok_or_else(|| reject(FailInfo::BadAlg, format!("digest {} is not supported", signer_info.digest_alg.oid)))?;
    let expected = aws_lc_rs::digest::digest(digest.digest, econtent.as_bytes());
    let digest_ok = attribute(attrs, ID_MESSAGE_DIGEST)
        .and_then(|a| a.decode_as::<OctetString>().ok())
        .is_some_and(|d| d.as_bytes() == expected.as_ref());
    if !digest_ok {
        return Err(reject(FailInfo::BadMessageCheck, "messageDigest does not match the content".into()));
    }
    let signed_bytes =
        signed_attributes_as_sent(der, attrs).map_err(|e| reject(FailInfo::BadMessageCheck, e.to_string()))?;
    let spki = signer.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid != rfc5912::RSA_ENCRYPTION {
        return Err(reject(FailInfo::BadAlg, "the signer key is not RSA (SCEP answers are encrypted to it)".into()));
    }
    aws_lc_rs::signature::UnparsedPublicKey::new(digest.rsa, spki.subject_public_key.raw_bytes())
        .verify(&signed_bytes, signer_info.signature.as_bytes())
        .map_err(|_| reject(FailInfo::BadMessageCheck, "the signature does not verify".into()))?;
    Ok(PkiMessage { header, signer, signer_der, envelope: econtent.into_bytes().into_vec() })
}

/// The signed attributes as the signer encoded them, which is what it signed (RFC 5652 §5.4: the DER of
/// the SET OF). Decoding sorts a SET OF, but Go's PKCS#7 (micromdm scepclient) sends its attributes in
/// insertion order, so re-encoding the decoded set would not give the signed bytes back. Each attribute
/// re-encodes to its own bytes, so the order is recovered from where each one sits in the message.
fn signed_attributes_as_sent(message: &[u8], attrs: &SetOfVec<Attribute>) -> der::Result<Vec<u8>> {
    let mut found: Vec<(usize, Vec<u8>)> = Vec::with_capacity(attrs.len());
    for a in attrs.iter() {
        let bytes = a.to_der()?;
        let Some(at) = message.windows(bytes.len()).position(|w| w == bytes.as_slice()) else {
            return attrs.to_der();
        };
        found.push((at, bytes));
    }
    found.sort_by_key(|(at, _)| *at);
    let body: Vec<u8> = found.into_iter().flat_map(|(_, b)| b).collect();
    let header = der::Header::new(Tag::Set, der::Length::try_from(body.len())?);
    let mut out = header.to_der()?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// What an answer says.
#[derive(Debug)]
pub enum Status {
    /// Granted: the DER of the pkcsPKIEnvelope holding the certs-only answer.
    Success(Vec<u8>),
    /// Refused.
    Failure(FailInfo),
    /// Waiting for an operator.
    Pending,
}

/// Build a CertRep (messageType 3) answering `header`, signed by the RA.
pub fn cert_rep(
    header: &Header,
    status: &Status,
    ra_certificate: &[u8],
    ra_key: &dyn hcpki_pkix::keys::KeySource,
) -> Result<Vec<u8>, hcpki_pkix::keys::KeyError> {
    let content = match status {
        Status::Success(envelope) => Some(envelope.as_slice()),
        Status::Failure(_) | Status::Pending => None,
    };
    let (pki_status, fail) = match status {
        Status::Success(_) => ("0", None),
        Status::Failure(f) => ("2", Some(*f)),
        Status::Pending => ("3", None),
    };
    let nonce = hcpki_pkix::keys::random_secret(16)?;
    let mut attrs = vec![
        attr(ID_MESSAGE_TYPE, printable("3")?)?,
        attr(ID_PKI_STATUS, printable(pki_status)?)?,
        attr(ID_TRANSACTION_ID, printable(&header.transaction_id)?)?,
        attr(ID_SENDER_NONCE, Any::encode_from(&OctetString::new(nonce.as_slice())?)?)?,
        attr(ID_RECIPIENT_NONCE, Any::encode_from(&OctetString::new(header.sender_nonce.as_slice())?)?)?,
    ];
    if let Some(f) = fail {
        attrs.push(attr(ID_FAIL_INFO, printable(f.code())?)?);
    }
    signed_by_ra(content, attrs, ra_certificate, ra_key)
}

/// The `GetNextCACert` answer (RFC 8894 §4.7.2): a SignedData signed by the RA (as every answer, so a client
/// that trusts the current CA can check it) whose content is `certs_only`, the degenerate certs-only SignedData
/// holding the CA's next generation.
pub fn next_ca_certificate(
    certs_only: &[u8],
    ra_certificate: &[u8],
    ra_key: &dyn hcpki_pkix::keys::KeySource,
) -> Result<Vec<u8>, hcpki_pkix::keys::KeyError> {
    signed_by_ra(Some(certs_only), Vec::new(), ra_certificate, ra_key)
}

/// A SignedData over `content` (id-data), signed by the RA with the contentType and messageDigest attributes
/// CMS requires and `scep_attrs`, carrying the RA certificate.
fn signed_by_ra(
    content: Option<&[u8]>,
    scep_attrs: Vec<Attribute>,
    ra_certificate: &[u8],
    ra_key: &dyn hcpki_pkix::keys::KeySource,
) -> Result<Vec<u8>, hcpki_pkix::keys::KeyError> {
    let ra = Certificate::from_der(ra_certificate)?;
    let mut attrs = vec![
        attr(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
        attr(ID_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(sha256(content.unwrap_or_default()))?)?)?,
    ];
    attrs.extend(scep_attrs);
    let attrs = SetOfVec::try_from(attrs)?;
    let signature = ra_key.sign(&attrs.to_der()?)?;
    let sha256_alg = AlgorithmIdentifierOwned { oid: SHA256, parameters: None };
    let tbs = ra.tbs_certificate();
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: sha256_alg.clone(),
        signed_attrs: Some(attrs),
        // rsaEncryption, as RFC 3370 §3.2 writes PKCS#1 v1.5 in CMS (the digest is digestAlgorithm):
        // strongSwan accepts nothing else here; OpenSSL accepts both.
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: rfc5912::RSA_ENCRYPTION,
            parameters: Some(Any::encode_from(&der::asn1::Null)?),
        },
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let mut digests = SetOfVec::new();
    digests.insert(sha256_alg)?;
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: digests,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: content.map(|c| OctetString::new(c).and_then(|o| Any::encode_from(&o))).transpose()?,
        },
        certificates: Some(CertificateSet::try_from(vec![CertificateChoices::Certificate(ra)])?),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info])?,
    };
    Ok(ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed)? }.to_der()?)
}

/// The first value of a signed attribute.
fn attribute(attrs: &SetOfVec<Attribute>, oid: ObjectIdentifier) -> Option<&Any> {
    attrs.iter().find(|a| a.oid == oid).and_then(|a| a.values.iter().next())
}

/// A PrintableString (or any of the string types some clients put there instead).
fn string_value(value: &Any) -> Option<String> {
    matches!(value.tag(), Tag::PrintableString | Tag::Utf8String | Tag::Ia5String | Tag::TeletexString)
        .then(|| String::from_utf8(value.value().to_vec()).ok())
        .flatten()
}

/// The signer's certificate: the one in the SignedData its SignerIdentifier names.
fn signer_certificate(
    signed: &ReceivedSignedData,
    sid: &RawIssuerAndSerialNumber,
) -> Option<(SignerCertificate, Vec<u8>)> {
    signed.certificates.as_ref()?.iter().find_map(|any| {
        let cert: SignerCertificate = any.decode_as().ok()?;
        let tbs = cert.tbs_certificate();
        (&sid.issuer == tbs.issuer() && &sid.serial_number == tbs.serial_number())
            .then(|| any.to_der().ok().map(|der| (cert.clone(), der)))
            .flatten()
    })
}

struct Digest {
    digest: &'static aws_lc_rs::digest::Algorithm,
    rsa: &'static aws_lc_rs::signature::RsaParameters,
}

/// The digests SCEP clients sign with. SHA-1 stays accepted for old devices that know nothing else; the
/// signature only binds the request to the key the CSR proves again, so no certificate rests on SHA-1.
fn digest_algorithm(oid: ObjectIdentifier) -> Option<Digest> {
    use aws_lc_rs::{digest, signature};
    Some(match oid {
        o if o == SHA1 => Digest {
            digest: &digest::SHA1_FOR_LEGACY_USE_ONLY,
            rsa: &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        },
        o if o == SHA256 => Digest { digest: &digest::SHA256, rsa: &signature::RSA_PKCS1_2048_8192_SHA256 },
        o if o == SHA384 => Digest { digest: &digest::SHA384, rsa: &signature::RSA_PKCS1_2048_8192_SHA384 },
        o if o == SHA512 => Digest { digest: &digest::SHA512, rsa: &signature::RSA_PKCS1_2048_8192_SHA512 },
        _ => return None,
    })
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref().to_vec()
}

fn printable(text: &str) -> der::Result<Any> {
    Any::encode_from(&PrintableString::new(text)?)
}

fn attr(oid: ObjectIdentifier, value: Any) -> der::Result<Attribute> {
    let mut values = SetOfVec::new();
    values.insert(value)?;
    Ok(Attribute { oid, values })
}
