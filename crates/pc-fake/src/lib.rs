//! `pc-fake`: an embedded fake of the Microsoft Partner Center REST API, for
//! demos, tests and benchmarks of `pc-api`, like Azurite for Azure Storage.
//!
//! It serves every operation of `spec/partner-center.yaml` the way the real
//! service does according to the project's partner-center notes:
//!
//! - the partner's customers (`GET /v1/customers`, with the `StartsWith`
//!   filter on `CompanyName` or `Domain`; `GET /v1/customers/{id}`);
//! - a customer's users: list (sorting by `DisplayName` or
//!   `UserPrincipalName`, the deleted-users `filter`), get, create, update,
//!   reset, delete, restore;
//! - directory roles: the tenant's roles, a user's roles, a role's members,
//!   adding and removing a member;
//! - licenses: the tenant's subscribed SKUs (counts following what is
//!   assigned), a user's licenses, assigning and removing them.
//!
//! Listings are seek-paged with relative next links and opaque
//! `MS-ContinuationToken`s that contain `/`, `+`, `=` and `,`; `size`
//! defaults to 100 (`size=0` too) and is at most 500, a maximum that is the
//! fake's choice ([`Builder::max_page_size`]): the service documents none.
//! Errors are `ApiFault`s with the documented codes: 401 800001 without a
//! bearer token, 403 20002 for a customer without a relationship
//! ([`Builder::without_relationship`]), 404 60003 for an unknown or deleted
//! tenant ([`Builder::deleted_customer`]), 404 60002 for an unknown user, 400
//! 800002 for bad input, 400 60012 when a license pool runs out, and 403
//! "This resource can't be accessed by application credentials." (no code:
//! the notes give none) for App-only tokens ([`Builder::app_only_token`]) on
//! the customer-user operations. Faults the notes give no code for carry
//! none. `MS-RequestId`/`MS-CorrelationId` are echoed and an `MS-CV` added;
//! a create, update or delete repeated with the same `MS-RequestId` gets the
//! original answer. Faults can be injected: throttling, bursts of 503, slow
//! and cut-off responses, and tokens that expire.
//!
//! Where the fake guesses or departs from the service is listed in the
//! crate's README.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! let fake = pc_fake::FakePartnerCenter::builder()
//!     .customer("4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04", pc_fake::generate_users(1000, 42, "contoso.onmicrosoft.com"))
//!     .company("4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04", "Contoso Ltd.", "contoso.onmicrosoft.com")
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

mod customer;
mod server;
mod state;
mod tenant;
mod token;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::tenant::{FakeUser, generate_users};

/// The customer id of the documented examples, used by the binary and the
/// `list_users` example.
pub const DEFAULT_CUSTOMER: &str = "4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04";

/// The company name of [`DEFAULT_CUSTOMER`] in the binary and the
/// `list_users` example (and the name derived from [`DEFAULT_DOMAIN`]).
pub const DEFAULT_COMPANY_NAME: &str = "Contoso Ltd.";

/// The domain of [`DEFAULT_CUSTOMER`]'s users in the binary and the
/// `list_users` example.
pub const DEFAULT_DOMAIN: &str = "contoso.onmicrosoft.com";

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
    companies: Vec<(String, String, String)>,
    without_relationship: Vec<String>,
    deleted: Vec<String>,
    app_only_tokens: HashSet<String>,
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
            companies: Vec::new(),
            without_relationship: Vec::new(),
            deleted: Vec::new(),
            app_only_tokens: HashSet::new(),
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
    /// Adds a customer with these users (active and deleted). Customers are
    /// listed by `GET /v1/customers` in the order they are added. Its
    /// company's domain is the most common domain of its users' principal
    /// names (`customer<id>.onmicrosoft.com` without users) and its name is
    /// derived from the domain (`contoso.onmicrosoft.com` → `Contoso Ltd.`),
    /// unless [`company`](Self::company) gives them.
    pub fn customer(mut self, id: impl Into<String>, users: Vec<FakeUser>) -> Self {
        self.customers.push((id.into(), users));
        self
    }

    /// Gives the customer `id` (added with [`customer`](Self::customer),
    /// before or after) an explicit company name and domain, which
    /// `GET /v1/customers` and its filter use.
    pub fn company(
        mut self,
        id: impl Into<String>,
        company_name: impl Into<String>,
        domain: impl Into<String>,
    ) -> Self {
        self.companies
            .push((id.into(), company_name.into(), domain.into()));
        self
    }

    /// Marks the customer `id` as one without a relationship to the partner
    /// (it removed the partner): it is still listed by `GET /v1/customers`
    /// (with `allowDelegatedAccess: false`), and every request under
    /// `/v1/customers/{id}` gets 403 with fault code 20002, "No relationship
    /// between caller and account.".
    pub fn without_relationship(mut self, id: impl Into<String>) -> Self {
        self.without_relationship.push(id.into());
        self
    }

    /// Marks the customer `id` as deleted: it is still listed by
    /// `GET /v1/customers` (as a listing taken before the deletion would
    /// list it), and every request under `/v1/customers/{id}` gets 404 with
    /// fault code 60003, "Tenant not found.", as an unknown id does.
    pub fn deleted_customer(mut self, id: impl Into<String>) -> Self {
        self.deleted.push(id.into());
        self
    }

    /// Marks a bearer token as App-only: it gets 403 with the description
    /// "This resource can't be accessed by application credentials." (and no
    /// `code`: the notes give none) on the customer-user operations (users,
    /// a user's roles, licenses and license updates, a role's members), and
    /// works on `GET /v1/customers`, a customer, its roles and its
    /// subscribed SKUs.
    pub fn app_only_token(mut self, token: impl Into<String>) -> Self {
        self.app_only_tokens.insert(token.into());
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

    /// The largest `size` accepted (default 500); larger sizes get 400. The
    /// maximum is the fake's choice: no maximum is documented for the live
    /// service (500 comes from older tools). Benchmarks raise it to decode
    /// larger pages.
    pub fn max_page_size(mut self, size: u16) -> Self {
        self.max_page_size = size.max(1);
        self
    }

    /// Faults to inject.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Starts serving on the current Tokio runtime. Fails if
    /// [`company`](Self::company), [`without_relationship`](Self::without_relationship)
    /// or [`deleted_customer`](Self::deleted_customer) names a customer that
    /// was not added.
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
        let known = |id: &str| {
            self.customers
                .iter()
                .any(|(c, _)| c.eq_ignore_ascii_case(id))
        };
        let named = self
            .companies
            .iter()
            .map(|(id, _, _)| ("company", id))
            .chain(
                self.without_relationship
                    .iter()
                    .map(|id| ("without_relationship", id)),
            )
            .chain(self.deleted.iter().map(|id| ("deleted_customer", id)));
        for (method, id) in named {
            if !known(id) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("pc-fake: {method}({id:?}) names a customer that was not added"),
                ));
            }
        }
        let marked = |list: &[String], id: &str| list.iter().any(|m| m.eq_ignore_ascii_case(id));
        let setups = self
            .customers
            .into_iter()
            .map(|(id, users)| {
                let access = if marked(&self.deleted, &id) {
                    customer::Access::Deleted
                } else if marked(&self.without_relationship, &id) {
                    customer::Access::NoRelationship
                } else {
                    customer::Access::Granted
                };
                let company = self
                    .companies
                    .iter()
                    .rev()
                    .find(|(c, _, _)| c.eq_ignore_ascii_case(&id))
                    .map(|(_, name, domain)| (name.clone(), domain.clone()));
                server::CustomerSetup {
                    id,
                    users,
                    company,
                    access,
                }
            })
            .collect();
        let listener = tokio::net::TcpListener::bind(self.addr).await?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = server::Shared::new(
            setups,
            server::Options {
                max_page_size: self.max_page_size,
                v1_links: self.v1_links,
                bom: self.bom,
                faults: self.faults,
                app_only_tokens: self.app_only_tokens,
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
