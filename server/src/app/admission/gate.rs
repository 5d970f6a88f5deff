//! The admission gate in front of the expensive work of `hcpki serve` (issue #46 item 4, D138), without HTTP:
//! a bounded number of requests run at once, a bounded number wait per kind of work, and the rest are refused
//! at once with how long to wait. The clock is passed in, so the tests drive time.
//!
//! * **One pool of running slots, one waiting line per kind of work.** Logins, enrollments and signatures share
//!   the cores, so they share the slots; but a flood of one kind fills only its own line, and a freed slot goes to
//!   the lines in turn, so a batch of renewals cannot push the physicians' logins out (D138).
//! * **Sign-ins under way first.** A card login is three gated requests (challenge, signature, token): admitting
//!   new logins' first steps while refusing the later steps of those already started would waste the work done
//!   and finish none. So the line of later steps ([`Work::Finish`]) gets every other turn.
//! * **Refusal at once.** A request that finds its line full is refused on arrival: it costs nothing but the
//!   refusal. One that waited `max_wait` without a slot is refused then, so nothing admitted waits without end
//!   (a stalled database, say).
//! * **Retry-After** is the time the work in front of the gate needs to drain at the recent service time.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// Unix milliseconds of the caller's clock.
pub type Millis = i64;

/// Refusals less than this far apart belong to one overload episode (logged once, at its start).
const EPISODE_GAP_MS: Millis = 10_000;
/// The longest `Retry-After` said: a client told to wait longer would have given up; by then the load changed.
const MAX_RETRY_AFTER_SECS: u64 = 30;
/// Weight of the newest service time in the running mean (1/8: a few dozen requests to follow a change).
const MEAN_WEIGHT: f64 = 0.125;
/// The service time assumed before any request finished.
const FIRST_MEAN_MS: f64 = 50.0;

/// The kinds of expensive work, each with its own waiting line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Work {
    /// A sign-in starting: the password form, the card login's challenge.
    Login,
    /// A sign-in under way and its tokens: the card's signature checked and the session made, `/token`.
    Finish,
    /// EST, SCEP and ACME enrollment and facility applications (a certificate signed and stored).
    Enroll,
    /// Document signatures (verification, signing and consent pages) and time stamps.
    Sign,
}

impl Work {
    /// Every kind, in metric order.
    pub const ALL: [Work; 4] = [Work::Login, Work::Finish, Work::Enroll, Work::Sign];

    /// The metric label and log field.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Finish => "finish",
            Self::Enroll => "enroll",
            Self::Sign => "sign",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Login => 0,
            Self::Finish => 1,
            Self::Enroll => 2,
            Self::Sign => 3,
        }
    }
}

/// How much runs and waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Requests running at once, all kinds together (at least 1).
    pub running: usize,
    /// Requests waiting for a slot, per kind of work (0: refuse whenever every slot is taken).
    pub waiting: usize,
    /// The longest a request waits for a slot before it is refused.
    pub max_wait_ms: Millis,
}

impl Bounds {
    /// The defaults for `cores` CPU cores: 8 running per core (enough concurrent enrollments for the group
    /// commit to share its commits, few enough that the cores are not split ever thinner), 4 waiting per core
    /// and kind (an admitted request waits at most about half its running time again), and 5 s at most in the
    /// line.
    pub fn for_cores(cores: usize) -> Self {
        let cores = cores.max(1);
        Self { running: 8 * cores, waiting: 4 * cores, max_wait_ms: 5_000 }
    }
}

/// Whom to tell that a waiting request got its slot: a channel in the server, a cell in the tests.
pub trait Wake {
    /// Hand `slot` over; give it back if the waiter is gone (its client hung up).
    fn wake(self, slot: Slot) -> Result<(), Slot>;
}

/// What the gate says to an arriving request.
#[derive(Debug)]
#[must_use]
pub enum Arrival {
    /// Run now; give the slot back with [`Gate::finish`].
    Run(Slot),
    /// Wait in the line: the slot comes through the [`Wake`] given, or give up with [`Gate::withdraw`].
    Wait(Ticket),
    /// Refused: the line is full.
    Refuse(Refusal),
}

/// A running request's place. Not `Clone`: each is given back once.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub struct Slot {
    work: Work,
    since: Millis,
}

impl Slot {
    /// The kind of work it runs.
    pub fn work(&self) -> Work {
        self.work
    }
}

/// A waiting request's place in its line.
#[derive(Debug, PartialEq, Eq)]
pub struct Ticket {
    work: Work,
    id: u64,
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// Every slot taken and the line full when it arrived.
    Full,
    /// It waited the longest wait without a slot.
    Waited,
}

/// A refusal: how long the client should wait, and whether this refusal starts an overload episode (the
/// first refusal after a quiet while: the one to log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Whole seconds for `Retry-After` (1 to 30).
    pub retry_after: u64,
    /// Why.
    pub why: Why,
    /// The first refusal after [`EPISODE_GAP_MS`] without one.
    pub episode_starts: bool,
}

/// How full the gate is, for the metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Load {
    /// Requests running.
    pub running: usize,
    /// Requests waiting, per kind in [`Work::ALL`] order.
    pub waiting: [usize; 4],
}

/// The gate: one per server, shared by every listener.
#[derive(Debug)]
pub struct Gate<W> {
    bounds: Bounds,
    state: Mutex<State<W>>,
}

#[derive(Debug)]
struct State<W> {
    running: usize,
    lines: [VecDeque<Waiter<W>>; 4],
    /// Where the lines' turns stand ([`TURNS`]).
    turn: usize,
    next_ticket: u64,
    /// Running mean of the service time (slot taken to slot given back), ms.
    mean_ms: f64,
    last_refusal: Option<Millis>,
}

#[derive(Debug)]
struct Waiter<W> {
    id: u64,
    wake: W,
}

impl<W: Wake> Gate<W> {
    /// A gate with `bounds` (a running bound of 0 is taken as 1).
    pub fn new(bounds: Bounds) -> Self {
        let bounds = Bounds { running: bounds.running.max(1), ..bounds };
        Self {
            bounds,
            state: Mutex::new(State {
                running: 0,
                lines: [VecDeque::new(), VecDeque::new(), VecDeque::new(), VecDeque::new()],
                turn: 0,
                next_ticket: 0,
                mean_ms: FIRST_MEAN_MS,
                last_refusal: None,
            }),
        }
    }

    /// The bounds in force.
    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// A request of `work` arrives at `now`: run it, let it wait (told through `wake`), or refuse it.
    pub fn arrive(&self, work: Work, now: Millis, wake: W) -> Arrival {
        let mut state = self.lock();
        if state.running < self.bounds.running {
            state.running += 1;
            return Arrival::Run(Slot { work, since: now });
        }
        let waiting = state.lines.get(work.index()).map_or(0, VecDeque::len);
        if waiting < self.bounds.waiting {
            let id = state.next_ticket;
            state.next_ticket += 1;
            if let Some(line) = state.lines.get_mut(work.index()) {
                line.push_back(Waiter { id, wake });
            }
            return Arrival::Wait(Ticket { work, id });
        }
        Arrival::Refuse(self.refuse(&mut state, Why::Full, now))
    }

    /// A running request gives its slot back at `now`: the slot goes to the next waiter, the lines taking
    /// turns (a waiter that is gone is skipped).
    pub fn finish(&self, slot: Slot, now: Millis) {
        let mut state = self.lock();
        // A clock stepped back counts as no time.
        let took = (now - slot.since).max(0) as f64;
        state.mean_ms += MEAN_WEIGHT * (took - state.mean_ms);
        state.running = state.running.saturating_sub(1);
        // One pass hands the freed slot on; a waiter that is gone gives it back and the next one is asked.
        while state.running < self.bounds.running {
            let Some((work, waiter)) = next_waiter(&mut state) else { break };
            state.running += 1;
            if waiter.wake.wake(Slot { work, since: now }).is_err() {
                state.running -= 1;
            }
        }
    }

    /// A waiting request gives up at `now` (it waited `max_wait`, or its client hung up): refused if it was
    /// still in its line; `None` if a slot was already handed to it (its [`Wake`] has it: run then).
    pub fn withdraw(&self, ticket: &Ticket, now: Millis) -> Option<Refusal> {
        let mut state = self.lock();
        let line = state.lines.get_mut(ticket.work.index())?;
        let at = line.iter().position(|w| w.id == ticket.id)?;
        line.remove(at);
        Some(self.refuse(&mut state, Why::Waited, now))
    }

    /// How full the gate is now.
    pub fn load(&self) -> Load {
        let state = self.lock();
        let mut waiting = [0; 4];
        for (n, line) in waiting.iter_mut().zip(&state.lines) {
            *n = line.len();
        }
        Load { running: state.running, waiting }
    }

    /// The refusal at `now`: Retry-After is the time the running and waiting work needs to drain through the
    /// slots at the recent mean service time, in whole seconds, at least 1.
    fn refuse(&self, state: &mut State<W>, why: Why, now: Millis) -> Refusal {
        let ahead = state.running + state.lines.iter().map(VecDeque::len).sum::<usize>();
        let drain_ms = state.mean_ms * ahead as f64 / self.bounds.running as f64;
        let retry_after = ((drain_ms / 1000.0).ceil() as u64).clamp(1, MAX_RETRY_AFTER_SECS);
        let episode_starts = state.last_refusal.is_none_or(|last| now - last >= EPISODE_GAP_MS);
        state.last_refusal = Some(now);
        Refusal { retry_after, why, episode_starts }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<W>> {
        // The state stays consistent between statements: a panic elsewhere leaves nothing half-done here.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The order in which the lines get freed slots: sign-ins under way every other turn, the others in between.
const TURNS: [Work; 6] = [Work::Finish, Work::Login, Work::Finish, Work::Enroll, Work::Finish, Work::Sign];

/// The next waiter, the lines taking turns from `state.turn` (an empty line's turn passes), with its kind; the
/// turn moves past the line served.
fn next_waiter<W>(state: &mut State<W>) -> Option<(Work, Waiter<W>)> {
    for step in 0..TURNS.len() {
        let at = (state.turn + step) % TURNS.len();
        let Some(work) = TURNS.get(at).copied() else { continue };
        if let Some(waiter) = state.lines.get_mut(work.index()).and_then(VecDeque::pop_front) {
            state.turn = (at + 1) % TURNS.len();
            return Some((work, waiter));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    const T0: Millis = 1_700_000_000_000;

    /// A waiter in the tests: the slot lands in a cell; `gone` waiters refuse it as a hung-up client does.
    #[derive(Clone, Debug, Default)]
    struct Cell {
        slot: Rc<RefCell<Option<Slot>>>,
        gone: bool,
    }

    impl Wake for Cell {
        fn wake(self, slot: Slot) -> Result<(), Slot> {
            if self.gone {
                return Err(slot);
            }
            *self.slot.borrow_mut() = Some(slot);
            Ok(())
        }
    }

    impl Cell {
        fn take(&self) -> Option<Slot> {
            self.slot.borrow_mut().take()
        }
    }

    fn gate(running: usize, waiting: usize) -> Gate<Cell> {
        Gate::new(Bounds { running, waiting, max_wait_ms: 5_000 })
    }

    fn run(arrival: Arrival) -> Slot {
        match arrival {
            Arrival::Run(slot) => slot,
            other => panic!("expected to run: {other:?}"),
        }
    }

    fn wait(arrival: Arrival) -> Ticket {
        match arrival {
            Arrival::Wait(ticket) => ticket,
            other => panic!("expected to wait: {other:?}"),
        }
    }

    fn refused(arrival: Arrival) -> Refusal {
        match arrival {
            Arrival::Refuse(refusal) => refusal,
            other => panic!("expected a refusal: {other:?}"),
        }
    }

    #[test]
    fn runs_up_to_the_bound_queues_up_to_the_line_and_refuses_the_rest_at_once() {
        let g = gate(2, 1);
        let a = run(g.arrive(Work::Enroll, T0, Cell::default()));
        let _b = run(g.arrive(Work::Enroll, T0, Cell::default()));
        let waiter = Cell::default();
        let _ticket = wait(g.arrive(Work::Enroll, T0, waiter.clone()));
        let refusal = refused(g.arrive(Work::Enroll, T0, Cell::default()));
        assert_eq!(refusal.why, Why::Full);
        assert!(refusal.episode_starts, "the first refusal starts an episode");
        assert_eq!(refusal.retry_after, 1, "at least a second");
        assert!(!refused(g.arrive(Work::Enroll, T0 + 1, Cell::default())).episode_starts, "one episode");
        assert_eq!(g.load(), Load { running: 2, waiting: [0, 0, 1, 0] });

        g.finish(a, T0 + 20);
        let promoted = waiter.take().expect("the waiter got the freed slot");
        assert_eq!(promoted.work(), Work::Enroll);
        assert_eq!(g.load(), Load { running: 2, waiting: [0, 0, 0, 0] }, "handed over, not freed");
        g.finish(promoted, T0 + 40);
        assert_eq!(g.load().running, 1);
    }

    #[test]
    fn each_kind_has_its_own_line_and_freed_slots_go_to_the_lines_in_turn() {
        let g = gate(1, 3);
        let first = run(g.arrive(Work::Enroll, T0, Cell::default()));
        let enrollments: Vec<Cell> = (0..3).map(|_| Cell::default()).collect();
        for c in &enrollments {
            let _ = wait(g.arrive(Work::Enroll, T0, c.clone()));
        }
        assert_eq!(refused(g.arrive(Work::Enroll, T0, Cell::default())).why, Why::Full, "the enroll line is full");
        let login = Cell::default();
        let _ = wait(g.arrive(Work::Login, T0, login.clone()));
        // The next slot goes to the login line (its turn comes before the enrollments'), then to them.
        g.finish(first, T0 + 10);
        let s = login.take().expect("the login waited less than three enrollments");
        assert_eq!(s.work(), Work::Login);
        g.finish(s, T0 + 20);
        let s = enrollments[0].take().expect("then the first enrollment");
        assert_eq!(s.work(), Work::Enroll);
        g.finish(s, T0 + 30);
        assert!(enrollments[1].take().is_some(), "first come, first served within a line");
    }

    #[test]
    fn sign_ins_under_way_get_every_other_slot() {
        let g = gate(1, 10);
        let mut running = run(g.arrive(Work::Enroll, T0, Cell::default()));
        let cells = |work: Work, n: usize| -> Vec<Cell> {
            (0..n)
                .map(|_| {
                    let c = Cell::default();
                    let _ = wait(g.arrive(work, T0, c.clone()));
                    c
                })
                .collect()
        };
        let (starts, finishes, enrollments) = (cells(Work::Login, 4), cells(Work::Finish, 6), cells(Work::Enroll, 4));
        let mut order = Vec::new();
        for n in 0..9 {
            g.finish(running, T0 + n);
            let woken = starts.iter().chain(&finishes).chain(&enrollments).find_map(Cell::take).expect("a waiter");
            order.push(woken.work());
            running = woken;
        }
        use Work::{Enroll, Finish, Login};
        assert_eq!(
            order,
            [Finish, Login, Finish, Enroll, Finish, Finish, Login, Finish, Enroll],
            "no sign line: its turn passes"
        );
    }

    #[test]
    fn a_waiter_that_gave_up_leaves_its_line_and_one_that_hung_up_is_skipped() {
        let g = gate(1, 2);
        let s = run(g.arrive(Work::Sign, T0, Cell::default()));
        let gone = Cell { gone: true, ..Cell::default() };
        let _ = wait(g.arrive(Work::Sign, T0, gone));
        let patient = Cell::default();
        let _ = wait(g.arrive(Work::Sign, T0, patient.clone()));
        g.finish(s, T0 + 5);
        let s = patient.take().expect("the hung-up waiter was skipped");
        assert_eq!(g.load().running, 1);

        let late = Cell::default();
        let ticket = wait(g.arrive(Work::Sign, T0 + 6, late.clone()));
        let refusal = g.withdraw(&ticket, T0 + 5_006).expect("still waiting: refused");
        assert_eq!(refusal.why, Why::Waited);
        assert_eq!(g.load().waiting, [0, 0, 0, 0]);
        g.finish(s, T0 + 5_007);
        assert!(late.take().is_none(), "a withdrawn waiter gets no slot");
        assert_eq!(g.load().running, 0, "nobody waiting: the slot is free");

        // Withdrawing after the slot was handed over: run with it.
        let s = run(g.arrive(Work::Sign, T0, Cell::default()));
        let lucky = Cell::default();
        let ticket = wait(g.arrive(Work::Sign, T0, lucky.clone()));
        g.finish(s, T0 + 1);
        assert_eq!(g.withdraw(&ticket, T0 + 2), None, "the slot is in its wake");
        assert!(lucky.take().is_some());
    }

    #[test]
    fn retry_after_is_the_time_to_drain_at_the_recent_service_time() {
        let g = gate(2, 4);
        // Slow work: 2 s per request, long enough for the mean to follow.
        for n in 0..40 {
            let s = run(g.arrive(Work::Login, T0 + n * 2_000, Cell::default()));
            g.finish(s, T0 + (n + 1) * 2_000);
        }
        let now = T0 + 100_000;
        let _running: Vec<Slot> = (0..2).map(|_| run(g.arrive(Work::Login, now, Cell::default()))).collect();
        for _ in 0..4 {
            let _ = wait(g.arrive(Work::Login, now, Cell::default()));
        }
        // Six requests ahead, two slots, ~2 s each: about 6 s.
        let r = refused(g.arrive(Work::Login, now, Cell::default()));
        assert!((5..=7).contains(&r.retry_after), "{r:?}");
        assert!(r.episode_starts);
        assert!(!refused(g.arrive(Work::Login, now + EPISODE_GAP_MS - 1, Cell::default())).episode_starts);
        assert!(refused(g.arrive(Work::Login, now + 3 * EPISODE_GAP_MS, Cell::default())).episode_starts);
    }

    #[test]
    fn no_line_refuses_whenever_every_slot_is_taken() {
        let g = gate(1, 0);
        let s = run(g.arrive(Work::Login, T0, Cell::default()));
        assert_eq!(refused(g.arrive(Work::Login, T0, Cell::default())).why, Why::Full);
        g.finish(s, T0 + 1);
        let _ = run(g.arrive(Work::Login, T0 + 2, Cell::default()));
        assert_eq!(Bounds::for_cores(2), Bounds { running: 16, waiting: 8, max_wait_ms: 5_000 });
        assert_eq!(Bounds::for_cores(0).running, 8, "at least one core");
    }
}
