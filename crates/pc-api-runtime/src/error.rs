//! [`Error`]: the one error type of a generated client, [`ErrorKind`], and
//! [`ParseEnumError`].
//!
//! The contract: `Display` says what this error is, with the operation, the
//! status, the fault code and description, the attempts and the request and
//! correlation ids; causes are returned by `source()` and never repeated in
//! `Display`, so a reporter that walks the chain (anyhow, eyre, tracing)
//! prints each once. A custom token provider's error is withheld from
//! `Display`, `Debug` and `source()`: the runtime cannot vouch that it holds
//! no secret. It stays reachable through [`Error::token_provider_error`].

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::auth::{BoxError, SignInError};
use crate::secret::Secret;

/// What kind of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client configuration is invalid (a bad base URL, a missing token).
    Config,
    /// The request could not be built from the arguments (an empty path
    /// parameter, a header value with a line break); nothing was sent.
    InvalidRequest,
    /// The connection failed or broke before a complete response arrived.
    Transport,
    /// No complete response arrived within the configured timeout.
    Timeout,
    /// The service answered with a status that is not 2xx.
    Status,
    /// A 2xx response body is not the JSON the spec describes.
    Decode,
    /// The response body is larger than the configured maximum.
    BodyTooLarge,
    /// No usable bearer token: the token provider or the sign-in failed, or
    /// returned a token that cannot be sent.
    Auth,
    /// A listing cannot go on safely: a next link to another host, a
    /// continuation token that came back twice, or too many pages.
    Paging,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            ErrorKind::Config => "invalid client configuration",
            ErrorKind::InvalidRequest => "invalid request, nothing was sent",
            ErrorKind::Transport => "the request failed",
            ErrorKind::Timeout => "the request timed out",
            ErrorKind::Status => "the service answered with an error status",
            ErrorKind::Decode => "the response body could not be decoded",
            ErrorKind::BodyTooLarge => "the response body is too large",
            ErrorKind::Auth => "no usable bearer token",
            ErrorKind::Paging => "the listing cannot continue",
        }
    }
}

/// The decoded body of an error response, as a generated client declares
/// it (its `ErrorBody` enum). The runtime reads the fault code and message
/// through this trait to write its error messages.
pub trait ApiErrorBody: Any + fmt::Debug + Send + Sync {
    /// The error code of the body, as text (`x-error-code` in the spec).
    fn code(&self) -> Option<String>;
    /// The error message of the body (`x-error-message` in the spec).
    fn message(&self) -> Option<&str>;
    /// A body that is not JSON of the declared schema, kept as text.
    fn text(&self) -> Option<&str>;
    /// Whether the response had no body, or only white space.
    fn is_empty(&self) -> bool;
    /// Whether the service said the request may be retried (a fault's
    /// `isRetryable`), when it said so.
    fn is_retryable(&self) -> Option<bool> {
        None
    }
    /// The body of a response that had none, or only white space.
    fn empty_body() -> Self
    where
        Self: Sized;
    /// A body kept as text because it is not JSON of the declared schema.
    fn text_body(text: String) -> Self
    where
        Self: Sized;
}

/// The error body type of errors that come from the runtime alone (a bad
/// configuration, a sign-in): it has no values. Such an error converts into
/// the error of any generated client with `?`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoBody {}

/// An error of a call to the service.
///
/// It says what failed and where: the operation, the HTTP status, the fault
/// code and description of the error body, and the `MS-RequestId` and
/// `MS-CorrelationId` of the request, which a support ticket needs. It never
/// contains the bearer token, a continuation token or a custom token
/// provider's error.
///
/// `B` is the generated client's error body type (`pc_api::ErrorBody`);
/// generated crates name `Error<ErrorBody>` simply `Error`.
pub struct Error<B = NoBody> {
    inner: Box<Inner>,
    body_type: PhantomData<fn() -> B>,
}

struct Inner {
    kind: ErrorKind,
    message: Option<String>,
    operation_id: Option<&'static str>,
    status: Option<StatusCode>,
    headers: Option<HeaderMap>,
    body: Option<Box<dyn ApiErrorBody>>,
    request_id: Option<String>,
    correlation_id: Option<String>,
    attempts: u32,
    page: Option<u64>,
    resume_token: Option<Secret>,
    /// Whether an earlier attempt may have reached the service and acted
    /// (a non-idempotent request that was retried).
    maybe_applied: bool,
    /// What the token endpoint answered, for a failed sign-in.
    sign_in: Option<Box<SignInError>>,
    source: Option<Cause>,
}

enum Cause {
    /// Returned by `source()`.
    Shown(BoxError),
    /// A custom token provider's error: never shown, only handed out by
    /// [`Error::token_provider_error`].
    Withheld(BoxError),
}

impl<B> Error<B> {
    /// A new error of `kind`, for generated code and the runtime.
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: None,
                operation_id: None,
                status: None,
                headers: None,
                body: None,
                request_id: None,
                correlation_id: None,
                attempts: 0,
                page: None,
                resume_token: None,
                maybe_applied: false,
                sign_in: None,
                source: None,
            }),
            body_type: PhantomData,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config).with_message(message)
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidRequest).with_message(message)
    }

    /// The same error, typed for another error body type.
    pub(crate) fn retype<C>(self) -> Error<C> {
        Error {
            inner: self.inner,
            body_type: PhantomData,
        }
    }

    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Self {
        self.inner.message = Some(message.into());
        self
    }

    pub(crate) fn with_operation(mut self, operation_id: &'static str) -> Self {
        self.inner.operation_id = Some(operation_id);
        self
    }

    pub(crate) fn with_ids(mut self, request_id: &str, correlation_id: &str) -> Self {
        self.inner.request_id = Some(request_id.to_owned());
        self.inner.correlation_id = Some(correlation_id.to_owned());
        self
    }

    pub(crate) fn with_response(mut self, status: StatusCode, headers: HeaderMap) -> Self {
        self.inner.status = Some(status);
        self.inner.headers = Some(headers);
        self
    }

    pub(crate) fn with_body(mut self, body: Box<dyn ApiErrorBody>) -> Self {
        self.inner.body = Some(body);
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = attempts;
        self
    }

    pub(crate) fn with_sign_in_error(mut self, failure: SignInError) -> Self {
        self.inner.sign_in = Some(Box::new(failure));
        self
    }

    pub(crate) fn with_maybe_applied(mut self) -> Self {
        self.inner.maybe_applied = true;
        self
    }

    /// Marks the error as the failure of page `page` of a listing; `token` is
    /// the continuation token that fetches that page (none for the first).
    pub(crate) fn with_page(mut self, page: u64, token: Option<Secret>) -> Self {
        self.inner.page = Some(page);
        self.inner.resume_token = token;
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(Cause::Shown(source.into()));
        self
    }

    /// Keeps a custom token provider's error without ever showing it.
    pub(crate) fn with_withheld_source(mut self, source: BoxError) -> Self {
        self.inner.source = Some(Cause::Withheld(source));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status of the response, when one arrived.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The headers of the response, when one arrived.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.inner.headers.as_ref()
    }

    /// The error code of the response body (an `ApiFault`'s `code`), as text.
    pub fn code(&self) -> Option<String> {
        self.inner.body.as_ref()?.code()
    }

    /// The error message of the response body (an `ApiFault`'s `description`).
    pub fn message(&self) -> Option<&str> {
        self.inner.body.as_ref()?.message()
    }

    /// Whether the error body says the request may be retried (a fault's
    /// `isRetryable`), when the service said so.
    pub fn is_retryable(&self) -> Option<bool> {
        self.inner.body.as_ref()?.is_retryable()
    }

    /// The `operationId` of the failed operation.
    pub fn operation_id(&self) -> Option<&'static str> {
        self.inner.operation_id
    }

    /// The `MS-RequestId` sent with the failed request.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The `MS-CorrelationId` sent with the failed request.
    pub fn correlation_id(&self) -> Option<&str> {
        self.inner.correlation_id.as_deref()
    }

    /// How many attempts were made (1 when the request was not retried, 0 when
    /// nothing was sent).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// Whether an earlier attempt of this request may have reached the
    /// service and taken effect: a create, update or delete that was sent
    /// again after its answer was lost. The retry carried the same
    /// `MS-RequestId`, which the service uses to answer a repeated request
    /// with the original response; a service that does not would answer
    /// the repeat with an error (409, 404) although the first attempt
    /// succeeded. Check the resource's state before acting on such an error.
    pub fn may_have_succeeded_earlier(&self) -> bool {
        self.inner.maybe_applied
    }

    /// In a listing, the number (from 1) of the page that failed.
    pub fn page(&self) -> Option<u64> {
        self.inner.page
    }

    /// In a listing, the continuation token that fetches the page that
    /// failed: pass it to the operation's `resume` to list the rest.
    ///
    /// `None` when there is nothing to resume from: the first page failed
    /// (start again), the page was to be fetched from a next link without a
    /// token, or the service repeated a token or sent a link to another host
    /// (resuming would repeat the fault).
    pub fn resume_token(&self) -> Option<&Secret> {
        self.inner.resume_token.as_ref()
    }

    /// The error a custom token provider returned, which this error never
    /// shows (it may contain secrets). Inspect it yourself when you know
    /// what your provider puts in its errors.
    pub fn token_provider_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match &self.inner.source {
            Some(Cause::Withheld(error)) => Some(error.as_ref()),
            _ => None,
        }
    }

    /// For a failed sign-in, what the token endpoint answered: the `AADSTS`
    /// code, its description, a hint and the trace and correlation ids.
    pub fn sign_in_error(&self) -> Option<&SignInError> {
        self.inner.sign_in.as_deref()
    }

    /// Whether the error is a response body that failed to decode.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == ErrorKind::Decode
    }

    /// Whether the error is a timeout.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }
}

impl<B: ApiErrorBody> Error<B> {
    /// The decoded body of a non-2xx response.
    pub fn body(&self) -> Option<&B> {
        let body: &dyn Any = self.inner.body.as_deref()?;
        body.downcast_ref::<B>()
    }
}

/// An error of the runtime alone (configuration, sign-in) becomes the error
/// of any generated client, so `?` works in functions that return the
/// client's `Error`.
impl<B: ApiErrorBody> From<Error<NoBody>> for Error<B> {
    fn from(error: Error<NoBody>) -> Self {
        error.retype()
    }
}

impl<B> fmt::Display for Error<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(&self.inner, f)
    }
}

/// `Display` of every `Error<B>`, compiled once (not per error body type).
fn display(inner: &Inner, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if let Some(operation) = inner.operation_id {
        write!(f, "{operation}: ")?;
    }
    if let Some(page) = inner.page {
        write!(f, "page {page} of the listing: ")?;
    }
    f.write_str(inner.kind.describe())?;
    if let Some(status) = inner.status {
        write!(f, ": HTTP {status}")?;
    }
    if let Some(body) = &inner.body {
        write_body(f, body.as_ref())?;
    }
    if let Some(message) = &inner.message {
        write!(f, ": {message}")?;
    }
    if inner.maybe_applied {
        f.write_str(
            " (an earlier attempt may have succeeded: its answer was lost and the request was sent again)",
        )?;
    }
    if inner.attempts > 1 {
        write!(f, " (after {} attempts)", inner.attempts)?;
    }
    match (&inner.request_id, &inner.correlation_id) {
        (Some(request_id), Some(correlation_id)) => write!(
            f,
            " (MS-RequestId: {request_id}, MS-CorrelationId: {correlation_id})"
        )?,
        (None, Some(correlation_id)) => write!(f, " (MS-CorrelationId: {correlation_id})")?,
        _ => {}
    }
    Ok(())
}

fn write_body(f: &mut fmt::Formatter<'_>, body: &dyn ApiErrorBody) -> fmt::Result {
    if body.is_empty() {
        return f.write_str(" with an empty body");
    }
    if let Some(text) = body.text() {
        return write!(f, " with a non-JSON body of {} bytes", text.len());
    }
    if let Some(code) = body.code() {
        write!(f, ": code {}", one_line(&code, 100))?;
    }
    if let Some(message) = body.message() {
        write!(f, ": {}", one_line(message, 500))?;
    }
    Ok(())
}

/// Keeps messages on one line and of bounded length in logs.
pub(crate) fn one_line(text: &str, max_chars: usize) -> String {
    let mut out: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = out.char_indices().nth(max_chars) {
        out.truncate(cut);
        out.push('…');
    }
    out
}

impl<B> fmt::Debug for Error<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug(&self.inner, f)
    }
}

/// `Debug` of every `Error<B>`, compiled once.
fn debug(inner: &Inner, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let source: Option<&dyn fmt::Debug> = match &inner.source {
        Some(Cause::Shown(error)) => Some(error),
        Some(Cause::Withheld(_)) => Some(&"[token provider error withheld]"),
        None => None,
    };
    f.debug_struct("Error")
        .field("kind", &inner.kind)
        .field("operation_id", &inner.operation_id)
        .field("status", &inner.status)
        .field("body", &inner.body)
        .field("message", &inner.message)
        .field("request_id", &inner.request_id)
        .field("correlation_id", &inner.correlation_id)
        .field("attempts", &inner.attempts)
        .field("page", &inner.page)
        .field("resume_token", &inner.resume_token)
        .field("source", &source)
        .finish_non_exhaustive()
}

impl<B> std::error::Error for Error<B> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.source {
            Some(Cause::Shown(error)) => Some(error.as_ref()),
            _ => None,
        }
    }
}

/// A string that is not one of the values of a closed enum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseEnumError {
    type_name: &'static str,
    value: String,
    expected: &'static [&'static str],
}

impl ParseEnumError {
    /// The error of parsing `value` as the closed enum `type_name`.
    pub fn new(type_name: &'static str, value: &str, expected: &'static [&'static str]) -> Self {
        ParseEnumError {
            type_name,
            value: value.to_owned(),
            expected,
        }
    }
}

impl fmt::Display for ParseEnumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a {}; expected one of: {}",
            self.value,
            self.type_name,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for ParseEnumError {}

/// A message as an error, for causes that must not keep their original type.
#[derive(Debug)]
pub(crate) struct Message(pub(crate) String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}
