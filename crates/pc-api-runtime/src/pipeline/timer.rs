//! The timeout of one attempt, and when it starts counting.
//!
//! An attempt of a plain call is timed from its first poll. A listing's
//! read-ahead is sent while the consumer still works on the previous page;
//! its attempt is timed only from the first poll made while the consumer
//! waits for the page ([`Waiting`]), however many polls happened before
//! (sending the request, awaiting a token provider). A timer that has not
//! started never leaves the attempt without a wake-up: the consumer polls the
//! read-ahead when it asks for the page, and that poll starts the timer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// Whether the consumer of a listing is waiting for the page being fetched.
/// The listing sets it; the read-ahead's attempt timers read it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Waiting(Arc<AtomicBool>);

impl Waiting {
    pub(crate) fn set(&self, waiting: bool) {
        self.0.store(waiting, Ordering::Relaxed);
    }

    fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// When the timeout of an attempt starts counting.
#[derive(Clone, Debug)]
pub(crate) enum Clock {
    /// At the attempt's first poll.
    FirstPoll,
    /// At the first poll made while the consumer waits (a read-ahead).
    WhileWaited(Waiting),
}

impl Clock {
    fn counting(&self) -> bool {
        match self {
            Clock::FirstPoll => true,
            Clock::WhileWaited(waiting) => waiting.get(),
        }
    }
}

/// `Instant::now() + duration`, or `None` when that is beyond what an
/// `Instant` can hold (`Duration::MAX` means no limit).
pub(crate) fn deadline_after(duration: Duration) -> Option<Instant> {
    Instant::now().checked_add(duration)
}

/// A future with a timeout whose timer starts as its [`Clock`] says.
pub(crate) struct Timed<F> {
    inner: Pin<Box<F>>,
    timeout: Duration,
    clock: Clock,
    sleep: Option<Pin<Box<Sleep>>>,
    /// The timeout is too long to be represented: no timer at all.
    unlimited: bool,
}

impl<F: Future> Timed<F> {
    pub(crate) fn new(inner: F, timeout: Duration, clock: Clock) -> Self {
        Timed {
            inner: Box::pin(inner),
            timeout,
            clock,
            sleep: None,
            unlimited: false,
        }
    }
}

/// The timeout of an attempt ran out.
#[derive(Debug)]
pub(crate) struct Elapsed;

impl<F: Future> Future for Timed<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(output) = self.inner.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        if self.sleep.is_none() && !self.unlimited && self.clock.counting() {
            match deadline_after(self.timeout) {
                Some(deadline) => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
                None => self.unlimited = true,
            }
        }
        if let Some(sleep) = self.sleep.as_mut()
            && sleep.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(Elapsed));
        }
        Poll::Pending
    }
}
