//! A token bound to a client certificate (RFC 8705 §3, `cnf.x5t#S256`) holds only while that certificate does:
//! asked wherever a bound token is taken (the resources, `super::endpoints`; token exchange,
//! `crate::token_exchange`).

use hcpki_ca::store::{CertStatus, Issuance, StoreError};

/// Why a certificate a token is bound to no longer vouches for it: one this CA issued (a facility PC's, or a
/// `tls_client_auth` client's) that the registry holds as revoked, on hold or expired. Neither listener refuses
/// such a certificate at the handshake (the portal's answers with a page instead, the mTLS one authenticates
/// clients itself), so without this a token bound to a withdrawn PC certificate would keep working until it
/// expires. Certificates this CA did not issue (self-signed client keys) have no status here.
pub async fn withdrawn(store: &dyn Issuance, der: &[u8], now: i64) -> Result<Option<String>, StoreError> {
    let Ok(cert) = <x509_cert::Certificate as der::Decode>::from_der(der) else { return Ok(None) };
    let serial = hcpki_ca::serial::to_hex(cert.tbs_certificate().serial_number());
    Ok(match store.certificate_with_serial_octets(cert.tbs_certificate().serial_number().as_bytes()).await? {
        Some(r) if r.der.as_deref() == Some(der) && r.status != CertStatus::Issued => {
            Some(format!("the client certificate {serial} the access token is bound to is {}", r.status.as_str()))
        }
        Some(r) if r.der.as_deref() == Some(der) && r.not_after <= now => {
            Some(format!("the client certificate {serial} the access token is bound to has expired"))
        }
        _ => None,
    })
}
