//! The credentials partners sign in with: [`RefreshTokenCredential`] (the
//! secure application model, App+User) and [`ClientSecretCredential`]
//! (app-only). Both cache the access token and renew it before it expires,
//! with one token request however many requests find it stale.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Url;
use tokio::time::Instant;

use super::endpoint::{Grant, Issued, TokenEndpoint};
use super::{BoxError, BoxFuture, TokenProvider};
use crate::client::Cloud;
use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// How long before its expiry an access token is renewed: 5 minutes, or
/// half its lifetime for tokens that live less than 10 minutes.
const RENEW_AHEAD: Duration = Duration::from_secs(5 * 60);
/// The timeout of one attempt of a token request.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

type OnRefreshToken = Box<dyn Fn(&Secret) + Send + Sync>;

/// An App+User credential of the secure application model: a refresh token
/// (from a one-time interactive sign-in with MFA) exchanged for access
/// tokens at the partner tenant's token endpoint.
///
/// ```no_run
/// # fn example() -> Result<(), pc_api_runtime::Error> {
/// use pc_api_runtime::auth::RefreshTokenCredential;
///
/// let credential = RefreshTokenCredential::builder()
///     .tenant_id("<partner tenant id or domain>")
///     .client_id("<application id>")
///     .client_secret("<secret>")
///     .refresh_token("<refresh token>")
///     .on_refresh_token(|rotated: &pc_api_runtime::Secret| {
///         // Store it (a file, a key vault): the next run needs it.
///         let _ = std::fs::write("refresh-token", rotated.expose_secret());
///     })
///     .build()?;
/// // Client::builder().token_provider(credential).build()?
/// # Ok(())
/// # }
/// ```
///
/// - `POST {authority}/{tenant}/oauth2/v2.0/token` with `grant_type=refresh_token`,
///   `client_id`, `client_secret`, `refresh_token` and the scope
///   `{Partner Center}/user_impersonation`, form-encoded.
/// - The access token is cached and renewed 5 minutes before it expires
///   (half its lifetime before, for short-lived tokens). Any number of
///   requests that find it stale wait for one token request; a failed one is
///   not cached.
/// - **Every reply rotates the refresh token**: the new one replaces the one
///   in use and is handed to [`on_refresh_token`](RefreshTokenCredentialBuilder::on_refresh_token).
///   Persist it: a refresh token expires 90 days after its last use, and the
///   next run must start from the newest (the old ones are not revoked, but
///   age out).
/// - 5xx, 429, timeouts and broken connections of the token endpoint are
///   retried with the [`RetryPolicy`]; a 4xx is not, and is an error of kind
///   `Auth` that names the `AADSTS` code, the first line of its description,
///   a hint for the codes partners hit (700082: sign in again; 50076, 50078,
///   70043: MFA; 65001: consent; 7000215: the secret; 90038: the cloud...) and
///   the trace and correlation ids. No token or secret is in any `Display`,
///   `Debug`, log or error.
#[derive(Clone)]
pub struct RefreshTokenCredential {
    inner: Arc<Inner>,
}

/// An app-only credential: the application's own client id and secret
/// (client credentials grant, scope `{Partner Center}/.default`), with the
/// same cache and errors as [`RefreshTokenCredential`]. Customer-user
/// operations answer 403 to app-only tokens; listing customers accepts them.
#[derive(Clone)]
pub struct ClientSecretCredential {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: TokenEndpoint,
    /// The refresh token in use; `None` for the client credentials grant.
    refresh_token: Option<Mutex<Secret>>,
    on_refresh_token: Option<OnRefreshToken>,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

struct Cached {
    access_token: Secret,
    renew_at: Instant,
}

impl Inner {
    /// The cached access token, or a new one. The lock is the single flight:
    /// whoever finds the token stale requests one while the others wait.
    async fn token(self: &Arc<Self>) -> Result<Secret, Error> {
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref()
            && Instant::now() < cached.renew_at
        {
            return Ok(cached.access_token.clone());
        }
        // The request runs in a task of its own, so that a caller that gives
        // up (a dropped listing) cannot lose the refresh token it rotates.
        let inner = Arc::clone(self);
        let issued = tokio::spawn(async move { inner.refresh().await })
            .await
            .map_err(|_| {
                Error::new(crate::error::ErrorKind::Auth)
                    .with_message("the token request was cancelled")
            })??;
        let renew_ahead = RENEW_AHEAD.min(issued.lifetime / 2);
        let renew_at = Instant::now() + issued.lifetime.saturating_sub(renew_ahead);
        *cache = Some(Cached {
            access_token: issued.access_token.clone(),
            renew_at,
        });
        Ok(issued.access_token)
    }

    /// Forgets the cached access token if it is `rejected`. Whoever holds
    /// the cache now is fetching a new one; either way the next token is
    /// another one.
    fn reject(&self, rejected: &Secret) -> bool {
        if let Ok(mut cache) = self.cache.try_lock()
            && cache
                .as_ref()
                .is_some_and(|cached| cached.access_token == *rejected)
        {
            *cache = None;
        }
        true
    }

    /// One token request; a rotated refresh token replaces the one in use
    /// and goes to the callback before the access token is returned.
    async fn refresh(&self) -> Result<Issued, Error> {
        let issued = match &self.refresh_token {
            Some(current) => {
                let token = current
                    .lock()
                    .map(|t| t.clone())
                    .map_err(|_| Error::config("the refresh token's lock is poisoned"))?;
                self.endpoint.request(Grant::RefreshToken(&token)).await?
            }
            None => self.endpoint.request(Grant::ClientCredentials).await?,
        };
        if let (Some(current), Some(rotated)) = (&self.refresh_token, &issued.refresh_token) {
            if let Ok(mut current) = current.lock() {
                *current = rotated.clone();
            }
            if let Some(callback) = &self.on_refresh_token {
                callback(rotated);
            }
        }
        tracing::debug!(
            lifetime_s = issued.lifetime.as_secs(),
            "access token issued"
        );
        Ok(issued)
    }
}

impl RefreshTokenCredential {
    /// Starts configuring the credential.
    pub fn builder() -> RefreshTokenCredentialBuilder {
        RefreshTokenCredentialBuilder::default()
    }

    /// The refresh token in use: the newest rotation.
    pub fn refresh_token(&self) -> Secret {
        self.inner
            .refresh_token
            .as_ref()
            .and_then(|t| t.lock().ok().map(|t| t.clone()))
            .unwrap_or_default()
    }

    /// An access token: the cached one, or a new one.
    pub async fn access_token(&self) -> Result<Secret, Error> {
        self.inner.token().await
    }
}

impl ClientSecretCredential {
    /// Starts configuring the credential.
    pub fn builder() -> ClientSecretCredentialBuilder {
        ClientSecretCredentialBuilder::default()
    }

    /// An access token: the cached one, or a new one.
    pub async fn access_token(&self) -> Result<Secret, Error> {
        self.inner.token().await
    }
}

impl TokenProvider for RefreshTokenCredential {
    fn token(&self) -> BoxFuture<'_, Result<Secret, BoxError>> {
        Box::pin(async move { self.inner.token().await.map_err(BoxError::from) })
    }

    fn reject(&self, token: &Secret) -> bool {
        self.inner.reject(token)
    }
}

impl TokenProvider for ClientSecretCredential {
    fn token(&self) -> BoxFuture<'_, Result<Secret, BoxError>> {
        Box::pin(async move { self.inner.token().await.map_err(BoxError::from) })
    }

    fn reject(&self, token: &Secret) -> bool {
        self.inner.reject(token)
    }
}

impl fmt::Debug for RefreshTokenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug(&self.inner, "RefreshTokenCredential", f)
    }
}

impl fmt::Debug for ClientSecretCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug(&self.inner, "ClientSecretCredential", f)
    }
}

fn debug(inner: &Inner, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.debug_struct(name)
        .field("token_endpoint", &inner.endpoint.url.as_str())
        .field("client_id", &inner.endpoint.client_id)
        .field("scope", &inner.endpoint.scope)
        .field("client_secret", &inner.endpoint.client_secret)
        .finish_non_exhaustive()
}

/// What both credential builders share.
#[derive(Default)]
struct Common {
    tenant_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    cloud: Cloud,
    authority_host: Option<String>,
    scope: Option<String>,
    retry: Option<RetryPolicy>,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for Common {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("cloud", &self.cloud)
            .field("authority_host", &self.authority_host)
            .finish_non_exhaustive()
    }
}

impl Common {
    fn endpoint(self, default_scope: &str) -> Result<TokenEndpoint, Error> {
        let missing = |what: &str| Error::config(format!("the credential needs `{what}`"));
        let tenant = self
            .tenant_id
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| missing("tenant_id"))?;
        let client_id = self
            .client_id
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| missing("client_id"))?;
        let client_secret = self
            .client_secret
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("client_secret"))?;
        if !tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        {
            return Err(Error::config(format!(
                "the tenant {tenant:?} is not a tenant id or domain (letters, digits, `-`, `.`)"
            )));
        }
        let host = self
            .authority_host
            .unwrap_or_else(|| self.cloud.authority_host().to_owned());
        let authority = Url::parse(&host)
            .ok()
            .filter(|u| {
                matches!(u.scheme(), "https" | "http")
                    && u.host_str().is_some()
                    && u.query().is_none()
            })
            .ok_or_else(|| {
                Error::config(format!("the authority host {host:?} is not an http(s) URL"))
            })?;
        let url = Url::parse(&format!(
            "{}/{tenant}/oauth2/v2.0/token",
            authority.as_str().trim_end_matches('/')
        ))
        .map_err(|e| Error::config("the token endpoint URL is invalid").with_source(e))?;
        let scope = self
            .scope
            .unwrap_or_else(|| format!("{}/{default_scope}", self.cloud.api_endpoint()));
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(crate::client::DEFAULT_CONNECT_TIMEOUT)
                .user_agent(concat!("pc-api/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| {
                    Error::config("the HTTP client could not be created").with_source(e)
                })?,
        };
        Ok(TokenEndpoint {
            url,
            client_id,
            client_secret,
            scope,
            http,
            retry: self.retry.unwrap_or_default(),
            timeout: TOKEN_TIMEOUT,
        })
    }
}

macro_rules! common_setters {
    () => {
        /// The partner's tenant: its id (a GUID) or a domain of it.
        pub fn tenant_id(mut self, tenant: impl Into<String>) -> Self {
            self.common.tenant_id = Some(tenant.into());
            self
        }

        /// The application (client) id.
        pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
            self.common.client_id = Some(client_id.into());
            self
        }

        /// The application's client secret.
        pub fn client_secret(mut self, secret: impl Into<Secret>) -> Self {
            self.common.client_secret = Some(secret.into());
            self
        }

        /// The national cloud: its authority and its Partner Center resource
        /// together (default: the global cloud).
        pub fn cloud(mut self, cloud: Cloud) -> Self {
            self.common.cloud = cloud;
            self
        }

        /// Another authority host than the cloud's, e.g. a local fake
        /// (`http://127.0.0.1:8080`) or a sovereign cloud: tokens are
        /// requested at `{host}/{tenant}/oauth2/v2.0/token`.
        pub fn authority_host(mut self, host: impl Into<String>) -> Self {
            self.common.authority_host = Some(host.into());
            self
        }

        /// Another scope than the cloud's default.
        pub fn scope(mut self, scope: impl Into<String>) -> Self {
            self.common.scope = Some(scope.into());
            self
        }

        /// How token requests are retried (default: the client's default
        /// policy, [`RetryPolicy::default`]).
        pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
            self.common.retry = Some(policy);
            self
        }

        /// A `reqwest::Client` you configured (proxies, certificates).
        pub fn reqwest_client(mut self, client: reqwest::Client) -> Self {
            self.common.http = Some(client);
            self
        }
    };
}

/// Configures a [`RefreshTokenCredential`].
#[derive(Default)]
pub struct RefreshTokenCredentialBuilder {
    common: Common,
    refresh_token: Option<Secret>,
    on_refresh_token: Option<OnRefreshToken>,
}

impl fmt::Debug for RefreshTokenCredentialBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenCredentialBuilder")
            .field("common", &self.common)
            .field("refresh_token", &self.refresh_token)
            .finish_non_exhaustive()
    }
}

impl RefreshTokenCredentialBuilder {
    common_setters!();

    /// The refresh token to start from: the newest one stored.
    pub fn refresh_token(mut self, token: impl Into<Secret>) -> Self {
        self.refresh_token = Some(token.into());
        self
    }

    /// Called with every rotated refresh token. Store it where the next run
    /// reads it from: the one you started with ages out 90 days after its
    /// last use, and only the newest is sure to be valid.
    pub fn on_refresh_token(mut self, callback: impl Fn(&Secret) + Send + Sync + 'static) -> Self {
        self.on_refresh_token = Some(Box::new(callback));
        self
    }

    /// Checks the settings and builds the credential.
    pub fn build(self) -> Result<RefreshTokenCredential, Error> {
        let refresh_token = self
            .refresh_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::config("the credential needs `refresh_token`"))?;
        let endpoint = self.common.endpoint("user_impersonation")?;
        Ok(RefreshTokenCredential {
            inner: Arc::new(Inner {
                endpoint,
                refresh_token: Some(Mutex::new(refresh_token)),
                on_refresh_token: self.on_refresh_token,
                cache: tokio::sync::Mutex::new(None),
            }),
        })
    }
}

/// Configures a [`ClientSecretCredential`].
#[derive(Default, Debug)]
pub struct ClientSecretCredentialBuilder {
    common: Common,
}

impl ClientSecretCredentialBuilder {
    common_setters!();

    /// Checks the settings and builds the credential.
    pub fn build(self) -> Result<ClientSecretCredential, Error> {
        let endpoint = self.common.endpoint(".default")?;
        Ok(ClientSecretCredential {
            inner: Arc::new(Inner {
                endpoint,
                refresh_token: None,
                on_refresh_token: None,
                cache: tokio::sync::Mutex::new(None),
            }),
        })
    }
}
