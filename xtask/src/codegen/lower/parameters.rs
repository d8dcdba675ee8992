//! Parameters: path, query and header values of an operation.

use openapiv3::{Parameter, ParameterSchemaOrContent, QueryStyle};

use super::{Lowering, is_json};
use crate::codegen::error::SpecError;
use crate::codegen::ir::*;
use crate::codegen::names;
use crate::codegen::spec::escape;

/// Whether a header is one the client sets itself, from the operation's
/// media types: a parameter of that name is an error (strict) or left out
/// (lenient).
pub(super) fn is_managed_header(name: &str) -> bool {
    ["accept", "content-type"].contains(&name.to_ascii_lowercase().as_str())
}

impl<'a> Lowering<'a> {
    pub(super) fn lower_param(
        &mut self,
        param: &'a Parameter,
        at: &str,
        builder: &str,
    ) -> Result<Param, SpecError> {
        let data = param.parameter_data_ref();
        let mut comma = false;
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
                if !matches!(style, QueryStyle::Form) {
                    return Err(SpecError::at(
                        &format!("{at}/style"),
                        "only the query style `form` is supported (exploded: `a=1&a=2`, or not: `a=1,2`)",
                    ));
                }
                comma = data.explode == Some(false);
                if *allow_reserved || allow_empty_value.is_some() {
                    self.warn(SpecError::at(
                        at,
                        "`allowReserved` and `allowEmptyValue` are ignored: values are always percent-encoded, and a parameter not set is not sent",
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
                if is_managed_header(&data.name) {
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
        let required = data.required || location == Location::Path;
        if location == Location::Path && !data.required {
            self.warn(SpecError::at(
                &format!("{at}/required"),
                "a path parameter is always required (OpenAPI says `required: true`); taken as required",
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
            // A name that starts with a digit (`3ds`) gets a prefix, as
            // fields do.
            None => names::snake(&data.name)
                .filter(|n| names::is_valid_ident(n))
                .or_else(|| {
                    names::snake(&format!("param {}", data.name))
                        .filter(|n| names::is_valid_ident(n))
                })
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
        let name = if BUILDER_METHODS.contains(&name.as_str()) {
            let renamed = format!("{name}_param");
            self.warn(SpecError::at(
                &format!("{at}/name"),
                format!("the Rust name `{name}` is taken by a builder method; the setter is `{renamed}` (set `x-rust-name` to choose)"),
            ));
            renamed
        } else {
            name
        };
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
        let hint = format!("{builder}{}", names::pascal(&data.name).unwrap_or_default());
        let mut ty = self.lower_ref_or(schema, &schema_at, &hint)?;
        // An alias of a scalar or an array is that type, and so is an
        // array's item that is an alias of a scalar.
        ty = match self.resolve_alias(ty) {
            TypeRef::Array(item) => TypeRef::Array(Box::new(self.resolve_alias(*item))),
            other => other,
        };
        // A parameter of any type (`{}`), or an array of such, is text.
        if !json {
            match &mut ty {
                TypeRef::Any => ty = TypeRef::String,
                TypeRef::Array(item) if **item == TypeRef::Any => **item = TypeRef::String,
                _ => {}
            }
        }
        if location == Location::Header && data.name.eq_ignore_ascii_case("authorization") {
            // Per-call credentials: a secret, and the client sends no token
            // of its own with them.
            ty = TypeRef::Secret;
        }
        let supported = match location {
            _ if json => true,
            Location::Path => self.is_scalar(&ty) && ty != TypeRef::Secret,
            Location::Query | Location::Header => match &ty {
                TypeRef::Array(item) => self.is_scalar(item) && **item != TypeRef::Secret,
                other => self.is_scalar(other),
            },
            Location::Body => true,
        };
        if !supported {
            return Err(SpecError::at(
                &schema_at,
                "parameter type not supported; supported: string, integer, number, boolean, a string enum, in the query and headers also an array of those, or any schema under `content: application/json` (sent as JSON text)",
            ));
        }
        if matches!(ty, TypeRef::Array(_)) && location == Location::Header {
            comma = true;
        }
        Ok(Param {
            wire: data.name.clone(),
            name,
            location,
            required,
            ty,
            json,
            comma,
            deprecated: data.deprecated.unwrap_or(false),
            doc: data.description.as_deref().map(names::sanitize_doc),
        })
    }

    /// Whether a parameter of type `ty` is one value the URL or a header can
    /// hold: a scalar or a string enum.
    fn is_scalar(&self, ty: &TypeRef) -> bool {
        match ty {
            TypeRef::String
            | TypeRef::Secret
            | TypeRef::Timestamp
            | TypeRef::Bool
            | TypeRef::I8
            | TypeRef::I16
            | TypeRef::I32
            | TypeRef::I64
            | TypeRef::U8
            | TypeRef::U16
            | TypeRef::U32
            | TypeRef::U64
            | TypeRef::F32
            | TypeRef::F64 => true,
            TypeRef::Named(name) => matches!(
                self.models
                    .iter()
                    .find(|m| &m.name == name)
                    .map(|m| &m.kind),
                Some(ModelKind::Enum { .. } | ModelKind::OneOf { .. })
            ),
            _ => false,
        }
    }

    /// `ty`, or what the alias it names stands for (an alias of a scalar or
    /// an array is passed as that type).
    fn resolve_alias(&self, ty: TypeRef) -> TypeRef {
        let mut current = ty;
        for _ in 0..16 {
            let TypeRef::Named(name) = &current else {
                return current;
            };
            match self
                .models
                .iter()
                .find(|m| &m.name == name)
                .map(|m| &m.kind)
            {
                Some(ModelKind::Alias(inner)) if !matches!(inner, TypeRef::Named(n) if n == name) =>
                {
                    current = inner.clone();
                }
                _ => return current,
            }
        }
        current
    }
}
