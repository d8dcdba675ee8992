//! `tracing` output of a listing: spans and events per request with the
//! operation, attempt, status, ids and elapsed time, and never a secret.
//!
//! The subscriber is global (a thread-scoped one would miss events whose
//! callsites other tests' threads registered first), so it sees every test
//! of the binary: the test reads the lines of its own correlation id, and
//! checks that no test's secret reaches the log at all.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::{CUSTOMER, TOKEN};
use futures::TryStreamExt;
use pc_api::types::CustomerUser;
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CONTINUATION: &str = "d19617b8,0705c4a9_a4ayc/80/OGda1+O/1o/V0etpOq=,0d81c700";

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log of the whole test binary, from the first call on.
fn global_log() -> &'static Captured {
    static LOG: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        use tracing_subscriber::util::SubscriberInitExt;
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
            .try_init()
            .expect("the only global subscriber");
        captured
    })
}

#[tokio::test]
async fn tracing_shows_requests_and_never_a_secret() {
    let captured = global_log();
    let correlation_id = "tracing-test-1f6b0c2e";
    let calls = AtomicUsize::new(0);
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(move |_: &Request| match calls.fetch_add(1, Ordering::SeqCst) {
            0 => ResponseTemplate::new(503),
            1 => ResponseTemplate::new(200).set_body_json(json!({
                "items": [{ "id": "a" }, { "id": "b" }],
                "links": { "next": { "uri": "/customers/x/users", "headers": [{ "key": "MS-ContinuationToken", "value": CONTINUATION }] } },
                "continuationToken": CONTINUATION
            })),
            _ => ResponseTemplate::new(200).set_body_json(json!({ "items": [{ "id": "c" }, { "id": "d" }] })),
        })
        .mount(&server)
        .await;
    let client = support::builder(server.uri())
        .retry_policy(pc_api::RetryPolicy::new().initial_backoff(Duration::from_millis(5)))
        .build()
        .expect("client");
    let users: Vec<CustomerUser> = client
        .get_customer_users(CUSTOMER)
        .correlation_id(correlation_id)
        .stream()
        .try_collect()
        .await
        .expect("listing");
    assert_eq!(users.len(), 4);
    let all = String::from_utf8_lossy(&captured.0.lock().expect("lock")).into_owned();
    let log: String = all
        .lines()
        .filter(|line| line.contains(correlation_id))
        .map(|line| format!("{line}\n"))
        .collect();
    for expected in [
        "pc_api.request",
        "operation=\"getCustomerUsers\"",
        "request_id=",
        "correlation_id=",
        "status=503",
        "status=200",
        "retrying",
        "attempt=2",
        "elapsed_ms=",
    ] {
        assert!(log.contains(expected), "missing {expected} in:\n{log}");
    }
    for secret in [TOKEN, CONTINUATION] {
        assert!(!all.contains(secret), "secret in the log:\n{all}");
    }
}
