//! Schemas: component schemas and inline ones become models and types.
//!
//! Objects (with `allOf` merged into them), string enums, unions (`oneOf` and
//! `anyOf`: of scalars, or of objects by a discriminator or by order),
//! arrays, maps and scalars. An inline schema that needs a Rust type of its
//! own is named from its context (`{Parent}{Property}`, `{Operation}Body`,
//! `{Name}Item`...), a collision resolved with a number and reported.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{
    AdditionalProperties, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};

use super::Lowering;
use crate::codegen::error::SpecError;
use crate::codegen::ir::*;
use crate::codegen::names;
use crate::codegen::spec::escape;

/// An object schema's parts: its own properties, or those of every part of
/// an `allOf`.
struct ObjectParts<'s> {
    properties: Vec<(String, &'s ReferenceOr<Box<Schema>>, String)>,
    required: BTreeSet<String>,
    additional: Option<(&'s AdditionalProperties, String)>,
}

impl<'a> Lowering<'a> {
    pub(super) fn lower_components(&mut self) {
        let Some(components) = self.components() else {
            return;
        };
        for (key, schema) in &components.schemas {
            let at = format!("#/components/schemas/{}", escape(key));
            let Some(name) = self.component_names.get(key).cloned() else {
                continue;
            };
            let ReferenceOr::Item(schema) = schema else {
                // A component that is only a `$ref`: references to it go to
                // its target.
                continue;
            };
            match self.lower_model(&name, schema, &at) {
                Ok(model) => self.models.push(model),
                Err(e) => self.refuse_model(&name, e),
            }
        }
    }

    /// Lowers a schema that becomes a named model.
    pub(super) fn lower_model(
        &mut self,
        name: &str,
        schema: &'a Schema,
        at: &str,
    ) -> Result<Model, SpecError> {
        let mut doc = schema
            .schema_data
            .description
            .as_deref()
            .or(schema.schema_data.title.as_deref())
            .map(names::sanitize_doc);
        if let Some(original) = self.renamed.get(name) {
            let note = format!("`{original}` in the spec; renamed so as not to hide a Rust name.");
            doc = Some(match doc {
                Some(doc) => format!("{doc}\n\n{note}"),
                None => note,
            });
        }
        let kind = match self.object_parts(schema, at)? {
            Some(parts) => self.lower_struct(name, parts, at)?,
            None => self.lower_non_object(name, schema, at)?,
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
            deprecated: schema.schema_data.deprecated,
            request_constants,
        })
    }

    /// The models that are not objects: enums, unions, aliases.
    fn lower_non_object(
        &mut self,
        name: &str,
        schema: &'a Schema,
        at: &str,
    ) -> Result<ModelKind, SpecError> {
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(string)) if !string.enumeration.is_empty() => {
                self.lower_enum(schema, &string.enumeration, at)
            }
            SchemaKind::Any(any) if !any.one_of.is_empty() => {
                self.lower_union(name, schema, &any.one_of, "oneOf", at)
            }
            SchemaKind::Any(any) if !any.any_of.is_empty() => {
                self.lower_union(name, schema, &any.any_of, "anyOf", at)
            }
            SchemaKind::Any(any) if !any.all_of.is_empty() => {
                self.lower_all_of_alias(name, &any.all_of, at)
            }
            SchemaKind::Any(any)
                if matches!(any.typ.as_deref(), None | Some("string"))
                    && !any.enumeration.is_empty() =>
            {
                let values: Vec<Option<String>> = any
                    .enumeration
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect();
                if values.iter().all(Option::is_some) {
                    self.lower_enum(schema, &values, at)
                } else {
                    Ok(ModelKind::Alias(TypeRef::Any))
                }
            }
            SchemaKind::OneOf { one_of } => self.lower_union(name, schema, one_of, "oneOf", at),
            SchemaKind::AnyOf { any_of } => self.lower_union(name, schema, any_of, "anyOf", at),
            SchemaKind::AllOf { all_of } => self.lower_all_of_alias(name, all_of, at),
            SchemaKind::Type(Type::Object(_)) | SchemaKind::Any(_) => {
                Ok(ModelKind::Alias(self.lower_type(schema, at, name)?))
            }
            _ => Ok(ModelKind::Alias(self.lower_type(schema, at, name)?)),
        }
    }

    /// An `allOf` that is not of objects: one real part (the others only
    /// describe it), which the model is another name for.
    fn lower_all_of_alias(
        &mut self,
        name: &str,
        all_of: &'a [ReferenceOr<Schema>],
        at: &str,
    ) -> Result<ModelKind, SpecError> {
        let parts = typed_parts(all_of);
        let kinds: Vec<Option<&str>> = parts.iter().map(|(_, p)| self.scalar_kind(p, 0)).collect();
        let same_scalar = kinds
            .first()
            .is_some_and(|first| first.is_some() && kinds.iter().all(|k| k == first));
        match parts.as_slice() {
            [(i, part)] => Ok(ModelKind::Alias(self.lower_ref_or(
                part,
                &format!("{at}/allOf/{i}"),
                &format!("{name}Part"),
            )?)),
            [] => Ok(ModelKind::Alias(TypeRef::Any)),
            // Scalars of one type that each add constraints (an enum and a
            // description, say): the named one, else the first.
            _ if same_scalar => {
                let (i, part) = parts
                    .iter()
                    .find(|(_, p)| matches!(p, ReferenceOr::Reference { .. }))
                    .unwrap_or(&parts[0]);
                Ok(ModelKind::Alias(self.lower_ref_or(
                    part,
                    &format!("{at}/allOf/{i}"),
                    &format!("{name}Part"),
                )?))
            }
            _ => Err(SpecError::at(
                &format!("{at}/allOf"),
                "`allOf` of schemas that are not all objects cannot be combined; supported: objects (their properties are merged), or one schema with descriptions",
            )),
        }
    }

    /// The properties of an object schema, merged across `allOf`; `None`
    /// when the schema is not an object.
    fn object_parts(
        &self,
        schema: &'a Schema,
        at: &str,
    ) -> Result<Option<ObjectParts<'a>>, SpecError> {
        let mut parts = ObjectParts {
            properties: Vec::new(),
            required: BTreeSet::new(),
            additional: None,
        };
        let mut seen = BTreeSet::new();
        if self.collect_object(schema, at, &mut parts, &mut seen, 0)? {
            Ok(Some(parts))
        } else {
            Ok(None)
        }
    }

    /// Adds the properties of `schema` to `parts`; `false` when it is not an
    /// object (nor an `allOf` of objects).
    fn collect_object(
        &self,
        schema: &'a Schema,
        at: &str,
        parts: &mut ObjectParts<'a>,
        seen: &mut BTreeSet<String>,
        depth: usize,
    ) -> Result<bool, SpecError> {
        if depth > 32 {
            return Err(SpecError::at(at, "`allOf` nests more than 32 levels deep"));
        }
        let all_of = match &schema.schema_kind {
            SchemaKind::AllOf { all_of } => Some(all_of),
            SchemaKind::Any(any) if !any.all_of.is_empty() => Some(&any.all_of),
            _ => None,
        };
        let (properties, required, additional) = match &schema.schema_kind {
            _ if all_of.is_some() => {
                let all_of = all_of.map(Vec::as_slice).unwrap_or_default();
                return self.collect_all_of(all_of, at, parts, seen, depth);
            }
            SchemaKind::Type(Type::Object(object)) => (
                &object.properties,
                &object.required,
                object.additional_properties.as_ref(),
            ),
            SchemaKind::Any(any)
                if (any.typ.as_deref().is_none_or(|t| t == "object"))
                    && (!any.properties.is_empty() || any.additional_properties.is_some())
                    && any.all_of.is_empty()
                    && any.one_of.is_empty()
                    && any.any_of.is_empty() =>
            {
                (
                    &any.properties,
                    &any.required,
                    any.additional_properties.as_ref(),
                )
            }
            _ => return Ok(false),
        };
        for (wire, property) in properties {
            if !parts.properties.iter().any(|(w, _, _)| w == wire) {
                parts.properties.push((
                    wire.clone(),
                    property,
                    format!("{at}/properties/{}", escape(wire)),
                ));
            }
        }
        for name in required {
            parts.required.insert(name.clone());
        }
        if let Some(additional) = additional
            && parts.additional.is_none()
        {
            parts.additional = Some((additional, format!("{at}/additionalProperties")));
        }
        Ok(true)
    }

    /// The parts of an `allOf`, merged; `false` when one is not an object.
    fn collect_all_of(
        &self,
        all_of: &'a [ReferenceOr<Schema>],
        at: &str,
        parts: &mut ObjectParts<'a>,
        seen: &mut BTreeSet<String>,
        depth: usize,
    ) -> Result<bool, SpecError> {
        {
            {
                let mut any_object = false;
                for (i, part) in all_of.iter().enumerate() {
                    let part_at = format!("{at}/allOf/{i}");
                    let (part_schema, part_at) = match part {
                        ReferenceOr::Reference { reference } => {
                            let (key, target) = self.document.schema_ref(reference, &part_at)?;
                            if !seen.insert(key.to_owned()) {
                                continue;
                            }
                            (target, format!("#/components/schemas/{}", escape(key)))
                        }
                        ReferenceOr::Item(item) => (item, part_at),
                    };
                    if is_annotation_only_schema(part_schema) {
                        if let SchemaKind::Any(any) = &part_schema.schema_kind {
                            parts.required.extend(any.required.iter().cloned());
                        }
                        continue;
                    }
                    if let Some(required) = required_only(part_schema) {
                        // `allOf: [$ref, {required: [...]}]`: makes
                        // properties of the other parts required.
                        parts.required.extend(required.iter().cloned());
                        continue;
                    }
                    if !self.collect_object(part_schema, &part_at, parts, seen, depth + 1)? {
                        return Ok(false);
                    }
                    any_object = true;
                }
                Ok(any_object)
            }
        }
    }

    fn lower_struct(
        &mut self,
        name: &str,
        parts: ObjectParts<'a>,
        at: &str,
    ) -> Result<ModelKind, SpecError> {
        for required in &parts.required {
            if !parts.properties.iter().any(|(w, _, _)| w == required) {
                self.warn(SpecError::at(
                    &format!("{at}/required"),
                    format!("`required` names `{required}`, which is not a property; ignored"),
                ));
            }
        }
        let mut fields = Vec::new();
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (wire, property, prop_at) in parts.properties {
            let field_name = names::snake(&wire)
                .filter(|n| names::is_valid_ident(n))
                .or_else(|| names::snake(&format!("field {wire}")).filter(|n| names::is_valid_ident(n)))
                .ok_or_else(|| {
                    SpecError::at(&prop_at, format!("property `{wire}` has no usable Rust field name; property names need ASCII letters or digits"))
                })?;
            let field_name = if seen.contains_key(&field_name) {
                let mut n = 2;
                while seen.contains_key(&format!("{field_name}_{n}")) {
                    n += 1;
                }
                let renamed = format!("{field_name}_{n}");
                self.warn(SpecError::at(
                    &prop_at,
                    format!(
                        "properties `{}` and `{wire}` both become the Rust field `{field_name}`; this one is `{renamed}`",
                        seen[&field_name]
                    ),
                ));
                renamed
            } else {
                field_name
            };
            seen.insert(field_name.clone(), wire.clone());
            let hint = format!("{name}{}", names::pascal(&wire).unwrap_or_default());
            let (ty, nullable, doc, deprecated) = match property {
                ReferenceOr::Reference { reference } => {
                    let doc = self
                        .document
                        .sibling_description(&prop_at)
                        .map(names::sanitize_doc);
                    (self.named_ref(reference, &prop_at)?, false, doc, false)
                }
                ReferenceOr::Item(schema) => {
                    let ty = self.lower_type(schema, &prop_at, &hint)?;
                    let data = &schema.schema_data;
                    let mut doc = data.description.as_deref().map(names::sanitize_doc);
                    // readOnly/writeOnly change nothing in the forgiving
                    // models (every field is optional); they are told.
                    let note = match (data.read_only, data.write_only) {
                        (true, _) => {
                            Some("Read-only: set by the service; leave it `None` in requests.")
                        }
                        (_, true) => {
                            Some("Write-only: sent in requests; the service may not return it.")
                        }
                        _ => None,
                    };
                    if let Some(note) = note {
                        doc = Some(match doc {
                            Some(doc) => format!("{doc}\n\n{note}"),
                            None => note.to_owned(),
                        });
                    }
                    if let Some(note) = format_note(schema) {
                        doc = Some(match doc {
                            Some(doc) => format!("{doc}\n\n{note}"),
                            None => note,
                        });
                    }
                    (ty, data.nullable, doc, data.deprecated)
                }
            };
            fields.push(Field {
                required: parts.required.contains(&wire),
                name: field_name,
                wire,
                doc,
                ty,
                nullable,
                deprecated,
            });
        }
        let additional = match parts.additional {
            Some((AdditionalProperties::Schema(value), value_at)) if !fields.is_empty() => {
                Some(self.lower_ref_or(value, &value_at, &format!("{name}Value"))?)
            }
            Some((AdditionalProperties::Schema(value), value_at)) => {
                let value = self.lower_ref_or(value, &value_at, &format!("{name}Value"))?;
                return Ok(ModelKind::Alias(TypeRef::Map(Box::new(value))));
            }
            Some((AdditionalProperties::Any(true), _)) if fields.is_empty() => {
                return Ok(ModelKind::Alias(TypeRef::Object));
            }
            _ => None,
        };
        Ok(ModelKind::Struct { fields, additional })
    }

    fn lower_enum(
        &mut self,
        schema: &Schema,
        values: &[Option<String>],
        at: &str,
    ) -> Result<ModelKind, SpecError> {
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
        for (i, value) in values.iter().enumerate() {
            let value_at = format!("{at}/enum/{i}");
            let Some(value) = value else {
                // `null` among the values: the property is nullable.
                if !schema.schema_data.nullable {
                    self.warn(SpecError::at(
                        &value_at,
                        "`null` is listed among the values of a schema that is not `nullable: true`; it is taken as nullable",
                    ));
                }
                continue;
            };
            if variants.iter().any(|v| v.wire == *value) {
                self.warn(SpecError::at(
                    &value_at,
                    format!("enum value {value:?} is listed twice; kept once"),
                ));
                continue;
            }
            let mut variant = match names::pascal(value) {
                Some(name) => name,
                None if value.is_empty() => "Empty".to_owned(),
                None => format!("Value{i}"),
            };
            if variant.starts_with(|c: char| c.is_ascii_digit()) {
                variant.insert(0, 'V');
            }
            if !names::is_valid_ident(&variant) || variant == "Self" {
                variant = format!("Value{i}");
            }
            if variant == format!("Value{i}") {
                self.warn(SpecError::at(
                    &value_at,
                    format!("enum value {value:?} makes no Rust name; its variant is `{variant}`"),
                ));
            }
            if variants.iter().any(|v| v.name == variant) {
                let mut n = 2;
                while variants.iter().any(|v| v.name == format!("{variant}{n}")) {
                    n += 1;
                }
                let renamed = format!("{variant}{n}");
                self.warn(SpecError::at(
                    &value_at,
                    format!(
                        "enum values {:?} and {value:?} both become the Rust variant `{variant}`; this one is `{renamed}`",
                        variants.iter().find(|v| v.name == variant).map(|v| v.wire.as_str()).unwrap_or_default()
                    ),
                ));
                variant = renamed;
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
        Ok(ModelKind::Enum { variants, unknown })
    }

    /// `oneOf`/`anyOf`: of scalars (decoded as whichever matches first), of
    /// strings (a string), or of objects (a union, by discriminator or by
    /// order).
    fn lower_union(
        &mut self,
        name: &str,
        schema: &'a Schema,
        parts: &'a [ReferenceOr<Schema>],
        keyword: &str,
        at: &str,
    ) -> Result<ModelKind, SpecError> {
        let parts = typed_parts(parts);
        if parts.is_empty() {
            return Ok(ModelKind::Alias(TypeRef::Any));
        }
        if let [(i, part)] = parts.as_slice() {
            return Ok(ModelKind::Alias(self.lower_ref_or(
                part,
                &format!("{at}/{keyword}/{i}"),
                &format!("{name}Variant"),
            )?));
        }
        let scalar = |part: &ReferenceOr<Schema>| -> Option<&'static str> {
            let ReferenceOr::Item(schema) = part else {
                return None;
            };
            match &schema.schema_kind {
                SchemaKind::Type(Type::Integer(_)) => Some("Integer"),
                SchemaKind::Type(Type::Number(_)) => Some("Number"),
                SchemaKind::Type(Type::Boolean(_)) => Some("Boolean"),
                SchemaKind::Type(Type::String(_)) => Some("String"),
                _ => None,
            }
        };
        let kinds: Vec<Option<&str>> = parts.iter().map(|(_, p)| self.scalar_kind(p, 0)).collect();
        if kinds.iter().all(|k| *k == Some("String")) {
            // A string, or one of some values: a string.
            return Ok(ModelKind::Alias(TypeRef::String));
        }
        let distinct: BTreeSet<&str> = kinds.iter().flatten().copied().collect();
        if kinds.iter().all(Option::is_some) && distinct.len() == kinds.len() {
            let mut variants = Vec::new();
            for ((i, part), kind) in parts.iter().zip(&kinds) {
                let kind = kind.unwrap_or_default();
                let ty = match kind {
                    "String" => TypeRef::String,
                    _ => self.lower_ref_or(part, &format!("{at}/{keyword}/{i}"), "")?,
                };
                variants.push((kind.to_owned(), ty));
            }
            return Ok(ModelKind::OneOf { variants });
        }
        let discriminator = self.discriminator(schema, at)?;
        let mut variants: Vec<UnionVariant> = Vec::new();
        for (i, part) in &parts {
            let part_at = format!("{at}/{keyword}/{i}");
            let (variant, ty, implicit_tag) = match part {
                ReferenceOr::Reference { reference } => {
                    let (key, _) = self.document.schema_ref(reference, &part_at)?;
                    let ty = self.named_ref(reference, &part_at)?;
                    let variant = match &ty {
                        TypeRef::Named(n) => n.clone(),
                        _ => format!("Variant{i}"),
                    };
                    (variant, ty, Some(key.to_owned()))
                }
                ReferenceOr::Item(item) => {
                    let hint = format!("{name}Variant{i}");
                    let ty = self.lower_type(item, &part_at, &hint)?;
                    let variant = scalar(part)
                        .map(str::to_owned)
                        .unwrap_or_else(|| format!("Variant{i}"));
                    (variant, ty, None)
                }
            };
            let mut variant_name = variant;
            if variants.iter().any(|v| v.name == variant_name)
                || variant_name == "Unknown"
                || variant_name == "Other"
            {
                variant_name = format!("{variant_name}{i}");
            }
            let mut tags = Vec::new();
            if let Some(discriminator) = &discriminator {
                for (value, target) in &discriminator.mapping {
                    if target.as_deref() == implicit_tag.as_deref() {
                        tags.push(value.clone());
                    }
                }
                if tags.is_empty()
                    && let Some(tag) = &implicit_tag
                {
                    tags.push(tag.clone());
                }
                if tags.is_empty() {
                    return Err(SpecError::at(
                        &part_at,
                        "with a discriminator, every variant must be a `$ref` (its name is its tag) or be named in `mapping`",
                    ));
                }
            }
            variants.push(UnionVariant {
                name: variant_name,
                ty,
                tags,
            });
        }
        Ok(ModelKind::Union {
            variants,
            discriminator: discriminator.map(|d| Discriminator { path: d.path }),
        })
    }

    /// The discriminator of a union: OpenAPI's (`propertyName`, `mapping`),
    /// or `x-discriminator` for a tag deeper in the object
    /// (`{path: attributes.objectType, mapping: {...}}`), as Partner Center
    /// marks its types.
    fn discriminator(
        &self,
        schema: &Schema,
        at: &str,
    ) -> Result<Option<DiscriminatorSpec>, SpecError> {
        if let Some(extension) = schema.schema_data.extensions.get("x-discriminator") {
            let ext_at = format!("{at}/x-discriminator");
            let path = extension
                .get("path")
                .and_then(|p| p.as_str())
                .filter(|p| !p.is_empty())
                .ok_or_else(|| SpecError::at(&ext_at, "`x-discriminator` needs `path`, the dotted path of the tag property (e.g. `attributes.objectType`)"))?;
            let mut mapping = Vec::new();
            if let Some(map) = extension.get("mapping") {
                let map = map.as_object().ok_or_else(|| {
                    SpecError::at(
                        &ext_at,
                        "`x-discriminator.mapping` must map tag values to `$ref`s",
                    )
                })?;
                for (value, target) in map {
                    let target = target.as_str().ok_or_else(|| {
                        SpecError::at(
                            &ext_at,
                            "`x-discriminator.mapping` must map tag values to `$ref`s",
                        )
                    })?;
                    mapping.push((
                        value.clone(),
                        target
                            .strip_prefix("#/components/schemas/")
                            .map(str::to_owned),
                    ));
                }
            }
            return Ok(Some(DiscriminatorSpec {
                path: path.split('.').map(str::to_owned).collect(),
                mapping,
            }));
        }
        Ok(schema
            .schema_data
            .discriminator
            .as_ref()
            .map(|d| DiscriminatorSpec {
                path: vec![d.property_name.clone()],
                mapping: d
                    .mapping
                    .iter()
                    .map(|(value, target)| {
                        let key = target
                            .strip_prefix("#/components/schemas/")
                            .map(str::to_owned)
                            .or_else(|| Some(target.clone()));
                        (value.clone(), key)
                    })
                    .collect(),
            }))
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

    pub(super) fn named_ref(&mut self, reference: &str, at: &str) -> Result<TypeRef, SpecError> {
        let (key, _) = self.document.schema_ref(reference, at)?;
        let name = self
            .component_names
            .get(key)
            .cloned()
            .ok_or_else(|| SpecError::at(at, format!("schema `{key}` has no Rust name")))?;
        Ok(TypeRef::Named(name))
    }

    pub(super) fn lower_ref_or(
        &mut self,
        item: &'a ReferenceOr<Schema>,
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
        item: &'a ReferenceOr<Box<Schema>>,
        at: &str,
        hint: &str,
    ) -> Result<TypeRef, SpecError> {
        match item {
            ReferenceOr::Reference { reference } => self.named_ref(reference, at),
            ReferenceOr::Item(schema) => self.lower_type(schema, at, hint),
        }
    }

    /// Lowers an inline schema to a type, adding a model named after `hint`
    /// for inline objects, enums and unions.
    pub(super) fn lower_type(
        &mut self,
        schema: &'a Schema,
        at: &str,
        hint: &str,
    ) -> Result<TypeRef, SpecError> {
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(string)) => {
                if !string.enumeration.is_empty() {
                    return self.inline_model(schema, at, hint);
                }
                if let VariantOrUnknownOrEmpty::Unknown(format) = &string.format
                    && !KNOWN_STRING_FORMATS.contains(&format.as_str())
                {
                    self.warn(SpecError::at(
                        &format!("{at}/format"),
                        format!("string format `{format}` is not one the generator knows; the value is a `String`"),
                    ));
                }
                Ok(string_type(&string.format))
            }
            SchemaKind::Type(Type::Integer(integer)) => {
                let format = match &integer.format {
                    VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32) => Some("int32"),
                    VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int64) => Some("int64"),
                    VariantOrUnknownOrEmpty::Unknown(format) => Some(format.as_str()),
                    VariantOrUnknownOrEmpty::Empty => None,
                };
                Ok(self.integer_type(format, at))
            }
            SchemaKind::Type(Type::Number(number)) => Ok(match &number.format {
                VariantOrUnknownOrEmpty::Item(openapiv3::NumberFormat::Float) => TypeRef::F32,
                _ => TypeRef::F64,
            }),
            SchemaKind::Type(Type::Boolean(_)) => Ok(TypeRef::Bool),
            SchemaKind::Type(Type::Array(array)) => {
                let item = match &array.items {
                    Some(items) => {
                        self.lower_boxed(items, &format!("{at}/items"), &format!("{hint}Item"))?
                    }
                    None => TypeRef::Any,
                };
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
                    Some(AdditionalProperties::Any(_)) | None => Ok(TypeRef::Object),
                }
            }
            SchemaKind::AllOf { all_of } => match single_ref(all_of) {
                Some((i, reference)) => self.named_ref(reference, &format!("{at}/allOf/{i}")),
                None => self.inline_model(schema, at, hint),
            },
            SchemaKind::OneOf { .. } | SchemaKind::AnyOf { .. } => {
                self.inline_model(schema, at, hint)
            }
            SchemaKind::Not { .. } => {
                self.warn(SpecError::at(
                    &format!("{at}/not"),
                    "`not` cannot be expressed in a Rust type; the value is any JSON",
                ));
                Ok(TypeRef::Any)
            }
            SchemaKind::Any(any) => self.lower_any(schema, any, at, hint),
        }
    }

    /// A schema `openapiv3` could not type: keywords of several types, or
    /// none. The `type` decides when there is one; the keywords otherwise.
    fn lower_any(
        &mut self,
        schema: &'a Schema,
        any: &'a openapiv3::AnySchema,
        at: &str,
        hint: &str,
    ) -> Result<TypeRef, SpecError> {
        const TYPES: &[&str] = &["string", "integer", "number", "boolean", "array", "object"];
        if let Some(typ) = &any.typ
            && !TYPES.contains(&typ.as_str())
        {
            let suggestion = names::closest(typ, TYPES)
                .map(|t| format!("; did you mean `{t}`?"))
                .unwrap_or_default();
            return Err(SpecError::at(
                &format!("{at}/type"),
                format!(
                    "`type: {typ}` is not a type of OpenAPI 3.0 (string, integer, number, boolean, array, object){suggestion}"
                ),
            ));
        }
        let object_keywords = !any.properties.is_empty() || any.additional_properties.is_some();
        if object_keywords && any.typ.as_deref().is_some_and(|t| t != "object") {
            // `type` decides: the object keywords of a `type: string` are
            // ignored rather than read as a second, object type.
            self.warn(SpecError::at(
                at,
                format!(
                    "`properties`/`additionalProperties` beside `type: {}` are ignored; the value is a {}",
                    any.typ.as_deref().unwrap_or_default(),
                    any.typ.as_deref().unwrap_or_default()
                ),
            ));
        } else if object_keywords || any.typ.as_deref() == Some("object") {
            if any.properties.is_empty() {
                return Ok(match &any.additional_properties {
                    Some(AdditionalProperties::Schema(value)) => {
                        let value = self.lower_ref_or(
                            value,
                            &format!("{at}/additionalProperties"),
                            &format!("{hint}Value"),
                        )?;
                        TypeRef::Map(Box::new(value))
                    }
                    _ => TypeRef::Object,
                });
            }
            return self.inline_model(schema, at, hint);
        }
        if any.one_of.is_empty()
            && any.any_of.is_empty()
            && let Some((i, reference)) = single_ref(&any.all_of)
        {
            return self.named_ref(reference, &format!("{at}/allOf/{i}"));
        }
        if !any.one_of.is_empty() || !any.any_of.is_empty() || !any.all_of.is_empty() {
            return self.inline_model(schema, at, hint);
        }
        if any.items.is_some() || any.typ.as_deref() == Some("array") {
            let item = match &any.items {
                Some(items) => {
                    self.lower_boxed(items, &format!("{at}/items"), &format!("{hint}Item"))?
                }
                None => TypeRef::Any,
            };
            return Ok(TypeRef::Array(Box::new(item)));
        }
        Ok(match any.typ.as_deref() {
            Some("string") => {
                if !any.enumeration.is_empty() {
                    return self.inline_model(schema, at, hint);
                }
                match &any.format {
                    Some(format) => string_type(&VariantOrUnknownOrEmpty::Unknown(format.clone())),
                    None => TypeRef::String,
                }
            }
            // `openapiv3` reads an integer schema whose bounds are not
            // integers (`maximum: 18446744073709552000`, a float) as this kind.
            Some("integer") => self.integer_type(any.format.as_deref(), at),
            Some("number") if any.format.as_deref() == Some("float") => TypeRef::F32,
            Some("number") => TypeRef::F64,
            Some("boolean") => TypeRef::Bool,
            _ if !any.enumeration.is_empty() && any.enumeration.iter().all(|v| v.is_string()) => {
                return self.inline_model(schema, at, hint);
            }
            _ => TypeRef::Any,
        })
    }

    /// The Rust integer of a format (`int8` to `int64`, `uint8` to `uint64`;
    /// none is `i64`); an unknown format is an `i64`, warned.
    fn integer_type(&mut self, format: Option<&str>, at: &str) -> TypeRef {
        match format {
            None | Some("int64") => TypeRef::I64,
            Some("int32") => TypeRef::I32,
            Some("int8") => TypeRef::I8,
            Some("int16") => TypeRef::I16,
            Some("uint8") => TypeRef::U8,
            Some("uint16") => TypeRef::U16,
            Some("uint32") => TypeRef::U32,
            Some("uint64" | "uint") => TypeRef::U64,
            Some(format) => {
                self.warn(SpecError::at(
                    &format!("{at}/format"),
                    format!("integer format `{format}` is not one the generator knows (int8 to int64, uint8 to uint64); the value is an `i64`"),
                ));
                TypeRef::I64
            }
        }
    }

    /// A model for an inline schema, named `hint` or, when that is taken,
    /// `hint2`, `hint3`... (reported).
    pub(super) fn inline_model(
        &mut self,
        schema: &'a Schema,
        at: &str,
        hint: &str,
    ) -> Result<TypeRef, SpecError> {
        let base = if hint.is_empty() || !names::is_valid_ident(hint) {
            names::pascal(&at.replace("~1", " ")).unwrap_or_else(|| "Inline".to_owned())
        } else {
            hint.to_owned()
        };
        let base = names::avoid_reserved(&base);
        let name = self.unique_model_name(&base, at, |name, previous| {
            format!("this inline schema is named `{name}`: `{base}` is taken by the schema at {previous}")
        });
        if self.inline_depth > 64 {
            return Err(SpecError::at(
                at,
                "inline schemas nest more than 64 levels deep",
            ));
        }
        self.model_names.insert(name.clone(), at.to_owned());
        self.inline_depth += 1;
        let model = self.lower_model(&name, schema, at);
        self.inline_depth -= 1;
        self.models.push(model?);
        Ok(TypeRef::Named(name))
    }
}

/// A discriminator as the spec writes it: the path of the tag, and the tag
/// values mapped to component keys.
struct DiscriminatorSpec {
    path: Vec<String>,
    mapping: Vec<(String, Option<String>)>,
}

/// A schema part that only describes (a description, `nullable`, an
/// example), as specs put beside a `$ref` in `allOf`.
impl Lowering<'_> {
    /// The scalar type a schema stands for (`String`, `Integer`, `Number`,
    /// `Boolean`), through `$ref`s, `allOf`s of one scalar type and unions of
    /// strings; `None` for anything else.
    pub(super) fn scalar_kind(
        &self,
        part: &ReferenceOr<Schema>,
        depth: usize,
    ) -> Option<&'static str> {
        if depth > 16 {
            return None;
        }
        let schema = match part {
            ReferenceOr::Reference { reference } => self.document.schema_ref(reference, "").ok()?.1,
            ReferenceOr::Item(schema) => schema,
        };
        let all_same = |parts: &[ReferenceOr<Schema>]| -> Option<&'static str> {
            let mut kinds = parts
                .iter()
                .filter(|p| !is_annotation_only(p))
                .map(|p| self.scalar_kind(p, depth + 1));
            let first = kinds.next()??;
            kinds.all(|k| k == Some(first)).then_some(first)
        };
        match &schema.schema_kind {
            SchemaKind::Type(Type::Integer(_)) => Some("Integer"),
            SchemaKind::Type(Type::Number(_)) => Some("Number"),
            SchemaKind::Type(Type::Boolean(_)) => Some("Boolean"),
            SchemaKind::Type(Type::String(_)) => Some("String"),
            SchemaKind::AllOf { all_of } => all_same(all_of),
            SchemaKind::OneOf { one_of } => all_same(one_of).filter(|k| *k == "String"),
            SchemaKind::AnyOf { any_of } => all_same(any_of).filter(|k| *k == "String"),
            _ => None,
        }
    }
}

/// The one `$ref` of an `allOf` whose other parts only describe it (how
/// OpenAPI 3.0 specs give a `$ref` a description): the referenced schema
/// itself, not a copy of it. With its index in the `allOf`.
fn single_ref(all_of: &[ReferenceOr<Schema>]) -> Option<(usize, &str)> {
    // A part that makes properties required changes the type: not single.
    let mut parts = all_of.iter().enumerate().filter(|(_, part)| {
        !is_annotation_only(part)
            || matches!(part, ReferenceOr::Item(Schema { schema_kind: SchemaKind::Any(any), .. }) if !any.required.is_empty())
    });
    match (parts.next(), parts.next()) {
        (Some((i, ReferenceOr::Reference { reference })), None) => Some((i, reference.as_str())),
        _ => None,
    }
}

/// The parts of an `allOf`, `oneOf` or `anyOf` that say what type the value
/// is (not only describe or constrain it), with their indices.
fn typed_parts(parts: &[ReferenceOr<Schema>]) -> Vec<(usize, &ReferenceOr<Schema>)> {
    parts
        .iter()
        .enumerate()
        .filter(|(_, part)| !is_annotation_only(part))
        .collect()
}

fn is_annotation_only(part: &ReferenceOr<Schema>) -> bool {
    matches!(part, ReferenceOr::Item(schema) if is_annotation_only_schema(schema))
}

/// The `required` of an `allOf` part that says nothing else about the
/// object (no properties, no type but `object`, no composition).
fn required_only(schema: &Schema) -> Option<&Vec<String>> {
    match &schema.schema_kind {
        SchemaKind::Any(any)
            if !any.required.is_empty()
                && any.typ.as_deref().is_none_or(|t| t == "object")
                && *any
                    == (openapiv3::AnySchema {
                        typ: any.typ.clone(),
                        required: any.required.clone(),
                        ..Default::default()
                    }) =>
        {
            Some(&any.required)
        }
        SchemaKind::Type(Type::Object(object))
            if !object.required.is_empty()
                && object.properties.is_empty()
                && object.additional_properties.is_none() =>
        {
            Some(&object.required)
        }
        _ => None,
    }
}

/// Whether a schema only describes or constrains a value without saying
/// what type it is: descriptions, `nullable`, examples, validation keywords
/// (`maxLength`, `minimum`, `pattern`, `required`, `format`), or an `anyOf`
/// of such (DigitalOcean's `anyOf: [{required: [a]}, {required: [b]}]`).
fn is_annotation_only_schema(schema: &Schema) -> bool {
    match &schema.schema_kind {
        SchemaKind::Any(any) => {
            any.typ.is_none()
                && any.properties.is_empty()
                && any.additional_properties.is_none()
                && any.items.is_none()
                && any.enumeration.is_empty()
                && any.one_of.is_empty()
                && any.all_of.is_empty()
                && any.not.is_none()
                && any.any_of.iter().all(is_annotation_only)
        }
        SchemaKind::AnyOf { any_of } => any_of.iter().all(is_annotation_only),
        _ => false,
    }
}

/// The Rust type of a string of `format`: `Timestamp` for `date-time`,
/// `Secret` for `password`, a `String` for any other.
fn string_type(format: &VariantOrUnknownOrEmpty<StringFormat>) -> TypeRef {
    match format {
        VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => TypeRef::Timestamp,
        VariantOrUnknownOrEmpty::Item(StringFormat::Password) => TypeRef::Secret,
        VariantOrUnknownOrEmpty::Unknown(f) if f == "date-time" => TypeRef::Timestamp,
        VariantOrUnknownOrEmpty::Unknown(f) if f == "password" => TypeRef::Secret,
        _ => TypeRef::String,
    }
}

/// A note for a string format the generator keeps as a plain `String`
/// although it is not one it knows.
fn format_note(schema: &Schema) -> Option<String> {
    let format = match &schema.schema_kind {
        SchemaKind::Type(Type::String(string)) => match &string.format {
            VariantOrUnknownOrEmpty::Unknown(f) => f.clone(),
            _ => return None,
        },
        _ => return None,
    };
    if KNOWN_STRING_FORMATS.contains(&format.as_str()) {
        return None;
    }
    Some(format!(
        "Format `{format}` in the spec, kept as a `String`."
    ))
}

/// String formats kept as `String` without a note: they annotate text.
const KNOWN_STRING_FORMATS: &[&str] = &[
    "date",
    "uuid",
    "uri",
    "uri-reference",
    "url",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "byte",
    "binary",
    "date-time",
    "password",
    "time",
    "duration",
    "ip",
    "iri",
    "idn-email",
    "idn-hostname",
    "regex",
    "json-pointer",
];

/// The Rust name of a component schema: its name in PascalCase, renamed
/// when it would hide a Rust name (`Option` → `OptionModel`).
pub(super) fn component_type_name(key: &str) -> Result<String, String> {
    let mut name = names::pascal(key).unwrap_or_default();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'N');
    }
    if names::is_valid_ident(&name) {
        Ok(names::avoid_reserved(&name))
    } else {
        Err(format!(
            "schema name `{key}` does not make a Rust type name; use ASCII letters and digits"
        ))
    }
}
