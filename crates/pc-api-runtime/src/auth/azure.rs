//! [`AzureCredential`]: any `azure_core` [`TokenCredential`] (the
//! credentials of `azure_identity`: Azure CLI, managed identity, workload
//! identity, client certificate...) as a token provider, asking for the
//! Partner Center scope. Behind the `azure` feature.
//!
//! `azure_core` 1.x uses reqwest 0.13, the same major as this crate, so the
//! feature brings no second reqwest into the build.

use std::fmt;
use std::sync::Arc;

pub use azure_core::credentials::TokenCredential;

use super::{BoxError, BoxFuture, TokenProvider};
use crate::client::Cloud;
use crate::error::{Error, ErrorKind};
use crate::secret::Secret;

/// A token provider on an `azure_core` [`TokenCredential`].
///
/// ```ignore
/// let credential = azure_identity::AzureCliCredential::new(None)?;
/// let client = pc_api::Client::builder()
///     .token_provider(pc_api::auth::AzureCredential::new(credential))
///     .build()?;
/// ```
///
/// The scope is `{Partner Center}/.default` of the cloud (the global one
/// unless [`cloud`](AzureCredential::cloud) says otherwise). Customer-user
/// operations need an App+User token: a credential that signs in as a user
/// (Azure CLI, developer tools), not as an application. The credential's
/// own cache renews tokens; errors are of kind `Auth` with the credential's
/// error as their source.
#[derive(Clone)]
pub struct AzureCredential {
    credential: Arc<dyn TokenCredential>,
    scope: String,
}

impl AzureCredential {
    /// The provider of `credential`, with the global cloud's scope.
    pub fn new(credential: Arc<dyn TokenCredential>) -> Self {
        AzureCredential {
            credential,
            scope: format!("{}/.default", Cloud::Global.api_endpoint()),
        }
    }

    /// The scope of `cloud`'s Partner Center.
    pub fn cloud(mut self, cloud: Cloud) -> Self {
        self.scope = format!("{}/.default", cloud.api_endpoint());
        self
    }

    /// Another scope, e.g. `…/user_impersonation`.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }
}

impl fmt::Debug for AzureCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureCredential")
            .field("credential", &self.credential)
            .field("scope", &self.scope)
            .finish()
    }
}

impl TokenProvider for AzureCredential {
    fn token(&self) -> BoxFuture<'_, Result<Secret, BoxError>> {
        Box::pin(async move {
            match self
                .credential
                .get_token(&[self.scope.as_str()], None)
                .await
            {
                Ok(token) => Ok(Secret::from(token.token.secret())),
                Err(error) => Err(BoxError::from(
                    Error::<crate::error::NoBody>::new(ErrorKind::Auth)
                        .with_message(format!(
                            "the Azure credential could not get a token for {}",
                            self.scope
                        ))
                        .with_source(error),
                )),
            }
        })
    }
}
