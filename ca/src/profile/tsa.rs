//! `tsa`: hcpki's RFC 3161 time-stamping authority (`hcpki serve`'s `/tsa`, [`hcpki_docsig::timestamp`]).
//!
//! RFC 3161 §2.3: the certificate carries exactly one extKeyUsage, critical, with id-kp-timeStamping alone
//! (OpenSSL's `ts -verify` refuses anything else). keyUsage digitalSignature and nonRepudiation: a time
//! stamp is evidence for a third party, which is what nonRepudiation (contentCommitment) marks, and both
//! bits are the ones OpenSSL's time-stamp purpose allows. Issued by the server CA, hcpki's CA for its own
//! services (decision D65), with the server profile's revocation pointers so long-term validation data
//! (CRL, OCSP) can be gathered for it.

use crate::profile::{
    DnBuilder, FacilityRule, KeyClass, NameRequest, Names, ProfileError, ProfileKind, ProfileSettings, ProfileSpec,
};
use hcpki_pkix::oid;
use x509_cert::ext::pkix::KeyUsages;

/// The TSA profile's data.
pub fn spec(settings: &ProfileSettings) -> ProfileSpec {
    ProfileSpec {
        kind: ProfileKind::Tsa,
        key_usage: &[KeyUsages::DigitalSignature, KeyUsages::NonRepudiation],
        eku: vec![oid::KP_TIME_STAMPING],
        validity_days: settings.tsa_days,
        keys: &[KeyClass::Rsa, KeyClass::P256, KeyClass::P384],
        facility: FacilityRule::Forbidden,
        revocation_pointers: true,
        ocsp_nocheck: false,
        eku_critical: true,
    }
}

/// The TSA name rule: no SANs (RFC 3161 names the TSA by its certificate's subject); a fixed CN.
pub fn names(settings: &ProfileSettings, request: &NameRequest<'_>) -> Result<Names, ProfileError> {
    if !request.sans.is_empty() {
        return Err(ProfileError::SanNotAllowed(ProfileKind::Tsa, "the TSA is named by its subject"));
    }
    let subject = DnBuilder::default()
        .country("JP")?
        .organization(&settings.organization)?
        .common_name("hcpki Time-Stamping Authority")?
        .build();
    Ok(Names { subject, sans: Vec::new(), display: Vec::new() })
}
