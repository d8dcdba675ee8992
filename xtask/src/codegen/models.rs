//! Emits `types.rs`: one Rust type per model of the IR.
//!
//! Response types are forgiving: every field the spec does not require is an
//! `Option` (absent and `null` both give `None`), arrays and maps default to
//! empty, unknown fields are ignored and open enums keep unknown values.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;

use super::ir::{Api, Field, Model, ModelKind, TypeRef, Variant};
use super::names::{field_ident, type_ident};

/// The tokens of `types.rs`.
pub(crate) fn emit(api: &Api) -> TokenStream {
    let module_doc = inner_doc_attr(&format!(
        "The models of {}: every schema of `components.schemas` and every inline object, enum and `oneOf`.",
        api.title
    ));
    let items = api.models.iter().map(|model| emit_model(api, model));
    quote! {
        #module_doc
        #![forbid(unsafe_code)]
        #(#items)*
    }
}

/// The Rust type of `ty` as seen from `types.rs` (`prefix` empty) or from
/// another generated module (`prefix` = `crate::types::`).
pub(crate) fn type_tokens(ty: &TypeRef, prefix: &TokenStream) -> TokenStream {
    match ty {
        TypeRef::String => quote!(::std::string::String),
        TypeRef::Secret => quote!(crate::Secret),
        TypeRef::Timestamp => quote!(crate::Timestamp),
        TypeRef::Bool => quote!(bool),
        TypeRef::I32 => quote!(i32),
        TypeRef::I64 => quote!(i64),
        TypeRef::F32 => quote!(f32),
        TypeRef::F64 => quote!(f64),
        TypeRef::Any => quote!(::serde_json::Value),
        TypeRef::Object => quote!(::serde_json::Map<::std::string::String, ::serde_json::Value>),
        TypeRef::Named(name) => {
            let ident = type_ident(name);
            quote!(#prefix #ident)
        }
        TypeRef::Array(item) => {
            let item = type_tokens(item, prefix);
            quote!(::std::vec::Vec<#item>)
        }
        TypeRef::Map(value) => {
            let value = type_tokens(value, prefix);
            quote!(::std::collections::BTreeMap<::std::string::String, #value>)
        }
    }
}

/// Module docs: one `#![doc]` per line, so that prettyplease prints `//! text`.
pub(crate) fn inner_doc_attr(text: &str) -> TokenStream {
    let mut out = TokenStream::new();
    for line in text.trim().lines() {
        let line = format!(" {}", line.trim_end());
        out.extend(quote!(#![doc = #line]));
    }
    out
}

pub(crate) fn doc_attr(text: &str) -> TokenStream {
    let mut out = TokenStream::new();
    for line in text.trim().lines() {
        let line = format!(" {}", line.trim_end());
        out.extend(quote!(#[doc = #line]));
    }
    out
}

fn emit_model(api: &Api, model: &Model) -> TokenStream {
    let doc = doc_attr(
        model
            .doc
            .as_deref()
            .unwrap_or(&format!("The `{}` schema.", model.name)),
    );
    let name = type_ident(&model.name);
    match &model.kind {
        ModelKind::Struct { fields } => emit_struct(api, model, fields, &doc),
        ModelKind::Enum { variants, unknown } => {
            emit_enum(&model.name, variants, unknown.as_deref(), &doc)
        }
        ModelKind::OneOf { variants } => {
            let arms = variants.iter().map(|(variant, ty)| {
                let v = type_ident(variant);
                let t = type_tokens(ty, &TokenStream::new());
                let vdoc = format!(" The value as {}.", variant.to_lowercase());
                quote!(#[doc = #vdoc] #v(#t),)
            });
            let displays = variants.iter().map(|(variant, ty)| {
                let v = type_ident(variant);
                if *ty == TypeRef::Secret {
                    quote!(Self::#v(_) => f.write_str("[redacted]"),)
                } else {
                    quote!(Self::#v(value) => ::std::fmt::Display::fmt(value, f),)
                }
            });
            quote! {
                #doc
                #[derive(::std::clone::Clone, ::std::fmt::Debug, ::std::cmp::PartialEq, ::serde::Serialize, ::serde::Deserialize)]
                #[serde(untagged)]
                pub enum #name {
                    #(#arms)*
                }

                impl ::std::fmt::Display for #name {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        match self {
                            #(#displays)*
                        }
                    }
                }
            }
        }
        ModelKind::Alias(ty) => {
            let ty = type_tokens(ty, &TokenStream::new());
            quote! {
                #doc
                pub type #name = #ty;
            }
        }
    }
}

fn is_collection(ty: &TypeRef) -> bool {
    matches!(ty, TypeRef::Array(_) | TypeRef::Map(_))
}

fn emit_struct(api: &Api, model: &Model, fields: &[Field], doc: &TokenStream) -> TokenStream {
    let name = type_ident(&model.name);
    let derive_default = if has_default(api, &model.name, &mut BTreeSet::new()) {
        quote!(::std::default::Default,)
    } else {
        quote!()
    };
    let fields = fields.iter().map(|field| {
        let ident = field_ident(&field.name);
        let wire = &field.wire;
        let fdoc = doc_attr(field.doc.as_deref().unwrap_or(&format!("The `{wire}` property.")));
        let mut ty = type_tokens(&field.ty, &TokenStream::new());
        if let TypeRef::Named(target) = &field.ty
            && reaches(api, target, &model.name, &mut BTreeSet::new())
        {
            ty = quote!(::std::boxed::Box<#ty>);
        }
        let (ty, serde) = if is_collection(&field.ty) {
            if field.required {
                (ty, quote!(#[serde(rename = #wire, deserialize_with = "crate::runtime::de::null_as_default")]))
            } else {
                let skip = if matches!(field.ty, TypeRef::Array(_)) {
                    "::std::vec::Vec::is_empty"
                } else {
                    "::std::collections::BTreeMap::is_empty"
                };
                (ty, quote!(#[serde(rename = #wire, default, deserialize_with = "crate::runtime::de::null_as_default", skip_serializing_if = #skip)]))
            }
        } else if field.required && !field.nullable {
            (ty, quote!(#[serde(rename = #wire)]))
        } else if field.required {
            (quote!(::std::option::Option<#ty>), quote!(#[serde(rename = #wire)]))
        } else {
            (
                quote!(::std::option::Option<#ty>),
                quote!(#[serde(rename = #wire, default, skip_serializing_if = "::std::option::Option::is_none")]),
            )
        };
        quote! {
            #fdoc
            #serde
            pub #ident: #ty,
        }
    });
    quote! {
        #doc
        #[derive(::std::clone::Clone, ::std::fmt::Debug, #derive_default ::std::cmp::PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        pub struct #name {
            #(#fields)*
        }
    }
}

fn find<'a>(api: &'a Api, name: &str) -> Option<&'a Model> {
    api.models.iter().find(|m| m.name == name)
}

/// Whether the struct `from` holds `target` directly (not behind a `Vec` or
/// map), so that a field of type `from` inside `target` needs a `Box`.
fn reaches(api: &Api, from: &str, target: &str, seen: &mut BTreeSet<String>) -> bool {
    if from == target {
        return true;
    }
    if !seen.insert(from.to_owned()) {
        return false;
    }
    let Some(Model {
        kind: ModelKind::Struct { fields },
        ..
    }) = find(api, from)
    else {
        return matches!(find(api, from), Some(Model { kind: ModelKind::Alias(TypeRef::Named(n)), .. }) if reaches(api, n, target, seen));
    };
    fields
        .iter()
        .any(|f| matches!(&f.ty, TypeRef::Named(n) if reaches(api, n, target, seen)))
}

/// Whether `Default` can be derived: every field is optional, a collection,
/// or of a type that has a default.
fn has_default(api: &Api, name: &str, seen: &mut BTreeSet<String>) -> bool {
    if !seen.insert(name.to_owned()) {
        return true;
    }
    match find(api, name).map(|m| &m.kind) {
        Some(ModelKind::Struct { fields }) => fields.iter().all(|f| {
            !f.required
                || f.nullable
                || match &f.ty {
                    TypeRef::Named(n) => has_default(api, n, seen),
                    _ => true,
                }
        }),
        Some(ModelKind::Alias(TypeRef::Named(n))) => has_default(api, &n.clone(), seen),
        Some(ModelKind::Alias(_)) => true,
        _ => false,
    }
}

fn emit_enum(
    name: &str,
    variants: &[Variant],
    unknown: Option<&str>,
    doc: &TokenStream,
) -> TokenStream {
    let ident = type_ident(name);
    let decl = variants.iter().map(|v| {
        let vi = type_ident(&v.name);
        let vdoc = format!(" `{}`", v.wire);
        quote!(#[doc = #vdoc] #vi,)
    });
    let as_str = variants.iter().map(|v| {
        let vi = type_ident(&v.name);
        let wire = &v.wire;
        quote!(Self::#vi => #wire,)
    });
    let from_known = variants.iter().map(|v| {
        let vi = type_ident(&v.name);
        let wire = &v.wire;
        quote!(#wire => ::std::option::Option::Some(Self::#vi),)
    });
    let wires: Vec<&str> = variants.iter().map(|v| v.wire.as_str()).collect();
    let common = quote! {
        /// Every value the spec lists, as sent on the wire.
        pub const VALUES: &'static [&'static str] = &[#(#wires),*];

        fn from_known(value: &str) -> ::std::option::Option<Self> {
            match value {
                #(#from_known)*
                _ => ::std::option::Option::None,
            }
        }
    };
    match unknown {
        Some(unknown) => {
            let unknown = type_ident(unknown);
            quote! {
                #doc
                #[derive(::std::clone::Clone, ::std::fmt::Debug, ::std::cmp::PartialEq, ::std::cmp::Eq, ::std::hash::Hash)]
                pub enum #ident {
                    #(#decl)*
                    /// A value this version of the client does not know, kept as sent.
                    #unknown(::std::string::String),
                }

                impl #ident {
                    #common

                    /// The value as sent on the wire.
                    pub fn as_str(&self) -> &str {
                        match self {
                            #(#as_str)*
                            Self::#unknown(value) => value.as_str(),
                        }
                    }

                    /// Whether this is a value the spec does not list.
                    pub fn is_unknown(&self) -> bool {
                        matches!(self, Self::#unknown(_))
                    }
                }

                impl ::std::convert::From<&str> for #ident {
                    fn from(value: &str) -> Self {
                        Self::from_known(value).unwrap_or_else(|| Self::#unknown(value.to_owned()))
                    }
                }

                impl ::std::convert::From<::std::string::String> for #ident {
                    fn from(value: ::std::string::String) -> Self {
                        Self::from_known(&value).unwrap_or(Self::#unknown(value))
                    }
                }

                impl ::std::str::FromStr for #ident {
                    type Err = ::std::convert::Infallible;

                    fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                        ::std::result::Result::Ok(Self::from(value))
                    }
                }

                impl ::std::fmt::Display for #ident {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(self.as_str())
                    }
                }

                impl ::serde::Serialize for #ident {
                    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                        serializer.serialize_str(self.as_str())
                    }
                }

                impl<'de> ::serde::Deserialize<'de> for #ident {
                    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                        crate::runtime::de::open_enum(deserializer, Self::from_known, Self::#unknown)
                    }
                }
            }
        }
        None => quote! {
            #doc
            #[derive(::std::clone::Clone, ::std::marker::Copy, ::std::fmt::Debug, ::std::cmp::PartialEq, ::std::cmp::Eq, ::std::hash::Hash, ::std::cmp::PartialOrd, ::std::cmp::Ord)]
            pub enum #ident {
                #(#decl)*
            }

            impl #ident {
                #common

                /// The value as sent on the wire.
                pub fn as_str(&self) -> &'static str {
                    match self {
                        #(#as_str)*
                    }
                }
            }

            impl ::std::str::FromStr for #ident {
                type Err = crate::ParseEnumError;

                fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                    Self::from_known(value).ok_or_else(|| crate::ParseEnumError::new(#name, value, Self::VALUES))
                }
            }

            impl ::std::fmt::Display for #ident {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            impl ::serde::Serialize for #ident {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #ident {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    crate::runtime::de::closed_enum(deserializer, Self::from_known, #name, Self::VALUES)
                }
            }
        },
    }
}
