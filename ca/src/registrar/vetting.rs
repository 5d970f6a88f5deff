//! Vetting evidence before approval (issue #50 item 4, D173) through the registrar, for the CLI, the admin API
//! and the console alike: the register's import, each facility's evidence, the requirements, the overdue list and
//! its warnings. The text is checked once here; the store audits each change and checks the evidence inside
//! every approval's transaction; every refusal is audited here.

use crate::error::{FacilityRefusal, RegistryError};
use crate::facility::{FacilityId, MedicalInstitutionCode};
use crate::ra::{Ra, RaName};
use crate::register_file::{self, RegisterFile};
use crate::registrar::Registrar;
use crate::store::{Actor, StoreError};
use crate::vetting::{
    self, Assessment, CodeCheck, Day, FacilityVetting, Overdue, OverdueFacility, RegisterEntry, RegisterImport,
    RequirementScope, Requirements, RulesAcceptance, RulesBasis, ScopedRequirements, VettingError, VettingRecord,
    VettingWarning,
};

/// The most facilities one overdue listing returns.
pub const MAX_OVERDUE: u32 = 5_000;
/// The longest window ahead an overdue listing looks (days).
pub const MAX_WITHIN_DAYS: u32 = 365;

/// A register import: what was kept and what the file carried besides.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Imported {
    /// The import's record (counts, digest).
    #[serde(flatten)]
    pub import: RegisterImport,
    /// Header columns the file carried that the register does not keep.
    pub ignored_columns: Vec<String>,
}

/// The overdue list as of a day.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OverdueList {
    /// Today (Japan).
    pub today: Day,
    /// Assessments due before this day are listed.
    pub due_before: Day,
    /// The network's current security rules version, if set.
    pub rules_version: Option<String>,
    /// The facilities.
    pub facilities: Vec<OverdueFacility>,
}

impl Registrar {
    /// Replace the register of medical institutions with the file `bytes` (named `source` for the record), all or
    /// nothing: a file with any bad row changes nothing and its refusal names every bad row (audited as denied
    /// `register.import`). The import is audited with its counts.
    pub async fn import_register(&self, bytes: &[u8], source: &str, actor: &Actor) -> Result<Imported, RegistryError> {
        let source: String = source.trim().chars().filter(|c| !c.is_control()).take(200).collect();
        let outcome = async {
            let RegisterFile { entries, ignored_columns, sha256 } = register_file::parse(bytes)?;
            let import = self.vetting.replace_register(&entries, &source, &sha256, actor, self.hierarchy.at()).await?;
            Ok(Imported { import, ignored_columns })
        }
        .await;
        if let Err(e) = &outcome {
            self.audit_refused("register.import", "medical-register", actor, e).await;
        }
        outcome
    }

    /// The register's entry for the code `code` (as typed); `None` when the register does not list it.
    pub async fn register_entry(&self, code: &str) -> Result<Option<RegisterEntry>, RegistryError> {
        let code = MedicalInstitutionCode::parse(code).map_err(VettingError::from)?;
        Ok(self.vetting.register_entry(&code).await?)
    }

    /// The newest import of the register, if any.
    pub async fn register_import(&self) -> Result<Option<RegisterImport>, RegistryError> {
        Ok(self.vetting.register_import().await?)
    }

    /// Check `facility`'s 医療機関コード against the register and record what was found (the register's name,
    /// whether the name and the prefecture match), with `note` saying what the documents show when something
    /// differs; audited `facility.vetting.code`. A facility without a code is refused.
    pub async fn check_code(
        &self,
        facility: &str,
        note: Option<&str>,
        actor: &Actor,
    ) -> Result<CodeCheck, RegistryError> {
        let outcome = async {
            let id = FacilityId::parse(facility)?;
            let note =
                note.map(str::trim).filter(|n| !n.is_empty()).map(|n| vetting::one_line("note", n, 500)).transpose()?;
            let f = self.facilities.facility(&id).await?.ok_or_else(|| FacilityRefusal::Unknown(id.clone()))?;
            let code = f.medical_code.clone().ok_or_else(|| RegistryError::NoMedicalCode(id.clone()))?;
            let entry = self.vetting.register_entry(&code).await?;
            let check = CodeCheck {
                code: code.as_str().to_owned(),
                register_name: entry.as_ref().map(|e| e.name.clone()),
                name_matches: entry.as_ref().is_some_and(|e| vetting::same_name(&e.name, &f.name)),
                prefecture_matches: entry.as_ref().is_some_and(|e| {
                    f.address.as_deref().is_some_and(|a| vetting::address_in_prefecture(a, e.prefecture))
                }),
                note,
                checked_by: actor.as_str().to_owned(),
                checked_at: self.hierarchy.at().as_secs(),
            };
            self.record(&id, VettingRecord::Code(check.clone()), actor).await?;
            Ok(check)
        }
        .await;
        if let Err(e) = &outcome {
            self.audit_refused("facility.vetting.code", facility, actor, e).await;
        }
        outcome
    }

    /// Record that `facility` accepted the network's security rules `version` on `accepted_on`, signed by
    /// `accepted_by`: `basis` online (its admin, signed in) or paper (staff recording a signed document); audited
    /// `facility.vetting.rules`.
    pub async fn accept_rules(
        &self,
        facility: &str,
        version: &str,
        accepted_on: &str,
        accepted_by: &str,
        basis: RulesBasis,
        actor: &Actor,
    ) -> Result<RulesAcceptance, RegistryError> {
        let outcome = async {
            let id = FacilityId::parse(facility)?;
            let today = self.today();
            let accepted_on = Day::parse(accepted_on).map_err(VettingError::from)?;
            if accepted_on > today {
                return Err(VettingError::Future { field: "the acceptance's day", day: accepted_on }.into());
            }
            let rules = RulesAcceptance {
                version: vetting::one_line("version", version, 32)?,
                accepted_on,
                accepted_by: vetting::one_line("accepted by", accepted_by, 100)?,
                basis,
                recorded_by: actor.as_str().to_owned(),
                recorded_at: self.hierarchy.at().as_secs(),
            };
            self.record(&id, VettingRecord::Rules(rules.clone()), actor).await?;
            Ok(rules)
        }
        .await;
        if let Err(e) = &outcome {
            self.audit_refused("facility.vetting.rules", facility, actor, e).await;
        }
        outcome
    }

    /// Record `facility`'s last vulnerability assessment (脆弱性診断) on `last` and the next one due (a year later
    /// unless `next_due` says otherwise), by `assessor` if given; audited `facility.vetting.assessment`.
    pub async fn record_assessment(
        &self,
        facility: &str,
        last: &str,
        next_due: Option<&str>,
        assessor: Option<&str>,
        actor: &Actor,
    ) -> Result<Assessment, RegistryError> {
        let outcome = async {
            let id = FacilityId::parse(facility)?;
            let last = Day::parse(last).map_err(VettingError::from)?;
            if last > self.today() {
                return Err(VettingError::Future { field: "the last assessment", day: last }.into());
            }
            let next_due = match next_due.map(str::trim).filter(|n| !n.is_empty()) {
                Some(n) => Day::parse(n).map_err(VettingError::from)?,
                None => last.plus_year(),
            };
            if next_due <= last {
                return Err(VettingError::NextBeforeLast { last, next: next_due }.into());
            }
            let assessor = assessor
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| vetting::one_line("assessor", a, 200))
                .transpose()?;
            let a = Assessment {
                last,
                next_due,
                assessor,
                recorded_by: actor.as_str().to_owned(),
                recorded_at: self.hierarchy.at().as_secs(),
            };
            self.record(&id, VettingRecord::Assessment(a.clone()), actor).await?;
            Ok(a)
        }
        .await;
        if let Err(e) = &outcome {
            self.audit_refused("facility.vetting.assessment", facility, actor, e).await;
        }
        outcome
    }

    /// Everything recorded for `facility`; the facility must exist.
    pub async fn vetting(&self, facility: &FacilityId) -> Result<FacilityVetting, RegistryError> {
        if self.facilities.facility(facility).await?.is_none() {
            return Err(FacilityRefusal::Unknown(facility.clone()).into());
        }
        Ok(self.vetting.vetting(facility).await?)
    }

    /// What an approval of `facility` by `actor` would lack now (the same rule the approval runs).
    pub async fn vetting_shortfalls(
        &self,
        facility: &FacilityId,
        actor: &Actor,
    ) -> Result<(RequirementScope, Requirements, Vec<vetting::Shortfall>), RegistryError> {
        let f = self.facilities.facility(facility).await?.ok_or_else(|| FacilityRefusal::Unknown(facility.clone()))?;
        let all = self.vetting.requirements().await?;
        let own = RequirementScope::of_actor(actor.as_str());
        let (scope, required) = all
            .iter()
            .find(|r| r.scope == own)
            .or_else(|| all.iter().find(|r| r.scope == RequirementScope::Central))
            .map_or((RequirementScope::Central, Requirements::default()), |r| (r.scope.clone(), r.requirements));
        let evidence = self.vetting.vetting(facility).await?;
        let version = self.vetting.rules_version().await?;
        let missing = vetting::shortfalls(
            facility,
            f.medical_code.as_ref(),
            &required,
            &evidence,
            version.as_deref(),
            &self.today(),
        );
        Ok((scope, required, missing))
    }

    /// Set which evidence approvals need: `scope` `central` (the default for central operators and RAs without
    /// their own) or an RA's name; `list` as `code,rules,assessment` or `none`. Audited `vetting.requirements`.
    pub async fn set_vetting_requirements(
        &self,
        scope: &str,
        list: &str,
        actor: &Actor,
    ) -> Result<ScopedRequirements, RegistryError> {
        let outcome = async {
            let scope = match scope.trim() {
                "central" | "" => RequirementScope::Central,
                name => {
                    let name = RaName::parse(name)?;
                    if self.ras.ra(&name).await?.is_none() {
                        return Err(crate::ra::RaError::Unknown(name).into());
                    }
                    RequirementScope::Ra(name)
                }
            };
            let requirements = Requirements::parse(list)?;
            self.vetting.set_requirements(&scope, requirements, actor, self.hierarchy.at()).await?;
            Ok(ScopedRequirements {
                scope,
                requirements,
                set_by: actor.as_str().to_owned(),
                set_at: self.hierarchy.at().as_secs(),
            })
        }
        .await;
        if let Err(e) = &outcome {
            self.audit_refused("vetting.requirements", scope, actor, e).await;
        }
        outcome
    }

    /// Every scope's requirements as set.
    pub async fn vetting_requirements(&self) -> Result<Vec<ScopedRequirements>, RegistryError> {
        Ok(self.vetting.requirements().await?)
    }

    /// Set the network's current security rules version; audited `vetting.rules_version`.
    pub async fn set_rules_version(&self, version: &str, actor: &Actor) -> Result<String, RegistryError> {
        let outcome = async {
            let version = vetting::one_line("version", version, 32)?;
            self.vetting.set_rules_version(&version, actor, self.hierarchy.at()).await?;
            Ok(version)
        }
        .await;
        if let Err(e) = &outcome {
            self.audit_refused("vetting.rules_version", "security-rules", actor, e).await;
        }
        outcome
    }

    /// The network's current security rules version, if set.
    pub async fn rules_version(&self) -> Result<Option<String>, RegistryError> {
        Ok(self.vetting.rules_version().await?)
    }

    /// Facilities whose vulnerability assessment is overdue or due within `within_days` (at most
    /// [`MAX_WITHIN_DAYS`]), or whose accepted security rules are older than the current version; within `ra`'s
    /// scope when given.
    pub async fn overdue(&self, within_days: u32, ra: Option<&Ra>) -> Result<OverdueList, RegistryError> {
        let today = self.today();
        let due_before = today.plus_days(i64::from(within_days.min(MAX_WITHIN_DAYS)) + 1);
        let rules_version = self.vetting.rules_version().await?;
        let facilities = self.vetting.overdue(&today, &due_before, rules_version.as_deref(), ra, MAX_OVERDUE).await?;
        Ok(OverdueList { today, due_before, rules_version, facilities })
    }

    /// Warn `facility` about its overdue evidence (what is overdue or due within `within_days` now), with
    /// `message` or the standard words; recorded for its admins to see and audited `facility.vetting.warn`. A
    /// facility with nothing overdue is refused.
    pub async fn warn_facility(
        &self,
        facility: &str,
        within_days: u32,
        message: Option<&str>,
        actor: &Actor,
    ) -> Result<VettingWarning, RegistryError> {
        let outcome = async {
            let id = FacilityId::parse(facility)?;
            let f = self.facilities.facility(&id).await?.ok_or_else(|| FacilityRefusal::Unknown(id.clone()))?;
            let evidence = self.vetting.vetting(&id).await?;
            let version = self.vetting.rules_version().await?;
            let today = self.today();
            let due_before = today.plus_days(i64::from(within_days.min(MAX_WITHIN_DAYS)) + 1);
            let reasons = overdue_reasons(&evidence, version.as_deref(), &today, &due_before);
            if reasons.is_empty() {
                return Err(RegistryError::NothingOverdue(id.clone()));
            }
            let message = match message.map(str::trim).filter(|m| !m.is_empty()) {
                Some(m) => vetting::one_line("message", m, 1000)?,
                None => standard_words(&reasons),
            };
            let warning = VettingWarning {
                facility: f.id.clone(),
                reasons: reasons.iter().map(|r| r.key().to_owned()).collect(),
                message,
                warned_by: actor.as_str().to_owned(),
                warned_at: self.hierarchy.at().as_secs(),
            };
            match self.vetting.warn_facility(&warning, actor, self.hierarchy.at()).await {
                Err(StoreError::UnknownFacility(id)) => return Err(FacilityRefusal::Unknown(id).into()),
                other => other?,
            }
            Ok(warning)
        }
        .await;
        if let Err(e) = &outcome {
            self.audit_refused("facility.vetting.warn", facility, actor, e).await;
        }
        outcome
    }

    /// `facility`'s warnings, newest first (at most 20).
    pub async fn vetting_warnings(&self, facility: &FacilityId) -> Result<Vec<VettingWarning>, RegistryError> {
        Ok(self.vetting.vetting_warnings(facility, 20).await?)
    }

    async fn record(&self, id: &FacilityId, record: VettingRecord, actor: &Actor) -> Result<(), RegistryError> {
        match self.vetting.record_vetting(id, &record, actor, self.hierarchy.at()).await {
            Err(StoreError::UnknownFacility(id)) => Err(FacilityRefusal::Unknown(id).into()),
            other => Ok(other?),
        }
    }

    fn today(&self) -> Day {
        Day::of_unix(self.hierarchy.at().as_secs())
    }
}

/// What of `evidence` is overdue (or due before `due_before`), as the overdue list says it.
fn overdue_reasons(evidence: &FacilityVetting, current: Option<&str>, today: &Day, due_before: &Day) -> Vec<Overdue> {
    let mut reasons = Vec::new();
    if let Some(a) = &evidence.assessment {
        if &a.next_due < today {
            reasons.push(Overdue::AssessmentOverdue { due: a.next_due.clone() });
        } else if &a.next_due < due_before {
            reasons.push(Overdue::AssessmentDueSoon { due: a.next_due.clone() });
        }
    }
    if let (Some(r), Some(current)) = (&evidence.rules, current)
        && r.version != current
    {
        reasons.push(Overdue::RulesOutdated { accepted: r.version.clone(), current: current.to_owned() });
    }
    reasons
}

/// The standard warning, in Japanese (what the facility's admins read).
fn standard_words(reasons: &[Overdue]) -> String {
    reasons
        .iter()
        .map(|r| match r {
            Overdue::AssessmentOverdue { due } => {
                format!("脆弱性診断の期限({due})を過ぎています。診断を受け、結果の日付を登録局に届け出てください。")
            }
            Overdue::AssessmentDueSoon { due } => {
                format!("次回の脆弱性診断の期限は {due} です。期限までに診断を受けてください。")
            }
            Overdue::RulesOutdated { accepted, current } => format!(
                "同意済みのセキュリティ規程は版 {accepted} です。現行の版 {current} に同意してください(コンソールの施設の審査記録のページ)。"
            ),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
