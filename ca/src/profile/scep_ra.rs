//! `scep-ra`: the SCEP registration authority certificate of an issuing CA (RFC 8894 §2.1.1, §3.5.1).
//!
//! SCEP clients encrypt their requests to it (keyEncipherment) and check its signature on every answer
//! (digitalSignature). RSA only: clients wrap the content key with RSAES-PKCS1-v1_5. No EKU: RFC 8894 names
//! none and clients (certmonger, Cisco IOS) check the key usage only.

use crate::profile::{
    DnBuilder, FacilityRule, KeyClass, NameRequest, Names, ProfileError, ProfileKind, ProfileSettings, ProfileSpec,
};
use x509_cert::ext::pkix::KeyUsages;

/// The SCEP RA profile's data. Same lifetime as the server certificate, renewed at `hcpki serve` start.
pub fn spec(settings: &ProfileSettings) -> ProfileSpec {
    ProfileSpec {
        kind: ProfileKind::ScepRa,
        key_usage: &[KeyUsages::DigitalSignature, KeyUsages::KeyEncipherment],
        eku: Vec::new(),
        validity_days: settings.server_days,
        keys: &[KeyClass::Rsa],
        facility: FacilityRule::Forbidden,
        revocation_pointers: true,
        ocsp_nocheck: false,
        eku_critical: false,
    }
}

/// The RA name rule: no SANs; CN names the CA served.
pub fn names(settings: &ProfileSettings, request: &NameRequest<'_>) -> Result<Names, ProfileError> {
    if !request.sans.is_empty() {
        return Err(ProfileError::SanNotAllowed(ProfileKind::ScepRa, "SCEP RAs are named after their CA"));
    }
    let ca = request.ocsp_for.as_deref().unwrap_or("hcpki");
    let subject = DnBuilder::default()
        .country("JP")?
        .organization(&settings.organization)?
        .common_name(&format!("hcpki {ca} SCEP RA"))?
        .build();
    Ok(Names { subject, sans: Vec::new(), display: Vec::new() })
}
