//! How a device without an enrollment client collects a certificate, a re-issued successor in particular
//! (D38): its facility admin downloads it from the devices page as a PEM chain (the certificate, then its
//! issuing CA) or a certs-only PKCS#7 (`.p7c`, RFC 5652 degenerate SignedData, as EST returns). Who may is the
//! certificate listing's own decision (`app::operations::certificate`): operators, auditors, and the admin of
//! the certificate's facility only.

use super::problem::Problem;
use super::{OrPage, Viewer};
use crate::app::AppState;
use crate::app::api_error::ApiError;
use crate::app::operations;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_ca::issuer::der_to_pem;
use maud::{Markup, html};
use serde::Deserialize;

/// The query of [`download`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadQuery {
    /// `pem` (default) or `p7c`.
    format: Option<String>,
}

/// `GET /console/certificates/{serial}/download?format=pem|p7c`.
pub async fn download(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(serial): Path<String>,
    Query(q): Query<DownloadQuery>,
) -> Result<Response, Response> {
    let c = operations::certificate(&state, &viewer.caller, &serial)
        .await
        .or_missing(&viewer, Problem::NoSuchCertificate)?;
    let issuing = state.admin.ca_certificate(c.ca).ok();
    let (Some(der), Some(issuing)) = (c.der.as_ref(), issuing) else {
        let e = ApiError::not_found(format!("certificate {serial} has not been issued: nothing to download"));
        return Err(viewer.refused(Problem::NotIssued, "admin.certificate.read", &serial, e).await);
    };
    let name = c.serial.clone();
    match q.format.as_deref().unwrap_or("pem") {
        "pem" => {
            let pem = format!("{}{}", der_to_pem("CERTIFICATE", der), der_to_pem("CERTIFICATE", issuing));
            Ok(attachment("application/pem-certificate-chain", &format!("{name}.pem"), pem.into_bytes()))
        }
        "p7c" => match hcpki_ca::enroll::certs_only(&[der.clone(), issuing.to_vec()]) {
            Ok(p7) => Ok(attachment("application/pkcs7-mime; smime-type=certs-only", &format!("{name}.p7c"), p7)),
            Err(e) => {
                tracing::error!(error = %e, serial, "cannot encode PKCS#7");
                Err(viewer.refusal(Problem::Unavailable))
            }
        },
        other => {
            let e = ApiError::bad_request("invalid format", format!("format {other:?}: use pem or p7c"));
            Err(viewer.refused(Problem::UnknownOperation, "admin.certificate.read", &serial, e).await)
        }
    }
}

/// The download links of an issued certificate, for the devices page and the job page.
pub fn links(serial: &str) -> Markup {
    html! {
        " " a href={ "/console/certificates/" (serial) "/download?format=pem" } { "PEM" }
        " " a href={ "/console/certificates/" (serial) "/download?format=p7c" } { "PKCS#7" }
    }
}

pub(super) fn attachment(content_type: &'static str, filename: &str, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        body,
    )
        .into_response()
}
