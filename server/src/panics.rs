//! A handler that panics (a bug: `clippy::panic` and the no-`unwrap` rule keep them out, but a dependency may
//! still) must not drop the connection, leave the browser's own error page, or tell the client anything of the
//! bug: [`run`] turns it into `None`, its message logged, and each front end answers with its themed 500 page
//! (issue #45 item 6: `console::error_page::catch_panic`, `portal::catch_panic`).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;

/// The rest of the request's handling, or `None` when it panicked (logged here with the request's path).
pub async fn run(request: Request, next: Next) -> Option<Response> {
    let path = request.uri().path().to_owned();
    // Unwind safety: the request's state is dropped with the panic; shared state is behind locks that poison or
    // in the database, whose transactions roll back when dropped.
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => Some(response),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(path = %path, panic = %what, "a request's handler panicked: answered 500");
            None
        }
    }
}

/// `GET …/test-hooks/panic` (the `test-hooks` feature only, never in a release): a handler that panics, so that
/// the tests can see the 500 pages against the real server.
#[cfg(feature = "test-hooks")]
#[allow(clippy::panic, reason = "the panic is what this test hook is for")]
pub async fn panic_now() -> Response {
    panic!("test hook: panic with a secret detail 0xDEADBEEF")
}
