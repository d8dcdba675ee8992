//! `pc-fake` against the spec and against the real client: every body it
//! sends conforms to the spec's schemas, and `pc-api` lists its tenants
//! exactly, through every fault it can inject.

use crate::support;
use crate::support::{active_ids, ids};

use std::time::Duration;

use futures::TryStreamExt;
use pc_api::types::{CustomerUser, SortDirection, UserState};
use pc_api::{ErrorKind, RetryPolicy, Secret};
use pc_fake::{DEFAULT_CUSTOMER, FakePartnerCenter, FakeUser, Faults, generate_users};
use pc_tests::SpecValidator;

const DOMAIN: &str = "contoso.onmicrosoft.com";

async fn start(users: Vec<FakeUser>, faults: Faults) -> FakePartnerCenter {
    FakePartnerCenter::builder()
        .customer(DEFAULT_CUSTOMER, users)
        .bom(true)
        .faults(faults)
        .start()
        .await
        .expect("fake starts")
}

fn client_of(fake: &FakePartnerCenter) -> pc_api::Client {
    pc_api::Client::builder()
        .base_url(fake.base_url())
        .bearer_token("fake-token")
        .retry_policy(
            RetryPolicy::new()
                .initial_backoff(Duration::from_millis(2))
                .max_backoff(Duration::from_millis(10))
                .max_retries(5),
        )
        .build()
        .expect("client")
}

/// Sends a raw GET and returns status and body.
async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, Vec<u8>) {
    let mut request = reqwest::Client::new().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("response");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn every_body_the_fake_sends_conforms_to_the_spec() {
    let validator = SpecValidator::from_yaml(&support::fixture("../../spec/partner-center.yaml"))
        .expect("spec");
    let faults = Faults {
        throttle_every: Some(13),
        retry_after_secs: 0,
        unavailable_every: Some(11),
        unavailable_burst: 1,
        ..Faults::default()
    };
    let fake = start(generate_users(1_200, 7, DOMAIN), faults).await;
    let base = format!("{}/v1/customers/{DEFAULT_CUSTOMER}/users", fake.base_url());
    let auth = [("Authorization", "Bearer t")];
    let deleted = r#"{"Field":"UserState","Value":"Inactive","Operator":"equals"}"#;
    let queries = [
        String::new(),
        "?size=500".to_owned(),
        "?size=1".to_owned(),
        "?size=37&SortField=DisplayName&SortDirection=Descending".to_owned(),
        "?sortfield=UserPrincipalName&sortdirection=Ascending".to_owned(),
        format!("?size=500&filter={}", form(deleted)),
        "?size=501".to_owned(),
        "?size=0".to_owned(),
        "?size=ten".to_owned(),
        "?SortField=Nope".to_owned(),
        "?filter=%7Bnot%20json".to_owned(),
        "?seekOperation=Next".to_owned(),
    ];
    let mut checked = 0;
    let mut statuses = std::collections::BTreeSet::new();
    for query in &queries {
        for _ in 0..3 {
            let (status, body) = get(&format!("{base}{query}"), &auth).await;
            validator
                .check_response("getCustomerUsers", status, &body)
                .unwrap_or_else(|e| panic!("{query} → {status}: {e:?}"));
            statuses.insert(status);
            checked += 1;
        }
    }
    // Every page of a listing, following the next links with their headers.
    let mut url = format!("{base}?size=100");
    let mut token: Option<String> = None;
    loop {
        let headers: Vec<(&str, &str)> = match &token {
            Some(t) => vec![
                ("Authorization", "Bearer t"),
                ("MS-ContinuationToken", t.as_str()),
            ],
            None => auth.to_vec(),
        };
        let (status, body) = get(&url, &headers).await;
        validator
            .check_response("getCustomerUsers", status, &body)
            .unwrap_or_else(|e| panic!("{url} → {status}: {e:?}"));
        checked += 1;
        if status != 200 {
            continue;
        }
        let page: serde_json::Value =
            serde_json::from_slice(body.strip_prefix(b"\xEF\xBB\xBF").expect("BOM")).expect("json");
        let Some(next) = page["links"].get("next") else {
            break;
        };
        url = format!(
            "{}/v1{}",
            fake.base_url(),
            next["uri"].as_str().expect("uri")
        );
        token = next["headers"][0]["value"].as_str().map(str::to_owned);
    }
    for (what, url, headers) in [
        ("no token", base.clone(), vec![]),
        (
            "unknown customer",
            format!("{}/v1/customers/nobody/users", fake.base_url()),
            auth.to_vec(),
        ),
        (
            "bad token",
            base.clone() + "?seekOperation=Next",
            vec![
                ("Authorization", "Bearer t"),
                ("MS-ContinuationToken", "forged/+=,"),
            ],
        ),
    ] {
        for _ in 0..3 {
            let (status, body) = get(&url, &headers).await;
            validator
                .check_response("getCustomerUsers", status, &body)
                .unwrap_or_else(|e| panic!("{what} → {status}: {e:?}"));
            statuses.insert(status);
            checked += 1;
        }
    }
    for expected in [200, 400, 401, 404, 429, 503] {
        assert!(
            statuses.contains(&expected),
            "no {expected} among {statuses:?}"
        );
    }
    assert!(checked > 50, "{checked}");
}

fn form(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[tokio::test]
async fn the_curl_walkthrough() {
    let fake = FakePartnerCenter::builder()
        .customer(DEFAULT_CUSTOMER, generate_users(1000, 42, DOMAIN))
        .start()
        .await
        .expect("fake");
    let base = format!("{}/v1/customers/{DEFAULT_CUSTOMER}/users", fake.base_url());
    let (status, body) = get(&base, &[]).await;
    assert_eq!(status, 401);
    let fault: serde_json::Value = serde_json::from_slice(&body).expect("ApiFault");
    assert!(
        fault["code"].is_number() && fault["description"].is_string(),
        "{fault}"
    );
    let (status, _) = get(
        &format!("{base}?size=501"),
        &[("Authorization", "Bearer t")],
    )
    .await;
    assert_eq!(status, 400);
    let mut seen = std::collections::HashSet::new();
    let mut url = base.clone();
    let mut headers: Vec<(String, String)> = vec![("Authorization".into(), "Bearer t".into())];
    let mut pages = 0;
    loop {
        let refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, body) = get(&url, &refs).await;
        assert_eq!(status, 200);
        let page: serde_json::Value = serde_json::from_slice(&body).expect("page");
        let items = page["items"].as_array().expect("items");
        if pages == 0 {
            assert_eq!(items.len(), 100);
            assert!(page["links"]["next"].is_object());
        }
        pages += 1;
        for item in items {
            assert!(
                seen.insert(item["id"].as_str().expect("id").to_owned()),
                "duplicate user"
            );
        }
        let Some(next) = page["links"].get("next") else {
            break;
        };
        url = format!(
            "{}/v1{}",
            fake.base_url(),
            next["uri"].as_str().expect("uri")
        );
        headers.truncate(1);
        for header in next["headers"].as_array().expect("headers") {
            headers.push((
                header["key"].as_str().expect("key").into(),
                header["value"].as_str().expect("value").into(),
            ));
        }
    }
    assert_eq!(seen.len(), 1000);
    assert_eq!(pages, 10);
}

#[tokio::test]
async fn twenty_thousand_users_exactly_once_through_every_fault() {
    let users = generate_users(20_000, 3, DOMAIN);
    let expected = active_ids(&users);
    let faults = Faults {
        throttle_every: Some(7),
        retry_after_secs: 0,
        unavailable_every: Some(10),
        unavailable_burst: 2,
        close_mid_body_every: Some(5),
        ..Faults::default()
    };
    let fake = start(users, faults).await;
    let listed: Vec<CustomerUser> = client_of(&fake)
        .get_customer_users(DEFAULT_CUSTOMER)
        .size(500)
        .stream()
        .try_collect()
        .await
        .expect("listing");
    assert_eq!(ids(&listed), expected, "every user exactly once, in order");
    let requests = fake.requests();
    let correlation = requests[0]
        .header("ms-correlationid")
        .expect("correlation id")
        .to_owned();
    assert!(
        requests
            .iter()
            .all(|r| r.header("ms-correlationid") == Some(correlation.as_str()))
    );
    assert!(
        requests.len() > 40,
        "faults made the client retry: {} requests for 40 pages",
        requests.len()
    );
}

#[tokio::test]
async fn v1_links_and_sorting_and_deleted_users() {
    let users = generate_users(1_500, 11, DOMAIN);
    let mut by_name: Vec<FakeUser> = users.iter().filter(|u| !u.is_inactive()).cloned().collect();
    by_name.sort_by_cached_key(|u| std::cmp::Reverse(u.display_name.to_lowercase()));
    let deleted: Vec<String> = users
        .iter()
        .filter(|u| u.is_inactive())
        .map(|u| u.id.clone())
        .collect();
    assert!(!deleted.is_empty());
    let fake = FakePartnerCenter::builder()
        .customer(DEFAULT_CUSTOMER, users)
        .v1_links(true)
        .start()
        .await
        .expect("fake");
    let client = client_of(&fake);
    let sorted: Vec<CustomerUser> = client
        .get_customer_users(DEFAULT_CUSTOMER)
        .size(200)
        .sort_field("DisplayName")
        .sort_direction(SortDirection::Descending)
        .stream()
        .try_collect()
        .await
        .expect("sorted listing");
    let names: Vec<String> = sorted
        .iter()
        .map(|u| u.display_name.clone().unwrap_or_default().to_lowercase())
        .collect();
    let expected: Vec<String> = by_name
        .iter()
        .map(|u| u.display_name.to_lowercase())
        .collect();
    assert_eq!(names.len(), expected.len());
    assert!(names == expected, "not sorted by display name, descending");
    let inactive: Vec<CustomerUser> = client
        .get_customer_users(DEFAULT_CUSTOMER)
        .filter(pc_api::types::UserFilter::deleted_users())
        .stream()
        .try_collect()
        .await
        .expect("deleted users");
    assert_eq!(ids(&inactive), deleted);
    assert!(inactive.iter().all(|u| u.state == Some(UserState::Inactive)
        && u.soft_deletion_time.as_ref().is_some_and(|t| t.is_valid())));
    assert!(
        fake.requests()
            .iter()
            .skip(1)
            .all(|r| r.path.starts_with("/v1/customers/"))
    );
}

#[tokio::test]
async fn an_expiring_token_is_refreshed_by_a_provider() {
    let faults = Faults {
        token_expires_after: Some(2),
        ..Faults::default()
    };
    let users = generate_users(1_000, 5, DOMAIN);
    let expected = active_ids(&users);
    let fake = start(users, faults).await;
    // A fixed token expires after two requests: the third page fails with 401.
    let results: Vec<Result<CustomerUser, pc_api::Error>> = futures::StreamExt::collect(
        client_of(&fake)
            .get_customer_users(DEFAULT_CUSTOMER)
            .stream(),
    )
    .await;
    let error = results.last().and_then(|r| r.as_ref().err()).expect("401");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.page(), Some(3));
    assert!(error.resume_token().is_some());
    // A provider that refreshes the token every two requests lists everything.
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = pc_api::Client::builder()
        .base_url(fake.base_url())
        .token_provider(move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { Ok::<_, pc_api::BoxError>(Secret::from(format!("token-{}", n / 2))) }
        })
        .build()
        .expect("client");
    let listed: Vec<CustomerUser> = client
        .get_customer_users(DEFAULT_CUSTOMER)
        .stream()
        .try_collect()
        .await
        .expect("listing");
    assert_eq!(ids(&listed), expected);
}

#[tokio::test]
async fn resume_after_a_failure_lists_exactly_the_rest() {
    let faults = Faults {
        token_expires_after: Some(4),
        ..Faults::default()
    };
    let users = generate_users(1_000, 9, DOMAIN);
    let expected = active_ids(&users);
    let fake = start(users, faults).await;
    let mut listed = Vec::new();
    let mut stream = client_of(&fake)
        .get_customer_users(DEFAULT_CUSTOMER)
        .size(200)
        .stream();
    let error = loop {
        match stream.try_next().await {
            Ok(Some(user)) => listed.push(user),
            Ok(None) => panic!("the token should have expired"),
            Err(error) => break error,
        }
    };
    assert_eq!(error.page(), Some(5));
    assert_eq!(listed.len(), 800);
    let token = error.resume_token().cloned().expect("resume token");
    let client = pc_api::Client::builder()
        .base_url(fake.base_url())
        .bearer_token("a-fresh-token")
        .build()
        .expect("client");
    let rest: Vec<CustomerUser> = client
        .get_customer_users(DEFAULT_CUSTOMER)
        .resume(token)
        .stream()
        .try_collect()
        .await
        .expect("rest");
    listed.extend(rest);
    assert_eq!(ids(&listed), expected);
}

#[tokio::test]
async fn slow_responses_time_out_and_are_retried_then_fail() {
    let faults = Faults {
        delay: Some(Duration::from_millis(400)),
        ..Faults::default()
    };
    let fake = start(generate_users(10, 1, DOMAIN), faults).await;
    let client = pc_api::Client::builder()
        .base_url(fake.base_url())
        .bearer_token("t")
        .timeout(Duration::from_millis(100))
        .retry_policy(
            RetryPolicy::new()
                .max_retries(1)
                .initial_backoff(Duration::from_millis(1)),
        )
        .build()
        .expect("client");
    let error = client
        .get_customer_users(DEFAULT_CUSTOMER)
        .send()
        .await
        .expect_err("timeout");
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(error.attempts(), 2);
}

#[tokio::test]
async fn the_fake_refuses_non_loopback_addresses() {
    let error = FakePartnerCenter::builder()
        .addr("0.0.0.0:0".parse().expect("addr"))
        .start()
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("loopback"), "{error}");
}

#[tokio::test]
async fn the_fake_stops_when_dropped() {
    let fake = start(generate_users(10, 1, DOMAIN), Faults::default()).await;
    let addr = fake.addr();
    drop(fake);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// Sends a raw request with a JSON body as the bearer `token` (none: no
/// `Authorization`) and returns status and body.
async fn send_as(
    token: Option<&str>,
    method: reqwest::Method,
    url: &str,
    body: Option<serde_json::Value>,
) -> (u16, Vec<u8>) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("response");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

/// Sends a raw request with a JSON body and returns status and body.
async fn send(
    method: reqwest::Method,
    url: &str,
    body: Option<serde_json::Value>,
) -> (u16, Vec<u8>) {
    send_as(Some("t"), method, url, body).await
}

/// A body as JSON, without its BOM.
fn json_of(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)).expect("json")
}

/// A second customer with an explicit company, one that removed the
/// partner and a deleted one.
const FABRIKAM: &str = "0f6c1e2a-5d5e-4b7a-9a51-2f7a6c1d9e01";
const FORMER: &str = "2c9d8e7f-1111-4111-8111-111111111111";
const GONE: &str = "7e1b6a53-2222-4222-8222-222222222222";
const APP_ONLY: &str = "This resource can't be accessed by application credentials.";
const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
const E5: &str = "c7df2760-2c81-4ef7-b578-5b5392b571df";

/// A fake with [`DEFAULT_CUSTOMER`] (`users` users of contoso), Fabrikam,
/// a customer without a relationship, a deleted one and the App-only token
/// `app-only`.
async fn partner(users: usize) -> FakePartnerCenter {
    FakePartnerCenter::builder()
        .customer(DEFAULT_CUSTOMER, generate_users(users, 2, DOMAIN))
        .customer(FABRIKAM, generate_users(5, 3, "fabrikam.onmicrosoft.com"))
        .company(FABRIKAM, "Fabrikam, Inc.", "fabrikam.onmicrosoft.com")
        .customer(FORMER, Vec::new())
        .without_relationship(FORMER)
        .customer(GONE, Vec::new())
        .deleted_customer(GONE)
        .app_only_token("app-only")
        .bom(true)
        .start()
        .await
        .expect("fake starts")
}

/// The `operationId`s of the spec.
fn spec_operations() -> std::collections::BTreeSet<String> {
    support::fixture("../../spec/partner-center.yaml")
        .lines()
        .filter_map(|line| line.trim().strip_prefix("operationId:"))
        .map(|id| id.trim().to_owned())
        .collect()
}

#[tokio::test]
async fn every_operation_of_the_fake_answers_per_the_spec() {
    use reqwest::Method;
    let validator = SpecValidator::from_yaml(&support::fixture("../../spec/partner-center.yaml"))
        .expect("spec");
    let fake = partner(50).await;
    let root = format!("{}/v1/customers", fake.base_url());
    let base = format!("{root}/{DEFAULT_CUSTOMER}");
    let role = USER_ADMINISTRATOR;
    let e5 = E5;
    let checked = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let check = |operation: &'static str, expected: u16, (status, body): (u16, Vec<u8>)| {
        assert_eq!(
            status,
            expected,
            "{operation}: {}",
            String::from_utf8_lossy(&body)
        );
        validator
            .check_response(operation, status, &body)
            .unwrap_or_else(|e| panic!("{operation} → {status}: {e:?}"));
        checked.borrow_mut().insert(operation.to_owned());
        body
    };
    // A fault with the documented code (or none) and description.
    let fault = |body: &[u8], code: Option<u64>, description: &str| {
        let fault = json_of(body);
        assert_eq!(fault["code"].as_u64(), code, "{fault}");
        assert_eq!(fault.get("code").is_some(), code.is_some(), "{fault}");
        assert_eq!(fault["description"], description, "{fault}");
    };

    // The partner's customers: all, by company name, by domain, a page at a
    // time; refused filters; App-only tokens accepted.
    let customers = json_of(&check(
        "getCustomers",
        200,
        send(Method::GET, &root, None).await,
    ));
    assert_eq!(customers["totalCount"], 4);
    let filter = |field: &str, value: &str, operator: &str| {
        form(&format!(
            r#"{{"Field":"{field}","Value":"{value}","Operator":"{operator}"}}"#
        ))
    };
    for (query, expected) in [
        (filter("CompanyName", "fAB", "starts_with"), vec![FABRIKAM]),
        (
            filter("Domain", "contoso.", "starts_with"),
            vec![DEFAULT_CUSTOMER],
        ),
        (filter("CompanyName", "Nobody", "starts_with"), vec![]),
        (filter("IndirectReseller", "", "starts_with"), vec![]),
    ] {
        let page = json_of(&check(
            "getCustomers",
            200,
            send(Method::GET, &format!("{root}?filter={query}"), None).await,
        ));
        let ids: Vec<&str> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["id"].as_str().expect("id"))
            .collect();
        assert_eq!(ids, expected, "{query}");
    }
    for query in [
        filter("CompanyName", "Fab", "equals"),
        filter("Name", "Fab", "starts_with"),
        "%7Bnot%20json".to_owned(),
    ] {
        let body = check(
            "getCustomers",
            400,
            send(Method::GET, &format!("{root}?filter={query}"), None).await,
        );
        assert_eq!(json_of(&body)["code"], 800002);
    }
    let first = json_of(&check(
        "getCustomers",
        200,
        send(Method::GET, &format!("{root}?size=3"), None).await,
    ));
    let next = &first["links"]["next"];
    let (status, body) = get(
        &format!(
            "{}/v1{}",
            fake.base_url(),
            next["uri"].as_str().expect("uri")
        ),
        &[
            ("Authorization", "Bearer t"),
            (
                "MS-ContinuationToken",
                next["headers"][0]["value"].as_str().expect("token"),
            ),
        ],
    )
    .await;
    let last = json_of(&check("getCustomers", 200, (status, body)));
    assert_eq!(last["items"][0]["id"], GONE);
    assert!(last["links"].get("next").is_none());
    let body = check(
        "getCustomers",
        401,
        send_as(None, Method::GET, &root, None).await,
    );
    fault(
        &body,
        Some(800001),
        "Partner token is missing or is not a bearer token.",
    );
    check(
        "getCustomers",
        200,
        send_as(Some("app-only"), Method::GET, &root, None).await,
    );

    // One customer; one that removed the partner; a deleted one; an unknown one.
    let customer = json_of(&check(
        "getCustomer",
        200,
        send(Method::GET, &base, None).await,
    ));
    assert_eq!(customer["companyProfile"]["companyName"], "Contoso Ltd.");
    assert_eq!(
        customer["companyProfile"]["domain"],
        "contoso.onmicrosoft.com"
    );
    let body = check(
        "getCustomer",
        403,
        send(Method::GET, &format!("{root}/{FORMER}"), None).await,
    );
    fault(
        &body,
        Some(20002),
        "No relationship between caller and account.",
    );
    for gone in [GONE, "00000000-0000-0000-0000-000000000000"] {
        let body = check(
            "getCustomer",
            404,
            send(Method::GET, &format!("{root}/{gone}"), None).await,
        );
        fault(&body, Some(60003), "Tenant not found.");
    }

    // The tenant's roles and licenses.
    let roles = json_of(&check(
        "getCustomerDirectoryRoles",
        200,
        send(Method::GET, &format!("{base}/directoryroles"), None).await,
    ));
    assert!(
        roles["items"]
            .as_array()
            .expect("roles")
            .iter()
            .any(|r| r["id"] == role && r["name"] == "User Administrator")
    );
    check(
        "getCustomerDirectoryRoles",
        403,
        send(
            Method::GET,
            &format!("{root}/{FORMER}/directoryroles"),
            None,
        )
        .await,
    );
    check(
        "getCustomerDirectoryRoles",
        404,
        send(Method::GET, &format!("{root}/{GONE}/directoryroles"), None).await,
    );
    check(
        "getCustomerSubscribedSkus",
        200,
        send(Method::GET, &format!("{base}/subscribedskus"), None).await,
    );
    check(
        "getCustomerSubscribedSkus",
        200,
        send(
            Method::GET,
            &format!("{base}/subscribedskus?licenseGroupIds=Group1&licenseGroupIds=group2"),
            None,
        )
        .await,
    );
    check(
        "getCustomerSubscribedSkus",
        400,
        send(
            Method::GET,
            &format!("{base}/subscribedskus?licenseGroupIds=group3"),
            None,
        )
        .await,
    );
    check(
        "getCustomerSubscribedSkus",
        404,
        send(Method::GET, &format!("{root}/{GONE}/subscribedskus"), None).await,
    );

    // The users, with the documented errors.
    check(
        "getCustomerUsers",
        200,
        send(Method::GET, &format!("{base}/users?size=0"), None).await,
    );
    let body = check(
        "getCustomerUsers",
        403,
        send(Method::GET, &format!("{root}/{FORMER}/users"), None).await,
    );
    fault(
        &body,
        Some(20002),
        "No relationship between caller and account.",
    );
    let body = check(
        "getCustomerUsers",
        404,
        send(Method::GET, &format!("{root}/{GONE}/users"), None).await,
    );
    fault(&body, Some(60003), "Tenant not found.");
    let body = check(
        "getCustomerUsers",
        401,
        send_as(None, Method::GET, &format!("{base}/users"), None).await,
    );
    fault(
        &body,
        Some(800001),
        "Partner token is missing or is not a bearer token.",
    );

    let user = serde_json::json!({ "userPrincipalName": "new@contoso.onmicrosoft.com", "displayName": "New", "passwordProfile": { "forceChangePassword": true, "password": "x" }, "attributes": { "objectType": "CustomerUser" } });
    let created = check(
        "createCustomerUser",
        201,
        send(Method::POST, &format!("{base}/users"), Some(user.clone())).await,
    );
    let id = json_of(&created)["id"].as_str().expect("id").to_owned();
    check(
        "createCustomerUser",
        409,
        send(Method::POST, &format!("{base}/users"), Some(user)).await,
    );
    check(
        "createCustomerUser",
        400,
        send(
            Method::POST,
            &format!("{base}/users"),
            Some(serde_json::json!({ "displayName": 7 })),
        )
        .await,
    );
    let user_url = format!("{base}/users/{id}");
    check(
        "getCustomerUser",
        200,
        send(Method::GET, &user_url, None).await,
    );
    let someone = generate_users(50, 2, DOMAIN)
        .into_iter()
        .find(|u| !u.is_inactive())
        .expect("a user")
        .id;
    let taken = serde_json::json!({ "userPrincipalName": "new@contoso.onmicrosoft.com" });
    check(
        "updateCustomerUser",
        409,
        send(
            Method::PATCH,
            &format!("{base}/users/{someone}"),
            Some(taken),
        )
        .await,
    );
    let huge = serde_json::json!({ "displayName": "x".repeat(2 * 1024 * 1024) });
    check(
        "updateCustomerUser",
        413,
        send(Method::PATCH, &user_url, Some(huge)).await,
    );
    let body = check(
        "getCustomerUser",
        404,
        send(Method::GET, &format!("{base}/users/nobody"), None).await,
    );
    fault(&body, Some(60002), "User object Id is not found.");
    check(
        "updateCustomerUser",
        200,
        send(
            Method::PATCH,
            &user_url,
            Some(serde_json::json!({ "DisplayName": "Renamed", "Attributes": { "ObjectType": "CustomerUser" } })),
        )
        .await,
    );
    check(
        "updateCustomerUser",
        400,
        send(
            Method::PATCH,
            &user_url,
            Some(serde_json::json!({ "state": "sleeping" })),
        )
        .await,
    );
    check(
        "updateCustomerUserLicenses",
        201,
        send(
            Method::POST,
            &format!("{user_url}/licenseupdates"),
            Some(serde_json::json!({ "licensesToAssign": [{ "skuId": e5 }], "attributes": { "objectType": "LicenseUpdate" } })),
        )
        .await,
    );
    check(
        "getCustomerUserLicenses",
        200,
        send(
            Method::GET,
            &format!("{user_url}/licenses?licenseGroupIds=Group1"),
            None,
        )
        .await,
    );
    check(
        "getCustomerUserLicenses",
        404,
        send(Method::GET, &format!("{base}/users/nobody/licenses"), None).await,
    );
    check(
        "addUserToDirectoryRole",
        201,
        send(
            Method::POST,
            &format!("{base}/directoryroles/{role}/usermembers"),
            Some(serde_json::json!({ "Id": id, "Attributes": { "ObjectType": "UserMember" } })),
        )
        .await,
    );
    check(
        "addUserToDirectoryRole",
        404,
        send(
            Method::POST,
            &format!("{base}/directoryroles/nope/usermembers"),
            Some(serde_json::json!({ "Id": id })),
        )
        .await,
    );
    let members = json_of(&check(
        "getCustomerDirectoryRoleUserMembers",
        200,
        send(
            Method::GET,
            &format!("{base}/directoryroles/{role}/usermembers?size=0"),
            None,
        )
        .await,
    ));
    assert_eq!(members["items"][0]["id"], id.as_str());
    assert_eq!(members["items"][0]["roleId"], role);
    check(
        "getCustomerDirectoryRoleUserMembers",
        404,
        send(
            Method::GET,
            &format!("{base}/directoryroles/nope/usermembers"),
            None,
        )
        .await,
    );
    check(
        "getCustomerDirectoryRoleUserMembers",
        400,
        send(
            Method::GET,
            &format!("{base}/directoryroles/{role}/usermembers?size=-1"),
            None,
        )
        .await,
    );
    check(
        "getCustomerUserDirectoryRoles",
        200,
        send(Method::GET, &format!("{user_url}/directoryroles"), None).await,
    );
    check(
        "removeUserFromDirectoryRole",
        204,
        send(
            Method::DELETE,
            &format!("{base}/directoryroles/{role}/usermembers/{id}"),
            None,
        )
        .await,
    );
    check(
        "removeUserFromDirectoryRole",
        404,
        send(
            Method::DELETE,
            &format!("{base}/directoryroles/{role}/usermembers/{id}"),
            None,
        )
        .await,
    );

    // App-only tokens: 403 without a code on every customer-user operation.
    let app_only: [(&'static str, Method, String, Option<serde_json::Value>); 11] = [
        (
            "getCustomerUsers",
            Method::GET,
            format!("{base}/users"),
            None,
        ),
        (
            "createCustomerUser",
            Method::POST,
            format!("{base}/users"),
            Some(serde_json::json!({ "userPrincipalName": "app@contoso.onmicrosoft.com" })),
        ),
        ("getCustomerUser", Method::GET, user_url.clone(), None),
        (
            "updateCustomerUser",
            Method::PATCH,
            user_url.clone(),
            Some(serde_json::json!({ "displayName": "App" })),
        ),
        ("deleteCustomerUser", Method::DELETE, user_url.clone(), None),
        (
            "getCustomerUserDirectoryRoles",
            Method::GET,
            format!("{user_url}/directoryroles"),
            None,
        ),
        (
            "getCustomerUserLicenses",
            Method::GET,
            format!("{user_url}/licenses"),
            None,
        ),
        (
            "updateCustomerUserLicenses",
            Method::POST,
            format!("{user_url}/licenseupdates"),
            Some(serde_json::json!({ "licensesToAssign": [] })),
        ),
        (
            "getCustomerDirectoryRoleUserMembers",
            Method::GET,
            format!("{base}/directoryroles/{role}/usermembers"),
            None,
        ),
        (
            "addUserToDirectoryRole",
            Method::POST,
            format!("{base}/directoryroles/{role}/usermembers"),
            Some(serde_json::json!({ "id": id })),
        ),
        (
            "removeUserFromDirectoryRole",
            Method::DELETE,
            format!("{base}/directoryroles/{role}/usermembers/{id}"),
            None,
        ),
    ];
    for (operation, method, url, body) in app_only {
        let body = check(
            operation,
            403,
            send_as(Some("app-only"), method, &url, body).await,
        );
        fault(&body, None, APP_ONLY);
    }
    for (operation, url) in [
        ("getCustomer", base.clone()),
        (
            "getCustomerDirectoryRoles",
            format!("{base}/directoryroles"),
        ),
        (
            "getCustomerSubscribedSkus",
            format!("{base}/subscribedskus"),
        ),
    ] {
        check(
            operation,
            200,
            send_as(Some("app-only"), Method::GET, &url, None).await,
        );
    }

    check(
        "deleteCustomerUser",
        204,
        send(Method::DELETE, &user_url, None).await,
    );
    check(
        "deleteCustomerUser",
        404,
        send(Method::DELETE, &user_url, None).await,
    );
    check("updateCustomerUser", 200, send(Method::PATCH, &user_url, Some(serde_json::json!({ "State": "active", "Attributes": { "ObjectType": "CustomerUser" } }))).await);
    let others: Vec<String> = generate_users(50, 2, DOMAIN)
        .into_iter()
        .filter(|u| !u.is_inactive())
        .map(|u| u.id)
        .take(3)
        .collect();
    for other in &others[..2] {
        check(
            "updateCustomerUserLicenses",
            201,
            send(
                Method::POST,
                &format!("{base}/users/{other}/licenseupdates"),
                Some(serde_json::json!({ "licensesToAssign": [{ "skuId": e5 }] })),
            )
            .await,
        );
    }
    let body = check(
        "updateCustomerUserLicenses",
        400,
        send(
            Method::POST,
            &format!("{base}/users/{}/licenseupdates", others[2]),
            Some(serde_json::json!({ "licensesToAssign": [{ "skuId": e5 }] })),
        )
        .await,
    );
    assert_eq!(json_of(&body)["code"], 60012);
    assert_eq!(
        checked.into_inner(),
        spec_operations(),
        "every operation of the spec was checked"
    );
}

fn client_with_token(fake: &FakePartnerCenter, token: &str) -> pc_api::Client {
    pc_api::Client::builder()
        .base_url(fake.base_url())
        .bearer_token(token)
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("client")
}

/// The documented faults, as the client sees them: status, code and
/// description; and the App-only 403, whose code the notes do not give.
#[tokio::test]
async fn the_documented_errors_of_the_fake() {
    let fake = partner(20).await;
    let client = client_with_token(&fake, "t");
    let error = client
        .get_customer_users(FORMER)
        .send()
        .await
        .expect_err("no relationship");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(error.code().as_deref(), Some("20002"));
    assert_eq!(
        error.message(),
        Some("No relationship between caller and account.")
    );
    let error = client
        .get_customer(FORMER)
        .send()
        .await
        .expect_err("no relationship");
    assert_eq!(error.code().as_deref(), Some("20002"));
    for gone in [GONE, "11111111-1111-1111-1111-111111111111"] {
        let error = client
            .get_customer_subscribed_skus(gone)
            .send()
            .await
            .expect_err("tenant not found");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
        assert_eq!(error.code().as_deref(), Some("60003"));
        assert_eq!(error.message(), Some("Tenant not found."));
    }
    let error = client
        .get_customer_user_licenses(DEFAULT_CUSTOMER, "nobody")
        .send()
        .await
        .expect_err("user not found");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(error.code().as_deref(), Some("60002"));
    // The customer that removed the partner is still listed, without
    // delegated access; the deleted one too.
    let listed: Vec<pc_api::types::Customer> = client
        .get_customers()
        .stream()
        .try_collect()
        .await
        .expect("customers");
    let former = listed
        .iter()
        .find(|c| c.id.as_deref() == Some(FORMER))
        .expect("listed");
    assert_eq!(former.allow_delegated_access, Some(false));
    assert!(listed.iter().any(|c| c.id.as_deref() == Some(GONE)));

    // App-only: the customers, yes; their users, no.
    let app = client_with_token(&fake, "app-only");
    let customers = app.get_customers().send().await.expect("customers");
    assert_eq!(customers.items.len(), 4);
    let error = app
        .get_customer_users(DEFAULT_CUSTOMER)
        .send()
        .await
        .expect_err("app-only");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(error.code(), None, "the notes give no code");
    assert_eq!(error.message(), Some(APP_ONLY));
    let error = app
        .get_customer_directory_role_user_members(DEFAULT_CUSTOMER, USER_ADMINISTRATOR)
        .send()
        .await
        .expect_err("app-only");
    assert_eq!(error.message(), Some(APP_ONLY));

    // No bearer token at all: 401 with 800001.
    let (status, body) = get(&format!("{}/v1/customers", fake.base_url()), &[]).await;
    assert_eq!(status, 401);
    assert_eq!(json_of(&body)["code"], 800001);

    // Builder marks must name customers that were added.
    let error = FakePartnerCenter::builder()
        .deleted_customer("never-added")
        .start()
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("never-added"), "{error}");
}

/// `size=0` asks for the default page (100) on every paged endpoint; a
/// negative size is refused; above the fake's maximum (500) too.
#[tokio::test]
async fn size_zero_is_the_default_page_everywhere() {
    let mut builder =
        FakePartnerCenter::builder().customer(DEFAULT_CUSTOMER, generate_users(150, 4, DOMAIN));
    for n in 0..120 {
        builder = builder.customer(format!("00000000-0000-4000-8000-{n:012}"), Vec::new());
    }
    let fake = builder.start().await.expect("fake");
    let client = client_with_token(&fake, "t");
    let users = client
        .get_customer_users(DEFAULT_CUSTOMER)
        .size(200)
        .stream();
    let users: Vec<CustomerUser> = users.try_collect().await.expect("users");
    for user in &users[..110] {
        let member = pc_api::types::UserMember {
            id: user.id.clone(),
            ..Default::default()
        };
        client
            .add_user_to_directory_role(DEFAULT_CUSTOMER, USER_ADMINISTRATOR, member)
            .send()
            .await
            .expect("added");
    }
    let page = client
        .get_customer_users(DEFAULT_CUSTOMER)
        .size(0)
        .send()
        .await
        .expect("users");
    assert_eq!(page.items.len(), 100);
    let page = client
        .get_customers()
        .size(0)
        .send()
        .await
        .expect("customers");
    assert_eq!(page.items.len(), 100);
    let page = client
        .get_customer_directory_role_user_members(DEFAULT_CUSTOMER, USER_ADMINISTRATOR)
        .size(0)
        .send()
        .await
        .expect("members");
    assert_eq!(page.items.len(), 100);
    let members: Vec<pc_api::types::UserMember> = client
        .get_customer_directory_role_user_members(DEFAULT_CUSTOMER, USER_ADMINISTRATOR)
        .size(0)
        .stream()
        .try_collect()
        .await
        .expect("members");
    assert_eq!(members.len(), 110);
    let base = format!("{}/v1/customers", fake.base_url());
    for path in [
        base.clone(),
        format!("{base}/{DEFAULT_CUSTOMER}/users"),
        format!("{base}/{DEFAULT_CUSTOMER}/directoryroles/{USER_ADMINISTRATOR}/usermembers"),
    ] {
        for size in ["-1", "501"] {
            let (status, body) = get(
                &format!("{path}?size={size}"),
                &[("Authorization", "Bearer t")],
            )
            .await;
            assert_eq!(status, 400, "{path}?size={size}");
            assert_eq!(json_of(&body)["code"], 800002);
        }
    }
}

/// License groups: lowercase in responses, any case in `licenseGroupIds`;
/// a user's plans are `Assigned`, a subscribed SKU's `Enabled`.
#[tokio::test]
async fn license_groups_are_lowercase_and_read_in_any_case() {
    use pc_api::types::{CapabilityStatus, LicenseAssignment, LicenseGroupId, LicenseUpdate};
    let fake = partner(10).await;
    let client = client_with_token(&fake, "t");
    let someone = generate_users(10, 2, DOMAIN)
        .into_iter()
        .find(|u| !u.is_inactive())
        .expect("a user");
    let user = someone.id;
    let update = LicenseUpdate {
        licenses_to_assign: vec![LicenseAssignment {
            sku_id: Some(E5.to_owned()),
            excluded_plans: Vec::new(),
        }],
        ..LicenseUpdate::default()
    };
    // `licenseupdates` takes the user principal name as well as the id.
    client
        .update_customer_user_licenses(DEFAULT_CUSTOMER, &someone.user_principal_name, update)
        .send()
        .await
        .expect("assigned");
    for group in ["Group1", "group1", "GROUP1"] {
        let licenses = client
            .get_customer_user_licenses(DEFAULT_CUSTOMER, &user)
            .license_group_ids([group])
            .send()
            .await
            .expect("licenses");
        assert_eq!(licenses.items.len(), 1, "{group}");
        let sku = licenses.items[0].product_sku.as_ref().expect("sku");
        assert_eq!(sku.license_group_id, Some(LicenseGroupId::Group1));
        assert!(
            licenses.items[0]
                .service_plans
                .iter()
                .all(|p| p.capability_status == Some(CapabilityStatus::Assigned))
        );
        let skus = client
            .get_customer_subscribed_skus(DEFAULT_CUSTOMER)
            .license_group_ids([group])
            .send()
            .await
            .expect("skus");
        assert_eq!(skus.items.len(), 2, "{group}");
        assert!(skus.items.iter().all(|s| {
            s.product_sku
                .as_ref()
                .and_then(|p| p.license_group_id.clone())
                == Some(LicenseGroupId::Group1)
                && s.service_plans
                    .iter()
                    .all(|p| p.capability_status == Some(CapabilityStatus::Enabled))
        }));
    }
    let (_, body) = get(
        &format!(
            "{}/v1/customers/{DEFAULT_CUSTOMER}/users/{user}/licenses",
            fake.base_url()
        ),
        &[("Authorization", "Bearer t")],
    )
    .await;
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains(r#""licenseGroupId":"group1""#), "{text}");
    let minecraft = client
        .get_customer_subscribed_skus(DEFAULT_CUSTOMER)
        .license_group_ids(["Group2"])
        .send()
        .await
        .expect("skus");
    assert_eq!(minecraft.items.len(), 1);
}

/// A license warning carries its text in `message`, not `description`.
#[tokio::test]
async fn license_warnings_carry_a_message() {
    use pc_api::types::{LicenseAssignment, LicenseUpdate};
    let fake = partner(10).await;
    let client = client_with_token(&fake, "t");
    let user = generate_users(10, 2, DOMAIN)
        .into_iter()
        .find(|u| !u.is_inactive())
        .expect("a user")
        .id;
    let plan = "00000000-0000-0000-0000-00000000beef";
    let update = LicenseUpdate {
        licenses_to_assign: vec![LicenseAssignment {
            sku_id: Some(E5.to_owned()),
            excluded_plans: vec![plan.to_owned()],
        }],
        ..LicenseUpdate::default()
    };
    fake.clear_requests();
    let applied = client
        .update_customer_user_licenses(DEFAULT_CUSTOMER, &user, update)
        .send()
        .await
        .expect("assigned");
    assert_eq!(applied.license_warnings.len(), 1);
    let warning = &applied.license_warnings[0];
    assert!(
        warning.message.as_deref().is_some_and(|m| m.contains(plan)),
        "{warning:?}"
    );
    assert_eq!(warning.service_plans, [plan]);
    // On the wire: `message`, never `description`.
    let (status, body) = send(
        reqwest::Method::POST,
        &format!(
            "{}/v1/customers/{DEFAULT_CUSTOMER}/users/{user}/licenseupdates",
            fake.base_url()
        ),
        Some(serde_json::json!({ "licensesToAssign": [{ "skuId": E5, "excludedPlans": [plan] }] })),
    )
    .await;
    assert_eq!(status, 201);
    let warning = &json_of(&body)["licenseWarnings"][0];
    assert!(warning["message"].is_string(), "{warning}");
    assert!(warning.get("description").is_none(), "{warning}");
}

/// Customers are found by a prefix of their company name or domain, in any
/// case, and listed page by page with relative or `/v1` next links.
#[tokio::test]
async fn customers_are_found_by_name_or_domain_and_paged() {
    use pc_api::types::{CustomerFilter, CustomerSearchField, FieldFilterOperation};
    let mut builder = FakePartnerCenter::builder().v1_links(true);
    for n in 0..25 {
        let id = format!("00000000-0000-4000-8000-{n:012}");
        let (name, domain) = if n % 5 == 0 {
            (
                format!("Contoso Branch {n}"),
                format!("contoso{n}.onmicrosoft.com"),
            )
        } else {
            (
                format!("Northwind {n}"),
                format!("northwind{n}.onmicrosoft.com"),
            )
        };
        builder = builder
            .customer(id.clone(), Vec::new())
            .company(id, name, domain);
    }
    // Without `company`, the name and domain come from the users.
    builder = builder.customer(FABRIKAM, generate_users(3, 1, "fabrikam.onmicrosoft.com"));
    let fake = builder.start().await.expect("fake");
    let client = client_with_token(&fake, "t");
    let all: Vec<pc_api::types::Customer> = client
        .get_customers()
        .size(4)
        .stream()
        .try_collect()
        .await
        .expect("customers");
    assert_eq!(all.len(), 26);
    let fabrikam = all
        .last()
        .and_then(|c| c.company_profile.clone())
        .expect("profile");
    assert_eq!(fabrikam.company_name.as_deref(), Some("Fabrikam Ltd."));
    assert_eq!(fabrikam.domain.as_deref(), Some("fabrikam.onmicrosoft.com"));
    assert_eq!(fabrikam.tenant_id.as_deref(), Some(FABRIKAM));
    let search = |field, value: &str| CustomerFilter {
        field,
        value: value.to_owned(),
        operator: FieldFilterOperation::StartsWith,
    };
    let names = |customers: Vec<pc_api::types::Customer>| -> Vec<String> {
        customers
            .into_iter()
            .filter_map(|c| c.company_profile.and_then(|p| p.company_name))
            .collect()
    };
    // Two pages of a filtered listing: the filter holds on the second.
    let contoso: Vec<pc_api::types::Customer> = client
        .get_customers()
        .size(3)
        .filter(search(CustomerSearchField::CompanyName, "CONTOSO b"))
        .stream()
        .try_collect()
        .await
        .expect("contoso");
    assert_eq!(
        names(contoso),
        [
            "Contoso Branch 0",
            "Contoso Branch 5",
            "Contoso Branch 10",
            "Contoso Branch 15",
            "Contoso Branch 20"
        ]
    );
    let by_domain: Vec<pc_api::types::Customer> = client
        .get_customers()
        .filter(search(CustomerSearchField::Domain, "northwind1"))
        .stream()
        .try_collect()
        .await
        .expect("northwind1");
    assert_eq!(by_domain.len(), 9, "northwind1 and northwind11..19 but 15");
    let error = client
        .get_customers()
        .filter(CustomerFilter {
            operator: FieldFilterOperation::Equals,
            ..search(CustomerSearchField::CompanyName, "Contoso")
        })
        .send()
        .await
        .expect_err("only starts_with");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(error.code().as_deref(), Some("800002"));
    assert!(
        fake.requests().iter().all(|r| r.path == "/v1/customers"),
        "the /v1 next links are followed as given"
    );
}
