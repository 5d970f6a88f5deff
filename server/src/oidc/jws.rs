//! Compact JWS (RFC 7515), by hand: signing our tokens through a [`KeySource`] (ES256: the DER
//! `ECDSA-Sig-Value` the key returns becomes JWS's raw r‖s, RFC 7518 §3.4), JWKs and their RFC 7638
//! thumbprints, and verification of JWS from clients (ES256, RS256, PS256 only: `none` and HS* never).

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use der::Decode;
use hcpki_ca::keys::{KeyAlgorithm, KeySource};
use serde_json::{Value, json};
use std::sync::Arc;

/// A token signing key: the key source and its public JWK.
#[derive(Clone, Debug)]
pub struct Signer {
    key: Arc<dyn KeySource>,
    /// `kid`: the RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// The public JWK (with `kid`, `use`, `alg`).
    pub jwk: Value,
}

impl Signer {
    /// Wrap a P-256 key (ES256).
    pub fn new(key: Arc<dyn KeySource>) -> Result<Self, JwsError> {
        if key.algorithm() != KeyAlgorithm::P256 {
            return Err(JwsError::KeyAlgorithm(key.algorithm().to_string()));
        }
        let point = key.public_key().subject_public_key.raw_bytes();
        let (x, y) = ec_coordinates(point, 32).ok_or(JwsError::Key)?;
        let kid = thumbprint(&json!({ "crv": "P-256", "kty": "EC", "x": x, "y": y }));
        let jwk = json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "use": "sig", "alg": "ES256" });
        Ok(Self { key, kid, jwk })
    }

    /// Sign `claims` as a compact JWS with header `typ`.
    pub fn sign(&self, typ: &str, claims: &Value) -> Result<String, JwsError> {
        let header = json!({ "alg": "ES256", "typ": typ, "kid": self.kid });
        let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let der = self.key.sign(input.as_bytes()).map_err(|e| JwsError::Sign(e.to_string()))?;
        let raw = der_to_raw(&der, 32).ok_or_else(|| JwsError::Sign("the key returned no ECDSA-Sig-Value".into()))?;
        Ok(format!("{input}.{}", B64.encode(raw)))
    }

    /// Verify a JWS we signed (access tokens, `id_token_hint`) and return its header `typ` and claims.
    pub fn verify_own(&self, jws: &str) -> Result<(Option<String>, Value), JwsError> {
        let parsed = Parsed::parse(jws)?;
        if parsed.alg != "ES256" || parsed.header.get("kid").and_then(Value::as_str) != Some(&self.kid) {
            return Err(JwsError::Signature);
        }
        verify_with(&self.jwk, &parsed)?;
        let typ = parsed.header.get("typ").and_then(Value::as_str).map(str::to_owned);
        Ok((typ, parsed.claims))
    }
}

/// A compact JWS split into its parts; nothing is trusted until [`verify_with`] passes.
#[derive(Debug)]
pub struct Parsed {
    /// Protected header.
    pub header: Value,
    /// `alg`.
    pub alg: String,
    /// Payload (a JSON object).
    pub claims: Value,
    input: String,
    signature: Vec<u8>,
}

impl Parsed {
    /// Split and decode, refusing `alg` values we never verify (`none`, `HS*`, anything unknown).
    pub fn parse(jws: &str) -> Result<Self, JwsError> {
        let mut parts = jws.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(JwsError::Malformed("not three base64url parts"));
        };
        let header: Value = decode_json(h)?;
        let alg = header.get("alg").and_then(Value::as_str).ok_or(JwsError::Malformed("no alg"))?.to_owned();
        if !matches!(alg.as_str(), "ES256" | "RS256" | "PS256") {
            return Err(JwsError::Algorithm(alg));
        }
        if header.get("crit").is_some() {
            return Err(JwsError::Malformed("crit header parameters are not supported"));
        }
        let claims: Value = decode_json(p)?;
        if !claims.is_object() {
            return Err(JwsError::Malformed("the payload is not a JSON object"));
        }
        let signature = B64.decode(s).map_err(|_| JwsError::Malformed("signature is not base64url"))?;
        let input = jws.get(..h.len() + 1 + p.len()).unwrap_or_default().to_owned();
        Ok(Self { header, alg, claims, input, signature })
    }
}

/// Verify `parsed` with public JWK `jwk` (EC P-256 for ES256, RSA for RS256/PS256).
pub fn verify_with(jwk: &Value, parsed: &Parsed) -> Result<(), JwsError> {
    let field = |name: &str| -> Result<Vec<u8>, JwsError> {
        let text = jwk.get(name).and_then(Value::as_str).ok_or(JwsError::Signature)?;
        B64.decode(text).map_err(|_| JwsError::Signature)
    };
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or_default();
    let ok = match (parsed.alg.as_str(), kty) {
        ("ES256", "EC") if jwk.get("crv").and_then(Value::as_str) == Some("P-256") => {
            let mut point = vec![4u8];
            point.extend(coordinate(field("x")?)?);
            point.extend(coordinate(field("y")?)?);
            UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point)
                .verify(parsed.input.as_bytes(), &parsed.signature)
                .is_ok()
        }
        ("RS256" | "PS256", "RSA") => {
            let params: &sig::RsaParameters =
                if parsed.alg == "RS256" { &sig::RSA_PKCS1_2048_8192_SHA256 } else { &sig::RSA_PSS_2048_8192_SHA256 };
            let key = sig::RsaPublicKeyComponents { n: field("n")?, e: field("e")? };
            key.verify(params, parsed.input.as_bytes(), &parsed.signature).is_ok()
        }
        _ => false,
    };
    if ok { Ok(()) } else { Err(JwsError::Signature) }
}

/// A P-256 coordinate as 32 bytes. RFC 7518 §6.2.1.2 wants the full length, but some libraries (authlib
/// 1.6) drop leading zero bytes, one key in 128: accept those, left-padded.
fn coordinate(bytes: Vec<u8>) -> Result<Vec<u8>, JwsError> {
    let pad = 32usize.checked_sub(bytes.len()).ok_or(JwsError::Signature)?;
    let mut out = vec![0u8; pad];
    out.extend(bytes);
    Ok(out)
}

/// RFC 7638 thumbprint of a public JWK (EC: crv, kty, x, y; RSA: e, kty, n), base64url SHA-256.
pub fn thumbprint(jwk: &Value) -> String {
    let members: &[&str] = match jwk.get("kty").and_then(Value::as_str) {
        Some("RSA") => &["e", "kty", "n"],
        _ => &["crv", "kty", "x", "y"],
    };
    // serde_json's Map is ordered by key without the preserve_order feature: exactly RFC 7638's order.
    let mut canonical: serde_json::Map<String, Value> =
        members.iter().map(|m| ((*m).to_owned(), jwk.get(*m).cloned().unwrap_or(Value::Null))).collect();
    // Full-length coordinates (see `coordinate`), so one key has one thumbprint whoever wrote the JWK.
    if jwk.get("crv").and_then(Value::as_str) == Some("P-256") {
        for c in ["x", "y"] {
            let full = canonical
                .get(c)
                .and_then(Value::as_str)
                .and_then(|t| B64.decode(t).ok())
                .and_then(|b| coordinate(b).ok());
            if let Some(full) = full {
                canonical.insert(c.to_owned(), Value::String(B64.encode(full)));
            }
        }
    }
    B64.encode(sha256(Value::Object(canonical).to_string().as_bytes()))
}

/// SHA-256.
pub fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref().to_vec()
}

/// base64url(SHA-256(data)): `x5t#S256`, `at_hash`-style values.
pub fn sha256_b64(data: &[u8]) -> String {
    B64.encode(sha256(data))
}

/// The public JWK of a certificate's key (P-256 or RSA), for `self_signed_tls_client_auth`.
pub fn certificate_jwk(cert_der: &[u8]) -> Option<Value> {
    let cert = x509_cert::Certificate::from_der(cert_der).ok()?;
    let spki = cert.tbs_certificate().subject_public_key_info();
    let bits = spki.subject_public_key.raw_bytes();
    if spki.algorithm.oid == der::oid::db::rfc5912::ID_EC_PUBLIC_KEY {
        let (x, y) = ec_coordinates(bits, 32)?;
        Some(json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }))
    } else if spki.algorithm.oid == der::oid::db::rfc5912::RSA_ENCRYPTION {
        /// RFC 8017 §A.1.1.
        #[derive(der::Sequence)]
        struct RsaPublicKey<'a> {
            n: der::asn1::UintRef<'a>,
            e: der::asn1::UintRef<'a>,
        }
        let key = RsaPublicKey::from_der(bits).ok()?;
        Some(json!({ "kty": "RSA", "n": B64.encode(key.n.as_bytes()), "e": B64.encode(key.e.as_bytes()) }))
    } else {
        None
    }
}

fn decode_json(part: &str) -> Result<Value, JwsError> {
    let bytes = B64.decode(part).map_err(|_| JwsError::Malformed("a part is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| JwsError::Malformed("a part is not JSON"))
}

/// x and y (base64url) of an uncompressed SEC1 point of a curve with `n`-byte coordinates.
fn ec_coordinates(point: &[u8], n: usize) -> Option<(String, String)> {
    let rest = point.strip_prefix(&[4u8])?;
    if rest.len() != 2 * n {
        return None;
    }
    let (x, y) = rest.split_at(n);
    Some((B64.encode(x), B64.encode(y)))
}

/// DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` to JWS's fixed-width r‖s.
fn der_to_raw(der_sig: &[u8], n: usize) -> Option<Vec<u8>> {
    #[derive(der::Sequence)]
    struct EcdsaSig<'a> {
        r: der::asn1::UintRef<'a>,
        s: der::asn1::UintRef<'a>,
    }
    let parsed = EcdsaSig::from_der(der_sig).ok()?;
    let mut out = vec![0u8; 2 * n];
    for (i, int) in [parsed.r, parsed.s].iter().enumerate() {
        let bytes = int.as_bytes();
        if bytes.len() > n {
            return None;
        }
        let end = (i + 1) * n;
        out.get_mut(end - bytes.len()..end)?.copy_from_slice(bytes);
    }
    Some(out)
}

/// Why a JWS could not be made or was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// The token signing key is not P-256.
    #[error("the OIDC signing key is {0}; it must be p256 (ES256)")]
    KeyAlgorithm(String),
    /// The public key does not decode.
    #[error("the OIDC signing key's public key is not an uncompressed P-256 point")]
    Key,
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// Not a compact JWS.
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    /// An algorithm we never accept.
    #[error("JWS algorithm {0:?} is not accepted: use ES256, RS256 or PS256")]
    Algorithm(String),
    /// The signature does not verify with any registered key.
    #[error("the JWS signature does not verify with the registered keys")]
    Signature,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_none_and_hs256() {
        let none = format!("{}.{}.", B64.encode(r#"{"alg":"none"}"#), B64.encode(r#"{"iss":"x"}"#));
        assert!(matches!(Parsed::parse(&none), Err(JwsError::Algorithm(_))));
        let hs = format!("{}.{}.AAAA", B64.encode(r#"{"alg":"HS256"}"#), B64.encode(r#"{"iss":"x"}"#));
        assert!(matches!(Parsed::parse(&hs), Err(JwsError::Algorithm(_))));
    }

    #[test]
    fn short_coordinates_are_the_same_key() {
        let full = json!({"kty":"EC","crv":"P-256","x": B64.encode([0u8, 1, 2].iter().chain([3u8; 29].iter()).copied().collect::<Vec<_>>()), "y": B64.encode([5u8; 32])});
        let short = json!({"kty":"EC","crv":"P-256","x": B64.encode([1u8, 2].iter().chain([3u8; 29].iter()).copied().collect::<Vec<_>>()), "y": B64.encode([5u8; 32])});
        assert_eq!(thumbprint(&full), thumbprint(&short));
        assert_eq!(coordinate(vec![1; 31]).unwrap().len(), 32);
        assert!(coordinate(vec![1; 33]).is_err());
    }

    /// RFC 7638 §3.1's example RSA key thumbprint.
    #[test]
    fn rfc7638_example() {
        let jwk = json!({"kty":"RSA","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
        assert_eq!(thumbprint(&jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
