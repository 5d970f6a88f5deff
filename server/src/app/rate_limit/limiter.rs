//! The limiter's arithmetic: sliding-window counts per (class, address), this replica's alone or shared with
//! the other replicas through the database. Nothing here sleeps, reads a clock or does I/O: every method is
//! given the time, and the sync task (`super::Guard`) carries [`Outbox`]es to the store and the totals back.
//!
//! * **Window**: requests are counted per minute (`window` = Unix ms / 60,000); a request is judged on the
//!   sliding estimate `previous × (1 − elapsed fraction of this minute) + this minute`, which approximates the
//!   count of the last 60 s and, unlike a token bucket, is a sum: the replicas' counts add up.
//! * **Alone** (sharing off, no sync yet, or the database unreachable): the estimate of this replica's own
//!   counts must stay within the limit.
//! * **Shared** among `n` live replicas: the last totals read back (`seen`, every replica's counts) leave
//!   `limit − seen` for the cluster; this replica may use `1/n` of that for what it allowed since (`pending`),
//!   until the next sync reads the totals again. So a flood spread over the replicas gets about the limit in
//!   total, not `n` times it, with no database write per request; a flood that reaches one replica only gets
//!   half of what is left at each sync (with two replicas), converging on the limit within a few syncs.
//! * **Written only once it matters**: an address is reported to the database once this replica allowed it
//!   [`SHARE_FRACTION`]`⁻¹` of its share in the two windows; below that it cannot reach a refusal before its
//!   next sync, and most addresses (a PC asking OCSP now and then) never cost a row.

use super::Class;
use hcpki_ca::store::{RateCount, RateTotals};
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

/// Unix milliseconds.
pub type Millis = i64;

/// One window: a minute.
const WINDOW_MS: Millis = 60_000;
/// Entries kept at most (the memory bound).
const MAX_KEYS: usize = 100_000;
/// An address is reported once this replica allowed it a quarter of its share (`limit / n / 4`).
const SHARE_FRACTION: u64 = 4;
/// How far ahead a refusal looks for the first second that would be allowed: two windows empty everything.
const LOOK_AHEAD_SECS: i64 = 2 * WINDOW_MS / 1000;

type Key = (Class, IpAddr);

/// What the limiter decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refuse; retry after this many seconds. `engagement` on this replica's first refusal of the address and
    /// class in a window.
    Refuse { retry_after: u64, engagement: Option<Engagement> },
}

/// The first refusal of an address and class in a window on this replica: the audit entry of an engagement is
/// decided here (alone) or by the database's claim (shared).
#[derive(Debug, PartialEq, Eq)]
pub struct Engagement {
    /// Unix seconds at which the window starts.
    pub window_start: i64,
    /// This replica refused the address in neither this window nor the previous one: an engagement starts
    /// as far as this replica knows.
    pub starts: bool,
    /// The limits are shared: the database says whether an engagement starts, cluster-wide.
    pub shared: bool,
}

/// What one sync sends: the counts to add and the pairs whose totals to read back.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Counts this replica allowed since its last sync, of the addresses it reports.
    pub add: Vec<RateCount>,
    /// (class, address) of the reported addresses asked about since the last sync.
    pub watch: Vec<(String, String)>,
    /// The same, as keys.
    keys: Vec<Key>,
    /// Unix seconds at which the previous window starts (read back from there on).
    pub since: i64,
}

/// The counts of one replica.
#[derive(Debug)]
pub struct Limiter {
    per_minute: [u32; Class::ALL.len()],
    /// How often the counts are synced; `None`: never, each replica limits alone.
    sync_secs: Option<u64>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Key, Entry>,
    /// Keys asked about since the last sync: the next sync sends and reads only these.
    dirty: HashSet<Key>,
    /// Live replicas at the last sync; `None` while this replica limits alone.
    replicas: Option<u32>,
}

/// One address and class. Each pair is `[previous window, window]`.
#[derive(Clone, Debug, Default)]
struct Entry {
    /// The newer window's index (Unix ms / 60,000).
    window: i64,
    /// Requests this replica allowed.
    own: [u64; 2],
    /// Of those, not yet added to the database.
    unsent: [u64; 2],
    /// Of those, not in `seen` yet.
    pending: [u64; 2],
    /// All replicas' totals as last read back.
    seen: [u64; 2],
    /// Reported to the database (see the module documentation).
    shared: bool,
    /// The window of the latest refusal.
    refused_in: Option<i64>,
}

impl Entry {
    fn new(window: i64) -> Self {
        Self { window, ..Self::default() }
    }

    /// Move to `window` (never back: a clock stepping back counts into the newer window).
    fn roll(&mut self, window: i64) {
        match window - self.window {
            ..=0 => return,
            1 => {
                for pair in [&mut self.own, &mut self.unsent, &mut self.pending, &mut self.seen] {
                    *pair = [pair[1], 0];
                }
            }
            _ => {
                // Idle for a whole window: nothing counts any more, and the address is no longer worth a row.
                *self = Self { refused_in: self.refused_in, ..Self::new(window) };
            }
        }
        self.window = window;
    }

    /// Whether one more request fits at `at` (in the entry's window), alone or among `replicas`.
    fn fits(&self, limit: u32, replicas: Option<u32>, at: Millis) -> bool {
        let limit = f64::from(limit);
        match replicas {
            None => estimate(self.own, at) + 1.0 <= limit,
            Some(n) => estimate(self.pending, at) + 1.0 <= (limit - estimate(self.seen, at)) / f64::from(n),
        }
    }

    /// Whether one more request fits the cluster's total at `at`, as far as this replica knows.
    fn fits_cluster(&self, limit: u32, at: Millis) -> bool {
        estimate(self.seen, at) + estimate(self.pending, at) + 1.0 <= f64::from(limit)
    }
}

/// The sliding estimate of a pair at `at`: the previous window weighted by how much of it the last minute
/// still covers.
fn estimate(pair: [u64; 2], at: Millis) -> f64 {
    let elapsed = at.rem_euclid(WINDOW_MS) as f64 / WINDOW_MS as f64;
    pair[0] as f64 * (1.0 - elapsed) + pair[1] as f64
}

fn window_of(at: Millis) -> i64 {
    at.div_euclid(WINDOW_MS)
}

impl Limiter {
    /// Per-minute limits per class in [`Class::ALL`] order (0: unlimited); `sync_secs` as in [`Self::sync_secs`].
    pub fn new(per_minute: [u32; Class::ALL.len()], sync_secs: Option<u64>) -> Self {
        Self { per_minute, sync_secs, state: Mutex::default() }
    }

    /// How often counts are shared through the database; `None` when they are not (sharing off, or every
    /// class unlimited).
    pub fn sync_secs(&self) -> Option<u64> {
        self.sync_secs.filter(|_| self.per_minute.iter().any(|l| *l > 0))
    }

    /// Requests per minute per address for `class` (0: unlimited).
    pub fn per_minute(&self, class: Class) -> u32 {
        Class::ALL.iter().position(|c| *c == class).and_then(|i| self.per_minute.get(i)).copied().unwrap_or(0)
    }

    /// Count a request of `class` from `ip` at `now`, or refuse it.
    pub fn check(&self, class: Class, ip: IpAddr, now: Millis) -> Decision {
        let limit = self.per_minute(class);
        if limit == 0 {
            return Decision::Allow;
        }
        let window = window_of(now);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *state;
        if state.entries.len() >= MAX_KEYS && !state.entries.contains_key(&(class, ip)) {
            make_room(state, window);
        }
        let replicas = state.replicas;
        state.dirty.insert((class, ip));
        let entry = state.entries.entry((class, ip)).or_insert_with(|| Entry::new(window));
        entry.roll(window);
        if entry.fits(limit, replicas, now) {
            for pair in [&mut entry.own, &mut entry.unsent, &mut entry.pending] {
                pair[1] += 1;
            }
            let share = u64::from(limit) / u64::from(replicas.unwrap_or(1)) / SHARE_FRACTION;
            entry.shared |= entry.own[0] + entry.own[1] >= share.max(1);
            return Decision::Allow;
        }
        let retry_after = match (replicas, self.sync_secs) {
            // The cluster has room; this replica's share is spent until the next sync hands out another.
            (Some(_), Some(secs)) if entry.fits_cluster(limit, now) => secs.max(1),
            _ => (1..=LOOK_AHEAD_SECS)
                .find(|s| {
                    let at = now + s * 1000;
                    let mut later = entry.clone();
                    later.roll(window_of(at));
                    match replicas {
                        Some(_) => later.fits_cluster(limit, at),
                        None => later.fits(limit, None, at),
                    }
                })
                .unwrap_or(LOOK_AHEAD_SECS)
                .unsigned_abs(),
        };
        let engagement = (entry.refused_in != Some(window)).then(|| Engagement {
            window_start: window * WINDOW_MS / 1000,
            starts: entry.refused_in.is_none_or(|r| r < window - 1),
            shared: replicas.is_some(),
        });
        entry.refused_in = Some(window);
        Decision::Refuse { retry_after, engagement }
    }

    /// Take what the next sync sends at `now`: the unsent counts of the reported addresses asked about since
    /// the last sync, and those addresses to read back. Give it back with [`Self::synced`] or
    /// [`Self::unsynced`].
    pub fn outbox(&self, now: Millis) -> Outbox {
        let window = window_of(now);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *state;
        let mut outbox = Outbox { since: (window - 1) * WINDOW_MS / 1000, ..Outbox::default() };
        for key in std::mem::take(&mut state.dirty) {
            let Some(entry) = state.entries.get_mut(&key) else { continue };
            entry.roll(window);
            if !entry.shared {
                continue;
            }
            let (class, address) = (key.0.as_str().to_owned(), key.1.to_string());
            for (i, unsent) in entry.unsent.iter_mut().enumerate() {
                if *unsent > 0 {
                    outbox.add.push(RateCount {
                        class: class.clone(),
                        address: address.clone(),
                        window_start: (entry.window - 1 + i as i64) * WINDOW_MS / 1000,
                        requests: i64::try_from(*unsent).unwrap_or(i64::MAX),
                    });
                    *unsent = 0;
                }
            }
            outbox.watch.push((class, address));
            outbox.keys.push(key);
        }
        outbox
    }

    /// The sync of `outbox` answered `totals` at `now`: the limits are shared by `totals.replicas` replicas,
    /// and the watched addresses are judged on the totals from now on.
    pub fn synced(&self, outbox: Outbox, totals: &RateTotals, now: Millis) {
        let window = window_of(now);
        let mut by_key: HashMap<(&str, &str), Vec<(i64, i64)>> = HashMap::new();
        for c in &totals.counts {
            by_key.entry((c.class.as_str(), c.address.as_str())).or_default().push((c.window_start, c.requests));
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.replicas = Some(u32::try_from(totals.replicas).unwrap_or(u32::MAX).max(1));
        for (key, (class, address)) in outbox.keys.iter().zip(&outbox.watch) {
            let Some(entry) = state.entries.get_mut(key) else { continue };
            entry.roll(window);
            entry.seen = [0, 0];
            for (window_start, requests) in by_key.get(&(class.as_str(), address.as_str())).into_iter().flatten() {
                let slot = window_start * 1000 / WINDOW_MS - (entry.window - 1);
                if let Some(seen) = usize::try_from(slot).ok().and_then(|i| entry.seen.get_mut(i)) {
                    *seen = requests.unsigned_abs();
                }
            }
            // What was allowed while the sync ran is in neither the totals nor the outbox.
            entry.pending = entry.unsent;
        }
    }

    /// The sync of `outbox` failed: keep its counts for the next one and limit alone until one succeeds.
    pub fn unsynced(&self, outbox: Outbox) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *state;
        state.replicas = None;
        let keys: HashMap<(String, String), Key> = outbox.watch.into_iter().zip(outbox.keys).collect();
        for count in outbox.add {
            let Some(key) = keys.get(&(count.class, count.address)) else { continue };
            let Some(entry) = state.entries.get_mut(key) else { continue };
            let slot = count.window_start * 1000 / WINDOW_MS - (entry.window - 1);
            if let Some(unsent) = usize::try_from(slot).ok().and_then(|i| entry.unsent.get_mut(i)) {
                *unsent += count.requests.unsigned_abs();
            }
            state.dirty.insert(*key);
        }
    }

    /// Live replicas sharing the limits at the last sync; `None` while this replica limits alone.
    pub fn replicas(&self) -> Option<u32> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).replicas
    }
}

/// At the memory bound: drop the entries with nothing left in their windows, and if every one is busy, all of
/// them. Forgetting an entry only ever lets an address through (its unsent counts are lost with it).
fn make_room(state: &mut State, window: i64) {
    state.entries.retain(|_, e| {
        e.roll(window);
        e.own != [0, 0]
    });
    if state.entries.len() >= MAX_KEYS {
        state.entries.clear();
    }
    state.dirty.retain(|k| state.entries.contains_key(k));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minute's start, in Unix ms.
    const T0: Millis = 1_700_000_040_000;

    fn ip(n: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0xc000_0200 + n))
    }

    fn refused(d: &Decision) -> bool {
        matches!(d, Decision::Refuse { .. })
    }

    /// The store's part of a sync, in memory: add, then read the watched totals (what
    /// `store::sql::tests::rate_limit_counts_add_up_across_replicas_and_engage_once` checks of the real one).
    #[derive(Default)]
    struct Table(HashMap<(String, String, i64), i64>);

    impl Table {
        fn sync(&mut self, limiter: &Limiter, now: Millis, replicas: i64) {
            let outbox = limiter.outbox(now);
            for c in &outbox.add {
                *self.0.entry((c.class.clone(), c.address.clone(), c.window_start)).or_default() += c.requests;
            }
            let counts = self
                .0
                .iter()
                .filter(|((c, a, w), _)| *w >= outbox.since && outbox.watch.contains(&(c.clone(), a.clone())))
                .map(|((class, address, window_start), requests)| RateCount {
                    class: class.clone(),
                    address: address.clone(),
                    window_start: *window_start,
                    requests: *requests,
                })
                .collect();
            limiter.synced(outbox, &RateTotals { replicas, counts }, now);
        }

        fn rows(&self) -> usize {
            self.0.len()
        }
    }

    #[test]
    fn alone_a_minute_then_the_previous_minute_slides_out() {
        let l = Limiter::new([60, 0, 60], None);
        let a = ip(1);
        for _ in 0..60 {
            assert_eq!(l.check(Class::Enroll, a, T0), Decision::Allow);
        }
        let engaged = Engagement { window_start: T0 / 1000, starts: true, shared: false };
        // The 60 requests weigh fully until the window ends; a 60th of them has slid out one second later.
        assert_eq!(l.check(Class::Enroll, a, T0), Decision::Refuse { retry_after: 61, engagement: Some(engaged) });
        assert_eq!(l.check(Class::Enroll, a, T0 + 500), Decision::Refuse { retry_after: 61, engagement: None });
        assert_eq!(l.check(Class::Enroll, ip(2), T0), Decision::Allow, "per address");
        assert_eq!(l.check(Class::Login, a, T0), Decision::Allow, "per class");
        assert_eq!(l.check(Class::Revocation, a, T0), Decision::Allow, "0 is unlimited");

        let next = T0 + 61_000;
        assert_eq!(l.check(Class::Enroll, a, next), Decision::Allow, "one sixtieth of the last minute is over");
        let again = l.check(Class::Enroll, a, next);
        let going_on = Engagement { window_start: T0 / 1000 + 60, starts: false, shared: false };
        assert_eq!(again, Decision::Refuse { retry_after: 1, engagement: Some(going_on) }, "one engagement");

        let later = T0 + 3_600_000;
        for _ in 0..60 {
            assert_eq!(l.check(Class::Enroll, a, later), Decision::Allow, "a whole minute again after a quiet one");
        }
        match l.check(Class::Enroll, a, later) {
            Decision::Refuse { engagement: Some(e), .. } => assert!(e.starts, "a new engagement"),
            other => panic!("{other:?}"),
        }
        assert_eq!((l.sync_secs(), l.replicas()), (None, None), "alone: nothing to sync");
    }

    /// Two replicas alternating a flood: together they allow the limit, not twice it, however they sync. The
    /// slack is what a replica allows on totals that miss the other's latest counts: at most half of the limit
    /// when one replica never syncs during the flood while the other does after every request, an eighth when
    /// both sync equally often (as replicas with one `sync_secs` do).
    #[test]
    fn replicas_split_what_is_left_of_the_limit() {
        const LIMIT: u32 = 40;
        let (mut most, mut most_in_step, mut least) = (0, 0, u32::MAX);
        // Replica a syncs after every `sa`-th of its requests, b after every `sb`-th (0: never during the
        // flood), shifted by `phase`.
        for sa in 0..12 {
            for sb in 0..12 {
                for phase in 0..3 {
                    let replicas = [Limiter::new([LIMIT, 0, 0], Some(1)), Limiter::new([LIMIT, 0, 0], Some(1))];
                    let mut table = Table::default();
                    for r in &replicas {
                        table.sync(r, T0, 2);
                    }
                    let mut allowed = 0;
                    for n in 0..4 * LIMIT {
                        let now = T0 + i64::from(n) * 10;
                        let (r, every) = if n % 2 == 0 { (&replicas[0], sa) } else { (&replicas[1], sb) };
                        if !refused(&r.check(Class::Enroll, ip(1), now)) {
                            allowed += 1;
                        }
                        if every > 0 && (n / 2 + phase) % every == 0 {
                            table.sync(r, now, 2);
                        }
                    }
                    most = most.max(allowed);
                    least = least.min(allowed);
                    if sa == sb {
                        most_in_step = most_in_step.max(allowed);
                    }
                }
            }
        }
        assert_eq!(least, LIMIT, "never refused below the limit");
        assert!(most <= LIMIT + LIMIT / 2, "{most} allowed of {LIMIT}; alone each would allow {LIMIT}");
        assert!(most_in_step <= LIMIT + LIMIT / 8, "{most_in_step} allowed of {LIMIT} syncing in step");
    }

    #[test]
    fn a_flood_on_one_replica_reaches_the_limit_within_a_few_syncs() {
        let (a, b) = (Limiter::new([0, 0, 16], Some(1)), Limiter::new([0, 0, 16], Some(1)));
        let mut table = Table::default();
        table.sync(&a, T0, 2);
        table.sync(&b, T0, 2);
        let mut allowed_per_sync = Vec::new();
        for s in 0..6 {
            let now = T0 + s * 1000;
            let allowed = (0..50).filter(|_| !refused(&a.check(Class::Login, ip(1), now))).count();
            allowed_per_sync.push(allowed);
            table.sync(&a, now + 1, 2);
        }
        assert_eq!(allowed_per_sync, [8, 4, 2, 1, 0, 0], "half of what is left at each sync, never more in total");
        // The flood moves to b, which knows nothing of the address: it allows until the address is worth
        // reporting (16 / 2 / 4 requests), and once its next sync read the totals, nothing more.
        let now = T0 + 6000;
        let before_sync = (0..50).filter(|_| !refused(&b.check(Class::Login, ip(1), now))).count();
        assert_eq!(before_sync, 8, "one share on no totals: the slack of a flood that moves");
        table.sync(&b, now + 1, 2);
        assert!(refused(&b.check(Class::Login, ip(1), now + 2)), "b read a's counts");
    }

    #[test]
    fn light_addresses_cost_no_row_and_heavy_ones_one_per_window() {
        let l = Limiter::new([0, 6000, 0], Some(1));
        let mut table = Table::default();
        table.sync(&l, T0, 2);
        for n in 0..1000 {
            assert_eq!(l.check(Class::Revocation, ip(n), T0), Decision::Allow);
        }
        // A quarter of a share: 6000 / 2 replicas / 4.
        for _ in 0..750 {
            assert_eq!(l.check(Class::Revocation, ip(5000), T0), Decision::Allow);
        }
        let outbox = l.outbox(T0 + 1);
        assert_eq!(outbox.watch, [("revocation".to_owned(), ip(5000).to_string())], "only the heavy address");
        assert_eq!(outbox.add.len(), 1);
        assert_eq!(outbox.add.first().map(|c| c.requests), Some(750));
        l.synced(outbox, &RateTotals { replicas: 2, counts: vec![] }, T0 + 1);
        table.sync(&l, T0 + 2, 2);
        assert_eq!(table.rows(), 0, "nothing new to add, nothing written");
    }

    #[test]
    fn a_replica_that_cannot_sync_limits_alone_and_sends_its_counts_later() {
        let l = Limiter::new([10, 0, 0], Some(1));
        let mut table = Table::default();
        table.sync(&l, T0, 2);
        for _ in 0..5 {
            assert_eq!(l.check(Class::Enroll, ip(1), T0), Decision::Allow);
        }
        assert!(refused(&l.check(Class::Enroll, ip(1), T0)), "half of 10 with two replicas");
        let outbox = l.outbox(T0 + 1);
        l.unsynced(outbox);
        assert_eq!(l.replicas(), None);
        for _ in 0..5 {
            assert_eq!(l.check(Class::Enroll, ip(1), T0 + 2), Decision::Allow, "the whole limit alone");
        }
        match l.check(Class::Enroll, ip(1), T0 + 2) {
            Decision::Refuse { engagement, .. } => assert_eq!(engagement, None, "refused before in this window"),
            Decision::Allow => panic!("more than the limit alone"),
        }
        table.sync(&l, T0 + 3, 2);
        assert_eq!(table.0.values().sum::<i64>(), 10, "the failed sync's counts went with the next one");
        assert_eq!(l.replicas(), Some(2));
    }

    #[test]
    fn at_the_memory_bound_idle_entries_go_first() {
        let l = Limiter::new([0, 10, 0], None);
        for n in 0..u32::try_from(MAX_KEYS).unwrap() {
            l.check(Class::Revocation, ip(n), T0);
        }
        l.check(Class::Revocation, ip(0), T0 + 1);
        let busy = l.state.lock().unwrap().entries.len();
        assert_eq!(busy, MAX_KEYS, "a known address takes no room");
        l.check(Class::Revocation, ip(u32::try_from(MAX_KEYS).unwrap()), T0 + 3 * WINDOW_MS);
        assert_eq!(l.state.lock().unwrap().entries.len(), 1, "two minutes later every old entry is idle");
    }
}
