//! The test PKI's certificates parse as X.509, carry what the profiles say (reference §3, §4), and
//! chain to their CAs by OpenSSL's judgement.

use super::*;
use crate::test_support::{hpki_identity, jpki_identity, tlvs};
use der::{Decode, Encode};
use std::path::Path;
use std::process::Command;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints, CertificatePolicies, KeyUsage, SubjectAltName, SubjectDirectoryAttributes,
};

fn parse(der: &[u8]) -> Certificate {
    let cert = Certificate::from_der(der).unwrap();
    // DER in, the same DER out: nothing rcgen or the hand encoder wrote is BER-only.
    assert_eq!(cert.to_der().unwrap(), der);
    cert
}

/// `(scheme OID, free text)` of every hcRole in the certificate.
fn hc_roles(cert: &Certificate) -> Vec<(String, String)> {
    let Some((critical, sda)) = cert.tbs_certificate().get_extension::<SubjectDirectoryAttributes>().unwrap() else {
        return Vec::new();
    };
    assert!(!critical, "subjectDirectoryAttributes must not be critical (RFC 5280 §4.2.1.8)");
    let mut roles = Vec::new();
    for attribute in sda.0 {
        assert_eq!(attribute.oid.to_string(), "1.0.17090.0.1", "hcRole attribute type");
        for value in attribute.values.iter() {
            // HCActorData ::= SET OF HCActor
            let value = value.to_der().unwrap();
            let [(set_tag, actors)] = &tlvs(&value)[..] else { panic!("one HCActorData") };
            assert_eq!(set_tag, &[0x31]);
            for (actor_tag, actor) in tlvs(actors) {
                assert_eq!(actor_tag, [0x30], "HCActor ::= SEQUENCE");
                let [(coded_tag, coded)] = &tlvs(actor)[..] else { panic!("only codedData") };
                assert_eq!(coded_tag, &[0xA0], "codedData [0] EXPLICIT");
                let [(codeddata_tag, fields)] = &tlvs(coded)[..] else { panic!("one CodedData") };
                assert_eq!(codeddata_tag, &[0x31], "CodedData ::= SET");
                let fields = tlvs(fields);
                assert_eq!(fields.len(), 2, "scheme and free text");
                assert_eq!(fields[0].0, [0xA0]);
                assert_eq!(fields[1].0, [0xA2]);
                let scheme: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::from_der(fields[0].1).unwrap();
                let text = der::asn1::Utf8StringRef::from_der(fields[1].1).unwrap();
                roles.push((scheme.to_string(), text.as_str().to_owned()));
            }
        }
    }
    roles
}

fn policies(cert: &Certificate) -> (bool, Vec<String>) {
    let (critical, policies) = cert.tbs_certificate().get_extension::<CertificatePolicies>().unwrap().unwrap();
    (critical, policies.0.iter().map(|p| p.policy_identifier.to_string()).collect())
}

fn key_usage(cert: &Certificate) -> KeyUsage {
    let (critical, ku) = cert.tbs_certificate().get_extension::<KeyUsage>().unwrap().unwrap();
    assert!(critical);
    ku
}

/// The bits set, by RFC 5280 name.
fn usages(ku: &KeyUsage) -> Vec<&'static str> {
    [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect()
}

fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate().get_extension::<BasicConstraints>().unwrap().is_some_and(|(_, bc)| bc.ca)
}

fn pem(dir: &Path, name: &str, der: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `openssl verify -x509_strict -CAfile root [-untrusted intermediate] leaf`.
fn openssl_verify(root: &[u8], intermediate: Option<&[u8]>, leaf: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("openssl");
    cmd.args(["verify", "-x509_strict", "-CAfile", &pem(dir.path(), "root.pem", root)]);
    if let Some(ca) = intermediate {
        cmd.args(["-untrusted", &pem(dir.path(), "ca.pem", ca)]);
    }
    cmd.arg(pem(dir.path(), "leaf.pem", leaf));
    let out = cmd.output().expect("run openssl (apt install openssl)");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }
}

#[test]
fn hpki_certificates_carry_hc_role_in_subject_directory_attributes() {
    let id = hpki_identity();
    let c = &id.credentials;
    for (what, der) in [("signature", &c.signature.cert), ("authentication", &c.authentication.cert)] {
        let cert = parse(der);
        assert_eq!(hc_roles(&cert), [("1.2.392.100495.1.6.1.1".to_owned(), "Medical Doctor".to_owned())], "{what}");
        assert!(!is_ca(&cert), "{what}");
        let subject = cert.tbs_certificate().subject().to_string();
        assert!(subject.contains("CN=Taro Shiken"), "{what}: {subject}");
        assert!(subject.contains("=Test000001"), "{what}: {subject}");
    }
    // Byte for byte the MEDIS structure (reference §3.3) for the same role text.
    assert_eq!(
        hex::encode(hc_role_attributes("Medical Doctor")),
        concat!(
            "3034",
            "3032",
            "0606288185420001",
            "3128",
            "3126",
            "3024",
            "a022",
            "3120",
            "a00c060a2a830886910f01060101",
            "a2100c0e",
            "4d65646963616c20446f63746f72"
        )
    );
}

#[test]
fn hpki_profile_details() {
    let c = &hpki_identity().credentials;
    let sign = parse(&c.signature.cert);
    let auth = parse(&c.authentication.cert);
    assert_eq!(usages(&key_usage(&sign)), ["nonRepudiation"]);
    assert_eq!(usages(&key_usage(&auth)), ["digitalSignature"]);
    assert_eq!(policies(&sign), (true, vec!["1.2.392.100495.1.5.1.1.0.1".to_owned()]));
    assert_eq!(policies(&auth), (true, vec!["1.2.392.100495.1.5.1.2.0.1".to_owned()]));
    let sign_ca = parse(&c.signature_ca);
    let auth_ca = parse(&c.authentication_ca);
    assert_eq!(policies(&sign_ca), (true, vec!["1.2.392.100495.1.5.1.1.3.1".to_owned()]));
    assert_eq!(policies(&auth_ca), (true, vec!["1.2.392.100495.1.5.1.2.3.1".to_owned()]));
    assert!(is_ca(&sign_ca) && is_ca(&auth_ca) && is_ca(&parse(&c.root)));
    assert_eq!(sign.tbs_certificate().issuer(), sign_ca.tbs_certificate().subject());
    assert_eq!(auth.tbs_certificate().issuer(), auth_ca.tbs_certificate().subject());

    // SAN: one directoryName with the kanji name (UTF8String, U+3000 between the names).
    let (_, san) = sign.tbs_certificate().get_extension::<SubjectAltName>().unwrap().unwrap();
    let [GeneralName::DirectoryName(name)] = san.0.as_slice() else { panic!("{san:?}") };
    let name = name.to_string();
    assert!(name.contains("CN=試験\u{3000}太郎"), "{name}");
    assert!(name.contains("O=試験大学病院"), "{name}");

    // Validity starts at a JST midnight (15:00 UTC) and ends one second before one.
    let validity = sign.tbs_certificate().validity();
    let start = validity.not_before.to_unix_duration().as_secs();
    let end = validity.not_after.to_unix_duration().as_secs();
    assert_eq!((start + 9 * 3600) % 86_400, 0);
    assert_eq!((end + 1 + 9 * 3600) % 86_400, 0);
    assert!(start <= OffsetDateTime::now_utc().unix_timestamp() as u64);
}

#[test]
fn hpki_without_role_has_no_subject_directory_attributes() {
    let creds = issue_hpki(&HpkiSubject { role: None, ..HpkiSubject::default() }).unwrap();
    assert!(hc_roles(&parse(&creds.signature.cert)).is_empty());
    let other = issue_hpki(&HpkiSubject { role: Some("Pharmacist".to_owned()), ..HpkiSubject::default() }).unwrap();
    assert_eq!(hc_roles(&parse(&other.authentication.cert))[0].1, "Pharmacist");
}

#[test]
fn hpki_chain_verifies_with_openssl() {
    let c = &hpki_identity().credentials;
    openssl_verify(&c.root, Some(&c.signature_ca), &c.signature.cert).unwrap();
    openssl_verify(&c.root, Some(&c.authentication_ca), &c.authentication.cert).unwrap();
    // And the wrong intermediate does not do.
    assert!(openssl_verify(&c.root, Some(&c.authentication_ca), &c.signature.cert).is_err());
    // Another identity's root is not this one's anchor.
    let other = issue_hpki(&HpkiSubject::default()).unwrap();
    assert!(openssl_verify(&other.root, Some(&c.signature_ca), &c.signature.cert).is_err());
}

#[test]
fn jpki_certificates_and_chains() {
    let id = jpki_identity();
    let c = &id.credentials;
    let auth = parse(&c.auth.cert);
    let sign = parse(&c.sign.cert);
    for root in [&c.auth_root, &c.sign_root] {
        let root = parse(root);
        assert!(is_ca(&root));
        assert_eq!(root.tbs_certificate().issuer(), root.tbs_certificate().subject());
        assert!(root.tbs_certificate().subject().to_string().contains("TEST"));
    }
    // The auth certificate names nobody: C and an opaque CN only.
    assert_eq!(auth.tbs_certificate().subject().to_string(), format!("CN={},C=JP", id.subject.opaque_id));
    assert!(auth.tbs_certificate().get_extension::<SubjectAltName>().unwrap().is_none());
    assert_eq!(usages(&key_usage(&auth)), ["digitalSignature"]);
    assert_eq!(policies(&auth), (false, vec!["1.2.392.200149.8.5.1.3.30".to_owned()]));
    // The signing certificate carries the four items as otherNames, in a real card's order, and no
    // substitute-position items unless the subject asks for them.
    let a = &id.subject.attributes;
    assert_eq!(
        other_names(&sign),
        [
            ("1.2.392.200149.8.5.5.1".to_owned(), a.name.clone()),
            ("1.2.392.200149.8.5.5.4".to_owned(), a.birth_date.clone()),
            ("1.2.392.200149.8.5.5.3".to_owned(), a.sex.clone()),
            ("1.2.392.200149.8.5.5.5".to_owned(), a.address.clone()),
        ]
    );
    assert_eq!(usages(&key_usage(&sign)), ["digitalSignature", "nonRepudiation"]);
    openssl_verify(&c.auth_root, None, &c.auth.cert).unwrap();
    openssl_verify(&c.sign_root, None, &c.sign.cert).unwrap();
    assert!(openssl_verify(&c.sign_root, None, &c.auth.cert).is_err());
}

/// The signing certificate's SAN otherNames: (type-id, UTF8String value), in order.
fn other_names(cert: &Certificate) -> Vec<(String, String)> {
    let (_, san) = cert.tbs_certificate().get_extension::<SubjectAltName>().unwrap().unwrap();
    san.0
        .iter()
        .map(|n| {
            let GeneralName::OtherName(other) = n else { panic!("{n:?}") };
            let value = der::asn1::Utf8StringRef::try_from(&other.value).unwrap();
            (other.type_id.to_string(), value.as_str().to_owned())
        })
        .collect()
}

#[test]
fn jpki_substitute_positions_are_written_when_set() {
    let subject = JpkiSubject {
        name_substitute: Some("00100".to_owned()),
        address_substitute: Some("0".repeat(17)),
        ..JpkiSubject::default()
    };
    let c = issue_jpki(&subject).unwrap();
    let names = other_names(&parse(&c.sign.cert));
    assert_eq!(
        names[4..],
        [
            ("1.2.392.200149.8.5.5.2".to_owned(), "00100".to_owned()),
            ("1.2.392.200149.8.5.5.6".to_owned(), "0".repeat(17)),
        ]
    );
    // Only the address's: the name's item stays absent.
    let subject = JpkiSubject { address_substitute: Some("1".to_owned()), ..JpkiSubject::default() };
    let names = other_names(&parse(&issue_jpki(&subject).unwrap().sign.cert));
    assert_eq!(
        names.iter().map(|(oid, _)| oid.rsplit('.').next().unwrap()).collect::<Vec<_>>(),
        ["1", "4", "3", "5", "6"]
    );
    // An identity.json written before the items existed still loads: they default to none.
    let json = serde_json::json!({ "opaque_id": "X", "attributes": subject.attributes });
    let old: JpkiSubject = serde_json::from_value(json).unwrap();
    assert_eq!((old.name_substitute, old.address_substitute), (None, None));
}

#[test]
fn jpki_crls_of_both_roots_verify_with_openssl() {
    let cas = JpkiTestCas::new().unwrap();
    let c = cas.issue(&JpkiSubject::default()).unwrap();
    let serial = parse(&c.sign.cert).tbs_certificate().serial_number().as_bytes().to_vec();
    let revoked = [Revoked { serial, at: time::OffsetDateTime::now_utc(), reason: None }];
    let dir = tempfile::tempdir().unwrap();
    for (name, crl, root, leaf) in [
        ("sign", cas.sign_crl(&revoked, CrlValidity::fresh(24)).unwrap(), &c.sign_root, &c.sign.cert),
        ("auth", cas.auth_crl(&[], CrlValidity::fresh(24)).unwrap(), &c.auth_root, &c.auth.cert),
    ] {
        let crl_der = dir.path().join(format!("{name}.crl.der"));
        std::fs::write(&crl_der, &crl).unwrap();
        let crl_pem = dir.path().join(format!("{name}.crl.pem"));
        let out = Command::new("openssl")
            .args(["crl", "-inform", "DER", "-in", crl_der.to_str().unwrap(), "-out", crl_pem.to_str().unwrap()])
            .args(["-CAfile", &pem(dir.path(), &format!("{name}-root.pem"), root)])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stderr).contains("verify OK"), "{name}: {out:?}");
        // The leaf against its root and CRL: the signing certificate is revoked, the auth one is not.
        let verify = Command::new("openssl")
            .args(["verify", "-crl_check", "-CAfile", &pem(dir.path(), &format!("{name}-root.pem"), root)])
            .args(["-CRLfile", crl_pem.to_str().unwrap(), &pem(dir.path(), &format!("{name}-leaf.pem"), leaf)])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&verify.stdout).into_owned() + &String::from_utf8_lossy(&verify.stderr);
        match name {
            "sign" => assert!(!verify.status.success() && text.contains("certificate revoked"), "{text}"),
            _ => assert!(verify.status.success(), "{text}"),
        }
    }
}

#[test]
fn serials_are_positive_and_distinct() {
    let c = &hpki_identity().credentials;
    let serials: Vec<Vec<u8>> = [&c.root, &c.signature_ca, &c.authentication_ca, &c.signature.cert]
        .iter()
        .map(|der| parse(der).tbs_certificate().serial_number().as_bytes().to_vec())
        .collect();
    for s in &serials {
        assert_eq!(s.len(), 8);
        assert!(s[0] & 0x80 == 0 && s[0] != 0);
    }
    let mut unique = serials.clone();
    unique.dedup();
    assert_eq!(unique.len(), serials.len());
}

/// The `uniformResourceIdentifier`s of the certificate's cRLDistributionPoints and of its authorityInfoAccess
/// id-ad-ocsp entries.
fn revocation_urls(cert: &Certificate) -> (Vec<String>, Vec<String>) {
    use x509_cert::ext::pkix::name::DistributionPointName;
    use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints};
    let uri = |name: &GeneralName| match name {
        GeneralName::UniformResourceIdentifier(u) => Some(u.as_str().to_owned()),
        _ => None,
    };
    let tbs = cert.tbs_certificate();
    let crls = tbs.get_extension::<CrlDistributionPoints>().unwrap().map_or_else(Vec::new, |(critical, points)| {
        assert!(!critical);
        points
            .0
            .iter()
            .flat_map(|p| match &p.distribution_point {
                Some(DistributionPointName::FullName(names)) => names.iter().filter_map(uri).collect(),
                _ => Vec::new(),
            })
            .collect()
    });
    let ocsp = tbs.get_extension::<AuthorityInfoAccessSyntax>().unwrap().map_or_else(Vec::new, |(critical, aia)| {
        assert!(!critical, "authorityInfoAccess must not be critical (RFC 5280 §4.2.2.1)");
        aia.0
            .iter()
            .filter(|a| a.access_method.to_string() == "1.3.6.1.5.5.7.48.1")
            .filter_map(|a| uri(&a.access_location))
            .collect()
    });
    (crls, ocsp)
}

#[test]
fn hpki_certificates_name_the_repository_they_are_issued_for() {
    let served = HpkiTestCas::with_repository("http://127.0.0.1:8080/").unwrap();
    let c = served.issue(&HpkiSubject::default()).unwrap();
    let base = "http://127.0.0.1:8080";
    let arl = vec![format!("{base}/repository/rlist/sarl.crl")];
    assert_eq!(revocation_urls(&parse(&c.signature_ca)), (arl.clone(), vec![]));
    assert_eq!(revocation_urls(&parse(&c.authentication_ca)), (arl, vec![]));
    assert_eq!(
        revocation_urls(&parse(&c.signature.cert)),
        (vec![format!("{base}/sign/crl-sign.crl")], vec![format!("{base}/ocsp/sign")])
    );
    assert_eq!(revocation_urls(&parse(&c.authentication.cert)), (vec![format!("{base}/auth/crl-auth.crl")], vec![]));
    assert_eq!(served.signature_crl_url(), format!("{base}/sign/crl-sign.crl"));
    assert_eq!(served.signature_ocsp_url(), Some(format!("{base}/ocsp/sign")));
    assert_eq!(served.signature_ca_certificate(), c.signature_ca.as_slice());
    openssl_verify(&c.root, Some(&c.signature_ca), &c.signature.cert).unwrap();
    // OpenSSL reads the access description as an OCSP responder: `openssl x509 -ocsp_uri`.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-ocsp_uri", "-in", &pem(dir.path(), "sign.pem", &c.signature.cert)])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("{base}/ocsp/sign"));

    // The hierarchy of `new` keeps naming the unresolvable repository, without an OCSP responder.
    let unserved = HpkiTestCas::new().unwrap();
    let c = unserved.issue(&HpkiSubject::default()).unwrap();
    let base = "http://hcpki-test.invalid/hpki";
    assert_eq!(revocation_urls(&parse(&c.signature.cert)), (vec![format!("{base}/sign/crl-sign.crl")], vec![]));
    assert_eq!(revocation_urls(&parse(&c.signature_ca)), (vec![format!("{base}/repository/rlist/sarl.crl")], vec![]));
    assert_eq!(unserved.signature_ocsp_url(), None);
}
