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

/// How strictly a spec is held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strictness {
    /// Every refusal and every warning is an error: the project's own specs.
    #[default]
    Strict,
    /// A refused operation or schema is left out (and reported) and the
    /// rest is generated; warnings are reported: specs nobody here wrote.
    Lenient,
}

/// The IR of a spec, with what was tolerated and what was left out.
pub(crate) struct Lowered {
    pub(crate) api: Api,
    /// Located warnings: what the spec gets slightly wrong, and renames.
    pub(crate) warnings: Vec<SpecError>,
    /// Located refusals of the operations and schemas left out.
    pub(crate) refused: Vec<SpecError>,
    /// The operations of the spec, generated or not.
    pub(crate) operations_total: usize,
}

/// Lowers the document into the IR, or every error found.
pub(crate) fn lower(
    document: &Document,
    reserved: &Reserved,
    strictness: Strictness,
) -> Result<Lowered, SpecErrors> {
    let mut ctx = Lowering {
        document,
        reserved,
        strictness,
        models: Vec::new(),
        model_names: BTreeMap::new(),
        component_names: BTreeMap::new(),
        renamed: BTreeMap::new(),
        inline_depth: 0,
        errors: Vec::new(),
        warnings: Vec::new(),
        refused: Vec::new(),
        refused_models: BTreeSet::new(),
    };
    ctx.register_components();
    let authenticated = ctx.check_security();
    let servers = ctx.servers();
    let base_url = servers.first().map(|s| s.url.clone());
    ctx.lower_components();
    let (mut operations, operations_total) = ctx.lower_operations();
    ctx.drop_refused(&mut operations);
    let mut error_bodies: Vec<ErrorBodyModel> = Vec::new();
    let mut unusable: BTreeSet<String> = BTreeSet::new();
    for op in &operations {
        for case in &op.errors {
            if let Some(body) = &case.body
                && !error_bodies.iter().any(|b| &b.name == body)
                && !unusable.contains(body)
            {
                match ctx.error_body_model(body) {
                    Ok(model) => error_bodies.push(model),
                    Err(e) if strictness == Strictness::Lenient => {
                        ctx.warn(SpecError::at(
                            &e.pointer,
                            format!("{}; errors keep this body as text", e.message),
                        ));
                        unusable.insert(body.clone());
                    }
                    Err(e) => ctx.errors.push(e),
                }
            }
        }
    }
    for op in &mut operations {
        for case in &mut op.errors {
            if case.body.as_ref().is_some_and(|b| unusable.contains(b)) {
                case.body = None;
            }
        }
    }
    ctx.check_alias_cycles();
    ctx.check_request_constants();
    ctx.check_shared_paging(&operations);
    if strictness == Strictness::Strict {
        ctx.errors.append(&mut ctx.refused);
        ctx.errors.append(&mut ctx.warnings);
    }
    if !ctx.errors.is_empty() {
        ctx.errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        ctx.errors.dedup();
        return Err(SpecErrors(ctx.errors));
    }
    let warnings = SpecErrors(ctx.warnings).located(document).0;
    let refused = SpecErrors(ctx.refused).located(document).0;
    Ok(Lowered {
        api: Api {
            title: names::sanitize_doc(&document.api.info.title),
            version: document.api.info.version.clone(),
            base_url,
            servers,
            model_index: ctx
                .models
                .iter()
                .enumerate()
                .map(|(i, m)| (m.name.clone(), i))
                .collect(),
            models: ctx.models,
            derived: Derived::default(),
            operations,
            error_bodies,
            authenticated,
        },
        warnings,
        refused,
        operations_total,
    })
}

pub(crate) struct Lowering<'a> {
    pub(super) document: &'a Document,
    /// Method names hand-written code takes.
    pub(super) reserved: &'a Reserved,
    pub(super) strictness: Strictness,
    pub(super) models: Vec<Model>,
    /// Rust model name → pointer of the schema that took it.
    pub(super) model_names: BTreeMap<String, String>,
    /// Component key → its Rust name.
    pub(super) component_names: BTreeMap<String, String>,
    /// Rust name → the spec's name, for schemas renamed to not hide a Rust name.
    pub(super) renamed: BTreeMap<String, String>,
    /// How deep inline models nest now.
    pub(super) inline_depth: usize,
    pub(super) errors: Vec<SpecError>,
    pub(super) warnings: Vec<SpecError>,
    /// Operations and schemas left out, with why.
    pub(super) refused: Vec<SpecError>,
    /// The Rust names of refused models.
    pub(super) refused_models: BTreeSet<String>,
}

impl<'a> Lowering<'a> {
    pub(super) fn components(&self) -> Option<&'a openapiv3::Components> {
        self.document.api.components.as_ref()
    }

    /// A tolerated mistake of the spec, or a rename: reported, located.
    pub(super) fn warn(&mut self, warning: SpecError) {
        self.warnings.push(warning);
    }

    /// A schema the generator cannot turn into a type: left out, with the
    /// operations and schemas that use it.
    pub(super) fn refuse_model(&mut self, name: &str, error: SpecError) {
        self.refused_models.insert(name.to_owned());
        self.refused.push(error);
    }

    /// Reserves a Rust name for every component schema first, so that `$ref`s
    /// resolve whatever the order and inline names cannot steal them. Two
    /// schemas with one Rust name: the later gets a number (reported).
    pub(super) fn register_components(&mut self) {
        let Some(components) = self.components() else {
            return;
        };
        for key in components.schemas.keys() {
            let at = format!("#/components/schemas/{}", escape(key));
            let base = match component_type_name(key) {
                Ok(name) => name,
                Err(message) => {
                    self.refused.push(SpecError::at(&at, message));
                    continue;
                }
            };
            let pascal = names::pascal(key).unwrap_or_default();
            if base != pascal && names::RESERVED_TYPE_NAMES.contains(&pascal.as_str()) {
                self.renamed.insert(base.clone(), key.clone());
            }
            let name = self.unique_model_name(&base, &at, |name, previous| {
                format!(
                    "schema `{key}` is named `{name}` in Rust: `{base}` is the schema at {previous}"
                )
            });
            self.model_names.insert(name.clone(), at);
            self.component_names.insert(key.clone(), name);
        }
    }

    /// `base`, or `base` with the first number that makes it a name no
    /// model has taken; a numbered name is reported at `at` with `message`
    /// (of the name and the pointer of the schema that has `base`).
    pub(super) fn unique_model_name(
        &mut self,
        base: &str,
        at: &str,
        message: impl Fn(&str, &str) -> String,
    ) -> String {
        let mut name = base.to_owned();
        let mut n = 2;
        while self.model_names.contains_key(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        if name != base {
            let previous = self.model_names.get(base).cloned().unwrap_or_default();
            self.warn(SpecError::at(at, message(&name, &previous)));
        }
        name
    }

    /// Leaves out models that use a refused model, then operations that
    /// use a refused model (lenient), each reported.
    fn drop_refused(&mut self, operations: &mut Vec<Operation>) {
        loop {
            let mut newly = Vec::new();
            for model in &self.models {
                if let Some(bad) = model_refs(model)
                    .into_iter()
                    .find(|n| self.refused_models.contains(n))
                {
                    newly.push((model.name.clone(), bad));
                }
            }
            if newly.is_empty() {
                break;
            }
            for (name, bad) in newly {
                let at = self.model_names.get(&name).cloned().unwrap_or_default();
                self.refuse_model(
                    &name,
                    SpecError::at(&at, format!("uses `{bad}`, which was left out")),
                );
            }
            let refused = &self.refused_models;
            self.models.retain(|m| !refused.contains(&m.name));
        }
        let refused_models = self.refused_models.clone();
        let mut refused = Vec::new();
        operations.retain(|op| {
            match op_refs(op).into_iter().find(|n| refused_models.contains(n)) {
                Some(bad) => {
                    refused.push(SpecError::at(
                        &format!(
                            "#/paths/{}/{}",
                            escape(&op.path),
                            op.http_method.to_ascii_lowercase()
                        ),
                        format!("operation `{}` uses `{bad}`, which was left out", op.id),
                    ));
                    false
                }
                None => true,
            }
        });
        self.refused.extend(refused);
    }

    /// Refuses aliases that contain themselves only through arrays, maps or
    /// other aliases (`A: {type: array, items: {$ref: A}}`): a Rust type
    /// alias cannot be recursive.
    pub(super) fn check_alias_cycles(&mut self) {
        fn reaches(
            models: &std::collections::HashMap<&str, &Model>,
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
                    matches!(models.get(name.as_str()), Some(Model { kind: ModelKind::Alias(inner), .. }) if reaches(models, inner, target, seen))
                }
                _ => false,
            }
        }
        let index: std::collections::HashMap<&str, &Model> =
            self.models.iter().map(|m| (m.name.as_str(), m)).collect();
        for model in &self.models {
            if let ModelKind::Alias(ty) = &model.kind
                && reaches(&index, ty, &model.name, &mut BTreeSet::new())
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

    /// Checks the security schemes; whether the spec asks for credentials
    /// the client sends as `Authorization: Bearer` (http bearer, OAuth 2,
    /// OpenID Connect). Other schemes are reported: their credentials go in
    /// header parameters.
    pub(super) fn check_security(&mut self) -> bool {
        let mut bearer = BTreeSet::new();
        if let Some(components) = self.components() {
            for (name, scheme) in &components.security_schemes {
                let at = format!("#/components/securitySchemes/{}", escape(name));
                match scheme {
                    ReferenceOr::Item(openapiv3::SecurityScheme::HTTP { scheme, .. })
                        if scheme.eq_ignore_ascii_case("bearer") =>
                    {
                        bearer.insert(name.clone());
                    }
                    ReferenceOr::Item(
                        openapiv3::SecurityScheme::OAuth2 { .. }
                        | openapiv3::SecurityScheme::OpenIDConnect { .. },
                    ) => {
                        bearer.insert(name.clone());
                    }
                    _ => self.warn(SpecError::at(
                        &at,
                        "the client sends only bearer tokens (`Authorization: Bearer`); credentials of this scheme must go in a header parameter or a token provider",
                    )),
                }
            }
        }
        let known: BTreeSet<String> = self
            .components()
            .map(|c| c.security_schemes.keys().cloned().collect())
            .unwrap_or_default();
        let mut required = false;
        let global = self
            .document
            .api
            .security
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, r)| (format!("#/security/{i}"), r));
        let mut checks: Vec<(String, &openapiv3::SecurityRequirement)> = global.collect();
        for (path, item) in self.document.api.paths.iter() {
            if let ReferenceOr::Item(item) = item {
                for (method, op) in item.iter() {
                    for (i, r) in op.security.iter().flatten().enumerate() {
                        checks.push((format!("#/paths/{}/{method}/security/{i}", escape(path)), r));
                    }
                }
            }
        }
        for (at, requirement) in checks {
            for name in requirement.keys() {
                if !known.contains(name) {
                    let error = if self.strictness == Strictness::Lenient {
                        &mut self.warnings
                    } else {
                        &mut self.errors
                    };
                    error.push(SpecError::at(
                        &at,
                        format!(
                            "security scheme `{name}` is not defined in components.securitySchemes"
                        ),
                    ));
                } else if bearer.contains(name) {
                    required = true;
                }
            }
        }
        required
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
                            kind: ModelKind::Struct { fields, .. },
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
            // Variables take their defaults: `https://{region}.example.com`.
            let mut filled = server.url.clone();
            for (name, variable) in server.variables.iter().flatten() {
                filled = filled.replace(&format!("{{{name}}}"), &variable.default);
            }
            let url = filled.trim_end_matches('/');
            let absolute = url.starts_with("https://") || url.starts_with("http://");
            if !absolute || url.contains(['{', '}', '?', '#', '@', ' ']) {
                let error = SpecError::at(
                    &format!("{at}/url"),
                    format!(
                        "server url `{}` must be an absolute http(s) URL without undeclared variables, credentials, query or fragment",
                        server.url
                    ),
                );
                if self.strictness == Strictness::Lenient {
                    self.warn(SpecError::at(
                        &error.pointer,
                        format!(
                            "{}; it is left out, and a client without a server needs a base URL",
                            error.message
                        ),
                    ));
                } else {
                    self.errors.push(error);
                }
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
                    // Named from the host; a host that is an IP address
                    // (`127.0.0.1:4646` → `1270014646`) gets a prefix.
                    let host = url.split("://").nth(1).unwrap_or_default();
                    match names::pascal(host) {
                        Some(name) if name.starts_with(|c: char| c.is_ascii_digit()) => {
                            format!("Server{name}")
                        }
                        Some(name) if names::is_valid_ident(&name) => name,
                        _ => format!("Server{i}"),
                    }
                }
            };
            let name = if servers.iter().any(|s| s.name == name)
                && self.strictness == Strictness::Lenient
            {
                format!("{name}{}", i + 1)
            } else {
                name
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

/// Every model name `ty` refers to.
fn type_refs(ty: &TypeRef, out: &mut Vec<String>) {
    match ty {
        TypeRef::Named(name) => out.push(name.clone()),
        TypeRef::Array(inner) | TypeRef::Map(inner) => type_refs(inner, out),
        _ => {}
    }
}

/// Every model name a model refers to.
fn model_refs(model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    match &model.kind {
        ModelKind::Struct { fields, additional } => {
            for field in fields {
                type_refs(&field.ty, &mut out);
            }
            if let Some(ty) = additional {
                type_refs(ty, &mut out);
            }
        }
        ModelKind::Union { variants, .. } => {
            for variant in variants {
                type_refs(&variant.ty, &mut out);
            }
        }
        ModelKind::OneOf { variants } => {
            for (_, ty) in variants {
                type_refs(ty, &mut out);
            }
        }
        ModelKind::Alias(ty) => type_refs(ty, &mut out),
        ModelKind::Enum { .. } => {}
    }
    out
}

/// Every model name an operation refers to.
fn op_refs(op: &Operation) -> Vec<String> {
    let mut out = Vec::new();
    for param in &op.params {
        type_refs(&param.ty, &mut out);
    }
    if let Some(body) = &op.body {
        type_refs(&body.ty, &mut out);
    }
    if let Some((ty, _)) = &op.success.body {
        type_refs(ty, &mut out);
    }
    for case in &op.errors {
        if let Some(body) = &case.body {
            out.push(body.clone());
        }
    }
    out
}
