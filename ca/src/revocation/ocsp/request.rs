//! An OCSP request (RFC 6960 §4.1) turned into what the responder acts on: the certificates asked about and
//! the nonce to echo. Everything else in a request (requestor name, signature, other extensions) is accepted
//! and ignored: hcpki answers anyone, and answers are public.

use der::Decode;
use der::asn1::OctetString;
use hcpki_pkix::asn1::ocsp::{CertId, ID_PKIX_OCSP_NONCE, OcspRequest};
use x509_cert::ext::Extension;

/// At most this many certificates per request: a browser or router asks about one, a client validating a
/// chain about a few; more is either a misuse or an attempt to make the responder sign large answers.
pub const MAX_CERTIFICATES: usize = 8;
/// RFC 8954 §2.1: responders accept nonces of up to 32 octets; longer ones are refused.
pub const MAX_NONCE: usize = 32;

/// A well-formed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The certificates asked about, in request order.
    pub cert_ids: Vec<CertId>,
    /// The nonce extension, exactly as sent (echoed in the answer, RFC 6960 §4.4.1).
    pub nonce: Option<Extension>,
}

/// Why a request is `malformedRequest` (logged; the client only sees the status).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// Not a DER OCSPRequest.
    #[error("not a DER OCSPRequest: {0}")]
    Der(der::Error),
    /// An empty request list.
    #[error("the request names no certificate")]
    Empty,
    /// Too many certificates.
    #[error("the request names {0} certificates; at most {MAX_CERTIFICATES} are answered at once")]
    TooMany(usize),
    /// A nonce that is not an OCTET STRING of 1 to 32 octets.
    #[error("the nonce must be an OCTET STRING of 1 to {MAX_NONCE} octets (RFC 8954)")]
    Nonce,
    /// The same extension twice.
    #[error("the request repeats an extension")]
    DuplicateExtension,
}

/// Parse a DER request.
pub fn parse(der: &[u8]) -> Result<Query, Malformed> {
    let request = OcspRequest::from_der(der).map_err(Malformed::Der)?;
    let tbs = request.tbs_request;
    match tbs.request_list.len() {
        0 => return Err(Malformed::Empty),
        n if n > MAX_CERTIFICATES => return Err(Malformed::TooMany(n)),
        _ => {}
    }
    let extensions = tbs.request_extensions.unwrap_or_default();
    let mut nonces = extensions.into_iter().filter(|e| e.extn_id == ID_PKIX_OCSP_NONCE);
    let nonce = nonces.next();
    if nonces.next().is_some() {
        return Err(Malformed::DuplicateExtension);
    }
    if let Some(n) = &nonce {
        let value = OctetString::from_der(n.extn_value.as_bytes()).map_err(|_| Malformed::Nonce)?;
        if value.as_bytes().is_empty() || value.as_bytes().len() > MAX_NONCE {
            return Err(Malformed::Nonce);
        }
    }
    Ok(Query { cert_ids: tbs.request_list.into_iter().map(|r| r.req_cert).collect(), nonce })
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode;
    use der::asn1::Int;
    use hcpki_pkix::asn1::ocsp::{Request, TbsRequest};
    use spki::AlgorithmIdentifierOwned;

    fn request(count: usize, nonce: Option<Vec<u8>>) -> Vec<u8> {
        let id = CertId {
            hash_algorithm: AlgorithmIdentifierOwned { oid: const_oid::db::rfc5912::ID_SHA_1, parameters: None },
            issuer_name_hash: OctetString::new(vec![1u8; 20]).unwrap(),
            issuer_key_hash: OctetString::new(vec![2u8; 20]).unwrap(),
            serial_number: Int::new(&[0x12, 0x34]).unwrap(),
        };
        let extensions = nonce.map(|value| {
            vec![Extension {
                extn_id: ID_PKIX_OCSP_NONCE,
                critical: false,
                extn_value: OctetString::new(value).unwrap(),
            }]
        });
        OcspRequest {
            tbs_request: TbsRequest {
                version: Default::default(),
                requestor_name: None,
                request_list: vec![Request { req_cert: id, single_request_extensions: None }; count],
                request_extensions: extensions,
            },
            optional_signature: None,
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn one_certificate_with_and_without_a_nonce() {
        let q = parse(&request(1, None)).unwrap();
        assert_eq!(q.cert_ids.len(), 1);
        assert_eq!(q.nonce, None);
        let nonce = OctetString::new(vec![9u8; 16]).unwrap().to_der().unwrap();
        let q = parse(&request(2, Some(nonce.clone()))).unwrap();
        assert_eq!(q.nonce.unwrap().extn_value.as_bytes(), nonce);
    }

    #[test]
    fn bad_requests_are_malformed_with_a_reason() {
        assert_eq!(parse(&request(0, None)), Err(Malformed::Empty));
        assert_eq!(parse(&request(MAX_CERTIFICATES + 1, None)), Err(Malformed::TooMany(MAX_CERTIFICATES + 1)));
        let long = OctetString::new(vec![9u8; MAX_NONCE + 1]).unwrap().to_der().unwrap();
        assert_eq!(parse(&request(1, Some(long))), Err(Malformed::Nonce));
        assert_eq!(parse(&request(1, Some(vec![0x05, 0x00]))), Err(Malformed::Nonce), "a NULL is no nonce");
        let empty = OctetString::new(Vec::new()).unwrap().to_der().unwrap();
        assert_eq!(parse(&request(1, Some(empty))), Err(Malformed::Nonce));
        let mut trailing = request(1, None);
        trailing.push(0);
        assert!(matches!(parse(&trailing), Err(Malformed::Der(_))));
        for garbage in [&b""[..], b"\x30\x00", b"\x30\x80\x00\x00", b"GET / HTTP/1.1"] {
            assert!(matches!(parse(garbage), Err(Malformed::Der(_))), "{garbage:?}");
        }
    }
}
