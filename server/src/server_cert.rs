//! hcpki's own TLS server certificate: its life cycle.
//!
//! The key lives next to the CA keys and behind the same [`KeySource`] abstraction: `keys/tls-server.p8`
//! (encrypted PKCS#8 with the configured passphrase) when the server CA key is a file, object
//! `hcpki-tls-server` on the same token when it is on a PKCS#11 token. The certificate is `tls/server.pem`.
//! Both are made on the first `hcpki serve`. The certificate goes through the normal issuance pipeline
//! (`server` profile: lint, record, sign, audit as `system`), and a new one is issued at start when the
//! stored one is missing, does not match the key, names other names than configured, or ends within
//! [`RENEW_BEFORE_DAYS`] days. The key is kept across renewals; to replace it, delete the key and the
//! certificate and restart.

use hcpki_ca::authority::IssueRequest;
use hcpki_ca::profile::{CertProfile, ProfileKind};
use hcpki_ca::store::Actor;
use hcpki_ca::{Authority, AuthorityError, CaName, SigningError};
use hcpki_pkix::keys::{self, KeyAlgorithm, KeyContext, KeyError, KeySource, KeyUri};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use x509_cert::Certificate;
use x509_cert::der::{Decode as _, DecodePem};

/// The certificate file, relative to the hcpki directory.
pub const CERT_FILE: &str = "tls/server.pem";
/// The key file (software keys), relative to the hcpki directory.
const KEY_FILE: &str = "keys/tls-server.p8";
/// The key's object label (PKCS#11 keys).
const KEY_OBJECT: &str = "hcpki-tls-server";
/// A certificate ending sooner than this (or with less than a third of its lifetime left) is replaced.
pub const RENEW_BEFORE_DAYS: i64 = 30;
/// The names when neither `--server-name` nor `serve.server_names` gives any: this machine only.
pub const DEFAULT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// A fresh key's algorithm: ECDSA signs TLS 1.2 and 1.3 handshakes alike (see `tls_key`).
const KEY_ALGORITHM: KeyAlgorithm = KeyAlgorithm::P256;

/// The server's TLS identity, ready for the TLS configuration.
#[derive(Debug)]
pub struct ServerIdentity {
    /// The server certificate, then its issuing CA (the root stays out: clients have it or must not use it).
    pub chain: Vec<Vec<u8>>,
    /// The certificate's key.
    pub key: Arc<dyn KeySource>,
    /// The certificate's serial (hex), for the log.
    pub serial: String,
    /// Whether this start issued a new certificate.
    pub issued: bool,
}

/// Load the server identity, issuing the key and certificate first if needed.
pub async fn ensure(
    authority: &Authority,
    dir: &Path,
    keys_ctx: &KeyContext,
    names: &[String],
) -> Result<ServerIdentity, ServerCertError> {
    let key = open_or_generate_key(authority, keys_ctx)?;
    let wanted = OwnCertificate { file: CERT_FILE, profile: ProfileKind::Server, sans: names, serves: None };
    let (der, serial, issued) = ensure_certificate(authority, dir, key.as_ref(), &wanted).await?;
    let mut chain = vec![der];
    // `chain` ends with the root; the server sends everything below it.
    if let Some((_root, below)) = authority.chain(CaName::Server)?.split_last() {
        chain.extend(below.iter().cloned());
    }
    Ok(ServerIdentity { chain, key, serial, issued })
}

/// A certificate hcpki holds for itself (TLS server, SCEP RA): where it is kept and what it must say.
#[derive(Debug)]
pub struct OwnCertificate<'a> {
    /// The PEM file, relative to the hcpki directory.
    pub file: &'a str,
    /// Its profile.
    pub profile: ProfileKind,
    /// Its names (as the profile's name request).
    pub sans: &'a [String],
    /// For profiles issued on behalf of a CA (SCEP RA): that CA.
    pub serves: Option<CaName>,
}

/// The stored certificate for `key` if it can serve another run, else a new one through the issuance
/// pipeline (audited as `system`), written atomically. Returns (DER, serial, whether it was issued now).
pub async fn ensure_certificate(
    authority: &Authority,
    dir: &Path,
    key: &dyn KeySource,
    wanted: &OwnCertificate<'_>,
) -> Result<(Vec<u8>, String, bool), ServerCertError> {
    ensure_certificate_in(authority, dir, key, wanted, None).await
}

/// [`ensure_certificate`] issued by generation `generation` of the CA it serves (an OCSP responder of the
/// previous generation a switched rollover keeps, D151); `None`: the generation that issues.
pub async fn ensure_certificate_in(
    authority: &Authority,
    dir: &Path,
    key: &dyn KeySource,
    wanted: &OwnCertificate<'_>,
    generation: Option<u32>,
) -> Result<(Vec<u8>, String, bool), ServerCertError> {
    let cert_path = dir.join(wanted.file);
    match read_certificate(&cert_path)? {
        Some((der, cert)) if still_good(authority, &cert, key, wanted, generation).await? => {
            Ok((der, hcpki_ca::serial::to_hex(cert.tbs_certificate().serial_number()), false))
        }
        stored => {
            let csr = hcpki_ca::csr::build(key, x509_cert::name::Name::default())?;
            let request = IssueRequest {
                profile: wanted.profile,
                facility: None,
                csr: csr.into(),
                sans: wanted.sans.to_vec(),
                device: None,
                router: None,
                router_eku: None,
                ocsp_for: wanted.serves,
                not_after: None,
            };
            let issued = match generation {
                Some(g) => authority.pipeline().issue_in_generation(&request, g, &Actor::system()).await,
                None => authority.pipeline().issue(&request, &Actor::system()).await,
            };
            let (certificate, _) = match issued {
                Ok(done) => done,
                Err(halted @ SigningError::Halted { .. }) => return keep_while_halted(stored, key, wanted, halted),
                Err(e) => return Err(e.into()),
            };
            write_certificate(&cert_path, &certificate.pem())?;
            Ok((certificate.der, certificate.serial.into_string(), true))
        }
    }
}

/// While issuance is halted (D135, D141) a start must not fail for want of a renewal: OCSP and CRLs are what a
/// halted CA still owes everyone. The stored certificate, when it is for `key`, serves on (even past its renewal
/// window or with other names), and the log says why it was not renewed and when it will be: at the first start
/// after the halt ends. Without one there is nothing to serve with, and the refusal says so.
fn keep_while_halted(
    stored: Option<(Vec<u8>, Certificate)>,
    key: &dyn KeySource,
    wanted: &OwnCertificate<'_>,
    halted: SigningError,
) -> Result<(Vec<u8>, String, bool), ServerCertError> {
    match stored {
        Some((der, cert)) if cert.tbs_certificate().subject_public_key_info() == key.public_key() => {
            let serial = hcpki_ca::serial::to_hex(cert.tbs_certificate().serial_number());
            tracing::warn!(
                file = wanted.file,
                serial,
                refusal = %halted,
                "hcpki's own {} certificate was not renewed because issuance is halted; the stored certificate \
                 is used until a start after the halt ends (`hcpki ca halt-status`)",
                wanted.profile
            );
            Ok((der, serial, false))
        }
        _ => Err(ServerCertError::Own(format!(
            "{} needs a new certificate ({}), but {halted}: resume issuance (two operators, `hcpki ca resume`) \
             and start again",
            wanted.file, wanted.profile
        ))),
    }
}

/// Where a key of hcpki's own lives: beside the `beside` CA's key, in the same kind of store — `file` under
/// the hcpki directory for software keys, object `object` on the same token for PKCS#11 keys.
pub fn own_key_uri(authority: &Authority, beside: CaName, file: &str, object: &str) -> Result<KeyUri, ServerCertError> {
    Ok(KeyUri::from_str(authority.ca_key_uri(beside)?)?.sibling(file, object))
}

/// Where the server key lives: beside the server CA's key, in the same kind of store.
fn open_or_generate_key(authority: &Authority, ctx: &KeyContext) -> Result<Arc<dyn KeySource>, ServerCertError> {
    let uri = own_key_uri(authority, CaName::Server, KEY_FILE, KEY_OBJECT)?;
    Ok(Arc::from(keys::open_or_generate(&uri, KEY_ALGORITHM, ctx)?))
}

/// The stored certificate, if there is one.
fn read_certificate(path: &Path) -> Result<Option<(Vec<u8>, Certificate)>, ServerCertError> {
    let pem = match std::fs::read(path) {
        Ok(pem) => pem,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ServerCertError::Io { path: path.to_owned(), source: e }),
    };
    let cert = Certificate::from_pem(&pem).map_err(|_| ServerCertError::Damaged(path.to_owned()))?;
    let der = der::Encode::to_der(&cert).map_err(|_| ServerCertError::Damaged(path.to_owned()))?;
    Ok(Some((der, cert)))
}

/// Whether the stored certificate can serve another run: it is for this key, of the wanted profile and CA,
/// names exactly the wanted names (as recorded at issuance), is recorded as issued, and does not end within
/// the renewal window.
async fn still_good(
    authority: &Authority,
    cert: &Certificate,
    key: &dyn KeySource,
    wanted: &OwnCertificate<'_>,
    generation: Option<u32>,
) -> Result<bool, ServerCertError> {
    if cert.tbs_certificate().subject_public_key_info() != key.public_key() {
        return Ok(false);
    }
    let validity = cert.tbs_certificate().validity();
    let not_after = hcpki_pkix::time::unix(&validity.not_after);
    // Short-lived certificates (OCSP responders: 30 days) are renewed with a third of their life left.
    let lifetime = not_after - hcpki_pkix::time::unix(&validity.not_before);
    if not_after - authority.clock().now_unix() < (RENEW_BEFORE_DAYS * 86_400).min(lifetime / 3) {
        return Ok(false);
    }
    // After a CA key rollover's switch (D145) the CA that issues is the new generation, named apart: a certificate
    // of the old one (an OCSP responder's, the SCEP RA's, the TLS server's) is renewed under the new one, unless
    // it was asked of the old generation (its own OCSP responder, D151).
    if let Some(ca) = wanted.serves.or_else(|| CaName::for_profile(wanted.profile)) {
        let issuer_der = match generation {
            Some(g) => authority
                .hierarchy()
                .generation_certificate(ca, g)
                .ok_or_else(|| ServerCertError::Own(format!("the {ca} CA's generation {g} is not in service")))?,
            None => authority.ca_certificate(ca)?,
        };
        if let Ok(issuing) = Certificate::from_der(issuer_der)
            && issuing.tbs_certificate().subject() != cert.tbs_certificate().issuer()
        {
            return Ok(false);
        }
    }
    let serial = cert.tbs_certificate().serial_number().as_bytes();
    let Some(record) = authority
        .pipeline()
        .certificates()
        .certificate_with_serial_octets(serial)
        .await
        .map_err(AuthorityError::from)?
    else {
        return Ok(false);
    };
    let recorded: BTreeSet<&str> = record.sans.iter().map(String::as_str).collect();
    let names: BTreeSet<String> = wanted.sans.iter().map(|n| san_display(n)).collect();
    let right_ca = wanted.serves.is_none_or(|ca| record.ca == ca);
    Ok(record.status == hcpki_ca::store::CertStatus::Issued
        && record.profile == CertProfile::EndEntity(wanted.profile)
        && right_ca
        && recorded == names.iter().map(String::as_str).collect())
}

/// A name as the server profile records it (`DNS:name` lowercased without a final dot, `IP:addr`). A name
/// the profile would spell differently only costs a re-issuance, never a wrong certificate.
fn san_display(name: &str) -> String {
    match name.trim().parse::<std::net::IpAddr>() {
        Ok(ip) => format!("IP:{ip}"),
        Err(_) => format!("DNS:{}", name.trim().trim_end_matches('.').to_ascii_lowercase()),
    }
}

/// Replace the certificate file atomically (write beside it, then rename), so a crash leaves the old or the
/// new certificate, never half of one.
fn write_certificate(path: &Path, pem: &str) -> Result<(), ServerCertError> {
    let io = |e| ServerCertError::Io { path: path.to_owned(), source: e };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::fs::write(tmp.path(), pem).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Why the server certificate could not be loaded or issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerCertError {
    /// One of hcpki's own keys (TLS server, SCEP RA, OCSP responder) could not be opened or made.
    #[error("hcpki's own key (TLS server, SCEP RA or OCSP responder): {0}")]
    Key(#[from] KeyError),
    /// Issuing (or looking up) the certificate failed.
    #[error("hcpki's own certificate (TLS server, SCEP RA or OCSP responder): {0}")]
    Authority(#[from] AuthorityError),
    /// A stored certificate does not fit its use (e.g. not for its key).
    #[error("{0}")]
    Own(String),
    /// The certificate file could not be read or written.
    #[error("certificate file {path}: {source}; check the permissions of the hcpki directory")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The certificate file holds no certificate.
    #[error("{0} is not a PEM certificate; remove it and restart to issue a new one")]
    Damaged(PathBuf),
}

/// Issuing or looking up hcpki's own certificate, as [`ServerCertError::Authority`].
impl From<SigningError> for ServerCertError {
    fn from(e: SigningError) -> Self {
        Self::Authority(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_compared_as_the_profile_records_them() {
        assert_eq!(san_display(" LocalHost. "), "DNS:localhost");
        assert_eq!(san_display("::1"), "IP:::1");
        assert_eq!(san_display("127.0.0.1"), "IP:127.0.0.1");
    }
}
