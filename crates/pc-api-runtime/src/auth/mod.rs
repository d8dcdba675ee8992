//! Signing in: [`TokenProvider`], where the bearer token of each request
//! comes from, and the credentials partners sign in with:
//! [`RefreshTokenCredential`] (the secure application model, App+User) and
//! [`ClientSecretCredential`] (app-only). A failed sign-in is an error of
//! kind `Auth` whose [`SignInError`] names the `AADSTS` code, a hint and the
//! ids a support ticket needs.

#[cfg(feature = "azure")]
mod azure;
mod credential;
mod endpoint;

#[cfg(feature = "azure")]
pub use self::azure::{AzureCredential, TokenCredential};
pub use self::credential::{
    ClientSecretCredential, ClientSecretCredentialBuilder, RefreshTokenCredential,
    RefreshTokenCredentialBuilder,
};
pub use self::endpoint::SignInError;

use std::future::Future;
use std::pin::Pin;

use crate::secret::Secret;

/// A boxed error, as token providers return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed future, as [`TokenProvider::token`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Supplies the bearer token. The client asks before every attempt of every
/// request, so a provider that refreshes an expiring token keeps a long
/// listing going.
///
/// Closures returning a future implement it, as in
/// `Client::builder().token_provider(provider())`:
///
/// ```
/// use pc_api_runtime::{BoxError, Secret, TokenProvider};
///
/// fn provider() -> impl TokenProvider {
///     || async {
///         // Fetch or refresh an access token here.
///         Ok::<_, BoxError>(Secret::from("<access token>"))
///     }
/// }
/// ```
///
/// An error a custom provider returns is never shown by the client's
/// errors, which cannot know whether it holds a secret; it is handed back
/// by `Error::token_provider_error`.
pub trait TokenProvider: Send + Sync {
    /// The token for the next request.
    fn token(&self) -> BoxFuture<'_, Result<Secret, BoxError>>;

    /// The service refused `token` with 401 before the provider expected
    /// (revoked, a clock ahead, a token good for fewer requests than its
    /// lifetime says). Forget it if it is cached, and say whether the next
    /// [`token`](TokenProvider::token) may be another one: the request is
    /// then sent once more with it. The default: `false` (a fixed token).
    fn reject(&self, token: &Secret) -> bool {
        let _ = token;
        false
    }
}

/// One fixed token, as set by [`ClientBuilder::bearer_token`](crate::ClientBuilder::bearer_token).
#[derive(Clone, Debug)]
pub struct StaticToken(Secret);

impl StaticToken {
    /// A provider that always returns `token`.
    pub fn new(token: impl Into<Secret>) -> Self {
        StaticToken(token.into())
    }
}

impl TokenProvider for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<Secret, BoxError>> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }
}

impl<F, Fut> TokenProvider for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<Secret, BoxError>> + Send + 'static,
{
    fn token(&self) -> BoxFuture<'_, Result<Secret, BoxError>> {
        Box::pin(self())
    }
}
