//! The admin API's one error shape: `{"error": "...", "detail": "what to do"}` with its HTTP status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_ca::access::Denial;
use hcpki_ca::enroll::credential::CredentialError;
use hcpki_ca::store::StoreError;
use hcpki_ca::{AuthorityError, FacilityRefusal, RegistryError, RevocationError, SigningError};
use hcpki_sso::oidc::registration::RegistrationError;

/// An admin API error: status, a short statement of what went wrong, and what to do.
#[derive(Clone, Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, briefly.
    pub error: String,
    /// The full reason and what to do.
    pub detail: String,
    /// Seconds for `Retry-After`, when the refusal is for a while (issuance halted, D135).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// Any status, with what went wrong and what to do.
    pub fn new(status: StatusCode, error: &str, detail: impl Into<String>) -> Self {
        Self { status, error: error.to_owned(), detail: detail.into(), retry_after: None }
    }

    /// 400: the request is malformed.
    pub fn bad_request(error: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, detail)
    }

    /// 403.
    pub fn forbidden(error: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, error, detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found", detail)
    }

    /// 413.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
            format!("admin API requests are at most {limit} bytes of JSON"),
        )
    }

    /// 415: POSTs must be JSON (also the CSRF rule).
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST requests must be JSON",
            "send the body with Content-Type: application/json",
        )
    }

    /// 503: the CA's own trouble; logged whole, the caller only learns to retry.
    pub fn unavailable(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "admin request failed on the CA side");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "the CA cannot serve this request now", "retry later")
    }
}

impl From<Denial> for ApiError {
    fn from(d: Denial) -> Self {
        match d {
            Denial::Unauthenticated(why) => {
                Self::new(StatusCode::UNAUTHORIZED, "authentication required", why.to_string())
            }
            Denial::Forbidden(why) => Self::new(StatusCode::FORBIDDEN, "forbidden", why.to_string()),
            other => Self::new(StatusCode::FORBIDDEN, "forbidden", other.to_string()),
        }
    }
}

impl From<AuthorityError> for ApiError {
    /// The caller's mistakes keep their message (it says what to do); the CA's trouble becomes 503.
    fn from(e: AuthorityError) -> Self {
        match e {
            AuthorityError::Registry(e) => e.into(),
            AuthorityError::Signing(e) => e.into(),
            AuthorityError::Revocation(e) => e.into(),
            AuthorityError::Store(e) => Self::store(e),
            other => Self::unavailable(other),
        }
    }
}

impl From<RegistryError> for ApiError {
    /// The caller's mistakes keep their message (it says what to do); the CA's trouble becomes 503.
    fn from(e: RegistryError) -> Self {
        let detail = e.to_string();
        match e {
            RegistryError::Facility(FacilityRefusal::Unknown(_))
            | RegistryError::Credential(CredentialError::Unknown(_)) => Self::not_found(detail),
            RegistryError::Facility(FacilityRefusal::State { .. }) => {
                Self::new(StatusCode::CONFLICT, "conflict", detail)
            }
            RegistryError::Store(e) => Self::store(e),
            RegistryError::Credential(_)
            | RegistryError::Facility(FacilityRefusal::Id(_))
            | RegistryError::ConsoleGrant(_)
            | RegistryError::Allocation(_)
            | RegistryError::NotOneAddress(_)
            | RegistryError::SecurityOfficer(_)
            | RegistryError::PasskeyRule(_)
            | RegistryError::SigningLimit(_)
            | RegistryError::Vetting(_)
            | RegistryError::RegisterFile(_) => Self::bad_request("bad request", detail),
            RegistryError::NoMedicalCode(_) | RegistryError::NothingOverdue(_) => {
                Self::new(StatusCode::CONFLICT, "conflict", detail)
            }
            RegistryError::Ra(hcpki_ca::ra::RaError::Unknown(_)) => Self::not_found(detail),
            RegistryError::Ra(hcpki_ca::ra::RaError::Exists(_)) => Self::new(StatusCode::CONFLICT, "conflict", detail),
            RegistryError::Ra(_) => Self::bad_request("bad request", detail),
            other => Self::unavailable(other),
        }
    }
}

impl From<SigningError> for ApiError {
    /// The caller's mistakes keep their message (it says what to do); the CA's trouble becomes 503.
    fn from(e: SigningError) -> Self {
        let detail = e.to_string();
        match e {
            SigningError::Facility(FacilityRefusal::Unknown(_)) => Self::not_found(detail),
            SigningError::Facility(FacilityRefusal::State { .. }) => {
                Self::new(StatusCode::CONFLICT, "conflict", detail)
            }
            SigningError::Store(e) => Self::store(e),
            SigningError::Halted { .. } => Self {
                retry_after: Some(hcpki_ca::halt::RETRY_AFTER_SECS),
                ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "issuance is halted by the operators", detail)
            },
            // The register's refusal names what the facility's administrator must do (D174); its store trouble
            // is the CA's.
            SigningError::Router(r) => match *r {
                hcpki_ca::router_register::RegisterError::Store(e) => Self::store(e),
                _ => Self::new(StatusCode::FORBIDDEN, "router not in the register", detail),
            },
            SigningError::Facility(FacilityRefusal::Id(_)) | SigningError::Profile(_) | SigningError::Csr(_) => {
                Self::bad_request("bad request", detail)
            }
            other => Self::unavailable(other),
        }
    }
}

impl From<RevocationError> for ApiError {
    /// The caller's mistakes keep their message (it says what to do); the CA's trouble becomes 503.
    fn from(e: RevocationError) -> Self {
        match e {
            RevocationError::NotRevocable(_) => Self::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            RevocationError::Store(e) => Self::store(e),
            other => Self::unavailable(other),
        }
    }
}

impl ApiError {
    /// A store error reached through the authority: its refusals keep their message, the database's trouble
    /// becomes 503.
    fn store(e: StoreError) -> Self {
        let detail = e.to_string();
        match e {
            StoreError::UnknownAllocation { .. } => Self::not_found(detail),
            StoreError::Transition(_)
            | StoreError::FacilityState { .. }
            | StoreError::DuplicateMedicalCode { .. }
            | StoreError::AllocationHeld { .. }
            | StoreError::VettingMissing { .. } => Self::new(StatusCode::CONFLICT, "conflict", detail),
            other => Self::unavailable(other),
        }
    }
}

impl From<RegistrationError> for ApiError {
    fn from(e: RegistrationError) -> Self {
        Self::from(&e)
    }
}

impl From<&RegistrationError> for ApiError {
    /// The operator's mistakes keep their message; the database's trouble becomes 503.
    fn from(e: &RegistrationError) -> Self {
        let detail = e.to_string();
        match e {
            RegistrationError::Exists(_) => Self::new(StatusCode::CONFLICT, "conflict", detail),
            RegistrationError::Unknown(_) => Self::not_found(detail),
            RegistrationError::Store(_) | RegistrationError::Damaged { .. } => Self::unavailable(detail),
            _ => Self::bad_request("invalid registration", detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(serde_json::json!({ "error": self.error, "detail": self.detail }))).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"hcpki admin\""));
        }
        response
    }
}
