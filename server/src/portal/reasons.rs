//! Why a service does not open here, in plain words: each [`DenyReason`] of the policy's listing as what the
//! person meets ("施設の PC からの利用が必要です") and what would allow it ("カードでログインすると利用できます"),
//! in Japanese or English. HTTP-free, so the words of every reason are unit-tested; the home page shows them.

use hcpki_html::Lang;
use hcpki_sso::policy::{AssuranceLevel, DenyReason, HcRole};

/// A refused service's reason as the home page says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explained {
    /// What stands in the way.
    pub why: String,
    /// What would allow it.
    pub remedy: String,
}

/// The words of `reason` in `lang`.
pub fn explain(reason: &DenyReason, lang: Lang) -> Explained {
    let ja = lang == Lang::Ja;
    let pick = |j: &str, e: &str| if ja { j.to_owned() } else { e.to_owned() };
    let (why, remedy) = match reason {
        DenyReason::FacilityNotActive { .. } => (
            pick("この施設の利用は現在停止されています。", "Your facility's use of the portal is suspended."),
            pick("施設の管理者に連絡してください。", "Contact your facility's administrator."),
        ),
        DenyReason::FacilityDenied(_) => (
            pick("このサービスはこの施設からは利用できません。", "This service is closed to your facility."),
            pick("サービスの管理者に問い合わせてください。", "Ask the service's administrator."),
        ),
        DenyReason::NoFacility => (
            pick("施設の PC からの利用が必要です。", "This service must be used from a facility PC."),
            pick(
                "施設証明書のある PC からログインすると利用できます。",
                "It opens when you sign in from a PC with a facility certificate.",
            ),
        ),
        DenyReason::FacilityNotAdmitted { .. } => (
            pick("この種類の施設からは利用できません。", "This service is not open to facilities of your kind."),
            pick("サービスの管理者に問い合わせてください。", "Ask the service's administrator."),
        ),
        DenyReason::JpkiNotAccepted => (
            pick("マイナンバーカードでのログインでは利用できません。", "A My Number card login does not open it."),
            pick("HPKI カードでログインすると利用できます。", "It opens when you sign in with your HPKI card."),
        ),
        DenyReason::NoQualification { .. } => (
            pick("医療資格の確認が必要です。", "It needs your healthcare qualification."),
            pick(
                "資格の記録された HPKI カードでログインすると利用できます。",
                "It opens when you sign in with an HPKI card that records your qualification.",
            ),
        ),
        DenyReason::RoleNotAllowed(role) => (
            if ja {
                format!("{}の資格では利用できません。", role.label_ja())
            } else {
                format!("It is not open to your qualification ({}).", role.label_en())
            },
            pick("対象の資格をお持ちの方のみ利用できます。", "Only the qualifications it serves can open it."),
        ),
        DenyReason::AssuranceTooLow { need, .. } => (
            pick("今回のログイン方法では利用できません。", "Your way of signing in is not strong enough for it."),
            match need {
                AssuranceLevel::CardPinFacility => pick(
                    "施設の PC からカードでログインすると利用できます。",
                    "It opens when you sign in with your card on a facility PC.",
                ),
                _ => pick("カードでログインすると利用できます。", "It opens when you sign in with your card."),
            },
        ),
    };
    Explained { why, remedy }
}

/// How the person signed in, in words (the home page's "ログイン方法"), not the `acr` code.
pub fn assurance(level: AssuranceLevel, lang: Lang) -> &'static str {
    use super::words::M;
    match level {
        AssuranceLevel::PasswordTotp => M::AssurancePassword,
        AssuranceLevel::Passkey => M::AssurancePasskey,
        AssuranceLevel::CardPin => M::AssuranceCard,
        AssuranceLevel::CardPinFacility => M::AssuranceCardFacility,
    }
    .text(lang)
}

/// The qualification's name in `lang` (医師, Medical doctor).
pub fn qualification(role: HcRole, lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => role.label_ja(),
        Lang::En => role.label_en(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcpki_ca::FacilityId;
    use hcpki_ca::facility::{FacilityKind, FacilityState};

    fn both(reason: &DenyReason) -> (Explained, Explained) {
        (explain(reason, Lang::Ja), explain(reason, Lang::En))
    }

    #[test]
    fn a_weaker_login_says_which_login_would_open_the_service() {
        let card = DenyReason::AssuranceTooLow { have: AssuranceLevel::PasswordTotp, need: AssuranceLevel::CardPin };
        let (ja, en) = both(&card);
        assert_eq!(ja.remedy, "カードでログインすると利用できます。");
        assert_eq!(en.remedy, "It opens when you sign in with your card.");
        let at = DenyReason::AssuranceTooLow { have: AssuranceLevel::CardPin, need: AssuranceLevel::CardPinFacility };
        assert_eq!(explain(&at, Lang::Ja).remedy, "施設の PC からカードでログインすると利用できます。");
        assert_eq!(explain(&DenyReason::NoFacility, Lang::Ja).why, "施設の PC からの利用が必要です。");
        assert_eq!(explain(&DenyReason::JpkiNotAccepted, Lang::Ja).remedy, "HPKI カードでログインすると利用できます。");
    }

    #[test]
    fn every_reason_has_words_in_both_languages_and_no_codes() {
        let f = FacilityId::from_number(17).unwrap();
        let reasons = [
            DenyReason::FacilityNotActive { facility: f.clone(), state: FacilityState::Suspended },
            DenyReason::FacilityDenied(f.clone()),
            DenyReason::NoFacility,
            DenyReason::FacilityNotAdmitted { facility: f, kind: FacilityKind::Pharmacy },
            DenyReason::JpkiNotAccepted,
            DenyReason::NoQualification { credential: "JPKI card" },
            DenyReason::RoleNotAllowed(HcRole::Pharmacist),
            DenyReason::AssuranceTooLow { have: AssuranceLevel::CardPin, need: AssuranceLevel::CardPinFacility },
        ];
        for r in &reasons {
            let (ja, en) = both(r);
            for text in [&ja.why, &ja.remedy, &en.why, &en.remedy] {
                assert!(!text.is_empty() && !text.contains("hcRole") && !text.contains("card-pin"), "{r:?}: {text}");
            }
            assert!(!ja.why.is_ascii() && en.why.is_ascii(), "{r:?}: {ja:?} {en:?}");
        }
        assert_eq!(
            explain(&DenyReason::RoleNotAllowed(HcRole::Pharmacist), Lang::Ja).why,
            "薬剤師の資格では利用できません。"
        );
    }

    #[test]
    fn assurance_and_qualification_are_words_not_codes() {
        assert_eq!(assurance(AssuranceLevel::CardPinFacility, Lang::Ja), "カードと PIN(施設の PC)");
        assert_eq!(assurance(AssuranceLevel::PasswordTotp, Lang::En), "password and one-time code (no card)");
        assert_eq!(qualification(HcRole::MedicalDoctor, Lang::Ja), "医師");
        assert_eq!(qualification(HcRole::Pharmacist, Lang::Ja), "薬剤師");
        assert_eq!(qualification(HcRole::MedicalDoctor, Lang::En), "Medical Doctor");
    }
}
