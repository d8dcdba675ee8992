//! `errors.rs`: [`ErrorBody`], the decoded body of an error response, and
//! its decoders, one per distinct mapping of statuses to schemas (not one
//! per operation).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{allow_large_variants, allow_unused_imports, estimated_size, inner_doc_attr};
use crate::codegen::ir::{Api, ErrorCase, Operation, StatusMatch, TypeRef};
use crate::codegen::names::{field_ident, snake, type_ident};

/// The distinct error mappings of the operations, in order of first use.
pub(crate) struct Decoders {
    mappings: Vec<Vec<(StatusMatch, Option<String>)>>,
}

impl Decoders {
    pub(crate) fn of(api: &Api) -> Self {
        let mut mappings = Vec::new();
        for op in &api.operations {
            let key = key(&op.errors);
            if !mappings.contains(&key) {
                mappings.push(key);
            }
        }
        Decoders { mappings }
    }

    /// The decoder of `op`'s error bodies, as named from a sibling module.
    pub(crate) fn path_of(&self, op: &Operation) -> TokenStream {
        let index = self
            .mappings
            .iter()
            .position(|m| *m == key(&op.errors))
            .unwrap_or_default();
        let name = decoder_name(index);
        quote!(errors::#name)
    }
}

fn key(errors: &[ErrorCase]) -> Vec<(StatusMatch, Option<String>)> {
    errors.iter().map(|c| (c.status, c.body.clone())).collect()
}

fn decoder_name(index: usize) -> proc_macro2::Ident {
    format_ident!("decode_{}", index + 1)
}

fn status_text(status: StatusMatch) -> String {
    match status {
        StatusMatch::Code(c) => c.to_string(),
        StatusMatch::Range(r) => format!("{r}XX"),
        StatusMatch::Default => "any other status".to_owned(),
    }
}

/// The tokens of `errors.rs`.
pub(crate) fn emit(api: &Api, decoders: &Decoders) -> TokenStream {
    let doc = inner_doc_attr(
        "The bodies of error responses: [`ErrorBody`], and its decoders, one per distinct mapping of statuses to schemas in the spec.",
    );
    let variants = api.error_bodies.iter().map(|body| {
        let ident = type_ident(&body.name);
        let doc = format!(
            " A [`{0}`](types::{0}), as the spec declares for the status.",
            body.name
        );
        quote!(#[doc = #doc] #ident(types::#ident),)
    });
    let accessors = api.error_bodies.iter().map(|body| {
        let ident = type_ident(&body.name);
        let method = field_ident(&format!("as_{}", snake(&body.name).unwrap_or_default()));
        let doc = format!(" The body, when it is a [`{0}`](types::{0}).", body.name);
        quote! {
            #[doc = #doc]
            pub fn #method(&self) -> Option<&types::#ident> {
                match self {
                    Self::#ident(body) => Some(body),
                    _ => None,
                }
            }
        }
    });
    let code_arms = api.error_bodies.iter().filter_map(|body| {
        let ident = type_ident(&body.name);
        let field = body.code.as_ref()?;
        let name = field_ident(&field.name);
        Some(if field.optional {
            quote!(Self::#ident(body) => body.#name.as_ref().map(|code| code.to_string()),)
        } else {
            quote!(Self::#ident(body) => Some(body.#name.to_string()),)
        })
    });
    let message_arms = api.error_bodies.iter().filter_map(|body| {
        let ident = type_ident(&body.name);
        let field = body.message.as_ref()?;
        let name = field_ident(&field.name);
        Some(if field.optional {
            quote!(Self::#ident(body) => body.#name.as_deref(),)
        } else {
            quote!(Self::#ident(body) => Some(body.#name.as_str()),)
        })
    });
    let retryable_arms: Vec<TokenStream> = api
        .error_bodies
        .iter()
        .filter_map(|body| {
            let ident = type_ident(&body.name);
            let field = body.retryable.as_ref()?;
            let name = field_ident(&field.name);
            Some(if field.optional {
                quote!(Self::#ident(body) => body.#name,)
            } else {
                quote!(Self::#ident(body) => Some(body.#name),)
            })
        })
        .collect();
    let retryable = (!retryable_arms.is_empty()).then(|| {
        quote! {
            fn is_retryable(&self) -> Option<bool> {
                match self {
                    #(#retryable_arms)*
                    _ => None,
                }
            }
        }
    });
    let mut sizes: Vec<usize> = api
        .error_bodies
        .iter()
        .map(|b| estimated_size(api, &TypeRef::Named(b.name.clone()), 0))
        .collect();
    sizes.push(24);
    let large = allow_large_variants(&sizes);
    let uses_types = !api.error_bodies.is_empty();
    let types_use = uses_types.then(|| {
        quote!(
            use super::types;
        )
    });
    let functions = decoders
        .mappings
        .iter()
        .enumerate()
        .map(|(index, mapping)| {
            let name = decoder_name(index);
            let mut described: Vec<String> = mapping
                .iter()
                .map(|(status, body)| {
                    format!(
                        "{} → {}",
                        status_text(*status),
                        body.as_deref()
                            .map(|b| format!("`{b}`"))
                            .unwrap_or_else(|| "text".to_owned())
                    )
                })
                .collect();
            if !mapping.iter().any(|(s, _)| *s == StatusMatch::Default) {
                described.push("any other status → text".to_owned());
            }
            let fn_doc = format!(" Decodes an error body: {}.", described.join(", "));
            let arms = mapping.iter().map(|(status, body)| {
                let pattern = match status {
                    StatusMatch::Code(c) => quote!(#c),
                    StatusMatch::Range(r) => {
                        let low = r * 100;
                        let high = r * 100 + 99;
                        quote!(#low..=#high)
                    }
                    StatusMatch::Default => quote!(_),
                };
                match body {
                    Some(body) => {
                        let ident = type_ident(body);
                        quote!(#pattern => rt::decode_error_body(body, ErrorBody::#ident),)
                    }
                    None => quote!(#pattern => rt::error_body_text(body),),
                }
            });
            let fallback = (!mapping.iter().any(|(s, _)| *s == StatusMatch::Default))
                .then(|| quote!(_ => rt::error_body_text(body),));
            quote! {
                #[doc = #fn_doc]
                #[inline]
                pub(super) fn #name(status: u16, body: &[u8]) -> ErrorBody {
                    #[allow(clippy::match_single_binding)]
                    match status {
                        #(#arms)*
                        #fallback
                    }
                }
            }
        });
    let unused = allow_unused_imports(api);
    quote! {
        #doc
        #unused
        use pc_api_runtime::ApiErrorBody;
        use pc_api_runtime::__codegen as rt;
        #types_use

        /// The body of an error response, decoded with the schema the spec
        /// declares for its status.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        #large
        pub enum ErrorBody {
            #(#variants)*
            /// No body, or only white space.
            Empty,
            /// A body that is not JSON of the declared schema (an HTML page from
            /// a proxy, say), kept as text, cut at 4 KiB.
            Text(String),
        }

        impl ErrorBody {
            #(#accessors)*

            /// The error code of the body: the property its schema names with `x-error-code`.
            pub fn code(&self) -> Option<String> {
                #[allow(clippy::match_single_binding)]
                match self {
                    #(#code_arms)*
                    _ => None,
                }
            }

            /// The error message of the body: the property its schema names with `x-error-message`.
            pub fn message(&self) -> Option<&str> {
                #[allow(clippy::match_single_binding)]
                match self {
                    #(#message_arms)*
                    _ => None,
                }
            }
        }

        impl ApiErrorBody for ErrorBody {
            fn code(&self) -> Option<String> {
                ErrorBody::code(self)
            }

            fn message(&self) -> Option<&str> {
                ErrorBody::message(self)
            }

            fn text(&self) -> Option<&str> {
                match self {
                    Self::Text(text) => Some(text),
                    _ => None,
                }
            }

            fn is_empty(&self) -> bool {
                matches!(self, Self::Empty)
            }

            #retryable

            fn empty_body() -> Self {
                Self::Empty
            }

            fn text_body(text: String) -> Self {
                Self::Text(text)
            }
        }

        #(#functions)*
    }
}
