//! `paging.rs`: the runtime's `Paged` for the page type of every paged
//! operation: where its items, next link and continuation token are.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Scope, inner_doc_attr, type_tokens};
use crate::codegen::ir::{Api, FieldRef, Paging, TypeRef};
use crate::codegen::names::{field_ident, type_ident};

/// The tokens of `paging.rs`.
pub(crate) fn emit(api: &Api) -> TokenStream {
    let doc = inner_doc_attr(
        "How the pages of paged operations are walked: the runtime's `Paged` for each page type, from the operation's `x-pagination`.",
    );
    let mut seen: Vec<&str> = Vec::new();
    let impls: Vec<TokenStream> = api
        .operations
        .iter()
        .filter_map(|op| {
            let paging = op.paging.as_ref()?;
            if seen.contains(&paging.collection.as_str()) {
                return None;
            }
            seen.push(&paging.collection);
            Some(emit_paged(paging))
        })
        .collect();
    let header = (!impls.is_empty()).then(|| {
        quote! {
            use pc_api_runtime::{NextLink, Paged};
            use super::types;
        }
    });
    quote! {
        #doc
        #header
        #(#impls)*
    }
}

/// The place `self.a.b…` along `fields`, as a reference; `?` leaves the
/// function with `None` at an absent `Option`.
fn field_path_ref(fields: &[FieldRef]) -> TokenStream {
    let mut path = quote!(self);
    let mut is_ref = true;
    for field in fields {
        let name = field_ident(&field.name);
        if field.optional {
            path = quote!(#path.#name.as_ref()?);
            is_ref = true;
        } else {
            path = quote!(#path.#name);
            is_ref = false;
        }
    }
    if is_ref { path } else { quote!(&#path) }
}

/// `expr.field` as `&str` (a `String` or a `Secret`), `?`-ing an absent `Option`.
fn step_str(expr: TokenStream, field: &FieldRef) -> TokenStream {
    let name = field_ident(&field.name);
    match (field.optional, &field.ty) {
        (true, TypeRef::Secret) => quote!(#expr.#name.as_ref()?.expose_secret()),
        (false, TypeRef::Secret) => quote!(#expr.#name.expose_secret()),
        (true, _) => quote!(#expr.#name.as_deref()?),
        (false, _) => quote!(#expr.#name.as_str()),
    }
}

fn emit_paged(paging: &Paging) -> TokenStream {
    let collection = type_ident(&paging.collection);
    let item = type_tokens(&paging.item_ty, Scope::Sibling);
    let items = field_ident(&paging.items.name);
    let link = field_path_ref(&paging.next);
    let uri_name = field_ident(&paging.link_uri.name);
    let uri = if paging.link_uri.optional {
        quote!(link.#uri_name.as_deref())
    } else {
        quote!(Some(link.#uri_name.as_str()))
    };
    let headers = match &paging.link_headers {
        Some(h) => {
            let field = field_ident(&h.field.name);
            let key = step_str(quote!(header), &h.key);
            let value = step_str(quote!(header), &h.value);
            quote!(link.#field.iter().filter_map(|header| Some((#key, #value))).collect())
        }
        None => quote!(Vec::new()),
    };
    let token = match &paging.token {
        Some(field) => {
            let name = field_ident(&field.name);
            match (field.optional, &field.ty) {
                (true, TypeRef::Secret) => {
                    quote!(self.#name.as_ref().map(|token| token.expose_secret()))
                }
                (false, TypeRef::Secret) => quote!(Some(self.#name.expose_secret())),
                (true, _) => quote!(self.#name.as_deref()),
                (false, _) => quote!(Some(self.#name.as_str())),
            }
        }
        None => quote!(None),
    };
    quote! {
        impl Paged for types::#collection {
            type Item = #item;

            #[inline]
            fn take_items(&mut self) -> Vec<Self::Item> {
                std::mem::take(&mut self.#items)
            }

            #[inline]
            fn item_count(&self) -> usize {
                self.#items.len()
            }

            #[inline]
            fn next_link(&self) -> Option<NextLink<'_>> {
                let link = #link;
                Some(NextLink { uri: #uri, headers: #headers })
            }

            #[inline]
            fn continuation_token(&self) -> Option<&str> {
                #token
            }
        }
    }
}
