//! The signing certificate's revocation status at a time: from the CRLs and OCSP responses the signature
//! embeds first, then from what its CRL distribution points and OCSP responder give through the caller's fetch
//! function (no HTTP here).
//!
//! A CRL counts when its issuer's key (the CA that issued the certificate) signed it, it is complete (no
//! issuingDistributionPoint, not a delta CRL, no critical extension unread), and it *covers* the time asked:
//! issued at or after it, or current at it (thisUpdate ≤ time ≤ nextUpdate, the CA's own promise that nothing
//! changed in between) — and, for data issued after the certificate expired, only when it says it still lists
//! expired certificates (a CRL's expiredCertsOnCRL at or before the certificate's notAfter, X.509 §9.3.3; an
//! OCSP response's archiveCutoff, RFC 6960 §4.4.4): a CA may drop a certificate from its CRLs once it expired
//! (RFC 5280 §3.3), so silence afterwards proves nothing. An OCSP response counts when the CA or a responder it delegated (extendedKeyUsage
//! OCSPSigning) signed it, it answers for this certificate's CertID, and it covers the time in the same way. A
//! listing with a revocation time at or before the time asked is decisive whatever the data's age (a revocation
//! is never undone for signatures: certificateHold is read as revoked).

use super::report::RevocationSource;
use crate::timestamp::HashAlgorithm;
use const_oid::db::rfc5280::{
    ID_CE_DELTA_CRL_INDICATOR, ID_CE_ISSUING_DISTRIBUTION_POINT, ID_PE_AUTHORITY_INFO_ACCESS,
};
use der::{Decode, Encode};
use hcpki_pkix::asn1::SignedRaw;
use hcpki_pkix::asn1::ocsp::{
    BasicOcspResponse, CertId, CertStatus, ID_PKIX_OCSP_BASIC, OcspResponse, OcspResponseStatus,
};
use hcpki_pkix::path::ParsedCert;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints, ExtendedKeyUsage};

/// What the verifier asks the caller to fetch when the signature embeds no usable revocation data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchRequest<'a> {
    /// GET this CRL distribution point (an `http://` URL from the certificate).
    Crl {
        /// The URL.
        url: &'a str,
    },
    /// POST this DER OCSPRequest (`application/ocsp-request`) to the OCSP responder the certificate names.
    Ocsp {
        /// The responder's URL.
        url: &'a str,
        /// The DER OCSPRequest.
        request: &'a [u8],
    },
}

/// The status established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Status {
    /// Not revoked at the time asked; perhaps revoked later (`revoked_later`, Unix seconds).
    Good {
        /// Where it came from.
        source: RevocationSource,
        /// A revocation after the time asked, if the data lists one.
        revoked_later: Option<i64>,
    },
    /// Revoked at or before the time asked.
    Revoked {
        /// Where it came from.
        source: RevocationSource,
        /// The revocation time.
        at: i64,
    },
    /// Nothing usable: why (for the report).
    Unknown(String),
}

/// The status of `cert` (issued by `issuer`) at `at`, from `crls` and `ocsp` (DER), the data called `embedded`
/// or fetched; unusable items are described in `notes`.
pub(super) fn status(
    cert: &ParsedCert,
    issuer: &ParsedCert,
    at: i64,
    (crls, ocsp): (&[Vec<u8>], &[Vec<u8>]),
    embedded: bool,
    notes: &mut Vec<String>,
) -> Status {
    let mut stale = Vec::new();
    let mut after_expiry = Vec::new();
    let mut good = None;
    let (_, not_after) = cert.validity();
    let (crl_source, ocsp_source) = if embedded {
        (RevocationSource::EmbeddedCrl, RevocationSource::EmbeddedOcsp)
    } else {
        (RevocationSource::FetchedCrl, RevocationSource::FetchedOcsp)
    };
    let answers = crls
        .iter()
        .map(|der| (crl_source, crl_entry(der, cert, issuer)))
        .chain(ocsp.iter().map(|der| (ocsp_source, ocsp_entry(der, cert, issuer))));
    for (source, answer) in answers {
        match answer {
            Ok(None) => {}
            Ok(Some(said)) => {
                if let Some(revoked) = said.revoked
                    && revoked <= at
                {
                    return Status::Revoked { source, at: revoked };
                }
                if !said.speaks_of_expired(not_after) {
                    after_expiry.push(hcpki_pkix::time::rfc3339(said.this_update));
                } else if said.covers(at) {
                    good.get_or_insert(Status::Good { source, revoked_later: said.revoked });
                } else {
                    stale.push(hcpki_pkix::time::rfc3339(said.this_update));
                }
            }
            Err(why) => notes.push(why),
        }
    }
    good.unwrap_or_else(|| {
        let mut why = Vec::new();
        if !stale.is_empty() {
            why.push(format!(
                "only revocation data issued before that time ({}) and no longer current at it",
                stale.join(", ")
            ));
        }
        if !after_expiry.is_empty() {
            why.push(format!(
                "revocation data issued after the certificate expired ({}) that does not say it keeps listing \
                 expired certificates (its silence proves nothing)",
                after_expiry.join(", ")
            ));
        }
        Status::Unknown(if why.is_empty() {
            "no CRL or OCSP response of its issuer".to_owned()
        } else {
            why.join("; ")
        })
    })
}

/// What one CRL or OCSP response says about the certificate.
#[derive(Clone, Copy, Debug)]
struct Said {
    this_update: i64,
    next_update: Option<i64>,
    revoked: Option<i64>,
    /// Certificates that expired at or after this time are still listed (expiredCertsOnCRL, archiveCutoff).
    keeps_expired_since: Option<i64>,
}

impl Said {
    /// Whether this data can speak of a certificate that expires at `not_after`: issued while it was valid, or
    /// keeping certificates that expired since before then.
    fn speaks_of_expired(&self, not_after: i64) -> bool {
        self.this_update <= not_after || self.keeps_expired_since.is_some_and(|since| since <= not_after)
    }

    fn covers(&self, at: i64) -> bool {
        self.this_update >= at || self.next_update.is_some_and(|next| self.this_update <= at && at <= next)
    }
}

/// What the CRL `der` says of `cert`, `None` when it is another issuer's; an error when it is the issuer's but
/// unusable.
fn crl_entry(der: &[u8], cert: &ParsedCert, issuer: &ParsedCert) -> Result<Option<Said>, String> {
    let crl = CertificateList::from_der(der).map_err(|e| format!("an embedded CRL does not decode ({e})"))?;
    let tbs = &crl.tbs_cert_list;
    if tbs.issuer.to_der().ok().as_deref() != Some(issuer.subject_der()) {
        return Ok(None);
    }
    let name = issuer.subject();
    let signed = SignedRaw::from_der(der).map_err(|e| format!("the CRL of {name} does not decode ({e})"))?;
    if !issuer.key_verifies(&signed) {
        return Err(format!("a CRL naming {name} is not signed by its key: ignored"));
    }
    for ext in tbs.crl_extensions.iter().flatten() {
        if ext.extn_id == ID_CE_ISSUING_DISTRIBUTION_POINT || ext.extn_id == ID_CE_DELTA_CRL_INDICATOR {
            return Err(format!("the CRL of {name} is partial or a delta CRL (not read): ignored"));
        }
        if ext.critical && ext.extn_id != const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER {
            return Err(format!("the CRL of {name} has a critical extension {} hcpki does not read", ext.extn_id));
        }
    }
    let serial = cert.cert.tbs_certificate().serial_number();
    let revoked = tbs
        .revoked_certificates
        .iter()
        .flatten()
        .find(|r| r.serial_number == *serial)
        .map(|r| hcpki_pkix::time::unix(&r.revocation_date));
    let keeps_expired_since = tbs
        .crl_extensions
        .iter()
        .flatten()
        .find(|ext| ext.extn_id == ID_CE_EXPIRED_CERTS_ON_CRL)
        .map(|ext| generalized_time(ext.extn_value.as_bytes()))
        .transpose()
        .map_err(|e| format!("the CRL of {name} has an expiredCertsOnCRL that is not a GeneralizedTime ({e})"))?;
    Ok(Some(Said {
        this_update: hcpki_pkix::time::unix(&tbs.this_update),
        next_update: tbs.next_update.as_ref().map(hcpki_pkix::time::unix),
        revoked,
        keeps_expired_since,
    }))
}

/// expiredCertsOnCRL (X.509 §9.3.3): the CRL lists certificates that expired at or after this time.
const ID_CE_EXPIRED_CERTS_ON_CRL: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.29.60");
/// id-pkix-ocsp-archive-cutoff (RFC 6960 §4.4.4): the responder keeps status for certificates that expired at or
/// after this time.
const ID_PKIX_OCSP_ARCHIVE_CUTOFF: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.6");

/// An extension value that is one DER GeneralizedTime, as Unix seconds.
fn generalized_time(der: &[u8]) -> Result<i64, der::Error> {
    let time = der::asn1::GeneralizedTime::from_der(der)?;
    Ok(hcpki_pkix::time::unix(&x509_cert::time::Time::GeneralTime(time)))
}

/// What the OCSP response `der` says of `cert`, `None` when it answers for other certificates.
fn ocsp_entry(der: &[u8], cert: &ParsedCert, issuer: &ParsedCert) -> Result<Option<Said>, String> {
    let bad = |what: &str| format!("an OCSP response {what}: ignored");
    let response = OcspResponse::from_der(der).map_err(|e| bad(&format!("does not decode ({e})")))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(bad(&format!("has status {:?}", response.response_status)));
    }
    let bytes = response.response_bytes.ok_or_else(|| bad("carries no answer"))?;
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return Err(bad("is not a basic OCSP response"));
    }
    let basic =
        BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(|e| bad(&format!("does not decode ({e})")))?;
    let Some(single) = basic.tbs_response_data.responses.iter().find(|s| names(&s.cert_id, cert, issuer)) else {
        return Ok(None);
    };
    let tbs = basic.tbs_response_data.to_der().map_err(|e| bad(&format!("does not re-encode ({e})")))?;
    let signed = SignedRaw {
        to_be_signed: der::Any::from_der(&tbs).map_err(|e| bad(&format!("does not re-encode ({e})")))?,
        signature_algorithm: basic.signature_algorithm.clone(),
        signature: basic.signature.clone(),
    };
    let delegated =
        basic.certs.iter().flatten().filter_map(|c| ParsedCert::from_cert(c).ok()).find(|responder| {
            responder.issued_by(issuer) && ocsp_signing(responder) && responder.key_verifies(&signed)
        });
    if !issuer.key_verifies(&signed) && delegated.is_none() {
        return Err(bad(&format!(
            "for {} is signed by neither its CA nor a responder the CA delegated",
            cert.subject()
        )));
    }
    let revoked = match &single.cert_status {
        CertStatus::Good(_) => None,
        CertStatus::Revoked(info) => {
            Some(hcpki_pkix::time::unix(&x509_cert::time::Time::GeneralTime(info.revocation_time)))
        }
        CertStatus::Unknown(_) => return Err(bad(&format!("does not know {}", cert.subject()))),
    };
    let unix = |t: der::asn1::GeneralizedTime| hcpki_pkix::time::unix(&x509_cert::time::Time::GeneralTime(t));
    let keeps_expired_since = single
        .single_extensions
        .iter()
        .flatten()
        .chain(basic.tbs_response_data.response_extensions.iter().flatten())
        .find(|ext| ext.extn_id == ID_PKIX_OCSP_ARCHIVE_CUTOFF)
        .map(|ext| generalized_time(ext.extn_value.as_bytes()))
        .transpose()
        .map_err(|e| bad(&format!("has an archiveCutoff that is not a GeneralizedTime ({e})")))?;
    Ok(Some(Said {
        this_update: unix(single.this_update),
        next_update: single.next_update.map(unix),
        revoked,
        keeps_expired_since,
    }))
}

/// Whether `id` names `cert` issued by `issuer` (SHA-1 or SHA-2 CertID).
fn names(id: &CertId, cert: &ParsedCert, issuer: &ParsedCert) -> bool {
    let Some(hash) = cert_id_hash(&id.hash_algorithm.oid) else { return false };
    let key = issuer.cert.tbs_certificate().subject_public_key_info().subject_public_key.raw_bytes();
    id.serial_number.as_bytes() == cert.cert.tbs_certificate().serial_number().as_bytes()
        && id.issuer_name_hash.as_bytes() == hash(issuer.subject_der())
        && id.issuer_key_hash.as_bytes() == hash(key)
}

type HashFn = fn(&[u8]) -> Vec<u8>;

fn cert_id_hash(oid: &der::asn1::ObjectIdentifier) -> Option<HashFn> {
    use sha1::Digest as _;
    if *oid == const_oid::db::rfc5912::ID_SHA_1 {
        return Some(|b| sha1::Sha1::digest(b).to_vec());
    }
    let algorithm = spki::AlgorithmIdentifierOwned { oid: *oid, parameters: None };
    match HashAlgorithm::of(&algorithm).ok()? {
        HashAlgorithm::Sha256 => Some(|b| HashAlgorithm::Sha256.digest(b)),
        HashAlgorithm::Sha384 => Some(|b| HashAlgorithm::Sha384.digest(b)),
        HashAlgorithm::Sha512 => Some(|b| HashAlgorithm::Sha512.digest(b)),
    }
}

fn ocsp_signing(responder: &ParsedCert) -> bool {
    matches!(
        responder.cert.tbs_certificate().get_extension::<ExtendedKeyUsage>(),
        Ok(Some((_, eku))) if eku.0.contains(&hcpki_pkix::oid::KP_OCSP_SIGNING)
    )
}

/// The DER OCSPRequest for `cert` issued by `issuer` (SHA-1 CertID, as most responders index them; no nonce,
/// so a responder's cached answer will do).
pub(super) fn ocsp_request(cert: &ParsedCert, issuer: &ParsedCert) -> Option<Vec<u8>> {
    use hcpki_pkix::asn1::ocsp::{OcspRequest, Request, TbsRequest};
    use sha1::Digest as _;
    let key = issuer.cert.tbs_certificate().subject_public_key_info().subject_public_key.raw_bytes();
    let cert_id = CertId {
        hash_algorithm: spki::AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ID_SHA_1,
            parameters: Some(der::Any::from(der::asn1::Null)),
        },
        issuer_name_hash: der::asn1::OctetString::new(sha1::Sha1::digest(issuer.subject_der()).to_vec()).ok()?,
        issuer_key_hash: der::asn1::OctetString::new(sha1::Sha1::digest(key).to_vec()).ok()?,
        serial_number: der::asn1::Int::new(cert.cert.tbs_certificate().serial_number().as_bytes()).ok()?,
    };
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: Default::default(),
            requestor_name: None,
            request_list: vec![Request { req_cert: cert_id, single_request_extensions: None }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    request.to_der().ok()
}

/// The `http://` URLs of `cert`'s CRL distribution points.
pub(super) fn crl_urls(cert: &ParsedCert) -> Vec<String> {
    let Ok(Some((_, points))) = cert.cert.tbs_certificate().get_extension::<CrlDistributionPoints>() else {
        return Vec::new();
    };
    points
        .0
        .iter()
        .filter_map(|p| match &p.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(http_uri)
        .collect()
}

/// The `http://` URLs of `cert`'s OCSP responders (authorityInfoAccess id-ad-ocsp).
pub(super) fn ocsp_urls(cert: &ParsedCert) -> Vec<String> {
    let has_aia = cert
        .cert
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .any(|e| e.extn_id == ID_PE_AUTHORITY_INFO_ACCESS);
    if !has_aia {
        return Vec::new();
    }
    let Ok(Some((_, access))) = cert.cert.tbs_certificate().get_extension::<AuthorityInfoAccessSyntax>() else {
        return Vec::new();
    };
    access
        .0
        .iter()
        .filter(|a| a.access_method == hcpki_pkix::oid::AD_OCSP)
        .filter_map(|a| http_uri(&a.access_location))
        .collect()
}

fn http_uri(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::UniformResourceIdentifier(uri) if uri.as_str().starts_with("http://") => {
            Some(uri.as_str().to_owned())
        }
        _ => None,
    }
}
