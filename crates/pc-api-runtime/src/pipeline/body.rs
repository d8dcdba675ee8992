//! Response bodies: read within a size limit, then decoded as JSON the way
//! the service writes it (a UTF-8 byte order mark first, now and then a
//! string with a lone UTF-16 surrogate escape).

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::{ApiErrorBody, Error, ErrorKind};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// How much of a non-JSON error body is kept.
pub(crate) const MAX_ERROR_TEXT: usize = 4096;

/// Why reading a body failed.
#[derive(Debug)]
pub(crate) enum BodyFailure {
    /// More than the limit, by `Content-Length` or by what arrived.
    TooLarge { limit: usize },
    /// The connection broke or timed out mid-body.
    Broken(reqwest::Error),
}

/// Reads the body, refusing more than `limit` bytes.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, BodyFailure> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(BodyFailure::TooLarge { limit });
    }
    // The first chunk is kept as it is: a body that arrives in one chunk (the
    // usual case on a fast link) is never copied. Later chunks are copied
    // into one buffer, so memory is bounded by the limit whatever the chunk
    // sizes, and nothing is reserved on the word of a `Content-Length`.
    let mut first: Option<Bytes> = None;
    let mut rest: Vec<u8> = Vec::new();
    let mut total = 0usize;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if chunk.is_empty() => {}
            Ok(Some(chunk)) => {
                total += chunk.len();
                if total > limit {
                    return Err(BodyFailure::TooLarge { limit });
                }
                match &first {
                    None => first = Some(chunk),
                    Some(head) => {
                        if rest.is_empty() {
                            rest.reserve(head.len() + chunk.len());
                            rest.extend_from_slice(head);
                        }
                        rest.extend_from_slice(&chunk);
                    }
                }
            }
            Ok(None) => break,
            Err(e) => return Err(BodyFailure::Broken(e)),
        }
    }
    Ok(if rest.is_empty() {
        first.unwrap_or_default()
    } else {
        Bytes::from(rest)
    })
}

/// Decodes a response body as the client does: a leading UTF-8 byte order
/// mark is skipped, unknown fields are ignored, and a string with a lone
/// UTF-16 surrogate escape (`"Zo\ud83d"`, which strict JSON parsers refuse)
/// is decoded with U+FFFD in its place instead of failing the whole body.
/// No body can exhaust the stack: skipped values are skipped without
/// recursion, and values decoded into `serde_json::Value` stop at 128 levels
/// of nesting (serde_json's recursion limit) with an error. Useful for
/// recorded responses.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Page { #[serde(rename = "totalCount")] total_count: Option<i32> }
/// let page: Page = pc_api_runtime::decode(b"\xEF\xBB\xBF{\"totalCount\": 0, \"items\": []}").unwrap();
/// assert_eq!(page.total_count, Some(0));
/// ```
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let json = strip_bom(body);
    match serde_json::from_slice::<T>(json) {
        Ok(value) => Ok(value),
        // A second, sanitising pass only when the first fails, so that pages
        // without lone surrogates pay nothing for it.
        Err(first) => match replace_lone_surrogates(json) {
            Some(sanitised) => serde_json::from_slice::<T>(&sanitised).map_err(decode_error::<T>),
            None => Err(decode_error::<T>(first)),
        },
    }
}

fn decode_error<T>(error: serde_json::Error) -> Error {
    Error::new(ErrorKind::Decode)
        .with_message(format!(
            "the body is not a valid `{}`",
            short_type_name::<T>()
        ))
        .with_source(error)
}

/// Partner Center starts bodies with a UTF-8 byte order mark, which JSON
/// parsers reject.
pub(crate) fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(UTF8_BOM).unwrap_or(body)
}

fn short_type_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

/// The JSON text with every `\uXXXX` escape of a lone UTF-16 surrogate
/// (a high one not followed by a low one, or a low one alone) replaced by
/// `\uFFFD`; `None` when there is none. Only escapes inside strings are
/// touched; the text is not otherwise validated.
pub(crate) fn replace_lone_surrogates(json: &[u8]) -> Option<Vec<u8>> {
    fn escape_at(json: &[u8], i: usize) -> Option<u16> {
        let hex = json.get(i..i + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        let text = std::str::from_utf8(&hex[2..]).ok()?;
        u16::from_str_radix(text, 16).ok()
    }
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut in_string = false;
    let mut i = 0;
    while i < json.len() {
        let byte = json[i];
        if !in_string {
            in_string = byte == b'"';
            i += 1;
            continue;
        }
        match byte {
            b'"' => {
                in_string = false;
                i += 1;
            }
            b'\\' => match escape_at(json, i) {
                Some(0xD800..=0xDBFF)
                    if matches!(escape_at(json, i + 6), Some(0xDC00..=0xDFFF)) =>
                {
                    i += 12;
                }
                Some(0xD800..=0xDFFF) => {
                    let buffer = out.get_or_insert_with(|| Vec::with_capacity(json.len()));
                    buffer.extend_from_slice(&json[copied..i]);
                    buffer.extend_from_slice(b"\\uFFFD");
                    i += 6;
                    copied = i;
                }
                Some(_) => i += 6,
                None => i += 2,
            },
            _ => i += 1,
        }
    }
    let mut out = out?;
    out.extend_from_slice(&json[copied.min(json.len())..]);
    Some(out)
}

/// Decodes an error body as `T`, falling back to its text.
pub fn decode_error_body<T: DeserializeOwned, B: ApiErrorBody>(body: &[u8], wrap: fn(T) -> B) -> B {
    let json = strip_bom(body);
    if json.iter().all(u8::is_ascii_whitespace) {
        return B::empty_body();
    }
    match decode::<T>(json) {
        Ok(value) => wrap(value),
        Err(_) => error_body_text(body),
    }
}

/// Keeps an error body as text, cut at 4 KiB.
pub fn error_body_text<B: ApiErrorBody>(body: &[u8]) -> B {
    let body = strip_bom(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return B::empty_body();
    }
    let cut = &body[..body.len().min(MAX_ERROR_TEXT)];
    B::text_body(String::from_utf8_lossy(cut).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_stripped_once() {
        assert_eq!(strip_bom(b"\xEF\xBB\xBF{}"), b"{}");
        assert_eq!(strip_bom(b"{}"), b"{}");
    }

    fn sanitised(json: &str) -> Option<String> {
        replace_lone_surrogates(json.as_bytes()).map(|v| String::from_utf8(v).expect("utf-8"))
    }

    #[test]
    fn lone_surrogates_are_replaced_and_pairs_kept() {
        assert_eq!(
            sanitised(r#"{"a":"Zo\ud83d"}"#).as_deref(),
            Some(r#"{"a":"Zo\uFFFD"}"#)
        );
        assert_eq!(
            sanitised(r#"["\udc00x","\ud83d\ude00","\ud83d\u0041"]"#).as_deref(),
            Some(r#"["\uFFFDx","\ud83d\ude00","\uFFFD\u0041"]"#)
        );
        assert_eq!(sanitised(r#"{"a":"\\ud83d"}"#), None);
        assert_eq!(sanitised(r#"{"a":"\ud83d\ude00"}"#), None);
        assert_eq!(sanitised(r#"{"a":"\ud83"#), None);
        assert_eq!(sanitised("\\ud83d"), None, "outside a string");
    }

    #[test]
    fn decode_is_lossy_only_for_surrogates() {
        let text: String = decode(br#""Zo\ud83d""#).expect("lossy");
        assert_eq!(text, "Zo\u{FFFD}");
        assert!(decode::<String>(br#""Zo"#).is_err());
    }
}
