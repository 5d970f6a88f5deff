//! Compact JWS (RFC 7515), by hand: signing our tokens through a [`KeySource`] (ES256: the DER
//! `ECDSA-Sig-Value` the key returns becomes JWS's raw r‖s, RFC 7518 §3.4; RS256: the PKCS #1 v1.5 block
//! as is; PS256: the key's RSASSA-PSS), JWKs and their RFC 7638
//! thumbprints, and verification of JWS from clients (ES256, RS256, PS256 only: `none` and HS* never).

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use der::Decode;
use hcpki_pkix::keys::{KeyAlgorithm, KeySource};
use serde_json::{Value, json};
use std::sync::Arc;

/// A JWS algorithm the provider signs tokens with (RFC 7518 §3.1). Clients pick one at registration
/// (`id_token_signed_response_alg`); each has its own key in every generation of the ring (`keys.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum SigningAlg {
    /// ECDSA P-256 with SHA-256: the default, smallest and fastest.
    #[default]
    #[serde(rename = "ES256")]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256: what every OIDC library supports (OIDC Core §15.1 makes it mandatory).
    #[serde(rename = "RS256")]
    Rs256,
    /// RSASSA-PSS with SHA-256 (MGF1-SHA-256, 32-byte salt).
    #[serde(rename = "PS256")]
    Ps256,
}

impl SigningAlg {
    /// Every algorithm, in the order the JWKS lists a generation's keys.
    pub const ALL: [Self; 3] = [Self::Es256, Self::Rs256, Self::Ps256];

    /// The JWS `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
        }
    }

    /// Parse a JWS `alg` name (only the ones we sign with).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// The key this algorithm signs with: P-256, or RSA-2048 (the size the JWS libraries all accept).
    pub fn key_algorithm(self) -> KeyAlgorithm {
        match self {
            Self::Es256 => KeyAlgorithm::P256,
            Self::Rs256 | Self::Ps256 => KeyAlgorithm::Rsa2048,
        }
    }
}

/// For `skip_serializing_if` in registrations: the default algorithm is not written.
pub fn is_default_alg(alg: &SigningAlg) -> bool {
    *alg == SigningAlg::default()
}

/// A token signing key: the key source, the algorithm it signs with and its public JWK.
#[derive(Clone, Debug)]
pub struct Signer {
    key: Arc<dyn KeySource>,
    /// The algorithm.
    pub alg: SigningAlg,
    /// `kid`: the RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// The public JWK (with `kid`, `use`, `alg`).
    pub jwk: Value,
}

impl Signer {
    /// Wrap a key for `alg`: P-256 for ES256, RSA (2048 bits or more) for RS256 and PS256.
    pub fn new(key: Arc<dyn KeySource>, alg: SigningAlg) -> Result<Self, JwsError> {
        let wrong = || JwsError::KeyAlgorithm { alg: alg.as_str(), key: key.algorithm().to_string() };
        let bits = key.public_key().subject_public_key.raw_bytes();
        let mut jwk = match alg {
            SigningAlg::Es256 if key.algorithm() == KeyAlgorithm::P256 => {
                let (x, y) = ec_coordinates(bits, 32).ok_or(JwsError::Key)?;
                json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y })
            }
            SigningAlg::Rs256 | SigningAlg::Ps256 if key.algorithm().rsa_bits().is_some() => {
                rsa_jwk(bits).ok_or(JwsError::Key)?
            }
            _ => return Err(wrong()),
        };
        let kid = thumbprint(&jwk);
        if let Some(map) = jwk.as_object_mut() {
            map.insert("kid".into(), json!(kid));
            map.insert("use".into(), json!("sig"));
            map.insert("alg".into(), json!(alg.as_str()));
        }
        Ok(Self { key, alg, kid, jwk })
    }

    /// Sign `claims` (a JSON object: a typed claims struct on the hot paths, a `Value` elsewhere) as a compact
    /// JWS with header `typ`.
    pub fn sign(&self, typ: &str, claims: &impl serde::Serialize) -> Result<String, JwsError> {
        let header = Header { alg: self.alg.as_str(), kid: &self.kid, typ };
        let header = serde_json::to_vec(&header).map_err(|e| JwsError::Encode(e.to_string()))?;
        let claims = serde_json::to_vec(claims).map_err(|e| JwsError::Encode(e.to_string()))?;
        let mut input = B64.encode(header);
        input.push('.');
        B64.encode_string(claims, &mut input);
        let sign_error = |e: hcpki_pkix::keys::KeyError| match e {
            hcpki_pkix::keys::KeyError::DeviceUnavailable { .. } => JwsError::DeviceUnavailable(e.to_string()),
            other => JwsError::Sign(other.to_string()),
        };
        let signature = match self.alg {
            SigningAlg::Es256 => {
                let der = self.key.sign(input.as_bytes()).map_err(sign_error)?;
                der_to_raw(&der, 32).ok_or_else(|| JwsError::Sign("the key returned no ECDSA-Sig-Value".into()))?
            }
            // The PKCS #1 v1.5 block X.509 carries is exactly JWS's RS256 signature (RFC 7518 §3.3).
            SigningAlg::Rs256 => self.key.sign(input.as_bytes()).map_err(sign_error)?,
            SigningAlg::Ps256 => self.key.sign_pss_sha256(input.as_bytes()).map_err(sign_error)?,
        };
        input.push('.');
        B64.encode_string(signature, &mut input);
        Ok(input)
    }

    /// Verify a JWS we signed (access tokens, `id_token_hint`) and return its header `typ` and claims.
    pub fn verify_own(&self, jws: &str) -> Result<(Option<String>, Value), JwsError> {
        let parsed = Parsed::parse(jws)?;
        if parsed.alg != self.alg.as_str() || parsed.header.get("kid").and_then(Value::as_str) != Some(&self.kid) {
            return Err(JwsError::Signature);
        }
        verify_with(&self.jwk, &parsed)?;
        let typ = parsed.header.get("typ").and_then(Value::as_str).map(str::to_owned);
        Ok((typ, parsed.claims))
    }
}

/// The protected header of the JWS we sign. Members in key order, as a `serde_json::Value` map writes them.
#[derive(serde::Serialize)]
struct Header<'a> {
    alg: &'static str,
    kid: &'a str,
    typ: &'a str,
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

/// The `iss` a compact JWS's payload names, read without any check, not even of `alg`: only for an audit entry to
/// say which client a refused assertion claimed to be.
pub fn unverified_issuer(jws: &str) -> Option<String> {
    let claims = decode_json(jws.split('.').nth(1)?).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
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
        // The curve is the algorithm's parameter: another 32-byte curve (secp256k1) must not pass for P-256.
        let curve = spki.algorithm.parameters.as_ref()?.decode_as::<der::asn1::ObjectIdentifier>().ok()?;
        if curve != der::oid::db::rfc5912::SECP_256_R_1 {
            return None;
        }
        let (x, y) = ec_coordinates(bits, 32)?;
        Some(json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }))
    } else if spki.algorithm.oid == der::oid::db::rfc5912::RSA_ENCRYPTION {
        rsa_jwk(bits)
    } else {
        None
    }
}

/// The public JWK (kty, n, e) of a DER `RSAPublicKey` (RFC 8017 §A.1.1), the bits of an RSA SPKI.
fn rsa_jwk(bits: &[u8]) -> Option<Value> {
    /// RFC 8017 §A.1.1.
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        n: der::asn1::UintRef<'a>,
        e: der::asn1::UintRef<'a>,
    }
    let key = RsaPublicKey::from_der(bits).ok()?;
    Some(json!({ "kty": "RSA", "n": B64.encode(key.n.as_bytes()), "e": B64.encode(key.e.as_bytes()) }))
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
    /// The token signing key does not fit the algorithm (a key file or PKCS#11 object replaced by hand).
    #[error("the OIDC signing key for {alg} is {key}; {alg} needs p256 (ES256) or RSA (RS256, PS256): restore the key")]
    KeyAlgorithm {
        /// The JWS algorithm.
        alg: &'static str,
        /// The key's algorithm.
        key: String,
    },
    /// The public key does not decode.
    #[error("the OIDC signing key's public key does not decode (P-256 point or RSAPublicKey)")]
    Key,
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// The signing key is on a device that cannot be reached now (D154); the same request may succeed later.
    #[error("signing failed: {0}")]
    DeviceUnavailable(String),
    /// The header or claims do not encode as JSON (a bug: this program builds them).
    #[error("the token does not encode as JSON: {0}")]
    Encode(String),
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

    /// Found by the client_certificate fuzz target: a secp256k1 key (32-byte coordinates, like P-256) was
    /// given a JWK labelled P-256. The seeds are OpenSSL's self-signed certificates of each key type.
    #[test]
    fn a_certificate_jwk_is_p256_only_for_a_p256_key() {
        let p256 = include_bytes!("../../../fuzz/seeds/client_certificate/self-signed-p256");
        let secp256k1 = include_bytes!("../../../fuzz/seeds/client_certificate/self-signed-secp256k1");
        let p384 = include_bytes!("../../../fuzz/seeds/client_certificate/self-signed-p384");
        assert_eq!(certificate_jwk(p256).unwrap()["crv"], "P-256");
        assert_eq!(certificate_jwk(secp256k1), None);
        assert_eq!(certificate_jwk(p384), None);
    }

    #[test]
    fn short_coordinates_are_the_same_key() {
        let full = json!({"kty":"EC","crv":"P-256","x": B64.encode([0u8, 1, 2].iter().chain([3u8; 29].iter()).copied().collect::<Vec<_>>()), "y": B64.encode([5u8; 32])});
        let short = json!({"kty":"EC","crv":"P-256","x": B64.encode([1u8, 2].iter().chain([3u8; 29].iter()).copied().collect::<Vec<_>>()), "y": B64.encode([5u8; 32])});
        assert_eq!(thumbprint(&full), thumbprint(&short));
        assert_eq!(coordinate(vec![1; 31]).unwrap().len(), 32);
        assert!(coordinate(vec![1; 33]).is_err());
    }

    /// Each algorithm signs with its own key type, verifies against its own JWK, and refuses the other's key.
    #[test]
    fn each_algorithm_signs_and_verifies() {
        use hcpki_pkix::keys::{KeyContext, SoftwareKey};
        let dir = tempfile::tempdir().unwrap();
        let pass = dir.path().join("pass");
        std::fs::write(&pass, "pass phrase\n").unwrap();
        let ctx = KeyContext { base_dir: dir.path().to_owned(), passphrase_file: Some(pass), pkcs11: None };
        let ec: Arc<dyn KeySource> =
            Arc::new(SoftwareKey::generate(&dir.path().join("ec.p8"), KeyAlgorithm::P256, &ctx).unwrap());
        let rsa: Arc<dyn KeySource> =
            Arc::new(SoftwareKey::generate(&dir.path().join("rsa.p8"), KeyAlgorithm::Rsa2048, &ctx).unwrap());
        for (alg, key, other) in
            [(SigningAlg::Es256, &ec, &rsa), (SigningAlg::Rs256, &rsa, &ec), (SigningAlg::Ps256, &rsa, &ec)]
        {
            let signer = Signer::new(key.clone(), alg).unwrap();
            assert_eq!(signer.jwk["alg"], alg.as_str());
            let token = signer.sign("JWT", &json!({ "sub": "x" })).unwrap();
            let (typ, claims) = signer.verify_own(&token).unwrap();
            assert_eq!((typ.as_deref(), &claims["sub"]), (Some("JWT"), &json!("x")));
            assert!(matches!(Signer::new(other.clone(), alg), Err(JwsError::KeyAlgorithm { .. })));
        }
        // RS256 and PS256 over one key are told apart by alg: a PS256 token does not verify as RS256.
        let ps = Signer::new(rsa.clone(), SigningAlg::Ps256).unwrap().sign("JWT", &json!({})).unwrap();
        assert!(Signer::new(rsa, SigningAlg::Rs256).unwrap().verify_own(&ps).is_err());
    }

    /// RFC 7638 §3.1's example RSA key thumbprint.
    #[test]
    fn rfc7638_example() {
        let jwk = json!({"kty":"RSA","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
        assert_eq!(thumbprint(&jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
