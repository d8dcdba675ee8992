//! The send path, as a pipeline read top to bottom:
//!
//! 1. [`prepare`], once per call: the request and correlation ids, the
//!    locale, `Accept`, the client's default headers, the URL.
//! 2. [`retry_loop`]: attempts until one succeeds, one fails for good, or the
//!    retry policy has no retry left; waits between attempts.
//! 3. [`attempt`]: one try: the token, the timeout, the transport, the
//!    body within its size limit.
//! 4. [`classify`]: success, a failure worth another attempt, or a final one.
//!
//! A plain call enters at [`send`]; a listing's read-ahead at
//! [`send_read_ahead`], which differs only in when the attempt's timeout
//! starts counting (see [`timer`]).

pub(crate) mod body;
pub(crate) mod request;
pub(crate) mod timer;

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};

use self::body::BodyFailure;
use self::request::{Request, header_value};
use self::timer::{Clock, Timed, Waiting};
use crate::auth::BoxError;
use crate::client::{ClientCore, check_token};
use crate::error::{ApiErrorBody, Error, ErrorKind, Message};
use crate::retry::RetryPolicy;
use crate::secret::Secret;

pub(crate) const REQUEST_ID: &str = "MS-RequestId";
pub(crate) const CORRELATION_ID: &str = "MS-CorrelationId";
const LOCALE: &str = "X-Locale";

/// Decodes the body of an error response by its status, as the spec declares.
pub(crate) type DecodeError<'a> = &'a (dyn Fn(u16, &[u8]) -> Box<dyn ApiErrorBody> + Send + Sync);

/// A 2xx response, read whole.
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) request_id: String,
    pub(crate) correlation_id: String,
}

/// A boxed future of the send path. The pipeline's futures are boxed here,
/// in this crate, so that their code is compiled once with the runtime
/// rather than again in every generated crate that awaits them.
pub(crate) type Sending<'a> = Pin<Box<dyn Future<Output = Result<Response, Error>> + Send + 'a>>;

/// Sends a request of a plain call.
pub(crate) fn send<'a>(
    core: &'a ClientCore,
    request: Request,
    decode_error: DecodeError<'a>,
) -> Sending<'a> {
    Box::pin(async move {
        let prepared = prepare(core, request)?;
        retry_loop(core, prepared, decode_error, Clock::FirstPoll).await
    })
}

/// Sends the request of a listing's next page while the consumer may still
/// be working on the current one: each attempt's timeout counts only from
/// when the consumer waits (`waiting`).
pub(crate) async fn send_read_ahead(
    core: &ClientCore,
    request: Request,
    decode_error: DecodeError<'_>,
    waiting: Waiting,
) -> Result<Response, Error> {
    let prepared = prepare(core, request)?;
    retry_loop(core, prepared, decode_error, Clock::WhileWaited(waiting)).await
}

/// A request ready to be sent, with its ids.
struct Prepared {
    operation_id: &'static str,
    method: Method,
    url: reqwest::Url,
    headers: HeaderMap,
    body: Option<Bytes>,
    request_id: String,
    correlation_id: String,
    /// The timeout of each attempt, for error messages.
    timeout: std::time::Duration,
}

impl Prepared {
    fn error(&self, kind: ErrorKind) -> Error {
        Error::new(kind)
            .with_operation(self.operation_id)
            .with_ids(&self.request_id, &self.correlation_id)
    }
}

/// Stage 1, once per call: `MS-RequestId` (one for every attempt: the
/// service's idempotency key) and `MS-CorrelationId`, the caller's or fresh
/// UUIDs; `X-Locale`, `Accept` and the client's default headers; the URL.
fn prepare(core: &ClientCore, mut request: Request) -> Result<Prepared, Error> {
    let inner = &*core.inner;
    let operation_id = request.operation_id;
    let request_id = id_or_new(&mut request, REQUEST_ID)?;
    let correlation_id = id_or_new(&mut request, CORRELATION_ID)?;
    if !request.headers.contains_key(LOCALE) {
        request.headers.insert(LOCALE, inner.locale.clone());
    }
    if !request.headers.contains_key(ACCEPT) {
        request
            .headers
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
    }
    for (name, value) in &inner.default_headers {
        if !request.headers.contains_key(*name) {
            request.headers.insert(*name, value.clone());
        }
    }
    let url = request
        .url(&inner.base_url)
        .map_err(|e| e.with_ids(&request_id, &correlation_id))?;
    Ok(Prepared {
        operation_id,
        method: request.method,
        url,
        headers: request.headers,
        body: request.body,
        request_id,
        correlation_id,
        timeout: inner.timeout,
    })
}

/// The caller's id from the request's header, or a fresh UUID set now. The
/// caller's value was checked when it was set: it is sent as it is, never
/// swapped.
fn id_or_new(request: &mut Request, name: &'static str) -> Result<String, Error> {
    if let Some(value) = request.headers.get(name) {
        return value.to_str().map(str::to_owned).map_err(|_| {
            Error::invalid_request(format!("header `{name}` must be printable ASCII"))
                .with_operation(request.operation_id)
        });
    }
    let id = uuid::Uuid::new_v4().to_string();
    request.headers.insert(
        name,
        HeaderValue::from_str(&id)
            .map_err(|_| Error::invalid_request("a generated id is not a header value"))?,
    );
    Ok(id)
}

/// Stage 2: attempts until success, a final failure, or no retry left.
async fn retry_loop(
    core: &ClientCore,
    request: Prepared,
    decode_error: DecodeError<'_>,
    clock: Clock,
) -> Result<Response, Error> {
    let policy: &RetryPolicy = &core.inner.retry;
    let span = tracing::debug_span!(
        "pc_api.request",
        operation = request.operation_id,
        method = %request.method,
        path = %request.url.path(),
        request_id = %request.request_id,
        correlation_id = %request.correlation_id,
    );
    // Whether an earlier attempt may have reached the service and acted.
    let mut maybe_applied = false;
    let mut number: u32 = 0;
    // Retries spent, on other failures and (when counted apart) on 429s.
    let mut retries: u32 = 0;
    let mut throttle_retries: u32 = 0;
    // Whether a refused token was replaced already.
    let mut renewed = false;
    loop {
        number += 1;
        let permit = match &core.inner.gate {
            Some(gate) => Some(gate.admit().await),
            None => None,
        };
        let started = Instant::now();
        let outcome = attempt(core, &request, clock.clone()).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let throttled = throttled_for(&outcome);
        if let Some(permit) = permit {
            permit.finish(throttled);
        }
        // A 401 for a token the provider thought good: once per call, the
        // provider forgets it and the request goes again with a new one.
        if let Ok(answer) = &outcome
            && answer.status == StatusCode::UNAUTHORIZED
            && !renewed
            && let (Some(token), Some(provider)) = (&answer.token, &core.inner.token)
            && provider.reject(token)
        {
            renewed = true;
            tracing::info!(parent: &span, attempt = number, "the token was refused (401); sending again with a new one");
            continue;
        }
        let verdict = classify(&request, outcome, decode_error, number);
        let (mut error, retry_headers, reached) = match verdict {
            Verdict::Success(response) => {
                tracing::debug!(parent: &span, attempt = number, status = response.status.as_u16(), elapsed_ms, "response");
                return Ok(response);
            }
            Verdict::Final(error) => {
                tracing::debug!(parent: &span, attempt = number, elapsed_ms, error = %error, "failed");
                return Err(mark(error, maybe_applied));
            }
            Verdict::Retryable {
                error,
                headers,
                reached,
            } => (error, headers, reached),
        };
        tracing::debug!(parent: &span, attempt = number, elapsed_ms, error = %error, "attempt failed");
        let exhausted = match (throttled.is_some(), policy.throttle_retries()) {
            (true, Some(limit)) => {
                throttle_retries += 1;
                throttle_retries > limit
            }
            _ => {
                retries += 1;
                retries > policy.retries()
            }
        };
        if exhausted {
            error = mark(error, maybe_applied);
            return Err(error);
        }
        maybe_applied |= reached && !is_idempotent(&request.method);
        let delay = policy.delay(number, retry_headers.as_ref());
        tracing::info!(parent: &span, attempt = number, delay_ms = delay.as_millis() as u64, status = error.status().map(|s| s.as_u16()), "retrying");
        if let Some(deadline) = timer::deadline_after(delay) {
            tokio::time::sleep_until(deadline).await;
        } else {
            std::future::pending::<()>().await;
        }
    }
}

fn mark(error: Error, maybe_applied: bool) -> Error {
    if maybe_applied {
        error.with_maybe_applied()
    } else {
        error
    }
}

/// The `Retry-After` of a 429 answer (1 s when it says none), for the
/// run's throttle; `None` for any other outcome.
fn throttled_for(outcome: &Result<Answer, AttemptError>) -> Option<std::time::Duration> {
    match outcome {
        Ok(answer) if answer.status == StatusCode::TOO_MANY_REQUESTS => Some(
            crate::retry::retry_after(&answer.headers).unwrap_or(std::time::Duration::from_secs(1)),
        ),
        _ => None,
    }
}

/// Methods whose repetition has the effect of one request, by HTTP's
/// definition (RFC 9110 §9.2.2). DELETE is idempotent there, but its repeat
/// answers differently (404), which is what the caller is told about.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT
    )
}

/// What went wrong in one attempt.
enum AttemptError {
    /// The token provider failed or gave a token that cannot be sent.
    Token(Error),
    /// No complete response within the timeout.
    TimedOut,
    /// The request could not be sent, or no response came.
    Transport(reqwest::Error),
    /// A response started, but its body could not be read.
    Body {
        status: StatusCode,
        headers: HeaderMap,
        failure: BodyFailure,
    },
}

/// A complete response of one attempt, of any status.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    /// The token provider's token the request carried, if it carried one.
    token: Option<Secret>,
}

/// Stage 3: one attempt, timed as `clock` says: the token, the transport,
/// the whole body within the size limit.
async fn attempt(
    core: &ClientCore,
    request: &Prepared,
    clock: Clock,
) -> Result<Answer, AttemptError> {
    let timeout = core.inner.timeout;
    match Timed::new(untimed_attempt(core, request), timeout, clock).await {
        Ok(outcome) => outcome,
        Err(timer::Elapsed) => Err(AttemptError::TimedOut),
    }
}

async fn untimed_attempt(core: &ClientCore, request: &Prepared) -> Result<Answer, AttemptError> {
    let inner = &*core.inner;
    let mut headers = request.headers.clone();
    // An `Authorization` the operation itself sets (a spec's header
    // parameter) is sent as it is; otherwise the token provider's.
    let mut token = None;
    if !headers.contains_key(AUTHORIZATION)
        && let Some(provider) = &inner.token
    {
        let (value, used) = authorization(provider.as_ref(), request).await?;
        headers.insert(AUTHORIZATION, value);
        token = Some(used);
    }
    // The timeout is the attempt's (`Timed`), not reqwest's, whose timer would
    // also run while a read-ahead is not polled.
    let mut builder = inner
        .http
        .request(request.method.clone(), request.url.clone())
        .headers(headers);
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let response = builder.send().await.map_err(AttemptError::Transport)?;
    let status = response.status();
    let headers = response.headers().clone();
    match body::read_body(response, inner.max_response_bytes).await {
        Ok(body) => Ok(Answer {
            status,
            headers,
            body,
            token,
        }),
        Err(failure) => Err(AttemptError::Body {
            status,
            headers,
            failure,
        }),
    }
}

/// The `Authorization` header from the token provider. A custom provider's
/// error is kept but never shown; the runtime's own credentials fail with an
/// error of kind `Auth` that is safe to show, and is shown.
async fn authorization(
    provider: &dyn crate::TokenProvider,
    request: &Prepared,
) -> Result<(HeaderValue, Secret), AttemptError> {
    let token = provider
        .token()
        .await
        .map_err(|e| AttemptError::Token(provider_error(request, e)))?;
    check_token(&token)
        .map_err(|why| AttemptError::Token(request.error(ErrorKind::Auth).with_message(why)))?;
    let mut value = header_value(&format!("Bearer {}", token.expose_secret())).map_err(|_| {
        AttemptError::Token(
            request
                .error(ErrorKind::Auth)
                .with_message("the bearer token is not a valid header value"),
        )
    })?;
    value.set_sensitive(true);
    Ok((value, token))
}

fn provider_error(request: &Prepared, error: BoxError) -> Error {
    match error.downcast::<Error>() {
        // The runtime's own credentials: their errors hold no secret, and
        // say what the token endpoint answered; they are shown as they are,
        // with the operation and the ids of the request that needed them.
        Ok(own) => own
            .with_operation(request.operation_id)
            .with_ids(&request.request_id, &request.correlation_id),
        Err(other) => request
            .error(ErrorKind::Auth)
            .with_message("the token provider failed; its error is not shown because it may contain secrets (see `Error::token_provider_error`)")
            .with_withheld_source(other),
    }
}

/// What to do about the errors of Partner Center that mean the wrong kind of
/// token (the project's notes §12).
fn hint(status: StatusCode, body: &dyn ApiErrorBody) -> Option<&'static str> {
    let message = body
        .message()
        .or(body.text())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if status == StatusCode::FORBIDDEN && message.contains("application credentials") {
        return Some(
            "this operation needs an App+User token (the secure application model: `auth::RefreshTokenCredential`), not an app-only one",
        );
    }
    if status == StatusCode::UNAUTHORIZED && body.code().as_deref() == Some("900421") {
        return Some(
            "the access token has no MFA claim: sign in again interactively with multi-factor authentication (and consent again) to get a new refresh token",
        );
    }
    None
}

/// The outcome of an attempt, as the retry loop sees it.
enum Verdict {
    Success(Response),
    /// Worth another attempt: a retryable status, a timeout, a broken
    /// connection or body. `reached`: the request may have reached the
    /// service and acted (not a connect error, not a 429).
    Retryable {
        error: Error,
        headers: Option<HeaderMap>,
        reached: bool,
    },
    Final(Error),
}

/// Stage 4: classifies an attempt's outcome.
fn classify(
    request: &Prepared,
    outcome: Result<Answer, AttemptError>,
    decode_error: DecodeError<'_>,
    attempts: u32,
) -> Verdict {
    match outcome {
        Ok(answer) if answer.status.is_success() => Verdict::Success(Response {
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
            request_id: request.request_id.clone(),
            correlation_id: request.correlation_id.clone(),
        }),
        Ok(answer) => {
            let retryable = RetryPolicy::is_retryable_status(answer.status);
            let body = decode_error(answer.status.as_u16(), &answer.body);
            let hint = hint(answer.status, body.as_ref());
            let mut error = request
                .error(ErrorKind::Status)
                .with_response(answer.status, answer.headers.clone())
                .with_body(body)
                .with_attempts(attempts);
            if let Some(hint) = hint {
                error = error.with_message(hint);
            }
            if retryable {
                Verdict::Retryable {
                    error,
                    reached: answer.status != StatusCode::TOO_MANY_REQUESTS,
                    headers: Some(answer.headers),
                }
            } else {
                Verdict::Final(error)
            }
        }
        Err(AttemptError::Token(error)) => Verdict::Final(error.with_attempts(attempts - 1)),
        Err(AttemptError::TimedOut) => Verdict::Retryable {
            error: request
                .error(ErrorKind::Timeout)
                .with_message(format!(
                    "no complete response within {:?} (see `ClientBuilder::timeout`)",
                    request.timeout
                ))
                .with_attempts(attempts),
            headers: None,
            reached: true,
        },
        Err(AttemptError::Transport(e)) => {
            let kind = if e.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Transport
            };
            let reached = !e.is_connect();
            Verdict::Retryable {
                error: request.error(kind).with_source(e).with_attempts(attempts),
                headers: None,
                reached,
            }
        }
        Err(AttemptError::Body {
            status,
            headers,
            failure: BodyFailure::TooLarge { limit },
        }) => Verdict::Final(
            request
                .error(ErrorKind::BodyTooLarge)
                .with_response(status, headers)
                .with_message(format!(
                    "the limit is {limit} bytes (see `ClientBuilder::max_response_bytes`)"
                ))
                .with_source(Message("response body over the limit".to_owned()))
                .with_attempts(attempts),
        ),
        Err(AttemptError::Body {
            status,
            headers,
            failure: BodyFailure::Broken(e),
        }) => {
            let kind = if e.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Transport
            };
            let error = request
                .error(kind)
                .with_response(status, headers.clone())
                .with_message("reading the body failed")
                .with_source(e)
                .with_attempts(attempts);
            // A body cut off under a 2xx is worth another try; under an
            // error status, only if the status itself is.
            if status.is_success() || RetryPolicy::is_retryable_status(status) {
                Verdict::Retryable {
                    error,
                    headers: Some(headers),
                    reached: status != StatusCode::TOO_MANY_REQUESTS,
                }
            } else {
                Verdict::Final(error)
            }
        }
    }
}
