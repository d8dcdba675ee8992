//! The workspace's test crate: snapshot tests of the code generator on
//! fixture specs (`fixtures/specs`, `fixtures/invalid`), the staleness check of
//! the committed generated code, wire tests of `pc-api` against mock servers
//! and `pc-fake` on 127.0.0.1, and a compile-and-run test of the downstream
//! examples.
//!
//! The library holds [`SpecValidator`], which checks response bodies against
//! the schemas of `spec/partner-center.yaml`, so that the fake, the spec and
//! the client cannot drift apart.

use openapiv3::{
    AdditionalProperties, OpenAPI, ReferenceOr, Schema, SchemaKind, StatusCode, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};

use serde_json::Value;

/// Validates JSON values against the schemas of an OpenAPI 3.0 document:
/// types, `nullable`, `required`, `properties`, `additionalProperties`,
/// `items`, `enum`, `oneOf`, `int32` ranges and `date-time` strings.
pub struct SpecValidator {
    api: OpenAPI,
}

impl SpecValidator {
    /// Loads the spec from YAML text.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        serde_norway::from_str(text)
            .map(|api| SpecValidator { api })
            .map_err(|e| e.to_string())
    }

    /// Checks `body` (which may start with a UTF-8 BOM) as the response with
    /// `status` of the operation `operation_id`. Returns every violation.
    pub fn check_response(
        &self,
        operation_id: &str,
        status: u16,
        body: &[u8],
    ) -> Result<(), Vec<String>> {
        let operation = self
            .api
            .paths
            .iter()
            .filter_map(|(_, item)| item.as_item())
            .flat_map(|item| item.iter().map(|(_, op)| op))
            .find(|op| op.operation_id.as_deref() == Some(operation_id))
            .ok_or_else(|| vec![format!("no operation {operation_id}")])?;
        let responses = &operation.responses;
        let response = responses
            .responses
            .get(&StatusCode::Code(status))
            .or_else(|| responses.responses.get(&StatusCode::Range(status / 100)))
            .or(responses.default.as_ref())
            .ok_or_else(|| vec![format!("{operation_id} declares no response for {status}")])?;
        let response = match response {
            ReferenceOr::Item(r) => r,
            ReferenceOr::Reference { reference } => {
                let name = reference.trim_start_matches("#/components/responses/");
                match self
                    .api
                    .components
                    .as_ref()
                    .and_then(|c| c.responses.get(name))
                {
                    Some(ReferenceOr::Item(r)) => r,
                    _ => return Err(vec![format!("unresolved {reference}")]),
                }
            }
        };
        let Some(media) = response.content.get("application/json") else {
            return if body.is_empty() {
                Ok(())
            } else {
                Err(vec![format!("{status} declares no JSON body")])
            };
        };
        let Some(schema) = &media.schema else {
            return Ok(());
        };
        let json = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        let value: Value =
            serde_json::from_slice(json).map_err(|e| vec![format!("not JSON: {e}")])?;
        let mut errors = Vec::new();
        self.check(schema, &value, "$", &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn resolve<'a>(&'a self, schema: &'a ReferenceOr<Schema>) -> Option<&'a Schema> {
        match schema {
            ReferenceOr::Item(schema) => Some(schema),
            ReferenceOr::Reference { reference } => {
                let name = reference.trim_start_matches("#/components/schemas/");
                self.api.components.as_ref()?.schemas.get(name)?.as_item()
            }
        }
    }

    fn check_boxed(
        &self,
        schema: &ReferenceOr<Box<Schema>>,
        value: &Value,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let unboxed = match schema {
            ReferenceOr::Item(schema) => ReferenceOr::Item((**schema).clone()),
            ReferenceOr::Reference { reference } => ReferenceOr::Reference {
                reference: reference.clone(),
            },
        };
        self.check(&unboxed, value, at, errors);
    }

    /// Checks `value` at `at` against `schema`, adding every violation to `errors`.
    pub fn check(
        &self,
        schema: &ReferenceOr<Schema>,
        value: &Value,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let Some(schema) = self.resolve(schema) else {
            errors.push(format!("{at}: unresolved schema"));
            return;
        };
        if value.is_null() {
            if !schema.schema_data.nullable && !matches!(schema.schema_kind, SchemaKind::Any(_)) {
                errors.push(format!("{at}: null, but the schema is not nullable"));
            }
            return;
        }
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(string)) => match value.as_str() {
                None => errors.push(format!("{at}: expected a string, got {value}")),
                Some(text) => {
                    if !string.enumeration.is_empty()
                        && !string
                            .enumeration
                            .iter()
                            .any(|e| e.as_deref() == Some(text))
                    {
                        errors.push(format!(
                            "{at}: {text:?} is not one of {:?}",
                            string.enumeration
                        ));
                    }
                    if string.format == VariantOrUnknownOrEmpty::Item(StringFormat::DateTime)
                        && !is_rfc3339(text)
                    {
                        errors.push(format!("{at}: {text:?} is not an RFC 3339 date-time"));
                    }
                }
            },
            SchemaKind::Type(Type::Integer(integer)) => match value.as_i64() {
                None => errors.push(format!("{at}: expected an integer, got {value}")),
                Some(n) => {
                    if integer.format
                        == VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32)
                        && i32::try_from(n).is_err()
                    {
                        errors.push(format!("{at}: {n} does not fit int32"));
                    }
                }
            },
            SchemaKind::Type(Type::Number(_)) => {
                if !value.is_number() {
                    errors.push(format!("{at}: expected a number, got {value}"));
                }
            }
            SchemaKind::Type(Type::Boolean(_)) => {
                if !value.is_boolean() {
                    errors.push(format!("{at}: expected a boolean, got {value}"));
                }
            }
            SchemaKind::Type(Type::Array(array)) => match value.as_array() {
                None => errors.push(format!("{at}: expected an array, got {value}")),
                Some(items) => {
                    if let Some(item_schema) = &array.items {
                        for (i, item) in items.iter().enumerate() {
                            self.check_boxed(item_schema, item, &format!("{at}[{i}]"), errors);
                        }
                    }
                }
            },
            SchemaKind::Type(Type::Object(object)) => match value.as_object() {
                None => errors.push(format!("{at}: expected an object, got {value}")),
                Some(map) => {
                    for required in &object.required {
                        if !map.contains_key(required) {
                            errors.push(format!("{at}: missing required `{required}`"));
                        }
                    }
                    for (key, field) in map {
                        match object.properties.get(key) {
                            Some(schema) => {
                                self.check_boxed(schema, field, &format!("{at}.{key}"), errors)
                            }
                            None => match &object.additional_properties {
                                Some(AdditionalProperties::Any(false)) => {
                                    errors.push(format!("{at}: unexpected property `{key}`"))
                                }
                                Some(AdditionalProperties::Schema(schema)) => {
                                    self.check(schema, field, &format!("{at}.{key}"), errors)
                                }
                                _ => {}
                            },
                        }
                    }
                }
            },
            SchemaKind::OneOf { one_of } => {
                let matching = one_of
                    .iter()
                    .filter(|candidate| {
                        let mut sub = Vec::new();
                        self.check(candidate, value, at, &mut sub);
                        sub.is_empty()
                    })
                    .count();
                if matching != 1 {
                    errors.push(format!(
                        "{at}: {value} matches {matching} of the oneOf schemas, not exactly one"
                    ));
                }
            }
            SchemaKind::Any(_) => {}
            other => errors.push(format!("{at}: the validator does not support {other:?}")),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
fn is_rfc3339(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    if bytes.len() < 20
        || !digits(0..4)
        || bytes[4] != b'-'
        || !digits(5..7)
        || bytes[7] != b'-'
        || !digits(8..10)
    {
        return false;
    }
    if !matches!(bytes[10], b'T' | b't')
        || !digits(11..13)
        || bytes[13] != b':'
        || !digits(14..16)
        || bytes[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return false;
        }
        rest = &fraction[end..];
    }
    match rest {
        "Z" | "z" => true,
        offset => {
            let o = offset.as_bytes();
            o.len() == 6
                && matches!(o[0], b'+' | b'-')
                && o[1..3].iter().all(u8::is_ascii_digit)
                && o[3] == b':'
                && o[4..6].iter().all(u8::is_ascii_digit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert!(is_rfc3339("2020-09-02T23:26:19.7753934Z"));
        assert!(is_rfc3339("2017-01-20T00:33:34Z"));
        assert!(is_rfc3339("2017-01-20T00:33:34+02:00"));
        assert!(!is_rfc3339("2017-01-20 00:33:34Z"));
        assert!(!is_rfc3339("2017-01-20T00:33:34"));
        assert!(!is_rfc3339("yesterday"));
    }
}
