//! Draining a replica before it exits (`hcpki serve --drain-secs`, D137): between SIGTERM and the graceful
//! shutdown, `/healthz` answers 503 so a load balancer's health check takes the replica out and sends new
//! connections elsewhere, and every answer carries `Connection: close`, so a keep-alive client finishes its
//! current request here and opens its next connection elsewhere, instead of finding its idle connection closed
//! under it by the shutdown (a request lost in that race, which the client sees as a dropped connection).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether this process is draining; shared by every listener's router.
#[derive(Clone, Debug, Default)]
pub struct Drain(Arc<AtomicBool>);

impl Drain {
    /// From now on: `/healthz` 503, every answer `Connection: close`.
    pub fn start(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn on(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The middleware (`from_fn_with_state`) every listener's router gets.
pub async fn layer(State(drain): State<Drain>, request: Request, next: Next) -> Response {
    if !drain.on() {
        return next.run(request).await;
    }
    let mut response = if request.uri().path() == "/healthz" {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "draining: this replica is stopping; another one answers\n",
        )
            .into_response()
    } else {
        next.run(request).await
    };
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
