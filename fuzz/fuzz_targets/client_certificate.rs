//! A client certificate as the server reads it from the TLS connection: the facility PC's certificate on the
//! portal (`portal::facility::certificate_serial`: decoded, its serial as the registry keys it; the registry
//! then says which facility and device it is, never the certificate), and a relying party's certificate on the
//! mTLS alias (`oidc::jws::certificate_jwk`: its key as the JWK that `self_signed_tls_client_auth` compares
//! with the client's registered keys, by RFC 7638 thumbprint).
//!
//! The input is the certificate (DER), whatever the TLS layer let through: the mTLS alias takes certificates
//! from any issuer. `seeds/make-card-login-seeds` writes the seeds (self-signed P-256, P-384, secp256k1,
//! Ed25519, RSA-2048 and RSA-4096 certificates, and the card-login PKI's).
//!
//! Must hold: no panic; a serial is the certificate's serial in lowercase hex, in the form
//! `hcpki_ca::serial::normalise` gives stored serials; a JWK is made only of a P-256 or RSA key, and is that
//! key (an EC one on P-256): ACME's independent JWK code (`hcpki_ca::enroll::acme::jws::Jwk`) reads it back
//! to the certificate's own key and algorithm and computes the same thumbprint.
#![no_main]

use der::Decode;
use hcpki::fuzzing::{certificate_jwk, certificate_serial, jwk_thumbprint};
use hcpki_ca::enroll::acme::jws::Jwk;
use libfuzzer_sys::fuzz_target;
use x509_cert::Certificate;

/// secp256r1 (RFC 5480 §2.1.1.1).
const P256: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

fuzz_target!(|data: &[u8]| {
    let serial = certificate_serial(data);
    let jwk = certificate_jwk(data);
    let Ok(cert) = Certificate::from_der(data) else {
        assert!(serial.is_none() && jwk.is_none(), "read a certificate that does not decode");
        return;
    };
    let serial = serial.expect("a decoded certificate has a serial");
    assert_eq!(serial, hex::encode(cert.tbs_certificate().serial_number().as_bytes()));
    assert_eq!(hcpki_ca::serial::normalise(&serial).as_deref(), Some(serial.as_str()), "not a stored serial's form");

    let Some(jwk) = jwk else { return };
    let spki = cert.tbs_certificate().subject_public_key_info();
    if jwk["kty"] == "EC" {
        let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok());
        assert_eq!(curve, Some(P256), "a JWK that says P-256 for a key on another curve: {jwk}");
    }
    // ACME refuses keys it would not accept for an account (RSA below 2048 bits, say); those are not compared.
    let Ok(reread) = Jwk::from_value(&jwk) else { return };
    let reread_spki = reread.spki().expect("a parsed JWK has a SubjectPublicKeyInfo");
    // The key and its algorithm; RSA's NULL parameters may be missing from a sloppy certificate, and say nothing.
    assert_eq!(
        (reread_spki.algorithm.oid, reread_spki.subject_public_key.raw_bytes()),
        (spki.algorithm.oid, spki.subject_public_key.raw_bytes()),
        "the JWK is not the certificate's key: {jwk}"
    );
    assert_eq!(reread.thumbprint(), jwk_thumbprint(&jwk), "two thumbprints of one key");
});
