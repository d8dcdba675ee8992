//! Lowering: the `openapiv3` document → the validated [`ir`](super::ir).
//! Everything the generator supports is decided here; everything else is
//! refused with an error that names the JSON pointer of the construct and
//! what is supported instead. One concern per file: [`schemas`],
//! [`operations`], [`parameters`], [`paging`], [`responses`].

mod operations;
mod paging;
mod parameters;
mod responses;
mod schemas;

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::ReferenceOr;

use self::responses::is_json;
use self::schemas::component_type_name;
use crate::codegen::error::{SpecError, SpecErrors};
use crate::codegen::ir::*;
use crate::codegen::names;
use crate::codegen::reserved::Reserved;
use crate::codegen::spec::Document;
use crate::codegen::spec::escape;

/// Lowers the document into the IR, or every error found.
pub(crate) fn lower(document: &Document, reserved: &Reserved) -> Result<Api, SpecErrors> {
    let mut ctx = Lowering {
        document,
        reserved,
        models: Vec::new(),
        model_names: BTreeMap::new(),
        errors: Vec::new(),
    };
    ctx.register_components();
    ctx.check_security();
    let servers = ctx.servers();
    if document.api.servers.is_empty() {
        ctx.errors.push(SpecError::at(
            "#/servers",
            "the spec must list a server; `servers[0].url` is the client's default base URL",
        ));
    }
    let base_url = servers.first().map(|s| s.url.clone());
    ctx.lower_components();
    let operations = ctx.lower_operations();
    let mut error_bodies: Vec<ErrorBodyModel> = Vec::new();
    for op in &operations {
        for case in &op.errors {
            if let Some(body) = &case.body
                && !error_bodies.iter().any(|b| &b.name == body)
            {
                match ctx.error_body_model(body) {
                    Ok(model) => error_bodies.push(model),
                    Err(e) => ctx.errors.push(e),
                }
            }
        }
    }
    ctx.check_alias_cycles();
    ctx.check_request_constants();
    ctx.check_shared_paging(&operations);
    if !ctx.errors.is_empty() {
        return Err(SpecErrors(ctx.errors));
    }
    Ok(Api {
        title: names::sanitize_doc(&document.api.info.title),
        version: document.api.info.version.clone(),
        base_url,
        servers,
        models: ctx.models,
        operations,
        error_bodies,
    })
}

pub(crate) struct Lowering<'a> {
    pub(super) document: &'a Document,
    /// Method names hand-written code takes.
    pub(super) reserved: &'a Reserved,
    pub(super) models: Vec<Model>,
    /// Rust model name → pointer of the schema that took it.
    pub(super) model_names: BTreeMap<String, String>,
    pub(super) errors: Vec<SpecError>,
}

impl<'a> Lowering<'a> {
    pub(super) fn components(&self) -> Option<&'a openapiv3::Components> {
        self.document.api.components.as_ref()
    }

    /// Reserves a Rust name for every component schema first, so that `$ref`s
    /// resolve whatever the order and inline names cannot steal them.
    pub(super) fn register_components(&mut self) {
        let Some(components) = self.components() else {
            return;
        };
        let names: Vec<String> = components.schemas.keys().cloned().collect();
        for key in names {
            let at = format!("#/components/schemas/{}", escape(&key));
            match component_type_name(&key) {
                Ok(name) => {
                    if let Err(e) = self.reserve(&name, &at) {
                        self.errors.push(e);
                    }
                }
                Err(message) => self.errors.push(SpecError::at(&at, message)),
            }
        }
    }

    pub(super) fn reserve(&mut self, name: &str, at: &str) -> Result<(), SpecError> {
        if names::RESERVED_TYPE_NAMES.contains(&name) {
            return Err(SpecError::at(
                at,
                format!(
                    "the type name `{name}` is reserved by the generated crate; rename the schema"
                ),
            ));
        }
        if let Some(previous) = self.model_names.get(name)
            && previous != at
        {
            return Err(SpecError::at(
                at,
                format!(
                    "the Rust type name `{name}` is already taken by the schema at {previous}; rename one of them"
                ),
            ));
        }
        self.model_names.insert(name.to_owned(), at.to_owned());
        Ok(())
    }

    /// Refuses aliases that contain themselves only through arrays, maps or
    /// other aliases (`A: {type: array, items: {$ref: A}}`): a Rust type
    /// alias cannot be recursive.
    pub(super) fn check_alias_cycles(&mut self) {
        fn reaches(
            models: &[Model],
            ty: &TypeRef,
            target: &str,
            seen: &mut BTreeSet<String>,
        ) -> bool {
            match ty {
                TypeRef::Array(inner) | TypeRef::Map(inner) => reaches(models, inner, target, seen),
                TypeRef::Named(name) => {
                    if name == target {
                        return true;
                    }
                    if !seen.insert(name.clone()) {
                        return false;
                    }
                    matches!(models.iter().find(|m| &m.name == name), Some(Model { kind: ModelKind::Alias(inner), .. }) if reaches(models, inner, target, seen))
                }
                _ => false,
            }
        }
        for model in &self.models {
            if let ModelKind::Alias(ty) = &model.kind
                && reaches(&self.models, ty, &model.name, &mut BTreeSet::new())
            {
                let at = self
                    .model_names
                    .get(&model.name)
                    .cloned()
                    .unwrap_or_default();
                self.errors.push(SpecError::at(
                    &at,
                    "this schema contains itself only through arrays, maps or other such schemas; wrap it in an object (`type: object` with a property) so that it has a Rust type of its own",
                ));
            }
        }
    }

    /// Two paged operations with the same page type must describe its paging
    /// alike: the type has one `Paged` implementation.
    pub(super) fn check_shared_paging(&mut self, operations: &[Operation]) {
        let key = |p: &Paging| {
            let next: Vec<&str> = p.next.iter().map(|f| f.name.as_str()).collect();
            (
                p.items.name.clone(),
                next.join("."),
                p.token.as_ref().map(|t| t.name.clone()),
            )
        };
        for (i, op) in operations.iter().enumerate() {
            let Some(paging) = &op.paging else { continue };
            let earlier = operations[..i].iter().find_map(|o| {
                o.paging
                    .as_ref()
                    .filter(|p| p.collection == paging.collection)
                    .map(|p| (o, p))
            });
            if let Some((other, first)) = earlier
                && key(first) != key(paging)
            {
                self.errors.push(SpecError::at(
                    &format!("#/paths/{}", escape(&op.path)),
                    format!(
                        "`{}` and `{}` page the same type `{}` with different `items`, `next` or `continuationToken`; they must agree",
                        other.id, op.id, paging.collection
                    ),
                ));
            }
        }
    }

    pub(super) fn check_security(&mut self) {
        if let Some(components) = self.components() {
            for (name, scheme) in &components.security_schemes {
                let at = format!("#/components/securitySchemes/{}", escape(name));
                let ok = matches!(scheme, ReferenceOr::Item(openapiv3::SecurityScheme::HTTP { scheme, .. }) if scheme.eq_ignore_ascii_case("bearer"));
                if !ok {
                    self.errors.push(SpecError::at(&at, "only `type: http` with `scheme: bearer` security is supported (the client sends `Authorization: Bearer <token>`)"));
                }
            }
        }
        let known: BTreeSet<String> = self
            .components()
            .map(|c| c.security_schemes.keys().cloned().collect())
            .unwrap_or_default();
        for (i, requirement) in self.document.api.security.iter().flatten().enumerate() {
            for name in requirement.keys() {
                if !known.contains(name) {
                    self.errors.push(SpecError::at(
                        &format!("#/security/{i}"),
                        format!(
                            "security scheme `{name}` is not defined in components.securitySchemes"
                        ),
                    ));
                }
            }
        }
    }

    /// Every path of `x-request-constants` names properties of the model,
    /// objects down to a string.
    pub(super) fn check_request_constants(&mut self) {
        let mut errors = Vec::new();
        for model in &self.models {
            for constant in &model.request_constants {
                let at = format!(
                    "{}/x-request-constants",
                    self.model_names
                        .get(&model.name)
                        .cloned()
                        .unwrap_or_default()
                );
                let mut current = model.name.clone();
                let last = constant.path.len() - 1;
                for (i, wire) in constant.path.iter().enumerate() {
                    let field = match self.models.iter().find(|m| m.name == current) {
                        Some(Model {
                            kind: ModelKind::Struct { fields },
                            ..
                        }) => fields.iter().find(|f| &f.wire == wire),
                        _ => None,
                    };
                    let Some(field) = field else {
                        errors.push(SpecError::at(
                            &at,
                            format!(
                                "`{}` names `{wire}`, which is not a property of `{current}`",
                                constant.path.join(".")
                            ),
                        ));
                        break;
                    };
                    match (&field.ty, i == last) {
                        (TypeRef::String, true) => {}
                        (TypeRef::Named(next), false) => current = next.clone(),
                        _ => {
                            errors.push(SpecError::at(
                                &at,
                                format!(
                                    "`{}` must lead through object properties to a string property",
                                    constant.path.join(".")
                                ),
                            ));
                            break;
                        }
                    }
                }
            }
        }
        self.errors.extend(errors);
    }

    /// Every server of the spec, with the name of its variant.
    pub(super) fn servers(&mut self) -> Vec<Server> {
        let mut servers: Vec<Server> = Vec::new();
        for (i, server) in self.document.api.servers.iter().enumerate() {
            let at = format!("#/servers/{i}");
            let url = server.url.trim_end_matches('/');
            let absolute = url.starts_with("https://") || url.starts_with("http://");
            if !absolute
                || url.contains(['{', '?', '#', '@', ' '])
                || !server.variables.as_ref().is_none_or(|v| v.is_empty())
            {
                self.errors.push(SpecError::at(
                    &format!("{at}/url"),
                    format!(
                        "server url `{}` must be an absolute http(s) URL without variables, credentials, query or fragment",
                        server.url
                    ),
                ));
                continue;
            }
            let name = match server.extensions.get("x-rust-name") {
                Some(serde_json::Value::String(name))
                    if names::is_valid_ident(name)
                        && name.starts_with(|c: char| c.is_ascii_uppercase()) =>
                {
                    name.clone()
                }
                Some(_) => {
                    self.errors.push(SpecError::at(
                        &format!("{at}/x-rust-name"),
                        "`x-rust-name` of a server must be a PascalCase Rust identifier",
                    ));
                    continue;
                }
                None => {
                    let host = url.split("://").nth(1).unwrap_or_default();
                    names::pascal(host).unwrap_or_else(|| format!("Server{i}"))
                }
            };
            if servers.iter().any(|s| s.name == name) {
                self.errors.push(SpecError::at(
                    &at,
                    format!("two servers are named `{name}`; set `x-rust-name` on one"),
                ));
                continue;
            }
            servers.push(Server {
                name,
                url: url.to_owned(),
                doc: server.description.as_deref().map(names::sanitize_doc),
            });
        }
        servers
    }
}
