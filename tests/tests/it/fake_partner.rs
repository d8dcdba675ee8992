//! pc-fake at partner scale: many customers, a partner-wide request budget.
//!
//! Generated customers have skewed, deterministic numbers of users; pc-api
//! lists every customer and then every user of some of them exactly once;
//! the partner-wide budget answers the documented 429 beyond its rate and
//! counts it; customers without a relationship and deleted tenants stay
//! listed and answer 403 20002 and 404 60003.

use std::collections::HashSet;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use pc_api::types::{Customer, CustomerUser, SortDirection, UserState};
use pc_api::{Client, RetryPolicy};
use pc_fake::{CustomerAccess, CustomerInfo, FakePartnerCenter};

async fn partner(count: usize, seed: u64) -> FakePartnerCenter {
    FakePartnerCenter::builder()
        .generated_customers(count, seed)
        .start()
        .await
        .expect("fake starts")
}

fn client_of(fake: &FakePartnerCenter) -> Client {
    Client::builder()
        .base_url(fake.base_url())
        .bearer_token("partner-token")
        .retry_policy(
            RetryPolicy::new()
                .initial_backoff(Duration::from_millis(2))
                .max_backoff(Duration::from_millis(10))
                .max_retries(10),
        )
        .build()
        .expect("client")
}

fn total(customers: &[CustomerInfo]) -> usize {
    customers.iter().map(|c| c.users).sum()
}

/// 500 customers: about 100,000 users, most customers small, some with
/// hundreds, a few with tens of thousands; the same seed gives the same
/// partner, another seed another one; ids and domains are distinct.
#[tokio::test]
async fn generated_customers_are_skewed_deterministic_and_about_100_000_users() {
    let fake = partner(500, 7).await;
    let customers = fake.customers();
    assert_eq!(customers.len(), 500);
    assert_eq!(
        customers,
        partner(500, 7).await.customers(),
        "deterministic"
    );
    assert_ne!(customers, partner(500, 8).await.customers());

    let users = total(&customers);
    assert!((85_000..=125_000).contains(&users), "{users} users");
    let small = customers.iter().filter(|c| c.users <= 60).count();
    let hundreds = customers
        .iter()
        .filter(|c| (100..1_000).contains(&c.users))
        .count();
    let huge = customers.iter().filter(|c| c.users >= 10_000).count();
    assert!(small >= 350, "most are small: {small}");
    assert!(hundreds >= 50, "some have hundreds: {hundreds}");
    assert!(
        (1..=5).contains(&huge),
        "a few have tens of thousands: {huge}"
    );
    assert!(customers.iter().all(|c| c.users >= 2));
    // About 5% more deleted users.
    let deleted: usize = customers.iter().map(|c| c.deleted_users).sum();
    assert!(
        deleted * 100 / users >= 4 && deleted * 100 / users <= 6,
        "{deleted}"
    );

    let ids: HashSet<&str> = customers.iter().map(|c| c.id.as_str()).collect();
    let domains: HashSet<&str> = customers.iter().map(|c| c.domain.as_str()).collect();
    assert_eq!((ids.len(), domains.len()), (500, 500));
    assert!(
        customers
            .iter()
            .all(|c| c.domain.ends_with(".onmicrosoft.com") && !c.company_name.is_empty())
    );
    assert!(
        customers
            .iter()
            .all(|c| c.access == CustomerAccess::Granted)
    );
}

/// 5,000 customers (a million users) start at once: their users are derived
/// on demand; the customers listing has every one exactly once, in order.
#[tokio::test]
async fn five_thousand_customers_list_exactly_once() {
    let started = std::time::Instant::now();
    let fake = partner(5_000, 1).await;
    let expected: Vec<String> = fake.customers().into_iter().map(|c| c.id).collect();
    let users = total(&fake.customers());
    assert!((900_000..=1_200_000).contains(&users), "{users} users");
    let listed: Vec<Customer> = client_of(&fake)
        .get_customers()
        .size(500)
        .stream()
        .try_collect()
        .await
        .expect("customers");
    let listed: Vec<String> = listed
        .into_iter()
        .map(|c| c.id.unwrap_or_default())
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(fake.counters().api_requests, 10);
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// A partner-wide inventory on a small scale: every customer, then every
/// user of three of them (a large, a middling and a small one) exactly
/// once, as many as the fake says; the deleted users through the filter;
/// a sorted listing; a user found by id; a change to a generated tenant.
#[tokio::test]
async fn every_customer_then_every_user_of_a_few_exactly_once() {
    let fake = partner(300, 5).await;
    let client = client_of(&fake);
    let customers: Vec<Customer> = client
        .get_customers()
        .size(100)
        .stream()
        .try_collect()
        .await
        .expect("customers");
    let infos = fake.customers();
    assert_eq!(
        customers
            .iter()
            .map(|c| c.id.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
        infos.iter().map(|c| c.id.clone()).collect::<Vec<_>>()
    );
    assert_eq!(
        customers[0]
            .company_profile
            .as_ref()
            .and_then(|p| p.company_name.clone()),
        Some(infos[0].company_name.clone())
    );

    // The largest of at most 3,000 users (a debug build lists fast enough),
    // a middling and a small one.
    let mut by_size: Vec<CustomerInfo> =
        infos.iter().filter(|c| c.users <= 3_000).cloned().collect();
    by_size.sort_by_key(|c| c.users);
    let chosen = [
        by_size[by_size.len() - 1].clone(),
        by_size[by_size.len() / 2].clone(),
        by_size[0].clone(),
    ];
    assert!(chosen[0].users >= 1_000, "{}", chosen[0].users);
    for customer in &chosen {
        let users: Vec<CustomerUser> = client
            .get_customer_users(&customer.id)
            .size(500)
            .stream()
            .try_collect()
            .await
            .expect("users");
        assert_eq!(users.len(), customer.users, "{}", customer.company_name);
        let ids: HashSet<String> = users.iter().filter_map(|u| u.id.clone()).collect();
        assert_eq!(ids.len(), users.len(), "each user once");
        assert!(users.iter().all(|u| u.state == Some(UserState::Active)));
        assert!(users.iter().all(|u| {
            u.user_principal_name
                .as_deref()
                .is_some_and(|upn| upn.ends_with(&format!("@{}", customer.domain)))
        }));
        let deleted = client
            .list_deleted_users(&customer.id)
            .stream()
            .try_collect::<Vec<CustomerUser>>()
            .await
            .expect("deleted users");
        assert_eq!(deleted.len(), customer.deleted_users);
        assert!(deleted.iter().all(|u| u.state == Some(UserState::Inactive)));
    }

    // Sorted by display name, descending: the same users, in that order.
    let largest = &chosen[0];
    let sorted: Vec<CustomerUser> = client
        .get_customer_users(&largest.id)
        .size(500)
        .sort_field("DisplayName")
        .sort_direction(SortDirection::Descending)
        .stream()
        .try_collect()
        .await
        .expect("sorted");
    assert_eq!(sorted.len(), largest.users);
    let names: Vec<String> = sorted
        .iter()
        .map(|u| u.display_name.clone().unwrap_or_default().to_lowercase())
        .collect();
    assert!(names.windows(2).all(|w| w[0] >= w[1]));

    // A user of an untouched tenant by id; then a change, kept.
    let some = &sorted[sorted.len() / 3];
    let id = some.id.clone().expect("id");
    let fetched = client
        .get_customer_user(&largest.id, &id)
        .send()
        .await
        .expect("by id");
    assert_eq!(fetched.user_principal_name, some.user_principal_name);
    client.delete_user(&largest.id, &id).await.expect("delete");
    let after = fake
        .customers()
        .into_iter()
        .find(|c| c.id == largest.id)
        .expect("customer");
    assert_eq!(
        (after.users, after.deleted_users),
        (largest.users - 1, largest.deleted_users + 1)
    );
    let count = client
        .get_customer_users(&largest.id)
        .size(500)
        .stream()
        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
        .await
        .expect("users after the change");
    assert_eq!(count, largest.users - 1);
}

/// Raw GETs, as many at once as `n`, with status, `Retry-After` and body.
async fn burst(url: &str, n: usize) -> Vec<(u16, Option<String>, String)> {
    let http = reqwest::Client::new();
    futures::stream::iter(0..n)
        .map(|_| {
            let http = http.clone();
            async move {
                let response = http
                    .get(url)
                    .header("Authorization", "Bearer partner-token")
                    .send()
                    .await
                    .expect("response");
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                (status, retry_after, response.text().await.expect("body"))
            }
        })
        .buffer_unordered(n)
        .collect()
        .await
}

/// The budget: 20 requests at once against 5 a second (a bucket of 5):
/// about 5 are served, the rest get the documented 429 with `Retry-After: 1`;
/// the counters say so; a second later the bucket has refilled.
#[tokio::test]
async fn beyond_the_partner_rate_requests_get_429_with_retry_after() {
    let fake = FakePartnerCenter::builder()
        .generated_customers(10, 2)
        .partner_rate(5.0)
        .start()
        .await
        .expect("fake starts");
    let url = format!("{}/v1/customers", fake.base_url());
    let answers = burst(&url, 20).await;
    let served = answers.iter().filter(|(s, _, _)| *s == 200).count();
    let throttled: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 429).collect();
    assert_eq!(served + throttled.len(), 20);
    assert!((5..=7).contains(&served), "{served} served");
    for (_, retry_after, body) in &throttled {
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert_eq!(
            body,
            r#"{"message":"Rate limit is exceeded. Try again in 1 seconds.","statusCode":429}"#
        );
        let body: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(body["statusCode"], 429);
    }
    let counters = fake.counters();
    assert_eq!(counters.api_requests, 20);
    assert_eq!(counters.served, served as u64);
    assert_eq!(counters.throttled, throttled.len() as u64);
    assert_eq!(counters.budget_throttled, throttled.len() as u64);

    tokio::time::sleep(Duration::from_millis(1_050)).await;
    let again = burst(&url, 5).await;
    assert!(
        again.iter().all(|(s, _, _)| *s == 200),
        "refilled: {again:?}"
    );

    // A slow budget says how long to wait, in whole seconds.
    let slow = FakePartnerCenter::builder()
        .generated_customers(1, 2)
        .partner_rate(0.2)
        .start()
        .await
        .expect("fake starts");
    let url = format!("{}/v1/customers", slow.base_url());
    let answers = burst(&url, 2).await;
    let refused = answers
        .iter()
        .find(|(s, _, _)| *s == 429)
        .expect("one refused");
    assert_eq!(refused.1.as_deref(), Some("5"));
    assert!(
        refused.2.contains("Try again in 5 seconds."),
        "{}",
        refused.2
    );
}

/// Token requests are not counted against the budget.
#[tokio::test]
async fn the_token_endpoint_is_outside_the_budget() {
    let fake = FakePartnerCenter::builder()
        .generated_customers(3, 2)
        .partner_rate(1.0)
        .default_sign_in()
        .start()
        .await
        .expect("fake starts");
    let http = reqwest::Client::new();
    for _ in 0..5 {
        let response = http
            .post(fake.token_url(pc_fake::DEFAULT_PARTNER_TENANT))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", pc_fake::DEFAULT_CLIENT_ID),
                ("client_secret", pc_fake::DEFAULT_CLIENT_SECRET),
                ("scope", "https://api.partnercenter.microsoft.com/.default"),
            ])
            .send()
            .await
            .expect("token");
        assert_eq!(response.status().as_u16(), 200);
    }
    let counters = fake.counters();
    assert_eq!((counters.token_requests, counters.api_requests), (5, 0));
}

/// A small partner-wide run through a tight budget (20 a second, a bucket
/// of 20, 8 customers at a time): the client honours `Retry-After`, every
/// user of every customer is listed exactly once, and the fake counted the
/// 429s it answered.
#[tokio::test]
async fn a_partner_wide_run_through_the_budget_lists_everything_once() {
    let fake = FakePartnerCenter::builder()
        .generated_customers(24, 9)
        .partner_rate(20.0)
        .start()
        .await
        .expect("fake starts");
    let client = client_of(&fake);
    let customers: Vec<Customer> = client
        .get_customers()
        .stream()
        .try_collect()
        .await
        .expect("customers");
    assert_eq!(customers.len(), 24);
    let listed: Vec<(String, usize, usize)> = futures::stream::iter(customers)
        .map(|customer| {
            let client = client.clone();
            async move {
                let id = customer.id.unwrap_or_default();
                let users: Vec<CustomerUser> = client
                    .get_customer_users(&id)
                    .size(100)
                    .stream()
                    .try_collect()
                    .await
                    .expect("users");
                let distinct: HashSet<String> = users.iter().filter_map(|u| u.id.clone()).collect();
                (id, users.len(), distinct.len())
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let infos = fake.customers();
    for (id, count, distinct) in &listed {
        let info = infos.iter().find(|c| &c.id == id).expect("known");
        assert_eq!((*count, *distinct), (info.users, info.users), "{id}");
    }
    let counters = fake.counters();
    assert!(counters.budget_throttled > 0, "{counters:?}");
    assert_eq!(counters.throttled, counters.budget_throttled);
    assert_eq!(counters.served + counters.throttled, counters.api_requests);
}

/// Customers without a relationship and deleted tenants, picked from the
/// seed: listed with the others (the former without delegated access), and
/// 403 20002 and 404 60003 under them.
#[tokio::test]
async fn customers_without_a_relationship_and_deleted_ones() {
    let start = || {
        FakePartnerCenter::builder()
            .generated_customers(40, 3)
            .customers_without_relationship(2)
            .deleted_customers(3)
            .start()
    };
    let fake = start().await.expect("fake starts");
    let infos = fake.customers();
    assert_eq!(infos, start().await.expect("again").customers());
    let of = |access: CustomerAccess| -> Vec<&CustomerInfo> {
        infos.iter().filter(|c| c.access == access).collect()
    };
    let (without, deleted) = (
        of(CustomerAccess::NoRelationship),
        of(CustomerAccess::Deleted),
    );
    assert_eq!((without.len(), deleted.len()), (2, 3));

    let client = client_of(&fake);
    let customers: Vec<Customer> = client
        .get_customers()
        .stream()
        .try_collect()
        .await
        .expect("customers");
    assert_eq!(customers.len(), 40, "all stay listed");
    for customer in &customers {
        let id = customer.id.clone().unwrap_or_default();
        let expected = !without.iter().any(|c| c.id == id);
        assert_eq!(customer.allow_delegated_access, Some(expected), "{id}");
    }
    for (info, status, code) in without
        .iter()
        .map(|c| (c, 403, "20002"))
        .chain(deleted.iter().map(|c| (c, 404, "60003")))
    {
        let error = client
            .get_customer_users(&info.id)
            .send()
            .await
            .expect_err("refused");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.code().as_deref(), Some(code));
    }
}

/// The partner-wide run against pc-fake with everything at once: a budget
/// that answers 429 storms, 503 bursts, pages cut off mid-body, access
/// tokens that die after a few requests (signed in with the refresh-token
/// credential), customers without a relationship and deleted tenants.
/// Every user of every listable customer exactly once, in order; the two
/// kinds of failed customer reported with status and fault code; nothing
/// else failed.
#[tokio::test]
async fn a_partner_wide_run_through_every_fault_lists_everything_once() {
    use pc_api::fanout::Event;
    use std::collections::BTreeMap;

    let fake = FakePartnerCenter::builder()
        .generated_customers(60, 21)
        .customers_without_relationship(2)
        .deleted_customers(1)
        .partner_rate(40.0)
        .faults(pc_fake::Faults {
            unavailable_every: Some(23),
            unavailable_burst: 2,
            close_mid_body_every: Some(17),
            ..pc_fake::Faults::default()
        })
        .default_sign_in()
        .access_token_uses(25)
        .start()
        .await
        .expect("fake starts");
    let credential = pc_api::auth::RefreshTokenCredential::builder()
        .tenant_id(pc_fake::DEFAULT_PARTNER_TENANT)
        .client_id(pc_fake::DEFAULT_CLIENT_ID)
        .client_secret(pc_fake::DEFAULT_CLIENT_SECRET)
        .refresh_token(pc_fake::DEFAULT_REFRESH_TOKEN)
        .authority_host(fake.base_url())
        .build()
        .expect("credential");
    let client = Client::builder()
        .base_url(fake.base_url())
        .token_provider(credential)
        .retry_policy(
            RetryPolicy::new()
                .initial_backoff(Duration::from_millis(2))
                .max_backoff(Duration::from_millis(20))
                .max_retries(6),
        )
        .build()
        .expect("client");
    let mut run = client.all_customer_users().page_size(100).run();
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failed: BTreeMap<String, (Option<u16>, Option<String>)> = BTreeMap::new();
    let mut done = HashSet::new();
    while let Some(event) = run.try_next().await.expect("the run") {
        match event {
            Event::Page { customer, page } => users
                .entry(customer)
                .or_default()
                .extend(page.items.iter().filter_map(|u| u.id.clone())),
            Event::Done { customer } => {
                done.insert(customer);
            }
            Event::Failed { customer, error } => {
                failed.insert(customer, (error.status().map(|s| s.as_u16()), error.code()));
            }
        }
    }
    for info in fake.customers() {
        match info.access {
            CustomerAccess::NoRelationship => assert_eq!(
                failed.get(&info.id),
                Some(&(Some(403), Some("20002".to_owned()))),
                "{}",
                info.id
            ),
            CustomerAccess::Deleted => assert_eq!(
                failed.get(&info.id),
                Some(&(Some(404), Some("60003".to_owned()))),
                "{}",
                info.id
            ),
            _ => {
                assert!(done.contains(&info.id), "{} not done", info.id);
                let listed = users.get(&info.id).map(Vec::len).unwrap_or(0);
                let distinct: HashSet<&String> =
                    users.get(&info.id).into_iter().flatten().collect();
                assert_eq!(
                    (listed, distinct.len()),
                    (info.users, info.users),
                    "{}",
                    info.id
                );
            }
        }
    }
    assert_eq!(failed.len(), 3, "{failed:?}");
    let counters = fake.counters();
    assert!(counters.budget_throttled > 0, "no 429 storm: {counters:?}");
    assert!(counters.unauthorized > 0, "no token died: {counters:?}");
    assert!(counters.tokens_issued > 1, "{counters:?}");
}
