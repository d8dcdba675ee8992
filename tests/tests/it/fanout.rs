//! Partner-wide runs (`Client::all_customer_users`) against a mock partner
//! on 127.0.0.1: every user exactly once across customers through 429s and
//! 503 bursts, failed customers reported while the rest complete, the run's
//! rate adapting to a budget, resuming from a checkpoint, and the errors
//! that end a run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use pc_api::fanout::{Checkpoint, Event};
use pc_api::{Client, RetryPolicy};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// What the mock partner does besides answering.
#[derive(Clone, Default)]
struct Faults {
    /// Every n-th request gets 429 (`Retry-After: 0`).
    throttle_every: Option<usize>,
    /// Every n-th request gets 503.
    unavailable_every: Option<usize>,
    /// A token bucket: requests per second, with a burst of as many.
    budget: Option<f64>,
}

/// A partner with `sizes[i]` users in customer `c{i}`, pages of 3; customers
/// `forbidden` answer 403 20002, `deleted` 404 60003.
async fn partner(
    sizes: &[usize],
    forbidden: &[usize],
    deleted: &[usize],
    faults: Faults,
) -> MockServer {
    let sizes = sizes.to_vec();
    let forbidden = forbidden.to_vec();
    let deleted = deleted.to_vec();
    let count = AtomicUsize::new(0);
    let bucket = Mutex::new((faults.budget.unwrap_or(0.0), Instant::now()));
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(move |request: &Request| {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some(rate) = faults.budget {
                let mut bucket = bucket.lock().expect("lock");
                let now = Instant::now();
                bucket.0 = (bucket.0 + now.duration_since(bucket.1).as_secs_f64() * rate).min(rate);
                bucket.1 = now;
                if bucket.0 < 1.0 {
                    return ResponseTemplate::new(429)
                        .insert_header("Retry-After", "1")
                        .set_body_json(json!({"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."}));
                }
                bucket.0 -= 1.0;
            }
            if faults.throttle_every.is_some_and(|k| n.is_multiple_of(k)) {
                return ResponseTemplate::new(429)
                    .insert_header("Retry-After", "0")
                    .set_body_json(json!({"statusCode": 429, "message": "Rate limit is exceeded. Try again in 0 seconds."}));
            }
            if faults.unavailable_every.is_some_and(|k| n.is_multiple_of(k)) {
                return ResponseTemplate::new(503);
            }
            let token: usize = request
                .headers
                .get("ms-continuationtoken")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit('-').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let segments: Vec<&str> = request.url.path().split('/').collect();
            match segments.as_slice() {
                ["", "v1", "customers"] => {
                    let ids: Vec<usize> = (0..sizes.len()).collect();
                    page(&ids, token, 2, "/v1/customers", "customers", |i| {
                        json!({ "id": format!("c{i}"), "companyProfile": { "companyName": format!("Customer {i}") } })
                    })
                }
                ["", "v1", "customers", customer, "users"] => {
                    let i: usize = customer.trim_start_matches('c').parse().unwrap_or(usize::MAX);
                    if forbidden.contains(&i) {
                        return ResponseTemplate::new(403).set_body_json(json!({"code": 20002, "description": "No relationship between caller and account.", "data": [], "source": "PartnerFD"}));
                    }
                    if deleted.contains(&i) || i >= sizes.len() {
                        return ResponseTemplate::new(404).set_body_json(json!({"code": 60003, "description": "Tenant not found.", "data": [], "source": "PartnerFD"}));
                    }
                    let users: Vec<usize> = (0..sizes[i]).collect();
                    let base = format!("/customers/{customer}/users");
                    page(&users, token, 3, &base, customer, |u| json!({ "id": format!("{customer}-u{u}") }))
                }
                _ => ResponseTemplate::new(404),
            }
        })
        .mount(&server)
        .await;
    server
}

/// Page `token` (from 0) of `items`, `size` a page, with a next link and
/// token when more follow.
fn page(
    items: &[usize],
    token: usize,
    size: usize,
    uri: &str,
    prefix: &str,
    item: impl Fn(usize) -> serde_json::Value,
) -> ResponseTemplate {
    let start = token * size;
    let chunk: Vec<serde_json::Value> = items
        .iter()
        .skip(start)
        .take(size)
        .map(|i| item(*i))
        .collect();
    let mut body = json!({ "totalCount": chunk.len(), "items": chunk });
    if start + size < items.len() {
        let next = format!("{prefix}-{}", token + 1);
        body["links"] = json!({ "next": { "uri": format!("{uri}?seekOperation=Next"), "method": "GET",
            "headers": [{ "key": "MS-ContinuationToken", "value": next }] } });
        body["continuationToken"] = json!(next);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn client(server: &MockServer) -> Client {
    crate::support::builder(server.uri())
        .retry_policy(
            RetryPolicy::new()
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(5)),
        )
        .build()
        .expect("client")
}

/// Every event of a run: users by customer (in order), done and failed customers.
#[derive(Debug, Default)]
struct Outcome {
    users: BTreeMap<String, Vec<String>>,
    done: BTreeSet<String>,
    failed: BTreeMap<String, (Option<u16>, Option<String>)>,
}

impl Outcome {
    fn add(&mut self, event: &Event<pc_api::types::CustomerUserCollection, pc_api::ErrorBody>) {
        match event {
            Event::Page { customer, page } => self
                .users
                .entry(customer.clone())
                .or_default()
                .extend(page.items.iter().filter_map(|u| u.id.clone())),
            Event::Done { customer } => {
                self.done.insert(customer.clone());
            }
            Event::Failed { customer, error } => {
                self.failed.insert(
                    customer.clone(),
                    (error.status().map(|s| s.as_u16()), error.code()),
                );
            }
        }
    }

    fn assert_exactly_once(&self, sizes: &[usize], skip: &[usize]) {
        self.assert_users_exactly_once(sizes, skip);
        for i in (0..sizes.len()).filter(|i| !skip.contains(i)) {
            assert!(self.done.contains(&format!("c{i}")), "c{i} not done");
        }
    }

    /// Every user of the customers not in `skip` exactly once, in order.
    fn assert_users_exactly_once(&self, sizes: &[usize], skip: &[usize]) {
        for (i, size) in sizes.iter().enumerate() {
            let customer = format!("c{i}");
            if skip.contains(&i) {
                assert!(!self.done.contains(&customer), "{customer}");
                continue;
            }
            let expected: Vec<String> = (0..*size).map(|u| format!("{customer}-u{u}")).collect();
            assert_eq!(
                self.users.get(&customer).cloned().unwrap_or_default(),
                expected,
                "{customer}"
            );
        }
    }
}

/// Every user of every customer exactly once and in order, through 429s
/// and 503s, with failed customers reported (status and fault code) while
/// the rest complete.
#[tokio::test]
async fn every_user_exactly_once_through_throttling_and_failures() {
    let sizes = [7, 0, 1, 12, 3, 5, 9, 2, 4, 11, 6];
    let server = partner(
        &sizes,
        &[2],
        &[5],
        Faults {
            throttle_every: Some(7),
            unavailable_every: Some(11),
            budget: None,
        },
    )
    .await;
    let mut run = client(&server).all_customer_users().concurrency(3).run();
    let mut outcome = Outcome::default();
    while let Some(event) = run.try_next().await.expect("the run") {
        outcome.add(&event);
    }
    outcome.assert_exactly_once(&sizes, &[2, 5]);
    assert_eq!(
        outcome.failed.get("c2"),
        Some(&(Some(403), Some("20002".to_owned())))
    );
    assert_eq!(
        outcome.failed.get("c5"),
        Some(&(Some(404), Some("60003".to_owned())))
    );
    let progress = run.progress();
    assert_eq!(progress.customers_done, 9);
    assert_eq!(progress.customers_failed, 2);
    assert_eq!(progress.items, sizes.iter().sum::<usize>() as u64 - 1 - 5);
    assert!(progress.throttle.throttled > 0, "{progress:?}");
    assert_eq!(
        progress.throttle.requests as usize,
        crate::support::request_count(&server).await
    );
}

/// One request at a time: the customer listing's read-ahead page holds the
/// run's only slot while the first customer waits for it. The run reads the
/// customer listing on, so the slot frees (it used to wait forever).
#[tokio::test]
async fn one_at_a_time_the_customer_listing_never_holds_the_slot() {
    let sizes = [2, 5, 1, 4, 3, 6, 2];
    let server = partner(&sizes, &[], &[], Faults::default()).await;
    let mut run = client(&server).all_customer_users().concurrency(1).run();
    let mut outcome = Outcome::default();
    let listed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = run.try_next().await.expect("the run") {
            outcome.add(&event);
            let progress = run.progress();
            assert!(progress.customers_running <= 1, "{progress:?}");
        }
    })
    .await;
    assert!(listed.is_ok(), "the run stalled: {:?}", run.progress());
    outcome.assert_exactly_once(&sizes, &[]);
}

/// A run interrupted at any event and resumed from the checkpoint committed
/// with its output lists every user exactly once.
#[tokio::test]
async fn resuming_from_a_checkpoint_lists_exactly_the_rest() {
    let sizes = [7, 4, 1, 12, 3];
    for stop_after in [1, 3, 6, 10, 15] {
        let server = partner(&sizes, &[], &[], Faults::default()).await;
        let mut checkpoint = Checkpoint::new();
        let mut outcome = Outcome::default();
        {
            let mut run = client(&server).all_customer_users().concurrency(2).run();
            for _ in 0..stop_after {
                let Some(event) = run.try_next().await.expect("event") else {
                    break;
                };
                // The output and the checkpoint committed together.
                outcome.add(&event);
                checkpoint.record(&event);
            }
            // Dropped: a crash after a commit.
        }
        let saved = serde_json::to_string(&checkpoint).expect("checkpoint json");
        let checkpoint: Checkpoint = serde_json::from_str(&saved).expect("checkpoint back");
        let mut run = client(&server)
            .all_customer_users()
            .concurrency(2)
            .checkpoint(checkpoint)
            .run();
        while let Some(event) = run.try_next().await.expect("the rest") {
            outcome.add(&event);
        }
        // A customer whose last page was committed is done, whether or not
        // its `Done` event came before the crash.
        outcome.assert_users_exactly_once(&sizes, &[]);
    }
}

/// Under a budget of 40 requests per second (a token bucket), the run's
/// rate adapts after the first 429s: few throttled requests, and its cap
/// settles near the budget.
#[tokio::test]
async fn the_rate_adapts_to_a_budget() {
    let sizes: Vec<usize> = (0..30).map(|i| 3 * (i % 4) + 1).collect();
    let server = partner(
        &sizes,
        &[],
        &[],
        Faults {
            budget: Some(40.0),
            ..Faults::default()
        },
    )
    .await;
    let mut run = client(&server).all_customer_users().run();
    let mut outcome = Outcome::default();
    while let Some(event) = run.try_next().await.expect("the run") {
        outcome.add(&event);
    }
    outcome.assert_exactly_once(&sizes, &[]);
    let throttle = run.progress().throttle;
    assert!(throttle.throttled <= 10, "{throttle:?}");
    let cap = throttle.rate_cap.expect("a cap learned from the 429s");
    assert!((25.0..=45.0).contains(&cap), "{throttle:?}");
}

/// A 401 (an expired or invalid token) dooms every customer: the run ends
/// with it. A failing customers listing ends it too.
#[tokio::test]
async fn errors_that_doom_every_customer_end_the_run() {
    let server = crate::support::serve(ResponseTemplate::new(401).set_body_json(
        json!({"code": 800001, "description": "Partner token is missing or is not a bearer token."}),
    ))
    .await;
    let mut run = client(&server).all_customer_users().run();
    let error = run.try_next().await.expect_err("401");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert!(run.try_next().await.expect("fused").is_none());

    let server = partner(&[2, 2], &[], &[], Faults::default()).await;
    let mut run = client(&server)
        .all_customer_users()
        .customers(["c0", "c9", "c1"])
        .run();
    let mut outcome = Outcome::default();
    while let Some(event) = run.try_next().await.expect("the run") {
        outcome.add(&event);
    }
    assert_eq!(
        outcome.done,
        BTreeSet::from(["c0".to_owned(), "c1".to_owned()])
    );
    assert!(outcome.failed.contains_key("c9"));
}

/// Memory is bounded by the concurrency, not by the number of customers:
/// with a consumer that does not poll, only `concurrency` listings start.
#[tokio::test]
async fn only_concurrency_customers_are_listed_at_a_time() {
    let sizes = vec![3; 40];
    let server = partner(&sizes, &[], &[], Faults::default()).await;
    let client = client(&server);
    let mut run = client.all_customer_users().concurrency(4).run();
    let first = run.try_next().await.expect("event");
    assert!(first.is_some());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let progress = run.progress();
    assert!(progress.customers_running <= 4, "{progress:?}");
    // The customers listing is read only as far as needed (pages of 2).
    let received = server.received_requests().await.expect("recording");
    let customer_pages = received
        .iter()
        .filter(|r| r.url.path() == "/v1/customers")
        .count();
    assert!(
        customer_pages <= 4,
        "{customer_pages} pages of customers read"
    );
    let _ = Arc::new(());
}
