//! Deployment settings the profiles read (the `[profiles]` table of `hcpki.toml`) and the URLs they derive.

use crate::crl_shard::ShardCount;
use crate::facility::FacilityId;
use crate::profile::router::RouterEku;

/// Deployment settings profiles read (from `hcpki.toml`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileSettings {
    /// `O=` in every subject DN (ASCII keeps router DNs small; RFC 4945 §3.1).
    pub organization: String,
    /// DNS zone under which each facility owns `<facility-id>.<zone>` for router identities.
    pub router_zone: String,
    /// Domain of facility identity URIs in PC certificates: `https://<domain>/facility/<id>/device/<device>`.
    pub identity_domain: String,
    /// Base URL of the plain-HTTP publication point (CRLs, CA certificates, OCSP).
    pub http_base_url: String,
    /// Whether certificates point to the OCSP responder in AIA.
    pub ocsp_in_aia: bool,
    /// Router certificate lifetime (days).
    pub router_days: u32,
    /// PC certificate lifetime (days).
    pub pc_days: u32,
    /// Server certificate lifetime (days).
    pub server_days: u32,
    /// OCSP signer certificate lifetime (days).
    pub ocsp_days: u32,
    /// TSA certificate lifetime (days; D65).
    pub tsa_days: u32,
    /// Default router EKU variant when neither --eku nor --vendor is given.
    pub router_eku: RouterEku,
    /// CRL shards of the PC CA (0 = off, at most 4096): each new PC certificate's CRL distribution point
    /// names the shard its serial falls into (`/crl/pc-<k>.crl`) instead of the complete CRL (D20).
    pub pc_crl_shards: ShardCount,
    /// Seconds by which notBefore of certificates and thisUpdate of CRLs and OCSP answers lie before the
    /// moment of signing (at most [`MAX_BACKDATE_SECS`]): a relying party whose clock runs behind ours by less
    /// must not see a certificate, CRL or OCSP answer from the future (D-number in docs/decisions.md).
    pub backdate_secs: u32,
}

/// The largest [`ProfileSettings::backdate_secs`] honoured: an hour covers any clock a relying party could
/// still trust, and more would let a CRL look older than the revocations on it.
pub const MAX_BACKDATE_SECS: u32 = 3600;

impl Default for ProfileSettings {
    fn default() -> Self {
        Self {
            organization: "hcpki".into(),
            router_zone: "router.hcpki.example".into(),
            identity_domain: "hcpki.example".into(),
            http_base_url: "http://127.0.0.1:8080".into(),
            ocsp_in_aia: true,
            router_days: 730,
            pc_days: 397,
            server_days: 397,
            ocsp_days: 30,
            tsa_days: 1096,
            router_eku: RouterEku::None,
            pc_crl_shards: ShardCount::OFF,
            backdate_secs: 300,
        }
    }
}

impl ProfileSettings {
    /// [`ProfileSettings::backdate_secs`], capped at [`MAX_BACKDATE_SECS`].
    pub fn backdate(&self) -> i64 {
        i64::from(self.backdate_secs.min(MAX_BACKDATE_SECS))
    }

    /// The DNS name a facility owns for router identities.
    pub fn router_dns_name(&self, id: &FacilityId) -> String {
        format!("{}.{}", id.dns_label(), self.router_zone.trim_end_matches('.').to_ascii_lowercase())
    }

    /// CRL distribution point URL of a CRL by its name: a CA's complete CRL (`pc`) or one of its shards
    /// (`pc-17`, [`CrlScope::name`]).
    ///
    /// [`CrlScope::name`]: crate::revocation::shard::CrlScope::name
    pub fn crl_url(&self, name: &str) -> String {
        format!("{}/crl/{name}.crl", self.http_base_url.trim_end_matches('/'))
    }

    /// caIssuers URL of a CA's certificate (DER).
    pub fn ca_cert_url(&self, ca: &str) -> String {
        format!("{}/ca/{ca}.crt", self.http_base_url.trim_end_matches('/'))
    }

    /// OCSP responder URL for a CA's certificates.
    pub fn ocsp_url(&self, ca: &str) -> String {
        format!("{}/ocsp/{ca}", self.http_base_url.trim_end_matches('/'))
    }
}
