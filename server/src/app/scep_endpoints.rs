//! The SCEP endpoints by URL name, as `[serve.scep.*]` configures them: what the server state holds, apart from
//! the handlers that read it.

use crate::config::ScepEndpointConfig;
use hcpki_ca::enroll::scep::{Endpoint, Ra, ScepAuthority};
use hcpki_ca::profile::ProfileKind;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::Arc;

/// The SCEP side of the server: the CA as SCEP sees it and the endpoints by name.
#[derive(Debug)]
pub struct Scep {
    /// The CA.
    pub authority: Arc<dyn ScepAuthority>,
    /// Endpoints by URL name.
    pub endpoints: BTreeMap<String, Endpoint>,
}

impl Scep {
    /// The `router` and `pc` endpoints with their defaults, then those configured (which may override them).
    pub fn new(
        authority: Arc<dyn ScepAuthority>,
        ras: &HashMap<ProfileKind, Arc<Ra>>,
        configured: &BTreeMap<String, ScepEndpointConfig>,
    ) -> anyhow::Result<Self> {
        let mut all: BTreeMap<String, ScepEndpointConfig> =
            ["router", "pc"].iter().map(|n| ((*n).to_owned(), ScepEndpointConfig::default())).collect();
        all.extend(configured.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut endpoints = BTreeMap::new();
        for (name, cfg) in all {
            let profile_name = cfg.profile.clone().unwrap_or_else(|| name.clone());
            let profile = ProfileKind::from_str(&profile_name)
                .ok()
                .filter(|p| ras.contains_key(p))
                .ok_or_else(|| anyhow::anyhow!("[serve.scep.{name}]: set profile = \"router\" or \"pc\""))?;
            let ra = ras.get(&profile).cloned().ok_or_else(|| anyhow::anyhow!("no SCEP RA for {profile}"))?;
            let endpoint = Endpoint { profile, legacy_ciphers: cfg.legacy_ciphers, include_ca: cfg.include_ca, ra };
            endpoints.insert(name, endpoint);
        }
        Ok(Self { authority, endpoints })
    }
}
