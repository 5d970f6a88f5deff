//! Certificate signing requests: raw bytes in, a checked request out.
//!
//! Parse, don't validate: [`parse`] accepts PEM or DER PKCS#10 (RFC 2986),
//! verifies the proof of possession over the exact signed octets, and checks
//! the key against hcpki's key policy. What comes out is a
//! [`CertificationRequest`] the rest of the pipeline never re-checks. Only the
//! public key is used afterwards: names and extensions a CSR asks for are
//! ignored, because profiles decide them (a router's own CSR template, e.g.
//! MikroTik's, asks for keyCertSign).

use const_oid::db::rfc5912;
use der::asn1::UintRef;
use der::{Decode, Encode, Sequence};
use hcpki_pkix::asn1::SignedRaw;
use hcpki_pkix::keys::KeyAlgorithm;
use hcpki_pkix::keys::verify::{self, VerifyError};
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::name::Name;
use x509_cert::request::CertReqInfo;

/// The subject key types hcpki certifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum SubjectKeyType {
    /// RSA with this modulus size (2048, 3072 or 4096 bits).
    Rsa(u32),
    /// ECDSA P-256.
    P256,
    /// ECDSA P-384.
    P384,
}

impl std::fmt::Display for SubjectKeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rsa(bits) => write!(f, "RSA-{bits}"),
            Self::P256 => f.write_str("ECDSA P-256"),
            Self::P384 => f.write_str("ECDSA P-384"),
        }
    }
}

impl From<KeyAlgorithm> for SubjectKeyType {
    /// The key a CA of this algorithm holds (the CP/CPS names a new installation's CA keys so).
    fn from(alg: KeyAlgorithm) -> Self {
        match alg {
            KeyAlgorithm::P256 => Self::P256,
            KeyAlgorithm::P384 => Self::P384,
            KeyAlgorithm::Rsa2048 => Self::Rsa(2048),
            KeyAlgorithm::Rsa3072 => Self::Rsa(3072),
            KeyAlgorithm::Rsa4096 => Self::Rsa(4096),
        }
    }
}

/// A PKCS#10 request whose signature verified and whose key is acceptable.
#[derive(Clone, Debug)]
pub struct CertificationRequest {
    spki: SubjectPublicKeyInfoOwned,
    key_type: SubjectKeyType,
    subject: Name,
    requested_sans: Vec<String>,
}

impl CertificationRequest {
    /// The public key to certify.
    pub fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }

    /// Its type and size.
    pub fn key_type(&self) -> SubjectKeyType {
        self.key_type
    }

    /// The subject the requester asked for (informational only; never copied).
    pub fn requested_subject(&self) -> &Name {
        &self.subject
    }

    /// The DNS names and IP addresses the CSR's extensionRequest asks for, as text. A request only: a
    /// profile may take them as its name request and check them against the facility (EST routers); they
    /// are never copied into a certificate as such. Other name types and other extensions are dropped.
    pub fn requested_sans(&self) -> &[String] {
        &self.requested_sans
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo (hex): identifies the key across certificates.
    pub fn spki_sha256(&self) -> String {
        hex::encode(Sha256::digest(self.spki.to_der().unwrap_or_default()))
    }
}

/// Why a CSR was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsrError {
    /// The input is empty.
    #[error("the CSR is empty: pass a PKCS#10 request in PEM or DER")]
    Empty,
    /// PEM armour is broken or has the wrong label.
    #[error("the CSR PEM is malformed ({0}): expected -----BEGIN CERTIFICATE REQUEST-----")]
    Pem(String),
    /// The DER does not decode as PKCS#10.
    #[error("the CSR is not valid DER PKCS#10 ({0}); regenerate it, e.g. `openssl req -new -key KEY -out req.pem`")]
    Der(String),
    /// Version other than v1 (0).
    #[error("the CSR has version {0}; PKCS#10 defines only version 1 (0)")]
    Version(u8),
    /// The proof of possession is wrong.
    #[error("the CSR signature does not verify ({0}): the request was altered or not signed by its key")]
    Signature(VerifyError),
    /// RSA key too small or too large.
    #[error("RSA-{0} keys are not accepted: use RSA 2048, 3072 or 4096, or ECDSA P-256")]
    RsaSize(u32),
    /// Elliptic curve other than P-256/P-384.
    #[error("EC keys on curve {0} are not accepted: use ECDSA P-256 (or P-384), or RSA 2048+")]
    Curve(String),
    /// Another key algorithm (DSA, Ed25519, …).
    #[error("key algorithm {0} is not accepted: use RSA 2048+ or ECDSA P-256")]
    KeyAlgorithm(String),
    /// RSA public exponent other than 65537… or even/too small.
    #[error("RSA public exponent is not acceptable (must be odd and at least 65537)")]
    RsaExponent,
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017 §A.1.1).
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// A CSR as an issuance request carries it: as received, or already checked by [`parse`] (an enrollment
/// front end checks before it redeems a credential; the pipeline then does not verify the same signature
/// twice). `Checked` can only hold what `parse` returned, because [`CertificationRequest`] has no other
/// constructor.
#[derive(Clone, Debug)]
pub enum Csr {
    /// PEM or DER bytes, parsed and verified by the pipeline.
    Encoded(Vec<u8>),
    /// Parsed, proof of possession verified, key policy applied.
    Checked(CertificationRequest),
}

impl From<Vec<u8>> for Csr {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Encoded(bytes)
    }
}

impl From<CertificationRequest> for Csr {
    fn from(checked: CertificationRequest) -> Self {
        Self::Checked(checked)
    }
}

impl Csr {
    /// The checked request: parse and verify if that has not been done.
    pub fn check(&self) -> Result<CertificationRequest, CsrError> {
        match self {
            Self::Encoded(bytes) => parse(bytes),
            Self::Checked(c) => Ok(c.clone()),
        }
    }
}

/// Parse PEM or DER, verify the proof of possession, apply the key policy.
pub fn parse(input: &[u8]) -> Result<CertificationRequest, CsrError> {
    let der = to_der(input)?;
    let signed = SignedRaw::from_der(&der).map_err(|e| CsrError::Der(e.to_string()))?;
    let tbs = signed.tbs_der().map_err(|e| CsrError::Der(e.to_string()))?;
    let info = CertReqInfo::from_der(&tbs).map_err(|e| CsrError::Der(e.to_string()))?;
    let version = info.version as u8;
    if version != 0 {
        return Err(CsrError::Version(version));
    }
    let spki = info.public_key.clone();
    let key_type = key_policy(&spki)?;
    let sig = signed.signature.as_bytes().ok_or_else(|| CsrError::Der("signature has unused bits".into()))?;
    verify::verify_signature(&spki, &signed.signature_algorithm, &tbs, sig).map_err(CsrError::Signature)?;
    let requested_sans = requested_sans(&info.attributes);
    Ok(CertificationRequest { spki, key_type, subject: info.subject, requested_sans })
}

/// The key and subject of a certificate this CA issued, as the request for its successor (a re-issue, D38).
/// There is no new proof of possession: it was checked when the certificate was first issued, and the
/// successor certifies the same key for the same subject. Only the re-issue path calls this, with a
/// certificate read from the registry, never with one a client sent. The key policy is applied again, so a
/// key that policy no longer accepts is refused rather than certified anew.
pub fn from_issued_certificate(der: &[u8]) -> Result<CertificationRequest, CsrError> {
    let cert = x509_cert::Certificate::from_der(der).map_err(|e| CsrError::Der(e.to_string()))?;
    let tbs = cert.tbs_certificate();
    let spki = tbs.subject_public_key_info().clone();
    let key_type = key_policy(&spki)?;
    Ok(CertificationRequest { spki, key_type, subject: tbs.subject().clone(), requested_sans: Vec::new() })
}

/// DNS and IP SANs from the PKCS#9 extensionRequest attribute (RFC 2985 §5.4.2). An undecodable
/// attribute yields nothing rather than an error: the names are hints the profile validates, and refusing
/// the whole CSR over a malformed extension we would ignore anyway helps no one.
fn requested_sans(attributes: &x509_cert::attr::Attributes) -> Vec<String> {
    use x509_cert::ext::pkix::SubjectAltName;
    use x509_cert::ext::pkix::name::GeneralName;
    let mut out = Vec::new();
    let requests = attributes.iter().filter(|a| a.oid == const_oid::db::rfc5912::ID_EXTENSION_REQ);
    for value in requests.flat_map(|a| a.values.iter()) {
        let Ok(extensions) = value.decode_as::<x509_cert::ext::Extensions>() else { continue };
        for ext in extensions.iter().filter(|e| e.extn_id == rfc5912::ID_CE_SUBJECT_ALT_NAME) {
            let Ok(san) = SubjectAltName::from_der(ext.extn_value.as_bytes()) else { continue };
            for name in san.0 {
                match name {
                    GeneralName::DnsName(d) => out.push(d.to_string()),
                    GeneralName::IpAddress(ip) => match ip.as_bytes().len() {
                        4 | 16 => out.extend(ip_text(ip.as_bytes())),
                        _ => {}
                    },
                    _ => {}
                }
            }
        }
    }
    out
}

fn ip_text(octets: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(octets) {
        return Some(std::net::Ipv4Addr::from(v4).to_string());
    }
    <[u8; 16]>::try_from(octets).ok().map(|v6| std::net::Ipv6Addr::from(v6).to_string())
}

fn to_der(input: &[u8]) -> Result<Vec<u8>, CsrError> {
    let trimmed = input.trim_ascii_start();
    if trimmed.is_empty() {
        return Err(CsrError::Empty);
    }
    if !trimmed.starts_with(b"-----BEGIN") {
        return Ok(input.to_vec());
    }
    let text = std::str::from_utf8(trimmed).map_err(|_| CsrError::Pem("not UTF-8".into()))?;
    let (label, doc) = der::Document::from_pem(text).map_err(|e| CsrError::Pem(e.to_string()))?;
    if label != "CERTIFICATE REQUEST" && label != "NEW CERTIFICATE REQUEST" {
        return Err(CsrError::Pem(format!("label {label:?}")));
    }
    Ok(doc.as_bytes().to_vec())
}

/// hcpki's key policy (docs/profiles.md §Keys).
pub fn key_policy(spki: &SubjectPublicKeyInfoOwned) -> Result<SubjectKeyType, CsrError> {
    let oid = spki.algorithm.oid;
    if oid == rfc5912::RSA_ENCRYPTION {
        let key = RsaPublicKey::from_der(spki.subject_public_key.raw_bytes())
            .map_err(|e| CsrError::Der(format!("RSA public key: {e}")))?;
        let bits = uint_bits(key.modulus.as_bytes());
        if !matches!(bits, 2048 | 3072 | 4096) {
            return Err(CsrError::RsaSize(bits));
        }
        let e = key.public_exponent.as_bytes();
        let odd = e.last().is_some_and(|b| b & 1 == 1);
        if !odd || uint_bits(e) < 17 {
            return Err(CsrError::RsaExponent);
        }
        return Ok(SubjectKeyType::Rsa(bits));
    }
    if oid == rfc5912::ID_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok())
            .ok_or_else(|| CsrError::Curve("(no named curve)".into()))?;
        return if curve == rfc5912::SECP_256_R_1 {
            Ok(SubjectKeyType::P256)
        } else if curve == rfc5912::SECP_384_R_1 {
            Ok(SubjectKeyType::P384)
        } else {
            Err(CsrError::Curve(curve_name(&curve)))
        };
    }
    Err(CsrError::KeyAlgorithm(oid.to_string()))
}

fn curve_name(oid: &const_oid::ObjectIdentifier) -> String {
    // Names people search for; the OID database knows only some of them.
    let known = [
        ("1.2.840.10045.3.1.1", "P-192 (secp192r1)"),
        ("1.3.132.0.33", "P-224 (secp224r1)"),
        ("1.3.132.0.10", "secp256k1"),
        ("1.3.132.0.35", "P-521 (secp521r1)"),
        ("1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1"),
    ];
    let text = oid.to_string();
    known
        .iter()
        .find(|(o, _)| *o == text)
        .map(|(_, n)| format!("{n}, {text}"))
        .or_else(|| const_oid::db::DB.by_oid(oid).map(|n| format!("{n}, {text}")))
        .unwrap_or(text)
}

fn uint_bits(bytes: &[u8]) -> u32 {
    let bytes = match bytes.iter().position(|b| *b != 0) {
        Some(i) => bytes.get(i..).unwrap_or_default(),
        None => return 0,
    };
    let lead = bytes.first().map(|b| b.leading_zeros()).unwrap_or(8);
    (bytes.len() as u32) * 8 - lead
}

/// Build and sign a PKCS#10 request for `key` (device side: demo, benchmarks, tests).
pub fn build(key: &dyn hcpki_pkix::keys::KeySource, subject: Name) -> Result<Vec<u8>, hcpki_pkix::keys::KeyError> {
    let info = CertReqInfo {
        version: x509_cert::request::Version::V1,
        subject,
        public_key: key.public_key().clone(),
        attributes: Default::default(),
    };
    let tbs = info.to_der()?;
    let signature = key.sign(&tbs)?;
    let req = SignedRaw {
        to_be_signed: der::Any::from_der(&tbs)?,
        signature_algorithm: key.signature_algorithm(),
        signature: der::asn1::BitString::from_bytes(&signature)?,
    };
    Ok(req.to_der()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};

    fn csr(alg: KeyAlgorithm) -> Vec<u8> {
        let (key, _) = SoftwareKey::generate_device_key(alg).unwrap();
        build(&key, Name::default()).unwrap()
    }

    #[test]
    fn good_requests_parse_in_der_and_pem() {
        for (alg, t) in [(KeyAlgorithm::P256, SubjectKeyType::P256), (KeyAlgorithm::Rsa2048, SubjectKeyType::Rsa(2048))]
        {
            let der = csr(alg);
            assert_eq!(parse(&der).unwrap().key_type(), t);
            let pem = crate::issuer::der_to_pem("CERTIFICATE REQUEST", &der);
            assert_eq!(parse(pem.as_bytes()).unwrap().key_type(), t);
        }
    }

    #[test]
    fn bad_requests_get_specific_errors() {
        assert_eq!(parse(b"").unwrap_err(), CsrError::Empty);
        assert!(matches!(parse(b"\x30\x03\x02\x01"), Err(CsrError::Der(_))));
        assert!(matches!(parse(b"-----BEGIN CERTIFICATE REQUEST-----\nzz\n"), Err(CsrError::Pem(_))));
        let mut der = csr(KeyAlgorithm::P256);
        let n = der.len();
        der[n - 3] ^= 0x01; // inside the signature
        assert!(matches!(parse(&der), Err(CsrError::Signature(_)) | Err(CsrError::Der(_))));
        let good = csr(KeyAlgorithm::P256);
        for cut in [1, good.len() / 2, good.len() - 1] {
            assert!(parse(&good[..cut]).is_err());
        }
    }
}
