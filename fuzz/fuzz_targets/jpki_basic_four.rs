//! `hcpki_pkix::jpki`: the basic four items (name, sex, date of birth, address, and the substitute-character
//! positions) in a My Number card's 署名用 certificate, read after the patient's signing password. The bytes come
//! from a card, through the agent or OpenSC: a card answers whatever it likes.
//!
//! The first input byte says what the rest is. Even: a whole certificate (DER), through `x509_cert::Certificate`,
//! `jpki::certificate_kind` and `BasicFour::from_certificate`. Odd: a subjectAltName value (GeneralNames),
//! through `BasicFour::from_subject_alt_name`, so the fuzzer works on the names alone.
//! `fuzz/seeds/make-jpki-seeds` writes the seeds from the test PKI (hcpki_vcard::testpki).
//!
//! Must hold: no panic; a certificate read is a JPKI signing certificate and reads the same through its
//! subjectAltName alone; one refused as the authentication certificate has the 利用者証明用 policy; a read value
//! has a non-empty name and address, a sex code, date of birth and substitute positions that parse back to
//! themselves, and an era that covers the date; every refusal has words.
#![no_main]

use der::Decode;
use hcpki_pkix::jpki::{
    BasicFour, BasicFourError, BirthDate, CertificateKind, Sex, SubstitutePositions, certificate_kind,
    is_jpki_signing_certificate,
};
use libfuzzer_sys::fuzz_target;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let Ok(cert) = Certificate::from_der(rest) else { return };
        let kind = certificate_kind(&cert);
        match BasicFour::from_certificate(&cert) {
            Ok(four) => {
                assert!(is_jpki_signing_certificate(&cert), "four items read from a certificate that is not 署名用");
                check(&four);
                let (_, san) = cert
                    .tbs_certificate()
                    .get_extension::<SubjectAltName>()
                    .expect("the extension decoded for the read")
                    .expect("the items came from a subjectAltName");
                assert_eq!(BasicFour::from_subject_alt_name(&san).as_ref(), Ok(&four), "the SAN alone reads otherwise");
            }
            Err(e) => {
                if e == BasicFourError::AuthenticationCertificate {
                    assert_eq!(kind, Ok(Some(CertificateKind::UserAuthentication)));
                }
                assert!(!e.to_string().is_empty());
            }
        }
    } else {
        let Ok(san) = SubjectAltName::from_der(rest) else { return };
        match BasicFour::from_subject_alt_name(&san) {
            Ok(four) => check(&four),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});

/// The typed values are what their parsers accept, and parse back to themselves.
fn check(four: &BasicFour) {
    assert!(!four.name().is_empty() && !four.address().is_empty(), "an empty name or address was read");
    assert_eq!(Sex::from_code(four.sex().code()), Ok(four.sex()));
    let birth = four.birth_date();
    assert_eq!(BirthDate::parse(&birth.code()), Ok(birth), "the date of birth does not parse back");
    assert!(birth.era().covers(birth.date()), "the era does not cover the date");
    assert!(!birth.to_japanese().is_empty());
    for positions in [four.name_substitute(), four.address_substitute()].into_iter().flatten() {
        assert_eq!(SubstitutePositions::parse(&positions.code()).as_ref(), Some(positions));
        assert_eq!(positions.positions().count() > 0, positions.any());
    }
}
