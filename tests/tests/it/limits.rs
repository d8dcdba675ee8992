//! Every documented limit, crossed: each test goes past one and gets the
//! documented error (or behaviour), never a panic, a hang or a leak.

use crate::support;

use std::time::{Duration, Instant};

use crate::support::{CUSTOMER, TOKEN};
use futures::TryStreamExt;
use pc_api::types::CustomerUser;
use pc_api::{ErrorKind, RetryPolicy};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

#[tokio::test]
async fn defaults_are_the_documented_ones() {
    let client = pc_api::Client::builder()
        .bearer_token(TOKEN)
        .build()
        .expect("client");
    assert_eq!(client.base_url(), "https://api.partnercenter.microsoft.com");
    assert_eq!(client.timeout(), Duration::from_secs(60));
    assert_eq!(client.locale(), "en-US");
    assert_eq!(client.max_response_bytes(), 32 * 1024 * 1024);
    assert_eq!(client.max_pages(), 100_000);
    assert_eq!(client.retry_policy(), &RetryPolicy::new());
    assert_eq!(client.retry_policy().retries(), 3);
    assert_eq!(
        pc_api::DEFAULT_LISTING_TIMEOUT,
        Duration::from_secs(6 * 3600)
    );
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_its_cap() {
    let server = MockServer::start().await;
    let calls = std::sync::atomic::AtomicUsize::new(0);
    Mock::given(any())
        .respond_with(move |_: &Request| {
            if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                ResponseTemplate::new(429).insert_header("Retry-After", "3600")
            } else {
                ResponseTemplate::new(200).set_body_json(json!({ "items": [] }))
            }
        })
        .mount(&server)
        .await;
    let client = support::builder(server.uri())
        .retry_policy(RetryPolicy::new().max_retry_after(Duration::from_millis(300)))
        .build()
        .expect("client");
    let started = Instant::now();
    client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("retried after the capped wait");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert_eq!(support::request_count(&server).await, 2);
}

#[tokio::test]
async fn deeply_nested_json_never_exhausts_the_stack() {
    let nest =
        |depth: usize, inner: &str| format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth));
    // Skipped values (unknown fields) are skipped without recursion.
    let page = format!("{{\"items\": [], \"extra\": {}}}", nest(100_000, ""));
    let server = support::serve(support::json(200, page)).await;
    support::client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("an unknown deep field is skipped");
    // Decoded values stop at 128 levels: a deep `ApiFault.data` is kept as text.
    let fault = format!("{{\"code\": 1, \"data\": {}}}", nest(1_000, ""));
    let server = support::serve(support::json(404, fault)).await;
    let error = support::client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("404");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert!(
        matches!(error.body(), Some(pc_api::ErrorBody::Text(_))),
        "{error:?}"
    );
    let error =
        pc_api::decode::<serde_json::Value>(nest(1_000, "").as_bytes()).expect_err("too deep");
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(
        std::error::Error::source(&error)
            .is_some_and(|s| s.to_string().contains("recursion limit")),
        "{error}"
    );
}

#[tokio::test]
async fn a_listing_that_takes_too_long_stops_with_the_token_to_resume() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|request: &Request| {
            let page = request.headers.get("ms-continuationtoken").map_or(0, |t| t.to_str().unwrap_or("0").parse::<u32>().unwrap_or(0));
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(150))
                .set_body_json(json!({
                    "items": [{ "id": page.to_string() }],
                    "links": { "next": { "uri": "/customers/c/users", "headers": [{ "key": "MS-ContinuationToken", "value": (page + 1).to_string() }] } }
                }))
        })
        .mount(&server)
        .await;
    let client = support::builder(server.uri())
        .listing_timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    let started = Instant::now();
    let mut listed = Vec::new();
    let mut stream = client.get_customer_users(CUSTOMER).stream();
    let error = loop {
        match stream.try_next().await {
            Ok(Some(user)) => listed.push(user),
            Ok(None) => panic!("an endless listing ended"),
            Err(error) => break error,
        }
    };
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(error.to_string().contains("listing_timeout"), "{error}");
    let page = error.page().expect("page");
    assert_eq!(listed.len() as u64, page - 1);
    assert_eq!(
        error.resume_token().map(|t| t.expose_secret().to_owned()),
        Some((page - 1).to_string())
    );
}

#[tokio::test]
async fn bytes_not_allowed_in_a_header_or_path_fail_before_any_request() {
    let server = support::serve(support::json(200, "{}")).await;
    let client = support::client(&server);
    let cases = [
        client.get_customer_users("abc\r\nHost: evil").send().await,
        client.get_customer_users("tab\there").send().await,
        client
            .get_customer_users(CUSTOMER)
            .locale("en-US\r\nX-Injected: 1")
            .send()
            .await,
        client
            .get_customer_users(CUSTOMER)
            .request_id("id\n")
            .send()
            .await,
        client
            .get_customer_users(CUSTOMER)
            .cv("\u{7f}")
            .send()
            .await,
        client
            .get_customer_users(CUSTOMER)
            .continuation_token("a\rb")
            .send()
            .await,
    ];
    for result in cases {
        let error = result.expect_err("refused");
        assert_eq!(error.kind(), ErrorKind::InvalidRequest, "{error}");
        assert_eq!(error.attempts(), 0);
    }
    for locale in ["en-US\r\n", ""] {
        let error = pc_api::Client::builder()
            .bearer_token(TOKEN)
            .locale(locale)
            .build()
            .expect_err("bad locale");
        assert_eq!(error.kind(), ErrorKind::Config);
    }
    assert_eq!(support::request_count(&server).await, 0);
}

#[tokio::test]
async fn the_body_limit_holds_without_a_content_length() {
    let body: Vec<u8> =
        format!("{{\"items\": [], \"pad\": \"{}\"}}", "x".repeat(5_000)).into_bytes();
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let client = support::builder(server.uri())
        .max_response_bytes(1_024)
        .build()
        .expect("client");
    let error = client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("too large");
    assert_eq!(error.kind(), ErrorKind::BodyTooLarge);
    let listing: Result<Vec<CustomerUser>, _> = client
        .get_customer_users(CUSTOMER)
        .stream()
        .try_collect()
        .await;
    assert_eq!(
        listing.expect_err("too large").kind(),
        ErrorKind::BodyTooLarge
    );
}
