//! `pc-fake` against the spec and against the real client: every body it
//! sends conforms to the spec's schemas, and `pc-api` lists its tenants
//! exactly, through every fault it can inject.

use crate::support;

use std::time::Duration;

use futures::TryStreamExt;
use pc_api::types::{CustomerUser, SortDirection, UserState};
use pc_api::{ErrorKind, RetryPolicy, Secret};
use pc_fake::{DEFAULT_CUSTOMER, FakePartnerCenter, FakeUser, Faults, generate_users};
use pc_tests::SpecValidator;

const DOMAIN: &str = "contoso.onmicrosoft.com";

fn active_ids(users: &[FakeUser]) -> Vec<String> {
    users
        .iter()
        .filter(|u| !u.is_inactive())
        .map(|u| u.id.clone())
        .collect()
}

fn ids(users: &[CustomerUser]) -> Vec<String> {
    users
        .iter()
        .map(|u| u.id.clone().unwrap_or_default())
        .collect()
}

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

/// Sends a raw request with a JSON body and returns status and body.
async fn send(
    method: reqwest::Method,
    url: &str,
    body: Option<serde_json::Value>,
) -> (u16, Vec<u8>) {
    let mut request = reqwest::Client::new()
        .request(method, url)
        .header("Authorization", "Bearer t");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("response");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn every_operation_of_the_fake_answers_per_the_spec() {
    use reqwest::Method;
    let validator = SpecValidator::from_yaml(&support::fixture("../../spec/partner-center.yaml"))
        .expect("spec");
    let fake = start(generate_users(50, 2, DOMAIN), Faults::default()).await;
    let base = format!("{}/v1/customers/{DEFAULT_CUSTOMER}", fake.base_url());
    let role = "fe930be7-5e62-47db-91af-98c3a49a38b1";
    let e5 = "c7df2760-2c81-4ef7-b578-5b5392b571df";
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
        body
    };
    let user = serde_json::json!({ "userPrincipalName": "new@contoso.onmicrosoft.com", "displayName": "New", "passwordProfile": { "forceChangePassword": true, "password": "x" } });
    let created = check(
        "createCustomerUser",
        201,
        send(Method::POST, &format!("{base}/users"), Some(user.clone())).await,
    );
    let id = serde_json::from_slice::<serde_json::Value>(
        created.strip_prefix(b"\xEF\xBB\xBF").expect("BOM"),
    )
    .expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
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
    check(
        "getCustomerUser",
        404,
        send(Method::GET, &format!("{base}/users/nobody"), None).await,
    );
    check(
        "updateCustomerUser",
        200,
        send(
            Method::PATCH,
            &user_url,
            Some(serde_json::json!({ "DisplayName": "Renamed" })),
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
            Some(serde_json::json!({ "licensesToAssign": [{ "skuId": e5 }] })),
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
        "addUserToDirectoryRole",
        201,
        send(
            Method::POST,
            &format!("{base}/directoryroles/{role}/usermembers"),
            Some(serde_json::json!({ "Id": id })),
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
    check(
        "updateCustomerUserLicenses",
        400,
        send(
            Method::POST,
            &format!("{base}/users/{}/licenseupdates", others[2]),
            Some(serde_json::json!({ "licensesToAssign": [{ "skuId": e5 }] })),
        )
        .await,
    );
}
