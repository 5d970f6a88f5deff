//! Certificate profiles: templates that decide names and extensions, and nothing else.
//!
//! Each profile is a [`ProfileSpec`] (data: key usage, EKU, validity, accepted keys,
//! which revocation pointers) plus a name rule (its module) that turns a
//! [`NameRequest`] into a subject and SANs or says why not. [`template`] then
//! assembles the extensions in one place for every profile. Signing is
//! elsewhere ([`crate::issuer`]). Profiles never copy anything from a CSR but
//! its public key. See docs/profiles.md for each profile with a DER dump.

pub mod ca;
mod dn;
mod error;
mod extensions;
mod name;
pub mod ocsp;
pub mod operator;
pub mod pc;
pub mod router;
mod san;
pub mod scep_ra;
pub mod server;
mod settings;
mod spec;
mod template;
pub mod tsa;

pub use dn::DnBuilder;
pub use error::ProfileError;
pub use extensions::key_identifier;
pub use name::{NameRequest, Names};
pub use router::{RouterEku, Vendor};
pub(crate) use san::{dns_name, ip_address};
pub use settings::{MAX_BACKDATE_SECS, ProfileSettings};
pub use spec::{FacilityRule, KeyClass, ProfileSpec};
pub use template::{CertClass, IssuerContext, Template};

use crate::csr::SubjectKeyType;

pub use hcpki_model::{CertProfile, ProfileKind};

impl ProfileSettings {
    /// The spec of a profile under these settings.
    pub fn spec(&self, kind: ProfileKind, router_eku: Option<RouterEku>) -> ProfileSpec {
        match kind {
            ProfileKind::Router => router::spec(self, router_eku.unwrap_or(self.router_eku)),
            ProfileKind::Pc => pc::spec(self),
            ProfileKind::Server => server::spec(self),
            ProfileKind::Ocsp => ocsp::spec(self),
            ProfileKind::ScepRa => scep_ra::spec(self),
            ProfileKind::Operator => operator::spec(self),
            ProfileKind::Tsa => tsa::spec(self),
        }
    }
}

/// Apply `spec`'s name rule to `request`.
pub fn names(spec: &ProfileSpec, settings: &ProfileSettings, request: &NameRequest<'_>) -> Result<Names, ProfileError> {
    let facility = match (spec.facility, request.facility) {
        (FacilityRule::Required, None) => return Err(ProfileError::FacilityRequired(spec.kind)),
        (FacilityRule::Forbidden, Some(_)) => return Err(ProfileError::FacilityForbidden(spec.kind)),
        (_, f) => f,
    };
    match spec.kind {
        ProfileKind::Router => router::names(settings, facility, request),
        ProfileKind::Pc => pc::names(settings, facility, request),
        ProfileKind::Server => server::names(settings, request),
        ProfileKind::Ocsp => ocsp::names(settings, request),
        ProfileKind::ScepRa => scep_ra::names(settings, request),
        ProfileKind::Operator => operator::names(settings, request),
        ProfileKind::Tsa => tsa::names(settings, request),
    }
}

/// Check the subject key against the profile.
pub fn check_key(spec: &ProfileSpec, key: SubjectKeyType) -> Result<(), ProfileError> {
    if spec.keys.contains(&KeyClass::of(key)) {
        Ok(())
    } else {
        Err(ProfileError::KeyType { profile: spec.kind, key: key.to_string() })
    }
}

/// Build the full template for an end-entity certificate.
pub fn template(
    spec: &ProfileSpec,
    settings: &ProfileSettings,
    names: Names,
    subject_key: &spki::SubjectPublicKeyInfoOwned,
    issuer: &IssuerContext<'_>,
) -> Result<Template, ProfileError> {
    let mut b = extensions::ExtensionsBuilder::default();
    b.basic_constraints(false, None)?;
    b.key_usage(spec.key_usage)?;
    if !spec.eku.is_empty() {
        b.extended_key_usage(&spec.eku, spec.eku_critical)?;
    }
    b.subject_key_identifier(subject_key)?;
    b.authority_key_identifier(issuer.key_id)?;
    if !names.sans.is_empty() {
        // RFC 5280 §4.2.1.6: critical only when the subject is empty, which hcpki never issues.
        b.subject_alt_name(&names.sans, names.subject.is_empty())?;
    }
    if spec.revocation_pointers {
        b.crl_distribution_point(&settings.crl_url(issuer.ca_name))?;
        let ocsp = settings.ocsp_in_aia.then(|| settings.ocsp_url(issuer.ca_name));
        b.authority_info_access(ocsp.as_deref(), &settings.ca_cert_url(issuer.ca_name))?;
    }
    if spec.ocsp_nocheck {
        b.ocsp_nocheck()?;
    }
    Ok(Template {
        class: CertClass::EndEntity(spec.kind),
        subject: names.subject,
        extensions: b.finish(),
        validity_days: spec.validity_days,
        sans_display: names.display,
    })
}
