//! The PC/SC tests' shared resources: one pcscd with two vpcd readers (scripts/pcsc-stack), in a
//! network namespace whose name scripts/test exports as `HCPKI_TEST_PCSC_NETNS`.
//!
//! Two readers cannot host a card per test, and a card left in a reader confuses the next test, so
//! every test that inserts cards holds [`pcsc_lock`] from before its card agent starts to its end (cards
//! removed before the guard drops). There is one pcscd per machine, so the lock holds across processes
//! too: two test runs sharing it (two checkouts, or a run beside `scripts/fault`) take turns at the readers.
//!
//! Take it after starting what does not touch the readers (a portal's start is a second or more, longer under
//! load) and before the card agent and the cards: the tests holding it run one at a time, so what they do under
//! it adds up to a floor under the test stage, and every test waiting for it holds a test thread idle.

use std::ffi::CString;
use std::fs::File;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pcsc::{Context, ReaderState, Scope, State};

static PCSC: Mutex<()> = Mutex::new(());

/// The machine-wide lock file; the kernel releases its lock when the holder exits, even by SIGKILL.
const LOCK_FILE: &str = "/tmp/hcpki-pcsc-readers.lock";

/// Held while a test uses the readers: this process's mutex, then the machine-wide file lock.
pub struct PcscGuard {
    _file: File,
    _process: MutexGuard<'static, ()>,
}

/// Takes the PC/SC lock. A test that panicked while holding it has removed its cards by unwinding
/// (VpcdCard's Drop), so a poisoned lock is still good to take.
pub fn pcsc_lock() -> PcscGuard {
    // The test's clock starts before the wait, or a test whose first harness call is this one would count the
    // wait as its lock wait but not in its wall time (its own time came out negative).
    crate::timing::note();
    let asked = Instant::now();
    let process = PCSC.lock().unwrap_or_else(PoisonError::into_inner);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK_FILE)
        .unwrap_or_else(|e| panic!("{LOCK_FILE}: {e}"));
    file.lock().unwrap_or_else(|e| panic!("locking {LOCK_FILE}: {e}"));
    crate::timing::locked(asked.elapsed());
    PcscGuard { _file: file, _process: process }
}

/// The network namespace pcscd runs in, from `HCPKI_TEST_PCSC_NETNS`; an error that says how to get
/// one when it is unset or names no namespace.
pub fn pcsc_netns() -> Result<String, String> {
    let name = match std::env::var("HCPKI_TEST_PCSC_NETNS") {
        Ok(name) if !name.trim().is_empty() => name.trim().to_owned(),
        _ => {
            return Err(
                "HCPKI_TEST_PCSC_NETNS is not set: run `scripts/pcsc-stack start` (as root) and set it to the \
                        netns= name it prints, or run the whole suite with scripts/test, which does both"
                    .to_owned(),
            );
        }
    };
    let path = Path::new("/run/netns").join(&name);
    if !path.exists() {
        return Err(format!(
            "HCPKI_TEST_PCSC_NETNS={name}, but {} does not exist: is pcscd up? (`scripts/pcsc-stack status`)",
            path.display()
        ));
    }
    Ok(name)
}

/// Waits until pcscd reports reader `index` (in pcscd's order) empty, by the reader's state alone.
///
/// pcscd learns of a removal only when it next polls vpcd (every ~400 ms). A card pulled and another
/// pushed before that poll is, to pcscd, one card that never left: it never powers the new one, and
/// clients reach a card whose pcscd state is the old one's. A client that connects in between is no
/// way to wait either: its failed exchange closes vpcd's link, and the next poll finds the new card
/// already there. So this asks for the state only, and never connects.
pub fn wait_reader_empty(index: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let ctx = Context::establish(Scope::System)
        .unwrap_or_else(|e| panic!("pcscd does not answer ({e}); `scripts/pcsc-stack status`"));
    let name: CString = ctx
        .list_readers_owned()
        .unwrap_or_else(|e| panic!("pcscd lists no readers ({e}); `scripts/pcsc-stack status`"))
        .into_iter()
        .nth(index)
        .unwrap_or_else(|| panic!("pcscd has no reader {index}; `scripts/pcsc-stack status`"));
    let mut states = [ReaderState::new(name.clone(), State::UNAWARE)];
    loop {
        ctx.get_status_change(Duration::from_millis(500), &mut states)
            .or_else(|e| if e == pcsc::Error::Timeout { Ok(()) } else { Err(e) })
            .unwrap_or_else(|e| panic!("reading the state of {name:?} from pcscd: {e}"));
        let state = states[0].event_state();
        if state.contains(State::EMPTY) {
            return;
        }
        assert!(Instant::now() < deadline, "pcscd still sees a card in {name:?} 20 s after it was removed: {state:?}");
        states[0].sync_current_state();
    }
}
