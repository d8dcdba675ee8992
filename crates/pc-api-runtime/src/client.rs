//! [`ClientCore`] and [`ClientBuilder`]: the connection settings every
//! operation of a generated client shares.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderValue;

use crate::auth::{StaticToken, TokenProvider};
use crate::error::{ApiErrorBody, Error};
use crate::pipeline::request::header_value;
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// The per-request timeout when none is set: 60 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The connect timeout when none is set: 10 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The `X-Locale` sent when none is set: `en-US`, as the .NET SDK does.
pub const DEFAULT_LOCALE: &str = "en-US";
/// The largest response body read when no other limit is set: 32 MiB. A page
/// of 500 users is about 300 KiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// The most pages one listing fetches when no other limit is set: 100,000
/// (50 million users at 500 a page). A server that never stops is an error,
/// not an endless loop.
pub const DEFAULT_MAX_PAGES: u64 = 100_000;
/// The longest one listing may take when no other limit is set: 6 hours
/// (200,000 users take minutes; the limit catches a listing that hangs on).
pub const DEFAULT_LISTING_TIMEOUT: Duration = Duration::from_secs(6 * 60 * 60);

/// A Partner Center cloud: where its API is, and where its users sign in
/// (learn.microsoft.com/partner-center/developer/partner-center-rest-urls;
/// the PowerShell module's `EnvironmentConstants`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cloud {
    /// The global cloud.
    #[default]
    Global,
    /// The US Government cloud: the global API, its own sign-in authority.
    UsGovernment,
    /// Partner Center operated by 21Vianet. Licenses and password profiles
    /// are not supported there.
    China,
}

impl Cloud {
    /// The base URL of the Partner Center API, which is also the resource
    /// (audience) its access tokens are issued for.
    pub const fn api_endpoint(self) -> &'static str {
        match self {
            Cloud::Global | Cloud::UsGovernment => "https://api.partnercenter.microsoft.com",
            Cloud::China => "https://partner.partnercenterapi.microsoftonline.cn",
        }
    }

    /// The Microsoft Entra ID authority host where tokens are issued.
    pub const fn authority_host(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::UsGovernment => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }
}

/// The header that names the calling application (`ClientBuilder::application`).
pub const APPLICATION_HEADER: &str = "MS-PartnerCenter-Application";

/// What a generated client is to the runtime: how it is made from a
/// [`ClientCore`], its default base URL and its error body type.
/// Implemented by generated code only.
pub trait ApiClient: Sized {
    /// The error body type of the client's operations.
    type ErrorBody: ApiErrorBody;
    /// The base URL when the builder sets none; `None` when the spec lists
    /// no server, so that the builder requires one.
    const DEFAULT_BASE_URL: Option<&'static str>;
    /// Whether the spec asks for credentials: the builder then refuses to
    /// build without a token or a token provider. Without, requests carry
    /// no `Authorization` header unless one is given.
    const REQUIRES_CREDENTIALS: bool = true;
    /// Wraps the core.
    fn from_core(core: ClientCore) -> Self;
}

/// The shared state of a generated client: base URL, HTTP connection pool,
/// token provider, limits and retry policy. Cheap to clone: clones share one
/// connection pool. A generated `Client` dereferences to it, so its
/// accessors are the client's.
#[derive(Clone)]
pub struct ClientCore {
    pub(crate) inner: Arc<CoreInner>,
}

#[derive(Clone)]
pub(crate) struct CoreInner {
    /// Without a trailing slash; operation paths start with `/`.
    pub(crate) base_url: String,
    /// `base_url` parsed once, for the origin checks of next links.
    pub(crate) base: Url,
    pub(crate) http: reqwest::Client,
    /// `None` for an API that asks for no credentials and got none.
    pub(crate) token: Option<Arc<dyn TokenProvider>>,
    pub(crate) locale: HeaderValue,
    pub(crate) timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_pages: u64,
    pub(crate) listing_timeout: Duration,
    /// Headers sent with every request, such as the calling application's name.
    pub(crate) default_headers: Vec<(&'static str, HeaderValue)>,
    /// The throttle every request passes, in a partner-wide run.
    pub(crate) gate: Option<Arc<crate::fanout::gate::Gate>>,
}

impl ClientCore {
    /// The base URL requests are sent to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The `X-Locale` sent when a request sets none.
    pub fn locale(&self) -> &str {
        self.inner.locale.to_str().unwrap_or_default()
    }

    /// The timeout of one attempt of a request.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The largest response body the client reads.
    pub fn max_response_bytes(&self) -> usize {
        self.inner.max_response_bytes
    }

    /// The retry policy of every request.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The most pages one listing fetches.
    pub fn max_pages(&self) -> u64 {
        self.inner.max_pages
    }

    /// The longest one listing may take.
    pub fn listing_timeout(&self) -> Duration {
        self.inner.listing_timeout
    }

    /// The same client (connection pool, token provider, limits) with every
    /// request passing `gate`, and `retry` as its policy.
    pub(crate) fn gated(
        &self,
        gate: Arc<crate::fanout::gate::Gate>,
        retry: RetryPolicy,
    ) -> ClientCore {
        let mut inner = (*self.inner).clone();
        inner.gate = Some(gate);
        inner.retry = retry;
        ClientCore {
            inner: Arc::new(inner),
        }
    }
}

impl fmt::Debug for ClientCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Client")
            .field("base_url", &inner.base_url)
            .field("locale", &self.locale())
            .field("timeout", &inner.timeout)
            .field("max_response_bytes", &inner.max_response_bytes)
            .field("retry", &inner.retry)
            .field("max_pages", &inner.max_pages)
            .field("listing_timeout", &inner.listing_timeout)
            .finish_non_exhaustive()
    }
}

/// Configures a client. Every setting but the token has a default.
///
/// | setting | default |
/// |---|---|
/// | [`base_url`](ClientBuilder::base_url) | the spec's first server (`https://api.partnercenter.microsoft.com` for Partner Center) |
/// | [`timeout`](ClientBuilder::timeout) | 60 s per attempt ([`DEFAULT_TIMEOUT`]) |
/// | [`connect_timeout`](ClientBuilder::connect_timeout) | 10 s ([`DEFAULT_CONNECT_TIMEOUT`]) |
/// | [`locale`](ClientBuilder::locale) | `en-US` ([`DEFAULT_LOCALE`]) |
/// | [`max_response_bytes`](ClientBuilder::max_response_bytes) | 32 MiB ([`DEFAULT_MAX_RESPONSE_BYTES`]) |
/// | [`retry_policy`](ClientBuilder::retry_policy) | 3 retries, backoff from 500 ms ([`RetryPolicy`]) |
/// | [`max_pages`](ClientBuilder::max_pages) | 100,000 pages per listing ([`DEFAULT_MAX_PAGES`]) |
/// | [`listing_timeout`](ClientBuilder::listing_timeout) | 6 hours per listing ([`DEFAULT_LISTING_TIMEOUT`]) |
///
/// Every duration accepts [`Duration::MAX`], which means no limit.
/// HTTPS uses rustls with the platform's root certificates; redirects are
/// never followed, so the token only goes to the base URL's host.
pub struct ClientBuilder<C> {
    base_url: Option<String>,
    token: Option<Secret>,
    provider: Option<Arc<dyn TokenProvider>>,
    retry: Option<RetryPolicy>,
    max_pages: Option<u64>,
    listing_timeout: Option<Duration>,
    locale: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    max_response_bytes: Option<usize>,
    http: Option<reqwest::Client>,
    default_headers: Vec<(&'static str, String)>,
    client: PhantomData<fn() -> C>,
}

impl<C> Default for ClientBuilder<C> {
    fn default() -> Self {
        ClientBuilder {
            base_url: None,
            token: None,
            provider: None,
            retry: None,
            max_pages: None,
            listing_timeout: None,
            locale: None,
            timeout: None,
            connect_timeout: None,
            max_response_bytes: None,
            http: None,
            default_headers: Vec::new(),
            client: PhantomData,
        }
    }
}

impl<C> fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &self.token)
            .field(
                "token_provider",
                &self.provider.as_ref().map(|_| "dyn TokenProvider"),
            )
            .field("locale", &self.locale)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl<C> ClientBuilder<C> {
    /// A builder with every setting at its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// The service root, e.g. `https://api.partnercenter.microsoft.com` or
    /// `http://127.0.0.1:8080` for a local fake. Operation paths (which start
    /// with `/v1`) are appended to it.
    pub fn base_url(mut self, url: impl AsRef<str>) -> Self {
        self.base_url = Some(url.as_ref().to_owned());
        self
    }

    /// The Partner Center cloud: its API endpoint becomes the base URL
    /// (21Vianet's for [`Cloud::China`]). Replaces any
    /// [`base_url`](ClientBuilder::base_url).
    pub fn cloud(mut self, cloud: Cloud) -> Self {
        self.base_url = Some(cloud.api_endpoint().to_owned());
        self
    }

    /// The name of the calling application, sent on every request as
    /// `MS-PartnerCenter-Application` (documented as optional: it helps
    /// Microsoft's support find the application's requests). Printable ASCII.
    pub fn application(self, name: impl Into<String>) -> Self {
        self.default_header(APPLICATION_HEADER, name)
    }

    /// A fixed bearer token, sent as `Authorization: Bearer <token>`.
    /// Replaces any [`token_provider`](ClientBuilder::token_provider).
    pub fn bearer_token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self.provider = None;
        self
    }

    /// Asks `provider` for the bearer token before every attempt of every
    /// request, so that an expiring token can be refreshed in the middle of a
    /// listing. Replaces any [`bearer_token`](ClientBuilder::bearer_token).
    pub fn token_provider(mut self, provider: impl TokenProvider + 'static) -> Self {
        self.provider = Some(Arc::new(provider));
        self.token = None;
        self
    }

    /// When and how failed requests are retried.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The most pages one listing fetches before it fails with
    /// [`ErrorKind::Paging`](crate::ErrorKind::Paging).
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.max_pages = Some(pages);
        self
    }

    /// The `X-Locale` sent when a request sets none (printable ASCII).
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }

    /// The time one attempt of a request may take, from asking for the token
    /// to reading the whole body. For a listing's read-ahead, the time counts
    /// from when the consumer asks for the page, not while it works on the
    /// previous one.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The time connecting may take. Ignored with [`reqwest_client`](ClientBuilder::reqwest_client).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The largest response body read; a larger one is an
    /// [`ErrorKind::BodyTooLarge`](crate::ErrorKind::BodyTooLarge) error.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = Some(bytes);
        self
    }

    /// Uses a `reqwest::Client` you configured (proxies, certificates). Its
    /// redirect policy should not follow redirects to other hosts.
    pub fn reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The longest one listing (`pages()` or `stream()`) may take, from its
    /// first poll to its last page; past it the listing fails with
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) and the token to resume.
    pub fn listing_timeout(mut self, timeout: Duration) -> Self {
        self.listing_timeout = Some(timeout);
        self
    }

    /// A header sent with every request (printable ASCII). Generated crates
    /// offer named settings on top of it.
    #[doc(hidden)]
    pub fn default_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.default_headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.default_headers.push((name, value.into()));
        self
    }
}

impl<C: ApiClient> ClientBuilder<C> {
    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<C, Error<C::ErrorBody>> {
        self.build_core().map(C::from_core).map_err(Error::retype)
    }

    fn build_core(self) -> Result<ClientCore, Error> {
        let raw_base = match (&self.base_url, C::DEFAULT_BASE_URL) {
            (Some(url), _) => url.as_str(),
            (None, Some(url)) => url,
            (None, None) => {
                return Err(Error::config(
                    "no base URL: the spec lists no server, so call `base_url` on the builder",
                ));
            }
        };
        let (base_url, base) = parse_base_url(raw_base)?;
        let token: Option<Arc<dyn TokenProvider>> = match (self.token, self.provider) {
            (Some(token), _) => {
                check_token(&token).map_err(Error::config)?;
                Some(Arc::new(StaticToken::new(token)))
            }
            (None, Some(provider)) => Some(provider),
            (None, None) if !C::REQUIRES_CREDENTIALS => None,
            (None, None) => {
                return Err(Error::config(
                    "no credentials: call `bearer_token` or `token_provider` on the builder",
                ));
            }
        };
        let locale = self.locale.unwrap_or_else(|| DEFAULT_LOCALE.to_owned());
        let locale = match header_value(&locale) {
            Ok(value) if !locale.is_empty() => value,
            Ok(_) => return Err(Error::config("the locale is empty")),
            Err(why) => return Err(Error::config(format!("the locale {locale:?} {why}"))),
        };
        let mut default_headers = Vec::with_capacity(self.default_headers.len());
        for (name, value) in self.default_headers {
            let value = header_value(&value)
                .map_err(|why| Error::config(format!("the `{name}` header {why}")))?;
            default_headers.push((name, value));
        }
        let http = match self.http {
            Some(http) => http,
            None => {
                let mut builder = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("pc-api/", env!("CARGO_PKG_VERSION")));
                let connect = self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
                // `Duration::MAX` means no limit; hyper would add it to `now`.
                if crate::pipeline::timer::deadline_after(connect).is_some() {
                    builder = builder.connect_timeout(connect);
                }
                builder.build().map_err(|e| {
                    Error::config("the HTTP client could not be created").with_source(e)
                })?
            }
        };
        Ok(ClientCore {
            inner: Arc::new(CoreInner {
                base_url,
                base,
                http,
                token,
                locale,
                timeout: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
                max_response_bytes: self
                    .max_response_bytes
                    .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
                retry: self.retry.unwrap_or_default(),
                max_pages: self.max_pages.unwrap_or(DEFAULT_MAX_PAGES),
                listing_timeout: self.listing_timeout.unwrap_or(DEFAULT_LISTING_TIMEOUT),
                default_headers,
                gate: None,
            }),
        })
    }
}

/// Checks that a token can be sent in an `Authorization` header; the message
/// never contains the token.
pub(crate) fn check_token(token: &Secret) -> Result<(), &'static str> {
    if token.is_empty() {
        return Err("the bearer token is empty");
    }
    if header_value(token.expose_secret()).is_err() {
        return Err("the bearer token contains characters not allowed in an HTTP header");
    }
    Ok(())
}

fn parse_base_url(raw: &str) -> Result<(String, Url), Error> {
    let invalid = |why: &str| Error::config(format!("base URL {raw:?} {why}"));
    let url = Url::parse(raw).map_err(|e| invalid(&format!("is not a URL: {e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(invalid("must use http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    let text = url.as_str().trim_end_matches('/').to_owned();
    let parsed = Url::parse(&text).map_err(|e| invalid(&format!("is not a URL: {e}")))?;
    Ok((text, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: Result<&str, &str>) {
        let got = parse_base_url(raw)
            .map(|(url, _)| url)
            .map_err(|e| e.to_string());
        match expected {
            Ok(url) => assert_eq!(got.as_deref(), Ok(url), "{raw}"),
            Err(fragment) => {
                let message = got.expect_err(raw);
                assert!(message.contains(fragment), "{message}");
            }
        }
    }

    #[test]
    fn base_urls() {
        check(
            "https://api.partnercenter.microsoft.com",
            Ok("https://api.partnercenter.microsoft.com"),
        );
        check("http://127.0.0.1:8080/", Ok("http://127.0.0.1:8080"));
        check(
            "http://127.0.0.1:8080/prefix/",
            Ok("http://127.0.0.1:8080/prefix"),
        );
        check("ftp://example.com", Err("must use http or https"));
        check("not a url", Err("is not a URL"));
        check(
            "https://user:pw@example.com",
            Err("must not contain credentials"),
        );
        check("https://example.com/?a=b", Err("must not have a query"));
    }

    #[test]
    fn tokens_must_fit_a_header_and_never_show() {
        assert!(check_token(&Secret::from("abc.def-ghi")).is_ok());
        assert!(check_token(&Secret::from("")).is_err());
        let message = check_token(&Secret::from("a\r\nX-Evil: 1")).expect_err("bad");
        assert!(!message.contains("X-Evil"), "{message}");
    }
}
