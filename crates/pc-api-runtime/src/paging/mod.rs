//! Seek paging: the pages and items streams of operations that declare
//! `x-pagination`.
//!
//! A listing fetches page 1 from the operation's request, then follows the
//! `next` link of each page ([`resolve_next`]). It ends when there is no next
//! link or the token is empty; a token or token-less link that comes back, a
//! link that leaves the API, or more pages than the client's limit end it
//! with an error. While the consumer works on page `n`, page `n + 1` is
//! requested (the read-ahead): a future the listing polls itself, not a
//! task, so dropping the listing drops it.

pub(crate) mod next_link;

use std::any::Any;
use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use tokio::time::Sleep;

pub use self::next_link::{NextRequest, PagingRules, resolve_next};
use crate::client::ClientCore;
use crate::error::{ApiErrorBody, Error, ErrorKind, NoBody};
use crate::pipeline::request::Request;
use crate::pipeline::timer::{Waiting, deadline_after};
use crate::pipeline::{self, CORRELATION_ID};
use crate::secret::Secret;

/// A page type of a paged operation: its items, its next link and its
/// continuation token. Implemented by the generated collection types.
pub trait Paged: DeserializeOwned + Send + 'static {
    /// The type of one item.
    type Item: Send + 'static;

    /// Moves the items out of the page.
    fn take_items(&mut self) -> Vec<Self::Item>;

    /// How many items the page holds (for progress counts; generated code
    /// implements it, the default counts nothing).
    fn item_count(&self) -> usize {
        0
    }

    /// The link to the next page, if any.
    fn next_link(&self) -> Option<NextLink<'_>>;

    /// The continuation token of the page, if any.
    fn continuation_token(&self) -> Option<&str>;
}

/// The next-page link of a page: a URI and the headers to send with it.
#[derive(Clone, Default)]
pub struct NextLink<'a> {
    /// The URI, relative to the service root or absolute.
    pub uri: Option<&'a str>,
    /// Header names and values to send, such as the continuation token.
    pub headers: Vec<(&'a str, &'a str)>,
}

impl fmt::Debug for NextLink<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| *k).collect();
        f.debug_struct("NextLink")
            .field("uri", &self.uri)
            .field("header_names", &names)
            .finish()
    }
}

/// One page of a listing, with the response it came in.
pub struct Page<T> {
    number: u64,
    status: StatusCode,
    headers: HeaderMap,
    body: T,
    next_token: Option<Secret>,
}

impl<T> Page<T> {
    /// The number of the page in this listing, from 1.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers of the response.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The continuation token that fetches the page after this one, if there
    /// is one: save it to resume the listing later with the operation's `resume`.
    pub fn continuation_token(&self) -> Option<&Secret> {
        self.next_token.as_ref()
    }

    /// The page as decoded.
    pub fn into_inner(self) -> T {
        self.body
    }
}

impl<T> std::ops::Deref for Page<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.body
    }
}

impl<T> std::ops::DerefMut for Page<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.body
    }
}

impl<T: fmt::Debug> fmt::Debug for Page<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Page")
            .field("number", &self.number)
            .field("status", &self.status)
            .field("body", &self.body)
            .field("next_token", &self.next_token)
            .finish_non_exhaustive()
    }
}

type SharedDecodeError = Arc<dyn Fn(u16, &[u8]) -> Box<dyn ApiErrorBody> + Send + Sync>;
type Fetch = Pin<Box<dyn Future<Output = Result<Fetched, Error>> + Send>>;

/// A decoded page whose type the pager does not know: the pager is not
/// generic, so its code is compiled once, in this crate, not again in every
/// generated crate for every page type.
trait ErasedPage: Send {
    fn next_link(&self) -> Option<NextLink<'_>>;
    fn continuation_token(&self) -> Option<&str>;
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<T: Paged> ErasedPage for T {
    fn next_link(&self) -> Option<NextLink<'_>> {
        Paged::next_link(self)
    }

    fn continuation_token(&self) -> Option<&str> {
        Paged::continuation_token(self)
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// Decodes a page of the listing's type.
type DecodePage = fn(&[u8]) -> Result<Box<dyn ErasedPage>, Error>;

fn decode_page<T: Paged>(body: &[u8]) -> Result<Box<dyn ErasedPage>, Error> {
    crate::pipeline::body::decode::<T>(body).map(|page| Box::new(page) as Box<dyn ErasedPage>)
}

/// The decoded response of one page.
struct Fetched {
    status: StatusCode,
    headers: HeaderMap,
    body: Box<dyn ErasedPage>,
}

/// A page as the pager hands it out.
struct ErasedPageOf {
    number: u64,
    status: StatusCode,
    headers: HeaderMap,
    body: Box<dyn ErasedPage>,
    next_token: Option<Secret>,
}

impl ErasedPageOf {
    /// The page with its type back. The pager of a `Pages<T>` decodes only
    /// `T`s, so the error is never returned.
    fn typed<T: Paged>(self) -> Result<Page<T>, Error> {
        let body = self.body.into_any().downcast::<T>().map_err(|_| {
            Error::new(ErrorKind::Decode).with_message("the page is not of the listing's type")
        })?;
        Ok(Page {
            number: self.number,
            status: self.status,
            headers: self.headers,
            body: *body,
            next_token: self.next_token,
        })
    }
}

/// The pages of a listing, fetched lazily with a read-ahead of one page: the
/// request of page `n + 1` is sent when page `n` is handed out, so the
/// service and the network work while you do; it is finished when you ask
/// for the next page. Ends after the last page or after the first error, and
/// keeps returning `None` after that.
///
/// `B` is the generated client's error body type.
pub struct Pages<T, B = NoBody> {
    pager: Pager,
    page_type: PhantomData<fn() -> (T, B)>,
}

impl<T, B> Unpin for Pages<T, B> {}

impl<T, B> fmt::Debug for Pages<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pages")
    }
}

impl<T: Paged, B: ApiErrorBody> Pages<T, B> {
    /// Starts a listing of `core` with `first` as the request of page 1.
    pub fn start(
        core: &ClientCore,
        first: Result<Request, Error>,
        rules: &'static PagingRules,
        decode_error: fn(u16, &[u8]) -> B,
    ) -> Self {
        let decode: SharedDecodeError =
            Arc::new(move |status, body| Box::new(decode_error(status, body)));
        Pages {
            pager: Pager::new(core.clone(), first, rules, decode, decode_page::<T>),
            page_type: PhantomData,
        }
    }

    /// The items of every page, in order.
    pub fn items(self) -> Items<T::Item, B> {
        Items {
            pages: Some(self.pager),
            take_items: take_items::<T>,
            current: Vec::new().into_iter(),
            body_type: PhantomData,
        }
    }
}

fn take_items<T: Paged>(page: Box<dyn ErasedPage>) -> Vec<T::Item> {
    match page.into_any().downcast::<T>() {
        Ok(mut page) => page.take_items(),
        // The pager of a `Pages<T>` only decodes `T`s.
        Err(_) => Vec::new(),
    }
}

impl<T: Paged, B> Stream for Pages<T, B> {
    type Item = Result<Page<T>, Error<B>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.pager.poll_page(cx).map(|page| {
            page.map(|result| result.and_then(ErasedPageOf::typed).map_err(Error::retype))
        })
    }
}

impl<T: Paged, B> FusedStream for Pages<T, B> {
    fn is_terminated(&self) -> bool {
        matches!(self.pager.state, State::Done)
    }
}

/// The items of a listing, page after page, each exactly once and in order.
/// At most two pages are held at a time: the one being yielded and the one
/// read ahead. Ends after the last item or after the first error, and keeps
/// returning `None` after that.
pub struct Items<I, B = NoBody> {
    /// The pages; `None` after the last page or an error.
    pages: Option<Pager>,
    /// Moves the items out of a page of the listing's type.
    take_items: fn(Box<dyn ErasedPage>) -> Vec<I>,
    /// The rest of the current page.
    current: std::vec::IntoIter<I>,
    body_type: PhantomData<fn() -> B>,
}

impl<I, B> fmt::Debug for Items<I, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Items")
    }
}

impl<I, B> Unpin for Items<I, B> {}

impl<I, B> Stream for Items<I, B> {
    type Item = Result<I, Error<B>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // The items of a page are handed out without going through the
        // pages stream: no future per item.
        loop {
            if let Some(item) = self.current.next() {
                return Poll::Ready(Some(Ok(item)));
            }
            let Some(pages) = self.pages.as_mut() else {
                return Poll::Ready(None);
            };
            match pages.poll_page(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(page))) => {
                    self.current = (self.take_items)(page.body).into_iter()
                }
                Poll::Ready(Some(Err(error))) => {
                    self.pages = None;
                    return Poll::Ready(Some(Err(error.retype())));
                }
                Poll::Ready(None) => {
                    self.pages = None;
                    return Poll::Ready(None);
                }
            }
        }
    }
}

impl<I, B> FusedStream for Items<I, B> {
    fn is_terminated(&self) -> bool {
        self.pages.is_none() && self.current.len() == 0
    }
}

/// Where a listing is.
enum State {
    /// Not polled yet: nothing sent, no clock running.
    Idle(Box<Request>),
    /// Page `number` is on its way (or, after the read-ahead's first poll,
    /// already here).
    Fetching {
        fetch: Fetch,
        ready: Option<Result<Fetched, Error>>,
        number: u64,
        token: Option<Secret>,
    },
    /// The next poll returns this error, then the listing is over.
    Failed(Error),
    Done,
}

struct Pager {
    core: ClientCore,
    rules: &'static PagingRules,
    decode_error: SharedDecodeError,
    decode_page: DecodePage,
    /// The first request: the fallback path and query, and the headers every page sends.
    first: Request,
    /// Hashes of every continuation token and token-less URL requested so far.
    seen: HashSet<u64>,
    state: State,
    /// Whether the consumer waits for the page being fetched.
    waiting: Waiting,
    /// When the listing must be over; started at the first poll.
    deadline: Option<Pin<Box<Sleep>>>,
    started: bool,
}

impl Pager {
    fn new(
        core: ClientCore,
        first: Result<Request, Error>,
        rules: &'static PagingRules,
        decode_error: SharedDecodeError,
        decode_page: DecodePage,
    ) -> Self {
        let (first, state) = match first {
            Ok(mut first) => {
                // One correlation id for every page of the listing.
                if first.headers.get(CORRELATION_ID).is_none()
                    && let Ok(id) = uuid::Uuid::new_v4().to_string().parse()
                {
                    first.headers.insert(CORRELATION_ID, id);
                }
                let state = State::Idle(Box::new(first.clone()));
                (first, state)
            }
            Err(error) => (Request::new(reqwest::Method::GET, ""), State::Failed(error)),
        };
        Pager {
            core,
            rules,
            decode_error,
            decode_page,
            first,
            seen: HashSet::new(),
            state,
            waiting: Waiting::default(),
            deadline: None,
            started: false,
        }
    }

    /// The token the first request carries, when it resumes a listing.
    fn first_token(&self) -> Option<Secret> {
        self.first
            .header_str(self.rules.token_header)
            .filter(|t| !t.is_empty())
            .map(Secret::from)
    }

    /// The fetch of one page, polled by the listing itself (no task, no
    /// thread hand-off): dropping the listing drops it.
    fn fetch(&self, request: Request) -> Fetch {
        let core = self.core.clone();
        let decode_error = self.decode_error.clone();
        let decode_page = self.decode_page;
        let waiting = self.waiting.clone();
        let operation_id = request.operation_id;
        Box::pin(async move {
            let response =
                pipeline::send_read_ahead(&core, request, &*decode_error, waiting).await?;
            match decode_page(&response.body) {
                Ok(body) => Ok(Fetched {
                    status: response.status,
                    headers: response.headers,
                    body,
                }),
                Err(error) => Err(error
                    .with_operation(operation_id)
                    .with_ids(&response.request_id, &response.correlation_id)
                    .with_response(response.status, response.headers)),
            }
        })
    }

    /// Starts fetching page `number`: the fetch is polled once now, which
    /// sends the request, so that the service prepares the page and the
    /// network carries it while the consumer works on the current one.
    fn start(
        &mut self,
        request: Request,
        number: u64,
        token: Option<Secret>,
        cx: &mut Context<'_>,
    ) {
        let mut fetch = self.fetch(request);
        self.waiting.set(false);
        let ready = match fetch.as_mut().poll(cx) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        };
        self.state = State::Fetching {
            fetch,
            ready,
            number,
            token,
        };
    }

    fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<ErasedPageOf, Error>>> {
        if !self.started {
            // The listing's clock starts at its first poll, not when it is built.
            self.started = true;
            self.deadline = deadline_after(self.core.inner.listing_timeout)
                .map(|deadline| Box::pin(tokio::time::sleep_until(deadline)));
        }
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return Poll::Ready(None),
                State::Failed(error) => return Poll::Ready(Some(Err(error))),
                State::Idle(request) => {
                    let token = self.first_token();
                    let key = match &token {
                        Some(token) => token_key(token.expose_secret()),
                        None => url_key(&self.core, &request),
                    };
                    self.seen.insert(key);
                    let fetch = self.fetch(*request);
                    self.state = State::Fetching {
                        fetch,
                        ready: None,
                        number: 1,
                        token,
                    };
                }
                State::Fetching {
                    mut fetch,
                    ready,
                    number,
                    token,
                } => {
                    let result = match ready {
                        Some(result) => result,
                        None => {
                            if let Some(deadline) = self.deadline.as_mut()
                                && deadline.as_mut().poll(cx).is_ready()
                            {
                                let error = Error::new(ErrorKind::Timeout)
                                    .with_operation(self.first.operation_id)
                                    .with_message(format!(
                                        "the listing took longer than {:?} (see `ClientBuilder::listing_timeout`)",
                                        self.core.inner.listing_timeout
                                    ));
                                return Poll::Ready(Some(Err(error.with_page(number, token))));
                            }
                            self.waiting.set(true);
                            match fetch.as_mut().poll(cx) {
                                Poll::Ready(result) => result,
                                Poll::Pending => {
                                    self.state = State::Fetching {
                                        fetch,
                                        ready: None,
                                        number,
                                        token,
                                    };
                                    return Poll::Pending;
                                }
                            }
                        }
                    };
                    return Poll::Ready(Some(match result {
                        Ok(fetched) => Ok(self.hand_out(fetched, number, cx)),
                        Err(error) => Err(error.with_page(number, token)),
                    }));
                }
            }
        }
    }

    /// Page `number` is here: start the read-ahead of the next one (or note
    /// why there is none) and hand the page out.
    fn hand_out(&mut self, fetched: Fetched, number: u64, cx: &mut Context<'_>) -> ErasedPageOf {
        let mut next_token = None;
        match self.next_request(fetched.body.as_ref()) {
            Ok(None) => {}
            Ok(Some(next)) if number >= self.core.inner.max_pages => {
                // The token is kept on the page and the error, so that the
                // listing can be resumed past the limit.
                next_token = next.token.clone();
                self.state = State::Failed(
                    Error::new(ErrorKind::Paging)
                        .with_operation(self.first.operation_id)
                        .with_message(format!(
                            "the service offers more than {number} pages, the client's limit (see `ClientBuilder::max_pages`)"
                        ))
                        .with_page(number + 1, next.token),
                );
            }
            Ok(Some(next)) => {
                next_token = next.token.clone();
                self.start(next.request, number + 1, next.token, cx);
            }
            Err(error) => {
                self.state = State::Failed(
                    error
                        .with_operation(self.first.operation_id)
                        .with_page(number + 1, None),
                );
            }
        }
        ErasedPageOf {
            number,
            status: fetched.status,
            headers: fetched.headers,
            body: fetched.body,
            next_token,
        }
    }

    /// The request of the page after `body`, checked not to repeat a token
    /// or a token-less URL already requested.
    fn next_request(&mut self, body: &dyn ErasedPage) -> Result<Option<NextRequest>, Error> {
        let link = body.next_link();
        let Some(next) = resolve_next(
            &self.core.inner.base,
            self.rules,
            &self.first,
            link.as_ref(),
            body.continuation_token(),
        )?
        else {
            return Ok(None);
        };
        let key = match &next.token {
            Some(token) => token_key(token.expose_secret()),
            None => hash_of(&("url", next.url.as_str())),
        };
        if !self.seen.insert(key) {
            return Err(next_link::paging_error(if next.token.is_some() {
                "the service returned a continuation token it had already returned; stopping instead of listing the same pages again"
            } else {
                "the service returned a next link to a page already requested; stopping instead of listing the same pages again"
            }));
        }
        Ok(Some(next))
    }
}

fn token_key(token: &str) -> u64 {
    hash_of(&("token", token))
}

fn url_key(core: &ClientCore, request: &Request) -> u64 {
    match request.url(&core.inner.base_url) {
        Ok(url) => hash_of(&("url", url.as_str())),
        Err(_) => 0,
    }
}

fn hash_of(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}
