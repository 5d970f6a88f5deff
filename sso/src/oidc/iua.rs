//! IHE IUA (ITI-71) claims: who the person is, for which organization, in which role and for which purpose, in
//! the standard places IHE-based services read (`extensions.ihe_iua`, IUA §3.71.4.2.2; D93).
//!
//! [`claims`] is pure: the login's subject and facility, the person key, the request's purpose of use and the
//! deployment's home community in, the [`IheIua`] object out. A service receives it when its services-file
//! entry lists the `ihe_iua` claim: in the access token beside BPPC's consent (`extensions.ihe_bppc`), and in
//! the ID token and userinfo. IUA's limits on lifetimes ([`MAX_CODE_SECS`], [`MAX_ACCESS_TOKEN_SECS`]) are
//! checked when the configuration is read.

use crate::policy::{Credential, FacilityContext, PURPOSE_SYSTEM, PurposeOfUse, Subject};
use hcpki_ca::person_key::PersonKey;
use serde_json::{Map, Value};

/// IUA: authorization codes live at most 5 minutes.
pub const MAX_CODE_SECS: i64 = 300;
/// IUA: access tokens live at most an hour.
pub const MAX_ACCESS_TOKEN_SECS: u32 = 3600;
/// The shortest access token lifetime accepted: a token a client cannot use before it expires helps nobody.
pub const MIN_ACCESS_TOKEN_SECS: u32 = 30;
/// The system of a facility's hcpki identifier (`FacilityId`): `subject_organization_id` is this URN with
/// the id appended.
pub const FACILITY_SYSTEM: &str = "urn:hcpki:facility";
/// JP Core's identifier system of the 10-digit 医療機関コード (保険医療機関番号).
pub const MEDICAL_CODE_SYSTEM: &str = "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";

/// `extensions.ihe_iua` (IUA §3.71.4.2.2): every member optional; absent, not null, when the login cannot
/// supply it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IheIua {
    /// The person's name (XUA subject-id).
    pub subject_name: String,
    /// The facility's name (XUA organization), with a facility connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_organization: Option<String>,
    /// The facility as a URI (XUA organization-id): `urn:hcpki:facility:<FacilityId>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_organization_id: Option<String>,
    /// hcpki's addition: the facility's identifiers with their systems, the hcpki facility id and, where the
    /// registry has one, the 医療機関コード (JP Core's system), as FHIR Identifiers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subject_organization_identifiers: Vec<Identifier>,
    /// The hcRole (XUA role), as a FHIR Coding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_role: Option<Coding>,
    /// Why the person opens the service (XUA purposeofuse), as a FHIR Coding.
    pub purpose_of_use: Coding,
    /// The deployment's home community (`[oidc] home_community_id`), a URN OID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_community_id: Option<String>,
    /// The HPKI registration number (the card certificate's subject serialNumber), for HPKI card logins whose
    /// certificate carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub national_provider_identifier: Option<String>,
}

/// A FHIR Coding.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Coding {
    /// The code system's URI.
    pub system: &'static str,
    /// The code.
    pub code: &'static str,
    /// What it means, for people.
    pub display: &'static str,
}

/// A FHIR Identifier.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Identifier {
    /// The identifier system's URI.
    pub system: &'static str,
    /// The value.
    pub value: String,
}

impl From<PurposeOfUse> for Coding {
    fn from(p: PurposeOfUse) -> Self {
        Self { system: PURPOSE_SYSTEM, code: p.code(), display: p.display() }
    }
}

/// The IUA claims of `subject` at `facility` (none without a facility certificate), whose person key is
/// `person_key`, for `purpose`, in the deployment's `home` community.
pub fn claims(
    subject: &Subject,
    facility: Option<&FacilityContext>,
    person_key: &str,
    purpose: PurposeOfUse,
    home: Option<&HomeCommunityId>,
) -> IheIua {
    let mut identifiers = Vec::new();
    if let Some(f) = facility {
        identifiers.push(Identifier { system: FACILITY_SYSTEM, value: f.id.to_string() });
        if let Some(code) = &f.medical_code {
            identifiers.push(Identifier { system: MEDICAL_CODE_SYSTEM, value: code.as_str().to_owned() });
        }
    }
    IheIua {
        subject_name: subject.name().to_owned(),
        subject_organization: facility.map(|f| f.name.clone()),
        subject_organization_id: facility.map(|f| format!("{FACILITY_SYSTEM}:{}", f.id)),
        subject_organization_identifiers: identifiers,
        subject_role: subject.role().map(|r| {
            let (system, code, display) = r.coding();
            Coding { system, code, display }
        }),
        purpose_of_use: purpose.into(),
        home_community_id: home.map(|h| h.0.clone()),
        national_provider_identifier: registration_number(subject, person_key),
    }
}

/// The HPKI registration number in an HPKI card holder's person key; none for other logins, and for a card
/// whose certificate has no issuer O or subject serialNumber (its key names the certificate instead).
fn registration_number(subject: &Subject, person_key: &str) -> Option<String> {
    if subject.credential() != Credential::Hpki {
        return None;
    }
    match PersonKey::parse(person_key) {
        Ok(PersonKey::Hpki { registration, .. }) => Some(registration),
        _ => None,
    }
}

/// `extensions` of an access token: IUA's (from the grant's claims, when the service asked for them) and BPPC's
/// (a consent named at the token endpoint) side by side in one object; none when neither is there.
pub fn extensions(service_claims: &Value, consent: Option<Value>) -> Option<Value> {
    let mut merged = Map::new();
    for part in [service_claims.get("extensions").cloned(), consent].into_iter().flatten() {
        if let Value::Object(members) = part {
            merged.extend(members);
        }
    }
    (!merged.is_empty()).then_some(Value::Object(merged))
}

/// `[oidc] home_community_id`: the deployment's IHE home community, a URN OID (`urn:oid:1.2.392.…`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HomeCommunityId(String);

impl TryFrom<String> for HomeCommunityId {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let oid = text.strip_prefix("urn:oid:").unwrap_or_default();
        let arcs_ok = !oid.is_empty()
            && oid.split('.').count() >= 2
            && oid.split('.').all(|arc| {
                !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()) && (arc == "0" || !arc.starts_with('0'))
            })
            && matches!(oid.as_bytes().first(), Some(b'0' | b'1' | b'2'));
        if arcs_ok && text.len() <= 128 {
            Ok(Self(text))
        } else {
            Err(format!(
                "home_community_id {text:?} is not a URN OID: write urn:oid: and the community's OID, e.g. \
                 urn:oid:1.2.392.200119.6.102"
            ))
        }
    }
}

impl From<HomeCommunityId> for String {
    fn from(h: HomeCommunityId) -> Self {
        h.0
    }
}

/// Why a lifetime setting is refused: it would break IUA's limits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// `[portal] access_token_secs` outside 30–3600.
    #[error(
        "[portal] access_token_secs = {0}: use {MIN_ACCESS_TOKEN_SECS} to {MAX_ACCESS_TOKEN_SECS} (IHE IUA allows access tokens of at most an hour and recommends 5 minutes, the default 300)"
    )]
    AccessToken(u32),
}

/// The access token lifetime `[portal] access_token_secs` asks for, or why it is refused.
pub fn access_token_secs(secs: u32) -> Result<i64, LimitError> {
    if (MIN_ACCESS_TOKEN_SECS..=MAX_ACCESS_TOKEN_SECS).contains(&secs) {
        Ok(i64::from(secs))
    } else {
        Err(LimitError::AccessToken(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::HcRole;
    use hcpki_ca::facility::{FacilityKind, FacilityState, MedicalInstitutionCode};
    use hcpki_ca::{FacilityId, person_key::AnchorId};
    use serde_json::json;

    fn clinic(code: Option<&str>) -> FacilityContext {
        FacilityContext {
            id: FacilityId::from_number(17).unwrap(),
            name: "本郷クリニック".into(),
            kind: FacilityKind::Clinic,
            state: FacilityState::Active,
            medical_code: code.map(|c| MedicalInstitutionCode::parse(c).unwrap()),
        }
    }

    fn hpki_key() -> String {
        let anchor = AnchorId::of_spki(b"anchor");
        PersonKey::Hpki { anchor, org: "MEDIS".into(), registration: "Test117120".into() }.to_string()
    }

    /// A physician's HPKI login at a clinic with a 医療機関コード: every member, exactly.
    #[test]
    fn an_hpki_physician_at_a_registered_clinic_has_every_member() {
        let home = HomeCommunityId::try_from("urn:oid:1.2.392.200119.6.102".to_owned()).unwrap();
        let subject = Subject::hpki("山田 太郎", Some(HcRole::MedicalDoctor));
        let facility = clinic(Some("1311234569"));
        let iua = claims(&subject, Some(&facility), &hpki_key(), PurposeOfUse::Treat, Some(&home));
        let id = FacilityId::from_number(17).unwrap().to_string();
        assert_eq!(
            serde_json::to_value(&iua).unwrap(),
            json!({
                "subject_name": "山田 太郎",
                "subject_organization": "本郷クリニック",
                "subject_organization_id": format!("urn:hcpki:facility:{id}"),
                "subject_organization_identifiers": [
                    { "system": "urn:hcpki:facility", "value": id },
                    { "system": MEDICAL_CODE_SYSTEM, "value": "1311234569" },
                ],
                "subject_role": { "system": "urn:hcpki:codesystem:hc-role", "code": "medical-doctor", "display": "医師" },
                "purpose_of_use": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT",
                    "display": "treatment" },
                "home_community_id": "urn:oid:1.2.392.200119.6.102",
                "national_provider_identifier": "Test117120",
            })
        );
    }

    /// What a login cannot supply is absent: no facility, no role, no registration number (a password login, a
    /// JPKI card, an HPKI card whose key names its certificate), no configured community.
    #[test]
    fn what_the_login_cannot_supply_is_absent() {
        let password = Subject::password_totp("Alice", Some(HcRole::Nurse));
        let iua = serde_json::to_value(claims(&password, None, "pwd:alice", PurposeOfUse::Etreat, None)).unwrap();
        assert_eq!(iua.as_object().unwrap().len(), 3, "{iua}");
        assert_eq!((&iua["subject_role"]["code"], &iua["purpose_of_use"]["code"]), (&json!("nurse"), &json!("ETREAT")));
        // A password account's key could be made to look like a card's: the credential decides, not the key.
        assert_eq!(claims(&password, None, &hpki_key(), PurposeOfUse::Treat, None).national_provider_identifier, None);
        let jpki = Subject::jpki("JPKI利用者");
        assert_eq!(claims(&jpki, None, &hpki_key(), PurposeOfUse::Treat, None).national_provider_identifier, None);
        let card = Subject::hpki("佐藤", None);
        let per_certificate = format!("hpki-cert:{}:{}", AnchorId::of_spki(b"a"), "ab".repeat(32));
        let iua = claims(&card, Some(&clinic(None)), &per_certificate, PurposeOfUse::Treat, None);
        assert_eq!((iua.national_provider_identifier, iua.subject_role), (None, None));
        assert_eq!(iua.subject_organization_identifiers.len(), 1, "no 医療機関コード registered");
    }

    #[test]
    fn home_community_ids_are_urn_oids() {
        for good in ["urn:oid:1.2.392.200119.6.102", "urn:oid:2.16.840.1.113883.3.72.5.9.1", "urn:oid:0.1"] {
            assert!(HomeCommunityId::try_from(good.to_owned()).is_ok(), "{good}");
        }
        for bad in ["1.2.392", "urn:oid:", "urn:oid:1", "urn:oid:1.02", "urn:oid:3.1", "urn:oid:1..2", "urn:uuid:1.2"] {
            let e = HomeCommunityId::try_from(bad.to_owned()).unwrap_err();
            assert!(e.contains("urn:oid:"), "{bad}: {e}");
        }
        let parsed: HomeCommunityId = serde_json::from_value(json!("urn:oid:1.2.3")).unwrap();
        assert_eq!(serde_json::to_value(parsed).unwrap(), "urn:oid:1.2.3");
    }

    /// IUA's limits: access tokens of 30 s to an hour (more is refused, not clamped). Codes: a compile-time
    /// assertion beside `CODE_SECS`.
    #[test]
    fn lifetimes_stay_within_iua_limits() {
        assert_eq!(access_token_secs(300), Ok(300));
        assert_eq!(access_token_secs(3600), Ok(3600));
        for bad in [0, 29, 3601, 86_400] {
            let e = access_token_secs(bad).unwrap_err().to_string();
            assert!(e.contains("access_token_secs") && e.contains("3600"), "{e}");
        }
    }

    /// IUA's and BPPC's extensions side by side; neither, none.
    #[test]
    fn extensions_merge_iua_and_bppc() {
        let service = json!({ "name": "x", "extensions": { "ihe_iua": { "subject_name": "x" } } });
        let bppc = json!({ "ihe_bppc": { "patient_id": "p" } });
        let merged = extensions(&service, Some(bppc.clone())).unwrap();
        assert_eq!((&merged["ihe_iua"]["subject_name"], &merged["ihe_bppc"]["patient_id"]), (&json!("x"), &json!("p")));
        assert_eq!(extensions(&json!({}), Some(bppc.clone())), Some(bppc));
        assert_eq!(extensions(&json!({ "name": "x" }), None), None);
    }
}
