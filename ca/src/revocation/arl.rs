//! The root's CRL when the root key is offline: an authority revocation list (ARL) signed at a ceremony,
//! carried across the air gap as a file, checked here and stored for `hcpki serve` to hand out (issue #9).
//!
//! ```text
//!  ceremony (root key)                          air gap        online (no root key)
//!  Authority::sign_root_crl ──▶ arl.crl ─────────────────────▶ check ──▶ Store::import_crl ──▶ /crl/root.crl
//! ```
//!
//! [`check`] accepts a file only if a relying party that checks the whole chain would: a v2 CRL whose issuer is
//! the root certificate's subject, signed by the root's key (the exact `tbsCertList` octets, `asn1::SignedRaw`),
//! with a cRLNumber, a nextUpdate still ahead and a thisUpdate not ahead, complete in scope (no
//! issuingDistributionPoint, not a delta CRL, no critical extension we do not read). That its number is above
//! the one stored is the store's to check, inside the transaction that stores it.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280::{
    ID_CE_AUTHORITY_KEY_IDENTIFIER, ID_CE_CRL_NUMBER, ID_CE_DELTA_CRL_INDICATOR, ID_CE_ISSUING_DISTRIBUTION_POINT,
};
use der::{Decode, Encode};
use hcpki_model::UnixTime;
use hcpki_pkix::asn1::SignedRaw;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber};

/// The longest ARL validity hcpki signs, in days: the CA/Browser Forum Baseline Requirements §4.9.7 ask a CRL
/// covering CA certificates to be re-issued at least every twelve months, with nextUpdate at most twelve
/// months after thisUpdate; RFC 5280 itself sets no limit.
pub const MAX_ARL_DAYS: u32 = 365;

/// An ARL that passed [`check`]: what the store keeps and what the operator is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedArl {
    /// The DER CRL, as signed.
    pub der: Vec<u8>,
    /// Its cRLNumber.
    pub number: i64,
    /// thisUpdate (Unix seconds).
    pub this_update: i64,
    /// nextUpdate (Unix seconds).
    pub next_update: i64,
    /// How many certificates it lists as revoked.
    pub entries: usize,
    /// Lowercase hex SHA-256 of the DER: the ceremony record names the file by it.
    pub sha256: String,
}

/// Why a file is not an ARL this installation may serve. Nothing is stored for any of them.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArlError {
    /// Neither a DER CRL nor a PEM `X509 CRL`.
    #[error("not a CRL ({0}): give the file `hcpki ca sign-arl` wrote at the ceremony, DER or PEM")]
    Decode(String),
    /// A v1 CRL has no extensions, so no CRL number.
    #[error("the CRL is version 1; an ARL must be v2 with a cRLNumber: sign it with `hcpki ca sign-arl`")]
    Version,
    /// Another CA's CRL.
    #[error("the CRL's issuer is {found}, not this installation's root {expected}: it is another CA's CRL")]
    Issuer {
        /// The CRL's issuer.
        found: String,
        /// The root certificate's subject.
        expected: String,
    },
    /// The signature does not verify under the root certificate's key: tampered, or signed by another key.
    #[error(
        "the CRL's signature does not verify under this installation's root certificate ({0}): it was altered \
         after signing or signed by another key; sign a new one at the ceremony"
    )]
    Signature(String),
    /// The authorityKeyIdentifier names another key.
    #[error("the CRL's authorityKeyIdentifier names another key than the root certificate's")]
    AuthorityKey,
    /// No cRLNumber.
    #[error("the CRL has no usable cRLNumber (absent); sign it with `hcpki ca sign-arl`")]
    NoNumber,
    /// A cRLNumber that does not decode (the decoder's words).
    #[error("the CRL has no usable cRLNumber ({0}); sign it with `hcpki ca sign-arl`")]
    Number(String),
    /// A cRLNumber of 2^63 or more, which the store's counters cannot hold (refused rather than truncated).
    #[error("the CRL has no usable cRLNumber (larger than 2^63); sign it with `hcpki ca sign-arl`")]
    NumberTooLarge,
    /// No nextUpdate: relying parties could never tell a stale list.
    #[error("the CRL has no nextUpdate; sign it with `hcpki ca sign-arl`")]
    NoNextUpdate,
    /// Past its nextUpdate: every relying party that checks the chain would refuse it.
    #[error(
        "the CRL expired at {}: relying parties would refuse it; sign a new one at the ceremony",
        hcpki_pkix::time::rfc3339(*.0)
    )]
    Expired(i64),
    /// thisUpdate lies ahead of this machine's clock.
    #[error(
        "the CRL's thisUpdate {} is in the future: check the clocks of the ceremony machine and of this one",
        hcpki_pkix::time::rfc3339(*.0)
    )]
    NotYetValid(i64),
    /// A partitioned CRL (it has an issuingDistributionPoint).
    #[error("the CRL is not a complete CRL hcpki can serve: it has an issuingDistributionPoint (a partitioned CRL)")]
    Partitioned,
    /// A delta CRL.
    #[error("the CRL is not a complete CRL hcpki can serve: it is a delta CRL")]
    Delta,
    /// A critical extension hcpki does not read.
    #[error("the CRL is not a complete CRL hcpki can serve: critical extension {0}")]
    CriticalExtension(ObjectIdentifier),
}

/// Check `bytes` (DER, or PEM `X509 CRL`) as an ARL of the CA whose certificate is `root`, at `now`.
pub fn check(bytes: &[u8], root: &Certificate, now: UnixTime) -> Result<CheckedArl, ArlError> {
    // A CRL's times are whole seconds.
    let now = now.as_secs();
    let der = pem_or_der(bytes)?;
    let decode = |e: der::Error| ArlError::Decode(e.to_string());
    let list = CertificateList::from_der(&der).map_err(decode)?;
    let signed = SignedRaw::from_der(&der).map_err(decode)?;
    let tbs = &list.tbs_cert_list;
    if tbs.version != x509_cert::Version::V2 {
        return Err(ArlError::Version);
    }
    let root_tbs = root.tbs_certificate();
    if tbs.issuer.to_der().map_err(decode)? != root_tbs.subject().to_der().map_err(decode)? {
        return Err(ArlError::Issuer { found: tbs.issuer.to_string(), expected: root_tbs.subject().to_string() });
    }
    verify(&signed, tbs, root)?;
    let mut number = None;
    for ext in tbs.crl_extensions.iter().flatten() {
        let value = ext.extn_value.as_bytes();
        if ext.extn_id == ID_CE_CRL_NUMBER {
            let n = CrlNumber::from_der(value).map_err(|e| ArlError::Number(e.to_string()))?;
            number = Some(crl_number(n.0.as_bytes())?);
        } else if ext.extn_id == ID_CE_AUTHORITY_KEY_IDENTIFIER {
            let aki = AuthorityKeyIdentifier::from_der(value).map_err(decode)?;
            let root_key_id = crate::profile::key_identifier(root_tbs.subject_public_key_info());
            if aki.key_identifier.is_some_and(|id| id.as_bytes() != root_key_id.as_slice()) {
                return Err(ArlError::AuthorityKey);
            }
        } else if ext.extn_id == ID_CE_ISSUING_DISTRIBUTION_POINT {
            return Err(ArlError::Partitioned);
        } else if ext.extn_id == ID_CE_DELTA_CRL_INDICATOR {
            return Err(ArlError::Delta);
        } else if ext.critical {
            return Err(ArlError::CriticalExtension(ext.extn_id));
        }
    }
    let number = number.ok_or(ArlError::NoNumber)?;
    let this_update = hcpki_pkix::time::unix(&tbs.this_update);
    let next_update = tbs.next_update.as_ref().map(hcpki_pkix::time::unix).ok_or(ArlError::NoNextUpdate)?;
    if next_update <= now {
        return Err(ArlError::Expired(next_update));
    }
    if this_update > now {
        return Err(ArlError::NotYetValid(this_update));
    }
    Ok(CheckedArl {
        entries: tbs.revoked_certificates.as_ref().map_or(0, Vec::len),
        sha256: hex::encode(Sha256::digest(&der)),
        der,
        number,
        this_update,
        next_update,
    })
}

/// The signature over the exact `tbsCertList` octets, under the root certificate's key, with the algorithm
/// both the outer and the inner AlgorithmIdentifier name (RFC 5280 §5.1.1.2: they must be equal).
fn verify(signed: &SignedRaw, tbs: &x509_cert::crl::TbsCertList, root: &Certificate) -> Result<(), ArlError> {
    if signed.signature_algorithm != tbs.signature {
        return Err(ArlError::Signature("signatureAlgorithm differs from the tbsCertList's signature field".into()));
    }
    let message = signed.tbs_der().map_err(|e| ArlError::Decode(e.to_string()))?;
    let signature =
        signed.signature.as_bytes().ok_or_else(|| ArlError::Signature("the signature has unused bits".into()))?;
    let spki = root.tbs_certificate().subject_public_key_info();
    hcpki_pkix::keys::verify::verify_signature(spki, &signed.signature_algorithm, &message, signature)
        .map_err(|e| ArlError::Signature(e.to_string()))
}

/// A cRLNumber's INTEGER octets as the store keeps it: non-negative and within 63 bits (hcpki's own counters
/// never come near; RFC 5280 §5.2.3 allows 20 octets, which we refuse rather than truncate).
fn crl_number(octets: &[u8]) -> Result<i64, ArlError> {
    let digits = octets.iter().skip_while(|b| **b == 0).count();
    if digits > 8 {
        return Err(ArlError::NumberTooLarge);
    }
    let value = octets.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b));
    i64::try_from(value).map_err(|_| ArlError::NumberTooLarge)
}

/// PEM `X509 CRL` armour removed; anything else is taken as DER (and fails to decode if it is not).
fn pem_or_der(bytes: &[u8]) -> Result<Vec<u8>, ArlError> {
    if !bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        return Ok(bytes.to_vec());
    }
    match der::pem::decode_vec(bytes.trim_ascii()) {
        Ok(("X509 CRL", der)) => Ok(der),
        Ok((label, _)) => Err(ArlError::Decode(format!("PEM label {label:?}, not \"X509 CRL\""))),
        Err(e) => Err(ArlError::Decode(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revocation::crl::{self, CrlFields, CrlSigner, Entry};
    use crate::revocation::{CrlReason, Reason};

    /// A hierarchy made by `Authority::init`, its root certificate and the root key (opened as the ceremony
    /// machine would).
    async fn root() -> (tempfile::TempDir, crate::Authority, Certificate, Box<dyn hcpki_pkix::keys::KeySource>) {
        let dir = tempfile::tempdir().unwrap();
        let authority = crate::authority::tests::authority(dir.path()).await;
        let cert = Certificate::from_der(authority.ca_certificate(crate::CaName::Root).unwrap()).unwrap();
        let ctx = hcpki_pkix::keys::KeyContext {
            base_dir: dir.path().to_owned(),
            passphrase_file: Some(dir.path().join("pass")),
            pkcs11: None,
        };
        let uri = authority.ca_key_uri(crate::CaName::Root).unwrap().parse().unwrap();
        let key = hcpki_pkix::keys::open(&uri, &ctx).unwrap();
        (dir, authority, cert, key)
    }

    const NOW: i64 = 1_800_000_000;
    const AT: UnixTime = UnixTime::from_secs(NOW);

    fn fields(number: u64) -> CrlFields<'static> {
        CrlFields { number, this_update: NOW - 300, next_update: NOW + 365 * 86_400, distribution_point: None }
    }

    /// Signed with `key` under the root's name and key identifier.
    fn arl(cert: &Certificate, key: &dyn hcpki_pkix::keys::KeySource, entries: &[Entry], f: &CrlFields<'_>) -> Vec<u8> {
        let key_id = crate::profile::key_identifier(cert.tbs_certificate().subject_public_key_info());
        let signer = CrlSigner { issuer: cert.tbs_certificate().subject(), key_id: &key_id, key };
        crl::build(&signer, entries, f).unwrap()
    }

    #[tokio::test]
    async fn a_root_signed_arl_passes_in_der_and_pem_and_says_what_it_holds() {
        let (_dir, _authority, cert, key) = root().await;
        let entry =
            Entry { serial: "0a1b".parse().unwrap(), revoked_at: NOW - 10, reason: Reason(CrlReason::CaCompromise) };
        let der = arl(&cert, key.as_ref(), &[entry], &fields(7));
        let checked = check(&der, &cert, AT).unwrap();
        assert_eq!(
            (checked.number, checked.this_update, checked.next_update, checked.entries),
            (7, NOW - 300, NOW + 365 * 86_400, 1)
        );
        assert_eq!(checked.der, der);
        assert_eq!(checked.sha256, hex::encode(Sha256::digest(&der)));
        let pem = crate::issuer::der_to_pem("X509 CRL", &der);
        assert_eq!(check(pem.as_bytes(), &cert, AT).unwrap(), checked);
    }

    #[tokio::test]
    async fn tampered_foreign_expired_and_future_arls_are_refused() {
        let (_dir, authority, cert, key) = root().await;
        let good = arl(&cert, key.as_ref(), &[], &fields(3));

        // A digit of thisUpdate changed: the DER still decodes, the signature no longer holds.
        let mut tampered = good.clone();
        let at = tampered.windows(2).position(|w| w == [0x17, 0x0d]).unwrap() + 2;
        tampered[at + 1] ^= 0x01;
        assert!(
            matches!(check(&tampered, &cert, AT), Err(ArlError::Signature(_))),
            "{:?}",
            check(&tampered, &cert, AT)
        );

        // Same name, another key.
        let (other, _) =
            hcpki_pkix::keys::SoftwareKey::generate_device_key(hcpki_pkix::keys::KeyAlgorithm::P256).unwrap();
        let foreign = arl(&cert, &other, &[], &fields(4));
        assert!(matches!(check(&foreign, &cert, AT), Err(ArlError::Signature(_))));

        // Another CA's CRL (the router CA's, signed by its own key).
        let router = Certificate::from_der(authority.ca_certificate(crate::CaName::Router).unwrap()).unwrap();
        let theirs = arl(&router, &other, &[], &fields(5));
        assert!(matches!(check(&theirs, &cert, AT), Err(ArlError::Issuer { .. })));

        let expired = CrlFields { this_update: NOW - 2 * 86_400, next_update: NOW - 86_400, ..fields(6) };
        let err = check(&arl(&cert, key.as_ref(), &[], &expired), &cert, AT).unwrap_err();
        assert_eq!(err, ArlError::Expired(NOW - 86_400));
        assert!(err.to_string().contains("expired at"), "{err}");

        let future = CrlFields { this_update: NOW + 3600, ..fields(7) };
        assert_eq!(check(&arl(&cert, key.as_ref(), &[], &future), &cert, AT), Err(ArlError::NotYetValid(NOW + 3600)));

        let shard = CrlFields { distribution_point: Some("http://x/crl/root-1.crl"), ..fields(8) };
        assert!(matches!(check(&arl(&cert, key.as_ref(), &[], &shard), &cert, AT), Err(ArlError::Partitioned)));

        assert!(matches!(check(b"not a crl", &cert, AT), Err(ArlError::Decode(_))));
        let wrong_label = crate::issuer::der_to_pem("CERTIFICATE", &good);
        assert!(matches!(check(wrong_label.as_bytes(), &cert, AT), Err(ArlError::Decode(_))));
        assert!(check(&good, &cert, AT).is_ok(), "the untouched one still passes");
    }

    #[test]
    fn crl_numbers_fit_in_63_bits_or_are_refused() {
        assert_eq!(crl_number(&[0x01]), Ok(1));
        assert_eq!(crl_number(&[0x00, 0xff]), Ok(255));
        assert_eq!(crl_number(&[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Ok(i64::MAX));
        assert!(crl_number(&[0x00, 0x80, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(crl_number(&[0x01, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
