//! The token endpoint of Microsoft Entra ID (v2): one form-encoded request
//! per grant, retried after 5xx, 429, timeouts and broken connections (never
//! after a 4xx), and its reply or its error read the way the endpoint writes
//! them (numbers or numeric strings; `AADSTS` codes with hints).
//!
//! Hand-written on reqwest: the `oauth2` crate cannot parse the v1 reply
//! (`expires_in` as a string) and would bring another reqwest major.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use crate::error::{Error, ErrorKind, Message, one_line};
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// What a credential asks for, and where.
pub(crate) struct TokenEndpoint {
    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub(crate) url: Url,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) scope: String,
    pub(crate) http: reqwest::Client,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Duration,
}

/// An access token as issued.
pub(crate) struct Issued {
    pub(crate) access_token: Secret,
    /// A rotated refresh token, when the reply carries one.
    pub(crate) refresh_token: Option<Secret>,
    /// How long the access token is valid from now.
    pub(crate) lifetime: Duration,
}

/// The grant of a token request.
pub(crate) enum Grant<'a> {
    /// The secure application model: a refresh token for an App+User token.
    RefreshToken(&'a Secret),
    /// App-only: the client's own credentials.
    ClientCredentials,
}

impl TokenEndpoint {
    /// Requests a token, retrying as the retry policy says when the
    /// endpoint or the network fails transiently.
    pub(crate) async fn request(&self, grant: Grant<'_>) -> Result<Issued, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.attempt(&grant).await;
            let (error, headers) = match outcome {
                Ok(issued) => return Ok(issued),
                Err(Failure::Final(error)) => return Err(error.with_attempts(attempt)),
                Err(Failure::Retryable(error, headers)) => (error, headers),
            };
            if attempt > self.retry.retries() {
                return Err(error.with_attempts(attempt));
            }
            let delay = self.retry.delay(attempt, headers.as_ref());
            tracing::info!(
                attempt,
                delay_ms = delay.as_millis() as u64,
                status = error.status().map(|s| s.as_u16()),
                "retrying the token request"
            );
            match crate::pipeline::timer::deadline_after(delay) {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending::<()>().await,
            }
        }
    }

    async fn attempt(&self, grant: &Grant<'_>) -> Result<Issued, Failure> {
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose_secret()),
            ("scope", &self.scope),
        ];
        match grant {
            Grant::RefreshToken(token) => {
                form.insert(0, ("grant_type", "refresh_token"));
                form.push(("refresh_token", token.expose_secret()));
            }
            Grant::ClientCredentials => form.insert(0, ("grant_type", "client_credentials")),
        }
        let send = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send();
        let response = match timed(self.timeout, send).await {
            Some(Ok(response)) => response,
            Some(Err(e)) => {
                let kind = if e.is_timeout() {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Transport
                };
                // Not the reqwest error itself: its text names the URL, and
                // the form may be in it for all a reader knows.
                return Err(Failure::Retryable(
                    sign_in(kind, "the token request failed").with_source(Message(format!(
                        "token endpoint {}: {}",
                        self.url,
                        kind_text(&e)
                    ))),
                    None,
                ));
            }
            None => {
                return Err(Failure::Retryable(
                    sign_in(
                        ErrorKind::Timeout,
                        format!(
                            "no answer from the token endpoint within {:?}",
                            self.timeout
                        ),
                    ),
                    None,
                ));
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match timed(self.timeout, response.bytes()).await {
            Some(Ok(body)) => body,
            _ => {
                return Err(Failure::Retryable(
                    sign_in(
                        ErrorKind::Transport,
                        "the token endpoint's answer broke off",
                    )
                    .with_response(status, headers.clone()),
                    Some(headers),
                ));
            }
        };
        if status.is_success() {
            return parse_reply(&body).map_err(|why| {
                Failure::Final(
                    sign_in(
                        ErrorKind::Auth,
                        format!("the token endpoint's reply is not usable: {why}"),
                    )
                    .with_response(status, headers),
                )
            });
        }
        let failure = SignInError::from_body(status.as_u16(), &body);
        let error = sign_in(ErrorKind::Auth, failure.to_string())
            .with_response(status, headers.clone())
            .with_sign_in_error(failure);
        if RetryPolicy::is_retryable_status(status) {
            Err(Failure::Retryable(error, Some(headers)))
        } else {
            Err(Failure::Final(error))
        }
    }
}

enum Failure {
    Retryable(Error, Option<reqwest::header::HeaderMap>),
    Final(Error),
}

fn sign_in(kind: ErrorKind, message: impl Into<String>) -> Error {
    Error::new(kind).with_message(message)
}

fn kind_text(error: &reqwest::Error) -> &'static str {
    if error.is_connect() {
        "could not connect"
    } else if error.is_timeout() {
        "timed out"
    } else {
        "the connection failed"
    }
}

/// `future`, or `None` when it takes longer than `timeout`.
async fn timed<F: std::future::Future>(timeout: Duration, future: F) -> Option<F::Output> {
    match crate::pipeline::timer::deadline_after(timeout) {
        Some(deadline) => tokio::time::timeout_at(deadline, future).await.ok(),
        None => Some(future.await),
    }
}

/// A number, or a number in a string: the v1 endpoint writes `"3599"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(u64),
    Text(String),
    Float(f64),
}

impl Seconds {
    fn get(&self) -> Option<u64> {
        match self {
            Seconds::Number(n) => Some(*n),
            Seconds::Text(text) => text.trim().parse().ok(),
            Seconds::Float(f) if f.is_finite() && *f >= 0.0 => Some(*f as u64),
            Seconds::Float(_) => None,
        }
    }
}

#[derive(Deserialize)]
struct Reply {
    access_token: Option<Secret>,
    refresh_token: Option<Secret>,
    token_type: Option<String>,
    expires_in: Option<Seconds>,
    ext_expires_in: Option<Seconds>,
    expires_on: Option<Seconds>,
}

/// The issued token of a 2xx reply.
pub(crate) fn parse_reply(body: &[u8]) -> Result<Issued, String> {
    let reply: Reply = serde_json::from_slice(crate::pipeline::body::strip_bom(body))
        .map_err(|e| format!("not the JSON of a token reply ({e})"))?;
    let access_token = reply
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or("it has no `access_token`")?;
    if let Some(kind) = &reply.token_type
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(format!("its `token_type` is {kind:?}, not Bearer"));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let lifetime = reply
        .expires_in
        .as_ref()
        .and_then(Seconds::get)
        .or_else(|| {
            reply
                .expires_on
                .as_ref()
                .and_then(Seconds::get)
                .map(|on| on.saturating_sub(now))
        })
        .or_else(|| reply.ext_expires_in.as_ref().and_then(Seconds::get))
        .ok_or("it says neither `expires_in` nor `expires_on`")?;
    Ok(Issued {
        access_token,
        refresh_token: reply.refresh_token.filter(|t| !t.is_empty()),
        lifetime: Duration::from_secs(lifetime),
    })
}

/// The error the token endpoint answered, as Microsoft Entra ID writes it:
/// `error`, `error_description` (which starts with `AADSTS<code>: `),
/// `error_codes`, `trace_id`, `correlation_id`, sometimes `suberror`. Safe
/// to show: it holds no token or secret.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInError {
    status: u16,
    error: Option<String>,
    description: Option<String>,
    codes: Vec<u64>,
    trace_id: Option<String>,
    correlation_id: Option<String>,
    suberror: Option<String>,
}

#[derive(Deserialize)]
struct ErrorReply {
    error: Option<String>,
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u64>,
    trace_id: Option<String>,
    correlation_id: Option<String>,
    suberror: Option<String>,
}

impl SignInError {
    fn from_body(status: u16, body: &[u8]) -> SignInError {
        let reply: Option<ErrorReply> =
            serde_json::from_slice(crate::pipeline::body::strip_bom(body)).ok();
        let Some(reply) = reply else {
            return SignInError {
                status,
                ..SignInError::default()
            };
        };
        let mut codes = reply.error_codes;
        if codes.is_empty()
            && let Some(code) = reply.error_description.as_deref().and_then(aadsts_code)
        {
            codes.push(code);
        }
        SignInError {
            status,
            error: reply.error,
            description: reply.error_description,
            codes,
            trace_id: reply.trace_id,
            correlation_id: reply.correlation_id,
            suberror: reply.suberror,
        }
    }

    /// The HTTP status of the token endpoint's answer.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The OAuth error, e.g. `invalid_grant`.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The `AADSTS` code, e.g. 700082.
    pub fn code(&self) -> Option<u64> {
        self.codes.first().copied()
    }

    /// Every code of `error_codes`.
    pub fn codes(&self) -> &[u64] {
        &self.codes
    }

    /// The whole description, several lines (the first says what failed).
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The trace id a Microsoft support ticket needs.
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }

    /// The correlation id a Microsoft support ticket needs.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }

    /// The suberror, e.g. `basic_action` or `token_expired`.
    pub fn suberror(&self) -> Option<&str> {
        self.suberror.as_deref()
    }

    /// What to do about the codes partners hit, when the code is one of them.
    pub fn hint(&self) -> Option<&'static str> {
        self.codes.iter().find_map(|code| hint(*code))
    }

    /// The first line of the description, without its `AADSTS…: ` prefix.
    fn summary(&self) -> Option<String> {
        let first = self.description.as_deref()?.lines().next()?.trim();
        let text = match first.split_once(": ") {
            Some((prefix, rest)) if prefix.starts_with("AADSTS") => rest,
            _ => first,
        };
        Some(one_line(text, 300))
    }
}

/// The code of `AADSTS700082: …`.
fn aadsts_code(description: &str) -> Option<u64> {
    let rest = description.trim_start().strip_prefix("AADSTS")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Hints for the codes partners hit (the project's notes §12).
fn hint(code: u64) -> Option<&'static str> {
    Some(match code {
        700082 => {
            "the refresh token expired (90 days without use): sign in again interactively, with MFA, and store the new refresh token"
        }
        50076 | 50078 | 70043 => {
            "multi-factor authentication is required or the sign-in frequency policy ran out: sign in again interactively with MFA"
        }
        50173 => "the grant was revoked (a password reset or revoked sessions): sign in again",
        65001 => {
            "the application has no consent in this tenant: an admin must consent to it (the secure application model's consent step)"
        }
        7000215 => "the client secret is wrong or expired: use a valid secret of the application",
        700007 => {
            "the refresh token was issued to another application: use the client id it was issued to"
        }
        90038 => {
            "the tenant is in another national cloud: choose its cloud (e.g. `Cloud::China`) for the credential"
        }
        53003 => "a conditional access policy blocked the sign-in: ask the tenant's admin",
        50020 | 50177 => {
            "the user is a guest or not in the partner's tenant or GDAP group: sign in with an agent of the partner tenant"
        }
        5000224 => "the tenant was deleted",
        700016 | 50059 => {
            "the application or tenant is not known (yet): check the ids; a new application may take minutes to propagate"
        }
        _ => return None,
    })
}

impl fmt::Display for SignInError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sign-in failed")?;
        match self.code() {
            Some(code) => write!(f, ": AADSTS{code}")?,
            None => write!(f, ": HTTP {}", self.status)?,
        }
        if let Some(error) = &self.error {
            write!(f, " ({})", one_line(error, 80))?;
        }
        if let Some(summary) = self.summary() {
            write!(f, ": {summary}")?;
        }
        if let Some(hint) = self.hint() {
            write!(f, " (hint: {hint})")?;
        }
        match (&self.trace_id, &self.correlation_id) {
            (Some(trace), Some(correlation)) => write!(
                f,
                " (trace id: {}, correlation id: {})",
                one_line(trace, 80),
                one_line(correlation, 80)
            ),
            (Some(trace), None) => write!(f, " (trace id: {})", one_line(trace, 80)),
            (None, Some(correlation)) => {
                write!(f, " (correlation id: {})", one_line(correlation, 80))
            }
            (None, None) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_as_numbers_or_strings() {
        let v2 = parse_reply(
            br#"{"token_type":"Bearer","expires_in":3599,"access_token":"a","refresh_token":"r"}"#,
        )
        .expect("v2");
        assert_eq!(v2.lifetime, Duration::from_secs(3599));
        assert_eq!(
            v2.refresh_token.as_ref().map(Secret::expose_secret),
            Some("r")
        );
        let v1 = parse_reply(br#"{"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599","expires_on":"1700000000","access_token":"a"}"#)
            .expect("v1");
        assert_eq!(v1.lifetime, Duration::from_secs(3599));
        assert!(v1.refresh_token.is_none());
        assert!(parse_reply(br#"{"access_token":"a"}"#).is_err());
        assert!(parse_reply(br#"{"expires_in":1}"#).is_err());
        assert!(parse_reply(br#"{"access_token":"a","expires_in":1,"token_type":"pop"}"#).is_err());
    }

    #[test]
    fn errors_show_the_code_the_first_line_a_hint_and_the_ids() {
        let body = br#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 3","error_codes":[700082],"trace_id":"t-1","correlation_id":"c-2","suberror":"bad_token"}"#;
        let error = SignInError::from_body(400, body);
        assert_eq!(
            error.to_string(),
            "sign-in failed: AADSTS700082 (invalid_grant): The refresh token has expired due to inactivity. (hint: the refresh token expired (90 days without use): sign in again interactively, with MFA, and store the new refresh token) (trace id: t-1, correlation id: c-2)"
        );
        assert_eq!(error.suberror(), Some("bad_token"));
        let no_codes = SignInError::from_body(401, br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#);
        assert_eq!(no_codes.code(), Some(7000215));
        let not_json = SignInError::from_body(502, b"<html>");
        assert_eq!(not_json.to_string(), "sign-in failed: HTTP 502");
    }
}
