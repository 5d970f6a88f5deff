//! `TimeStampReq`: the request, decoded strictly (DER) and turned into a typed [`Request`].

use super::imprint::{HashAlgorithm, MessageImprint};
use super::refusal::Refusal;
use const_oid::ObjectIdentifier;
use der::asn1::Int;
use der::{Decode, Sequence};
use x509_cert::ext::Extensions;

/// RFC 3161 §2.4.1:
///
/// ```text
/// TimeStampReq ::= SEQUENCE  {
///    version                      INTEGER  { v1(1) },
///    messageImprint               MessageImprint,
///    reqPolicy             TSAPolicyId              OPTIONAL,
///    nonce                 INTEGER                  OPTIONAL,
///    certReq               BOOLEAN                  DEFAULT FALSE,
///    extensions            [0] IMPLICIT Extensions  OPTIONAL  }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampReq {
    /// Must be 1.
    pub version: u8,
    /// What is time-stamped.
    pub message_imprint: MessageImprint,
    /// The policy asked for.
    #[asn1(optional = "true")]
    pub req_policy: Option<ObjectIdentifier>,
    /// The client's nonce, echoed.
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    /// Whether the token carries the TSA's certificate.
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
    /// Request extensions (none accepted).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}

/// A request this TSA will answer: every field checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The imprint, as received (the token repeats it byte for byte, RFC 3161 §2.4.2).
    pub imprint: MessageImprint,
    /// Its hash algorithm.
    pub hash: HashAlgorithm,
    /// The nonce to echo.
    pub nonce: Option<Int>,
    /// Whether to include the TSA certificate.
    pub cert_req: bool,
}

/// Decode and check a request: DER only, version 1, a SHA-2 imprint of the right length, our policy or none,
/// no extensions.
pub fn parse_request(der: &[u8], policy: &ObjectIdentifier) -> Result<Request, Refusal> {
    let req = TimeStampReq::from_der(der).map_err(|e| {
        Refusal::BadDataFormat(format!(
            "the request is not a DER TimeStampReq ({e}): send what `openssl ts -query` writes"
        ))
    })?;
    if req.version != 1 {
        return Err(Refusal::BadRequest(format!(
            "TimeStampReq version {} is not supported: use version 1",
            req.version
        )));
    }
    if req.extensions.is_some() {
        return Err(Refusal::UnacceptedExtension);
    }
    let hash = HashAlgorithm::of(&req.message_imprint.hash_algorithm)?;
    let got = req.message_imprint.hashed_message.as_bytes().len();
    if got != hash.digest_len() {
        return Err(Refusal::BadDataFormat(format!(
            "the hashedMessage is {got} octets long, but a {} digest has {}",
            hash.name(),
            hash.digest_len()
        )));
    }
    if let Some(asked) = req.req_policy
        && asked != *policy
    {
        return Err(Refusal::UnacceptedPolicy { asked: asked.to_string(), ours: policy.to_string() });
    }
    Ok(Request { imprint: req.message_imprint, hash, nonce: req.nonce, cert_req: req.cert_req })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::FailInfo;

    /// `openssl ts -query -sha256 -no_nonce` and `-sha1` (fuzz/seeds/timestamp_request).
    const SHA256: &str = "30360201013031300d0609608648016503040201050004207595172b5c06d0df51586c7ea16b770c52053684d0d61e1f1672dceac8f71b8c";
    const SHA1: &str =
        "30300201013021300906052b0e03021a0500041405883fe77aee2d6e9c20d261a90e5facfdbbc67a02082e26c86e09caf8ce";
    const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.3161.1");

    fn fail(der: &[u8]) -> FailInfo {
        parse_request(der, &POLICY).unwrap_err().fail_info()
    }

    #[test]
    fn openssl_requests_parse_or_get_their_fail_info() {
        let good = hex::decode(SHA256).unwrap();
        let request = parse_request(&good, &POLICY).unwrap();
        assert_eq!((request.hash, request.nonce, request.cert_req), (HashAlgorithm::Sha256, None, false));
        assert_eq!(fail(&hex::decode(SHA1).unwrap()), FailInfo::BadAlg);
        assert_eq!(fail(&good[..good.len() - 1]), FailInfo::BadDataFormat);
        assert_eq!(fail(&[good.as_slice(), &[0]].concat()), FailInfo::BadDataFormat);
        assert_eq!(fail(b""), FailInfo::BadDataFormat);
        let mut version_2 = good.clone();
        version_2[4] = 2;
        assert_eq!(fail(&version_2), FailInfo::BadRequest);
    }
}
