//! Each test's wall time and the test process's CPU, one line per test in the file `HCPKI_TEST_TIMES` names
//! (scripts/test sets it and prints the per-module sums and the slowest tests after the run).
//!
//! Why: the test stage is most of CI's time, and where it goes decides what to cut next (issue #43 item 7);
//! libtest on a stable toolchain reports no times. A test is timed from the first call into the harness
//! ([`note`]: the backend macro, `hcpki_bin`, `repo_root`, the PC/SC lock, …) to the end of its thread: libtest
//! runs every test on a thread named after it, and a thread-local's destructor runs when that thread ends,
//! whether the test passed or panicked. Time spent waiting for the readers' lock (another test, or another
//! checkout's run, holds them) is recorded apart ([`locked`]), so a test's own time is `wall − lock`.
//!
//! A line: the test's name, its wall time, the part of it spent waiting for the readers' lock, 1 if it took that
//! lock, the process's CPU at the test's start and at its end, the wall-clock time of its start (seconds since
//! the Unix epoch), the time from first taking the lock to the end (the readers held; 0 without the lock;
//! tab-separated). The start times show what the per-module sums cannot: how many tests ran at
//! each moment, so a long test started late (libtest starts them in name order) and the stage's tail in which
//! fewer than `RUST_TEST_THREADS` ran (scripts/test-times prints both).
//!
//! CPU: every line carries the test process's CPU so far (its own and that of every child it has waited for,
//! from `/proc/self/stat`): the last line's is the run's total, and with `--test-threads=1` the difference
//! between a test's two figures is that test's own CPU. With several tests at once it is not (children of all
//! running tests count), so scripts/test sums only the wall times per module.

use std::cell::RefCell;
use std::io::Write as _;
use std::time::{Duration, Instant, SystemTime};

/// The environment variable naming the file the lines are appended to; unset, nothing is timed.
const TIMES_VAR: &str = "HCPKI_TEST_TIMES";

thread_local! {
    static CURRENT: RefCell<Option<Timed>> = const { RefCell::new(None) };
}

/// The test running on this thread, written out when the thread ends.
struct Timed {
    name: String,
    start: Instant,
    /// The same moment on the wall clock, comparable between tests (and test processes).
    started_at: SystemTime,
    cpu_at_start: f64,
    lock_wait: Duration,
    /// Whether the test took the PC/SC readers' lock (such tests run one at a time).
    locked: bool,
    /// When it first had that lock: from then to the test's end it held the readers (the guard drops with the
    /// test's locals, just before its thread ends).
    locked_at: Option<Instant>,
}

/// Starts timing the test running on this thread, if it is not timed yet and `HCPKI_TEST_TIMES` is set.
/// Threads that are not libtest's (unnamed, or a test's own helpers) are left alone.
pub fn note() {
    if std::env::var_os(TIMES_VAR).is_none() {
        return;
    }
    let Some(name) = std::thread::current().name().filter(|n| n.contains("::")).map(str::to_owned) else {
        return;
    };
    // `try_with`: a call made while the thread's locals are being torn down times nothing.
    let _ = CURRENT.try_with(|current| {
        let mut current = current.borrow_mut();
        if current.is_none() {
            *current = Some(Timed {
                name,
                start: Instant::now(),
                started_at: SystemTime::now(),
                cpu_at_start: process_cpu(),
                lock_wait: Duration::ZERO,
                locked: false,
                locked_at: None,
            });
        }
    });
}

/// Records that the running test took the PC/SC readers' lock after waiting `waited` for it.
pub fn locked(waited: Duration) {
    note();
    let _ = CURRENT.try_with(|current| {
        if let Some(timed) = current.borrow_mut().as_mut() {
            timed.lock_wait += waited;
            timed.locked = true;
            timed.locked_at.get_or_insert_with(Instant::now);
        }
    });
}

impl Drop for Timed {
    fn drop(&mut self) {
        let Some(path) = std::env::var_os(TIMES_VAR) else { return };
        let line = format!(
            "{}\t{:.2}\t{:.2}\t{}\t{:.2}\t{:.2}\t{:.2}\t{:.2}\n",
            self.name,
            self.start.elapsed().as_secs_f64(),
            self.lock_wait.as_secs_f64(),
            u8::from(self.locked),
            self.cpu_at_start,
            process_cpu(),
            self.started_at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs_f64(),
            self.locked_at.map_or(0.0, |at| at.elapsed().as_secs_f64())
        );
        // One write of one short line to a file opened for appending: lines of tests ending at once do not mix.
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            eprintln!("{TIMES_VAR}: cannot append to {}: {e}", std::path::Path::new(&path).display());
        }
    }
}

/// Seconds of CPU of this process and of the children it has waited for (utime, stime, cutime, cstime of
/// `/proc/self/stat`, in clock ticks of 1/100 s as Linux reports them to user space).
fn process_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    // utime is field 14 of the whole line, the 12th after the name (state is the 1st).
    let ticks: u64 = fields.iter().skip(11).take(4).filter_map(|f| f.parse::<u64>().ok()).sum();
    ticks as f64 / 100.0
}
