//! ACME (decision D17): nonces, accounts and orders every replica shares.

use crate::error::StoreError;
use crate::records::{AcmeAccount, AcmeOrder, Actor};
use hcpki_model::UnixTime;
use hcpki_model::{AcmeAccountId, AcmeOrderId, SerialHex};

/// ACME (decision D17): nonces, accounts and orders every replica shares.
#[async_trait::async_trait]
pub trait Acme: Send + Sync {
    /// Record a nonce handed out, valid until `expires_at`; nonces expired at `now` are swept.
    async fn acme_put_nonce(&self, nonce: &str, expires_at: UnixTime, now: UnixTime) -> Result<(), StoreError>;

    /// Delete a nonce if it exists and is unexpired at `now`: `true` for exactly one caller.
    async fn acme_take_nonce(&self, nonce: &str, now: UnixTime) -> Result<bool, StoreError>;

    /// Record a new ACME account, audited as `acme.account.create`.
    async fn acme_create_account(&self, account: &AcmeAccount, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// One ACME account.
    async fn acme_account(&self, id: &AcmeAccountId) -> Result<Option<AcmeAccount>, StoreError>;

    /// The ACME account whose key has this RFC 7638 thumbprint.
    async fn acme_account_by_thumbprint(&self, thumbprint: &str) -> Result<Option<AcmeAccount>, StoreError>;

    /// Store an account's key, status and contact, audited as `acme.account.<action>`.
    async fn acme_update_account(
        &self,
        account: &AcmeAccount,
        action: &str,
        actor: &Actor,
        at: UnixTime,
    ) -> Result<(), StoreError>;

    /// Record a new order (version 0), audited as `acme.order.create`.
    async fn acme_create_order(&self, order: &AcmeOrder, actor: &Actor, at: UnixTime) -> Result<(), StoreError>;

    /// One order.
    async fn acme_order(&self, id: &AcmeOrderId) -> Result<Option<AcmeOrder>, StoreError>;

    /// Store `order` only if the stored version is `order.version - 1`; `false` when another request
    /// changed it first.
    async fn acme_update_order(&self, order: &AcmeOrder) -> Result<bool, StoreError>;

    /// The ACME account whose order was finalized with certificate `serial`, if any: who may revoke it by
    /// account (RFC 8555 §7.6).
    async fn acme_certificate_account(&self, serial: &SerialHex) -> Result<Option<AcmeAccountId>, StoreError>;
}
