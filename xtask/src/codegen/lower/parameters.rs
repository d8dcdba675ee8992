//! Parameters: path, query and header values of an operation.

use openapiv3::{
    Parameter, ParameterSchemaOrContent, QueryStyle, ReferenceOr, Schema, SchemaKind, Type,
};

use super::{Lowering, component_type_name, is_json};
use crate::codegen::error::SpecError;
use crate::codegen::ir::*;
use crate::codegen::names;
use crate::codegen::spec::escape;

impl Lowering<'_> {
    pub(super) fn lower_param(&mut self, param: &Parameter, at: &str) -> Result<Param, SpecError> {
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

    pub(super) fn is_enum(&self, name: &str) -> bool {
        let Some(components) = self.components() else {
            return false;
        };
        components.schemas.iter().any(|(key, schema)| {
            component_type_name(key).ok().as_deref() == Some(name)
                && matches!(schema, ReferenceOr::Item(Schema { schema_kind: SchemaKind::Type(Type::String(s)), .. }) if !s.enumeration.is_empty())
        })
    }
}
