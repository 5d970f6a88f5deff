//! Vetting evidence before approval (issue #50 item 4, D173): the register of medical institutions, what the
//! approver checked for each facility, which evidence an approval needs, and the pure decision of what is missing.
//!
//! The decision ([`shortfalls`]) is a pure function of the requirements, the evidence, the network's current
//! security rules version and the day: the store calls it inside the approval's transaction, so every path that
//! approves (CLI, admin API, console, bulk import, benchmarks) meets the same rule.

use crate::facility::{FacilityId, MedicalInstitutionCode};
use crate::ra::RaName;
use std::fmt;

/// A calendar day in Japan, `YYYY-MM-DD` (stored as that text, so days compare in order).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct Day(String);

/// Why a text is not a day.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DayError {
    /// Not `YYYY-MM-DD`, or no such day.
    #[error("{0:?} is not a date: write it as YYYY-MM-DD, e.g. 2026-04-01")]
    Format(String),
}

/// Japan's offset from UTC, in seconds: a day changes at midnight JST.
const JST: i64 = 9 * 3600;

impl Day {
    /// Parse `YYYY-MM-DD` (also `YYYY/MM/DD`, as spreadsheets write it), years 2000–2199.
    pub fn parse(text: &str) -> Result<Self, DayError> {
        let t = text.trim();
        let bad = || DayError::Format(t.chars().take(40).collect());
        let parts: Vec<&str> = t.split(['-', '/']).collect();
        let [y, m, d] = parts.as_slice() else { return Err(bad()) };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) {
            return Err(bad());
        }
        if !digits(y) || !digits(m) || !digits(d) {
            return Err(bad());
        }
        let (y, m, d): (i64, i64, i64) =
            (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
        if !(2000..=2199).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return Err(bad());
        }
        Ok(Self(format!("{y:04}-{m:02}-{d:02}")))
    }

    /// The day in Japan at Unix time `secs`.
    pub fn of_unix(secs: i64) -> Self {
        let (y, m, d) = civil_from_days((secs + JST).div_euclid(86_400));
        Self(format!("{y:04}-{m:02}-{d:02}"))
    }

    /// This day `n` days later (earlier when negative).
    pub fn plus_days(&self, n: i64) -> Self {
        let (y, m, d) = self.ymd();
        let (y, m, d) = civil_from_days(days_from_civil(y, m, d) + n);
        Self(format!("{y:04}-{m:02}-{d:02}"))
    }

    /// The same day a year later (29 February → 28 February).
    pub fn plus_year(&self) -> Self {
        let (y, m, d) = self.ymd();
        let d = d.min(days_in_month(y + 1, m));
        Self(format!("{:04}-{m:02}-{d:02}", y + 1))
    }

    /// The text, `YYYY-MM-DD`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn ymd(&self) -> (i64, i64, i64) {
        let n = |r: std::ops::Range<usize>| self.0.get(r).and_then(|s| s.parse().ok()).unwrap_or(1);
        (n(0..4), n(5..7), n(8..10))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Day> for String {
    fn from(d: Day) -> Self {
        d.0
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a count of days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The 47 prefectures by number (JIS X 0401), as the register files and addresses write them.
pub const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// The prefecture's name of number `n` (1–47).
pub fn prefecture_name(n: u8) -> Option<&'static str> {
    PREFECTURES.get(usize::from(n).checked_sub(1)?).copied()
}

/// One medical institution of the register, as imported.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RegisterEntry {
    /// 医療機関コード (10 digits, checked).
    pub code: MedicalInstitutionCode,
    /// 医療機関名称.
    pub name: String,
    /// 都道府県番号 (1–47), the code's own.
    pub prefecture: u8,
    /// 所在地.
    pub address: String,
    /// 郵便番号.
    pub postal_code: Option<String>,
    /// 電話番号.
    pub phone: Option<String>,
    /// 開設者.
    pub founder: Option<String>,
    /// 管理者.
    pub manager: Option<String>,
    /// 指定年月日 (保険医療機関の指定).
    pub designated_on: Option<Day>,
    /// 病床数, as the list writes it.
    pub beds: Option<String>,
}

/// One import of the register: who, when, which file, and what changed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RegisterImport {
    /// When (Unix seconds).
    pub imported_at: i64,
    /// Who.
    pub imported_by: String,
    /// The file's name as given (shown, never opened again).
    pub source: String,
    /// The file's SHA-256 (hex).
    pub sha256: String,
    /// Rows now in the register.
    pub rows: i64,
    /// Codes new in this import.
    pub added: i64,
    /// Codes the import removed (not in the new file).
    pub removed: i64,
    /// Codes kept whose name, prefecture or address changed.
    pub changed: i64,
}

/// What the approver found when checking the facility's 医療機関コード against the register.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CodeCheck {
    /// The code checked (the facility's at the time).
    pub code: String,
    /// The register's name for it; `None` when the code is not in the register.
    pub register_name: Option<String>,
    /// The facility's name is the register's (ignoring spaces).
    pub name_matches: bool,
    /// The facility's address starts with the register's prefecture.
    pub prefecture_matches: bool,
    /// What the approver saw in the documents when something differs (a hospital known under its corporation's
    /// name, a move across a prefecture line).
    pub note: Option<String>,
    /// Who checked.
    pub checked_by: String,
    /// When (Unix seconds).
    pub checked_at: i64,
}

impl CodeCheck {
    /// Whether it is evidence enough: found, and matching or explained.
    pub fn holds(&self) -> bool {
        self.register_name.is_some() && ((self.name_matches && self.prefecture_matches) || self.note.is_some())
    }
}

/// How the acceptance of the security rules reached the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RulesBasis {
    /// The facility's admin accepted, signed in (console or admin API): the record is the acceptance.
    Online,
    /// An operator or an RA's staff recorded a signed paper (or PDF) the facility sent.
    Paper,
}

impl RulesBasis {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Paper => "paper",
        }
    }

    /// From the stored text.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "online" => Some(Self::Online),
            "paper" => Some(Self::Paper),
            _ => None,
        }
    }
}

/// The facility's acceptance of the network's security rules.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RulesAcceptance {
    /// The rules' version accepted.
    pub version: String,
    /// The day it was accepted (signed).
    pub accepted_on: Day,
    /// Who accepted for the facility (a name, as signed).
    pub accepted_by: String,
    /// Online by the facility's admin, or a paper recorded by staff.
    pub basis: RulesBasis,
    /// Who recorded it.
    pub recorded_by: String,
    /// When (Unix seconds).
    pub recorded_at: i64,
}

/// The facility's last vulnerability assessment (脆弱性診断) and the next one due.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Assessment {
    /// The day of the last assessment.
    pub last: Day,
    /// The day the next one is due.
    pub next_due: Day,
    /// Who assessed (a company or a department), if given.
    pub assessor: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When (Unix seconds).
    pub recorded_at: i64,
}

/// Everything recorded for one facility; each part `None` until recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FacilityVetting {
    /// The 医療機関コード's check against the register.
    pub code: Option<CodeCheck>,
    /// The security rules' acceptance.
    pub rules: Option<RulesAcceptance>,
    /// The vulnerability assessment.
    pub assessment: Option<Assessment>,
}

/// One piece of evidence to write (the others stay as they are).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VettingRecord {
    /// A check of the code.
    Code(CodeCheck),
    /// An acceptance of the rules.
    Rules(RulesAcceptance),
    /// An assessment.
    Assessment(Assessment),
}

impl VettingRecord {
    /// The audit action of writing it.
    pub fn action(&self) -> &'static str {
        match self {
            Self::Code(_) => "facility.vetting.code",
            Self::Rules(_) => "facility.vetting.rules",
            Self::Assessment(_) => "facility.vetting.assessment",
        }
    }
}

/// Whose requirements: an RA's, or the central default (central operators, the CLI, and RAs without their own).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(into = "String")]
pub enum RequirementScope {
    /// The central default.
    Central,
    /// A registration authority's own.
    Ra(RaName),
}

impl RequirementScope {
    /// As stored: `''` for the central default, else the RA's name.
    pub fn as_stored(&self) -> &str {
        match self {
            Self::Central => "",
            Self::Ra(r) => r.as_str(),
        }
    }

    /// The scope whose requirements an approval by `actor` meets first: its RA's (`ra:<name>:…`), else central.
    pub fn of_actor(actor: &str) -> Self {
        actor
            .strip_prefix("ra:")
            .and_then(|rest| rest.split(':').next())
            .and_then(|name| RaName::parse(name).ok())
            .map_or(Self::Central, Self::Ra)
    }
}

impl fmt::Display for RequirementScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Central => f.write_str("central"),
            Self::Ra(r) => write!(f, "ra {r}"),
        }
    }
}

impl From<RequirementScope> for String {
    fn from(s: RequirementScope) -> Self {
        match s {
            RequirementScope::Central => "central".into(),
            RequirementScope::Ra(r) => r.as_str().to_owned(),
        }
    }
}

/// Which evidence an approval needs. Nothing by default: an installation that has not set requirements approves
/// as before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Requirements {
    /// The 医療機関コード checked against the register, found and matching (or the difference explained).
    pub code_check: bool,
    /// The security rules accepted, at the current version when one is set.
    pub security_rules: bool,
    /// A vulnerability assessment recorded whose next one is not overdue.
    pub assessment: bool,
}

impl Requirements {
    /// Parse a list such as `code,rules,assessment` (or `none`).
    pub fn parse(text: &str) -> Result<Self, VettingError> {
        let mut r = Self::default();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "code" => r.code_check = true,
                "rules" => r.security_rules = true,
                "assessment" => r.assessment = true,
                "none" => {}
                other => return Err(VettingError::UnknownRequirement(other.chars().take(40).collect())),
            }
        }
        Ok(r)
    }

    /// As the list [`Requirements::parse`] reads: `code,rules,assessment`, or `none`.
    pub fn list(&self) -> String {
        let words: Vec<&str> =
            [(self.code_check, "code"), (self.security_rules, "rules"), (self.assessment, "assessment")]
                .into_iter()
                .filter_map(|(on, w)| on.then_some(w))
                .collect();
        if words.is_empty() { "none".into() } else { words.join(",") }
    }
}

/// A scope's requirements as set.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ScopedRequirements {
    /// Whose.
    pub scope: RequirementScope,
    /// What.
    pub requirements: Requirements,
    /// Who set them.
    pub set_by: String,
    /// When (Unix seconds).
    pub set_at: i64,
}

/// What an approval lacks, each saying how to record it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "missing", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Shortfall {
    /// No check of the code against the register.
    #[error(
        "the 医療機関コード was not checked against the register (hcpki facility vetting check-code {facility}, or \
         the facility's vetting page in the console)"
    )]
    CodeNotChecked {
        /// The facility.
        facility: FacilityId,
    },
    /// The facility has no code to check.
    #[error(
        "the facility has no 医療機関コード to check against the register: an institution without one is approved \
         by an RA or operator whose requirements do not include the code check"
    )]
    NoCode,
    /// The check found the code absent from the register, or different and unexplained.
    #[error(
        "the 医療機関コード check found {found}: check the documents, import the current register if it is old \
         (hcpki register import), and check again with --note saying what the documents show"
    )]
    CodeCheckFailed {
        /// What the check found.
        found: String,
    },
    /// The code changed since it was checked.
    #[error("the 医療機関コード changed since it was checked ({checked}): check it again")]
    CodeChanged {
        /// The code checked then.
        checked: String,
    },
    /// No acceptance of the security rules.
    #[error(
        "no acceptance of the network's security rules is recorded (the facility's admin accepts them on the \
         facility's vetting page, or staff record a signed paper: hcpki facility vetting accept-rules {facility})"
    )]
    RulesNotAccepted {
        /// The facility.
        facility: FacilityId,
    },
    /// An acceptance of an older version.
    #[error(
        "the security rules accepted are version {accepted}, not the current {current}: have version {current} accepted"
    )]
    RulesOutdated {
        /// The version accepted.
        accepted: String,
        /// The current version.
        current: String,
    },
    /// No vulnerability assessment.
    #[error(
        "no vulnerability assessment (脆弱性診断) is recorded (hcpki facility vetting assessment {facility} --last \
         YYYY-MM-DD)"
    )]
    AssessmentMissing {
        /// The facility.
        facility: FacilityId,
    },
    /// The next assessment is past due.
    #[error("the next vulnerability assessment was due on {due}: record the new assessment first")]
    AssessmentOverdue {
        /// When it was due.
        due: Day,
    },
}

/// What `evidence` lacks for `required`, for `facility` with code `code` (its current one), given the network's
/// current rules version and today's day. Empty: the approval may go ahead.
pub fn shortfalls(
    facility: &FacilityId,
    code: Option<&MedicalInstitutionCode>,
    required: &Requirements,
    evidence: &FacilityVetting,
    current_rules: Option<&str>,
    today: &Day,
) -> Vec<Shortfall> {
    let mut missing = Vec::new();
    if required.code_check {
        match (code, &evidence.code) {
            (None, _) => missing.push(Shortfall::NoCode),
            (Some(_), None) => missing.push(Shortfall::CodeNotChecked { facility: facility.clone() }),
            (Some(now), Some(c)) if c.code != now.as_str() => {
                missing.push(Shortfall::CodeChanged { checked: c.code.clone() })
            }
            (Some(_), Some(c)) if !c.holds() => missing.push(Shortfall::CodeCheckFailed { found: found(c) }),
            _ => {}
        }
    }
    if required.security_rules {
        match (&evidence.rules, current_rules) {
            (None, _) => missing.push(Shortfall::RulesNotAccepted { facility: facility.clone() }),
            (Some(r), Some(current)) if r.version != current => {
                missing.push(Shortfall::RulesOutdated { accepted: r.version.clone(), current: current.to_owned() })
            }
            _ => {}
        }
    }
    if required.assessment {
        match &evidence.assessment {
            None => missing.push(Shortfall::AssessmentMissing { facility: facility.clone() }),
            Some(a) if &a.next_due < today => missing.push(Shortfall::AssessmentOverdue { due: a.next_due.clone() }),
            _ => {}
        }
    }
    missing
}

/// What a check found, in words.
fn found(c: &CodeCheck) -> String {
    match &c.register_name {
        None => format!("{} not in the register", c.code),
        Some(name) => {
            let mut parts = Vec::new();
            if !c.name_matches {
                parts.push(format!("the register's name {name:?} differs"));
            }
            if !c.prefecture_matches {
                parts.push("the register's prefecture differs from the facility's address".to_owned());
            }
            parts.join(" and ")
        }
    }
}

/// Whether a facility's name is the register's: equal once spaces (ASCII and full-width) are taken out.
pub fn same_name(a: &str, b: &str) -> bool {
    let fold = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    fold(a) == fold(b)
}

/// Whether an address lies in prefecture `n`: it starts (after a postal code, if any) with its name.
pub fn address_in_prefecture(address: &str, n: u8) -> bool {
    let Some(name) = prefecture_name(n) else { return false };
    let a = address.trim().trim_start_matches('〒');
    let a = a.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '－' || c.is_whitespace());
    a.starts_with(name)
}

/// Why a facility is on the overdue list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Overdue {
    /// The next vulnerability assessment is past due.
    AssessmentOverdue {
        /// When it was due.
        due: Day,
    },
    /// The next one is due within the window asked for.
    AssessmentDueSoon {
        /// When it is due.
        due: Day,
    },
    /// The rules accepted are older than the current version.
    RulesOutdated {
        /// The version accepted.
        accepted: String,
        /// The current one.
        current: String,
    },
}

impl Overdue {
    /// A short key (audit details, the console's words).
    pub fn key(&self) -> &'static str {
        match self {
            Self::AssessmentOverdue { .. } => "assessment_overdue",
            Self::AssessmentDueSoon { .. } => "assessment_due_soon",
            Self::RulesOutdated { .. } => "rules_outdated",
        }
    }
}

/// A facility on the overdue list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OverdueFacility {
    /// The facility.
    pub facility: FacilityId,
    /// Its name.
    pub name: String,
    /// Why it is listed.
    pub reasons: Vec<Overdue>,
    /// When it was last warned (Unix seconds), if ever.
    pub last_warned_at: Option<i64>,
}

/// A warning sent to a facility about its vetting evidence.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct VettingWarning {
    /// The facility.
    pub facility: FacilityId,
    /// Why (the [`Overdue::key`]s at the time).
    pub reasons: Vec<String>,
    /// The words the facility reads.
    pub message: String,
    /// Who warned.
    pub warned_by: String,
    /// When (Unix seconds).
    pub warned_at: i64,
}

/// Why a piece of vetting input is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VettingError {
    /// A requirement that does not exist.
    #[error("{0:?} is not a requirement: give a comma-separated list of code, rules, assessment (or none)")]
    UnknownRequirement(String),
    /// A text field empty, too long or with control characters.
    #[error("{field} must be 1–{max} characters on one line")]
    Text {
        /// Which field.
        field: &'static str,
        /// Its longest.
        max: usize,
    },
    /// A date the registry does not take.
    #[error(transparent)]
    Day(#[from] DayError),
    /// A 医療機関コード that is not one.
    #[error(transparent)]
    Code(#[from] crate::facility::MedicalCodeError),
    /// The next assessment is not after the last.
    #[error("the next assessment ({next}) must be after the last one ({last})")]
    NextBeforeLast {
        /// The last.
        last: Day,
        /// The next given.
        next: Day,
    },
    /// A day in the future where one in the past is meant.
    #[error("{field} ({day}) is in the future: give the day it happened")]
    Future {
        /// Which field.
        field: &'static str,
        /// The day given.
        day: Day,
    },
}

/// A one-line text of 1–`max` characters, trimmed.
pub fn one_line(field: &'static str, text: &str, max: usize) -> Result<String, VettingError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(VettingError::Text { field, max });
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> FacilityId {
        FacilityId::from_number(1).unwrap()
    }

    #[test]
    fn days() {
        assert_eq!(Day::parse("2026-02-28").unwrap().plus_days(1).as_str(), "2026-03-01");
        assert_eq!(Day::parse("2028/2/29").unwrap().as_str(), "2028-02-29");
        assert_eq!(Day::parse("2028-02-29").unwrap().plus_year().as_str(), "2029-02-28");
        assert!(Day::parse("2027-02-29").is_err());
        assert!(Day::parse("2026-13-01").is_err());
        assert!(Day::parse("26-01-01").is_err());
        assert!(Day::parse("2026-01-01x").is_err());
        // 2026-11-29 15:30 UTC is already the 30th in Japan.
        assert_eq!(Day::of_unix(1_795_966_200).as_str(), "2026-11-30");
        assert_eq!(Day::parse("2026-01-01").unwrap().plus_days(-1).as_str(), "2025-12-31");
    }

    #[test]
    fn requirements_parse() {
        let r = Requirements::parse("code, assessment").unwrap();
        assert!(r.code_check && r.assessment && !r.security_rules);
        assert_eq!(r.list(), "code,assessment");
        assert_eq!(Requirements::parse("none").unwrap().list(), "none");
        assert!(Requirements::parse("codes").is_err());
    }

    #[test]
    fn scope_of_actor() {
        assert_eq!(RequirementScope::of_actor("operator:alice"), RequirementScope::Central);
        assert_eq!(
            RequirementScope::of_actor("ra:tokyo:operator:bob"),
            RequirementScope::Ra(RaName::parse("tokyo").unwrap())
        );
    }

    #[test]
    fn prefectures() {
        assert!(address_in_prefecture("〒100-0001 東京都千代田区", 13));
        assert!(address_in_prefecture("東京都千代田区", 13));
        assert!(!address_in_prefecture("神奈川県横浜市", 13));
        assert!(same_name("医療法人 さくら病院", "医療法人　さくら病院"));
    }

    #[test]
    fn what_is_missing() {
        let code = MedicalInstitutionCode::parse("1311234569").ok();
        let today = Day::parse("2026-11-29").unwrap();
        let all = Requirements { code_check: true, security_rules: true, assessment: true };
        let none = FacilityVetting::default();
        assert_eq!(shortfalls(&id(), code.as_ref(), &Requirements::default(), &none, None, &today), vec![]);
        assert_eq!(shortfalls(&id(), code.as_ref(), &all, &none, None, &today).len(), 3);
        let good = FacilityVetting {
            code: code.as_ref().map(|c| CodeCheck {
                code: c.as_str().into(),
                register_name: Some("さくら病院".into()),
                name_matches: true,
                prefecture_matches: true,
                note: None,
                checked_by: "operator:a".into(),
                checked_at: 1,
            }),
            rules: Some(RulesAcceptance {
                version: "2".into(),
                accepted_on: today.clone(),
                accepted_by: "山田".into(),
                basis: RulesBasis::Paper,
                recorded_by: "operator:a".into(),
                recorded_at: 1,
            }),
            assessment: Some(Assessment {
                last: today.plus_days(-300),
                next_due: today.clone(),
                assessor: None,
                recorded_by: "operator:a".into(),
                recorded_at: 1,
            }),
        };
        assert_eq!(shortfalls(&id(), code.as_ref(), &all, &good, Some("2"), &today), vec![]);
        let later = today.plus_days(1);
        let missing = shortfalls(&id(), code.as_ref(), &all, &good, Some("3"), &later);
        assert_eq!(
            missing,
            vec![
                Shortfall::RulesOutdated { accepted: "2".into(), current: "3".into() },
                Shortfall::AssessmentOverdue { due: today.clone() }
            ]
        );
        let mut differs = good.clone();
        if let Some(c) = differs.code.as_mut() {
            c.name_matches = false;
        }
        assert!(matches!(
            shortfalls(&id(), code.as_ref(), &all, &differs, None, &today).as_slice(),
            [Shortfall::CodeCheckFailed { .. }]
        ));
        if let Some(c) = differs.code.as_mut() {
            c.note = Some("法人名で登録".into());
        }
        assert!(shortfalls(&id(), code.as_ref(), &all, &differs, None, &today).is_empty());
    }
}
