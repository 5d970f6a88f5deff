//! Why one TSA gave no usable token. Each message says what is wrong and what to do; the list records one per
//! TSA tried.

/// Why a TSA's answer was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StampError {
    /// The request could not be encoded (cannot happen with a 32-octet digest).
    #[error("cannot encode the time-stamp request ({0}): report this as a bug")]
    Encode(der::Error),
    /// The system's random generator failed.
    #[error("the random generator failed while making the request's nonce: check the host's entropy source")]
    Random,
    /// The TSA could not be reached or answered with something other than HTTP 200.
    #[error("no answer: {0}: check the URL, the network and whether the TSA is up; the next TSA is tried")]
    Transport(String),
    /// The body is not a BER `TimeStampResp`.
    #[error("the answer is not an RFC 3161 TimeStampResp ({0}): check that the URL is the TSA's RFC 3161 endpoint")]
    Malformed(String),
    /// The TSA refused.
    #[error("the TSA refused the request (status {status}{text}{fail}): see the TSA's documentation for the reason")]
    Refused {
        /// PKIStatus (2 rejection, 3 waiting, …).
        status: u8,
        /// statusString, prefixed ": " when present.
        text: String,
        /// failInfo bit numbers, prefixed ", failInfo bits " when present.
        fail: String,
    },
    /// Status granted but no token.
    #[error("the TSA granted the request but sent no token: the TSA is broken; tell its operator")]
    NoToken,
    /// The token is not a SignedData over a TSTInfo, or a part of it does not decode.
    #[error(
        "the token is not an RFC 3161 time-stamp token: {0}; check that the URL is an RFC 3161 TSA, else tell its \
         operator"
    )]
    NotAToken(String),
    /// The token's signer certificate is not in it, though the request asked for it (certReq).
    #[error(
        "the token does not carry the TSA certificate its SignerInfo names, though certReq asked for it: the TSA is \
         not RFC 3161 §2.4.1 compliant; tell its operator"
    )]
    NoCertificate,
    /// The signed attributes or the signature are wrong.
    #[error("the token's signature does not check out: {0}; the answer was altered on the way or the TSA is broken")]
    BadSignature(String),
    /// The ESS signingCertificate(V2) attribute is missing or names another certificate.
    #[error(
        "the token's ESS signing-certificate binding is wrong: {0}; do not use this TSA until its operator fixes it"
    )]
    Binding(String),
    /// The signer certificate is no TSA certificate.
    #[error(
        "the token is signed with {subject}, which is not a TSA certificate: {reason}; do not use this TSA until its \
         operator fixes its certificate"
    )]
    NotTsaCertificate {
        /// The certificate's subject.
        subject: String,
        /// What it lacks.
        reason: String,
    },
    /// The TSA certificate does not chain to the roots configured for this TSA.
    #[error(
        "the TSA certificate {subject} does not chain to the roots configured for this TSA ({reason}): put the \
         TSA's root (or its issuing CA) in this entry's roots if you trust it"
    )]
    Untrusted {
        /// The TSA certificate's subject.
        subject: String,
        /// Why no path was found.
        reason: String,
    },
    /// The token is for another digest.
    #[error("the token's messageImprint is not the one sent: the TSA stamped something else; do not use it")]
    ImprintMismatch,
    /// The token repeats another nonce (or none).
    #[error("the token's nonce is not the one sent: a replayed or mixed-up answer; do not use it")]
    NonceMismatch,
    /// The token names another policy than the configured one.
    #[error(
        "the token names TSA policy {got}, but this TSA is configured with policy {want}: correct `policy` if the \
         TSA changed its policy, else do not use this TSA"
    )]
    PolicyMismatch {
        /// The token's policy.
        got: String,
        /// The configured one.
        want: String,
    },
    /// genTime is too far from this host's clock.
    #[error(
        "the token's genTime {gen_time} is {skew} s away from this host's clock: check the TSA's clock and this \
         host's (NTP)"
    )]
    ClockSkew {
        /// genTime, RFC 3339.
        gen_time: String,
        /// Seconds between them.
        skew: i64,
    },
}
