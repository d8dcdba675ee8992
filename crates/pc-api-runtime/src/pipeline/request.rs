//! [`Request`]: what a generated operation builds from its arguments, and
//! what a listing builds from a next link.
//!
//! Every value is checked here, before anything is sent: a path parameter is
//! exactly one segment, header values are printable ASCII (nothing is
//! swapped or sent as raw bytes), secrets are marked sensitive.

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use crate::error::Error;
use crate::secret::Secret;

/// What a path parameter keeps unencoded: RFC 3986's unreserved characters
/// only. progenitor's `encode_path` leaves `\` alone, which URL parsers turn
/// into `/`, splitting the parameter in two segments.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A request being built by a generated operation or by a listing.
#[derive(Clone, Debug)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) operation_id: &'static str,
    /// The percent-encoded path, starting with `/`, appended to the base URL.
    pub(crate) path: String,
    /// A query string to send as it is (a next link's), without `?`.
    pub(crate) raw_query: Option<String>,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) headers: HeaderMap,
    /// The body, sent again as it is on every attempt.
    pub(crate) body: Option<Bytes>,
}

impl Request {
    /// A request of `operation_id` with `method`, an empty path and no parameters.
    pub fn new(method: Method, operation_id: &'static str) -> Self {
        Request {
            method,
            operation_id,
            path: String::new(),
            raw_query: None,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
        }
    }

    /// The headers set so far.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The operation this request belongs to.
    pub fn operation_id(&self) -> &'static str {
        self.operation_id
    }

    /// Appends a literal part of the path template.
    pub fn push_path(&mut self, literal: &str) {
        self.path.push_str(literal);
    }

    /// Appends a path parameter, percent-encoded as exactly one segment
    /// (`a/b` → `a%2Fb`, `a\b` → `a%5Cb`). Empty values, control characters
    /// and the dot segments `.` and `..` (which URL normalisation would
    /// resolve) are refused.
    pub fn push_path_param(&mut self, name: &str, value: &str) -> Result<(), Error> {
        if value.is_empty() {
            return Err(self.invalid(format!("path parameter `{name}` must not be empty")));
        }
        if value.chars().any(char::is_control) {
            return Err(self.invalid(format!(
                "path parameter `{name}` contains a control character (such as a line break)"
            )));
        }
        if value == "." || value == ".." {
            return Err(self.invalid(format!("path parameter `{name}` must not be `.` or `..`")));
        }
        self.path
            .extend(percent_encoding::utf8_percent_encode(value, PATH_SEGMENT));
        Ok(())
    }

    /// Adds a query parameter; repeated names are sent as repeated pairs.
    pub fn query(&mut self, name: &'static str, value: &str) {
        self.query.push((name, value.to_owned()));
    }

    /// A query parameter whose value is a secret (`format: password`): it
    /// goes in the URL, so prefer a header for secrets in a spec.
    pub fn secret_query(&mut self, name: &'static str, value: &Secret) {
        self.query.push((name, value.expose_secret().to_owned()));
    }

    /// Sets a header. The value must be printable ASCII: a line break could
    /// forge headers, and anything else would reach the service as bytes it
    /// may read differently.
    pub fn header(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let value =
            header_value(value).map_err(|why| self.invalid(format!("header `{name}` {why}")))?;
        self.insert_header(name, value)
    }

    /// Sets a header whose value is a secret: it is marked sensitive and never
    /// appears in error messages.
    pub fn secret_header(&mut self, name: &str, value: &Secret) -> Result<(), Error> {
        let mut value = header_value(value.expose_secret())
            .map_err(|why| self.invalid(format!("header `{name}` {why}")))?;
        value.set_sensitive(true);
        self.insert_header(name, value)
    }

    /// Sets the JSON request body (`Content-Type: application/json`). Fields
    /// that are `None` are left out, so a PATCH sends only what was set.
    pub fn json_body<T: serde::Serialize>(&mut self, value: &T) -> Result<(), Error> {
        let body = serde_json::to_vec(value).map_err(|e| {
            self.invalid("the request body cannot be serialised as JSON".to_owned())
                .with_source(e)
        })?;
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.body = Some(Bytes::from(body));
        Ok(())
    }

    /// Sets the JSON request body like [`json_body`](Request::json_body), with
    /// the strings its model always carries (`x-request-constants`): each
    /// at its path of property names, unless the value sets that path
    /// already. Objects on the way are created when absent.
    pub fn json_body_with<T: serde::Serialize>(
        &mut self,
        value: &T,
        constants: &[(&[&str], &str)],
    ) -> Result<(), Error> {
        let mut json = serde_json::to_value(value).map_err(|e| {
            self.invalid("the request body cannot be serialised as JSON".to_owned())
                .with_source(e)
        })?;
        for (path, constant) in constants {
            set_if_absent(&mut json, path, constant);
        }
        self.json_body(&json)
    }

    /// Sets a form-encoded request body
    /// (`Content-Type: application/x-www-form-urlencoded`) from a struct or
    /// map of scalars; fields that are `None` are left out.
    pub fn form_body<T: serde::Serialize>(&mut self, value: &T) -> Result<(), Error> {
        let body = serde_urlencoded::to_string(value).map_err(|e| {
            self.invalid(
                "the request body cannot be form-encoded (only flat objects of scalars can)"
                    .to_owned(),
            )
            .with_source(e)
        })?;
        self.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self.body = Some(Bytes::from(body));
        Ok(())
    }

    /// Sets a text request body with its media type (`text/plain`, ...).
    pub fn text_body(&mut self, value: &str, media: &'static str) {
        self.raw_body(Bytes::copy_from_slice(value.as_bytes()), media);
    }

    /// Sets a request body of bytes with its media type
    /// (`application/octet-stream`, ...).
    pub fn bytes_body(&mut self, value: &[u8], media: &'static str) {
        self.raw_body(Bytes::copy_from_slice(value), media);
    }

    fn raw_body(&mut self, body: Bytes, media: &'static str) {
        let media = HeaderValue::from_str(media)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
        self.headers.insert(CONTENT_TYPE, media);
        self.body = Some(body);
    }

    /// Sets the `Accept` header, for operations whose responses are not JSON.
    pub fn accept(&mut self, media: &'static str) {
        if let Ok(value) = HeaderValue::from_str(media) {
            self.headers.insert(reqwest::header::ACCEPT, value);
        }
    }

    /// The value of a header set on the request, as text.
    pub(crate) fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn insert_header(&mut self, name: &str, value: HeaderValue) -> Result<(), Error> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| self.invalid(format!("`{name}` is not a valid header name")))?;
        self.headers.insert(name, value);
        Ok(())
    }

    fn invalid(&self, message: String) -> Error {
        Error::invalid_request(message).with_operation(self.operation_id)
    }

    /// The full URL: `base_url` (without a trailing slash), the path, then
    /// the raw query and the query parameters.
    pub fn url(&self, base_url: &str) -> Result<reqwest::Url, Error> {
        let mut text = String::with_capacity(base_url.len() + self.path.len() + 64);
        text.push_str(base_url);
        text.push_str(&self.path);
        if let Some(raw) = &self.raw_query {
            text.push('?');
            text.push_str(raw);
        }
        let mut url = reqwest::Url::parse(&text).map_err(|e| {
            self.invalid("the request URL is invalid".to_owned())
                .with_source(e)
        })?;
        if !self.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(self.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }
}

/// Sets `path` in `json` to `constant` unless it holds a value already;
/// objects on the way are created in place of absent or `null` ones.
pub(crate) fn set_if_absent(json: &mut serde_json::Value, path: &[&str], constant: &str) {
    let Some((leaf, parents)) = path.split_last() else {
        return;
    };
    let mut node = json;
    for key in parents {
        let serde_json::Value::Object(map) = node else {
            return;
        };
        let child = map
            .entry((*key).to_owned())
            .or_insert(serde_json::Value::Null);
        if child.is_null() {
            *child = serde_json::Value::Object(serde_json::Map::new());
        }
        node = child;
    }
    if let serde_json::Value::Object(map) = node {
        let slot = map
            .entry((*leaf).to_owned())
            .or_insert(serde_json::Value::Null);
        if slot.is_null() {
            *slot = serde_json::Value::String(constant.to_owned());
        }
    }
}

/// A header value from text: printable ASCII and tabs only.
pub(crate) fn header_value(value: &str) -> Result<HeaderValue, &'static str> {
    if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        return Err(
            "contains a control character (such as a line break), which an HTTP header value cannot hold",
        );
    }
    if !value.is_ascii() {
        return Err(
            "contains non-ASCII characters; HTTP header values are sent as ASCII, so it would not reach the service as written",
        );
    }
    HeaderValue::from_str(value).map_err(|_| "is not a valid HTTP header value")
}

/// A value as the JSON text of a `content: application/json` query parameter.
pub fn to_json<T: serde::Serialize>(name: &str, value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| {
        Error::invalid_request(format!(
            "query parameter `{name}` cannot be serialised as JSON"
        ))
        .with_source(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(value: &str) -> Result<String, String> {
        let mut request = Request::new(Method::GET, "op");
        request.push_path("/v1/customers/");
        request
            .push_path_param("customer_id", value)
            .map_err(|e| e.to_string())?;
        Ok(request.path)
    }

    #[test]
    fn path_params_are_one_segment() {
        assert_eq!(path_of("a/b").as_deref(), Ok("/v1/customers/a%2Fb"));
        assert_eq!(path_of("a\\b").as_deref(), Ok("/v1/customers/a%5Cb"));
        assert_eq!(
            path_of("a b?c#d%").as_deref(),
            Ok("/v1/customers/a%20b%3Fc%23d%25")
        );
        assert!(
            path_of("")
                .expect_err("empty")
                .contains("must not be empty")
        );
        assert!(
            path_of("..")
                .expect_err("dots")
                .contains("must not be `.` or `..`")
        );
    }

    #[test]
    fn constants_fill_what_the_value_leaves_out() {
        let body = |value: serde_json::Value| {
            let mut request = Request::new(Method::PATCH, "op");
            request
                .json_body_with(&value, &[(&["attributes", "objectType"], "CustomerUser")])
                .expect("body");
            serde_json::from_slice::<serde_json::Value>(&request.body.expect("body")).expect("json")
        };
        assert_eq!(
            body(serde_json::json!({"state": "active"})),
            serde_json::json!({"state": "active", "attributes": {"objectType": "CustomerUser"}})
        );
        assert_eq!(
            body(serde_json::json!({"attributes": {"etag": "e"}})),
            serde_json::json!({"attributes": {"etag": "e", "objectType": "CustomerUser"}})
        );
        assert_eq!(
            body(serde_json::json!({"attributes": {"objectType": "Mine"}})),
            serde_json::json!({"attributes": {"objectType": "Mine"}})
        );
    }

    #[test]
    fn header_values_are_printable_ascii() {
        assert!(header_value("5d845377-5b7d").is_ok());
        assert!(header_value("a\tb").is_ok());
        assert!(header_value("a\r\nX-Evil: 1").is_err());
        assert!(
            header_value("corrélation")
                .expect_err("non-ASCII")
                .contains("non-ASCII")
        );
    }
}
