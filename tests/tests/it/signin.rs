//! Signing in: the credentials of `pc_api::auth` against a token endpoint on
//! 127.0.0.1 (wiremock): the exact form of each grant, one token request for
//! many concurrent calls, renewal before expiry, refresh-token rotation, the
//! errors partners hit, retries, and no secret anywhere.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pc_api::auth::{ClientSecretCredential, RefreshTokenCredential};
use pc_api::{Client, ErrorKind, RetryPolicy, Secret};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{CUSTOMER, json as json_response};

const TENANT: &str = "contoso-partner.onmicrosoft.com";
const CLIENT_ID: &str = "5f1c2a9e-7a3b-4e7c-9d2f-8b6a1c0e3d4f";
const SECRET: &str = "client-secret-Zq9~";
const REFRESH: &str = "refresh-token-0.AVYA";

fn fast_retries() -> RetryPolicy {
    RetryPolicy::new()
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(5))
}

/// A token reply: `access`, valid `expires_in` seconds, rotating to `refresh`.
fn issued(access: &str, expires_in: u64, refresh: Option<&str>) -> ResponseTemplate {
    let mut body = json!({
        "token_type": "Bearer",
        "scope": "https://api.partnercenter.microsoft.com/user_impersonation",
        "expires_in": expires_in,
        "ext_expires_in": expires_in,
        "access_token": access,
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn credential(authority: &str) -> pc_api::auth::RefreshTokenCredentialBuilder {
    RefreshTokenCredential::builder()
        .tenant_id(TENANT)
        .client_id(CLIENT_ID)
        .client_secret(SECRET)
        .refresh_token(REFRESH)
        .authority_host(authority)
        .retry_policy(fast_retries())
}

fn form_of(request: &Request) -> Vec<(String, String)> {
    assert_eq!(
        request.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    url::form_urlencoded::parse(&request.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The refresh-token grant, exactly: `POST {authority}/{tenant}/oauth2/v2.0/token`,
/// form-encoded, with the Partner Center `user_impersonation` scope; the
/// client-credentials grant with `.default`.
#[tokio::test]
async fn the_form_of_each_grant() {
    let authority = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(issued("access-1", 3600, Some("refresh-2")))
        .mount(&authority)
        .await;
    let token = credential(&authority.uri())
        .build()
        .expect("credential")
        .access_token()
        .await
        .expect("token");
    assert_eq!(token.expose_secret(), "access-1");
    let app = ClientSecretCredential::builder()
        .tenant_id(TENANT)
        .client_id(CLIENT_ID)
        .client_secret(SECRET)
        .authority_host(authority.uri())
        .build()
        .expect("credential");
    app.access_token().await.expect("app-only token");
    let received = authority.received_requests().await.expect("recording");
    assert_eq!(received.len(), 2);
    assert_eq!(
        form_of(&received[0]),
        [
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            (
                "scope",
                "https://api.partnercenter.microsoft.com/user_impersonation"
            ),
            ("refresh_token", REFRESH),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    assert_eq!(
        form_of(&received[1]),
        [
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("scope", "https://api.partnercenter.microsoft.com/.default"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

/// The v1 reply writes the numbers as strings (`"3599"`); the national cloud
/// picks the scope with the authority.
#[tokio::test]
async fn v1_replies_and_national_clouds() {
    let authority = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": "3599", "ext_expires_in": "3599",
            "expires_on": "1900000000", "access_token": "access-v1"
        })))
        .mount(&authority)
        .await;
    let credential = credential(&authority.uri())
        .cloud(pc_api::Cloud::China)
        .authority_host(authority.uri())
        .build()
        .expect("credential");
    let token = credential.access_token().await.expect("token");
    assert_eq!(token.expose_secret(), "access-v1");
    let received = authority.received_requests().await.expect("recording");
    assert!(form_of(&received[0]).contains(&(
        "scope".to_owned(),
        "https://partner.partnercenterapi.microsoftonline.cn/user_impersonation".to_owned()
    )));
}

/// 50 concurrent API calls that all need a token: one token request, and
/// every call carries the issued token.
#[tokio::test]
async fn one_token_request_for_fifty_concurrent_calls() {
    let authority = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            issued("access-1", 3600, Some("refresh-2")).set_delay(Duration::from_millis(100)),
        )
        .mount(&authority)
        .await;
    let api = crate::support::serve(json_response(200, r#"{"totalCount":0,"items":[]}"#)).await;
    let client = Client::builder()
        .base_url(api.uri())
        .token_provider(credential(&authority.uri()).build().expect("credential"))
        .build()
        .expect("client");
    let calls = (0..50).map(|_| client.get_customer_users(CUSTOMER).send());
    for result in futures::future::join_all(calls).await {
        result.expect("call");
    }
    assert_eq!(
        authority
            .received_requests()
            .await
            .expect("recording")
            .len(),
        1
    );
    let received = api.received_requests().await.expect("recording");
    assert_eq!(received.len(), 50);
    assert!(
        received
            .iter()
            .all(|r| r.headers["authorization"] == "Bearer access-1")
    );
}

/// A token is renewed before it expires (half its lifetime before, for a
/// short-lived one), with the rotated refresh token, which the callback got.
#[tokio::test]
async fn renewal_before_expiry_with_the_rotated_refresh_token() {
    let authority = MockServer::start().await;
    let count = AtomicUsize::new(0);
    Mock::given(method("POST"))
        .respond_with(move |_: &Request| {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            issued(
                &format!("access-{n}"),
                2,
                Some(&format!("refresh-{}", n + 1)),
            )
        })
        .mount(&authority)
        .await;
    let rotated = Arc::new(Mutex::new(Vec::new()));
    let seen = rotated.clone();
    let credential = credential(&authority.uri())
        .on_refresh_token(move |token: &Secret| {
            seen.lock()
                .expect("lock")
                .push(token.expose_secret().to_owned());
        })
        .build()
        .expect("credential");
    assert_eq!(
        credential.access_token().await.expect("1").expose_secret(),
        "access-1"
    );
    // Within the first half of its 2 s lifetime: the cached token.
    assert_eq!(
        credential.access_token().await.expect("1").expose_secret(),
        "access-1"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Past half its lifetime, still before expiry: renewed.
    assert_eq!(
        credential.access_token().await.expect("2").expose_secret(),
        "access-2"
    );
    assert_eq!(credential.refresh_token().expose_secret(), "refresh-3");
    assert_eq!(*rotated.lock().expect("lock"), ["refresh-2", "refresh-3"]);
    let received = authority.received_requests().await.expect("recording");
    let sent: Vec<String> = received
        .iter()
        .filter_map(|r| {
            form_of(r)
                .into_iter()
                .find(|(k, _)| k == "refresh_token")
                .map(|(_, v)| v)
        })
        .collect();
    assert_eq!(
        sent,
        [REFRESH, "refresh-2"],
        "the rotated token is used next"
    );
}

/// The errors partners hit: each names its AADSTS code, the first line of
/// the description, a hint and the trace and correlation ids, and nothing
/// secret; a 4xx is not retried and a failed request is not cached.
#[tokio::test]
async fn each_listed_sign_in_error_says_what_to_do() {
    for (code, oauth_error, status, hint) in [
        (700082u64, "invalid_grant", 400, "sign in again"),
        (50076, "invalid_grant", 400, "multi-factor"),
        (50078, "invalid_grant", 400, "multi-factor"),
        (70043, "invalid_grant", 400, "sign-in frequency"),
        (65001, "invalid_grant", 400, "consent"),
        (7000215, "invalid_client", 401, "client secret"),
        (700007, "invalid_grant", 400, "another application"),
        (90038, "invalid_request", 400, "national cloud"),
        (53003, "invalid_grant", 400, "conditional access"),
    ] {
        let authority = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({
                "error": oauth_error,
                "error_description": format!("AADSTS{code}: Something about {code}.\r\nTrace ID: 9f1\r\nCorrelation ID: 3c2\r\nTimestamp: 2026-11-29 20:00:00Z"),
                "error_codes": [code],
                "timestamp": "2026-11-29 20:00:00Z",
                "trace_id": "9f1e7a52-0000-4000-8000-000000000001",
                "correlation_id": "3c2b1a09-0000-4000-8000-000000000002",
                "error_uri": "https://login.microsoftonline.com/error?code=0"
            })))
            .mount(&authority)
            .await;
        let api = crate::support::serve(json_response(200, "{}")).await;
        let client = Client::builder()
            .base_url(api.uri())
            .token_provider(credential(&authority.uri()).build().expect("credential"))
            .retry_policy(fast_retries())
            .build()
            .expect("client");
        let error = client
            .get_customer_users(CUSTOMER)
            .send()
            .await
            .expect_err("sign-in fails");
        assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
        let text = error.to_string();
        for expected in [
            format!("AADSTS{code}"),
            format!("Something about {code}."),
            "9f1e7a52-0000-4000-8000-000000000001".to_owned(),
            "3c2b1a09-0000-4000-8000-000000000002".to_owned(),
            hint.to_owned(),
            "getCustomerUsers".to_owned(),
        ] {
            assert!(
                text.contains(&expected),
                "{code}: {expected:?} missing from {text}"
            );
        }
        assert!(
            !text.contains("Trace ID: 9f1"),
            "only the first line: {text}"
        );
        let details = error.sign_in_error().expect("sign-in details");
        assert_eq!(details.code(), Some(code));
        assert_eq!(details.error(), Some(oauth_error));
        for shown in [text, format!("{error:?}")] {
            for secret in [SECRET, REFRESH] {
                assert!(!shown.contains(secret), "{code}: secret in {shown}");
            }
        }
        // 4xx: one token request, not retried; the API was never called.
        assert_eq!(
            authority
                .received_requests()
                .await
                .expect("recording")
                .len(),
            1,
            "{code}"
        );
        assert_eq!(crate::support::request_count(&api).await, 0);
        // Not cached: the next call asks again.
        let _ = client.get_customer_users(CUSTOMER).send().await;
        assert_eq!(
            authority
                .received_requests()
                .await
                .expect("recording")
                .len(),
            2,
            "{code}"
        );
    }
}

/// 5xx and 429 of the token endpoint are retried (the same policy as the
/// API's); then the token works.
#[tokio::test]
async fn server_errors_of_the_token_endpoint_are_retried() {
    let authority = MockServer::start().await;
    let count = AtomicUsize::new(0);
    Mock::given(method("POST"))
        .respond_with(
            move |_: &Request| match count.fetch_add(1, Ordering::SeqCst) {
                0 => ResponseTemplate::new(503),
                1 => ResponseTemplate::new(429).insert_header("Retry-After", "0"),
                _ => issued("access-1", 3600, None),
            },
        )
        .mount(&authority)
        .await;
    let credential = credential(&authority.uri()).build().expect("credential");
    assert_eq!(
        credential
            .access_token()
            .await
            .expect("token")
            .expose_secret(),
        "access-1"
    );
    assert_eq!(
        authority
            .received_requests()
            .await
            .expect("recording")
            .len(),
        3
    );
}

/// No secret in the `Debug` of credentials and their builders.
#[test]
fn credentials_never_show_secrets() {
    let builder = credential("http://127.0.0.1:9");
    let shown = format!("{builder:?}");
    let credential = builder.build().expect("credential");
    for text in [shown, format!("{credential:?}")] {
        for secret in [SECRET, REFRESH] {
            assert!(!text.contains(secret), "{text}");
        }
    }
    let missing = RefreshTokenCredential::builder()
        .tenant_id(TENANT)
        .client_id(CLIENT_ID)
        .client_secret(SECRET)
        .build()
        .expect_err("no refresh token");
    assert_eq!(missing.kind(), ErrorKind::Config);
    assert!(missing.to_string().contains("refresh_token"), "{missing}");
}

/// An app-only token on a user endpoint (403 "can't be accessed by
/// application credentials") and an MFA-less token (401, code 900421) get
/// hints that say which token the call needs.
#[tokio::test]
async fn the_wrong_kind_of_token_gets_a_hint() {
    let server = crate::support::serve(json_response(
        403,
        r#"{"description":"This resource can't be accessed by application credentials.","data":[],"source":"PartnerFD"}"#,
    ))
    .await;
    let error = crate::support::client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("403");
    assert!(
        error.to_string().contains("needs an App+User token"),
        "{error}"
    );

    let server = crate::support::serve(json_response(
        401,
        r#"{"code":900421,"description":"MFA is required.","data":[],"source":"PartnerFD"}"#,
    ))
    .await;
    let error = crate::support::client(&server)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("401");
    assert!(
        error.to_string().contains("multi-factor authentication"),
        "{error}"
    );
}

/// An azure_core credential (what `azure_identity` provides) as the token
/// provider: asked for the Partner Center `.default` scope of the cloud;
/// its failure is an `Auth` error with its error as the source.
#[tokio::test]
async fn an_azure_credential_signs_in() {
    use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};

    #[derive(Debug)]
    struct Fixed(Mutex<Vec<String>>, bool);

    #[async_trait::async_trait]
    impl TokenCredential for Fixed {
        async fn get_token(
            &self,
            scopes: &[&str],
            _: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            self.0
                .lock()
                .expect("lock")
                .extend(scopes.iter().map(|s| (*s).to_owned()));
            if self.1 {
                return Err(azure_core::Error::new(
                    azure_core::error::ErrorKind::Credential,
                    "AzureCliCredential: run `az login`",
                ));
            }
            Ok(AccessToken::new(
                "azure-access",
                azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
            ))
        }
    }

    let api = crate::support::serve(json_response(200, r#"{"totalCount":0,"items":[]}"#)).await;
    let credential = Arc::new(Fixed(Mutex::new(Vec::new()), false));
    let client = Client::builder()
        .base_url(api.uri())
        .token_provider(pc_api::auth::AzureCredential::new(credential.clone()))
        .build()
        .expect("client");
    client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("call");
    assert_eq!(
        *credential.0.lock().expect("lock"),
        ["https://api.partnercenter.microsoft.com/.default"]
    );
    let received = api.received_requests().await.expect("recording");
    assert_eq!(received[0].headers["authorization"], "Bearer azure-access");

    let failing = Client::builder()
        .base_url(api.uri())
        .token_provider(pc_api::auth::AzureCredential::new(Arc::new(Fixed(
            Mutex::new(Vec::new()),
            true,
        ))))
        .build()
        .expect("client");
    let error = failing
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("no token");
    assert_eq!(error.kind(), ErrorKind::Auth);
    assert!(
        error
            .to_string()
            .contains("the Azure credential could not get a token"),
        "{error}"
    );
    let source = std::error::Error::source(&error)
        .map(|s| s.to_string())
        .unwrap_or_default();
    assert!(source.contains("az login"), "{source}");
}

/// A token the API refuses with 401 before its time (revoked, or a clock
/// ahead): the credential forgets it, the call goes once more with a new
/// one and succeeds. A second 401 is final (no loop), and a fixed bearer
/// token is not sent twice.
#[tokio::test]
async fn a_refused_token_is_replaced_once() {
    let authority = MockServer::start().await;
    let issued_count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&issued_count);
    Mock::given(method("POST"))
        .respond_with(move |_: &Request| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            issued(
                &format!("access-{n}"),
                3600,
                Some(&format!("refresh-{}", n + 1)),
            )
        })
        .mount(&authority)
        .await;
    // The API accepts only `access-2` and later.
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(|request: &Request| {
            if request.headers["authorization"] == "Bearer access-1" {
                ResponseTemplate::new(401).set_body_json(json!({"code": 400, "description": "Access denied", "data": [], "source": "PartnerFD"}))
            } else {
                json_response(200, r#"{"totalCount":0,"items":[]}"#)
            }
        })
        .mount(&api)
        .await;
    let credential = credential(&authority.uri()).build().expect("credential");
    let client = Client::builder()
        .base_url(api.uri())
        .token_provider(credential.clone())
        .build()
        .expect("client");
    client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("the second token works");
    let received = api.received_requests().await.expect("recording");
    let sent: Vec<&str> = received
        .iter()
        .map(|r| r.headers["authorization"].to_str().unwrap_or_default())
        .collect();
    assert_eq!(sent, ["Bearer access-1", "Bearer access-2"]);
    // One MS-RequestId for both: the same request, sent again.
    assert_eq!(
        received[0].headers["ms-requestid"],
        received[1].headers["ms-requestid"]
    );
    assert_eq!(issued_count.load(Ordering::SeqCst), 2);
    // The new token is cached: the next call needs no token request.
    client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect("cached");
    assert_eq!(issued_count.load(Ordering::SeqCst), 2);

    // Refused whatever the token: two attempts, then the 401.
    let refusing = crate::support::serve(ResponseTemplate::new(401).set_body_json(
        json!({"code": 400, "description": "Access denied", "data": [], "source": "PartnerFD"}),
    ))
    .await;
    let client = Client::builder()
        .base_url(refusing.uri())
        .token_provider(credential)
        .build()
        .expect("client");
    let error = client
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("401");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(crate::support::request_count(&refusing).await, 2);

    // A fixed token cannot be replaced: one attempt.
    let fixed = crate::support::serve(ResponseTemplate::new(401)).await;
    let error = crate::support::client(&fixed)
        .get_customer_users(CUSTOMER)
        .send()
        .await
        .expect_err("401");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(crate::support::request_count(&fixed).await, 1);
}
