//! The TLS policy, in one place: TLS 1.2 and 1.3 only, ECDHE (P-256, P-384) with AES-GCM only — the CRYPTREC
//! 「高セキュリティ型」 (high security) setting of the TLS cipher suite guidelines. rustls has no CBC, CCM, DHE or
//! static-RSA suites to begin with; this provider also leaves out ChaCha20-Poly1305 (not on the CRYPTREC list)
//! and X25519 / X25519MLKEM768 (not CRYPTREC-listed curves).
//!
//! A crate of its own so that the server (every listener, back-channel logout) and the card agent (its card
//! presence reports to the portal, D26) use one definition without the agent linking the server or the server
//! linking PC/SC.
#![forbid(unsafe_code)]

use rustls::crypto::CryptoProvider;
use rustls::crypto::aws_lc_rs::{self, cipher_suite, kx_group};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use std::sync::Arc;

/// The protocol versions of the policy.
pub const VERSIONS: [&SupportedProtocolVersion; 2] = [&rustls::version::TLS12, &rustls::version::TLS13];

/// The crypto provider: aws-lc-rs with exactly the policy's suites and key-exchange groups.
pub fn provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_256_GCM_SHA384,
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        kx_groups: vec![kx_group::SECP256R1, kx_group::SECP384R1],
        ..aws_lc_rs::default_provider()
    }
}

/// A client configuration under the policy, verifying servers against `roots` with WebPKI path validation and
/// host name checks, presenting no client certificate. `builder_with_provider`: the process-default provider is
/// never consulted, so a dependency enabling another rustls backend can neither panic us nor widen the policy.
pub fn client_config(roots: RootCertStore) -> Result<ClientConfig, rustls::Error> {
    Ok(ClientConfig::builder_with_provider(Arc::new(provider()))
        .with_protocol_versions(&VERSIONS)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_aead_suites_and_nist_curves() {
        let p = provider();
        assert!(p.cipher_suites.iter().all(|s| format!("{:?}", s.suite()).contains("GCM")));
        assert_eq!(p.kx_groups.len(), 2);
        assert!(client_config(RootCertStore::empty()).is_ok());
    }
}
