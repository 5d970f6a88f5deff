//! EST (RFC 7030) as request → response, with no HTTP: the server hands over the label, the Authorization
//! header, the TLS client certificate and the body; this module decides and answers with a body and a
//! content type, or an [`EnrollError`] the server maps to 400/401/403/503.
//!
//! Labels (`/.well-known/est/<label>/…`) choose the profile: `router` or `pc`. Without a label,
//! `simpleenroll` issues the credential's first profile (or the client certificate's own profile). A client
//! certificate enrolls only its own profile, whatever the label ([`super::Holder::own_grant`]); another profile
//! takes a single-use credential.
//!
//! * `cacerts`: the issuing CA(s) and the root as a certs-only PKCS#7, base64 (RFC 7030 §4.1.3).
//! * `simpleenroll`: a base64 PKCS#10 authenticated by an EST credential (HTTP Basic: username = credential
//!   ID, password = secret) or by a current facility certificate over TLS (its own profile only). Only the CSR's
//!   key is used; a router's requested DNS/IP SANs become the profile's name request, checked against the
//!   facility.
//! * `simplereenroll`: TLS client certificate only; same facility, profile and names as that certificate.
//! * `csrattrs`: the key algorithms the profile accepts (RFC 7030 §4.5.2 CsrAttrs).
//! * `serverkeygen`: authenticated like `simpleenroll`; the CA makes a key of the CSR's key type (the CSR's own
//!   key is only its proof of possession and the choice of algorithm), certifies it and returns it as PKCS#8
//!   with the certificate in a `multipart/mixed` answer (RFC 7030 §4.4.2). The key is protected by the TLS
//!   channel, as the RFC allows when the client asks for no further encryption; hcpki keeps no copy.

use super::credential::Protocol;
use super::{EnrollAuthority, EnrollError, Grant};
use crate::csr::{self, CertificationRequest, SubjectKeyType};
use crate::profile::{KeyClass, ProfileKind};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Encode;
use der::asn1::{Any, SetOfVec};
use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
use zeroize::Zeroizing;

/// Largest request body accepted (a CSR with a 4096-bit RSA key is about 2 KiB in base64).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// `application/pkcs7-mime; smime-type=certs-only`: cacerts, simpleenroll and simplereenroll responses.
pub const PKCS7_CERTS_ONLY: &str = "application/pkcs7-mime; smime-type=certs-only";
/// `application/csrattrs`: the csrattrs response.
pub const CSR_ATTRS: &str = "application/csrattrs";
/// The serverkeygen response: a private key part and a certificate part. Base64 has no `-`, so the boundary
/// can never occur inside a part.
pub const SERVERKEYGEN_MULTIPART: &str = "multipart/mixed; boundary=hcpki-est-serverkeygen";
const SERVERKEYGEN_BOUNDARY: &str = "hcpki-est-serverkeygen";

/// What the CA side offers EST beyond what every protocol gets ([`EnrollAuthority`]): declared here,
/// implemented by [`crate::Authority`], so this module needs nothing else of the CA (and tests could drive it
/// with a stand-in).
pub trait EstAuthority: EnrollAuthority {
    /// The key classes `profile` accepts.
    fn accepted_keys(&self, profile: ProfileKind) -> Vec<KeyClass>;
}

/// What the device sent, stripped of HTTP.
#[derive(Debug, Default)]
pub struct EstRequest<'a> {
    /// The label's profile; `None` on the unlabelled path.
    pub label: Option<ProfileKind>,
    /// The `Authorization` header value, if any.
    pub authorization: Option<&'a [u8]>,
    /// The TLS client certificate (leaf, DER), verified by the TLS layer against the facility device CAs.
    pub client_certificate: Option<&'a [u8]>,
    /// The body (base64 PKCS#10 for enrollment).
    pub body: &'a [u8],
}

/// A successful answer.
#[derive(Debug, PartialEq, Eq)]
pub struct EstResponse {
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// Base64 of the DER on one line (`Content-Transfer-Encoding: base64`). RFC 7030 allows line breaks, but
    /// strongSwan's `pki --est` stops decoding at the first one. For serverkeygen, the multipart text whose
    /// parts are base64 each; it holds a private key, so it is wiped when dropped here (the copy the HTTP
    /// layer sends from is not under our control).
    pub body: Zeroizing<String>,
}

impl EstResponse {
    /// Whether the whole body is base64 (every answer but the multipart serverkeygen one, whose parts carry
    /// their own `Content-Transfer-Encoding`).
    pub fn is_base64(&self) -> bool {
        !self.content_type.starts_with("multipart/")
    }
}

/// The profile a label names, or `None` for an unknown label (the server answers 404).
pub fn label(text: &str) -> Option<ProfileKind> {
    match text {
        "router" => Some(ProfileKind::Router),
        "pc" => Some(ProfileKind::Pc),
        _ => None,
    }
}

/// `GET cacerts`: the issuing CA of the label's profile (both facility device CAs without a label), then
/// the root; during a rollover (D145) the CA's other generation too, so a device trusts both chains before
/// and after the switch.
pub fn cacerts(authority: &dyn EstAuthority, label: Option<ProfileKind>) -> Result<EstResponse, EnrollError> {
    let profiles = match label {
        Some(p) => vec![p],
        None => vec![ProfileKind::Router, ProfileKind::Pc],
    };
    let mut certs: Vec<Vec<u8>> = Vec::new();
    for p in profiles {
        for c in authority.chain(p)?.into_iter().chain(authority.other_generation(p)) {
            if !certs.contains(&c) {
                certs.push(c);
            }
        }
    }
    pkcs7_response(&certs)
}

/// `GET csrattrs`: the key algorithms every profile the path can lead to accepts. Always a CsrAttrs, never
/// 204: the key policy is the one thing a device can get wrong before sending its CSR.
pub fn csrattrs(authority: &dyn EstAuthority, label: Option<ProfileKind>) -> Result<EstResponse, EnrollError> {
    let mut keys = match label {
        Some(p) => authority.accepted_keys(p),
        None => authority.accepted_keys(ProfileKind::Router),
    };
    if label.is_none() {
        let pc = authority.accepted_keys(ProfileKind::Pc);
        keys.retain(|k| pc.contains(k));
    }
    let der = csr_attrs(&keys).map_err(|e| EnrollError::Unavailable(format!("cannot encode csrattrs: {e}")))?;
    Ok(EstResponse { content_type: CSR_ATTRS, body: Zeroizing::new(STANDARD.encode(&der)) })
}

/// `POST simpleenroll`.
pub async fn simpleenroll(authority: &dyn EstAuthority, request: &EstRequest<'_>) -> Result<EstResponse, EnrollError> {
    let (grant, csr) = authenticate(authority, request, "simpleenroll").await?;
    let sans = requested_names(&grant, &csr);
    let der = authority.issue(Protocol::Est, &grant, csr.into(), sans, None).await?;
    pkcs7_response(&[der])
}

/// `POST serverkeygen`: a new key of the CSR's type, certified, returned with its certificate.
pub async fn serverkeygen(authority: &dyn EstAuthority, request: &EstRequest<'_>) -> Result<EstResponse, EnrollError> {
    const OP: &str = "serverkeygen";
    let (grant, csr) = authenticate(authority, request, OP).await?;
    let algorithm = match csr.key_type() {
        SubjectKeyType::P256 => KeyAlgorithm::P256,
        SubjectKeyType::P384 => KeyAlgorithm::P384,
        SubjectKeyType::Rsa(2048) => KeyAlgorithm::Rsa2048,
        SubjectKeyType::Rsa(3072) => KeyAlgorithm::Rsa3072,
        SubjectKeyType::Rsa(4096) => KeyAlgorithm::Rsa4096,
        other => {
            let e = EnrollError::BadRequest(format!("cannot generate a {other} key: send a P-256 or RSA-2048 CSR"));
            return refuse(authority, OP, e).await;
        }
    };
    let sans = requested_names(&grant, &csr);
    // RSA generation takes tens of milliseconds of one core: keep it off the async workers.
    let generated = tokio::task::spawn_blocking(move || {
        let (key, pkcs8) = SoftwareKey::generate_device_key(algorithm)?;
        let request = csr::build(&key, x509_cert::name::Name::default())?;
        Ok::<_, hcpki_pkix::keys::KeyError>((pkcs8, request))
    })
    .await;
    let (pkcs8, new_csr) = match generated {
        Ok(Ok(g)) => g,
        Ok(Err(e)) => return Err(EnrollError::Unavailable(format!("key generation failed ({e}); retry later"))),
        Err(e) => return Err(EnrollError::Unavailable(format!("key generation stopped ({e}); retry later"))),
    };
    let der = authority.issue(Protocol::Est, &grant, new_csr.into(), sans, None).await?;
    let p7 = super::pkcs7::certs_only(&[der])
        .map_err(|e| EnrollError::Unavailable(format!("cannot encode the PKCS#7 response: {e}")))?;
    let key_b64 = Zeroizing::new(STANDARD.encode(pkcs8.as_slice()));
    let body = Zeroizing::new(format!(
        "--{b}\r\nContent-Type: application/pkcs8\r\nContent-Transfer-Encoding: base64\r\n\r\n{key}\r\n\
         --{b}\r\nContent-Type: {PKCS7_CERTS_ONLY}\r\nContent-Transfer-Encoding: base64\r\n\r\n{cert}\r\n\
         --{b}--\r\n",
        b = SERVERKEYGEN_BOUNDARY,
        key = key_b64.as_str(),
        cert = STANDARD.encode(&p7),
    ));
    Ok(EstResponse { content_type: SERVERKEYGEN_MULTIPART, body })
}

/// Who may enroll, from an EST credential (HTTP Basic) or a current facility certificate, and the CSR,
/// decoded and checked *before* a credential is redeemed: a malformed request must not use it up.
async fn authenticate(
    authority: &dyn EstAuthority,
    request: &EstRequest<'_>,
    op: &str,
) -> Result<(Grant, CertificationRequest), EnrollError> {
    let basic = match request.authorization.map(basic_credentials) {
        Some(Some(b)) => Some(b),
        Some(None) => {
            return refuse(authority, op, unauthenticated("the Authorization header is not HTTP Basic")).await;
        }
        None => None,
    };
    if basic.is_none() && request.client_certificate.is_none() {
        return refuse(authority, op, unauthenticated("no credentials")).await;
    }
    let csr = match decode_csr(request.body) {
        Ok(c) => c,
        Err(e) => return refuse(authority, op, e).await,
    };
    let grant = match (basic, request.client_certificate) {
        (Some((id, secret)), _) => authority.redeem(Protocol::Est, &id, &secret, request.label).await?,
        (None, Some(cert)) => {
            let holder = authority.holder(Protocol::Est, cert).await?;
            match holder.own_grant(request.label) {
                Ok(grant) => grant,
                Err(e) => return refuse(authority, op, e).await,
            }
        }
        (None, None) => return refuse(authority, op, unauthenticated("no credentials")).await,
    };
    Ok((grant, csr))
}

/// The name request a CSR makes: a router's DNS/IP SANs (checked against the facility by the profile); a PC
/// is named by its facility and key, never by what it asks for.
fn requested_names(grant: &Grant, csr: &CertificationRequest) -> Vec<String> {
    match grant.profile {
        ProfileKind::Router => csr.requested_sans().to_vec(),
        _ => Vec::new(),
    }
}

/// `POST simplereenroll`: authenticated by the certificate being renewed, which keeps its names.
pub async fn simplereenroll(
    authority: &dyn EstAuthority,
    request: &EstRequest<'_>,
) -> Result<EstResponse, EnrollError> {
    const OP: &str = "simplereenroll";
    let Some(cert) = request.client_certificate else {
        let e = unauthenticated("re-enrollment needs the current certificate as the TLS client certificate");
        return refuse(authority, OP, e).await;
    };
    let csr = match decode_csr(request.body) {
        Ok(c) => c,
        Err(e) => return refuse(authority, OP, e).await,
    };
    let holder = authority.holder(Protocol::Est, cert).await?;
    let grant = match holder.own_grant(request.label) {
        Ok(grant) => grant,
        Err(e) => return refuse(authority, OP, e).await,
    };
    let der = authority.issue(Protocol::Est, &grant, csr.into(), holder.sans, holder.device).await?;
    pkcs7_response(&[der])
}

/// A body over [`MAX_BODY_BYTES`], which the server stopped reading: refused and audited.
pub async fn too_large(authority: &dyn EstAuthority, operation: &str) -> EnrollError {
    let e = EnrollError::TooLarge(format!("request body over {MAX_BODY_BYTES} bytes: send one PKCS#10 request"));
    authority.refused(Protocol::Est, operation, &e.to_string()).await;
    e
}

/// Base64 (line breaks allowed, RFC 7030 §4.2.1) → DER PKCS#10, checked (signature, key policy).
fn decode_csr(body: &[u8]) -> Result<CertificationRequest, EnrollError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(EnrollError::TooLarge(format!("request body over {MAX_BODY_BYTES} bytes")));
    }
    let compact: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let der = STANDARD.decode(&compact).map_err(|e| {
        EnrollError::BadRequest(format!("the body is not base64 ({e}): send the DER PKCS#10 request base64-encoded"))
    })?;
    csr::parse(&der).map_err(|e| EnrollError::BadRequest(e.to_string()))
}

/// `Basic base64(user:password)` → (user, password); the password may hold colons, the user cannot. The one
/// HTTP Basic reader: EST's credentials and the server's admin API both come through it, the password kept in
/// memory that is wiped when dropped.
pub fn basic_credentials(header: &[u8]) -> Option<(String, Zeroizing<String>)> {
    let text = std::str::from_utf8(header).ok()?.trim();
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = Zeroizing::new(STANDARD.decode(encoded.trim()).ok()?);
    let text = std::str::from_utf8(&decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), Zeroizing::new(password.to_owned())))
}

fn unauthenticated(why: &str) -> EnrollError {
    EnrollError::Unauthenticated(format!(
        "{why}: authenticate with HTTP Basic (username = credential ID, password = its secret from `hcpki enroll \
         credential --protocol est`) or a current facility certificate"
    ))
}

async fn refuse<T>(authority: &dyn EstAuthority, operation: &str, e: EnrollError) -> Result<T, EnrollError> {
    authority.refused(Protocol::Est, operation, &e.to_string()).await;
    Err(e)
}

fn pkcs7_response(certs: &[Vec<u8>]) -> Result<EstResponse, EnrollError> {
    let der = super::pkcs7::certs_only(certs)
        .map_err(|e| EnrollError::Unavailable(format!("cannot encode the PKCS#7 response: {e}")))?;
    Ok(EstResponse { content_type: PKCS7_CERTS_ONLY, body: Zeroizing::new(STANDARD.encode(&der)) })
}

/// `CsrAttrs ::= SEQUENCE SIZE (0..MAX) OF AttrOrOID` (RFC 7030 §4.5.2), where
/// `AttrOrOID ::= CHOICE { oid OBJECT IDENTIFIER, attribute Attribute }`. RSA appears as the
/// rsaEncryption OID; EC as an id-ecPublicKey attribute whose values are the accepted curves (the form of
/// RFC 7030's own example); then the signature algorithm the CSR should be signed with.
fn csr_attrs(keys: &[KeyClass]) -> der::Result<Vec<u8>> {
    let mut items: Vec<Any> = Vec::new();
    if keys.contains(&KeyClass::Rsa) {
        items.push(Any::encode_from(&rfc5912::RSA_ENCRYPTION)?);
    }
    let curves: Vec<ObjectIdentifier> = keys
        .iter()
        .filter_map(|k| match k {
            KeyClass::P256 => Some(rfc5912::SECP_256_R_1),
            KeyClass::P384 => Some(rfc5912::SECP_384_R_1),
            KeyClass::Rsa => None,
        })
        .collect();
    if !curves.is_empty() {
        let mut values = SetOfVec::new();
        for c in curves {
            values.insert(Any::encode_from(&c)?)?;
        }
        let attribute = x509_cert::attr::Attribute { oid: rfc5912::ID_EC_PUBLIC_KEY, values };
        items.push(Any::encode_from(&attribute)?);
        items.push(Any::encode_from(&rfc5912::ECDSA_WITH_SHA_256)?);
    }
    if keys.contains(&KeyClass::Rsa) {
        items.push(Any::encode_from(&rfc5912::SHA_256_WITH_RSA_ENCRYPTION)?);
    }
    items.to_der()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_parses() {
        let h = format!("Basic {}", STANDARD.encode("abc:s3:cret"));
        let (u, p) = basic_credentials(h.as_bytes()).unwrap();
        assert_eq!((u.as_str(), p.as_str()), ("abc", "s3:cret"));
        assert!(basic_credentials(b"Bearer x").is_none());
        assert!(basic_credentials(b"Basic !!!").is_none());
        assert!(basic_credentials(format!("Basic {}", STANDARD.encode("nocolon")).as_bytes()).is_none());
    }

    #[test]
    fn bodies_are_checked() {
        assert!(matches!(decode_csr(b"%%%"), Err(EnrollError::BadRequest(_))));
        assert!(matches!(decode_csr(b"MAAA"), Err(EnrollError::BadRequest(_))));
        assert!(matches!(decode_csr(&vec![b'A'; MAX_BODY_BYTES + 4]), Err(EnrollError::TooLarge(_))));
    }

    #[test]
    fn csr_attrs_encode() {
        let der = csr_attrs(&[KeyClass::Rsa, KeyClass::P256]).unwrap();
        let items: Vec<Any> = der::Decode::from_der(&der).unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(csr_attrs(&[]).unwrap(), vec![0x30, 0x00]);
    }
}
