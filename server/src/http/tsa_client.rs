//! The signers' time stamps (issue #27, D70): `[[signing.tsa]]` asked in order over the outbound HTTP client,
//! every answer checked by `hcpki_docsig::timestamp::client`. Other code (the CAdES, XAdES and PAdES builders) calls
//! [`TimeStamps::stamp`] with the SHA-256 of what it stamps and embeds the token; it never falls back to the
//! local clock.

use crate::config::Loaded;
use crate::outbound::post;
use anyhow::Result;
use hcpki_docsig::timestamp::client::{self, NoTimeStamp, Stamped, Transport, TsaEndpoint};
use hcpki_pkix::time::Clock;
use std::sync::Arc;
use std::time::Duration;

/// Time-stamp answers are a few kilobytes (a token with a certificate chain); anything far larger is no answer.
const MAX_REPLY: usize = 64 * 1024;
/// Per TSA: connect, send, answer. The next TSA is tried after it.
const TIMEOUT: Duration = Duration::from_secs(10);
const QUERY: &str = "application/timestamp-query";

/// The configured TSAs and the way to them.
#[derive(Debug)]
pub struct TimeStamps {
    endpoints: Vec<TsaEndpoint>,
    transport: Http,
    clock: Arc<dyn Clock>,
}

impl TimeStamps {
    /// The TSAs `[signing]` configures (files read and checked), over HTTP, checked at `clock`'s time.
    pub fn from_config(loaded: &Loaded, clock: Arc<dyn Clock>) -> Result<Self> {
        let endpoints = loaded.config.signing.endpoints(&loaded.dir)?;
        let tls = post::tls_client(None, "[signing]")?;
        Ok(Self { endpoints, transport: Http { tls }, clock })
    }

    /// The configured TSAs, in order.
    pub fn endpoints(&self) -> &[TsaEndpoint] {
        &self.endpoints
    }

    /// A token over `digest` (SHA-256) from the first TSA that gives a valid one (`stamped.stamp.token` is its
    /// DER, `stamped.failed` the TSAs before it and why), or every TSA's failure.
    pub async fn stamp(&self, digest: &[u8; 32]) -> Result<Stamped, NoTimeStamp> {
        client::stamp(&self.endpoints, digest, &self.transport, self.clock.as_ref()).await
    }

    /// Ask `endpoint` alone (for `hcpki tsa check`).
    pub async fn stamp_with(&self, endpoint: &TsaEndpoint, digest: &[u8; 32]) -> Result<Stamped, NoTimeStamp> {
        client::stamp(std::slice::from_ref(endpoint), digest, &self.transport, self.clock.as_ref()).await
    }
}

/// RFC 3161 §3.4 over [`post::exchange`]: POST `application/timestamp-query`, an HTTP 200 body back.
#[derive(Debug)]
struct Http {
    tls: Arc<rustls::ClientConfig>,
}

#[async_trait::async_trait]
impl Transport for Http {
    async fn post(&self, url: &str, request: &[u8]) -> Result<Vec<u8>, String> {
        let exchange = post::exchange(url, QUERY, "hcpki-tsa-client", request.to_vec(), &self.tls, MAX_REPLY);
        match tokio::time::timeout(TIMEOUT, exchange).await {
            Err(_) => Err(format!("no answer within {} s", TIMEOUT.as_secs())),
            Ok(Err(e)) => Err(e),
            Ok(Ok((200, body))) => Ok(body),
            Ok(Ok((status, _))) => Err(format!("HTTP status {status}")),
        }
    }
}
