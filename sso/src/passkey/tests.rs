//! The ceremonies against a software authenticator written here (P-256 keys from aws-lc-rs, CBOR from
//! ciborium), and every refusal of the bad-input list (issue #48): wrong challenge, origin, RP id hash, type,
//! flags; truncated CBOR; an unknown algorithm; a counter that goes back; another user's handle.

use super::*;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use ciborium::value::Value as Cbor;

const ORIGIN: &str = "https://portal.example.jp";
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

fn rp() -> RelyingParty {
    RelyingParty::of_origin(ORIGIN, "hcpki").unwrap()
}

struct Soft {
    key: EcdsaKeyPair,
    id: Vec<u8>,
    count: u32,
}

impl Soft {
    fn new() -> Self {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new()).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        Self { key, id: vec![7; 16], count: 0 }
    }

    fn cose(&self, alg: i64) -> Vec<u8> {
        let point = self.key.public_key().as_ref();
        let key = Cbor::Map(vec![
            (Cbor::from(1), Cbor::from(2)),
            (Cbor::from(3), Cbor::from(alg)),
            (Cbor::from(-1), Cbor::from(1)),
            (Cbor::from(-2), Cbor::Bytes(point[1..33].to_vec())),
            (Cbor::from(-3), Cbor::Bytes(point[33..65].to_vec())),
        ]);
        cbor_bytes(&key)
    }

    fn auth_data(&self, rp_id: &str, flags: u8, count: u32, attested: Option<Vec<u8>>) -> Vec<u8> {
        let mut data = super::sha256(rp_id.as_bytes()).to_vec();
        data.push(flags | if attested.is_some() { AT } else { 0 });
        data.extend_from_slice(&count.to_be_bytes());
        if let Some(key) = attested {
            data.extend_from_slice(&[0xAA; 16]);
            data.extend_from_slice(&(self.id.len() as u16).to_be_bytes());
            data.extend_from_slice(&self.id);
            data.extend_from_slice(&key);
        }
        data
    }

    fn sign(&self, data: &[u8], client: &[u8]) -> Vec<u8> {
        let message = [data, &super::sha256(client)].concat();
        self.key.sign(&SystemRandom::new(), &message).unwrap().as_ref().to_vec()
    }

    fn register(&self, challenge: &str, flags: u8, fmt: &str) -> RegistrationResponse {
        let client = client_json("webauthn.create", challenge, ORIGIN);
        let data = self.auth_data("portal.example.jp", flags, 0, Some(self.cose(ES256)));
        let statement = match fmt {
            "packed" => Cbor::Map(vec![
                (Cbor::from("alg"), Cbor::from(ES256)),
                (Cbor::from("sig"), Cbor::Bytes(self.sign(&data, &client))),
            ]),
            _ => Cbor::Map(vec![]),
        };
        let object = Cbor::Map(vec![
            (Cbor::from("fmt"), Cbor::from(fmt)),
            (Cbor::from("attStmt"), statement),
            (Cbor::from("authData"), Cbor::Bytes(data)),
        ]);
        RegistrationResponse {
            id: B64.encode(&self.id),
            client_data_json: B64.encode(&client),
            attestation_object: B64.encode(cbor_bytes(&object)),
            transports: vec!["internal".into(), "carrier-pigeon".into()],
        }
    }

    fn assert(&mut self, challenge: &str, origin: &str, rp_id: &str, flags: u8) -> AssertionResponse {
        self.count += 1;
        let client = client_json("webauthn.get", challenge, origin);
        let data = self.auth_data(rp_id, flags, self.count, None);
        AssertionResponse {
            id: B64.encode(&self.id),
            client_data_json: B64.encode(&client),
            authenticator_data: B64.encode(&data),
            signature: B64.encode(self.sign(&data, &client)),
            user_handle: B64.encode(user_handle("pwd:alice")),
        }
    }
}

fn client_json(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false }))
        .unwrap()
}

fn cbor_bytes(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    out
}

fn stored(soft: &Soft, new: &NewCredential) -> PasskeyRecord {
    PasskeyRecord {
        credential_id: new.credential_id.clone(),
        person_key: "pwd:alice".into(),
        user_handle: B64.encode(user_handle("pwd:alice")),
        subject_name: "Alice".into(),
        subject_role: None,
        public_key: B64.encode(&new.public_key),
        algorithm: new.algorithm,
        sign_count: i64::from(soft.count),
        backup_eligible: new.backup_eligible,
        backup_state: new.backup_state,
        transports: new.transports.join(","),
        aaguid: hex::encode(new.aaguid),
        attestation: new.attestation.as_str().into(),
        name: "key".into(),
        created_at: 0,
        last_used_at: None,
        revoked_at: None,
    }
}

const CH: &str = "Y2hhbGxlbmdlLWNoYWxsZW5nZS1jaGFsbGVuZ2UtMzI";

fn registered() -> (Soft, PasskeyRecord) {
    let soft = Soft::new();
    let new = verify_registration(&rp(), CH, &soft.register(CH, UP | UV | BE | BS, "none"), &AttestationPolicy::None)
        .unwrap();
    let record = stored(&soft, &new);
    (soft, record)
}

#[test]
fn a_registration_and_a_sign_in_pass() {
    let soft = Soft::new();
    let new =
        verify_registration(&rp(), CH, &soft.register(CH, UP | UV | BE, "none"), &AttestationPolicy::None).unwrap();
    assert_eq!(new.algorithm, ES256);
    assert_eq!(new.attestation, AttestationKind::None);
    assert_eq!(new.transports, vec!["internal".to_owned()], "an unknown transport is dropped");
    assert!(new.backup_eligible && !new.backup_state);
    let mut soft = soft;
    let mut record = stored(&soft, &new);
    let first = verify_assertion(&rp(), CH, &soft.assert(CH, ORIGIN, "portal.example.jp", UP | UV | BE), &record);
    assert_eq!(first.unwrap(), Verified { sign_count: 1, backup_state: false });
    record.sign_count = 1;
    let second = verify_assertion(&rp(), CH, &soft.assert(CH, ORIGIN, "portal.example.jp", UP | UV | BE | BS), &record);
    assert_eq!(second.unwrap(), Verified { sign_count: 2, backup_state: true }, "BS recorded as it changes");
}

#[test]
fn packed_self_attestation_is_checked_and_the_policy_applied() {
    let soft = Soft::new();
    let new = verify_registration(&rp(), CH, &soft.register(CH, UP | UV, "packed"), &AttestationPolicy::None).unwrap();
    assert_eq!(new.attestation, AttestationKind::SelfAttested);
    let refused = verify_registration(&rp(), CH, &soft.register(CH, UP | UV, "packed"), &AttestationPolicy::Any);
    assert!(matches!(refused, Err(PasskeyError::AttestationRefused)), "{refused:?}");
    let models = AttestationPolicy::Models(vec![hcpki_model::passkey_attestation::Aaguid::from_bytes([0xAA; 16])]);
    let refused = verify_registration(&rp(), CH, &soft.register(CH, UP | UV, "none"), &models);
    assert!(matches!(refused, Err(PasskeyError::AttestationRefused)), "a claimed model is not an attested one");
    let mut tampered = soft.register(CH, UP | UV, "packed");
    // Other client data than the attestation signed (one space more): its hash differs.
    tampered.client_data_json = B64.encode([client_json("webauthn.create", CH, ORIGIN).as_slice(), b" "].concat());
    let refused = verify_registration(&rp(), CH, &tampered, &AttestationPolicy::None);
    assert!(matches!(refused, Err(PasskeyError::BadSignature)), "{refused:?}");
    let other = soft.register(CH, UP | UV, "tpm");
    let refused = verify_registration(&rp(), CH, &other, &AttestationPolicy::None);
    assert!(matches!(refused, Err(PasskeyError::AttestationFormat(f)) if f == "tpm"));
}

#[test]
fn registration_needs_user_verification_and_this_portal() {
    let soft = Soft::new();
    let policy = AttestationPolicy::None;
    let no_uv = verify_registration(&rp(), CH, &soft.register(CH, UP, "none"), &policy);
    assert!(matches!(no_uv, Err(PasskeyError::UserNotVerified)), "one factor is not enough: {no_uv:?}");
    let no_up = verify_registration(&rp(), CH, &soft.register(CH, UV, "none"), &policy);
    assert!(matches!(no_up, Err(PasskeyError::UserNotPresent)), "{no_up:?}");
    let bs_alone = verify_registration(&rp(), CH, &soft.register(CH, UP | UV | BS, "none"), &policy);
    assert!(matches!(bs_alone, Err(PasskeyError::BackupFlags)), "{bs_alone:?}");
    let other_challenge = verify_registration(&rp(), "b3RoZXI", &soft.register(CH, UP | UV, "none"), &policy);
    assert!(matches!(other_challenge, Err(PasskeyError::Challenge)));
    let elsewhere = RelyingParty::of_origin("https://evil.example", "evil").unwrap();
    let refused = verify_registration(&elsewhere, CH, &soft.register(CH, UP | UV, "none"), &policy);
    assert!(matches!(refused, Err(PasskeyError::WrongOrigin { .. })), "{refused:?}");
    let mut wrong_id = soft.register(CH, UP | UV, "none");
    wrong_id.id = B64.encode(b"someone else's id");
    assert!(matches!(verify_registration(&rp(), CH, &wrong_id, &policy), Err(PasskeyError::Malformed { .. })));
}

#[test]
fn sign_in_refusals_name_their_cause() {
    let (mut soft, record) = registered();
    let check = |r: AssertionResponse| verify_assertion(&rp(), CH, &r, &record);
    let good = UP | UV | BE;
    assert!(matches!(
        check(soft.assert(CH, "https://evil.example", "portal.example.jp", good)),
        Err(PasskeyError::WrongOrigin { .. })
    ));
    assert!(matches!(check(soft.assert(CH, ORIGIN, "evil.example", good)), Err(PasskeyError::WrongRpId)));
    assert!(matches!(check(soft.assert(CH, ORIGIN, "portal.example.jp", UP | BE)), Err(PasskeyError::UserNotVerified)));
    assert!(matches!(check(soft.assert(CH, ORIGIN, "portal.example.jp", UV | BE)), Err(PasskeyError::UserNotPresent)));
    assert!(
        matches!(check(soft.assert(CH, ORIGIN, "portal.example.jp", UP | UV)), Err(PasskeyError::BackupFlags)),
        "BE changed"
    );
    assert!(matches!(check(soft.assert("b3RoZXI", ORIGIN, "portal.example.jp", good)), Err(PasskeyError::Challenge)));
    let mut wrong_type = soft.assert(CH, ORIGIN, "portal.example.jp", good);
    wrong_type.client_data_json = B64.encode(client_json("webauthn.create", CH, ORIGIN));
    assert!(matches!(check(wrong_type), Err(PasskeyError::WrongType { .. })));
    let mut forged = soft.assert(CH, ORIGIN, "portal.example.jp", good);
    forged.signature = soft.assert(CH, ORIGIN, "portal.example.jp", good).signature;
    assert!(matches!(check(forged), Err(PasskeyError::BadSignature)));
    let mut other_user = soft.assert(CH, ORIGIN, "portal.example.jp", good);
    other_user.user_handle = B64.encode(user_handle("pwd:mallory"));
    assert!(matches!(check(other_user), Err(PasskeyError::OtherUser)));
}

#[test]
fn a_counter_that_does_not_rise_is_a_clone() {
    let (mut soft, mut record) = registered();
    record.sign_count = 5;
    soft.count = 4; // the clone signs with 5, already seen
    let refused = verify_assertion(&rp(), CH, &soft.assert(CH, ORIGIN, "portal.example.jp", UP | UV | BE), &record);
    assert!(matches!(refused, Err(PasskeyError::CounterWentBack { stored: 5, presented: 5 })), "{refused:?}");
    // An authenticator that keeps no counter (0 and 0) is not a clone by its counter.
    record.sign_count = 0;
    let mut zero = soft.assert(CH, ORIGIN, "portal.example.jp", UP | UV | BE);
    let mut data = B64.decode(&zero.authenticator_data).unwrap();
    data[33..37].copy_from_slice(&[0; 4]);
    let client = B64.decode(&zero.client_data_json).unwrap();
    zero.signature = B64.encode(soft.sign(&data, &client));
    zero.authenticator_data = B64.encode(&data);
    assert_eq!(verify_assertion(&rp(), CH, &zero, &record).unwrap().sign_count, 0);
}

#[test]
fn truncated_and_trailing_bytes_are_malformed_not_a_panic() {
    let soft = Soft::new();
    let good = soft.register(CH, UP | UV, "none");
    let object = B64.decode(&good.attestation_object).unwrap();
    for cut in [0, 1, 5, object.len() / 2, object.len() - 1] {
        let truncated = RegistrationResponse { attestation_object: B64.encode(&object[..cut]), ..good.clone() };
        let refused = verify_registration(&rp(), CH, &truncated, &AttestationPolicy::None);
        assert!(matches!(refused, Err(PasskeyError::Malformed { .. })), "cut at {cut}: {refused:?}");
    }
    let trailing = RegistrationResponse { attestation_object: B64.encode([object.as_slice(), &[0]].concat()), ..good };
    assert!(matches!(
        verify_registration(&rp(), CH, &trailing, &AttestationPolicy::None),
        Err(PasskeyError::Malformed { .. })
    ));
    let data = soft.auth_data("portal.example.jp", UP | UV, 0, Some(soft.cose(ES256)));
    for cut in 0..data.len() {
        assert!(AuthenticatorData::parse(&data[..cut]).is_err(), "cut at {cut}");
    }
    assert!(AuthenticatorData::parse(&[data.as_slice(), &[1]].concat()).is_err(), "a byte after the key");
    assert!(ClientData::parse(b"{\"type\":", Ceremony::Get, ORIGIN).is_err());
}

#[test]
fn an_unknown_algorithm_is_refused() {
    let soft = Soft::new();
    assert!(matches!(PublicKey::from_cose(&soft.cose(-65535)), Err(PasskeyError::UnsupportedAlgorithm(-65535))));
    assert!(matches!(PublicKey::from_cose(&soft.cose(ES256)), Ok(PublicKey::Es256(_))));
    let not_a_map = cbor_bytes(&Cbor::from(3));
    assert!(matches!(PublicKey::from_cose(&not_a_map), Err(PasskeyError::Malformed { .. })));
}

#[test]
fn the_rp_id_is_the_portal_host_never_an_address() {
    assert_eq!(RelyingParty::of_origin("https://localhost:8443", "x").unwrap().id, "localhost");
    assert_eq!(RelyingParty::of_origin("https://portal.example.jp/", "x").unwrap().origin, ORIGIN);
    assert!(RelyingParty::of_origin("https://127.0.0.1:8443", "x").is_none());
    assert!(RelyingParty::of_origin("http://portal.example.jp", "x").is_none());
}

/// What `fuzz/fuzz_targets/passkey.rs` does, on every truncation and every single-bit flip of its seeds (written
/// by python-fido2): each parser ends in `Ok` or a refusal, never a panic. The fuzz smoke explores further; this
/// runs with the unit tests.
#[test]
fn parsers_survive_truncations_and_bit_flips_of_the_fuzz_seeds() {
    let seeds: [&[u8]; 4] = [
        include_bytes!("../../../fuzz/seeds/passkey/none"),
        include_bytes!("../../../fuzz/seeds/passkey/packed-self"),
        include_bytes!("../../../fuzz/seeds/passkey/extensions"),
        include_bytes!("../../../fuzz/seeds/passkey/assertion-data"),
    ];
    let mut parsed = 0;
    for seed in seeds {
        let mut inputs: Vec<Vec<u8>> = (0..seed.len()).map(|n| seed[..n].to_vec()).collect();
        for bit in 0..seed.len() * 8 {
            let mut flipped = seed.to_vec();
            flipped[bit / 8] ^= 1 << (bit % 8);
            inputs.push(flipped);
        }
        inputs.push(seed.to_vec());
        for input in &inputs {
            if let Ok(object) = AttestationObject::parse(input) {
                parsed += 1;
                if let Some(attested) = &object.auth_data.attested
                    && let Ok(key) = PublicKey::from_cose(&attested.public_key)
                {
                    for policy in [AttestationPolicy::None, AttestationPolicy::Any] {
                        let _ = object.verify(&[0u8; 32], &key, &attested.aaguid, &policy);
                    }
                }
            }
            let _ = AuthenticatorData::parse(input);
            let _ = PublicKey::from_cose(input);
            let _ = ClientData::parse(input, Ceremony::Get, "https://portal.example.jp");
        }
    }
    assert!(parsed >= 3, "the seeds themselves parse");
}
