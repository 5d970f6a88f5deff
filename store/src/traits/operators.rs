//! Operators of the CA (`hcpki operator`).

use crate::error::StoreError;
use crate::operator::{OperatorName, OperatorRecord};
use crate::records::Actor;
use hcpki_model::UnixTime;

/// Operators of the CA (`hcpki operator`).
#[async_trait::async_trait]
pub trait Operators: Send + Sync {
    /// Add an operator, or change an enabled operator's role, audited as `operator.add` / `operator.role`.
    /// A disabled operator stays disabled: [`StoreError::OperatorDisabled`].
    async fn put_operator(
        &self,
        record: &OperatorRecord,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<OperatorRecord, StoreError>;

    /// One operator.
    async fn operator(&self, name: &OperatorName) -> Result<Option<OperatorRecord>, StoreError>;

    /// All operators, by name.
    async fn list_operators(&self) -> Result<Vec<OperatorRecord>, StoreError>;

    /// Disable an operator for good, audited as `operator.disable` (disabling twice changes nothing).
    async fn disable_operator(
        &self,
        name: &OperatorName,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<OperatorRecord, StoreError>;
}
