//! The pipeline in-process: every profile on every key type lints clean and
//! verifies; a broken template never reaches the signer.

use super::*;
use crate::facility::{Allocation, Facility, FacilityKind, FacilityState};
use crate::profile::{self, IssuerContext, NameRequest, ProfileError, ProfileKind, ProfileSettings, RouterEku};
use hcpki_pkix::keys::{KeyAlgorithm, KeyContext, SoftwareKey};

struct Ca {
    key: SoftwareKey,
    cert: Certificate,
}

fn facility() -> Facility {
    Facility {
        id: FacilityId::from_number(17).unwrap(),
        name: "テスト診療所".into(),
        kind: FacilityKind::Clinic,
        medical_code: None,
        address: None,
        contact: None,
        state: FacilityState::Active,
        state_reason: None,
        state_changed_by: "test".into(),
        state_changed_at: 0,
        created_at: 0,
    }
}

fn hierarchy(alg: KeyAlgorithm, dir: &std::path::Path) -> (Ca, Ca) {
    let pass = dir.join("pass");
    std::fs::write(&pass, "pw").unwrap();
    let ctx = KeyContext { base_dir: dir.to_owned(), passphrase_file: Some(pass), pkcs11: None };
    let settings = ProfileSettings::default();
    let root_key = SoftwareKey::generate(&dir.join(format!("root-{alg}.p8")), alg, &ctx).unwrap();
    let t = profile::ca::root(&settings, "Test Root", root_key.public_key()).unwrap();
    let signer = Signer {
        ca_name: "root",
        issuer: &t.subject,
        issuer_key: root_key.public_key(),
        issuer_not_after: None,
        key: &root_key,
    };
    let input = TbsInput {
        serial: Serial::generate().unwrap(),
        subject_key: root_key.public_key(),
        not_before: hcpki_pkix::time::now(),
        facility: None,
        facility_dns: None,
    };
    let root_der = signer.prepare(&t, input).unwrap().sign().unwrap().der;
    let root_cert = Certificate::from_der(&root_der).unwrap();
    let sub_key = SoftwareKey::generate(&dir.join(format!("sub-{alg}.p8")), alg, &ctx).unwrap();
    let kid = profile::key_identifier(root_key.public_key());
    let ctx_root = IssuerContext { ca_name: "root", subject: root_cert.tbs_certificate().subject(), key_id: &kid };
    let t = profile::ca::issuing(&settings, "Test Router CA", sub_key.public_key(), &ctx_root).unwrap();
    let signer = Signer {
        ca_name: "root",
        issuer: root_cert.tbs_certificate().subject(),
        issuer_key: root_key.public_key(),
        issuer_not_after: Some(hcpki_pkix::time::unix(&root_cert.tbs_certificate().validity().not_after)),
        key: &root_key,
    };
    let input = TbsInput {
        serial: Serial::generate().unwrap(),
        subject_key: sub_key.public_key(),
        not_before: hcpki_pkix::time::now(),
        facility: None,
        facility_dns: None,
    };
    let sub_der = signer.prepare(&t, input).unwrap().sign().unwrap().der;
    let sub_cert = Certificate::from_der(&sub_der).unwrap();
    (Ca { key: root_key, cert: root_cert }, Ca { key: sub_key, cert: sub_cert })
}

fn issue_leaf(
    ca: &Ca,
    kind: ProfileKind,
    subject_alg: KeyAlgorithm,
    eku: Option<RouterEku>,
) -> Result<Issued, IssueError> {
    let settings = ProfileSettings::default();
    let f = facility();
    let (device, _) = SoftwareKey::generate_device_key(subject_alg).unwrap();
    let spec = settings.spec(kind, eku);
    let allocations = [Allocation::parse("192.0.2.0/24").unwrap(), Allocation::parse("2001:db8::/48").unwrap()];
    let req = match kind {
        ProfileKind::Router => NameRequest {
            facility: Some(&f),
            allocations: &allocations,
            sans: vec![
                "r1.hf00000017x.router.hcpki.example".replace("hf00000017x", &f.id.dns_label()),
                "192.0.2.1".into(),
                "2001:db8::1".into(),
            ],
            ..Default::default()
        },
        ProfileKind::Pc => NameRequest {
            facility: Some(&f),
            device: Some("pc-01".into()),
            sans: vec![profile::pc::host_name(&settings, &f.id, "pc-01")],
            ..Default::default()
        },
        ProfileKind::Server => {
            NameRequest { sans: vec!["portal.hcpki.example".into(), "127.0.0.1".into()], ..Default::default() }
        }
        ProfileKind::Ocsp | ProfileKind::ScepRa => {
            NameRequest { ocsp_for: Some("router".into()), ..Default::default() }
        }
        ProfileKind::Operator => NameRequest { device: Some("alice".into()), ..Default::default() },
        ProfileKind::Tsa => NameRequest::default(),
    };
    let names = profile::names(&spec, &settings, &req).unwrap();
    let issuer_spki = ca.key.public_key();
    let kid = profile::key_identifier(issuer_spki);
    let ctx = IssuerContext { ca_name: "router", subject: ca.cert.tbs_certificate().subject(), key_id: &kid };
    let template = profile::template(&spec, &settings, names, device.public_key(), &ctx).unwrap();
    let signer = Signer {
        ca_name: "router",
        issuer: ca.cert.tbs_certificate().subject(),
        issuer_key: issuer_spki,
        issuer_not_after: Some(hcpki_pkix::time::unix(&ca.cert.tbs_certificate().validity().not_after)),
        key: &ca.key,
    };
    let dns = settings.router_dns_name(&f.id);
    let with_facility = matches!(kind, ProfileKind::Router | ProfileKind::Pc);
    let input = TbsInput {
        serial: Serial::generate().unwrap(),
        subject_key: device.public_key(),
        not_before: UnixTime::from_secs(hcpki_pkix::time::now_unix() - 300),
        facility: with_facility.then_some(&f.id),
        facility_dns: with_facility.then_some(dns.as_str()),
    };
    signer.prepare(&template, input)?.sign()
}

#[test]
fn every_profile_on_every_key_type_lints_clean_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    for ca_alg in [KeyAlgorithm::P256, KeyAlgorithm::Rsa2048] {
        let (_root, sub) = hierarchy(ca_alg, dir.path());
        for kind in [
            ProfileKind::Router,
            ProfileKind::Pc,
            ProfileKind::Server,
            ProfileKind::Ocsp,
            ProfileKind::ScepRa,
            ProfileKind::Operator,
            ProfileKind::Tsa,
        ] {
            for subject_alg in [KeyAlgorithm::P256, KeyAlgorithm::Rsa2048] {
                if kind == ProfileKind::ScepRa && subject_alg != KeyAlgorithm::Rsa2048 {
                    continue; // SCEP RAs are RSA: clients wrap content keys with RSAES-PKCS1-v1_5.
                }
                let ekus: &[Option<RouterEku>] = if kind == ProfileKind::Router {
                    &[Some(RouterEku::None), Some(RouterEku::Ike), Some(RouterEku::IkeIntermediate)]
                } else {
                    &[None]
                };
                for eku in ekus {
                    let issued = issue_leaf(&sub, kind, subject_alg, *eku)
                        .unwrap_or_else(|e| panic!("{kind} {subject_alg} under {ca_alg}: {e}"));
                    let cert = Certificate::from_der(&issued.der).unwrap();
                    let tbs = cert.tbs_certificate().to_der().unwrap();
                    verify::verify_signature(
                        sub.key.public_key(),
                        cert.signature_algorithm(),
                        &tbs,
                        cert.signature().as_bytes().unwrap(),
                    )
                    .unwrap();
                }
            }
        }
    }
}

#[test]
fn a_template_that_breaks_a_lint_is_never_signed() {
    let dir = tempfile::tempdir().unwrap();
    let (_root, sub) = hierarchy(KeyAlgorithm::P256, dir.path());
    let settings = ProfileSettings::default();
    let f = facility();
    let (device, _) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
    // A router template whose SAN is stripped: RFC 4945 requires the identity in the SAN.
    let spec = settings.spec(ProfileKind::Router, None);
    let mut names =
        profile::names(&spec, &settings, &NameRequest { facility: Some(&f), ..Default::default() }).unwrap();
    names.sans.clear();
    let kid = profile::key_identifier(sub.key.public_key());
    let ctx = IssuerContext { ca_name: "router", subject: sub.cert.tbs_certificate().subject(), key_id: &kid };
    let template = profile::template(&spec, &settings, names, device.public_key(), &ctx).unwrap();
    let signer = Signer {
        ca_name: "router",
        issuer: sub.cert.tbs_certificate().subject(),
        issuer_key: sub.key.public_key(),
        issuer_not_after: None,
        key: &sub.key,
    };
    let dns = settings.router_dns_name(&f.id);
    let err = signer
        .prepare(
            &template,
            TbsInput {
                serial: Serial::generate().unwrap(),
                subject_key: device.public_key(),
                not_before: UnixTime::EPOCH,
                facility: Some(&f.id),
                facility_dns: Some(&dns),
            },
        )
        .unwrap_err();
    let IssueError::Lint(LintFailure(findings)) = err else { panic!("expected lint failure, got {err}") };
    let ids: Vec<_> = findings.iter().map(|f| f.id).collect();
    assert!(ids.contains(&"e_rfc4945_san_id_types"), "{ids:?}");
    assert!(ids.contains(&"e_hcpki_router_facility_dns"), "{ids:?}");
}

#[test]
fn router_names_stay_inside_the_facility() {
    let settings = ProfileSettings::default();
    let f = facility();
    let spec = settings.spec(ProfileKind::Router, None);
    let other = format!("{}.{}", FacilityId::from_number(18).unwrap().dns_label(), settings.router_zone);
    for bad in [other.as_str(), "*.router.hcpki.example", "0.0.0.0", "224.0.0.1", "bad_name.example", "-x.example"] {
        let req = NameRequest { facility: Some(&f), sans: vec![bad.into()], ..Default::default() };
        assert!(profile::names(&spec, &settings, &req).is_err(), "{bad} accepted");
    }
    let allocations = [Allocation::parse("2001:db8:10::/48").unwrap(), Allocation::parse("192.0.2.7").unwrap()];
    let ok = NameRequest {
        facility: Some(&f),
        allocations: &allocations,
        sans: vec!["2001:db8:10::1".into(), format!("vpn.{}", settings.router_dns_name(&f.id)), "192.0.2.7".into()],
        ..Default::default()
    };
    let names = profile::names(&spec, &settings, &ok).unwrap();
    assert_eq!(names.display.len(), 4);
    assert!(names.subject.to_string().contains("CN=2001:db8:10::1"), "{}", names.subject);
}

/// Issue #24, item 2: a router certificate carries only addresses inside its facility's allocations, whatever
/// else is asked for, and the CN never comes from an address that was not checked.
#[test]
fn router_addresses_stay_inside_the_facility_allocations() {
    let settings = ProfileSettings::default();
    let f = facility();
    let spec = settings.spec(ProfileKind::Router, None);
    let allocations = [Allocation::parse("2001:db8:10::/48").unwrap(), Allocation::parse("192.0.2.7").unwrap()];
    for (sans, held) in [
        (vec!["2001:db8:11::1"], &allocations[..]),
        (vec!["192.0.2.8"], &allocations[..]),
        (vec!["fe80::1"], &allocations[..]),
        (vec!["192.0.2.7"], &[][..]),
        (vec!["198.51.100.1", "192.0.2.7"], &allocations[..]),
    ] {
        let req = NameRequest {
            facility: Some(&f),
            allocations: held,
            sans: sans.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let err = profile::names(&spec, &settings, &req).unwrap_err();
        assert!(matches!(err, ProfileError::AddressNotAllocated { .. }), "{sans:?}: {err}");
        assert!(err.to_string().contains("ask the network operator to allocate it to your facility"), "{err}");
    }
}

#[test]
fn a_uuid_arc_oid_inside_a_certificate_is_refused() {
    use hcpki_pkix::asn1::{PolicyInformation, RawOid};
    let dir = tempfile::tempdir().unwrap();
    let (_root, sub) = hierarchy(KeyAlgorithm::P256, dir.path());
    let settings = ProfileSettings::default();
    let (device, _) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
    let spec = settings.spec(ProfileKind::Server, None);
    let names = profile::names(&spec, &settings, &NameRequest { sans: vec!["a.example".into()], ..Default::default() })
        .unwrap();
    let kid = profile::key_identifier(sub.key.public_key());
    let ctx = IssuerContext { ca_name: "server", subject: sub.cert.tbs_certificate().subject(), key_id: &kid };
    let mut template = profile::template(&spec, &settings, names, device.public_key(), &ctx).unwrap();
    let policies = vec![PolicyInformation { policy_identifier: RawOid::project(&[2, 1]) }];
    template.extensions.push(x509_cert::ext::Extension {
        extn_id: const_oid::db::rfc5280::ID_CE_CERTIFICATE_POLICIES,
        critical: false,
        extn_value: der::asn1::OctetString::new(policies.to_der().unwrap()).unwrap(),
    });
    let signer = Signer {
        ca_name: "server",
        issuer: sub.cert.tbs_certificate().subject(),
        issuer_key: sub.key.public_key(),
        issuer_not_after: None,
        key: &sub.key,
    };
    let err = signer
        .prepare(
            &template,
            TbsInput {
                serial: Serial::generate().unwrap(),
                subject_key: device.public_key(),
                not_before: UnixTime::EPOCH,
                facility: None,
                facility_dns: None,
            },
        )
        .unwrap_err();
    let IssueError::Lint(LintFailure(findings)) = err else { panic!("expected lint failure, got {err}") };
    assert!(findings.iter().any(|f| f.id == "e_hcpki_oid_arcs_fit_28_bits"), "{findings:?}");
}

#[test]
fn pc_identity_uri_round_trips_and_rejects_others() {
    let settings = ProfileSettings::default();
    let id = FacilityId::from_number(600_000).unwrap();
    let uri = profile::pc::identity_uri(&settings, &id, "pc-01");
    assert_eq!(uri, format!("https://hcpki.example/facility/{id}/device/pc-01"));
    assert_eq!(profile::pc::parse_identity_uri(&uri), Some((id.clone(), "pc-01".to_owned())));
    for bad in [
        "http://hcpki.example/facility/HF000000012/device/x",
        "https://h/facility/HF000000013/device/x",
        "https://h/facility/HF000000012/device/",
        "https://h/facility/HF000000012/device/x/y",
        "urn:x",
    ] {
        assert_eq!(profile::pc::parse_identity_uri(bad), None, "{bad}");
    }
}
