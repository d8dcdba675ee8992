//! pc-fake speaks Entra ID: its token endpoint and the API that accepts its tokens.
//!
//! pc_api's own credentials (`RefreshTokenCredential`, `ClientSecretCredential`)
//! sign in to the fake's `POST /{tenant}/oauth2/v2.0/token` on 127.0.0.1: the
//! tokens they get work, refresh tokens rotate, expired tokens get 401 and
//! are renewed, and each error Entra ID answers reaches the caller with its
//! `AADSTS` code and hint. The acceptance test lists 20,000 users through
//! access tokens that expire every few pages.

use crate::support::{active_ids, ids};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use pc_api::auth::{ClientSecretCredential, RefreshTokenCredential, RefreshTokenCredentialBuilder};
use pc_api::types::CustomerUser;
use pc_api::{Client, ErrorKind, RetryPolicy, Secret};
use pc_fake::{
    Builder, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_CUSTOMER, DEFAULT_DOMAIN,
    DEFAULT_PARTNER_TENANT, DEFAULT_REFRESH_TOKEN, FakePartnerCenter, FakeUser, Faults,
    generate_users,
};

fn fast_retries() -> RetryPolicy {
    RetryPolicy::new()
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(5))
}

/// A fake with one customer of `users` users and the default sign-in.
fn fake_with(users: &[FakeUser]) -> Builder {
    FakePartnerCenter::builder()
        .customer(DEFAULT_CUSTOMER, users.to_vec())
        .default_sign_in()
}

async fn start(builder: Builder) -> FakePartnerCenter {
    builder.start().await.expect("fake starts")
}

/// The refresh-token credential of the fake's default application.
fn credential(fake: &FakePartnerCenter) -> RefreshTokenCredentialBuilder {
    RefreshTokenCredential::builder()
        .tenant_id(DEFAULT_PARTNER_TENANT)
        .client_id(DEFAULT_CLIENT_ID)
        .client_secret(DEFAULT_CLIENT_SECRET)
        .refresh_token(DEFAULT_REFRESH_TOKEN)
        .authority_host(fake.base_url())
        .retry_policy(fast_retries())
}

fn client(fake: &FakePartnerCenter, provider: impl pc_api::TokenProvider + 'static) -> Client {
    Client::builder()
        .base_url(fake.base_url())
        .token_provider(provider)
        .retry_policy(fast_retries())
        .build()
        .expect("client")
}

fn static_client(fake: &FakePartnerCenter, token: &Secret) -> Client {
    Client::builder()
        .base_url(fake.base_url())
        .bearer_token(token.clone())
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("client")
}

/// The forms of the token requests the fake received, in order.
fn token_forms(fake: &FakePartnerCenter) -> Vec<Vec<(String, String)>> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .map(|r| {
            url::form_urlencoded::parse(r.body.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Both grants against the fake: an App+User token that lists users, an
/// app-only token that lists customers and gets the documented 403 (with
/// the runtime's App+User hint) on users; a token the fake did not issue
/// gets 401 with the documented code 400.
#[tokio::test]
async fn tokens_of_both_credentials_are_issued_and_accepted() {
    let users = generate_users(30, 1, DEFAULT_DOMAIN);
    let fake = start(fake_with(&users)).await;

    let app_user = client(&fake, credential(&fake).build().expect("credential"));
    let listed: Vec<CustomerUser> = app_user
        .get_customer_users(DEFAULT_CUSTOMER)
        .stream()
        .try_collect()
        .await
        .expect("App+User lists users");
    assert_eq!(ids(&listed), active_ids(&users));

    let app_only = client(
        &fake,
        ClientSecretCredential::builder()
            .tenant_id(DEFAULT_PARTNER_TENANT)
            .client_id(DEFAULT_CLIENT_ID)
            .client_secret(DEFAULT_CLIENT_SECRET)
            .authority_host(fake.base_url())
            .retry_policy(fast_retries())
            .build()
            .expect("credential"),
    );
    let customers = app_only
        .get_customers()
        .send()
        .await
        .expect("app-only lists customers");
    assert_eq!(customers.items.len(), 1);
    let error = app_only
        .get_customer_users(DEFAULT_CUSTOMER)
        .send()
        .await
        .expect_err("app-only on users");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
    assert!(
        error.to_string().contains("needs an App+User token"),
        "{error}"
    );

    let forms = token_forms(&fake);
    assert_eq!(forms.len(), 2);
    assert_eq!(field(&forms[0], "grant_type"), Some("refresh_token"));
    assert_eq!(
        field(&forms[0], "scope"),
        Some("https://api.partnercenter.microsoft.com/user_impersonation")
    );
    assert_eq!(field(&forms[1], "grant_type"), Some("client_credentials"));
    assert_eq!(
        field(&forms[1], "scope"),
        Some("https://api.partnercenter.microsoft.com/.default")
    );
    let counters = fake.counters();
    assert_eq!((counters.token_requests, counters.tokens_issued), (2, 2));

    // Strict auth: any other bearer token is refused.
    let error = static_client(&fake, &Secret::from("made-up-token"))
        .get_customer_users(DEFAULT_CUSTOMER)
        .send()
        .await
        .expect_err("not issued");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.code().as_deref(), Some("400"));
}

/// The reply is Entra ID's, keys in its order; the access token is a JWT
/// with the claims a reader expects.
#[tokio::test]
async fn the_reply_reads_like_entra_ids() {
    let fake = start(fake_with(&[])).await;
    let response = reqwest::Client::new()
        .post(fake.token_url(DEFAULT_PARTNER_TENANT))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            (
                "scope",
                "https://api.partnercenter.microsoft.com/user_impersonation offline_access",
            ),
            ("refresh_token", DEFAULT_REFRESH_TOKEN),
        ])
        .send()
        .await
        .expect("reply");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["cache-control"].to_str().ok(),
        Some("no-store, no-cache")
    );
    let text = response.text().await.expect("body");
    assert!(
        text.starts_with(r#"{"token_type":"Bearer","scope":"https://api.partnercenter.microsoft.com/user_impersonation","expires_in":3599,"ext_expires_in":3599,"access_token":"ey"#),
        "{text}"
    );
    let reply: serde_json::Value = serde_json::from_str(&text).expect("json");
    let refresh = reply["refresh_token"].as_str().expect("refresh token");
    assert!(refresh.starts_with("0.A") && refresh != DEFAULT_REFRESH_TOKEN);
    let access = reply["access_token"].as_str().expect("access token");
    let claims = access.split('.').nth(1).expect("a JWT");
    let claims = base64url(claims);
    let claims: serde_json::Value = serde_json::from_slice(&claims).expect("claims");
    assert_eq!(claims["aud"], "https://api.partnercenter.microsoft.com");
    assert_eq!(claims["appid"], DEFAULT_CLIENT_ID);
    assert_eq!(claims["scp"], "user_impersonation");
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "mfa"]));
}

fn base64url(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (mut bits, mut count, mut out) = (0u32, 0, Vec::new());
    for c in text.bytes() {
        let value = alphabet.iter().position(|&a| a == c).expect("base64url") as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// Every exchange returns a new refresh token; the credential sends it in
/// its next exchange and hands each to the callback.
#[tokio::test]
async fn refresh_tokens_rotate_and_the_newest_is_used_next() {
    let users = generate_users(10, 2, DEFAULT_DOMAIN);
    let fake = start(fake_with(&users).access_token_lifetime(Duration::from_secs(1))).await;
    let rotated = Arc::new(Mutex::new(Vec::new()));
    let seen = rotated.clone();
    let credential = credential(&fake)
        .on_refresh_token(move |token: &Secret| {
            seen.lock()
                .expect("lock")
                .push(token.expose_secret().to_owned());
        })
        .build()
        .expect("credential");
    let client = client(&fake, credential.clone());
    for _ in 0..3 {
        client
            .get_customer_users(DEFAULT_CUSTOMER)
            .send()
            .await
            .expect("call");
        // Past half the 1 s lifetime: the credential renews before the next call.
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let rotated = rotated.lock().expect("lock").clone();
    let sent: Vec<String> = token_forms(&fake)
        .iter()
        .map(|form| field(form, "refresh_token").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(rotated.len(), 3);
    assert_eq!(sent[0], DEFAULT_REFRESH_TOKEN);
    assert_eq!(sent[1..], rotated[..2], "each rotated token is used next");
    assert_eq!(credential.refresh_token().expose_secret(), rotated[2]);
    let distinct: std::collections::HashSet<&String> = sent.iter().chain(&rotated).collect();
    assert_eq!(distinct.len(), 4);
    // The old refresh tokens stay valid (Entra ID does not revoke them).
    credential_from(&fake, DEFAULT_REFRESH_TOKEN)
        .access_token()
        .await
        .expect("an old refresh token still works");
}

fn credential_from(fake: &FakePartnerCenter, refresh: &str) -> RefreshTokenCredential {
    credential(fake)
        .refresh_token(refresh)
        .build()
        .expect("credential")
}

/// With `keep_rotated_refresh_tokens(false)` an exchanged refresh token is
/// spent: using it again gets AADSTS700082.
#[tokio::test]
async fn a_spent_refresh_token_is_refused_when_rotation_revokes() {
    let fake = start(fake_with(&[]).keep_rotated_refresh_tokens(false)).await;
    credential_from(&fake, DEFAULT_REFRESH_TOKEN)
        .access_token()
        .await
        .expect("first exchange");
    let error = credential_from(&fake, DEFAULT_REFRESH_TOKEN)
        .access_token()
        .await
        .expect_err("spent");
    assert_eq!(
        error.sign_in_error().and_then(|e| e.code()),
        Some(700082),
        "{error}"
    );
}

/// A token past its lifetime gets 401 (code 400, "Access denied") from the
/// API; the credential, whose cached token is past its renewal time, asks
/// for a new one and the call works.
#[tokio::test]
async fn an_expired_token_gets_401_and_the_credential_renews() {
    let users = generate_users(10, 3, DEFAULT_DOMAIN);
    let fake = start(fake_with(&users).access_token_lifetime(Duration::from_secs(1))).await;
    let credential = credential(&fake).build().expect("credential");
    let first = credential.access_token().await.expect("token");
    static_client(&fake, &first)
        .get_customer_users(DEFAULT_CUSTOMER)
        .send()
        .await
        .expect("valid for a second");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let error = static_client(&fake, &first)
        .get_customer_users(DEFAULT_CUSTOMER)
        .send()
        .await
        .expect_err("expired");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.code().as_deref(), Some("400"));
    assert!(error.to_string().contains("Access denied"), "{error}");

    client(&fake, credential.clone())
        .get_customer_users(DEFAULT_CUSTOMER)
        .send()
        .await
        .expect("renewed");
    let second = credential.access_token().await.expect("token");
    assert_ne!(second.expose_secret(), first.expose_secret());
    assert_eq!(fake.counters().tokens_issued, 2);
    assert_eq!(fake.counters().unauthorized, 1);
}

/// A token that stops working in the middle of a listing (it is good for 3
/// requests only, whatever `expires_in` says): the page after gets 401, the
/// credential forgets the token, and the page is asked again with a new
/// one. The listing completes in one go, every user exactly once.
#[tokio::test]
async fn a_token_that_dies_mid_listing_is_replaced_and_the_listing_goes_on() {
    let users = generate_users(5_000, 4, DEFAULT_DOMAIN);
    let expected = active_ids(&users);
    let fake = start(fake_with(&users).access_token_uses(3)).await;
    let credential = credential_from(&fake, DEFAULT_REFRESH_TOKEN);
    let listed: Vec<CustomerUser> = client(&fake, credential.clone())
        .get_customer_users(DEFAULT_CUSTOMER)
        .size(500)
        .stream()
        .try_collect()
        .await
        .expect("every page, through the refused tokens");
    assert_eq!(ids(&listed), expected);
    // 10 pages through tokens of 3 requests each: every refused token
    // cost one 401 and one token request.
    let counters = fake.counters();
    assert!(counters.unauthorized >= 3, "{counters:?}");
    assert_eq!(counters.tokens_issued, counters.unauthorized + 1);
}

/// With a fixed token that dies mid-listing, the 401 names the page and
/// keeps the continuation token; a listing resumed from it with a new
/// credential lists exactly the rest.
#[tokio::test]
async fn a_fixed_token_that_dies_mid_listing_resumes_with_a_new_credential() {
    let users = generate_users(2_000, 4, DEFAULT_DOMAIN);
    let expected = active_ids(&users);
    let fake = start(fake_with(&users).access_token_uses(3)).await;
    let credential = credential_from(&fake, DEFAULT_REFRESH_TOKEN);
    let fixed = credential.access_token().await.expect("token");
    let mut listed = Vec::new();
    let mut stream = static_client(&fake, &fixed)
        .get_customer_users(DEFAULT_CUSTOMER)
        .size(500)
        .stream();
    let error = loop {
        match stream.try_next().await {
            Ok(Some(user)) => listed.push(user),
            Ok(None) => panic!("the fixed token lasted the whole listing"),
            Err(error) => break error,
        }
    };
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401), "{error}");
    assert_eq!(error.code().as_deref(), Some("400"));
    let resume = error.resume_token().cloned().expect("resume token");
    let rest: Vec<CustomerUser> = client(
        &fake,
        credential_from(&fake, credential.refresh_token().expose_secret()),
    )
    .get_customer_users(DEFAULT_CUSTOMER)
    .size(500)
    .resume(resume)
    .stream()
    .try_collect()
    .await
    .expect("the rest");
    listed.extend(rest);
    assert_eq!(ids(&listed), expected);
}

/// After "revoke all sessions" the refresh token is refused with
/// AADSTS700082 and the runtime's hint to sign in again; a new interactive
/// sign-in's refresh token works.
#[tokio::test]
async fn a_revoked_refresh_token_is_an_auth_error_naming_700082() {
    let fake = start(fake_with(&[])).await;
    fake.revoke_refresh_tokens();
    let client = client(&fake, credential(&fake).build().expect("credential"));
    let error = client
        .get_customer_users(DEFAULT_CUSTOMER)
        .send()
        .await
        .expect_err("revoked");
    assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
    let text = error.to_string();
    for expected in ["AADSTS700082", "invalid_grant", "sign in again"] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
    assert!(
        !text.contains(DEFAULT_CLIENT_SECRET),
        "no secret in errors: {text}"
    );
    let details = error.sign_in_error().expect("details");
    assert_eq!((details.status(), details.code()), (400, Some(700082)));
    assert!(details.trace_id().is_some() && details.correlation_id().is_some());
    assert_eq!(fake.counters().api_requests, 0, "the API was never called");

    let fresh = fake.new_refresh_token().expect("sign-in is on");
    credential_from(&fake, &fresh)
        .access_token()
        .await
        .expect("a new sign-in works");
}

/// The other errors of the token endpoint, each with its status, OAuth
/// error, AADSTS code and (where the runtime has one) hint.
#[tokio::test]
async fn each_sign_in_error_of_the_fake() {
    let fake = start(
        fake_with(&[])
            .application("0c5e5a1d-1111-4e5e-8f00-000000000002", "other-secret")
            .refresh_token_for("0c5e5a1d-1111-4e5e-8f00-000000000002", "0.A-other-app"),
    )
    .await;
    let cases: Vec<(RefreshTokenCredentialBuilder, u16, &str, u64, Option<&str>)> = vec![
        (
            credential(&fake).client_secret("wrong-secret"),
            401,
            "invalid_client",
            7000215,
            Some("client secret"),
        ),
        (
            credential(&fake).client_id("9d0b7c1e-0000-4000-8000-00000000dead"),
            400,
            "unauthorized_client",
            700016,
            Some("not known"),
        ),
        (
            credential(&fake).refresh_token("0.A-other-app"),
            400,
            "invalid_grant",
            700007,
            Some("another application"),
        ),
        (
            credential(&fake).refresh_token("0.A-never-issued"),
            400,
            "invalid_grant",
            700082,
            Some("sign in again"),
        ),
        (
            credential(&fake).tenant_id("fabrikam-partner.onmicrosoft.com"),
            400,
            "invalid_request",
            90002,
            None,
        ),
    ];
    for (builder, status, oauth_error, code, hint) in cases {
        let error = builder
            .build()
            .expect("credential")
            .access_token()
            .await
            .expect_err("refused");
        assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
        let details = error.sign_in_error().expect("details");
        assert_eq!(details.status(), status, "{error}");
        assert_eq!(details.error(), Some(oauth_error), "{error}");
        assert_eq!(details.code(), Some(code), "{error}");
        let text = error.to_string();
        assert!(text.contains(&format!("AADSTS{code}")), "{text}");
        if let Some(hint) = hint {
            assert!(text.contains(hint), "{code}: {hint:?} missing from {text}");
        }
        let description = details.description().expect("description");
        assert!(
            description.contains("\r\nTrace ID: ") && description.contains("\r\nTimestamp: "),
            "{description:?}"
        );
    }
    // 4xx are not retried: one token request per case.
    assert_eq!(fake.counters().token_requests, 5);
    assert_eq!(fake.counters().token_errors, 5);
}

/// MFA-less sign-ins: the API answers App+User tokens 401 with code 900421,
/// and the runtime's error says to sign in again with MFA.
#[tokio::test]
async fn tokens_without_mfa_get_401_900421() {
    let users = generate_users(5, 5, DEFAULT_DOMAIN);
    let fake = start(fake_with(&users).without_mfa(true)).await;
    let error = client(&fake, credential(&fake).build().expect("credential"))
        .get_customer_users(DEFAULT_CUSTOMER)
        .send()
        .await
        .expect_err("no MFA");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.code().as_deref(), Some("900421"));
    assert!(
        error.to_string().contains("multi-factor authentication"),
        "{error}"
    );
}

/// The acceptance test: 20,000 users listed through the refresh-token
/// credential while access tokens expire every ten pages or so (a 1 s
/// lifetime, 100 ms a page): the credential renews them ahead, the listing
/// completes once, every user exactly once and in order, never a 401, and
/// more than one token request.
#[tokio::test]
async fn twenty_thousand_users_through_tokens_that_expire_every_few_pages() {
    let users = generate_users(20_000, 11, DEFAULT_DOMAIN);
    let expected = active_ids(&users);
    let fake = start(
        fake_with(&users)
            .access_token_lifetime(Duration::from_secs(1))
            .faults(Faults {
                delay: Some(Duration::from_millis(100)),
                ..Faults::default()
            }),
    )
    .await;
    let rotations = Arc::new(Mutex::new(0usize));
    let counted = rotations.clone();
    let credential = credential(&fake)
        .on_refresh_token(move |_: &Secret| *counted.lock().expect("lock") += 1)
        .build()
        .expect("credential");
    let listed: Vec<CustomerUser> = client(&fake, credential)
        .get_customer_users(DEFAULT_CUSTOMER)
        .size(500)
        .stream()
        .try_collect()
        .await
        .expect("the listing completes");
    assert_eq!(listed.len(), 20_000);
    assert_eq!(ids(&listed), expected, "every user exactly once, in order");
    let counters = fake.counters();
    assert_eq!(counters.api_requests, 40, "one request per page, no retry");
    assert_eq!(counters.unauthorized, 0);
    assert!(
        counters.token_requests > 1,
        "tokens were renewed: {counters:?}"
    );
    assert_eq!(counters.tokens_issued, counters.token_requests);
    assert_eq!(
        *rotations.lock().expect("lock") as u64,
        counters.tokens_issued
    );
    // Every page carried a token the fake issued (strict auth), and more
    // than one distinct token was used.
    let bearers: std::collections::HashSet<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1/"))
        .filter_map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert!(bearers.len() > 1, "{}", bearers.len());
}
