//! Table tests for every rule and its precedence, file-parsing errors, and an exhaustive sweep over small
//! domains checking the policy's invariants (proptest is not in the workspace; the domains are small enough
//! to enumerate completely, which is stronger than sampling).

use super::services::ServicesError;
use super::*;
use hcpki_ca::facility::{FacilityKind as K, FacilityState as S};

fn fid(n: u64) -> FacilityId {
    FacilityId::from_number(n).unwrap()
}

fn at(n: u64, kind: K, state: S) -> FacilityContext {
    FacilityContext { id: fid(n), name: format!("施設{n}"), kind, state, medical_code: None }
}

/// One service from the body of a `[[service]]` table (id and name supplied).
fn service(body: &str) -> Service {
    let text = format!("version = 1\n[[service]]\nid = \"svc\"\nname = \"Service\"\n{body}\n");
    Services::parse(&text).unwrap().iter().next().unwrap().clone()
}

/// Doctors and dentists at hospitals and at facility 2 (a clinic), never at facility 3, card at a facility.
fn doctors_at_hospitals() -> Service {
    service(&format!(
        r#"roles = ["medical-doctor", "dentist"]
facility_kinds = ["hospital"]
facilities_allow = ["{}"]
facilities_deny = ["{}"]
min_assurance = "card-pin-facility"
claims = ["name", "hc_role", "facility_id", "facility_name", "acr", "amr"]"#,
        fid(2),
        fid(3)
    ))
}

/// Name, who, where, which service, and the expected denial (`None`: allowed).
type Case<'a> = (&'a str, &'a Subject, Option<&'a FacilityContext>, &'a Service, Option<DenyReason>);

#[test]
fn table_every_rule_and_its_precedence() {
    use DenyReason as D;
    let doctor = Subject::hpki("山田 太郎", Some(HcRole::MedicalDoctor));
    let nurse = Subject::hpki("佐藤 花子", Some(HcRole::Nurse));
    let no_role = Subject::hpki("事務 一郎", None);
    let jpki = Subject::jpki("住民 次郎");
    let staff = Subject::password_totp("受付 三郎", Some(HcRole::MedicalDoctor));
    let hospital = at(1, K::Hospital, S::Active);
    let allowed_clinic = at(2, K::Clinic, S::Active);
    let denied_hospital = at(3, K::Hospital, S::Active);
    let other_clinic = at(4, K::Clinic, S::Active);
    let suspended = at(1, K::Hospital, S::Suspended);
    let retired = at(1, K::Hospital, S::Retired);
    let rejected = at(1, K::Hospital, S::Rejected);
    let strict = doctors_at_hospitals();
    let open = service(
        r#"roles = []
facility_kinds = ["*"]
min_assurance = "password-totp"
allow_jpki = true"#,
    );
    let any_role = service(
        r#"roles = ["*"]
facility_kinds = ["*"]
min_assurance = "card-pin""#,
    );
    let no_jpki = service(
        r#"roles = []
facility_kinds = ["*"]
min_assurance = "card-pin""#,
    );

    let cases: Vec<Case> = vec![
        ("doctor at an admitted hospital", &doctor, Some(&hospital), &strict, None),
        ("allow list admits a clinic the kinds do not", &doctor, Some(&allowed_clinic), &strict, None),
        (
            "kind not admitted",
            &doctor,
            Some(&other_clinic),
            &strict,
            Some(D::FacilityNotAdmitted { facility: fid(4), kind: K::Clinic }),
        ),
        ("deny list beats the kind", &doctor, Some(&denied_hospital), &strict, Some(D::FacilityDenied(fid(3)))),
        (
            "suspended facility",
            &doctor,
            Some(&suspended),
            &strict,
            Some(D::FacilityNotActive { facility: fid(1), state: S::Suspended }),
        ),
        (
            "suspended beats everything, even an open service",
            &jpki,
            Some(&suspended),
            &open,
            Some(D::FacilityNotActive { facility: fid(1), state: S::Suspended }),
        ),
        (
            "retired facility",
            &doctor,
            Some(&retired),
            &strict,
            Some(D::FacilityNotActive { facility: fid(1), state: S::Retired }),
        ),
        (
            "rejected facility, as a retired one",
            &doctor,
            Some(&rejected),
            &strict,
            Some(D::FacilityNotActive { facility: fid(1), state: S::Rejected }),
        ),
        ("no facility certificate, service restricts facilities", &doctor, None, &strict, Some(D::NoFacility)),
        (
            "facility rules beat role rules",
            &nurse,
            Some(&other_clinic),
            &strict,
            Some(D::FacilityNotAdmitted { facility: fid(4), kind: K::Clinic }),
        ),
        ("role not allowed", &nurse, Some(&hospital), &strict, Some(D::RoleNotAllowed(HcRole::Nurse))),
        (
            "HPKI card without hcRole",
            &no_role,
            Some(&hospital),
            &strict,
            Some(D::NoQualification { credential: "HPKI card" }),
        ),
        ("JPKI on a service that takes no JPKI", &jpki, Some(&hospital), &strict, Some(D::JpkiNotAccepted)),
        ("JPKI on an identity-only service with allow_jpki", &jpki, Some(&other_clinic), &open, None),
        (
            "JPKI refused where allow_jpki is off, even with roles = []",
            &jpki,
            Some(&hospital),
            &no_jpki,
            Some(D::JpkiNotAccepted),
        ),
        ("roleless HPKI card on an identity-only service", &no_role, Some(&hospital), &no_jpki, None),
        ("any role: nurse", &nurse, None, &any_role, None),
        (
            "any role: card without hcRole",
            &no_role,
            None,
            &any_role,
            Some(D::NoQualification { credential: "HPKI card" }),
        ),
        (
            "role checks beat assurance",
            &staff,
            Some(&hospital),
            &any_role,
            Some(D::AssuranceTooLow { have: AssuranceLevel::PasswordTotp, need: AssuranceLevel::CardPin }),
        ),
        (
            "password+TOTP below card-pin-facility",
            &staff,
            Some(&hospital),
            &strict,
            Some(D::AssuranceTooLow { have: AssuranceLevel::PasswordTotp, need: AssuranceLevel::CardPinFacility }),
        ),
        ("card without facility is card-pin, enough for card-pin", &doctor, None, &any_role, None),
        ("password+TOTP on a password-level service", &staff, None, &open, None),
    ];
    for (name, subject, facility, svc, want) in cases {
        let got = match decide(subject, facility, svc) {
            Decision::Allow(_) => None,
            Decision::Deny(reason) => Some(reason),
        };
        assert_eq!(got, want, "case: {name}");
    }
}

#[test]
fn claims_are_exactly_those_listed() {
    let doctor = Subject::hpki("山田 太郎", Some(HcRole::MedicalDoctor));
    let hospital = at(1, K::Hospital, S::Active);
    let Decision::Allow(claims) = decide(&doctor, Some(&hospital), &doctors_at_hospitals()) else {
        panic!("doctor at hospital must be allowed")
    };
    let json = serde_json::to_value(&claims).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "name": "山田 太郎",
            "hc_role": { "code": "medical-doctor", "label_ja": "医師", "label_en": "Medical Doctor" },
            "facility_id": fid(1).to_string(),
            "facility_name": "施設1",
            "acr": "urn:hcpki:acr:card-pin-facility-mtls",
            "amr": ["sc", "hwk", "pin", "mfa"],
        })
    );
    let minimal =
        service("roles = []\nfacility_kinds = [\"*\"]\nmin_assurance = \"password-totp\"\nclaims = [\"name\"]");
    let staff = Subject::password_totp("受付 三郎", None);
    assert_eq!(
        decide(&staff, Some(&hospital), &minimal),
        Decision::Allow(Claims { name: Some("受付 三郎".into()), ..Claims::default() })
    );
}

#[test]
fn audit_text_names_the_rule() {
    let d = decide(&Subject::jpki("住民 次郎"), None, &doctors_at_hospitals());
    assert_eq!(d.to_string(), "denied: the service requires a facility connection and the login has none");
    let suspended = at(7, K::Pharmacy, S::Suspended);
    let d = decide(&Subject::jpki("住民 次郎"), Some(&suspended), &doctors_at_hospitals());
    assert_eq!(d.to_string(), format!("denied: facility {} is suspended, not active", fid(7)));
}

/// The login's audit record of the home page: every service, allowed or refused with the rule's text, in file
/// order, from the same decisions the page shows.
#[test]
fn listing_records_every_decision_for_the_audit() {
    let text = format!(
        "version = 1\n[[service]]\nid = \"emr\"\nname = \"EMR\"\nroles = [\"medical-doctor\"]\n\
         facility_kinds = [\"hospital\"]\nmin_assurance = \"card-pin-facility\"\n\
         [[service]]\nid = \"wiki\"\nname = \"Wiki\"\nroles = []\nfacility_kinds = [\"*\"]\n\
         min_assurance = \"password-totp\"\n[[service]]\nid = \"records\"\nname = \"Records\"\nroles = []\n\
         facility_kinds = [\"*\"]\nfacilities_deny = [\"{}\"]\nmin_assurance = \"card-pin\"\nallow_jpki = true\n",
        fid(3)
    );
    let services = Services::parse(&text).unwrap();
    let hospital = at(1, K::Hospital, S::Active);
    let nurse = Subject::hpki("看護 花子", Some(HcRole::Nurse));
    let at_hospital = listing(&nurse, Some(&hospital), &services);
    let ids = |v: Vec<&Service>| v.into_iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(at_hospital.visible()), ["wiki", "records"]);
    assert_eq!(ids(at_hospital.visible()), ids(visible_services(&nurse, Some(&hospital), &services)));
    assert_eq!(
        serde_json::to_value(&at_hospital).unwrap(),
        serde_json::json!({
            "listed": ["wiki", "records"],
            "refused": [{ "service": "emr", "reason": "hcRole nurse is not admitted by the service" }],
        })
    );
    let citizen = Subject::jpki("住民 次郎");
    let banned = at(3, K::Clinic, S::Active);
    assert_eq!(
        serde_json::to_value(listing(&citizen, Some(&banned), &services)).unwrap(),
        serde_json::json!({
            "listed": [],
            "refused": [
                { "service": "emr", "reason": format!("facility {} of kind clinic is not admitted by the service", fid(3)) },
                { "service": "wiki", "reason": "JPKI (identity-only) logins are not accepted by the service" },
                { "service": "records", "reason": format!("facility {} is on the service's deny list", fid(3)) },
            ],
        })
    );
}

#[test]
fn services_file_errors_say_what_to_fix() {
    let base = "roles = []\nfacility_kinds = [\"*\"]\nmin_assurance = \"card-pin\"";
    let one = |body: &str| Services::parse(&format!("version = 1\n[[service]]\nid = \"a\"\nname = \"A\"\n{body}\n"));
    let cases: Vec<(String, &str)> = vec![
        (base.replace("roles = []", "roles = [\"doctor\"]"), "unknown role code \"doctor\""),
        (base.replace("[\"*\"]", "[\"hospice\"]"), "unknown facility kind \"hospice\""),
        (base.replace("roles = []", "roles = [\"*\", \"nurse\"]"), "roles mixes \"*\" with names"),
        (format!("{base}\nclaims = [\"email\"]"), "unknown claim \"email\""),
        (base.replace("card-pin", "high"), "unknown min_assurance \"high\""),
        (format!("{base}\nfacilities_deny = [\"HF12\"]"), "is not a facility ID"),
        (
            format!("{base}\nfacilities_allow = [\"{0}\"]\nfacilities_deny = [\"{0}\"]", fid(5)),
            "in both facilities_allow and facilities_deny",
        ),
        (base.replace("roles = []", "roles = [\"nurse\"]\nallow_jpki = true"), "allow_jpki = true needs roles = []"),
        (format!("{base}\nredirect_uris = []"), "unknown field `redirect_uris`"),
        (base.replace("min_assurance = \"card-pin\"", ""), "missing field `min_assurance`"),
    ];
    for (body, want) in cases {
        let err = one(&body).unwrap_err().to_string();
        assert!(err.contains(want), "{body:?}: got {err:?}, want it to contain {want:?}");
    }
    let dup = format!(
        "version = 1\n[[service]]\nid = \"a\"\nname = \"A\"\n{base}\n[[service]]\nid = \"a\"\nname = \"B\"\n{base}\n"
    );
    assert_eq!(
        Services::parse(&dup).unwrap_err().to_string(),
        "service id \"a\" appears twice: service ids must be unique"
    );
    let bad_id = format!("version = 1\n[[service]]\nid = \"EMR\"\nname = \"A\"\n{base}\n");
    assert!(matches!(Services::parse(&bad_id), Err(ServicesError::BadId(_))));
    assert!(matches!(Services::parse("version = 2"), Err(ServicesError::Version(2))));
}

#[test]
fn example_services_file_parses() {
    let text = include_str!("../../../docs/services.example.toml");
    let services = Services::parse(text).unwrap();
    assert!(services.iter().count() >= 3);
}

#[test]
fn role_table_is_consistent() {
    let codes: std::collections::HashSet<_> = HcRole::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(codes.len(), HcRole::ALL.len(), "role codes must be unique");
    for r in HcRole::ALL {
        assert_eq!(HcRole::from_code(r.code()), Some(r));
        assert!(!r.label_ja().is_empty() && !r.label_en().is_empty());
    }
    assert_eq!(HcRole::ALL.iter().filter(|r| r.is_administrator()).count(), 5);
    assert_eq!(HcRole::MedicalDoctor.label_en(), "Medical Doctor");
    assert_eq!(HcRole::Pharmacist.label_ja(), "薬剤師");
}

/// Every combination of a small service space, subject space and facility space.
#[test]
fn exhaustive_invariants() {
    let listed = fid(2);
    let banned = fid(3);
    let role_rules = ["[]", "[\"*\"]", "[\"medical-doctor\"]"];
    let kind_rules = ["[\"*\"]", "[\"hospital\"]", "[]"];
    let lists = |f: &FacilityId| [String::new(), format!("\"{f}\"")];
    let mut services = Vec::new();
    for roles in role_rules {
        for kinds in kind_rules {
            for allow in lists(&listed) {
                for deny in lists(&banned) {
                    for level in AssuranceLevel::ALL {
                        for jpki in [false, true] {
                            if jpki && roles != "[]" {
                                continue; // refused by the parser (tested above)
                            }
                            services.push(service(&format!(
                                "roles = {roles}\nfacility_kinds = {kinds}\nfacilities_allow = [{allow}]\n\
                                 facilities_deny = [{deny}]\nmin_assurance = \"{level}\"\nallow_jpki = {jpki}\n\
                                 claims = [\"name\", \"hc_role\", \"facility_id\", \"acr\"]"
                            )));
                        }
                    }
                }
            }
        }
    }
    let mut subjects = vec![Subject::jpki("j")];
    for role in [None, Some(HcRole::MedicalDoctor), Some(HcRole::Nurse)] {
        subjects.push(Subject::hpki("h", role));
        subjects.push(Subject::password_totp("p", role));
    }
    let mut facilities = vec![None];
    for n in [1, 2, 3] {
        for kind in [K::Hospital, K::Clinic] {
            for state in [S::Active, S::Suspended, S::Retired, S::Rejected, S::Approved] {
                facilities.push(Some(at(n, kind, state)));
            }
        }
    }
    let all = Services::parse(&services_file(&services)).unwrap();
    let mut checked = 0;
    for subject in &subjects {
        for facility in &facilities {
            let f = facility.as_ref();
            let visible: Vec<_> = visible_services(subject, f, &all).iter().map(|s| s.id.clone()).collect();
            let listed = listing(subject, f, &all);
            assert_eq!(listed.visible().len() + listed.refused().count(), all.iter().count(), "every service decided");
            let mut expected_visible = Vec::new();
            for svc in all.iter() {
                let decision = decide(subject, f, svc);
                checked += 1;
                if decision.is_allowed() {
                    expected_visible.push(svc.id.clone());
                }
                check_invariants(subject, f, svc, &decision);
            }
            assert_eq!(visible, expected_visible, "the portal lists exactly the allowed services");
        }
    }
    assert!(checked > 10_000, "the sweep must be large ({checked})");
}

fn check_invariants(subject: &Subject, f: Option<&FacilityContext>, svc: &Service, decision: &Decision) {
    let ctx = || format!("{subject:?} at {f:?} on {svc:?}: {decision}");
    let Decision::Allow(claims) = decision else {
        if let Decision::Deny(DenyReason::AssuranceTooLow { .. }) = decision {
            // Stepping up to a card at a facility must cure it, for anyone with the same qualification.
            let stronger = Subject::hpki(subject.name(), subject.role());
            if subject.credential() != Credential::Jpki && f.is_some() {
                assert!(decide(&stronger, f, svc).is_allowed(), "step-up does not help: {}", ctx());
            }
        }
        return;
    };
    if let Some(fc) = f {
        assert_eq!(fc.state, FacilityState::Active, "inactive facility allowed: {}", ctx());
        assert!(!svc.facilities_deny.contains(&fc.id), "denied facility allowed: {}", ctx());
        if let KindRule::OneOf(kinds) = &svc.facility_kinds {
            assert!(kinds.contains(&fc.kind) || svc.facilities_allow.contains(&fc.id), "{}", ctx());
        }
        assert_eq!(claims.facility_id.as_ref(), Some(&fc.id), "{}", ctx());
    } else {
        assert_eq!(svc.facility_kinds, KindRule::Any, "facility-bound service without facility: {}", ctx());
        assert_eq!(claims.facility_id, None);
    }
    assert!(subject.assurance(f) >= svc.min_assurance, "assurance too low allowed: {}", ctx());
    if subject.credential() == Credential::Jpki {
        assert!(svc.allow_jpki, "JPKI allowed without allow_jpki: {}", ctx());
    }
    match &svc.roles {
        RoleRule::NoneRequired => {}
        RoleRule::AnyRole => assert!(subject.role().is_some(), "{}", ctx()),
        RoleRule::OneOf(roles) => assert!(subject.role().is_some_and(|r| roles.contains(&r)), "{}", ctx()),
    }
    assert_eq!(claims.hc_role, subject.role(), "{}", ctx());
    assert_eq!(claims.acr, Some(subject.assurance(f).acr()));
    assert_eq!(claims.facility_name, None, "facility_name was not asked for: {}", ctx());
    // Monotonic in assurance: the same person with a card at the same facility is allowed too.
    if subject.credential() == Credential::PasswordTotp {
        assert!(decide(&Subject::hpki(subject.name(), subject.role()), f, svc).is_allowed(), "{}", ctx());
    }
}

/// Render services back into one file with unique ids (the parser is the only way to build a `Service`).
fn services_file(services: &[Service]) -> String {
    let mut text = String::from("version = 1\n");
    for (i, s) in services.iter().enumerate() {
        let list = |items: Vec<String>| items.iter().map(|x| format!("\"{x}\"")).collect::<Vec<_>>().join(", ");
        let roles = match &s.roles {
            RoleRule::NoneRequired => String::new(),
            RoleRule::AnyRole => "\"*\"".to_owned(),
            RoleRule::OneOf(r) => list(r.iter().map(|r| r.code().to_owned()).collect()),
        };
        let kinds = match &s.facility_kinds {
            KindRule::Any => "\"*\"".to_owned(),
            KindRule::OneOf(k) => list(k.iter().map(|k| k.to_string()).collect()),
        };
        text += &format!(
            "[[service]]\nid = \"s{i}\"\nname = \"S{i}\"\nroles = [{roles}]\nfacility_kinds = [{kinds}]\n\
             facilities_allow = [{}]\nfacilities_deny = [{}]\nmin_assurance = \"{}\"\nallow_jpki = {}\nclaims = [{}]\n",
            list(s.facilities_allow.iter().map(|f| f.to_string()).collect()),
            list(s.facilities_deny.iter().map(|f| f.to_string()).collect()),
            s.min_assurance,
            s.allow_jpki,
            list(s.claims.iter().map(|c| c.as_str().to_owned()).collect()),
        );
    }
    text
}

/// The database keeps one definition per service (D26): they parse back to exactly the file's services, in
/// its order, and the same strict checks refuse bad ones.
#[test]
fn stored_definitions_round_trip_and_stay_strict() {
    let text = format!(
        "version = 1\n[[service]]\nid = \"emr\"\nname = \"EMR\"\nroles = [\"medical-doctor\"]\n\
         facility_kinds = [\"hospital\"]\nfacilities_deny = [\"{}\"]\nmin_assurance = \"card-pin-facility\"\n\
         claims = [\"name\", \"hc_role\"]\n[[service]]\nid = \"wiki\"\nname = \"Wiki\"\nroles = []\n\
         facility_kinds = [\"*\"]\nmin_assurance = \"password-totp\"\nallow_jpki = true\n",
        fid(3)
    );
    let definitions = Services::definitions(&text).unwrap();
    assert_eq!(definitions.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["emr", "wiki"]);
    let stored = Services::from_definitions(definitions.iter().map(|(_, d)| d.as_str())).unwrap();
    assert_eq!(stored, Services::parse(&text).unwrap());
    assert!(matches!(
        Services::definitions(&text.replace("medical-doctor", "wizard")),
        Err(ServicesError::UnknownRole { .. })
    ));
    assert!(matches!(
        Services::from_definitions([
            "id = \"a\"\nname = \"A\"\nroles = []\nfacility_kinds = [\"*\"]\nmin_assurance = \"x\"\nbogus = 1"
        ]),
        Err(ServicesError::Toml(_))
    ));
    let twice = definitions.iter().map(|(_, d)| d.as_str()).chain([definitions[0].1.as_str()]);
    assert!(matches!(Services::from_definitions(twice), Err(ServicesError::DuplicateId(_))));
}

#[test]
fn a_service_may_say_what_it_is_for_and_where_its_login_starts() {
    let base = "roles = []\nfacility_kinds = [\"*\"]\nmin_assurance = \"password-totp\"";
    let s = service(&format!(
        "{base}\ndescription = \"職員向けの情報共有\"\ninitiate_login_uri = \"https://wiki.example.jp/login\""
    ));
    assert_eq!(s.description.as_deref(), Some("職員向けの情報共有"));
    assert_eq!(s.initiate_login_uri.as_deref(), Some("https://wiki.example.jp/login"));
    assert_eq!(service(base).initiate_login_uri, None);
    for ok in ["http://127.0.0.1:9/emr/login", "http://localhost/x", "http://[::1]:8080/"] {
        assert_eq!(service(&format!("{base}\ninitiate_login_uri = \"{ok}\"")).initiate_login_uri.as_deref(), Some(ok));
    }
    for bad in ["http://wiki.example.jp/login", "javascript:alert(1)", "https:///x", "https://a/#f", "/login"] {
        let text =
            format!("version = 1\n[[service]]\nid = \"svc\"\nname = \"S\"\n{base}\ninitiate_login_uri = \"{bad}\"\n");
        let e = Services::parse(&text).unwrap_err();
        assert!(matches!(e, ServicesError::BadLaunchUri { .. }), "{bad}: {e}");
        assert!(e.to_string().contains("must be an https:// URL"), "{e}");
    }
}

/// `purposes` (D94): TREAT only by default; listed codes; unknown codes, an empty list and break-glass (EMER)
/// on a service that needs no hcRole are refused, naming the service and what to write.
#[test]
fn purposes_default_to_treatment_and_refuse_what_cannot_work() {
    let base = "facility_kinds = [\"*\"]\nmin_assurance = \"card-pin\"";
    let plain = service(&format!("roles = []\n{base}"));
    assert_eq!(plain.purposes, [PurposeOfUse::Treat].into());
    let listed = service(&format!("roles = [\"*\"]\n{base}\npurposes = [\"TREAT\", \"ETREAT\", \"EMER\"]"));
    assert_eq!(listed.purposes, [PurposeOfUse::Treat, PurposeOfUse::Etreat, PurposeOfUse::Emer].into());
    let parse = |body: &str| {
        Services::parse(&format!("version = 1\n[[service]]\nid = \"svc\"\nname = \"S\"\n{body}\n{base}\n")).unwrap_err()
    };
    let e = parse("roles = [\"*\"]\npurposes = [\"NORM\"]");
    assert!(matches!(e, ServicesError::UnknownPurpose { .. }) && e.to_string().contains("TREAT, ETREAT"), "{e}");
    let e = parse("roles = [\"*\"]\npurposes = []");
    assert!(matches!(e, ServicesError::NoPurposes(_)), "{e}");
    let e = parse("roles = []\npurposes = [\"TREAT\", \"EMER\"]");
    assert!(matches!(e, ServicesError::BreakGlassNeedsRoles(_)) && e.to_string().contains("roles"), "{e}");
    // The console is opened for treatment only, whatever a request says.
    assert_eq!(Service::console().purposes, [PurposeOfUse::Treat].into());
}

/// `require_patient_presence` (D148): off unless written, kept through the stored definition (what the database
/// holds), and not a value a typo can turn on.
#[test]
fn require_patient_presence_is_off_by_default_and_survives_storage() {
    let body = "roles = [\"*\"]\nfacility_kinds = [\"*\"]\nmin_assurance = \"card-pin\"";
    assert!(!service(body).require_patient_presence);
    let text = format!(
        "version = 1\n[[service]]\nid = \"svc\"\nname = \"Service\"\n{body}\nrequire_patient_presence = true\n"
    );
    let stored = Services::definitions(&text).unwrap();
    let again = Services::from_definitions(stored.iter().map(|(_, d)| d.as_str())).unwrap();
    assert!(again.get("svc").unwrap().require_patient_presence);
    let typo = text.replace("= true", "= \"yes\"");
    assert!(matches!(Services::parse(&typo), Err(ServicesError::Toml(_))));
}

/// A passkey (D157) is its staff account's login at a level of its own: above password + TOTP, below any card,
/// the same with or without a facility PC, never a card for a rule that wants one, and its claims say passkey.
#[test]
fn a_passkey_is_a_staff_accounts_login_never_a_cards() {
    use DenyReason as D;
    let passkey = Subject::passkey("受付 花子", Some(HcRole::MedicalDoctor));
    let password = Subject::password_totp("受付 花子", Some(HcRole::MedicalDoctor));
    let hospital = at(1, K::Hospital, S::Active);
    assert!(
        AssuranceLevel::PasswordTotp < AssuranceLevel::Passkey && AssuranceLevel::Passkey < AssuranceLevel::CardPin
    );
    assert_eq!(AssuranceLevel::from_name("passkey"), Some(AssuranceLevel::Passkey));
    assert_eq!(passkey.assurance(None), AssuranceLevel::Passkey);
    assert_eq!(passkey.assurance(Some(&hospital)), AssuranceLevel::Passkey, "a facility PC raises a card only");
    assert!(!passkey.credential().is_card());

    let wants = |level: &str| service(&format!("roles = []\nfacility_kinds = [\"*\"]\nmin_assurance = \"{level}\""));
    assert!(decide(&passkey, None, &wants("passkey")).is_allowed());
    assert!(decide(&passkey, None, &wants("password-totp")).is_allowed());
    assert_eq!(
        decide(&password, None, &wants("passkey")),
        Decision::Deny(D::AssuranceTooLow { have: AssuranceLevel::PasswordTotp, need: AssuranceLevel::Passkey }),
        "a service may require a passkey over a password"
    );
    for card in ["card-pin", "card-pin-facility"] {
        let need = AssuranceLevel::from_name(card).unwrap();
        assert_eq!(
            decide(&passkey, Some(&hospital), &wants(card)),
            Decision::Deny(D::AssuranceTooLow { have: AssuranceLevel::Passkey, need }),
            "{card}: a passkey never stands for a card"
        );
    }
    // The doctors-at-hospitals rule wants a card at a facility PC: the account's role does not get a passkey in.
    let Decision::Deny(reason) = decide(&passkey, Some(&hospital), &doctors_at_hospitals()) else {
        panic!("a passkey opened a card-only service");
    };
    assert_eq!(reason, D::AssuranceTooLow { have: AssuranceLevel::Passkey, need: AssuranceLevel::CardPinFacility });
    // No role on the account: a role rule names the passkey as what was missing.
    let no_role = Subject::passkey("受付 花子", None);
    let any_role = service("roles = [\"*\"]\nfacility_kinds = [\"*\"]\nmin_assurance = \"passkey\"");
    assert_eq!(decide(&no_role, None, &any_role), Decision::Deny(D::NoQualification { credential: "passkey" }));

    let claims_of =
        service("roles = []\nfacility_kinds = [\"*\"]\nmin_assurance = \"passkey\"\nclaims = [\"acr\", \"amr\"]");
    let Decision::Allow(claims) = decide(&passkey, Some(&hospital), &claims_of) else { panic!("refused") };
    assert_eq!(claims.acr, Some("urn:hcpki:acr:passkey"));
    let amr = serde_json::to_value(claims.amr.unwrap()).unwrap();
    assert_eq!(amr, serde_json::json!(["pop", "user", "mfa"]), "no sc, hwk or pin: not a card");
}
