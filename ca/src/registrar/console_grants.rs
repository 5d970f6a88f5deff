//! Console grants (D42) through the authority, for `hcpki console grant` and the admin API alike: the input
//! parsed once and a facility admin's facility checked before the audited write.

use crate::console_grant::{self, ConsoleGrant, ConsoleRole};
use crate::error::{FacilityRefusal, RegistryError};
use crate::registrar::Registrar;
use crate::store::Actor;

impl Registrar {
    /// Grant `person_key` console access as `role` (`operator`, `auditor` or `facility-admin` with `facility`),
    /// replacing any grant they had; audited `console.grant.add`. The facility must exist.
    pub async fn grant_console(
        &self,
        person_key: &str,
        role: &str,
        facility: Option<&str>,
        note: &str,
        actor: &Actor,
    ) -> Result<ConsoleGrant, RegistryError> {
        let person_key = console_grant::parse_person_key(person_key)?;
        let role = ConsoleRole::parse(role, facility)?;
        let note = console_grant::parse_note(note)?;
        if let Some(f) = role.facility()
            && self.facilities.facility(f).await?.is_none()
        {
            return Err(FacilityRefusal::Unknown(f.clone()).into());
        }
        let grant = ConsoleGrant {
            person_key,
            role,
            note,
            granted_at: self.hierarchy.now(),
            granted_by: actor.as_str().to_owned(),
        };
        self.grants.console_grant_put(&grant, actor, self.hierarchy.at()).await?;
        Ok(grant)
    }

    /// Every console grant, by person key.
    pub async fn console_grants(&self) -> Result<Vec<ConsoleGrant>, RegistryError> {
        Ok(self.grants.console_grants().await?)
    }

    /// Remove a person's console grant (audited `console.grant.remove`): their console session ends at its
    /// next request. `None` when they had none.
    pub async fn remove_console_grant(
        &self,
        person_key: &str,
        actor: &Actor,
    ) -> Result<Option<ConsoleGrant>, RegistryError> {
        let person_key = console_grant::parse_person_key(person_key)?;
        Ok(self.grants.console_grant_remove(&person_key, actor, self.hierarchy.at()).await?)
    }
}
