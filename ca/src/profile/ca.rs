//! CA certificates: the offline root and the issuing CAs (router, pc, server).
//!
//! Two levels only: RFC 4945 §5.1.3.4 warns IPsec stacks against long
//! hierarchies, and small chains keep IKE_AUTH unfragmented. The root has
//! pathLenConstraint 1, issuing CAs 0. No name constraints (many IPsec
//! stacks cannot process them, and RFC 5280 would make them critical).

use crate::profile::extensions::{ExtensionsBuilder, key_identifier};
use crate::profile::{CertClass, DnBuilder, IssuerContext, ProfileError, ProfileSettings, Template};
use x509_cert::ext::pkix::KeyUsages;
use x509_cert::name::Name;

/// Lifetime of the root (days): 20 years.
pub const ROOT_DAYS: u32 = 7305;
/// Lifetime of an issuing CA (days): 10 years.
pub const ISSUING_DAYS: u32 = 3653;

const CA_KEY_USAGE: &[KeyUsages] = &[KeyUsages::KeyCertSign, KeyUsages::CRLSign];

/// The subject DN of a CA: `C=JP, O=<org>, CN=<common name>`.
pub fn subject(settings: &ProfileSettings, common_name: &str) -> Result<Name, ProfileError> {
    Ok(DnBuilder::default().country("JP")?.organization(&settings.organization)?.common_name(common_name)?.build())
}

/// The self-signed root's template.
pub fn root(
    settings: &ProfileSettings,
    common_name: &str,
    key: &spki::SubjectPublicKeyInfoOwned,
) -> Result<Template, ProfileError> {
    let mut b = ExtensionsBuilder::default();
    b.basic_constraints(true, Some(1))?;
    b.key_usage(CA_KEY_USAGE)?;
    b.subject_key_identifier(key)?;
    b.authority_key_identifier(&key_identifier(key))?;
    Ok(Template {
        class: CertClass::Root,
        subject: subject(settings, common_name)?,
        extensions: b.finish(),
        validity_days: ROOT_DAYS,
        sans_display: Vec::new(),
    })
}

/// A root link certificate's template (RFC 4210 §4.4, D160): one root generation's `key` certified by the other,
/// `signer`, under the root's one name, so the certificate is self-issued and a path through it does not count
/// against the pathLenConstraint of the root above it (RFC 5280 §6.1.4 (l)). It points at the signing
/// generation's ARL and certificate, like an issuing CA.
pub fn link(
    settings: &ProfileSettings,
    common_name: &str,
    key: &spki::SubjectPublicKeyInfoOwned,
    signer: &IssuerContext<'_>,
) -> Result<Template, ProfileError> {
    certified_by_root(settings, common_name, key, signer, (1, ROOT_DAYS))
}

/// An issuing CA's template, signed by the root.
pub fn issuing(
    settings: &ProfileSettings,
    common_name: &str,
    key: &spki::SubjectPublicKeyInfoOwned,
    root: &IssuerContext<'_>,
) -> Result<Template, ProfileError> {
    certified_by_root(settings, common_name, key, root, (0, ISSUING_DAYS))
}

/// A CA certificate signed by a root generation: `(path_len, validity_days)` tell an issuing CA from a link.
fn certified_by_root(
    settings: &ProfileSettings,
    common_name: &str,
    key: &spki::SubjectPublicKeyInfoOwned,
    root: &IssuerContext<'_>,
    (path_len, validity_days): (u8, u32),
) -> Result<Template, ProfileError> {
    let mut b = ExtensionsBuilder::default();
    b.basic_constraints(true, Some(path_len))?;
    b.key_usage(CA_KEY_USAGE)?;
    b.subject_key_identifier(key)?;
    b.authority_key_identifier(root.key_id)?;
    b.crl_distribution_point(&settings.crl_url(root.ca_name))?;
    b.authority_info_access(None, &settings.ca_cert_url(root.ca_name))?;
    Ok(Template {
        class: CertClass::Issuing,
        subject: subject(settings, common_name)?,
        extensions: b.finish(),
        validity_days,
        sans_display: Vec::new(),
    })
}
