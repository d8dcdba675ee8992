//! Regression tests for the defects of an adversarial review: each test shows
//! one defect and asserts the correct behaviour, so it fails until the defect
//! is fixed. Every server is started by the test on 127.0.0.1; every test
//! that could hang is bounded by a timeout.

use crate::support;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::CUSTOMER;
use futures::{FutureExt, StreamExt, TryStreamExt};
use pc_api::types::{CustomerUser, CustomerUserCollection, PasswordProfile, UserState};
use pc_api::{Client, ClientBuilder, ErrorKind, RetryPolicy, Secret, Timestamp};
use pc_fake::{DEFAULT_CUSTOMER, FakePartnerCenter, generate_users};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// How long a test waits for something that should take milliseconds
/// before it calls it a hang.
const HANG: Duration = Duration::from_secs(5);

/// Retries as the default policy does, but with millisecond backoffs.
fn fast_retries() -> RetryPolicy {
    RetryPolicy::new()
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(10))
}

fn user(index: usize) -> Value {
    json!({
        "id": format!("00000000-0000-4000-8000-{index:012}"),
        "userPrincipalName": format!("user{index}@contoso.onmicrosoft.com"),
        "displayName": format!("User {index}"),
        "state": "active"
    })
}

/// A last page (no next link) with one user.
fn last_page() -> Value {
    json!({ "totalCount": 1, "items": [user(1)] })
}

/// A mock server that answers every request with `responder`.
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

async fn received(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .expect("request recording is on")
}

/// The text of a panic payload.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-text panic payload)".to_owned())
}

// ---------------------------------------------------------------------------
// Raw HTTP/1.1 plumbing for the servers and the proxy below.

/// One HTTP/1.1 request read from `socket`: its head (request line and
/// headers) and its body (by `Content-Length`). `None` when the peer closed.
async fn read_request(socket: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 8192];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let mut chunk = [0u8; 8192];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    let body = buffer[head_end..head_end + length].to_vec();
    buffer.drain(..head_end + length);
    Some((head, body))
}

/// A keep-alive HTTP/1.1 server on 127.0.0.1: request `n` (counted from 0
/// across all connections) is answered with `answers[n]` as a JSON 200; any
/// later request is never answered (the connection is held open for 30 s).
async fn stalling_server(answers: Vec<Value>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let answers = Arc::new(answers);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            let answers = answers.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                while read_request(&mut socket, &mut buffer).await.is_some() {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    let Some(answer) = answers.get(n) else {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    };
                    let body = answer.to_string();
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if socket.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, count)
}

/// A proxy on 127.0.0.1 in front of `upstream` (a base URL) that loses the
/// answer of the first request whose method is `lossy_method`: it forwards
/// that request to `upstream`, waits for the answer, then closes the
/// client's connection instead of passing the answer on. Every other
/// request is passed through.
async fn lossy_proxy(upstream: String, lossy_method: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("proxy client");
    let lost = Arc::new(AtomicBool::new(false));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (http, upstream, lost) = (http.clone(), upstream.clone(), lost.clone());
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                while let Some((head, body)) = read_request(&mut socket, &mut buffer).await {
                    let mut lines = head.lines();
                    let mut request_line = lines.next().unwrap_or_default().split(' ');
                    let method = request_line.next().unwrap_or_default().to_owned();
                    let target = request_line.next().unwrap_or_default().to_owned();
                    let mut headers = reqwest::header::HeaderMap::new();
                    for (name, value) in lines.filter_map(|line| line.split_once(':')) {
                        let name = name.trim();
                        if ["host", "content-length", "connection"]
                            .iter()
                            .any(|skip| name.eq_ignore_ascii_case(skip))
                        {
                            continue;
                        }
                        if let (Ok(name), Ok(value)) = (
                            reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                            reqwest::header::HeaderValue::from_str(value.trim()),
                        ) {
                            headers.append(name, value);
                        }
                    }
                    let Ok(method_value) = reqwest::Method::from_bytes(method.as_bytes()) else {
                        return;
                    };
                    let Ok(response) = http
                        .request(method_value, format!("{upstream}{target}"))
                        .headers(headers)
                        .body(body)
                        .send()
                        .await
                    else {
                        return;
                    };
                    let status = response.status();
                    let response_headers = response.headers().clone();
                    let Ok(response_body) = response.bytes().await else {
                        return;
                    };
                    if method == lossy_method && !lost.swap(true, Ordering::SeqCst) {
                        // The service did the work; its answer is lost on the way back.
                        return;
                    }
                    let mut out = format!(
                        "HTTP/1.1 {} {}\r\n",
                        status.as_u16(),
                        status.canonical_reason().unwrap_or("")
                    )
                    .into_bytes();
                    for (name, value) in &response_headers {
                        if ["content-length", "transfer-encoding", "connection"]
                            .iter()
                            .any(|skip| name.as_str().eq_ignore_ascii_case(skip))
                        {
                            continue;
                        }
                        out.extend_from_slice(name.as_str().as_bytes());
                        out.extend_from_slice(b": ");
                        out.extend_from_slice(value.as_bytes());
                        out.extend_from_slice(b"\r\n");
                    }
                    if status.as_u16() != 204 && status.as_u16() != 304 {
                        out.extend_from_slice(
                            format!("content-length: {}\r\n", response_body.len()).as_bytes(),
                        );
                    }
                    out.extend_from_slice(b"\r\n");
                    out.extend_from_slice(&response_body);
                    if socket.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

// ---------------------------------------------------------------------------
// 1. A listing can hang past every timeout.

/// A client of `addr` with a 300 ms request timeout, no retries, and a token
/// provider that is not ready on its first poll.
fn slow_token_client(addr: SocketAddr) -> Client {
    Client::builder()
        .base_url(format!("http://{addr}"))
        .token_provider(|| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, pc_api::BoxError>(Secret::from("t"))
        })
        .timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("client")
}

/// Defect 1(a): with a token provider that is not ready on its first poll,
/// the fetch of page 1 starts its per-attempt timer lazily and skips the
/// timer's first poll; on a pooled (reused) connection nothing polls it
/// again, so a stalled server is never timed out. `send()` on the same
/// setup times out (the control at the start).
#[tokio::test]
async fn page_one_on_a_reused_connection_times_out_with_a_slow_token_provider() {
    // Control: `send()` times out on a reused connection.
    let (addr, _) = stalling_server(vec![last_page()]).await;
    let client = slow_token_client(addr);
    client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("the first request is answered, its connection pooled");
    let control = timeout(HANG, client.get_customer_users(CUSTOMER).send())
        .await
        .expect("control: send() times out instead of hanging")
        .expect_err("control: the server never answers");
    assert_eq!(control.kind(), ErrorKind::Timeout, "control: {control}");

    // The listing: page 1 goes out on the pooled connection and stalls.
    let (addr, requests) = stalling_server(vec![last_page()]).await;
    let client = slow_token_client(addr);
    client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("the first request is answered, its connection pooled");
    let mut users = client.get_customer_users(CUSTOMER).stream();
    let started = Instant::now();
    let Ok(first) = timeout(HANG, users.next()).await else {
        panic!(
            "page 1 of the listing hung for {HANG:?} past the 300 ms request timeout ({} requests received)",
            requests.load(Ordering::SeqCst)
        );
    };
    let error = first
        .expect("an item or an error")
        .expect_err("the server never answers page 1");
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

/// Defect 1(b): the same lazy timer on the read-ahead of page 2 (page 1
/// answers with a next link, page 2 stalls on the reused connection): the
/// listing hangs instead of failing with a timeout.
#[tokio::test]
async fn the_read_ahead_of_page_two_times_out_with_a_slow_token_provider() {
    let page_one = json!({
        "totalCount": 1,
        "items": [user(1)],
        "links": { "next": {
            "uri": format!("/customers/{CUSTOMER}/users?size=1"),
            "method": "GET",
            "headers": [{ "key": "MS-ContinuationToken", "value": "page-2" }]
        } },
        "continuationToken": "page-2"
    });
    let (addr, requests) = stalling_server(vec![page_one]).await;
    let client = slow_token_client(addr);
    let mut pages = client.get_customer_users(CUSTOMER).size(1).pages();
    let page = timeout(HANG, pages.next())
        .await
        .expect("page 1 does not hang")
        .expect("a page")
        .expect("page 1 is answered");
    assert_eq!(page.number(), 1);
    let started = Instant::now();
    let Ok(second) = timeout(HANG, pages.next()).await else {
        panic!(
            "the read-ahead of page 2 hung for {HANG:?} past the 300 ms request timeout ({} requests received)",
            requests.load(Ordering::SeqCst)
        );
    };
    let error = second
        .expect("a page or an error")
        .expect_err("the server never answers page 2");
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert_eq!(error.page(), Some(2), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------
// 2. pc-fake: a create or delete whose answer is lost.

const NEW_UPN: &str = "lost.answer@contoso.onmicrosoft.com";

fn new_user() -> CustomerUser {
    CustomerUser {
        user_principal_name: Some(NEW_UPN.to_owned()),
        display_name: Some("Lost Answer".to_owned()),
        usage_location: Some("DE".to_owned()),
        password_profile: Some(PasswordProfile {
            force_change_password: Some(true),
            password: Some(Secret::from("abCD123*")),
        }),
        ..CustomerUser::default()
    }
}

/// A fake with a few users behind a proxy that loses the first answer to a
/// `lossy_method` request, and a client of the proxy (default retries,
/// short backoff).
async fn fake_behind_lossy_proxy(lossy_method: &'static str) -> (FakePartnerCenter, Client) {
    let fake = FakePartnerCenter::builder()
        .customer(
            DEFAULT_CUSTOMER,
            generate_users(3, 1, "contoso.onmicrosoft.com"),
        )
        .start()
        .await
        .expect("fake");
    let proxy = lossy_proxy(fake.base_url(), lossy_method).await;
    let client = Client::builder()
        .base_url(format!("http://{proxy}"))
        .bearer_token("t")
        .retry_policy(fast_retries())
        .build()
        .expect("client");
    (fake, client)
}

/// The `MS-RequestId`s of the fake's requests with `method`.
fn request_ids(fake: &FakePartnerCenter, method: &str) -> Vec<String> {
    fake.requests()
        .iter()
        .filter(|r| r.method == method)
        .map(|r| r.header("ms-requestid").unwrap_or_default().to_owned())
        .collect()
}

/// Defect 2 (pc-fake), create: the client retries a POST whose answer was
/// lost with the same `MS-RequestId`, but pc-fake does not dedupe on it and
/// answers the repeat with 409, so a create that succeeded is reported as a
/// failure.
#[tokio::test]
async fn a_create_whose_answer_is_lost_succeeds_once() {
    let (fake, client) = fake_behind_lossy_proxy("POST").await;
    let created = timeout(
        HANG,
        client
            .create_customer_user(DEFAULT_CUSTOMER, new_user())
            .send(),
    )
    .await
    .expect("the create does not hang");
    let ids = request_ids(&fake, "POST");
    assert_eq!(ids.len(), 2, "the lost create is retried once: {ids:?}");
    assert_eq!(ids[0], ids[1], "the retry keeps the MS-RequestId");
    let created = created.unwrap_or_else(|e| {
        panic!("the create succeeded (only its answer was lost), but the client reports: {e}")
    });
    assert_eq!(
        created.user_principal_name.as_deref(),
        Some(NEW_UPN),
        "{created:?}"
    );
    let users: Vec<CustomerUser> = client
        .get_customer_users(DEFAULT_CUSTOMER)
        .size(500)
        .stream()
        .try_collect()
        .await
        .expect("listing");
    let copies = users
        .iter()
        .filter(|u| u.user_principal_name.as_deref() == Some(NEW_UPN))
        .count();
    assert_eq!(copies, 1, "the fake holds the created user exactly once");
}

/// Defect 2 (pc-fake), delete: a DELETE whose answer was lost is retried with
/// the same `MS-RequestId`, and pc-fake answers the repeat with 404, so a
/// delete that succeeded is reported as a failure.
#[tokio::test]
async fn a_delete_whose_answer_is_lost_succeeds() {
    let (fake, client) = fake_behind_lossy_proxy("DELETE").await;
    let created = client
        .create_customer_user(DEFAULT_CUSTOMER, new_user())
        .send()
        .await
        .expect("created (creates pass through)");
    let id = created.id.clone().expect("an id");
    let deleted = timeout(
        HANG,
        client.delete_customer_user(DEFAULT_CUSTOMER, &id).send(),
    )
    .await
    .expect("the delete does not hang");
    let ids = request_ids(&fake, "DELETE");
    assert_eq!(ids.len(), 2, "the lost delete is retried once: {ids:?}");
    assert_eq!(ids[0], ids[1], "the retry keeps the MS-RequestId");
    deleted.unwrap_or_else(|e| {
        panic!("the delete succeeded (only its answer was lost), but the client reports: {e}")
    });
    let user = client
        .get_customer_user(DEFAULT_CUSTOMER, &id)
        .send()
        .await
        .expect("the deleted user is still readable");
    assert_eq!(user.state, Some(UserState::Inactive));
    let users: Vec<CustomerUser> = client
        .get_customer_users(DEFAULT_CUSTOMER)
        .size(500)
        .stream()
        .try_collect()
        .await
        .expect("listing");
    assert!(
        users.iter().all(|u| u.id.as_deref() != Some(id.as_str())),
        "the deleted user is no longer listed"
    );
}

// ---------------------------------------------------------------------------
// 3. Duration::MAX settings.

/// Builds a client from `builder`, sends one request and lists every page,
/// in a task: `None` when all went well, else what went wrong (a panic
/// included).
async fn try_with(name: &str, builder: ClientBuilder) -> Option<String> {
    let task = tokio::spawn(async move {
        let client = builder.build().map_err(|e| format!("build: {e}"))?;
        client
            .get_customer_users(CUSTOMER)
            .send()
            .await
            .map_err(|e| format!("send: {e}"))?;
        let users: Vec<CustomerUser> = client
            .get_customer_users(CUSTOMER)
            .stream()
            .try_collect()
            .await
            .map_err(|e| format!("listing: {e}"))?;
        Ok::<usize, String>(users.len())
    });
    match timeout(HANG, task).await {
        Err(_) => Some(format!("{name}: hung")),
        Ok(Err(join)) if join.is_panic() => Some(format!(
            "{name}: panicked: {}",
            panic_text(&*join.into_panic())
        )),
        Ok(Err(join)) => Some(format!("{name}: task failed: {join}")),
        Ok(Ok(Err(error))) => Some(format!("{name}: {error}")),
        Ok(Ok(Ok(1))) => None,
        Ok(Ok(Ok(n))) => Some(format!("{name}: {n} users listed instead of 1")),
    }
}

/// Defect 3: `listing_timeout(Duration::MAX)` panics (Instant + Duration
/// overflow) when a listing starts. Every duration setting must accept
/// `Duration::MAX` ("no limit") with a server that answers normally.
#[tokio::test]
async fn every_duration_setting_accepts_duration_max() {
    let server = support::serve(ResponseTemplate::new(200).set_body_json(last_page())).await;
    let base = || support::builder(server.uri());
    let cases: Vec<(&str, ClientBuilder)> = vec![
        (
            "listing_timeout(MAX)",
            base().listing_timeout(Duration::MAX),
        ),
        ("timeout(MAX)", base().timeout(Duration::MAX)),
        (
            "connect_timeout(MAX)",
            base().connect_timeout(Duration::MAX),
        ),
        (
            "RetryPolicy initial_backoff/max_backoff/max_retry_after(MAX)",
            base().retry_policy(
                RetryPolicy::new()
                    .initial_backoff(Duration::MAX)
                    .max_backoff(Duration::MAX)
                    .max_retry_after(Duration::MAX),
            ),
        ),
        (
            "all of them",
            base()
                .listing_timeout(Duration::MAX)
                .timeout(Duration::MAX)
                .connect_timeout(Duration::MAX)
                .retry_policy(
                    RetryPolicy::new()
                        .initial_backoff(Duration::MAX)
                        .max_backoff(Duration::MAX)
                        .max_retry_after(Duration::MAX),
                ),
        ),
    ];
    let mut failures = Vec::new();
    for (name, builder) in cases {
        if let Some(failure) = try_with(name, builder).await {
            failures.push(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "Duration::MAX settings that fail:\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// 4. The listing timeout starts when the stream is built.

/// Defect 4: the listing timeout is counted from when `pages()`/`stream()`
/// is called, not from the first poll: two listings built, then left
/// unpolled for longer than the listing timeout, fail with a timeout before
/// sending a request. They should succeed.
#[tokio::test]
async fn the_listing_timeout_starts_at_the_first_poll() {
    let server = support::serve(ResponseTemplate::new(200).set_body_json(last_page())).await;
    let client = support::builder(server.uri())
        .listing_timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("client");
    let a = client.get_customer_users(CUSTOMER).stream();
    let b = client.get_customer_users(CUSTOMER).pages();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let users: Result<Vec<CustomerUser>, _> = timeout(HANG, a.try_collect())
        .await
        .expect("listing A does not hang");
    let users = users.unwrap_or_else(|e| panic!("listing A, not polled before: {e}"));
    assert_eq!(users.len(), 1);
    let pages: Result<Vec<_>, _> = timeout(HANG, b.try_collect())
        .await
        .expect("listing B does not hang");
    let pages = pages.unwrap_or_else(|e| panic!("listing B, not polled before: {e}"));
    assert_eq!(pages.len(), 1);
    assert_eq!(support::request_count(&server).await, 2);
}

// ---------------------------------------------------------------------------
// 5. A token header given twice.

/// Defect 5: a next link with `MS-ContinuationToken` and
/// `ms-continuationtoken` (different values): the first is reported as the
/// resume token (`Page::continuation_token`, `Error::resume_token`), the last
/// is sent. The token reported must be the token sent (or the link refused).
#[tokio::test]
async fn the_reported_token_is_the_token_sent() {
    let server = server_with(|request: &Request| {
        if request.headers.contains_key("ms-continuationtoken") {
            return ResponseTemplate::new(401)
                .set_body_json(json!({ "code": 400, "description": "Access denied: the access token has expired." }));
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "totalCount": 1,
            "items": [user(1)],
            "links": { "next": {
                "uri": format!("/customers/{CUSTOMER}/users?size=1"),
                "method": "GET",
                "headers": [
                    { "key": "MS-ContinuationToken", "value": "token-first" },
                    { "key": "ms-continuationtoken", "value": "token-last" }
                ]
            } }
        }))
    })
    .await;
    let client = support::client(&server);
    let mut pages = client.get_customer_users(CUSTOMER).size(1).pages();
    let page = pages.next().await.expect("a page").expect("page 1");
    let reported = page
        .continuation_token()
        .map(|t| t.expose_secret().to_owned());
    let error = pages
        .next()
        .await
        .expect("an error")
        .expect_err("page 2 is refused");
    let requests = received(&server).await;
    if requests.len() < 2 {
        // The client refused the ambiguous link: nothing was sent.
        assert_eq!(error.kind(), ErrorKind::Paging, "{error}");
        return;
    }
    let values: Vec<String> = requests[1]
        .headers
        .get_all("ms-continuationtoken")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    assert_eq!(values.len(), 1, "one token header on the wire: {values:?}");
    let sent = values[0].clone();
    assert_eq!(
        reported.as_deref(),
        Some(sent.as_str()),
        "Page::continuation_token is not the token sent"
    );
    assert_eq!(
        error.resume_token().map(|t| t.expose_secret()),
        Some(sent.as_str()),
        "Error::resume_token is not the token sent"
    );
}

// ---------------------------------------------------------------------------
// 6. A token-less next link back to page 1.

/// Defect 6: a token-less next link to the first page's own URI (same path
/// and query, no token) is followed once before the loop is noticed, so
/// page 1 is listed twice. The listing must stop with `ErrorKind::Paging`
/// after page 1 without requesting it again.
#[tokio::test]
async fn a_next_link_back_to_the_first_page_is_not_followed() {
    let server = server_with(|request: &Request| {
        let uri = match request.url.query() {
            Some(query) => format!("{}?{query}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "totalCount": 1,
            "items": [user(1)],
            "links": { "next": { "uri": uri, "method": "GET", "headers": [] } }
        }))
    })
    .await;
    let client = support::client(&server);
    let mut pages = client.get_customer_users(CUSTOMER).size(1).pages();
    let page = timeout(HANG, pages.next())
        .await
        .expect("no hang")
        .expect("a page")
        .expect("page 1");
    assert_eq!(page.number(), 1);
    let second = timeout(HANG, pages.next())
        .await
        .expect("no hang")
        .expect("an error after page 1")
        .map(|page| page.number());
    match &second {
        Err(error) => assert_eq!(error.kind(), ErrorKind::Paging, "{error}"),
        Ok(number) => panic!("page 1 was listed again, as page {number}"),
    }
    assert_eq!(
        support::request_count(&server).await,
        1,
        "the first page was requested a second time"
    );
}

// ---------------------------------------------------------------------------
// 7. Non-ASCII ids and locales.

/// Defect 7 (ids): a non-ASCII `MS-CorrelationId` or `MS-RequestId` set on a
/// request builder is silently replaced by a fresh UUID. It must be refused
/// with `ErrorKind::InvalidRequest` before any request, or sent exactly.
#[tokio::test]
async fn a_non_ascii_id_is_refused_or_sent_as_set() {
    let mut failures = Vec::new();
    for (case, header, value) in [
        ("send() correlation_id", "ms-correlationid", "corrélation-1"),
        ("send() request_id", "ms-requestid", "réq"),
        (
            "listing correlation_id",
            "ms-correlationid",
            "corrélation-1",
        ),
    ] {
        let server = support::serve(ResponseTemplate::new(200).set_body_json(last_page())).await;
        let client = support::client(&server);
        let request = client.get_customer_users(CUSTOMER);
        let result = match case {
            "send() correlation_id" => request.correlation_id(value).send().await.map(|_| ()),
            "send() request_id" => request.request_id(value).send().await.map(|_| ()),
            _ => request
                .correlation_id(value)
                .stream()
                .try_collect::<Vec<_>>()
                .await
                .map(|_| ()),
        };
        let requests = received(&server).await;
        match result {
            Err(error) if error.kind() == ErrorKind::InvalidRequest => {
                if !requests.is_empty() {
                    failures.push(format!(
                        "{case}: refused, but {} requests were sent",
                        requests.len()
                    ));
                }
            }
            Err(error) => failures.push(format!("{case}: unexpected error: {error}")),
            Ok(()) => {
                for request in &requests {
                    let sent = request
                        .headers
                        .get(header)
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
                    if sent.as_deref() != Some(value) {
                        failures.push(format!("{case}: {header} {value:?} was sent as {sent:?}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Defect 7 (locale): a non-ASCII `X-Locale`, on the client or on one
/// request, is sent as raw bytes. It must be refused: `ErrorKind::Config`
/// at build, or `ErrorKind::InvalidRequest` at send, with nothing sent.
#[tokio::test]
async fn a_non_ascii_locale_is_refused() {
    let mut failures = Vec::new();

    let server = support::serve(ResponseTemplate::new(200).set_body_json(last_page())).await;
    match support::builder(server.uri())
        .retry_policy(RetryPolicy::never())
        .locale("fr-ÇA")
        .build()
    {
        Err(error) if error.kind() == ErrorKind::Config => {}
        Err(error) => failures.push(format!("client locale: unexpected error: {error}")),
        Ok(client) => match client.get_customer_users(CUSTOMER).send().await {
            Err(error) if matches!(error.kind(), ErrorKind::InvalidRequest | ErrorKind::Config) => {
            }
            Err(error) => failures.push(format!("client locale: unexpected error: {error}")),
            Ok(_) => failures.push("client locale \"fr-ÇA\": accepted and sent".to_owned()),
        },
    }
    let sent = support::request_count(&server).await;
    if sent != 0 {
        failures.push(format!("client locale: {sent} requests sent"));
    }

    let server = support::serve(ResponseTemplate::new(200).set_body_json(last_page())).await;
    let client = support::client(&server);
    match client.get_customer_users(CUSTOMER).locale("é").send().await {
        Err(error) if error.kind() == ErrorKind::InvalidRequest => {}
        Err(error) => failures.push(format!("request locale: unexpected error: {error}")),
        Ok(_) => failures.push("request locale \"é\": accepted and sent".to_owned()),
    }
    let sent = support::request_count(&server).await;
    if sent != 0 {
        failures.push(format!("request locale: {sent} requests sent"));
    }

    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------
// 8. An unpaired surrogate escape.

/// A page whose one user's display name is an unpaired surrogate escape.
const LONE_SURROGATE_PAGE: &str =
    r#"{"totalCount":1,"items":[{"id":"u1","displayName":"Zo\ud83d","state":"active"}]}"#;

/// Defect 8: one display name with an unpaired surrogate escape (`\ud83d`)
/// makes the whole page unreadable. It must decode lossily, as `Zo\u{FFFD}`.
#[test]
fn a_lone_surrogate_does_not_fail_the_page() {
    let page: CustomerUserCollection = pc_api::decode(LONE_SURROGATE_PAGE.as_bytes())
        .unwrap_or_else(|e| panic!("the page is unreadable: {e}"));
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].display_name.as_deref(), Some("Zo\u{FFFD}"));
}

/// Defect 8, in a listing: a page with an unpaired surrogate escape fails
/// the listing.
#[tokio::test]
async fn a_listing_over_a_lone_surrogate_succeeds() {
    let server = support::serve(support::json(200, LONE_SURROGATE_PAGE)).await;
    let client = support::client(&server);
    let users: Vec<CustomerUser> = client
        .get_customer_users(CUSTOMER)
        .stream()
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("the listing fails: {e}"));
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].display_name.as_deref(), Some("Zo\u{FFFD}"));
}

// ---------------------------------------------------------------------------
// 9. Retry-After in the obsolete HTTP date formats.

/// Sends one request to a server that answers 429 with `Retry-After:
/// retry_after` then 200, and returns how long the call took.
async fn wait_after_429(retry_after: String) -> Duration {
    let calls = AtomicUsize::new(0);
    let server = server_with(move |_: &Request| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            ResponseTemplate::new(429).insert_header("Retry-After", retry_after.as_str())
        } else {
            ResponseTemplate::new(200).set_body_json(last_page())
        }
    })
    .await;
    let client = support::builder(server.uri())
        .retry_policy(fast_retries())
        .build()
        .expect("client");
    let started = Instant::now();
    timeout(
        Duration::from_secs(10),
        client.get_customer_users(CUSTOMER).send(),
    )
    .await
    .expect("no hang")
    .expect("the retry succeeds");
    let took = started.elapsed();
    assert_eq!(support::request_count(&server).await, 2);
    took
}

/// Defect 9 (RFC 850): `Retry-After: Sunday, 06-Nov-94 08:49:37 GMT` style
/// (3 s in the future) is ignored and the client retries after ~1 ms.
#[tokio::test]
async fn retry_after_as_an_rfc_850_date_is_honoured() {
    let date = (chrono::Utc::now() + chrono::Duration::seconds(3))
        .format("%A, %d-%b-%y %H:%M:%S GMT")
        .to_string();
    let took = wait_after_429(date.clone()).await;
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After: {date} ignored: retried after {took:?}"
    );
}

/// Defect 9 (asctime): `Retry-After: Sun Nov  6 08:49:37 1994` style (3 s in
/// the future) is ignored and the client retries after ~1 ms.
#[tokio::test]
async fn retry_after_as_an_asctime_date_is_honoured() {
    let date = (chrono::Utc::now() + chrono::Duration::seconds(3))
        .format("%a %b %e %H:%M:%S %Y")
        .to_string();
    let took = wait_after_429(date.clone()).await;
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After: {date} ignored: retried after {took:?}"
    );
}

// ---------------------------------------------------------------------------
// 10. Timestamp ordering.

fn hash_of(t: &Timestamp) -> u64 {
    let mut hasher = DefaultHasher::new();
    t.hash(&mut hasher);
    hasher.finish()
}

/// Defect 10: `Timestamp` orders as text, so `…19Z` sorts after
/// `…19.7753934Z` and `23:26:19+02:00` after `22:26:19Z`, although both are
/// earlier. Expected: ordered by instant when both parse, and `Ord`
/// consistent with `Eq` and `Hash`. Chosen contract: `Ord` returns `Equal`
/// exactly when `Eq` holds, so two texts of the same instant
/// (`…19Z`, `…19.0Z`) are ordered (e.g. by text as a tie-break) unless they
/// are equal; equal values hash alike; the order is total (antisymmetric and
/// transitive), unparseable values included.
#[test]
fn timestamps_order_by_instant_consistently_with_eq() {
    let whole = Timestamp::from("2020-09-02T23:26:19Z");
    let fraction = Timestamp::from("2020-09-02T23:26:19.7753934Z");
    assert!(
        whole < fraction,
        "{whole:?} is earlier than {fraction:?} but orders {:?}",
        whole.cmp(&fraction)
    );
    let offset = Timestamp::from("2020-09-02T23:26:19+02:00");
    let utc = Timestamp::from("2020-09-02T22:26:19Z");
    assert!(
        offset < utc,
        "{offset:?} is earlier than {utc:?} but orders {:?}",
        offset.cmp(&utc)
    );

    let values: Vec<Timestamp> = [
        "2020-09-02T23:26:19Z",
        "2020-09-02T23:26:19.7753934Z",
        "2020-09-02T23:26:19+02:00",
        "2020-09-02T22:26:19Z",
        "2020-09-02T21:26:19Z",
        "2020-09-02T21:26:19.000Z",
        "2020-09-02T23:26:19.0+02:00",
        "2020-09-02T21:26:19",
        "not a date",
        "",
    ]
    .into_iter()
    .map(Timestamp::from)
    .collect();
    for a in &values {
        for b in &values {
            let ord = a.cmp(b);
            assert_eq!(
                ord == std::cmp::Ordering::Equal,
                a == b,
                "{a:?} vs {b:?}: {ord:?}"
            );
            assert_eq!(ord, b.cmp(a).reverse(), "{a:?} vs {b:?}");
            assert_eq!(a.partial_cmp(b), Some(ord), "{a:?} vs {b:?}");
            if a == b {
                assert_eq!(hash_of(a), hash_of(b), "{a:?} == {b:?}");
            }
            if let (Some(x), Some(y)) = (a.to_utc(), b.to_utc())
                && x != y
            {
                assert_eq!(ord, x.cmp(&y), "{a:?} vs {b:?} by instant");
            }
            for c in &values {
                if a <= b && b <= c {
                    assert!(a <= c, "not transitive: {a:?} <= {b:?} <= {c:?}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 11. Pages polled after its end.

/// Defect 11: polling `Pages` again after it returned `None` panics (the
/// unfold stream underneath); `Items` already returns `None` again. Expected:
/// `None` again.
#[tokio::test]
async fn pages_polled_after_the_end_yield_none_again() {
    let server = support::serve(ResponseTemplate::new(200).set_body_json(last_page())).await;
    let client = support::client(&server);
    let mut pages = client.get_customer_users(CUSTOMER).pages();
    let page = pages.next().await.expect("a page").expect("page 1");
    assert_eq!(page.number(), 1);
    assert!(pages.next().await.is_none(), "one page only");
    let again = std::panic::AssertUnwindSafe(pages.next())
        .catch_unwind()
        .await
        .map(|next| next.map(|page| page.map(|p| p.number())));
    match again {
        Ok(None) => {}
        Ok(Some(other)) => panic!("after the end: {other:?}"),
        Err(payload) => panic!(
            "polling Pages after its end panicked: {}",
            panic_text(&*payload)
        ),
    }

    // Items, for comparison (already correct).
    let mut items = client.get_customer_users(CUSTOMER).stream();
    while items.next().await.is_some() {}
    assert!(items.next().await.is_none());
}

// ---------------------------------------------------------------------------
// 12. A token provider's error in Debug.

/// Defect 12: `Debug` of `pc_api::Error` prints its source unconditionally,
/// so a token provider's error message (which may hold a secret) shows in
/// `{:?}`. It must not show in `Debug`, `Display`, or the `Display` of any
/// error of the `source()` chain.
#[tokio::test]
async fn a_token_providers_error_never_shows() {
    let server = support::serve(ResponseTemplate::new(200).set_body_json(last_page())).await;
    let client = Client::builder()
        .base_url(server.uri())
        .token_provider(|| async { Err::<Secret, pc_api::BoxError>("secret-xyz".into()) })
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("client");
    let error = client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("the token provider fails");
    assert_eq!(error.kind(), ErrorKind::Auth);
    assert_eq!(support::request_count(&server).await, 0);
    let debug = format!("{error:?}");
    assert!(
        !debug.contains("secret-xyz"),
        "Debug shows the provider's error: {debug}"
    );
    let display = format!("{error}");
    assert!(
        !display.contains("secret-xyz"),
        "Display shows the provider's error: {display}"
    );
    let mut next = std::error::Error::source(&error);
    while let Some(cause) = next {
        let text = cause.to_string();
        assert!(
            !text.contains("secret-xyz"),
            "a source shows the provider's error: {text}"
        );
        next = cause.source();
    }
}

// ---------------------------------------------------------------------------
// 13. Causes printed twice.

/// Defect 13: `Display` of `pc_api::Error` appends its whole cause chain and
/// `source()` returns the same cause, so a reporter that walks `source()`
/// (anyhow, eyre, tracing) prints each cause twice. Causes must come only
/// through `source()`.
#[tokio::test]
async fn causes_are_not_repeated_in_display() {
    // A transport error: a port on 127.0.0.1 nobody listens on any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let client = support::builder(format!("http://{addr}"))
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("client");
    let error = client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("connection refused");
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    let source = std::error::Error::source(&error)
        .expect("the cause is the source")
        .to_string();
    let display = error.to_string();
    assert!(
        !display.contains(&source),
        "the source {source:?} is repeated in the Display: {display:?}"
    );

    // A decode error: a 200 with a malformed body.
    let server = support::serve(support::json(200, "{\"items\": [")).await;
    let error = support::client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("malformed body");
    assert_eq!(error.kind(), ErrorKind::Decode, "{error}");
    let source = std::error::Error::source(&error)
        .expect("the cause is the source")
        .to_string();
    let display = error.to_string();
    assert!(
        !display.contains(&source),
        "the source {source:?} is repeated in the Display: {display:?}"
    );
}

// ---------------------------------------------------------------------------
// 2 (client side). A service that does not dedupe a repeated MS-RequestId.

/// A raw server that closes the connection on its first request (as if the
/// answer were lost after the service acted) and answers every later one
/// with `status` and an ApiFault.
async fn first_answer_lost_then(status: u16) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                while read_request(&mut socket, &mut buffer).await.is_some() {
                    if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                        return;
                    }
                    let body =
                        r#"{"description":"A user with this user principal name already exists."}"#;
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if socket.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A create whose answer was lost, retried and refused by a service that
/// does not honour the `MS-RequestId`: the error says the earlier attempt
/// may have succeeded. A GET in the same situation says nothing of the kind.
#[tokio::test]
async fn an_error_after_a_retried_create_says_it_may_have_succeeded() {
    let addr = first_answer_lost_then(409).await;
    let client = support::builder(format!("http://{addr}"))
        .retry_policy(fast_retries())
        .build()
        .expect("client");
    let error = client
        .create_customer_user(CUSTOMER, new_user())
        .send()
        .await
        .expect_err("409 on the retry");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(409), "{error}");
    assert!(error.may_have_succeeded_earlier(), "{error}");
    assert!(
        error
            .to_string()
            .contains("an earlier attempt may have succeeded"),
        "{error}"
    );

    let addr = first_answer_lost_then(404).await;
    let client = support::builder(format!("http://{addr}"))
        .retry_policy(fast_retries())
        .build()
        .expect("client");
    let error = client
        .get_customer_user(CUSTOMER, "u1")
        .send()
        .await
        .expect_err("404 on the retry");
    assert!(!error.may_have_succeeded_earlier(), "{error}");
}
