//! Responses: the success body, and the error bodies by status with what error messages show of them.

use openapiv3::{Operation as OaOperation, ReferenceOr, StatusCode};

use super::operations::media_essence;
use super::{Lowering, Strictness};
use crate::codegen::error::SpecError;
use crate::codegen::ir::*;
use crate::codegen::spec::escape;

/// A success response: its status, its body and how it is read, where it is.
type SuccessEntry = (StatusMatch, Option<(TypeRef, Encoding)>, String);

impl<'a> Lowering<'a> {
    /// The success responses and the error cases of an operation. `builder`
    /// names inline bodies (`{builder}Response`, `{builder}Error{status}`).
    pub(super) fn lower_responses(
        &mut self,
        op: &'a OaOperation,
        at: &str,
        builder: &str,
    ) -> Result<(Success, Vec<ErrorCase>), SpecError> {
        let mut entries: Vec<(StatusMatch, &'a ReferenceOr<openapiv3::Response>, String)> =
            Vec::new();
        for (status, response) in &op.responses.responses {
            let key = status.to_string();
            let response_at = format!("{at}/responses/{key}");
            let status = match status {
                StatusCode::Code(code) if (100..600).contains(code) => StatusMatch::Code(*code),
                StatusCode::Range(range) if (1..6).contains(range) => StatusMatch::Range(*range),
                _ => {
                    return Err(SpecError::at(
                        &response_at,
                        format!("`{key}` is not an HTTP status code or range"),
                    ));
                }
            };
            entries.push((status, response, response_at));
        }
        if let Some(default) = &op.responses.default {
            entries.push((
                StatusMatch::Default,
                default,
                format!("{at}/responses/default"),
            ));
        }
        let document: &'a crate::codegen::spec::Document = self.document;
        // (status, body, where) of each success response.
        let mut successes: Vec<SuccessEntry> = Vec::new();
        let mut errors = Vec::new();
        for (status, response, response_at) in entries {
            let (response, response_at) = document.response(response, &response_at)?;
            let class = match status {
                StatusMatch::Code(c) => c / 100,
                StatusMatch::Range(r) => r,
                StatusMatch::Default => 0,
            };
            match class {
                2 => {
                    let body =
                        self.response_body(response, &response_at, &format!("{builder}Response"))?;
                    successes.push((status, body, response_at));
                }
                1 => self.warn(SpecError::at(
                    &response_at,
                    "informational (1xx) responses are ignored: the HTTP client handles them",
                )),
                _ => {
                    let hint = match status {
                        StatusMatch::Code(c) => format!("{builder}Error{c}"),
                        StatusMatch::Range(r) => format!("{builder}Error{r}xx"),
                        StatusMatch::Default => format!("{builder}Error"),
                    };
                    let body = match self.response_body(response, &response_at, &hint)? {
                        None => None,
                        Some((TypeRef::Named(name), Encoding::Json)) => Some(name),
                        Some((_, Encoding::Json)) if self.strictness == Strictness::Strict => {
                            return Err(SpecError::at(
                                &response_at,
                                "an error response body must be a `$ref` to an object in components.schemas",
                            ));
                        }
                        Some(_) => {
                            self.warn(SpecError::at(
                                &response_at,
                                "this error body is not a JSON object: errors keep it as text",
                            ));
                            None
                        }
                    };
                    errors.push(ErrorCase { status, body });
                }
            }
        }
        if successes.is_empty() {
            if self.strictness == Strictness::Strict {
                return Err(SpecError::at(
                    &format!("{at}/responses"),
                    "the operation declares no 2xx response; add one (e.g. `'200'`)",
                ));
            }
            // Any 2xx is a success without a body the client reads.
            self.warn(SpecError::at(
                &format!("{at}/responses"),
                "the operation declares no 2xx response; any 2xx is taken as success and its body is not read",
            ));
            successes.push((StatusMatch::Range(2), None, format!("{at}/responses")));
        }
        let success = self.merge_successes(successes)?;
        // Explicit codes take precedence over ranges, ranges over `default`.
        errors.sort_by_key(|case| match case.status {
            StatusMatch::Code(_) => 0,
            StatusMatch::Range(_) => 1,
            StatusMatch::Default => 2,
        });
        Ok((success, errors))
    }

    /// One body for all the success responses: the shared one (optional
    /// when some have none); differing bodies are refused (strict) or read
    /// as JSON values or bytes (lenient).
    fn merge_successes(&mut self, successes: Vec<SuccessEntry>) -> Result<Success, SpecError> {
        let statuses = successes.iter().map(|(s, _, _)| *s).collect();
        let mut bodies = successes
            .iter()
            .filter_map(|(_, b, at)| b.as_ref().map(|b| (b, at)));
        let Some((first, first_at)) = bodies.next() else {
            return Ok(Success {
                statuses,
                body: None,
                body_optional: false,
            });
        };
        let mut body = first.clone();
        for (other, other_at) in bodies {
            if *other == body {
                continue;
            }
            if self.strictness == Strictness::Strict {
                return Err(SpecError::at(
                    other_at,
                    format!(
                        "this success response has another body than the one at {first_at}; success responses of one operation must share one body type"
                    ),
                ));
            }
            let merged = if other.1 == Encoding::Json && body.1 == Encoding::Json {
                (TypeRef::Any, Encoding::Json)
            } else {
                (TypeRef::Bytes, Encoding::Bytes)
            };
            self.warn(SpecError::at(
                other_at,
                format!(
                    "this success response has another body than the one at {first_at}; the body is read as {}",
                    if merged.1 == Encoding::Json { "a JSON value" } else { "bytes" }
                ),
            ));
            body = merged;
        }
        let body_optional = successes.iter().any(|(_, b, _)| b.is_none());
        Ok(Success {
            statuses,
            body: Some(body),
            body_optional,
        })
    }

    /// The body of a response and how it is read: JSON when a JSON media
    /// type is offered, else text for `text/*`, else bytes.
    pub(super) fn response_body(
        &mut self,
        response: &'a openapiv3::Response,
        at: &str,
        hint: &str,
    ) -> Result<Option<(TypeRef, Encoding)>, SpecError> {
        if response.content.is_empty() {
            return Ok(None);
        }
        let json = response
            .content
            .get_key_value("application/json")
            .or_else(|| response.content.iter().find(|(media, _)| is_json(media)));
        let Some((media, content)) = json else {
            let text = response
                .content
                .keys()
                .all(|media| media_essence(media).starts_with("text/"));
            if let Some(xml) = response
                .content
                .keys()
                .find(|media| media_essence(media).ends_with("xml"))
            {
                self.warn(SpecError::at(
                    &format!("{at}/content/{}", escape(xml)),
                    "XML is out of scope: this body is read as text or bytes, not decoded",
                ));
            }
            return Ok(Some(if text {
                (TypeRef::String, Encoding::Text)
            } else {
                (TypeRef::Bytes, Encoding::Bytes)
            }));
        };
        let content_at = format!("{at}/content/{}/schema", escape(media));
        let Some(schema) = content.schema.as_ref() else {
            if self.strictness == Strictness::Strict {
                return Err(SpecError::at(
                    &content_at,
                    "a JSON response needs a `schema`",
                ));
            }
            self.warn(SpecError::at(
                &format!("{at}/content/{}", escape(media)),
                "a JSON response without a `schema` is read as any JSON value",
            ));
            return Ok(Some((TypeRef::Any, Encoding::Json)));
        };
        Ok(Some((
            self.lower_ref_or(schema, &content_at, hint)?,
            Encoding::Json,
        )))
    }

    /// Reads `x-error-code`, `x-error-message` and `x-error-retryable` of an
    /// error body schema.
    pub(super) fn error_body_model(&self, name: &str) -> Result<ErrorBodyModel, SpecError> {
        let at = self.model_names.get(name).cloned().unwrap_or_default();
        let bare = ErrorBodyModel {
            name: name.to_owned(),
            code: None,
            message: None,
            retryable: None,
        };
        if name == "Empty" || name == "Text" {
            return Err(SpecError::at(
                &at,
                format!(
                    "`{name}` is used as an error body, where the name is reserved for `ErrorBody::{name}`; rename the schema"
                ),
            ));
        }
        let Some(Model {
            kind: ModelKind::Struct { fields, .. },
            ..
        }) = self.models.iter().find(|m| m.name == name)
        else {
            if self.strictness == Strictness::Lenient {
                return Ok(bare);
            }
            return Err(SpecError::at(
                &at,
                "an error body must be an object with properties",
            ));
        };
        let schema = self.components().and_then(|c| {
            c.schemas
                .iter()
                .find(|(k, _)| self.component_names.get(*k).map(String::as_str) == Some(name))
        });
        let extensions = match schema {
            Some((_, ReferenceOr::Item(schema))) => &schema.schema_data.extensions,
            // An inline error body: no `x-error-*` to read.
            _ => return Ok(bare),
        };
        let field = |key: &str,
                     displayable: &dyn Fn(&TypeRef) -> bool|
         -> Result<Option<ErrorField>, SpecError> {
            let Some(value) = extensions.get(key) else {
                return Ok(None);
            };
            let ext_at = format!("{at}/{key}");
            let wire = value.as_str().ok_or_else(|| {
                SpecError::at(
                    &ext_at,
                    format!("`{key}` must name a property of the schema"),
                )
            })?;
            let field = fields.iter().find(|f| f.wire == wire).ok_or_else(|| {
                SpecError::at(
                    &ext_at,
                    format!("`{key}` names `{wire}`, which is not a property of the schema"),
                )
            })?;
            if !displayable(&field.ty) {
                return Err(SpecError::at(
                    &ext_at,
                    format!(
                        "`{key}` names `{wire}`, whose type cannot be shown in an error message; use a string, an integer or a `oneOf` of scalars"
                    ),
                ));
            }
            Ok(Some(ErrorField {
                name: field.name.clone(),
                optional: !field.required || field.nullable,
            }))
        };
        let code = field("x-error-code", &|ty| match ty {
            TypeRef::String | TypeRef::I32 | TypeRef::I64 => true,
            TypeRef::Named(n) => self.models.iter().any(|m| {
                &m.name == n && matches!(m.kind, ModelKind::OneOf { .. } | ModelKind::Enum { .. })
            }),
            _ => false,
        })?;
        let message = field("x-error-message", &|ty| *ty == TypeRef::String)?;
        let retryable = field("x-error-retryable", &|ty| *ty == TypeRef::Bool)?;
        Ok(ErrorBodyModel {
            name: name.to_owned(),
            code,
            message,
            retryable,
        })
    }
}

pub(super) fn is_json(media: &str) -> bool {
    let essence = media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence == "text/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}
