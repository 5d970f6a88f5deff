//! Regional networks (地域医療連携ネットワーク, issue #49 item 2, D169): the declared groups of facilities and
//! relying services whose members may check a consent that names the group, and the consents that name one.

use crate::audit::AuditEvent;
use crate::consent::ConsentRecord;
use crate::error::StoreError;
use hcpki_model::UnixTime;

/// One declared network as kept (migration 0045): what the 共同利用 notice says and who its members are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkRecord {
    /// Its name (`a-z 0-9 . _ -`, 1–64), which templates and services name.
    pub name: String,
    /// What people call it (「〇〇地域医療連携ネットワーク」).
    pub title: String,
    /// 管理責任者: the party responsible for the shared records.
    pub responsible_name: String,
    /// How patients reach the responsible party (address, telephone, office).
    pub responsible_contact: String,
    /// 共同して利用される個人データの項目.
    pub items: String,
    /// 利用する者の利用目的.
    pub purpose: String,
    /// 共同して利用する者の範囲, in words.
    pub joint_users: String,
    /// The member facilities' IDs.
    pub facilities: Vec<String>,
    /// The member relying services' ids (services file).
    pub services: Vec<String>,
    /// When it was last declared (Unix seconds).
    pub declared_at: i64,
    /// Who declared it (the audit actor's text).
    pub declared_by: String,
}

/// The declared regional networks and the consents naming one.
#[async_trait::async_trait]
pub trait RegionalNetworks: Send + Sync {
    /// Declare `network` (a new one, or replace the declaration of the same name) with its audit entry `event`
    /// in one transaction.
    async fn network_declare(
        &self,
        network: &NetworkRecord,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// The network named `name`.
    async fn network(&self, name: &str) -> Result<Option<NetworkRecord>, StoreError>;

    /// Every declared network, by name.
    async fn networks(&self) -> Result<Vec<NetworkRecord>, StoreError>;

    /// The consents naming `network` that were signed (live, or withdrawn since), at most `limit`, newest
    /// first: what a member's check looks its patient reference up in.
    async fn network_consents(&self, network: &str, limit: i64) -> Result<Vec<ConsentRecord>, StoreError>;

    /// The consents naming `network` withdrawn at or after `since`, oldest first, at most `limit`: the members'
    /// withdrawal feed.
    async fn network_withdrawn_since(
        &self,
        network: &str,
        since: UnixTime,
        limit: i64,
    ) -> Result<Vec<ConsentRecord>, StoreError>;
}
