//! Wire tests: the real client against a mock Partner Center on 127.0.0.1.
//! Each asserts the exact requests the server saw, then the decoded result.

use crate::support;

use crate::support::{CUSTOMER, TOKEN, client, fixture, json, redactions, requests, serve};
use insta::{assert_debug_snapshot, assert_snapshot};
use pc_api::types::{SeekOperation, SortDirection, UserDomainType, UserState};
use pc_api::{ErrorBody, ErrorKind};
use wiremock::ResponseTemplate;

fn bom(body: &str) -> Vec<u8> {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// Asserts that nothing a test could print of an error shows the token.
fn assert_no_secret(error: &pc_api::Error) {
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains(TOKEN), "token leaked: {text}");
    }
}

#[tokio::test]
async fn documented_example_response() {
    let server = serve(json(200, bom(&fixture("responses/documented-users.json")))).await;
    let page = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("page");
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("documented_example_request", requests(&server).await);
    assert_eq!(page.status(), 200);
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[1].usage_location, None);
    assert_debug_snapshot!("documented_example_page", page.into_inner());
}

#[tokio::test]
async fn deleted_users_example() {
    let server = serve(json(200, fixture("responses/deleted-users.json"))).await;
    let page = client(&server)
        .get_customer_users(CUSTOMER)
        .size(500)
        .filter(pc_api::types::UserFilter::deleted_users())
        .send()
        .await
        .expect("page");
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("deleted_users_request", requests(&server).await);
    let user = &page.items[0];
    assert_eq!(user.state, Some(UserState::Inactive));
    let deleted = user
        .soft_deletion_time
        .as_ref()
        .and_then(|t| t.to_utc())
        .expect("softDeletionTime");
    assert_eq!(deleted.to_rfc3339(), "2017-01-20T00:33:34+00:00");
}

#[tokio::test]
async fn absent_and_null_fields() {
    let server = serve(json(200, fixture("responses/nulls.json"))).await;
    let page = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("page");
    assert_eq!(page.total_count, None);
    assert_eq!(page.items.len(), 2);
    let (explicit_nulls, absent) = (&page.items[0], &page.items[1]);
    assert_eq!(explicit_nulls.first_name, None);
    assert_eq!(absent.first_name, None);
    assert_eq!(explicit_nulls.state, None);
    assert!(
        page.links
            .as_ref()
            .and_then(|l| l.self_.as_ref())
            .is_some_and(|s| s.headers.is_empty())
    );
    let _guard = redactions().bind_to_scope();
    assert_debug_snapshot!("absent_and_null_fields_page", page.into_inner());
}

#[tokio::test]
async fn unknown_enum_values_unknown_fields_and_bad_dates_keep_the_page() {
    let server = serve(json(200, fixture("responses/drift.json"))).await;
    let page = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("page");
    let first = &page.items[0];
    assert_eq!(first.state, Some(UserState::Unknown("disabled".to_owned())));
    assert_eq!(
        first.user_domain_type,
        Some(UserDomainType::Unknown("hybrid".to_owned()))
    );
    assert_eq!(
        page.items[1].user_domain_type,
        Some(UserDomainType::Federated)
    );
    assert_eq!(page.items[2].state, Some(UserState::Active));
    // 7 fractional digits parse; a malformed date is kept and reads as None.
    let synced = first
        .last_directory_sync_time
        .as_ref()
        .and_then(|t| t.to_utc())
        .expect("sync time");
    assert_eq!(synced.timestamp_subsec_nanos(), 775_393_400);
    assert_eq!(
        first.soft_deletion_time.as_ref().map(|t| t.as_str()),
        Some("not a date")
    );
    assert_eq!(
        first.soft_deletion_time.as_ref().and_then(|t| t.to_utc()),
        None
    );
    assert_eq!(
        page.items[2]
            .last_directory_sync_time
            .as_ref()
            .map(|t| t.as_str()),
        Some("1600000000")
    );
    // Unknown values round-trip.
    let json = serde_json::to_value(&page.items[0]).expect("serialize");
    assert_eq!(json["state"], "disabled");
    assert_eq!(json["userDomainType"], "hybrid");
    let _guard = redactions().bind_to_scope();
    assert_debug_snapshot!("drift_page", page.into_inner());
}

#[tokio::test]
async fn secrets_are_redacted_from_debug() {
    let server = serve(json(200, fixture("responses/drift.json"))).await;
    let client = client(&server);
    let page = client
        .get_customer_users(CUSTOMER)
        .continuation_token("tok/en+=,")
        .send()
        .await
        .expect("page");
    let debug = format!("{:?} {:?}", page.into_inner(), client);
    for secret in ["d19617b8/a4ayc+80=,0d81c700", TOKEN] {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
    let builder = format!(
        "{:?}",
        client
            .get_customer_users(CUSTOMER)
            .continuation_token("tok/en+=,")
    );
    assert!(
        !builder.contains("tok/en+=,") && !builder.contains(TOKEN),
        "{builder}"
    );
    let server = serve(json(200, fixture("responses/nulls.json"))).await;
    let page = client_for(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("page");
    let profile = page.items[0]
        .password_profile
        .as_ref()
        .expect("password profile");
    assert_eq!(
        profile.password.as_ref().map(|p| p.expose_secret()),
        Some("abCD123*")
    );
    let debug = format!("{profile:?}");
    assert!(!debug.contains("abCD123*"), "{debug}");
}

fn client_for(server: &wiremock::MockServer) -> pc_api::Client {
    client(server)
}

#[tokio::test]
async fn every_parameter_on_the_wire() {
    let server = serve(json(200, "{}")).await;
    client(&server)
        .get_customer_users(CUSTOMER)
        .size(250)
        .sort_field("DisplayName")
        .sort_direction(SortDirection::Descending)
        .seek_operation(SeekOperation::Next)
        .filter(pc_api::types::UserFilter::deleted_users())
        .correlation_id("5a3d64d4-4490-4932-bf5e-0dc9a58f27ca")
        .request_id("5d845377-5b7d-4cd4-98f6-19e5ae3faa81")
        .cv("6zmKqrSFB0+t7m3y.0")
        .continuation_token(
            "d19617b8-fbe5,0705c4a9_a4ayc/80/OGda4BO/1o/V0etpOqiLx1JwB5S3beHW0s=,0d81c700",
        )
        .locale("fr-FR")
        .send()
        .await
        .expect("empty page");
    // No redaction: the caller's ids must reach the server unchanged.
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"pc-api/\d+\.\d+\.\d+", "pc-api/[version]");
    settings.set_prepend_module_to_snapshot(false);
    let _guard = settings.bind_to_scope();
    assert_snapshot!("every_parameter_request", requests(&server).await);
}

#[tokio::test]
async fn each_call_gets_a_fresh_request_id() {
    let server = serve(json(200, "{}")).await;
    let client = client(&server);
    client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("first");
    client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("second");
    let received = server.received_requests().await.expect("recording");
    let ids: Vec<_> = received
        .iter()
        .map(|r| {
            r.headers["ms-requestid"]
                .to_str()
                .expect("ascii")
                .to_owned()
        })
        .collect();
    let correlation: Vec<_> = received
        .iter()
        .map(|r| {
            r.headers["ms-correlationid"]
                .to_str()
                .expect("ascii")
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    assert_ne!(correlation[0], correlation[1]);
    for id in ids.iter().chain(&correlation) {
        assert_eq!(uuid_version(id), Some('4'), "{id}");
    }
}

fn uuid_version(id: &str) -> Option<char> {
    (id.len() == 36).then(|| id.chars().nth(14)).flatten()
}

#[tokio::test]
async fn path_parameter_is_encoded_as_one_segment() {
    let server = serve(json(200, "{}")).await;
    client(&server)
        .get_customer_users("a/b c?d#e%f")
        .send()
        .await
        .expect("page");
    let received = server.received_requests().await.expect("recording");
    assert_eq!(
        received[0].url.path(),
        "/v1/customers/a%2Fb%20c%3Fd%23e%25f/users"
    );
    assert_eq!(received[0].url.query(), None);
}

#[tokio::test]
async fn empty_customer_id_fails_before_any_request() {
    let server = serve(json(200, "{}")).await;
    for bad in ["", ".", ".."] {
        let error = client(&server)
            .get_customer_users(bad)
            .send()
            .await
            .expect_err("invalid id");
        assert_eq!(error.kind(), ErrorKind::InvalidRequest);
        assert_eq!(error.status(), None);
        assert!(error.to_string().contains("customer_id"), "{error}");
    }
    assert_eq!(support::request_count(&server).await, 0);
}

#[tokio::test]
async fn header_injection_fails_before_any_request() {
    let server = serve(json(200, "{}")).await;
    let error = client(&server)
        .get_customer_users(CUSTOMER)
        .correlation_id("abc\r\nX-Injected: 1")
        .send()
        .await
        .expect_err("invalid header");
    assert_eq!(error.kind(), ErrorKind::InvalidRequest);
    assert!(error.to_string().contains("MS-CorrelationId"), "{error}");
    assert_eq!(support::request_count(&server).await, 0);
}

#[tokio::test]
async fn not_found_api_fault_with_numeric_code() {
    let body = r#"{"code":60003,"description":"Tenant not found","data":[],"source":"PartnerFD"}"#;
    let server = serve(json(404, bom(body))).await;
    let error = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("404");
    assert_eq!(error.kind(), ErrorKind::Status);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(error.code().as_deref(), Some("60003"));
    assert_eq!(error.message(), Some("Tenant not found"));
    let fault = error
        .body()
        .and_then(ErrorBody::as_api_fault)
        .expect("ApiFault");
    assert_eq!(fault.source.as_deref(), Some("PartnerFD"));
    assert_no_secret(&error);
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("not_found_display", error.to_string());
}

#[tokio::test]
async fn forbidden_api_fault_with_string_code() {
    let body = r#"{"code":"20002","description":"No relationship between caller and account.","data":[{"detail":"x"}]}"#;
    let server = serve(json(403, body)).await;
    let error = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("403");
    assert_eq!(error.code().as_deref(), Some("20002"));
    let fault = error
        .body()
        .and_then(ErrorBody::as_api_fault)
        .expect("ApiFault");
    assert_eq!(fault.data, vec![serde_json::json!({"detail": "x"})]);
}

#[tokio::test]
async fn unauthorized_with_empty_body_keeps_its_status() {
    let server = serve(ResponseTemplate::new(401)).await;
    let error = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("401");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.body(), Some(&ErrorBody::Empty));
    assert_no_secret(&error);
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("unauthorized_display", error.to_string());
}

#[tokio::test]
async fn server_error_with_html_body() {
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let server = serve(ResponseTemplate::new(500).set_body_raw(html, "text/html")).await;
    let error = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("500");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(error.body(), Some(&ErrorBody::Text(html.to_owned())));
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("html_display", error.to_string());
}

#[tokio::test]
async fn throttled_with_its_own_body_shape() {
    let body =
        r#"{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in 57 seconds." }"#;
    let server = serve(json(429, body).insert_header("Retry-After", "57")).await;
    let error = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("429");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
    let throttle = error
        .body()
        .and_then(ErrorBody::as_throttle_fault)
        .expect("ThrottleFault");
    assert_eq!(throttle.status_code, Some(429));
    assert_eq!(
        error
            .headers()
            .and_then(|h| h.get("retry-after"))
            .map(|v| v.as_bytes()),
        Some(&b"57"[..])
    );
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("throttled_display", error.to_string());
}

#[tokio::test]
async fn malformed_json_is_a_decode_error_with_status() {
    let server = serve(json(200, r#"{"totalCount": 2, "items": [{"id": "a"},"#)).await;
    let error = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("bad json");
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert!(std::error::Error::source(&error).is_some());
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("malformed_display", error.to_string());
}

#[tokio::test]
async fn wrong_shape_is_a_decode_error() {
    let server = serve(json(200, r#"{"items": {"not": "an array"}}"#)).await;
    let error = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("bad shape");
    assert_eq!(error.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn text_json_media_type_is_accepted() {
    let server = serve(
        ResponseTemplate::new(200)
            .set_body_raw(fixture("responses/documented-users.json"), "text/json"),
    )
    .await;
    let page = client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("page");
    assert_eq!(page.items.len(), 2);
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let big = format!(r#"{{"items": [], "pad": "{}"}}"#, "x".repeat(10_000));
    let server = serve(json(200, big)).await;
    let client = support::builder(server.uri())
        .max_response_bytes(1_000)
        .build()
        .expect("client");
    let error = client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("too large");
    assert_eq!(error.kind(), ErrorKind::BodyTooLarge);
    assert!(error.to_string().contains("1000 bytes"), "{error}");
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = support::builder(format!("http://127.0.0.1:{port}"))
        .build()
        .expect("client");
    let error = client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(error.request_id().is_some() && error.correlation_id().is_some());
    assert_no_secret(&error);
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = serve(json(200, "{}").set_delay(std::time::Duration::from_secs(5))).await;
    let client = support::builder(server.uri())
        .timeout(std::time::Duration::from_millis(200))
        .build()
        .expect("client");
    let error = client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("timeout");
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(error.is_timeout());
}

#[tokio::test]
async fn base_url_with_a_path_prefix() {
    let server = serve(json(200, "{}")).await;
    let client = support::builder(format!("{}/proxy/", server.uri()))
        .build()
        .expect("client");
    client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("page");
    let received = server.received_requests().await.expect("recording");
    assert_eq!(
        received[0].url.path(),
        format!("/proxy/v1/customers/{CUSTOMER}/users")
    );
}

#[tokio::test]
async fn a_lying_content_length_is_an_error_not_an_allocation() {
    let (addr, _) = support::raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9223372036854775000\r\n\r\n{\"items\":[",
    )
    .await;
    let client = support::builder(format!("http://{addr}"))
        .max_response_bytes(usize::MAX)
        .retry_policy(pc_api::RetryPolicy::never())
        .build()
        .expect("client");
    let error = client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("cut off");
    assert_eq!(error.kind(), ErrorKind::Transport);
}
