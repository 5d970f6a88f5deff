//! Extension encoders shared by every profile (one place per extension).

use crate::profile::ProfileError;
use const_oid::{AssociatedOid, ObjectIdentifier};
use der::Encode;
use der::asn1::{Ia5String, Null, OctetString};
use hcpki_pkix::asn1::GeneralNames;
use sha1::{Digest, Sha1};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName as X509GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints,
    ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, Extensions};

/// The cRLDistributionPoints extension's OID.
pub(crate) const CRL_DISTRIBUTION_POINTS: ObjectIdentifier = CrlDistributionPoints::OID;

/// cRLDistributionPoints with one distribution point, named by one HTTP URI (the name a shard CRL's
/// issuingDistributionPoint repeats, `revocation::crl`).
pub(crate) fn crl_distribution_point(url: &str) -> Result<Extension, ProfileError> {
    let dp = DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![X509GeneralName::UniformResourceIdentifier(
            Ia5String::new(url)?,
        )])),
        reasons: None,
        crl_issuer: None,
    };
    let value = CrlDistributionPoints(vec![dp]).to_der()?;
    Ok(Extension { extn_id: CRL_DISTRIBUTION_POINTS, critical: false, extn_value: OctetString::new(value)? })
}

/// The authorityInfoAccess extension's OID.
pub(crate) const AUTHORITY_INFO_ACCESS: ObjectIdentifier = AuthorityInfoAccessSyntax::OID;

/// `aia` (an authorityInfoAccess extension) with its caIssuers location replaced by `url`, its OCSP location kept.
pub(crate) fn with_ca_issuers(aia: &Extension, url: &str) -> Result<Extension, ProfileError> {
    use der::Decode as _;
    let mut syntax = AuthorityInfoAccessSyntax::from_der(aia.extn_value.as_bytes())?;
    for ad in syntax.0.iter_mut().filter(|ad| ad.access_method == hcpki_pkix::oid::AD_CA_ISSUERS) {
        ad.access_location = X509GeneralName::UniformResourceIdentifier(Ia5String::new(url)?);
    }
    Ok(Extension { extn_id: aia.extn_id, critical: aia.critical, extn_value: OctetString::new(syntax.to_der()?)? })
}

/// Collects extensions in the order they are added.
#[derive(Debug, Default)]
pub(crate) struct ExtensionsBuilder {
    exts: Extensions,
}

impl ExtensionsBuilder {
    pub(crate) fn finish(self) -> Extensions {
        self.exts
    }

    fn push(&mut self, oid: ObjectIdentifier, critical: bool, value: &impl Encode) -> Result<(), ProfileError> {
        self.exts.push(Extension { extn_id: oid, critical, extn_value: OctetString::new(value.to_der()?)? });
        Ok(())
    }

    /// basicConstraints, critical (RFC 5280 §4.2.1.9). For end entities it is
    /// optional; hcpki states cA=FALSE so no relying party can mistake a leaf for a CA.
    pub(crate) fn basic_constraints(&mut self, ca: bool, path_len: Option<u8>) -> Result<(), ProfileError> {
        let bc = BasicConstraints { ca, path_len_constraint: path_len };
        self.push(BasicConstraints::OID, true, &bc)
    }

    /// keyUsage, critical.
    pub(crate) fn key_usage(&mut self, bits: &[KeyUsages]) -> Result<(), ProfileError> {
        let mut set = flagset::FlagSet::<KeyUsages>::default();
        for b in bits {
            set |= *b;
        }
        self.push(KeyUsage::OID, true, &KeyUsage(set))
    }

    /// extKeyUsage: non-critical but for the TSA (RFC 3161 §2.3: critical, id-kp-timeStamping alone).
    pub(crate) fn extended_key_usage(&mut self, oids: &[ObjectIdentifier], critical: bool) -> Result<(), ProfileError> {
        self.push(ExtendedKeyUsage::OID, critical, &ExtendedKeyUsage(oids.to_vec()))
    }

    /// subjectKeyIdentifier: RFC 5280 §4.2.1.2 method (1), SHA-1 of the subjectPublicKey bits.
    pub(crate) fn subject_key_identifier(
        &mut self,
        spki: &spki::SubjectPublicKeyInfoOwned,
    ) -> Result<(), ProfileError> {
        let ski = key_identifier(spki);
        self.push(SubjectKeyIdentifier::OID, false, &SubjectKeyIdentifier(OctetString::new(ski)?))
    }

    /// authorityKeyIdentifier with keyIdentifier only.
    pub(crate) fn authority_key_identifier(&mut self, key_id: &[u8]) -> Result<(), ProfileError> {
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(key_id)?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        self.push(AuthorityKeyIdentifier::OID, false, &aki)
    }

    /// subjectAltName.
    pub(crate) fn subject_alt_name(&mut self, names: &GeneralNames, critical: bool) -> Result<(), ProfileError> {
        self.push(const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME, critical, names)
    }

    /// cRLDistributionPoints with one HTTP URI (RFC 4945 §5.1.3.12; no LDAP, no partitions for routers).
    pub(crate) fn crl_distribution_point(&mut self, url: &str) -> Result<(), ProfileError> {
        self.exts.push(crl_distribution_point(url)?);
        Ok(())
    }

    /// authorityInfoAccess: OCSP (when the responder is announced) and caIssuers.
    pub(crate) fn authority_info_access(&mut self, ocsp: Option<&str>, ca_issuers: &str) -> Result<(), ProfileError> {
        let mut ads = Vec::new();
        if let Some(url) = ocsp {
            ads.push(AccessDescription {
                access_method: hcpki_pkix::oid::AD_OCSP,
                access_location: X509GeneralName::UniformResourceIdentifier(Ia5String::new(url)?),
            });
        }
        ads.push(AccessDescription {
            access_method: hcpki_pkix::oid::AD_CA_ISSUERS,
            access_location: X509GeneralName::UniformResourceIdentifier(Ia5String::new(ca_issuers)?),
        });
        self.push(AuthorityInfoAccessSyntax::OID, false, &AuthorityInfoAccessSyntax(ads))
    }

    /// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1), value NULL.
    pub(crate) fn ocsp_nocheck(&mut self) -> Result<(), ProfileError> {
        self.push(hcpki_pkix::oid::PKIX_OCSP_NOCHECK, false, &Null)
    }
}

/// RFC 5280 §4.2.1.2 method (1) key identifier.
pub fn key_identifier(spki: &spki::SubjectPublicKeyInfoOwned) -> Vec<u8> {
    Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()
}
