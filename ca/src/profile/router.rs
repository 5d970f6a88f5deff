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

use crate::asn1::GeneralName;
use crate::facility::{Allocation, Facility};
use crate::oid;
use crate::profile::{
    DnBuilder, FacilityRule, KeyClass, NameRequest, Names, ProfileError, ProfileKind, ProfileSettings, ProfileSpec,
    dns_name, ip_address,
};
use der::asn1::Ia5String;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use x509_cert::ext::pkix::KeyUsages;

/// extKeyUsage variants for routers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouterEku {
    /// No EKU (RFC 4945 §5.1.3.12: "the CA SHOULD NOT include EKU").
    None,
    /// serverAuth, clientAuth, id-kp-ipsecIKE: for stacks that insist on an EKU.
    Ike,
    /// [`RouterEku::Ike`] plus ikeIntermediate (1.3.6.1.5.5.8.2.2), which Windows IKEv2 wants.
    IkeIntermediate,
}

impl RouterEku {
    /// Every variant.
    pub const ALL: [RouterEku; 3] = [Self::None, Self::Ike, Self::IkeIntermediate];

    /// The OIDs.
    pub fn oids(self) -> Vec<const_oid::ObjectIdentifier> {
        match self {
            Self::None => vec![],
            Self::Ike => vec![oid::KP_SERVER_AUTH, oid::KP_CLIENT_AUTH, oid::KP_IPSEC_IKE],
            Self::IkeIntermediate => {
                vec![oid::KP_SERVER_AUTH, oid::KP_CLIENT_AUTH, oid::KP_IPSEC_IKE, oid::KP_IKE_INTERMEDIATE]
            }
        }
    }

    /// Stable text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Ike => "ike",
            Self::IkeIntermediate => "ike-intermediate",
        }
    }
}

impl fmt::Display for RouterEku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RouterEku {
    type Err = ProfileError;
    fn from_str(s: &str) -> Result<Self, ProfileError> {
        match s.trim() {
            "none" => Ok(Self::None),
            "ike" => Ok(Self::Ike),
            "ike-intermediate" => Ok(Self::IkeIntermediate),
            other => Err(ProfileError::Variant(format!(
                "unknown router EKU variant {other:?}: use none, ike or ike-intermediate"
            ))),
        }
    }
}

/// Router vendors with a known EKU preference (docs/routers/ says which were tested here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vendor {
    /// strongSwan: ignores EKU for IKE (tested here).
    StrongSwan,
    /// libreswan: NSS IPsec usage accepts no EKU (tested here).
    Libreswan,
    /// Cisco IOS / IOS-XE.
    Cisco,
    /// Juniper SRX.
    Juniper,
    /// Fortinet FortiGate.
    FortiGate,
    /// MikroTik RouterOS.
    MikroTik,
    /// Yamaha RTX.
    Yamaha,
    /// Windows IKEv2 (RRAS, built-in client).
    Windows,
}

impl Vendor {
    /// All vendors with their CLI names.
    pub const ALL: [(&'static str, Vendor); 8] = [
        ("strongswan", Self::StrongSwan),
        ("libreswan", Self::Libreswan),
        ("cisco", Self::Cisco),
        ("juniper", Self::Juniper),
        ("fortigate", Self::FortiGate),
        ("mikrotik", Self::MikroTik),
        ("yamaha", Self::Yamaha),
        ("windows", Self::Windows),
    ];

    /// The EKU variant to use for this vendor.
    pub fn eku(self) -> RouterEku {
        match self {
            // Accept certificates without EKU (RFC 4945 conformant verifiers).
            Self::StrongSwan | Self::Libreswan | Self::Juniper | Self::FortiGate | Self::Yamaha => RouterEku::None,
            // Documented to check for server/client auth when an EKU-bearing chain is expected.
            Self::Cisco | Self::MikroTik => RouterEku::Ike,
            Self::Windows => RouterEku::IkeIntermediate,
        }
    }
}

impl FromStr for Vendor {
    type Err = ProfileError;
    fn from_str(s: &str) -> Result<Self, ProfileError> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, v)| *v).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
            ProfileError::Variant(format!("unknown vendor {s:?}: use one of {}", names.join(", ")))
        })
    }
}

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
