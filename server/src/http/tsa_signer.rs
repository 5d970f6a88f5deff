//! The time-stamping authority's key and `tsa` certificate (D65, D67).
//!
//! The key is `[tsa] key` when given, else beside the server CA's key like the TLS server's own: `keys/tsa.p8`
//! (encrypted PKCS#8) for a file CA key, object `hcpki-tsa` on the same token for a PKCS#11 one; RSA-2048 under
//! an RSA server CA, P-256 otherwise; made on first use. The certificate is `tsa/tsa.pem`, issued through the
//! normal pipeline (lint, record, audit as `system`) at `hcpki serve` start and renewed there when it is
//! missing, for another key, or within its renewal window ([`server_cert::ensure_certificate`]).

use super::ocsp_signer::algorithm_for;
use super::server_cert::{self, OwnCertificate, ServerCertError};
use crate::config::TsaConfig;
use hcpki_ca::keys::{self, KeyContext, KeySource, KeyUri};
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::timestamp::TimeStampAuthority;
use hcpki_ca::{Authority, CaName};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// The certificate file, relative to the hcpki directory.
pub const CERT_FILE: &str = "tsa/tsa.pem";
const KEY_FILE: &str = "keys/tsa.p8";
const KEY_OBJECT: &str = "hcpki-tsa";

/// The authority `[tsa]` configures, its certificate issued or renewed as needed.
pub async fn ensure(
    authority: &Authority,
    dir: &Path,
    ctx: &KeyContext,
    config: &TsaConfig,
) -> anyhow::Result<TimeStampAuthority> {
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
    tracing::info!(serial, issued, policy = %settings.policy, "TSA certificate {}", if issued { "issued" } else { "loaded" });
    Ok(TimeStampAuthority::new(&certificate, key, settings)?)
}
