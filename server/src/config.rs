//! `hcpki.toml`: versioned, strict (unknown keys are errors), secrets by file.

use anyhow::{Context, Result, bail};
use hcpki_ca::profile::ProfileSettings;
use hcpki_pkix::keys::{KeyContext, Pkcs11Config};
use std::path::{Path, PathBuf};

mod admission;
mod atna;
mod retired;
mod signing;

pub use admission::AdmissionConfig;
pub use atna::AtnaConfig;
pub use signing::SigningConfig;

/// The configuration file name inside the hcpki directory.
pub const FILE: &str = "hcpki.toml";
/// The configuration format version this build reads.
pub const VERSION: u32 = 1;

/// The whole configuration.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version (1).
    pub version: u32,
    /// `sqlite:hcpki.db` (relative to the directory) or `postgres://…`.
    pub database_url: String,
    /// Software key settings.
    #[serde(default)]
    pub keys: KeysConfig,
    /// PKCS#11 module, when CA keys live in an HSM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs11: Option<Pkcs11Config>,
    /// Certificate profile settings.
    #[serde(default)]
    pub profiles: ProfileSettings,
    /// `hcpki serve` settings.
    #[serde(default, skip_serializing_if = "ServeConfig::is_default")]
    pub serve: ServeConfig,
    /// ACME challenge validation settings.
    #[serde(default, skip_serializing_if = "AcmeConfig::is_default")]
    pub acme: AcmeConfig,
    /// Card login (HPKI / JPKI) settings.
    #[serde(default, skip_serializing_if = "LoginConfig::is_default")]
    pub login: LoginConfig,
    /// The SSO portal and OpenID Connect provider; off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal: Option<PortalConfig>,
    /// The OpenID Connect provider's key rotation, back-channel logout and PAR policy (with `[portal]`).
    #[serde(default, skip_serializing_if = "OidcConfig::is_default")]
    pub oidc: OidcConfig,
    /// Per-client-address rate limits of `hcpki serve`.
    #[serde(default, skip_serializing_if = "LimitsConfig::is_default")]
    pub limits: LimitsConfig,
    /// The admission gate's bounds in front of the expensive work of `hcpki serve` (D138).
    #[serde(default, skip_serializing_if = "AdmissionConfig::is_default")]
    pub admission: AdmissionConfig,
    /// Audit retention.
    #[serde(default, skip_serializing_if = "AuditConfig::is_default")]
    pub audit: AuditConfig,
    /// Expiry monitoring: the optional webhook.
    #[serde(default, skip_serializing_if = "MonitorConfig::is_default")]
    pub monitor: MonitorConfig,
    /// The web console's sign-in by card through the portal (D42).
    #[serde(default, skip_serializing_if = "ConsoleConfig::is_default")]
    pub console: ConsoleConfig,
    /// The CAs themselves: the offline root's CRL (ARL).
    #[serde(default, skip_serializing_if = "CaConfig::is_default")]
    pub ca: CaConfig,
    /// The RFC 3161 time-stamping authority at `/tsa`; off when absent (D67).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa: Option<TsaConfig>,
    /// What signers need from outside: the time-stamping authorities they ask, in order (D70).
    #[serde(default, skip_serializing_if = "SigningConfig::is_default")]
    pub signing: SigningConfig,
    /// Patients' consents (issue #28, docs/consent.md): the signing deadline, retention and each service's
    /// consent templates.
    #[serde(default, skip_serializing_if = "hcpki_sso::consent::settings::ConsentSettings::is_default")]
    pub consent: hcpki_sso::consent::settings::ConsentSettings,
    /// The IHE audit record repository the audit log is forwarded to (ATNA, D97/D98); off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atna: Option<AtnaConfig>,
}

/// `[tsa]`: hcpki's RFC 3161 time-stamping authority (`POST /tsa`, docs/signatures.md). Its certificate is of
/// the `tsa` profile, issued and renewed by `hcpki serve` like the TLS server's.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsaConfig {
    /// The TSA policy OID every token names (required: the operator's own, from its TSA policy document).
    /// Arcs must fit 32 bits, so a `2.25.<uuid>` OID is refused: many verifiers cannot decode one.
    pub policy: String,
    /// How far genTime may lie from UTC, in seconds (1–60, default 1: tokens are dated to the second).
    #[serde(default = "one")]
    pub accuracy_secs: u32,
    /// The key, by URI (`file:…` under the hcpki directory, `pkcs11:token=…;object=…`). Default: beside the
    /// server CA's key (`keys/tsa.p8`, or object `hcpki-tsa` on its token); made on first use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

fn one() -> u32 {
    1
}

impl TsaConfig {
    /// The authority settings these make, or what is wrong with them.
    pub fn settings(&self) -> Result<hcpki_docsig::timestamp::TsaSettings> {
        let policy = self.policy.trim().parse::<const_oid::ObjectIdentifier>().with_context(|| {
            format!("[tsa] policy {:?} is not an OID with arcs below 2^32: use the OID of your TSA policy", self.policy)
        })?;
        if !(1..=60).contains(&self.accuracy_secs) {
            bail!("[tsa] accuracy_secs must be 1 to 60 (it is {})", self.accuracy_secs);
        }
        let accuracy =
            hcpki_docsig::timestamp::Accuracy { seconds: Some(self.accuracy_secs), millis: None, micros: None };
        Ok(hcpki_docsig::timestamp::TsaSettings { policy, accuracy })
    }
}

/// `[ca]`: the offline root's CRL (ARL, docs/deployment.md "Offline root"): how long `hcpki ca sign-arl` makes
/// it valid, and how long before its nextUpdate `hcpki ca status` starts warning.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaConfig {
    /// Days from an ARL's thisUpdate to its nextUpdate (1–365, default 365: the twelve months the CA/Browser
    /// Forum Baseline Requirements §4.9.7 allow for a CRL of CA certificates). Hold the next ceremony well
    /// before: the ARL's end is the end of every chain.
    pub root_crl_days: u32,
    /// `hcpki ca status` exits 1 when the served ARL ends within this many days (default 60).
    pub root_crl_warn_days: u32,
    /// The issuance stop switch (D135, D141): minutes within which two different operators' approvals resume a
    /// halt (5–1440, default 60). An approval older than this no longer counts.
    pub resume_approval_minutes: u32,
    /// The stop switch: the `Retry-After` (seconds, 1–86400, default 600) EST, ACME, SCEP and the admin API
    /// answer while issuance is halted.
    pub halt_retry_after_secs: u32,
}

impl Default for CaConfig {
    fn default() -> Self {
        let halt = hcpki_ca::halt::HaltSettings::default();
        Self {
            root_crl_days: hcpki_ca::revocation::arl::MAX_ARL_DAYS,
            root_crl_warn_days: 60,
            resume_approval_minutes: u32::try_from(halt.approval_window.as_secs() / 60).unwrap_or(60),
            halt_retry_after_secs: u32::try_from(halt.retry_after_secs).unwrap_or(600),
        }
    }
}

impl CaConfig {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// The stop switch's settings.
    pub fn halt(&self) -> hcpki_ca::halt::HaltSettings {
        hcpki_ca::halt::HaltSettings {
            approval_window: std::time::Duration::from_secs(u64::from(self.resume_approval_minutes) * 60),
            retry_after_secs: u64::from(self.halt_retry_after_secs),
        }
    }

    fn check(&self) -> Result<()> {
        if !(5..=1440).contains(&self.resume_approval_minutes) {
            bail!(
                "[ca] resume_approval_minutes = {}: use 5 to 1440 (the minutes within which two operators' \
                 approvals resume a halted issuance)",
                self.resume_approval_minutes
            );
        }
        if !(1..=86_400).contains(&self.halt_retry_after_secs) {
            bail!(
                "[ca] halt_retry_after_secs = {}: use 1 to 86400 (what halted EST, ACME and SCEP clients are told \
                 to wait)",
                self.halt_retry_after_secs
            );
        }
        let max = hcpki_ca::revocation::arl::MAX_ARL_DAYS;
        if !(1..=max).contains(&self.root_crl_days) {
            bail!("[ca] root_crl_days = {}: use 1 to {max}", self.root_crl_days);
        }
        if self.root_crl_warn_days >= self.root_crl_days {
            bail!(
                "[ca] root_crl_warn_days = {} must be below root_crl_days = {}, or every ARL would warn at once",
                self.root_crl_warn_days,
                self.root_crl_days
            );
        }
        Ok(())
    }
}

/// `[console]`: how long a console sign-in through the SSO portal lasts (D42). Certificate sign-in has no
/// session and is unaffected.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Hours a console session lasts at most from the sign-in (1–24, default 8); it ends earlier with the
    /// portal session behind it.
    pub session_hours: u32,
    /// Minutes without a request after which the console session ends (5–480, default 30).
    pub idle_minutes: u32,
    /// The console's external URL, `https://host[:port]` as browsers reach it (through a load balancer, its
    /// name and port). The portal sends a console sign-in back only to `<url>/console/login/callback`, exactly;
    /// without it, console sign-in through the portal is off (certificate sign-in still works). There is no
    /// default: the server certificate's loopback names are no redirect target (issue #24 item 12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self { session_hours: 8, idle_minutes: 30, url: None }
    }
}

impl ConsoleConfig {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// The absolute and idle lifetimes, clamped to their ranges.
    pub fn lifetimes(&self) -> (std::time::Duration, std::time::Duration) {
        let hours = u64::from(self.session_hours.clamp(1, 24));
        let minutes = u64::from(self.idle_minutes.clamp(5, 480));
        (std::time::Duration::from_secs(hours * 3600), std::time::Duration::from_secs(minutes * 60))
    }

    /// The one redirect URI of the console's sign-in, `<url>/console/login/callback`, when `url` is set; an
    /// error naming the key when `url` is not an `https://host[:port]` origin.
    pub fn callback(&self) -> Result<Option<String>> {
        let Some(url) = &self.url else { return Ok(None) };
        let origin = url.strip_suffix('/').unwrap_or(url);
        let parsed: axum::http::Uri =
            origin.parse().with_context(|| format!("[console] url = {url:?} is not a URL"))?;
        let plain = parsed.scheme_str() == Some("https")
            && parsed.host().is_some_and(|h| !h.is_empty())
            && !parsed.authority().is_some_and(|a| a.as_str().contains('@'))
            && parsed.path_and_query().is_none_or(|p| p.as_str().is_empty() || p.as_str() == "/");
        if !plain {
            bail!(
                "[console] url = {url:?}: use the console's external origin, https://host[:port] (no path, query or \
                 user name), e.g. https://ca.example.jp:8443"
            );
        }
        Ok(Some(format!("{origin}{}", hcpki_sso::oidc::client::CONSOLE_CALLBACK_PATH)))
    }
}

/// `[audit]`: how long entries stay in the database before `hcpki audit prune` archives them (keep forever
/// when absent).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Days of entries kept in the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

impl AuditConfig {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

/// `[monitor]`: the expiry webhook (`monitor`): certificates of `profiles` expiring within `expiry_days` with
/// no successor are POSTed as JSON to `expiry_webhook`, each once, checked every `check_every_secs`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorConfig {
    /// https:// (or facility-network http://) URL; off when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_webhook: Option<String>,
    /// https:// (or facility-network http://) URL told of every break-glass use (D94); off when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub break_glass_webhook: Option<String>,
    /// The window, in days (1–365).
    pub expiry_days: u32,
    /// Profiles to report: the facility certificates by default (the server renews its own).
    pub profiles: Vec<String>,
    /// Seconds between checks (at least 10).
    pub check_every_secs: u32,
    /// PEM CA certificates the webhook's server certificate may chain to, beside the public WebPKI roots
    /// (relative to the hcpki directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            expiry_webhook: None,
            break_glass_webhook: None,
            expiry_days: 30,
            profiles: vec!["router".into(), "pc".into()],
            check_every_secs: 3600,
            ca_file: None,
        }
    }
}

impl MonitorConfig {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

/// `[limits]`: requests per minute per client address, shared by the replicas of one database
/// (`app::rate_limit`; 0 turns a class off).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// EST, SCEP, ACME and facility applications (an ACME order takes about ten requests).
    pub enroll_per_minute: u32,
    /// OCSP requests and CRL downloads.
    pub revocation_per_minute: u32,
    /// The portal's password and card sign-in posts (password guesses per account are limited separately,
    /// across replicas).
    pub login_per_minute: u32,
    /// Seconds between a replica's syncs of its counts with the database (the other replicas' counts reach its
    /// decisions this late); 0: each replica limits alone.
    pub sync_secs: u32,
    /// Reverse proxies (`10.0.0.0/8`, `192.0.2.7`) whose `X-Forwarded-For` names the client.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        // A clinic behind one NAT address renewing all its PCs at once stays well inside these; a loop or a
        // flood from one address does not.
        Self {
            enroll_per_minute: 600,
            revocation_per_minute: 6000,
            login_per_minute: 120,
            sync_secs: 1,
            trusted_proxies: Vec::new(),
        }
    }
}

impl LimitsConfig {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

/// `[oidc]`: token signing key rotation and back-channel logout delivery (D25), and whether every
/// authorization request must be pushed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// Make a new signing key generation when the current one is this old (`"30d"`); only by
    /// `hcpki oidc rotate-key` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate_every: Option<Period>,
    /// How long a retired generation stays in the JWKS; never less than the longest token lifetime, which
    /// is also the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retire_after: Option<Period>,
    /// How often every server looks at the key list, picking up rotations without a restart (default 60 s).
    pub check_every: Period,
    /// PEM CA certificates (relative to the hcpki directory) trusted for https back-channel logout
    /// endpoints besides the public WebPKI roots: the facility network's own services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_ca_file: Option<PathBuf>,
    /// Take authorization requests only when pushed (PAR, RFC 9126), from every client: `/authorize` refuses
    /// plain ones, and discovery says so (RFC 9126 §5). Off by default: a client registered with
    /// `--require-par` is held to it either way (FAPI 2.0 clients beside others).
    pub require_pushed_authorization_requests: bool,
    /// Whether clients the operator registers with a secret (`client_secret_basic`, `client_secret_post`:
    /// packaged modules that cannot hold a key) may authenticate (issue #30). On by default, since a client
    /// gets a secret only when registered so; `false` refuses every secret and takes the methods out of
    /// discovery. Requiring PAR of every client refuses secrets too (FAPI 2.0 allows keys only).
    pub client_secrets: bool,
    /// Whether DPoP proofs (RFC 9449) must carry a nonce this server issued (§8: `use_dpop_nonce` and a
    /// `DPoP-Nonce` header answer a proof without one). On by default: a nonce limits a proof made ahead of
    /// time (by code that stole the client's signing ability, not its key) to minutes. The nonces need no
    /// table: replicas sharing the portal secret accept each other's.
    pub dpop_nonce: bool,
    /// IHE IUA's `home_community_id` of this deployment (a URN OID, `urn:oid:…`): in the `ihe_iua` claims of
    /// services that ask for them (D93); left out of the tokens when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_community_id: Option<hcpki_sso::oidc::iua::HomeCommunityId>,
}

impl OidcConfig {
    /// Whether client secrets are accepted: allowed, and not every request pushed (FAPI).
    pub fn secrets_allowed(&self) -> bool {
        self.client_secrets && !self.require_pushed_authorization_requests
    }
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            rotate_every: None,
            retire_after: None,
            check_every: Period(60),
            backchannel_ca_file: None,
            require_pushed_authorization_requests: false,
            client_secrets: true,
            dpop_nonce: true,
            home_community_id: None,
        }
    }
}

impl OidcConfig {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

/// A period written `"30d"`, `"12h"`, `"15m"` or `"45s"`, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period(pub u64);

impl TryFrom<String> for Period {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let bad = || format!("period {text:?}: write a positive number with d, h, m or s, e.g. \"30d\"");
        let split = text.len().checked_sub(1).ok_or_else(bad)?;
        let (number, unit) = (text.get(..split).ok_or_else(bad)?, text.get(split..).ok_or_else(bad)?);
        let scale = match unit {
            "d" => 86_400,
            "h" => 3_600,
            "m" => 60,
            "s" => 1,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        match n.checked_mul(scale) {
            Some(secs) if secs > 0 => Ok(Self(secs)),
            _ => Err(bad()),
        }
    }
}

impl From<Period> for String {
    fn from(p: Period) -> Self {
        format!("{}s", p.0)
    }
}

/// `[acme]`: where ACME challenge validation connects (decision D17). Defaults are RFC 8555's ports and
/// normal DNS; the overrides exist for closed networks (a facility's PCs not in public DNS) and tests.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AcmeConfig {
    /// Port of http-01 validation (RFC 8555 §8.3: 80).
    pub http01_port: u16,
    /// Port of tls-alpn-01 validation (RFC 8737: 443).
    pub tlsalpn01_port: u16,
    /// Static name → IP address resolution used instead of DNS: an exact name, or a key starting with `.`
    /// for every name under it (the longest match wins).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub resolve: std::collections::BTreeMap<String, std::net::IpAddr>,
    /// Internal address ranges DNS answers may still be validated at, e.g. `["10.0.0.0/8", "fd00::/8"]` for a
    /// closed network. Without them validation refuses loopback, private, link-local, ULA, CGNAT and the other
    /// internal ranges a name resolves to (issue #24, item 11); names in `resolve` are not checked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_addresses: Vec<hcpki_ca::ip_prefix::IpPrefix>,
}

impl Default for AcmeConfig {
    fn default() -> Self {
        Self { http01_port: 80, tlsalpn01_port: 443, resolve: Default::default(), allow_addresses: Vec::new() }
    }
}

impl AcmeConfig {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

/// `[serve]`: settings of `hcpki serve`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// DNS names and IP addresses the server certificate carries; empty means localhost, 127.0.0.1 and ::1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_names: Vec<String>,
    /// SCEP endpoints by name (`/scep/<name>`): `router` and `pc` always exist with the defaults; more names
    /// may be added for devices that need other switches (e.g. `juniper` with `profile = "router"`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scep: std::collections::BTreeMap<String, ScepEndpointConfig>,
    /// The OCSP responder.
    #[serde(default, skip_serializing_if = "OcspConfig::is_default")]
    pub ocsp: OcspConfig,
}

/// `[serve.ocsp]`: how the OCSP responder makes and keeps answers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OcspConfig {
    /// Validity of a `good`/`revoked` answer (nextUpdate − thisUpdate), in hours; re-signed half-way. A
    /// relying party that caches an answer learns of a revocation at most this late.
    pub validity_hours: u32,
    /// At most this many pre-signed answers in memory (about 1 KB each).
    pub cache_entries: usize,
}

impl Default for OcspConfig {
    fn default() -> Self {
        let d = hcpki_ca::revocation::ocsp::ResponderSettings::default();
        Self { validity_hours: (d.validity_secs / 3600) as u32, cache_entries: d.cache_entries }
    }
}

impl OcspConfig {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// The responder settings these make, thisUpdate back-dated as `profiles` back-dates certificates and CRLs.
    pub fn settings(&self, profiles: &ProfileSettings) -> hcpki_ca::revocation::ocsp::ResponderSettings {
        hcpki_ca::revocation::ocsp::ResponderSettings {
            validity_secs: i64::from(self.validity_hours.clamp(1, 168)) * 3600,
            cache_entries: self.cache_entries,
            backdate_secs: profiles.backdate(),
            ..Default::default()
        }
    }
}

/// `[serve.scep.<name>]`: one SCEP endpoint's switches.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScepEndpointConfig {
    /// The profile it enrolls (`router` or `pc`); defaults to the endpoint's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Accept DES and 3DES envelopes and advertise DES3 (old Juniper, MikroTik). Off by default.
    #[serde(default)]
    pub legacy_ciphers: bool,
    /// Put the issuing CA certificate in the CertRep beside the new certificate (Cisco IOS wants it; Juniper
    /// refuses it). On by default.
    #[serde(default = "yes")]
    pub include_ca: bool,
}

impl Default for ScepEndpointConfig {
    fn default() -> Self {
        Self { profile: None, legacy_ciphers: false, include_ca: true }
    }
}

fn yes() -> bool {
    true
}

impl ServeConfig {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

/// Software key settings.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// File with the passphrase that encrypts software CA keys at rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase_file: Option<PathBuf>,
    /// The passphrase as a systemd credential instead (`LoadCredential=NAME:…`, D136): read from
    /// `$CREDENTIALS_DIRECTORY/NAME`, so the service user never holds it in a file of its own. Takes the place of
    /// `passphrase_file`; a start without the credential fails naming it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase_credential: Option<String>,
}

/// A loaded configuration and where it lives.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The hcpki directory.
    pub dir: PathBuf,
    /// The configuration.
    pub config: Config,
    /// The database URL in force (CLI/env override, else the file's, relative SQLite paths resolved).
    pub database_url: String,
    /// The software keys' passphrase file: `[keys] passphrase_file` under the directory, or the credential
    /// `[keys] passphrase_credential` names.
    passphrase: Option<PathBuf>,
}

impl Loaded {
    /// Read `DIR/hcpki.toml`; a passphrase credential is looked for in the process's `$CREDENTIALS_DIRECTORY`,
    /// where systemd puts what the unit's `LoadCredential=` lines load.
    pub fn read(dir: &Path, database_url: Option<&str>) -> Result<Self> {
        let credentials = std::env::var_os(crate::systemd::CREDENTIALS_DIRECTORY).map(PathBuf::from);
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {}: is {} an hcpki directory? Create one with `hcpki init --dir {}`",
                path.display(),
                dir.display(),
                dir.display()
            )
        })?;
        retired::check(&text, retired::RETIRED).with_context(|| format!("{} needs a change", path.display()))?;
        let config: Config =
            toml::from_str(&text).with_context(|| format!("{} is not a valid hcpki configuration", path.display()))?;
        if config.version != VERSION {
            bail!("{} has version {}, this hcpki reads version {VERSION}", path.display(), config.version);
        }
        // Checked here so that any command, not only the portal with card login on, refuses a bad entry.
        config.login.role_texts().with_context(|| format!("{} has a bad [login] entry", path.display()))?;
        config.ca.check().with_context(|| format!("{} has a bad [ca] entry", path.display()))?;
        config.consent.check().with_context(|| format!("{} has a bad [consent] entry", path.display()))?;
        config.console.callback().with_context(|| format!("{} has a bad [console] entry", path.display()))?;
        if let Some(portal) = &config.portal {
            hcpki_sso::oidc::iua::access_token_secs(portal.access_token_secs)
                .with_context(|| format!("{} has a bad [portal] entry", path.display()))?;
            portal.enrolment_rule().with_context(|| format!("{} has a bad [portal] entry", path.display()))?;
        }
        config.signing.endpoints(dir).with_context(|| format!("{} has a bad [signing] entry", path.display()))?;
        config.admission.check().with_context(|| format!("{} has a bad [admission] entry", path.display()))?;
        if let Some(atna) = &config.atna {
            atna.check().with_context(|| format!("{} has a bad [atna] entry", path.display()))?;
        }
        let database_url = resolve_database_url(dir, database_url.unwrap_or(&config.database_url));
        let passphrase = match (&config.keys.passphrase_credential, &config.keys.passphrase_file) {
            (Some(_), Some(_)) => bail!(
                "{} sets both [keys] passphrase_file and passphrase_credential: keep one (the credential, under \
                 systemd)",
                path.display()
            ),
            (Some(name), None) => Some(crate::systemd::credential(credentials.as_deref(), name)?),
            (None, file) => file.as_ref().map(|p| dir.join(p)),
        };
        Ok(Self { dir: dir.to_owned(), config, database_url, passphrase })
    }

    /// Where keys are found.
    pub fn key_context(&self) -> KeyContext {
        KeyContext {
            base_dir: self.dir.clone(),
            passphrase_file: self.passphrase.clone(),
            pkcs11: self.config.pkcs11.clone(),
        }
    }
}

/// Resolve `sqlite:relative.db` against the directory.
pub fn resolve_database_url(dir: &Path, url: &str) -> String {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
    match rest {
        Some(path) if !path.starts_with('/') && !path.starts_with(":memory:") => {
            format!("sqlite:{}", dir.join(path).display())
        }
        _ => url.to_owned(),
    }
}

/// Write a new configuration; never overwrite one.
pub fn write_new(dir: &Path, config: &Config) -> Result<()> {
    let path = dir.join(FILE);
    let text = file_text(config)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {} (does it exist already?)", path.display()))?;
    std::io::Write::write_all(&mut f, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// Replace the directory's configuration with `config`, as `init` writes it (comments of a hand-edited file
/// are not kept): written beside it, then renamed over it, so a reader sees the old file or the new one.
pub fn rewrite(dir: &Path, config: &Config) -> Result<()> {
    let path = dir.join(FILE);
    let next = dir.join(format!("{FILE}.new"));
    std::fs::write(&next, file_text(config)?).with_context(|| format!("cannot write {}", next.display()))?;
    std::fs::rename(&next, &path).with_context(|| format!("cannot replace {}", path.display()))
}

fn file_text(config: &Config) -> Result<String> {
    Ok(format!(
        "# hcpki configuration (docs/operator-guide.md). Unknown keys are errors.\n{}",
        toml::to_string_pretty(config).context("cannot serialise the configuration")?
    ))
}

/// `[login]`: card login (docs/portal.md "Card login", decision D23). Without anchors card login is off.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginConfig {
    /// The portal's own origin (`https://portal.example`): challenges are issued for it and the signed
    /// message is rebuilt from it, never from what the browser says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Lifetime of a login challenge, seconds.
    pub challenge_ttl_secs: u32,
    /// HPKI trust anchors: certificate files (PEM or DER) or directories of them, relative to the hcpki directory.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hpki_anchors: Vec<PathBuf>,
    /// JPKI trust anchors (a separate set: a JPKI path never yields an HPKI login).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jpki_anchors: Vec<PathBuf>,
    /// Intermediate CA certificates (e.g. the HPKI authentication CAs), when cards do not send them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub intermediates: Vec<PathBuf>,
    /// Where the CRL cache fetches CRLs (`http://…` or `file:…`): the CRLs of every CA that issues card
    /// certificates or intermediates. Only these are ever fetched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub crl_urls: Vec<String>,
    /// A missing or stale CRL: `fail-closed` (refuse the login, default) or `fail-open` (allow, log, mark).
    pub revocation: hcpki_sso::login::RevocationPolicy,
    /// Further hcRole certificate free texts → hcpki role codes (`{ "Dentist" = "dentist" }`), on top of the
    /// built-in confirmed texts (D39). Exact match. Add only texts checked against the HPKI CP §7.1.2 table or
    /// real certificates.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub hc_role_texts: std::collections::BTreeMap<String, String>,
}

impl Default for LoginConfig {
    fn default() -> Self {
        Self {
            origin: None,
            challenge_ttl_secs: hcpki_sso::login::challenge::DEFAULT_TTL_SECS,
            hpki_anchors: Vec::new(),
            jpki_anchors: Vec::new(),
            intermediates: Vec::new(),
            crl_urls: Vec::new(),
            revocation: hcpki_sso::login::RevocationPolicy::default(),
            hc_role_texts: std::collections::BTreeMap::new(),
        }
    }
}

impl LoginConfig {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// The configured anchors and intermediates, paths resolved against the hcpki directory `dir`.
    pub fn trust_anchors(&self, dir: &Path) -> Result<hcpki_sso::login::TrustAnchors> {
        let resolve = |paths: &[PathBuf]| paths.iter().map(|p| dir.join(p)).collect::<Vec<_>>();
        hcpki_sso::login::TrustAnchors::load(
            &resolve(&self.hpki_anchors),
            &resolve(&self.jpki_anchors),
            &resolve(&self.intermediates),
        )
        .context("[login] trust anchors")
    }

    /// The hcRole texts: the built-in ones plus `hc_role_texts`, each entry checked.
    pub fn role_texts(&self) -> Result<hcpki_sso::login::hc_role::RoleTexts> {
        Ok(hcpki_sso::login::hc_role::RoleTexts::new(&self.hc_role_texts)?)
    }

    /// The verifier and its (empty) CRL cache: the caller prefetches (`refresh_due`) and, in a server, starts
    /// the refresher. Fails when no anchor is configured or an `hc_role_texts` entry is refused.
    pub fn verifier(
        &self,
        dir: &Path,
    ) -> Result<(hcpki_sso::login::CardVerifier, std::sync::Arc<hcpki_sso::login::CrlCache>)> {
        let role_texts = std::sync::Arc::new(self.role_texts()?);
        let trust = self.trust_anchors(dir)?;
        if trust.is_empty() {
            bail!("card login is not configured: set [login] hpki_anchors and/or jpki_anchors in {FILE}");
        }
        let crls = std::sync::Arc::new(
            hcpki_sso::login::CrlCache::new(self.crl_urls.clone(), &trust)
                .with_http(std::sync::Arc::new(crate::outbound::Hyper)),
        );
        let verifier = hcpki_sso::login::CardVerifier::new(std::sync::Arc::new(trust), crls.clone(), self.revocation)
            .with_role_texts(role_texts);
        Ok((verifier, crls))
    }
}

/// `[portal]`: the SSO portal and OpenID Connect provider (docs/portal.md, D24).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    /// Address of the portal's HTTPS listener (port 0: any free port).
    pub listen: std::net::SocketAddr,
    /// The issuer, `https://host:port`; default `https://localhost:<listen port>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Address of the mutual-TLS listener for the token endpoints (RFC 8705 `mtls_endpoint_aliases`), which
    /// accepts client certificates from any issuer; off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls_listen: Option<std::net::SocketAddr>,
    /// Host name the mTLS aliases use (default `localhost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls_host: Option<String>,
    /// The services file (relative to the hcpki directory): imported into the database once, when the
    /// database has never had services; afterwards `hcpki service …` manages them (D26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<PathBuf>,
    /// SSO session lifetime in hours (default 12: one shift); a facility may have its own
    /// (`hcpki portal lifetime set`). A session never outlives the card's or the facility PC's certificate.
    #[serde(default = "default_session_hours")]
    pub session_hours: u32,
    /// Seconds between housekeeping rounds: back-channel logout for sessions ended by the CLI, and the sweep
    /// of expired rows (default 30).
    #[serde(default = "default_housekeeping_secs")]
    pub housekeeping_secs: u32,
    /// Card sessions need the card agent to renew a presence lease this often, in seconds (default 300;
    /// 60–3600; 0 turns leases off): the agent reports the card's removal with no portal page open, and a PC
    /// switched off or an agent gone ends the session within the lease (D26).
    #[serde(default = "default_card_presence_secs")]
    pub card_presence_secs: u32,
    /// How long a physician may lend a card session's reader to a patient's card (D91), in seconds (default
    /// 300; 60–900): the session is paused meanwhile and ends unless the login card is back in time.
    #[serde(default = "default_lend_secs")]
    pub lend_secs: u32,
    /// The idle lock (D161): a session with no request for this many minutes is locked (ended) and its person
    /// signs in again, told why (default 30; 0 turns it off; at most 1440). The absolute limit
    /// (`session_hours`) stays.
    #[serde(default = "default_idle_minutes")]
    pub idle_minutes: u32,
    /// The day (`YYYY-MM-DD`, from its start in Japan) from which every account must have a confirmed second
    /// factor (D161; the guideline's FY2027 rule). An account whose TOTP secret nobody confirmed yet is walked
    /// through setting one up at its sign-in at a facility PC until `second_factor_grace_days` after it, then
    /// refused until the help desk resets it (`hcpki portal user not-ready` lists them). Unset: set-up is
    /// offered with no end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_factor_deadline: Option<String>,
    /// Days after `second_factor_deadline` the set-up is still offered (default 30; at most 3650).
    #[serde(default = "default_second_factor_grace_days")]
    pub second_factor_grace_days: u32,
    /// The longest delegation a physician may give a staff member, in hours (default 12; 1–24; D95).
    #[serde(default = "default_delegation_max_hours")]
    pub delegation_max_hours: u32,
    /// How often, at most, a replica checks the database for changed services and re-reads an OIDC client's
    /// registration, in seconds (default 10; 0 reads on every request).
    #[serde(default = "default_services_refresh_secs")]
    pub services_refresh_secs: u32,
    /// Access token lifetime in seconds (default 300; 30–3600, IHE IUA's limit of an hour: more is refused).
    #[serde(default = "default_access_token_secs")]
    pub access_token_secs: u32,
    /// The portal secret file (relative to the hcpki directory; made on first start; replicas share it).
    #[serde(default = "default_portal_secret")]
    pub secret_file: PathBuf,
    /// The local card agent's origin the login page talks to (`hcpki-agent serve`'s `listen`).
    #[serde(default = "default_card_agent")]
    pub card_agent: String,
}

fn default_card_agent() -> String {
    "http://127.0.0.1:7717".to_owned()
}

/// `[portal] card_presence_secs` when not set.
pub const DEFAULT_CARD_PRESENCE_SECS: u32 = 300;

fn default_card_presence_secs() -> u32 {
    DEFAULT_CARD_PRESENCE_SECS
}

impl PortalConfig {
    /// `second_factor_deadline` and `second_factor_grace_days` as the sign-in applies them (D161).
    pub fn enrolment_rule(&self) -> Result<hcpki_sso::enrolment::EnrolmentRule> {
        let deadline = match self.second_factor_deadline.as_deref() {
            None => None,
            Some(date) => Some(hcpki_sso::enrolment::start_of_day_in_japan(date).with_context(|| {
                format!("second_factor_deadline = {date:?}: write a date as YYYY-MM-DD (e.g. \"2027-04-01\")")
            })?),
        };
        if self.second_factor_grace_days > 3650 {
            bail!(
                "second_factor_grace_days = {}: use 0 to 3650 (the days after second_factor_deadline that an \
                 account without a second factor may still set one up)",
                self.second_factor_grace_days
            );
        }
        Ok(hcpki_sso::enrolment::EnrolmentRule::new(deadline, self.second_factor_grace_days))
    }
}

fn default_second_factor_grace_days() -> u32 {
    hcpki_sso::enrolment::DEFAULT_GRACE_DAYS
}

fn default_idle_minutes() -> u32 {
    hcpki_sso::session::idle::DEFAULT_IDLE_MINUTES
}

fn default_lend_secs() -> u32 {
    hcpki_sso::lending::DEFAULT_LEND_SECS
}

/// `[portal] delegation_max_hours` when not set: one long shift (D95).
pub const DEFAULT_DELEGATION_MAX_HOURS: u32 = 12;

fn default_delegation_max_hours() -> u32 {
    DEFAULT_DELEGATION_MAX_HOURS
}

fn default_session_hours() -> u32 {
    12
}

fn default_housekeeping_secs() -> u32 {
    30
}

fn default_services_refresh_secs() -> u32 {
    10
}

fn default_access_token_secs() -> u32 {
    300
}

fn default_portal_secret() -> PathBuf {
    PathBuf::from("secrets/portal.key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_with_units_and_refuse_the_rest() {
        let p = |t: &str| Period::try_from(t.to_owned());
        assert_eq!(p("30d"), Ok(Period(30 * 86_400)));
        assert_eq!(p("12h"), Ok(Period(12 * 3_600)));
        assert_eq!(p("15m"), Ok(Period(900)));
        assert_eq!(p("1s"), Ok(Period(1)));
        for bad in ["", "d", "0s", "10", "1w", "-1d", "1.5h", "99999999999999999999d"] {
            assert!(p(bad).is_err(), "{bad:?} accepted");
        }
    }

    /// `[ca]`: an ARL valid 1 to 365 days, warned about before it ends; the defaults (a year, 60 days) pass and
    /// are not written into a new configuration.
    #[test]
    fn ca_settings_keep_the_arl_within_a_year_and_warn_before_its_end() {
        let ca = |root_crl_days, root_crl_warn_days| {
            CaConfig { root_crl_days, root_crl_warn_days, ..CaConfig::default() }.check()
        };
        assert!(CaConfig::default().check().is_ok() && CaConfig::default().is_default());
        assert!(ca(180, 30).is_ok());
        for (days, warn) in [(0, 0), (366, 30), (30, 30), (30, 45)] {
            assert!(ca(days, warn).is_err(), "root_crl_days {days}, root_crl_warn_days {warn} accepted");
        }
        let parsed: CaConfig = toml::from_str("root_crl_days = 200").unwrap();
        assert_eq!(parsed, CaConfig { root_crl_days: 200, ..CaConfig::default() });
        assert!(toml::from_str::<CaConfig>("root_crl_day = 200").is_err(), "unknown keys are errors");
    }

    /// `[ca]`'s stop-switch settings (D141): the defaults are D135's hour and 600 s; out-of-range values are
    /// refused naming the key.
    #[test]
    fn ca_settings_bound_the_stop_switch() {
        let halt = CaConfig::default().halt();
        assert_eq!(halt, hcpki_ca::halt::HaltSettings::default());
        assert_eq!((halt.approval_window.as_secs(), halt.retry_after_secs), (3600, 600));
        let parsed: CaConfig = toml::from_str("resume_approval_minutes = 30\nhalt_retry_after_secs = 120").unwrap();
        assert!(parsed.check().is_ok());
        assert_eq!((parsed.halt().approval_window.as_secs(), parsed.halt().retry_after_secs), (1800, 120));
        for (minutes, secs, key) in [
            (4, 600, "resume_approval_minutes"),
            (1441, 600, "resume_approval_minutes"),
            (60, 0, "halt_retry_after_secs"),
            (60, 86_401, "halt_retry_after_secs"),
        ] {
            let c = CaConfig { resume_approval_minutes: minutes, halt_retry_after_secs: secs, ..CaConfig::default() };
            let e = c.check().expect_err(key).to_string();
            assert!(e.contains(key), "{e}");
        }
    }

    /// `[acme] allow_addresses` (issue #24, item 11): CIDR ranges and single addresses; a range with host bits,
    /// a bad prefix or a name is refused naming the value; empty by default and then not written.
    #[test]
    fn acme_allow_addresses_parse_and_refuse_the_rest() {
        let parsed: AcmeConfig =
            toml::from_str(r#"allow_addresses = ["10.0.0.0/8", "fd00::/8", "192.0.2.7"]"#).unwrap();
        let shown: Vec<String> = parsed.allow_addresses.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "fd00::/8", "192.0.2.7/32"]);
        assert!(AcmeConfig::default().allow_addresses.is_empty() && AcmeConfig::default().is_default());
        for bad in ["10.0.0.1/8", "10.0.0.0/33", "pc.example"] {
            let e = toml::from_str::<AcmeConfig>(&format!("allow_addresses = [\"{bad}\"]")).unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
        }
        assert!(toml::from_str::<AcmeConfig>(r#"allow_addresses = "10.0.0.0/8""#).is_err(), "a list, not a string");
        assert!(toml::from_str::<AcmeConfig>("allow_address = []").is_err(), "unknown keys are errors");
    }
}
