//! The time-stamping authority's key and `tsa` certificate (D65, D67).
//!
//! The key is `[tsa] key` when given, else beside the server CA's key like the TLS server's own: `keys/tsa.p8`
//! (encrypted PKCS#8) for a file CA key, object `hcpki-tsa` on the same token for a PKCS#11 one; RSA-2048 under
//! an RSA server CA, P-256 otherwise; made on first use. The certificate is `tsa/tsa.pem`, issued through the
//! normal pipeline (lint, record, audit as `system`) at `hcpki serve` start and renewed there when it is
//! missing, for another key, or within its renewal window ([`server_cert::ensure_certificate`]). A server that
//! runs for months would otherwise sign with a certificate past its end: the same check runs every hour while
//! serving ([`spawn_rotation`]) and a renewed certificate replaces the old one for the next request.

use super::ocsp_signer::algorithm_for;
use crate::config::TsaConfig;
use crate::server_cert::{self, OwnCertificate, ServerCertError};
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::{Authority, CaName};
use hcpki_docsig::timestamp::TimeStampAuthority;
use hcpki_pkix::keys::{self, KeyContext, KeySource, KeyUri};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// The certificate file, relative to the hcpki directory.
pub const CERT_FILE: &str = "tsa/tsa.pem";
const KEY_FILE: &str = "keys/tsa.p8";
const KEY_OBJECT: &str = "hcpki-tsa";

/// How often the certificate is checked for renewal while serving.
const ROTATION_CHECK: Duration = Duration::from_secs(3600);

/// The authority `/tsa` answers with: replaced whole when its certificate is renewed, so a request signs with
/// one certificate and its key, never a mix.
#[derive(Debug)]
pub struct ServedTsa {
    current: RwLock<Current>,
}

#[derive(Debug)]
struct Current {
    authority: Arc<TimeStampAuthority>,
    serial: String,
}

impl ServedTsa {
    /// The authority to answer the next request with.
    pub fn current(&self) -> Arc<TimeStampAuthority> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).authority.clone()
    }

    /// The serial (hex) of the certificate it signs with.
    pub fn serial(&self) -> String {
        self.current.read().unwrap_or_else(PoisonError::into_inner).serial.clone()
    }
}

/// The authority `[tsa]` configures at `hcpki serve` start, its certificate issued or renewed as needed.
pub async fn start(
    authority: &Authority,
    dir: &Path,
    ctx: &KeyContext,
    config: &TsaConfig,
) -> anyhow::Result<ServedTsa> {
    let (tsa, serial) = ensure(authority, dir, ctx, config).await?;
    Ok(ServedTsa { current: RwLock::new(Current { authority: Arc::new(tsa), serial }) })
}

/// One rotation check: the certificate renewed when it is due (as at start), the served authority replaced.
/// True when it was replaced.
pub async fn renew_if_due(
    served: &ServedTsa,
    authority: &Authority,
    dir: &Path,
    ctx: &KeyContext,
    config: &TsaConfig,
) -> anyhow::Result<bool> {
    let (tsa, serial) = ensure(authority, dir, ctx, config).await?;
    let mut current = served.current.write().unwrap_or_else(PoisonError::into_inner);
    if current.serial == serial {
        return Ok(false);
    }
    *current = Current { authority: Arc::new(tsa), serial };
    Ok(true)
}

/// Check the certificate every hour while serving; a renewed one serves the next request. A failed check is
/// logged and retried an hour later (the old certificate serves meanwhile: it has 30 days left when renewal
/// starts).
pub fn spawn_rotation(
    authority: Arc<Authority>,
    served: Arc<ServedTsa>,
    dir: PathBuf,
    ctx: KeyContext,
    config: TsaConfig,
) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(ROTATION_CHECK);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            match renew_if_due(&served, &authority, &dir, &ctx, &config).await {
                Ok(true) => tracing::info!(serial = %served.serial(), "TSA certificate renewed while serving"),
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "cannot renew the TSA certificate: retrying in an hour")
                }
            }
        }
    });
}

/// The authority `[tsa]` configures and its certificate's serial, the certificate issued or renewed as needed.
async fn ensure(
    authority: &Authority,
    dir: &Path,
    ctx: &KeyContext,
    config: &TsaConfig,
) -> anyhow::Result<(TimeStampAuthority, String)> {
    let settings = config.settings()?;
    let uri = match &config.key {
        Some(text) => KeyUri::from_str(text).map_err(ServerCertError::from)?,
        None => server_cert::own_key_uri(authority, CaName::Server, KEY_FILE, KEY_OBJECT)?,
    };
    let algorithm = algorithm_for(authority, CaName::Server)?;
    let key: Arc<dyn KeySource> =
        Arc::from(keys::open_or_generate(&uri, algorithm, ctx).map_err(ServerCertError::from)?);
    let wanted = OwnCertificate { file: CERT_FILE, profile: ProfileKind::Tsa, sans: &[], serves: None };
    let (certificate, serial, issued) = server_cert::ensure_certificate(authority, dir, key.as_ref(), &wanted).await?;
    if issued {
        tracing::info!(serial, policy = %settings.policy, "TSA certificate issued");
    }
    Ok((TimeStampAuthority::new(&certificate, key, settings)?, serial))
}

#[cfg(test)]
mod tests;
