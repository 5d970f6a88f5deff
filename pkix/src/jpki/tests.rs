//! Against the test PKI's certificates (hcpki_vcard::testpki, shaped like J-LIS's) and hand-made bad ones.

use super::*;
use der::asn1::{Any, ObjectIdentifier};
use der::{Decode, Encode, Tag};
use hcpki_vcard::testpki::{HpkiSubject, JpkiCredentials, JpkiSubject, JpkiTestCas, issue_hpki};
use std::sync::OnceLock;
use time::macros::date;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{CertificatePolicies, SubjectAltName};

fn cas() -> &'static JpkiTestCas {
    static CAS: OnceLock<JpkiTestCas> = OnceLock::new();
    CAS.get_or_init(|| JpkiTestCas::new().unwrap())
}

fn issue(subject: &JpkiSubject) -> JpkiCredentials {
    cas().issue(subject).unwrap()
}

fn parse(der: &[u8]) -> Certificate {
    Certificate::from_der(der).unwrap()
}

fn read(subject: &JpkiSubject) -> Result<BasicFour, BasicFourError> {
    BasicFour::from_certificate(&parse(&issue(subject).sign.cert))
}

fn with_attributes(change: impl FnOnce(&mut JpkiSubject)) -> JpkiSubject {
    let mut subject = JpkiSubject::default();
    change(&mut subject);
    subject
}

/// An otherName `.n` of the four items' arc with a value of any tag.
fn item(n: u32, tag: Tag, value: &[u8]) -> GeneralName {
    let type_id = ObjectIdentifier::new(&format!("1.2.392.200149.8.5.5.{n}")).unwrap();
    GeneralName::OtherName(OtherName { type_id, value: Any::new(tag, value).unwrap() })
}

fn utf8(n: u32, value: &str) -> GeneralName {
    item(n, Tag::Utf8String, value.as_bytes())
}

/// The four items of the default subject, as the test PKI writes them.
fn good_items() -> Vec<GeneralName> {
    vec![utf8(1, "試験\u{3000}花子"), utf8(4, "419900101"), utf8(3, "2"), utf8(5, "東京都千代田区霞が関一丁目二番三号")]
}

/// A self-signed P-256 certificate with the given policy and subjectAltName, for shapes the test PKI does not
/// issue. The parser checks no signature, so the issuer does not matter.
pub(super) fn hand_made(policy: Option<&str>, san: Option<&SubjectAltName>) -> Vec<u8> {
    let mut params = rcgen::CertificateParams::default();
    if let Some(policy) = policy {
        let info =
            PolicyInformation { policy_identifier: ObjectIdentifier::new(policy).unwrap(), policy_qualifiers: None };
        let der = CertificatePolicies(vec![info]).to_der().unwrap();
        params.custom_extensions.push(rcgen::CustomExtension::from_oid_content(&[2, 5, 29, 32], der));
    }
    if let Some(san) = san {
        params.custom_extensions.push(rcgen::CustomExtension::from_oid_content(&[2, 5, 29, 17], san.to_der().unwrap()));
    }
    let key = rcgen::KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}

fn from_names(names: Vec<GeneralName>) -> Result<BasicFour, BasicFourError> {
    BasicFour::from_subject_alt_name(&SubjectAltName(names))
}

#[test]
fn reads_the_four_items_of_the_test_pki_signing_certificate() {
    let subject = JpkiSubject::default();
    let c = issue(&subject);
    let sign = parse(&c.sign.cert);
    assert_eq!(certificate_kind(&sign), Ok(Some(CertificateKind::Signing)));
    assert!(is_jpki_signing_certificate(&sign));

    let four = BasicFour::from_certificate(&sign).unwrap();
    let a = &subject.attributes;
    assert_eq!(four.name(), a.name);
    assert_eq!(four.address(), a.address);
    assert_eq!(four.sex(), Sex::Female);
    assert_eq!(four.sex().code(), a.sex);
    assert_eq!(four.birth_date().era(), Era::Heisei);
    assert_eq!(four.birth_date().date(), date!(1990 - 01 - 01));
    assert_eq!(four.birth_date().code(), a.birth_date);
    assert_eq!(four.birth_date().to_japanese(), "平成2年1月1日");
    assert_eq!((four.name_substitute(), four.address_substitute()), (None, None));
    assert!(!four.has_substitutes());
    // Nothing personal in Debug: these values must not reach a log by accident.
    let debug = format!("{four:?}");
    assert!(!debug.contains("花子") && !debug.contains("1990") && !debug.contains("東京"), "{debug}");
}

#[test]
fn the_authentication_certificate_has_no_four_items() {
    let c = issue(&JpkiSubject::default());
    let auth = parse(&c.auth.cert);
    assert_eq!(certificate_kind(&auth), Ok(Some(CertificateKind::UserAuthentication)));
    assert!(!is_jpki_signing_certificate(&auth));
    let err = BasicFour::from_certificate(&auth).unwrap_err();
    assert_eq!(err, BasicFourError::AuthenticationCertificate);
    assert!(err.to_string().contains("after the patient enters the signing password"), "{err}");
    // The roots are neither.
    assert_eq!(certificate_kind(&parse(&c.sign_root)), Ok(None));
}

#[test]
fn other_certificates_are_not_signing_certificates() {
    // An HPKI signature certificate: a signing CP, but HPKI's, not JPKI's.
    let hpki = issue_hpki(&HpkiSubject::default()).unwrap();
    let cert = parse(&hpki.signature.cert);
    assert_eq!(certificate_kind(&cert), Ok(None));
    assert_eq!(BasicFour::from_certificate(&cert), Err(BasicFourError::NotSigningCertificate));
    // JPKI-looking otherNames do not make a certificate without the policy a signing certificate.
    let san = SubjectAltName(good_items());
    let cert = parse(&hand_made(None, Some(&san)));
    assert_eq!(BasicFour::from_certificate(&cert), Err(BasicFourError::NotSigningCertificate));
    // A policy arc that only shares a prefix of digits: …1.10 is not under …1.1.
    let cert = parse(&hand_made(Some("1.2.392.200149.8.5.1.10"), Some(&san)));
    assert_eq!(BasicFour::from_certificate(&cert), Err(BasicFourError::NotSigningCertificate));
    // Both arcs at once: no J-LIS CA issues that, so neither.
    let info = |oid: &str| PolicyInformation {
        policy_identifier: ObjectIdentifier::new(oid).unwrap(),
        policy_qualifiers: None,
    };
    let both = CertificatePolicies(vec![info("1.2.392.200149.8.5.1.1.20"), info("1.2.392.200149.8.5.1.3.30")]);
    let mut params = rcgen::CertificateParams::default();
    params.custom_extensions.push(rcgen::CustomExtension::from_oid_content(&[2, 5, 29, 32], both.to_der().unwrap()));
    let cert = parse(params.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap().der());
    assert_eq!(certificate_kind(&cert), Ok(None));
}

#[test]
fn a_hand_made_signing_certificate_reads_like_the_test_pki_one() {
    let san = SubjectAltName(good_items());
    let cert = parse(&hand_made(Some("1.2.392.200149.8.5.1.1.20"), Some(&san)));
    let four = BasicFour::from_certificate(&cert).unwrap();
    assert_eq!(four, read(&JpkiSubject { opaque_id: "x".into(), ..JpkiSubject::default() }).unwrap());
    // Without a subjectAltName at all.
    let cert = parse(&hand_made(Some("1.2.392.200149.8.5.1.1.20"), None));
    assert_eq!(BasicFour::from_certificate(&cert), Err(BasicFourError::NoSubjectAltName));
}

#[test]
fn substitute_positions_are_read() {
    let subject = with_attributes(|s| {
        s.name_substitute = Some("00100".to_owned());
        s.address_substitute = Some("0".repeat(17));
    });
    let four = read(&subject).unwrap();
    let name = four.name_substitute().unwrap();
    assert_eq!(name.positions().collect::<Vec<_>>(), [2]);
    assert!(name.any() && name.fits(four.name()));
    assert_eq!(name.code(), "00100");
    let address = four.address_substitute().unwrap();
    assert!(!address.any() && address.fits(four.address()));
    assert!(four.has_substitutes());

    // Only the address's item; a length that does not fit the text is kept (unconfirmed on real cards).
    let four = read(&with_attributes(|s| s.address_substitute = Some("01".to_owned()))).unwrap();
    assert_eq!(four.name_substitute(), None);
    assert!(four.has_substitutes() && !four.address_substitute().unwrap().fits(four.address()));

    for (name, address, item) in [
        (Some("0a100"), None, Item::NameSubstitute),
        (None, Some("0 1"), Item::AddressSubstitute),
        (None, Some("０"), Item::AddressSubstitute),
    ] {
        let subject = with_attributes(|s| {
            s.name_substitute = name.map(str::to_owned);
            s.address_substitute = address.map(str::to_owned);
        });
        assert_eq!(read(&subject), Err(BasicFourError::SubstitutePositions(item)));
    }
}

#[test]
fn sex_codes() {
    for (code, sex, label) in [("1", Sex::Male, "男"), ("2", Sex::Female, "女"), ("3", Sex::Unknown, "不明")] {
        assert_eq!(Sex::from_code(code), Ok(sex));
        assert_eq!((sex.code(), sex.label_ja()), (code, label));
    }
    for code in ["0", "9", "", "M", "１", "12"] {
        let subject = with_attributes(|s| s.attributes.sex = code.to_owned());
        let err = read(&subject).unwrap_err();
        assert_eq!(err, BasicFourError::UnknownSex { code: code.to_owned() });
        assert!(err.to_string().contains("report the card's certificate profile"), "{err}");
    }
    // A long unknown code is cut in the error (it is logged).
    assert_eq!(Sex::from_code(&"9".repeat(100)), Err(BasicFourError::UnknownSex { code: "9".repeat(8) }));
}

#[test]
fn birth_dates() {
    let ok = |text: &str| BirthDate::parse(text).unwrap();
    assert_eq!(ok("419900101").to_japanese(), "平成2年1月1日");
    assert_eq!(ok("520190501").to_japanese(), "令和元年5月1日");
    assert_eq!(ok("319890107").to_japanese(), "昭和64年1月7日");
    assert_eq!(ok("020000229").date(), date!(2000 - 02 - 29));
    assert_eq!(ok("019900101").to_japanese(), "1990年1月1日");
    assert_eq!(ok("019900101").era(), Era::Unknown);
    for text in ["419900101", "520190501", "019900101", "219120730", "119120730", "219261225", "319261225"] {
        assert_eq!(ok(text).code(), text, "round trip");
    }
}

#[test]
fn era_boundaries() {
    let era = |text: &str| BirthDate::parse(text).map(|b| b.era());
    let mismatch = |e| Err(BirthDateError::EraMismatch(e));
    // The day an emperor died belongs to both eras (a register may write either).
    assert_eq!(era("119120730"), Ok(Era::Meiji));
    assert_eq!(era("219120730"), Ok(Era::Taisho));
    assert_eq!(era("219120729"), mismatch(Era::Taisho));
    assert_eq!(era("119120731"), mismatch(Era::Meiji));
    assert_eq!(era("219261225"), Ok(Era::Taisho));
    assert_eq!(era("319261225"), Ok(Era::Showa));
    // 平成 began the day after 昭和 ended; 令和 on 1 May.
    assert_eq!(era("319890107"), Ok(Era::Showa));
    assert_eq!(era("319890108"), mismatch(Era::Showa));
    assert_eq!(era("419890107"), mismatch(Era::Heisei));
    assert_eq!(era("419890108"), Ok(Era::Heisei));
    assert_eq!(era("420190430"), Ok(Era::Heisei));
    assert_eq!(era("420190501"), mismatch(Era::Heisei));
    assert_eq!(era("520190430"), mismatch(Era::Reiwa));
    assert_eq!(era("599991231"), Ok(Era::Reiwa));
    assert_eq!(era("118680124"), mismatch(Era::Meiji));
    // The wrong era for the test subject's date: 昭和 with 1990.
    let err = read(&with_attributes(|s| s.attributes.birth_date = "319900101".to_owned())).unwrap_err();
    assert_eq!(err, BasicFourError::BirthDate(BirthDateError::EraMismatch(Era::Showa)));
    assert!(!err.to_string().contains("1990"), "no date in the message: {err}");
}

#[test]
fn malformed_birth_dates() {
    let shape = |chars, non_digit| Err(BirthDateError::Shape { chars, non_digit });
    assert_eq!(BirthDate::parse("41990010"), shape(8, false));
    assert_eq!(BirthDate::parse("4199001011"), shape(10, false));
    assert_eq!(BirthDate::parse(""), shape(0, false));
    assert_eq!(BirthDate::parse("4１９９００１０１"), shape(9, true));
    assert_eq!(BirthDate::parse("H19900101"), shape(9, true));
    assert_eq!(BirthDate::parse("4-1990-01-01"), shape(12, true));
    assert_eq!(BirthDate::parse("619900101"), Err(BirthDateError::UnknownEra(6)));
    assert_eq!(BirthDate::parse("919900101"), Err(BirthDateError::UnknownEra(9)));
    for text in ["419900230", "419901301", "419900001", "419900100", "419890229", "000000000"] {
        assert_eq!(BirthDate::parse(text), Err(BirthDateError::NotADate), "{text}");
    }
    // Through a certificate.
    let err = read(&with_attributes(|s| s.attributes.birth_date = "419900230".to_owned())).unwrap_err();
    assert_eq!(err, BasicFourError::BirthDate(BirthDateError::NotADate));
}

#[test]
fn missing_empty_and_duplicate_items() {
    assert_eq!(from_names(good_items()).map(|f| f.sex()), Ok(Sex::Female));
    // Item::ALL is in type-id order.
    assert_eq!(
        Item::ALL.map(|i| i.oid().to_string().rsplit('.').next().unwrap().to_owned()),
        ["1", "2", "3", "4", "5", "6"]
    );
    for (drop, item) in [(0, Item::Name), (1, Item::BirthDate), (2, Item::Sex), (3, Item::Address)] {
        let mut names = good_items();
        names.remove(drop);
        assert_eq!(from_names(names), Err(BasicFourError::MissingItem(item)));
    }
    assert_eq!(from_names(Vec::new()), Err(BasicFourError::MissingItem(Item::Name)));
    for (at, n, item) in [(0, 1, Item::Name), (3, 5, Item::Address)] {
        let mut names = good_items();
        names[at] = utf8(n, "");
        assert_eq!(from_names(names), Err(BasicFourError::Empty(item)));
    }
    let mut names = good_items();
    names.push(utf8(3, "2"));
    assert_eq!(from_names(names), Err(BasicFourError::DuplicateItem(Item::Sex)));
    let mut names = good_items();
    names.extend([utf8(2, "0"), utf8(2, "0")]);
    assert_eq!(from_names(names), Err(BasicFourError::DuplicateItem(Item::NameSubstitute)));
}

#[test]
fn items_must_be_utf8_strings() {
    for (tag, n, which) in [
        (Tag::PrintableString, 3, Item::Sex),
        (Tag::OctetString, 4, Item::BirthDate),
        (Tag::BmpString, 1, Item::Name),
        (Tag::Ia5String, 6, Item::AddressSubstitute),
    ] {
        let mut names = good_items();
        names.retain(|g| !matches!(g, GeneralName::OtherName(o) if o.type_id == which.oid()));
        names.push(item(n, tag, b"00"));
        assert_eq!(from_names(names), Err(BasicFourError::NotUtf8String { item: which, tag }), "{tag}");
    }
    // A UTF8String tag over bytes that are not UTF-8.
    let mut names = good_items();
    names[0] = item(1, Tag::Utf8String, &[0xFF, 0xFE]);
    assert_eq!(from_names(names.clone()), Err(BasicFourError::InvalidUtf8(Item::Name)));
    let der = hand_made(Some("1.2.392.200149.8.5.1.1.20"), Some(&SubjectAltName(names)));
    assert_eq!(BasicFour::from_certificate(&parse(&der)), Err(BasicFourError::InvalidUtf8(Item::Name)));
}

#[test]
fn other_names_and_other_items_are_ignored() {
    let mut names = good_items();
    names.insert(0, GeneralName::DnsName(der::asn1::Ia5String::new("example.invalid").unwrap()));
    names.push(utf8(7, "an item hcpki does not know"));
    let other = ObjectIdentifier::new("1.3.6.1.4.1.311.20.2.3").unwrap();
    names.push(GeneralName::OtherName(OtherName { type_id: other, value: Any::new(Tag::Integer, [1u8]).unwrap() }));
    assert_eq!(from_names(names).map(|f| f.address().to_owned()), Ok("東京都千代田区霞が関一丁目二番三号".to_owned()));
}

#[test]
fn error_messages_say_what_to_do_and_carry_no_personal_data() {
    let errors = [
        BasicFourError::MissingItem(Item::BirthDate),
        BasicFourError::NotUtf8String { item: Item::Name, tag: Tag::BmpString },
        BasicFourError::BirthDate(BirthDateError::NotADate),
        BasicFourError::NoSubjectAltName,
    ];
    for err in errors {
        let text = err.to_string();
        assert!(text.contains("confirm the patient's identity with another document"), "{text}");
    }
    assert!(BasicFourError::MissingItem(Item::BirthDate).to_string().contains("1.2.392.200149.8.5.5.4"));
}

/// Writes the `jpki_basic_four` fuzz target's seeds (fuzz/seeds/make-jpki-seeds runs this).
#[test]
#[ignore = "writes fuzz/seeds/jpki_basic_four; run by fuzz/seeds/make-jpki-seeds"]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/jpki_basic_four");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, mode: u8, der: &[u8]| std::fs::write(dir.join(name), [&[mode][..], der].concat()).unwrap();
    let san_of = |cert: &[u8]| parse(cert).tbs_certificate().get_extension::<SubjectAltName>().unwrap().unwrap().1;
    let default = issue(&JpkiSubject::default());
    let substitutes = issue(&with_attributes(|s| {
        s.name_substitute = Some("00100".to_owned());
        s.address_substitute = Some("0".repeat(17));
    }));
    for (name, cert) in [("sign", &default.sign.cert), ("sign-substitutes", &substitutes.sign.cert)] {
        write(&format!("cert-{name}"), 0, cert);
        write(&format!("san-{name}"), 1, &san_of(cert).to_der().unwrap());
    }
    write("cert-auth", 0, &default.auth.cert);
    write("cert-root", 0, &default.sign_root);
    let bad = [
        ("showa-1990", with_attributes(|s| s.attributes.birth_date = "319900101".to_owned())),
        ("sex-9", with_attributes(|s| s.attributes.sex = "9".to_owned())),
        ("feb-30", with_attributes(|s| s.attributes.birth_date = "419900230".to_owned())),
        ("substitute-a", with_attributes(|s| s.name_substitute = Some("0a".to_owned()))),
    ];
    for (name, subject) in bad {
        let cert = issue(&subject).sign.cert;
        write(&format!("cert-{name}"), 0, &cert);
        write(&format!("san-{name}"), 1, &san_of(&cert).to_der().unwrap());
    }
    let mut missing = good_items();
    missing.remove(1);
    let mut printable = good_items();
    printable[2] = item(3, Tag::PrintableString, b"2");
    for (name, names) in [("missing-birth-date", missing), ("printable-sex", printable)] {
        let san = SubjectAltName(names);
        write(&format!("cert-{name}"), 0, &hand_made(Some("1.2.392.200149.8.5.1.1.20"), Some(&san)));
        write(&format!("san-{name}"), 1, &san.to_der().unwrap());
    }
}
