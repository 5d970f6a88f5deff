//! Facilities' security officers (セキュリティ責任者; issue #50 item 5, D155) through the registrar, for the CLI
//! and the admin API alike: the text checked once, the change audited by the store, every refusal audited here.

use crate::error::{FacilityRefusal, RegistryError};
use crate::facility::{FacilityId, NamedSecurityOfficer, SecurityOfficer};
use crate::registrar::Registrar;
use crate::store::{Actor, StoreError};

impl Registrar {
    /// Name `name` (reachable at `contact`) the security officer of `facility`, replacing any before; audited
    /// `facility.security_officer`. A malformed ID, an unknown facility or a name or contact the registry does
    /// not take is refused, audited as denied; nothing changes.
    pub async fn set_security_officer(
        &self,
        facility: &str,
        name: &str,
        contact: &str,
        actor: &Actor,
    ) -> Result<NamedSecurityOfficer, RegistryError> {
        let outcome = async {
            let id = FacilityId::parse(facility)?;
            let officer = SecurityOfficer::parse(name, contact)?;
            match self.security_officers.set_security_officer(&id, &officer, actor, self.hierarchy.at()).await {
                Err(StoreError::UnknownFacility(id)) => return Err(FacilityRefusal::Unknown(id).into()),
                other => other?,
            }
            Ok(NamedSecurityOfficer {
                officer,
                set_by: actor.as_str().to_owned(),
                set_at: self.hierarchy.at().as_secs(),
            })
        }
        .await;
        if let Err(e) = &outcome {
            self.audit_refused("facility.security_officer", facility, actor, e).await;
        }
        outcome
    }

    /// The facility's security officer, if one was named; the facility must exist.
    pub async fn security_officer(&self, facility: &FacilityId) -> Result<Option<NamedSecurityOfficer>, RegistryError> {
        if self.facilities.facility(facility).await?.is_none() {
            return Err(FacilityRefusal::Unknown(facility.clone()).into());
        }
        Ok(self.security_officers.security_officer(facility).await?)
    }
}
