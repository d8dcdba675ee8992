//! The downstream code of the foundation issue, verbatim, compiled and run
//! against a mock server: an API change fails `cargo test` even if a
//! snapshot is accepted by mistake.

use crate::support;

use pc_api::Client;
use pc_api::types::UserState;

async fn list(base: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let client = Client::builder()
        .base_url(base)
        .bearer_token("secret-token")
        .build()?;
    let page = client
        .get_customer_users("4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04")
        .size(500)
        .send()
        .await?;
    for user in &page.items {
        if user.state == Some(UserState::Active) {
            println!("{:?} {:?}", user.user_principal_name, user.display_name);
        }
    }
    let next = page.links.as_ref().and_then(|links| links.next.as_ref());
    println!("more: {}", next.is_some());
    Ok(())
}

#[tokio::test]
async fn downstream_example_runs() {
    let server = support::serve(support::json(
        200,
        support::fixture("responses/documented-users.json"),
    ))
    .await;
    list(&server.uri())
        .await
        .expect("the downstream example works");
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].url.query(), Some("size=500"));
    assert_eq!(received[0].headers["authorization"], "Bearer secret-token");
}

#[tokio::test]
async fn downstream_errors_are_boxable() {
    let server = support::serve(wiremock::ResponseTemplate::new(404)).await;
    let error = list(&server.uri()).await.expect_err("404");
    assert!(error.to_string().contains("404"), "{error}");
    assert!(!error.to_string().contains("secret-token"), "{error}");
}

/// The downstream code of the paging issue: every user, exactly once.
async fn list_all(
    client: &Client,
    customer_id: &str,
) -> Result<Vec<pc_api::types::CustomerUser>, Box<dyn std::error::Error + Send + Sync>> {
    use futures::TryStreamExt;
    let users: Vec<pc_api::types::CustomerUser> = client
        .get_customer_users(customer_id)
        .size(100)
        .stream()
        .try_collect()
        .await?;
    Ok(users)
}

#[tokio::test]
async fn downstream_listing_collects_every_user() {
    let server = support::serve(support::json(
        200,
        support::fixture("responses/documented-users.json"),
    ))
    .await;
    let client = Client::builder()
        .base_url(server.uri())
        .bearer_token("secret-token")
        .build()
        .expect("client");
    let users = list_all(&client, support::CUSTOMER).await.expect("listing");
    assert_eq!(users.len(), 2);
}
