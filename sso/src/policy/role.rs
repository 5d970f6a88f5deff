//! HPKI hcRole: the healthcare qualification an HPKI certificate asserts (ISO/TS 17090).
//!
//! ```text
//! -- ISO/TS 17090-3, carried in SubjectDirectoryAttributes (RFC 5280 §4.2.1.8)
//! HCActorData ::= SET OF HCActor
//! HCActor ::= SEQUENCE {
//!     codedData           [0] CodedData,
//!     regionalHCActorData [1] SEQUENCE OF RegionalData OPTIONAL }
//! CodedData ::= SET {
//!     codingSchemeReference [0] OBJECT IDENTIFIER,   -- 1.2.392.100495.1.6.1.1 (JHPKI role table)
//!     codeDataValue         [1] PrintableString OPTIONAL,
//!     codeDataFreeText      [2] DirectoryString OPTIONAL }
//! ```
//! In Japanese HPKI the role is identified by the **free text** under the JHPKI coding scheme, not by a
//! per-role OID (decoded MEDIS certificate: "Medical Doctor"). This module is the table of the 27 national
//! qualifications and 5 administrator roles with a stable hcpki code (used in the services file and the
//! `hc_role` claim), the Japanese name and the English label.
//!
//! Only "Medical Doctor", "Director of Hospital" and "Director of Clinic" are confirmed certificate strings;
//! the other English labels are ours until checked against the CP §7.1.2 table, so the certificate decoder
//! must not match free text against them yet (see `docs/portal.md`).

use std::fmt;

/// The code system of hcpki's role codes (the table in `docs/portal.md`, "hcRole codes"): a FHIR Coding of an
/// hcRole names it. The JHPKI coding scheme 1.2.392.100495.1.6.1.1 that certificates name identifies roles by
/// free text, not codes, and only three of its texts are confirmed, so a Coding cannot use it (D93).
pub const HC_ROLE_SYSTEM: &str = "urn:hcpki:codesystem:hc-role";

/// One HPKI healthcare role. The declaration order is the display order (the CP's order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum HcRole {
    /// 医師.
    MedicalDoctor,
    /// 歯科医師.
    Dentist,
    /// 薬剤師.
    Pharmacist,
    /// 臨床検査技師.
    MedicalTechnologist,
    /// 診療放射線技師.
    RadiologicalTechnologist,
    /// 看護師.
    Nurse,
    /// 保健師.
    PublicHealthNurse,
    /// 助産師.
    Midwife,
    /// 理学療法士.
    PhysicalTherapist,
    /// 作業療法士.
    OccupationalTherapist,
    /// 視能訓練士.
    Orthoptist,
    /// 言語聴覚士.
    SpeechTherapist,
    /// 歯科技工士.
    DentalTechnician,
    /// 管理栄養士.
    RegisteredDietitian,
    /// 社会福祉士.
    SocialWorker,
    /// 介護福祉士.
    CareWorker,
    /// 救急救命士.
    EmergencyLifeSavingTechnician,
    /// 精神保健福祉士.
    PsychiatricSocialWorker,
    /// 臨床工学技士.
    ClinicalEngineer,
    /// あん摩マッサージ指圧師.
    MassageTherapist,
    /// はり師.
    Acupuncturist,
    /// きゅう師.
    MoxibustionTherapist,
    /// 歯科衛生士.
    DentalHygienist,
    /// 義肢装具士.
    ProsthetistOrthotist,
    /// 柔道整復師.
    JudoTherapist,
    /// 衛生検査技師.
    SanitaryLaboratoryTechnician,
    /// 公認心理師.
    CertifiedPsychologist,
    /// 病院長 (administrator role).
    DirectorOfHospital,
    /// 診療所院長 (administrator role).
    DirectorOfClinic,
    /// 管理薬剤師 (administrator role).
    PharmacyManager,
    /// 薬局開設者 (administrator role).
    PharmacyOwner,
    /// その他の保健医療福祉機関の管理責任者 (administrator role).
    DirectorOfOtherFacility,
}

impl HcRole {
    /// Every role, in display order.
    pub const ALL: [HcRole; 32] = [
        Self::MedicalDoctor,
        Self::Dentist,
        Self::Pharmacist,
        Self::MedicalTechnologist,
        Self::RadiologicalTechnologist,
        Self::Nurse,
        Self::PublicHealthNurse,
        Self::Midwife,
        Self::PhysicalTherapist,
        Self::OccupationalTherapist,
        Self::Orthoptist,
        Self::SpeechTherapist,
        Self::DentalTechnician,
        Self::RegisteredDietitian,
        Self::SocialWorker,
        Self::CareWorker,
        Self::EmergencyLifeSavingTechnician,
        Self::PsychiatricSocialWorker,
        Self::ClinicalEngineer,
        Self::MassageTherapist,
        Self::Acupuncturist,
        Self::MoxibustionTherapist,
        Self::DentalHygienist,
        Self::ProsthetistOrthotist,
        Self::JudoTherapist,
        Self::SanitaryLaboratoryTechnician,
        Self::CertifiedPsychologist,
        Self::DirectorOfHospital,
        Self::DirectorOfClinic,
        Self::PharmacyManager,
        Self::PharmacyOwner,
        Self::DirectorOfOtherFacility,
    ];

    /// Parse the hcpki code used in the services file and claims (e.g. `medical-doctor`).
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The stable hcpki code (kebab-case English), used in configuration and the `hc_role` claim.
    pub fn code(self) -> &'static str {
        self.info().0
    }

    /// The Japanese qualification name (e.g. 医師).
    pub fn label_ja(self) -> &'static str {
        self.info().1
    }

    /// The English label (e.g. `Medical Doctor`).
    pub fn label_en(self) -> &'static str {
        self.info().2
    }

    /// The role as a FHIR Coding's three members (`system`, `code`, `display`): hcpki's code system, the code,
    /// the Japanese name (the display a Japanese service shows).
    pub fn coding(self) -> (&'static str, &'static str, &'static str) {
        (HC_ROLE_SYSTEM, self.code(), self.label_ja())
    }

    /// Whether this is one of the administrator (管理者等) roles rather than a national qualification (the
    /// table test checks the split; services name administrator roles like any other).
    #[cfg(test)]
    pub fn is_administrator(self) -> bool {
        matches!(
            self,
            Self::DirectorOfHospital
                | Self::DirectorOfClinic
                | Self::PharmacyManager
                | Self::PharmacyOwner
                | Self::DirectorOfOtherFacility
        )
    }

    /// (code, Japanese name, English label): the one table of role facts.
    fn info(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::MedicalDoctor => ("medical-doctor", "医師", "Medical Doctor"),
            Self::Dentist => ("dentist", "歯科医師", "Dentist"),
            Self::Pharmacist => ("pharmacist", "薬剤師", "Pharmacist"),
            Self::MedicalTechnologist => ("medical-technologist", "臨床検査技師", "Medical Technologist"),
            Self::RadiologicalTechnologist => {
                ("radiological-technologist", "診療放射線技師", "Radiological Technologist")
            }
            Self::Nurse => ("nurse", "看護師", "Nurse"),
            Self::PublicHealthNurse => ("public-health-nurse", "保健師", "Public Health Nurse"),
            Self::Midwife => ("midwife", "助産師", "Midwife"),
            Self::PhysicalTherapist => ("physical-therapist", "理学療法士", "Physical Therapist"),
            Self::OccupationalTherapist => ("occupational-therapist", "作業療法士", "Occupational Therapist"),
            Self::Orthoptist => ("orthoptist", "視能訓練士", "Orthoptist"),
            Self::SpeechTherapist => ("speech-therapist", "言語聴覚士", "Speech-Language-Hearing Therapist"),
            Self::DentalTechnician => ("dental-technician", "歯科技工士", "Dental Technician"),
            Self::RegisteredDietitian => ("registered-dietitian", "管理栄養士", "Registered Dietitian"),
            Self::SocialWorker => ("social-worker", "社会福祉士", "Certified Social Worker"),
            Self::CareWorker => ("care-worker", "介護福祉士", "Certified Care Worker"),
            Self::EmergencyLifeSavingTechnician => {
                ("emergency-life-saving-technician", "救急救命士", "Emergency Life-Saving Technician")
            }
            Self::PsychiatricSocialWorker => {
                ("psychiatric-social-worker", "精神保健福祉士", "Psychiatric Social Worker")
            }
            Self::ClinicalEngineer => ("clinical-engineer", "臨床工学技士", "Clinical Engineer"),
            Self::MassageTherapist => {
                ("massage-therapist", "あん摩マッサージ指圧師", "Anma Massage Shiatsu Practitioner")
            }
            Self::Acupuncturist => ("acupuncturist", "はり師", "Acupuncturist"),
            Self::MoxibustionTherapist => ("moxibustion-therapist", "きゅう師", "Moxibustion Therapist"),
            Self::DentalHygienist => ("dental-hygienist", "歯科衛生士", "Dental Hygienist"),
            Self::ProsthetistOrthotist => ("prosthetist-orthotist", "義肢装具士", "Prosthetist and Orthotist"),
            Self::JudoTherapist => ("judo-therapist", "柔道整復師", "Judo Therapist"),
            Self::SanitaryLaboratoryTechnician => {
                ("sanitary-laboratory-technician", "衛生検査技師", "Sanitary Laboratory Technician")
            }
            Self::CertifiedPsychologist => ("certified-psychologist", "公認心理師", "Certified Public Psychologist"),
            Self::DirectorOfHospital => ("director-of-hospital", "病院長", "Director of Hospital"),
            Self::DirectorOfClinic => ("director-of-clinic", "診療所院長", "Director of Clinic"),
            Self::PharmacyManager => ("pharmacy-manager", "管理薬剤師", "Pharmacy Manager"),
            Self::PharmacyOwner => ("pharmacy-owner", "薬局開設者", "Pharmacy Owner"),
            Self::DirectorOfOtherFacility => {
                ("director-of-other-facility", "その他の保健医療福祉機関の管理責任者", "Director of Other Facility")
            }
        }
    }
}

impl fmt::Display for HcRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for HcRole {
    /// The claim form: code plus both labels, so a relying service needs no table of its own.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("HcRole", 3)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("label_ja", self.label_ja())?;
        st.serialize_field("label_en", self.label_en())?;
        st.end()
    }
}
