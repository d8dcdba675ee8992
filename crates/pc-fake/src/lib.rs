//! `pc-fake`: an embedded fake of the Microsoft Partner Center REST API, for
//! demos, tests and benchmarks of `pc-api`, like Azurite for Azure Storage.
//!
//! It serves `GET /v1/customers/{customer_id}/users` the way the real service
//! does (see the project's partner-center notes): seek paging with relative
//! next links and opaque `MS-ContinuationToken`s that contain `/`, `+`, `=`
//! and `,`; `size` (default 100, at most 500); sorting by `DisplayName` or
//! `UserPrincipalName`; the deleted-users `filter`; `ApiFault` errors (401
//! without a bearer token, 404 for an unknown customer, 400 for bad input);
//! echoed `MS-RequestId`/`MS-CorrelationId` and an added `MS-CV`. Faults can
//! be injected: throttling, bursts of 503, slow and cut-off responses, and
//! tokens that expire.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! let fake = pc_fake::FakePartnerCenter::builder()
//!     .customer("4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04", pc_fake::generate_users(1000, 42, "contoso.onmicrosoft.com"))
//!     .start()
//!     .await?;
//! println!("serving on {}", fake.base_url());
//! // ... point a client at fake.base_url(), then look at fake.requests().
//! # Ok(())
//! # }
//! ```
//!
//! It is a development tool: it binds to 127.0.0.1 unless told otherwise
//! with [`Builder::allow_remote`].

mod server;
mod state;
mod tenant;
mod token;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::tenant::{FakeUser, generate_users};

/// The customer id of the documented examples, used by the binary and the
/// `list_users` example.
pub const DEFAULT_CUSTOMER: &str = "4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04";

/// A request the fake received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The path as sent, percent-encoding kept.
    pub path: String,
    /// The query string as sent, without `?`.
    pub query: Option<String>,
    /// Every header, names lowercase, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body, as text (lossy UTF-8).
    pub body: String,
}

impl RecordedRequest {
    /// The first value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Faults to inject. Requests are counted from 1 across the whole server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Every n-th request gets 429 with `Retry-After: retry_after_secs`.
    pub throttle_every: Option<u64>,
    /// The `Retry-After` of throttled responses, in seconds.
    pub retry_after_secs: u64,
    /// In every window of `unavailable_every` requests, the last
    /// `unavailable_burst` get 503.
    pub unavailable_every: Option<u64>,
    /// How many requests of a window get 503.
    pub unavailable_burst: u64,
    /// Every response waits this long first.
    pub delay: Option<Duration>,
    /// Every n-th successful page is cut off in the middle of its body.
    pub close_mid_body_every: Option<u64>,
    /// A bearer token is accepted for this many requests, then gets 401.
    pub token_expires_after: Option<u64>,
}

/// Configures and starts a [`FakePartnerCenter`].
#[derive(Debug)]
pub struct Builder {
    customers: Vec<(String, Vec<FakeUser>)>,
    addr: SocketAddr,
    allow_remote: bool,
    v1_links: bool,
    bom: bool,
    faults: Faults,
    max_page_size: u16,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            customers: Vec::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            allow_remote: false,
            v1_links: false,
            bom: false,
            faults: Faults::default(),
            max_page_size: 500,
        }
    }
}

impl Builder {
    /// Adds a customer with these users (active and deleted).
    pub fn customer(mut self, id: impl Into<String>, users: Vec<FakeUser>) -> Self {
        self.customers.push((id.into(), users));
        self
    }

    /// The address to listen on; the default is `127.0.0.1:0` (a free port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Allows listening on an address other than loopback. The fake has no
    /// security: only do this on a network you trust.
    pub fn allow_remote(mut self, allow: bool) -> Self {
        self.allow_remote = allow;
        self
    }

    /// Next links start with `/v1` (the other shape the live service sends).
    pub fn v1_links(mut self, v1: bool) -> Self {
        self.v1_links = v1;
        self
    }

    /// Bodies start with a UTF-8 byte order mark, as the live service's do.
    pub fn bom(mut self, bom: bool) -> Self {
        self.bom = bom;
        self
    }

    /// The largest `size` accepted; the live service's is 500 (the default).
    /// Benchmarks raise it to decode larger pages.
    pub fn max_page_size(mut self, size: u16) -> Self {
        self.max_page_size = size.max(1);
        self
    }

    /// Faults to inject.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Starts serving on the current Tokio runtime.
    pub async fn start(self) -> std::io::Result<FakePartnerCenter> {
        if !self.addr.ip().is_loopback() && !self.allow_remote {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "pc-fake only listens on loopback; {} is not a loopback address (use allow_remote / --allow-remote to override)",
                    self.addr.ip()
                ),
            ));
        }
        let listener = tokio::net::TcpListener::bind(self.addr).await?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = server::Shared::new(
            self.customers,
            server::Options {
                max_page_size: self.max_page_size,
                v1_links: self.v1_links,
                bom: self.bom,
                faults: self.faults,
            },
            requests.clone(),
        );
        let app = server::router(shared);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakePartnerCenter {
            addr,
            requests,
            task,
        })
    }
}

/// A running fake Partner Center. Stops when dropped.
#[derive(Debug)]
pub struct FakePartnerCenter {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakePartnerCenter {
    /// Starts configuring a fake.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The base URL to give a client, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the fake listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests received so far, in order (the latest 100,000 at most;
    /// bodies over 1 MiB are refused with 413 and recorded empty).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// How many requests were received so far.
    pub fn request_count(&self) -> usize {
        self.requests.lock().map(|r| r.len()).unwrap_or_default()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        if let Ok(mut requests) = self.requests.lock() {
            requests.clear();
        }
    }

    /// Serves until the task is cancelled (for the binary).
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for FakePartnerCenter {
    fn drop(&mut self) {
        self.task.abort();
    }
}
