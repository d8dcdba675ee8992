//! Emits `mod.rs` and `client.rs`: one method on `Client` per operation, its
//! request builder, and the decoding of error bodies by status.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::ir::{
    Api, FieldRef, Location, Operation, Paging, Param, PathPart, StatusMatch, TypeRef,
};
use super::models::{doc_attr, inner_doc_attr, type_tokens};
use super::names::{field_ident, type_ident};

/// The name of the generated crate, used in doc examples.
const CRATE: &str = "pc_api";

/// The tokens of `mod.rs`.
pub(crate) fn emit_mod(api: &Api) -> TokenStream {
    let doc = inner_doc_attr(&format!(
        "Code generated from the OpenAPI description of {}.\n\nNever edit these files: change the spec or the generator and run `cargo xtask codegen`.",
        api.title
    ));
    let base_url = &api.base_url;
    let version = &api.version;
    let base_doc = format!(" The default base URL: the first server of the spec, `{base_url}`.");
    quote! {
        #doc
        #![forbid(unsafe_code)]

        #[rustfmt::skip]
        pub(crate) mod client;
        #[rustfmt::skip]
        pub mod types;

        #[doc = #base_doc]
        pub const DEFAULT_BASE_URL: &str = #base_url;

        /// The version of the API description (`info.version` of the spec).
        pub const API_VERSION: &str = #version;
    }
}

/// The tokens of `client.rs`.
pub(crate) fn emit(api: &Api) -> TokenStream {
    let doc = inner_doc_attr(
        "The operations of the API: a method on [`Client`](crate::Client) per operation, each returning a request builder from [`builder`].",
    );
    let methods = api.operations.iter().map(emit_method);
    let builders = api.operations.iter().map(emit_builder);
    let error_body = emit_error_body(api);
    let mut paged_collections: Vec<&str> = Vec::new();
    let paged_impls = api.operations.iter().filter_map(|op| {
        let paging = op.paging.as_ref()?;
        if paged_collections.contains(&paging.collection.as_str()) {
            return None;
        }
        paged_collections.push(&paging.collection);
        Some(emit_paged_impl(paging))
    });
    let paged_impls: Vec<TokenStream> = paged_impls.collect();
    quote! {
        #doc
        #![forbid(unsafe_code)]

        impl crate::Client {
            #(#methods)*
        }

        #error_body

        #(#paged_impls)*

        pub mod builder {
            //! Request builders: set optional parameters, then `send()`.
            #(#builders)*
        }
    }
}

fn emit_error_body(api: &Api) -> TokenStream {
    let variants = api.error_bodies.iter().map(|body| {
        let ident = type_ident(&body.name);
        let doc = format!(
            " A [`{0}`](crate::types::{0}), as the spec declares for the status.",
            body.name
        );
        quote!(#[doc = #doc] #ident(crate::types::#ident),)
    });
    let accessors = api.error_bodies.iter().map(|body| {
        let ident = type_ident(&body.name);
        let method = field_ident(&format!(
            "as_{}",
            super::names::snake(&body.name).unwrap_or_default()
        ));
        let doc = format!(
            " The body, when it is a [`{0}`](crate::types::{0}).",
            body.name
        );
        quote! {
            #[doc = #doc]
            pub fn #method(&self) -> ::std::option::Option<&crate::types::#ident> {
                match self {
                    Self::#ident(body) => ::std::option::Option::Some(body),
                    _ => ::std::option::Option::None,
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
            quote!(Self::#ident(body) => ::std::option::Option::Some(body.#name.to_string()),)
        })
    });
    let message_arms = api.error_bodies.iter().filter_map(|body| {
        let ident = type_ident(&body.name);
        let field = body.message.as_ref()?;
        let name = field_ident(&field.name);
        Some(if field.optional {
            quote!(Self::#ident(body) => body.#name.as_deref(),)
        } else {
            quote!(Self::#ident(body) => ::std::option::Option::Some(body.#name.as_str()),)
        })
    });
    quote! {
        /// The body of an error response, decoded with the schema the spec
        /// declares for its status.
        #[derive(::std::clone::Clone, ::std::fmt::Debug, ::std::cmp::PartialEq)]
        #[non_exhaustive]
        pub enum ErrorBody {
            #(#variants)*
            /// No body, or only white space.
            Empty,
            /// A body that is not JSON of the declared schema (an HTML page from
            /// a proxy, say), kept as text, cut at 4 KiB.
            Text(::std::string::String),
        }

        impl ErrorBody {
            #(#accessors)*

            /// The error code of the body: the property its schema names with `x-error-code`.
            #[allow(clippy::match_single_binding)]
            pub fn code(&self) -> ::std::option::Option<::std::string::String> {
                match self {
                    #(#code_arms)*
                    _ => ::std::option::Option::None,
                }
            }

            /// The error message of the body: the property its schema names with `x-error-message`.
            #[allow(clippy::match_single_binding)]
            pub fn message(&self) -> ::std::option::Option<&str> {
                match self {
                    #(#message_arms)*
                    _ => ::std::option::Option::None,
                }
            }
        }
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

/// `impl crate::Paged` for the collection type of a paged operation.
fn emit_paged_impl(paging: &Paging) -> TokenStream {
    let collection = type_ident(&paging.collection);
    let item = type_tokens(&paging.item_ty, &quote!(crate::types::));
    let items = field_ident(&paging.items.name);
    let link = field_path_ref(&paging.next);
    let uri_name = field_ident(&paging.link_uri.name);
    let uri = if paging.link_uri.optional {
        quote!(link.#uri_name.as_deref())
    } else {
        quote!(::std::option::Option::Some(link.#uri_name.as_str()))
    };
    let headers = match &paging.link_headers {
        Some(h) => {
            let field = field_ident(&h.field.name);
            let key = step_str(quote!(header), &h.key);
            let value = step_str(quote!(header), &h.value);
            quote!(link.#field.iter().filter_map(|header| ::std::option::Option::Some((#key, #value))).collect())
        }
        None => quote!(::std::vec::Vec::new()),
    };
    let token = match &paging.token {
        Some(field) => {
            let name = field_ident(&field.name);
            match (field.optional, &field.ty) {
                (true, TypeRef::Secret) => {
                    quote!(self.#name.as_ref().map(|token| token.expose_secret()))
                }
                (false, TypeRef::Secret) => {
                    quote!(::std::option::Option::Some(self.#name.expose_secret()))
                }
                (true, _) => quote!(self.#name.as_deref()),
                (false, _) => quote!(::std::option::Option::Some(self.#name.as_str())),
            }
        }
        None => quote!(::std::option::Option::None),
    };
    quote! {
        impl crate::Paged for crate::types::#collection {
            type Item = #item;

            fn take_items(&mut self) -> ::std::vec::Vec<Self::Item> {
                ::std::mem::take(&mut self.#items)
            }

            fn next_link(&self) -> ::std::option::Option<crate::NextLink<'_>> {
                let link = #link;
                ::std::option::Option::Some(crate::NextLink { uri: #uri, headers: #headers })
            }

            fn continuation_token(&self) -> ::std::option::Option<&str> {
                #token
            }
        }
    }
}

/// `pages`, `stream` and `resume` on the builder of a paged operation.
fn emit_paging_methods(op: &Operation, paging: &Paging) -> TokenStream {
    let collection = type_ident(&paging.collection);
    let item = type_tokens(&paging.item_ty, &quote!(crate::types::));
    let token_header = &paging.token_header;
    let path_prefix = &paging.path_prefix;
    let seek = match &paging.seek {
        Some(seek) => {
            let (wire, value) = (&seek.wire, &seek.value);
            quote!(::std::option::Option::Some((#wire, #value)))
        }
        None => quote!(::std::option::Option::None),
    };
    let token_param = op
        .params
        .iter()
        .find(|p| p.location == Location::Header && p.wire.eq_ignore_ascii_case(token_header));
    let resume = token_param.map(|param| {
        let setter = field_ident(&param.name);
        let seek_call = paging.seek.as_ref().map(|seek| {
            let setter = field_ident(&seek.param);
            match &seek.variant {
                Some((ty, variant)) => {
                    let ty = type_ident(ty);
                    let variant = type_ident(variant);
                    quote!(.#setter(crate::types::#ty::#variant))
                }
                None => {
                    let value = &seek.value;
                    quote!(.#setter(#value))
                }
            }
        });
        let doc = doc_attr(&format!(
            "Continues a listing from a continuation token saved from [`Page::continuation_token`](crate::Page::continuation_token) or [`Error::resume_token`](crate::Error::resume_token): the first page fetched is the one the token points to, and the listing goes on from there.\n\nSends the token in `{token_header}`{}.",
            paging.seek.as_ref().map(|s| format!(" with `{}={}`", s.wire, s.value)).unwrap_or_default()
        ));
        let pass = if param.ty == TypeRef::Secret { quote!(token) } else { quote!(token.into_inner()) };
        quote! {
            #doc
            pub fn resume(self, token: impl ::std::convert::Into<crate::Secret>) -> Self {
                let token: crate::Secret = token.into();
                self.#setter(#pass) #seek_call
            }
        }
    });
    let method = &op.method_name;
    let pages_doc = doc_attr(&format!(
        "Lists every page, following the next links (see [`Pages`](crate::Pages)).\n\nEvery page is requested with the same `MS-CorrelationId` and a fresh `MS-RequestId`; while you work on one page, the next is fetched.\n\n```no_run\n# async fn example(client: &{CRATE}::Client) -> Result<(), {CRATE}::Error> {{\nuse futures::TryStreamExt;\nlet mut pages = client.{method}({}).pages();\nwhile let Some(page) = pages.try_next().await? {{\n    println!(\"page {{}}\", page.number());\n}}\n# Ok(())\n# }}\n```",
        args_of(&op.inputs())
            .iter()
            .map(|p| example_value(p))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let stream_doc = doc_attr(&format!(
        "Lists every item of every page, each exactly once and in order (see [`Items`](crate::Items)).\n\n```no_run\n# async fn example(client: &{CRATE}::Client) -> Result<(), {CRATE}::Error> {{\nuse futures::TryStreamExt;\nlet all: Vec<_> = client.{method}({}).stream().try_collect().await?;\n# Ok(())\n# }}\n```",
        args_of(&op.inputs())
            .iter()
            .map(|p| example_value(p))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    quote! {
        const PAGING: crate::runtime::paging::PagingSpec = crate::runtime::paging::PagingSpec {
            token_header: #token_header,
            seek: #seek,
            path_prefix: #path_prefix,
        };

        #pages_doc
        pub fn pages(self) -> crate::Pages<crate::types::#collection> {
            let first = self.request();
            crate::Pages::start(self.client, first, &Self::PAGING, Self::decode_error)
        }

        #stream_doc
        pub fn stream(self) -> crate::Items<#item> {
            self.pages().items()
        }

        #resume
    }
}

fn args_of(inputs: &[Param]) -> Vec<&Param> {
    inputs.iter().filter(|p| p.required).collect()
}

/// The argument type of a required parameter or setter.
fn setter_type(param: &Param) -> (TokenStream, TokenStream) {
    let prefix = quote!(crate::types::);
    match &param.ty {
        TypeRef::String => (
            quote!(impl ::std::convert::Into<::std::string::String>),
            quote!(value.into()),
        ),
        TypeRef::Secret => (
            quote!(impl ::std::convert::Into<crate::Secret>),
            quote!(value.into()),
        ),
        TypeRef::Array(item) if !param.json && **item == TypeRef::String => (
            quote!(
                impl ::std::iter::IntoIterator<Item = impl ::std::convert::Into<::std::string::String>>
            ),
            quote!(value.into_iter().map(::std::convert::Into::into).collect()),
        ),
        TypeRef::Array(item) if !param.json => {
            let item = type_tokens(item, &prefix);
            (
                quote!(impl ::std::iter::IntoIterator<Item = #item>),
                quote!(value.into_iter().collect()),
            )
        }
        other => (type_tokens(other, &prefix), quote!(value)),
    }
}

/// The statements that add one query or header value to `request`.
fn value_call(location: Location, ty: &TypeRef, wire: &str) -> TokenStream {
    match (location, ty) {
        (Location::Query, TypeRef::Secret) => quote!(request.secret_query(#wire, value);),
        (Location::Query, TypeRef::String) => quote!(request.query(#wire, value.as_str());),
        (Location::Query, _) => quote!(request.query(#wire, &value.to_string());),
        (Location::Header, TypeRef::Secret) => quote!(request.secret_header(#wire, value)?;),
        (Location::Header, TypeRef::String) => quote!(request.header(#wire, value.as_str())?;),
        (Location::Header, _) => quote!(request.header(#wire, &value.to_string())?;),
        (Location::Path, _) => quote!(),
        (Location::Body, _) => quote!(request.json_body(value)?;),
    }
}

fn stored_type(param: &Param) -> TokenStream {
    type_tokens(&param.ty, &quote!(crate::types::))
}

fn example_value(param: &Param) -> String {
    if param.json {
        return "Default::default()".to_owned();
    }
    match &param.ty {
        TypeRef::String | TypeRef::Secret => format!("\"<{}>\"", param.name),
        TypeRef::I32 | TypeRef::I64 => "1".to_owned(),
        TypeRef::F32 | TypeRef::F64 => "1.0".to_owned(),
        TypeRef::Bool => "true".to_owned(),
        TypeRef::Named(name) => format!(
            "\"{}\".parse::<{CRATE}::types::{name}>().unwrap()",
            param.name
        ),
        _ => "Default::default()".to_owned(),
    }
}

fn emit_method(op: &Operation) -> TokenStream {
    let method = field_ident(&op.method_name);
    let builder = type_ident(&op.builder_name);
    let mut doc = String::new();
    if let Some(summary) = &op.summary {
        doc.push_str(summary.trim());
        doc.push_str("\n\n");
    }
    if let Some(description) = &op.description {
        doc.push_str(description.trim());
        doc.push_str("\n\n");
    }
    doc.push_str(&format!(
        "`{} {}` (operation `{}`).",
        op.http_method, op.path, op.id
    ));
    let inputs = op.inputs();
    let args = args_of(&inputs);
    if !args.is_empty() {
        doc.push_str("\n\nArguments:");
        for p in &args {
            doc.push_str(&format!(
                "\n- `{}`: {}",
                p.name,
                first_sentence(p.doc.as_deref().unwrap_or(&p.wire))
            ));
        }
    }
    let example_args: Vec<String> = args.iter().map(|p| example_value(p)).collect();
    doc.push_str(&format!(
        "\n\n```no_run\n# async fn example(client: &{CRATE}::Client) -> Result<(), {CRATE}::Error> {{\nlet response = client.{}({}).send().await?;\nprintln!(\"{{}}\", response.status());\n# Ok(())\n# }}\n```",
        op.method_name,
        example_args.join(", ")
    ));
    let doc = doc_attr(&doc);
    let deprecated = op
        .deprecated
        .then(|| quote!(#[deprecated = "deprecated in the spec"]));
    let params = args.iter().map(|p| {
        let ident = field_ident(&p.name);
        let (ty, _) = setter_type(p);
        quote!(#ident: #ty)
    });
    let conversions = args.iter().map(|p| {
        let ident = field_ident(&p.name);
        let (_, convert) = setter_type(p);
        let convert = rename_value(convert, &ident);
        quote!(#convert)
    });
    quote! {
        #doc
        #deprecated
        pub fn #method(&self, #(#params),*) -> builder::#builder {
            builder::#builder::new(self.clone(), #(#conversions),*)
        }
    }
}

/// Rewrites the `value` placeholder of a conversion to the argument's name.
fn rename_value(convert: TokenStream, ident: &proc_macro2::Ident) -> TokenStream {
    convert
        .into_iter()
        .map(|tt| match tt {
            proc_macro2::TokenTree::Ident(i) if i == "value" => {
                proc_macro2::TokenTree::Ident(ident.clone())
            }
            other => other,
        })
        .collect()
}

fn first_sentence(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.find(". ") {
        Some(end) => text[..=end].to_owned(),
        None => text,
    }
}

fn emit_builder(op: &Operation) -> TokenStream {
    let builder = type_ident(&op.builder_name);
    let method = &op.method_name;
    let operation_id = &op.id;
    let struct_doc = format!(
        " The request of [`Client::{method}`](crate::Client::{method}): set optional parameters, then [`send`]({}::send).",
        op.builder_name
    );
    let inputs = op.inputs();
    let fields = inputs.iter().map(|p| {
        let ident = field_ident(&p.name);
        let ty = stored_type(p);
        if p.required {
            quote!(#ident: #ty,)
        } else {
            quote!(#ident: ::std::option::Option<#ty>,)
        }
    });
    let args = args_of(&inputs);
    let new_params = args.iter().map(|p| {
        let ident = field_ident(&p.name);
        let ty = stored_type(p);
        quote!(#ident: #ty)
    });
    let new_fields = inputs.iter().map(|p| {
        let ident = field_ident(&p.name);
        if p.required {
            quote!(#ident,)
        } else {
            quote!(#ident: ::std::option::Option::None,)
        }
    });
    let setters = inputs.iter().filter(|p| !p.required).map(|p| {
        let ident = field_ident(&p.name);
        let (ty, convert) = setter_type(p);
        let location = match p.location {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Body => "JSON body",
        };
        let doc = doc_attr(&format!(
            "{}\n\nSent as the `{}` {location} parameter.",
            p.doc.as_deref().unwrap_or("Sets the parameter."),
            p.wire
        ));
        quote! {
            #doc
            pub fn #ident(mut self, value: #ty) -> Self {
                self.#ident = ::std::option::Option::Some(#convert);
                self
            }
        }
    });
    let all_idents: Vec<_> = inputs.iter().map(|p| field_ident(&p.name)).collect();
    let path_steps = op.path_parts.iter().map(|part| match part {
        PathPart::Literal(text) => quote!(request.push_path(#text);),
        PathPart::Param(index) => {
            let p = &op.params[*index];
            let ident = field_ident(&p.name);
            let wire = &p.wire;
            match p.ty {
                TypeRef::String => quote!(request.push_path_param(#wire, #ident)?;),
                _ => quote!(request.push_path_param(#wire, &#ident.to_string())?;),
            }
        }
    });
    let param_steps = inputs
        .iter()
        .filter(|p| p.location != Location::Path)
        .map(|p| {
            let ident = field_ident(&p.name);
            let wire = &p.wire;
            let call = match &p.ty {
                _ if p.location == Location::Body => value_call(p.location, &p.ty, wire),
                _ if p.json => {
                    quote!(request.query(#wire, &crate::runtime::to_json(#wire, value)?);)
                }
                TypeRef::Array(item) => {
                    let each = value_call(p.location, item, wire);
                    quote!(for value in value { #each })
                }
                ty => value_call(p.location, ty, wire),
            };
            if p.required {
                quote!({ let value = #ident; #call })
            } else {
                quote!(if let ::std::option::Option::Some(value) = #ident { #call })
            }
        });
    let http_method = format_ident!("{}", op.http_method);
    let (result_ty, execute) = match &op.success.body {
        Some(ty) => {
            let ty = type_tokens(ty, &quote!(crate::types::));
            (
                ty,
                quote!(client.execute_json(request, Self::decode_error).await),
            )
        }
        None => (
            quote!(()),
            quote!(client.execute_empty(request, Self::decode_error).await),
        ),
    };
    let statuses: Vec<String> = op
        .success
        .statuses
        .iter()
        .map(|s| match s {
            StatusMatch::Code(c) => c.to_string(),
            StatusMatch::Range(r) => format!("{r}XX"),
            StatusMatch::Default => "default".to_owned(),
        })
        .collect();
    let send_doc = doc_attr(&format!(
        "Sends the request and decodes the response ({}).\n\nA non-2xx status is an [`Error`](crate::Error) that keeps the status, the decoded error body and the request ids.",
        statuses.join(", ")
    ));
    let error_arms = op.errors.iter().map(|case| {
        let pattern = match case.status {
            StatusMatch::Code(c) => quote!(#c),
            StatusMatch::Range(r) => {
                let low = r * 100;
                let high = r * 100 + 99;
                quote!(#low..=#high)
            }
            StatusMatch::Default => quote!(_),
        };
        match &case.body {
            Some(name) => {
                let ident = type_ident(name);
                quote!(#pattern => crate::runtime::decode_error_body(body, crate::ErrorBody::#ident),)
            }
            None => quote!(#pattern => crate::runtime::error_body_text(body),),
        }
    });
    let paging_methods = op
        .paging
        .as_ref()
        .map(|paging| emit_paging_methods(op, paging));
    let has_default = op.errors.iter().any(|c| c.status == StatusMatch::Default);
    let fallback = (!has_default).then(|| quote!(_ => crate::runtime::error_body_text(body),));
    quote! {
        #[doc = #struct_doc]
        #[derive(::std::clone::Clone, ::std::fmt::Debug)]
        #[must_use = "a request builder does nothing until `send` is called"]
        pub struct #builder {
            client: crate::Client,
            #(#fields)*
        }

        impl #builder {
            /// The `operationId` of the request in the spec.
            pub const OPERATION_ID: &'static str = #operation_id;

            pub(crate) fn new(client: crate::Client, #(#new_params),*) -> Self {
                Self {
                    client,
                    #(#new_fields)*
                }
            }

            #(#setters)*

            fn request(&self) -> ::std::result::Result<crate::runtime::Request, crate::Error> {
                let Self { client: _, #(#all_idents),* } = self;
                let mut request = crate::runtime::Request::new(::reqwest::Method::#http_method, Self::OPERATION_ID);
                #(#path_steps)*
                #(#param_steps)*
                ::std::result::Result::Ok(request)
            }

            #paging_methods

            #send_doc
            pub async fn send(self) -> ::std::result::Result<::progenitor_client::ResponseValue<#result_ty>, crate::Error> {
                let request = self.request()?;
                let client = self.client;
                #execute
            }

            /// Decodes an error body with the schema the spec declares for its status.
            #[allow(clippy::match_single_binding)]
            fn decode_error(status: u16, body: &[u8]) -> crate::ErrorBody {
                match status {
                    #(#error_arms)*
                    #fallback
                }
            }
        }
    }
}
