//! [`RetryPolicy`]: which failures are retried, and how long to wait.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// When and how a failed request is retried.
///
/// Retried: connection errors, timeouts, a body cut off mid-way, and the
/// statuses 408, 429, 500, 502, 503 and 504. Never retried: any other status,
/// such as 400, 401, 403, 404 or 409. A retried request is sent again with
/// the same `MS-RequestId`, the service's idempotency key.
///
/// The wait before retry `n` (from 1) is exponential with jitter: a random
/// time between half and all of `initial_backoff × 2^(n-1)`, at most
/// `max_backoff`. On a 429 the client waits what `Retry-After` says (seconds
/// or an HTTP date), at most `max_retry_after`.
///
/// | setting | default |
/// |---|---|
/// | `max_retries` | 3 (so at most 4 attempts) |
/// | `initial_backoff` | 500 ms |
/// | `max_backoff` | 30 s |
/// | `max_retry_after` | 60 s |
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    /// Retries of 429 counted on their own, when set.
    max_throttle_retries: Option<u32>,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            max_throttle_retries: None,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The default policy (see the table above).
    pub fn new() -> Self {
        Self::default()
    }

    /// A policy that never retries.
    pub fn never() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// How many times a request is retried after its first attempt.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Counts retries after 429 (throttling) on their own, up to `retries`,
    /// instead of against [`max_retries`](RetryPolicy::max_retries): a
    /// partner-wide run waits out throttling rather than failing a customer
    /// over it.
    pub fn max_throttle_retries(mut self, retries: u32) -> Self {
        self.max_throttle_retries = Some(retries);
        self
    }

    /// The retries left for 429s counted on their own, when they are.
    pub(crate) fn throttle_retries(&self) -> Option<u32> {
        self.max_throttle_retries
    }

    /// The wait before the first retry, doubled for each further one.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest wait between two attempts, jitter included.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest a `Retry-After` header is honoured; a longer one is cut to this.
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// The number of retries after the first attempt.
    pub fn retries(&self) -> u32 {
        self.max_retries
    }

    /// Whether a response with `status` is worth another attempt.
    pub fn is_retryable_status(status: StatusCode) -> bool {
        matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
    }

    /// The wait before retry number `retry` (from 1), after a response with
    /// `headers` (if one arrived).
    pub(crate) fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Duration {
        if let Some(wait) = headers.and_then(retry_after) {
            return wait.min(self.max_retry_after);
        }
        let exponent = retry.saturating_sub(1).min(20);
        let full = self
            .initial_backoff
            .saturating_mul(1 << exponent)
            .min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(random_unit())
    }
}

/// `Retry-After` as seconds or as an HTTP date in any of the three formats
/// RFC 9110 §5.6.7 says recipients must accept (IMF-fixdate, RFC 850,
/// asctime), parsed by `httpdate`.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let until = httpdate::parse_http_date(value).ok()?;
    Some(
        until
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A random number in [0, 1), from the standard library's randomly seeded hasher.
fn random_unit() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x5eed);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(retry_after: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(retry_after).expect("header"),
        );
        headers
    }

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        let policy = RetryPolicy::new();
        for _ in 0..100 {
            let first = policy.delay(1, None);
            assert!(
                first >= Duration::from_millis(250) && first <= Duration::from_millis(500),
                "{first:?}"
            );
            let third = policy.delay(3, None);
            assert!(
                third >= Duration::from_secs(1) && third <= Duration::from_secs(2),
                "{third:?}"
            );
            assert!(policy.delay(30, None) <= Duration::from_secs(30));
        }
    }

    #[test]
    fn retry_after_seconds_and_dates_are_capped() {
        let policy = RetryPolicy::new();
        assert_eq!(policy.delay(1, Some(&headers("7"))), Duration::from_secs(7));
        assert_eq!(
            policy.delay(1, Some(&headers("3600"))),
            Duration::from_secs(60)
        );
        assert_eq!(
            policy.delay(1, Some(&headers("Tue, 21 Jul 2020 04:10:58 GMT"))),
            Duration::ZERO
        );
        let soon = chrono::Utc::now() + chrono::Duration::seconds(30);
        // The three formats RFC 9110 §5.6.7 says a recipient must accept.
        for format in [
            "%a, %d %b %Y %H:%M:%S GMT",
            "%A, %d-%b-%y %H:%M:%S GMT",
            "%a %b %e %H:%M:%S %Y",
        ] {
            let date = soon.format(format).to_string();
            let wait = policy.delay(1, Some(&headers(&date)));
            assert!(
                wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
                "{date}: {wait:?}"
            );
        }
        let garbage = policy.delay(1, Some(&headers("soon")));
        assert!(garbage <= Duration::from_millis(500));
    }

    #[test]
    fn retryable_statuses() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(RetryPolicy::is_retryable_status(
                StatusCode::from_u16(code).expect("status")
            ));
        }
        for code in [400, 401, 403, 404, 409, 412, 501] {
            assert!(!RetryPolicy::is_retryable_status(
                StatusCode::from_u16(code).expect("status")
            ));
        }
    }
}
