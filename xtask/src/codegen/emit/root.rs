//! `mod.rs`: the generated root module: the modules, `Client` on the
//! runtime's `ClientCore`, and the names of the runtime's generic types
//! for this API (`Error`, `ClientBuilder`, `Pages`, `Items`).

use proc_macro2::TokenStream;
use quote::quote;

use super::{Target, doc_attr, inner_doc_attr};
use crate::codegen::ir::Api;

/// The tokens of `mod.rs`.
pub(crate) fn emit(api: &Api, target: &Target) -> TokenStream {
    let doc = inner_doc_attr(&format!(
        "Code generated from the OpenAPI description of {}.\n\nNever edit these files: change the spec or the generator and run `cargo xtask codegen`.",
        api.title
    ));
    let krate = &target.crate_path;
    let version = &api.version;
    let (base_url_const, default_base_url) = match &api.base_url {
        Some(base_url) => {
            let base_doc = doc_attr(&format!(
                "The default base URL: the first server of the spec, `{base_url}`."
            ));
            (
                quote! {
                    #base_doc
                    pub const DEFAULT_BASE_URL: &str = #base_url;
                },
                quote!(Some(DEFAULT_BASE_URL)),
            )
        }
        None => (quote!(), quote!(None)),
    };
    let servers = emit_servers(api);
    let mut setup = String::new();
    let builder_arg = match api.base_url {
        Some(_) => "",
        None => "\"https://api.example.com\"",
    };
    if api.authenticated {
        setup.push_str("\n    .bearer_token(\"<access token>\")");
    }
    let client_doc = doc_attr(&format!(
        "A client of {title}: one method per operation, each returning a request builder.\n\nCheap to clone: clones share one connection pool. It dereferences to the runtime's [`ClientCore`] for its settings (`base_url()`, `timeout()`, ...).\n\n```no_run\n# async fn example() -> Result<(), {krate}::Error> {{\nlet client = {krate}::Client::builder({builder_arg}){setup}\n    .build()?;\n# Ok(())\n# }}\n```",
        title = api.title
    ));
    let builder_fn = match api.base_url {
        Some(_) => quote! {
            /// Starts configuring a client (see [`ClientBuilder`]).
            pub fn builder() -> ClientBuilder {
                ClientBuilder::new()
            }
        },
        None => quote! {
            /// Starts configuring a client of the service at `base_url` (the
            /// spec lists no server; see [`ClientBuilder`]).
            pub fn builder(base_url: impl AsRef<str>) -> ClientBuilder {
                ClientBuilder::new().base_url(base_url)
            }
        },
    };
    let credentials = (!api.authenticated).then(|| {
        quote! {
            // The spec asks for no credentials.
            const REQUIRES_CREDENTIALS: bool = false;
        }
    });
    quote! {
        #doc
        #![forbid(unsafe_code)]

        use pc_api_runtime::ClientCore;
        use pc_api_runtime::__codegen::ApiClient;

        #[rustfmt::skip]
        pub mod builder;
        #[rustfmt::skip]
        mod client;
        #[rustfmt::skip]
        mod errors;
        #[rustfmt::skip]
        mod paging;
        #[rustfmt::skip]
        pub mod types;

        pub use self::errors::ErrorBody;

        #base_url_const

        /// The version of the API description (`info.version` of the spec).
        pub const API_VERSION: &str = #version;

        #servers

        #client_doc
        #[derive(Clone, Debug)]
        pub struct Client {
            core: ClientCore,
        }

        impl Client {
            #builder_fn
        }

        impl std::ops::Deref for Client {
            type Target = ClientCore;

            fn deref(&self) -> &ClientCore {
                &self.core
            }
        }

        impl ApiClient for Client {
            type ErrorBody = ErrorBody;
            const DEFAULT_BASE_URL: Option<&'static str> = #default_base_url;
            #credentials

            fn from_core(core: ClientCore) -> Self {
                Client { core }
            }
        }

        /// Configures a [`Client`]: base URL, credentials, timeouts, retries and limits.
        pub type ClientBuilder = pc_api_runtime::ClientBuilder<Client>;

        /// The error of every operation: the status, the decoded [`ErrorBody`],
        /// the request ids, and never a secret.
        pub type Error = pc_api_runtime::Error<ErrorBody>;

        /// The pages of a listing (see [`pc_api_runtime::Pages`]).
        pub type Pages<T> = pc_api_runtime::Pages<T, ErrorBody>;

        /// The items of a listing, each exactly once and in order (see [`pc_api_runtime::Items`]).
        pub type Items<I> = pc_api_runtime::Items<I, ErrorBody>;
    }
}

/// `Server`, when the spec lists several: each server's base URL, by name,
/// for `ClientBuilder::base_url`.
fn emit_servers(api: &Api) -> TokenStream {
    if api.servers.len() < 2 {
        return TokenStream::new();
    }
    let variants = api.servers.iter().map(|server| {
        let ident = crate::codegen::names::type_ident(&server.name);
        let doc = doc_attr(&format!(
            "`{}`{}",
            server.url,
            server
                .doc
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        ));
        quote!(#doc #ident,)
    });
    let arms = api.servers.iter().map(|server| {
        let ident = crate::codegen::names::type_ident(&server.name);
        let url = &server.url;
        quote!(Self::#ident => #url,)
    });
    let all = api.servers.iter().map(|server| {
        let ident = crate::codegen::names::type_ident(&server.name);
        quote!(Self::#ident)
    });
    quote! {
        /// The servers of the spec. The first is the default base URL; pass
        /// another to [`ClientBuilder::base_url`](pc_api_runtime::ClientBuilder::base_url).
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub enum Server {
            #[default]
            #(#variants)*
        }

        impl Server {
            /// Every server, the default first.
            pub const ALL: &'static [Server] = &[#(#all),*];

            /// The server's base URL.
            pub const fn url(self) -> &'static str {
                match self {
                    #(#arms)*
                }
            }
        }

        impl AsRef<str> for Server {
            fn as_ref(&self) -> &str {
                self.url()
            }
        }
    }
}
