//! Emitting: the [`ir`](super::ir) → the token streams of the generated
//! modules, one concern per file: the root module ([`root`]), the models
//! ([`models`]), the operations ([`operations`]: methods and request
//! builders), the error bodies ([`errors`]) and the paging impls
//! ([`paging`]).
//!
//! Every generated module opens with one `use` header and writes the
//! prelude's names plainly; the other modules are named relatively
//! (`types::CustomerUser`, `builder::GetCustomerUsers`), so a spec's names
//! never collide with each other or with the prelude's. The runtime is the
//! crate `pc_api_runtime`; generated code calls its `__codegen` module.

mod errors;
mod models;
mod operations;
mod paging;
mod root;

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;

use super::ir::{Api, TypeRef};
use super::names::type_ident;

/// Where the generated modules go, as the emitters need to know it.
#[derive(Clone, Debug)]
pub struct Target {
    /// The path of the generated root module from outside the crate, as doc
    /// examples write it: `pc_api` for pc-api (whose `lib.rs` re-exports
    /// the root module).
    pub crate_path: String,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            crate_path: "pc_api".to_owned(),
        }
    }
}

/// One generated module: its file name and tokens.
pub(crate) struct Module {
    pub(crate) name: &'static str,
    pub(crate) tokens: TokenStream,
}

/// Every generated module of `api`.
pub(crate) fn emit(api: &Api, target: &Target) -> Vec<Module> {
    let decoders = errors::Decoders::of(api);
    vec![
        Module {
            name: "mod.rs",
            tokens: root::emit(api, target),
        },
        Module {
            name: "types.rs",
            tokens: models::emit(api),
        },
        Module {
            name: "client.rs",
            tokens: operations::emit_methods(api, target),
        },
        Module {
            name: "builder.rs",
            tokens: operations::emit_builders(api, target, &decoders),
        },
        Module {
            name: "errors.rs",
            tokens: errors::emit(api, &decoders),
        },
        Module {
            name: "paging.rs",
            tokens: paging::emit(api),
        },
    ]
}

/// How a module names the types of `types.rs`.
#[derive(Clone, Copy)]
pub(crate) enum Scope {
    /// Inside `types.rs`: plainly.
    Types,
    /// In a sibling module: `types::Name`.
    Sibling,
}

/// The Rust type of `ty` as seen from `scope`.
pub(crate) fn type_tokens(ty: &TypeRef, scope: Scope) -> TokenStream {
    match ty {
        TypeRef::String => quote!(String),
        TypeRef::Secret => quote!(Secret),
        TypeRef::Timestamp => quote!(Timestamp),
        TypeRef::Bool => quote!(bool),
        TypeRef::I8 => quote!(i8),
        TypeRef::I16 => quote!(i16),
        TypeRef::I32 => quote!(i32),
        TypeRef::I64 => quote!(i64),
        TypeRef::U8 => quote!(u8),
        TypeRef::U16 => quote!(u16),
        TypeRef::U32 => quote!(u32),
        TypeRef::U64 => quote!(u64),
        TypeRef::Bytes => quote!(Vec<u8>),
        TypeRef::F32 => quote!(f32),
        TypeRef::F64 => quote!(f64),
        TypeRef::Any => quote!(serde_json::Value),
        TypeRef::Object => quote!(serde_json::Map<String, serde_json::Value>),
        TypeRef::Named(name) => {
            let ident = type_ident(name);
            match scope {
                Scope::Types => quote!(#ident),
                Scope::Sibling => quote!(types::#ident),
            }
        }
        TypeRef::Array(item) => {
            let item = type_tokens(item, scope);
            quote!(Vec<#item>)
        }
        TypeRef::Map(value) => {
            let value = type_tokens(value, scope);
            quote!(BTreeMap<String, #value>)
        }
    }
}

/// The runtime and std names a type refers to, for a module's `use` header.
pub(crate) fn names_used(ty: &TypeRef, out: &mut BTreeSet<&'static str>) {
    match ty {
        TypeRef::Secret => {
            out.insert("Secret");
        }
        TypeRef::Timestamp => {
            out.insert("Timestamp");
        }
        TypeRef::Named(_) => {
            out.insert("types");
        }
        TypeRef::Array(item) => names_used(item, out),
        TypeRef::Map(value) => {
            out.insert("BTreeMap");
            names_used(value, out);
        }
        _ => {}
    }
}

/// The `use` lines for the names in `used` among `Secret`, `Timestamp`
/// (the runtime's) and `BTreeMap`.
pub(crate) fn use_header(used: &BTreeSet<&'static str>) -> TokenStream {
    let runtime: Vec<proc_macro2::Ident> = ["Secret", "Timestamp"]
        .into_iter()
        .filter(|n| used.contains(n))
        .map(type_ident)
        .collect();
    let mut out = TokenStream::new();
    if used.contains("BTreeMap") {
        out.extend(quote!(
            use std::collections::BTreeMap;
        ));
    }
    match runtime.len() {
        0 => {}
        1 => out.extend(quote!(use pc_api_runtime::#(#runtime)*;)),
        _ => out.extend(quote!(use pc_api_runtime::{#(#runtime),*};)),
    }
    out
}

/// A rough size in bytes of a value of `ty` (fields summed, no padding),
/// to tell when the variants of an enum differ as much as clippy's
/// `large_enum_variant` (200 bytes) warns about.
pub(crate) fn estimated_size(api: &Api, ty: &TypeRef, depth: usize) -> usize {
    use super::ir::ModelKind;
    match ty {
        TypeRef::Bool | TypeRef::I8 | TypeRef::U8 => 1,
        TypeRef::I16 | TypeRef::U16 => 2,
        TypeRef::I32 | TypeRef::U32 | TypeRef::F32 => 4,
        TypeRef::I64 | TypeRef::U64 | TypeRef::F64 => 8,
        TypeRef::String
        | TypeRef::Secret
        | TypeRef::Bytes
        | TypeRef::Array(_)
        | TypeRef::Map(_)
        | TypeRef::Object => 24,
        TypeRef::Any => 32,
        TypeRef::Timestamp => 40,
        TypeRef::Named(name) => {
            if depth > 8 {
                return 8;
            }
            match api.model(name).map(|m| &m.kind) {
                Some(ModelKind::Struct { fields, additional }) => {
                    fields
                        .iter()
                        .map(|f| {
                            // An `Option` of a scalar takes a word more (its
                            // tag, aligned); of a pointer-like value, none.
                            let size = estimated_size(api, &f.ty, depth + 1);
                            let optional = !f.required || f.nullable;
                            size + if optional && size <= 8 { 8 } else { 0 }
                        })
                        .sum::<usize>()
                        + if additional.is_some() { 24 } else { 0 }
                }
                Some(ModelKind::Enum {
                    unknown: Some(_), ..
                }) => 24,
                Some(ModelKind::Enum { unknown: None, .. }) => 1,
                Some(ModelKind::Alias(inner)) => estimated_size(api, inner, depth + 1),
                Some(ModelKind::OneOf { variants }) => {
                    8 + variants
                        .iter()
                        .map(|(_, t)| estimated_size(api, t, depth + 1))
                        .max()
                        .unwrap_or(0)
                }
                Some(ModelKind::Union { variants, .. }) => {
                    8 + variants
                        .iter()
                        .map(|v| estimated_size(api, &v.ty, depth + 1))
                        .max()
                        .unwrap_or(32)
                        .max(32)
                }
                None => 8,
            }
        }
    }
}

/// `#[allow(clippy::large_enum_variant)]` when the variants' estimated sizes
/// differ by enough that clippy (at 200 bytes) might object.
pub(crate) fn allow_large_variants(variants: &[usize]) -> TokenStream {
    let mut sizes = variants.to_vec();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let gap = match sizes.as_slice() {
        [first, second, ..] => first - second,
        _ => 0,
    };
    // Clippy's limit is 200 bytes; the estimate is close (it counts the
    // tags of `Option`s of scalars) but not exact (padding, niches).
    if gap > 180 {
        quote!(#[allow(clippy::large_enum_variant)])
    } else {
        TokenStream::new()
    }
}

/// Whether anything of the API is deprecated: generated modules then allow
/// their own use of it (callers still get the warnings).
pub(crate) fn has_deprecated(api: &Api) -> bool {
    api.operations
        .iter()
        .any(|op| op.deprecated || op.params.iter().any(|p| p.deprecated))
        || api.models.iter().any(|m| {
            m.deprecated
                || matches!(&m.kind, super::ir::ModelKind::Struct { fields, .. } if fields.iter().any(|f| f.deprecated))
        })
}

/// `#![allow(unused_imports)]` for the operation modules of an API whose
/// every operation was left out (a lenient generation): their imports are
/// then unused.
pub(crate) fn allow_unused_imports(api: &Api) -> TokenStream {
    if api.operations.is_empty() {
        quote!(#![allow(unused_imports)])
    } else {
        TokenStream::new()
    }
}

/// `#![allow(deprecated)]` for a module of an API with deprecated items.
pub(crate) fn allow_deprecated(api: &Api) -> TokenStream {
    if has_deprecated(api) {
        quote!(#![allow(deprecated)])
    } else {
        TokenStream::new()
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

/// Item docs, one `#[doc]` per line; nothing for `None`.
pub(crate) fn doc_attr(text: &str) -> TokenStream {
    let mut out = TokenStream::new();
    for line in text.trim().lines() {
        let line = format!(" {}", line.trim_end());
        out.extend(quote!(#[doc = #line]));
    }
    out
}

/// `#[doc]` of an optional text.
pub(crate) fn optional_doc(text: Option<&str>) -> TokenStream {
    text.map(doc_attr).unwrap_or_default()
}
