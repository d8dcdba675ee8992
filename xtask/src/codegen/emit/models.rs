//! `types.rs`: one Rust type per model of the IR, as a list of shapes. The
//! impls of string enums are one line each, a runtime macro
//! (`open_enum!`/`closed_enum!`), right after the enum.
//!
//! Response types are forgiving: every field the spec does not require is an
//! `Option` (absent and `null` both give `None`), arrays and maps default to
//! empty, unknown fields are ignored and open enums keep unknown values.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;

use super::{
    Scope, allow_deprecated, allow_large_variants, doc_attr, estimated_size, inner_doc_attr,
    names_used, optional_doc, type_tokens, use_header,
};
use crate::codegen::ir::{
    Api, Discriminator, Field, Model, ModelKind, TypeRef, UnionVariant, Variant,
};
use crate::codegen::names::{field_ident, type_ident};

/// The tokens of `types.rs`.
pub(crate) fn emit(api: &Api) -> TokenStream {
    let module_doc = inner_doc_attr(&format!(
        "The models of {}: every schema of `components.schemas` and every inline object, enum and `oneOf`.",
        api.title
    ));
    let mut used = BTreeSet::new();
    let mut undocumented = false;
    let mut uses_de = false;
    for model in &api.models {
        undocumented |= model.doc.is_none();
        match &model.kind {
            ModelKind::Struct { fields, additional } => {
                for field in fields {
                    names_used(&field.ty, &mut used);
                    undocumented |= field.doc.is_none();
                    uses_de |= is_collection(&field.ty);
                }
                if let Some(ty) = additional {
                    names_used(ty, &mut used);
                    used.insert("BTreeMap");
                }
            }
            ModelKind::Union { variants, .. } => {
                for variant in variants {
                    names_used(&variant.ty, &mut used);
                }
            }
            ModelKind::OneOf { variants } => {
                for (_, ty) in variants {
                    names_used(ty, &mut used);
                }
            }
            ModelKind::Alias(ty) => names_used(ty, &mut used),
            ModelKind::Enum { .. } => {}
        }
    }
    used.remove("types");
    let header = use_header(&used);
    let de = uses_de.then(|| {
        quote!(
            use pc_api_runtime::__codegen::de;
        )
    });
    let allow = undocumented.then(|| {
        quote! {
            // The spec leaves some of these undocumented.
            #![allow(missing_docs)]
        }
    });
    let items = api.models.iter().map(|model| emit_model(api, model));
    let deprecated = allow_deprecated(api);
    // Structs, scalar unions and untagged unions derive serde; enums and
    // tagged unions get it from runtime macros.
    let derives = api.models.iter().any(|m| {
        matches!(
            m.kind,
            ModelKind::Struct { .. }
                | ModelKind::OneOf { .. }
                | ModelKind::Union {
                    discriminator: None,
                    ..
                }
        )
    });
    let serde_use = derives.then(|| {
        quote!(
            use serde::{Deserialize, Serialize};
        )
    });
    quote! {
        #module_doc
        #allow
        #deprecated
        #serde_use
        #header
        #de

        #(#items)*
    }
}

fn emit_model(api: &Api, model: &Model) -> TokenStream {
    let mut doc = optional_doc(model.doc.as_deref());
    if model.deprecated {
        doc.extend(quote!(#[deprecated = "deprecated in the spec"]));
    }
    let name = type_ident(&model.name);
    match &model.kind {
        ModelKind::Struct { fields, additional } => {
            emit_struct(api, model, fields, additional.as_ref(), &doc)
        }
        ModelKind::Union {
            variants,
            discriminator,
        } => emit_union(api, model, variants, discriminator.as_ref(), &doc),
        ModelKind::Enum { variants, unknown } => {
            emit_enum(&model.name, variants, unknown.as_deref(), &doc)
        }
        ModelKind::OneOf { variants } => {
            let arms = variants.iter().map(|(variant, ty)| {
                let v = type_ident(variant);
                let t = type_tokens(ty, Scope::Types);
                let vdoc = format!(" The value as {}.", variant.to_lowercase());
                quote!(#[doc = #vdoc] #v(#t),)
            });
            let displays = variants.iter().map(|(variant, ty)| {
                let v = type_ident(variant);
                if *ty == TypeRef::Secret {
                    quote!(Self::#v(_) => f.write_str("[redacted]"),)
                } else {
                    quote!(Self::#v(value) => value.fmt(f),)
                }
            });
            quote! {
                #doc
                #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
                #[serde(untagged)]
                pub enum #name {
                    #(#arms)*
                }

                impl std::fmt::Display for #name {
                    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        match self {
                            #(#displays)*
                        }
                    }
                }
            }
        }
        ModelKind::Alias(ty) => {
            let ty = type_tokens(ty, Scope::Types);
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

/// The name serde's `rename_all = "camelCase"` gives a Rust field
/// (serde_derive's `RenameRule::CamelCase`, raw identifiers unraw'd).
fn serde_camel(field: &str) -> String {
    let mut pascal = String::new();
    let mut capitalize = true;
    for ch in field.chars() {
        if ch == '_' {
            capitalize = true;
        } else if capitalize {
            pascal.push(ch.to_ascii_uppercase());
            capitalize = false;
        } else {
            pascal.push(ch);
        }
    }
    match pascal.get(..1) {
        Some(first) => first.to_ascii_lowercase() + &pascal[1..],
        None => pascal,
    }
}

/// The name serde reads and writes for a Rust field without attributes.
fn serde_plain(field: &str) -> String {
    field_ident(field)
        .to_string()
        .trim_start_matches("r#")
        .to_owned()
}

fn emit_struct(
    api: &Api,
    model: &Model,
    fields: &[Field],
    additional: Option<&TypeRef>,
    doc: &TokenStream,
) -> TokenStream {
    let name = type_ident(&model.name);
    let derive_default = has_default(api, &model.name).then(|| quote!(Default,));
    // `rename_all = "camelCase"` when it names some field right that the
    // plain name does not; `rename` on the fields it still names wrong.
    let camel = fields.iter().any(|f| {
        let plain = serde_plain(&f.name);
        plain != f.wire && serde_camel(&plain) == f.wire
    });
    let container = camel.then(|| quote!(#[serde(rename_all = "camelCase")]));
    let additional = additional.map(|ty| {
        let mut name = "additional_properties".to_owned();
        while fields.iter().any(|f| f.name == name) {
            name.push('_');
        }
        let ident = field_ident(&name);
        let ty = type_tokens(ty, Scope::Types);
        quote! {
            /// The properties the spec does not name (`additionalProperties`).
            #[serde(flatten)]
            pub #ident: BTreeMap<String, #ty>,
        }
    });
    let field_items = fields.iter().map(|field| {
        let ident = field_ident(&field.name);
        let wire = &field.wire;
        let plain = serde_plain(&field.name);
        let serde_name = if camel { serde_camel(&plain) } else { plain };
        let mut attrs: Vec<TokenStream> = Vec::new();
        if serde_name != *wire {
            attrs.push(quote!(rename = #wire));
        }
        let fdoc = optional_doc(field.doc.as_deref());
        let mut ty = type_tokens(&field.ty, Scope::Types);
        if let TypeRef::Named(target) = &field.ty
            && reaches(api, target, &model.name)
        {
            ty = quote!(Box<#ty>);
        }
        let ty = if is_collection(&field.ty) {
            if !field.required {
                attrs.push(quote!(default));
            }
            attrs.push(quote!(deserialize_with = "de::null_as_default"));
            if !field.required {
                let skip = if matches!(field.ty, TypeRef::Array(_)) {
                    "Vec::is_empty"
                } else {
                    "BTreeMap::is_empty"
                };
                attrs.push(quote!(skip_serializing_if = #skip));
            }
            ty
        } else if field.required && !field.nullable {
            ty
        } else if field.required {
            quote!(Option<#ty>)
        } else {
            attrs.push(quote!(skip_serializing_if = "Option::is_none"));
            quote!(Option<#ty>)
        };
        let serde = (!attrs.is_empty()).then(|| quote!(#[serde(#(#attrs),*)]));
        let deprecated = field
            .deprecated
            .then(|| quote!(#[deprecated = "deprecated in the spec"]));
        quote! {
            #fdoc
            #deprecated
            #serde
            pub #ident: #ty,
        }
    });
    quote! {
        #doc
        #[derive(Clone, Debug, #derive_default PartialEq, Serialize, Deserialize)]
        #container
        pub struct #name {
            #(#field_items)*
            #additional
        }
    }
}

/// A union of objects: by its discriminator through the runtime's
/// `tagged_union!` (an unknown tag kept in `Unknown`), else untagged, the
/// first variant that decodes winning (anything else kept in `Other`).
fn emit_union(
    api: &Api,
    model: &Model,
    variants: &[UnionVariant],
    discriminator: Option<&Discriminator>,
    doc: &TokenStream,
) -> TokenStream {
    let name = type_ident(&model.name);
    let decl = variants.iter().map(|variant| {
        let ident = type_ident(&variant.name);
        let mut ty = type_tokens(&variant.ty, Scope::Types);
        if let TypeRef::Named(target) = &variant.ty
            && reaches(api, target, &model.name)
        {
            ty = quote!(Box<#ty>);
        }
        let vdoc = if variant.tags.is_empty() {
            format!(" A value that decodes as {}.", variant.name)
        } else {
            let tags: Vec<String> = variant.tags.iter().map(|t| format!("`{t}`")).collect();
            format!(" The value tagged {}.", tags.join(" or "))
        };
        quote!(#[doc = #vdoc] #ident(#ty),)
    });
    let mut sizes: Vec<usize> = variants
        .iter()
        .map(|v| match &v.ty {
            TypeRef::Named(target) if reaches(api, target, &model.name) => 8,
            ty => estimated_size(api, ty, 0),
        })
        .collect();
    sizes.push(32);
    let large = allow_large_variants(&sizes);
    match discriminator {
        Some(discriminator) => {
            let path = &discriminator.path;
            let arms = variants.iter().map(|variant| {
                let ident = type_ident(&variant.name);
                let tags = &variant.tags;
                quote!(#(#tags)|* => #ident)
            });
            let unknown_doc = format!(
                " A value whose `{}` this version of the client does not know (or that has none), kept as sent.",
                path.join(".")
            );
            quote! {
                #doc
                #[derive(Clone, Debug, PartialEq)]
                #large
                pub enum #name {
                    #(#decl)*
                    #[doc = #unknown_doc]
                    Unknown(serde_json::Value),
                }
                pc_api_runtime::tagged_union!(#name [#(#path),*] { #(#arms),* } unknown Unknown);
            }
        }
        None => quote! {
            #doc
            #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
            #[serde(untagged)]
            #large
            pub enum #name {
                #(#decl)*
                /// A value that decodes as none of the variants, kept as sent.
                Other(serde_json::Value),
            }
        },
    }
}

fn find<'a>(api: &'a Api, name: &str) -> Option<&'a Model> {
    api.model(name)
}

/// Whether a value of `from` holds a `target` directly (not behind a `Vec`
/// or map), so that a field of type `from` inside `target` needs a `Box`.
/// Asked only where `target` holds `from` directly: then `from` reaches
/// back exactly when both are in one cycle of direct containment.
fn reaches(api: &Api, from: &str, target: &str) -> bool {
    if from == target {
        return true;
    }
    let groups = api.derived.groups.get_or_init(|| cycle_groups(api));
    matches!((groups.get(from), groups.get(target)), (Some(a), Some(b)) if a == b)
}

/// The models a model holds directly.
fn direct_children(model: &Model) -> Vec<&str> {
    fn named(ty: &TypeRef) -> Option<&str> {
        match ty {
            TypeRef::Named(n) => Some(n.as_str()),
            _ => None,
        }
    }
    match &model.kind {
        ModelKind::Struct { fields, .. } => fields.iter().filter_map(|f| named(&f.ty)).collect(),
        ModelKind::Alias(ty) => named(ty).into_iter().collect(),
        ModelKind::Union { variants, .. } => variants.iter().filter_map(|v| named(&v.ty)).collect(),
        ModelKind::OneOf { variants } => variants.iter().filter_map(|(_, ty)| named(ty)).collect(),
        ModelKind::Enum { .. } => Vec::new(),
    }
}

/// The strongly connected components of direct containment (Tarjan's
/// algorithm, iterative): model name → component number.
fn cycle_groups(api: &Api) -> std::collections::HashMap<String, usize> {
    use std::collections::HashMap;
    let n = api.models.len();
    let edges: Vec<Vec<usize>> = api
        .models
        .iter()
        .map(|m| {
            direct_children(m)
                .into_iter()
                .filter_map(|c| api.model_index.get(c).copied())
                .collect()
        })
        .collect();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut group = vec![usize::MAX; n];
    let mut next_index = 0;
    let mut groups = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge to follow)
        let mut work = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut edge)) = work.last_mut() {
            if let Some(&child) = edges[node].get(*edge) {
                *edge += 1;
                if index[child] == usize::MAX {
                    index[child] = next_index;
                    low[child] = next_index;
                    next_index += 1;
                    stack.push(child);
                    on_stack[child] = true;
                    work.push((child, 0));
                } else if on_stack[child] {
                    low[node] = low[node].min(index[child]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    group[member] = groups;
                    if member == node {
                        break;
                    }
                }
                groups += 1;
            }
        }
    }
    api.models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.clone(), group[i]))
        .collect::<HashMap<_, _>>()
}

/// Whether `Default` can be derived: every field is optional, a collection,
/// or of a type that has a default. Remembered per model.
pub(crate) fn has_default(api: &Api, name: &str) -> bool {
    if let Some(&known) = api.derived.defaults.borrow().get(name) {
        return known;
    }
    let value = default_of(api, name, &mut BTreeSet::new());
    api.derived
        .defaults
        .borrow_mut()
        .insert(name.to_owned(), value);
    value
}

fn default_of(api: &Api, name: &str, seen: &mut BTreeSet<String>) -> bool {
    if let Some(&known) = api.derived.defaults.borrow().get(name) {
        return known;
    }
    if !seen.insert(name.to_owned()) {
        return true;
    }
    match find(api, name).map(|m| &m.kind) {
        Some(ModelKind::Struct { fields, .. }) => fields
            .iter()
            .all(|f| !f.required || f.nullable || type_default(api, &f.ty, seen)),
        Some(ModelKind::Alias(ty)) => type_default(api, ty, seen),
        _ => false,
    }
}

/// Whether a type has `Default` (a `Timestamp` has none: there is no
/// meaningful default instant).
fn type_default(api: &Api, ty: &TypeRef, seen: &mut BTreeSet<String>) -> bool {
    match ty {
        TypeRef::Named(n) => default_of(api, n, seen),
        TypeRef::Timestamp => false,
        _ => true,
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
    let pairs = variants.iter().map(|v| {
        let vi = type_ident(&v.name);
        let wire = &v.wire;
        quote!(#vi = #wire)
    });
    match unknown {
        Some(unknown) => {
            let unknown = type_ident(unknown);
            let unknown_doc =
                doc_attr("A value this version of the client does not know, kept as sent.");
            quote! {
                #doc
                #[derive(Clone, Debug, PartialEq, Eq, Hash)]
                pub enum #ident {
                    #(#decl)*
                    #unknown_doc
                    #unknown(String),
                }
                pc_api_runtime::open_enum!(#ident { #(#pairs),* } unknown #unknown);
            }
        }
        None => quote! {
            #doc
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub enum #ident {
                #(#decl)*
            }
            pc_api_runtime::closed_enum!(#ident { #(#pairs),* });
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_camel_case_matches_serde_derive() {
        assert_eq!(serde_camel("user_principal_name"), "userPrincipalName");
        assert_eq!(serde_camel("id"), "id");
        assert_eq!(serde_camel("int32_value"), "int32Value");
        assert_eq!(serde_camel("self_"), "self");
        assert_eq!(serde_plain("type"), "type");
    }
}
