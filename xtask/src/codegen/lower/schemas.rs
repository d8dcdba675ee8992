//! Schemas: component schemas and inline ones become models and types.

use std::collections::BTreeMap;

use openapiv3::{
    AdditionalProperties, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};

use super::Lowering;
use crate::codegen::error::SpecError;
use crate::codegen::ir::*;
use crate::codegen::names;
use crate::codegen::spec::escape;

impl Lowering<'_> {
    pub(super) fn lower_components(&mut self) {
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
    pub(super) fn lower_model(
        &mut self,
        name: &str,
        schema: &Schema,
        at: &str,
    ) -> Result<Model, SpecError> {
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
                            let doc = self
                                .document
                                .sibling_description(&prop_at)
                                .map(names::sanitize_doc);
                            (self.named_ref(reference, &prop_at)?, false, doc)
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
        let request_constants = self.request_constants(schema, at)?;
        if !request_constants.is_empty() && !matches!(kind, ModelKind::Struct { .. }) {
            return Err(SpecError::at(
                &format!("{at}/x-request-constants"),
                "`x-request-constants` is supported on objects with properties only",
            ));
        }
        Ok(Model {
            name: name.to_owned(),
            doc,
            kind,
            request_constants,
        })
    }

    /// `x-request-constants`: a mapping of dotted property paths to the
    /// string every request body of the model carries there. The paths are
    /// checked against the models once all are lowered.
    fn request_constants(
        &self,
        schema: &Schema,
        at: &str,
    ) -> Result<Vec<RequestConstant>, SpecError> {
        let Some(value) = schema.schema_data.extensions.get("x-request-constants") else {
            return Ok(Vec::new());
        };
        let at = format!("{at}/x-request-constants");
        let map = value.as_object().ok_or_else(|| {
            SpecError::at(
                &at,
                "`x-request-constants` must map property paths (`attributes.objectType`) to strings",
            )
        })?;
        let mut constants = Vec::new();
        for (path, value) in map {
            let value = value.as_str().ok_or_else(|| {
                SpecError::at(
                    &format!("{at}/{}", escape(path)),
                    format!("the constant of `{path}` must be a string"),
                )
            })?;
            let path: Vec<String> = path.split('.').map(str::to_owned).collect();
            if path.iter().any(String::is_empty) {
                return Err(SpecError::at(
                    &at,
                    format!("`{}` is not a path of property names", path.join(".")),
                ));
            }
            constants.push(RequestConstant {
                path,
                value: value.to_owned(),
            });
        }
        Ok(constants)
    }

    pub(super) fn lower_one_of(
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

    pub(super) fn named_ref(&mut self, reference: &str, at: &str) -> Result<TypeRef, SpecError> {
        let (key, _) = self.document.schema_ref(reference, at)?;
        let name = component_type_name(key).map_err(|m| SpecError::at(at, m))?;
        Ok(TypeRef::Named(name))
    }

    pub(super) fn lower_ref_or(
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

    pub(super) fn lower_boxed(
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
    pub(super) fn lower_type(
        &mut self,
        schema: &Schema,
        at: &str,
        hint: &str,
    ) -> Result<TypeRef, SpecError> {
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

    pub(super) fn inline_model(
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

/// The Rust name of a component schema: its name in PascalCase.
pub(super) fn component_type_name(key: &str) -> Result<String, String> {
    let name = names::pascal(key).unwrap_or_default();
    if names::is_valid_ident(&name) && !name.starts_with(|c: char| c.is_ascii_digit()) {
        Ok(name)
    } else {
        Err(format!(
            "schema name `{key}` does not make a Rust type name; use ASCII letters and digits, starting with a letter"
        ))
    }
}
