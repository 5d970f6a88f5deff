//! Regional networks (地域医療連携ネットワーク, issue #49 item 2, D169), HTTP-free: a declared group of member
//! facilities and member relying services, with the party responsible for the shared records (管理責任者) and what
//! the 共同利用 notice of 個人情報保護法 第27条第5項第3号 must tell the patient (the items shared, the scope of the
//! joint users, their purpose, the responsible party). A consent template may name a network
//! (`[[consent.templates]] network = "…"`): the consent is then asked for only at a member facility, its PDF
//! carries the notice, and every member service may check it — live or withdrawn, nothing else — for the patient
//! it holds, by that service's pairwise patient reference (the presence proof's, [`crate::presence::patient_ref`]);
//! a withdrawal reaches every member through the same feed. The service API over it is [`super::network_api`].
//!
//! Declaring is one operation ([`declare`]) for the CLI, the admin API and the console, audited
//! `network.declared` (refusals denied). The time is passed in.

use crate::audit::audit;
use hcpki_ca::FacilityId;
use hcpki_ca::audit::{AuditEvent, Outcome};
use hcpki_ca::store::consent::{ConsentRecord, ConsentState};
use hcpki_ca::store::{NetworkRecord, Store, StoreError};
use hcpki_docsig::consent_document::Item;
use hcpki_pkix::time::UnixTime;
use serde_json::json;

/// The audit action of a declaration (and of its refusals).
pub const DECLARED: &str = "network.declared";
/// Longest free-text field of a declaration, in characters.
pub const MAX_TEXT: usize = 1000;
/// Most members of one kind.
pub const MAX_MEMBERS: usize = 500;

/// A network as the operator declares it: the CLI's TOML file, the admin API's JSON body and the console's form
/// all become this, and [`declare`] checks and stores it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// The name templates and services use: 1–64 of `a-z 0-9 . _ -`.
    pub name: String,
    /// What people call it (「〇〇地域医療連携ネットワーク」).
    pub title: String,
    /// 管理責任者: the party responsible for the shared records (an organisation or a person's office).
    pub responsible_name: String,
    /// How a patient reaches the responsible party (address, telephone, office hours).
    pub responsible_contact: String,
    /// 共同して利用される個人データの項目 (e.g. 「受診歴、検査結果、処方、アレルギー」).
    pub items: String,
    /// 利用する者の利用目的.
    pub purpose: String,
    /// 共同して利用する者の範囲, in words (the member list itself is below).
    pub joint_users: String,
    /// The member facilities' IDs.
    pub facilities: Vec<String>,
    /// The member relying services' ids (the services file's `id`).
    pub services: Vec<String>,
}

/// What a member service learns of a patient's consents in a network: nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberStatus {
    /// A consent naming the network is live for this patient.
    Live,
    /// None is live, and one was withdrawn: stop relying on it.
    Withdrawn,
    /// None was ever signed for this patient reference (or at the facility asked about).
    None,
}

impl MemberStatus {
    /// The API's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Withdrawn => "withdrawn",
            Self::None => "none",
        }
    }
}

/// Why a declaration, a consent's scope or a member's question is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// The name is not 1–64 of `a-z 0-9 . _ -`.
    #[error("the network's name {0:?} is not usable: give 1 to 64 of a-z, 0-9, '.', '_' and '-' (e.g. \"ajisai-net\")")]
    Name(String),
    /// A text field is empty, too long or has control characters other than line breaks.
    #[error(
        "{0} must be 1 to {MAX_TEXT} characters without control characters: the patient reads it in the 共同利用 \
         notice, so write it out"
    )]
    Text(&'static str),
    /// No facility, or no service, or too many, or one twice.
    #[error("{0}: name 1 to {MAX_MEMBERS} members, each once")]
    Members(&'static str),
    /// A facility ID that is malformed or not registered.
    #[error("facility {0:?} is not a registered facility: register it (hcpki facility apply) or correct the ID")]
    UnknownFacility(String),
    /// A service id that is not in the services file.
    #[error("service {0:?} is not a registered service: add it to the services file (hcpki service add) first")]
    UnknownService(String),
    /// No network of this name is declared.
    #[error("no regional network {0:?} is declared: declare it (hcpki network declare) or correct the name")]
    Unknown(String),
    /// The consent's facility is not a member of the network its template names.
    #[error(
        "facility {facility} is not a member of the regional network {network:?}: a consent shared in the network \
         is asked for at a member facility; ask the network's responsible party to add the facility"
    )]
    FacilityNotMember {
        /// The facility.
        facility: String,
        /// The network.
        network: String,
    },
    /// The asking service is not a member of the network.
    #[error(
        "service {service:?} is not a member of the regional network {network:?}: only its member services may \
         check its consents"
    )]
    ServiceNotMember {
        /// The service.
        service: String,
        /// The network.
        network: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Declaration {
    /// The checks that need no database: the name, the texts, the member lists.
    pub fn check(&self) -> Result<(), NetworkError> {
        check_name(&self.name)?;
        let texts = [
            ("title", &self.title),
            ("responsible_name", &self.responsible_name),
            ("responsible_contact", &self.responsible_contact),
            ("items", &self.items),
            ("purpose", &self.purpose),
            ("joint_users", &self.joint_users),
        ];
        for (field, text) in texts {
            let bad_char = text.chars().any(|c| c.is_control() && c != '\n');
            if text.trim().is_empty() || text.chars().count() > MAX_TEXT || bad_char {
                return Err(NetworkError::Text(field));
            }
        }
        for (what, list) in [("facilities", &self.facilities), ("services", &self.services)] {
            let mut sorted: Vec<&String> = list.iter().collect();
            sorted.sort();
            sorted.dedup();
            if list.is_empty() || list.len() > MAX_MEMBERS || sorted.len() != list.len() {
                return Err(NetworkError::Members(what));
            }
        }
        Ok(())
    }
}

/// A network's name: 1–64 of `a-z 0-9 . _ -`, as a purpose's.
pub fn check_name(name: &str) -> Result<(), NetworkError> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok { Ok(()) } else { Err(NetworkError::Name(name.chars().take(80).collect())) }
}

/// Declare `declaration` (a new network, or the same name's new declaration) as `actor` at `now`: checked, each
/// facility registered and each service in the services file, stored with `network.declared` in one
/// transaction; a refusal is audited denied with why and stores nothing.
pub async fn declare(
    store: &dyn Store,
    declaration: &Declaration,
    actor: &str,
    now: UnixTime,
) -> Result<NetworkRecord, NetworkError> {
    let name = declaration.name.chars().take(64).collect::<String>();
    match checked(store, declaration).await {
        Ok(()) => {}
        Err(NetworkError::Store(e)) => return Err(NetworkError::Store(e)),
        Err(e) => {
            let detail = json!({ "reason": e.to_string() });
            audit(store, now.as_millis(), actor, DECLARED, &name, Outcome::Denied, detail).await;
            return Err(e);
        }
    }
    let d = declaration;
    let record = NetworkRecord {
        name: d.name.clone(),
        title: d.title.clone(),
        responsible_name: d.responsible_name.clone(),
        responsible_contact: d.responsible_contact.clone(),
        items: d.items.clone(),
        purpose: d.purpose.clone(),
        joint_users: d.joint_users.clone(),
        facilities: d.facilities.clone(),
        services: d.services.clone(),
        declared_at: now.as_secs(),
        declared_by: actor.to_owned(),
    };
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: DECLARED.into(),
        target: record.name.clone(),
        outcome: Outcome::Ok,
        detail: json!({ "title": record.title, "responsible": record.responsible_name,
            "facilities": record.facilities, "services": record.services }),
    };
    store.network_declare(&record, &event, now).await?;
    Ok(record)
}

/// [`Declaration::check`], then each member against the registry and the services file.
async fn checked(store: &dyn Store, declaration: &Declaration) -> Result<(), NetworkError> {
    declaration.check()?;
    for facility in &declaration.facilities {
        let id: FacilityId = facility.parse().map_err(|_| NetworkError::UnknownFacility(facility.clone()))?;
        if store.facility(&id).await?.is_none() {
            return Err(NetworkError::UnknownFacility(facility.clone()));
        }
    }
    let (services, _, _) = store.portal_services().await?;
    for service in &declaration.services {
        if !services.iter().any(|s| &s.id == service) {
            return Err(NetworkError::UnknownService(service.chars().take(64).collect()));
        }
    }
    Ok(())
}

/// Whether `service` is a member of `network`.
pub fn member_service(network: &NetworkRecord, service: &str) -> Result<(), NetworkError> {
    if network.services.iter().any(|s| s == service) {
        Ok(())
    } else {
        Err(NetworkError::ServiceNotMember { service: service.to_owned(), network: network.name.clone() })
    }
}

/// Whether `facility` is a member of `network`.
pub fn member_facility(network: &NetworkRecord, facility: &str) -> Result<(), NetworkError> {
    if network.facilities.iter().any(|f| f == facility) {
        Ok(())
    } else {
        Err(NetworkError::FacilityNotMember { facility: facility.to_owned(), network: network.name.clone() })
    }
}

/// What a member learns from `consents` (the network's signed ones) for the patient `is_patient` picks: live
/// when one is, withdrawn when none is and one was, else none.
pub fn status_of(consents: &[ConsentRecord], is_patient: impl Fn(&ConsentRecord) -> bool) -> MemberStatus {
    let mine = consents.iter().filter(|c| is_patient(c));
    let mut status = MemberStatus::None;
    for c in mine {
        match c.state {
            ConsentState::Signed => return MemberStatus::Live,
            ConsentState::Withdrawn => status = MemberStatus::Withdrawn,
            _ => {}
        }
    }
    status
}

/// The 共同利用 notice the consent's PDF carries (個人情報保護法 第27条第5項第3号: the items, the scope of the joint
/// users, their purpose, and the responsible party's name and how to reach them), Japanese, as labelled items.
pub fn notice_items(network: &NetworkRecord) -> Vec<Item> {
    let item = |label: &str, text: String| Item { label: label.to_owned(), text };
    vec![
        item("共同利用する地域医療連携ネットワーク", network.title.clone()),
        item("共同して利用する項目", network.items.clone()),
        item("共同して利用する者の範囲", network.joint_users.clone()),
        item("利用する者の利用目的", network.purpose.clone()),
        item("管理責任者", format!("{}(連絡先: {})", network.responsible_name, network.responsible_contact)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn declaration() -> Declaration {
        Declaration {
            name: "ajisai-net".into(),
            title: "あじさい地域医療連携ネットワーク".into(),
            responsible_name: "あじさいネット運営協議会".into(),
            responsible_contact: "事務局 03-0000-0000".into(),
            items: "受診歴、検査結果、処方".into(),
            purpose: "地域の医療機関で安全な診療を行うため".into(),
            joint_users: "参加医療機関と連携カルテ".into(),
            facilities: vec!["HF00000001X".into()],
            services: vec!["records".into()],
        }
    }

    fn record() -> NetworkRecord {
        let d = declaration();
        NetworkRecord {
            name: d.name,
            title: d.title,
            responsible_name: d.responsible_name,
            responsible_contact: d.responsible_contact,
            items: d.items,
            purpose: d.purpose,
            joint_users: d.joint_users,
            facilities: d.facilities,
            services: d.services,
            declared_at: 1,
            declared_by: "operator:root".into(),
        }
    }

    #[test]
    fn a_declaration_is_checked_before_any_database() {
        assert!(declaration().check().is_ok());
        let bad = [
            (Declaration { name: "Ajisai Net".into(), ..declaration() }, "name"),
            (Declaration { responsible_name: " ".into(), ..declaration() }, "responsible_name"),
            (Declaration { items: "a\u{7}".into(), ..declaration() }, "items"),
            (Declaration { purpose: "あ".repeat(MAX_TEXT + 1), ..declaration() }, "purpose"),
            (Declaration { facilities: vec![], ..declaration() }, "facilities"),
            (Declaration { services: vec!["a".into(), "a".into()], ..declaration() }, "services"),
        ];
        for (d, word) in bad {
            let e = d.check().unwrap_err().to_string();
            assert!(e.contains(word), "{word}: {e}");
        }
    }

    #[test]
    fn members_are_the_declared_ones_only() {
        let n = record();
        assert!(member_service(&n, "records").is_ok());
        assert!(matches!(member_service(&n, "emr"), Err(NetworkError::ServiceNotMember { .. })));
        assert!(member_facility(&n, "HF00000001X").is_ok());
        let e = member_facility(&n, "HF00000002X").unwrap_err().to_string();
        assert!(e.contains("not a member") && e.contains("responsible party"), "{e}");
    }

    #[test]
    fn a_member_learns_live_withdrawn_or_none() {
        let mut signed = crate::consent::tests::requested("c1");
        signed.state = ConsentState::Signed;
        let mut withdrawn = crate::consent::tests::requested("c2");
        withdrawn.state = ConsentState::Withdrawn;
        let mine = |c: &ConsentRecord| c.patient_key == "pk1:mine";
        let (mut a, mut b) = (signed.clone(), withdrawn.clone());
        a.patient_key = "pk1:mine".into();
        b.patient_key = "pk1:mine".into();
        assert_eq!(status_of(&[b.clone(), a.clone()], mine), MemberStatus::Live);
        assert_eq!(status_of(&[b.clone(), signed.clone()], mine), MemberStatus::Withdrawn);
        assert_eq!(status_of(&[signed, withdrawn], mine), MemberStatus::None);
    }

    #[test]
    fn the_notice_names_the_responsible_party_and_the_items() {
        let text: Vec<String> = notice_items(&record()).iter().map(|i| format!("{}: {}", i.label, i.text)).collect();
        for want in [
            "管理責任者: あじさいネット運営協議会(連絡先: 事務局",
            "共同して利用する項目: 受診歴",
            "共同して利用する者の範囲",
        ] {
            assert!(text.iter().any(|t| t.starts_with(want)), "{want}: {text:?}");
        }
    }
}
