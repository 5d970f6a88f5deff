//! `Server-Timing` (W3C Server Timing) on the card login's pages and endpoints: how long the portal itself
//! took to answer, so a browser's developer tools, or whoever measures a login as the physician feels it
//! (docs/benchmarks.md, issue #26), can split the wall time into the server's share and the rest without the
//! server's log. One figure, `app`, the handler's time (database, card verification, page), never a
//! breakdown of what was checked.
//!
//! Only the card login's journey carries it (D63): the password login's answer times a wrong password against
//! a wrong account, and a precise server figure there would help someone enumerating accounts.

use axum::extract::Request;
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// The header's name.
const HEADER: &str = "server-timing";

/// Middleware over the portal's browser routes: times the answer of the card login journey's requests.
pub async fn record(request: Request, next: Next) -> Response {
    if !timed(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let started = Instant::now();
    let mut response = next.run(request).await;
    let value = header_value(started.elapsed().as_secs_f64() * 1000.0);
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().append(HEADER, value);
    }
    response
}

/// The requests of a card login, from the login page to the home page.
fn timed(method: &Method, path: &str) -> bool {
    match path {
        "/" | "/login" => method == Method::GET,
        "/login/card/challenge" | "/login/card" => method == Method::POST,
        _ => false,
    }
}

fn header_value(millis: f64) -> String {
    format!("app;dur={millis:.3};desc=\"portal\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_card_login_journey_is_timed() {
        assert!(timed(&Method::GET, "/"));
        assert!(timed(&Method::GET, "/login"));
        assert!(timed(&Method::POST, "/login/card/challenge"));
        assert!(timed(&Method::POST, "/login/card"));
        // The password login, and everything else, carry no server figure.
        assert!(!timed(&Method::POST, "/login"));
        assert!(!timed(&Method::POST, "/token"));
        assert!(!timed(&Method::GET, "/sessions"));
    }

    #[test]
    fn the_value_is_milliseconds_with_microseconds() {
        assert_eq!(header_value(1.23456), "app;dur=1.235;desc=\"portal\"");
    }
}
