//! One complete CRL per issuing CA (RFC 5280 §5): v2, signed through the CA's [`KeySource`], with the
//! extensions every relying party here reads — authorityKeyIdentifier (to pick the CA key) and cRLNumber —
//! and a reasonCode entry extension unless the reason is `unspecified` (RFC 5280 §5.3.1: absent rather than
//! unspecified). Never a delta CRL. A shard of the PC CA's partitioned CRLs (`revocation::shard`) is built
//! the same way and adds a critical issuingDistributionPoint naming the shard's URL; the router CA's CRL is
//! never partitioned: IKE stacks need one whole list (issue #5).

use super::{CrlReason, Reason};
use const_oid::db::rfc5280::ID_CE_ISSUING_DISTRIBUTION_POINT;
use der::asn1::{BitString, Ia5String, OctetString};
use der::{Any, Decode, Encode, asn1::Uint};
use hcpki_pkix::asn1::SignedRaw;
use hcpki_pkix::keys::KeySource;
use std::time::{Duration, UNIX_EPOCH};
use x509_cert::Version;
use x509_cert::crl::{RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber};
use x509_cert::ext::{Extension, Extensions};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

/// A signed CRL, its number and its times (Unix seconds).
#[derive(Debug)]
pub struct SignedCrl {
    /// The DER CRL.
    pub der: Vec<u8>,
    /// Its cRLNumber.
    pub number: u64,
    /// thisUpdate: the signing time back-dated by [`crate::profile::ProfileSettings::backdate`].
    pub this_update: i64,
    /// nextUpdate: [`crate::revoker::CRL_VALIDITY_SECS`] after the signing time for a CRL a server hands out; for the root's
    /// ARL, the validity asked for after thisUpdate ([`crate::Authority::sign_root_crl`]).
    pub next_update: i64,
    /// How many certificates it lists.
    pub entries: usize,
}

/// One revoked certificate as the store lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Lowercase hex of the serial's INTEGER content (the stored form).
    pub serial: hcpki_model::SerialHex,
    /// Unix seconds.
    pub revoked_at: i64,
    /// The reason.
    pub reason: Reason,
}

/// The CA that signs: its name, key identifier and key.
#[derive(Debug)]
pub struct CrlSigner<'a> {
    /// The CA certificate's subject (the CRL issuer).
    pub issuer: &'a Name,
    /// The CA's subject key identifier (the CRL's authorityKeyIdentifier).
    pub key_id: &'a [u8],
    /// The CA key.
    pub key: &'a dyn KeySource,
}

/// Why a CRL could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrlError {
    /// A stored serial is not hex or not a valid serial number.
    #[error("stored serial {0:?} is damaged; check the certificates table")]
    Serial(hcpki_model::SerialHex),
    /// Encoding failed.
    #[error("CRL encoding: {0}")]
    Der(#[from] der::Error),
    /// The CA key could not sign.
    #[error(transparent)]
    Key(#[from] hcpki_pkix::keys::KeyError),
    /// The signature does not verify (hardware fault or wrong key): the CRL is not released.
    #[error(
        "the CA produced a CRL signature that does not verify ({0}); nothing was released — check the CA key and HSM"
    )]
    SelfCheck(String),
}

/// What a CRL states besides its entries.
#[derive(Clone, Copy, Debug)]
pub struct CrlFields<'a> {
    /// cRLNumber.
    pub number: u64,
    /// thisUpdate (Unix seconds).
    pub this_update: i64,
    /// nextUpdate (Unix seconds).
    pub next_update: i64,
    /// A shard's URL, exactly as its certificates' cRLDistributionPoints name it: the CRL then covers only
    /// that distribution point, and a critical issuingDistributionPoint says so (RFC 5280 §5.2.5).
    pub distribution_point: Option<&'a str>,
}

/// Build and sign a CRL of `entries` stating `fields`.
pub fn build(signer: &CrlSigner<'_>, entries: &[Entry], fields: &CrlFields<'_>) -> Result<Vec<u8>, CrlError> {
    let tbs = tbs_der(signer, entries, fields)?;
    sign(signer, tbs)
}

/// The TBSCertList [`build`] signs, encoded and unsigned (the CRL benchmark times it on its own).
pub fn tbs_der(signer: &CrlSigner<'_>, entries: &[Entry], fields: &CrlFields<'_>) -> Result<Vec<u8>, CrlError> {
    let revoked = entries.iter().map(revoked_cert).collect::<Result<Vec<_>, _>>()?;
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(signer.key_id)?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let number = CrlNumber(Uint::new(&fields.number.to_be_bytes())?);
    let tbs = TbsCertList {
        version: Version::V2,
        signature: signer.key.signature_algorithm(),
        issuer: signer.issuer.clone(),
        this_update: time(fields.this_update)?,
        next_update: Some(time(fields.next_update)?),
        // RFC 5280 §5.1.2.6: absent, not empty, when nothing is revoked.
        revoked_certificates: (!revoked.is_empty()).then_some(revoked),
        crl_extensions: Some(crl_extensions(&aki, &number, fields.distribution_point)?),
    };
    Ok(tbs.to_der()?)
}

/// Sign the TBSCertList octets as they are (no decode and re-encode of a list that may hold a million
/// entries). RSA signatures are verified before release, as for certificates (`issuer`): a faulty RSA-CRT
/// signature would leak the CA key (Lenstra).
fn sign(signer: &CrlSigner<'_>, tbs: Vec<u8>) -> Result<Vec<u8>, CrlError> {
    let signature = signer.key.sign(&tbs)?;
    let algorithm = signer.key.signature_algorithm();
    if signer.key.algorithm().rsa_bits().is_some() {
        hcpki_pkix::keys::verify::verify_signature(signer.key.public_key(), &algorithm, &tbs, &signature)
            .map_err(|e| CrlError::SelfCheck(e.to_string()))?;
    }
    let crl = SignedRaw {
        to_be_signed: Any::from_der(&tbs)?,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&signature)?,
    };
    Ok(crl.to_der()?)
}

fn crl_extensions(
    aki: &AuthorityKeyIdentifier,
    number: &CrlNumber,
    distribution_point: Option<&str>,
) -> Result<Extensions, der::Error> {
    let mut extensions = vec![
        extension(const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER, aki)?,
        extension(const_oid::db::rfc5280::ID_CE_CRL_NUMBER, number)?,
    ];
    if let Some(url) = distribution_point {
        // Critical (RFC 5280 §5.2.5): a relying party that cannot read it must not take this CRL as complete.
        extensions.push(Extension { critical: true, ..extension(ID_CE_ISSUING_DISTRIBUTION_POINT, &idp(url)?)? });
    }
    Ok(extensions)
}

/// The issuingDistributionPoint of a shard: its one URL as fullName, end-entity certificates only (the PC CA
/// issues no CA certificates). The URL must equal the certificates' cRLDistributionPoints URL octet for
/// octet: relying parties match the names (RFC 5280 §6.3.3 (b)(2)(i)).
fn idp(url: &str) -> Result<IssuingDistributionPoint, der::Error> {
    Ok(IssuingDistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![GeneralName::UniformResourceIdentifier(
            Ia5String::new(url)?,
        )])),
        only_contains_user_certs: true,
        only_contains_ca_certs: false,
        only_some_reasons: None,
        indirect_crl: false,
        only_contains_attribute_certs: false,
    })
}

fn revoked_cert(e: &Entry) -> Result<RevokedCert, CrlError> {
    let bytes = e.serial.to_bytes().ok_or_else(|| CrlError::Serial(e.serial.clone()))?;
    let serial_number = SerialNumber::new(&bytes).map_err(|_| CrlError::Serial(e.serial.clone()))?;
    let crl_entry_extensions: Option<Extensions> = match e.reason.0 {
        CrlReason::Unspecified => None,
        reason => Some(vec![extension(const_oid::db::rfc5280::ID_CE_CRL_REASONS, &reason)?]),
    };
    Ok(RevokedCert { serial_number, revocation_date: time(e.revoked_at)?, crl_entry_extensions })
}

fn extension(oid: const_oid::ObjectIdentifier, value: &impl Encode) -> Result<Extension, der::Error> {
    Ok(Extension { extn_id: oid, critical: false, extn_value: OctetString::new(value.to_der()?)? })
}

/// UTCTime before 2050, GeneralizedTime after (RFC 5280 §5.1.2.4).
fn time(unix: i64) -> Result<Time, der::Error> {
    Time::try_from(UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcpki_pkix::keys::{KeyAlgorithm, SoftwareKey};
    use x509_cert::crl::CertificateList;

    fn fields(number: u64, this_update: i64, next_update: i64, distribution_point: Option<&str>) -> CrlFields<'_> {
        CrlFields { number, this_update, next_update, distribution_point }
    }

    #[test]
    fn a_crl_verifies_and_carries_its_entries() {
        let (key, _) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
        let issuer: Name = "CN=Test CA,O=hcpki,C=JP".parse().unwrap();
        let signer = CrlSigner { issuer: &issuer, key_id: &[7u8; 20], key: &key };
        let entries = vec![
            Entry {
                serial: "0a1b".parse().unwrap(),
                revoked_at: 1_700_000_000,
                reason: Reason(CrlReason::KeyCompromise),
            },
            Entry {
                serial: "7f01".parse().unwrap(),
                revoked_at: 1_700_000_100,
                reason: Reason(CrlReason::Unspecified),
            },
        ];
        let der = build(&signer, &entries, &fields(300, 1_700_000_200, 1_700_086_600, None)).unwrap();
        let crl: CertificateList = CertificateList::from_der(&der).unwrap();
        let tbs = &crl.tbs_cert_list;
        assert_eq!(tbs.version, Version::V2);
        let revoked = tbs.revoked_certificates.as_ref().unwrap();
        assert_eq!(revoked.len(), 2);
        assert_eq!(revoked[0].serial_number.as_bytes(), [0x0a, 0x1b]);
        assert!(revoked[0].crl_entry_extensions.is_some() && revoked[1].crl_entry_extensions.is_none());
        let spki = key.public_key();
        hcpki_pkix::keys::verify::verify_signature(
            spki,
            &crl.signature_algorithm,
            &tbs.to_der().unwrap(),
            crl.signature.as_bytes().unwrap(),
        )
        .unwrap();
        let empty: CertificateList =
            CertificateList::from_der(&build(&signer, &[], &fields(1, 0, 86_400, None)).unwrap()).unwrap();
        assert!(empty.tbs_cert_list.revoked_certificates.is_none());
        assert!(
            build(&signer, &[Entry { serial: "0a1".parse().unwrap(), ..entries[0].clone() }], &fields(1, 0, 1, None))
                .is_err()
        );
        assert!(crl.tbs_cert_list.crl_extensions.unwrap().iter().all(|e| !e.critical), "no IDP on a complete CRL");
    }

    /// A shard CRL's issuingDistributionPoint, byte for byte (RFC 5280 §5.2.5, IMPLICIT tags):
    /// `30 L [A0 L [A0 L [86 L url]]] [81 01 FF]`, critical, with the OID 2.5.29.28.
    #[test]
    fn a_shard_crl_names_its_distribution_point() {
        let (key, _) = SoftwareKey::generate_device_key(KeyAlgorithm::P256).unwrap();
        let issuer: Name = "CN=Test CA".parse().unwrap();
        let signer = CrlSigner { issuer: &issuer, key_id: &[1u8; 20], key: &key };
        let url = "http://pki.example/crl/pc-3.crl";
        let der = build(&signer, &[], &fields(2, 0, 86_400, Some(url))).unwrap();
        let crl: CertificateList = CertificateList::from_der(&der).unwrap();
        let extensions = crl.tbs_cert_list.crl_extensions.unwrap();
        let idp = extensions.iter().find(|e| e.extn_id == ID_CE_ISSUING_DISTRIBUTION_POINT).unwrap();
        assert!(idp.critical);
        assert_eq!(idp.extn_id.to_string(), "2.5.29.28");
        let n = url.len() as u8;
        let mut expected = vec![0x30, n + 9, 0xa0, n + 4, 0xa0, n + 2, 0x86, n];
        expected.extend_from_slice(url.as_bytes());
        expected.extend_from_slice(&[0x81, 0x01, 0xff]);
        assert_eq!(idp.extn_value.as_bytes(), expected.as_slice());
    }

    /// Many entries on both key types: every entry decodes back in order with its reason, and the signature
    /// verifies over the exact TBS octets (RSA is also self-checked before release).
    #[test]
    fn a_long_crl_decodes_and_verifies_on_both_key_types() {
        let issuer: Name = "CN=Test CA".parse().unwrap();
        let entries: Vec<Entry> = (0..1000u32)
            .map(|i| Entry {
                serial: format!("{:032x}", 0x0100_0000_0000_0000_0000_0000_0000_0000u128 + u128::from(i) * 7919)
                    .parse()
                    .unwrap(),
                revoked_at: 1_700_000_000 + i64::from(i),
                reason: Reason(if i % 3 == 0 { CrlReason::Superseded } else { CrlReason::Unspecified }),
            })
            .collect();
        for alg in [KeyAlgorithm::P256, KeyAlgorithm::Rsa2048] {
            let (key, _) = SoftwareKey::generate_device_key(alg).unwrap();
            let signer = CrlSigner { issuer: &issuer, key_id: &[3u8; 20], key: &key };
            let der = build(&signer, &entries, &fields(9, 1_700_001_000, 1_700_087_400, None)).unwrap();
            let crl: CertificateList = CertificateList::from_der(&der).unwrap();
            let revoked = crl.tbs_cert_list.revoked_certificates.as_ref().unwrap();
            assert_eq!(revoked.len(), entries.len());
            for (r, e) in revoked.iter().zip(&entries) {
                assert_eq!(hex::encode(r.serial_number.as_bytes()), e.serial.as_str());
                assert_eq!(r.crl_entry_extensions.is_some(), e.reason.0 != CrlReason::Unspecified);
            }
            let tbs = tbs_der(&signer, &entries, &fields(9, 1_700_001_000, 1_700_087_400, None)).unwrap();
            assert_eq!(crl.tbs_cert_list.to_der().unwrap(), tbs, "the signed octets are the encoding");
            hcpki_pkix::keys::verify::verify_signature(
                key.public_key(),
                &crl.signature_algorithm,
                &tbs,
                crl.signature.as_bytes().unwrap(),
            )
            .unwrap();
        }
    }
}
