//! Wire tests of listings: seek paging, retries with idempotency, throttling
//! and token providers, against mock servers on 127.0.0.1. Each asserts the
//! exact requests the server saw.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::{CUSTOMER, TOKEN, redactions, requests};
use futures::{StreamExt, TryStreamExt};
use insta::assert_snapshot;
use pc_api::types::CustomerUser;
use pc_api::{ErrorKind, RetryPolicy, Secret};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Continuation tokens with every character that breaks naive clients.
fn token_of(page: usize) -> String {
    format!("d19617b8,0705c4a9_a4ayc/80/OGda{page}+O/1o/V0etpOq=,0d81c700")
}

fn user(index: usize) -> Value {
    json!({
        "id": format!("00000000-0000-4000-8000-{index:012}"),
        "userPrincipalName": format!("user{index}@contoso.onmicrosoft.com"),
        "displayName": format!("User {index}"),
        "userDomainType": "managed",
        "state": "active",
        "attributes": { "objectType": "CustomerUser" }
    })
}

/// How a page links to the next one.
#[derive(Clone, Copy)]
enum Style {
    /// Relative URI without `/v1`, token in the link's headers (the real shape).
    Relative,
    /// Relative URI with `/v1`.
    RelativeV1,
    /// Absolute URI on the server's own origin.
    Absolute,
    /// `next` without headers, token in `continuationToken`.
    BodyToken,
}

/// A tenant of `users` users served `size` per page, pages chosen by the
/// `MS-ContinuationToken` header.
fn listing(
    users: usize,
    size: usize,
    style: Style,
) -> impl Fn(&Request) -> ResponseTemplate + Send + Sync {
    let pages = users.div_ceil(size).max(1);
    move |request: &Request| {
        let page = match request.headers.get("ms-continuationtoken") {
            None => 0,
            Some(token) => match (0..pages).find(|p| token_of(*p).as_bytes() == token.as_bytes()) {
                Some(page) => page,
                None => {
                    return ResponseTemplate::new(400)
                        .set_body_string(r#"{"code":800002,"description":"bad token"}"#);
                }
            },
        };
        let items: Vec<Value> = (page * size..((page + 1) * size).min(users))
            .map(user)
            .collect();
        let mut body = json!({
            "totalCount": items.len(),
            "items": items,
            "links": { "self": { "uri": format!("/customers/{CUSTOMER}/users"), "method": "GET", "headers": [] } },
            "attributes": { "objectType": "Collection" }
        });
        if page + 1 < pages {
            let next_token = token_of(page + 1);
            let query = format!("size={size}&seekOperation=Next");
            let (uri, headers) = match style {
                Style::Relative => (
                    format!("/customers/{CUSTOMER}/users?{query}"),
                    json!([{ "key": "MS-ContinuationToken", "value": next_token }]),
                ),
                Style::RelativeV1 => (
                    format!("/v1/customers/{CUSTOMER}/users?{query}"),
                    json!([{ "key": "MS-ContinuationToken", "value": next_token }]),
                ),
                Style::Absolute => (
                    format!(
                        "http://{}/v1/customers/{CUSTOMER}/users?{query}",
                        header(request, "host")
                    ),
                    json!([{ "key": "MS-ContinuationToken", "value": next_token }]),
                ),
                Style::BodyToken => (
                    format!("/customers/{CUSTOMER}/users?size={size}"),
                    json!([]),
                ),
            };
            body["links"]["next"] = json!({ "uri": uri, "method": "GET", "headers": headers });
            body["continuationToken"] = json!(next_token);
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

async fn server_with(
    responder: impl Fn(&Request) -> ResponseTemplate + Send + Sync + 'static,
) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(responder)
        .mount(&server)
        .await;
    server
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::new()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

fn client(server: &MockServer) -> pc_api::Client {
    support::builder(server.uri())
        .retry_policy(fast_retries())
        .build()
        .expect("client")
}

fn names(users: &[CustomerUser]) -> Vec<String> {
    users
        .iter()
        .map(|u| u.user_principal_name.clone().unwrap_or_default())
        .collect()
}

fn expected_names(range: std::ops::Range<usize>) -> Vec<String> {
    range
        .map(|i| format!("user{i}@contoso.onmicrosoft.com"))
        .collect()
}

fn header(request: &Request, name: &str) -> String {
    request
        .headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn three_page_listing() {
    let server = server_with(listing(5, 2, Style::Relative)).await;
    let users: Vec<CustomerUser> = client(&server)
        .get_customer_users(CUSTOMER)
        .size(2)
        .stream()
        .try_collect()
        .await
        .expect("listing");
    assert_eq!(names(&users), expected_names(0..5));
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received.len(), 3);
    let correlation: Vec<String> = received
        .iter()
        .map(|r| header(r, "ms-correlationid"))
        .collect();
    assert!(
        correlation
            .iter()
            .all(|c| c == &correlation[0] && c.len() == 36),
        "{correlation:?}"
    );
    let request_ids: std::collections::HashSet<String> =
        received.iter().map(|r| header(r, "ms-requestid")).collect();
    assert_eq!(request_ids.len(), 3);
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("three_page_listing_requests", requests(&server).await);
}

#[tokio::test]
async fn next_links_with_v1_without_v1_and_absolute() {
    for style in [Style::Relative, Style::RelativeV1, Style::Absolute] {
        let server = server_with(listing(7, 3, style)).await;
        let users: Vec<CustomerUser> = client(&server)
            .get_customer_users(CUSTOMER)
            .stream()
            .try_collect()
            .await
            .expect("listing");
        assert_eq!(names(&users), expected_names(0..7));
        for request in server
            .received_requests()
            .await
            .expect("recording")
            .iter()
            .skip(1)
        {
            assert_eq!(
                request.url.path(),
                format!("/v1/customers/{CUSTOMER}/users")
            );
            assert_eq!(request.url.query(), Some("size=3&seekOperation=Next"));
        }
    }
}

#[tokio::test]
async fn next_without_headers_uses_the_body_token_and_seek_next() {
    let server = server_with(listing(5, 2, Style::BodyToken)).await;
    let users: Vec<CustomerUser> = client(&server)
        .get_customer_users(CUSTOMER)
        .stream()
        .try_collect()
        .await
        .expect("listing");
    assert_eq!(names(&users), expected_names(0..5));
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received.len(), 3);
    assert_eq!(received[1].url.query(), Some("size=2&seekOperation=Next"));
    assert_eq!(header(&received[1], "ms-continuationtoken"), token_of(1));
    assert_eq!(header(&received[2], "ms-continuationtoken"), token_of(2));
}

fn page_with_next(next: Value, continuation: Option<&str>) -> ResponseTemplate {
    let mut body = json!({ "totalCount": 1, "items": [user(0)], "links": { "next": next } });
    if let Some(token) = continuation {
        body["continuationToken"] = json!(token);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn an_empty_token_ends_the_listing() {
    let cases = [
        page_with_next(
            json!({ "uri": "/customers/x/users", "headers": [{ "key": "MS-ContinuationToken", "value": "" }] }),
            None,
        ),
        page_with_next(
            json!({ "uri": "/customers/x/users", "headers": [] }),
            Some(""),
        ),
        ResponseTemplate::new(200).set_body_json(
            json!({ "items": [user(0)], "links": {}, "continuationToken": "orphan" }),
        ),
    ];
    for response in cases {
        let server = support::serve(response).await;
        let users: Vec<CustomerUser> = client(&server)
            .get_customer_users(CUSTOMER)
            .stream()
            .try_collect()
            .await
            .expect("listing");
        assert_eq!(users.len(), 1);
        assert_eq!(support::request_count(&server).await, 1);
    }
}

#[tokio::test]
async fn a_repeated_token_is_an_error_not_a_loop() {
    let next = json!({ "uri": "/customers/x/users?seekOperation=Next", "headers": [{ "key": "MS-ContinuationToken", "value": "same/token+=," }] });
    let server = support::serve(page_with_next(next, None)).await;
    let results: Vec<Result<CustomerUser, pc_api::Error>> = client(&server)
        .get_customer_users(CUSTOMER)
        .stream()
        .collect()
        .await;
    assert_eq!(results.len(), 3, "two pages of one user, then the error");
    let error = results
        .last()
        .and_then(|r| r.as_ref().err())
        .expect("error");
    assert_eq!(error.kind(), ErrorKind::Paging);
    assert_eq!(error.page(), Some(3));
    assert!(error.to_string().contains("already returned"), "{error}");
    assert!(!error.to_string().contains("same/token"), "{error}");
    assert_eq!(support::request_count(&server).await, 2);
}

/// Asserts that a listing whose first page links to `uri` stops with a
/// paging error after that page, without a second request.
async fn assert_next_link_refused(uri: &str) {
    let next = json!({ "uri": uri, "headers": [{ "key": "MS-ContinuationToken", "value": "t" }] });
    let server = support::serve(page_with_next(next, None)).await;
    let results: Vec<Result<CustomerUser, pc_api::Error>> = client(&server)
        .get_customer_users(CUSTOMER)
        .stream()
        .collect()
        .await;
    let error = results
        .last()
        .and_then(|r| r.as_ref().err())
        .unwrap_or_else(|| panic!("{uri} was followed"));
    assert_eq!(error.kind(), ErrorKind::Paging, "{uri}");
    assert_eq!(support::request_count(&server).await, 1, "{uri}");
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused_and_gets_no_token() {
    let other = support::serve(support::json(200, "{}")).await;
    for uri in [
        format!("{}/v1/customers/x/users", other.uri()),
        format!("//{}/v1/customers/x/users", other.address()),
        "https://api.partnercenter.microsoft.com/v1/customers/x/users".to_owned(),
        "file:///etc/passwd".to_owned(),
    ] {
        assert_next_link_refused(&uri).await;
    }
    assert_eq!(support::request_count(&other).await, 0);
}

#[tokio::test]
async fn link_headers_cannot_replace_the_credentials() {
    let next = json!({ "uri": "/customers/x/users", "headers": [
        { "key": "Authorization", "value": "Bearer attacker" },
        { "key": "MS-ContinuationToken", "value": "t2" }
    ] });
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let server = server_with(move |_: &Request| {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            page_with_next(next.clone(), None)
        } else {
            ResponseTemplate::new(200).set_body_json(json!({ "items": [] }))
        }
    })
    .await;
    let _: Vec<CustomerUser> = client(&server)
        .get_customer_users(CUSTOMER)
        .stream()
        .try_collect()
        .await
        .expect("listing");
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received.len(), 2);
    assert_eq!(
        header(&received[1], "authorization"),
        format!("Bearer {TOKEN}")
    );
    assert_eq!(header(&received[1], "ms-continuationtoken"), "t2");
}

/// Answers with `statuses` in turn, then with an empty page.
fn sequence(
    statuses: Vec<ResponseTemplate>,
) -> impl Fn(&Request) -> ResponseTemplate + Send + Sync {
    let calls = AtomicUsize::new(0);
    move |_: &Request| {
        let call = calls.fetch_add(1, Ordering::SeqCst);
        statuses.get(call).cloned().unwrap_or_else(|| {
            ResponseTemplate::new(200).set_body_json(json!({ "items": [user(call)] }))
        })
    }
}

#[tokio::test]
async fn transient_errors_are_retried_with_the_same_request_id() {
    let server = server_with(sequence(vec![
        ResponseTemplate::new(503),
        ResponseTemplate::new(503),
    ]))
    .await;
    let page = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("third attempt succeeds");
    assert_eq!(page.items.len(), 1);
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received.len(), 3);
    let ids: std::collections::HashSet<String> =
        received.iter().map(|r| header(r, "ms-requestid")).collect();
    assert_eq!(ids.len(), 1, "one MS-RequestId across retries");
    client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("next call");
    let received = server.received_requests().await.expect("recording");
    assert_ne!(
        header(&received[3], "ms-requestid"),
        header(&received[0], "ms-requestid")
    );
}

#[tokio::test]
async fn every_retryable_status_is_retried() {
    for status in [408, 500, 502, 503, 504] {
        let server = server_with(sequence(vec![ResponseTemplate::new(status)])).await;
        client(&server)
            .get_customer_users(CUSTOMER)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(support::request_count(&server).await, 2, "{status}");
    }
}

#[tokio::test]
async fn throttling_waits_for_retry_after() {
    let throttled = ResponseTemplate::new(429)
        .insert_header("Retry-After", "1")
        .set_body_string(r#"{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds." }"#);
    let server = server_with(sequence(vec![throttled])).await;
    let started = Instant::now();
    client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("retried after the wait");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(support::request_count(&server).await, 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for status in [400, 401, 403, 404, 409] {
        let server = server_with(sequence(vec![ResponseTemplate::new(status); 5])).await;
        let error = client(&server)
            .get_customer_users(CUSTOMER)
            .send()
            .await
            .expect_err("fails");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.attempts(), 1);
        assert_eq!(support::request_count(&server).await, 1, "{status}");
    }
}

#[tokio::test]
async fn exhausted_retries_say_how_many_attempts() {
    let server = server_with(sequence(vec![ResponseTemplate::new(503); 10])).await;
    let error = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("gives up");
    assert_eq!(error.attempts(), 4);
    assert!(error.to_string().contains("after 4 attempts"), "{error}");
    assert_eq!(support::request_count(&server).await, 4);
}

#[tokio::test]
async fn a_token_provider_is_asked_before_every_request() {
    let server = server_with(listing(6, 2, Style::Relative)).await;
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let client = pc_api::Client::builder()
        .base_url(server.uri())
        .token_provider(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, pc_api::BoxError>(Secret::from(format!("token-{n}"))) }
        })
        .build()
        .expect("client");
    let users: Vec<CustomerUser> = client
        .get_customer_users(CUSTOMER)
        .stream()
        .try_collect()
        .await
        .expect("listing");
    assert_eq!(users.len(), 6);
    let received = server.received_requests().await.expect("recording");
    let tokens: Vec<String> = received
        .iter()
        .map(|r| header(r, "authorization"))
        .collect();
    assert_eq!(
        tokens,
        ["Bearer token-0", "Bearer token-1", "Bearer token-2"]
    );
}

#[tokio::test]
async fn a_failing_token_provider_is_an_auth_error() {
    let server = support::serve(support::json(200, "{}")).await;
    let client = pc_api::Client::builder()
        .base_url(server.uri())
        .token_provider(|| async {
            Err::<Secret, pc_api::BoxError>("refresh token expired".into())
        })
        .build()
        .expect("client");
    let error = client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("no token");
    assert_eq!(error.kind(), ErrorKind::Auth);
    assert!(
        error.to_string().contains("the token provider failed"),
        "{error}"
    );
    // The provider's own message may hold anything: only in `source()`, not in `Display`.
    assert!(
        !error.to_string().contains("refresh token expired"),
        "{error}"
    );
    // Nor in `source()` or `Debug`: it is handed back only on request.
    assert!(std::error::Error::source(&error).is_none());
    assert!(
        !format!("{error:?}").contains("refresh token expired"),
        "{error:?}"
    );
    let withheld = error.token_provider_error().map(|e| e.to_string());
    assert_eq!(withheld.as_deref(), Some("refresh token expired"));
    assert_eq!(support::request_count(&server).await, 0);
}

#[tokio::test]
async fn unauthorized_mid_listing_names_the_page_and_keeps_the_token() {
    let inner = listing(10, 2, Style::Relative);
    let server = server_with(move |request: &Request| {
        if request
            .headers
            .get("ms-continuationtoken")
            .is_some_and(|t| t.as_bytes() == token_of(2).as_bytes())
        {
            ResponseTemplate::new(401)
        } else {
            inner(request)
        }
    })
    .await;
    let results: Vec<Result<CustomerUser, pc_api::Error>> = client(&server)
        .get_customer_users(CUSTOMER)
        .stream()
        .collect()
        .await;
    assert_eq!(results.len(), 5, "four users, then the error");
    let error = results[4].as_ref().expect_err("401");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.page(), Some(3));
    assert_eq!(
        error.resume_token().map(Secret::expose_secret),
        Some(token_of(2).as_str())
    );
    assert!(error.to_string().contains("page 3"), "{error}");
    assert!(
        !error.to_string().contains(&token_of(2)) && !format!("{error:?}").contains(&token_of(2))
    );
}

#[tokio::test]
async fn resume_from_a_saved_token_lists_exactly_the_rest() {
    let server = server_with(listing(9, 2, Style::Relative)).await;
    let client = client(&server);
    let mut pages = client.get_customer_users(CUSTOMER).size(2).pages();
    let first = pages.try_next().await.expect("page 1").expect("some page");
    let saved = first
        .continuation_token()
        .cloned()
        .expect("a token for page 2");
    drop(pages);
    let rest: Vec<CustomerUser> = client
        .get_customer_users(CUSTOMER)
        .resume(saved)
        .stream()
        .try_collect()
        .await
        .expect("rest");
    assert_eq!(names(&rest), expected_names(2..9));
    let received = server.received_requests().await.expect("recording");
    let resumed = received
        .iter()
        .find(|r| header(r, "ms-continuationtoken") == token_of(1))
        .expect("resumed request");
    assert!(
        resumed
            .url
            .query()
            .is_some_and(|q| q.contains("seekOperation=Next")),
        "{:?}",
        resumed.url
    );
}

#[tokio::test]
async fn pages_carry_status_headers_count_and_token() {
    let server = server_with(listing(5, 2, Style::Relative)).await;
    let pages: Vec<_> = client(&server)
        .get_customer_users(CUSTOMER)
        .pages()
        .try_collect()
        .await
        .expect("pages");
    assert_eq!(
        pages.iter().map(|p| p.number()).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        pages.iter().map(|p| p.total_count).collect::<Vec<_>>(),
        [Some(2), Some(2), Some(1)]
    );
    assert!(
        pages
            .iter()
            .all(|p| p.status() == 200 && p.headers().contains_key("content-type"))
    );
    assert_eq!(
        pages[0].continuation_token().map(Secret::expose_secret),
        Some(token_of(1).as_str())
    );
    assert!(pages[2].continuation_token().is_none());
}

#[tokio::test]
async fn the_page_limit_stops_an_endless_server() {
    let server = server_with(listing(1000, 1, Style::Relative)).await;
    let client = support::builder(server.uri())
        .max_pages(3)
        .build()
        .expect("client");
    let results: Vec<Result<CustomerUser, pc_api::Error>> =
        client.get_customer_users(CUSTOMER).stream().collect().await;
    assert_eq!(results.len(), 4);
    let error = results[3].as_ref().expect_err("limit");
    assert_eq!(error.kind(), ErrorKind::Paging);
    assert!(error.to_string().contains("max_pages"), "{error}");
    assert_eq!(support::request_count(&server).await, 3);
}

#[tokio::test]
async fn dropping_a_listing_stops_it_after_at_most_the_read_ahead() {
    let server = server_with(listing(20_000, 100, Style::Relative)).await;
    let mut users = client(&server)
        .get_customer_users(CUSTOMER)
        .size(100)
        .stream();
    for expected in 0..10_000 {
        let user = users.try_next().await.expect("user").expect("more users");
        assert_eq!(
            user.display_name.as_deref(),
            Some(format!("User {expected}").as_str())
        );
    }
    let at_drop = support::request_count(&server).await;
    drop(users);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = support::request_count(&server).await;
    assert!(
        (100..=101).contains(&at_drop),
        "{at_drop} requests for 100 pages"
    );
    assert!(
        after <= at_drop + 1,
        "{after} requests after the drop, {at_drop} before"
    );
}

#[tokio::test]
async fn a_connection_closed_mid_listing_is_retried() {
    let inner = listing(6, 2, Style::Relative);
    let calls = AtomicUsize::new(0);
    let server = server_with(move |request: &Request| {
        if calls.fetch_add(1, Ordering::SeqCst) == 1 {
            // A body shorter than its Content-Length: the connection ends mid-body.
            ResponseTemplate::new(200)
                .insert_header("content-length", "1000")
                .set_body_string("{\"items\": [")
        } else {
            inner(request)
        }
    })
    .await;
    let users: Vec<CustomerUser> = client(&server)
        .get_customer_users(CUSTOMER)
        .stream()
        .try_collect()
        .await
        .expect("listing survives");
    assert_eq!(names(&users), expected_names(0..6));
}

#[tokio::test]
async fn the_page_limit_keeps_the_token_to_resume_past_it() {
    let server = server_with(listing(10, 2, Style::Relative)).await;
    let limited = support::builder(server.uri())
        .max_pages(2)
        .build()
        .expect("client");
    let mut listed = Vec::new();
    let mut stream = limited.get_customer_users(CUSTOMER).stream();
    let error = loop {
        match stream.try_next().await {
            Ok(Some(user)) => listed.push(user),
            Ok(None) => panic!("the limit should stop the listing"),
            Err(error) => break error,
        }
    };
    assert_eq!(error.page(), Some(3));
    let token = error
        .resume_token()
        .cloned()
        .expect("a token to resume from");
    assert_eq!(token.expose_secret(), token_of(2));
    let rest: Vec<CustomerUser> = client(&server)
        .get_customer_users(CUSTOMER)
        .resume(token)
        .stream()
        .try_collect()
        .await
        .expect("rest");
    listed.extend(rest);
    assert_eq!(names(&listed), expected_names(0..10));
}

#[tokio::test]
async fn a_next_link_with_a_token_but_no_uri_asks_for_the_next_page() {
    let next = json!({ "headers": [{ "key": "MS-ContinuationToken", "value": "t/2+=," }] });
    let server = server_with(sequence(vec![page_with_next(next, None)])).await;
    let users: Vec<CustomerUser> = client(&server)
        .get_customer_users(CUSTOMER)
        .size(5)
        .seek_operation(pc_api::types::SeekOperation::First)
        .stream()
        .try_collect()
        .await
        .expect("listing");
    assert_eq!(users.len(), 2);
    let received = server.received_requests().await.expect("recording");
    assert_eq!(
        received[1].url.path(),
        format!("/v1/customers/{CUSTOMER}/users")
    );
    assert_eq!(received[1].url.query(), Some("size=5&seekOperation=Next"));
    assert_eq!(header(&received[1], "ms-continuationtoken"), "t/2+=,");
}

#[tokio::test]
async fn an_error_status_with_a_broken_body_is_not_retried() {
    // A 404 whose body stops half-way: the connection closes early.
    let (addr, requests) =
        support::raw_server(b"HTTP/1.1 404 Not Found\r\ncontent-length: 1000\r\n\r\n{\"code\":")
            .await;
    let client = support::builder(format!("http://{addr}"))
        .retry_policy(fast_retries())
        .build()
        .expect("client");
    let error = client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("404");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_timed_out_attempt_is_retried() {
    let slow = ResponseTemplate::new(200)
        .set_body_json(json!({ "items": [] }))
        .set_delay(Duration::from_secs(3));
    let server = server_with(sequence(vec![slow])).await;
    let client = support::builder(server.uri())
        .timeout(Duration::from_millis(300))
        .retry_policy(fast_retries())
        .build()
        .expect("client");
    let page = client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("second attempt");
    assert_eq!(page.items.len(), 1);
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received.len(), 2);
    assert_eq!(
        header(&received[0], "ms-requestid"),
        header(&received[1], "ms-requestid")
    );
}

#[tokio::test]
async fn a_next_link_may_not_climb_out_of_the_api_path() {
    for uri in [
        "/v1/../admin/users",
        "%2E%2E//api.partnercenter/T1/customers",
        "/customers/%2e%2e/%2e%2e/secrets",
    ] {
        assert_next_link_refused(uri).await;
    }
}

#[tokio::test]
async fn a_consumer_slower_than_the_request_timeout_gets_every_page_once() {
    // The read-ahead's request is sent while the consumer works; its timeout
    // counts the time the consumer then waits, not the time it works. Pages
    // after the first take 700 ms, the timeout is 400 ms, the consumer spends
    // 600 ms on a page: each read-ahead is waited for 100 ms only.
    let inner = listing(6, 2, Style::Relative);
    let server = server_with(move |request: &Request| {
        let delay = if request.headers.contains_key("ms-continuationtoken") {
            700
        } else {
            50
        };
        inner(request).set_delay(Duration::from_millis(delay))
    })
    .await;
    let client = support::builder(server.uri())
        .timeout(Duration::from_millis(400))
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("client");
    let mut pages = client.get_customer_users(CUSTOMER).pages();
    let mut users = Vec::new();
    while let Some(page) = pages.try_next().await.expect("no timeout") {
        users.extend(page.into_inner().items);
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    assert_eq!(names(&users), expected_names(0..6));
    assert_eq!(
        support::request_count(&server).await,
        3,
        "one request per page"
    );
}
