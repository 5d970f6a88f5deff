use super::*;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use const_oid::db::rfc5912;
use der::asn1::BitString;
use spki::AlgorithmIdentifierOwned;

fn p384_key() -> EcdsaKeyPair {
    EcdsaKeyPair::generate(&ECDSA_P384_SHA384_FIXED_SIGNING).unwrap()
}

fn spki_of(key: &EcdsaKeyPair, curve: const_oid::ObjectIdentifier) -> SubjectPublicKeyInfoOwned {
    SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: rfc5912::ID_EC_PUBLIC_KEY,
            parameters: Some(der::Any::encode_from(&curve).unwrap()),
        },
        subject_public_key: BitString::from_bytes(key.public_key().as_ref()).unwrap(),
    }
}

/// What the virtual P-384 card answers: r ‖ s over SHA-384 of the message.
fn card_answer(key: &EcdsaKeyPair, message: &[u8]) -> Vec<u8> {
    key.sign(&SystemRandom::new(), message).unwrap().as_ref().to_vec()
}

#[test]
fn a_card_answer_becomes_der_that_verifies() {
    let key = p384_key();
    let raw = card_answer(&key, b"hcpki card login v1\0o\0c");
    let der = from_card_answer(CardKeyAlgorithm::EcdsaP384Sha384, &raw).unwrap();
    assert_eq!(der.first(), Some(&0x30));
    assert_eq!(EcdsaSignature::from_der(&der).unwrap().to_raw(), raw);
    let spki = spki_of(&key, rfc5912::SECP_384_R_1);
    assert_eq!(verify(&spki, b"hcpki card login v1\0o\0c", &der), Ok(CardKeyAlgorithm::EcdsaP384Sha384));
    assert_eq!(verify(&spki, b"another message", &der), Err(CardSignatureError::BadSignature));
    // The raw form is not what verifiers take.
    assert!(matches!(verify(&spki, b"hcpki card login v1\0o\0c", &raw), Err(CardSignatureError::Malformed(_))));
    // RSA answers pass through unchanged.
    assert_eq!(from_card_answer(CardKeyAlgorithm::RsaPkcs1Sha256, &[1, 2, 3]).unwrap(), vec![1, 2, 3]);
}

#[test]
fn der_round_trips_small_and_high_bit_scalars() {
    let mut r = [0u8; P384_SCALAR_LEN];
    r[P384_SCALAR_LEN - 1] = 1;
    let mut s = [0u8; P384_SCALAR_LEN];
    s[0] = 0x80;
    let sig = EcdsaSignature::from_scalars(r, s).unwrap();
    let der = sig.to_der();
    assert_eq!(&der[..5], &[0x30, 0x36, 0x02, 0x01, 0x01]);
    assert_eq!(&der[5..8], &[0x02, 0x31, 0x00]);
    assert_eq!(EcdsaSignature::from_der(&der).unwrap(), sig);
    // The longest value (both scalars with the top bit): 102 bytes, still a short length.
    let big = EcdsaSignature::from_scalars(s, s).unwrap().to_der();
    assert_eq!(&big[..3], &[0x30, 0x66, 0x02]);
    assert_eq!(EcdsaSignature::from_der(&big).unwrap().to_raw(), [s, s].concat());
}

#[test]
fn malformed_values_are_refused_with_what_is_wrong() {
    use MalformedSignature as M;
    let one = {
        let mut v = [0u8; P384_SCALAR_LEN];
        v[P384_SCALAR_LEN - 1] = 1;
        v
    };
    let good = EcdsaSignature::from_scalars(one, one).unwrap().to_der();
    assert_eq!(good, vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]);
    let cases: Vec<(Vec<u8>, MalformedSignature)> = vec![
        (vec![], M::Der("truncated")),
        (vec![0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01], M::Der("no SEQUENCE")),
        (vec![0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01], M::Der("truncated")),
        ([good.clone(), vec![0]].concat(), M::Der("bytes after the SEQUENCE")),
        (vec![0x30, 0x06, 0x04, 0x01, 0x01, 0x02, 0x01, 0x01], M::Der("r is not an INTEGER")),
        (vec![0x30, 0x03, 0x02, 0x01, 0x01], M::Der("truncated")),
        (vec![0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01], M::Der("more than two INTEGERs")),
        (vec![0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01], M::Zero("r")),
        (vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00], M::Zero("s")),
        (vec![0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01], M::Integer("r")),
        (vec![0x30, 0x06, 0x02, 0x01, 0xFF, 0x02, 0x01, 0x01], M::Integer("r")),
        (vec![0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x01], M::Integer("r")),
        (vec![0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01], M::Der("a length not in its shortest form")),
        (
            vec![0x30, 0x82, 0x00, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
            M::Der("a length too long for a P-384 signature"),
        ),
        (
            vec![0x30, 0x80, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00, 0x00],
            M::Der("a length too long for a P-384 signature"),
        ),
    ];
    for (der, want) in cases {
        assert_eq!(EcdsaSignature::from_der(&der), Err(want.clone()), "{}", hex::encode(&der));
        assert!(!want.to_string().is_empty());
    }
    // r = n and s = n + 1 are out of range; so is a 49-byte magnitude.
    let n = EcdsaSignature { r: P384_ORDER, s: one }.to_der();
    assert_eq!(EcdsaSignature::from_der(&n), Err(M::OutOfRange("r")));
    let mut over = vec![0x30, 0x36, 0x02, 0x31, 0x01];
    over.extend_from_slice(&[0u8; 48]);
    over.extend_from_slice(&[0x02, 0x01, 0x01]);
    *over.get_mut(1).unwrap() = u8::try_from(over.len() - 2).unwrap();
    assert_eq!(EcdsaSignature::from_der(&over), Err(M::OutOfRange("r")));
    // Raw answers: the length, then the same ranges.
    for len in [0, 64, 95, 97, 132] {
        assert_eq!(EcdsaSignature::from_raw(&vec![1; len]), Err(M::RawLength { len, expected: 96 }));
    }
    assert_eq!(EcdsaSignature::from_raw(&[[0u8; 48], one].concat()), Err(M::Zero("r")));
    assert_eq!(EcdsaSignature::from_raw(&[one, P384_ORDER].concat()), Err(M::OutOfRange("s")));
    let mut below_n = P384_ORDER;
    below_n[P384_SCALAR_LEN - 1] -= 1;
    assert!(EcdsaSignature::from_raw(&[below_n, below_n].concat()).is_ok());
    let err = from_card_answer(CardKeyAlgorithm::EcdsaP384Sha384, &[1; 64]).unwrap_err();
    assert_eq!(err.to_string(), "the card answered 64 bytes, not the 96 of r ‖ s");
}

#[test]
fn a_p384_signature_under_a_certificate_of_another_curve_is_refused() {
    let key = p384_key();
    let der = from_card_answer(CardKeyAlgorithm::EcdsaP384Sha384, &card_answer(&key, b"m")).unwrap();
    let wrong = spki_of(&key, rfc5912::SECP_256_R_1);
    let err = verify(&wrong, b"m", &der).unwrap_err();
    assert!(matches!(err, CardSignatureError::Key(CardKeyError::WrongCurve { .. })), "{err:?}");
    assert!(err.to_string().contains("P-256"), "{err}");
}
