//! The HTTP side of the fake: routing, validation, pages, errors and faults.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

use crate::customer::{self, Customer, CustomerAccess as Access};
use crate::partner::Budget;
use crate::signin::{Entra, TokenCheck};
use crate::state::{self, LicenseUpdateInput, MemberInput, Tenant, UserInput};
use crate::tenant::{Derived, FakeUser};
use crate::token::{self, Position};
use crate::{Counters, Faults, RecordedRequest};

/// The largest request body the fake reads.
const MAX_BODY: usize = 1024 * 1024;
/// How many requests the fake remembers (see `FakePartnerCenter::requests`).
const MAX_RECORDED: usize = 100_000;
/// How many answers to creates, updates and deletes the fake keeps for
/// repeated `MS-RequestId`s (the fake's choice: the service documents no window).
const MAX_REPLIES: usize = 10_000;
/// The page size without `size` or with `size=0` (notes §1.3, §13).
const DEFAULT_PAGE_SIZE: u16 = 100;
/// The scope of the continuation tokens of `GET /v1/customers`.
const CUSTOMERS_SCOPE: &str = "partner/customers";
/// The description of the 403 an App-only token gets on the customer-user
/// endpoints (notes §4, §12); the notes give no code, so none is sent.
const APP_ONLY: &str = "This resource can't be accessed by application credentials.";
/// The description of the 401 an App+User token without MFA gets, with the
/// code 900421 that secondary sources report (notes §12); the text is the
/// fake's.
const NO_MFA: &str = "Multi-factor authentication is required: the access token was issued to a sign-in without MFA.";

pub(crate) struct Options {
    pub(crate) max_page_size: u16,
    pub(crate) v1_links: bool,
    pub(crate) bom: bool,
    pub(crate) faults: Faults,
    pub(crate) app_only_tokens: HashSet<String>,
}

/// A customer as the builder configured it.
pub(crate) struct CustomerSetup {
    pub(crate) id: String,
    pub(crate) users: Users,
    pub(crate) company: Option<(String, String)>,
    pub(crate) access: Access,
}

/// The users of a customer: given, or derived on demand.
pub(crate) enum Users {
    Given(Vec<FakeUser>),
    Derived(Derived),
}

pub(crate) struct Shared {
    /// The partner's customers, in the order they were added.
    customers: Vec<Customer>,
    /// Lowercase customer id → index in `customers` and `tenants`.
    by_id: HashMap<String, usize>,
    tenants: Vec<Mutex<Tenant>>,
    created: AtomicU64,
    options: Options,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    counter: AtomicU64,
    token_uses: Mutex<HashMap<String, u64>>,
    replies: Mutex<Replies>,
    /// Entra ID, when sign-in is configured ("strict auth").
    pub(crate) entra: Option<Entra>,
    /// The partner-wide request budget, when configured.
    budget: Option<Mutex<Budget>>,
    pub(crate) stats: Stats,
}

/// The counters behind [`Counters`].
#[derive(Default)]
pub(crate) struct Stats {
    api_requests: AtomicU64,
    throttled: AtomicU64,
    budget_throttled: AtomicU64,
    unauthorized: AtomicU64,
    token_requests: AtomicU64,
    tokens_issued: AtomicU64,
    token_errors: AtomicU64,
}

impl Stats {
    pub(crate) fn snapshot(&self) -> Counters {
        let get = |c: &AtomicU64| c.load(Ordering::SeqCst);
        let api_requests = get(&self.api_requests);
        let throttled = get(&self.throttled);
        Counters {
            api_requests,
            served: api_requests.saturating_sub(throttled),
            throttled,
            budget_throttled: get(&self.budget_throttled),
            unauthorized: get(&self.unauthorized),
            token_requests: get(&self.token_requests),
            tokens_issued: get(&self.tokens_issued),
            token_errors: get(&self.token_errors),
        }
    }

    pub(crate) fn reset(&self) {
        for counter in [
            &self.api_requests,
            &self.throttled,
            &self.budget_throttled,
            &self.unauthorized,
            &self.token_requests,
            &self.tokens_issued,
            &self.token_errors,
        ] {
            counter.store(0, Ordering::SeqCst);
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// What identifies a repeated request: `MS-RequestId`, method, path and a
/// hash of the body.
type ReplyKey = (String, String, String, u64);

/// The answers to requests that change state, by `MS-RequestId`, method,
/// path and body: a repeated request gets the original answer and changes
/// nothing again, the idempotency the header is documented for ("Used for
/// idempotency of requests"). The same `MS-RequestId` with another body is
/// a new request (the service documents neither case; a client's retry
/// repeats the body).
#[derive(Default)]
struct Replies {
    answers: HashMap<ReplyKey, (StatusCode, Vec<u8>)>,
    order: VecDeque<ReplyKey>,
}

impl Replies {
    fn get(&self, key: &ReplyKey) -> Option<(StatusCode, Vec<u8>)> {
        self.answers.get(key).cloned()
    }

    fn insert(&mut self, key: ReplyKey, answer: (StatusCode, Vec<u8>)) {
        if self.answers.insert(key.clone(), answer).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > MAX_REPLIES {
            if let Some(oldest) = self.order.pop_front() {
                self.answers.remove(&oldest);
            }
        }
    }
}

impl Shared {
    pub(crate) fn new(
        setups: Vec<CustomerSetup>,
        options: Options,
        requests: Arc<Mutex<Vec<RecordedRequest>>>,
        entra: Option<Entra>,
        budget: Option<Budget>,
    ) -> Arc<Self> {
        let mut customers = Vec::with_capacity(setups.len());
        let mut tenants = Vec::with_capacity(setups.len());
        let mut by_id = HashMap::with_capacity(setups.len());
        for setup in setups {
            let (customer, tenant) = match setup.users {
                Users::Given(users) => (
                    Customer::new(setup.id.clone(), &users, setup.company, setup.access),
                    Tenant::new(setup.id.clone(), users),
                ),
                Users::Derived(derived) => {
                    let company = setup.company.unwrap_or_else(|| {
                        let domain = derived.domain.clone();
                        (customer::company_name_of(&domain), domain)
                    });
                    (
                        Customer::new(setup.id.clone(), &[], Some(company), setup.access),
                        Tenant::derived(setup.id.clone(), derived),
                    )
                }
            };
            let tenant = Mutex::new(tenant);
            // A customer added twice keeps its first place and its last setup.
            match by_id.get(&setup.id.to_ascii_lowercase()) {
                Some(&index) => {
                    customers[index] = customer;
                    tenants[index] = tenant;
                }
                None => {
                    by_id.insert(setup.id.to_ascii_lowercase(), customers.len());
                    customers.push(customer);
                    tenants.push(tenant);
                }
            }
        }
        Arc::new(Shared {
            customers,
            by_id,
            tenants,
            options,
            requests,
            counter: AtomicU64::new(0),
            created: AtomicU64::new(0),
            token_uses: Mutex::new(HashMap::new()),
            replies: Mutex::new(Replies::default()),
            entra,
            budget: budget.map(Mutex::new),
            stats: Stats::default(),
        })
    }

    /// The customers with their current numbers of users.
    pub(crate) fn customer_infos(&self) -> Vec<crate::CustomerInfo> {
        self.customers
            .iter()
            .zip(&self.tenants)
            .map(|(customer, tenant)| {
                let (users, deleted_users) = tenant.lock().map(|t| t.counts()).unwrap_or_default();
                crate::CustomerInfo {
                    id: customer.id.clone(),
                    company_name: customer.company_name.clone(),
                    domain: customer.domain.clone(),
                    users,
                    deleted_users,
                    access: customer.access,
                }
            })
            .collect()
    }

    /// Whether the users of each customer are still derived on demand.
    #[cfg(test)]
    pub(crate) fn derived_tenants(&self) -> usize {
        self.tenants
            .iter()
            .filter(|t| t.lock().is_ok_and(|t| t.is_derived()))
            .count()
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// An `ApiFault` body with a code the notes document (§5, §13).
fn fault(status: StatusCode, code: u64, description: &str) -> (StatusCode, Vec<u8>) {
    let body = serde_json::json!({ "code": code, "description": description, "data": [], "source": "PartnerFD" });
    (status, serde_json::to_vec(&body).unwrap_or_default())
}

/// An `ApiFault` body without `code`, for the faults whose code the notes
/// do not give: the fake does not invent one (see the crate's README).
fn fault_without_code(status: StatusCode, description: &str) -> (StatusCode, Vec<u8>) {
    let body = serde_json::json!({ "description": description, "data": [], "source": "PartnerFD" });
    (status, serde_json::to_vec(&body).unwrap_or_default())
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    // The token endpoint of the fake's Entra ID, when sign-in is configured:
    // not an API request (no number, no faults, no budget).
    let token_tenant = shared
        .entra
        .as_ref()
        .and_then(|_| crate::signin::token_path(request.uri().path()))
        .map(str::to_owned);
    let number = match token_tenant {
        Some(_) => 0,
        None => shared.counter.fetch_add(1, Ordering::SeqCst) + 1,
    };
    let (parts, body) = request.into_parts();
    // Bodies over 1 MiB are refused with 413, not read.
    let (body, too_large) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => (body, false),
        Err(_) => (Bytes::new(), true),
    };
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    if let Ok(mut requests) = shared.requests.lock() {
        // The log of a long-running fake is bounded: the oldest requests go.
        if requests.len() >= MAX_RECORDED {
            requests.drain(..MAX_RECORDED / 2);
        }
        requests.push(recorded.clone());
    }
    if let (Some(tenant), Some(entra)) = (token_tenant, &shared.entra) {
        bump(&shared.stats.token_requests);
        let reply = entra.token(&tenant, &recorded);
        bump(if reply.issued {
            &shared.stats.tokens_issued
        } else {
            &shared.stats.token_errors
        });
        return token_response(reply);
    }
    bump(&shared.stats.api_requests);
    // The partner-wide budget counts requests when they arrive.
    let refused = shared.budget.as_ref().and_then(|budget| {
        budget
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(std::time::Instant::now())
            .err()
    });
    if let Some(retry_after) = refused {
        bump(&shared.stats.budget_throttled);
        bump(&shared.stats.throttled);
        let (status, body) = throttled(retry_after);
        return finish(
            &shared,
            &parts.headers,
            status,
            body,
            false,
            number,
            Some(retry_after),
        );
    }
    if too_large {
        let (status, body) = fault_without_code(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request body is larger than 1 MiB (a limit of pc-fake).",
        );
        return finish(&shared, &parts.headers, status, body, false, number, None);
    }
    let faults = &shared.options.faults;
    if let Some(delay) = faults.delay {
        tokio::time::sleep(delay).await;
    }
    let (status, body, cut, allow) = respond(&shared, &recorded, number);
    let retry_after = (status == StatusCode::TOO_MANY_REQUESTS).then_some(faults.retry_after_secs);
    if retry_after.is_some() {
        bump(&shared.stats.throttled);
    }
    if status == StatusCode::UNAUTHORIZED {
        bump(&shared.stats.unauthorized);
    }
    let mut response = finish(
        &shared,
        &parts.headers,
        status,
        body,
        cut,
        number,
        retry_after,
    );
    if let Some(allow) = allow {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    response
}

/// The status and body for a request, and whether to cut the body off.
fn respond(
    shared: &Shared,
    request: &RecordedRequest,
    number: u64,
) -> (StatusCode, Vec<u8>, bool, Option<&'static str>) {
    let faults = &shared.options.faults;
    if faults
        .throttle_every
        .is_some_and(|n| n > 0 && number.is_multiple_of(n))
    {
        let (status, body) = throttled(faults.retry_after_secs);
        return (status, body, false, None);
    }
    if let Some(every) = faults.unavailable_every.filter(|n| *n > 0)
        && (number - 1) % every >= every.saturating_sub(faults.unavailable_burst)
    {
        let (status, body) = fault_without_code(
            StatusCode::SERVICE_UNAVAILABLE,
            "The service is temporarily unavailable.",
        );
        return (status, body, false, None);
    }
    let bearer = request
        .header("authorization")
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(bearer) = bearer else {
        let (status, body) = fault(
            StatusCode::UNAUTHORIZED,
            800001,
            "Partner token is missing or is not a bearer token.",
        );
        return (status, body, false, None);
    };
    if let Some(limit) = faults.token_expires_after {
        let uses = shared
            .token_uses
            .lock()
            .map(|mut uses| {
                let count = uses.entry(bearer.to_owned()).or_insert(0);
                *count += 1;
                *count
            })
            .unwrap_or(0);
        if uses > limit {
            let (status, body) = fault(
                StatusCode::UNAUTHORIZED,
                400,
                "Access denied: the access token has expired.",
            );
            return (status, body, false, None);
        }
    }
    // With sign-in configured, only the access tokens the fake issued, not
    // expired, are accepted (401 with the documented code 400 otherwise), and
    // App+User tokens of a sign-in without MFA get 401 900421.
    let mut app_only = shared.options.app_only_tokens.contains(bearer);
    if let Some(entra) = &shared.entra {
        let denied = match entra.check(bearer) {
            TokenCheck::Valid {
                app_only: false,
                mfa: false,
            } => Some(fault(StatusCode::UNAUTHORIZED, 900421, NO_MFA)),
            TokenCheck::Valid { app_only: only, .. } => {
                app_only = only;
                None
            }
            TokenCheck::Expired => Some(fault(
                StatusCode::UNAUTHORIZED,
                400,
                "Access denied: the access token has expired.",
            )),
            TokenCheck::Unknown => Some(fault(
                StatusCode::UNAUTHORIZED,
                400,
                "Access denied: the access token is not valid.",
            )),
        };
        if let Some((status, body)) = denied {
            return (status, body, false, None);
        }
    }
    // A create, update or delete repeated with the same `MS-RequestId` and
    // body (a client's retry after a lost answer) gets the original answer.
    let reply_key = (request.method != "GET")
        .then(|| request.header("ms-requestid"))
        .flatten()
        .filter(|id| !id.is_empty())
        .map(|id| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(&request.body, &mut hasher);
            let body = std::hash::Hasher::finish(&hasher);
            (
                id.to_owned(),
                request.method.clone(),
                request.path.clone(),
                body,
            )
        });
    if let Some(key) = &reply_key
        && let Some((status, body)) = shared.replies.lock().ok().and_then(|r| r.get(key))
    {
        return (status, body, false, None);
    }
    let segments: Vec<String> = request.path.split('/').map(percent_decode).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let ((status, body), allow) = route(shared, request, app_only, &segments);
    if let Some(key) = reply_key
        && !status.is_server_error()
        && let Ok(mut replies) = shared.replies.lock()
    {
        replies.insert(key, (status, body.clone()));
    }
    let cut = status == StatusCode::OK
        && faults
            .close_mid_body_every
            .is_some_and(|n| n > 0 && number.is_multiple_of(n));
    (status, body, cut, allow)
}

fn percent_decode(text: &str) -> String {
    let decoded: Vec<u8> =
        form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned().into_bytes())
            .unwrap_or_default();
    String::from_utf8_lossy(&decoded).into_owned()
}

/// The parsed query of a listing request; names are case-insensitive, as
/// the live service's are.
#[derive(Default)]
struct Query {
    size: Option<String>,
    sort_field: Option<String>,
    sort_direction: Option<String>,
    seek: Option<String>,
    filter: Option<String>,
}

fn parse_query(raw: Option<&str>) -> Query {
    let mut query = Query::default();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let slot = match key.to_ascii_lowercase().as_str() {
            "size" => &mut query.size,
            "sortfield" => &mut query.sort_field,
            "sortdirection" => &mut query.sort_direction,
            "seekoperation" => &mut query.seek,
            "filter" => &mut query.filter,
            _ => continue,
        };
        *slot = Some(value.into_owned());
    }
    query
}

/// A 400 with the documented code 800002, "Invalid request input".
fn bad_request(description: &str) -> (StatusCode, Vec<u8>) {
    fault(StatusCode::BAD_REQUEST, 800002, description)
}

type Reply = (StatusCode, Vec<u8>);

/// The resources of the fake: `/v1/customers`, and below
/// `/v1/customers/{customer_id}`.
enum Endpoint<'a> {
    Customers,
    Customer,
    TenantRoles,
    SubscribedSkus,
    Users,
    User(&'a str),
    UserRoles(&'a str),
    UserLicenses(&'a str),
    LicenseUpdates(&'a str),
    RoleMembers(&'a str),
    RoleMember(&'a str, &'a str),
}

impl<'a> Endpoint<'a> {
    /// The endpoint of a path's segments (percent-decoded, the leading empty
    /// one included) and its customer id, if it has one. One trailing slash
    /// is ignored (the .NET SDK creates users at `customers/{id}/users/`).
    fn parse(segments: &[&'a str]) -> Option<(Option<&'a str>, Self)> {
        let is = |segment: &str, name: &str| segment.eq_ignore_ascii_case(name);
        let segments = match segments {
            [rest @ .., ""] if rest.len() > 1 => rest,
            all => all,
        };
        let (customer, rest) = match segments {
            ["", v1, customers] if is(v1, "v1") && is(customers, "customers") => {
                return Some((None, Endpoint::Customers));
            }
            ["", v1, customers, customer, rest @ ..]
                if is(v1, "v1") && is(customers, "customers") =>
            {
                (*customer, rest)
            }
            _ => return None,
        };
        let endpoint = match *rest {
            [] => Endpoint::Customer,
            [roles] if is(roles, "directoryroles") => Endpoint::TenantRoles,
            [skus] if is(skus, "subscribedskus") => Endpoint::SubscribedSkus,
            [users] if is(users, "users") => Endpoint::Users,
            [users, user] if is(users, "users") => Endpoint::User(user),
            [users, user, roles] if is(users, "users") && is(roles, "directoryroles") => {
                Endpoint::UserRoles(user)
            }
            [users, user, licenses] if is(users, "users") && is(licenses, "licenses") => {
                Endpoint::UserLicenses(user)
            }
            [users, user, updates] if is(users, "users") && is(updates, "licenseupdates") => {
                Endpoint::LicenseUpdates(user)
            }
            [roles, role, members] if is(roles, "directoryroles") && is(members, "usermembers") => {
                Endpoint::RoleMembers(role)
            }
            [roles, role, members, user]
                if is(roles, "directoryroles") && is(members, "usermembers") =>
            {
                Endpoint::RoleMember(role, user)
            }
            _ => return None,
        };
        Some((Some(customer), endpoint))
    }

    /// The methods the endpoint allows, for `Allow`.
    fn allowed(&self) -> &'static str {
        match self {
            Endpoint::Users => "GET, POST",
            Endpoint::User(_) => "GET, PATCH, DELETE",
            Endpoint::LicenseUpdates(_) => "POST",
            Endpoint::RoleMembers(_) => "GET, POST",
            Endpoint::RoleMember(..) => "DELETE",
            _ => "GET",
        }
    }

    /// Whether the endpoint is one of the customer-user operations, which
    /// App-only tokens may not call (notes §4, §12).
    fn needs_app_user(&self) -> bool {
        !matches!(
            self,
            Endpoint::Customers
                | Endpoint::Customer
                | Endpoint::TenantRoles
                | Endpoint::SubscribedSkus
        )
    }
}

/// Dispatches a request by method and path segments (percent-decoded); a
/// 405 comes with the methods to put in `Allow`.
fn route(
    shared: &Shared,
    request: &RecordedRequest,
    app_only: bool,
    segments: &[&str],
) -> (Reply, Option<&'static str>) {
    let Some((customer, endpoint)) = Endpoint::parse(segments) else {
        let reply = fault(
            StatusCode::NOT_FOUND,
            1000,
            "The requested resource was not found.",
        );
        return (reply, None);
    };
    let allowed = endpoint.allowed();
    if !allowed.split(", ").any(|m| m == request.method) {
        let reply = fault_without_code(
            StatusCode::METHOD_NOT_ALLOWED,
            "The method is not supported by this resource.",
        );
        return (reply, Some(allowed));
    }
    if endpoint.needs_app_user() && app_only {
        return (fault_without_code(StatusCode::FORBIDDEN, APP_ONLY), None);
    }
    let Some(customer) = customer else {
        return (list_customers(shared, request), None);
    };
    let found = shared
        .by_id
        .get(&customer.to_ascii_lowercase())
        .map(|&index| (&shared.customers[index], &shared.tenants[index]));
    let (info, tenant) = match found {
        Some((info, _)) if info.access == Access::NoRelationship => {
            let reply = fault(
                StatusCode::FORBIDDEN,
                20002,
                "No relationship between caller and account.",
            );
            return (reply, None);
        }
        Some((info, tenant)) if info.access == Access::Granted => (info, tenant),
        // Unknown, or deleted.
        _ => {
            return (
                fault(StatusCode::NOT_FOUND, 60003, "Tenant not found."),
                None,
            );
        }
    };
    let Ok(mut tenant) = tenant.lock() else {
        let reply = fault_without_code(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The fake's state is poisoned.",
        );
        return (reply, None);
    };
    let tenant = &mut *tenant;
    if request.method != "GET" {
        // A change: a generated tenant's users are stored from now on.
        tenant.materialize();
    }
    let reply = match (request.method.as_str(), endpoint) {
        ("GET", Endpoint::Customer) => json_reply(StatusCode::OK, &info.json()),
        ("GET", Endpoint::TenantRoles) => tenant_roles(),
        ("GET", Endpoint::SubscribedSkus) => subscribed_skus(tenant, request),
        ("GET", Endpoint::Users) => list_users(shared, tenant, request),
        ("POST", Endpoint::Users) => create_user(shared, tenant, request),
        ("GET", Endpoint::User(user)) => get_user(tenant, user),
        ("PATCH", Endpoint::User(user)) => update_user(tenant, user, request),
        ("DELETE", Endpoint::User(user)) => delete_user(tenant, user),
        ("GET", Endpoint::UserRoles(user)) => user_roles(tenant, user),
        ("GET", Endpoint::UserLicenses(user)) => user_licenses(tenant, user, request),
        ("POST", Endpoint::LicenseUpdates(user)) => update_licenses(tenant, user, request),
        ("GET", Endpoint::RoleMembers(role)) => list_members(shared, tenant, role, request),
        ("POST", Endpoint::RoleMembers(role)) => add_member(tenant, role, request),
        ("DELETE", Endpoint::RoleMember(role, user)) => remove_member(tenant, role, user),
        // Checked above: every allowed method has an arm.
        _ => fault_without_code(
            StatusCode::METHOD_NOT_ALLOWED,
            "The method is not supported by this resource.",
        ),
    };
    (reply, None)
}

fn json_reply(status: StatusCode, value: &serde_json::Value) -> Reply {
    (status, serde_json::to_vec(value).unwrap_or_default())
}

fn user_not_found() -> Reply {
    fault(StatusCode::NOT_FOUND, 60002, "User object Id is not found.")
}

fn role_not_found() -> Reply {
    fault(
        StatusCode::NOT_FOUND,
        1000,
        "The directory role was not found.",
    )
}

/// The request body as `T`, keys matched case-insensitively by first letter.
fn parse_body<T: serde::de::DeserializeOwned>(request: &RecordedRequest) -> Result<T, Reply> {
    let value: serde_json::Value =
        serde_json::from_str(request.body.trim_start_matches('\u{feff}'))
            .map_err(|_| bad_request("The request body is not valid JSON."))?;
    if !value.is_object() {
        return Err(bad_request("The request body must be a JSON object."));
    }
    serde_json::from_value(state::camel_keys(value)).map_err(|e| {
        let message = format!("The request body is not valid: {e}.");
        bad_request(&message)
    })
}

fn user_json(
    tenant: &Tenant,
    index: usize,
    password: Option<&state::PasswordInput>,
) -> serde_json::Value {
    let mut value: serde_json::Value =
        serde_json::from_slice(&tenant.item_json(index)).unwrap_or_default();
    if let (Some(password), Some(map)) = (password, value.as_object_mut()) {
        map.insert(
            "passwordProfile".to_owned(),
            serde_json::to_value(password).unwrap_or_default(),
        );
    }
    value
}

/// A duplicate user principal name: 409. The notes give no code for it.
fn upn_taken() -> Reply {
    fault_without_code(
        StatusCode::CONFLICT,
        "A user with this user principal name already exists.",
    )
}

/// The values of `state` and `userDomainType` a request may set.
fn check_enums(input: &UserInput) -> Result<(), Reply> {
    let state = input.state.as_deref().map(str::to_ascii_lowercase);
    if !matches!(state.as_deref(), None | Some("active" | "inactive")) {
        return Err(bad_request("state must be active or inactive."));
    }
    let domain_type = input
        .user_domain_type
        .as_deref()
        .map(str::to_ascii_lowercase);
    if !matches!(
        domain_type.as_deref(),
        None | Some("none" | "managed" | "federated")
    ) {
        return Err(bad_request(
            "userDomainType must be none, managed or federated.",
        ));
    }
    Ok(())
}

fn create_user(shared: &Shared, tenant: &mut Tenant, request: &RecordedRequest) -> Reply {
    let input: UserInput = match parse_body(request) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    if let Err(reply) = check_enums(&input) {
        return reply;
    }
    let Some(upn) = input
        .user_principal_name
        .filter(|u| u.contains('@') && !u.trim().is_empty())
    else {
        return bad_request("userPrincipalName (name@domain) is required.");
    };
    if tenant
        .users_mut()
        .iter()
        .any(|u| u.user_principal_name.eq_ignore_ascii_case(&upn))
    {
        return upn_taken();
    }
    let n = shared.created.fetch_add(1, Ordering::SeqCst);
    let mut rng =
        crate::tenant::Rng::new(0xc4ea7e ^ n ^ u64::from(token::customer_hash(&tenant.id)));
    let id = format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        rng.next_u64() >> 32,
        n & 0xffff,
        rng.next_u64() & 0xfff,
        rng.next_u64() & 0xfff,
        rng.next_u64() & 0xffff_ffff_ffff
    );
    let display_name = input.display_name.clone().unwrap_or_else(|| upn.clone());
    let user = FakeUser {
        id,
        user_principal_name: upn,
        first_name: input.first_name,
        last_name: input.last_name,
        display_name,
        usage_location: input.usage_location,
        immutable_id: input.immutable_id,
        phone_number: input.phone_number,
        last_directory_sync_time: None,
        user_domain_type: input
            .user_domain_type
            .map(|t| t.to_ascii_lowercase())
            .unwrap_or_else(|| "managed".to_owned()),
        state: "active".to_owned(),
        soft_deletion_time: None,
    };
    let index = tenant.push(user);
    json_reply(
        StatusCode::CREATED,
        &user_json(tenant, index, input.password_profile.as_ref()),
    )
}

fn get_user(tenant: &Tenant, user: &str) -> Reply {
    match tenant.find(user) {
        Some(index) => json_reply(StatusCode::OK, &user_json(tenant, index, None)),
        None => user_not_found(),
    }
}

/// The current time, `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let days = (seconds / 86_400) as i64;
    let (h, m, s) = (seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
}

fn update_user(tenant: &mut Tenant, user: &str, request: &RecordedRequest) -> Reply {
    let Some(index) = tenant.find(user) else {
        return user_not_found();
    };
    let input: UserInput = match parse_body(request) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    if let Err(reply) = check_enums(&input) {
        return reply;
    }
    if let Some(upn) = &input.user_principal_name {
        if !upn.contains('@') || upn.trim().is_empty() {
            return bad_request("userPrincipalName must be name@domain.");
        }
        let taken = tenant
            .users_mut()
            .iter()
            .enumerate()
            .any(|(i, u)| i != index && u.user_principal_name.eq_ignore_ascii_case(upn));
        if taken {
            return upn_taken();
        }
    }
    let restore = match input
        .state
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("active") => Some(true),
        Some("inactive") => Some(false),
        _ => None,
    };
    if tenant.user(index).is_inactive() && restore != Some(true) {
        // The notes give no code for it: the fake's guess is a 400.
        return fault_without_code(
            StatusCode::BAD_REQUEST,
            "A deleted user can only be restored (state: active).",
        );
    }
    tenant.update(index, |u| {
        if let Some(v) = input.user_principal_name.clone() {
            u.user_principal_name = v;
        }
        if let Some(v) = input.first_name.clone() {
            u.first_name = Some(v);
        }
        if let Some(v) = input.last_name.clone() {
            u.last_name = Some(v);
        }
        if let Some(v) = input.display_name.clone() {
            u.display_name = v;
        }
        if let Some(v) = input.usage_location.clone() {
            u.usage_location = Some(v);
        }
        if let Some(v) = input.immutable_id.clone() {
            u.immutable_id = Some(v);
        }
        if let Some(v) = input.phone_number.clone() {
            u.phone_number = Some(v);
        }
        if let Some(v) = &input.user_domain_type {
            u.user_domain_type = v.to_ascii_lowercase();
        }
        match restore {
            Some(true) => {
                u.state = "active".to_owned();
                u.soft_deletion_time = None;
            }
            Some(false) => {
                u.state = "inactive".to_owned();
                u.soft_deletion_time = Some(now());
            }
            None => {}
        }
    });
    json_reply(
        StatusCode::OK,
        &user_json(tenant, index, input.password_profile.as_ref()),
    )
}

fn delete_user(tenant: &mut Tenant, user: &str) -> Reply {
    match tenant.find(user) {
        Some(index) if !tenant.user(index).is_inactive() => {
            tenant.update(index, |u| {
                u.state = "inactive".to_owned();
                u.soft_deletion_time = Some(now());
            });
            (StatusCode::NO_CONTENT, Vec::new())
        }
        _ => user_not_found(),
    }
}

fn collection(items: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({ "totalCount": items.len(), "items": items, "attributes": { "objectType": "Collection" } })
}

fn role_json(id: &str, name: &str) -> serde_json::Value {
    serde_json::json!({ "name": name, "id": id, "attributes": { "objectType": "DirectoryRole" } })
}

/// Every directory role of the tenant, in one collection without links.
fn tenant_roles() -> Reply {
    let items = state::ROLES
        .iter()
        .map(|(id, name)| role_json(id, name))
        .collect();
    json_reply(StatusCode::OK, &collection(items))
}

fn user_roles(tenant: &Tenant, user: &str) -> Reply {
    let Some(index) = tenant.find(user) else {
        return user_not_found();
    };
    let id = &tenant.user(index).id.clone();
    let items = state::ROLES
        .iter()
        .filter(|(role, _)| tenant.members.get(role).is_some_and(|m| m.contains(id)))
        .map(|(role, name)| role_json(role, name))
        .collect();
    json_reply(StatusCode::OK, &collection(items))
}

fn role_of(role: &str) -> Option<&'static str> {
    state::ROLES
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(role))
        .map(|(id, _)| *id)
}

fn member_json(user: &FakeUser, role: &str) -> serde_json::Value {
    serde_json::json!({
        "id": user.id,
        "userPrincipalName": user.user_principal_name,
        "displayName": user.display_name,
        "roleId": role,
        "attributes": { "objectType": "UserMember" }
    })
}

/// A page of a role's members (active users, by object id), seek-paged
/// like the users.
fn list_members(shared: &Shared, tenant: &Tenant, role: &str, request: &RecordedRequest) -> Reply {
    let Some(role) = role_of(role) else {
        return role_not_found();
    };
    let query = parse_query(request.query.as_deref());
    let scope = format!("{}/directoryroles/{role}", tenant.id);
    let position = match seek_position(shared, request, &query, &scope, |size| {
        Ok(Position {
            size,
            ..Position::default()
        })
    }) {
        Ok(position) => position,
        Err(reply) => return reply,
    };
    let members: Vec<std::borrow::Cow<'_, FakeUser>> = tenant
        .members
        .get(role)
        .into_iter()
        .flatten()
        .filter_map(|id| tenant.find(id))
        .map(|index| tenant.user(index))
        .filter(|user| !user.is_inactive())
        .collect();
    let (start, end) = page_bounds(&position, members.len());
    let items: Vec<Vec<u8>> = members[start..end]
        .iter()
        .map(|user| serde_json::to_vec(&member_json(user, role)).unwrap_or_default())
        .collect();
    let path = format!("/customers/{}/directoryroles/{role}/usermembers", tenant.id);
    let list_query = size_query(&position).finish();
    seek_page(
        shared,
        &items,
        members.len(),
        &position,
        &path,
        &list_query,
        &scope,
    )
}

fn add_member(tenant: &mut Tenant, role: &str, request: &RecordedRequest) -> Reply {
    let Some(role) = role_of(role) else {
        return role_not_found();
    };
    let input: MemberInput = match parse_body(request) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    let Some(index) = input.id.as_deref().and_then(|id| tenant.find(id)) else {
        return user_not_found();
    };
    let user = tenant.user(index).into_owned();
    tenant
        .members
        .entry(role)
        .or_default()
        .insert(user.id.clone());
    let member = serde_json::json!({
        "id": user.id,
        "displayName": input.display_name.unwrap_or(user.display_name),
        "userPrincipalName": input.user_principal_name.unwrap_or(user.user_principal_name),
        "roleId": role,
        "attributes": { "objectType": "UserMember" }
    });
    json_reply(StatusCode::CREATED, &member)
}

fn remove_member(tenant: &mut Tenant, role: &str, user: &str) -> Reply {
    let Some(role) = role_of(role) else {
        return role_not_found();
    };
    let Some(index) = tenant.find(user) else {
        return user_not_found();
    };
    let id = tenant.user(index).id.clone();
    match tenant.members.get_mut(role) {
        Some(members) if members.contains(&id) => {
            members.remove(&id);
            (StatusCode::NO_CONTENT, Vec::new())
        }
        _ => fault(
            StatusCode::NOT_FOUND,
            1000,
            "The user is not a member of the directory role.",
        ),
    }
}

fn plans_json(sku: &state::Sku, status: &str) -> Vec<serde_json::Value> {
    sku.plans
        .iter()
        .map(|(id, service, name)| serde_json::json!({ "displayName": name, "serviceName": service, "id": id, "capabilityStatus": status, "targetType": "User" }))
        .collect()
}

fn product_sku_json(sku: &state::Sku) -> serde_json::Value {
    serde_json::json!({ "id": sku.id, "name": sku.name, "skuPartNumber": sku.part_number, "targetType": "User", "licenseGroupId": sku.group })
}

/// A license of a user: its plans are `Assigned` (notes §13).
fn license_json(sku: &state::Sku) -> serde_json::Value {
    serde_json::json!({
        "servicePlans": plans_json(sku, "Assigned"),
        "productSku": product_sku_json(sku),
        "attributes": { "objectType": "License" }
    })
}

/// The `licenseGroupIds` of a request, lowercase; any case is accepted
/// (the reference writes `Group1`, responses carry `group1`), other values
/// are refused.
fn license_groups(request: &RecordedRequest) -> Result<Vec<String>, Reply> {
    let mut groups = Vec::new();
    for (key, value) in
        form_urlencoded::parse(request.query.as_deref().unwrap_or_default().as_bytes())
    {
        if !key.eq_ignore_ascii_case("licenseGroupIds") {
            continue;
        }
        let group = value.to_ascii_lowercase();
        if !state::SKUS.iter().any(|sku| sku.group == group) {
            return Err(bad_request("licenseGroupIds must be group1 or group2."));
        }
        groups.push(group);
    }
    Ok(groups)
}

fn user_licenses(tenant: &Tenant, user: &str, request: &RecordedRequest) -> Reply {
    let Some(index) = tenant.find(user) else {
        return user_not_found();
    };
    let groups = match license_groups(request) {
        Ok(groups) => groups,
        Err(reply) => return reply,
    };
    let assigned = tenant.licenses.get(&tenant.user(index).id.clone());
    let items = state::SKUS
        .iter()
        .filter(|sku| assigned.is_some_and(|a| a.contains(sku.id)))
        .filter(|sku| groups.is_empty() || groups.iter().any(|g| g == sku.group))
        .map(license_json)
        .collect();
    json_reply(StatusCode::OK, &collection(items))
}

/// The license pools of the tenant, their counts following the licenses
/// assigned: consumed = assigned, available = total − consumed.
fn subscribed_skus(tenant: &Tenant, request: &RecordedRequest) -> Reply {
    let groups = match license_groups(request) {
        Ok(groups) => groups,
        Err(reply) => return reply,
    };
    let items: Vec<serde_json::Value> = state::SKUS
        .iter()
        .filter(|sku| groups.is_empty() || groups.iter().any(|g| g == sku.group))
        .map(|sku| {
            let consumed = tenant.assigned(sku.id);
            serde_json::json!({
                "availableUnits": sku.total.saturating_sub(consumed),
                "activeUnits": sku.total,
                "consumedUnits": consumed,
                "suspendedUnits": 0,
                "totalUnits": sku.total,
                "warningUnits": 0,
                "productSku": product_sku_json(sku),
                "servicePlans": plans_json(sku, "Enabled"),
                "capabilityStatus": "Enabled",
                "attributes": { "objectType": "SubscribedSku" }
            })
        })
        .collect();
    let mut body = collection(items);
    body["links"] = serde_json::json!({ "self": { "uri": format!("/customers/{}/subscribedskus", tenant.id), "method": "GET", "headers": [] } });
    json_reply(StatusCode::OK, &body)
}

fn update_licenses(tenant: &mut Tenant, user: &str, request: &RecordedRequest) -> Reply {
    let Some(index) = tenant.find_by_id_or_upn(user) else {
        return user_not_found();
    };
    let input: LicenseUpdateInput = match parse_body(request) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    let user_id = tenant.user(index).id.clone();
    let find = |sku: &str| state::SKUS.iter().find(|s| s.id.eq_ignore_ascii_case(sku));
    let assign = input.licenses_to_assign.unwrap_or_default();
    let remove = input.licenses_to_remove;
    let mut to_add = Vec::new();
    let mut warnings = Vec::new();
    for item in &assign {
        let Some(sku) = item.sku_id.as_deref().and_then(find) else {
            return bad_request("A skuId of licensesToAssign is not a SKU of the customer.");
        };
        let already = tenant
            .licenses
            .get(&user_id)
            .is_some_and(|a| a.contains(sku.id));
        if !already && tenant.assigned(sku.id) >= sku.total {
            let body = serde_json::json!({
                "code": 60012,
                "description": "We&#39;re sorry, it looks like you've run out of licenses. Buy more licenses, and then try again.",
                "data": [format!("LicenseQuotaExceededException : Subscription with SKU {} does not have any available licenses left.", sku.id)],
                "source": "PartnerFD"
            });
            return json_reply(StatusCode::BAD_REQUEST, &body);
        }
        // An excluded plan the SKU does not have is ignored, with a warning
        // (the trigger and its code are the fake's: see the README).
        for plan in item.excluded_plans.iter().flatten() {
            if !sku
                .plans
                .iter()
                .any(|(id, _, _)| id.eq_ignore_ascii_case(plan))
            {
                warnings.push(serde_json::json!({
                    "code": "ExcludedPlanNotFound",
                    "message": format!("The service plan {plan} is not a plan of the SKU {}; it was not excluded.", sku.id),
                    "servicePlans": [plan]
                }));
            }
        }
        to_add.push(sku.id);
    }
    let mut to_remove = Vec::new();
    for sku in remove.iter().flatten() {
        let Some(sku) = find(sku) else {
            return bad_request("A SKU id of licensesToRemove is not a SKU of the customer.");
        };
        to_remove.push(sku.id);
    }
    let assigned = tenant.licenses.entry(user_id).or_default();
    assigned.extend(to_add);
    for sku in to_remove {
        assigned.remove(sku);
    }
    let body = serde_json::json!({
        "licensesToAssign": assign,
        "licensesToRemove": remove,
        "licenseWarnings": warnings,
        "attributes": { "objectType": "LicenseUpdate" }
    });
    json_reply(StatusCode::CREATED, &body)
}

/// The page size a listing asks for: 100 without `size` or with `size=0`
/// (what the .NET SDK sends for the default); negative sizes and sizes over
/// the fake's maximum (500 unless configured: the service documents none)
/// are refused.
fn page_size(query: &Query, max_size: u16) -> Result<u16, String> {
    let default = DEFAULT_PAGE_SIZE.min(max_size);
    let Some(size) = &query.size else {
        return Ok(default);
    };
    match size.trim().parse::<i64>() {
        Ok(0) => Ok(default),
        Ok(size) if size < 0 => Err("The page size must not be negative.".to_owned()),
        Ok(size) if size <= i64::from(max_size) => Ok(size as u16),
        Ok(_) => Err(format!(
            "The page size must be at most {max_size} (a limit of pc-fake; the service documents none)."
        )),
        Err(_) => Err("The page size must be an integer.".to_owned()),
    }
}

/// The position of the page a listing request asks for: from its
/// continuation token (with `seekOperation=Next`), or the first page from
/// its query (`first` gets the page size).
fn seek_position(
    shared: &Shared,
    request: &RecordedRequest,
    query: &Query,
    scope: &str,
    first: impl FnOnce(u16) -> Result<Position, String>,
) -> Result<Position, Reply> {
    let token = request.header("ms-continuationtoken");
    match (&query.seek, token) {
        (Some(seek), Some(token)) => {
            if !(seek.eq_ignore_ascii_case("next") || seek == "0") {
                return Err(bad_request(
                    "Only seekOperation=Next is supported with a continuation token.",
                ));
            }
            token::decode(token, scope)
                .ok_or_else(|| bad_request("The continuation token is not valid."))
        }
        (Some(_), None) => Err(bad_request(
            "A seek operation needs the MS-ContinuationToken header.",
        )),
        (None, _) => page_size(query, shared.options.max_page_size)
            .and_then(first)
            .map_err(|message| bad_request(&message)),
    }
}

/// The range of a listing of `total` items that the page at `position` holds.
fn page_bounds(position: &Position, total: usize) -> (usize, usize) {
    let start = (position.offset as usize).min(total);
    (start, (start + usize::from(position.size)).min(total))
}

/// The `size=` a listing's links repeat.
fn size_query(position: &Position) -> form_urlencoded::Serializer<'static, String> {
    let mut out = form_urlencoded::Serializer::new(String::new());
    out.append_pair("size", &position.size.to_string());
    out
}

/// A page of a seek-paged collection, written directly: `items` (the JSON
/// of each) are the page at `position` of a listing of `total`; `path` and
/// `list_query` make the self and next links, `scope` the token.
fn seek_page(
    shared: &Shared,
    items: &[impl AsRef<[u8]>],
    total: usize,
    position: &Position,
    path: &str,
    list_query: &str,
    scope: &str,
) -> Reply {
    let mut body =
        Vec::with_capacity(items.iter().map(|i| i.as_ref().len() + 1).sum::<usize>() + 1024);
    body.extend_from_slice(format!("{{\"totalCount\":{},\"items\":[", items.len()).as_bytes());
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item.as_ref());
    }
    body.extend_from_slice(b"],\"links\":{\"self\":");
    push_link(&mut body, &format!("{path}?{list_query}"), None);
    let end = position.offset as usize + items.len();
    let mut next_token = None;
    if end < total {
        let next = Position {
            offset: end as u32,
            ..position.clone()
        };
        let token = token::encode(&next, scope);
        let prefix = if shared.options.v1_links { "/v1" } else { "" };
        let next_uri = format!("{prefix}{path}?{list_query}&seekOperation=Next");
        body.extend_from_slice(b",\"next\":");
        push_link(&mut body, &next_uri, Some(&token));
        next_token = Some(token);
    }
    body.extend_from_slice(b"},\"attributes\":{\"objectType\":\"Collection\"}");
    if let Some(token) = next_token {
        body.extend_from_slice(b",\"continuationToken\":");
        body.extend_from_slice(json_string(&token).as_bytes());
    }
    body.push(b'}');
    (StatusCode::OK, body)
}

/// A page of the partner's customers, with the `StartsWith` filter.
fn list_customers(shared: &Shared, request: &RecordedRequest) -> Reply {
    let query = parse_query(request.query.as_deref());
    let position = match seek_position(shared, request, &query, CUSTOMERS_SCOPE, |size| {
        let filter = match &query.filter {
            None => String::new(),
            Some(text) => customer::parse_filter(text)?,
        };
        Ok(Position {
            size,
            filter,
            ..Position::default()
        })
    }) {
        Ok(position) => position,
        Err(reply) => return reply,
    };
    let customers: Vec<&Customer> = shared
        .customers
        .iter()
        .filter(|c| position.filter.is_empty() || c.matches(&position.filter))
        .collect();
    let (start, end) = page_bounds(&position, customers.len());
    let items: Vec<Vec<u8>> = customers[start..end]
        .iter()
        .map(|c| serde_json::to_vec(&c.json()).unwrap_or_default())
        .collect();
    let mut list_query = size_query(&position);
    if let Some(filter) = customer::filter_text(&position.filter) {
        list_query.append_pair("filter", &filter);
    }
    let list_query = list_query.finish();
    seek_page(
        shared,
        &items,
        customers.len(),
        &position,
        "/customers",
        &list_query,
        CUSTOMERS_SCOPE,
    )
}

fn list_users(shared: &Shared, tenant: &mut Tenant, request: &RecordedRequest) -> Reply {
    let query = parse_query(request.query.as_deref());
    let scope = tenant.id.clone();
    let position = match seek_position(shared, request, &query, &scope, |size| {
        first_position(&query, size).map_err(str::to_owned)
    }) {
        Ok(position) => position,
        Err(reply) => return reply,
    };
    let order = tenant.order(position.sort, position.inactive);
    let total = order.len();
    let (start, end) = page_bounds(&position, total);
    // A descending listing walks the ascending order from its end.
    let indices: Vec<u32> = if position.descending {
        (start..end).map(|i| order.get(total - 1 - i)).collect()
    } else {
        (start..end).map(|i| order.get(i)).collect()
    };
    let tenant = &*tenant;
    let items: Vec<Bytes> = indices
        .iter()
        .map(|&i| tenant.item_json(i as usize))
        .collect();
    let list_query = listing_query(&query, &position);
    let path = format!("/customers/{}/users", tenant.id);
    seek_page(shared, &items, total, &position, &path, &list_query, &scope)
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

fn push_link(body: &mut Vec<u8>, uri: &str, token: Option<&str>) {
    body.extend_from_slice(b"{\"uri\":");
    body.extend_from_slice(json_string(uri).as_bytes());
    body.extend_from_slice(b",\"method\":\"GET\",\"headers\":[");
    if let Some(token) = token {
        body.extend_from_slice(b"{\"key\":\"MS-ContinuationToken\",\"value\":");
        body.extend_from_slice(json_string(token).as_bytes());
        body.push(b'}');
    }
    body.extend_from_slice(b"]}");
}

/// The query a users listing's links repeat: size, sort and filter.
fn listing_query(query: &Query, position: &Position) -> String {
    let mut out = size_query(position);
    if position.sort != 0 {
        out.append_pair(
            "SortField",
            if position.sort == 1 {
                "DisplayName"
            } else {
                "UserPrincipalName"
            },
        );
        out.append_pair(
            "SortDirection",
            if position.descending {
                "Descending"
            } else {
                "Ascending"
            },
        );
    }
    match &query.filter {
        Some(filter) => {
            out.append_pair("filter", filter);
        }
        // A listing resumed from its token alone still says what it lists.
        None if position.inactive => {
            out.append_pair(
                "filter",
                r#"{"Field":"UserState","Value":"Inactive","Operator":"equals"}"#,
            );
        }
        None => {}
    }
    out.finish()
}

/// The position of the first page of a users listing, from its query.
fn first_position(query: &Query, size: u16) -> Result<Position, &'static str> {
    let sort = match query
        .sort_field
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => 0,
        Some("displayname") => 1,
        Some("userprincipalname") => 2,
        Some(_) => return Err("SortField must be DisplayName or UserPrincipalName."),
    };
    let descending = match query
        .sort_direction
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("ascending") | Some("asc") => false,
        Some("descending") | Some("desc") => true,
        Some(_) => return Err("SortDirection must be Ascending or Descending."),
    };
    let inactive = match &query.filter {
        None => false,
        Some(filter) => parse_filter(filter)?,
    };
    Ok(Position {
        offset: 0,
        size,
        sort,
        descending,
        inactive,
        filter: String::new(),
    })
}

/// The deleted-users filter: `{"Field":"UserState","Value":"Inactive","Operator":"equals"}`
/// (keys in any case).
fn parse_filter(filter: &str) -> Result<bool, &'static str> {
    let value: serde_json::Value =
        serde_json::from_str(filter).map_err(|_| "The filter is not valid JSON.")?;
    let text_of = |key: &str| {
        customer::get_ci(&value, key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    };
    let (field, operator, state) = (text_of("Field"), text_of("Operator"), text_of("Value"));
    if !(field.eq_ignore_ascii_case("UserState") || field.eq_ignore_ascii_case("UserStatus"))
        || !operator.eq_ignore_ascii_case("equals")
    {
        return Err(
            "Only the filter {\"Field\":\"UserState\",\"Value\":\"Inactive\"|\"Active\",\"Operator\":\"equals\"} is supported.",
        );
    }
    match state.to_ascii_lowercase().as_str() {
        "inactive" => Ok(true),
        "active" => Ok(false),
        _ => Err("The UserState filter value must be Active or Inactive."),
    }
}

/// Adds the headers every response has, the BOM and the cut-off fault.
fn finish(
    shared: &Shared,
    request: &HeaderMap,
    status: StatusCode,
    body: Vec<u8>,
    cut: bool,
    number: u64,
    retry_after: Option<u64>,
) -> Response {
    let mut bytes = Vec::with_capacity(body.len() + 3);
    if shared.options.bom {
        bytes.extend_from_slice(b"\xEF\xBB\xBF");
    }
    bytes.extend_from_slice(&body);
    let length = bytes.len();
    let body = if cut {
        let half = Bytes::from(bytes).slice(..length / 2);
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(half),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "pc-fake: connection closed mid-body",
            )),
        ];
        Body::from_stream(futures_util::stream::iter(chunks))
    } else {
        Body::from(bytes)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    for (i, name) in ["ms-requestid", "ms-correlationid"].into_iter().enumerate() {
        // Like the live service, make one up when the client sent none.
        let made_up = format!("{:08x}-0000-4000-8000-{:012x}", 0x5eed_0000 + i, number);
        let value = request
            .get(name)
            .cloned()
            .or_else(|| HeaderValue::from_str(&made_up).ok());
        if let Some(value) = value {
            headers.insert(name, value);
        }
    }
    if let Ok(cv) = HeaderValue::from_str(&format!("pcFake{number:010}.0")) {
        headers.insert("ms-cv", cv);
    }
    headers.insert("ms-serverid", HeaderValue::from_static("pc-fake"));
    if let Some(seconds) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// The documented 429 (notes §5, §14): not an `ApiFault`.
fn throttled(retry_after: u64) -> Reply {
    let message = format!("Rate limit is exceeded. Try again in {retry_after} seconds.");
    let body = serde_json::json!({ "statusCode": 429, "message": message });
    (
        StatusCode::TOO_MANY_REQUESTS,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

/// A reply of the token endpoint, with the headers Entra ID sends (no BOM,
/// no Partner Center headers).
fn token_response(reply: crate::signin::TokenReply) -> Response {
    let length = reply.body.len();
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = reply.status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    for (name, value) in [
        ("x-ms-request-id", &reply.trace_id),
        ("client-request-id", &reply.correlation_id),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(text: Option<&str>, max: u16) -> Result<u16, String> {
        let query = Query {
            size: text.map(str::to_owned),
            ..Query::default()
        };
        page_size(&query, max)
    }

    #[test]
    fn page_sizes() {
        assert_eq!(size(None, 500), Ok(100));
        assert_eq!(size(Some("0"), 500), Ok(100));
        assert_eq!(size(Some("0"), 50), Ok(50));
        assert_eq!(size(Some("500"), 500), Ok(500));
        assert_eq!(size(Some(" 7 "), 500), Ok(7));
        for bad in ["-1", "501", "ten", "99999999999999999999"] {
            assert!(size(Some(bad), 500).is_err(), "{bad}");
        }
        assert!(
            size(Some("501"), 500)
                .expect_err("too large")
                .contains("the service documents none")
        );
    }

    #[test]
    fn endpoints() {
        let parse = |path: &'static str| {
            let segments: Vec<&str> = path.split('/').collect();
            Endpoint::parse(&segments)
                .map(|(customer, e)| (customer, e.allowed(), e.needs_app_user()))
        };
        assert_eq!(parse("/v1/customers"), Some((None, "GET", false)));
        assert_eq!(parse("/v1/Customers/"), Some((None, "GET", false)));
        assert_eq!(parse("/v1/customers/c"), Some((Some("c"), "GET", false)));
        assert_eq!(
            parse("/v1/customers/c/users/"),
            Some((Some("c"), "GET, POST", true))
        );
        assert_eq!(
            parse("/v1/customers/c/directoryroles/r/usermembers"),
            Some((Some("c"), "GET, POST", true))
        );
        assert_eq!(
            parse("/v1/customers/c/subscribedskus"),
            Some((Some("c"), "GET", false))
        );
        assert_eq!(parse("/v1/customers/c/nothing"), None);
        assert_eq!(parse("/"), None);
    }
}
