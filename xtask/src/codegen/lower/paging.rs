//! `x-pagination`: where the items, the next link and the continuation token are.

use super::Lowering;
use crate::codegen::error::SpecError;
use crate::codegen::ir::*;
use crate::codegen::spec::escape;

impl Lowering<'_> {
    pub(super) fn struct_fields(&self, name: &str) -> Option<&[Field]> {
        match self.models.iter().find(|m| m.name == name) {
            Some(Model {
                kind: ModelKind::Struct { fields, .. },
                ..
            }) => Some(fields),
            _ => None,
        }
    }

    /// The field `wire` of the struct `model`, for `x-pagination` at `at`.
    pub(super) fn field_ref(
        &self,
        model: &str,
        wire: &str,
        at: &str,
    ) -> Result<FieldRef, SpecError> {
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

    pub(super) fn lower_paging(
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
            Some((TypeRef::Named(name), Encoding::Json))
                if !success.body_optional && self.struct_fields(name).is_some() =>
            {
                name.clone()
            }
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
}
