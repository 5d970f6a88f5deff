//! The configured TSAs, tried in order: the first valid token wins, every failure before it is kept (and
//! logged), and when none gives one the operation fails with all of them. Never a time from the local clock.

use super::StampError;
use super::chain::TsaTrust;
use super::query::Query;
use super::verdict::{Stamp, check_reply};
use const_oid::ObjectIdentifier;
use hcpki_pkix::time::Clock;

/// One configured TSA.
#[derive(Clone, Debug)]
pub struct TsaEndpoint {
    /// Where requests are POSTed (`http://` or `https://`).
    pub url: String,
    /// Its trust anchors.
    pub trust: TsaTrust,
    /// The policy its tokens must name (and the request asks for), when configured.
    pub policy: Option<ObjectIdentifier>,
}

/// How request bytes reach a TSA: an HTTP POST of `application/timestamp-query`, the body of an HTTP 200
/// `application/timestamp-reply` back, or why not (unreachable, timed out, another status).
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    /// POST `request` to `url`.
    async fn post(&self, url: &str, request: &[u8]) -> Result<Vec<u8>, String>;
}

/// One TSA's failure.
#[derive(Debug)]
pub struct Attempt {
    /// The TSA's URL.
    pub url: String,
    /// What went wrong.
    pub error: StampError,
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.url, self.error)
    }
}

/// A token, which TSA gave it, and the TSAs that failed before it.
#[derive(Debug)]
pub struct Stamped {
    /// The accepted token.
    pub stamp: Stamp,
    /// The URL of the TSA that gave it.
    pub url: String,
    /// The TSAs tried before it, and why each failed.
    pub failed: Vec<Attempt>,
}

/// No TSA gave a valid token: each one's failure, in the configured order.
#[derive(Debug, thiserror::Error)]
#[error("{}", describe(.0))]
pub struct NoTimeStamp(pub Vec<Attempt>);

fn describe(attempts: &[Attempt]) -> String {
    if attempts.is_empty() {
        return "no time-stamping authority is configured: add [[signing.tsa]] entries to hcpki.toml (the local \
                clock is never used as a time stamp)"
            .into();
    }
    let each: Vec<String> = attempts.iter().enumerate().map(|(i, a)| format!("{}. {a}", i + 1)).collect();
    format!(
        "no configured TSA gave a valid time stamp, so nothing was signed (the local clock is never a time stamp); \
         fix the first entry that should work: {}",
        each.join("; ")
    )
}

/// A token over `digest` (SHA-256) from the first of `endpoints` that gives a valid one through `transport`,
/// its checks done at `clock`'s time once the answer is in.
pub async fn stamp(
    endpoints: &[TsaEndpoint],
    digest: &[u8; 32],
    transport: &dyn Transport,
    clock: &dyn Clock,
) -> Result<Stamped, NoTimeStamp> {
    let mut failed = Vec::new();
    for endpoint in endpoints {
        let outcome = match Query::sha256(digest, endpoint.policy) {
            Ok(query) => match transport.post(&endpoint.url, query.der()).await {
                Ok(reply) => check_reply(&query, &reply, &endpoint.trust, clock.now_unix()),
                Err(reason) => Err(StampError::Transport(reason)),
            },
            Err(e) => Err(e),
        };
        match outcome {
            Ok(stamp) => {
                tracing::info!(url = %endpoint.url, tried_before = failed.len(), gen_time = stamp.gen_time, "time stamp received");
                return Ok(Stamped { stamp, url: endpoint.url.clone(), failed });
            }
            Err(error) => {
                tracing::warn!(url = %endpoint.url, %error, "the TSA gave no valid time stamp; trying the next");
                failed.push(Attempt { url: endpoint.url.clone(), error });
            }
        }
    }
    Err(NoTimeStamp(failed))
}
