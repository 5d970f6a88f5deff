//! A test PKI that issues what the virtual cards carry, shaped like the real profiles
//! (reference §3 HPKI, §4 JPKI): RSA-2048 keys, sha256WithRSAEncryption, JST day boundaries.
//!
//! * HPKI: a root like "MHLW HPKI Root CA V2" → a signature CA and an authentication CA (critical
//!   policies 1.2.392.100495.1.5.1.{1,2}.3.1) → a signature certificate (keyUsage nonRepudiation,
//!   critical policy 1.2.392.100495.1.5.1.1.0.1, SAN dirName with the kanji name, hcRole in
//!   subjectDirectoryAttributes) and an authentication certificate (keyUsage digitalSignature,
//!   hcRole; its policy 1.2.392.100495.1.5.1.2.0.1 follows the signature pattern, which is a guess).
//! * JPKI: two self-signed roots named like J-LIS's with a `TEST` prefix, each issuing one end
//!   entity directly: the authentication certificate (`C=JP, CN=<opaque id>`, no name) and the
//!   signing certificate (the four items as SAN otherNames 1.2.392.200149.8.5.5.{1,4,3,5}, and
//!   .{2,6} when the subject sets substitute-character positions).
//!
//! Every name says TEST, and no certificate here chains to a real trust anchor.

mod encode;
mod hpki;
mod jpki;
mod tsa;

pub use hpki::{HpkiCredentials, HpkiSubject, HpkiTestCas, hc_role_attributes, issue_hpki, issue_hpki_for};
pub use jpki::{JpkiCredentials, JpkiSubject, JpkiTestCas, issue_jpki, issue_jpki_for};
pub use tsa::tsa_certificate;

use crate::key::{CardAlgorithm, CardKey, KeyError};
use rcgen::{CertificateParams, DnType, DnValue, IsCa, KeyPair, SerialNumber};
use time::{Duration, OffsetDateTime, macros::offset};

/// Errors while issuing test certificates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// A key could not be generated or loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// rcgen refused the parameters (a name not encodable as asked, say). Change the subject
    /// fields you passed.
    #[error("cannot build the certificate {what}: {source}")]
    Certificate {
        /// Which certificate.
        what: &'static str,
        /// rcgen's reason.
        source: rcgen::Error,
    },
}

/// An end-entity certificate with its private key, as one card AP holds them.
#[derive(Clone, Debug)]
pub struct Credential {
    /// Certificate, DER.
    pub cert: Vec<u8>,
    /// The certificate's private key.
    pub key: CardKey,
}

/// One entry of a test CRL.
#[derive(Clone, Debug)]
pub struct Revoked {
    /// The certificate's serial number, as its DER INTEGER content octets.
    pub serial: Vec<u8>,
    /// Revocation time.
    pub at: OffsetDateTime,
    /// Reason, or none (then "unspecified" to a relying party).
    pub reason: Option<x509_cert::ext::pkix::CrlReason>,
}

/// thisUpdate, nextUpdate and CRL number of a test CRL.
#[derive(Clone, Copy, Debug)]
pub struct CrlValidity {
    /// Issue time.
    pub this_update: OffsetDateTime,
    /// When the next CRL is due; after it a relying party treats this one as stale.
    pub next_update: OffsetDateTime,
    /// cRLNumber.
    pub number: u64,
}

impl CrlValidity {
    /// Issued an hour ago, next one due in `hours`.
    pub fn fresh(hours: i64) -> Self {
        let now = OffsetDateTime::now_utc();
        Self { this_update: now - Duration::hours(1), next_update: now + Duration::hours(hours), number: 1 }
    }
}

/// A CA made during issuance: its parameters (rcgen takes the issuer name and key identifier
/// from them), key and certificate.
struct Ca {
    params: CertificateParams,
    key: KeyPair,
    cert: Vec<u8>,
    /// The algorithm of this CA's key and of every key it issues (a whole hierarchy is one algorithm).
    algorithm: CardAlgorithm,
}

impl Ca {
    /// A self-signed root whose key, and the keys it issues, are of `algorithm` (a P-384 root signs with
    /// ecdsa-with-SHA384).
    fn root_for(what: &'static str, mut params: CertificateParams, algorithm: CardAlgorithm) -> Result<Self, PkiError> {
        let key = CardKey::generate_for(algorithm)?.rcgen_key_pair()?;
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).map_err(|source| PkiError::Certificate { what, source })?;
        Ok(Self { cert: cert.der().to_vec(), params, key, algorithm })
    }

    /// A CA certificate under this one.
    fn subordinate(&self, what: &'static str, mut params: CertificateParams) -> Result<Self, PkiError> {
        let key = CardKey::generate_for(self.algorithm)?.rcgen_key_pair()?;
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        params.use_authority_key_identifier_extension = true;
        let cert = self.sign(what, &params, &key)?;
        Ok(Self { cert, params, key, algorithm: self.algorithm })
    }

    /// An end-entity certificate for a fresh card key.
    fn issue(&self, what: &'static str, mut params: CertificateParams) -> Result<Credential, PkiError> {
        let key = CardKey::generate_for(self.algorithm)?;
        params.use_authority_key_identifier_extension = true;
        let cert = self.sign(what, &params, &key.rcgen_key_pair()?)?;
        Ok(Credential { cert, key })
    }

    /// A CRL signed by this CA listing `revoked`.
    fn crl(&self, what: &'static str, revoked: &[Revoked], validity: CrlValidity) -> Result<Vec<u8>, PkiError> {
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let params = rcgen::CertificateRevocationListParams {
            this_update: validity.this_update,
            next_update: validity.next_update,
            crl_number: SerialNumber::from(validity.number),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|r| rcgen::RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&r.serial),
                    revocation_time: r.at,
                    reason_code: r.reason.map(rcgen_reason),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        params.signed_by(&issuer).map(|c| c.der().to_vec()).map_err(|source| PkiError::Certificate { what, source })
    }

    fn sign(&self, what: &'static str, params: &CertificateParams, subject_key: &KeyPair) -> Result<Vec<u8>, PkiError> {
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        params
            .signed_by(subject_key, &issuer)
            .map(|c| c.der().to_vec())
            .map_err(|source| PkiError::Certificate { what, source })
    }
}

/// The same RFC 5280 reason in rcgen's terms.
fn rcgen_reason(reason: x509_cert::ext::pkix::CrlReason) -> rcgen::RevocationReason {
    use rcgen::RevocationReason as R;
    use x509_cert::ext::pkix::CrlReason as C;
    match reason {
        C::Unspecified => R::Unspecified,
        C::KeyCompromise => R::KeyCompromise,
        C::CaCompromise => R::CaCompromise,
        C::AffiliationChanged => R::AffiliationChanged,
        C::Superseded => R::Superseded,
        C::CessationOfOperation => R::CessationOfOperation,
        C::CertificateHold => R::CertificateHold,
        C::RemoveFromCRL => R::RemoveFromCrl,
        C::PrivilegeWithdrawn => R::PrivilegeWithdrawn,
        C::AaCompromise => R::AaCompromise,
    }
}

/// Parameters with a random positive serial, a validity of `days` starting at the beginning of the
/// JST day `back_days` ago (real HPKI/JPKI certificates start and end on JST day boundaries), and
/// the subject `dn`.
fn params(dn: &[(DnType, &str)], back_days: i64, days: i64) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = rcgen::DistinguishedName::new();
    for (ty, value) in dn {
        name.push(ty.clone(), dn_value(value));
    }
    params.distinguished_name = name;
    let today_jst = OffsetDateTime::now_utc().to_offset(offset!(+9)).date();
    let start = today_jst.midnight().assume_offset(offset!(+9)) - Duration::days(back_days);
    params.not_before = start.to_offset(offset!(UTC));
    params.not_after = (start + Duration::days(days) - Duration::seconds(1)).to_offset(offset!(UTC));
    params.serial_number = Some(random_serial());
    params
}

/// PrintableString for plain ASCII names (as the real certificates use), UTF8String otherwise.
fn dn_value(value: &str) -> DnValue {
    if encode::is_printable(value)
        && let Ok(p) = rcgen::string::PrintableString::try_from(value)
    {
        return DnValue::PrintableString(p);
    }
    DnValue::Utf8String(value.to_owned())
}

/// 8 random bytes, positive and without a leading zero byte.
fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 8] = rand::random();
    if let Some(first) = bytes.first_mut() {
        *first = (*first & 0x7F) | 0x01;
    }
    SerialNumber::from_slice(&bytes)
}

/// A second OU in one name: rcgen keeps one value per attribute type, so the second OU uses the same
/// OID spelled as a custom type.
fn second_ou() -> DnType {
    DnType::CustomDnType(vec![2, 5, 4, 11])
}

/// `serialNumber` (2.5.4.5).
fn serial_number_attr() -> DnType {
    DnType::CustomDnType(vec![2, 5, 4, 5])
}

/// certificatePolicies with one policy and a CPS URI; `critical` as the real profile has it.
fn policy_extension(policy: &der::asn1::ObjectIdentifier, cps: &str, critical: bool) -> rcgen::CustomExtension {
    const CPS: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.2.1");
    let qualifier = encode::sequence(&[encode::oid(&CPS), encode::ia5(cps)]);
    let info = encode::sequence(&[encode::oid(policy), encode::sequence(&[qualifier])]);
    let mut ext = rcgen::CustomExtension::from_oid_content(&[2, 5, 29, 32], encode::sequence(&[info]));
    ext.set_criticality(critical);
    ext
}

#[cfg(test)]
mod tests;
