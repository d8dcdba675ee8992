//! A partner-wide run: one paged operation listed for every customer, under
//! one throttle, resumable, each item exactly once.
//!
//! [`FanOut`] lists customers (or takes a list), then runs the per-customer
//! listing of each, at most `concurrency` customers at a time, the pages of
//! one customer in order with their read-ahead. Every request of the run
//! passes one [`gate`](self) that pauses the whole run on a 429 and holds it
//! near the rate the service allows. A customer that fails (no
//! relationship, a deleted tenant, a page that keeps failing) is reported
//! and the run goes on; a failure that dooms every customer (the customers
//! listing, sign-in, an expired token) ends it. A [`Checkpoint`] records,
//! per customer, done or the continuation token to resume from: the caller
//! commits it together with the output it covers, and a run started from
//! it lists exactly the rest.

pub(crate) mod gate;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use self::gate::Gate;
pub use self::gate::ThrottleStats;
use crate::client::{ApiClient, ClientCore};
use crate::error::{Error, ErrorKind};
use crate::paging::{Items, Page, Paged, Pages};
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// Customers listed at a time when none is set.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// 429s retried per request in a run when no retry policy is set: the run
/// waits throttling out rather than failing a customer over it.
pub const DEFAULT_THROTTLE_RETRIES: u32 = 50;

/// Where a customer stands in a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum CustomerState {
    /// Every page was listed.
    Done,
    /// Listed up to the page before the one `token` fetches.
    Resume {
        /// The continuation token of the next page (a secret: it is written
        /// to the checkpoint in clear, never shown in `Debug`).
        token: Secret,
    },
}

/// Per customer, where a run stands: done, or the token to resume from.
/// Customers it does not name start from their first page. Commit it with
/// the output it covers (write the output, then the checkpoint atomically):
/// a run started from it lists exactly what is not in that output. Failed
/// customers are not recorded, so a rerun tries them again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    customers: BTreeMap<String, CustomerState>,
}

impl Checkpoint {
    /// An empty checkpoint: every customer from its first page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where `customer` stands, if the checkpoint says.
    pub fn state(&self, customer: &str) -> Option<&CustomerState> {
        self.customers.get(customer)
    }

    /// Records where `customer` stands.
    pub fn set(&mut self, customer: impl Into<String>, state: CustomerState) {
        self.customers.insert(customer.into(), state);
    }

    /// Records what an event of a run means for the checkpoint: a page
    /// moves its customer to the next page's token (or done), `Done` marks
    /// it done; failures leave it as it was.
    pub fn record<T, B>(&mut self, event: &Event<T, B>) {
        match event {
            Event::Page { customer, page } => {
                let state = match page.continuation_token() {
                    Some(token) => CustomerState::Resume {
                        token: token.clone(),
                    },
                    None => CustomerState::Done,
                };
                self.set(customer.clone(), state);
            }
            Event::Done { customer } => self.set(customer.clone(), CustomerState::Done),
            Event::Failed { .. } => {}
        }
    }

    /// How many customers are done.
    pub fn done(&self) -> usize {
        self.customers
            .values()
            .filter(|s| **s == CustomerState::Done)
            .count()
    }
}

/// What a run hands out.
pub enum Event<T, B> {
    /// A page of `customer`'s listing, in order. Its
    /// [`continuation_token`](Page::continuation_token) is where the
    /// customer resumes after it ([`Checkpoint::record`]).
    Page {
        /// The customer.
        customer: String,
        /// The page.
        page: Page<T>,
    },
    /// `customer`'s listing is complete.
    Done {
        /// The customer.
        customer: String,
    },
    /// `customer` failed (403 20002 no relationship, 404 60003 deleted
    /// tenant, a page that kept failing); the run goes on.
    Failed {
        /// The customer.
        customer: String,
        /// Its error, with the status, fault code, page and request ids.
        error: Error<B>,
    },
}

impl<T, B> fmt::Debug for Event<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Page { customer, page } => f
                .debug_struct("Page")
                .field("customer", customer)
                .field("number", &page.number())
                .finish_non_exhaustive(),
            Event::Done { customer } => f.debug_struct("Done").field("customer", customer).finish(),
            Event::Failed { customer, error } => f
                .debug_struct("Failed")
                .field("customer", customer)
                .field("error", error)
                .finish(),
        }
    }
}

/// Where a run stands; [`FanOut::progress`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    /// Customers listed completely (in this run).
    pub customers_done: u64,
    /// Customers that failed.
    pub customers_failed: u64,
    /// Customers being listed now.
    pub customers_running: u64,
    /// Customers read from the customer listing and not started yet.
    pub customers_queued: u64,
    /// Customers a checkpoint said were done, not listed again.
    pub customers_skipped: u64,
    /// Items handed out.
    pub items: u64,
    /// The run's throttle: requests, 429s, rate, cap, concurrency.
    pub throttle: ThrottleStats,
}

/// What one customer's listing is asked for.
#[derive(Clone, Debug)]
pub struct Listing {
    /// The customer.
    pub customer: String,
    /// The token to resume from, from a checkpoint.
    pub resume: Option<Secret>,
    /// The page size the run was given, if any.
    pub page_size: Option<i32>,
}

/// A stream of customer ids, as a run lists them.
pub type CustomerIds<B> = Pin<Box<dyn Stream<Item = Result<String, Error<B>>> + Send>>;
type ListingFn<C, T, B> = Arc<dyn Fn(&C, Listing) -> Pages<T, B> + Send + Sync>;
type CustomersFn<C, B> = Box<dyn FnOnce(&C) -> CustomerIds<B> + Send>;

/// Configures a [`FanOut`]: made by a generated client's convenience (such as
/// `pc_api::Client::all_customer_users`) or by [`FanOut::builder`].
pub struct FanOutBuilder<C, T, B> {
    client: C,
    customers: CustomersFn<C, B>,
    listing: ListingFn<C, T, B>,
    concurrency: usize,
    max_rate: Option<f64>,
    checkpoint: Checkpoint,
    retry: Option<RetryPolicy>,
    page_size: Option<i32>,
}

impl<C, T, B> fmt::Debug for FanOutBuilder<C, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanOutBuilder")
            .field("concurrency", &self.concurrency)
            .field("max_rate", &self.max_rate)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl<C, T, B> FanOutBuilder<C, T, B>
where
    C: ApiClient + std::ops::Deref<Target = ClientCore> + Send + Sync + 'static,
    T: Paged,
    B: Send + 'static,
{
    /// Customers listed at a time (default 8, at least 1). The requests in
    /// flight adapt below it: halved on a 429, grown back on success.
    pub fn concurrency(mut self, customers: usize) -> Self {
        self.concurrency = customers.max(1);
        self
    }

    /// A fixed cap on the run's requests per second, below what the
    /// service's 429s teach it.
    pub fn max_requests_per_second(mut self, rate: f64) -> Self {
        self.max_rate = Some(rate);
        self
    }

    /// Resumes a run: customers the checkpoint says are done are skipped,
    /// those it has a token for resume from it.
    pub fn checkpoint(mut self, checkpoint: Checkpoint) -> Self {
        self.checkpoint = checkpoint;
        self
    }

    /// The retry policy of the run's requests (default: the client's, with
    /// 429s counted apart, up to [`DEFAULT_THROTTLE_RETRIES`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The page size of the per-customer listings (default: the service's).
    pub fn page_size(mut self, size: i32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Only these customers, in this order, instead of listing them.
    pub fn customers(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let ids: VecDeque<String> = ids.into_iter().map(Into::into).collect();
        self.customers = Box::new(move |_| Box::pin(FixedIds(ids, PhantomData)));
        self
    }

    /// Starts the run (lazily: nothing is sent until it is polled).
    pub fn run(self) -> FanOut<T, B> {
        let retry = self.retry.unwrap_or_else(|| {
            self.client
                .retry_policy()
                .clone()
                .max_throttle_retries(DEFAULT_THROTTLE_RETRIES)
        });
        let gate = Arc::new(Gate::new(self.concurrency, self.max_rate));
        let client = C::from_core(self.client.gated(Arc::clone(&gate), retry));
        let customers = (self.customers)(&client);
        let listing = Arc::clone(&self.listing);
        let page_size = self.page_size;
        let start: Box<dyn Fn(Listing) -> Pages<T, B> + Send> = Box::new(move |mut request| {
            request.page_size = page_size;
            listing(&client, request)
        });
        FanOut {
            customers: Some(customers),
            queued: std::collections::VecDeque::new(),
            start,
            active: Vec::new(),
            next_poll: 0,
            concurrency: self.concurrency,
            checkpoint: self.checkpoint,
            gate,
            stats: Arc::new(Stats::default()),
            finished: false,
        }
    }
}

/// A partner-wide run: a stream of [`Event`]s, ended by the last customer
/// or by an error that dooms every customer (`Err`, then `None`).
pub struct FanOut<T, B> {
    customers: Option<CustomerIds<B>>,
    /// Customer ids read and not started yet. The customer listing is read
    /// as fast as it comes (a few MB for 100,000 customers): a listing that
    /// was only polled when a customer could start would hold the run's
    /// slot for its read-ahead page while every customer waits for one.
    queued: std::collections::VecDeque<String>,
    start: Box<dyn Fn(Listing) -> Pages<T, B> + Send>,
    active: Vec<Active<T, B>>,
    next_poll: usize,
    concurrency: usize,
    checkpoint: Checkpoint,
    gate: Arc<Gate>,
    stats: Arc<Stats>,
    finished: bool,
}

struct Active<T, B> {
    customer: String,
    pages: Pages<T, B>,
    span: tracing::Span,
}

#[derive(Default)]
struct Stats {
    done: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    items: AtomicU64,
}

impl<T, B> fmt::Debug for FanOut<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanOut")
            .field("running", &self.active.len())
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl<T, B> Unpin for FanOut<T, B> {}

impl<T: Paged, B: Send + 'static> FanOut<T, B> {
    /// A run of `listing` over the customers `customers` lists, with `client`
    /// (a generated client). Generated crates offer it ready-made, e.g.
    /// `pc_api::Client::all_customer_users`.
    pub fn builder<C>(
        client: C,
        customers: impl FnOnce(&C) -> CustomerIds<B> + Send + 'static,
        listing: impl Fn(&C, Listing) -> Pages<T, B> + Send + Sync + 'static,
    ) -> FanOutBuilder<C, T, B>
    where
        C: ApiClient + std::ops::Deref<Target = ClientCore> + Send + Sync + 'static,
    {
        FanOutBuilder {
            client,
            customers: Box::new(customers),
            listing: Arc::new(listing),
            concurrency: DEFAULT_CONCURRENCY,
            max_rate: None,
            checkpoint: Checkpoint::new(),
            retry: None,
            page_size: None,
        }
    }
}

impl<T, B> FanOut<T, B> {
    /// Where the run stands.
    pub fn progress(&self) -> Progress {
        Progress {
            customers_done: self.stats.done.load(Ordering::Relaxed),
            customers_failed: self.stats.failed.load(Ordering::Relaxed),
            customers_running: self.active.len() as u64,
            customers_queued: self.queued.len() as u64,
            customers_skipped: self.stats.skipped.load(Ordering::Relaxed),
            items: self.stats.items.load(Ordering::Relaxed),
            throttle: self.gate.stats(),
        }
    }
}

/// Whether an error ends the whole run: every customer would meet it.
fn dooms_every_customer<B>(error: &Error<B>) -> bool {
    matches!(error.kind(), ErrorKind::Auth | ErrorKind::Config)
        || error.status() == Some(StatusCode::UNAUTHORIZED)
}

impl<T: Paged, B: Send + 'static> Stream for FanOut<T, B> {
    type Item = Result<Event<T, B>, Error<B>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        // Read the customer listing as far as it has come.
        while let Some(customers) = this.customers.as_mut() {
            match customers.as_mut().poll_next(cx) {
                Poll::Pending => break,
                Poll::Ready(None) => this.customers = None,
                Poll::Ready(Some(Err(error))) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(Some(Ok(customer))) => this.queued.push_back(customer),
            }
        }
        // Start customers while there is room.
        while this.active.len() < this.concurrency {
            let Some(customer) = this.queued.pop_front() else {
                break;
            };
            let resume = match this.checkpoint.state(&customer) {
                Some(CustomerState::Done) => {
                    this.stats.skipped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Some(CustomerState::Resume { token }) => Some(token.clone()),
                None => None,
            };
            let span = tracing::info_span!("pc_api.customer", customer = %customer);
            let pages = {
                let _entered = span.enter();
                (this.start)(Listing {
                    customer: customer.clone(),
                    resume,
                    page_size: None,
                })
            };
            this.active.push(Active {
                customer,
                pages,
                span,
            });
        }
        // Poll the customers being listed, round robin.
        let count = this.active.len();
        for offset in 0..count {
            let index = (this.next_poll + offset) % count;
            let active = &mut this.active[index];
            let polled = {
                let _entered = active.span.enter();
                Pin::new(&mut active.pages).poll_next(cx)
            };
            match polled {
                Poll::Pending => continue,
                Poll::Ready(Some(Ok(mut page))) => {
                    this.next_poll = index + 1;
                    let customer = active.customer.clone();
                    let items = count_items(&mut page);
                    this.stats.items.fetch_add(items, Ordering::Relaxed);
                    return Poll::Ready(Some(Ok(Event::Page { customer, page })));
                }
                Poll::Ready(Some(Err(error))) => {
                    let active = this.active.swap_remove(index);
                    this.next_poll = index;
                    if dooms_every_customer(&error) {
                        this.finished = true;
                        return Poll::Ready(Some(Err(error)));
                    }
                    this.stats.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(parent: &active.span, error = %error, "customer failed");
                    return Poll::Ready(Some(Ok(Event::Failed {
                        customer: active.customer,
                        error,
                    })));
                }
                Poll::Ready(None) => {
                    let active = this.active.swap_remove(index);
                    this.next_poll = index;
                    this.stats.done.fetch_add(1, Ordering::Relaxed);
                    return Poll::Ready(Some(Ok(Event::Done {
                        customer: active.customer,
                    })));
                }
            }
        }
        if this.active.is_empty() && this.customers.is_none() && this.queued.is_empty() {
            this.finished = true;
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

impl<T: Paged, B: Send + 'static> FusedStream for FanOut<T, B> {
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

/// The number of items of a page.
fn count_items<T: Paged>(page: &mut Page<T>) -> u64 {
    Paged::item_count(&**page) as u64
}

/// Customer ids given by the caller.
struct FixedIds<B>(VecDeque<String>, PhantomData<fn() -> B>);

impl<B> Unpin for FixedIds<B> {}

impl<B> Stream for FixedIds<B> {
    type Item = Result<String, Error<B>>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

/// The ids of a listing of customers: `id` of each item, skipping (with a
/// warning) an item without one.
pub fn customer_ids<I: Send + 'static, B: Send + 'static>(
    customers: Items<I, B>,
    id: fn(&I) -> Option<String>,
) -> CustomerIds<B> {
    Box::pin(CustomerIdsOf { customers, id })
}

struct CustomerIdsOf<I, B> {
    customers: Items<I, B>,
    id: fn(&I) -> Option<String>,
}

impl<I, B> Unpin for CustomerIdsOf<I, B> {}

impl<I, B> Stream for CustomerIdsOf<I, B> {
    type Item = Result<String, Error<B>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match Pin::new(&mut self.customers).poll_next(cx) {
                Poll::Ready(Some(Ok(customer))) => match (self.id)(&customer) {
                    Some(id) => return Poll::Ready(Some(Ok(id))),
                    None => tracing::warn!("a customer without an id was not listed"),
                },
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
