//! The HTTP side of the fake: routing, validation, pages, errors and faults.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

use crate::state::{self, LicenseUpdateInput, MemberInput, Tenant, UserInput};
use crate::tenant::FakeUser;
use crate::token::{self, Position};
use crate::{Faults, RecordedRequest};

/// The largest request body the fake reads.
const MAX_BODY: usize = 1024 * 1024;
/// How many requests the fake remembers (see `FakePartnerCenter::requests`).
const MAX_RECORDED: usize = 100_000;
/// How many answers to creates, updates and deletes the fake keeps for
/// repeated `MS-RequestId`s (the fake's choice: the service documents no window).
const MAX_REPLIES: usize = 10_000;

pub(crate) struct Options {
    pub(crate) max_page_size: u16,
    pub(crate) v1_links: bool,
    pub(crate) bom: bool,
    pub(crate) faults: Faults,
}

pub(crate) struct Shared {
    tenants: HashMap<String, Mutex<Tenant>>,
    created: AtomicU64,
    options: Options,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    counter: AtomicU64,
    token_uses: Mutex<HashMap<String, u64>>,
    replies: Mutex<Replies>,
}

/// The answers to requests that change state, by `MS-RequestId`, method and
/// path: a repeated request gets the original answer and changes nothing
/// again, the idempotency the header is documented for ("Used for
/// idempotency of requests").
#[derive(Default)]
struct Replies {
    answers: HashMap<(String, String, String), (StatusCode, Vec<u8>)>,
    order: VecDeque<(String, String, String)>,
}

impl Replies {
    fn get(&self, key: &(String, String, String)) -> Option<(StatusCode, Vec<u8>)> {
        self.answers.get(key).cloned()
    }

    fn insert(&mut self, key: (String, String, String), answer: (StatusCode, Vec<u8>)) {
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
        customers: Vec<(String, Vec<FakeUser>)>,
        options: Options,
        requests: Arc<Mutex<Vec<RecordedRequest>>>,
    ) -> Arc<Self> {
        let tenants = customers
            .into_iter()
            .map(|(id, users)| (id.to_ascii_lowercase(), Mutex::new(Tenant::new(id, users))))
            .collect();
        Arc::new(Shared {
            tenants,
            options,
            requests,
            counter: AtomicU64::new(0),
            created: AtomicU64::new(0),
            token_uses: Mutex::new(HashMap::new()),
            replies: Mutex::new(Replies::default()),
        })
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// An `ApiFault` body.
fn fault(status: StatusCode, code: u64, description: &str) -> (StatusCode, Vec<u8>) {
    let body = serde_json::json!({ "code": code, "description": description, "data": [], "source": "PartnerFD" });
    (status, serde_json::to_vec(&body).unwrap_or_default())
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let number = shared.counter.fetch_add(1, Ordering::SeqCst) + 1;
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
    if too_large {
        let (status, body) = fault(
            StatusCode::PAYLOAD_TOO_LARGE,
            413,
            "The request body is larger than 1 MiB.",
        );
        return finish(&shared, &parts.headers, status, body, false, number);
    }
    let faults = &shared.options.faults;
    if let Some(delay) = faults.delay {
        tokio::time::sleep(delay).await;
    }
    let (status, body, cut, allow) = respond(&shared, &recorded, number);
    let mut response = finish(&shared, &parts.headers, status, body, cut, number);
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
        let message = format!(
            "Rate limit is exceeded. Try again in {} seconds.",
            faults.retry_after_secs
        );
        let body = serde_json::json!({ "statusCode": 429, "message": message });
        return (
            StatusCode::TOO_MANY_REQUESTS,
            serde_json::to_vec(&body).unwrap_or_default(),
            false,
            None,
        );
    }
    if let Some(every) = faults.unavailable_every.filter(|n| *n > 0)
        && (number - 1) % every >= every.saturating_sub(faults.unavailable_burst)
    {
        let (status, body) = fault(
            StatusCode::SERVICE_UNAVAILABLE,
            503,
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
    // A create, update or delete repeated with the same `MS-RequestId` (a
    // client's retry after a lost answer) gets the original answer.
    let reply_key = (request.method != "GET")
        .then(|| request.header("ms-requestid"))
        .flatten()
        .filter(|id| !id.is_empty())
        .map(|id| (id.to_owned(), request.method.clone(), request.path.clone()));
    if let Some(key) = &reply_key
        && let Some((status, body)) = shared.replies.lock().ok().and_then(|r| r.get(key))
    {
        return (status, body, false, None);
    }
    let segments: Vec<String> = request.path.split('/').map(percent_decode).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let ((status, body), allow) = route(shared, request, &segments);
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

fn bad_request(description: &str) -> (StatusCode, Vec<u8>) {
    fault(StatusCode::BAD_REQUEST, 800002, description)
}

type Reply = (StatusCode, Vec<u8>);

/// The resources below `/v1/customers/{customer_id}`.
enum Endpoint<'a> {
    Users,
    User(&'a str),
    UserRoles(&'a str),
    UserLicenses(&'a str),
    LicenseUpdates(&'a str),
    RoleMembers(&'a str),
    RoleMember(&'a str, &'a str),
}

impl<'a> Endpoint<'a> {
    /// The endpoint of the path segments after the customer id, with the
    /// methods it allows.
    fn parse(rest: &[&'a str]) -> Option<(Self, &'static str)> {
        let is = |segment: &str, name: &str| segment.eq_ignore_ascii_case(name);
        Some(match *rest {
            [users] if is(users, "users") => (Endpoint::Users, "GET, POST"),
            [users, user] if is(users, "users") => (Endpoint::User(user), "GET, PATCH, DELETE"),
            [users, user, roles] if is(users, "users") && is(roles, "directoryroles") => {
                (Endpoint::UserRoles(user), "GET")
            }
            [users, user, licenses] if is(users, "users") && is(licenses, "licenses") => {
                (Endpoint::UserLicenses(user), "GET")
            }
            [users, user, updates] if is(users, "users") && is(updates, "licenseupdates") => {
                (Endpoint::LicenseUpdates(user), "POST")
            }
            [roles, role, members] if is(roles, "directoryroles") && is(members, "usermembers") => {
                (Endpoint::RoleMembers(role), "POST")
            }
            [roles, role, members, user]
                if is(roles, "directoryroles") && is(members, "usermembers") =>
            {
                (Endpoint::RoleMember(role, user), "DELETE")
            }
            _ => return None,
        })
    }
}

/// Dispatches a request by method and path segments (percent-decoded); a
/// 405 comes with the methods to put in `Allow`.
fn route(
    shared: &Shared,
    request: &RecordedRequest,
    segments: &[&str],
) -> (Reply, Option<&'static str>) {
    let not_found = || {
        fault(
            StatusCode::NOT_FOUND,
            1000,
            "The requested resource was not found.",
        )
    };
    let (customer, rest) = match segments {
        ["", v1, customers, customer, rest @ ..]
            if v1.eq_ignore_ascii_case("v1") && customers.eq_ignore_ascii_case("customers") =>
        {
            (*customer, rest)
        }
        _ => return (not_found(), None),
    };
    let Some((endpoint, allowed)) = Endpoint::parse(rest) else {
        return (not_found(), None);
    };
    let Some(tenant) = shared.tenants.get(&customer.to_ascii_lowercase()) else {
        return (
            fault(StatusCode::NOT_FOUND, 60003, "Tenant not found."),
            None,
        );
    };
    let Ok(mut tenant) = tenant.lock() else {
        return (
            fault(
                StatusCode::INTERNAL_SERVER_ERROR,
                500,
                "The fake's state is poisoned.",
            ),
            None,
        );
    };
    let tenant = &mut *tenant;
    let reply = match (request.method.as_str(), endpoint) {
        ("GET", Endpoint::Users) => list_users(shared, tenant, request),
        ("POST", Endpoint::Users) => create_user(shared, tenant, request),
        ("GET", Endpoint::User(user)) => get_user(tenant, user),
        ("PATCH", Endpoint::User(user)) => update_user(tenant, user, request),
        ("DELETE", Endpoint::User(user)) => delete_user(tenant, user),
        ("GET", Endpoint::UserRoles(user)) => user_roles(tenant, user),
        ("GET", Endpoint::UserLicenses(user)) => user_licenses(tenant, user, request),
        ("POST", Endpoint::LicenseUpdates(user)) => update_licenses(tenant, user, request),
        ("POST", Endpoint::RoleMembers(role)) => add_member(tenant, role, request),
        ("DELETE", Endpoint::RoleMember(role, user)) => remove_member(tenant, role, user),
        _ => {
            let reply = fault(
                StatusCode::METHOD_NOT_ALLOWED,
                405,
                "The method is not supported by this resource.",
            );
            return (reply, Some(allowed));
        }
    };
    (reply, None)
}

fn json_reply(status: StatusCode, value: &serde_json::Value) -> Reply {
    (status, serde_json::to_vec(value).unwrap_or_default())
}

fn user_not_found() -> Reply {
    fault(StatusCode::NOT_FOUND, 60002, "User object Id is not found.")
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
        serde_json::from_slice(&tenant.json[index]).unwrap_or_default();
    if let (Some(password), Some(map)) = (password, value.as_object_mut()) {
        map.insert(
            "passwordProfile".to_owned(),
            serde_json::to_value(password).unwrap_or_default(),
        );
    }
    value
}

fn create_user(shared: &Shared, tenant: &mut Tenant, request: &RecordedRequest) -> Reply {
    let input: UserInput = match parse_body(request) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    let Some(upn) = input
        .user_principal_name
        .filter(|u| u.contains('@') && !u.trim().is_empty())
    else {
        return bad_request("userPrincipalName (name@domain) is required.");
    };
    if tenant
        .users
        .iter()
        .any(|u| u.user_principal_name.eq_ignore_ascii_case(&upn))
    {
        return fault(
            StatusCode::CONFLICT,
            60026,
            "A user with this user principal name already exists.",
        );
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
        user_domain_type: "managed".to_owned(),
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

fn now() -> String {
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
    if let Some(upn) = &input.user_principal_name {
        if !upn.contains('@') || upn.trim().is_empty() {
            return bad_request("userPrincipalName must be name@domain.");
        }
        let taken = tenant
            .users
            .iter()
            .enumerate()
            .any(|(i, u)| i != index && u.user_principal_name.eq_ignore_ascii_case(upn));
        if taken {
            return fault(
                StatusCode::CONFLICT,
                60026,
                "A user with this user principal name already exists.",
            );
        }
    }
    let restore = match input
        .state
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => None,
        Some("active") => Some(true),
        Some("inactive") => Some(false),
        Some(_) => return bad_request("state must be active or inactive."),
    };
    if tenant.users[index].is_inactive() && restore != Some(true) {
        return fault(
            StatusCode::BAD_REQUEST,
            60010,
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
        Some(index) if !tenant.users[index].is_inactive() => {
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

fn user_roles(tenant: &Tenant, user: &str) -> Reply {
    let Some(index) = tenant.find(user) else {
        return user_not_found();
    };
    let id = &tenant.users[index].id;
    let items = state::ROLES
        .iter()
        .filter(|(role, _)| tenant.members.get(role).is_some_and(|m| m.contains(id)))
        .map(|(role, name)| serde_json::json!({ "name": name, "id": role, "attributes": { "objectType": "DirectoryRole" } }))
        .collect();
    json_reply(StatusCode::OK, &collection(items))
}

fn role_of(role: &str) -> Option<&'static str> {
    state::ROLES
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(role))
        .map(|(id, _)| *id)
}

fn add_member(tenant: &mut Tenant, role: &str, request: &RecordedRequest) -> Reply {
    let Some(role) = role_of(role) else {
        return fault(
            StatusCode::NOT_FOUND,
            1000,
            "The directory role was not found.",
        );
    };
    let input: MemberInput = match parse_body(request) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    let Some(index) = input.id.as_deref().and_then(|id| tenant.find(id)) else {
        return user_not_found();
    };
    let user = tenant.users[index].clone();
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
        return fault(
            StatusCode::NOT_FOUND,
            1000,
            "The directory role was not found.",
        );
    };
    let Some(index) = tenant.find(user) else {
        return user_not_found();
    };
    let id = tenant.users[index].id.clone();
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

fn license_json(sku: &state::Sku) -> serde_json::Value {
    let plans: Vec<serde_json::Value> = sku
        .plans
        .iter()
        .map(|(id, service, name)| serde_json::json!({ "displayName": name, "serviceName": service, "id": id, "capabilityStatus": "Enabled", "targetType": "User" }))
        .collect();
    serde_json::json!({
        "servicePlans": plans,
        "productSku": { "id": sku.id, "name": sku.name, "skuPartNumber": sku.part_number, "targetType": "User", "licenseGroupId": sku.group },
        "attributes": { "objectType": "License" }
    })
}

fn user_licenses(tenant: &Tenant, user: &str, request: &RecordedRequest) -> Reply {
    let Some(index) = tenant.find(user) else {
        return user_not_found();
    };
    let groups: Vec<String> =
        form_urlencoded::parse(request.query.as_deref().unwrap_or_default().as_bytes())
            .filter(|(k, _)| k.eq_ignore_ascii_case("licenseGroupIds"))
            .map(|(_, v)| v.into_owned())
            .collect();
    let assigned = tenant.licenses.get(&tenant.users[index].id);
    let items = state::SKUS
        .iter()
        .filter(|sku| assigned.is_some_and(|a| a.contains(sku.id)))
        .filter(|sku| groups.is_empty() || groups.iter().any(|g| g.eq_ignore_ascii_case(sku.group)))
        .map(license_json)
        .collect();
    json_reply(StatusCode::OK, &collection(items))
}

fn update_licenses(tenant: &mut Tenant, user: &str, request: &RecordedRequest) -> Reply {
    let Some(index) = tenant.find(user) else {
        return user_not_found();
    };
    let input: LicenseUpdateInput = match parse_body(request) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    let user_id = tenant.users[index].id.clone();
    let find = |sku: &str| state::SKUS.iter().find(|s| s.id.eq_ignore_ascii_case(sku));
    let assign = input.licenses_to_assign.unwrap_or_default();
    let remove = input.licenses_to_remove.unwrap_or_default();
    let mut to_add = Vec::new();
    for item in &assign {
        let Some(sku) = item.sku_id.as_deref().and_then(find) else {
            return bad_request("A skuId of licensesToAssign is not a SKU of the customer.");
        };
        let already = tenant
            .licenses
            .get(&user_id)
            .is_some_and(|a| a.contains(sku.id));
        if !already && tenant.assigned(sku.id) >= sku.total {
            let (status, _) = fault(StatusCode::BAD_REQUEST, 60012, "");
            let body = serde_json::json!({
                "code": 60012,
                "description": "We&#39;re sorry, it looks like you've run out of licenses. Buy more licenses, and then try again.",
                "data": [format!("LicenseQuotaExceededException : Subscription with SKU {} does not have any available licenses left.", sku.id)],
                "source": "PartnerFD"
            });
            return json_reply(status, &body);
        }
        to_add.push(sku.id);
    }
    let mut to_remove = Vec::new();
    for sku in &remove {
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
        "licenseWarnings": [],
        "attributes": { "objectType": "LicenseUpdate" }
    });
    json_reply(StatusCode::CREATED, &body)
}

fn list_users(shared: &Shared, tenant: &mut Tenant, request: &RecordedRequest) -> Reply {
    let query = parse_query(request.query.as_deref());
    let token = request.header("ms-continuationtoken");
    let position = match (&query.seek, token) {
        (Some(seek), Some(token)) => {
            if !(seek.eq_ignore_ascii_case("next") || seek == "0") {
                return bad_request(
                    "Only seekOperation=Next is supported with a continuation token.",
                );
            }
            match token::decode(token, &tenant.id) {
                Some(position) => position,
                None => return bad_request("The continuation token is not valid."),
            }
        }
        (Some(_), None) => {
            return bad_request("A seek operation needs the MS-ContinuationToken header.");
        }
        (None, _) => match first_position(&query, shared.options.max_page_size) {
            Ok(position) => position,
            Err(message) => return bad_request(message),
        },
    };
    let order = tenant.order(position.sort, position.inactive);
    let total = order.len();
    let start = (position.offset as usize).min(order.len());
    let end = (start + usize::from(position.size)).min(order.len());
    // A descending listing walks the ascending order from its end.
    let items: Vec<u32> = if position.descending {
        (start..end).map(|i| order[order.len() - 1 - i]).collect()
    } else {
        order[start..end].to_vec()
    };
    let tenant = &*tenant;

    let mut body = Vec::with_capacity(items.len() * 700 + 1024);
    body.extend_from_slice(format!("{{\"totalCount\":{},\"items\":[", items.len()).as_bytes());
    for (i, &index) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&tenant.json[index as usize]);
    }
    let list_query = listing_query(&query, position);
    let self_uri = format!("/customers/{}/users?{list_query}", tenant.id);
    body.extend_from_slice(b"],\"links\":{\"self\":");
    push_link(&mut body, &self_uri, None);
    let mut next_token = None;
    if end < total {
        let next = Position {
            offset: end as u32,
            ..position
        };
        let token = token::encode(next, &tenant.id);
        let prefix = if shared.options.v1_links { "/v1" } else { "" };
        let next_uri = format!(
            "{prefix}/customers/{}/users?{list_query}&seekOperation=Next",
            tenant.id
        );
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

/// The query a listing's links repeat: size, sort and filter.
fn listing_query(query: &Query, position: Position) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    out.append_pair("size", &position.size.to_string());
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
    if let Some(filter) = &query.filter {
        out.append_pair("filter", filter);
    }
    out.finish()
}

/// The position of the first page of a listing, from its query.
fn first_position(query: &Query, max_size: u16) -> Result<Position, &'static str> {
    let size = match &query.size {
        None => 100,
        Some(size) => match size.trim().parse::<i64>() {
            Ok(size) if (1..=i64::from(max_size)).contains(&size) => size as u16,
            Ok(_) if max_size == 500 => return Err("The page size must be between 1 and 500."),
            Ok(_) => return Err("The page size is out of range."),
            Err(_) => return Err("The page size must be an integer."),
        },
    };
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
    })
}

/// The deleted-users filter: `{"Field":"UserState","Value":"Inactive","Operator":"equals"}`.
fn parse_filter(filter: &str) -> Result<bool, &'static str> {
    let value: serde_json::Value =
        serde_json::from_str(filter).map_err(|_| "The filter is not valid JSON.")?;
    let field = value
        .get("Field")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let operator = value
        .get("Operator")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let state = value
        .get("Value")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
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
    if status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(shared.options.faults.retry_after_secs),
        );
    }
    response
}
