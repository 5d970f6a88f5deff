//! Flattened JSON JWS (RFC 7515 §7.2.2) as ACME uses it (RFC 8555 §6.2): parse, check the header rules,
//! verify the signature with the account key ([`Jwk`]) or, for External Account Binding, an HMAC key.
//!
//! Signatures go through [`hcpki_pkix::keys::verify`] (the same aws-lc-rs code that checks CSR proof of
//! possession): the JWK becomes a SubjectPublicKeyInfo and an ECDSA `r‖s` signature the DER
//! `ECDSA-Sig-Value` X.509 uses, so JOSE is only a change of encoding here.

use super::problem::Problem;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use const_oid::db::rfc5912;
use der::asn1::{BitString, UintRef};
use der::{Encode, Sequence};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// A flattened JWS as received, before any check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Flattened {
    protected: String,
    payload: String,
    signature: String,
}

/// The protected header fields ACME uses (others are ignored, as RFC 7515 allows for unknown ones).
#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    jwk: Option<serde_json::Value>,
    #[serde(default)]
    kid: Option<String>,
}

/// Who signed: a new key (newAccount, revocation by certificate key) or an account by its URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signer {
    /// `jwk` in the header.
    Key(Jwk),
    /// `kid` in the header: the account URL.
    Account(String),
}

/// A parsed JWS whose header obeys RFC 8555 §6.2; the signature is not verified yet.
#[derive(Debug)]
pub struct Jws {
    /// The signature algorithm (`ES256`, `RS256`, …; `HS256` only for EAB).
    pub alg: String,
    /// The anti-replay nonce (absent only in the inner EAB and key-change JWS).
    pub nonce: Option<String>,
    /// The URL the client meant to reach.
    pub url: String,
    /// Who signed.
    pub signer: Signer,
    /// The decoded payload; empty for POST-as-GET.
    pub payload: Vec<u8>,
    /// The raw `protected` member (base64url), for re-encoding the inner EAB value.
    pub protected_b64: String,
    /// The raw `payload` member (base64url).
    pub payload_b64: String,
    signature: Vec<u8>,
}

/// Parse a flattened JWS. Everything the client could get wrong in the encoding is `malformed`; an
/// algorithm outside the ones accepted is `badSignatureAlgorithm`.
pub fn parse(body: &[u8]) -> Result<Jws, Problem> {
    let outer: Flattened = serde_json::from_slice(body)
        .map_err(|e| Problem::malformed(format!("the body is not a flattened JSON JWS ({e})")))?;
    parse_parts(outer)
}

/// Parse a flattened JWS given as a JSON value (the inner JWS of EAB and key-change).
pub fn parse_value(value: &serde_json::Value) -> Result<Jws, Problem> {
    let inner: Flattened = serde_json::from_value(value.clone())
        .map_err(|e| Problem::malformed(format!("the inner value is not a flattened JSON JWS ({e})")))?;
    parse_parts(inner)
}

fn parse_parts(f: Flattened) -> Result<Jws, Problem> {
    let header_bytes = b64("protected", &f.protected)?;
    let header: Header = serde_json::from_slice(&header_bytes)
        .map_err(|e| Problem::malformed(format!("the protected header is not a JSON object ({e})")))?;
    let signer = match (header.jwk, header.kid) {
        (Some(jwk), None) => Signer::Key(Jwk::from_value(&jwk)?),
        (None, Some(kid)) => Signer::Account(kid),
        _ => return Err(Problem::malformed("the protected header must have exactly one of jwk and kid")),
    };
    if header.alg == "none" || header.alg.is_empty() {
        return Err(Problem::bad_signature_algorithm("alg none is not accepted"));
    }
    let url = header.url.ok_or_else(|| Problem::malformed("the protected header has no url"))?;
    Ok(Jws {
        alg: header.alg,
        nonce: header.nonce,
        url,
        signer,
        payload: b64("payload", &f.payload)?,
        protected_b64: f.protected,
        payload_b64: f.payload,
        signature: b64("signature", &f.signature)?,
    })
}

impl Jws {
    /// The bytes the signature covers (RFC 7515 §5.1 step 8).
    fn signing_input(&self) -> Vec<u8> {
        format!("{}.{}", self.protected_b64, self.payload_b64).into_bytes()
    }

    /// Verify with an account key; `alg` must fit the key (ES256 → P-256, ES384 → P-384, RS256 → RSA).
    pub fn verify(&self, key: &Jwk) -> Result<(), Problem> {
        let (alg_oid, der_signature) = match (self.alg.as_str(), key) {
            ("ES256", Jwk::Ec { curve: Curve::P256, .. }) => {
                (rfc5912::ECDSA_WITH_SHA_256, ecdsa_der(&self.signature, 32)?)
            }
            ("ES384", Jwk::Ec { curve: Curve::P384, .. }) => {
                (rfc5912::ECDSA_WITH_SHA_384, ecdsa_der(&self.signature, 48)?)
            }
            ("RS256", Jwk::Rsa { .. }) => (rfc5912::SHA_256_WITH_RSA_ENCRYPTION, self.signature.clone()),
            (alg @ ("ES256" | "ES384" | "RS256"), _) => {
                return Err(Problem::bad_signature_algorithm(format!("{alg} does not fit the account key type")));
            }
            (alg, _) => {
                return Err(Problem::bad_signature_algorithm(format!(
                    "JWS algorithm {alg} is not accepted: use ES256, ES384 or RS256"
                )));
            }
        };
        let alg = AlgorithmIdentifierOwned { oid: alg_oid, parameters: None };
        hcpki_pkix::keys::verify::verify_signature(&key.spki()?, &alg, &self.signing_input(), &der_signature)
            .map_err(|e| Problem::malformed(format!("JWS signature: {e}")))
    }

    /// Verify an HMAC JWS (External Account Binding: HS256, HS384 or HS512) with `key`.
    pub fn verify_mac(&self, key: &[u8]) -> Result<(), Problem> {
        let algorithm = match self.alg.as_str() {
            "HS256" => aws_lc_rs::hmac::HMAC_SHA256,
            "HS384" => aws_lc_rs::hmac::HMAC_SHA384,
            "HS512" => aws_lc_rs::hmac::HMAC_SHA512,
            other => {
                return Err(Problem::bad_signature_algorithm(format!(
                    "external account binding algorithm {other} is not accepted: use HS256"
                )));
            }
        };
        let key = aws_lc_rs::hmac::Key::new(algorithm, key);
        aws_lc_rs::hmac::verify(&key, &self.signing_input(), &self.signature)
            .map_err(|_| Problem::unauthorized("the external account binding MAC does not verify"))
    }
}

/// A JSON Web Key (RFC 7517) of the types ACME accounts use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Jwk {
    /// `kty: EC`, with the coordinates' big-endian bytes.
    Ec {
        /// The curve.
        curve: Curve,
        /// x coordinate.
        x: Vec<u8>,
        /// y coordinate.
        y: Vec<u8>,
    },
    /// `kty: RSA`, modulus and exponent big-endian.
    Rsa {
        /// Modulus.
        n: Vec<u8>,
        /// Public exponent.
        e: Vec<u8>,
    },
}

/// The curves accepted for EC account keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    /// P-256 (ES256).
    P256,
    /// P-384 (ES384).
    P384,
}

impl Curve {
    fn name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
        }
    }

    fn coordinate_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }
}

/// Smallest RSA modulus accepted for an account key (as for certificates).
const MIN_RSA_BITS: usize = 2048;
/// Largest, to bound verification cost.
const MAX_RSA_BITS: usize = 8192;

impl Jwk {
    /// Parse a public JWK; private members are refused (a client leaking its key should learn so).
    pub fn from_value(v: &serde_json::Value) -> Result<Self, Problem> {
        let obj = v.as_object().ok_or_else(|| Problem::malformed("jwk is not a JSON object"))?;
        let text = |name: &str| -> Result<&str, Problem> {
            obj.get(name).and_then(|m| m.as_str()).ok_or_else(|| Problem::malformed(format!("jwk has no {name}")))
        };
        if obj.contains_key("d") {
            return Err(Problem::malformed("jwk contains a private key member (d): send the public key only"));
        }
        match text("kty")? {
            "EC" => {
                let curve = match text("crv")? {
                    "P-256" => Curve::P256,
                    "P-384" => Curve::P384,
                    other => {
                        return Err(Problem::bad_signature_algorithm(format!(
                            "EC curve {other} is not accepted: use P-256 or P-384"
                        )));
                    }
                };
                let x = b64("jwk x", text("x")?)?;
                let y = b64("jwk y", text("y")?)?;
                if x.len() != curve.coordinate_len() || y.len() != curve.coordinate_len() {
                    return Err(Problem::malformed(format!("jwk coordinates do not have the {} length", curve.name())));
                }
                Ok(Self::Ec { curve, x, y })
            }
            "RSA" => {
                let n = strip_zeros(b64("jwk n", text("n")?)?);
                let e = strip_zeros(b64("jwk e", text("e")?)?);
                let bits = n.len() * 8;
                if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) || e.is_empty() || e.len() > 8 {
                    return Err(Problem::bad_public_key(format!(
                        "RSA account keys must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits"
                    )));
                }
                Ok(Self::Rsa { n, e })
            }
            other => Err(Problem::bad_signature_algorithm(format!("key type {other} is not accepted: use EC or RSA"))),
        }
    }

    /// The JWK as JSON with the RFC 7638 required members only, in lexicographic order: the thumbprint
    /// input, and the form stored.
    pub fn canonical_json(&self) -> String {
        match self {
            Self::Ec { curve, x, y } => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                curve.name(),
                URL_SAFE_NO_PAD.encode(x),
                URL_SAFE_NO_PAD.encode(y)
            ),
            Self::Rsa { n, e } => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, URL_SAFE_NO_PAD.encode(e), URL_SAFE_NO_PAD.encode(n))
            }
        }
    }

    /// RFC 7638 thumbprint: base64url SHA-256 of [`Self::canonical_json`].
    pub fn thumbprint(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.canonical_json().as_bytes()))
    }

    /// The key as X.509 carries it.
    pub fn spki(&self) -> Result<SubjectPublicKeyInfoOwned, Problem> {
        let bad = |e: der::Error| Problem::bad_public_key(format!("the JWK cannot be encoded as a public key: {e}"));
        match self {
            Self::Ec { curve, x, y } => {
                let curve_oid = match curve {
                    Curve::P256 => rfc5912::SECP_256_R_1,
                    Curve::P384 => rfc5912::SECP_384_R_1,
                };
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(0x04);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                Ok(SubjectPublicKeyInfoOwned {
                    algorithm: AlgorithmIdentifierOwned {
                        oid: rfc5912::ID_EC_PUBLIC_KEY,
                        parameters: Some(der::Any::encode_from(&curve_oid).map_err(bad)?),
                    },
                    subject_public_key: BitString::from_bytes(&point).map_err(bad)?,
                })
            }
            Self::Rsa { n, e } => {
                let key = RsaPublicKey { n: UintRef::new(n).map_err(bad)?, e: UintRef::new(e).map_err(bad)? };
                Ok(SubjectPublicKeyInfoOwned {
                    algorithm: AlgorithmIdentifierOwned {
                        oid: rfc5912::RSA_ENCRYPTION,
                        parameters: Some(der::asn1::Null.into()),
                    },
                    subject_public_key: BitString::from_bytes(&key.to_der().map_err(bad)?).map_err(bad)?,
                })
            }
        }
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo (hex), as the certificate registry records keys.
    pub fn spki_sha256(&self) -> Result<String, Problem> {
        let der = self.spki()?.to_der().map_err(|e| Problem::bad_public_key(e.to_string()))?;
        Ok(hex::encode(Sha256::digest(der)))
    }
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017 §A.1.1).
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    n: UintRef<'a>,
    e: UintRef<'a>,
}

/// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 5480 §2.2 / RFC 3279).
#[derive(Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// JOSE's fixed-width `r‖s` (RFC 7518 §3.4) → DER.
fn ecdsa_der(signature: &[u8], half: usize) -> Result<Vec<u8>, Problem> {
    let wrong = || Problem::malformed(format!("an ECDSA JWS signature must be {} bytes (r‖s)", 2 * half));
    if signature.len() != 2 * half {
        return Err(wrong());
    }
    let (r, s) = signature.split_at(half);
    let value = EcdsaSigValue { r: UintRef::new(r).map_err(|_| wrong())?, s: UintRef::new(s).map_err(|_| wrong())? };
    value.to_der().map_err(|_| wrong())
}

fn strip_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let zeros = v.iter().take_while(|b| **b == 0).count();
    v.drain(..zeros);
    v
}

/// Strict base64url without padding (RFC 7515 §2).
pub fn b64(what: &str, text: &str) -> Result<Vec<u8>, Problem> {
    URL_SAFE_NO_PAD.decode(text).map_err(|_| Problem::malformed(format!("{what} is not base64url without padding")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc7638_thumbprint_example() {
        // RFC 7638 §3.1.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(Jwk::from_value(&jwk).unwrap().thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn header_rules() {
        let enc = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let body = |protected: serde_json::Value| {
            json!({"protected": enc(protected), "payload": "", "signature": "AA"}).to_string()
        };
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32])});
        assert!(parse(body(json!({"alg": "ES256", "url": "u", "jwk": jwk, "kid": "k"})).as_bytes()).is_err());
        assert!(parse(body(json!({"alg": "ES256", "url": "u"})).as_bytes()).is_err());
        assert!(parse(body(json!({"alg": "none", "url": "u", "kid": "k"})).as_bytes()).is_err());
        assert!(parse(body(json!({"alg": "ES256", "kid": "k"})).as_bytes()).is_err());
        assert!(parse(b"{}").is_err());
        assert!(parse(b"\xff").is_err());
        let ok = parse(body(json!({"alg": "ES256", "url": "u", "jwk": jwk, "nonce": "n"})).as_bytes()).unwrap();
        assert!(matches!(ok.signer, Signer::Key(_)));
        assert!(ok.payload.is_empty());
        assert!(
            ok.verify(match &ok.signer {
                Signer::Key(k) => k,
                Signer::Account(_) => unreachable!(),
            })
            .is_err()
        );
    }

    #[test]
    fn private_and_short_keys_are_refused() {
        let d = json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32]), "d": "AA"});
        assert!(Jwk::from_value(&d).is_err());
        let short = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xffu8; 128]), "e": "AQAB"});
        assert!(Jwk::from_value(&short).is_err());
        let k1 = json!({"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"});
        assert!(Jwk::from_value(&k1).is_err());
    }
}
