//! A Rust client for the [Microsoft Partner Center REST API][pc], generated
//! from a hand-authored OpenAPI description (`spec/partner-center.yaml`).
//!
//! The models are in [`types`], one method per operation is on [`Client`],
//! and every failure is an [`Error`] that keeps the HTTP status, the decoded
//! `ApiFault` and the request ids a support ticket needs, and never a secret.
//!
//! ```no_run
//! use pc_api::types::UserState;
//! use pc_api::Client;
//!
//! # async fn example() -> Result<(), pc_api::Error> {
//! let client = Client::builder()
//!     .bearer_token("<an App+User access token>")
//!     .build()?;
//! let page = client
//!     .get_customer_users("4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04")
//!     .size(500)
//!     .send()
//!     .await?;
//! for user in &page.items {
//!     if user.state == Some(UserState::Active) {
//!         println!("{:?} {:?}", user.user_principal_name, user.display_name);
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! What the client sends on every request: `Authorization: Bearer …`,
//! `Accept: application/json`, a fresh UUID `MS-RequestId` per call, an
//! `MS-CorrelationId` (yours, or a fresh UUID) and `X-Locale` (default
//! `en-US`). Responses may start with a UTF-8 byte order mark, as Partner
//! Center's do; unknown fields are ignored and unknown enum values kept.
//!
//! [pc]: https://learn.microsoft.com/partner-center/developer/

#[rustfmt::skip]
mod generated;
mod helpers;

/// Signing in the way partners do: the secure application model
/// ([`auth::RefreshTokenCredential`]), app-only
/// ([`auth::ClientSecretCredential`]), and [`TokenProvider`] for anything else.
pub use pc_api_runtime::auth;
/// Partner-wide runs: every user of every customer
/// ([`Client::all_customer_users`]), under one throttle, resumable.
pub use pc_api_runtime::fanout;
pub use pc_api_runtime::{
    BoxError, BoxFuture, ClientCore, Cloud, DEFAULT_CONNECT_TIMEOUT, DEFAULT_LISTING_TIMEOUT,
    DEFAULT_LOCALE, DEFAULT_MAX_PAGES, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, ErrorKind,
    NextLink, Page, Paged, ParseEnumError, ResponseValue, RetryPolicy, Secret, StaticToken,
    Timestamp, TokenProvider, decode,
};

/// The generated surface: `Client`, `ClientBuilder`, `Error`, `ErrorBody`,
/// `Pages`, `Items`, `Server`, the `types` and `builder` modules, and the
/// constants of the spec.
pub use crate::generated::*;

/// The README examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadme;

/// The workspace README examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadme;
