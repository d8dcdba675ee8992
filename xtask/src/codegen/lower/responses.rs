//! Responses: the success body, and the error bodies by status with what error messages show of them.

use openapiv3::{Operation as OaOperation, ReferenceOr, StatusCode};

use super::{Lowering, component_type_name};
use crate::codegen::error::SpecError;
use crate::codegen::ir::*;
use crate::codegen::names;
use crate::codegen::spec::escape;

impl Lowering<'_> {
    pub(super) fn lower_responses(
        &mut self,
        op: &OaOperation,
        at: &str,
    ) -> Result<(Success, Vec<ErrorCase>), SpecError> {
        let mut success = Success {
            statuses: Vec::new(),
            body: None,
        };
        let mut success_body_at: Option<String> = None;
        let mut errors = Vec::new();
        let mut entries: Vec<(StatusMatch, &ReferenceOr<openapiv3::Response>, String)> = Vec::new();
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
        for (status, response, response_at) in entries {
            let (response, response_at) = self.document.response(response, &response_at)?;
            let class = match status {
                StatusMatch::Code(c) => c / 100,
                StatusMatch::Range(r) => r,
                StatusMatch::Default => 0,
            };
            match class {
                2 => {
                    let body = self.response_body(
                        response,
                        &response_at,
                        &format!(
                            "{}Response",
                            names::pascal(op.operation_id.as_deref().unwrap_or_default())
                                .unwrap_or_default()
                        ),
                    )?;
                    if !success.statuses.is_empty() && success.body != body {
                        return Err(SpecError::at(
                            &response_at,
                            format!(
                                "this success response has another body than the one at {}; success responses of one operation must share one body type",
                                success_body_at.as_deref().unwrap_or_default()
                            ),
                        ));
                    }
                    success.statuses.push(status);
                    success.body = body;
                    success_body_at = Some(response_at);
                }
                4 | 5 | 0 => {
                    let body = match self.response_body(response, &response_at, "")? {
                        None => None,
                        Some(TypeRef::Named(name)) => Some(name),
                        Some(_) => {
                            return Err(SpecError::at(
                                &response_at,
                                "an error response body must be a `$ref` to an object in components.schemas",
                            ));
                        }
                    };
                    errors.push(ErrorCase { status, body });
                }
                _ => {
                    return Err(SpecError::at(
                        &response_at,
                        "only 2xx, 4xx, 5xx and `default` responses are supported; the client does not follow redirects",
                    ));
                }
            }
        }
        if success.statuses.is_empty() {
            return Err(SpecError::at(
                &format!("{at}/responses"),
                "the operation declares no 2xx response; add one (e.g. `'200'`)",
            ));
        }
        // Explicit codes take precedence over ranges, ranges over `default`.
        errors.sort_by_key(|case| match case.status {
            StatusMatch::Code(_) => 0,
            StatusMatch::Range(_) => 1,
            StatusMatch::Default => 2,
        });
        Ok((success, errors))
    }

    /// The JSON body of a response, choosing a JSON media type among several.
    pub(super) fn response_body(
        &mut self,
        response: &openapiv3::Response,
        at: &str,
        hint: &str,
    ) -> Result<Option<TypeRef>, SpecError> {
        if response.content.is_empty() {
            return Ok(None);
        }
        let json = response
            .content
            .get_key_value("application/json")
            .or_else(|| response.content.iter().find(|(media, _)| is_json(media)));
        let Some((media, content)) = json else {
            let listed: Vec<&str> = response.content.keys().map(String::as_str).collect();
            return Err(SpecError::at(
                &format!("{at}/content"),
                format!(
                    "no JSON media type among {listed:?}; supported: application/json, text/json or application/*+json (others are ignored when one of these is present)"
                ),
            ));
        };
        let content_at = format!("{at}/content/{}/schema", escape(media));
        let schema = content
            .schema
            .as_ref()
            .ok_or_else(|| SpecError::at(&content_at, "a JSON response needs a `schema`"))?;
        self.lower_ref_or(schema, &content_at, hint).map(Some)
    }

    /// Reads `x-error-code`, `x-error-message` and `x-error-retryable` of an
    /// error body schema.
    pub(super) fn error_body_model(&self, name: &str) -> Result<ErrorBodyModel, SpecError> {
        let at = self.model_names.get(name).cloned().unwrap_or_default();
        if name == "Empty" || name == "Text" {
            return Err(SpecError::at(
                &at,
                format!(
                    "`{name}` is used as an error body, where the name is reserved for `ErrorBody::{name}`; rename the schema"
                ),
            ));
        }
        let Some(Model {
            kind: ModelKind::Struct { fields },
            ..
        }) = self.models.iter().find(|m| m.name == name)
        else {
            return Err(SpecError::at(
                &at,
                "an error body must be an object with properties",
            ));
        };
        let schema = self.components().and_then(|c| {
            c.schemas
                .iter()
                .find(|(k, _)| component_type_name(k).ok().as_deref() == Some(name))
        });
        let extensions = match schema {
            Some((_, ReferenceOr::Item(schema))) => &schema.schema_data.extensions,
            _ => {
                return Err(SpecError::at(
                    &at,
                    "an error body must be a schema of components.schemas",
                ));
            }
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
