//! What the CA side offers ACME, declared by the protocol and implemented by [`crate::Authority`]: below the
//! dispatcher (`acme`) and its handlers (`account`, `issuance`), which all use it.

use super::order::{AcmeAccount, AcmeOrder};
use super::problem::Problem;
use crate::enroll::{EnrollError, Grant};
use crate::facility::FacilityId;
use hcpki_model::{AcmeAccountId, AcmeOrderId, UnixTime};
use zeroize::Zeroizing;

/// What the CA side offers ACME: declared here, implemented by [`crate::Authority`].
#[async_trait::async_trait]
pub trait AcmeAuthority: Send + Sync + std::fmt::Debug {
    /// Now, by the CA's clock (orders' expiry and challenges' validation times).
    fn now(&self) -> UnixTime;

    /// Make and record a fresh nonce.
    async fn new_nonce(&self) -> Result<String, Problem>;

    /// Consume a nonce: `true` exactly once for a nonce issued and unexpired.
    async fn take_nonce(&self, nonce: &str) -> Result<bool, Problem>;

    /// The EAB HMAC key of ACME credential `kid`, derived from the enrollment key; `None` when no such
    /// credential exists.
    async fn eab_key(&self, kid: &str) -> Result<Option<Zeroizing<Vec<u8>>>, Problem>;

    /// Redeem credential `kid` (its secret being the derived EAB key, base64url): single use, audited.
    async fn redeem(&self, kid: &str, secret: &str) -> Result<Grant, EnrollError>;

    /// Give a redeemed credential back because the account could not be recorded.
    async fn release(&self, kid: &str, reason: &str);

    /// The domain a facility's identifiers live under (`<facility-id>.<router zone>`).
    fn facility_domain(&self, facility: &FacilityId) -> String;

    /// Record a new account (audited `acme.account.create`).
    async fn create_account(&self, account: &AcmeAccount) -> Result<(), Problem>;

    /// One account.
    async fn account(&self, id: &AcmeAccountId) -> Result<Option<AcmeAccount>, Problem>;

    /// The account with this key thumbprint.
    async fn account_by_thumbprint(&self, thumbprint: &str) -> Result<Option<AcmeAccount>, Problem>;

    /// Store a changed account (key, status, contact), audited as `acme.account.<action>`.
    async fn update_account(&self, account: &AcmeAccount, action: &str) -> Result<(), Problem>;

    /// Record a new order (audited `acme.order.create`).
    async fn create_order(&self, order: &AcmeOrder, account: &AcmeAccount) -> Result<(), Problem>;

    /// One order.
    async fn order(&self, id: &AcmeOrderId) -> Result<Option<AcmeOrder>, Problem>;

    /// Store `order` if nobody changed it since it was read at `order.version - 1`: `false` when another
    /// request did (the caller re-reads).
    async fn update_order(&self, order: &AcmeOrder) -> Result<bool, Problem>;

    /// Issue for the account's facility and profile with this CSR and name request (the EST pipeline).
    async fn issue(
        &self,
        account: &AcmeAccount,
        csr: crate::csr::Csr,
        sans: Vec<String>,
        device: Option<String>,
    ) -> Result<Vec<u8>, EnrollError>;

    /// A certificate this CA issued, with its chain (leaf first, root excluded).
    async fn certificate(&self, serial: &str) -> Result<Option<IssuedCertificate>, Problem>;

    /// The account whose order was finalized with certificate `serial`; `None` for certificates ACME did not
    /// issue (EST, SCEP, operators).
    async fn ordered_by(&self, serial: &str) -> Result<Option<AcmeAccountId>, Problem>;

    /// Mark a certificate revoked with its RFC 5280 reason code (audited `cert.revoke`).
    async fn revoke(&self, serial: &str, reason: u8, actor: &crate::store::Actor) -> Result<(), Problem>;

    /// Audit a refused request.
    async fn refused(&self, operation: &str, reason: &str);
}

/// A certificate as revocation and download need it.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    /// Its serial.
    pub serial: String,
    /// Its facility.
    pub facility: Option<FacilityId>,
    /// SHA-256 of its SubjectPublicKeyInfo (hex).
    pub spki_sha256: String,
    /// Whether it is revoked.
    pub revoked: bool,
    /// Leaf and issuing CA, DER.
    pub chain: Vec<Vec<u8>>,
    /// During a root rollover, the link certificate (DER) that extends `chain` to the other root generation:
    /// served as the alternate chain (RFC 8555 §7.4.2, D165).
    pub alternate: Option<Vec<u8>>,
}
