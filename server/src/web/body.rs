//! Request bodies with a size limit, read the same way by every protocol handler.
//!
//! Why not `axum::body::to_bytes(body, limit)`: it stops at the limit and drops the rest unread, and on
//! HTTP/2 hyper then resets the stream while the client is still uploading. curl reports that as a framing
//! error instead of showing our 413 and its reason. So the remainder is read and thrown away, up to
//! [`DRAIN_LIMIT`], before the refusal is sent; past that the stream is reset (a client sending megabytes to an
//! enrollment endpoint gets no courtesy).

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;

/// Bytes read and discarded past the limit so a moderately oversized request still sees its 413.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// Why a body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Over the limit.
    #[error("request body over {0} bytes")]
    TooLarge(usize),
    /// The connection failed while reading.
    #[error("request body could not be read: {0}")]
    Read(String),
}

/// The whole body if it is at most `limit` bytes.
pub async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut kept: Vec<u8> = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        let Ok(data) = frame.into_data() else { continue };
        seen = seen.saturating_add(data.len());
        if seen <= limit {
            kept.extend_from_slice(&data);
        } else if seen > limit.saturating_add(DRAIN_LIMIT) {
            break;
        }
    }
    if seen > limit { Err(BodyError::TooLarge(limit)) } else { Ok(Bytes::from(kept)) }
}

/// Read and throw away a body that will not be used (a request refused before its handler: CSRF guard, rate
/// limit), up to [`DRAIN_LIMIT`] and for at most five seconds, so an HTTP/2 client sees the refusal rather than
/// a stream reset (the module comment says why).
pub async fn discard(body: Body) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), read_limited(body, 0)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limits_hold_and_the_rest_is_drained() {
        assert_eq!(read_limited(Body::from("abc"), 3).await.unwrap(), "abc");
        assert!(matches!(read_limited(Body::from("abcd"), 3).await, Err(BodyError::TooLarge(3))));
        assert!(read_limited(Body::from(vec![0u8; 3 * DRAIN_LIMIT]), 10).await.is_err());
        assert_eq!(read_limited(Body::empty(), 0).await.unwrap(), "");
    }
}
