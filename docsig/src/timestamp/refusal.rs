//! Why a time-stamp request is refused, and the `PKIFailureInfo` bit that says so to the client.

/// RFC 3161 §2.4.2:
///
/// ```text
/// PKIFailureInfo ::= BIT STRING {
///     badAlg               (0),
///     badRequest           (2),
///     badDataFormat        (5),
///     timeNotAvailable    (14),
///     unacceptedPolicy    (15),
///     unacceptedExtension (16),
///     addInfoNotAvailable (17),
///     systemFailure       (25)  }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailInfo {
    /// Unrecognized or unsupported algorithm identifier.
    BadAlg,
    /// Transaction not permitted or supported.
    BadRequest,
    /// The data submitted has the wrong format.
    BadDataFormat,
    /// The requested TSA policy is not supported by the TSA.
    UnacceptedPolicy,
    /// The requested extension is not supported by the TSA.
    UnacceptedExtension,
    /// The request cannot be handled due to system failure.
    SystemFailure,
}

impl FailInfo {
    /// The bit's number in `PKIFailureInfo`.
    pub fn bit(self) -> u8 {
        match self {
            Self::BadAlg => 0,
            Self::BadRequest => 2,
            Self::BadDataFormat => 5,
            Self::UnacceptedPolicy => 15,
            Self::UnacceptedExtension => 16,
            Self::SystemFailure => 25,
        }
    }

    /// RFC 3161's name of the bit (for logs and metrics).
    pub fn name(self) -> &'static str {
        match self {
            Self::BadAlg => "badAlg",
            Self::BadRequest => "badRequest",
            Self::BadDataFormat => "badDataFormat",
            Self::UnacceptedPolicy => "unacceptedPolicy",
            Self::UnacceptedExtension => "unacceptedExtension",
            Self::SystemFailure => "systemFailure",
        }
    }
}

/// Why a request gets no time stamp. The text goes to the client as the answer's statusString.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The request is not a DER `TimeStampReq` (garbage, truncated, trailing bytes, non-DER encodings), or its
    /// hashedMessage is not as long as its hash algorithm's digests.
    #[error("{0}")]
    BadDataFormat(String),
    /// A field holds a value RFC 3161 does not allow (a version other than 1).
    #[error("{0}")]
    BadRequest(String),
    /// The hash algorithm is not SHA-256, SHA-384 or SHA-512.
    #[error("{0}")]
    BadAlg(String),
    /// The request asks for another TSA policy than this authority's.
    #[error("policy {asked} is not this TSA's: ask for {ours} or for none")]
    UnacceptedPolicy {
        /// The policy asked for.
        asked: String,
        /// This TSA's policy.
        ours: String,
    },
    /// The request carries extensions, which this TSA does not support.
    #[error("request extensions are not supported: send the request without extensions")]
    UnacceptedExtension,
    /// The TSA could not sign (its key failed); nothing is wrong with the request.
    #[error("the time-stamping authority cannot sign now: try again later or use another TSA")]
    SystemFailure,
}

impl Refusal {
    /// The failure bit the answer carries.
    pub fn fail_info(&self) -> FailInfo {
        match self {
            Self::BadDataFormat(_) => FailInfo::BadDataFormat,
            Self::BadRequest(_) => FailInfo::BadRequest,
            Self::BadAlg(_) => FailInfo::BadAlg,
            Self::UnacceptedPolicy { .. } => FailInfo::UnacceptedPolicy,
            Self::UnacceptedExtension => FailInfo::UnacceptedExtension,
            Self::SystemFailure => FailInfo::SystemFailure,
        }
    }
}
