//! Who a caller of the admin API and of `hcpki operator` is: a [`Principal`] from a client certificate or an
//! enrollment credential, checked against the registry; operators; and audited refusals. What a principal may
//! do is [`crate::access::decide`]'s.

use super::Registrar;
use super::credentials::{Known, Presented};
use crate::access::{AdminBasis, Denial, Forbidden, Principal, SpentCredential, Unauthenticated};
use crate::audit::{AuditEvent, Outcome};
use crate::enroll::credential::{CredentialCheck, Refusal};
use crate::error::RegistryError;
use crate::operator::{OperatorError, OperatorName, OperatorRecord};
use crate::profile::ProfileKind;
use crate::store::{Actor, StoreError};

impl Registrar {
    /// Who presents this TLS client certificate: an operator (an `operator` certificate naming an enabled
    /// operator) or a facility admin (a PC certificate of an approved or active facility). Router
    /// certificates identify devices, not people, and are refused. `Ok(Err(_))` is a refusal to audit and
    /// answer; `Err(_)` is the CA's own trouble.
    pub async fn principal_for_certificate(&self, der: &[u8]) -> Result<Result<Principal, Denial>, RegistryError> {
        let refused = |reason: Forbidden| Ok(Err(Denial::Forbidden(reason)));
        let known = match self.presented(der).await {
            Ok(k) => k,
            Err(Presented::Refused(reason)) => return refused(Forbidden::Certificate(reason)),
            Err(Presented::Store(e)) => return Err(e.into()),
        };
        match known.profile {
            ProfileKind::Operator => self.operator_of(&known).await,
            ProfileKind::Pc => match self.in_good_standing(known).await {
                Ok((_, record, _, facility)) => Ok(Ok(Principal::FacilityAdmin {
                    facility,
                    basis: AdminBasis::Certificate(record.serial.into_string()),
                })),
                Err(Presented::Refused(reason)) => refused(Forbidden::Certificate(reason)),
                Err(Presented::Store(e)) => Err(e.into()),
            },
            ProfileKind::Router => refused(Forbidden::RouterCertificate(known.record.serial)),
            other => refused(Forbidden::NotAdminProfile(other)),
        }
    }

    async fn operator_of(&self, known: &Known) -> Result<Result<Principal, Denial>, RegistryError> {
        let name = known
            .record
            .sans
            .iter()
            .filter_map(|s| s.strip_prefix("URI:"))
            .find_map(crate::profile::operator::parse_identity_uri);
        let Some(name) = name else {
            return Ok(Err(Denial::Forbidden(Forbidden::NoOperatorNamed(known.record.serial.clone()))));
        };
        Ok(match self.operators.operator(&name).await? {
            Some(o) if o.disabled_at.is_none() => {
                let ra = self.ras.ra_of_member(&crate::ra::Member::operator(&o.name)).await?;
                Ok(Principal::Operator { name: o.name, role: o.role, ra })
            }
            Some(_) => Err(Denial::Forbidden(Forbidden::OperatorDisabled(name))),
            None => Err(Denial::Forbidden(Forbidden::OperatorUnknown(name))),
        })
    }

    /// A facility admin proving their facility with an enrollment credential (ID and secret). The
    /// credential must be usable (unused, unexpired, unrevoked) and is *not* redeemed.
    pub async fn principal_for_credential(
        &self,
        id: &str,
        secret: &str,
    ) -> Result<Result<Principal, Denial>, RegistryError> {
        let Some(record) = self.enrollment.credential(id).await? else {
            return Ok(Err(unknown_credential()));
        };
        match record.check(secret, record.protocol, None, self.hierarchy.at()) {
            Ok(_) => {}
            Err(r) if r.is_authentication() => return Ok(Err(unknown_credential())),
            Err(Refusal::Used) => return Ok(Err(Denial::Forbidden(Forbidden::CredentialSpent(SpentCredential::Used)))),
            Err(Refusal::Expired) => {
                return Ok(Err(Denial::Forbidden(Forbidden::CredentialSpent(SpentCredential::Expired))));
            }
            Err(Refusal::Revoked) => {
                return Ok(Err(Denial::Forbidden(Forbidden::CredentialSpent(SpentCredential::Revoked))));
            }
            // No protocol or profile is asked of the credential here, so no other refusal can come; were one to,
            // it is a credential that does not authenticate.
            Err(_) => return Ok(Err(unknown_credential())),
        }
        Ok(match self.facilities.facility(&record.facility).await? {
            Some(f) if f.state.may_enroll() => {
                Ok(Principal::FacilityAdmin { facility: f.id, basis: AdminBasis::Credential(record.id) })
            }
            Some(f) => Err(Denial::Forbidden(Forbidden::FacilityState { facility: f.id, state: f.state })),
            None => Err(unknown_credential()),
        })
    }

    /// Audit a refused admin request (nothing else changes).
    pub async fn audit_admin_refusal(&self, actor: &Actor, action: &str, target: &str, reason: &str) {
        self.audit_not_done(actor, action, target, Outcome::Denied, reason).await;
    }

    /// Audit `action` on `target` by `actor` that ended `outcome` (denied or failed) for `reason`. Never fails
    /// itself: a request already refused is not refused again for its audit entry.
    pub(crate) async fn audit_not_done(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        outcome: Outcome,
        reason: &str,
    ) {
        let event = AuditEvent {
            actor: actor.as_str().to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome,
            detail: serde_json::json!({ "reason": reason }),
        };
        if let Err(e) = self.audit.append_audit(&event, self.hierarchy.at()).await {
            tracing::error!(error = %e, action, "could not audit a refused request");
        }
    }

    /// Audit an admin request that changes nothing but is recorded (a signature verification: its verdict).
    pub async fn audit_admin_event(&self, actor: &Actor, action: &str, target: &str, detail: serde_json::Value) {
        let event = AuditEvent {
            actor: actor.as_str().to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: Outcome::Ok,
            detail,
        };
        if let Err(e) = self.audit.append_audit(&event, self.hierarchy.at()).await {
            tracing::error!(error = %e, action, "could not audit an admin request");
        }
    }

    /// All operators.
    pub async fn operators(&self) -> Result<Vec<OperatorRecord>, RegistryError> {
        Ok(self.operators.list_operators().await?)
    }

    /// Disable an operator: their certificates stop authenticating on the next request.
    pub async fn disable_operator(&self, name: &OperatorName, actor: &Actor) -> Result<OperatorRecord, RegistryError> {
        match self.operators.disable_operator(name, actor, self.hierarchy.at()).await {
            Err(StoreError::UnknownOperator(n)) => Err(OperatorError::Unknown(n).into()),
            other => Ok(other?),
        }
    }
}

fn unknown_credential() -> Denial {
    Denial::Unauthenticated(Unauthenticated::UnknownCredential)
}
