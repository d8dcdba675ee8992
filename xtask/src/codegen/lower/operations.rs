//! Operations: one per path and method, with their parameters, body, responses and paging.

use openapiv3::{Operation as OaOperation, Parameter, ReferenceOr};

use super::{Lowering, Strictness, is_json};
use crate::codegen::error::SpecError;
use crate::codegen::ir::*;
use crate::codegen::names;
use crate::codegen::spec::escape;

impl<'a> Lowering<'a> {
    /// Every operation that lowers; those that do not are refused (left out
    /// and reported). Also returns how many operations the spec has.
    pub(super) fn lower_operations(&mut self) -> (Vec<Operation>, usize) {
        let mut operations: Vec<Operation> = Vec::new();
        let mut total = 0;
        let document: &'a crate::codegen::spec::Document = self.document;
        for (path, item) in &document.api.paths.paths {
            let path_at = format!("#/paths/{}", escape(path));
            let item = match item {
                ReferenceOr::Item(item) => item,
                ReferenceOr::Reference { .. } => {
                    self.refused.push(SpecError::at(
                        &path_at,
                        "path item `$ref`s are not supported; define the path inline",
                    ));
                    continue;
                }
            };
            if !item.servers.is_empty() {
                self.warn(SpecError::at(
                    &format!("{path_at}/servers"),
                    "per-path servers are ignored: the client sends every operation to its one base URL",
                ));
            }
            let methods = [
                ("get", "GET", &item.get),
                ("put", "PUT", &item.put),
                ("post", "POST", &item.post),
                ("delete", "DELETE", &item.delete),
                ("patch", "PATCH", &item.patch),
                ("head", "HEAD", &item.head),
                ("options", "OPTIONS", &item.options),
                ("trace", "TRACE", &item.trace),
            ];
            for (key, http_method, op) in methods {
                let Some(op) = op else { continue };
                total += 1;
                let at = format!("{path_at}/{key}");
                match self.lower_operation(path, &path_at, &item.parameters, http_method, op, &at) {
                    Ok(mut lowered) => {
                        if let Some(other) = operations
                            .iter()
                            .find(|o| o.method_name == lowered.method_name)
                        {
                            let base = lowered.method_name.clone();
                            let mut n = 2;
                            while operations
                                .iter()
                                .any(|o| o.method_name == format!("{base}_{n}"))
                            {
                                n += 1;
                            }
                            lowered.method_name = format!("{base}_{n}");
                            lowered.builder_name = format!("{}{n}", lowered.builder_name);
                            let other_at = format!(
                                "#/paths/{}/{}",
                                escape(&other.path),
                                other.http_method.to_ascii_lowercase()
                            );
                            self.warn(SpecError::at(
                                &format!("{at}/operationId"),
                                format!(
                                    "`{}` here and `{}` at {other_at} both become the method `{base}`; this one is `{}`",
                                    lowered.id, other.id, lowered.method_name
                                ),
                            ));
                        }
                        operations.push(lowered);
                    }
                    Err(e) => self.refused.push(e),
                }
            }
        }
        (operations, total)
    }

    pub(super) fn lower_operation(
        &mut self,
        path: &str,
        path_at: &str,
        path_params: &'a [ReferenceOr<Parameter>],
        http_method: &'static str,
        op: &'a OaOperation,
        at: &str,
    ) -> Result<Operation, SpecError> {
        let (id, method_name) = match &op.operation_id {
            Some(id) => {
                let method_name = names::snake(id).filter(|n| names::is_valid_ident(n)).ok_or_else(|| {
                    SpecError::at(&format!("{at}/operationId"), format!("operationId `{id}` does not make a Rust method name; use ASCII letters and digits"))
                })?;
                (id.clone(), method_name)
            }
            // No operationId: the method is named from the HTTP method and
            // the path (README: `GET /pets/{id}` → `get_pets_by_id`).
            None => {
                let name = name_from_path(http_method, path);
                self.warn(SpecError::at(
                    at,
                    format!("the operation has no `operationId`; its method is named `{name}` from the path"),
                ));
                (format!("{http_method} {path}"), name)
            }
        };
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
        let builder_name = names::pascal(&method_name).unwrap_or_default();
        if BUILDER_SCOPE_NAMES.contains(&builder_name.as_str()) {
            return Err(SpecError::at(
                &format!("{at}/operationId"),
                format!(
                    "operationId `{id}` makes the builder type `{builder_name}`, a name the builder module already uses; rename the operation"
                ),
            ));
        }
        let builder_hint = builder_name.clone();
        let body = match &op.request_body {
            None => None,
            Some(body) => {
                Some(self.lower_body(body, &format!("{at}/requestBody"), &builder_hint)?)
            }
        };
        if !op.callbacks.is_empty() {
            // Callbacks describe requests the service makes to the caller,
            // which a client does not send: the operation itself is kept.
            let error = SpecError::at(
                &format!("{at}/callbacks"),
                "callbacks (requests the service sends to you) are not generated; the operation is",
            );
            if self.strictness == Strictness::Strict {
                return Err(error);
            }
            self.warn(error);
        }
        if !op.servers.is_empty() {
            self.warn(SpecError::at(
                &format!("{at}/servers"),
                "per-operation servers are ignored: the client sends every operation to its one base URL",
            ));
        }

        // Operation parameters override path-level ones with the same name and location.
        let mut raw: Vec<(&'a Parameter, String)> = Vec::new();
        let document: &'a crate::codegen::spec::Document = self.document;
        for (i, p) in path_params.iter().enumerate() {
            raw.push(document.parameter(p, &format!("{path_at}/parameters/{i}"))?);
        }
        for (i, p) in op.parameters.iter().enumerate() {
            let (param, param_at) = document.parameter(p, &format!("{at}/parameters/{i}"))?;
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
            let name = &param.parameter_data_ref().name;
            if self.strictness == Strictness::Lenient
                && matches!(param, Parameter::Header { .. })
                && super::parameters::is_managed_header(name)
            {
                // Strict, this is an error (lower_param says so).
                self.warn(SpecError::at(
                    &format!("{param_at}/name"),
                    format!(
                        "the `{name}` header parameter is left out: the client sets `{name}` from the operation's media types"
                    ),
                ));
                continue;
            }
            let mut lowered = self.lower_param(param, &param_at, &builder_hint)?;
            if self.strictness == Strictness::Lenient
                && let Some(other) = params.iter().find(|p| p.name == lowered.name)
            {
                // Twilio's `DateCreated`, `DateCreated<` and `DateCreated>`:
                // the operators become words, else a number.
                let operators: String = lowered
                    .wire
                    .chars()
                    .filter_map(|c| match c {
                        '<' => Some("_lt"),
                        '>' => Some("_gt"),
                        '=' => Some("_eq"),
                        '!' => Some("_not"),
                        _ => None,
                    })
                    .collect();
                let taken = |name: &str| params.iter().any(|p| p.name == name);
                let mut name = format!("{}{operators}", lowered.name);
                if operators.is_empty() || taken(&name) {
                    let mut n = 2;
                    name = format!("{}_{n}", lowered.name);
                    while taken(&name) {
                        n += 1;
                        name = format!("{}_{n}", lowered.name);
                    }
                }
                self.warn(SpecError::at(
                    &param_at,
                    format!(
                        "parameters `{}` and `{}` both become the Rust name `{}`; the second is `{name}` (set `x-rust-name` to choose)",
                        other.wire, lowered.wire, lowered.name
                    ),
                ));
                lowered.name = name;
            }
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
        if self.strictness == Strictness::Lenient {
            // A template name without a declared parameter: a required
            // string parameter of that name (reported).
            for name in template_names(path) {
                if !params
                    .iter()
                    .any(|p| p.location == Location::Path && p.wire == name)
                {
                    let rust = names::snake(&name)
                        .filter(|n| {
                            names::is_valid_ident(n) && !params.iter().any(|p| &p.name == n)
                        })
                        .unwrap_or_else(|| format!("path_param_{}", params.len()));
                    self.warn(SpecError::at(
                        path_at,
                        format!("the path template names `{{{name}}}`, but no path parameter `{name}` is declared; it is taken as a required string `{rust}`"),
                    ));
                    params.push(Param {
                        wire: name,
                        name: rust,
                        location: Location::Path,
                        required: true,
                        ty: TypeRef::String,
                        json: false,
                        comma: false,
                        deprecated: false,
                        doc: None,
                    });
                }
            }
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

        let (success, errors) = self.lower_responses(op, at, &builder_hint)?;
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

    /// A request body: JSON of its schema when it offers a JSON media type,
    /// else form-encoded of its schema, else text or bytes.
    pub(super) fn lower_body(
        &mut self,
        body: &'a ReferenceOr<openapiv3::RequestBody>,
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
        let doc = body.description.as_deref().map(names::sanitize_doc);
        let json = body
            .content
            .get_key_value("application/json")
            .or_else(|| body.content.iter().find(|(media, _)| is_json(media)));
        let form = body
            .content
            .iter()
            .find(|(media, _)| media_essence(media) == "application/x-www-form-urlencoded");
        let (media, content, encoding) = match (json, form) {
            (Some((media, content)), _) => (media, content, Encoding::Json),
            (None, Some((media, content))) => (media, content, Encoding::Form),
            (None, None) => {
                let Some((media, _)) = body.content.iter().next() else {
                    return Err(SpecError::at(
                        &format!("{at}/content"),
                        "a request body needs a media type in `content`",
                    ));
                };
                let essence = media_essence(media);
                if essence.starts_with("multipart/") {
                    return Err(SpecError::at(
                        &format!("{at}/content"),
                        format!(
                            "`{essence}` request bodies are not supported; supported: JSON, form-encoded, text and bytes"
                        ),
                    ));
                }
                if essence.ends_with("/xml") || essence.ends_with("+xml") {
                    return Err(SpecError::at(
                        &format!("{at}/content"),
                        "XML request bodies are out of scope",
                    ));
                }
                let (ty, encoding) = if essence.starts_with("text/") {
                    (TypeRef::String, Encoding::Text)
                } else {
                    (TypeRef::Bytes, Encoding::Bytes)
                };
                return Ok(Body {
                    ty,
                    required: body.required,
                    doc,
                    encoding,
                    media: essence,
                });
            }
        };
        let schema_at = format!("{at}/content/{}/schema", escape(media));
        let ty = match &content.schema {
            Some(schema) => self.lower_ref_or(schema, &schema_at, &format!("{builder}Body"))?,
            None => TypeRef::Any,
        };
        Ok(Body {
            ty,
            required: body.required,
            doc,
            encoding,
            media: media_essence(media),
        })
    }
}

/// A media type without its parameters, lowercase.
pub(super) fn media_essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The method name of an operation without `operationId`: the HTTP method,
/// then the path's literal segments, each parameter as `by_<name>`
/// (`GET /pets/{id}` → `get_pets_by_id`).
fn name_from_path(http_method: &str, path: &str) -> String {
    let mut words = vec![http_method.to_ascii_lowercase()];
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => {
                words.push("by".to_owned());
                words.extend(names::snake(param));
            }
            None => words.extend(names::snake(segment)),
        }
    }
    let name = words.join("_");
    if names::is_valid_ident(&name) {
        name
    } else {
        format!("{}_operation", http_method.to_ascii_lowercase())
    }
}

/// The parameter names of a path template, in order.
fn template_names(path: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        names.push(rest[open + 1..close].to_owned());
        rest = &rest[close + 1..];
    }
    names
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
