//! CA certificate download on the plain-HTTP listener: the caIssuers URL in every certificate's authority
//! information access (RFC 5280 §4.2.2.1), `/ca/<ca>.crt` as DER (`application/pkix-cert`). After a rollover each
//! generation's at its own name, as its CRL's (D151): `/ca/pc.crt` the first's, `/ca/pc-g2.crt` the second's
//! (D160); a root generation's `/ca/root-g2.crt`.

use crate::app::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_ca::CaName;
use hcpki_ca::revocation::shard::CrlScope;
use std::str::FromStr;

/// `GET /ca/{file}`.
pub async fn download(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let parsed = file.strip_suffix(".crt").and_then(CrlScope::parse_name);
    let Some((ca, generation, None)) = parsed else { return not_found(&file) };
    let Ok(ca) = CaName::from_str(ca) else { return not_found(&file) };
    match state.admin.hierarchy().published_certificate(ca, generation) {
        Some(der) => (
            [(header::CONTENT_TYPE, "application/pkix-cert"), (header::CACHE_CONTROL, "public, max-age=3600")],
            der.to_vec(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            format!(
                "generation {generation} of the {ca} CA is not in service here (never made, or retired): \
                 `hcpki ca rollover {ca} status` shows its generations\n"
            ),
        )
            .into_response(),
    }
}

fn not_found(file: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!(
            "no CA certificate {file:?}: use /ca/<ca>.crt with ca = root, router, pc or server, or /ca/<ca>-g<n>.crt \
             for generation n of a rolled-over CA\n"
        ),
    )
        .into_response()
}
