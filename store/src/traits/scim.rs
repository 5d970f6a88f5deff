//! SCIM provisioning (issue #51 item 3, D158): which confidential OIDC client is which facility's HR system,
//! and which facility each provisioned password + TOTP account belongs to.

use crate::error::StoreError;
use crate::facility::FacilityId;
use crate::records::Actor;
use crate::sso::PortalUser;
use hcpki_model::UnixTime;

/// A confidential OIDC client allowed to provision one facility's staff accounts over SCIM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimClientRecord {
    /// The OIDC client id.
    pub client_id: String,
    /// The one facility whose accounts it sees and changes.
    pub facility: FacilityId,
    /// Who registered it.
    pub added_by: String,
    /// When (Unix seconds).
    pub added_at: i64,
}

/// A staff account as SCIM sees it: the portal account and its provisioning row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimAccount {
    /// The password + TOTP account.
    pub user: PortalUser,
    /// The facility it belongs to.
    pub facility: FacilityId,
    /// The HR system's identifier for it (`externalId`).
    pub external_id: Option<String>,
    /// When SCIM last changed it (Unix seconds).
    pub updated_at: i64,
    /// Its live (not revoked) passkeys.
    pub passkeys: i64,
}

/// What a SCIM write changes on an account.
#[derive(Clone, Copy, Debug)]
pub struct ScimAccountChange<'a> {
    /// The account.
    pub username: &'a str,
    /// Its display name.
    pub display_name: &'a str,
    /// Its hcRole code.
    pub hc_role: Option<&'a str>,
    /// Its `externalId`.
    pub external_id: Option<&'a str>,
    /// A new password's argon2id hash, when the client set one.
    pub password_hash: Option<&'a str>,
}

/// SCIM provisioning, shared by every replica through the database.
#[async_trait::async_trait]
pub trait ScimAccounts: Send + Sync {
    /// Bind `record.client_id` to its facility (or move it), audited as `scim.client.put`.
    /// [`StoreError::UnknownFacility`] when the facility is not registered.
    async fn scim_client_put(&self, record: &ScimClientRecord, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// The facility binding of a client, if it has one.
    async fn scim_client(&self, client_id: &str) -> Result<Option<ScimClientRecord>, StoreError>;

    /// Every SCIM client, by id.
    async fn scim_clients(&self) -> Result<Vec<ScimClientRecord>, StoreError>;

    /// Remove a client's binding, audited as `scim.client.remove`; `false` (nothing audited) when it had none.
    async fn scim_client_remove(&self, client_id: &str, actor: &Actor, at: UnixTime) -> Result<bool, StoreError>;

    /// The accounts of `facility`, by user name.
    async fn scim_accounts(&self, facility: &FacilityId) -> Result<Vec<ScimAccount>, StoreError>;

    /// The facility an account belongs to (made by its HR system, or by `hcpki portal user add --facility`), if
    /// any: where its person sets up the second factor (D175).
    async fn scim_account_facility(&self, username: &str) -> Result<Option<FacilityId>, StoreError>;

    /// One account of `facility` (`None` when it does not exist or belongs to another facility).
    async fn scim_account(&self, facility: &FacilityId, username: &str) -> Result<Option<ScimAccount>, StoreError>;

    /// Add a password + TOTP account to `facility` in one transaction with its provisioning row, audited as
    /// `portal.user.add` with the facility in its detail; `false` (nothing written) when the name is taken
    /// (by an account of any facility: names are the installation's).
    async fn scim_account_add(
        &self,
        user: &PortalUser,
        facility: &FacilityId,
        external_id: Option<&str>,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Change an account's display name, hcRole, `externalId` and (when given) password hash, audited as
    /// `portal.user.update` (the detail says whether the password changed, never the hash); `false` (nothing
    /// changed) when `facility` has no such account.
    async fn scim_account_update(
        &self,
        facility: &FacilityId,
        change: &ScimAccountChange<'_>,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Release a (disabled) account from `facility` after a SCIM DELETE, audited as `scim.user.delete`: no SCIM
    /// client sees it any more (RFC 7644 §3.6: a deleted resource answers 404), while its row, its name and its
    /// audit trail stay. `false` when `facility` has no such account.
    async fn scim_account_release(
        &self,
        facility: &FacilityId,
        username: &str,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<bool, StoreError>;
}
