//! One item of the report and its status: what `assess` and `disclosure` both make.

use hcpki_html::Lang;
use serde::Serialize;

/// How an item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// hcpki meets it, as the evidence shows.
    Met,
    /// Not met: the evidence says what is missing.
    NotMet,
    /// The facility's own duty: hcpki gives the evidence, the facility does the rest.
    FacilityDuty,
    /// hcpki cannot tell (nothing recorded yet).
    Unknown,
}

impl Status {
    /// Stable text form (JSON, HTML classes).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::NotMet => "not-met",
            Self::FacilityDuty => "facility-duty",
            Self::Unknown => "unknown",
        }
    }

    /// The words in `lang`.
    pub fn words(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Met, Lang::Ja) => "適合",
            (Self::Met, Lang::En) => "met",
            (Self::NotMet, Lang::Ja) => "未達",
            (Self::NotMet, Lang::En) => "not met",
            (Self::FacilityDuty, Lang::Ja) => "医療機関の対応事項",
            (Self::FacilityDuty, Lang::En) => "facility's duty",
            (Self::Unknown, Lang::Ja) => "不明",
            (Self::Unknown, Lang::En) => "unknown",
        }
    }
}

/// One item of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Stable id (`auth.two-factor`, `disclosure.access-log`, …).
    pub id: &'static str,
    /// What the item asks, in the report's language.
    pub title: String,
    /// Where it comes from (guideline chapter, Q&A, checklist wording, disclosure section).
    pub source: &'static str,
    /// How it stands.
    pub status: Status,
    /// The installation's evidence, one fact per line.
    pub evidence: Vec<String>,
    /// What the facility (or the operating body) must still do.
    pub to_do: String,
}

/// Text in the report's language.
pub(super) fn tr(lang: Lang, ja: &str, en: &str) -> String {
    match lang {
        Lang::Ja => ja.to_owned(),
        Lang::En => en.to_owned(),
    }
}
