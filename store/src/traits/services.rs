//! The SSO portal's services (issue #6, D26), shared by the replicas through a change generation.

use crate::error::StoreError;
use crate::records::Actor;
use crate::sso::ServiceRecord;
use hcpki_model::UnixTime;

/// The SSO portal's services (issue #6, D26), shared by the replicas through a change generation.
#[async_trait::async_trait]
pub trait Services: Send + Sync {
    /// The services (in listing order), the change generation, and whether the services file was imported.
    async fn portal_services(&self) -> Result<(Vec<ServiceRecord>, i64, bool), StoreError>;

    /// The change generation of the services (cheap: replicas poll it).
    async fn portal_services_generation(&self) -> Result<i64, StoreError>;

    /// Add services, audited as `portal.service.add` (or `.replace` for an id that exists when `replace`);
    /// with `seed`, only if no services file was ever imported (then `false` and nothing changes), audited
    /// as `portal.service.import`. An existing id without `replace` is [`StoreError::Conflict`].
    async fn portal_put_services(
        &self,
        services: &[ServiceRecord],
        replace: bool,
        seed: bool,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Remove a service, audited as `portal.service.remove`; `false` if unknown.
    async fn portal_remove_service(&self, id: &str, actor: &Actor, at: UnixTime) -> Result<bool, StoreError>;
}
