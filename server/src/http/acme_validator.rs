//! The network half of ACME challenge validation ([`Validator`]): connect to the identifier and fetch what
//! `hcpki_ca::enroll::acme::challenge` judges. Only ever the identifier's own address: from the `[acme]`
//! resolution overrides, else DNS, where internal addresses are refused unless `[acme] allow_addresses` holds
//! them (`hcpki_ca::enroll::acme::validation_address`). The address checked is the one connected to, so a
//! name cannot resolve once to a public address and again to an internal one.
//!
//! http-01 is a minimal HTTP/1.0 GET written here rather than a general HTTP client: one request, no
//! redirects followed (RFC 8555 §8.3 allows following them; hcpki does not, so validation never leaves the
//! identifier's address), the response bounded in size and time.

use crate::config::AcmeConfig;
use hcpki_ca::enroll::acme::{Problem, Validator, validation_address};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Connect, request and read, each.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest http-01 response read (headers and body).
const MAX_RESPONSE_BYTES: usize = 16 * 1024;

/// Validation as `[acme]` configures it.
#[derive(Debug)]
pub struct NetworkValidator {
    config: AcmeConfig,
}

impl NetworkValidator {
    /// From the configuration.
    pub fn new(config: AcmeConfig) -> Self {
        Self { config }
    }

    /// The identifier's address: the override (exact, then the longest `.suffix`), else the first address from
    /// DNS that is not internal (or is in `allow_addresses`).
    async fn resolve(&self, identifier: &str, port: u16) -> Result<SocketAddr, Problem> {
        if let Some(ip) = override_for(&self.config, identifier) {
            return Ok(SocketAddr::new(ip, port));
        }
        let resolved: Vec<IpAddr> = tokio::time::timeout(STEP_TIMEOUT, tokio::net::lookup_host((identifier, port)))
            .await
            .map_err(|_| Problem::connection(format!("resolving {identifier} timed out")))?
            .map_err(|e| Problem::connection(format!("cannot resolve {identifier}: {e}")))?
            .map(|a| a.ip())
            .collect();
        let ip = validation_address::admit(identifier, &resolved, &self.config.allow_addresses)?;
        Ok(SocketAddr::new(ip, port))
    }

    async fn connect(&self, identifier: &str, port: u16) -> Result<TcpStream, Problem> {
        let addr = self.resolve(identifier, port).await?;
        tokio::time::timeout(STEP_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| Problem::connection(format!("connecting to {identifier} ({addr}) timed out")))?
            .map_err(|e| Problem::connection(format!("cannot connect to {identifier} ({addr}): {e}")))
    }
}

fn override_for(config: &AcmeConfig, identifier: &str) -> Option<IpAddr> {
    if let Some(ip) = config.resolve.get(identifier) {
        return Some(*ip);
    }
    config
        .resolve
        .iter()
        .filter(|(k, _)| k.starts_with('.') && identifier.ends_with(k.as_str()))
        .max_by_key(|(k, _)| k.len())
        .map(|(_, ip)| *ip)
}

#[async_trait::async_trait]
impl Validator for NetworkValidator {
    async fn http01(&self, identifier: &str, token: &str) -> Result<Vec<u8>, Problem> {
        let port = self.config.http01_port;
        let mut stream = self.connect(identifier, port).await?;
        let host = if port == 80 { identifier.to_owned() } else { format!("{identifier}:{port}") };
        let request = format!(
            "GET /.well-known/acme-challenge/{token} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: hcpki-acme-validator\r\n\
             Accept: */*\r\nConnection: close\r\n\r\n"
        );
        let io = |e: std::io::Error| Problem::connection(format!("http-01 to {identifier}: {e}"));
        tokio::time::timeout(STEP_TIMEOUT, stream.write_all(request.as_bytes()))
            .await
            .map_err(|_| Problem::connection(format!("http-01 to {identifier}: timed out")))?
            .map_err(io)?;
        let mut response = Vec::new();
        let mut limited = stream.take(MAX_RESPONSE_BYTES as u64 + 1);
        tokio::time::timeout(STEP_TIMEOUT, limited.read_to_end(&mut response))
            .await
            .map_err(|_| Problem::connection(format!("http-01 to {identifier}: timed out")))?
            .map_err(io)?;
        if response.len() > MAX_RESPONSE_BYTES {
            return Err(Problem::incorrect_response(format!("http-01 response over {MAX_RESPONSE_BYTES} bytes")));
        }
        http_body(&response)
    }

    async fn tls_alpn01(&self, identifier: &str) -> Result<Vec<u8>, Problem> {
        let stream = self.connect(identifier, self.config.tlsalpn01_port).await?;
        let provider = Arc::new(super::tls::provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Problem::server_internal(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"acme-tls/1".to_vec()];
        let name = ServerName::try_from(identifier.to_owned())
            .map_err(|_| Problem::malformed(format!("{identifier} is not a server name")))?;
        let tls = tokio::time::timeout(
            STEP_TIMEOUT,
            tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, stream),
        )
        .await
        .map_err(|_| Problem::connection(format!("tls-alpn-01 handshake with {identifier} timed out")))?
        .map_err(|e| Problem::tls(format!("tls-alpn-01 handshake with {identifier}: {e}")))?;
        let (_, session) = tls.get_ref();
        if session.alpn_protocol() != Some(b"acme-tls/1".as_slice()) {
            return Err(Problem::tls(format!("{identifier} did not negotiate ALPN acme-tls/1")));
        }
        session
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.as_ref().to_vec())
            .ok_or_else(|| Problem::tls(format!("{identifier} presented no certificate")))
    }
}

/// Status 200 and the body of an HTTP/1.x response read to EOF.
fn http_body(response: &[u8]) -> Result<Vec<u8>, Problem> {
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| Problem::incorrect_response("the http-01 response is not HTTP"))?;
    let head = String::from_utf8_lossy(response.get(..split).unwrap_or_default()).into_owned();
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    if !head.starts_with("HTTP/1.") || status != "200" {
        return Err(Problem::incorrect_response(format!(
            "http-01 answered {:?} (redirects are not followed)",
            head.lines().next().unwrap_or_default()
        )));
    }
    if head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:")) {
        return Err(Problem::incorrect_response("http-01 response must not be chunked"));
    }
    Ok(response.get(split + 4..).unwrap_or_default().to_vec())
}

/// tls-alpn-01 trusts no chain: the self-signed validation certificate is judged by its content alone
/// (RFC 8737 §3), so every certificate passes here; handshake signatures are still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        handshake_signature(&self.0, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        handshake_signature(&self.0, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The handshake signature, checked with the certificate's key. Not through rustls' helpers: they parse the
/// certificate with webpki, which (rightly, for PKIX) refuses the critical acmeIdentifier extension every
/// tls-alpn-01 certificate carries.
fn handshake_signature(
    provider: &rustls::crypto::CryptoProvider,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    use der::Decode;
    let bad = || rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature);
    let parsed = x509_cert::Certificate::from_der(cert.as_ref()).map_err(|_| bad())?;
    let key = parsed.tbs_certificate().subject_public_key_info().subject_public_key.raw_bytes();
    let algorithms = provider
        .signature_verification_algorithms
        .mapping
        .iter()
        .find(|(scheme, _)| *scheme == dss.scheme)
        .map(|(_, algs)| *algs)
        .unwrap_or_default();
    if algorithms.iter().any(|alg| alg.verify_signature(key, message, dss.signature()).is_ok()) {
        Ok(HandshakeSignatureValid::assertion())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_and_bodies() {
        let mut c = AcmeConfig::default();
        c.resolve.insert("a.example".into(), "192.0.2.1".parse().unwrap());
        c.resolve.insert(".example".into(), "192.0.2.2".parse().unwrap());
        c.resolve.insert(".b.example".into(), "192.0.2.3".parse().unwrap());
        assert_eq!(override_for(&c, "a.example"), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(override_for(&c, "x.b.example"), Some("192.0.2.3".parse().unwrap()));
        assert_eq!(override_for(&c, "z.example"), Some("192.0.2.2".parse().unwrap()));
        assert_eq!(override_for(&c, "example.org"), None);
        assert_eq!(http_body(b"HTTP/1.0 200 OK\r\nX: y\r\n\r\nbody").unwrap(), b"body");
        assert!(http_body(b"HTTP/1.1 302 Found\r\nLocation: x\r\n\r\n").is_err());
        assert!(http_body(b"garbage").is_err());
    }
}
