//! `server`: TLS server certificates for hcpki's own endpoints (portal, EST, OCSP over HTTPS).

use crate::profile::{
    DnBuilder, FacilityRule, KeyClass, NameRequest, Names, ProfileError, ProfileKind, ProfileSettings, ProfileSpec,
    dns_name, ip_address,
};
use der::asn1::Ia5String;
use hcpki_pkix::asn1::GeneralName;
use hcpki_pkix::oid;
use x509_cert::ext::pkix::KeyUsages;

/// The server profile's data. digitalSignature only: hcpki's TLS uses ECDHE, never RSA key transport.
pub fn spec(settings: &ProfileSettings) -> ProfileSpec {
    ProfileSpec {
        kind: ProfileKind::Server,
        key_usage: &[KeyUsages::DigitalSignature],
        eku: vec![oid::KP_SERVER_AUTH],
        validity_days: settings.server_days,
        keys: &[KeyClass::Rsa, KeyClass::P256, KeyClass::P384],
        facility: FacilityRule::Forbidden,
        revocation_pointers: true,
        ocsp_nocheck: false,
        eku_critical: false,
    }
}

/// The server name rule: one or more DNS names / IP addresses; CN = the first.
pub fn names(settings: &ProfileSettings, request: &NameRequest<'_>) -> Result<Names, ProfileError> {
    if request.sans.is_empty() {
        return Err(ProfileError::SanRequired(ProfileKind::Server));
    }
    let mut sans = Vec::new();
    let mut display = Vec::new();
    for value in &request.sans {
        if let Some(ip) = ip_address(value) {
            let ip = ip?;
            let d = format!("IP:{ip}");
            if !display.contains(&d) {
                sans.push(GeneralName::ip(ip)?);
                display.push(d);
            }
        } else {
            let name = dns_name(value)?;
            let d = format!("DNS:{name}");
            if !display.contains(&d) {
                sans.push(GeneralName::DnsName(Ia5String::new(&name)?));
                display.push(d);
            }
        }
    }
    let cn = display.first().map(|d| d.split_once(':').map(|x| x.1).unwrap_or(d).to_owned()).unwrap_or_default();
    let subject = DnBuilder::default().country("JP")?.organization(&settings.organization)?.common_name(&cn)?.build();
    Ok(Names { subject, sans, display })
}
