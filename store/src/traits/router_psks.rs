//! Routers' managed pre-shared keys (issue #50 item 1, D156).

use crate::error::StoreError;
use crate::facility::FacilityId;
use crate::records::Actor;
use crate::router_psk::RouterPskRecord;
use hcpki_model::UnixTime;

/// Each facility's pre-shared keys per peer. Every issue, rotation, view, export and withdrawal is audited in
/// its own transaction; no audit detail carries a key or its sealed form.
#[async_trait::async_trait]
pub trait RouterPsks: Send + Sync {
    /// Keep `new` as the current key of its facility and peer. The keys working until now are rotated out:
    /// they retire after `overlap_secs` (clamped, `hcpki_model::overlap`). Audited as `psk.issue` (no key
    /// before) or `psk.rotate` (with the rotated-out ids and when they stop). Refused with
    /// [`StoreError::FacilityState`] unless the facility may enroll (approved or active).
    async fn psk_issue(
        &self,
        new: &RouterPskRecord,
        overlap_secs: i64,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// The key `key_id` of `facility` for a view by its administrator, audited as `psk.view`.
    /// [`StoreError::PskUnavailable`] when it is another facility's, withdrawn, or past its overlap.
    async fn psk_view(
        &self,
        facility: &FacilityId,
        key_id: &str,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<RouterPskRecord, StoreError>;

    /// Withdraw the working key `key_id` of `facility` now, audited as `psk.withdraw` with `reason`.
    /// [`StoreError::PskUnavailable`] when it is another facility's, already withdrawn, or past its overlap.
    async fn psk_withdraw(
        &self,
        facility: &FacilityId,
        key_id: &str,
        reason: &str,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<RouterPskRecord, StoreError>;

    /// Every kept key of `facility`, newest first (sealed forms included for the caller's use, not display).
    async fn psk_list(&self, facility: &FacilityId) -> Result<Vec<RouterPskRecord>, StoreError>;

    /// The keys working for `peer` at the time `at`, for the hub's secrets file; audited as
    /// `psk.hub_export` with their ids.
    async fn psk_hub_export(&self, peer: &str, actor: &Actor, at: UnixTime)
    -> Result<Vec<RouterPskRecord>, StoreError>;
}
