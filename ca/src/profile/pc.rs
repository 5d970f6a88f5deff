//! `pc`: TLS client certificates for facility PCs (the portal's facility context).
//!
//! The portal learns *which facility* a physician acts for from this
//! certificate, verified in mutual TLS. It carries the facility identifier
//! twice — subject serialNumber (`HF…`) and one URI SAN
//! `https://<identity domain>/facility/<id>/device/<device>` that also names
//! the device (CN repeats the device) — EKU clientAuth only, a short DN.
//! Why a URI and not an otherName under the project's `2.25.<uuid>` arc: a
//! 128-bit arc breaks common certificate parsers (docs/profiles.md#project-oids),
//! and an https URI is the one URI form every linter and library accepts.

use crate::asn1::GeneralName;
use crate::facility::Facility;
use crate::facility::FacilityId;
use crate::oid;
use crate::profile::{
    DnBuilder, FacilityRule, KeyClass, NameRequest, Names, ProfileError, ProfileKind, ProfileSettings, ProfileSpec,
};
use x509_cert::ext::pkix::KeyUsages;

/// The PC profile's data.
pub fn spec(settings: &ProfileSettings) -> ProfileSpec {
    ProfileSpec {
        kind: ProfileKind::Pc,
        key_usage: &[KeyUsages::DigitalSignature],
        eku: vec![oid::KP_CLIENT_AUTH],
        validity_days: settings.pc_days,
        keys: &[KeyClass::Rsa, KeyClass::P256, KeyClass::P384],
        facility: FacilityRule::Required,
        revocation_pointers: true,
        ocsp_nocheck: false,
    }
}

/// The PC name rule. Without `--device`, the device ID is derived from the
/// key (`pc-` + 8 hex digits of its SHA-256), so re-issuing for the same key
/// names the same device.
pub fn names(
    settings: &ProfileSettings,
    facility: Option<&Facility>,
    request: &NameRequest<'_>,
) -> Result<Names, ProfileError> {
    let facility = facility.ok_or(ProfileError::FacilityRequired(ProfileKind::Pc))?;
    if !request.sans.is_empty() {
        return Err(ProfileError::SanNotAllowed(ProfileKind::Pc, "name the device with --device"));
    }
    let device = request.device.clone().ok_or(ProfileError::Device(String::new()))?;
    let valid = !device.is_empty()
        && device.len() <= 64
        && device.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !valid {
        return Err(ProfileError::Device(device));
    }
    let subject = DnBuilder::default()
        .country("JP")?
        .organization(&settings.organization)?
        .serial_number(facility.id.as_str())?
        .common_name(&device)?
        .build();
    let uri = identity_uri(settings, &facility.id, &device);
    let sans = vec![GeneralName::UniformResourceIdentifier(der::asn1::Ia5String::new(&uri)?)];
    let display = vec![format!("URI:{uri}")];
    Ok(Names { subject, sans, display })
}

/// The default device ID for a key: `pc-` + the first 8 hex digits of its SPKI SHA-256.
pub fn default_device_id(spki_sha256_hex: &str) -> String {
    format!("pc-{}", spki_sha256_hex.get(..8).unwrap_or(spki_sha256_hex))
}

/// The identity URI of a facility PC.
pub fn identity_uri(settings: &ProfileSettings, id: &FacilityId, device: &str) -> String {
    format!(
        "https://{}/facility/{id}/device/{device}",
        settings.identity_domain.trim_end_matches('.').to_ascii_lowercase()
    )
}

/// Read the facility and device back from an identity URI (any identity domain;
/// the caller has already checked which CA issued the certificate).
pub fn parse_identity_uri(uri: &str) -> Option<(FacilityId, String)> {
    let rest = uri.strip_prefix("https://")?;
    let (_host, path) = rest.split_once('/')?;
    let mut parts = path.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("facility"), Some(id), Some("device"), Some(device), None) if !device.is_empty() => {
            Some((FacilityId::parse(id).ok()?, device.to_owned()))
        }
        _ => None,
    }
}
