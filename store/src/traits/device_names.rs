//! Display names of facility devices (D134).

use crate::error::StoreError;
use crate::facility::FacilityId;
use crate::facility::device_name::{DeviceName, NamedDevice};
use crate::records::Actor;
use hcpki_model::UnixTime;

/// Display names of facility devices (受付PC, 診察室1; D134), keyed by facility and device ID.
#[async_trait::async_trait]
pub trait DeviceNames: Send + Sync {
    /// Name (or rename) `device` of `facility`, audited as `facility.device.name` (with the name it had) in the
    /// same transaction. The caller has checked that the device is one of the facility's.
    async fn name_device(
        &self,
        facility: &FacilityId,
        device: &str,
        name: &DeviceName,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// The facility's named devices, by device ID.
    async fn device_names(&self, facility: &FacilityId) -> Result<Vec<NamedDevice>, StoreError>;
}
