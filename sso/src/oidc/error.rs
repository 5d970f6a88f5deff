//! The one error shape of the provider's back-channel endpoints (RFC 6749 §5.2) and its status: a leaf that
//! every core of the provider reports through, below the provider itself.

use hcpki_ca::store::StoreError;

/// The HTTP status of an [`OAuthError`], without the HTTP crate: the core names the kind of failure, the
/// adapter the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorStatus {
    /// 400: the request is wrong.
    BadRequest,
    /// 401: the client did not authenticate.
    Unauthorized,
    /// 403: authenticated, but not allowed this (a signing request for a person who cannot sign).
    Forbidden,
    /// 404: no such resource for this client (a signing request).
    NotFound,
    /// 409: the resource is in a state that forbids this (a consent already live).
    Conflict,
    /// 413: the request body is over the endpoint's limit.
    PayloadTooLarge,
    /// 500: ours.
    Server,
    /// 503: the database is unavailable now.
    Unavailable,
}

impl ErrorStatus {
    /// The status code.
    pub fn code(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::Server => 500,
            Self::Unavailable => 503,
        }
    }

    /// A failure of the provider (5xx), logged rather than audited.
    pub fn is_server_error(self) -> bool {
        matches!(self, Self::Server | Self::Unavailable)
    }
}

/// An OAuth error response (RFC 6749 §5.2), the one shape every back-channel endpoint refuses with.
#[derive(Debug)]
pub struct OAuthError {
    /// The HTTP status it is answered with (mapped at the edge, `server::http::oidc`).
    pub status: ErrorStatus,
    /// `error`.
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
}

impl OAuthError {
    /// 400 with `error`.
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self { status: ErrorStatus::BadRequest, error, description: description.into() }
    }

    /// 401 `invalid_client`.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self { status: ErrorStatus::Unauthorized, error: "invalid_client", description: description.into() }
    }

    /// 400 `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }

    /// 400 `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    /// 500 `server_error`; the cause is logged, the client learns only that it is ours.
    pub fn server(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "OIDC provider failure");
        Self::server_logged()
    }

    /// [`OAuthError::server`] for a cause logged already (one failure answered to many requests).
    pub fn server_logged() -> Self {
        Self {
            status: ErrorStatus::Server,
            error: "server_error",
            description: "the provider cannot answer now; retry later".into(),
        }
    }

    /// 503 `temporarily_unavailable` (RFC 6749 §4.1.2.1; the token endpoint answers it too, with the status
    /// saying the same): the database cannot be reached or written now (down, disk full, read-only). The cause
    /// is logged; the client learns that the same request may succeed later.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "OIDC provider: the database is unavailable");
        Self::unavailable_logged()
    }

    /// [`OAuthError::unavailable`] for a cause logged already.
    pub fn unavailable_logged() -> Self {
        Self {
            status: ErrorStatus::Unavailable,
            error: "temporarily_unavailable",
            description: "the provider cannot answer now (its database is unavailable); retry later".into(),
        }
    }

    /// A token that could not be signed: 503 `temporarily_unavailable` when the signing device cannot be reached
    /// now (D154), [`OAuthError::server`] for anything else. The cause is logged.
    pub fn signing(e: super::jws::JwsError) -> Self {
        match e {
            super::jws::JwsError::DeviceUnavailable(_) => {
                tracing::error!(error = %e, "OIDC provider: the signing device is unavailable");
                Self {
                    status: ErrorStatus::Unavailable,
                    error: "temporarily_unavailable",
                    description: "the provider cannot sign now (its signing device is unavailable); retry later".into(),
                }
            }
            e => Self::server(e),
        }
    }

    /// A store failure: [`OAuthError::unavailable`] when the database is unavailable, [`OAuthError::server`]
    /// for anything else.
    pub fn store(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Self::unavailable(e),
            e => Self::server(e),
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        Self::store(e)
    }
}

impl From<crate::session::SessionError> for OAuthError {
    fn from(e: crate::session::SessionError) -> Self {
        match e {
            crate::session::SessionError::Store(e) => Self::store(e),
            e => Self::server(e),
        }
    }
}

impl From<crate::catalog::CatalogError> for OAuthError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        match e {
            crate::catalog::CatalogError::Store(e) => Self::store(e),
            e => Self::server(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The database being unavailable (down, full, read-only) is a 503 the client may retry; anything else the
    /// store reports stays a 500.
    #[test]
    fn a_signing_device_away_is_a_503_and_other_signing_failures_a_500() {
        use super::super::jws::JwsError;
        let away = OAuthError::signing(JwsError::DeviceUnavailable("token \"hcpki\" away".into()));
        assert_eq!((away.status.code(), away.error), (503, "temporarily_unavailable"));
        assert!(
            away.description.contains("retry later") && !away.description.contains("hcpki"),
            "{}",
            away.description
        );
        let broken = OAuthError::signing(JwsError::Sign("C_Sign: KeyFunctionNotPermitted".into()));
        assert_eq!((broken.status.code(), broken.error), (500, "server_error"));
    }

    #[test]
    fn an_unavailable_database_is_a_503_and_other_store_failures_a_500() {
        let down = OAuthError::store(StoreError::Unavailable("disk full".into()));
        assert_eq!((down.status.code(), down.error), (503, "temporarily_unavailable"));
        assert!(down.description.contains("retry later"), "{}", down.description);
        let broken = OAuthError::store(StoreError::Database("no such table".into()));
        assert_eq!((broken.status.code(), broken.error), (500, "server_error"));
    }
}
