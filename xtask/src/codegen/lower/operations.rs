//! Operations: one per path and method, with their parameters, body, responses and paging.

use openapiv3::{Operation as OaOperation, Parameter, ReferenceOr};

use super::{Lowering, is_json};
use crate::codegen::error::SpecError;
use crate::codegen::ir::*;
use crate::codegen::names;
use crate::codegen::spec::escape;

impl Lowering<'_> {
    pub(super) fn lower_operations(&mut self) -> Vec<Operation> {
        let mut operations: Vec<Operation> = Vec::new();
        let paths: Vec<(String, ReferenceOr<openapiv3::PathItem>)> = self
            .document
            .api
            .paths
            .paths
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (path, item) in paths {
            let path_at = format!("#/paths/{}", escape(&path));
            let item = match item {
                ReferenceOr::Item(item) => item,
                ReferenceOr::Reference { .. } => {
                    self.errors.push(SpecError::at(
                        &path_at,
                        "path item `$ref`s are not supported; define the path inline",
                    ));
                    continue;
                }
            };
            for (method, unsupported) in [
                ("head", &item.head),
                ("options", &item.options),
                ("trace", &item.trace),
            ] {
                if unsupported.is_some() {
                    self.errors.push(SpecError::at(&format!("{path_at}/{method}"), format!("`{method}` operations are not supported; supported: get, put, post, delete, patch")));
                }
            }
            if !item.servers.is_empty() {
                self.errors.push(SpecError::at(
                    &format!("{path_at}/servers"),
                    "per-path servers are not supported; the client has one base URL",
                ));
            }
            let methods = [
                ("get", "GET", &item.get),
                ("put", "PUT", &item.put),
                ("post", "POST", &item.post),
                ("delete", "DELETE", &item.delete),
                ("patch", "PATCH", &item.patch),
            ];
            for (key, http_method, op) in methods {
                let Some(op) = op else { continue };
                let at = format!("{path_at}/{key}");
                match self.lower_operation(&path, &path_at, &item.parameters, http_method, op, &at)
                {
                    Ok(lowered) => {
                        if let Some(other) = operations
                            .iter()
                            .find(|o| o.method_name == lowered.method_name)
                        {
                            self.errors.push(SpecError::at(
                                &format!("{at}/operationId"),
                                format!(
                                    "operationId `{}` and `{}` both become the method `{}`",
                                    other.id, lowered.id, lowered.method_name
                                ),
                            ));
                        } else {
                            operations.push(lowered);
                        }
                    }
                    Err(e) => self.errors.push(e),
                }
            }
        }
        operations
    }

    pub(super) fn lower_operation(
        &mut self,
        path: &str,
        path_at: &str,
        path_params: &[ReferenceOr<Parameter>],
        http_method: &'static str,
        op: &OaOperation,
        at: &str,
    ) -> Result<Operation, SpecError> {
        let id = op.operation_id.clone().ok_or_else(|| {
            SpecError::at(
                at,
                "every operation needs an `operationId`; it names the client method",
            )
        })?;
        let method_name = names::snake(&id).filter(|n| names::is_valid_ident(n)).ok_or_else(|| {
            SpecError::at(&format!("{at}/operationId"), format!("operationId `{id}` does not make a Rust method name; use ASCII letters and digits"))
        })?;
        if CLIENT_OWN_METHODS.contains(&method_name.as_str()) {
            return Err(SpecError::at(
                &format!("{at}/operationId"),
                format!(
                    "operationId `{id}` makes the method `{method_name}`, which the generated `Client` already has; rename the operation"
                ),
            ));
        }
        if let Some(place) = self.reserved.place_of(&method_name) {
            return Err(SpecError::at(
                &format!("{at}/operationId"),
                format!(
                    "operationId `{id}` makes the method `{method_name}`, which {place} already defines on the client; rename the operation"
                ),
            ));
        }
        let builder_name = names::pascal(&id).unwrap_or_default();
        if BUILDER_SCOPE_NAMES.contains(&builder_name.as_str()) {
            return Err(SpecError::at(
                &format!("{at}/operationId"),
                format!(
                    "operationId `{id}` makes the builder type `{builder_name}`, a name the builder module already uses; rename the operation"
                ),
            ));
        }
        let builder_hint = names::pascal(&id).unwrap_or_default();
        let body = match &op.request_body {
            None => None,
            Some(body) => {
                Some(self.lower_body(body, &format!("{at}/requestBody"), &builder_hint)?)
            }
        };
        if !op.callbacks.is_empty() {
            return Err(SpecError::at(
                &format!("{at}/callbacks"),
                "callbacks are not supported",
            ));
        }
        if !op.servers.is_empty() {
            return Err(SpecError::at(
                &format!("{at}/servers"),
                "per-operation servers are not supported; the client has one base URL",
            ));
        }

        // Operation parameters override path-level ones with the same name and location.
        let mut raw: Vec<(&Parameter, String)> = Vec::new();
        for (i, p) in path_params.iter().enumerate() {
            raw.push(
                self.document
                    .parameter(p, &format!("{path_at}/parameters/{i}"))?,
            );
        }
        for (i, p) in op.parameters.iter().enumerate() {
            let (param, param_at) = self
                .document
                .parameter(p, &format!("{at}/parameters/{i}"))?;
            let data = param.parameter_data_ref();
            raw.retain(|(existing, _)| {
                let e = existing.parameter_data_ref();
                !(e.name == data.name
                    && std::mem::discriminant(*existing) == std::mem::discriminant(param))
            });
            raw.push((param, param_at));
        }
        let mut params: Vec<Param> = Vec::new();
        for (param, param_at) in raw {
            let lowered = self.lower_param(param, &param_at)?;
            if let Some(other) = params.iter().find(|p| p.name == lowered.name) {
                return Err(SpecError::at(
                    &param_at,
                    format!(
                        "parameters `{}` and `{}` both become the Rust name `{}`; set `x-rust-name` on one",
                        other.wire, lowered.wire, lowered.name
                    ),
                ));
            }
            params.push(lowered);
        }
        let path_parts = parse_path(path, path_at, &params)?;
        for (i, p) in params.iter().enumerate() {
            if p.location == Location::Path
                && !path_parts
                    .iter()
                    .any(|part| matches!(part, PathPart::Param(j) if *j == i))
            {
                return Err(SpecError::at(
                    path_at,
                    format!(
                        "path parameter `{}` is not used in the path template `{path}`",
                        p.wire
                    ),
                ));
            }
        }

        let (success, errors) = self.lower_responses(op, at)?;
        let paging = match op.extensions.get("x-pagination") {
            Some(ext) => Some(self.lower_paging(
                ext,
                &format!("{at}/x-pagination"),
                path,
                &params,
                &success,
            )?),
            None => None,
        };
        if paging.is_some() && body.is_some() {
            return Err(SpecError::at(
                &format!("{at}/x-pagination"),
                "a paged operation cannot have a request body: next pages are fetched with GET-style links that carry none",
            ));
        }
        Ok(Operation {
            id,
            method_name,
            builder_name,
            http_method,
            path: path.to_owned(),
            path_parts,
            params,
            summary: op.summary.as_deref().map(names::sanitize_doc),
            description: op.description.as_deref().map(names::sanitize_doc),
            deprecated: op.deprecated,
            success,
            errors,
            paging,
            body,
        })
    }

    /// A JSON request body: a `$ref` or inline schema under a JSON media type.
    pub(super) fn lower_body(
        &mut self,
        body: &ReferenceOr<openapiv3::RequestBody>,
        at: &str,
        builder: &str,
    ) -> Result<Body, SpecError> {
        let (body, at) = match body {
            ReferenceOr::Item(body) => (body, at.to_owned()),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/requestBodies/").ok_or_else(|| {
                    SpecError::at(at, format!("unsupported $ref `{reference}`; request bodies may only refer to `#/components/requestBodies/<Name>`"))
                })?;
                match self.components().and_then(|c| c.request_bodies.get(name)) {
                    Some(ReferenceOr::Item(body)) => {
                        (body, format!("#/components/requestBodies/{}", escape(name)))
                    }
                    _ => {
                        return Err(SpecError::at(
                            at,
                            format!(
                                "$ref `{reference}` does not exist in components.requestBodies (or is itself a $ref)"
                            ),
                        ));
                    }
                }
            }
        };
        let (media, content) = body
            .content
            .get_key_value("application/json")
            .or_else(|| body.content.iter().find(|(media, _)| is_json(media)))
            .ok_or_else(|| {
                let listed: Vec<&str> = body.content.keys().map(String::as_str).collect();
                SpecError::at(&format!("{at}/content"), format!("no JSON media type among {listed:?}; request bodies are sent as application/json"))
            })?;
        let schema_at = format!("{at}/content/{}/schema", escape(media));
        let schema = content
            .schema
            .as_ref()
            .ok_or_else(|| SpecError::at(&schema_at, "a request body needs a `schema`"))?;
        let ty = self.lower_ref_or(schema, &schema_at, &format!("{builder}Body"))?;
        Ok(Body {
            ty,
            required: body.required,
            doc: body.description.as_deref().map(names::sanitize_doc),
        })
    }
}

fn parse_path(path: &str, at: &str, params: &[Param]) -> Result<Vec<PathPart>, SpecError> {
    if !path.starts_with('/') {
        return Err(SpecError::at(at, "a path must start with `/`"));
    }
    let mut parts = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| SpecError::at(at, "unclosed `{` in the path template"))?;
        if open > 0 {
            parts.push(PathPart::Literal(rest[..open].to_owned()));
        }
        let name = &rest[open + 1..close];
        let index = params
            .iter()
            .position(|p| p.location == Location::Path && p.wire == name)
            .ok_or_else(|| SpecError::at(at, format!("the path template names `{{{name}}}`, but no path parameter `{name}` is declared")))?;
        parts.push(PathPart::Param(index));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err(SpecError::at(at, "unmatched `}` in the path template"));
    }
    if !rest.is_empty() {
        parts.push(PathPart::Literal(rest.to_owned()));
    }
    if path.contains('?') || path.contains('#') {
        return Err(SpecError::at(
            at,
            "a path template may not contain `?` or `#`; declare query parameters instead",
        ));
    }
    Ok(parts)
}
