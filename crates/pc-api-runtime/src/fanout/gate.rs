//! The throttle of a partner-wide run: one gate every request of the run
//! passes, before each attempt.
//!
//! Partner Center throttles per partner (numbers unpublished), so the run
//! shares one view of it:
//!
//! - a 429 from any customer pauses every request until its `Retry-After`;
//! - the run's rate adapts: on a 429 its cap becomes what the service
//!   admitted in the last second, less a margin, so that after the pause the
//!   run goes on just under the service's rate instead of storming it again;
//!   a minute of quiet raises the cap a little, to find capacity the first
//!   estimate missed. An optional fixed cap bounds it from above;
//! - the number of requests in flight adapts too: halved on a 429, grown by
//!   one per window of successes, within the configured concurrency.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The margin under the estimated rate the run settles at.
const MARGIN: f64 = 0.95;
/// How long without a 429 before the cap is raised, and by how much.
const PROBE_AFTER: Duration = Duration::from_secs(10);
const PROBE_FACTOR: f64 = 1.05;
/// The fewest answers in the window that say what the service admits: a
/// 429 after fewer (a quiet start, a throttle of one customer pair) pauses
/// the run without capping its rate.
const MIN_SAMPLES: usize = 20;
/// The window over which admitted requests are counted.
const WINDOW: Duration = Duration::from_secs(1);

/// The shared throttle of a run.
#[derive(Debug)]
pub(crate) struct Gate {
    state: Mutex<State>,
    /// Wakes requests waiting for a slot.
    notify: tokio::sync::Notify,
    max_in_flight: usize,
    fixed_rate: Option<f64>,
}

#[derive(Debug)]
struct State {
    paused_until: Option<Instant>,
    /// Requests per second the run may send; `None` until a 429 says.
    rate_cap: Option<f64>,
    /// When the last request was admitted under the rate cap.
    next_slot: Option<Instant>,
    in_flight: usize,
    in_flight_limit: usize,
    successes_since_growth: usize,
    last_throttle: Option<Instant>,
    /// When requests were answered other than 429, within the window.
    answered: VecDeque<Instant>,
    requests: u64,
    throttled: u64,
}

/// What the gate has seen so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ThrottleStats {
    /// Attempts sent.
    pub requests: u64,
    /// Attempts answered 429.
    pub throttled: u64,
    /// Attempts answered (other than 429) in the last second.
    pub rate: f64,
    /// The rate the run holds to, when a 429 or the caller set one.
    pub rate_cap: Option<f64>,
    /// Requests allowed in flight now.
    pub concurrency: usize,
}

/// A request admitted by the gate. Report its outcome with
/// [`Permit::finish`]; dropped unfinished (a cancelled request), it frees
/// its slot without counting as an answer.
pub(crate) struct Permit<'a> {
    gate: &'a Gate,
    finished: bool,
}

impl Permit<'_> {
    /// Reports the outcome: `Some(retry_after)` when the service throttled
    /// the request (429), `None` for any other answer or failure.
    pub(crate) fn finish(mut self, throttled: Option<Duration>) {
        self.finished = true;
        self.gate.done(Some(throttled));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.gate.done(None);
        }
    }
}

impl Gate {
    pub(crate) fn new(max_in_flight: usize, fixed_rate: Option<f64>) -> Gate {
        let max_in_flight = max_in_flight.max(1);
        Gate {
            state: Mutex::new(State {
                paused_until: None,
                rate_cap: None,
                next_slot: None,
                in_flight: 0,
                in_flight_limit: max_in_flight,
                successes_since_growth: 0,
                last_throttle: None,
                answered: VecDeque::new(),
                requests: 0,
                throttled: 0,
            }),
            notify: tokio::sync::Notify::new(),
            max_in_flight,
            fixed_rate: fixed_rate.filter(|r| r.is_finite() && *r > 0.0),
        }
    }

    /// Waits until the run may send one more request: not paused, a slot
    /// free, and the rate cap allowing it.
    pub(crate) async fn admit(&self) -> Permit<'_> {
        loop {
            // Registered before the state is looked at, so that a slot freed
            // in between still wakes this request.
            let mut notified = std::pin::pin!(self.notify.notified());
            notified.as_mut().enable();
            let wait = {
                let Ok(mut state) = self.state.lock() else {
                    return Permit {
                        gate: self,
                        finished: true,
                    };
                };
                let now = Instant::now();
                match self.check(&mut state, now) {
                    None => {
                        state.in_flight += 1;
                        state.requests += 1;
                        return Permit {
                            gate: self,
                            finished: false,
                        };
                    }
                    Some(wait) => wait,
                }
            };
            match wait {
                Some(until) => {
                    // Whichever comes first: the time, or a freed slot.
                    let _ = tokio::time::timeout_at(until, notified).await;
                }
                None => notified.await,
            }
        }
    }

    /// `None` when a request may go now (its rate slot is taken); else when
    /// to look again (`Some(None)`: when a slot frees).
    fn check(&self, state: &mut State, now: Instant) -> Option<Option<Instant>> {
        if let Some(until) = state.paused_until {
            if now < until {
                return Some(Some(until));
            }
            state.paused_until = None;
        }
        if state.in_flight >= state.in_flight_limit {
            return Some(None);
        }
        if let Some(rate) = self.effective_rate(state) {
            let interval = Duration::from_secs_f64(1.0 / rate);
            if let Some(slot) = state.next_slot
                && slot > now
            {
                return Some(Some(slot));
            }
            // Slots follow each other at the interval, whatever the timer's
            // lateness; after an idle spell, no burst to catch up.
            let floor = now.checked_sub(interval).unwrap_or(now);
            let slot = state.next_slot.map_or(now, |slot| slot.max(floor));
            state.next_slot = Some(slot + interval);
        }
        None
    }

    fn effective_rate(&self, state: &State) -> Option<f64> {
        match (state.rate_cap, self.fixed_rate) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A request is over: `outcome` is `None` when it was cancelled,
    /// `Some(Some(retry_after))` when it was throttled.
    fn done(&self, outcome: Option<Option<Duration>>) {
        if let Ok(mut state) = self.state.lock() {
            let now = Instant::now();
            state.in_flight = state.in_flight.saturating_sub(1);
            while state
                .answered
                .front()
                .is_some_and(|t| now.duration_since(*t) > WINDOW)
            {
                state.answered.pop_front();
            }
            match outcome {
                None => {}
                Some(Some(retry_after)) => self.throttled(&mut state, now, retry_after),
                Some(None) => {
                    state.answered.push_back(now);
                    state.successes_since_growth += 1;
                    if state.successes_since_growth >= state.in_flight_limit.max(4) {
                        state.successes_since_growth = 0;
                        state.in_flight_limit = (state.in_flight_limit + 1).min(self.max_in_flight);
                    }
                    if let (Some(cap), Some(last)) = (state.rate_cap, state.last_throttle)
                        && now.duration_since(last) > PROBE_AFTER
                    {
                        state.rate_cap = Some(cap * PROBE_FACTOR);
                        state.last_throttle = Some(now);
                    }
                }
            }
        }
        self.notify.notify_waiters();
    }

    fn throttled(&self, state: &mut State, now: Instant, retry_after: Duration) {
        state.throttled += 1;
        let until = now + retry_after.max(Duration::from_millis(100));
        state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        // One cut per storm: the 429s of the requests already in flight say
        // nothing new.
        let fresh = state
            .last_throttle
            .is_none_or(|last| now.duration_since(last) > retry_after.max(WINDOW));
        if fresh {
            if state.answered.len() >= MIN_SAMPLES {
                let admitted = state.answered.len() as f64 / WINDOW.as_secs_f64();
                let estimate = (admitted * MARGIN).max(1.0);
                state.rate_cap = Some(state.rate_cap.map_or(estimate, |cap| cap.min(estimate)));
            }
            state.in_flight_limit = (state.in_flight_limit / 2).max(1);
            state.successes_since_growth = 0;
        }
        state.last_throttle = Some(now);
        state.next_slot = None;
    }

    /// What the gate has seen so far.
    pub(crate) fn stats(&self) -> ThrottleStats {
        let Ok(mut state) = self.state.lock() else {
            return ThrottleStats::default();
        };
        let now = Instant::now();
        while state
            .answered
            .front()
            .is_some_and(|t| now.duration_since(*t) > WINDOW)
        {
            state.answered.pop_front();
        }
        ThrottleStats {
            requests: state.requests,
            throttled: state.throttled,
            rate: state.answered.len() as f64 / WINDOW.as_secs_f64(),
            rate_cap: self.effective_rate(&state),
            concurrency: state.in_flight_limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_every_request_and_caps_the_rate() {
        let gate = Gate::new(8, None);
        for _ in 0..50 {
            gate.admit().await.finish(None);
        }
        gate.admit().await.finish(Some(Duration::from_secs(2)));
        let stats = gate.stats();
        assert_eq!(stats.throttled, 1);
        assert_eq!(stats.concurrency, 4);
        let cap = stats.rate_cap.expect("a cap");
        assert!((cap - 47.5).abs() < 0.01, "{cap}");
        let before = Instant::now();
        let _admitted = gate.admit().await;
        assert!(Instant::now().duration_since(before) >= Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fixed_rate_spaces_the_requests() {
        let gate = Gate::new(8, Some(10.0));
        let start = Instant::now();
        for _ in 0..21 {
            gate.admit().await.finish(None);
        }
        let took = Instant::now().duration_since(start);
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_millis(2050),
            "{took:?}"
        );
        // A request dropped unfinished frees its slot.
        drop(gate.admit().await);
        assert_eq!(gate.stats().requests, 22);
        assert_eq!(gate.stats().concurrency, 8);
    }
}
