//! What the store keeps for the per-address rate limits that every server replica shares (issue #9, D31
//! addendum, migration 0016). The limiter itself (`server::http::rate_limit`) decides; the store only adds
//! counts up and reads totals back, so one replica's sync is one batched write however many requests it saw.

/// Requests allowed from one address, in one class, in one minute's window.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RateCount {
    /// The class (`enroll`, `revocation`, `login`).
    pub class: String,
    /// The client address, as the limiter keys it.
    pub address: String,
    /// Unix seconds at which the window starts (a multiple of 60).
    pub window_start: i64,
    /// Requests: what a replica adds, or the total of all replicas.
    pub requests: i64,
}

/// One replica's periodic sync: what it adds and what it wants to know.
#[derive(Clone, Copy, Debug)]
pub struct RateSync<'a> {
    /// The replica (a random ID per process start).
    pub replica: &'a str,
    /// Unix seconds.
    pub now: i64,
    /// Until when the replica counts as alive without syncing again (Unix seconds).
    pub alive_until: i64,
    /// Requests to add to the totals (a replica's counts since its last sync).
    pub add: &'a [RateCount],
    /// (class, address) pairs whose totals to read back after adding.
    pub watch: &'a [(String, String)],
    /// Read back windows starting at or after this (Unix seconds).
    pub since: i64,
}

/// What a sync reads back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateTotals {
    /// Replicas alive at `now`, the syncing one included.
    pub replicas: i64,
    /// The totals of the watched pairs in the windows asked for; a window with no row counted nothing.
    pub counts: Vec<RateCount>,
}
