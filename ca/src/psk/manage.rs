//! The operations on routers' pre-shared keys, one each for the CLI (`hcpki psk`), the admin API and the
//! console (D156, D168): make and keep a key, view one, withdraw one, export the hub's working set. Each opens
//! or seals with the key the caller passes (the portal secret's PSK seal) and stores through [`RouterPsks`],
//! which audits; a key for a registered router is checked against the router register first.

use super::{HubFormat, NewPsk, PskError, Vendor};
use crate::router_register::{self, RegisterError};
use crate::store::router::RouterAuth;
use crate::store::router_psk::RouterPskRecord;
use crate::store::{RouterPsks, Store, StoreError};
use hcpki_model::{Actor, FacilityId, UnixTime};
use hcpki_pkix::seal::SealKey;
use zeroize::Zeroizing;

/// What an administrator asks for: a key of `facility` for `peer`, for a router of `vendor`.
#[derive(Debug, Clone)]
pub struct PskRequest {
    /// The facility whose router holds the key.
    pub facility: FacilityId,
    /// The hub (peer) it authenticates to.
    pub peer: String,
    /// The router's IKE identity (the hub's secrets file keys the key by it).
    pub remote_id: String,
    /// The router's vendor: decides the length and syntax.
    pub vendor: Vendor,
    /// Fewer characters than the vendor's longest (none: the longest).
    pub len: Option<usize>,
    /// How long the key it replaces keeps working (seconds, clamped to 30 days).
    pub overlap_secs: i64,
    /// The facility's registered router the key is for (`hcpki router list`): it must authenticate with a PSK;
    /// required while only approved models are accepted (D168).
    pub router: Option<String>,
}

/// An issued key: its record, and the key itself to show once.
#[derive(Debug)]
pub struct Issued {
    /// What is kept (sealed).
    pub record: RouterPskRecord,
    /// The key.
    pub key: NewPsk,
}

/// Make a key for `req` and keep it, rotating out the facility's current key for the peer. A key for a
/// certificate router, or (with `approved_models_only` on) for a model off the list or no registered router, is
/// refused and audited before anything is made.
pub async fn issue(
    store: &dyn Store,
    seal: &SealKey,
    req: &PskRequest,
    actor: &Actor,
    at: UnixTime,
) -> Result<Issued, ManageError> {
    router_register::check(store, &req.facility, req.router.as_deref(), RouterAuth::Psk, actor, at).await?;
    let id_bytes = hcpki_pkix::keys::random_secret(8).map_err(|_| PskError::NoRandom)?;
    let key_id = format!("psk-{}", hex::encode(id_bytes.as_slice()));
    let key = super::issue(seal, req.vendor, req.len, req.facility.as_str(), &req.peer, &key_id)?;
    let record = RouterPskRecord {
        key_id,
        facility_id: req.facility.clone(),
        peer: req.peer.clone(),
        remote_id: req.remote_id.clone(),
        vendor: req.vendor.as_str().to_owned(),
        sealed: key.sealed.clone(),
        created_by: actor.as_str().to_owned(),
        created_at: at.as_secs(),
        retires_at: None,
        withdrawn_at: None,
    };
    store.psk_issue(&record, req.overlap_secs, actor, at).await?;
    Ok(Issued { record, key })
}

/// The key `key_id` of `facility`, opened for its administrator (audited as `psk.view` by the store).
pub async fn view(
    store: &dyn RouterPsks,
    seal: &SealKey,
    facility: &FacilityId,
    key_id: &str,
    actor: &Actor,
    at: UnixTime,
) -> Result<(RouterPskRecord, Zeroizing<String>), ManageError> {
    let record = store.psk_view(facility, key_id, actor, at).await?;
    let key = super::open(seal, &record.sealed, record.facility_id.as_str(), &record.peer, &record.key_id)?;
    Ok((record, key))
}

/// Withdraw the working key `key_id` of `facility` at once (an operator's decision: a router lost or its
/// configuration leaked), audited as `psk.withdraw` with `reason`; the hub refuses it after its next reload.
pub async fn withdraw(
    store: &dyn RouterPsks,
    facility: &FacilityId,
    key_id: &str,
    reason: &str,
    actor: &Actor,
    at: UnixTime,
) -> Result<RouterPskRecord, ManageError> {
    Ok(store.psk_withdraw(facility, key_id, reason, actor, at).await?)
}

/// The secrets file for `peer`'s hub, whose own IKE identity is `hub_id`: every key working at `at` (audited as
/// `psk.hub_export`).
pub async fn hub_secrets(
    store: &dyn RouterPsks,
    seal: &SealKey,
    peer: &str,
    hub_id: &str,
    format: HubFormat,
    actor: &Actor,
    at: UnixTime,
) -> Result<Zeroizing<String>, ManageError> {
    let mut keys = Vec::new();
    for r in store.psk_hub_export(peer, actor, at).await? {
        let key = super::open(seal, &r.sealed, r.facility_id.as_str(), &r.peer, &r.key_id)?;
        keys.push((r.remote_id, key));
    }
    Ok(super::hub_secrets(format, hub_id, &keys))
}

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManageError {
    /// The key could not be made, sealed or opened.
    #[error(transparent)]
    Psk(#[from] PskError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The router register refused the key (D168).
    #[error(transparent)]
    Register(#[from] RegisterError),
}
