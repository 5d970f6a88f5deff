//! Per-address rate limits shared by the replicas (issue #9, D31 addendum).

use crate::error::StoreError;
use crate::rate_limits::{RateSync, RateTotals};
use hcpki_model::UnixTime;

/// Per-address rate limits shared by the replicas (issue #9, D31 addendum).
#[async_trait::async_trait]
pub trait RateLimits: Send + Sync {
    /// One replica's periodic rate-limit sync: record that `sync.replica` is alive until `sync.alive_until`
    /// (forgetting replicas gone for an hour), add
    /// `sync.add` to the per-window totals (one transaction, rows in key order so concurrent syncs of
    /// PostgreSQL replicas cannot deadlock), then read back the totals of the `sync.watch` pairs from
    /// `sync.since` on and how many replicas are alive. Not audited; harmless to lose on power failure.
    async fn rate_limit_sync(&self, sync: &RateSync<'_>) -> Result<RateTotals, StoreError>;

    /// Mark `address` refused in `class` in the window starting at `window_start`. `true` for exactly one
    /// caller per window, and only when the previous window was not marked: the start of an engagement, which
    /// is audited once whichever replica refuses first (a flood going on across windows is one engagement).
    async fn rate_limit_engage(&self, class: &str, address: &str, window_start: UnixTime) -> Result<bool, StoreError>;
}
