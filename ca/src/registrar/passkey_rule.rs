//! Facilities' rules on passkeys (issue #48 item 1, D170) through the registrar, for the CLI and the admin API
//! alike: which authenticators a facility admits — any passkey (the default), attested hardware keys, or listed
//! models. The rule is parsed once, the change audited by the store, every refusal audited here.

use crate::error::{FacilityRefusal, RegistryError};
use crate::facility::FacilityId;
use crate::registrar::Registrar;
use crate::store::{Actor, FacilityPasskeyRule, StoreError};
use hcpki_model::passkey_attestation::AttestationPolicy;

/// The audit action of a change of rule (allowed or refused).
pub const ACTION: &str = "facility.passkey_rule";

impl Registrar {
    /// Set `facility`'s rule to `name` (`none`, `any`, `models`) with `models` (AAGUIDs, for `models`),
    /// replacing any before; audited `facility.passkey_rule`. A malformed ID or rule, or an unknown facility,
    /// is refused, audited as denied; nothing changes. Passkeys registered before a stricter rule stay, but
    /// sign in at the facility no more (the portal checks the rule at every sign-in).
    pub async fn set_passkey_rule<S: AsRef<str>>(
        &self,
        facility: &str,
        name: &str,
        models: &[S],
        actor: &Actor,
    ) -> Result<FacilityPasskeyRule, RegistryError> {
        let outcome = async {
            let id = FacilityId::parse(facility)?;
            let rule = AttestationPolicy::parse(name, models)?;
            match self.passkey_rules.set_passkey_rule(&id, &rule, actor, self.hierarchy.at()).await {
                Err(StoreError::UnknownFacility(id)) => return Err(FacilityRefusal::Unknown(id).into()),
                other => other?,
            }
            Ok(FacilityPasskeyRule { rule, set_by: actor.as_str().to_owned(), set_at: self.hierarchy.at().as_secs() })
        }
        .await;
        if let Err(e) = &outcome {
            self.audit_refused(ACTION, facility, actor, e).await;
        }
        outcome
    }

    /// The facility's rule on passkeys, if one was set (without one any passkey is admitted); the facility
    /// must exist.
    pub async fn passkey_rule(&self, facility: &FacilityId) -> Result<Option<FacilityPasskeyRule>, RegistryError> {
        if self.facilities.facility(facility).await?.is_none() {
            return Err(FacilityRefusal::Unknown(facility.clone()).into());
        }
        Ok(self.passkey_rules.passkey_rule(facility).await?)
    }
}
