//! SCEP (RFC 8894) as request → response, with no HTTP: the server hands over the endpoint and the message
//! bytes; this module decrypts, decides and answers with a signed `CertRep`, or an [`EnrollError`] the
//! server maps to 400/413/503 when there is no message to answer.
//!
//! * `GetCACaps`: [`caps`]. `GetCACert`: [`ca_certificates`], the RA certificate then the CA chain.
//! * `PKIOperation` ([`pki_operation`]):
//!   - `PKCSReq` with a challenge password: an enrollment credential made with `--protocol scep`. SCEP has
//!     no username, so the challenge is self-identifying: 32 hex characters of credential ID, then 32 of
//!     secret. Only the CSR's key is used; a router's requested DNS/IP SANs become the name request (as in
//!     EST); other requested extensions are ignored.
//!   - `PKCSReq` without one, whose CSR subject names its facility in `serialNumber`: held for an operator
//!     (`hcpki enroll pending approve|reject`); the client polls with `CertPoll` (or re-sends the PKCSReq).
//!   - `RenewalReq` (or a `PKCSReq` signed by a current certificate): same facility, profile and names as
//!     the signing certificate.
//!   - `GetCert` by issuer and serial; `GetCRL` (answered by the authority, see [`ScepAuthority::crl`]).
//!
//! Every refusal is a `CertRep` FAILURE with its failInfo, signed by the RA and audited.

pub mod envelope;
pub mod held;
pub mod message;

use super::credential::Protocol;
use super::{EnrollAuthority, EnrollError};
use crate::csr;
use crate::profile::ProfileKind;
use cms::cert::IssuerAndSerialNumber;
use der::Decode;
use envelope::{ContentCipher, EnvelopeError};
use hcpki_pkix::keys::Decrypter;
use message::{FailInfo, Header, MessageError, MessageType, PkiMessage, Status};
use std::sync::Arc;
use x509_cert::Certificate;
use x509_cert::name::Name;

/// Largest PKIOperation body accepted (a PKCSReq with a 4096-bit key is about 5 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// `GetCACert` with an RA: the RA certificate and the CA chain as a certs-only PKCS#7 (RFC 8894 §4.2.1.1.2).
pub const CA_RA_CERT: &str = "application/x-x509-ca-ra-cert";
/// `PKIOperation` requests and answers.
pub const PKI_MESSAGE: &str = "application/x-pki-message";
/// `GetCACaps`.
pub const CAPS: &str = "text/plain";

/// What the CA side offers SCEP beyond what every protocol gets: declared here, implemented by
/// [`crate::Authority`] in `authority/scep.rs`.
#[async_trait::async_trait]
pub trait ScepAuthority: EnrollAuthority {
    /// Hold a request without a challenge password for an operator's decision; audited. Refused when the
    /// facility does not exist or may not enroll.
    async fn hold(&self, request: PendingRequest) -> Result<(), EnrollError>;

    /// The state of a held request, by the client's transaction ID, on this profile's endpoint.
    async fn pending(&self, profile: ProfileKind, transaction_id: &str) -> Result<Option<Decision>, EnrollError>;

    /// A certificate of the CA issuing `profile`, by serial (hex), for `GetCert`.
    async fn certificate(&self, profile: ProfileKind, serial: &str) -> Result<Option<Vec<u8>>, EnrollError>;

    /// The CRL (DER) of the generation of the CA issuing `profile` named `issuer` (the issuer of the certificate
    /// `GetCRL` asks about), for `GetCRL`: after a rollover's switch each generation signs its own (D151, D160).
    async fn crl(&self, profile: ProfileKind, issuer: &Name) -> Result<Vec<u8>, EnrollError>;
}

/// A request held for an operator.
#[derive(Clone, Debug)]
pub struct PendingRequest {
    /// The client's transaction ID.
    pub transaction_id: String,
    /// The facility the CSR names (subject serialNumber), as sent.
    pub facility: String,
    /// The endpoint's profile.
    pub profile: ProfileKind,
    /// The CSR (DER), checked.
    pub csr: Vec<u8>,
}

/// An operator's decision on a held request, as a poll sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not decided yet.
    Pending,
    /// Approved and issued: the certificate (DER).
    Issued(Vec<u8>),
    /// Rejected, with the operator's reason.
    Rejected(String),
}

/// The RA: the identity SCEP clients encrypt to and whose signature they check on answers.
#[derive(Debug)]
pub struct Ra {
    /// Its certificate (DER), issued by the CA it serves.
    pub certificate: Vec<u8>,
    /// Its RSA key.
    pub key: Arc<dyn Decrypter>,
}

/// One SCEP URL: which profile it enrolls and how it talks.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `router` or `pc`.
    pub profile: ProfileKind,
    /// Whether DES and 3DES envelopes are accepted (and 3DES advertised). Off unless a legacy device needs it.
    pub legacy_ciphers: bool,
    /// Whether a CertRep carries the issuing CA certificate beside the new certificate (Cisco wants it,
    /// Juniper refuses it).
    pub include_ca: bool,
    /// The RA of the CA issuing `profile`.
    pub ra: Arc<Ra>,
}

/// `GetNextCACert`'s answer (RFC 8894 §4.7.2).
pub const NEXT_CA_CERT: &str = "application/x-x509-next-ca-cert";

/// `GetCACaps`: one capability per line, `GetNextCACert` while a rollover has published the next CA. SHA-384 is listed too (it is verified like the others), and
/// strongSwan 5.9.8 (Debian 12) depends on it: its `pki --scep` tests the capability *indices* as bit masks,
/// so with SHA-384 (bit 3) it finds "SHA-256", "AES" (through SCEPStandard) and "Renewal", and without it
/// refuses to enroll.
pub fn caps(endpoint: &Endpoint, next_ca: bool) -> String {
    let mut caps = vec!["AES", "POSTPKIOperation", "Renewal", "SHA-256", "SHA-384", "SHA-512", "SCEPStandard"];
    if next_ca {
        caps.push("GetNextCACert");
    }
    if endpoint.legacy_ciphers {
        caps.push("DES3");
    }
    caps.iter().map(|c| format!("{c}\n")).collect()
}

/// `GetCACert`: the RA certificate, then the issuing CA and the root, as a certs-only PKCS#7 (DER).
pub fn ca_certificates(authority: &dyn ScepAuthority, endpoint: &Endpoint) -> Result<Vec<u8>, EnrollError> {
    let mut certs = vec![endpoint.ra.certificate.clone()];
    certs.extend(authority.chain(endpoint.profile)?);
    super::pkcs7::certs_only(&certs).map_err(|e| EnrollError::Unavailable(format!("cannot encode GetCACert: {e}")))
}

/// `GetNextCACert` (RFC 8894 §4.7): the CA's next generation while a rollover has published it and it does not
/// issue yet, as a certs-only SignedData signed by the RA; `None` when there is none (then `GetCACaps` does not
/// list `GetNextCACert` either).
pub fn next_ca_certificate(authority: &dyn ScepAuthority, endpoint: &Endpoint) -> Result<Option<Vec<u8>>, EnrollError> {
    let Some(next) = authority.next_ca(endpoint.profile) else {
        return Ok(None);
    };
    let certs = super::pkcs7::certs_only(&[next])
        .map_err(|e| EnrollError::Unavailable(format!("cannot encode GetNextCACert: {e}")))?;
    message::next_ca_certificate(&certs, &endpoint.ra.certificate, endpoint.ra.key.as_ref()).map(Some).map_err(|e| {
        tracing::error!(error = %e, "cannot sign a SCEP GetNextCACert answer");
        EnrollError::Unavailable("the SCEP RA cannot sign now; retry later".into())
    })
}

/// `PKIOperation`: a PKIMessage in, a CertRep (DER) out.
pub async fn pki_operation(
    authority: &dyn ScepAuthority,
    endpoint: &Endpoint,
    body: &[u8],
) -> Result<Vec<u8>, EnrollError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large(authority).await);
    }
    let message = match message::parse(body) {
        Ok(m) => m,
        Err(MessageError::Undecodable(why)) => return Err(undecodable(authority, &why).await),
        Err(MessageError::Rejected { header, fail, reason }) => {
            tracing::info!(fail = fail.as_str(), reason, "SCEP request refused");
            authority.refused(Protocol::Scep, header.message_type.as_str(), &reason).await;
            return reply(endpoint, &header, &Status::Failure(fail));
        }
    };
    let status = match answer(authority, endpoint, &message).await {
        Ok(status) => status,
        Err(Refusal::Unavailable(e)) => return Err(e),
        Err(Refusal::Failure { fail, reason, audited }) => {
            if !audited {
                authority.refused(Protocol::Scep, message.header.message_type.as_str(), &reason).await;
            }
            tracing::info!(fail = fail.as_str(), reason, "SCEP request refused");
            Status::Failure(fail)
        }
    };
    reply(endpoint, &message.header, &status)
}

/// A PKIOperation that carries no PKIMessage (not CMS, not base64 in a GET): refused and audited.
pub async fn undecodable(authority: &dyn ScepAuthority, why: &str) -> EnrollError {
    let e = EnrollError::BadRequest(format!(
        "not a SCEP PKIMessage ({why}): send a CMS SignedData as RFC 8894 §3 describes"
    ));
    authority.refused(Protocol::Scep, "PKIOperation", &e.to_string()).await;
    e
}

/// A body over [`MAX_BODY_BYTES`], which the server stopped reading: refused and audited.
pub async fn too_large(authority: &dyn ScepAuthority) -> EnrollError {
    let e = EnrollError::TooLarge(format!("PKIOperation body over {MAX_BODY_BYTES} bytes: send one PKIMessage"));
    authority.refused(Protocol::Scep, "PKIOperation", &e.to_string()).await;
    e
}

/// Why a verified message gets no certificate.
enum Refusal {
    /// A CertRep FAILURE; `audited` when the authority recorded it already.
    Failure { fail: FailInfo, reason: String, audited: bool },
    /// The CA cannot answer now: no CertRep, HTTP 503.
    Unavailable(EnrollError),
}

impl Refusal {
    fn new(fail: FailInfo, reason: impl Into<String>) -> Self {
        Self::Failure { fail, reason: reason.into(), audited: false }
    }
}

/// Errors from the authority are audited there; only the CA's own trouble is not a CertRep.
impl From<EnrollError> for Refusal {
    fn from(e: EnrollError) -> Self {
        match e {
            // A halt is "not now" (D135, D141): HTTP 503 with `Retry-After`, not a CertRep. RFC 8894's only
            // "later" is PENDING, which needs the request kept for a poll, while a halted request is refused whole
            // (its challenge given back); a FAILURE would read as final (certmonger: CA_REJECTED, needing
            // `getcert resubmit`), where a 503 is the CA unreachable for now, which clients retry.
            EnrollError::Unavailable(_) | EnrollError::Halted(_) => Self::Unavailable(e),
            other => Self::Failure { fail: FailInfo::BadRequest, reason: other.to_string(), audited: true },
        }
    }
}

async fn answer(authority: &dyn ScepAuthority, endpoint: &Endpoint, message: &PkiMessage) -> Result<Status, Refusal> {
    let ra = Certificate::from_der(&endpoint.ra.certificate)
        .map_err(|e| Refusal::Unavailable(EnrollError::Unavailable(format!("the RA certificate is damaged: {e}"))))?;
    let (content, cipher) = envelope::open(&message.envelope, endpoint.ra.key.as_ref(), &ra, endpoint.legacy_ciphers)
        .map_err(|e| {
        let fail = match e {
            EnvelopeError::Algorithm(_) => FailInfo::BadAlg,
            _ => FailInfo::BadMessageCheck,
        };
        Refusal::new(fail, e.to_string())
    })?;
    let reply = Reply { authority, endpoint, recipient: &message.signer, cipher };
    match message.header.message_type {
        MessageType::PkcsReq | MessageType::RenewalReq => enroll(reply, message, &content).await,
        MessageType::CertPoll => match authority.pending(endpoint.profile, &message.header.transaction_id).await? {
            Some(decision) => reply.decision(decision),
            None => Err(Refusal::new(FailInfo::BadCertId, "no request is waiting under this transaction ID")),
        },
        MessageType::GetCert => {
            let serial = serial_of(&content)?;
            match authority.certificate(endpoint.profile, &serial).await? {
                Some(der) => reply.certificates(&[der]),
                None => Err(Refusal::new(FailInfo::BadCertId, format!("no certificate {serial} from this CA"))),
            }
        }
        MessageType::GetCrl => {
            let issuer = issuer_and_serial(&content)?.issuer;
            let crl = authority.crl(endpoint.profile, &issuer).await?;
            let degenerate = super::pkcs7::crl_only(&crl)
                .map_err(|e| Refusal::Unavailable(EnrollError::Unavailable(format!("cannot encode the CRL: {e}"))))?;
            reply.seal(&degenerate)
        }
    }
}

/// PKCSReq and RenewalReq.
async fn enroll(reply: Reply<'_>, message: &PkiMessage, csr_der: &[u8]) -> Result<Status, Refusal> {
    let (authority, endpoint) = (reply.authority, reply.endpoint);
    let csr = csr::parse(csr_der).map_err(|e| Refusal::new(FailInfo::BadRequest, e.to_string()))?;
    let signer = message.signer.tbs_certificate();
    let self_signed = signer.issuer() == signer.subject();
    if message.header.message_type == MessageType::RenewalReq || !self_signed {
        let holder = authority.holder(Protocol::Scep, &message.signer_der).await?;
        // Not `?`: that would mark the refusal as audited by the authority, which it is not.
        let grant =
            holder.own_grant(Some(endpoint.profile)).map_err(|e| Refusal::new(FailInfo::BadRequest, e.to_string()))?;
        let der = authority.issue(Protocol::Scep, &grant, csr.into(), holder.sans, holder.device).await?;
        return reply.issued(der);
    }
    if signer.subject_public_key_info() != csr.public_key() {
        return Err(Refusal::new(
            FailInfo::BadMessageCheck,
            "the self-signed signer certificate is not for the CSR's key: sign the PKIMessage with the key being enrolled",
        ));
    }
    let Some(challenge) = challenge_password(csr_der) else {
        return hold(reply, message, csr_der, csr.requested_subject()).await;
    };
    let Some((id, secret)) = split_challenge(&challenge) else {
        let reason =
            "the challenge password is not one from `hcpki enroll credential --protocol scep` (64 hex characters)";
        return Err(Refusal::new(FailInfo::BadRequest, reason));
    };
    let grant = authority.redeem(Protocol::Scep, id, secret, Some(endpoint.profile)).await?;
    let sans = match grant.profile {
        ProfileKind::Router => csr.requested_sans().to_vec(),
        // A PC is named by its facility and key, never by what it asks for.
        _ => Vec::new(),
    };
    let der = authority.issue(Protocol::Scep, &grant, csr.into(), sans, None).await?;
    reply.issued(der)
}

/// A PKCSReq without a challenge: answered from the held request if this transaction is known (clients
/// re-send the PKCSReq to poll), else held when its subject names a facility.
async fn hold(reply: Reply<'_>, message: &PkiMessage, csr_der: &[u8], subject: &Name) -> Result<Status, Refusal> {
    let (authority, endpoint) = (reply.authority, reply.endpoint);
    let transaction_id = &message.header.transaction_id;
    if let Some(decision) = authority.pending(endpoint.profile, transaction_id).await? {
        return reply.decision(decision);
    }
    let Some(facility) = facility_of(subject) else {
        return Err(Refusal::new(
            FailInfo::BadRequest,
            "no challenge password: put the challenge from `hcpki enroll credential --protocol scep` in the CSR, or \
             name the facility in the subject serialNumber to wait for an operator's approval",
        ));
    };
    let request = PendingRequest {
        transaction_id: transaction_id.clone(),
        facility,
        profile: endpoint.profile,
        csr: csr_der.to_vec(),
    };
    authority.hold(request).await?;
    Ok(Status::Pending)
}

/// How to answer one message: encrypted to its signer with the cipher it chose.
struct Reply<'a> {
    authority: &'a dyn ScepAuthority,
    endpoint: &'a Endpoint,
    recipient: &'a message::SignerCertificate,
    cipher: ContentCipher,
}

impl Reply<'_> {
    fn decision(&self, decision: Decision) -> Result<Status, Refusal> {
        match decision {
            Decision::Pending => Ok(Status::Pending),
            Decision::Issued(der) => {
                // Transaction IDs are guessable (strongSwan's is the key's SHA-1): only the holder of the
                // requested key gets the answer.
                let same_key = Certificate::from_der(&der).is_ok_and(|c| {
                    c.tbs_certificate().subject_public_key_info()
                        == self.recipient.tbs_certificate().subject_public_key_info()
                });
                if !same_key {
                    return Err(Refusal::new(FailInfo::BadCertId, "this transaction's certificate is for another key"));
                }
                self.issued(der)
            }
            Decision::Rejected(reason) => Err(Refusal::Failure {
                fail: FailInfo::BadRequest,
                reason: format!("the operator rejected the request: {reason}"),
                audited: true,
            }),
        }
    }

    /// A new certificate, with the issuing CA when the endpoint wants it.
    fn issued(&self, der: Vec<u8>) -> Result<Status, Refusal> {
        let mut certs = vec![der];
        if self.endpoint.include_ca
            && let Some(ca) = self.authority.chain(self.endpoint.profile)?.into_iter().next()
        {
            certs.push(ca);
        }
        self.certificates(&certs)
    }

    fn certificates(&self, certs: &[Vec<u8>]) -> Result<Status, Refusal> {
        let degenerate = super::pkcs7::certs_only(certs).map_err(|e| {
            Refusal::Unavailable(EnrollError::Unavailable(format!("cannot encode the certificates: {e}")))
        })?;
        self.seal(&degenerate)
    }

    fn seal(&self, content: &[u8]) -> Result<Status, Refusal> {
        envelope::seal(content, self.recipient, self.cipher)
            .map(Status::Success)
            .map_err(|e| Refusal::new(FailInfo::BadAlg, e.to_string()))
    }
}

fn reply(endpoint: &Endpoint, header: &Header, status: &Status) -> Result<Vec<u8>, EnrollError> {
    message::cert_rep(header, status, &endpoint.ra.certificate, endpoint.ra.key.as_ref()).map_err(|e| {
        tracing::error!(error = %e, "cannot sign a SCEP CertRep");
        EnrollError::Unavailable("the SCEP RA cannot sign now; retry later".into())
    })
}

/// The challengePassword attribute (PKCS#9, 1.2.840.113549.1.9.7) of a CSR, as text.
fn challenge_password(csr_der: &[u8]) -> Option<String> {
    const CHALLENGE_PASSWORD: const_oid::ObjectIdentifier =
        const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.7");
    let request = x509_cert::request::CertReq::from_der(csr_der).ok()?;
    let attribute = request.info.attributes.iter().find(|a| a.oid == CHALLENGE_PASSWORD)?;
    let value = attribute.values.iter().next()?;
    String::from_utf8(value.value().to_vec()).ok()
}

/// `<32 hex credential ID><32 hex secret>` → (ID, secret).
fn split_challenge(challenge: &str) -> Option<(&str, &str)> {
    let challenge = challenge.trim();
    (challenge.len() == 64 && challenge.bytes().all(|b| b.is_ascii_hexdigit())).then(|| challenge.split_at(32))
}

/// The facility a CSR subject names in serialNumber (2.5.4.5).
fn facility_of(subject: &Name) -> Option<String> {
    const SERIAL_NUMBER: const_oid::ObjectIdentifier = const_oid::ObjectIdentifier::new_unwrap("2.5.4.5");
    subject
        .iter()
        .find(|atv| atv.oid == SERIAL_NUMBER)
        .and_then(|atv| String::from_utf8(atv.value.value().to_vec()).ok())
}

/// GetCert content: `IssuerAndSerialNumber` → the serial as hcpki writes it.
fn serial_of(content: &[u8]) -> Result<String, Refusal> {
    Ok(crate::serial::to_hex(&issuer_and_serial(content)?.serial_number))
}

/// GetCert and GetCRL content, decoded.
fn issuer_and_serial(content: &[u8]) -> Result<IssuerAndSerialNumber, Refusal> {
    IssuerAndSerialNumber::from_der(content)
        .map_err(|e| Refusal::new(FailInfo::BadRequest, format!("the content is not an IssuerAndSerialNumber ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_split() {
        let c = format!("{}{}", "a".repeat(32), "0".repeat(32));
        assert_eq!(split_challenge(&c), Some(("a".repeat(32).as_str(), "0".repeat(32).as_str())));
        assert_eq!(split_challenge("secret"), None);
        assert_eq!(split_challenge(&"g".repeat(64)), None);
    }

    /// Real requests, captured from certmonger (32-byte signer serial, SHA-256) and micromdm scepclient
    /// (unsorted signed attributes, SHA-1): both verify; a flipped byte in the signature does not.
    #[test]
    fn captured_client_requests_verify() {
        let certmonger = include_bytes!("../../../fuzz/seeds/scep_message/certmonger-pkcsreq-get.der");
        let scepclient = include_bytes!("../../../fuzz/seeds/scep_message/scepclient-pkcsreq-des.der");
        for der in [&certmonger[..], &scepclient[..]] {
            let m = message::parse(der).unwrap();
            assert_eq!(m.header.message_type, MessageType::PkcsReq);
            assert_eq!(m.header.sender_nonce.len(), 16);
        }
        let m = message::parse(certmonger).unwrap();
        assert!(m.signer.tbs_certificate().serial_number().as_bytes().len() > 20, "beyond RFC 5280's 20 octets");
        let mut broken = certmonger.to_vec();
        let last = broken.len() - 1;
        broken[last] ^= 1;
        assert!(matches!(message::parse(&broken), Err(MessageError::Rejected { fail: FailInfo::BadMessageCheck, .. })));
    }

    #[test]
    fn garbage_is_undecodable() {
        assert!(matches!(message::parse(b"garbage"), Err(MessageError::Undecodable(_))));
        // A certs-only PKCS#7 is a SignedData but has no signer: not a PKIMessage.
        let degenerate = super::super::pkcs7::certs_only(&[]).unwrap();
        assert!(matches!(message::parse(&degenerate), Err(MessageError::Undecodable(_))));
    }
}
