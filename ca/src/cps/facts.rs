//! What the CP/CPS is made from, and why it could not be.

use crate::Authority;
use crate::csr::{SubjectKeyType, key_policy};
use crate::profile::ProfileSettings;
use crate::revocation::ocsp::ResponderSettings;
use der::Decode;
use hcpki_model::CaName;
use std::collections::BTreeMap;
use x509_cert::Certificate;

/// What the generated parts are made from: the settings of one installation (or the shipped defaults).
#[derive(Clone, Debug)]
pub struct PracticeFacts {
    /// The hcpki version that generates the document (the software the statements are true of).
    pub version: String,
    /// `[profiles]`: organisation, zones, URLs, lifetimes.
    pub profiles: ProfileSettings,
    /// `[ocsp]`: how long answers last.
    pub responder: ResponderSettings,
    /// `[ca] root_crl_days`: the root's CRL (ARL) lifetime.
    pub root_crl_days: u32,
    /// Each CA's key, as its certificate holds it.
    pub ca_keys: BTreeMap<CaName, SubjectKeyType>,
}

impl PracticeFacts {
    /// The facts of a new installation made with the shipped defaults.
    pub fn defaults(version: &str) -> Self {
        Self {
            version: version.to_owned(),
            profiles: ProfileSettings::default(),
            responder: ResponderSettings::default(),
            root_crl_days: crate::revocation::arl::MAX_ARL_DAYS,
            ca_keys: CaName::ALL
                .into_iter()
                .map(|ca| (ca, SubjectKeyType::from(crate::authority::default_algorithm(ca))))
                .collect(),
        }
    }

    /// The facts of a running installation: `authority`'s profile settings and each CA's key as its
    /// certificate holds it, with the responder and ARL settings of its configuration.
    pub fn installed(
        version: &str,
        authority: &Authority,
        responder: ResponderSettings,
        root_crl_days: u32,
    ) -> Result<Self, CpsError> {
        let mut ca_keys = BTreeMap::new();
        for ca in CaName::ALL {
            let bad = |reason: String| CpsError::CaKey { ca, reason };
            let der = authority.ca_certificate(ca).map_err(|e| bad(e.to_string()))?;
            let cert = Certificate::from_der(der).map_err(|e| bad(e.to_string()))?;
            let key = key_policy(cert.tbs_certificate().subject_public_key_info()).map_err(|e| bad(e.to_string()))?;
            ca_keys.insert(ca, key);
        }
        Ok(Self {
            version: version.to_owned(),
            profiles: authority.settings().clone(),
            responder,
            root_crl_days,
            ca_keys,
        })
    }
}

/// Why the draft could not be made; each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CpsError {
    /// The outline names a part no generator makes.
    #[error("the CP/CPS outline names {{{{{0}}}}}, which hcpki does not generate: report this as a defect")]
    UnknownPart(String),
    /// A CA's certificate could not be read, or holds a key of no kind hcpki issues with.
    #[error("the {ca} CA's certificate cannot be described ({reason}): check it with `hcpki ca show {ca}`")]
    CaKey {
        /// The CA.
        ca: CaName,
        /// What is wrong with it.
        reason: String,
    },
    /// A profile's example names could not be made (a name rule refused the example request).
    #[error("the example names of profile {profile} could not be made ({reason}): report this as a defect")]
    Example {
        /// The profile.
        profile: &'static str,
        /// The name rule's refusal.
        reason: String,
    },
}
