//! What facility staff call their PCs (受付PC, 診察室1; issue #45 item 8, D134), for the console and the admin API
//! alike: whoever may issue the facility's device keys names its devices (operators; its admin signed in at one
//! of its PCs); whoever may list its certificates reads the names. A name is kept per device ID, the one the PC's
//! certificates carry in their identity URI, so a re-issued certificate keeps it; it never enters a certificate.

use super::{existing, facility_id};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::auth::Caller;
use hcpki_ca::access::Action;
use hcpki_ca::facility::{DeviceName, DeviceNameError, FacilityId};
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::store::{CertificateFilter, CertificateRecord};
use std::collections::HashMap;

/// The audited action of naming.
const NAME: &str = "admin.device.name";

/// The device ID of a PC certificate (from its identity URI), `None` for any other certificate.
pub fn device_of(record: &CertificateRecord) -> Option<String> {
    if record.profile.end_entity() != Some(ProfileKind::Pc) {
        return None;
    }
    record
        .sans
        .iter()
        .filter_map(|s| s.strip_prefix("URI:"))
        .find_map(hcpki_ca::profile::pc::parse_identity_uri)
        .map(|(_, device)| device)
}

/// Whether `device` is one of the PCs `certs` (a facility's certificates) were issued to: only those are named.
pub fn holds(certs: &[CertificateRecord], device: &str) -> bool {
    certs.iter().any(|c| device_of(c).as_deref() == Some(device))
}

/// The facility's device names by device ID (who may list its certificates).
pub async fn names(
    state: &AppState,
    caller: &Caller,
    id: &FacilityId,
) -> Result<HashMap<String, DeviceName>, ApiError> {
    caller.may(Action::ListCertificates(id)).await?;
    let named = state.admin.registrar().device_names().device_names(id).await.map_err(ApiError::unavailable)?;
    Ok(named.into_iter().map(|d| (d.device, d.name)).collect())
}

/// Why a name was not stored: the name itself (the form says it in the admin's words and keeps what was typed),
/// or anything else (who may, which device), already audited.
#[derive(Debug)]
pub enum NameRefused {
    /// The name breaks a rule of [`DeviceName`].
    Name(DeviceNameError, ApiError),
    /// Not the caller's to name, or no such device.
    Other(ApiError),
}

impl From<ApiError> for NameRefused {
    fn from(e: ApiError) -> Self {
        Self::Other(e)
    }
}

/// Name (or rename) the facility's PC `device`, audited as `facility.device.name`; refusals audited as
/// `admin.device.name`.
pub async fn name(
    state: &AppState,
    caller: &Caller,
    id: &str,
    device: &str,
    text: &str,
) -> Result<DeviceName, NameRefused> {
    let id = facility_id(caller, NAME, id).await?;
    caller.may(Action::IssueDeviceKey(&id)).await?;
    existing(state, caller, NAME, &id).await?;
    let filter = CertificateFilter { facility: Some(id.clone()), ..CertificateFilter::default() };
    let certs =
        state.admin.pipeline().certificates().list_certificates(&filter).await.map_err(ApiError::unavailable)?;
    if !holds(&certs, device) {
        let e = ApiError::not_found(format!("facility {id} has no PC {device:?}: choose a device from its list"));
        return Err(caller.refuse(NAME, id.as_str(), e).await.into());
    }
    let name = match DeviceName::parse(text) {
        Ok(n) => n,
        Err(rule) => {
            let e = ApiError::bad_request("invalid device name", rule.to_string());
            return Err(NameRefused::Name(rule, caller.refuse(NAME, id.as_str(), e).await));
        }
    };
    state
        .admin
        .registrar()
        .device_names()
        .name_device(&id, device, &name, &caller.actor(), state.clock.now())
        .await
        .map_err(ApiError::unavailable)?;
    Ok(name)
}
