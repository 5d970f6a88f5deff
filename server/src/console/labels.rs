//! The words the console shows for the values it stores (issue #45 item 1): facility kinds and states,
//! certificate and credential statuses, certificate profiles. One place maps each value to its message, so every
//! page says `診療所` and `利用中` where the store says `clinic` and `active`; the badges keep the stable value as
//! their class, so the stylesheet's colours and the tests' selectors do not depend on the language.

use super::i18n::{Lang, M};
use hcpki_ca::facility::{Facility, FacilityKind, FacilityState};
use hcpki_ca::profile::{CertProfile, ProfileKind};
use hcpki_ca::store::CertStatus;
use maud::{Markup, html};

/// A facility kind's message.
pub fn kind(k: FacilityKind) -> M {
    match k {
        FacilityKind::Hospital => M::KindHospital,
        FacilityKind::Clinic => M::KindClinic,
        FacilityKind::Dental => M::KindDental,
        FacilityKind::Pharmacy => M::KindPharmacy,
        FacilityKind::Care => M::KindCare,
        FacilityKind::ServiceProvider => M::KindServiceProvider,
    }
}

/// A facility state's message.
pub fn state(s: FacilityState) -> M {
    match s {
        FacilityState::Applied => M::StateApplied,
        FacilityState::Approved => M::StateApproved,
        FacilityState::Active => M::StateActive,
        FacilityState::Suspended => M::StateSuspended,
        FacilityState::Retired => M::StateRetired,
        FacilityState::Rejected => M::StateRejected,
    }
}

/// A certificate status's message.
pub fn cert_status(s: CertStatus) -> M {
    match s {
        CertStatus::Reserved => M::CertReserved,
        CertStatus::Issued => M::CertIssued,
        CertStatus::Failed => M::CertFailed,
        CertStatus::Revoked => M::CertRevoked,
    }
}

/// An enrollment credential's status ([`hcpki_ca::enroll::CredentialRecord::status`]'s word) in `lang`; an
/// unknown word is shown as it is.
pub fn credential_status(word: &str, lang: Lang) -> &str {
    match word {
        "active" => M::CredActive.text(lang),
        "used" => M::CredUsed.text(lang),
        "revoked" => M::CredRevoked.text(lang),
        "expired" => M::CredExpired.text(lang),
        other => other,
    }
}

/// An end-entity profile's message.
pub fn profile_kind(k: ProfileKind) -> M {
    match k {
        ProfileKind::Router => M::ProfileRouter,
        ProfileKind::Pc => M::ProfilePc,
        ProfileKind::Server => M::ProfileServer,
        ProfileKind::Ocsp => M::ProfileOcsp,
        ProfileKind::ScepRa => M::ProfileScepRa,
        ProfileKind::Operator => M::ProfileOperator,
        ProfileKind::Tsa => M::ProfileTsa,
    }
}

/// A stored certificate's profile in `lang` (a CA's own certificate by its stored name, `ca-router`).
pub fn profile(p: CertProfile, lang: Lang) -> &'static str {
    match p.end_entity() {
        Some(k) => profile_kind(k).text(lang),
        None => p.as_str(),
    }
}

/// A status badge: the stable value as its class (colours), the words as its text.
pub fn badge(value: &str, words: &str) -> Markup {
    html! { span class={ "badge " (value) } data-value=(value) { (words) } }
}

/// A facility state as a badge.
pub fn state_badge(s: FacilityState, lang: Lang) -> Markup {
    badge(s.as_str(), state(s).text(lang))
}

/// A certificate status as a badge.
pub fn cert_badge(s: CertStatus, lang: Lang) -> Markup {
    badge(s.as_str(), cert_status(s).text(lang))
}

/// Who the facility is, as its page and its confirmations show it: ID, name, kind, code, address, contact.
pub fn identity_facts(f: &Facility, lang: Lang) -> Vec<(M, Markup)> {
    let opt = |v: Option<&str>| html! { (v.unwrap_or("-")) };
    vec![
        (M::Id, html! { (f.id.as_str()) }),
        (M::Name, html! { (f.name) }),
        (M::Kind, html! { (kind(f.kind).text(lang)) }),
        (M::MedicalCode, opt(f.medical_code.as_ref().map(|c| c.as_str()))),
        (M::Address, opt(f.address.as_deref())),
        (M::Contact, opt(f.contact.as_deref())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_japanese_words() {
        for k in FacilityKind::ALL {
            assert!(!kind(k).text(Lang::Ja).is_ascii(), "{k:?}");
        }
        for s in FacilityState::ALL {
            assert!(!state(s).text(Lang::Ja).is_ascii(), "{s:?}");
        }
        assert_eq!(state(FacilityState::Suspended).text(Lang::Ja), "利用停止中");
        assert_eq!(state(FacilityState::Rejected).text(Lang::Ja), "却下");
        for k in ProfileKind::ALL {
            assert!(!profile_kind(k).text(Lang::Ja).is_empty(), "{k:?}");
        }
        assert_eq!(profile(ProfileKind::Router.into(), Lang::Ja), "ルータ");
        assert_eq!(credential_status("used", Lang::En), "used");
        assert_eq!(
            state_badge(FacilityState::Active, Lang::Ja).into_string(),
            "<span class=\"badge active\" data-value=\"active\">利用中</span>"
        );
    }
}
