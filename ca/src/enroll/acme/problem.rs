//! RFC 8555 §6.7 problem documents (RFC 7807): the one shape every ACME refusal takes.

use serde::Serialize;

/// The `urn:ietf:params:acme:error:*` types hcpki answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemType {
    /// The nonce is missing, unknown, used or expired: retry with the Replay-Nonce of this answer.
    BadNonce,
    /// The JWS algorithm or key type is not accepted.
    BadSignatureAlgorithm,
    /// The account key is not acceptable (size, encoding).
    BadPublicKey,
    /// The request does not parse or break a protocol rule.
    Malformed,
    /// The client may not do this (wrong MAC, not its order, deactivated account).
    Unauthorized,
    /// newAccount without External Account Binding.
    ExternalAccountRequired,
    /// No account for this key (`onlyReturnExisting`, unknown kid).
    AccountDoesNotExist,
    /// The CSR is wrong for the order.
    BadCsr,
    /// The CA will not issue for this identifier.
    RejectedIdentifier,
    /// Finalize before the order is ready.
    OrderNotReady,
    /// An identifier type the CA does not handle.
    UnsupportedIdentifier,
    /// The validation connection failed.
    Connection,
    /// The validation response was wrong.
    IncorrectResponse,
    /// The TLS handshake of tls-alpn-01 failed.
    Tls,
    /// The certificate to revoke is revoked already.
    AlreadyRevoked,
    /// A revocation reason that is not allowed.
    BadRevocationReason,
    /// Something on the CA side failed; retry later.
    ServerInternal,
}

impl ProblemType {
    /// The type URN's last part.
    pub fn name(self) -> &'static str {
        match self {
            Self::BadNonce => "badNonce",
            Self::BadSignatureAlgorithm => "badSignatureAlgorithm",
            Self::BadPublicKey => "badPublicKey",
            Self::Malformed => "malformed",
            Self::Unauthorized => "unauthorized",
            Self::ExternalAccountRequired => "externalAccountRequired",
            Self::AccountDoesNotExist => "accountDoesNotExist",
            Self::BadCsr => "badCSR",
            Self::RejectedIdentifier => "rejectedIdentifier",
            Self::OrderNotReady => "orderNotReady",
            Self::UnsupportedIdentifier => "unsupportedIdentifier",
            Self::Connection => "connection",
            Self::IncorrectResponse => "incorrectResponse",
            Self::Tls => "tls",
            Self::AlreadyRevoked => "alreadyRevoked",
            Self::BadRevocationReason => "badRevocationReason",
            Self::ServerInternal => "serverInternal",
        }
    }

    /// The HTTP status it travels with.
    pub fn status(self) -> u16 {
        match self {
            Self::Unauthorized => 403,
            Self::AccountDoesNotExist => 400,
            Self::ServerInternal => 500,
            _ => 400,
        }
    }
}

/// A problem document: what went wrong, said so the client's operator can act on it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} ({detail})", kind.name())]
pub struct Problem {
    /// The type.
    pub kind: ProblemType,
    /// The human-readable detail.
    pub detail: String,
    /// The HTTP status (usually the type's; 413 for oversize bodies, 415 for a wrong content type, 409 for a
    /// key-change to a key another account has, 404 for unknown resources).
    pub status: u16,
}

/// The JSON form (`application/problem+json`).
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "type")]
    kind: String,
    detail: &'a str,
    status: u16,
}

macro_rules! constructors {
    ($($name:ident => $kind:ident),+ $(,)?) => {
        impl Problem {
            $(
                #[doc = concat!("A `", stringify!($kind), "` problem.")]
                pub fn $name(detail: impl Into<String>) -> Self {
                    Self::new(ProblemType::$kind, detail)
                }
            )+
        }
    };
}

constructors! {
    bad_nonce => BadNonce,
    bad_signature_algorithm => BadSignatureAlgorithm,
    bad_public_key => BadPublicKey,
    malformed => Malformed,
    unauthorized => Unauthorized,
    external_account_required => ExternalAccountRequired,
    account_does_not_exist => AccountDoesNotExist,
    bad_csr => BadCsr,
    rejected_identifier => RejectedIdentifier,
    order_not_ready => OrderNotReady,
    unsupported_identifier => UnsupportedIdentifier,
    connection => Connection,
    incorrect_response => IncorrectResponse,
    tls => Tls,
    already_revoked => AlreadyRevoked,
    bad_revocation_reason => BadRevocationReason,
    server_internal => ServerInternal,
}

impl Problem {
    /// A problem with its type's usual status.
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self { kind, detail: detail.into(), status: kind.status() }
    }

    /// The same problem with another HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// A resource that does not exist (404, malformed).
    pub fn not_found(what: &str) -> Self {
        Self::malformed(format!("no such {what}")).with_status(404)
    }

    /// The full type URN.
    pub fn type_urn(&self) -> String {
        format!("urn:ietf:params:acme:error:{}", self.kind.name())
    }

    /// The JSON document.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(Document { kind: self.type_urn(), detail: &self.detail, status: self.status })
            .unwrap_or(serde_json::Value::Null)
    }
}

impl From<crate::enroll::EnrollError> for Problem {
    fn from(e: crate::enroll::EnrollError) -> Self {
        use crate::enroll::EnrollError as E;
        match e {
            E::Unauthenticated(d) | E::Forbidden(d) => Self::unauthorized(d),
            E::BadRequest(d) => Self::malformed(d),
            E::TooLarge(d) => Self::malformed(d).with_status(413),
            // RFC 8555 has no type for a halted CA or one whose signing device is away; serverInternal with 503
            // says "not you, retry later" (and the front end adds Retry-After).
            E::Halted(d) | E::Unavailable(d) => Self::server_internal(d).with_status(503),
        }
    }
}
