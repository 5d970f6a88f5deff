//! The delegated OCSP responders: one key and one `ocsp` certificate (id-pkix-ocsp-nocheck, 30 days by
//! default) per CA the responder answers for.
//!
//! Keys live beside the CA's key, like the server's own TLS key: `keys/ocsp-<ca>.p8` (encrypted PKCS#8) for a
//! file CA key, object `hcpki-ocsp-<ca>` on the same token for a PKCS#11 one. RSA-2048 for an RSA CA (the
//! router CA: IKE stacks that verify RSA chains only must verify the responder too), P-256 otherwise. The
//! certificates are `ocsp/<ca>.pem`, issued through the normal pipeline at `hcpki serve` start and renewed
//! while serving (checked hourly) once a third of their life is left, well before any answer they signed
//! ends. The key is kept across renewals.
//!
//! After a CA rollover's switch (D145) and until its retirement the CA has two generations in service, and each
//! answers for its own certificates with a responder certificate it issued itself (D151): the one that issues
//! with `ocsp/<ca>.pem`, the previous one with `ocsp/<ca>-g<n>.pem`, both for the same responder key. A relying
//! party checking an old-generation certificate then finds a responder its issuer certified.

use crate::server_cert::{self, OwnCertificate, ServerCertError};
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::revocation::ocsp::{OcspSigner, Responder, Served};
use hcpki_ca::{Authority, CaName};
use hcpki_pkix::keys::{self, KeyAlgorithm, KeyContext, KeySource};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The CAs answered for: the facility CAs and the server CA (operator and server certificates). The root
/// signs only CA certificates, which relying parties check against the root's CRL.
pub const SERVED: [CaName; 3] = [CaName::Router, CaName::Pc, CaName::Server];
/// How often the responder certificates are checked for renewal while serving.
const ROTATION_CHECK: Duration = Duration::from_secs(3600);

/// Each served CA generation's certificate and delegated responder, issuing or renewing responder certificates
/// as needed.
pub async fn ensure(authority: &Authority, dir: &Path, ctx: &KeyContext) -> Result<Vec<Served>, ServerCertError> {
    let mut served = Vec::with_capacity(SERVED.len());
    for (ca, generation) in generations(authority) {
        let signer = ensure_one(authority, dir, ctx, ca, generation).await?;
        let certificate = authority
            .hierarchy()
            .generation_certificate(ca, generation)
            .ok_or_else(|| ServerCertError::Own(format!("the {ca} CA's generation {generation} is not in service")))?
            .to_vec();
        served.push(Served { ca, generation, certificate, signer });
    }
    Ok(served)
}

/// The served CAs' generations in service: the one that issues, and the previous one a switched rollover keeps.
fn generations(authority: &Authority) -> Vec<(CaName, u32)> {
    SERVED
        .into_iter()
        .flat_map(|ca| {
            let g = authority.hierarchy().generations(ca);
            std::iter::once((ca, g.current)).chain(g.previous.map(|p| (ca, p)))
        })
        .collect()
}

/// Check the responder certificates every hour; a renewed one replaces the old at once.
pub fn spawn_rotation(authority: Arc<Authority>, responder: Arc<Responder>, dir: PathBuf, ctx: KeyContext) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(ROTATION_CHECK);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            for (ca, generation) in generations(&authority) {
                let before = responder.signer_not_after(ca, generation);
                match ensure_one(&authority, &dir, &ctx, ca, generation).await {
                    Ok(signer) if Some(signer.not_after()) != before => {
                        tracing::info!(ca = %ca, generation, "OCSP responder certificate renewed");
                        responder.set_signer(ca, generation, signer);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, ca = %ca, "cannot renew the OCSP responder certificate"),
                }
            }
        }
    });
}

async fn ensure_one(
    authority: &Authority,
    dir: &Path,
    ctx: &KeyContext,
    ca: CaName,
    generation: u32,
) -> Result<OcspSigner, ServerCertError> {
    let (file, object) = (format!("keys/ocsp-{ca}.p8"), format!("hcpki-ocsp-{ca}"));
    let uri = server_cert::own_key_uri(authority, ca, &file, &object)?;
    let key: Arc<dyn KeySource> = Arc::from(keys::open_or_generate(&uri, algorithm_for(authority, ca)?, ctx)?);
    // The generation that issues keeps the file it always had; the previous one's is named by its number.
    let previous = generation != authority.hierarchy().generations(ca).current;
    let file = if previous { format!("ocsp/{ca}-g{generation}.pem") } else { format!("ocsp/{ca}.pem") };
    let wanted = OwnCertificate { file: &file, profile: ProfileKind::Ocsp, sans: &[], serves: Some(ca) };
    let (certificate, serial, issued) =
        server_cert::ensure_certificate_in(authority, dir, key.as_ref(), &wanted, previous.then_some(generation))
            .await?;
    if issued {
        tracing::info!(ca = %ca, generation, serial, "OCSP responder certificate issued");
    }
    OcspSigner::new(&certificate, key).map_err(|e| ServerCertError::Own(e.to_string()))
}

/// RSA-2048 under an RSA CA, P-256 under an ECDSA one.
pub(super) fn algorithm_for(authority: &Authority, ca: CaName) -> Result<KeyAlgorithm, ServerCertError> {
    let der = authority.ca_certificate(ca)?;
    let cert = <x509_cert::Certificate as der::Decode>::from_der(der)
        .map_err(|e| ServerCertError::Own(format!("the {ca} CA certificate does not decode: {e}")))?;
    let rsa = cert.tbs_certificate().subject_public_key_info().algorithm.oid == der::oid::db::rfc5912::RSA_ENCRYPTION;
    Ok(if rsa { KeyAlgorithm::Rsa2048 } else { KeyAlgorithm::P256 })
}
