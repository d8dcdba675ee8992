//! The validated intermediate representation the emitters read, and the
//! lowering from `openapiv3` that builds it. Everything the generator
//! supports is decided here; everything else is refused with an error that
//! names the JSON pointer of the construct and what is supported instead.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{
    AdditionalProperties, Operation as OaOperation, Parameter, ParameterSchemaOrContent,
    QueryStyle, ReferenceOr, Schema, SchemaKind, StatusCode, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};

use super::error::{SpecError, SpecErrors};
use super::names;
use super::spec::{Document, escape};

/// The whole API as the emitters see it.
pub(crate) struct Api {
    pub(crate) title: String,
    pub(crate) version: String,
    pub(crate) base_url: String,
    pub(crate) models: Vec<Model>,
    pub(crate) operations: Vec<Operation>,
    /// Models used as error bodies, in order of first use.
    pub(crate) error_bodies: Vec<ErrorBodyModel>,
}

/// A model used as an error body, with the fields that `x-error-code` and
/// `x-error-message` name: what an error message shows of it.
pub(crate) struct ErrorBodyModel {
    pub(crate) name: String,
    pub(crate) code: Option<ErrorField>,
    pub(crate) message: Option<ErrorField>,
}

pub(crate) struct ErrorField {
    /// The Rust field name.
    pub(crate) name: String,
    /// Whether the field is an `Option`.
    pub(crate) optional: bool,
}

/// A named Rust type in `types`.
pub(crate) struct Model {
    pub(crate) name: String,
    pub(crate) doc: Option<String>,
    pub(crate) kind: ModelKind,
}

pub(crate) enum ModelKind {
    /// An object with known properties.
    Struct { fields: Vec<Field> },
    /// A string enum. Open enums keep unknown values in `unknown`.
    Enum {
        variants: Vec<Variant>,
        unknown: Option<String>,
    },
    /// A `oneOf` of scalar types, decoded as whichever matches first.
    OneOf { variants: Vec<(String, TypeRef)> },
    /// Another name for a type (a top-level array, map or scalar schema).
    Alias(TypeRef),
}

pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) wire: String,
    pub(crate) doc: Option<String>,
    pub(crate) ty: TypeRef,
    pub(crate) required: bool,
    pub(crate) nullable: bool,
}

pub(crate) struct Variant {
    pub(crate) name: String,
    pub(crate) wire: String,
}

/// The Rust type of a value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TypeRef {
    String,
    /// `format: password`: kept in `crate::Secret`, redacted from `Debug`.
    Secret,
    /// `format: date-time`: `crate::Timestamp`, lenient.
    Timestamp,
    Bool,
    I32,
    I64,
    F32,
    F64,
    /// `{}`: any JSON value.
    Any,
    /// An object without properties: any JSON object.
    Object,
    Named(String),
    Array(Box<TypeRef>),
    Map(Box<TypeRef>),
}

/// An operation: one method on `Client` and its request builder.
pub(crate) struct Operation {
    pub(crate) id: String,
    pub(crate) method_name: String,
    pub(crate) builder_name: String,
    pub(crate) http_method: &'static str,
    pub(crate) path: String,
    pub(crate) path_parts: Vec<PathPart>,
    pub(crate) params: Vec<Param>,
    pub(crate) summary: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) deprecated: bool,
    pub(crate) success: Success,
    pub(crate) errors: Vec<ErrorCase>,
    /// Seek paging, from the operation's `x-pagination`.
    pub(crate) paging: Option<Paging>,
    /// The JSON request body, if the operation takes one.
    pub(crate) body: Option<Body>,
}

impl Operation {
    /// The parameters, then the request body as a parameter named `body`.
    pub(crate) fn inputs(&self) -> Vec<Param> {
        let mut inputs = self.params.clone();
        if let Some(body) = &self.body {
            inputs.push(Param {
                wire: "body".to_owned(),
                name: "body".to_owned(),
                location: Location::Body,
                required: body.required,
                ty: body.ty.clone(),
                json: true,
                doc: Some(
                    body.doc
                        .clone()
                        .unwrap_or_else(|| "The request body.".to_owned()),
                ),
            });
        }
        inputs
    }
}

/// A JSON request body.
pub(crate) struct Body {
    pub(crate) ty: TypeRef,
    pub(crate) required: bool,
    pub(crate) doc: Option<String>,
}

/// How to walk the pages of an operation (`x-pagination`): where the items,
/// the next link and the continuation token are in the success body, and how
/// a continuation token is sent.
pub(crate) struct Paging {
    /// The model of the success body.
    pub(crate) collection: String,
    pub(crate) items: FieldRef,
    pub(crate) item_ty: TypeRef,
    /// The fields from the body to the next link object.
    pub(crate) next: Vec<FieldRef>,
    /// `uri` of the link object.
    pub(crate) link_uri: FieldRef,
    /// `headers` of the link object: an array of objects with `key` and `value`.
    pub(crate) link_headers: Option<LinkHeaders>,
    pub(crate) token: Option<FieldRef>,
    /// The header a continuation token is sent in.
    pub(crate) token_header: String,
    /// The query parameter and value that ask for the next page, e.g.
    /// `seekOperation=Next`.
    pub(crate) seek: Option<Seek>,
    /// Prepended to relative next links whose path lacks it, e.g. `/v1`.
    pub(crate) path_prefix: String,
}

pub(crate) struct LinkHeaders {
    pub(crate) field: FieldRef,
    pub(crate) key: FieldRef,
    pub(crate) value: FieldRef,
}

pub(crate) struct Seek {
    /// The builder's setter for the parameter.
    pub(crate) param: String,
    pub(crate) wire: String,
    pub(crate) value: String,
    /// The enum variant for `value` when the parameter is an enum.
    pub(crate) variant: Option<(String, String)>,
}

/// A field of a struct model, as the emitters access it.
#[derive(Clone)]
pub(crate) struct FieldRef {
    pub(crate) name: String,
    pub(crate) ty: TypeRef,
    /// Whether the field is an `Option`.
    pub(crate) optional: bool,
}

pub(crate) enum PathPart {
    Literal(String),
    /// Index into `params`.
    Param(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    Query,
    Header,
    /// The JSON request body, which the emitters treat as one more input.
    Body,
}

#[derive(Clone)]
pub(crate) struct Param {
    pub(crate) wire: String,
    pub(crate) name: String,
    pub(crate) location: Location,
    pub(crate) required: bool,
    /// A scalar, a string enum, an array of those (query only, sent as
    /// repeated `name=value` pairs), or any model when `json` is set.
    pub(crate) ty: TypeRef,
    /// `content: application/json`: the value is sent as JSON text.
    pub(crate) json: bool,
    pub(crate) doc: Option<String>,
}

/// The 2xx responses: their statuses and the body they share, if any.
pub(crate) struct Success {
    pub(crate) statuses: Vec<StatusMatch>,
    pub(crate) body: Option<TypeRef>,
}

pub(crate) struct ErrorCase {
    pub(crate) status: StatusMatch,
    /// The model of the body, or `None` when the spec declares no JSON body.
    pub(crate) body: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StatusMatch {
    Code(u16),
    /// `4XX` is `Range(4)`.
    Range(u16),
    Default,
}

/// Names a builder already uses for its own methods.
const BUILDER_METHODS: &[&str] = &[
    "send",
    "stream",
    "pages",
    "resume",
    "client",
    "request",
    "new",
    "decode_error",
    "body",
];

/// Names of the hand-written methods of `Client` (and of the traits it
/// implements) that an operation may not take.
const CLIENT_METHODS: &[&str] = &[
    "builder",
    "base_url",
    "locale",
    "timeout",
    "max_response_bytes",
    "retry_policy",
    "max_pages",
    "execute_json",
    "execute_empty",
    "execute_raw",
    "attempt",
    "url_of",
    "clone",
    "clone_from",
    "fmt",
    "inner",
    "baseurl",
    "client",
    "api_version",
    "to_owned",
    "eq",
    "hash",
];

/// Lowers the document into the IR, or every error found.
pub(crate) fn lower(document: &Document) -> Result<Api, SpecErrors> {
    let mut ctx = Lowering {
        document,
        models: Vec::new(),
        model_names: BTreeMap::new(),
        errors: Vec::new(),
    };
    ctx.register_components();
    ctx.check_security();
    let base_url = ctx.base_url();
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
    ctx.check_shared_paging(&operations);
    if !ctx.errors.is_empty() {
        return Err(SpecErrors(ctx.errors));
    }
    Ok(Api {
        title: names::sanitize_doc(&document.api.info.title),
        version: document.api.info.version.clone(),
        base_url: base_url.unwrap_or_default(),
        models: ctx.models,
        operations,
        error_bodies,
    })
}

struct Lowering<'a> {
    document: &'a Document,
    models: Vec<Model>,
    /// Rust model name → pointer of the schema that took it.
    model_names: BTreeMap<String, String>,
    errors: Vec<SpecError>,
}

impl<'a> Lowering<'a> {
    fn components(&self) -> Option<&'a openapiv3::Components> {
        self.document.api.components.as_ref()
    }

    /// Reserves a Rust name for every component schema first, so that `$ref`s
    /// resolve whatever the order and inline names cannot steal them.
    fn register_components(&mut self) {
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

    fn reserve(&mut self, name: &str, at: &str) -> Result<(), SpecError> {
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
    fn check_alias_cycles(&mut self) {
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
    fn check_shared_paging(&mut self, operations: &[Operation]) {
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

    /// Reads `x-error-code` and `x-error-message` of an error body schema.
    fn error_body_model(&self, name: &str) -> Result<ErrorBodyModel, SpecError> {
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
        Ok(ErrorBodyModel {
            name: name.to_owned(),
            code,
            message,
        })
    }

    fn check_security(&mut self) {
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

    fn base_url(&mut self) -> Option<String> {
        let Some(server) = self.document.api.servers.first() else {
            self.errors.push(SpecError::at(
                "#/servers",
                "the spec must list a server; `servers[0].url` is the client's default base URL",
            ));
            return None;
        };
        let url = server.url.trim_end_matches('/');
        let absolute = url.starts_with("https://") || url.starts_with("http://");
        if !absolute
            || url.contains(['{', '?', '#', '@', ' '])
            || !server.variables.as_ref().is_none_or(|v| v.is_empty())
        {
            self.errors.push(SpecError::at(
                "#/servers/0/url",
                format!(
                    "server url `{}` must be an absolute http(s) URL without variables, credentials, query or fragment",
                    server.url
                ),
            ));
            return None;
        }
        Some(url.to_owned())
    }

    fn lower_components(&mut self) {
        let Some(components) = self.components() else {
            return;
        };
        let schemas: Vec<(String, ReferenceOr<Schema>)> = components
            .schemas
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, schema) in schemas {
            let at = format!("#/components/schemas/{}", escape(&key));
            let Ok(name) = component_type_name(&key) else {
                continue;
            };
            let schema = match &schema {
                ReferenceOr::Item(schema) => schema,
                ReferenceOr::Reference { .. } => {
                    self.errors.push(SpecError::at(&at, "a component schema that is only a $ref is not supported; refer to the target directly"));
                    continue;
                }
            };
            match self.lower_model(&name, schema, &at) {
                Ok(model) => self.models.push(model),
                Err(e) => self.errors.push(e),
            }
        }
    }

    /// Lowers a schema that becomes a named model.
    fn lower_model(&mut self, name: &str, schema: &Schema, at: &str) -> Result<Model, SpecError> {
        let doc = schema
            .schema_data
            .description
            .as_deref()
            .or(schema.schema_data.title.as_deref())
            .map(names::sanitize_doc);
        let kind = match &schema.schema_kind {
            SchemaKind::Type(Type::Object(object))
                if !object.properties.is_empty() || object.additional_properties.is_none() =>
            {
                if let Some(AdditionalProperties::Schema(_)) = &object.additional_properties {
                    return Err(SpecError::at(
                        at,
                        "an object with both `properties` and an `additionalProperties` schema is not supported; use `additionalProperties: true` (unknown fields are always ignored) or a map without properties",
                    ));
                }
                let mut fields = Vec::new();
                let mut seen = BTreeMap::new();
                for required in &object.required {
                    if !object.properties.contains_key(required) {
                        return Err(SpecError::at(
                            &format!("{at}/required"),
                            format!("required property `{required}` is not in `properties`"),
                        ));
                    }
                }
                for (wire, prop) in &object.properties {
                    let prop_at = format!("{at}/properties/{}", escape(wire));
                    let field_name = names::snake(wire).filter(|n| names::is_valid_ident(n)).ok_or_else(|| {
                        SpecError::at(&prop_at, format!("property `{wire}` has no usable Rust field name; property names need ASCII letters or digits"))
                    })?;
                    if let Some(other) = seen.insert(field_name.clone(), wire.clone()) {
                        return Err(SpecError::at(
                            &prop_at,
                            format!(
                                "properties `{other}` and `{wire}` both become the Rust field `{field_name}`"
                            ),
                        ));
                    }
                    let hint = format!("{name}{}", names::pascal(wire).unwrap_or_default());
                    let (ty, nullable, doc) = match prop {
                        ReferenceOr::Reference { reference } => {
                            (self.named_ref(reference, &prop_at)?, false, None)
                        }
                        ReferenceOr::Item(schema) => {
                            let ty = self.lower_type(schema, &prop_at, &hint)?;
                            let data = &schema.schema_data;
                            let mut doc = data.description.as_deref().map(names::sanitize_doc);
                            // readOnly/writeOnly change nothing in the forgiving
                            // models (every field is optional); they are told.
                            let note = match (data.read_only, data.write_only) {
                                (true, _) => Some(
                                    "Read-only: set by the service; leave it `None` in requests.",
                                ),
                                (_, true) => Some(
                                    "Write-only: sent in requests; the service may not return it.",
                                ),
                                _ => None,
                            };
                            if let Some(note) = note {
                                doc = Some(match doc {
                                    Some(doc) => format!("{doc}\n\n{note}"),
                                    None => note.to_owned(),
                                });
                            }
                            (ty, data.nullable, doc)
                        }
                    };
                    fields.push(Field {
                        name: field_name,
                        wire: wire.clone(),
                        doc,
                        ty,
                        required: object.required.contains(wire),
                        nullable,
                    });
                }
                ModelKind::Struct { fields }
            }
            SchemaKind::Type(Type::String(string)) if !string.enumeration.is_empty() => {
                let closed = match schema.schema_data.extensions.get("x-enum-closed") {
                    None => false,
                    Some(serde_json::Value::Bool(b)) => *b,
                    Some(_) => {
                        return Err(SpecError::at(
                            &format!("{at}/x-enum-closed"),
                            "`x-enum-closed` must be `true` or `false`",
                        ));
                    }
                };
                let mut variants: Vec<Variant> = Vec::new();
                for (i, value) in string.enumeration.iter().enumerate() {
                    let value_at = format!("{at}/enum/{i}");
                    let Some(value) = value else {
                        return Err(SpecError::at(
                            &value_at,
                            "`null` is not supported as an enum value; use `nullable: true` on the property instead",
                        ));
                    };
                    let mut variant = names::pascal(value).ok_or_else(|| {
                        SpecError::at(&value_at, format!("enum value {value:?} has no letters or digits to name a Rust variant after"))
                    })?;
                    if variant.starts_with(|c: char| c.is_ascii_digit()) {
                        variant.insert(0, 'V');
                    }
                    if !names::is_valid_ident(&variant) || variant == "Self" {
                        return Err(SpecError::at(
                            &value_at,
                            format!(
                                "enum value {value:?} does not make a valid Rust variant name (`{variant}`); enum values need ASCII letters or digits"
                            ),
                        ));
                    }
                    if let Some(other) = variants
                        .iter()
                        .find(|v| v.name == variant || v.wire == *value)
                    {
                        return Err(SpecError::at(
                            &value_at,
                            format!(
                                "enum values {:?} and {value:?} both become the Rust variant `{variant}`",
                                other.wire
                            ),
                        ));
                    }
                    variants.push(Variant {
                        name: variant,
                        wire: value.clone(),
                    });
                }
                let unknown = (!closed).then(|| {
                    ["Unknown", "UnknownValue", "Unrecognized"]
                        .into_iter()
                        .find(|n| !variants.iter().any(|v| v.name == *n))
                        .unwrap_or("UnknownValue_")
                        .to_owned()
                });
                ModelKind::Enum { variants, unknown }
            }
            SchemaKind::OneOf { one_of } => ModelKind::OneOf {
                variants: self.lower_one_of(one_of, at)?,
            },
            _ => ModelKind::Alias(self.lower_type(schema, at, name)?),
        };
        Ok(Model {
            name: name.to_owned(),
            doc,
            kind,
        })
    }

    fn lower_one_of(
        &mut self,
        one_of: &[ReferenceOr<Schema>],
        at: &str,
    ) -> Result<Vec<(String, TypeRef)>, SpecError> {
        let mut variants: Vec<(String, TypeRef)> = Vec::new();
        for (i, item) in one_of.iter().enumerate() {
            let item_at = format!("{at}/oneOf/{i}");
            let unsupported = || {
                SpecError::at(
                    &item_at,
                    "only `oneOf` of scalar types (integer, number, string, boolean) is supported; objects need a discriminator, which is not supported yet",
                )
            };
            let ReferenceOr::Item(schema) = item else {
                return Err(unsupported());
            };
            let (variant, ty) = match &schema.schema_kind {
                SchemaKind::Type(Type::Integer(_)) => {
                    ("Integer", self.lower_type(schema, &item_at, "")?)
                }
                SchemaKind::Type(Type::Number(_)) => {
                    ("Number", self.lower_type(schema, &item_at, "")?)
                }
                SchemaKind::Type(Type::Boolean(_)) => ("Boolean", TypeRef::Bool),
                SchemaKind::Type(Type::String(s)) if s.enumeration.is_empty() => {
                    ("String", self.lower_type(schema, &item_at, "")?)
                }
                _ => return Err(unsupported()),
            };
            if variants.iter().any(|(v, _)| v == variant) {
                return Err(SpecError::at(
                    &item_at,
                    format!(
                        "`oneOf` lists two {variant} schemas; each scalar type may appear once"
                    ),
                ));
            }
            variants.push((variant.to_owned(), ty));
        }
        if variants.is_empty() {
            return Err(SpecError::at(at, "`oneOf` needs at least one schema"));
        }
        Ok(variants)
    }

    fn named_ref(&mut self, reference: &str, at: &str) -> Result<TypeRef, SpecError> {
        let (key, _) = self.document.schema_ref(reference, at)?;
        let name = component_type_name(key).map_err(|m| SpecError::at(at, m))?;
        Ok(TypeRef::Named(name))
    }

    fn lower_ref_or(
        &mut self,
        item: &ReferenceOr<Schema>,
        at: &str,
        hint: &str,
    ) -> Result<TypeRef, SpecError> {
        match item {
            ReferenceOr::Reference { reference } => self.named_ref(reference, at),
            ReferenceOr::Item(schema) => self.lower_type(schema, at, hint),
        }
    }

    fn lower_boxed(
        &mut self,
        item: &ReferenceOr<Box<Schema>>,
        at: &str,
        hint: &str,
    ) -> Result<TypeRef, SpecError> {
        match item {
            ReferenceOr::Reference { reference } => self.named_ref(reference, at),
            ReferenceOr::Item(schema) => self.lower_type(schema, at, hint),
        }
    }

    /// Lowers an inline schema to a type, adding a model named `hint` for
    /// inline objects, enums and `oneOf`s.
    fn lower_type(&mut self, schema: &Schema, at: &str, hint: &str) -> Result<TypeRef, SpecError> {
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(string)) => {
                if !string.enumeration.is_empty() {
                    return self.inline_model(schema, at, hint);
                }
                match &string.format {
                    VariantOrUnknownOrEmpty::Empty => Ok(TypeRef::String),
                    VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => Ok(TypeRef::Timestamp),
                    VariantOrUnknownOrEmpty::Item(StringFormat::Password) => Ok(TypeRef::Secret),
                    VariantOrUnknownOrEmpty::Item(StringFormat::Date) => Ok(TypeRef::String),
                    VariantOrUnknownOrEmpty::Unknown(f)
                        if ANNOTATION_FORMATS.contains(&f.as_str()) =>
                    {
                        Ok(TypeRef::String)
                    }
                    other => Err(SpecError::at(
                        &format!("{at}/format"),
                        format!(
                            "string format `{}` is not supported; supported: date-time (crate::Timestamp), password (crate::Secret), and {} (kept as String)",
                            format_name(other),
                            ["date"]
                                .iter()
                                .chain(ANNOTATION_FORMATS)
                                .copied()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )),
                }
            }
            SchemaKind::Type(Type::Integer(integer)) => {
                if !integer.enumeration.is_empty() {
                    return Err(SpecError::at(
                        &format!("{at}/enum"),
                        "integer enums are not supported; use `type: string` with `enum`, or drop `enum`",
                    ));
                }
                match &integer.format {
                    VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32) => {
                        Ok(TypeRef::I32)
                    }
                    VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int64)
                    | VariantOrUnknownOrEmpty::Empty => Ok(TypeRef::I64),
                    VariantOrUnknownOrEmpty::Unknown(f) => Err(SpecError::at(
                        &format!("{at}/format"),
                        format!("integer format `{f}` is not supported; use int32 or int64"),
                    )),
                }
            }
            SchemaKind::Type(Type::Number(number)) => {
                if !number.enumeration.is_empty() {
                    return Err(SpecError::at(
                        &format!("{at}/enum"),
                        "number enums are not supported; drop `enum`",
                    ));
                }
                match &number.format {
                    VariantOrUnknownOrEmpty::Item(openapiv3::NumberFormat::Float) => {
                        Ok(TypeRef::F32)
                    }
                    VariantOrUnknownOrEmpty::Item(openapiv3::NumberFormat::Double)
                    | VariantOrUnknownOrEmpty::Empty => Ok(TypeRef::F64),
                    VariantOrUnknownOrEmpty::Unknown(f) => Err(SpecError::at(
                        &format!("{at}/format"),
                        format!("number format `{f}` is not supported; use float or double"),
                    )),
                }
            }
            SchemaKind::Type(Type::Boolean(boolean)) => {
                if !boolean.enumeration.is_empty() {
                    return Err(SpecError::at(
                        &format!("{at}/enum"),
                        "boolean enums are not supported; drop `enum`",
                    ));
                }
                Ok(TypeRef::Bool)
            }
            SchemaKind::Type(Type::Array(array)) => {
                let items = array
                    .items
                    .as_ref()
                    .ok_or_else(|| SpecError::at(at, "an array schema needs `items`"))?;
                let item =
                    self.lower_boxed(items, &format!("{at}/items"), &format!("{hint}Item"))?;
                Ok(TypeRef::Array(Box::new(item)))
            }
            SchemaKind::Type(Type::Object(object)) => {
                if !object.properties.is_empty() {
                    return self.inline_model(schema, at, hint);
                }
                match &object.additional_properties {
                    Some(AdditionalProperties::Schema(value)) => {
                        let value = self.lower_ref_or(
                            value,
                            &format!("{at}/additionalProperties"),
                            &format!("{hint}Value"),
                        )?;
                        Ok(TypeRef::Map(Box::new(value)))
                    }
                    Some(AdditionalProperties::Any(true)) | None => Ok(TypeRef::Object),
                    Some(AdditionalProperties::Any(false)) => Err(SpecError::at(
                        at,
                        "an object without properties and with `additionalProperties: false` can hold nothing; add `properties`",
                    )),
                }
            }
            SchemaKind::OneOf { .. } => self.inline_model(schema, at, hint),
            SchemaKind::AllOf { .. } => Err(SpecError::at(
                &format!("{at}/allOf"),
                "`allOf` is not supported; write the combined object's properties out, or `$ref` one schema",
            )),
            SchemaKind::AnyOf { .. } => Err(SpecError::at(
                &format!("{at}/anyOf"),
                "`anyOf` is not supported; use `oneOf` of scalar types, or one schema",
            )),
            SchemaKind::Not { .. } => Err(SpecError::at(
                &format!("{at}/not"),
                "`not` is not supported",
            )),
            SchemaKind::Any(any) => {
                if *any == openapiv3::AnySchema::default() {
                    Ok(TypeRef::Any)
                } else if let Some(typ) = &any.typ {
                    Err(SpecError::at(
                        at,
                        format!(
                            "this schema mixes `type: {typ}` with keywords of another type; supported: one of string, integer, number, boolean, array (with items), object"
                        ),
                    ))
                } else {
                    Err(SpecError::at(
                        at,
                        "this schema has constraints but no `type`; add `type:` (string, integer, number, boolean, array or object), or use `{}` for any JSON value",
                    ))
                }
            }
        }
    }

    fn inline_model(
        &mut self,
        schema: &Schema,
        at: &str,
        hint: &str,
    ) -> Result<TypeRef, SpecError> {
        if hint.is_empty() || !names::is_valid_ident(hint) {
            return Err(SpecError::at(
                at,
                "an inline object, enum or oneOf is not supported here; move it to components.schemas and `$ref` it",
            ));
        }
        if let Some(previous) = self.model_names.get(hint) {
            return Err(SpecError::at(
                at,
                format!(
                    "this inline schema would be named `{hint}`, which the schema at {previous} already uses; move it to components.schemas under another name"
                ),
            ));
        }
        self.reserve(hint, at)?;
        let model = self.lower_model(hint, schema, at)?;
        self.models.push(model);
        Ok(TypeRef::Named(hint.to_owned()))
    }

    fn lower_operations(&mut self) -> Vec<Operation> {
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

    fn lower_operation(
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
        if CLIENT_METHODS.contains(&method_name.as_str()) {
            return Err(SpecError::at(
                &format!("{at}/operationId"),
                format!(
                    "operationId `{id}` makes the method `{method_name}`, which `Client` already has; rename the operation"
                ),
            ));
        }
        let builder_name = names::pascal(&id).unwrap_or_default();
        if self.model_names.contains_key(&builder_name)
            || names::RESERVED_TYPE_NAMES.contains(&builder_name.as_str())
        {
            return Err(SpecError::at(
                &format!("{at}/operationId"),
                format!(
                    "operationId `{id}` makes the builder type `{builder_name}`, which is taken by a schema or reserved"
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
    fn lower_body(
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

    fn struct_fields(&self, name: &str) -> Option<&[Field]> {
        match self.models.iter().find(|m| m.name == name) {
            Some(Model {
                kind: ModelKind::Struct { fields },
                ..
            }) => Some(fields),
            _ => None,
        }
    }

    /// The field `wire` of the struct `model`, for `x-pagination` at `at`.
    fn field_ref(&self, model: &str, wire: &str, at: &str) -> Result<FieldRef, SpecError> {
        let fields = self.struct_fields(model).ok_or_else(|| {
            SpecError::at(at, format!("`{model}` is not an object with properties"))
        })?;
        let field = fields.iter().find(|f| f.wire == wire).ok_or_else(|| {
            let known: Vec<&str> = fields.iter().map(|f| f.wire.as_str()).collect();
            SpecError::at(
                at,
                format!(
                    "`{model}` has no property `{wire}`; its properties are {}",
                    known.join(", ")
                ),
            )
        })?;
        let optional = !matches!(field.ty, TypeRef::Array(_) | TypeRef::Map(_))
            && (!field.required || field.nullable);
        Ok(FieldRef {
            name: field.name.clone(),
            ty: field.ty.clone(),
            optional,
        })
    }

    fn lower_paging(
        &self,
        ext: &serde_json::Value,
        at: &str,
        path: &str,
        params: &[Param],
        success: &Success,
    ) -> Result<Paging, SpecError> {
        const KEYS: &[&str] = &[
            "items",
            "next",
            "continuationToken",
            "tokenHeader",
            "seek",
            "pathPrefix",
        ];
        let map = ext.as_object().ok_or_else(|| {
            SpecError::at(
                at,
                format!(
                    "`x-pagination` must be a mapping with the keys {}",
                    KEYS.join(", ")
                ),
            )
        })?;
        for key in map.keys() {
            if !KEYS.contains(&key.as_str()) {
                return Err(SpecError::at(
                    &format!("{at}/{}", escape(key)),
                    format!(
                        "unknown `x-pagination` key `{key}`; the keys are {}",
                        KEYS.join(", ")
                    ),
                ));
            }
        }
        let string = |key: &str, required: bool| -> Result<Option<String>, SpecError> {
            match map.get(key) {
                Some(serde_json::Value::String(v)) if !v.is_empty() => Ok(Some(v.clone())),
                Some(_) => Err(SpecError::at(
                    &format!("{at}/{key}"),
                    format!("`{key}` must be a non-empty string"),
                )),
                None if required => Err(SpecError::at(at, format!("`x-pagination` needs `{key}`"))),
                None => Ok(None),
            }
        };
        let collection = match &success.body {
            Some(TypeRef::Named(name)) if self.struct_fields(name).is_some() => name.clone(),
            _ => {
                return Err(SpecError::at(
                    at,
                    "a paged operation's success body must be a `$ref` to an object schema",
                ));
            }
        };
        let items_wire = string("items", true)?.unwrap_or_default();
        let items = self.field_ref(&collection, &items_wire, &format!("{at}/items"))?;
        let TypeRef::Array(item_ty) = items.ty.clone() else {
            return Err(SpecError::at(
                &format!("{at}/items"),
                format!("`{items_wire}` must be an array property"),
            ));
        };

        let next_at = format!("{at}/next");
        let next_path = string("next", true)?.unwrap_or_default();
        let mut next = Vec::new();
        let mut current = collection.clone();
        for segment in next_path.split('.') {
            let field = self.field_ref(&current, segment, &next_at)?;
            let TypeRef::Named(target) = &field.ty else {
                return Err(SpecError::at(
                    &next_at,
                    format!(
                        "`{segment}` in `{next_path}` must be an object (a `$ref`), not an array or scalar"
                    ),
                ));
            };
            current = target.clone();
            next.push(field);
        }
        let link = current;
        let link_uri = self.field_ref(&link, "uri", &next_at)?;
        if link_uri.ty != TypeRef::String {
            return Err(SpecError::at(
                &next_at,
                format!("the `uri` of `{link}` must be a string"),
            ));
        }
        let link_headers = match self.field_ref(&link, "headers", &next_at) {
            Err(_) => None,
            Ok(field) => {
                let TypeRef::Array(item) = &field.ty else {
                    return Err(SpecError::at(
                        &next_at,
                        format!(
                            "the `headers` of `{link}` must be an array of objects with `key` and `value`"
                        ),
                    ));
                };
                let TypeRef::Named(pair) = item.as_ref() else {
                    return Err(SpecError::at(
                        &next_at,
                        format!(
                            "the `headers` of `{link}` must be an array of objects with `key` and `value`"
                        ),
                    ));
                };
                let key = self.field_ref(pair, "key", &next_at)?;
                let value = self.field_ref(pair, "value", &next_at)?;
                if key.ty != TypeRef::String
                    || !matches!(value.ty, TypeRef::String | TypeRef::Secret)
                {
                    return Err(SpecError::at(
                        &next_at,
                        format!("`key` and `value` of `{pair}` must be strings"),
                    ));
                }
                Some(LinkHeaders { field, key, value })
            }
        };

        let token = match string("continuationToken", false)? {
            None => None,
            Some(wire) => {
                let field =
                    self.field_ref(&collection, &wire, &format!("{at}/continuationToken"))?;
                if field.ty != TypeRef::Secret {
                    return Err(SpecError::at(
                        &format!("{at}/continuationToken"),
                        format!(
                            "`{wire}` must be a string with `format: password`, so that the token never shows in `Debug` output"
                        ),
                    ));
                }
                Some(field)
            }
        };

        let token_header = string("tokenHeader", true)?.unwrap_or_default();
        let Some(token_param) = params
            .iter()
            .find(|p| p.location == Location::Header && p.wire.eq_ignore_ascii_case(&token_header))
        else {
            return Err(SpecError::at(
                &format!("{at}/tokenHeader"),
                format!(
                    "`{token_header}` is not a header parameter of the operation; declare it so that a listing can be resumed"
                ),
            ));
        };
        if token_param.required || token_param.ty != TypeRef::Secret {
            return Err(SpecError::at(
                &format!("{at}/tokenHeader"),
                format!(
                    "the `{token_header}` parameter must be optional and a string with `format: password`, so that the first page can be asked for without it and the token never shows in `Debug` output"
                ),
            ));
        }

        let seek = match map.get("seek") {
            None => None,
            Some(seek) => {
                let seek_at = format!("{at}/seek");
                let (Some(param), Some(value)) = (
                    seek.get("parameter").and_then(|v| v.as_str()),
                    seek.get("value").and_then(|v| v.as_str()),
                ) else {
                    return Err(SpecError::at(
                        &seek_at,
                        "`seek` must be a mapping with the strings `parameter` and `value`",
                    ));
                };
                let p = params
                    .iter()
                    .find(|p| p.location == Location::Query && p.wire == param)
                    .ok_or_else(|| {
                        SpecError::at(
                            &format!("{seek_at}/parameter"),
                            format!("`{param}` is not a query parameter of the operation"),
                        )
                    })?;
                if p.required {
                    return Err(SpecError::at(
                        &format!("{seek_at}/parameter"),
                        format!(
                            "`{param}` must be optional: the first page is asked for without it"
                        ),
                    ));
                }
                let variant = match &p.ty {
                    TypeRef::String => None,
                    TypeRef::Named(name) => {
                        let variants = match self.models.iter().find(|m| &m.name == name) {
                            Some(Model {
                                kind: ModelKind::Enum { variants, .. },
                                ..
                            }) => variants,
                            _ => {
                                return Err(SpecError::at(
                                    &seek_at,
                                    format!("`{param}` must be a string or a string enum"),
                                ));
                            }
                        };
                        let v = variants.iter().find(|v| v.wire == value).ok_or_else(|| {
                            SpecError::at(
                                &format!("{seek_at}/value"),
                                format!("`{value}` is not a value of `{name}`"),
                            )
                        })?;
                        Some((name.clone(), v.name.clone()))
                    }
                    _ => {
                        return Err(SpecError::at(
                            &seek_at,
                            format!("`{param}` must be a string or a string enum"),
                        ));
                    }
                };
                Some(Seek {
                    param: p.name.clone(),
                    wire: param.to_owned(),
                    value: value.to_owned(),
                    variant,
                })
            }
        };

        let path_prefix = string("pathPrefix", false)?.unwrap_or_default();
        if !path_prefix.is_empty()
            && (!path_prefix.starts_with('/')
                || path_prefix.ends_with('/')
                || !path.starts_with(&format!("{path_prefix}/")))
        {
            return Err(SpecError::at(
                &format!("{at}/pathPrefix"),
                format!(
                    "`pathPrefix` must start with `/`, not end with `/`, and begin the operation's path `{path}`"
                ),
            ));
        }

        Ok(Paging {
            collection,
            items,
            item_ty: *item_ty,
            next,
            link_uri,
            link_headers,
            token,
            token_header,
            seek,
            path_prefix,
        })
    }

    fn lower_param(&mut self, param: &Parameter, at: &str) -> Result<Param, SpecError> {
        let data = param.parameter_data_ref();
        let location = match param {
            Parameter::Path { style, .. } => {
                if !matches!(style, openapiv3::PathStyle::Simple) || data.explode == Some(true) {
                    return Err(SpecError::at(
                        at,
                        "only the default path style (`simple`, not exploded) is supported",
                    ));
                }
                Location::Path
            }
            Parameter::Query {
                style,
                allow_reserved,
                allow_empty_value,
                ..
            } => {
                if !matches!(style, QueryStyle::Form) || data.explode == Some(false) {
                    return Err(SpecError::at(
                        at,
                        "only the default query style (`form`, exploded) is supported",
                    ));
                }
                if *allow_reserved || allow_empty_value.is_some() {
                    return Err(SpecError::at(
                        at,
                        "`allowReserved` and `allowEmptyValue` are not supported",
                    ));
                }
                Location::Query
            }
            Parameter::Header { style, .. } => {
                if !matches!(style, openapiv3::HeaderStyle::Simple) {
                    return Err(SpecError::at(
                        at,
                        "only the default header style (`simple`) is supported",
                    ));
                }
                let is_token = !data.name.is_empty()
                    && data
                        .name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
                if !is_token {
                    return Err(SpecError::at(
                        &format!("{at}/name"),
                        format!(
                            "`{}` is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)",
                            data.name
                        ),
                    ));
                }
                if ["authorization", "accept", "content-type"]
                    .contains(&data.name.to_ascii_lowercase().as_str())
                {
                    return Err(SpecError::at(
                        &format!("{at}/name"),
                        format!(
                            "the `{}` header is managed by the client; remove the parameter",
                            data.name
                        ),
                    ));
                }
                Location::Header
            }
            Parameter::Cookie { .. } => {
                return Err(SpecError::at(
                    &format!("{at}/in"),
                    "cookie parameters are not supported; supported: path, query, header",
                ));
            }
        };
        if location == Location::Path && !data.required {
            return Err(SpecError::at(
                &format!("{at}/required"),
                "a path parameter must have `required: true`",
            ));
        }
        let name = match data.extensions.get("x-rust-name") {
            Some(serde_json::Value::String(n)) if names::is_valid_ident(n) => n.clone(),
            Some(_) => {
                return Err(SpecError::at(
                    &format!("{at}/x-rust-name"),
                    "`x-rust-name` must be a snake_case Rust identifier",
                ));
            }
            None => names::snake(&data.name)
                .filter(|n| names::is_valid_ident(n))
                .ok_or_else(|| {
                    SpecError::at(
                        &format!("{at}/name"),
                        format!(
                            "parameter `{}` has no usable Rust name; set `x-rust-name`",
                            data.name
                        ),
                    )
                })?,
        };
        if BUILDER_METHODS.contains(&name.as_str()) {
            return Err(SpecError::at(
                &format!("{at}/name"),
                format!("the Rust name `{name}` is taken by a builder method; set `x-rust-name`"),
            ));
        }
        let (schema, schema_at, json) = match &data.format {
            ParameterSchemaOrContent::Schema(schema) => (schema, format!("{at}/schema"), false),
            ParameterSchemaOrContent::Content(content) => {
                let content_at = format!("{at}/content");
                if location != Location::Query {
                    return Err(SpecError::at(
                        &content_at,
                        "`content` is supported on query parameters only; use `schema`",
                    ));
                }
                let mut entries = content.iter();
                let (Some((media, media_type)), None) = (entries.next(), entries.next()) else {
                    return Err(SpecError::at(
                        &content_at,
                        "a parameter's `content` must have exactly one media type",
                    ));
                };
                if !is_json(media) {
                    return Err(SpecError::at(
                        &content_at,
                        format!(
                            "`{media}` is not supported; a `content` parameter must be application/json (sent as JSON text)"
                        ),
                    ));
                }
                let schema_at = format!("{content_at}/{}/schema", escape(media));
                let schema = media_type.schema.as_ref().ok_or_else(|| {
                    SpecError::at(&schema_at, "a JSON parameter needs a `schema`")
                })?;
                (schema, schema_at, true)
            }
        };
        let ty = self.lower_ref_or(schema, &schema_at, "")?;
        let is_scalar = |ty: &TypeRef| match ty {
            TypeRef::String
            | TypeRef::Secret
            | TypeRef::Bool
            | TypeRef::I32
            | TypeRef::I64
            | TypeRef::F32
            | TypeRef::F64 => true,
            TypeRef::Named(n) => self.is_enum(n),
            _ => false,
        };
        let supported = match location {
            _ if json => true,
            Location::Path => matches!(ty, TypeRef::String | TypeRef::I32 | TypeRef::I64),
            Location::Query => match &ty {
                TypeRef::Array(item) => {
                    is_scalar(item) && !matches!(item.as_ref(), TypeRef::Secret)
                }
                other => is_scalar(other),
            },
            Location::Header => is_scalar(&ty),
            Location::Body => true,
        };
        if !supported {
            return Err(SpecError::at(
                &schema_at,
                "parameter type not supported; supported: string, integer, number, boolean or a `$ref` to a string enum; in the query also an array of those (sent as repeated pairs) or any schema under `content: application/json`; path parameters: string or integer",
            ));
        }
        Ok(Param {
            wire: data.name.clone(),
            name,
            location,
            required: data.required,
            ty,
            json,
            doc: data.description.as_deref().map(names::sanitize_doc),
        })
    }

    fn is_enum(&self, name: &str) -> bool {
        let Some(components) = self.components() else {
            return false;
        };
        components.schemas.iter().any(|(key, schema)| {
            component_type_name(key).ok().as_deref() == Some(name)
                && matches!(schema, ReferenceOr::Item(Schema { schema_kind: SchemaKind::Type(Type::String(s)), .. }) if !s.enumeration.is_empty())
        })
    }

    fn lower_responses(
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
    fn response_body(
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
}

const ANNOTATION_FORMATS: &[&str] = &[
    "uuid",
    "uri",
    "uri-reference",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
];

fn format_name(format: &VariantOrUnknownOrEmpty<StringFormat>) -> String {
    match format {
        VariantOrUnknownOrEmpty::Item(f) => serde_json::to_value(f)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        VariantOrUnknownOrEmpty::Unknown(f) => f.clone(),
        VariantOrUnknownOrEmpty::Empty => String::new(),
    }
}

fn is_json(media: &str) -> bool {
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

/// The Rust name of a component schema: its name in PascalCase.
fn component_type_name(key: &str) -> Result<String, String> {
    let name = names::pascal(key).unwrap_or_default();
    if names::is_valid_ident(&name) && !name.starts_with(|c: char| c.is_ascii_digit()) {
        Ok(name)
    } else {
        Err(format!(
            "schema name `{key}` does not make a Rust type name; use ASCII letters and digits, starting with a letter"
        ))
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
