//! [`judge`]: every refusal of a sign-in acting under a delegation, in the order checked, and the subject the
//! policy decides on when it holds.

use super::*;
use crate::session::CredentialDetails;

const NOW: i64 = 1_800_000_000;

fn facility(n: u64) -> FacilityId {
    FacilityId::from_number(n).unwrap()
}

fn delegation() -> DelegationRecord {
    DelegationRecord {
        id: "d1".parse().unwrap(),
        facility_id: facility(1).to_string(),
        physician_key: "hpki:dr".into(),
        physician_name: "Dr A".into(),
        physician_role: "medical-doctor".into(),
        delegate_username: "clerk".into(),
        delegate_name: "Clerk B".into(),
        services: vec!["emr".into()],
        created_at: NOW - 60,
        expires_at: NOW + 3600,
        ended_at: None,
        ended_by: None,
    }
}

fn session(person_key: &str, at: Option<u64>) -> Session {
    Session {
        id_hash: "h".into(),
        person_key: person_key.into(),
        subject: Subject::password_totp("Clerk B", None),
        facility_id: at.map(facility),
        credential: CredentialDetails::default(),
        auth_time: NOW - 10,
        expires_at: NOW + 600,
        presence: false,
        lend: None,
        terminal: None,
    }
}

#[test]
fn a_delegate_acts_for_the_physician_only_while_it_runs_there_and_for_its_services() {
    let d = delegation();
    let clerk = session("pwd:clerk", Some(1));
    let subject = judge(&d, &clerk, "emr", NOW).unwrap();
    // The physician's qualification, the clerk's sign-in strength.
    assert_eq!(subject, Subject::password_totp("Dr A", HcRole::from_code("medical-doctor")));
    let physician = || "Dr A".to_owned();
    let ended = DelegationRecord { ended_at: Some(NOW - 1), ..delegation() };
    let cases = [
        (judge(&d, &session("pwd:other", Some(1)), "emr", NOW), UseRefused::NotTheDelegate { physician: physician() }),
        (judge(&ended, &clerk, "emr", NOW), UseRefused::Ended { physician: physician(), at: NOW - 1 }),
        (judge(&d, &clerk, "emr", NOW + 3600), UseRefused::RanOut { physician: physician(), at: NOW + 3600 }),
        (
            judge(&d, &session("pwd:clerk", Some(2)), "emr", NOW),
            UseRefused::OtherFacility { physician: physician(), facility: facility(1).to_string() },
        ),
        (
            judge(&d, &session("pwd:clerk", None), "emr", NOW),
            UseRefused::OtherFacility { physician: physician(), facility: facility(1).to_string() },
        ),
        (
            judge(&d, &clerk, "wiki", NOW),
            UseRefused::ServiceNotCovered { physician: physician(), service: "wiki".into() },
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, Err(want));
    }
}

#[test]
fn the_act_claim_names_the_delegate_and_the_delegation() {
    let acting = Acting {
        delegation: delegation(),
        subject: Subject::password_totp("Dr A", None),
        delegate_key: "pwd:clerk".into(),
    };
    let claims = acting.claims(serde_json::json!({ "name": "Dr A" }), "s-clerk".into());
    assert_eq!(
        claims,
        serde_json::json!({ "name": "Dr A", "act": { "sub": "s-clerk", "name": "Clerk B",
            "delegation": { "id": "d1", "exp": NOW + 3600 } } })
    );
}
