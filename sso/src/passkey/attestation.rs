//! Attestation objects (WebAuthn Level 3 §6.5): `{ "fmt": text, "attStmt": map, "authData": bytes }`, the
//! formats `none` and `packed` (§8.2: self attestation, or an x5c certificate whose key signed), and the
//! facility's policy over them.

use super::PasskeyError;
use super::authenticator_data::AuthenticatorData;
use super::cbor;
use super::cose_key::{ES256, PublicKey};
use ciborium::value::Value;
pub use hcpki_model::passkey_attestation::{AttestationKind, AttestationPolicy};

const PART: &str = "attestationObject";

/// A parsed attestation object: the authenticator data (bytes and parsed) and the statement.
#[derive(Debug)]
pub struct AttestationObject {
    /// The authenticator data's bytes, as signed.
    pub auth_data_bytes: Vec<u8>,
    /// The authenticator data.
    pub auth_data: AuthenticatorData,
    fmt: String,
    statement: Vec<(Value, Value)>,
}

impl AttestationObject {
    /// Parse `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, PasskeyError> {
        let value = cbor::whole(bytes, PART)?;
        let entries = cbor::map(&value, PART)?;
        let fmt = cbor::text_key(entries, "fmt")
            .and_then(Value::as_text)
            .ok_or_else(|| PasskeyError::malformed(PART, "no fmt"))?
            .to_owned();
        let statement = cbor::text_key(entries, "attStmt")
            .and_then(Value::as_map)
            .ok_or_else(|| PasskeyError::malformed(PART, "no attStmt map"))?
            .clone();
        let auth_data_bytes = cbor::text_key(entries, "authData")
            .and_then(Value::as_bytes)
            .ok_or_else(|| PasskeyError::malformed(PART, "no authData"))?
            .clone();
        let auth_data = AuthenticatorData::parse(&auth_data_bytes)?;
        Ok(Self { auth_data_bytes, auth_data, fmt, statement })
    }

    /// Check the statement over the authenticator data and `client_data_hash` with `credential_key` (the key
    /// in the authenticator data), then the facility's `policy`: the kind of attestation.
    pub fn verify(
        &self,
        client_data_hash: &[u8; 32],
        credential_key: &PublicKey,
        aaguid: &[u8; 16],
        policy: &AttestationPolicy,
    ) -> Result<AttestationKind, PasskeyError> {
        let kind = match self.fmt.as_str() {
            "none" if self.statement.is_empty() => AttestationKind::None,
            "none" => return Err(PasskeyError::malformed(PART, "format none with a statement")),
            "packed" => self.packed(client_data_hash, credential_key, aaguid)?,
            other => return Err(PasskeyError::AttestationFormat(other.to_owned())),
        };
        if !policy.admits(kind, aaguid) {
            return Err(PasskeyError::AttestationRefused);
        }
        Ok(kind)
    }

    /// §8.2.1: `{ alg, sig, x5c? }` over `authData || clientDataHash`.
    fn packed(
        &self,
        client_data_hash: &[u8; 32],
        credential_key: &PublicKey,
        aaguid: &[u8; 16],
    ) -> Result<AttestationKind, PasskeyError> {
        let alg = cbor::text_key(&self.statement, "alg")
            .and_then(cbor::int)
            .ok_or_else(|| PasskeyError::malformed(PART, "packed without alg"))?;
        let sig = cbor::text_key(&self.statement, "sig")
            .and_then(Value::as_bytes)
            .ok_or_else(|| PasskeyError::malformed(PART, "packed without sig"))?;
        let signed = [self.auth_data_bytes.as_slice(), client_data_hash].concat();
        match cbor::text_key(&self.statement, "x5c") {
            None => {
                if alg != credential_key.algorithm() {
                    return Err(PasskeyError::UnsupportedAlgorithm(alg));
                }
                credential_key.verify(&signed, sig)?;
                Ok(AttestationKind::SelfAttested)
            }
            Some(x5c) => {
                let leaf = x5c
                    .as_array()
                    .and_then(|certs| certs.first())
                    .and_then(Value::as_bytes)
                    .ok_or_else(|| PasskeyError::malformed(PART, "x5c without a certificate"))?;
                if alg != ES256 {
                    return Err(PasskeyError::UnsupportedAlgorithm(alg));
                }
                certificate_key(leaf, aaguid)?.verify(&signed, sig)?;
                Ok(AttestationKind::Certified)
            }
        }
    }
}

/// `id-fido-gen-ce-aaguid` (1.3.6.1.4.1.45724.1.1.4): the model an attestation certificate vouches for.
const AAGUID_EXTENSION: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");

/// The P-256 key of an attestation certificate (DER), after §8.2.1's certificate requirements that bind it to
/// the model: not a CA certificate, and when it names a model (the AAGUID extension), the model the
/// authenticator data claims. Its chain to a maker's root is not checked here (D147, D170).
fn certificate_key(der_bytes: &[u8], aaguid: &[u8; 16]) -> Result<PublicKey, PasskeyError> {
    use der::Decode as _;
    let cert = x509_cert::Certificate::from_der(der_bytes).map_err(|e| PasskeyError::malformed("x5c", e))?;
    for ext in cert.tbs_certificate().extensions().into_iter().flatten() {
        if ext.extn_id == AAGUID_EXTENSION {
            let named = der::asn1::OctetString::from_der(ext.extn_value.as_bytes())
                .map_err(|e| PasskeyError::malformed("x5c AAGUID extension", e))?;
            if named.as_bytes() != aaguid.as_slice() {
                return Err(PasskeyError::malformed("x5c", "the certificate vouches for another model (AAGUID)"));
            }
        }
        if ext.extn_id == const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS {
            let bc = x509_cert::ext::pkix::BasicConstraints::from_der(ext.extn_value.as_bytes())
                .map_err(|e| PasskeyError::malformed("x5c basic constraints", e))?;
            if bc.ca {
                return Err(PasskeyError::malformed("x5c", "an attestation certificate must not be a CA"));
            }
        }
    }
    let point = cert.tbs_certificate().subject_public_key_info().subject_public_key.raw_bytes();
    if point.len() != 65 || point.first() != Some(&4) {
        return Err(PasskeyError::UnsupportedAlgorithm(ES256));
    }
    Ok(PublicKey::Es256(point.to_vec()))
}
