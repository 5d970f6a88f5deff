//! A test TSA's certificate: what every signature test's in-process time-stamping authority signs under.

use super::PkiError;
use rcgen::{CertificateParams, CustomExtension, DnType, KeyPair, KeyUsagePurpose};

/// A self-signed certificate named `common_name` for the PKCS#8 key `pkcs8`, valid 2020–2040 (so a fixture can be
/// stamped at any time it needs), keyUsage digitalSignature and a **critical** extendedKeyUsage timeStamping
/// alone, as RFC 3161 §2.3 requires (rcgen writes its own EKU non-critical, hence the raw extension). It is its
/// own trust anchor.
pub fn tsa_certificate(pkcs8: &[u8], common_name: &str) -> Result<Vec<u8>, PkiError> {
    let what = "test TSA certificate";
    let pair = KeyPair::try_from(pkcs8).map_err(|source| PkiError::Certificate { what, source })?;
    let mut params =
        CertificateParams::new(Vec::<String>::new()).map_err(|source| PkiError::Certificate { what, source })?;
    params.distinguished_name.push(DnType::CommonName, common_name);
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2040, 1, 1);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // SEQUENCE { id-kp-timeStamping 1.3.6.1.5.5.7.3.8 }
    let mut eku = CustomExtension::from_oid_content(
        &[2, 5, 29, 37],
        vec![0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08],
    );
    eku.set_criticality(true);
    params.custom_extensions.push(eku);
    params.self_signed(&pair).map(|c| c.der().to_vec()).map_err(|source| PkiError::Certificate { what, source })
}
