//! `operator`: TLS client certificates for the people who run hcpki (the admin API over mutual TLS).
//!
//! Issued by the **server CA** — hcpki's CA for its own infrastructure — and never by the facility PC CA, so
//! no facility certificate can ever pass for an operator's, whatever its names say (decision D18). The
//! certificate only *identifies*: CN = the operator name and one URI SAN
//! `https://<identity domain>/operator/<name>` (the same https-URI form as the PC profile, for the same
//! reason: every linter and library accepts it). The role (operator or auditor) and whether the operator
//! may still act live in the `operators` table, so disabling someone needs no revocation infrastructure.

use crate::operator::OperatorName;
use crate::profile::{
    DnBuilder, FacilityRule, KeyClass, NameRequest, Names, ProfileError, ProfileKind, ProfileSettings, ProfileSpec,
};
use hcpki_pkix::asn1::GeneralName;
use hcpki_pkix::oid;
use x509_cert::ext::pkix::KeyUsages;

/// Operator certificates live a year at most: people change jobs; re-issuing is one command.
const OPERATOR_DAYS: u32 = 365;

/// The operator profile's data.
pub fn spec(_settings: &ProfileSettings) -> ProfileSpec {
    ProfileSpec {
        kind: ProfileKind::Operator,
        key_usage: &[KeyUsages::DigitalSignature],
        eku: vec![oid::KP_CLIENT_AUTH],
        validity_days: OPERATOR_DAYS,
        keys: &[KeyClass::Rsa, KeyClass::P256, KeyClass::P384],
        facility: FacilityRule::Forbidden,
        revocation_pointers: true,
        ocsp_nocheck: false,
        eku_critical: false,
    }
}

/// The operator name rule: the name comes in `request.device` (the one free-form identifier a name
/// request carries); no SANs of the caller's.
pub fn names(settings: &ProfileSettings, request: &NameRequest<'_>) -> Result<Names, ProfileError> {
    if !request.sans.is_empty() {
        return Err(ProfileError::SanNotAllowed(ProfileKind::Operator, "the operator name is the identity"));
    }
    let raw = request.device.clone().unwrap_or_default();
    let name = OperatorName::parse(&raw).map_err(|_| ProfileError::Device(raw))?;
    let subject =
        DnBuilder::default().country("JP")?.organization(&settings.organization)?.common_name(name.as_str())?.build();
    let uri = identity_uri(settings, &name);
    let sans = vec![GeneralName::UniformResourceIdentifier(der::asn1::Ia5String::new(&uri)?)];
    Ok(Names { subject, sans, display: vec![format!("URI:{uri}")] })
}

/// The identity URI of an operator.
pub fn identity_uri(settings: &ProfileSettings, name: &OperatorName) -> String {
    format!("https://{}/operator/{name}", settings.identity_domain.trim_end_matches('.').to_ascii_lowercase())
}

/// The operator named by an identity URI (any identity domain; the caller has checked the issuing CA).
pub fn parse_identity_uri(uri: &str) -> Option<OperatorName> {
    let rest = uri.strip_prefix("https://")?;
    let (_host, path) = rest.split_once('/')?;
    OperatorName::parse(path.strip_prefix("operator/")?).ok()
}
