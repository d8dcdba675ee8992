//! `client.rs` and `builder.rs`: one method on `Client` per operation, and
//! its request builder (optional parameters, `send`, and for paged
//! operations `pages`, `stream` and `resume`).

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::errors::Decoders;
use super::models::has_default;
use super::{
    Scope, Target, allow_deprecated, allow_unused_imports, doc_attr, inner_doc_attr, names_used,
    type_tokens, use_header,
};
use crate::codegen::ir::{
    Api, Body, Encoding, Location, ModelKind, Operation, Paging, Param, PathPart, StatusMatch,
    TypeRef,
};
use crate::codegen::names::{field_ident, type_ident};

/// The parameters of `op`, then the request body as a parameter named `body`.
fn inputs(op: &Operation) -> Vec<Param> {
    let mut inputs = op.params.clone();
    if let Some(body) = &op.body {
        inputs.push(Param {
            wire: "body".to_owned(),
            name: "body".to_owned(),
            location: Location::Body,
            required: body.required,
            ty: body.ty.clone(),
            // Set as it is (a struct, a map): no conversion in the setter.
            json: matches!(body.encoding, Encoding::Json | Encoding::Form),
            comma: false,
            deprecated: false,
            doc: Some(
                body.doc
                    .clone()
                    .unwrap_or_else(|| "The request body.".to_owned()),
            ),
        });
    }
    inputs
}

fn required(inputs: &[Param]) -> Vec<&Param> {
    inputs.iter().filter(|p| p.required).collect()
}

/// The tokens of `client.rs`.
pub(crate) fn emit_methods(api: &Api, target: &Target) -> TokenStream {
    let doc = inner_doc_attr(
        "The operations of the API: a method on [`Client`] per operation, each returning a request builder of [`builder`].",
    );
    let mut used = BTreeSet::new();
    for op in &api.operations {
        for p in required(&inputs(op)) {
            names_used(&p.ty, &mut used);
        }
    }
    let types = used.contains("types").then(|| quote!(types,));
    // The runtime's types (and `BTreeMap`) that required arguments use.
    let runtime_use = use_header(&used);
    let methods = api.operations.iter().map(|op| emit_method(api, op, target));
    let deprecated = allow_deprecated(api);
    let unused = allow_unused_imports(api);
    quote! {
        #doc
        #deprecated
        #unused
        #runtime_use
        use super::{builder, #types Client};

        impl Client {
            #(#methods)*
        }
    }
}

/// Whether `ty` is an open string enum, which converts from any `&str`.
fn is_open_enum(api: &Api, ty: &TypeRef) -> bool {
    matches!(ty, TypeRef::Named(name) if api.model(name).is_some_and(|m|
        matches!(m.kind, ModelKind::Enum { unknown: Some(_), .. })))
}

/// The argument type of a required parameter or setter, and the
/// expression that stores `value`. Strings, secrets and open enums take
/// anything that converts (`"Group1"` for an open enum), arrays any
/// iterator of those.
fn setter_type(api: &Api, param: &Param) -> (TokenStream, TokenStream) {
    match &param.ty {
        TypeRef::String => (quote!(impl Into<String>), quote!(value.into())),
        TypeRef::Secret => (quote!(impl Into<Secret>), quote!(value.into())),
        ty if !param.json && is_open_enum(api, ty) => {
            let ty = type_tokens(ty, Scope::Sibling);
            (quote!(impl Into<#ty>), quote!(value.into()))
        }
        TypeRef::Array(item) if !param.json && **item == TypeRef::String => (
            quote!(impl IntoIterator<Item = impl Into<String>>),
            quote!(value.into_iter().map(Into::into).collect()),
        ),
        TypeRef::Array(item) if !param.json && is_open_enum(api, item) => {
            let item = type_tokens(item, Scope::Sibling);
            (
                quote!(impl IntoIterator<Item = impl Into<#item>>),
                quote!(value.into_iter().map(Into::into).collect()),
            )
        }
        TypeRef::Array(item) if !param.json => {
            let item = type_tokens(item, Scope::Sibling);
            (
                quote!(impl IntoIterator<Item = #item>),
                quote!(value.into_iter().collect()),
            )
        }
        other => (type_tokens(other, Scope::Sibling), quote!(value)),
    }
}

fn example_value(api: &Api, param: &Param, krate: &str) -> String {
    if param.json {
        return match &param.ty {
            TypeRef::Named(name) if !has_default(api, name) => {
                "todo!(\"the request body\")".to_owned()
            }
            _ => "Default::default()".to_owned(),
        };
    }
    match &param.ty {
        TypeRef::String | TypeRef::Secret => format!("\"<{}>\"", param.name),
        TypeRef::I8
        | TypeRef::I16
        | TypeRef::I32
        | TypeRef::I64
        | TypeRef::U8
        | TypeRef::U16
        | TypeRef::U32
        | TypeRef::U64 => "1".to_owned(),
        TypeRef::F32 | TypeRef::F64 => "1.0".to_owned(),
        TypeRef::Bool => "true".to_owned(),
        TypeRef::Named(name) => format!(
            "\"{}\".parse::<{krate}::types::{name}>().unwrap()",
            param.name
        ),
        _ => "Default::default()".to_owned(),
    }
}

fn example_args(api: &Api, op: &Operation, krate: &str) -> String {
    required(&inputs(op))
        .iter()
        .map(|p| example_value(api, p, krate))
        .collect::<Vec<_>>()
        .join(", ")
}

fn first_sentence(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.find(". ") {
        Some(end) => text[..=end].to_owned(),
        None => text,
    }
}

fn emit_method(api: &Api, op: &Operation, target: &Target) -> TokenStream {
    let krate = &target.crate_path;
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
    let inputs = inputs(op);
    let args = required(&inputs);
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
    doc.push_str(&format!(
        "\n\n```no_run\n# async fn example(client: &{krate}::Client) -> Result<(), {krate}::Error> {{\nlet response = client.{}({}).send().await?;\nprintln!(\"{{}}\", response.status());\n# Ok(())\n# }}\n```",
        op.method_name,
        example_args(api, op, krate)
    ));
    let doc = doc_attr(&doc);
    let deprecated = op
        .deprecated
        .then(|| quote!(#[deprecated = "deprecated in the spec"]));
    let params = args.iter().map(|p| {
        let ident = field_ident(&p.name);
        let (ty, _) = setter_type(api, p);
        quote!(#ident: #ty)
    });
    let conversions = args.iter().map(|p| {
        let ident = field_ident(&p.name);
        let (_, convert) = setter_type(api, p);
        rename_value(convert, &ident)
    });
    let many = too_many_arguments(args.len());
    quote! {
        #doc
        #deprecated
        #many
        pub fn #method(&self, #(#params),*) -> builder::#builder {
            builder::#builder::new(self.clone(), #(#conversions),*)
        }
    }
}

/// `#[allow(clippy::too_many_arguments)]` for a function of `required`
/// arguments besides its receiver (clippy's limit is seven in all): an
/// operation's required parameters are its method's arguments.
fn too_many_arguments(required: usize) -> TokenStream {
    if required + 1 > 7 {
        quote!(#[allow(clippy::too_many_arguments)])
    } else {
        TokenStream::new()
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

/// The tokens of `builder.rs`.
pub(crate) fn emit_builders(api: &Api, target: &Target, decoders: &Decoders) -> TokenStream {
    let doc = inner_doc_attr("Request builders: set optional parameters, then `send()`.");
    let mut used = BTreeSet::new();
    let mut paged = false;
    for op in &api.operations {
        for p in inputs(op) {
            names_used(&p.ty, &mut used);
        }
        if let Some((ty, _)) = &op.success.body {
            names_used(ty, &mut used);
        }
        if let Some(paging) = &op.paging {
            paged = true;
            names_used(&paging.item_ty, &mut used);
        }
    }
    let runtime: Vec<TokenStream> = ["Secret", "Timestamp"]
        .iter()
        .filter(|n| used.contains(*n))
        .map(|n| {
            let ident = format_ident!("{}", n);
            quote!(#ident,)
        })
        .collect();
    let types = used.contains("types").then(|| quote!(types,));
    let paging_names = paged.then(|| quote!(Items, Pages,));
    let btree = used.contains("BTreeMap").then(|| {
        quote!(
            use std::collections::BTreeMap;
        )
    });
    let builders = api
        .operations
        .iter()
        .map(|op| emit_builder(api, op, target, decoders));
    let deprecated = allow_deprecated(api);
    let unused = allow_unused_imports(api);
    quote! {
        #doc
        #deprecated
        #unused
        #btree
        use pc_api_runtime::__codegen::{self as rt, Request};
        use pc_api_runtime::{#(#runtime)* ResponseValue};
        use super::{errors, #types Client, Error, #paging_names};

        #(#builders)*
    }
}

/// The statement that adds one query or header value to `request`.
fn value_call(location: Location, ty: &TypeRef, wire: &str) -> TokenStream {
    match (location, ty) {
        (Location::Query, TypeRef::Secret) => quote!(request.secret_query(#wire, value);),
        (Location::Query, TypeRef::String) => quote!(request.query(#wire, value);),
        (Location::Query, _) => quote!(request.query(#wire, &value.to_string());),
        (Location::Header, TypeRef::Secret) => quote!(request.secret_header(#wire, value)?;),
        (Location::Header, TypeRef::String) => quote!(request.header(#wire, value)?;),
        (Location::Header, _) => quote!(request.header(#wire, &value.to_string())?;),
        (Location::Path, _) => quote!(),
        (Location::Body, _) => quote!(request.json_body(value)?;),
    }
}

/// The statement that sets the request body: JSON (with the constants its
/// model always sends, `x-request-constants`), form-encoded, text or bytes.
fn body_call(api: &Api, body: &Body) -> TokenStream {
    let media = &body.media;
    match body.encoding {
        Encoding::Form => return quote!(request.form_body(value)?;),
        Encoding::Text => return quote!(request.text_body(value, #media);),
        Encoding::Bytes => return quote!(request.bytes_body(value, #media);),
        Encoding::Json => {}
    }
    let constants = match &body.ty {
        TypeRef::Named(name) => api
            .model(name)
            .map(|m| m.request_constants.as_slice())
            .unwrap_or_default(),
        _ => &[],
    };
    if constants.is_empty() {
        return quote!(request.json_body(value)?;);
    }
    let pairs = constants.iter().map(|c| {
        let path = &c.path;
        let value = &c.value;
        quote!((&[#(#path),*], #value))
    });
    quote!(request.json_body_with(value, &[#(#pairs),*])?;)
}

fn emit_builder(api: &Api, op: &Operation, target: &Target, decoders: &Decoders) -> TokenStream {
    let builder = type_ident(&op.builder_name);
    let method = &op.method_name;
    let operation_id = &op.id;
    let struct_doc = format!(
        " The request of [`Client::{method}`](super::Client::{method}): set optional parameters, then [`send`]({}::send).",
        op.builder_name
    );
    let inputs = inputs(op);
    let fields = inputs.iter().map(|p| {
        let ident = field_ident(&p.name);
        let ty = type_tokens(&p.ty, Scope::Sibling);
        if p.required {
            quote!(#ident: #ty,)
        } else {
            quote!(#ident: Option<#ty>,)
        }
    });
    let args = required(&inputs);
    let many = too_many_arguments(args.len());
    let new_params = args.iter().map(|p| {
        let ident = field_ident(&p.name);
        let ty = type_tokens(&p.ty, Scope::Sibling);
        quote!(#ident: #ty)
    });
    let new_fields = inputs.iter().map(|p| {
        let ident = field_ident(&p.name);
        if p.required {
            quote!(#ident,)
        } else {
            quote!(#ident: None,)
        }
    });
    let setters = inputs.iter().filter(|p| !p.required).map(|p| {
        let ident = field_ident(&p.name);
        let (ty, convert) = setter_type(api, p);
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
        let deprecated = p
            .deprecated
            .then(|| quote!(#[deprecated = "deprecated in the spec"]));
        quote! {
            #doc
            #deprecated
            pub fn #ident(mut self, value: #ty) -> Self {
                self.#ident = Some(#convert);
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
                _ if p.location == Location::Body => match &op.body {
                    Some(body) => body_call(api, body),
                    None => quote!(),
                },
                _ if p.json => {
                    quote!(request.query(#wire, &rt::to_json(#wire, value)?);)
                }
                TypeRef::Array(item) if p.comma => {
                    let each = value_call(p.location, &TypeRef::String, wire);
                    let join = match **item {
                        TypeRef::String => quote!(value.join(",")),
                        _ => quote!(
                            value
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(",")
                        ),
                    };
                    quote!({ let value = &#join; #each })
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
                quote!(if let Some(value) = #ident { #call })
            }
        });
    let http_method = format_ident!("{}", op.http_method);
    let accept = match &op.success.body {
        Some((_, Encoding::Text | Encoding::Bytes)) => quote!(request.accept("*/*");),
        _ => quote!(),
    };
    let decoder = decoders.path_of(op);
    let (result_ty, send_call) = match &op.success.body {
        Some((ty, Encoding::Json | Encoding::Form)) if op.success.body_optional => {
            let ty = type_tokens(ty, Scope::Sibling);
            (
                quote!(Option<#ty>),
                quote!(rt::send_json_optional(&self.client, self.request(), #decoder).await),
            )
        }
        Some((ty, Encoding::Json | Encoding::Form)) => (
            type_tokens(ty, Scope::Sibling),
            quote!(rt::send_json(&self.client, self.request(), #decoder).await),
        ),
        Some((_, Encoding::Text)) => (
            quote!(String),
            quote!(rt::send_text(&self.client, self.request(), #decoder).await),
        ),
        Some((_, Encoding::Bytes)) => (
            quote!(Vec<u8>),
            quote!(rt::send_bytes(&self.client, self.request(), #decoder).await),
        ),
        None => (
            quote!(()),
            quote!(rt::send_empty(&self.client, self.request(), #decoder).await),
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
        "Sends the request and decodes the response ({}).\n\nA non-2xx status is an [`Error`] that keeps the status, the decoded error body and the request ids.",
        statuses.join(", ")
    ));
    let paging_methods = op
        .paging
        .as_ref()
        .map(|paging| emit_paging_methods(api, op, paging, target, &decoder));
    quote! {
        #[doc = #struct_doc]
        #[derive(Clone, Debug)]
        #[must_use = "a request builder does nothing until `send` is called"]
        pub struct #builder {
            client: Client,
            #(#fields)*
        }

        impl #builder {
            /// The `operationId` of the request in the spec.
            pub const OPERATION_ID: &'static str = #operation_id;

            #many
            pub(crate) fn new(client: Client, #(#new_params),*) -> Self {
                Self {
                    client,
                    #(#new_fields)*
                }
            }

            #(#setters)*

            #[inline]
            fn request(&self) -> Result<Request, rt::RequestError> {
                let Self { client: _, #(#all_idents),* } = self;
                let mut request = Request::new(rt::Method::#http_method, Self::OPERATION_ID);
                #accept
                #(#path_steps)*
                #(#param_steps)*
                Ok(request)
            }

            #paging_methods

            #send_doc
            pub async fn send(self) -> Result<ResponseValue<#result_ty>, Error> {
                #send_call
            }
        }
    }
}

/// `pages`, `stream` and `resume` on the builder of a paged operation.
fn emit_paging_methods(
    api: &Api,
    op: &Operation,
    paging: &Paging,
    target: &Target,
    decoder: &TokenStream,
) -> TokenStream {
    let krate = &target.crate_path;
    let collection = type_ident(&paging.collection);
    let item = type_tokens(&paging.item_ty, Scope::Sibling);
    let token_header = &paging.token_header;
    let path_prefix = &paging.path_prefix;
    let seek = match &paging.seek {
        Some(seek) => {
            let (wire, value) = (&seek.wire, &seek.value);
            quote!(Some((#wire, #value)))
        }
        None => quote!(None),
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
                    quote!(.#setter(types::#ty::#variant))
                }
                None => {
                    let value = &seek.value;
                    quote!(.#setter(#value))
                }
            }
        });
        let doc = doc_attr(&format!(
            "Continues a listing from a continuation token saved from [`Page::continuation_token`](pc_api_runtime::Page::continuation_token) or [`Error::resume_token`](pc_api_runtime::Error::resume_token): the first page fetched is the one the token points to, and the listing goes on from there.\n\nSends the token in `{token_header}`{}.",
            paging.seek.as_ref().map(|s| format!(" with `{}={}`", s.wire, s.value)).unwrap_or_default()
        ));
        quote! {
            #doc
            pub fn resume(self, token: impl Into<Secret>) -> Self {
                self.#setter(token) #seek_call
            }
        }
    });
    let method = &op.method_name;
    let args = example_args(api, op, krate);
    let pages_doc = doc_attr(&format!(
        "Lists every page, following the next links (see [`Pages`]).\n\nEvery page is requested with the same `MS-CorrelationId` and a fresh `MS-RequestId`; while you work on one page, the next is fetched.\n\n```no_run\n# async fn example(client: &{krate}::Client) -> Result<(), {krate}::Error> {{\nuse futures::TryStreamExt;\nlet mut pages = client.{method}({args}).pages();\nwhile let Some(page) = pages.try_next().await? {{\n    println!(\"page {{}}\", page.number());\n}}\n# Ok(())\n# }}\n```"
    ));
    let stream_doc = doc_attr(&format!(
        "Lists every item of every page, each exactly once and in order (see [`Items`]).\n\n```no_run\n# async fn example(client: &{krate}::Client) -> Result<(), {krate}::Error> {{\nuse futures::TryStreamExt;\nlet all: Vec<_> = client.{method}({args}).stream().try_collect().await?;\n# Ok(())\n# }}\n```"
    ));
    quote! {
        const PAGING: rt::PagingRules = rt::PagingRules {
            token_header: #token_header,
            seek: #seek,
            path_prefix: #path_prefix,
        };

        #pages_doc
        #[inline]
        pub fn pages(self) -> Pages<types::#collection> {
            Pages::start(&self.client, self.request(), &Self::PAGING, #decoder)
        }

        #stream_doc
        #[inline]
        pub fn stream(self) -> Items<#item> {
            self.pages().items()
        }

        #resume
    }
}
