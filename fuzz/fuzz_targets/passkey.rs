//! `hcpki_sso::passkey`'s parsers on arbitrary bytes (issue #48, D147, D157): the attestation object (CBOR map,
//! `fmt`/`attStmt`/`authData`), the authenticator data inside it and alone (RP id hash, flags, counter,
//! attested credential data with its length-prefixed credential id and COSE key, extensions), the COSE key and a
//! signature check with it, the attestation statement under every policy, and the client data JSON. Every input
//! must end as `Ok` or a `PasskeyError`, never a panic.
#![no_main]

use hcpki_sso::passkey::{AttestationObject, AttestationPolicy, AuthenticatorData, Ceremony, ClientData, PublicKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(object) = AttestationObject::parse(data) {
        if let Some(attested) = &object.auth_data.attested {
            if let Ok(key) = PublicKey::from_cose(&attested.public_key) {
                for policy in
                    [AttestationPolicy::None, AttestationPolicy::Any, AttestationPolicy::Models(vec![hcpki_model::passkey_attestation::Aaguid::from_bytes(attested.aaguid)])]
                {
                    let _ = object.verify(&[0u8; 32], &key, &attested.aaguid, &policy);
                }
            }
        }
    }
    if let Ok(parsed) = AuthenticatorData::parse(data) {
        let _ = (parsed.flags.user_present(), parsed.flags.backup_state(), parsed.sign_count);
    }
    if let Ok(key) = PublicKey::from_cose(data) {
        let (message, signature) = data.split_at(data.len() / 2);
        let _ = key.verify(message, signature);
    }
    for ceremony in [Ceremony::Create, Ceremony::Get] {
        let _ = ClientData::parse(data, ceremony, "https://portal.example.jp");
    }
});
