//! How many items a job's worker takes at a time. The heartbeat is renewed only when a batch commits (the
//! batch's transaction holds the job's row, so nothing can beat beside it), so a batch must end well within
//! [`STALE`](super::STALE) or a live worker looks dead: the console would offer to resume a job that is working
//! and the other replica's worker would take it over, throwing the batch away. A 1,000-row import batch takes
//! seconds on a quiet machine but over a minute on an overloaded one (seen in the test suite under a load of
//! 15–18), so the size follows how long the last batch took.

use std::time::Duration;

/// The batch size for the next batch of a job whose kind allows at most `max` items at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pace {
    size: usize,
    max: usize,
}

impl Pace {
    /// Start at the kind's own size: the batches are sized for a quiet machine.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self { size: max, max }
    }

    /// Items to take next.
    pub fn size(self) -> usize {
        self.size
    }

    /// After a batch of `items` took `took`: a batch longer than a quarter of `stale` halves the next one
    /// (down to one item); one shorter than a sixteenth doubles it again, up to the kind's size. Between the
    /// two the size stays, so a steady load does not make it swing.
    pub fn after(&mut self, items: usize, took: Duration, stale: Duration) {
        if took > stale / 4 {
            self.size = (items / 2).max(1);
        } else if took < stale / 16 && items >= self.size {
            self.size = (self.size * 2).min(self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STALE: Duration = Duration::from_secs(60);

    #[test]
    fn a_slow_batch_halves_the_next_and_quick_ones_bring_it_back() {
        let mut p = Pace::new(1000);
        assert_eq!(p.size(), 1000);
        p.after(1000, Duration::from_secs(40), STALE);
        assert_eq!(p.size(), 500, "40 s is over a quarter of the minute");
        p.after(500, Duration::from_secs(20), STALE);
        assert_eq!(p.size(), 250);
        p.after(250, Duration::from_secs(10), STALE);
        assert_eq!(p.size(), 250, "between a sixteenth and a quarter it stays");
        p.after(250, Duration::from_secs(1), STALE);
        assert_eq!(p.size(), 500);
        p.after(500, Duration::from_secs(1), STALE);
        p.after(1000, Duration::from_secs(1), STALE);
        assert_eq!(p.size(), 1000, "never above the kind's size");
    }

    #[test]
    fn it_never_goes_below_one_item_and_a_short_last_batch_does_not_grow_it() {
        let mut p = Pace::new(64);
        for _ in 0..10 {
            p.after(p.size(), Duration::from_secs(59), STALE);
        }
        assert_eq!(p.size(), 1);
        let mut q = Pace::new(64);
        q.after(64, Duration::from_secs(20), STALE);
        q.after(3, Duration::from_millis(10), STALE);
        assert_eq!(q.size(), 32, "a batch of the job's last 3 items says nothing about 32");
        assert_eq!(Pace::new(0).size(), 1);
    }
}
