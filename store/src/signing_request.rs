//! Signing requests from relying services (issue #27 item 3, D79–D80), as the store keeps them: a document a
//! service asked the physician to sign, and what became of it. What the fields mean (formats, levels, who may
//! see a request) is `server::signing_requests`'; the store only keeps and moves them.

/// The state of a request as stored. A pending request past its `expires_at` reads as expired to the server;
/// the row keeps `pending` (no writer has to run at the deadline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigningState {
    /// Waiting for the physician.
    Pending,
    /// Signed: `result` holds the signed document.
    Signed,
    /// The physician refused it on the page.
    Refused,
    /// The service withdrew it, or it could not be completed.
    Cancelled,
}

impl SigningState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Signed => "signed",
            Self::Refused => "refused",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parse a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Signed, Self::Refused, Self::Cancelled].into_iter().find(|s| s.as_str() == name)
    }
}

/// One signing request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningRequestRecord {
    /// Random id (256 bits, base64url): also what the page's and the status URL's paths carry.
    pub id: hcpki_model::SigningRequestId,
    /// The service (OIDC client) that asked.
    pub client_id: String,
    /// The person the access token's grant names (its session's person key).
    pub person_key: String,
    /// The grant the access token came from.
    pub grant_id: String,
    /// The pairwise `sub` the service knows the person by.
    pub sub: String,
    /// The format asked for (`cades`).
    pub format: String,
    /// The level asked for (`b-b`, `b-t`).
    pub level: String,
    /// The title the service gave the document (shown on the page).
    pub title: String,
    /// The document to sign.
    pub document: Vec<u8>,
    /// SHA-256 of `document`, lower-case hex.
    pub document_sha256: String,
    /// Where it stands.
    pub state: SigningState,
    /// The signed document (a detached `.p7s` for CAdES), once signed.
    pub result: Option<Vec<u8>>,
    /// SHA-256 (hex) of the signer certificate, once signed.
    pub signer_sha256: Option<String>,
    /// The signature time stamp's genTime (Unix seconds), once signed at B-T.
    pub gen_time: Option<i64>,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// The physician must sign before then.
    pub expires_at: i64,
    /// Why the last attempt failed (the request stays pending), or why it was refused or cancelled.
    pub error: Option<String>,
    /// How the card agent says the signature was authorised (canonical JSON: single PIN, session n of N, batch),
    /// once signed and when the page relayed it (migration 0042, D163).
    pub signature_mode: Option<String>,
}

/// How a pending request ends ([`crate::SigningRequests::signing_request_finish`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigningEnd {
    /// Signed.
    Signed {
        /// The signed document.
        result: Vec<u8>,
        /// SHA-256 (hex) of the signer certificate.
        signer_sha256: String,
        /// The signature time stamp's genTime, at B-T.
        gen_time: Option<i64>,
        /// How the card agent says it was authorised (canonical JSON), when the page relayed it.
        signature_mode: Option<String>,
    },
    /// Refused by the physician, or cancelled, with the reason.
    Closed {
        /// [`SigningState::Refused`] or [`SigningState::Cancelled`].
        state: SigningState,
        /// Why.
        reason: String,
    },
}
