//! CRL download on the plain-HTTP listener (the URL in every certificate's CRL distribution point):
//! `/crl/<ca>.crl` (DER, `application/pkix-crl`) and `/crl/<ca>.pem`, and the PC CA's shard CRLs at
//! `/crl/pc-<k>.crl` and `/crl/pc-<k>.pem` (D20); after a CA's rollover, each generation's at its own name
//! (`/crl/pc.crl` the first's, `/crl/pc-g2.crl` the second's, D151). Served from the authority's CRL cache
//! (`hcpki_ca::revocation::publish`), with a strong `ETag`, `Last-Modified` = thisUpdate and a `max-age` that
//! ends when this server would re-sign, so caches and CDNs in front of it stay correct.

use crate::app::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_ca::issuer::der_to_pem;
use hcpki_ca::revocation::shard::CrlScope;
use hcpki_ca::{CaName, RevocationError};
use std::str::FromStr;

/// `GET /crl/{file}`.
pub async fn download(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let (name, pem) = match (file.strip_suffix(".crl"), file.strip_suffix(".pem")) {
        (Some(n), _) => (n, false),
        (_, Some(n)) => (n, true),
        _ => return not_found(&file),
    };
    let Some((ca, generation, shard)) = CrlScope::parse_name(name) else { return not_found(&file) };
    let Ok(ca) = CaName::from_str(ca) else { return not_found(&file) };
    let scope = match state.admin.revoker().crl_scope(ca, generation, shard).await {
        Ok(scope) => scope,
        Err(RevocationError::Shard(e)) => return (StatusCode::NOT_FOUND, format!("{e}\n")).into_response(),
        Err(e) => return unavailable(&e, name),
    };
    let published = match state.admin.revoker().published_crl(scope).await {
        Ok(p) => p,
        Err(e) => return unavailable(&e, name),
    };
    let now = state.clock.now();
    let etag = format!("\"{}{}\"", published.etag, if pem { "-pem" } else { "" });
    let last_modified = http_date(published.this_update);
    let mut response = if not_modified(&headers, &etag, published.this_update) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if pem {
        ([(header::CONTENT_TYPE, "application/x-pem-file")], der_to_pem("X509 CRL", &published.der)).into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/pkix-crl")], published.der.clone()).into_response()
    };
    let h = response.headers_mut();
    for (name, value) in [
        (header::ETAG, etag),
        (header::LAST_MODIFIED, last_modified),
        (header::CACHE_CONTROL, format!("public, max-age={}, no-transform", published.max_age(now))),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    response
}

fn not_found(file: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!(
            "no CRL {file:?}: use /crl/<ca>.crl or /crl/<ca>.pem with ca = root, router, pc or server, or \
             /crl/pc-<k>.crl for a shard of the pc CA's partitioned CRL, /crl/<ca>-g<n>.crl for generation n of a \
             rolled-over CA\n"
        ),
    )
        .into_response()
}

/// The full cause is logged; the client learns only that it may retry.
fn unavailable(e: &RevocationError, name: &str) -> Response {
    tracing::error!(error = %e, crl = name, "cannot sign a CRL");
    (StatusCode::SERVICE_UNAVAILABLE, "the CRL cannot be signed now; retry later\n").into_response()
}

/// `If-None-Match` wins over `If-Modified-Since` (RFC 9110 §13.2.2).
fn not_modified(headers: &HeaderMap, etag: &str, this_update: i64) -> bool {
    if let Some(tags) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        return tags.split(',').any(|t| t.trim() == etag || t.trim() == "*");
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date)
        .is_some_and(|since| this_update <= since)
}

const HTTP_DATE: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// RFC 9110 §5.6.7 IMF-fixdate.
pub(super) fn http_date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix).ok().and_then(|t| t.format(HTTP_DATE).ok()).unwrap_or_default()
}

fn parse_http_date(text: &str) -> Option<i64> {
    time::PrimitiveDateTime::parse(text.trim(), HTTP_DATE).ok().map(|t| t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_round_trip_and_conditions_hold() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        let mut h = HeaderMap::new();
        assert!(!not_modified(&h, "\"a\"", 10));
        h.insert(header::IF_MODIFIED_SINCE, HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert!(not_modified(&h, "\"a\"", 784_111_777));
        assert!(!not_modified(&h, "\"a\"", 784_111_778));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"b\", \"a\""));
        assert!(not_modified(&h, "\"a\"", 0));
        assert!(!not_modified(&h, "\"c\"", 0), "If-None-Match decides when present");
    }
}
