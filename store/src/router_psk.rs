//! Routers' managed pre-shared keys as the store keeps them (issue #50 item 1, D156): sealed, never in clear.
//! Making, sealing and opening the keys is `hcpki_ca::psk`; this is the row.

use crate::facility::FacilityId;

/// One kept key of one facility for one peer (the hub).
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct RouterPskRecord {
    /// Its id (random, named in the audit log and the hub's file, never secret).
    pub key_id: String,
    /// The facility whose router holds it.
    pub facility_id: FacilityId,
    /// The peer (hub) it authenticates to.
    pub peer: String,
    /// The facility router's IKE identity, which the hub's secrets file keys it by.
    pub remote_id: String,
    /// The router vendor it was made for (`hcpki_ca::psk::Vendor::as_str`).
    pub vendor: String,
    /// The sealed key (not serialized: an API answer never carries it).
    #[serde(skip)]
    pub sealed: String,
    /// Who issued it.
    pub created_by: String,
    /// When (Unix seconds).
    pub created_at: i64,
    /// After a rotation, when it stops working; none while it is the current key.
    pub retires_at: Option<i64>,
    /// When it was withdrawn (the facility suspended or retired); it never works again.
    pub withdrawn_at: Option<i64>,
}

impl std::fmt::Debug for RouterPskRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterPskRecord")
            .field("key_id", &self.key_id)
            .field("facility_id", &self.facility_id)
            .field("peer", &self.peer)
            .field("retires_at", &self.retires_at)
            .field("withdrawn_at", &self.withdrawn_at)
            .finish_non_exhaustive()
    }
}

impl RouterPskRecord {
    /// Whether the hub accepts it at `now`: not withdrawn, and current or inside its overlap window.
    pub fn works_at(&self, now: i64) -> bool {
        self.withdrawn_at.is_none() && hcpki_model::overlap::works_at(self.retires_at, now)
    }
}
