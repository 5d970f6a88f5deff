//! A profile's output, the template of a certificate, and what the issuer contributes to it.

use crate::profile::ProfileError;
use crate::profile::extensions;
use hcpki_model::ProfileKind;
use x509_cert::ext::Extensions;
use x509_cert::name::Name;

/// What the issuer contributes to a certificate.
#[derive(Clone, Debug)]
pub struct IssuerContext<'a> {
    /// The issuing CA's name (`router`, `pc`, …), for URLs.
    pub ca_name: &'a str,
    /// Its subject, which becomes the certificate's issuer.
    pub subject: &'a Name,
    /// Its subject key identifier, which becomes the AKI.
    pub key_id: &'a [u8],
}

/// What a certificate is, for the lints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertClass {
    /// The self-signed root.
    Root,
    /// An issuing CA under the root.
    Issuing,
    /// An end-entity certificate of a profile.
    EndEntity(ProfileKind),
}

/// A profile's output: everything of the TBS but serial, validity start and signature algorithm.
#[derive(Clone, Debug)]
pub struct Template {
    /// What it is.
    pub class: CertClass,
    /// Subject DN.
    pub subject: Name,
    /// Extensions, in a fixed order.
    pub extensions: Extensions,
    /// Lifetime in days.
    pub validity_days: u32,
    /// SANs for display.
    pub sans_display: Vec<String>,
}

impl Template {
    /// Whether the certificate carries cRLDistributionPoints.
    pub fn has_crl_distribution_point(&self) -> bool {
        self.extensions.iter().any(|e| e.extn_id == extensions::CRL_DISTRIBUTION_POINTS)
    }

    /// Point cRLDistributionPoints at `url` (a CRL shard): the shard follows from the serial, which is drawn
    /// after the template is made, once per attempt (D20). A template without the extension is left alone.
    pub fn set_crl_url(&mut self, url: &str) -> Result<(), ProfileError> {
        let cdp = extensions::crl_distribution_point(url)?;
        for e in self.extensions.iter_mut().filter(|e| e.extn_id == cdp.extn_id) {
            *e = cdp.clone();
        }
        Ok(())
    }

    /// Point authorityInfoAccess's caIssuers at `url` (a later CA generation's certificate, D160); the OCSP
    /// location stays. A template without the extension is left alone.
    pub fn set_ca_issuers_url(&mut self, url: &str) -> Result<(), ProfileError> {
        for e in self.extensions.iter_mut().filter(|e| e.extn_id == extensions::AUTHORITY_INFO_ACCESS) {
            *e = extensions::with_ca_issuers(e, url)?;
        }
        Ok(())
    }
}
