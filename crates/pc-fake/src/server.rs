//! The HTTP side of the fake: routing, validation, pages, errors and faults.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde::Serialize;

use crate::tenant::FakeUser;
use crate::token::{self, Position};
use crate::{Faults, RecordedRequest};

pub(crate) struct Options {
    pub(crate) v1_links: bool,
    pub(crate) bom: bool,
    pub(crate) faults: Faults,
}

pub(crate) struct Shared {
    tenants: HashMap<String, Tenant>,
    options: Options,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    counter: AtomicU64,
    token_uses: Mutex<HashMap<String, u64>>,
}

struct Tenant {
    id: String,
    users: Vec<FakeUser>,
    /// Each user as the JSON of a list item, serialised once.
    json: Vec<Bytes>,
    /// User indices per (sort, inactive): 3 sorts × 2 filters.
    orders: [OnceLock<Vec<u32>>; 6],
}

#[derive(Serialize)]
struct WireUser<'a> {
    #[serde(flatten)]
    user: &'a FakeUser,
    links: WireLinks,
    attributes: WireAttributes,
}

#[derive(Serialize)]
struct WireLinks {
    #[serde(rename = "self")]
    self_: WireLink,
}

#[derive(Serialize)]
struct WireLink {
    uri: String,
    method: &'static str,
    headers: [(); 0],
}

#[derive(Serialize)]
struct WireAttributes {
    #[serde(rename = "objectType")]
    object_type: &'static str,
}

impl Tenant {
    fn new(id: String, users: Vec<FakeUser>) -> Self {
        let json = users
            .iter()
            .map(|user| {
                let wire = WireUser {
                    user,
                    links: WireLinks {
                        self_: WireLink {
                            uri: format!("/customers/{id}/users/{}", user.id),
                            method: "GET",
                            headers: [],
                        },
                    },
                    attributes: WireAttributes {
                        object_type: "CustomerUser",
                    },
                };
                Bytes::from(serde_json::to_vec(&wire).unwrap_or_default())
            })
            .collect();
        Tenant {
            id,
            users,
            json,
            orders: Default::default(),
        }
    }

    /// The users of a listing in order: active or deleted ones, by `sort`
    /// (0: as created, 1: display name, 2: user principal name).
    fn order(&self, sort: u8, inactive: bool) -> &[u32] {
        let slot = usize::from(sort.min(2)) * 2 + usize::from(inactive);
        self.orders[slot].get_or_init(|| {
            let mut order: Vec<u32> = (0..self.users.len() as u32)
                .filter(|&i| self.users[i as usize].is_inactive() == inactive)
                .collect();
            match sort {
                1 => order
                    .sort_by_cached_key(|&i| self.users[i as usize].display_name.to_lowercase()),
                2 => order.sort_by_cached_key(|&i| {
                    self.users[i as usize].user_principal_name.to_lowercase()
                }),
                _ => {}
            }
            order
        })
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
            .map(|(id, users)| (id.to_ascii_lowercase(), Tenant::new(id, users)))
            .collect();
        Arc::new(Shared {
            tenants,
            options,
            requests,
            counter: AtomicU64::new(0),
            token_uses: Mutex::new(HashMap::new()),
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
    let recorded = RecordedRequest {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().map(str::to_owned),
        headers: request
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    if let Ok(mut requests) = shared.requests.lock() {
        requests.push(recorded.clone());
    }
    let faults = &shared.options.faults;
    if let Some(delay) = faults.delay {
        tokio::time::sleep(delay).await;
    }
    let (status, body, cut) = respond(&shared, &recorded, number);
    finish(&shared, request.headers(), status, body, cut, number)
}

/// The status and body for a request, and whether to cut the body off.
fn respond(shared: &Shared, request: &RecordedRequest, number: u64) -> (StatusCode, Vec<u8>, bool) {
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
        return (status, body, false);
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
        return (status, body, false);
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
            return (status, body, false);
        }
    }
    let segments: Vec<&str> = request.path.split('/').collect();
    let (status, body) = match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["", v1, customers, customer, users])
            if v1.eq_ignore_ascii_case("v1")
                && customers.eq_ignore_ascii_case("customers")
                && users.eq_ignore_ascii_case("users") =>
        {
            let customer = percent_decode(customer);
            list_users(shared, &customer, request)
        }
        (_, ["", v1, customers, _, users])
            if v1.eq_ignore_ascii_case("v1")
                && customers.eq_ignore_ascii_case("customers")
                && users.eq_ignore_ascii_case("users") =>
        {
            fault(
                StatusCode::METHOD_NOT_ALLOWED,
                405,
                "The method is not supported by this fake.",
            )
        }
        _ => fault(
            StatusCode::NOT_FOUND,
            1000,
            "The requested resource was not found.",
        ),
    };
    let cut = status == StatusCode::OK
        && faults
            .close_mid_body_every
            .is_some_and(|n| n > 0 && number.is_multiple_of(n));
    (status, body, cut)
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

fn list_users(shared: &Shared, customer: &str, request: &RecordedRequest) -> (StatusCode, Vec<u8>) {
    let Some(tenant) = shared.tenants.get(&customer.to_ascii_lowercase()) else {
        return fault(StatusCode::NOT_FOUND, 60003, "Tenant not found.");
    };
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
        (None, _) => match first_position(&query) {
            Ok(position) => position,
            Err(message) => return bad_request(message),
        },
    };
    let order = tenant.order(position.sort, position.inactive);
    let start = (position.offset as usize).min(order.len());
    let end = (start + usize::from(position.size)).min(order.len());
    // A descending listing walks the ascending order from its end.
    let items: Vec<u32> = if position.descending {
        (start..end).map(|i| order[order.len() - 1 - i]).collect()
    } else {
        order[start..end].to_vec()
    };

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
    if end < order.len() {
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
fn first_position(query: &Query) -> Result<Position, &'static str> {
    let size = match &query.size {
        None => 100,
        Some(size) => match size.trim().parse::<i64>() {
            Ok(size) if (1..=500).contains(&size) => size as u16,
            Ok(_) => return Err("The page size must be between 1 and 500."),
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
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static("GET"));
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(shared.options.faults.retry_after_secs),
        );
    }
    response
}
