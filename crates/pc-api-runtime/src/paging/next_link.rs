//! Next-link resolution, a pure function: from the first request of a
//! listing and the `next` link of a page to the request of the next page.
//!
//! The link's URI is followed relative to the base URL or as an absolute URL
//! on the same origin, its query kept, the path prefix (`/v1`) added only
//! when the path lacks it; every header of the link is sent (the first of
//! any repeated name: what is sent is what is reported), except those that
//! would replace the client's credentials or ids. A `next` without headers
//! but with a `continuationToken` in the page is followed with the seek
//! parameter and the token in its header. A link that leaves the origin or
//! the API's path is an error, and its host gets no request and no token.

use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};

use super::NextLink;
use crate::error::{Error, ErrorKind};
use crate::pipeline::request::{Request, header_value};
use crate::pipeline::{CORRELATION_ID, REQUEST_ID};
use crate::secret::Secret;

/// How a paged operation is walked, from its `x-pagination`.
#[derive(Debug)]
pub struct PagingRules {
    /// The header that carries a continuation token.
    pub token_header: &'static str,
    /// The query parameter and value that ask for the next page.
    pub seek: Option<(&'static str, &'static str)>,
    /// Prepended to next-link paths that lack it, e.g. `/v1`.
    pub path_prefix: &'static str,
}

/// The request of the next page of a listing.
#[derive(Debug)]
pub struct NextRequest {
    /// The request, with the listing's headers and the link's.
    pub request: Request,
    /// The continuation token it carries, if any.
    pub token: Option<Secret>,
    /// Its full URL.
    pub url: Url,
}

/// The request of the page after the one whose next link is `link` and
/// whose continuation token is `body_token`; `None` at the end of the
/// listing (no link, or an empty token). `first` is the listing's first
/// request: its headers go with every page, and its path and query are the
/// fallback of a link without a URI.
pub fn resolve_next(
    base: &Url,
    rules: &PagingRules,
    first: &Request,
    link: Option<&NextLink<'_>>,
    body_token: Option<&str>,
) -> Result<Option<NextRequest>, Error> {
    let Some(link) = link else {
        return Ok(None);
    };
    let header_token = link
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(rules.token_header))
        .map(|(_, value)| *value);
    let token = match (header_token, body_token) {
        (Some(""), _) => return Ok(None),
        (Some(token), _) => Some(token),
        (None, Some("")) => return Ok(None),
        (None, token) => token,
    };
    let uri = link.uri.filter(|u| !u.trim().is_empty());
    if uri.is_none() && token.is_none() {
        return Err(paging_error(
            "the next link has neither a URI nor a continuation token",
        ));
    }

    let mut request = Request::new(first.method.clone(), first.operation_id);
    match uri {
        Some(uri) => {
            let (path, query) = resolve_uri(base, rules, uri)?;
            request.path = path;
            request.raw_query = query;
        }
        None => {
            request.path = first.path.clone();
            request.query = first.query.clone();
        }
    }
    // The headers of the listing (correlation id, locale, ...), but not the
    // first page's request id or token.
    for (name, value) in &first.headers {
        if name.as_str().eq_ignore_ascii_case(REQUEST_ID)
            || name.as_str().eq_ignore_ascii_case(rules.token_header)
        {
            continue;
        }
        request.headers.insert(name.clone(), value.clone());
    }
    let mut from_link: Vec<HeaderName> = Vec::new();
    for (name, value) in &link.headers {
        if is_reserved_header(name) {
            continue;
        }
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| paging_error("the next link has a header name that is not valid"))?;
        if from_link.contains(&header) {
            // The first of a repeated name is sent, as it is the one read.
            continue;
        }
        let mut value = header_value(value)
            .map_err(|_| paging_error("the next link has a header value that is not valid"))?;
        value.set_sensitive(true);
        request.headers.insert(header.clone(), value);
        from_link.push(header);
    }
    if header_token.is_none()
        && let Some(token) = token
    {
        let value = token_value(token)?;
        let header = HeaderName::from_bytes(rules.token_header.as_bytes())
            .map_err(|_| paging_error("the token header name is not valid"))?;
        request.headers.insert(header, value);
    }
    // A token the link's URI does not ask for itself goes with the seek
    // parameter: the fallback of a `next` without headers, or without a URI.
    if token.is_some()
        && (header_token.is_none() || uri.is_none())
        && let Some((name, seek)) = rules.seek
    {
        set_seek(&mut request, name, seek);
    }
    let url = request
        .url(base.as_str().trim_end_matches('/'))
        .map_err(|_| paging_error("the next link is not a valid URL"))?;
    check_stays_on_api(base, rules, &url)?;
    Ok(Some(NextRequest {
        request,
        token: token.map(Secret::from),
        url,
    }))
}

fn token_value(token: &str) -> Result<HeaderValue, Error> {
    let mut value = header_value(token)
        .map_err(|_| paging_error("the continuation token is not a valid header value"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// The path and query of a next-link URI, checked to stay on the base URL's
/// origin, with the path prefix added when missing.
fn resolve_uri(
    base: &Url,
    rules: &PagingRules,
    uri: &str,
) -> Result<(String, Option<String>), Error> {
    let uri = uri.trim();
    let (path, query) = match Url::parse(uri) {
        Ok(absolute) => {
            if !same_origin(&absolute, base) {
                return Err(paging_error(
                    "the next link points to another scheme, host or port than the client's base URL; it was not followed and the token was not sent",
                ));
            }
            let base_path = base.path().trim_end_matches('/');
            let path = absolute.path();
            let path = path
                .strip_prefix(base_path)
                .filter(|p| p.starts_with('/'))
                .unwrap_or(path);
            (path.to_owned(), absolute.query().map(str::to_owned))
        }
        Err(_) if uri.starts_with("//") || uri.starts_with("\\\\") => {
            return Err(paging_error(
                "the next link is a network-path reference to another host; it was not followed and the token was not sent",
            ));
        }
        Err(_) => {
            let (path, query) = match uri.split_once('?') {
                Some((path, query)) => (path, Some(query.to_owned())),
                None => (uri, None),
            };
            let path = path.split('#').next().unwrap_or_default();
            let path = if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("/{path}")
            };
            (path, query)
        }
    };
    Ok((with_prefix(&path, rules.path_prefix), query))
}

/// Defence in depth: the final URL must still be on the base origin, and
/// dot segments (`/v1/%2E%2E/admin`) must not lead out of the API's path.
fn check_stays_on_api(base: &Url, rules: &PagingRules, url: &Url) -> Result<(), Error> {
    if !same_origin(url, base) {
        return Err(paging_error(
            "the next link leaves the client's base URL; it was not followed",
        ));
    }
    let root =
        format!("{}{}", base.path().trim_end_matches('/'), rules.path_prefix).to_ascii_lowercase();
    let path = url.path().to_ascii_lowercase();
    if !root.is_empty() && path != root && !path.starts_with(&format!("{root}/")) {
        return Err(paging_error(
            "the next link leads out of the API's path (dot segments?); it was not followed",
        ));
    }
    Ok(())
}

/// Adds `prefix` (`/v1`) to `path` unless the path already starts with it.
fn with_prefix(path: &str, prefix: &str) -> String {
    if prefix.is_empty() {
        return path.to_owned();
    }
    let lower = path.to_ascii_lowercase();
    let prefix_lower = prefix.to_ascii_lowercase();
    if lower == prefix_lower || lower.starts_with(&format!("{prefix_lower}/")) {
        path.to_owned()
    } else {
        format!("{prefix}{path}")
    }
}

/// Sets the seek parameter of a raw or structured query to `value`.
fn set_seek(request: &mut Request, name: &'static str, value: &'static str) {
    match &mut request.raw_query {
        Some(raw) => {
            let kept: Vec<&str> = raw
                .split('&')
                .filter(|pair| !pair.is_empty())
                .filter(|pair| {
                    !pair
                        .split('=')
                        .next()
                        .unwrap_or_default()
                        .eq_ignore_ascii_case(name)
                })
                .collect();
            let mut query = kept.join("&");
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(name);
            query.push('=');
            query.push_str(value);
            *raw = query;
        }
        None => {
            request
                .query
                .retain(|(key, _)| !key.eq_ignore_ascii_case(name));
            request.query.push((name, value.to_owned()));
        }
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Headers a next link may not set: the client's credentials and framing,
/// and the ids the client manages.
fn is_reserved_header(name: &str) -> bool {
    [
        "authorization",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "cookie",
        "proxy-authorization",
        REQUEST_ID,
        CORRELATION_ID,
    ]
    .iter()
    .any(|reserved| name.eq_ignore_ascii_case(reserved))
}

pub(crate) fn paging_error(message: &str) -> Error {
    Error::new(ErrorKind::Paging).with_message(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: PagingRules = PagingRules {
        token_header: "MS-ContinuationToken",
        seek: Some(("seekOperation", "Next")),
        path_prefix: "/v1",
    };

    fn first() -> Request {
        let mut request = Request::new(reqwest::Method::GET, "getCustomerUsers");
        request.push_path("/v1/customers/c/users");
        request.query("size", "2");
        request.header("MS-CorrelationId", "corr").expect("header");
        request.header("MS-RequestId", "req").expect("header");
        request
    }

    fn next(
        uri: Option<&str>,
        headers: &[(&str, &str)],
        body_token: Option<&str>,
    ) -> Result<Option<NextRequest>, String> {
        let base = Url::parse("https://api.example.com").expect("base");
        let link = NextLink {
            uri,
            headers: headers.to_vec(),
        };
        resolve_next(&base, &RULES, &first(), Some(&link), body_token).map_err(|e| e.to_string())
    }

    fn url_of(next: Result<Option<NextRequest>, String>) -> String {
        next.expect("resolves")
            .expect("a next page")
            .url
            .to_string()
    }

    #[test]
    fn relative_links_get_the_prefix_once() {
        let token = [("MS-ContinuationToken", "a/b+c=")];
        assert_eq!(
            url_of(next(
                Some("/customers/c/users?size=2&seekOperation=Next"),
                &token,
                None
            )),
            "https://api.example.com/v1/customers/c/users?size=2&seekOperation=Next"
        );
        assert_eq!(
            url_of(next(
                Some("/v1/customers/c/users?seekOperation=Next"),
                &token,
                None
            )),
            "https://api.example.com/v1/customers/c/users?seekOperation=Next"
        );
        assert_eq!(
            url_of(next(
                Some("https://api.example.com/v1/customers/c/users?x=1"),
                &token,
                None
            )),
            "https://api.example.com/v1/customers/c/users?x=1"
        );
    }

    #[test]
    fn the_token_goes_in_its_header_and_the_ids_stay() {
        let resolved = next(
            Some("/customers/c/users"),
            &[("MS-ContinuationToken", "tok,en/+=")],
            None,
        )
        .expect("resolves")
        .expect("next");
        let headers = &resolved.request.headers;
        assert_eq!(headers["ms-continuationtoken"], "tok,en/+=");
        assert!(headers["ms-continuationtoken"].is_sensitive());
        assert_eq!(headers["ms-correlationid"], "corr");
        assert!(
            headers.get("ms-requestid").is_none(),
            "a fresh request id per page"
        );
        assert_eq!(
            resolved.token.as_ref().map(Secret::expose_secret),
            Some("tok,en/+=")
        );
    }

    #[test]
    fn a_repeated_token_header_sends_and_reports_the_first() {
        let resolved = next(
            Some("/customers/c/users"),
            &[
                ("MS-ContinuationToken", "first"),
                ("ms-continuationtoken", "second"),
            ],
            None,
        )
        .expect("resolves")
        .expect("next");
        assert_eq!(resolved.request.headers["ms-continuationtoken"], "first");
        assert_eq!(
            resolved
                .request
                .headers
                .get_all("ms-continuationtoken")
                .iter()
                .count(),
            1
        );
        assert_eq!(
            resolved.token.as_ref().map(Secret::expose_secret),
            Some("first")
        );
    }

    #[test]
    fn a_body_token_without_link_headers_uses_the_seek_fallback() {
        let resolved = next(Some("/customers/c/users?size=2"), &[], Some("tok"))
            .expect("resolves")
            .expect("next");
        assert_eq!(
            resolved.url.as_str(),
            "https://api.example.com/v1/customers/c/users?size=2&seekOperation=Next"
        );
        assert_eq!(resolved.request.headers["ms-continuationtoken"], "tok");
        let no_uri = next(None, &[], Some("tok"))
            .expect("resolves")
            .expect("next");
        assert_eq!(
            no_uri.url.as_str(),
            "https://api.example.com/v1/customers/c/users?size=2&seekOperation=Next"
        );
    }

    #[test]
    fn empty_tokens_end_the_listing() {
        assert!(
            next(Some("/x"), &[("MS-ContinuationToken", "")], None)
                .expect("ok")
                .is_none()
        );
        assert!(next(Some("/x"), &[], Some("")).expect("ok").is_none());
        let base = Url::parse("https://api.example.com").expect("base");
        assert!(
            resolve_next(&base, &RULES, &first(), None, Some("t"))
                .expect("ok")
                .is_none()
        );
    }

    #[test]
    fn links_that_leave_are_refused() {
        for uri in [
            "https://evil.example.com/v1/customers",
            "http://api.example.com/v1/customers",
            "https://api.example.com:8443/v1/customers",
            "//evil.example.com/v1/customers",
            "/v1/../admin",
            "/v1/%2E%2E/admin",
        ] {
            let error = next(Some(uri), &[("MS-ContinuationToken", "t")], None).expect_err(uri);
            assert!(error.contains("not followed"), "{uri}: {error}");
        }
        assert!(
            next(None, &[], None)
                .expect_err("nothing")
                .contains("neither a URI")
        );
    }

    #[test]
    fn links_cannot_replace_the_credentials() {
        let resolved = next(
            Some("/customers"),
            &[
                ("Authorization", "Bearer evil"),
                ("MS-RequestId", "fixed"),
                ("MS-ContinuationToken", "t"),
            ],
            None,
        )
        .expect("resolves")
        .expect("next");
        assert!(resolved.request.headers.get("authorization").is_none());
        assert!(resolved.request.headers.get("ms-requestid").is_none());
    }

    #[test]
    fn prefix_only_when_missing() {
        assert_eq!(
            with_prefix("/customers/x/users", "/v1"),
            "/v1/customers/x/users"
        );
        assert_eq!(
            with_prefix("/v1/customers/x/users", "/v1"),
            "/v1/customers/x/users"
        );
        assert_eq!(with_prefix("/V1/customers", "/v1"), "/V1/customers");
        assert_eq!(with_prefix("/v10/customers", "/v1"), "/v1/v10/customers");
        assert_eq!(with_prefix("/v1", "/v1"), "/v1");
        assert_eq!(with_prefix("/x", ""), "/x");
    }

    #[test]
    fn seek_is_set_once() {
        let mut request = Request::new(reqwest::Method::GET, "op");
        request.raw_query = Some("size=2&seekoperation=next&x=1".to_owned());
        set_seek(&mut request, "seekOperation", "Next");
        assert_eq!(
            request.raw_query.as_deref(),
            Some("size=2&x=1&seekOperation=Next")
        );
        let mut request = Request::new(reqwest::Method::GET, "op");
        request.query.push(("size", "2".to_owned()));
        set_seek(&mut request, "seekOperation", "Next");
        assert_eq!(
            request.query,
            vec![
                ("size", "2".to_owned()),
                ("seekOperation", "Next".to_owned())
            ]
        );
    }
}
