//! Managed pre-shared keys for routers that cannot use certificates (issue #50 item 1, D156).
//!
//! The national demonstration found HPKI router certificates failing on most router pairings and one vendor's
//! router speaking only shared keys. hcpki makes each key itself — per facility and per peer (the hub it
//! tunnels to) — as long as the vendor's router accepts, from an alphabet every vendor's configuration syntax
//! takes unquoted, so nobody picks a weak one. The key is sealed at rest ([`hcpki_pkix::seal`]) bound to its
//! facility, peer and key id; it is shown once when issued and re-fetched only through an audited view.
//! Rotation keeps the old key working for an overlap window ([`hcpki_model::overlap`]).
//!
//! HTTP-free: the store area keeps the rows, the server's CLI, API and console call [`issue`] and the
//! renderers here.

pub mod manage;

use hcpki_pkix::seal::{SealError, SealKey};
use zeroize::Zeroizing;

/// Alphanumerics only: every vendor's syntax takes them unquoted (no `"` for ipsec.secrets, no `?` for IOS,
/// no space for RTX), at log2(62) ≈ 5.95 bits a character.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// The fewest characters hcpki issues: 44 × 5.95 ≥ 256 bits, the strength of 32 random bytes.
pub const MIN_LEN: usize = 44;

/// A router vendor whose pre-shared key syntax hcpki knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Vendor {
    /// strongSwan (swanctl.conf `secrets { ike-… { secret = … } }`).
    Strongswan,
    /// libreswan (ipsec.secrets `: PSK "…"`).
    Libreswan,
    /// Yamaha RTX (`ipsec ike pre-shared-key N text …`).
    YamahaRtx,
    /// Cisco IOS-XE (`crypto ikev2 keyring … pre-shared-key …`).
    CiscoIosXe,
    /// FortiGate (`set psksecret …`).
    Fortigate,
    /// Juniper SRX (`pre-shared-key ascii-text …`).
    JuniperSrx,
    /// MikroTik RouterOS (`/ip ipsec identity add secret=…`).
    Mikrotik,
}

/// Every vendor, in the order the docs list them.
pub const VENDORS: [Vendor; 7] = [
    Vendor::Strongswan,
    Vendor::Libreswan,
    Vendor::YamahaRtx,
    Vendor::CiscoIosXe,
    Vendor::Fortigate,
    Vendor::JuniperSrx,
    Vendor::Mikrotik,
];

impl Vendor {
    /// The longest key (characters) the vendor's router accepts, from its documentation (docs/routers/):
    /// hcpki issues this length unless asked for less.
    pub fn max_len(self) -> usize {
        match self {
            // No documented limit; 128 keeps the configuration readable and is far past 256 bits.
            Self::Strongswan | Self::Libreswan | Self::Mikrotik => 128,
            Self::YamahaRtx | Self::CiscoIosXe | Self::Fortigate => 128,
            Self::JuniperSrx => 255,
        }
    }

    /// The name on the command line and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strongswan => "strongswan",
            Self::Libreswan => "libreswan",
            Self::YamahaRtx => "yamaha-rtx",
            Self::CiscoIosXe => "cisco-ios-xe",
            Self::Fortigate => "fortigate",
            Self::JuniperSrx => "juniper-srx",
            Self::Mikrotik => "mikrotik",
        }
    }
}

impl std::str::FromStr for Vendor {
    type Err = PskError;
    fn from_str(s: &str) -> Result<Self, PskError> {
        VENDORS.into_iter().find(|v| v.as_str() == s).ok_or_else(|| PskError::UnknownVendor(s.to_owned()))
    }
}

/// A new key: the text to show once, and the sealed form to keep.
pub struct NewPsk {
    /// The key, shown to the facility's administrator once; zeroed when dropped.
    pub secret: Zeroizing<String>,
    /// The sealed key, bound to facility, peer and key id.
    pub sealed: String,
}

impl std::fmt::Debug for NewPsk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPsk(..)")
    }
}

/// What a key is bound to: its ciphertext opens only for this facility, peer and key id.
pub fn binding(facility: &str, peer: &str, key_id: &str) -> Vec<u8> {
    [facility.as_bytes(), peer.as_bytes(), key_id.as_bytes()].join(&0u8)
}

/// Make a key for `vendor`, `len` characters (none: the longest the vendor accepts), sealed for
/// `facility`/`peer`/`key_id`. A length the vendor refuses or below 256 bits is refused before anything is made.
pub fn issue(
    seal: &SealKey,
    vendor: Vendor,
    len: Option<usize>,
    facility: &str,
    peer: &str,
    key_id: &str,
) -> Result<NewPsk, PskError> {
    let len = len.unwrap_or(vendor.max_len());
    if len > vendor.max_len() || len < MIN_LEN {
        return Err(PskError::Length { vendor: vendor.as_str(), asked: len, max: vendor.max_len() });
    }
    let secret = random_text(len)?;
    let sealed = seal.seal(&binding(facility, peer, key_id), secret.as_bytes())?;
    Ok(NewPsk { secret, sealed })
}

/// Open a kept key for an audited view or the hub's secrets file.
pub fn open(
    seal: &SealKey,
    sealed: &str,
    facility: &str,
    peer: &str,
    key_id: &str,
) -> Result<Zeroizing<String>, PskError> {
    let plain = seal.open(&binding(facility, peer, key_id), sealed)?;
    String::from_utf8(plain.to_vec()).map(Zeroizing::new).map_err(|_| PskError::Seal(SealError::DoesNotOpen))
}

/// `len` characters of [`ALPHABET`], each drawn without bias (bytes ≥ 248 = 4 × 62 are thrown away).
fn random_text(len: usize) -> Result<Zeroizing<String>, PskError> {
    let mut out = Zeroizing::new(String::with_capacity(len));
    while out.len() < len {
        let bytes = hcpki_pkix::keys::random_secret(len * 2).map_err(|_| PskError::NoRandom)?;
        for b in bytes.iter().filter(|b| usize::from(**b) < 4 * ALPHABET.len()) {
            if out.len() == len {
                break;
            }
            if let Some(c) = ALPHABET.get(usize::from(*b) % ALPHABET.len()) {
                out.push(char::from(*c));
            }
        }
    }
    Ok(out)
}

/// The secrets file the hub reloads: every key working now, in `format`, `hub_id` being the hub's own IKE
/// identity. Keys rotated out past their overlap or withdrawn are not in the list the caller passes, so the hub
/// refuses them after its reload.
pub fn hub_secrets(format: HubFormat, hub_id: &str, keys: &[(String, Zeroizing<String>)]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::from("# written by `hcpki psk hub-secrets`: do not edit, it is replaced\n"));
    for (n, (remote_id, secret)) in keys.iter().enumerate() {
        let entry = match format {
            HubFormat::Swanctl => format!(
                "secrets {{\n    ike-hcpki-{n} {{\n        id = {remote_id}\n        secret = {}\n    }}\n}}\n",
                secret.as_str()
            ),
            // Both IDs: libreswan uses no PSK whose only index is the peer's ID, and a `%any` index would let
            // a router without a key of its own (a suspended facility's) authenticate with another's key;
            // found by the PSK tunnels of scripts/interop-ipsec.
            HubFormat::Libreswan => format!("@{hub_id} @{remote_id} : PSK \"{}\"\n", secret.as_str()),
        };
        out.push_str(&entry);
    }
    out
}

/// The hub's secrets file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HubFormat {
    /// A swanctl.conf include (`secrets { ike-… }`).
    Swanctl,
    /// A libreswan ipsec.secrets include.
    Libreswan,
}

/// The configuration lines the facility's administrator pastes into the router (the key inline, shown once).
pub fn router_snippet(vendor: Vendor, local_id: &str, hub_id: &str, hub_address: &str, secret: &str) -> String {
    match vendor {
        Vendor::Strongswan => format!(
            "# swanctl.conf\nconnections {{\n  hub {{\n    remote_addrs = {hub_address}\n    local {{ auth = psk\n      id = {local_id} }}\n    remote {{ auth = psk\n      id = {hub_id} }}\n  }}\n}}\nsecrets {{\n  ike-hub {{\n    id = {hub_id}\n    secret = {secret}\n  }}\n}}\n"
        ),
        Vendor::Libreswan => format!(
            "# /etc/ipsec.d/hub.secrets\n@{local_id} @{hub_id} : PSK \"{secret}\"\n# /etc/ipsec.d/hub.conf\nconn hub\n  authby=secret\n  ikev2=insist\n  left=%defaultroute\n  leftid=@{local_id}\n  right={hub_address}\n  rightid=@{hub_id}\n  auto=start\n"
        ),
        Vendor::YamahaRtx => format!(
            "tunnel select 1\n ipsec tunnel 1\n  ipsec sa policy 1 1 esp aes256-cbc sha256-hmac\n  ipsec ike version 1 2\n  ipsec ike local name 1 {local_id} fqdn\n  ipsec ike remote name 1 {hub_id} fqdn\n  ipsec ike remote address 1 {hub_address}\n  ipsec ike pre-shared-key 1 text {secret}\n tunnel enable 1\n"
        ),
        Vendor::CiscoIosXe => format!(
            "crypto ikev2 keyring HCPKI\n peer hub\n  address {hub_address}\n  identity fqdn {hub_id}\n  pre-shared-key {secret}\n!\ncrypto ikev2 profile HCPKI\n match identity remote fqdn {hub_id}\n identity local fqdn {local_id}\n authentication remote pre-share\n authentication local pre-share\n keyring local HCPKI\n"
        ),
        Vendor::Fortigate => format!(
            "config vpn ipsec phase1-interface\n edit \"hub\"\n  set ike-version 2\n  set remote-gw {hub_address}\n  set localid \"{local_id}\"\n  set peerid \"{hub_id}\"\n  set authmethod psk\n  set psksecret {secret}\n next\nend\n"
        ),
        Vendor::JuniperSrx => format!(
            "set security ike policy HUB pre-shared-key ascii-text \"{secret}\"\nset security ike gateway HUB address {hub_address}\nset security ike gateway HUB local-identity hostname {local_id}\nset security ike gateway HUB remote-identity hostname {hub_id}\nset security ike gateway HUB version v2-only\n"
        ),
        Vendor::Mikrotik => format!(
            "/ip ipsec peer add name=hub address={hub_address} exchange-mode=ike2\n/ip ipsec identity add peer=hub auth-method=pre-shared-key secret={secret} my-id=fqdn:{local_id} remote-id=fqdn:{hub_id}\n"
        ),
    }
}

/// Why a key could not be made or opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PskError {
    /// The vendor name is not one hcpki knows.
    #[error(
        "unknown router vendor {0:?}: use strongswan, libreswan, yamaha-rtx, cisco-ios-xe, fortigate, juniper-srx or mikrotik"
    )]
    UnknownVendor(String),
    /// The asked length is more than the vendor's router accepts, or less than 256 bits.
    #[error(
        "a {asked}-character key does not fit {vendor}: ask for {MIN_LEN}..={max} characters, or leave the length out for {max}"
    )]
    Length {
        /// The vendor.
        vendor: &'static str,
        /// The length asked for.
        asked: usize,
        /// The longest the vendor accepts.
        max: usize,
    },
    /// The system random source failed.
    #[error("no random bytes for the key: check the system's random source and try again")]
    NoRandom,
    /// Sealing or opening failed.
    #[error(transparent)]
    Seal(#[from] SealError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SealKey {
        SealKey::new(&[3u8; 32]).unwrap()
    }

    #[test]
    fn a_key_is_the_longest_the_vendor_takes_and_opens_only_where_it_belongs() {
        for vendor in VENDORS {
            let k = issue(&key(), vendor, None, "HF1", "hub1", "k1").unwrap();
            assert_eq!(k.secret.len(), vendor.max_len(), "{vendor:?}");
            assert!(k.secret.bytes().all(|b| ALPHABET.contains(&b)));
            assert!(!k.sealed.contains(k.secret.as_str()));
            assert_eq!(open(&key(), &k.sealed, "HF1", "hub1", "k1").unwrap().as_str(), k.secret.as_str());
            assert!(open(&key(), &k.sealed, "HF2", "hub1", "k1").is_err(), "another facility's row");
            assert!(open(&key(), &k.sealed, "HF1", "hub2", "k1").is_err(), "another peer");
            assert!(open(&key(), &k.sealed, "HF1", "hub1", "k2").is_err(), "another key id");
            assert_eq!(vendor.as_str().parse::<Vendor>().unwrap(), vendor);
        }
        let a = issue(&key(), Vendor::YamahaRtx, Some(MIN_LEN), "HF1", "hub1", "k1").unwrap();
        let b = issue(&key(), Vendor::YamahaRtx, Some(MIN_LEN), "HF1", "hub1", "k1").unwrap();
        assert_ne!(a.secret.as_str(), b.secret.as_str());
        assert_eq!(binding("HF1", "hub", "k"), b"HF1\0hub\0k");
    }

    #[test]
    fn a_length_the_vendor_refuses_or_below_256_bits_is_refused() {
        for (vendor, len) in [(Vendor::CiscoIosXe, 129), (Vendor::YamahaRtx, 200), (Vendor::Strongswan, 43)] {
            let e = issue(&key(), vendor, Some(len), "HF1", "hub", "k").unwrap_err();
            assert!(matches!(e, PskError::Length { .. }), "{e}");
            assert!(e.to_string().contains("characters"), "{e}");
        }
        assert!(issue(&key(), Vendor::JuniperSrx, Some(255), "HF1", "hub", "k").is_ok());
        assert!(matches!("netgear".parse::<Vendor>(), Err(PskError::UnknownVendor(_))));
    }

    #[test]
    fn the_hub_file_and_snippets_carry_each_working_key() {
        let keys = vec![("hf1.router.example.jp".to_owned(), Zeroizing::new("S1".to_owned()))];
        let swan = hub_secrets(HubFormat::Swanctl, "hub.example.jp", &keys);
        assert!(swan.contains("id = hf1.router.example.jp") && swan.contains("secret = S1"), "{}", swan.as_str());
        let libre = hub_secrets(HubFormat::Libreswan, "hub.example.jp", &keys);
        assert!(libre.contains("@hub.example.jp @hf1.router.example.jp : PSK \"S1\""), "{}", libre.as_str());
        for vendor in VENDORS {
            let s = router_snippet(vendor, "hf1.router.example.jp", "hub.example.jp", "192.0.2.1", "SECRET");
            assert!(s.contains("SECRET") && s.contains("hub.example.jp"), "{vendor:?}: {s}");
        }
    }
}
