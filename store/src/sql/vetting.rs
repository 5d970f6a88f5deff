//! SQL and row conversion of vetting evidence (migration 0048, D173).

use crate::StoreError;
use crate::facility::{FacilityId, MedicalInstitutionCode};
use crate::ra::RaName;
use crate::vetting::{
    Assessment, CodeCheck, Day, Overdue, OverdueFacility, RegisterEntry, RegisterImport, RequirementScope,
    Requirements, RulesAcceptance, RulesBasis, ScopedRequirements, VettingWarning,
};

pub(super) const REGISTER_CODES: &str = "SELECT code, name, prefecture, address FROM medical_register";
pub(super) const REGISTER_CLEAR: &str = "DELETE FROM medical_register";
pub(super) const REGISTER_INSERT: &str = "INSERT INTO medical_register (code, name, prefecture, address, postal_code, \
     phone, founder, manager, designated_on, beds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
pub(super) const REGISTER_ONE: &str = "SELECT code, name, prefecture, address, postal_code, phone, founder, manager, \
     designated_on, beds FROM medical_register WHERE code = $1";
pub(super) const IMPORT_INSERT: &str = "INSERT INTO medical_register_imports (seq, imported_at, imported_by, source, \
     sha256, rows_total, added, removed, changed) SELECT COALESCE(MAX(seq), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8 \
     FROM medical_register_imports";
pub(super) const IMPORT_LAST: &str = "SELECT imported_at, imported_by, source, sha256, rows_total, added, removed, \
     changed FROM medical_register_imports ORDER BY seq DESC LIMIT 1";

pub(super) const PUT_CODE: &str = "INSERT INTO facility_vetting (facility_id, code_checked, code_found, \
     code_register_name, code_name_matches, code_prefecture_matches, code_note, code_checked_by, code_checked_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (facility_id) DO UPDATE SET code_checked = $2, \
     code_found = $3, code_register_name = $4, code_name_matches = $5, code_prefecture_matches = $6, code_note = $7, \
     code_checked_by = $8, code_checked_at = $9";
pub(super) const PUT_RULES: &str = "INSERT INTO facility_vetting (facility_id, rules_version, rules_accepted_on, \
     rules_accepted_by, rules_basis, rules_recorded_by, rules_recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (facility_id) DO UPDATE SET rules_version = $2, rules_accepted_on = $3, rules_accepted_by = $4, \
     rules_basis = $5, rules_recorded_by = $6, rules_recorded_at = $7";
pub(super) const PUT_ASSESSMENT: &str = "INSERT INTO facility_vetting (facility_id, assessment_last, \
     assessment_next_due, assessment_by, assessment_recorded_by, assessment_recorded_at) VALUES ($1, $2, $3, $4, $5, \
     $6) ON CONFLICT (facility_id) DO UPDATE SET assessment_last = $2, assessment_next_due = $3, assessment_by = $4, \
     assessment_recorded_by = $5, assessment_recorded_at = $6";
pub(super) const CODE_OF: &str = "SELECT code_checked, code_register_name, code_name_matches, \
     code_prefecture_matches, code_note, code_checked_by, code_checked_at FROM facility_vetting \
     WHERE facility_id = $1 AND code_checked IS NOT NULL";
pub(super) const RULES_OF: &str = "SELECT rules_version, rules_accepted_on, rules_accepted_by, rules_basis, \
     rules_recorded_by, rules_recorded_at FROM facility_vetting WHERE facility_id = $1 AND rules_version IS NOT NULL";
pub(super) const ASSESSMENT_OF: &str = "SELECT assessment_last, assessment_next_due, assessment_by, \
     assessment_recorded_by, assessment_recorded_at FROM facility_vetting WHERE facility_id = $1 \
     AND assessment_last IS NOT NULL";

pub(super) const PUT_REQUIREMENTS: &str = "INSERT INTO vetting_requirements (ra, code_check, security_rules, \
     assessment, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ra) DO UPDATE SET code_check = $2, \
     security_rules = $3, assessment = $4, set_by = $5, set_at = $6";
pub(super) const REQUIREMENTS: &str =
    "SELECT ra, code_check, security_rules, assessment, set_by, set_at FROM vetting_requirements ORDER BY ra";
pub(super) const REQUIREMENTS_OF: &str =
    "SELECT ra, code_check, security_rules, assessment, set_by, set_at FROM vetting_requirements WHERE ra = $1";
pub(super) const RULES_VERSION: &str = "SELECT value FROM vetting_settings WHERE name = 'rules_version'";
pub(super) const PUT_RULES_VERSION: &str = "INSERT INTO vetting_settings (name, value, set_by, set_at) \
     VALUES ('rules_version', $1, $2, $3) ON CONFLICT (name) DO UPDATE SET value = $1, set_by = $2, set_at = $3";

pub(super) const OVERDUE: &str = "SELECT f.id, f.name, v.assessment_next_due, v.rules_version, \
     (SELECT MAX(w.warned_at) FROM vetting_warnings w WHERE w.facility_id = f.id) \
     FROM facility_vetting v JOIN facilities f ON f.id = v.facility_id \
     WHERE f.state NOT IN ('rejected', 'retired') \
     AND ((v.assessment_next_due IS NOT NULL AND v.assessment_next_due < $1) \
          OR ($2 IS NOT NULL AND v.rules_version IS NOT NULL AND v.rules_version <> $2)) \
     AND ($3 IS NULL OR (f.medical_code IS NOT NULL AND ',' || $3 || ',' LIKE '%,' || SUBSTR(f.medical_code, 1, 2) || ',%')) \
     AND ($4 IS NULL OR f.id IN (SELECT facility_id FROM ra_facilities WHERE ra = $4)) \
     ORDER BY f.number LIMIT $5";
pub(super) const WARN: &str = "INSERT INTO vetting_warnings (facility_id, reasons, message, warned_by, warned_at) \
     VALUES ($1, $2, $3, $4, $5)";
pub(super) const WARNINGS: &str = "SELECT facility_id, reasons, message, warned_by, warned_at FROM vetting_warnings \
     WHERE facility_id = $1 ORDER BY warned_at DESC LIMIT $2";

/// A row of [`REGISTER_ONE`].
pub(super) type EntryRow = (
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);
/// A row of [`IMPORT_LAST`].
pub(super) type ImportRow = (i64, String, String, String, i64, i64, i64, i64);
/// A row of [`CODE_OF`].
pub(super) type CodeRow =
    (String, Option<String>, Option<i64>, Option<i64>, Option<String>, Option<String>, Option<i64>);
/// A row of [`RULES_OF`].
pub(super) type RulesRow = (String, Option<String>, Option<String>, Option<String>, Option<String>, Option<i64>);
/// A row of [`ASSESSMENT_OF`].
pub(super) type AssessmentRow = (String, Option<String>, Option<String>, Option<String>, Option<i64>);
/// A row of [`REQUIREMENTS`].
pub(super) type RequirementsRow = (String, i64, i64, i64, String, i64);
/// A row of [`OVERDUE`].
pub(super) type OverdueRow = (String, String, Option<String>, Option<String>, Option<i64>);
/// A row of [`WARNINGS`].
pub(super) type WarningRow = (String, String, String, String, i64);

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("vetting evidence ({what}): {e}"))
}

fn day(what: &str, text: Option<String>) -> Result<Day, StoreError> {
    Day::parse(text.as_deref().unwrap_or_default()).map_err(|e| corrupt(what, e))
}

pub(super) fn entry(row: EntryRow) -> Result<RegisterEntry, StoreError> {
    let (code, name, prefecture, address, postal_code, phone, founder, manager, designated_on, beds) = row;
    Ok(RegisterEntry {
        code: MedicalInstitutionCode::parse(&code).map_err(|e| corrupt("register", e))?,
        name,
        prefecture: u8::try_from(prefecture).map_err(|e| corrupt("register", e))?,
        address,
        postal_code,
        phone,
        founder,
        manager,
        designated_on: designated_on.map(|d| Day::parse(&d)).transpose().map_err(|e| corrupt("register", e))?,
        beds,
    })
}

pub(super) fn import(row: ImportRow) -> RegisterImport {
    let (imported_at, imported_by, source, sha256, rows, added, removed, changed) = row;
    RegisterImport { imported_at, imported_by, source, sha256, rows, added, removed, changed }
}

pub(super) fn code(row: CodeRow) -> CodeCheck {
    let (code, register_name, name_matches, prefecture_matches, note, checked_by, checked_at) = row;
    CodeCheck {
        code,
        register_name,
        name_matches: name_matches == Some(1),
        prefecture_matches: prefecture_matches == Some(1),
        note,
        checked_by: checked_by.unwrap_or_default(),
        checked_at: checked_at.unwrap_or_default(),
    }
}

pub(super) fn rules(row: RulesRow) -> Result<RulesAcceptance, StoreError> {
    let (version, accepted_on, accepted_by, basis, recorded_by, recorded_at) = row;
    Ok(RulesAcceptance {
        version,
        accepted_on: day("rules", accepted_on)?,
        accepted_by: accepted_by.unwrap_or_default(),
        basis: basis.as_deref().and_then(RulesBasis::from_stored).ok_or_else(|| corrupt("rules", "basis"))?,
        recorded_by: recorded_by.unwrap_or_default(),
        recorded_at: recorded_at.unwrap_or_default(),
    })
}

pub(super) fn assessment(row: AssessmentRow) -> Result<Assessment, StoreError> {
    let (last, next_due, assessor, recorded_by, recorded_at) = row;
    Ok(Assessment {
        last: day("assessment", Some(last))?,
        next_due: day("assessment", next_due)?,
        assessor,
        recorded_by: recorded_by.unwrap_or_default(),
        recorded_at: recorded_at.unwrap_or_default(),
    })
}

pub(super) fn requirements(row: RequirementsRow) -> Result<ScopedRequirements, StoreError> {
    let (ra, code_check, security_rules, assessment, set_by, set_at) = row;
    let scope = if ra.is_empty() {
        RequirementScope::Central
    } else {
        RequirementScope::Ra(RaName::parse(&ra).map_err(|e| corrupt("requirements", e))?)
    };
    let requirements =
        Requirements { code_check: code_check == 1, security_rules: security_rules == 1, assessment: assessment == 1 };
    Ok(ScopedRequirements { scope, requirements, set_by, set_at })
}

pub(super) fn overdue(
    row: OverdueRow,
    today: &Day,
    due_before: &Day,
    current: Option<&str>,
) -> Result<OverdueFacility, StoreError> {
    let (id, name, due, version, last_warned_at) = row;
    let facility = FacilityId::parse(&id).map_err(|e| corrupt("overdue", e))?;
    let mut reasons = Vec::new();
    if let Some(due) = due {
        let due = Day::parse(&due).map_err(|e| corrupt("overdue", e))?;
        if &due < today {
            reasons.push(Overdue::AssessmentOverdue { due });
        } else if &due < due_before {
            reasons.push(Overdue::AssessmentDueSoon { due });
        }
    }
    if let (Some(accepted), Some(current)) = (version, current)
        && accepted != current
    {
        reasons.push(Overdue::RulesOutdated { accepted, current: current.to_owned() });
    }
    Ok(OverdueFacility { facility, name, reasons, last_warned_at })
}

pub(super) fn warning(row: WarningRow) -> Result<VettingWarning, StoreError> {
    let (facility, reasons, message, warned_by, warned_at) = row;
    Ok(VettingWarning {
        facility: FacilityId::parse(&facility).map_err(|e| corrupt("warning", e))?,
        reasons: reasons.split(',').filter(|r| !r.is_empty()).map(str::to_owned).collect(),
        message,
        warned_by,
        warned_at,
    })
}

pub(super) fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// `impl Vetting` for one backend (see [`super::writer`] for why a macro), and the approval's check, which
/// [`super::facilities`] calls inside the transition's transaction.
macro_rules! vetting_store {
    ($store:ident, $db:ty) => {
        impl $store {
            /// What an approval of `current` by `actor` lacks, read inside the approval's transaction: the
            /// requirements of the actor's RA (its own, else the central default), the facility's evidence and
            /// the current rules version. `None` when nothing is required or nothing is missing; otherwise the
            /// refusal, already audited as a denied `facility.approve` in this transaction.
            async fn vetting_refusal_in(
                w: &mut Writer<'_, $db>,
                current: &Facility,
                actor: &Actor,
            ) -> Result<Option<StoreError>, StoreError> {
                let mut scope = crate::vetting::RequirementScope::of_actor(actor.as_str());
                let mut row = sqlx::query_as::<$db, vetting::RequirementsRow>(vetting::REQUIREMENTS_OF)
                    .bind(scope.as_stored())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                if row.is_none() && scope != crate::vetting::RequirementScope::Central {
                    scope = crate::vetting::RequirementScope::Central;
                    row = sqlx::query_as::<$db, vetting::RequirementsRow>(vetting::REQUIREMENTS_OF)
                        .bind("")
                        .fetch_optional(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                }
                let Some(row) = row else { return Ok(None) };
                let required = vetting::requirements(row)?.requirements;
                if required == crate::vetting::Requirements::default() {
                    return Ok(None);
                }
                let evidence = Self::vetting_of(&mut *w.tx, &current.id).await?;
                let version = sqlx::query_scalar::<$db, String>(vetting::RULES_VERSION)
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let today = crate::vetting::Day::of_unix(w.now());
                let missing = crate::vetting::shortfalls(
                    &current.id,
                    current.medical_code.as_ref(),
                    &required,
                    &evidence,
                    version.as_deref(),
                    &today,
                );
                if missing.is_empty() {
                    return Ok(None);
                }
                let detail = serde_json::json!({
                    "reason": "vetting evidence missing",
                    "requirements_of": scope.to_string(),
                    "required": required.list(),
                    "missing": &missing,
                });
                let mut event = sso::event("facility.approve", current.id.as_str(), actor, detail);
                event.outcome = crate::audit::Outcome::Denied;
                w.append(&event).await?;
                Ok(Some(StoreError::VettingMissing {
                    facility: current.id.clone(),
                    scope,
                    required: required.list(),
                    missing,
                }))
            }

            /// A facility's evidence, on a pool or inside a transaction.
            async fn vetting_of(
                c: &mut <$db as sqlx::Database>::Connection,
                facility: &FacilityId,
            ) -> Result<crate::vetting::FacilityVetting, StoreError> {
                let code = sqlx::query_as::<$db, vetting::CodeRow>(vetting::CODE_OF)
                    .bind(facility.as_str())
                    .fetch_optional(&mut *c)
                    .await
                    .map_err(Self::err)?
                    .map(vetting::code);
                let rules = sqlx::query_as::<$db, vetting::RulesRow>(vetting::RULES_OF)
                    .bind(facility.as_str())
                    .fetch_optional(&mut *c)
                    .await
                    .map_err(Self::err)?
                    .map(vetting::rules)
                    .transpose()?;
                let assessment = sqlx::query_as::<$db, vetting::AssessmentRow>(vetting::ASSESSMENT_OF)
                    .bind(facility.as_str())
                    .fetch_optional(&mut *c)
                    .await
                    .map_err(Self::err)?
                    .map(vetting::assessment)
                    .transpose()?;
                Ok(crate::vetting::FacilityVetting { code, rules, assessment })
            }
        }

        #[async_trait::async_trait]
        impl Vetting for $store {
            async fn replace_register(
                &self,
                entries: &[crate::vetting::RegisterEntry],
                source: &str,
                sha256: &str,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<crate::vetting::RegisterImport, StoreError> {
                let mut w = self.write(at).await?;
                let before: std::collections::HashMap<String, (String, i64, String)> =
                    sqlx::query_as::<$db, (String, String, i64, String)>(vetting::REGISTER_CODES)
                        .fetch_all(&mut *w.tx)
                        .await
                        .map_err(Self::err)?
                        .into_iter()
                        .map(|(code, name, prefecture, address)| (code, (name, prefecture, address)))
                        .collect();
                let (mut added, mut changed) = (0_i64, 0_i64);
                let mut kept = 0_i64;
                for e in entries {
                    match before.get(e.code.as_str()) {
                        None => added += 1,
                        Some((name, prefecture, address)) => {
                            kept += 1;
                            if name != &e.name || *prefecture != i64::from(e.prefecture) || address != &e.address {
                                changed += 1;
                            }
                        }
                    }
                }
                let removed = i64::try_from(before.len()).unwrap_or(i64::MAX) - kept;
                sqlx::query::<$db>(vetting::REGISTER_CLEAR).execute(&mut *w.tx).await.map_err(Self::err)?;
                for e in entries {
                    sqlx::query::<$db>(vetting::REGISTER_INSERT)
                        .bind(e.code.as_str())
                        .bind(&e.name)
                        .bind(i64::from(e.prefecture))
                        .bind(&e.address)
                        .bind(e.postal_code.as_deref())
                        .bind(e.phone.as_deref())
                        .bind(e.founder.as_deref())
                        .bind(e.manager.as_deref())
                        .bind(e.designated_on.as_ref().map(|d| d.as_str()))
                        .bind(e.beds.as_deref())
                        .execute(&mut *w.tx)
                        .await
                        .map_err(Self::err)?;
                }
                let record = crate::vetting::RegisterImport {
                    imported_at: w.now(),
                    imported_by: actor.as_str().to_owned(),
                    source: source.to_owned(),
                    sha256: sha256.to_owned(),
                    rows: i64::try_from(entries.len()).unwrap_or(i64::MAX),
                    added,
                    removed,
                    changed,
                };
                sqlx::query::<$db>(vetting::IMPORT_INSERT)
                    .bind(record.imported_at)
                    .bind(&record.imported_by)
                    .bind(&record.source)
                    .bind(&record.sha256)
                    .bind(record.rows)
                    .bind(record.added)
                    .bind(record.removed)
                    .bind(record.changed)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({
                    "source": source, "sha256": sha256, "rows": record.rows, "before": before.len(),
                    "added": added, "removed": removed, "changed": changed,
                });
                w.append(&sso::event("register.import", "medical-register", actor, detail)).await?;
                w.commit().await?;
                Ok(record)
            }

            async fn register_entry(
                &self,
                code: &crate::facility::MedicalInstitutionCode,
            ) -> Result<Option<crate::vetting::RegisterEntry>, StoreError> {
                sqlx::query_as::<$db, vetting::EntryRow>(vetting::REGISTER_ONE)
                    .bind(code.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(vetting::entry)
                    .transpose()
            }

            async fn register_import(&self) -> Result<Option<crate::vetting::RegisterImport>, StoreError> {
                Ok(sqlx::query_as::<$db, vetting::ImportRow>(vetting::IMPORT_LAST)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .map(vetting::import))
            }

            async fn record_vetting(
                &self,
                facility: &FacilityId,
                record: &crate::vetting::VettingRecord,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                use crate::vetting::VettingRecord as R;
                let mut w = self.write(at).await?;
                facility_settings::facility_must_exist!($db, w, facility);
                let before = Self::vetting_of(&mut *w.tx, facility).await?;
                let (detail, previous) = match record {
                    R::Code(c) => {
                        sqlx::query::<$db>(vetting::PUT_CODE)
                            .bind(facility.as_str())
                            .bind(&c.code)
                            .bind(vetting::flag(c.register_name.is_some()))
                            .bind(c.register_name.as_deref())
                            .bind(vetting::flag(c.name_matches))
                            .bind(vetting::flag(c.prefecture_matches))
                            .bind(c.note.as_deref())
                            .bind(&c.checked_by)
                            .bind(c.checked_at)
                            .execute(&mut *w.tx)
                            .await
                            .map_err(Self::err)?;
                        (serde_json::json!(c), serde_json::json!(before.code))
                    }
                    R::Rules(r) => {
                        sqlx::query::<$db>(vetting::PUT_RULES)
                            .bind(facility.as_str())
                            .bind(&r.version)
                            .bind(r.accepted_on.as_str())
                            .bind(&r.accepted_by)
                            .bind(r.basis.as_str())
                            .bind(&r.recorded_by)
                            .bind(r.recorded_at)
                            .execute(&mut *w.tx)
                            .await
                            .map_err(Self::err)?;
                        (serde_json::json!(r), serde_json::json!(before.rules))
                    }
                    R::Assessment(a) => {
                        sqlx::query::<$db>(vetting::PUT_ASSESSMENT)
                            .bind(facility.as_str())
                            .bind(a.last.as_str())
                            .bind(a.next_due.as_str())
                            .bind(a.assessor.as_deref())
                            .bind(&a.recorded_by)
                            .bind(a.recorded_at)
                            .execute(&mut *w.tx)
                            .await
                            .map_err(Self::err)?;
                        (serde_json::json!(a), serde_json::json!(before.assessment))
                    }
                };
                let detail = serde_json::json!({ "recorded": detail, "previous": previous });
                w.append(&sso::event(record.action(), facility.as_str(), actor, detail)).await?;
                w.commit().await
            }

            async fn vetting(&self, facility: &FacilityId) -> Result<crate::vetting::FacilityVetting, StoreError> {
                let mut c = self.pool.acquire().await.map_err(Self::err)?;
                Self::vetting_of(&mut c, facility).await
            }

            async fn set_requirements(
                &self,
                scope: &crate::vetting::RequirementScope,
                requirements: crate::vetting::Requirements,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let before = sqlx::query_as::<$db, vetting::RequirementsRow>(vetting::REQUIREMENTS_OF)
                    .bind(scope.as_stored())
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?
                    .map(vetting::requirements)
                    .transpose()?;
                let now = w.now();
                sqlx::query::<$db>(vetting::PUT_REQUIREMENTS)
                    .bind(scope.as_stored())
                    .bind(vetting::flag(requirements.code_check))
                    .bind(vetting::flag(requirements.security_rules))
                    .bind(vetting::flag(requirements.assessment))
                    .bind(actor.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({
                    "scope": scope.to_string(),
                    "required": requirements.list(),
                    "previous": before.map(|b| b.requirements.list()),
                });
                w.append(&sso::event("vetting.requirements", &scope.to_string(), actor, detail)).await?;
                w.commit().await
            }

            async fn requirements(&self) -> Result<Vec<crate::vetting::ScopedRequirements>, StoreError> {
                sqlx::query_as::<$db, vetting::RequirementsRow>(vetting::REQUIREMENTS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(vetting::requirements)
                    .collect()
            }

            async fn set_rules_version(&self, version: &str, actor: &Actor, at: UnixTime) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                let before = sqlx::query_scalar::<$db, String>(vetting::RULES_VERSION)
                    .fetch_optional(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let now = w.now();
                sqlx::query::<$db>(vetting::PUT_RULES_VERSION)
                    .bind(version)
                    .bind(actor.as_str())
                    .bind(now)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "version": version, "previous": before });
                w.append(&sso::event("vetting.rules_version", "security-rules", actor, detail)).await?;
                w.commit().await
            }

            async fn rules_version(&self) -> Result<Option<String>, StoreError> {
                sqlx::query_scalar::<$db, String>(vetting::RULES_VERSION)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Self::err)
            }

            async fn overdue(
                &self,
                today: &crate::vetting::Day,
                due_before: &crate::vetting::Day,
                current_rules: Option<&str>,
                ra: Option<&Ra>,
                limit: u32,
            ) -> Result<Vec<crate::vetting::OverdueFacility>, StoreError> {
                sqlx::query_as::<$db, vetting::OverdueRow>(vetting::OVERDUE)
                    .bind(due_before.as_str())
                    .bind(current_rules)
                    .bind(ra.filter(|r| r.kind == RaKind::Prefecture).map(Ra::prefecture_list))
                    .bind(ra.filter(|r| r.kind == RaKind::Provider).map(|r| r.name.as_str()))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(|row| vetting::overdue(row, today, due_before, current_rules))
                    .collect()
            }

            async fn warn_facility(
                &self,
                warning: &crate::vetting::VettingWarning,
                actor: &Actor,
                at: UnixTime,
            ) -> Result<(), StoreError> {
                let mut w = self.write(at).await?;
                facility_settings::facility_must_exist!($db, w, &warning.facility);
                sqlx::query::<$db>(vetting::WARN)
                    .bind(warning.facility.as_str())
                    .bind(warning.reasons.join(","))
                    .bind(&warning.message)
                    .bind(&warning.warned_by)
                    .bind(warning.warned_at)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(Self::err)?;
                let detail = serde_json::json!({ "reasons": &warning.reasons, "message": &warning.message });
                w.append(&sso::event("facility.vetting.warn", warning.facility.as_str(), actor, detail)).await?;
                w.commit().await
            }

            async fn vetting_warnings(
                &self,
                facility: &FacilityId,
                limit: u32,
            ) -> Result<Vec<crate::vetting::VettingWarning>, StoreError> {
                sqlx::query_as::<$db, vetting::WarningRow>(vetting::WARNINGS)
                    .bind(facility.as_str())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Self::err)?
                    .into_iter()
                    .map(vetting::warning)
                    .collect()
            }
        }
    };
}
pub(super) use vetting_store;
