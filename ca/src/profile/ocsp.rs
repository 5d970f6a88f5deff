//! `ocsp`: delegated OCSP responder certificates (RFC 6960 §4.2.2.2).
//!
//! Issued by each issuing CA for itself, short-lived and rotated, with
//! id-pkix-ocsp-nocheck so clients do not ask about the responder's own status.

use crate::profile::{
    DnBuilder, FacilityRule, KeyClass, NameRequest, Names, ProfileError, ProfileKind, ProfileSettings, ProfileSpec,
};
use hcpki_pkix::oid;
use x509_cert::ext::pkix::KeyUsages;

/// The OCSP signer profile's data.
pub fn spec(settings: &ProfileSettings) -> ProfileSpec {
    ProfileSpec {
        kind: ProfileKind::Ocsp,
        key_usage: &[KeyUsages::DigitalSignature],
        eku: vec![oid::KP_OCSP_SIGNING],
        validity_days: settings.ocsp_days,
        keys: &[KeyClass::Rsa, KeyClass::P256, KeyClass::P384],
        facility: FacilityRule::Forbidden,
        revocation_pointers: false,
        ocsp_nocheck: true,
        eku_critical: false,
    }
}

/// The OCSP signer name rule: no SANs; CN names the CA served.
pub fn names(settings: &ProfileSettings, request: &NameRequest<'_>) -> Result<Names, ProfileError> {
    if !request.sans.is_empty() {
        return Err(ProfileError::SanNotAllowed(ProfileKind::Ocsp, "OCSP signers are named after their CA"));
    }
    let ca = request.ocsp_for.as_deref().unwrap_or("hcpki");
    let subject = DnBuilder::default()
        .country("JP")?
        .organization(&settings.organization)?
        .common_name(&format!("hcpki {ca} OCSP responder"))?
        .build();
    Ok(Names { subject, sans: Vec::new(), display: Vec::new() })
}
