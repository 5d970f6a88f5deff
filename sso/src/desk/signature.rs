//! The signatures a desk takes back from the card agent: the card's B-B signature checked against the stored
//! document ([`check_b_b`]), then taken to the level asked for ([`extend`]): the signature time stamp from
//! `[[signing.tsa]]` only (B-T, D80), the validation data from the login's CRL cache (B-LT, D82), the archive time
//! stamp (B-LTA). Signing requests take every format and level; consents a PAdES signature at B-LT.

mod formats;
mod validation_data;

pub(crate) use formats::{Checked, check_b_b};

use crate::login::CardVerifier;
use hcpki_docsig::timestamp::client::Stamp;
use hcpki_model::signature::{Format, Level};

/// Where signers get their signature time stamps (`[[signing.tsa]]`, D70): the HTTP side implements it over
/// the configured list, tests with a stub. The local clock is never a time stamp: no TSA, no B-T signature.
#[async_trait::async_trait]
pub trait SignatureTimeStamps: Send + Sync + std::fmt::Debug {
    /// A checked token over `digest` (SHA-256) and the URL of the TSA that gave it, or why none could be had.
    async fn stamp(&self, digest: &[u8; 32]) -> Result<(Stamp, String), String>;
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(crate::oidc::jws::sha256(bytes))
}

/// A checked signature and what was added to it: the signed document at the level asked for and what the audit
/// entry says of it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Signed {
    /// The signed document.
    pub document: Vec<u8>,
    /// The signer certificate's SHA-256 (hex).
    pub signer_sha256: String,
    /// From B-T: the signature time stamp's genTime and the TSA's URL.
    pub stamp: Option<(i64, String)>,
    /// From B-LT: how many certificates and CRLs were embedded.
    pub validation_data: Option<(usize, usize)>,
    /// At B-LTA: the archive (CAdES) or document (PAdES) time stamp's genTime and TSA URL.
    pub archive: Option<(i64, String)>,
}

impl Signed {
    /// The card's checked B-B signature `document` by the certificate whose SHA-256 is `signer_sha256`, nothing
    /// added yet.
    pub(crate) fn b_b(document: &[u8], signer_sha256: String) -> Self {
        Self { document: document.to_vec(), signer_sha256, stamp: None, validation_data: None, archive: None }
    }
}

/// Why a checked signature could not be taken to its level; nothing is stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtendError {
    /// The signature does not read as its format (it passed the B-B check, so this is a defect in its core).
    #[error("the signature is not a valid B-B signature of this document: {0}")]
    BadSignature(String),
    /// No configured TSA gave a time stamp (B-T): nothing was signed; the operator checks `hcpki tsa check`.
    #[error("no time stamp could be had, so nothing was signed: {0}")]
    NoTimeStamp(String),
    /// The signer's revocation data (its CA's CRL, current at the time stamp's time) is not in the login's CRL
    /// cache: nothing was signed; the operator configures that CRL (D82).
    #[error("the validation data for B-LT could not be gathered, so nothing was signed: {0}")]
    NoValidationData(String),
}

/// A checked B-B signature `done` (over `document`, by the first certificate of the validated `path`) taken to
/// `level`: the signature time stamp (B-T), the validation data gathered at the time stamp's time from
/// `verifier`'s CRL cache (B-LT), the archive time stamp (B-LTA). The signing requests' and the consents' one
/// way of adding them.
pub(crate) async fn extend(
    verifier: &CardVerifier,
    stamps: &dyn SignatureTimeStamps,
    format: Format,
    level: Level,
    document: &[u8],
    path: &[Vec<u8>],
    mut done: Signed,
) -> Result<Signed, ExtendError> {
    use ExtendError::{BadSignature, NoTimeStamp, NoValidationData};
    if level == Level::BaselineB {
        return Ok(done);
    }
    let digest = formats::time_stamp_digest(format, &done.document).map_err(BadSignature)?;
    let (stamp, url) = stamps.stamp(&digest).await.map_err(NoTimeStamp)?;
    done.document = formats::with_time_stamp(format, &done.document, &stamp.token).map_err(NoTimeStamp)?;
    done.stamp = Some((stamp.gen_time, url));
    if level == Level::BaselineT {
        return Ok(done);
    }
    // Gathered for the time the token proves, from the CRL cache only (D82): no CRL, no B-LT, nothing stored.
    let gathered = validation_data::gather(verifier, path, &stamp.token, stamp.gen_time).map_err(NoValidationData)?;
    done.document = formats::with_validation_data(format, &done.document, &gathered).map_err(NoValidationData)?;
    done.validation_data = Some((gathered.certificates.len(), gathered.crls.len()));
    if level == Level::BaselineLt {
        return Ok(done);
    }
    let archive = formats::Archive::prepare(format, &done.document, document).map_err(NoTimeStamp)?;
    let (archive_stamp, archive_url) = stamps.stamp(&archive.digest()).await.map_err(NoTimeStamp)?;
    done.document = archive.finish(&done.document, document, &archive_stamp.token).map_err(NoTimeStamp)?;
    done.archive = Some((archive_stamp.gen_time, archive_url));
    Ok(done)
}
