//! Facilities' limits on signing sessions (issue #48 item 3, D172) through the registrar, for the CLI and the
//! admin API alike: after one signature PIN at the facility's PCs, at most N signatures within T hours (lower
//! than the card agent's own, or 0 to turn sessions off). The change is audited by the store, every refusal here.

use crate::error::{FacilityRefusal, RegistryError};
use crate::facility::FacilityId;
use crate::registrar::Registrar;
use crate::store::{Actor, FacilitySigningLimit, StoreError};
use hcpki_model::signing_limit::SigningSessionLimit;

/// The audit action of a change of limit (allowed or refused).
pub const ACTION: &str = "facility.signing_limit";

impl Registrar {
    /// Limit `facility`'s signing sessions to `max_signatures` within `max_hours` (0 in either: off), replacing
    /// any limit before; audited `facility.signing_limit`. A malformed ID, a limit above the ceiling or an
    /// unknown facility is refused, audited as denied; nothing changes. Sessions open now keep the limits they
    /// opened with (the card agent holds them); new ones take the new limit.
    pub async fn set_signing_limit(
        &self,
        facility: &str,
        max_signatures: u32,
        max_hours: u32,
        actor: &Actor,
    ) -> Result<FacilitySigningLimit, RegistryError> {
        let outcome = async {
            let id = FacilityId::parse(facility)?;
            let limit = SigningSessionLimit::new(max_signatures, max_hours)?;
            match self.signing_limits.set_signing_limit(&id, limit, actor, self.hierarchy.at()).await {
                Err(StoreError::UnknownFacility(id)) => return Err(FacilityRefusal::Unknown(id).into()),
                other => other?,
            }
            Ok(FacilitySigningLimit { limit, set_by: actor.as_str().to_owned(), set_at: self.hierarchy.at().as_secs() })
        }
        .await;
        if let Err(e) = &outcome {
            self.audit_refused(ACTION, facility, actor, e).await;
        }
        outcome
    }

    /// The facility's limit on signing sessions, if one was set; the facility must exist.
    pub async fn signing_limit(&self, facility: &FacilityId) -> Result<Option<FacilitySigningLimit>, RegistryError> {
        if self.facilities.facility(facility).await?.is_none() {
            return Err(FacilityRefusal::Unknown(facility.clone()).into());
        }
        Ok(self.signing_limits.signing_limit(facility).await?)
    }
}
