//! RFC 5425 syslog over TLS to the audit repository, with mutual TLS, under hcpki's TLS policy (TLS 1.2/1.3,
//! ECDHE with AES-GCM: `hcpki-tls-policy`).
//!
//! The repository's certificate must chain to `[atna] ca_file` (those anchors only, not the public WebPKI
//! roots: the repository is on the healthcare network) and name the host of `address` (or `server_name`).
//! hcpki presents its client certificate, signing the handshake with the configured key through
//! [`KeySource`] (an encrypted file or a PKCS#11 object), so the key never leaves `hcpki_pkix::keys`.
//!
//! **Acknowledgement.** Syslog has no application-level acknowledgement. A batch is confirmed by closing the connection: after the frames, hcpki sends TLS close_notify
//! and reads until the repository closes. An orderly close — its close_notify, or a bare FIN, which is how
//! rsyslog ends a session — comes only after the receiver read what we sent: a process that closes a socket
//! with unread data, or dies, makes the kernel reset the connection (TCP RST), and a TLS alert is a refusal;
//! neither is a confirmation. rsyslog refuses a client certificate right after the handshake, before it reads
//! any message, so that refusal arrives as a reset (tests/integration/atna.rs checks it). Only a confirmed
//! batch moves the forwarding mark (D98).

use crate::tls_key::KeySourceSigningKey;
use hcpki_pkix::keys::KeySource;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{ClientConfig, RootCertStore};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// How long one connection, handshake, write or confirmation may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The audit repository: where it is, whom to expect there, and how to connect.
#[derive(Clone)]
pub struct Repository {
    address: String,
    server_name: ServerName<'static>,
    tls: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository").field("address", &self.address).field("server_name", &self.server_name).finish()
    }
}

impl Repository {
    /// The repository at `address` (`HOST:PORT`), whose certificate must name `server_name` and chain to
    /// `anchors`; hcpki presents `chain` (its certificate first) and signs with `key` (P-256 or P-384).
    pub fn new(
        address: &str,
        server_name: &str,
        anchors: &[CertificateDer<'static>],
        chain: Vec<CertificateDer<'static>>,
        key: Arc<dyn KeySource>,
    ) -> Result<Self, SetupError> {
        let server_name =
            ServerName::try_from(server_name.to_owned()).map_err(|_| SetupError::ServerName(server_name.to_owned()))?;
        let mut roots = RootCertStore::empty();
        for anchor in anchors {
            roots.add(anchor.clone()).map_err(SetupError::Anchor)?;
        }
        if roots.is_empty() {
            return Err(SetupError::NoAnchors);
        }
        let certified = CertifiedKey::new(chain, Arc::new(KeySourceSigningKey::new(key).map_err(SetupError::Key)?));
        let config = ClientConfig::builder_with_provider(Arc::new(hcpki_tls_policy::provider()))
            .with_protocol_versions(&hcpki_tls_policy::VERSIONS)
            .map_err(SetupError::Rustls)?
            .with_root_certificates(roots)
            .with_client_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
        Ok(Self { address: address.to_owned(), server_name, tls: tokio_rustls::TlsConnector::from(Arc::new(config)) })
    }

    /// Where the repository is (for logs).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Send `frames` (octet-counted syslog messages, back to back) over one new connection and wait for the
    /// repository to confirm by closing (see the module doc). `Ok` only when confirmed.
    pub async fn deliver(&self, frames: &[u8]) -> Result<(), DeliveryError> {
        let tcp = within(tokio::net::TcpStream::connect(&self.address))
            .await?
            .map_err(|e| DeliveryError::Connect(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let mut tls = within(self.tls.connect(self.server_name.clone(), tcp)).await?.map_err(handshake_error)?;
        within(async {
            tls.write_all(frames).await?;
            tls.flush().await?;
            // close_notify: "that was all".
            tls.shutdown().await
        })
        .await?
        .map_err(|e| DeliveryError::Write(e.to_string()))?;
        // TLS 1.3 sends the client certificate's verdict after the handshake: a repository refusing our
        // certificate answers with an alert here, which reads as an error, not as a confirmation.
        let mut rest = [0u8; 256];
        loop {
            match within(tls.read(&mut rest)).await? {
                // The repository's close_notify, or its orderly close (rsyslog closes without close_notify).
                Ok(0) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Ok(_) => continue,
                Err(e) => return Err(handshake_or_unconfirmed(e)),
            }
        }
    }
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> Result<T, DeliveryError> {
    tokio::time::timeout(TIMEOUT, f).await.map_err(|_| DeliveryError::TimedOut)
}

/// A TLS error from the handshake: the repository's certificate, or anything else.
fn handshake_error(e: std::io::Error) -> DeliveryError {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(why)) => DeliveryError::Certificate(format!("{why:?}")),
        Some(other) => DeliveryError::Handshake(other.to_string()),
        None => DeliveryError::Handshake(e.to_string()),
    }
}

/// An error after the frames went out: an alert from the repository (it refused our certificate), or a reset.
fn handshake_or_unconfirmed(e: std::io::Error) -> DeliveryError {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::AlertReceived(alert)) => DeliveryError::Refused(format!("{alert:?}")),
        _ => DeliveryError::Unconfirmed(e.to_string()),
    }
}

/// Why the repository's connection settings are unusable (at start: `hcpki serve` stops).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// `server_name` (or the host of `address`) is neither a DNS name nor an IP address.
    #[error(
        "[atna] server name {0:?} is not a DNS name or IP address: set [atna] server_name to the name in the repository's certificate"
    )]
    ServerName(String),
    /// A certificate of `ca_file` is not a usable trust anchor.
    #[error(
        "[atna] ca_file holds a certificate that cannot be a trust anchor ({0}): give the repository's CA certificate"
    )]
    Anchor(rustls::Error),
    /// `ca_file` holds no certificate.
    #[error("[atna] ca_file holds no certificate: give the PEM certificate of the CA that issued the repository's")]
    NoAnchors,
    /// The client key is not P-256 or P-384.
    #[error("[atna] key: {0}")]
    Key(crate::tls_key::UnsupportedTlsKey),
    /// rustls refused the settings.
    #[error("TLS settings for the audit repository: {0}")]
    Rustls(rustls::Error),
}

/// Why a batch was not confirmed; nothing is marked sent, the forwarder tries again later.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// No TCP connection: the repository is down or unreachable.
    #[error("cannot connect to the audit repository: {0}; check that it runs and [atna] address")]
    Connect(String),
    /// The repository's certificate does not chain to `ca_file`, has expired, or does not name the server.
    #[error(
        "the audit repository's certificate is refused ({0}): nothing was sent; check [atna] ca_file and \
         server_name against the repository's certificate"
    )]
    Certificate(String),
    /// The handshake failed otherwise (no common cipher suite, our certificate refused in TLS 1.2, …).
    #[error(
        "TLS handshake with the audit repository failed: {0}; check that it accepts TLS 1.2/1.3 with ECDHE and AES-GCM and our client certificate"
    )]
    Handshake(String),
    /// The repository refused us after the handshake (TLS 1.3: our client certificate).
    #[error("the audit repository refused the connection ({0}): check that it trusts [atna] certificate's issuer")]
    Refused(String),
    /// Writing failed.
    #[error("writing to the audit repository failed: {0}")]
    Write(String),
    /// The connection ended without the repository's close (a reset): the batch may not have been read.
    #[error("the audit repository did not confirm the batch: {0}")]
    Unconfirmed(String),
    /// A step took longer than the timeout.
    #[error("the audit repository did not answer within {TIMEOUT:?}")]
    TimedOut,
}

impl DeliveryError {
    /// The metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Connect(_) => "connect",
            Self::Certificate(_) => "certificate",
            Self::Handshake(_) | Self::Refused(_) => "handshake",
            Self::Write(_) | Self::Unconfirmed(_) => "unconfirmed",
            Self::TimedOut => "timeout",
        }
    }
}
