//! Helpers shared by the wire tests: a mock Partner Center on 127.0.0.1 and
//! a stable text form of the requests it received.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The customer id of the documented examples.
pub const CUSTOMER: &str = "4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04";
/// The bearer token every test client sends.
pub const TOKEN: &str = "secret-token-7f3a";

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fixture file's text.
pub fn fixture(name: &str) -> String {
    let path = root().join("tests/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A mock server on 127.0.0.1 that answers every request with `response`.
pub async fn serve(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

/// How many requests the server received.
pub async fn request_count(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .expect("request recording is on")
        .len()
}

/// A JSON response with the given status and body bytes.
pub fn json(status: u16, body: impl Into<Vec<u8>>) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.into(), "application/json; charset=utf-8")
}

/// A client builder for `base` with the test token.
pub fn builder(base: impl AsRef<str>) -> pc_api::ClientBuilder {
    pc_api::Client::builder().base_url(base).bearer_token(TOKEN)
}

/// A server on 127.0.0.1 that answers every connection with `response`, as
/// raw bytes (so it can be malformed), and counts the connections.
pub async fn raw_server(
    response: &'static [u8],
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let _ = socket.write_all(response).await;
        }
    });
    (addr, connections)
}

/// A client of `server` with the test token that never retries, so that
/// each test sees the decoding of exactly one response.
pub fn client(server: &MockServer) -> pc_api::Client {
    pc_api::Client::builder()
        .base_url(server.uri())
        .bearer_token(TOKEN)
        .retry_policy(pc_api::RetryPolicy::never())
        .build()
        .expect("client")
}

/// The requests the server received, one block each: the request line, then
/// the headers in name order (without `host`, which holds the random port).
pub async fn requests(server: &MockServer) -> String {
    let received = server.received_requests().await.unwrap_or_default();
    let mut out = String::new();
    for request in received {
        let url = &request.url;
        let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        out.push_str(&format!("{} {}{}\n", request.method, url.path(), query));
        let mut headers: Vec<(String, String)> = request
            .headers
            .iter()
            .filter(|(name, _)| name.as_str() != "host")
            .map(|(name, value)| {
                (
                    name.to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        headers.sort();
        for (name, value) in headers {
            out.push_str(&format!("{name}: {value}\n"));
        }
        if !request.body.is_empty() {
            out.push_str(&format!("\n{}\n", String::from_utf8_lossy(&request.body)));
        }
        out.push('\n');
    }
    out
}

/// insta settings that replace UUIDs (request and correlation ids) and the
/// version in the user agent, which change from run to run or release to release.
pub fn redactions() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        "[uuid]",
    );
    settings.add_filter(r"pc-api/\d+\.\d+\.\d+", "pc-api/[version]");
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// The ids of the users of a fake tenant that a listing returns (the
/// active ones), in the fake's order.
pub fn active_ids(users: &[pc_fake::FakeUser]) -> Vec<String> {
    users
        .iter()
        .filter(|u| !u.is_inactive())
        .map(|u| u.id.clone())
        .collect()
}

/// The ids of listed users, in order (an absent id as "").
pub fn ids(users: &[pc_api::types::CustomerUser]) -> Vec<String> {
    users
        .iter()
        .map(|u| u.id.clone().unwrap_or_default())
        .collect()
}
