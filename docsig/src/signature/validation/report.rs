//! What the verifier concludes: an ETSI EN 319 102-1 §5.1.3 indication with its sub-indication, and what was
//! found on the way (signer, hcRole, level, the time stamp's time).

// The baseline level is the one `hcpki-model` defines (D121): what the card agent and signing requests name too.
pub use hcpki_model::signature::Level;
use x509_cert::Certificate;

/// The main status indication (EN 319 102-1 §5.1.3, table 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Indication {
    /// Every check passed.
    Passed,
    /// Something is missing to conclude (a chain, revocation data, proof of existence): more evidence may
    /// change the answer.
    Indeterminate,
    /// The signature is broken or was made when it could no longer be made (revoked, expired): final.
    Failed,
}

impl Indication {
    /// `PASSED`, `INDETERMINATE`, `FAILED`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Passed => "PASSED",
            Self::Indeterminate => "INDETERMINATE",
            Self::Failed => "FAILED",
        }
    }
}

/// Why a signature did not pass (EN 319 102-1 §5.1.3, table 5), the sub-indications hcpki gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum SubIndication {
    /// The signature is not a well-formed signature of its format (garbage, truncated, a required attribute
    /// missing).
    FormatFailure,
    /// The signed data's digest differs from the one signed: the document was changed or is another one.
    HashFailure,
    /// The signature value does not verify with the signer's key: the signed attributes were changed.
    SigCryptoFailure,
    /// The signing certificate was revoked before the time the signature is proven to have existed.
    Revoked,
    /// The signature is proven to have been made after the signing certificate expired.
    Expired,
    /// The signature is proven to have been made before the signing certificate's validity began.
    NotYetValid,
    /// A certificate breaks a constraint: the signer certificate is not for signatures (no nonRepudiation, an
    /// authentication certificate), or a CA on the path breaks its constraints. hcpki treats this as FAILED: no
    /// later evidence makes an authentication certificate a signature certificate (EN 319 102-1 lists it under
    /// INDETERMINATE; decision D73).
    ChainConstraintsFailure,
    /// The signing certificate the signature names is not in it, or its signing-certificate attribute names
    /// another certificate.
    NoSigningCertificateFound,
    /// The signature checks but what it comes in breaks the verifier's constraints: a PDF going on after its
    /// last revision with bytes no signature covers (decision D113). The file as it was signed may pass.
    SigConstraintsFailure,
    /// No path from the signer certificate to a configured anchor (unknown root, missing CA certificate).
    NoCertificateChainFound,
    /// The signing certificate is revoked and no time stamp proves the signature existed before that.
    RevokedNoPoe,
    /// The signing certificate (or a CA) is outside its validity at the validation time, and no time stamp
    /// proves the signature existed while it was valid.
    OutOfBoundsNoPoe,
    /// No revocation data covering the signing time could be found (none embedded, none fetched, or only older
    /// data): try later, or embed validation data (B-LT).
    TryLater,
}

impl SubIndication {
    /// The indication this sub-indication belongs to.
    pub fn indication(self) -> Indication {
        match self {
            Self::FormatFailure
            | Self::HashFailure
            | Self::SigCryptoFailure
            | Self::Revoked
            | Self::Expired
            | Self::NotYetValid
            | Self::ChainConstraintsFailure => Indication::Failed,
            Self::SigConstraintsFailure
            | Self::NoSigningCertificateFound
            | Self::NoCertificateChainFound
            | Self::RevokedNoPoe
            | Self::OutOfBoundsNoPoe
            | Self::TryLater => Indication::Indeterminate,
        }
    }

    /// ETSI's name: `HASH_FAILURE`, …
    pub fn name(self) -> &'static str {
        match self {
            Self::FormatFailure => "FORMAT_FAILURE",
            Self::HashFailure => "HASH_FAILURE",
            Self::SigCryptoFailure => "SIG_CRYPTO_FAILURE",
            Self::Revoked => "REVOKED",
            Self::Expired => "EXPIRED",
            Self::NotYetValid => "NOT_YET_VALID",
            Self::ChainConstraintsFailure => "CHAIN_CONSTRAINTS_FAILURE",
            Self::SigConstraintsFailure => "SIG_CONSTRAINTS_FAILURE",
            Self::NoSigningCertificateFound => "NO_SIGNING_CERTIFICATE_FOUND",
            Self::NoCertificateChainFound => "NO_CERTIFICATE_CHAIN_FOUND",
            Self::RevokedNoPoe => "REVOKED_NO_POE",
            Self::OutOfBoundsNoPoe => "OUT_OF_BOUNDS_NO_POE",
            Self::TryLater => "TRY_LATER",
        }
    }
}

/// A reason not to pass, with the words that say what happened and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The sub-indication.
    pub sub_indication: SubIndication,
    /// What happened and what to do.
    pub detail: String,
}

impl Failure {
    /// `sub_indication` because of `detail`.
    pub fn new(sub_indication: SubIndication, detail: impl Into<String>) -> Self {
        Self { sub_indication, detail: detail.into() }
    }
}

/// Where the signer's revocation status came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationSource {
    /// A CRL embedded in the signature.
    EmbeddedCrl,
    /// An OCSP response embedded in the signature.
    EmbeddedOcsp,
    /// A CRL fetched from the certificate's CRL distribution point.
    FetchedCrl,
    /// An OCSP response fetched from the certificate's OCSP responder.
    FetchedOcsp,
}

impl RevocationSource {
    /// Whether the data travels in the signature (what B-LT requires).
    pub fn embedded(self) -> bool {
        matches!(self, Self::EmbeddedCrl | Self::EmbeddedOcsp)
    }
}

/// The verifier's conclusion.
#[derive(Clone, Debug)]
pub struct Report {
    /// PASSED, INDETERMINATE or FAILED.
    pub indication: Indication,
    /// Why not PASSED (none when PASSED).
    pub sub_indication: Option<SubIndication>,
    /// What happened and, when not PASSED, what to do.
    pub detail: String,
    /// The signer certificate, when the signature names one that was found.
    pub signer: Option<Certificate>,
    /// The hcRole texts the signer certificate carries (JHPKI scheme), as written in it.
    pub hc_roles: Vec<String>,
    /// The best level reached with valid evidence (none when the signature itself is broken).
    pub level: Option<Level>,
    /// genTime of the earliest valid signature time stamp: the time the signature is proven to have existed.
    pub time_stamp: Option<i64>,
    /// genTime of the latest valid archive time stamp.
    pub archive_time_stamp: Option<i64>,
    /// Where the signer's revocation status came from.
    pub revocation: Option<RevocationSource>,
    /// Evidence that was present but did not count (a broken time stamp, an unusable CRL), in words.
    pub notes: Vec<String>,
}

impl Report {
    /// A report that stops at `failure`.
    pub fn stopped(failure: Failure, signer: Option<Certificate>) -> Self {
        Self {
            indication: failure.sub_indication.indication(),
            sub_indication: Some(failure.sub_indication),
            detail: failure.detail,
            signer,
            hc_roles: Vec::new(),
            level: None,
            time_stamp: None,
            archive_time_stamp: None,
            revocation: None,
            notes: Vec::new(),
        }
    }

    /// `PASSED`, or `INDETERMINATE/TRY_LATER`-style: the indication and sub-indication in ETSI's words.
    pub fn verdict(&self) -> String {
        match self.sub_indication {
            Some(sub) => format!("{}/{}", self.indication.name(), sub.name()),
            None => self.indication.name().to_owned(),
        }
    }
}
