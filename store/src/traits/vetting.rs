//! Vetting evidence before approval (issue #50 item 4, D173): the register of medical institutions, each
//! facility's evidence, the requirements per registration authority, the overdue list and its warnings.

use crate::error::StoreError;
use crate::facility::{FacilityId, MedicalInstitutionCode};
use crate::ra::Ra;
use crate::records::Actor;
use crate::vetting::{
    Day, FacilityVetting, OverdueFacility, RegisterEntry, RegisterImport, RequirementScope, Requirements,
    ScopedRequirements, VettingRecord, VettingWarning,
};
use hcpki_model::UnixTime;

/// Vetting evidence (D173). Every write appends its audit entry in its own transaction.
#[async_trait::async_trait]
pub trait Vetting: Send + Sync {
    /// Replace the whole register by `entries` in one transaction (readers see the old register or the new one,
    /// never a mix), audited `register.import` with the counts; the import's record is returned.
    async fn replace_register(
        &self,
        entries: &[RegisterEntry],
        source: &str,
        sha256: &str,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<RegisterImport, StoreError>;

    /// The register's entry for `code`.
    async fn register_entry(&self, code: &MedicalInstitutionCode) -> Result<Option<RegisterEntry>, StoreError>;

    /// The newest import, if the register was ever imported.
    async fn register_import(&self) -> Result<Option<RegisterImport>, StoreError>;

    /// Write one piece of `facility`'s evidence (the others stay), audited as [`VettingRecord::action`] with
    /// what it replaces. [`StoreError::UnknownFacility`] when there is no such facility.
    async fn record_vetting(
        &self,
        facility: &FacilityId,
        record: &VettingRecord,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// Everything recorded for `facility` (each part `None` until recorded).
    async fn vetting(&self, facility: &FacilityId) -> Result<FacilityVetting, StoreError>;

    /// Set `scope`'s requirements, audited `vetting.requirements` with those they replace.
    async fn set_requirements(
        &self,
        scope: &RequirementScope,
        requirements: Requirements,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// Every scope's requirements as set (the central default first).
    async fn requirements(&self) -> Result<Vec<ScopedRequirements>, StoreError>;

    /// Set the network's current security rules version, audited `vetting.rules_version`.
    async fn set_rules_version(&self, version: &str, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// The network's current security rules version, if one was set.
    async fn rules_version(&self) -> Result<Option<String>, StoreError>;

    /// Facilities (not rejected or retired) whose next assessment is due before `due_before`, or whose accepted
    /// rules are not `current_rules`; within `ra`'s scope when given; by facility, at most `limit`.
    async fn overdue(
        &self,
        today: &Day,
        due_before: &Day,
        current_rules: Option<&str>,
        ra: Option<&Ra>,
        limit: u32,
    ) -> Result<Vec<OverdueFacility>, StoreError>;

    /// Record a warning to `warning.facility`, audited `facility.vetting.warn` with its reasons and words.
    async fn warn_facility(&self, warning: &VettingWarning, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// `facility`'s warnings, newest first, at most `limit`.
    async fn vetting_warnings(&self, facility: &FacilityId, limit: u32) -> Result<Vec<VettingWarning>, StoreError>;
}
