//! The router profile's EKU choice: RFC 4945 says none, some IKE stacks insist on one; the vendor table says which.

use crate::profile::ProfileError;
use hcpki_pkix::oid;
use std::fmt;
use std::str::FromStr;

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
