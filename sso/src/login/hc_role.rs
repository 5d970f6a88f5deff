//! hcRole from an HPKI certificate: subjectDirectoryAttributes → HCActorData → the free text under the JHPKI
//! role scheme ([`hcpki_pkix::hc_role::texts`], shared with the signature verifier) → [`HcRole`].
//!
//! ```text
//! -- RFC 5280 §4.2.1.8
//! SubjectDirectoryAttributes ::= SEQUENCE SIZE (1..MAX) OF Attribute
//! Attribute ::= SEQUENCE { type 1.0.17090.0.1 (hcRole), values SET OF HCActorData }
//! -- ISO/TS 17090-3
//! HCActorData ::= SET OF HCActor
//! HCActor ::= SEQUENCE {
//!     codedData           [0] EXPLICIT CodedData OPTIONAL,
//!     regionalHCActorData [1] EXPLICIT SEQUENCE OF RegionalData OPTIONAL }
//! CodedData ::= SET {
//!     codingSchemeReference [0] EXPLICIT OBJECT IDENTIFIER,
//!     codeDataValue         [1] EXPLICIT PrintableString OPTIONAL,
//!     codeDataFreeText      [2] EXPLICIT DirectoryString OPTIONAL }
//! ```
//! Japanese HPKI names the role by its **free text** under scheme 1.2.392.100495.1.6.1.1, not by a code
//! (reference §3.3). Only texts confirmed in real certificates or issuer code are built in ([`CONFIRMED_TEXTS`]);
//! the operator may map more in `[login] hc_role_texts` ([`RoleTexts`], decision D39). Matching is exact; any
//! other text gives no role and a warning saying what to add, never a guess (docs/portal.md "hcRole").

use crate::policy::HcRole;
use std::collections::BTreeMap;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectDirectoryAttributes;

/// Certificate free texts known to name a role: "Medical Doctor" is decoded from a MEDIS certificate; the two
/// director texts come from public login code (reference §3.3). Extend only from real certificates or the CP
/// §7.1.2 table.
pub const CONFIRMED_TEXTS: [(&str, HcRole); 3] = [
    ("Medical Doctor", HcRole::MedicalDoctor),
    ("Director of Hospital", HcRole::DirectorOfHospital),
    ("Director of Clinic", HcRole::DirectorOfClinic),
];

/// The configuration setting that maps further texts (named in errors and hints).
pub const SETTING: &str = "[login] hc_role_texts";
/// Longest configured text accepted, in characters: far above any role name, short enough to catch a pasted
/// paragraph.
pub const MAX_TEXT_CHARS: usize = 128;

/// What the certificate says about the holder's role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleClaim {
    /// No hcRole attribute (cards for administrative staff exist).
    Absent,
    /// A mapped text, and which table mapped it.
    Known(HcRole, RoleSource),
    /// hcRole present but its text is in neither table (or several texts): treated as no role.
    Unrecognised(String),
}

impl RoleClaim {
    /// The role the policy may use.
    pub fn role(&self) -> Option<HcRole> {
        match self {
            Self::Known(r, _) => Some(*r),
            Self::Absent | Self::Unrecognised(_) => None,
        }
    }
}

/// Which table mapped a certificate text: auditors must be able to tell hcpki's confirmed texts from the
/// operator's additions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleSource {
    /// [`CONFIRMED_TEXTS`].
    BuiltIn,
    /// The operator's `[login] hc_role_texts`.
    Configured,
}

/// A `[login] hc_role_texts` entry the server refuses to start with. Each names the entry; fix or remove it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoleTextError {
    /// The role code is not one of hcpki's 32 (docs/portal.md "hcRole codes"): use one of those listed.
    #[error("{SETTING}: entry {text:?} = {code:?}: unknown role code {code:?}; use one of: {known}")]
    UnknownCode {
        /// The certificate text.
        text: String,
        /// The code given.
        code: String,
        /// The valid codes, comma-separated.
        known: String,
    },
    /// An empty text could never match a certificate: remove the entry.
    #[error("{SETTING}: entry \"\" = {code:?}: the certificate text is empty")]
    EmptyText {
        /// The code given.
        code: String,
    },
    /// The text is longer than [`MAX_TEXT_CHARS`]: copy only the role text from the certificate.
    #[error("{SETTING}: entry {text:?}: the text has {chars} characters, at most {MAX_TEXT_CHARS} are accepted")]
    TooLong {
        /// The certificate text.
        text: String,
        /// Its length in characters.
        chars: usize,
    },
    /// The text holds control characters (a broken copy): copy the text exactly as the certificate has it.
    #[error("{SETTING}: entry {text:?}: the text contains control characters")]
    ControlCharacter {
        /// The certificate text.
        text: String,
    },
    /// The text is built in with another role: hcpki's confirmed mapping wins; remove the entry.
    #[error(
        "{SETTING}: entry {text:?} = {code:?} conflicts with the built-in confirmed mapping to {built_in:?}; \
         remove the entry"
    )]
    ConflictsWithBuiltIn {
        /// The certificate text.
        text: String,
        /// The code given.
        code: String,
        /// The built-in role's code.
        built_in: String,
    },
}

/// The certificate texts that name a role: [`CONFIRMED_TEXTS`], always, plus the operator's validated entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleTexts {
    configured: BTreeMap<String, HcRole>,
}

impl RoleTexts {
    /// The built-in texts and `configured` (certificate text → hcpki role code), each entry checked. An entry
    /// repeating a built-in text with the same role is accepted (it is what a later release may build in) and
    /// changes nothing. Duplicate keys cannot reach here: the TOML parser refuses them.
    pub fn new(configured: &BTreeMap<String, String>) -> Result<Self, RoleTextError> {
        let mut texts = BTreeMap::new();
        for (text, code) in configured {
            let role = Self::check(text, code)?;
            if built_in(text).is_none() {
                texts.insert(text.clone(), role);
            }
        }
        Ok(Self { configured: texts })
    }

    /// The role `text` names (exact match, built-in table first), and which table said so.
    pub fn lookup(&self, text: &str) -> Option<(HcRole, RoleSource)> {
        built_in(text)
            .map(|role| (role, RoleSource::BuiltIn))
            .or_else(|| self.configured.get(text).map(|role| (*role, RoleSource::Configured)))
    }

    fn check(text: &str, code: &str) -> Result<HcRole, RoleTextError> {
        let chars = text.chars().count();
        if chars == 0 {
            return Err(RoleTextError::EmptyText { code: code.to_owned() });
        }
        if chars > MAX_TEXT_CHARS {
            return Err(RoleTextError::TooLong { text: text.to_owned(), chars });
        }
        if text.chars().any(char::is_control) {
            return Err(RoleTextError::ControlCharacter { text: text.to_owned() });
        }
        let role = HcRole::from_code(code).ok_or_else(|| RoleTextError::UnknownCode {
            text: text.to_owned(),
            code: code.to_owned(),
            known: HcRole::ALL.map(HcRole::code).join(", "),
        })?;
        match built_in(text) {
            Some(other) if other != role => Err(RoleTextError::ConflictsWithBuiltIn {
                text: text.to_owned(),
                code: code.to_owned(),
                built_in: other.code().to_owned(),
            }),
            _ => Ok(role),
        }
    }
}

/// The built-in role of `text`, if any.
fn built_in(text: &str) -> Option<HcRole> {
    CONFIRMED_TEXTS.iter().find(|(t, _)| *t == text).map(|(_, role)| *role)
}

/// What the operator adds to map an unrecognised `text`, for the log line and the audit entry. When the text
/// equals one of hcpki's own English labels that code is suggested, still only as something to confirm.
pub fn unrecognised_hint(text: &str) -> String {
    let key = toml::Value::String(text.to_owned()).to_string();
    let code = HcRole::ALL.into_iter().find(|r| r.label_en() == text).map_or("<role code>", HcRole::code);
    format!(
        "if the HPKI CP §7.1.2 table or real certificates confirm this text names a role, add {key} = \"{code}\" \
         to {SETTING} in hcpki.toml"
    )
}

/// The role claimed by `cert`, its text looked up in `texts`. A malformed hcRole attribute is an error (the
/// certificate is not what its CA should issue); texts that are merely unknown are not.
pub fn decode(cert: &Certificate, texts: &RoleTexts) -> Result<RoleClaim, der::Error> {
    match cert.tbs_certificate().get_extension::<SubjectDirectoryAttributes>()? {
        Some((_, attributes)) => from_attributes(&attributes, texts),
        None => Ok(RoleClaim::Absent),
    }
}

/// The role claimed by a subjectDirectoryAttributes value (what [`decode`] reads from the certificate's
/// extension; public for the `hc_role` fuzz target).
pub fn from_attributes(attributes: &SubjectDirectoryAttributes, table: &RoleTexts) -> Result<RoleClaim, der::Error> {
    let texts = hcpki_pkix::hc_role::texts(attributes)?;
    Ok(match texts.as_slice() {
        [] => RoleClaim::Absent,
        [text] => match table.lookup(text) {
            Some((role, source)) => RoleClaim::Known(role, source),
            None => {
                tracing::warn!(
                    text = %text,
                    hint = %unrecognised_hint(text),
                    "hcRole text is neither a confirmed JHPKI role string nor configured; treated as no role"
                );
                RoleClaim::Unrecognised(text.clone())
            }
        },
        several => {
            // The CP allows one hcRole per certificate; several means we do not understand this profile.
            tracing::warn!(texts = ?several, "several hcRole texts in one certificate; treated as no role");
            RoleClaim::Unrecognised(several.join(" | "))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;
    use hcpki_vcard::testpki::{HpkiSubject, HpkiTestCas};

    fn cert(der: &[u8]) -> Certificate {
        Certificate::from_der(der).unwrap()
    }

    fn issued(role: Option<&str>) -> Certificate {
        let subject = HpkiSubject { role: role.map(str::to_owned), ..HpkiSubject::default() };
        cert(&HpkiTestCas::new().unwrap().issue(&subject).unwrap().authentication.cert)
    }

    fn configured(entries: &[(&str, &str)]) -> Result<RoleTexts, RoleTextError> {
        RoleTexts::new(&entries.iter().map(|(t, c)| ((*t).to_owned(), (*c).to_owned())).collect())
    }

    #[test]
    fn confirmed_texts_map_to_roles() {
        let texts = RoleTexts::default();
        assert_eq!(
            decode(&issued(Some("Medical Doctor")), &texts).unwrap(),
            RoleClaim::Known(HcRole::MedicalDoctor, RoleSource::BuiltIn)
        );
        assert_eq!(
            decode(&issued(Some("Director of Clinic")), &texts).unwrap(),
            RoleClaim::Known(HcRole::DirectorOfClinic, RoleSource::BuiltIn)
        );
    }

    #[test]
    fn no_attribute_is_absent_and_unknown_text_is_not_guessed() {
        let texts = configured(&[("Dentist", "dentist")]).unwrap();
        assert_eq!(decode(&issued(None), &texts).unwrap(), RoleClaim::Absent);
        // "Nurse" is our label for 看護師 but neither a confirmed certificate string nor configured.
        let claim = decode(&issued(Some("Nurse")), &texts).unwrap();
        assert_eq!(claim, RoleClaim::Unrecognised("Nurse".into()));
        assert_eq!(claim.role(), None);
    }

    #[test]
    fn configured_texts_map_exactly_and_say_so() {
        let texts = configured(&[("Dentist", "dentist"), ("薬剤師", "pharmacist")]).unwrap();
        assert_eq!(
            decode(&issued(Some("Dentist")), &texts).unwrap(),
            RoleClaim::Known(HcRole::Dentist, RoleSource::Configured)
        );
        assert_eq!(texts.lookup("薬剤師"), Some((HcRole::Pharmacist, RoleSource::Configured)));
        // Exact: no case folding, no trimming.
        for near in ["dentist", "Dentist ", " Dentist", "DENTIST"] {
            assert_eq!(decode(&issued(Some(near)), &texts).unwrap(), RoleClaim::Unrecognised(near.into()), "{near:?}");
        }
        // The built-in texts still apply, from the built-in table.
        assert_eq!(texts.lookup("Medical Doctor"), Some((HcRole::MedicalDoctor, RoleSource::BuiltIn)));
        // Repeating a built-in text with its own role changes nothing (a later release may build it in).
        let repeated = configured(&[("Medical Doctor", "medical-doctor")]).unwrap();
        assert_eq!(repeated, RoleTexts::default());
    }

    #[test]
    fn bad_entries_are_refused_naming_the_entry() {
        let table: [(&[(&str, &str)], RoleTextError); 4] = [
            (
                &[("Dentist", "dentistry")],
                RoleTextError::UnknownCode {
                    text: "Dentist".into(),
                    code: "dentistry".into(),
                    known: HcRole::ALL.map(HcRole::code).join(", "),
                },
            ),
            (&[("", "dentist")], RoleTextError::EmptyText { code: "dentist".into() }),
            (&[("Den\ttist", "dentist")], RoleTextError::ControlCharacter { text: "Den\ttist".into() }),
            (
                &[("Medical Doctor", "dentist")],
                RoleTextError::ConflictsWithBuiltIn {
                    text: "Medical Doctor".into(),
                    code: "dentist".into(),
                    built_in: "medical-doctor".into(),
                },
            ),
        ];
        for (entries, expected) in table {
            assert_eq!(configured(entries).unwrap_err(), expected);
        }
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            configured(&[(&long, "dentist")]).unwrap_err(),
            RoleTextError::TooLong { text: long.clone(), chars: MAX_TEXT_CHARS + 1 }
        );
        assert!(configured(&[(&"薬".repeat(MAX_TEXT_CHARS), "pharmacist")]).is_ok(), "characters, not bytes");
        let message = configured(&[("Medical Doctor", "dentist")]).unwrap_err().to_string();
        assert!(message.contains("[login] hc_role_texts") && message.contains("\"Medical Doctor\""), "{message}");
    }

    #[test]
    fn the_hint_says_what_to_add() {
        assert_eq!(
            unrecognised_hint("Dentist"),
            "if the HPKI CP §7.1.2 table or real certificates confirm this text names a role, add \"Dentist\" = \
             \"dentist\" to [login] hc_role_texts in hcpki.toml"
        );
        assert!(unrecognised_hint("歯科医師").contains("add \"歯科医師\" = \"<role code>\" to [login] hc_role_texts"));
    }

    #[test]
    fn the_medis_bytes_decode() {
        // The test PKI's encoder is checked byte for byte against the MEDIS certificate's attribute (reference
        // §3.3) in its own tests; decoding its output is decoding the real structure.
        let medis = hcpki_vcard::testpki::hc_role_attributes("Medical Doctor");
        let attributes = SubjectDirectoryAttributes::from_der(&medis).unwrap();
        assert_eq!(
            from_attributes(&attributes, &RoleTexts::default()).unwrap(),
            RoleClaim::Known(HcRole::MedicalDoctor, RoleSource::BuiltIn)
        );
    }
}
