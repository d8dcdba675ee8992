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
//! It also plays **Microsoft Entra ID** when sign-in is configured
//! ([`Builder::sign_in`]): `POST /{tenant}/oauth2/v2.0/token` exchanges
//! refresh tokens (rotating them) for App+User access tokens and client
//! credentials for app-only ones, with Entra ID's replies and `AADSTS`
//! errors; the API then accepts only the access tokens it issued, until they
//! expire (in seconds, or in requests with [`Builder::access_token_uses`]).
//! So `pc_api::auth::RefreshTokenCredential` runs its whole flow against
//! it, with `.authority_host(fake.base_url())`.
//!
//! At **partner scale**, [`Builder::generated_customers`] adds thousands of
//! customers with skewed numbers of users (derived on demand, so a million
//! users cost little memory), some without a relationship or deleted, and
//! [`Builder::partner_rate`] puts a partner-wide request budget in front
//! of them (429 with `Retry-After` beyond it; see [`FakePartnerCenter::counters`]).
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
mod partner;
mod server;
mod signin;
mod state;
mod tenant;
mod token;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::customer::CustomerAccess;
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

/// The partner tenant of [`Builder::default_sign_in`] (the binary's
/// `--sign-in` and the `list_users` example use it).
pub const DEFAULT_PARTNER_TENANT: &str = "contoso-partner.onmicrosoft.com";

/// The application (client) id of [`Builder::default_sign_in`].
pub const DEFAULT_CLIENT_ID: &str = "5f1c2a9e-7a3b-4e7c-9d2f-8b6a1c0e3d4f";

/// The client secret of [`Builder::default_sign_in`].
pub const DEFAULT_CLIENT_SECRET: &str = "pc-fake-client-secret";

/// The refresh token [`Builder::default_sign_in`] starts with, as if an
/// agent had signed in once, interactively.
pub const DEFAULT_REFRESH_TOKEN: &str = "0.AAAA-pc-fake-initial-refresh-token";

/// The access-token lifetime unless configured: 3,599 seconds, what Entra
/// ID's replies usually say (notes §12).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3599);

/// What the fake counted since it started (or since
/// [`FakePartnerCenter::reset_counters`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// API requests received (every request but the token endpoint's).
    pub api_requests: u64,
    /// API requests answered with something else than 429.
    pub served: u64,
    /// API requests answered 429: by the partner-wide budget or by
    /// [`Faults::throttle_every`].
    pub throttled: u64,
    /// API requests answered 429 by the partner-wide budget.
    pub budget_throttled: u64,
    /// API requests answered 401 (no token, an unknown or expired one, no MFA).
    pub unauthorized: u64,
    /// Requests to the token endpoint.
    pub token_requests: u64,
    /// Access tokens issued.
    pub tokens_issued: u64,
    /// Token requests refused (an Entra ID error).
    pub token_errors: u64,
}

/// A customer of a running fake, as [`FakePartnerCenter::customers`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerInfo {
    /// The customer (tenant) id.
    pub id: String,
    /// The company name.
    pub company_name: String,
    /// The domain.
    pub domain: String,
    /// Active users now.
    pub users: usize,
    /// Deleted (inactive) users now.
    pub deleted_users: usize,
    /// Whether the partner may act in the tenant.
    pub access: CustomerAccess,
}

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

/// Faults to inject. API requests are counted from 1 across the whole
/// server; requests to the token endpoint are not counted and get no fault.
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
    generated: Option<(usize, u64)>,
    generated_without_relationship: usize,
    generated_deleted: usize,
    partner_rate: Option<f64>,
    partner_burst: Option<u32>,
    sign_in: Option<SignInSetup>,
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

/// The sign-in part of a [`Builder`].
#[derive(Debug)]
struct SignInSetup {
    tenant: String,
    aliases: Vec<String>,
    apps: Vec<(String, String)>,
    refresh_tokens: Vec<(Option<String>, String)>,
    lifetime: Duration,
    uses: Option<u64>,
    mfa: bool,
    keep_rotated: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            customers: Vec::new(),
            generated: None,
            generated_without_relationship: 0,
            generated_deleted: 0,
            partner_rate: None,
            partner_burst: None,
            sign_in: None,
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
    /// subscribed SKUs. With [`sign_in`](Self::sign_in), only tokens the
    /// fake issued are accepted (the client-credentials grant's are
    /// App-only), so a token given here gets 401.
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

    /// Adds `count` generated customers of the partner `seed` after the
    /// ones added with [`customer`](Self::customer): deterministic ids,
    /// company names, distinct `*.onmicrosoft.com` domains and skewed
    /// numbers of users (most have 2–60, a fifth 60–600, 4% 600–3,000 and
    /// 0.4% 10,000–40,000: about 200 on average, so 500 customers have about
    /// 100,000 users), plus about 5% deleted users each. Their users are
    /// derived on demand from (seed, customer, index) and stored only once a
    /// request changes them, so 5,000 customers (a million users) take a few
    /// megabytes. The distribution is the fake's choice.
    pub fn generated_customers(mut self, count: usize, seed: u64) -> Self {
        self.generated = Some((count, seed));
        self
    }

    /// Marks `count` of the [generated customers](Self::generated_customers),
    /// picked from the seed, as without a relationship (403 20002, as
    /// [`without_relationship`](Self::without_relationship)).
    pub fn customers_without_relationship(mut self, count: usize) -> Self {
        self.generated_without_relationship = count;
        self
    }

    /// Marks `count` other [generated customers](Self::generated_customers),
    /// picked from the seed, as deleted (404 60003, as
    /// [`deleted_customer`](Self::deleted_customer)).
    pub fn deleted_customers(mut self, count: usize) -> Self {
        self.generated_deleted = count;
        self
    }

    /// A partner-wide budget of API requests: at most `per_second` requests
    /// a second across all customers, a token bucket that holds
    /// [`partner_burst`](Self::partner_burst) requests (default: one
    /// second's worth, at least 1), full at the start. A request beyond it
    /// gets 429 with `Retry-After` (the whole seconds until a request would
    /// be admitted, at least 1) and the documented body
    /// `{"statusCode":429,"message":"Rate limit is exceeded. Try again in N seconds."}`;
    /// refused requests take nothing from the budget. The token endpoint is
    /// not counted. The numbers are the fake's: the service publishes none.
    pub fn partner_rate(mut self, per_second: f64) -> Self {
        self.partner_rate = Some(per_second);
        self
    }

    /// How many requests the partner-wide budget lets through at once after
    /// a quiet period (default: [`partner_rate`](Self::partner_rate) rounded
    /// up, at least 1).
    pub fn partner_burst(mut self, requests: u32) -> Self {
        self.partner_burst = Some(requests.max(1));
        self
    }

    /// Turns on sign-in ("strict auth"): the fake serves Microsoft Entra ID's
    /// token endpoint, `POST /{tenant}/oauth2/v2.0/token`, for the partner
    /// tenant `tenant` (an id or a domain; see [`tenant_alias`](Self::tenant_alias))
    /// and the application `client_id` with `client_secret`, and the API
    /// accepts only the access tokens it issued, until they expire (others
    /// get 401 with code 400, "Access denied"). Give the application a
    /// refresh token with [`refresh_token`](Self::refresh_token).
    pub fn sign_in(
        mut self,
        tenant: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        let setup = self.sign_in.get_or_insert_with(|| SignInSetup {
            tenant: String::new(),
            aliases: Vec::new(),
            apps: Vec::new(),
            refresh_tokens: Vec::new(),
            lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            uses: None,
            mfa: true,
            keep_rotated: true,
        });
        setup.tenant = tenant.into();
        let app = (client_id.into(), client_secret.into());
        setup
            .apps
            .retain(|(id, _)| !id.eq_ignore_ascii_case(&app.0));
        setup.apps.insert(0, app);
        self
    }

    /// Sign-in with [`DEFAULT_PARTNER_TENANT`], [`DEFAULT_CLIENT_ID`],
    /// [`DEFAULT_CLIENT_SECRET`] and the refresh token
    /// [`DEFAULT_REFRESH_TOKEN`].
    pub fn default_sign_in(self) -> Self {
        self.sign_in(
            DEFAULT_PARTNER_TENANT,
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
        )
        .refresh_token(DEFAULT_REFRESH_TOKEN)
    }

    fn sign_in_setup(&mut self) -> &mut SignInSetup {
        self.sign_in.get_or_insert_with(|| SignInSetup {
            tenant: String::new(),
            aliases: Vec::new(),
            apps: Vec::new(),
            refresh_tokens: Vec::new(),
            lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            uses: None,
            mfa: true,
            keep_rotated: true,
        })
    }

    /// Another name of the partner tenant the token endpoint answers to
    /// (its domain when [`sign_in`](Self::sign_in) got its id, or the other
    /// way round). Other tenants get `AADSTS90002`.
    pub fn tenant_alias(mut self, name: impl Into<String>) -> Self {
        self.sign_in_setup().aliases.push(name.into());
        self
    }

    /// Registers another application of the partner tenant (a refresh token
    /// of one application sent with another's client id gets
    /// `AADSTS700007`).
    pub fn application(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.sign_in_setup()
            .apps
            .push((client_id.into(), client_secret.into()));
        self
    }

    /// A refresh token of the [`sign_in`](Self::sign_in) application, as
    /// an agent's one-time interactive sign-in would give it (repeatable).
    pub fn refresh_token(mut self, token: impl Into<String>) -> Self {
        self.sign_in_setup()
            .refresh_tokens
            .push((None, token.into()));
        self
    }

    /// A refresh token of another [`application`](Self::application).
    pub fn refresh_token_for(
        mut self,
        client_id: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        self.sign_in_setup()
            .refresh_tokens
            .push((Some(client_id.into()), token.into()));
        self
    }

    /// How long issued access tokens are valid, in whole seconds (at least
    /// 1; default 3,599): `expires_in` says it, and the API answers 401
    /// after it.
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.sign_in_setup().lifetime = Duration::from_secs(lifetime.as_secs().max(1));
        self
    }

    /// Issued access tokens are good for `requests` API requests, then get
    /// 401 (code 400), whatever `expires_in` said: a token that expires or
    /// is revoked in the middle of a listing, for tests.
    pub fn access_token_uses(mut self, requests: u64) -> Self {
        self.sign_in_setup().uses = Some(requests);
        self
    }

    /// App+User tokens are issued without MFA (`amr` without `mfa`), and the
    /// API answers them 401 with code 900421, as secondary sources report
    /// the service does since MFA became mandatory (notes §12).
    pub fn without_mfa(mut self, without: bool) -> Self {
        self.sign_in_setup().mfa = !without;
        self
    }

    /// Whether a refresh token stays valid after it was exchanged for a
    /// rotated one (default `true`: Entra ID does not revoke it, notes §12).
    pub fn keep_rotated_refresh_tokens(mut self, keep: bool) -> Self {
        self.sign_in_setup().keep_rotated = keep;
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
        let generated = match self.generated {
            Some((count, seed)) => partner::generate_customers(count, seed)
                .into_iter()
                .enumerate()
                .map(|(n, c)| (c, seed, n))
                .collect(),
            None => Vec::new(),
        };
        let (marked_without, marked_deleted) = match self.generated {
            Some((count, seed)) => partner::marked_customers(
                count,
                seed,
                self.generated_without_relationship,
                self.generated_deleted,
            ),
            None => (Vec::new(), Vec::new()),
        };
        let known = |id: &str| {
            self.customers
                .iter()
                .any(|(c, _)| c.eq_ignore_ascii_case(id))
                || generated
                    .iter()
                    .any(|(c, _, _): &(partner::Generated, u64, usize)| {
                        c.id.eq_ignore_ascii_case(id)
                    })
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
        let sign_in = match self.sign_in {
            None => None,
            Some(setup) => {
                if setup.tenant.trim().is_empty() || setup.apps.is_empty() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "pc-fake: sign-in needs `sign_in(tenant, client_id, client_secret)`",
                    ));
                }
                let main = setup.apps[0].0.clone();
                let mut tenants: Vec<String> = std::iter::once(&setup.tenant)
                    .chain(&setup.aliases)
                    .map(|t| t.to_ascii_lowercase())
                    .collect();
                tenants.dedup();
                Some(signin::SignInConfig {
                    tenants,
                    apps: setup.apps,
                    refresh_tokens: setup
                        .refresh_tokens
                        .into_iter()
                        .map(|(app, token)| (app.unwrap_or_else(|| main.clone()), token))
                        .collect(),
                    lifetime: setup.lifetime,
                    uses: setup.uses,
                    mfa: setup.mfa,
                    keep_rotated: setup.keep_rotated,
                })
            }
        };
        let budget = match self.partner_rate {
            None => None,
            Some(rate) if rate.is_finite() && rate > 0.0 => {
                let burst = self
                    .partner_burst
                    .map(f64::from)
                    .unwrap_or_else(|| rate.ceil().max(1.0));
                Some(partner::Budget::new(rate, burst, std::time::Instant::now()))
            }
            Some(rate) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("pc-fake: partner_rate({rate}) must be a positive number"),
                ));
            }
        };
        let marked = |list: &[String], id: &str| list.iter().any(|m| m.eq_ignore_ascii_case(id));
        let access_of = |id: &str, without: bool, deleted: bool| {
            if deleted || marked(&self.deleted, id) {
                CustomerAccess::Deleted
            } else if without || marked(&self.without_relationship, id) {
                CustomerAccess::NoRelationship
            } else {
                CustomerAccess::Granted
            }
        };
        let company_of = |id: &str| {
            self.companies
                .iter()
                .rev()
                .find(|(c, _, _)| c.eq_ignore_ascii_case(id))
                .map(|(_, name, domain)| (name.clone(), domain.clone()))
        };
        let generated_setups: Vec<server::CustomerSetup> = generated
            .into_iter()
            .map(|(c, seed, n)| {
                let access = access_of(
                    &c.id,
                    marked_without.binary_search(&n).is_ok(),
                    marked_deleted.binary_search(&n).is_ok(),
                );
                let company = company_of(&c.id).or(Some((c.company_name, c.domain.clone())));
                server::CustomerSetup {
                    users: server::Users::Derived(tenant::Derived::new(
                        seed, n as u64, c.users, c.domain,
                    )),
                    id: c.id,
                    company,
                    access,
                }
            })
            .collect();
        let setups = self
            .customers
            .into_iter()
            .map(|(id, users)| {
                let access = access_of(&id, false, false);
                let company = company_of(&id);
                server::CustomerSetup {
                    id,
                    users: server::Users::Given(users),
                    company,
                    access,
                }
            })
            .chain(generated_setups)
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
            sign_in.map(signin::Entra::new),
            budget,
        );
        let app = server::router(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakePartnerCenter {
            addr,
            requests,
            shared,
            task,
        })
    }
}

/// A running fake Partner Center. Stops when dropped.
pub struct FakePartnerCenter {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    shared: Arc<server::Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakePartnerCenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePartnerCenter")
            .field("addr", &self.addr)
            .field("sign_in", &self.shared.entra.is_some())
            .finish_non_exhaustive()
    }
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

    /// What the fake counted: API requests served and throttled, 401s,
    /// token requests and tokens issued.
    pub fn counters(&self) -> Counters {
        self.shared.stats.snapshot()
    }

    /// Sets every counter back to 0.
    pub fn reset_counters(&self) {
        self.shared.stats.reset();
    }

    /// The customers in the order `GET /v1/customers` lists them, with
    /// their current numbers of users and their access.
    pub fn customers(&self) -> Vec<CustomerInfo> {
        self.shared.customer_infos()
    }

    /// The token endpoint's URL for the partner tenant `tenant`
    /// (`{base}/{tenant}/oauth2/v2.0/token`).
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.base_url())
    }

    /// Revokes every refresh token, issued or configured ("revoke all
    /// sessions"): exchanging one gets 400 `invalid_grant` `AADSTS700082`.
    /// Access tokens already issued stay valid until they expire. Does
    /// nothing without [`Builder::sign_in`].
    pub fn revoke_refresh_tokens(&self) {
        if let Some(entra) = &self.shared.entra {
            entra.revoke_refresh_tokens();
        }
    }

    /// A new refresh token of the [`Builder::sign_in`] application, as an
    /// agent's new interactive sign-in would give it (e.g. after
    /// [`revoke_refresh_tokens`](Self::revoke_refresh_tokens)); `None`
    /// without sign-in.
    pub fn new_refresh_token(&self) -> Option<String> {
        self.shared.entra.as_ref().map(|e| e.new_refresh_token())
    }

    /// Makes every access token issued so far expired: the API answers
    /// them 401 (code 400).
    pub fn expire_access_tokens(&self) {
        if let Some(entra) = &self.shared.entra {
            entra.expire_access_tokens();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// 5,000 generated customers (about a million users) keep no user in
    /// memory: reading a tenant derives its users; only a change stores them.
    #[tokio::test]
    async fn generated_tenants_are_materialized_only_when_changed() {
        let fake = FakePartnerCenter::builder()
            .generated_customers(5_000, 3)
            .start()
            .await
            .expect("fake starts");
        assert_eq!(fake.shared.derived_tenants(), 5_000);
        let largest = fake
            .customers()
            .into_iter()
            .max_by_key(|c| c.users)
            .expect("customers");
        assert!(largest.users >= 10_000, "{}", largest.users);
        let client = pc_api::Client::builder()
            .base_url(fake.base_url())
            .bearer_token("t")
            .build()
            .expect("client");
        let page = client
            .get_customer_users(&largest.id)
            .size(500)
            .send()
            .await
            .expect("a page");
        let user = page.items[123].id.clone().expect("id");
        let fetched = client
            .get_customer_user(&largest.id, &user)
            .send()
            .await
            .expect("by id");
        assert_eq!(fetched.id.as_deref(), Some(user.as_str()));
        assert_eq!(fake.shared.derived_tenants(), 5_000, "reads store nothing");
        client
            .delete_user(&largest.id, &user)
            .await
            .expect("delete");
        assert_eq!(fake.shared.derived_tenants(), 4_999);
        let after = client
            .get_customer_users(&largest.id)
            .size(500)
            .send()
            .await
            .expect("a page");
        let ids = |items: &[pc_api::types::CustomerUser]| -> Vec<Option<String>> {
            items.iter().map(|u| u.id.clone()).collect()
        };
        // The same order, without the deleted user.
        let mut expected = ids(&page.items);
        expected.remove(123);
        assert_eq!(ids(&after.items)[..499], expected[..]);
    }
}
