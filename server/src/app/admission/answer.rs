//! The admission gate's refusal in each protocol's own form (D138): always `503 Service Unavailable` with
//! `Retry-After`, the body as the protocol's clients read errors. Nothing of the request is echoed.

use crate::app::api_error::ApiError;
use crate::web::oauth::OAuthResponse as _;
use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hcpki_ca::enroll::acme::Problem;
use hcpki_sso::oidc::{ErrorStatus, OAuthError};

/// How a group of routes says "busy".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Plain text: EST (RFC 7030 §4.2.3: 503 with `Retry-After`), SCEP (RFC 8894 §4.1: HTTP status only) and
    /// the time-stamping authority (RFC 3161 §3.4 over HTTP).
    Text,
    /// ACME's problem document (RFC 8555 §6.7): `serverInternal` with status 503 and `Retry-After` (§6.6), as
    /// for a halted CA: RFC 8555 has no type for "busy", and `rateLimited` would blame the client.
    Acme,
    /// OAuth's error (RFC 6749 §4.1.2.1's `temporarily_unavailable`, JSON as §5.2), on `/token` and the
    /// client-authenticated APIs.
    OAuth,
    /// The admin API's JSON error.
    Api,
    /// The portal's JSON endpoints (the card login's): `{"error": {"code", "message"}}`, which
    /// `card-login.js` shows in the status line.
    PortalJson,
    /// The portal's pages: the busy page, Japanese first (or the page's chosen language).
    Page,
}

impl Answer {
    /// The refusal, telling the client to retry after `retry_after` seconds; `headers` and `query` choose a
    /// page's language.
    pub fn refusal(self, retry_after: u64, headers: &HeaderMap, query: Option<&str>) -> Response {
        let said = Said {
            code: "busy",
            ja: format!("混み合っています。{retry_after} 秒後にもう一度お試しください。"),
            en: format!("the server is at its load bound: retry after {retry_after} s"),
        };
        let page = (self == Self::Page)
            .then(|| crate::portal::busy_page(crate::portal::lang::negotiate(query, headers), retry_after));
        self.unavailable(said, retry_after, page)
    }

    /// The answer to a request still running at the per-request deadline of `deadline_secs` (D142): it was
    /// abandoned, its transaction rolled back, so the client may send it again after `retry_after` seconds.
    pub fn overdue(self, deadline_secs: u64, retry_after: u64, headers: &HeaderMap, query: Option<&str>) -> Response {
        let said = Said {
            code: "deadline",
            ja: format!(
                "{deadline_secs} 秒以内に処理を終えられなかったため中止しました（何も記録されていません）。\
                 {retry_after} 秒後にもう一度お試しください。"
            ),
            en: format!(
                "the request did not finish within the server's {deadline_secs} s deadline (its database or \
                 signing device is not answering) and was abandoned, nothing recorded: send it again after \
                 {retry_after} s"
            ),
        };
        let page = (self == Self::Page).then(|| {
            let lang = crate::portal::lang::negotiate(query, headers);
            crate::portal::refused_page(lang, StatusCode::SERVICE_UNAVAILABLE, &format!("{} / {}", said.ja, said.en))
        });
        self.unavailable(said, retry_after, page)
    }

    /// A 503 with `Retry-After` saying `said` in this form (`page`: the portal page, made by the caller).
    fn unavailable(self, said: Said, retry_after: u64, page: Option<Response>) -> Response {
        let Said { code, ja, en } = said;
        let mut response = match (self, page) {
            (Self::Page, Some(page)) => page,
            (Self::Text | Self::Page, _) => (StatusCode::SERVICE_UNAVAILABLE, format!("{en}\n")).into_response(),
            (Self::Acme, _) => {
                let problem = Problem::server_internal(en).with_status(503);
                let body = problem.to_json().to_string();
                (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "application/problem+json")], body)
                    .into_response()
            }
            (Self::OAuth, _) => {
                OAuthError { status: ErrorStatus::Unavailable, error: "temporarily_unavailable", description: en }
                    .into_response()
            }
            (Self::Api, _) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, en).into_response(),
            (Self::PortalJson, _) => {
                let message = format!("{ja} / {en}");
                let body = serde_json::json!({ "error": { "code": code, "message": message } });
                (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
            }
        };
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        response
    }
}

/// What a 503 says: a code for the JSON forms, the Japanese and the English text.
struct Said {
    code: &'static str,
    ja: String,
    en: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(response: Response) -> (StatusCode, String, String, String) {
        let status = response.status();
        let h = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let (retry, kind) = (h(header::RETRY_AFTER), h(header::CONTENT_TYPE));
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, retry, kind, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn every_form_is_a_503_with_retry_after_and_the_protocols_body() {
        let none = HeaderMap::new();
        let (status, retry, _, body) = read(Answer::Text.refusal(3, &none, None)).await;
        assert_eq!((status, retry.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "3"));
        assert!(body.contains("retry after 3 s"), "{body}");

        let (status, retry, kind, body) = read(Answer::Acme.refusal(2, &none, None)).await;
        assert_eq!(
            (status, retry.as_str(), kind.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "2", "application/problem+json")
        );
        let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["type"], "urn:ietf:params:acme:error:serverInternal");
        assert_eq!(problem["status"], 503);

        let (status, _, _, body) = read(Answer::OAuth.refusal(1, &none, None)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"], "temporarily_unavailable");

        let (_, _, _, body) = read(Answer::PortalJson.refusal(1, &none, None)).await;
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], "busy");
        assert!(error["error"]["message"].as_str().unwrap().starts_with("混み合っています"), "Japanese first");

        let (status, retry, kind, body) = read(Answer::Page.refusal(4, &none, None)).await;
        assert_eq!((status, retry.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "4"));
        assert!(kind.starts_with("text/html"), "{kind}");
        assert!(body.contains("ただいま混み合っています"), "Japanese by default: {body}");
        assert!(body.contains("data-retry-after=\"4\""), "{body}");
        let (_, _, _, body) = read(Answer::Page.refusal(4, &none, Some("lang=en"))).await;
        assert!(body.contains("The portal is busy"), "{body}");
    }

    #[tokio::test]
    async fn an_overdue_request_is_a_503_saying_nothing_was_recorded_and_when_to_retry() {
        let none = HeaderMap::new();
        let (status, retry, _, body) = read(Answer::Text.overdue(20, 5, &none, None)).await;
        assert_eq!((status, retry.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "5"));
        assert!(body.contains("20 s deadline") && body.contains("send it again after 5 s"), "{body}");
        let (_, _, _, body) = read(Answer::Acme.overdue(20, 5, &none, None)).await;
        let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (problem["type"].as_str(), problem["status"].as_i64()),
            (Some("urn:ietf:params:acme:error:serverInternal"), Some(503))
        );
        let (_, _, _, body) = read(Answer::PortalJson.overdue(20, 5, &none, None)).await;
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], "deadline");
        let (status, retry, kind, body) = read(Answer::Page.overdue(20, 5, &none, None)).await;
        assert_eq!((status, retry.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "5"));
        assert!(kind.starts_with("text/html") && body.contains("何も記録されていません"), "{body}");
    }
}
