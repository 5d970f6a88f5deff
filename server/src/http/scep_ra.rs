//! The SCEP RA identities: one RSA key, one `scep-ra` certificate per facility CA (router, pc).
//!
//! The key is `keys/scep-ra.p8` (encrypted PKCS#8 with the configured passphrase) beside the router CA key
//! when that is a file, object `hcpki-scep-ra` on the same token when it is on PKCS#11 (made with
//! CKA_DECRYPT, since clients encrypt to it). The certificates are `scep/router-ra.pem` and `scep/pc-ra.pem`,
//! made and renewed at `hcpki serve` start exactly like the TLS server certificate ([`server_cert`]).

use crate::server_cert::{self, OwnCertificate, ServerCertError};
use hcpki_ca::enroll::scep::Ra;
use hcpki_ca::profile::ProfileKind;
use hcpki_ca::{Authority, CaName};
use hcpki_pkix::keys::{self, Decrypter, KeyAlgorithm, KeyContext};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

const KEY_FILE: &str = "keys/scep-ra.p8";
const KEY_OBJECT: &str = "hcpki-scep-ra";
/// RSA: SCEP clients wrap the content key with RSAES-PKCS1-v1_5.
const KEY_ALGORITHM: KeyAlgorithm = KeyAlgorithm::Rsa2048;
/// The CAs devices enroll with over SCEP, and the profile each issues.
pub const SERVED: [(CaName, ProfileKind); 2] = [(CaName::Router, ProfileKind::Router), (CaName::Pc, ProfileKind::Pc)];

/// The RA of each facility CA, by the profile it enrolls; certificates issued or renewed as needed.
pub async fn ensure(
    authority: &Authority,
    dir: &Path,
    ctx: &KeyContext,
) -> Result<HashMap<ProfileKind, Arc<Ra>>, ServerCertError> {
    let uri = server_cert::own_key_uri(authority, CaName::Router, KEY_FILE, KEY_OBJECT)?;
    let key: Arc<dyn Decrypter> = Arc::from(keys::open_or_generate_decrypter(&uri, KEY_ALGORITHM, ctx)?);
    let mut ras = HashMap::new();
    for (ca, profile) in SERVED {
        let file = format!("scep/{ca}-ra.pem");
        let wanted = OwnCertificate { file: &file, profile: ProfileKind::ScepRa, sans: &[], serves: Some(ca) };
        let (certificate, serial, issued) =
            server_cert::ensure_certificate(authority, dir, key.as_ref(), &wanted).await?;
        tracing::info!(ca = %ca, serial, issued, "SCEP RA certificate {}", if issued { "issued" } else { "loaded" });
        ras.insert(profile, Arc::new(Ra { certificate, key: key.clone() }));
    }
    Ok(ras)
}
