//! Challenge validation: `http-01` (RFC 8555 §8.3) and `tls-alpn-01` (RFC 8737).
//!
//! The network side (connecting to the identifier, HTTP GET, TLS handshake with ALPN `acme-tls/1`) is I/O
//! and lives in the server behind [`Validator`]; what counts as a correct answer is decided here. The split
//! keeps sockets out of `hcpki_ca`, and lets the server own where a name resolves (the `[acme]` resolution
//! overrides for closed networks and tests).

use super::problem::Problem;
use der::Decode;
use der::asn1::OctetString;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

/// `id-pe-acmeIdentifier` (RFC 8737 §6.1).
pub const ID_PE_ACME_IDENTIFIER: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.31");

/// The network fetches a validation needs; implemented by the server.
#[async_trait::async_trait]
pub trait Validator: Send + Sync + std::fmt::Debug {
    /// `GET http://<identifier>:<port>/.well-known/acme-challenge/<token>`: the body (bounded), or a
    /// `connection` / `incorrectResponse` problem.
    async fn http01(&self, identifier: &str, token: &str) -> Result<Vec<u8>, Problem>;

    /// A TLS handshake with `<identifier>` (SNI) offering only ALPN `acme-tls/1`: the leaf certificate (DER)
    /// the peer presented, or a `connection` / `tls` problem.
    async fn tls_alpn01(&self, identifier: &str) -> Result<Vec<u8>, Problem>;
}

/// `token || '.' || thumbprint` (RFC 8555 §8.1).
pub fn key_authorization(token: &str, thumbprint: &str) -> String {
    format!("{token}.{thumbprint}")
}

/// Run the challenge's validation.
pub async fn validate(
    validator: &dyn Validator,
    kind: &str,
    identifier: &str,
    token: &str,
    thumbprint: &str,
) -> Result<(), Problem> {
    let expected = key_authorization(token, thumbprint);
    match kind {
        "http-01" => check_http01(&validator.http01(identifier, token).await?, &expected),
        "tls-alpn-01" => check_tls_alpn01(&validator.tls_alpn01(identifier).await?, identifier, &expected),
        other => Err(Problem::malformed(format!("unknown challenge type {other}"))),
    }
}

/// The body must be the key authorization; trailing whitespace is tolerated (RFC 8555 §8.3 allows it).
pub fn check_http01(body: &[u8], expected: &str) -> Result<(), Problem> {
    let text = std::str::from_utf8(body).unwrap_or_default().trim_end();
    if text == expected {
        Ok(())
    } else {
        Err(Problem::incorrect_response("the http-01 response is not the key authorization"))
    }
}

/// RFC 8737 §3: exactly one dNSName, the identifier, and a critical acmeIdentifier extension holding
/// SHA-256(key authorization).
pub fn check_tls_alpn01(leaf_der: &[u8], identifier: &str, expected: &str) -> Result<(), Problem> {
    let wrong = |why: &str| Problem::incorrect_response(format!("tls-alpn-01 certificate: {why}"));
    let cert = Certificate::from_der(leaf_der).map_err(|_| wrong("does not decode"))?;
    let extensions = cert.tbs_certificate().extensions().map(|e| e.as_slice()).unwrap_or_default();
    let san = extensions
        .iter()
        .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME)
        .ok_or_else(|| wrong("no subjectAltName"))?;
    let names = SubjectAltName::from_der(san.extn_value.as_bytes()).map_err(|_| wrong("bad subjectAltName"))?;
    match names.0.as_slice() {
        [GeneralName::DnsName(name)] if name.as_str().eq_ignore_ascii_case(identifier) => {}
        _ => return Err(wrong("subjectAltName must be exactly the identifier")),
    }
    let acme = extensions
        .iter()
        .find(|e| e.extn_id == ID_PE_ACME_IDENTIFIER)
        .ok_or_else(|| wrong("no acmeIdentifier extension"))?;
    if !acme.critical {
        return Err(wrong("acmeIdentifier must be critical"));
    }
    let digest = OctetString::from_der(acme.extn_value.as_bytes()).map_err(|_| wrong("bad acmeIdentifier"))?;
    if digest.as_bytes() != Sha256::digest(expected.as_bytes()).as_slice() {
        return Err(wrong("acmeIdentifier is not SHA-256 of the key authorization"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http01_body() {
        assert!(check_http01(b"tok.thumb\n", "tok.thumb").is_ok());
        assert!(check_http01(b"tok.other", "tok.thumb").is_err());
        assert!(check_http01(b"\xff", "tok.thumb").is_err());
    }

    #[test]
    fn tls_alpn01_rejects_garbage() {
        assert!(check_tls_alpn01(b"\x30\x00", "a.example", "x").is_err());
    }
}
