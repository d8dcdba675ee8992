//! [`Error`]: the one error type of the crate, and [`ParseEnumError`].

use std::fmt;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::{ErrorBody, Secret};

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
    /// The token provider failed or returned a token that cannot be sent.
    Auth,
    /// A listing cannot go on safely: a next link to another host, a
    /// continuation token that came back twice, or too many pages.
    Paging,
}

/// An error of a call to Partner Center.
///
/// It says what failed and where: the operation, the HTTP status, the fault
/// code and description of the error body, and the `MS-RequestId` and
/// `MS-CorrelationId` of the request, which a support ticket needs. It never
/// contains the bearer token or a continuation token.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: Option<String>,
    operation_id: Option<&'static str>,
    status: Option<StatusCode>,
    headers: Option<HeaderMap>,
    body: Option<ErrorBody>,
    request_id: Option<String>,
    correlation_id: Option<String>,
    attempts: u32,
    page: Option<u64>,
    resume_token: Option<Secret>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// Whether `Display` leaves out the source (a token provider's error,
    /// which the crate cannot vouch is free of secrets).
    hide_source: bool,
}

impl Error {
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
                source: None,
                hide_source: false,
            }),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config).with_message(message)
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidRequest).with_message(message)
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

    pub(crate) fn with_body(mut self, body: ErrorBody) -> Self {
        self.inner.body = Some(body);
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = attempts;
        self
    }

    /// Marks the error as the failure of page `page` of a listing; `token` is
    /// the continuation token that fetches that page (none for the first).
    pub(crate) fn with_page(mut self, page: u64, token: Option<Secret>) -> Self {
        self.inner.page = Some(page);
        self.inner.resume_token = token;
        self
    }

    pub(crate) fn hide_source(mut self) -> Self {
        self.inner.hide_source = true;
        self
    }

    pub(crate) fn with_boxed_source(
        mut self,
        source: Box<dyn std::error::Error + Send + Sync>,
    ) -> Self {
        self.inner.source = Some(source);
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.inner.source = Some(Box::new(source));
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

    /// The decoded body of a non-2xx response.
    pub fn body(&self) -> Option<&ErrorBody> {
        self.inner.body.as_ref()
    }

    /// The error code of the response body (an `ApiFault`'s `code`), as text.
    pub fn code(&self) -> Option<String> {
        self.inner.body.as_ref()?.code()
    }

    /// The error message of the response body (an `ApiFault`'s `description`).
    pub fn message(&self) -> Option<&str> {
        self.inner.body.as_ref()?.message()
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

    /// Whether the error is a response body that failed to decode.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == ErrorKind::Decode
    }

    /// Whether the error is a timeout.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        if let Some(operation) = inner.operation_id {
            write!(f, "{operation}: ")?;
        }
        if let Some(page) = inner.page {
            write!(f, "page {page} of the listing: ")?;
        }
        match inner.kind {
            ErrorKind::Config => f.write_str("invalid client configuration")?,
            ErrorKind::InvalidRequest => f.write_str("invalid request, nothing was sent")?,
            ErrorKind::Transport => f.write_str("the request failed")?,
            ErrorKind::Timeout => f.write_str("the request timed out")?,
            ErrorKind::Status => f.write_str("the service answered with an error status")?,
            ErrorKind::Decode => f.write_str("the response body could not be decoded")?,
            ErrorKind::BodyTooLarge => f.write_str("the response body is too large")?,
            ErrorKind::Auth => f.write_str("no usable bearer token")?,
            ErrorKind::Paging => f.write_str("the listing cannot continue")?,
        }
        if let Some(status) = inner.status {
            write!(f, ": HTTP {status}")?;
        }
        if let Some(body) = &inner.body {
            write_body(f, body)?;
        }
        if let Some(message) = &inner.message {
            write!(f, ": {message}")?;
        }
        if let Some(source) = inner.source.as_ref().filter(|_| !inner.hide_source) {
            write!(f, ": {source}")?;
            let mut next = source.source();
            while let Some(cause) = next {
                write!(f, ": {cause}")?;
                next = cause.source();
            }
        }
        if inner.attempts > 1 {
            write!(f, " (after {} attempts)", inner.attempts)?;
        }
        if let (Some(request_id), Some(correlation_id)) = (&inner.request_id, &inner.correlation_id)
        {
            write!(
                f,
                " (MS-RequestId: {request_id}, MS-CorrelationId: {correlation_id})"
            )?;
        }
        Ok(())
    }
}

fn write_body(f: &mut fmt::Formatter<'_>, body: &ErrorBody) -> fmt::Result {
    match body {
        ErrorBody::Empty => f.write_str(" with an empty body"),
        ErrorBody::Text(text) => write!(f, " with a non-JSON body of {} bytes", text.len()),
        body => {
            if let Some(code) = body.code() {
                write!(f, ": code {}", one_line(&code, 100))?;
            }
            if let Some(message) = body.message() {
                write!(f, ": {}", one_line(message, 500))?;
            }
            Ok(())
        }
    }
}

/// Keeps messages on one line and of bounded length in logs.
fn one_line(text: &str, max_chars: usize) -> String {
    let mut out: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = out.char_indices().nth(max_chars) {
        out.truncate(cut);
        out.push('…');
    }
    out
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
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
            .field("source", &inner.source)
            .finish_non_exhaustive()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// A string that is not one of the values of a closed enum, such as
/// [`SortDirection`](crate::types::SortDirection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseEnumError {
    type_name: &'static str,
    value: String,
    expected: &'static [&'static str],
}

impl ParseEnumError {
    pub(crate) fn new(
        type_name: &'static str,
        value: &str,
        expected: &'static [&'static str],
    ) -> Self {
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
