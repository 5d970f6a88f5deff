//! The signature verifier's judgement, format-independent (issue #27 item 5): given what a format's parser
//! checked and extracted — the signature's integrity, the signer certificate and the certificates carried, the
//! time stamps with their own checks, the embedded revocation data — and the configured trust, decide PASSED /
//! INDETERMINATE / FAILED with an ETSI EN 319 102-1 sub-indication, the hcRole found and the best level reached.
//! No HTTP and no clock: revocation data missing from the signature is asked of a fetch function the caller
//! passes, and the validation time is a parameter.
//!
//! ```text
//! format (CAdES, XAdES, PAdES)                       this module
//! parse + crypto ──▶ SignatureEvidence ──▶ validate(evidence, trust, now, fetch) ──▶ Report
//!   integrity: HASH_FAILURE / SIG_CRYPTO_FAILURE / FORMAT_FAILURE, or intact
//!   signer + carried certificates, time stamps (genTime + TSA + their own check), CRLs, OCSP responses
//! ```
//!
//! The steps, in order (the first that fails decides):
//! 1. integrity, as the format found it;
//! 2. the signer certificate is a signature certificate (keyUsage nonRepudiation): else
//!    FAILED/CHAIN_CONSTRAINTS_FAILURE;
//! 3. the signature time stamps: each that checked, whose TSA certificate chains to a configured TSA anchor
//!    and was valid at genTime, proves the signature existed then. The earliest is the *signing time* used
//!    below; without one, the validation time `now` is (EN 319 102-1 §5.5: a failed time stamp is no proof and
//!    is ignored, with a note);
//! 4. the path from the signer to a configured signing anchor, CAs valid at the signing time
//!    ([`hcpki_pkix::path::find`]): else INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND, OUT_OF_BOUNDS_NO_POE (a CA
//!    expired) or FAILED/CHAIN_CONSTRAINTS_FAILURE;
//! 5. the signer certificate valid at the signing time: expired without a time stamp →
//!    INDETERMINATE/OUT_OF_BOUNDS_NO_POE; a time stamp after its end → FAILED/EXPIRED;
//! 6. its revocation status at the signing time (embedded data first, then fetched): revoked before →
//!    FAILED/REVOKED (with a time stamp) or INDETERMINATE/REVOKED_NO_POE (without); revoked after → passes;
//!    nothing usable → INDETERMINATE/TRY_LATER;
//! 7. the status of each CA between the signer and the anchor at the signing time, from the same sources: a CA
//!    revoked by then fails as in step 6; a status that cannot be established is a note (D85).
//!
//! The level: B-B when intact; B-T with a valid signature time stamp; B-LT when, in addition, the signer's
//! revocation status came from embedded data and every certificate of its path below the anchor is carried;
//! B-LTA when, in addition, a valid archive time stamp covers it. Decision D73 says what is simplified against
//! EN 319 102-1 (the TSAs' revocation is not checked; freshness is the data's own validity), D85 how far the CAs'
//! is.

mod report;
mod revocation;

pub use report::{Failure, Indication, Level, Report, RevocationSource, SubIndication};
pub use revocation::FetchRequest;

use crate::timestamp::client::TsaTrust;
use hcpki_pkix::path::{self, ParsedCert, PathProblem};
use revocation::Status;
use x509_cert::Certificate;
use x509_cert::ext::pkix::KeyUsage;

/// The longest signer path accepted (leaf, CAs, anchor): real HPKI paths have three certificates.
const MAX_PATH: usize = 6;

/// What a format hands the verifier.
#[derive(Clone, Debug)]
pub struct SignatureEvidence {
    /// The format's own checks: `Ok` when the signature value verifies over signed data whose digest matches,
    /// or the failure (HASH_FAILURE, SIG_CRYPTO_FAILURE, FORMAT_FAILURE, NO_SIGNING_CERTIFICATE_FOUND).
    pub integrity: Result<(), Failure>,
    /// The signer certificate the signature names (none when it is not carried).
    pub signer: Option<Certificate>,
    /// Every certificate the signature carries (the signer's CAs, validation data), the signer's included or not.
    pub certificates: Vec<Certificate>,
    /// The signature time stamps, each with its own check.
    pub signature_time_stamps: Vec<TimeStampEvidence>,
    /// The archive (or document) time stamps, each with its own check (B-LTA).
    pub archive_time_stamps: Vec<TimeStampEvidence>,
    /// CRLs embedded (DER).
    pub crls: Vec<Vec<u8>>,
    /// OCSP responses embedded (DER OCSPResponse).
    pub ocsp_responses: Vec<Vec<u8>>,
}

impl SignatureEvidence {
    /// Nothing found yet, nothing failed: what a format starts from and fills in as it reads the signature.
    pub fn new() -> Self {
        Self {
            integrity: Ok(()),
            signer: None,
            certificates: Vec::new(),
            signature_time_stamps: Vec::new(),
            archive_time_stamps: Vec::new(),
            crls: Vec::new(),
            ocsp_responses: Vec::new(),
        }
    }

    /// A signature whose own checks stopped at `failure`: nothing else of it is judged.
    pub fn broken(failure: Failure) -> Self {
        Self { integrity: Err(failure), ..Self::new() }
    }
}

impl Default for SignatureEvidence {
    fn default() -> Self {
        Self::new()
    }
}

/// One time stamp as the format checked it: its imprint over what it must cover, the TSA's signature over the
/// TSTInfo, the signing-certificate binding and the timeStamping usage (the format's job); the TSA's chain is
/// this module's.
#[derive(Clone, Debug)]
pub enum TimeStampEvidence {
    /// The token checked.
    Intact {
        /// genTime, Unix seconds.
        gen_time: i64,
        /// The TSA certificate that signed it.
        tsa: Box<Certificate>,
        /// The certificates the token carries.
        certificates: Vec<Certificate>,
    },
    /// The token did not check: why.
    Broken(String),
}

/// Whom the verifier trusts: the signing anchors (HPKI roots or signature CAs, `[signing] anchors`) and the
/// TSA anchors (the roots of the configured TSAs). Separate from the login's anchors.
#[derive(Clone, Debug)]
pub struct SigningTrust {
    signers: Vec<((), ParsedCert)>,
    tsas: Option<TsaTrust>,
}

/// Why the configured anchors cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// A configured certificate does not decode.
    #[error("a signing anchor is not a DER X.509 certificate ({0}): give PEM or DER certificates")]
    NotCertificate(der::Error),
    /// A TSA anchor does not decode.
    #[error("a TSA anchor cannot be used: {0}")]
    Tsa(#[from] crate::timestamp::client::TrustError),
}

impl SigningTrust {
    /// Signing anchors and TSA anchors from DER certificates (either may be empty: then no signature, or no
    /// time stamp, validates).
    pub fn new(signer_anchors: &[Vec<u8>], tsa_anchors: &[Vec<u8>]) -> Result<Self, TrustError> {
        let signers = signer_anchors
            .iter()
            .map(|der| ParsedCert::from_der(der).map(|c| ((), c)).map_err(TrustError::NotCertificate))
            .collect::<Result<_, _>>()?;
        let tsas = if tsa_anchors.is_empty() { None } else { Some(TsaTrust::new(tsa_anchors)?) };
        Ok(Self { signers, tsas })
    }
}

/// Judge `evidence` against `trust` at `now` (Unix seconds), asking `fetch` for revocation data the signature
/// does not embed (return an error when offline or not allowed; the verdict then says TRY_LATER).
pub fn validate(
    evidence: &SignatureEvidence,
    trust: &SigningTrust,
    now: i64,
    fetch: &dyn Fn(&FetchRequest<'_>) -> Result<Vec<u8>, String>,
) -> Report {
    let signer = evidence.signer.clone();
    if let Err(failure) = &evidence.integrity {
        return Report::stopped(failure.clone(), signer);
    }
    let Some(signer_cert) = &evidence.signer else {
        let failure = Failure::new(
            SubIndication::NoSigningCertificateFound,
            "the signature does not carry its signer certificate: ask the signer to sign again including it",
        );
        return Report::stopped(failure, None);
    };
    let mut report = Report::stopped(Failure::new(SubIndication::FormatFailure, String::new()), signer.clone());
    report.hc_roles = hcpki_pkix::hc_role::certificate_texts(signer_cert).unwrap_or_default();
    report.level = Some(Level::BaselineB);
    match judge(evidence, signer_cert, trust, now, fetch, &mut report) {
        Ok(()) => {
            report.indication = Indication::Passed;
            report.sub_indication = None;
            report.detail = passed_detail(&report);
        }
        Err(failure) => {
            report.indication = failure.sub_indication.indication();
            report.sub_indication = Some(failure.sub_indication);
            report.detail = failure.detail;
        }
    }
    report
}

/// Steps 2–6 of the module documentation, filling `report` as evidence is found.
fn judge(
    evidence: &SignatureEvidence,
    signer: &Certificate,
    trust: &SigningTrust,
    now: i64,
    fetch: &dyn Fn(&FetchRequest<'_>) -> Result<Vec<u8>, String>,
    report: &mut Report,
) -> Result<(), Failure> {
    let subject = signer.tbs_certificate().subject().to_string();
    require_non_repudiation(signer, &subject)?;
    let leaf = ParsedCert::from_cert(signer).map_err(|e| {
        Failure::new(SubIndication::FormatFailure, format!("the signer certificate does not re-encode ({e})"))
    })?;
    report.time_stamp = proven_time(&evidence.signature_time_stamps, trust, "signature", &mut report.notes);
    report.archive_time_stamp = latest_time(&evidence.archive_time_stamps, trust, &mut report.notes);
    if report.time_stamp.is_some() {
        report.level = Some(Level::BaselineT);
    }
    let at = report.time_stamp.unwrap_or(now);
    let carried: Vec<ParsedCert> = evidence.certificates.iter().filter_map(|c| ParsedCert::from_cert(c).ok()).collect();
    let pool: Vec<&ParsedCert> = carried.iter().collect();
    let (_, chain) = path::find(&leaf, &pool, &trust.signers, at, MAX_PATH).map_err(|p| path_failure(p, &subject))?;
    check_validity(&leaf, report.time_stamp, now, &subject)?;
    let issuer = chain.get(1).copied().ok_or_else(|| {
        Failure::new(SubIndication::NoCertificateChainFound, format!("{subject} is itself an anchor, not a signer"))
    })?;
    let status = revocation_status(evidence, &leaf, issuer, at, fetch, &mut report.notes);
    let source = match status {
        Status::Good { source, revoked_later } => {
            if let Some(later) = revoked_later {
                report.notes.push(format!(
                    "the signer certificate was revoked at {}, after the signature was made: the signature stands",
                    hcpki_pkix::time::rfc3339(later)
                ));
            }
            source
        }
        Status::Revoked { at: revoked, source } => {
            // Where the revocation was read: a relying party acting on FAILED/REVOKED may need to show it.
            report.revocation = Some(source);
            let when = hcpki_pkix::time::rfc3339(revoked);
            return Err(match report.time_stamp {
                Some(stamp) => Failure::new(
                    SubIndication::Revoked,
                    format!(
                        "the signer certificate {subject} was revoked at {when}, before the signature's time stamp \
                         ({}): the signature is not valid; ask the signer for a new signature with a valid certificate",
                        hcpki_pkix::time::rfc3339(stamp)
                    ),
                ),
                None => Failure::new(
                    SubIndication::RevokedNoPoe,
                    format!(
                        "the signer certificate {subject} was revoked at {when} and no time stamp proves the signature \
                         is older: it cannot be trusted; ask for a time-stamped (B-T or higher) signature"
                    ),
                ),
            });
        }
        Status::Unknown(why) => {
            return Err(Failure::new(
                SubIndication::TryLater,
                format!(
                    "the revocation status of {subject} at {} is unknown: {why}; try again when its CA's CRL or OCSP \
                     responder can be reached, or ask for a B-LT signature that embeds it",
                    hcpki_pkix::time::rfc3339(at)
                ),
            ));
        }
    };
    report.revocation = Some(source);
    check_cas(evidence, &chain, at, report.time_stamp.is_some(), fetch, &mut report.notes)?;
    let path_carried =
        chain.iter().take(chain.len().saturating_sub(1)).skip(1).all(|ca| carried.iter().any(|c| c.der == ca.der));
    if report.time_stamp.is_some() && source.embedded() && path_carried {
        report.level = Some(Level::BaselineLt);
        if report.archive_time_stamp.is_some() {
            report.level = Some(Level::BaselineLta);
        }
    }
    Ok(())
}

/// Step 7: the CAs between the signer and the anchor, each at the signing time, from the same sources as the
/// signer (embedded data, then fetched). A CA revoked at or before that time fails the signature as its signer's
/// own revocation would; a CA whose status cannot be established is a note, not a verdict (D85: the roots' ARLs
/// are rarely embedded or reachable, and EN 319 102-1's full rule would leave every such signature TRY_LATER).
fn check_cas(
    evidence: &SignatureEvidence,
    chain: &[&ParsedCert],
    at: i64,
    time_stamped: bool,
    fetch: &dyn Fn(&FetchRequest<'_>) -> Result<Vec<u8>, String>,
    notes: &mut Vec<String>,
) -> Result<(), Failure> {
    // chain: signer, its CAs, the anchor; each CA below the anchor with the certificate that issued it.
    for pair in chain.windows(2).skip(1) {
        let [ca, issuer] = pair else { continue };
        let subject = ca.subject();
        let mut attempts = Vec::new();
        match revocation_status(evidence, ca, issuer, at, fetch, &mut attempts) {
            Status::Good { revoked_later: Some(later), .. } => notes.push(format!(
                "the CA {subject} was revoked at {}, after the signing time: the signature stands",
                hcpki_pkix::time::rfc3339(later)
            )),
            Status::Good { .. } => {}
            Status::Revoked { at: revoked, .. } => {
                let when = hcpki_pkix::time::rfc3339(revoked);
                let detail = format!(
                    "the CA {subject} on the signer's path was revoked at {when}, at or before the signing time {}: \
                     no certificate it issued can be trusted for this signature; ask the signer for a new signature \
                     under a valid CA",
                    hcpki_pkix::time::rfc3339(at)
                );
                let sub = if time_stamped { SubIndication::Revoked } else { SubIndication::RevokedNoPoe };
                return Err(Failure::new(sub, detail));
            }
            Status::Unknown(why) => notes.push(format!(
                "the revocation status of the CA {subject} at {} was not established ({why}): the verdict rests on \
                 the signer's own status; embed or publish the issuing root's ARL to have it checked",
                hcpki_pkix::time::rfc3339(at)
            )),
        }
    }
    Ok(())
}

fn require_non_repudiation(signer: &Certificate, subject: &str) -> Result<(), Failure> {
    match signer.tbs_certificate().get_extension::<KeyUsage>() {
        Ok(Some((_, usage))) if usage.non_repudiation() => Ok(()),
        _ => Err(Failure::new(
            SubIndication::ChainConstraintsFailure,
            format!(
                "the signer certificate {subject} is not a signature certificate (keyUsage has no nonRepudiation): \
                 an authentication certificate never signs documents; ask for a signature with the HPKI card's \
                 signature (署名用) key"
            ),
        )),
    }
}

/// The earliest genTime among `stamps` that checked and whose TSA chains to a TSA anchor at that time.
fn proven_time(stamps: &[TimeStampEvidence], trust: &SigningTrust, what: &str, notes: &mut Vec<String>) -> Option<i64> {
    valid_times(stamps, trust, what, notes).into_iter().min()
}

/// The latest genTime among the archive time stamps that checked and chain to a TSA anchor.
fn latest_time(stamps: &[TimeStampEvidence], trust: &SigningTrust, notes: &mut Vec<String>) -> Option<i64> {
    valid_times(stamps, trust, "archive", notes).into_iter().max()
}

fn valid_times(stamps: &[TimeStampEvidence], trust: &SigningTrust, what: &str, notes: &mut Vec<String>) -> Vec<i64> {
    let mut times = Vec::new();
    for stamp in stamps {
        match stamp {
            TimeStampEvidence::Broken(why) => {
                notes.push(format!("a {what} time stamp does not verify ({why}): ignored"))
            }
            TimeStampEvidence::Intact { gen_time, tsa, certificates } => {
                let Some(tsas) = &trust.tsas else {
                    notes.push(format!(
                        "a {what} time stamp was not checked: no TSA anchor is configured ([[signing.tsa]] roots)"
                    ));
                    continue;
                };
                let pool: Vec<&Certificate> = certificates.iter().collect();
                match tsas.validate(tsa, &pool, *gen_time) {
                    Ok(()) => times.push(*gen_time),
                    Err(e) => notes.push(format!("a {what} time stamp's TSA is not trusted ({e}): ignored")),
                }
            }
        }
    }
    times
}

fn path_failure(problem: PathProblem, subject: &str) -> Failure {
    match problem {
        PathProblem::NoIssuer { issuer } => Failure::new(
            SubIndication::NoCertificateChainFound,
            format!(
                "no path from {subject} to a configured signing anchor: no configured anchor or carried certificate \
                 is its issuer {issuer}; if you trust that CA, add its root to [signing] anchors"
            ),
        ),
        PathProblem::BadSignature { .. } => Failure::new(
            SubIndication::NoCertificateChainFound,
            format!(
                "no path from {subject} to a configured signing anchor: {problem} (a CA of the same name but another \
                 key); if you trust the signer's root, add it to [signing] anchors"
            ),
        ),
        PathProblem::CaOutOfValidity { .. } => Failure::new(
            SubIndication::OutOfBoundsNoPoe,
            format!("the path of {subject} has a CA outside its validity at the signing time: {problem}"),
        ),
        _ => Failure::new(SubIndication::ChainConstraintsFailure, format!("the path of {subject}: {problem}")),
    }
}

/// The signer certificate at the signing time: the time stamp's when there is one, else `now`.
fn check_validity(leaf: &ParsedCert, time_stamp: Option<i64>, now: i64, subject: &str) -> Result<(), Failure> {
    let (from, to) = leaf.validity();
    let validity = format!("valid from {} to {}", hcpki_pkix::time::rfc3339(from), hcpki_pkix::time::rfc3339(to));
    match time_stamp {
        Some(at) if at > to => Err(Failure::new(
            SubIndication::Expired,
            format!(
                "the signature's time stamp ({}) is after the end of the signer certificate {subject} ({validity}): it was made with an expired certificate",
                hcpki_pkix::time::rfc3339(at)
            ),
        )),
        Some(at) if at < from => Err(Failure::new(
            SubIndication::NotYetValid,
            format!(
                "the signature's time stamp ({}) is before the signer certificate {subject} was valid ({validity})",
                hcpki_pkix::time::rfc3339(at)
            ),
        )),
        Some(_) => Ok(()),
        None if now > to || now < from => Err(Failure::new(
            SubIndication::OutOfBoundsNoPoe,
            format!(
                "the signer certificate {subject} is not valid now ({validity}) and no time stamp proves the signature \
                 was made while it was: ask for time-stamped (B-T or higher) signatures"
            ),
        )),
        None => Ok(()),
    }
}

/// The signer's status at `at`: embedded data, then each CRL distribution point, then each OCSP responder.
fn revocation_status(
    evidence: &SignatureEvidence,
    leaf: &ParsedCert,
    issuer: &ParsedCert,
    at: i64,
    fetch: &dyn Fn(&FetchRequest<'_>) -> Result<Vec<u8>, String>,
    notes: &mut Vec<String>,
) -> Status {
    let embedded = revocation::status(leaf, issuer, at, (&evidence.crls, &evidence.ocsp_responses), true, notes);
    if !matches!(embedded, Status::Unknown(_)) {
        return embedded;
    }
    let mut last = embedded;
    for url in revocation::crl_urls(leaf) {
        match fetch(&FetchRequest::Crl { url: &url }) {
            Ok(crl) => {
                last = revocation::status(leaf, issuer, at, (&[crl], &[]), false, notes);
                if !matches!(last, Status::Unknown(_)) {
                    return last;
                }
            }
            Err(e) => notes.push(format!("cannot fetch the CRL {url}: {e}")),
        }
    }
    let Some(request) = revocation::ocsp_request(leaf, issuer) else { return last };
    for url in revocation::ocsp_urls(leaf) {
        match fetch(&FetchRequest::Ocsp { url: &url, request: &request }) {
            Ok(answer) => {
                last = revocation::status(leaf, issuer, at, (&[], &[answer]), false, notes);
                if !matches!(last, Status::Unknown(_)) {
                    return last;
                }
            }
            Err(e) => notes.push(format!("cannot ask the OCSP responder {url}: {e}")),
        }
    }
    last
}

fn passed_detail(report: &Report) -> String {
    let level = report.level.map_or("B-B", Level::name);
    match report.time_stamp {
        Some(at) => format!(
            "the signature is intact, its signer certificate chains to a configured anchor and was not revoked at the \
             time stamp's time {} (level {level})",
            hcpki_pkix::time::rfc3339(at)
        ),
        None => format!(
            "the signature is intact, its signer certificate chains to a configured anchor and is valid and not \
             revoked now (level {level}; no time stamp proves when it was made)"
        ),
    }
}

#[cfg(test)]
mod tests;
