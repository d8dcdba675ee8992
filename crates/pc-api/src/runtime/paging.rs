//! Seek paging: the pages and items streams of operations that declare
//! `x-pagination`, and the rules for following a next link.
//!
//! A listing fetches page 1 from the operation's request, then follows
//! `links.next` of each page: its URI (relative or absolute, query intact,
//! `/v1` added only when the path lacks it) with every header of the link,
//! among them the continuation token. A `next` without headers but with a
//! `continuationToken` is followed with `seekOperation=Next` and the token in
//! its header. A listing ends when there is no next link or the token is
//! empty; a token that comes back, a link to another origin or more pages
//! than the client's limit end it with an error.

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use progenitor_client::ResponseValue;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;

use super::{CORRELATION_ID, DecodeError, REQUEST_ID, Request, header_or_new};
use crate::{Client, Error, ErrorKind, Secret};

/// A page type of a paged operation: its items, its next link and its
/// continuation token. Implemented by the generated collection types.
pub trait Paged: DeserializeOwned + Send + 'static {
    /// The type of one item.
    type Item: Send + 'static;

    /// Moves the items out of the page.
    fn take_items(&mut self) -> Vec<Self::Item>;

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

/// How a paged operation is walked, from its `x-pagination`.
pub(crate) struct PagingSpec {
    /// The header that carries a continuation token.
    pub(crate) token_header: &'static str,
    /// The query parameter and value that ask for the next page.
    pub(crate) seek: Option<(&'static str, &'static str)>,
    /// Prepended to next-link paths that lack it, e.g. `/v1`.
    pub(crate) path_prefix: &'static str,
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

type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + Send>>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The pages of a listing, fetched lazily with a read-ahead of one page: the
/// request of page `n + 1` is sent when page `n` is handed out, so the
/// service and the network work while you do; it is finished when you ask
/// for the next page. Ends after the last page or after the first error.
pub struct Pages<T> {
    inner: BoxStream<Result<Page<T>, Error>>,
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pages")
    }
}

impl<T> Stream for Pages<T> {
    type Item = Result<Page<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// The items of a listing, page after page, each exactly once and in order.
/// At most two pages are held at a time: the one being yielded and the one
/// read ahead. Ends after the last item or after the first error.
pub struct Items<I> {
    /// The items of each page; `None` after the last page or an error.
    pages: Option<BoxStream<Result<Vec<I>, Error>>>,
    /// The rest of the current page.
    current: std::vec::IntoIter<I>,
}

impl<I> fmt::Debug for Items<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Items")
    }
}

impl<I> Unpin for Items<I> {}

impl<I> Stream for Items<I> {
    type Item = Result<I, Error>;

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
            match pages.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(items))) => self.current = items.into_iter(),
                Poll::Ready(Some(Err(error))) => {
                    self.pages = None;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(None) => {
                    self.pages = None;
                    return Poll::Ready(None);
                }
            }
        }
    }
}

impl<T: Paged> Pages<T> {
    /// Starts a listing with `first` as the request of page 1.
    pub(crate) fn start(
        client: Client,
        first: Result<Request, Error>,
        spec: &'static PagingSpec,
        decode_error: DecodeError,
    ) -> Self {
        let state = match first {
            Ok(request) => Pager::new(client, request, spec, decode_error),
            Err(error) => Pager::failed(client, error, spec, decode_error),
        };
        Pages {
            inner: Box::pin(futures_util::stream::unfold(state, Pager::step)),
        }
    }

    /// The items of every page, in order.
    pub fn items(self) -> Items<T::Item> {
        let pages =
            futures_util::StreamExt::map(self, |page| page.map(|mut page| page.body.take_items()));
        Items {
            pages: Some(Box::pin(pages)),
            current: Vec::new().into_iter(),
        }
    }
}

/// What the pager does next.
enum Next<T> {
    /// Fetch page `number` with `request`; `token` is the continuation token in it.
    Fetch {
        request: Box<Request>,
        number: u64,
        token: Option<Secret>,
    },
    /// Page `number` came back on the first poll of its fetch.
    Fetched {
        result: Result<ResponseValue<T>, Error>,
        number: u64,
        token: Option<Secret>,
    },
    /// Page `number` is on its way.
    InFlight {
        fetch: BoxFuture<Result<ResponseValue<T>, Error>>,
        number: u64,
        token: Option<Secret>,
    },
    Failed(Error),
    Done,
}

struct Pager<T> {
    client: Client,
    spec: &'static PagingSpec,
    decode_error: DecodeError,
    /// The first request: the fallback path and query, and the headers every page sends.
    first: Request,
    /// Hashes of every continuation token (or token-less link) followed so far.
    seen: HashSet<u64>,
    next: Next<T>,
    /// When the listing must be over (see `ClientBuilder::listing_timeout`).
    deadline: tokio::time::Instant,
}

impl<T: Paged> Pager<T> {
    fn new(
        client: Client,
        mut first: Request,
        spec: &'static PagingSpec,
        decode_error: DecodeError,
    ) -> Self {
        // One correlation id for every page of the listing.
        header_or_new(&mut first.headers, CORRELATION_ID);
        let token = first
            .headers
            .get(spec.token_header)
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.is_empty())
            .map(Secret::from);
        let mut seen = HashSet::new();
        if let Some(token) = &token {
            seen.insert(hash_of(token.expose_secret()));
        }
        let next = Next::Fetch {
            request: Box::new(first.clone()),
            number: 1,
            token,
        };
        let deadline = tokio::time::Instant::now() + client.inner.listing_timeout;
        Pager {
            client,
            spec,
            decode_error,
            first,
            seen,
            next,
            deadline,
        }
    }

    fn failed(
        client: Client,
        error: Error,
        spec: &'static PagingSpec,
        decode_error: DecodeError,
    ) -> Self {
        let first = Request::new(reqwest::Method::GET, "");
        let deadline = tokio::time::Instant::now() + client.inner.listing_timeout;
        Pager {
            client,
            spec,
            decode_error,
            first,
            seen: HashSet::new(),
            next: Next::Failed(error),
            deadline,
        }
    }

    /// The fetch of one page, polled by the listing itself (no task, no
    /// thread hand-off): dropping the listing drops it.
    fn fetch(&self, mut request: Request) -> BoxFuture<Result<ResponseValue<T>, Error>> {
        request.read_ahead = true;
        let client = self.client.clone();
        let decode_error = self.decode_error;
        Box::pin(async move { client.execute_json::<T>(request, decode_error).await })
    }

    /// Starts a fetch: polls it once, which sends the request, so that the
    /// service prepares the page and the network carries it while the
    /// consumer works on the current one (the read-ahead).
    async fn start(&mut self, request: Request, number: u64, token: Option<Secret>) {
        let mut fetch = self.fetch(request);
        let first = std::future::poll_fn(|cx| Poll::Ready(fetch.as_mut().poll(cx))).await;
        self.next = match first {
            Poll::Ready(result) => Next::Fetched {
                result,
                number,
                token,
            },
            Poll::Pending => Next::InFlight {
                fetch,
                number,
                token,
            },
        };
    }

    async fn step(mut self) -> Option<(Result<Page<T>, Error>, Self)> {
        loop {
            match std::mem::replace(&mut self.next, Next::Done) {
                Next::Done => return None,
                Next::Failed(error) => return Some((Err(error), self)),
                Next::Fetch {
                    request,
                    number,
                    token,
                } => self.start(*request, number, token).await,
                next @ (Next::InFlight { .. } | Next::Fetched { .. }) => {
                    let (fetched, number, token) = match next {
                        Next::InFlight {
                            fetch,
                            number,
                            token,
                        } => {
                            let fetched = match tokio::time::timeout_at(self.deadline, fetch).await {
                                Ok(fetched) => fetched,
                                Err(_) => Err(Error::new(ErrorKind::Timeout)
                                    .with_operation(self.first.operation_id)
                                    .with_message(format!(
                                        "the listing took longer than {:?} (see `ClientBuilder::listing_timeout`)",
                                        self.client.inner.listing_timeout
                                    ))),
                            };
                            (fetched, number, token)
                        }
                        Next::Fetched {
                            result,
                            number,
                            token,
                        } => (result, number, token),
                        other => {
                            self.next = other;
                            continue;
                        }
                    };
                    let response = match fetched {
                        Ok(response) => response,
                        Err(error) => return Some((Err(error.with_page(number, token)), self)),
                    };
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = response.into_inner();
                    let mut next_token = None;
                    match self.next_request(&body) {
                        Ok(None) => {}
                        Ok(Some((_, token))) if number >= self.client.inner.max_pages => {
                            // The token is kept on the page and the error, so
                            // that the listing can be resumed past the limit.
                            next_token = token.clone();
                            self.next = Next::Failed(
                                Error::new(ErrorKind::Paging)
                                    .with_operation(self.first.operation_id)
                                    .with_message(format!(
                                        "the service offers more than {number} pages, the client's limit (see `ClientBuilder::max_pages`)"
                                    ))
                                    .with_page(number + 1, token),
                            );
                        }
                        Ok(Some((request, token))) => {
                            next_token = token.clone();
                            self.start(request, number + 1, token).await;
                        }
                        Err(error) => {
                            self.next = Next::Failed(
                                error
                                    .with_operation(self.first.operation_id)
                                    .with_page(number + 1, None),
                            );
                        }
                    }
                    let page = Page {
                        number,
                        status,
                        headers,
                        body,
                        next_token,
                    };
                    return Some((Ok(page), self));
                }
            }
        }
    }

    /// The request of the page after `body` and the token it carries, or
    /// `None` at the end of the listing.
    fn next_request(&mut self, body: &T) -> Result<Option<(Request, Option<Secret>)>, Error> {
        let Some(link) = body.next_link() else {
            return Ok(None);
        };
        let header_token = link
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(self.spec.token_header))
            .map(|(_, value)| *value);
        let body_token = body.continuation_token();
        let token = match (header_token, body_token) {
            (Some(""), _) => return Ok(None),
            (Some(token), _) => Some(token),
            (None, Some("")) => return Ok(None),
            (None, token) => token,
        };
        let uri = link.uri.filter(|u| !u.trim().is_empty());
        if uri.is_none() && token.is_none() {
            return Err(paging_error(
                "the next link has neither a URI nor a continuation token",
            ));
        }
        let seen_key = hash_of(token.or(uri).unwrap_or_default());
        if !self.seen.insert(seen_key) {
            return Err(paging_error(if token.is_some() {
                "the service returned a continuation token it had already returned; stopping instead of listing the same pages again"
            } else {
                "the service returned a next link it had already returned; stopping instead of listing the same pages again"
            }));
        }

        let mut request = Request::new(self.first.method.clone(), self.first.operation_id);
        match uri {
            Some(uri) => {
                let (path, query) = self.resolve(uri)?;
                request.path = path;
                request.raw_query = query;
            }
            None => {
                request.path = self.first.path.clone();
                request.query = self.first.query.clone();
            }
        }
        // The headers of the listing (correlation id, locale, ...), but not
        // the first page's request id or token.
        for (name, value) in &self.first.headers {
            if name.as_str().eq_ignore_ascii_case(REQUEST_ID)
                || name.as_str().eq_ignore_ascii_case(self.spec.token_header)
            {
                continue;
            }
            request.headers.insert(name.clone(), value.clone());
        }
        for (name, value) in &link.headers {
            if is_reserved_header(name) {
                continue;
            }
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| paging_error("the next link has a header name that is not valid"))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| paging_error("the next link has a header value that is not valid"))?;
            value.set_sensitive(true);
            request.headers.insert(header, value);
        }
        if header_token.is_none()
            && let Some(token) = token
        {
            let mut value = HeaderValue::from_str(token)
                .map_err(|_| paging_error("the continuation token is not a valid header value"))?;
            value.set_sensitive(true);
            let header = HeaderName::from_bytes(self.spec.token_header.as_bytes())
                .map_err(|_| paging_error("the token header name is not valid"))?;
            request.headers.insert(header, value);
        }
        // A token the link's URI does not ask for itself goes with the seek
        // parameter: the fallback of a `next` without headers, or without a URI.
        if token.is_some()
            && (header_token.is_none() || uri.is_none())
            && let Some((name, seek)) = self.spec.seek
        {
            set_seek(&mut request, name, seek);
        }
        Ok(Some((request, token.map(Secret::from))))
    }

    /// The path and query of a next-link URI, checked to stay on the base
    /// URL's origin, with the path prefix added when missing.
    fn resolve(&self, uri: &str) -> Result<(String, Option<String>), Error> {
        let base = &self.client.inner.base;
        let uri = uri.trim();
        let (path, query) = match reqwest::Url::parse(uri) {
            Ok(absolute) => {
                if !same_origin(&absolute, base) {
                    return Err(paging_error(
                        "the next link points to another scheme, host or port than the client's base URL; it was not followed and the token was not sent",
                    ));
                }
                let base_path = base.path().trim_end_matches('/');
                let path = absolute.path();
                let path = path
                    .strip_prefix(base_path)
                    .filter(|p| p.starts_with('/'))
                    .unwrap_or(path);
                (path.to_owned(), absolute.query().map(str::to_owned))
            }
            Err(_) if uri.starts_with("//") || uri.starts_with("\\\\") => {
                return Err(paging_error(
                    "the next link is a network-path reference to another host; it was not followed and the token was not sent",
                ));
            }
            Err(_) => {
                let (path, query) = match uri.split_once('?') {
                    Some((path, query)) => (path, Some(query.to_owned())),
                    None => (uri, None),
                };
                let path = path.split('#').next().unwrap_or_default();
                let path = if path.starts_with('/') {
                    path.to_owned()
                } else {
                    format!("/{path}")
                };
                (path, query)
            }
        };
        let path = with_prefix(&path, self.spec.path_prefix);
        // Defence in depth: the final URL must still be on the base origin.
        let mut probe = Request::new(self.first.method.clone(), self.first.operation_id);
        probe.path = path.clone();
        probe.raw_query = query.clone();
        let url = self
            .client
            .url_of(&probe)
            .map_err(|_| paging_error("the next link is not a valid URL"))?;
        if !same_origin(&url, base) {
            return Err(paging_error(
                "the next link leaves the client's base URL; it was not followed",
            ));
        }
        // Dot segments (`/v1/%2E%2E/admin`) must not lead out of the API's path.
        let root = format!(
            "{}{}",
            base.path().trim_end_matches('/'),
            self.spec.path_prefix
        )
        .to_ascii_lowercase();
        let final_path = url.path().to_ascii_lowercase();
        if !root.is_empty() && final_path != root && !final_path.starts_with(&format!("{root}/")) {
            return Err(paging_error(
                "the next link leads out of the API's path (dot segments?); it was not followed",
            ));
        }
        Ok((path, query))
    }
}

/// For the fuzz targets only (feature `__fuzz`): the URL and headers of the
/// request a listing of `client` would send after a page with `body`, with
/// the paging of `getCustomerUsers`, or `None` at the end of the listing.
#[doc(hidden)]
#[cfg(feature = "__fuzz")]
pub fn next_request_for_fuzzing<T: Paged>(
    client: &Client,
    body: &T,
) -> Result<Option<(reqwest::Url, HeaderMap)>, Error> {
    static SPEC: PagingSpec = PagingSpec {
        token_header: "MS-ContinuationToken",
        seek: Some(("seekOperation", "Next")),
        path_prefix: "/v1",
    };
    fn no_error_body(_: u16, _: &[u8]) -> crate::ErrorBody {
        crate::ErrorBody::Empty
    }
    let mut first = Request::new(reqwest::Method::GET, "getCustomerUsers");
    first.path = "/v1/customers/c/users".to_owned();
    let mut pager: Pager<T> = Pager::new(client.clone(), first, &SPEC, no_error_body);
    match pager.next_request(body)? {
        None => Ok(None),
        Some((request, _)) => Ok(Some((client.url_of(&request)?, request.headers))),
    }
}

/// Adds `prefix` (`/v1`) to `path` unless the path already starts with it.
fn with_prefix(path: &str, prefix: &str) -> String {
    if prefix.is_empty() {
        return path.to_owned();
    }
    let lower = path.to_ascii_lowercase();
    let prefix_lower = prefix.to_ascii_lowercase();
    if lower == prefix_lower || lower.starts_with(&format!("{prefix_lower}/")) {
        path.to_owned()
    } else {
        format!("{prefix}{path}")
    }
}

/// Sets the seek parameter of a raw or structured query to `value`.
fn set_seek(request: &mut Request, name: &'static str, value: &'static str) {
    match &mut request.raw_query {
        Some(raw) => {
            let kept: Vec<&str> = raw
                .split('&')
                .filter(|pair| !pair.is_empty())
                .filter(|pair| {
                    !pair
                        .split('=')
                        .next()
                        .unwrap_or_default()
                        .eq_ignore_ascii_case(name)
                })
                .collect();
            let mut query = kept.join("&");
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&format!("{name}={value}"));
            *raw = query;
        }
        None => {
            request
                .query
                .retain(|(key, _)| !key.eq_ignore_ascii_case(name));
            request.query.push((name, value.to_owned()));
        }
    }
}

fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Headers a next link may not set: the client's credentials and framing,
/// and the ids the client manages.
fn is_reserved_header(name: &str) -> bool {
    [
        "authorization",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "cookie",
        "proxy-authorization",
        "ms-requestid",
        "ms-correlationid",
    ]
    .iter()
    .any(|reserved| name.eq_ignore_ascii_case(reserved))
}

fn paging_error(message: &str) -> Error {
    Error::new(ErrorKind::Paging).with_message(message)
}

fn hash_of(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_only_when_missing() {
        assert_eq!(
            with_prefix("/customers/x/users", "/v1"),
            "/v1/customers/x/users"
        );
        assert_eq!(
            with_prefix("/v1/customers/x/users", "/v1"),
            "/v1/customers/x/users"
        );
        assert_eq!(with_prefix("/V1/customers", "/v1"), "/V1/customers");
        assert_eq!(with_prefix("/v10/customers", "/v1"), "/v1/v10/customers");
        assert_eq!(with_prefix("/v1", "/v1"), "/v1");
        assert_eq!(with_prefix("/x", ""), "/x");
    }

    #[test]
    fn seek_is_set_once() {
        let mut request = Request::new(reqwest::Method::GET, "op");
        request.raw_query = Some("size=2&seekoperation=next&x=1".to_owned());
        set_seek(&mut request, "seekOperation", "Next");
        assert_eq!(
            request.raw_query.as_deref(),
            Some("size=2&x=1&seekOperation=Next")
        );
        let mut request = Request::new(reqwest::Method::GET, "op");
        request.query.push(("size", "2".to_owned()));
        set_seek(&mut request, "seekOperation", "Next");
        assert_eq!(
            request.query,
            vec![
                ("size", "2".to_owned()),
                ("seekOperation", "Next".to_owned())
            ]
        );
    }
}
