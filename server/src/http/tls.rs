//! The TLS policy (TLS 1.2 and 1.3 only, ECDHE P-256/P-384 with AES-GCM only, the CRYPTREC 「高セキュリティ型」
//! setting) is defined once in `hcpki-tls-policy`, shared with the card agent's client; this module builds the
//! server's configurations with it.
//!
//! Client certificates are *requested* (optional) and verified against [`CLIENT_CAS`] (router, pc and the
//! server CA's operator certificates), so EST and admin API handlers can read the chain from axum-server's
//! `TlsInfo` request extension. A client without a certificate still connects (initial
//! enrollment, health checks). The registry check (issued, unexpired, facility in good standing) is the
//! enrollment module's, after TLS, on every request.
//!
//! On the main listener the handshake itself also refuses a revoked client certificate
//! ([`RevokedClients::AtHandshake`]): [`RevocationChecking`] wraps the WebPKI verifier and looks the serial up
//! in the same in-memory revocation board the OCSP responder answers from (reloaded every second), so a revoked
//! PC certificate fails its next handshake with the `certificate_revoked` alert, without a CRL download or a
//! database query per handshake. Requests on a connection (or resumed session) established before the
//! revocation are refused by the registry check. The portal's listener leaves revocation to that registry
//! check alone ([`RevokedClients::ByRegistry`]), which answers a person with a page saying why.

use crate::tls_key::{self, KeySourceSigningKey};
use hcpki_ca::CaName;
use hcpki_ca::revocation::status::RevocationBoard;
use hcpki_pkix::keys::KeySource;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::UnixTime;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls::{RootCertStore, ServerConfig};
use std::sync::Arc;

/// The CAs whose certificates the server accepts as TLS client certificates: the facility device CAs
/// (routers re-enroll over EST with their router certificate, PCs with their PC certificate; PCs also
/// authenticate their facility's admin to the admin API) and the server CA, which issues operator
/// certificates (D18; its server certificates lack clientAuth and fail here). The root issues no client
/// certificate. What a certificate may do is decided after TLS, from the registry.
pub const CLIENT_CAS: [CaName; 3] = [CaName::Router, CaName::Pc, CaName::Server];

/// ALPN protocols offered: HTTP/2 first, HTTP/1.1 for curl/OpenSSL-style clients.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The crypto provider of the policy (`hcpki_tls_policy`).
pub fn provider() -> CryptoProvider {
    hcpki_tls_policy::provider()
}

/// Where a revoked client certificate is refused.
#[derive(Clone, Debug)]
pub enum RevokedClients {
    /// In the handshake, by the revocation board (`certificate_revoked`; held certificates pass): the main
    /// listener, whose certificate clients are programs (routers and PCs enrolling, operators' scripts).
    AtHandshake(Arc<RevocationBoard>),
    /// After the handshake, by the registry check every request makes (issued, unexpired, facility active),
    /// which answers with a page naming the revocation: the portal's listener, whose certificate clients are
    /// people at a browser, to whom a TLS alert says nothing (issue #6: "revoked or suspended → refused with a
    /// clear page"). The chain to the client anchors and the proof of the key are still checked here.
    ByRegistry,
}

/// The server configuration.
///
/// * `chain`: the server certificate first, then its issuing CA (DER), as sent to clients.
/// * `key`: the server certificate's key, wherever it lives (it signs handshakes through [`KeySource`]).
/// * `client_anchors`: the CA certificates whose client certificates are verified when a client offers one;
///   they are also the only CA names the CertificateRequest lists, so a browser offers only their certificates.
/// * `revoked`: where a revoked client certificate is refused.
pub fn server_config(
    chain: &[Vec<u8>],
    key: Arc<dyn KeySource>,
    client_anchors: &[&[u8]],
    revoked: RevokedClients,
) -> Result<ServerConfig, TlsError> {
    // `builder_with_provider` everywhere: the process-default provider is never consulted, so a dependency
    // enabling another rustls backend can neither panic us nor widen the policy.
    let provider = Arc::new(provider());
    let mut roots = RootCertStore::empty();
    for anchor in client_anchors {
        roots.add(CertificateDer::from(anchor.to_vec()))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()?;
    let verifier: Arc<dyn ClientCertVerifier> = match revoked {
        RevokedClients::AtHandshake(revocations) => Arc::new(RevocationChecking { inner: verifier, revocations }),
        RevokedClients::ByRegistry => verifier,
    };
    let certified = CertifiedKey::new(
        chain.iter().map(|c| CertificateDer::from(c.clone())).collect(),
        Arc::new(KeySourceSigningKey::new(key)?),
    );
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&hcpki_tls_policy::VERSIONS)?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// The WebPKI client verifier, then the revocation board: a chain that verifies but whose end-entity serial is
/// revoked or on hold is refused as `CertificateError::Revoked`.
#[derive(Debug)]
struct RevocationChecking {
    inner: Arc<dyn ClientCertVerifier>,
    revocations: Arc<RevocationBoard>,
}

impl ClientCertVerifier for RevocationChecking {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self.inner.verify_client_cert(end_entity, intermediates, now)?;
        let cert = <x509_cert::Certificate as der::Decode>::from_der(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let serial = hcpki_ca::serial::to_hex(cert.tbs_certificate().serial_number());
        match self.revocations.lookup_any(&serial) {
            // A hold is a suspended facility: the handshake completes so the request gets the registry's
            // clear refusal ("facility suspended"), and everything works again when it resumes.
            Some(revocation) if revocation.reason.0 != hcpki_ca::revocation::CrlReason::CertificateHold => {
                tracing::info!(serial, reason = %revocation.reason, "TLS client certificate refused: revoked");
                Err(rustls::Error::InvalidCertificate(CertificateError::Revoked))
            }
            _ => Ok(verified),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The server key cannot sign TLS handshakes.
    #[error(transparent)]
    Key(#[from] tls_key::UnsupportedTlsKey),
    /// rustls refused a certificate or the protocol settings.
    #[error("TLS configuration: {0}; check the server certificate and the router and pc CA certificates")]
    Rustls(#[from] rustls::Error),
    /// The client certificate verifier could not be built (no usable router or pc CA certificate).
    #[error("client certificate verifier: {0}; check `hcpki ca cert router` and `hcpki ca cert pc`")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}
