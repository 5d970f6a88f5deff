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

use crate::facility::Facility;
use crate::facility::FacilityId;
use crate::profile::{
    DnBuilder, FacilityRule, KeyClass, NameRequest, Names, ProfileError, ProfileKind, ProfileSettings, ProfileSpec,
};
use hcpki_pkix::asn1::GeneralName;
use hcpki_pkix::oid;
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
        eku_critical: false,
    }
}

/// The PC name rule. Without `--device`, the device ID is derived from the
/// key (`pc-` + 8 hex digits of its SHA-256), so re-issuing for the same key
/// names the same device. The only name a PC may also ask for is its own host name in its facility's
/// domain, `<device>.<facility-id>.<router zone>` (what ACME validated, D17): it becomes a dNSName next to
/// the identity URI, so ACME clients that renew by the names in the certificate (certbot) can.
pub fn names(
    settings: &ProfileSettings,
    facility: Option<&Facility>,
    request: &NameRequest<'_>,
) -> Result<Names, ProfileError> {
    let facility = facility.ok_or(ProfileError::FacilityRequired(ProfileKind::Pc))?;
    let device = request.device.clone().ok_or(ProfileError::Device(String::new()))?;
    let host = match request.sans.as_slice() {
        [] => None,
        [name] if name.to_ascii_lowercase() == host_name(settings, &facility.id, &device) && is_dns_label(&device) => {
            Some(name.to_ascii_lowercase())
        }
        _ => {
            return Err(ProfileError::SanNotAllowed(
                ProfileKind::Pc,
                "name the device with --device; the one DNS name a PC may carry is <device>.<facility-id>.<router zone>",
            ));
        }
    };
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
        .common_name(common_name(&device, host.as_deref()))?
        .build();
    let uri = identity_uri(settings, &facility.id, &device);
    let mut sans = vec![GeneralName::UniformResourceIdentifier(der::asn1::Ia5String::new(&uri)?)];
    let mut display = vec![format!("URI:{uri}")];
    if let Some(host) = host {
        sans.push(GeneralName::DnsName(der::asn1::Ia5String::new(&host)?));
        display.push(format!("DNS:{host}"));
    }
    Ok(Names { subject, sans, display })
}

/// The CN: the host name when the PC has one (ACME clients renew by every name in the certificate, CN
/// included, so a CN that is not the host would be asked for as a second identifier), else the device ID.
/// A host name over the 64 characters a CN may hold leaves the CN at the device ID.
fn common_name<'a>(device: &'a str, host: Option<&'a str>) -> &'a str {
    match host {
        Some(h) if h.len() <= 64 => h,
        _ => device,
    }
}

/// A PC's host name in its facility's domain: `<device>.<facility-id>.<router zone>`, lowercase.
pub fn host_name(settings: &ProfileSettings, id: &FacilityId, device: &str) -> String {
    format!("{}.{}", device.to_ascii_lowercase(), settings.router_dns_name(id))
}

/// Whether a device ID can be the first label of a host name (LDH, no leading or trailing hyphen).
fn is_dns_label(device: &str) -> bool {
    !device.is_empty()
        && device.len() <= 63
        && !device.starts_with('-')
        && !device.ends_with('-')
        && device.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facility::{FacilityKind, FacilityState};

    #[test]
    fn the_one_dns_name_is_the_devices_host_in_its_facility() {
        let settings = ProfileSettings::default();
        let f = Facility {
            id: FacilityId::from_number(17).unwrap(),
            name: "clinic".into(),
            kind: FacilityKind::Clinic,
            medical_code: None,
            address: None,
            contact: None,
            state: FacilityState::Active,
            state_reason: None,
            state_changed_by: "test".into(),
            state_changed_at: 0,
            created_at: 0,
        };
        let other = FacilityId::from_number(18).unwrap();
        let ask = |device: &str, sans: Vec<String>| {
            names(&settings, Some(&f), &NameRequest { device: Some(device.into()), sans, ..Default::default() })
        };
        let own = host_name(&settings, &f.id, "pc-01");
        let named = ask("pc-01", vec![own.to_ascii_uppercase()]).unwrap();
        assert_eq!(named.display.len(), 2);
        assert_eq!(named.display[1], format!("DNS:{own}"));
        assert_eq!(ask("pc-01", vec![]).unwrap().display.len(), 1);
        for wrong in [
            vec![host_name(&settings, &f.id, "pc-02")],
            vec![host_name(&settings, &other, "pc-01")],
            vec![settings.router_dns_name(&f.id)],
            vec![own.clone(), own.clone()],
            vec!["192.0.2.1".into()],
        ] {
            assert!(matches!(ask("pc-01", wrong), Err(ProfileError::SanNotAllowed(ProfileKind::Pc, _))));
        }
        // A device ID that is no DNS label cannot have a host name.
        let odd = host_name(&settings, &f.id, "pc_01");
        assert!(ask("pc_01", vec![odd]).is_err());
    }
}
