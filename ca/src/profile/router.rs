//! `router`: IKEv2 peer certificates for facility routers (RFC 4945).
//!
//! The national demonstration found that HPKI-style certificates failed on
//! most routers' IKE stacks while minimal RFC 4945 ones worked. So this
//! profile is minimal on purpose: keyUsage digitalSignature (critical), a SAN
//! equal to each IKE identity (dNSName and/or iPAddress, IPv4 or IPv6), an
//! HTTP CRL DP, a short ASCII DN, no certificate policies, no name constraints,
//! no freshest-CRL. EKU is a per-vendor choice ([`RouterEku`]).
//!
//! Every router certificate also carries the facility's own DNS name,
//! `<facility-id>.<zone>`: the machine-readable facility identifier that IKE
//! stacks can match, since they expect only dNSName/iPAddress/rfc822Name.
//! Extra DNS names must sit inside that name, and IP addresses inside the
//! facility's address allocations (issue #24, item 2), so a facility cannot
//! claim another's identity; the CN repeats a checked identity.

mod eku;

pub use eku::{RouterEku, Vendor};

use crate::facility::{Allocation, Facility};
use crate::profile::{
    DnBuilder, FacilityRule, KeyClass, NameRequest, Names, ProfileError, ProfileKind, ProfileSettings, ProfileSpec,
    dns_name, ip_address,
};
use der::asn1::Ia5String;
use hcpki_pkix::asn1::GeneralName;
use std::net::IpAddr;
use x509_cert::ext::pkix::KeyUsages;

/// The router profile's data.
pub fn spec(settings: &ProfileSettings, eku: RouterEku) -> ProfileSpec {
    ProfileSpec {
        kind: ProfileKind::Router,
        key_usage: &[KeyUsages::DigitalSignature],
        eku: eku.oids(),
        validity_days: settings.router_days,
        keys: &[KeyClass::Rsa, KeyClass::P256],
        facility: FacilityRule::Required,
        revocation_pointers: true,
        ocsp_nocheck: false,
        eku_critical: false,
    }
}

/// The router name rule.
pub fn names(
    settings: &ProfileSettings,
    facility: Option<&Facility>,
    request: &NameRequest<'_>,
) -> Result<Names, ProfileError> {
    let facility = facility.ok_or(ProfileError::FacilityRequired(ProfileKind::Router))?;
    let own = settings.router_dns_name(&facility.id);
    let mut dns = vec![own.clone()];
    let mut ips = Vec::new();
    // Each requested identity in the order asked, only once it has passed its check.
    let mut checked = Vec::new();
    for value in &request.sans {
        if let Some(ip) = ip_address(value) {
            let ip = allocated(ip?, facility, request.allocations)?;
            if !ips.contains(&ip) {
                ips.push(ip);
            }
            checked.push(ip.to_string());
            continue;
        }
        let name = dns_name(value)?;
        if name != own && !name.ends_with(&format!(".{own}")) {
            return Err(ProfileError::SanOutsideFacility {
                value: value.clone(),
                facility: facility.id.to_string(),
                zone: own.clone(),
            });
        }
        if !dns.contains(&name) {
            dns.push(name.clone());
        }
        checked.push(name);
    }
    // The CN names the identity the operator asked for first, as it came out of its check (never the raw text:
    // an address is in the facility's allocations, a name inside its zone); the facility's own name otherwise.
    let cn = checked.into_iter().next().unwrap_or_else(|| own.clone());
    let subject = DnBuilder::default()
        .country("JP")?
        .organization(&settings.organization)?
        .serial_number(facility.id.as_str())?
        .common_name(cn.trim_end_matches('.'))?
        .build();
    let mut sans = Vec::new();
    let mut display = Vec::new();
    for d in &dns {
        sans.push(GeneralName::DnsName(Ia5String::new(d)?));
        display.push(format!("DNS:{d}"));
    }
    for ip in &ips {
        sans.push(GeneralName::ip(*ip)?);
        display.push(format!("IP:{ip}"));
    }
    Ok(Names { subject, sans, display })
}

/// `ip` when it lies inside one of the facility's allocations (issue #24, item 2): a hub that identifies IKE
/// peers by `ID_IPV4_ADDR`/`ID_IPV6_ADDR` trusts the address, so only its owner may have it certified.
fn allocated(ip: IpAddr, facility: &Facility, allocations: &[Allocation]) -> Result<IpAddr, ProfileError> {
    if allocations.iter().any(|a| a.contains(ip)) {
        return Ok(ip);
    }
    let held: Vec<String> = allocations.iter().map(ToString::to_string).collect();
    Err(ProfileError::AddressNotAllocated {
        address: ip,
        facility: facility.id.to_string(),
        held: if held.is_empty() { "it holds no addresses".into() } else { format!("it holds {}", held.join(", ")) },
    })
}
