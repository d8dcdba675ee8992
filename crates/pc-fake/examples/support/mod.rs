//! What the examples share: reading the sign-in variables, signing in to
//! the real service (storing every rotated refresh token), and signing in
//! to an embedded `pc-fake`.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

use pc_api::auth::RefreshTokenCredential;
use pc_api::{Client, Cloud, Secret};

/// The sign-in variables, all four needed together.
pub(crate) const SIGN_IN: [&str; 4] = [
    "PC_TENANT_ID",
    "PC_CLIENT_ID",
    "PC_CLIENT_SECRET",
    "PC_REFRESH_TOKEN",
];

/// A variable's value, unless it is unset or blank.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// How the example reaches a service.
pub(crate) enum Source {
    /// Sign in with the four variables of [`SIGN_IN`].
    SignIn {
        tenant: String,
        client_id: String,
        secret: String,
        refresh: String,
    },
    /// `PC_ACCESS_TOKEN` as it is.
    AccessToken(String),
    /// Nothing set: the embedded fake.
    Fake,
}

/// The source the environment names; an error when only some of the
/// sign-in variables are set.
pub(crate) fn source() -> Result<Source, String> {
    let sign_in: Vec<Option<String>> = SIGN_IN.iter().map(|name| var(name)).collect();
    if sign_in.iter().any(Option::is_some) {
        let missing: Vec<&str> = SIGN_IN
            .iter()
            .zip(&sign_in)
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "signing in needs all of {}; missing: {}",
                SIGN_IN.join(", "),
                missing.join(", ")
            ));
        }
        let [tenant, client_id, secret, refresh] = <[Option<String>; 4]>::try_from(sign_in)
            .map_err(|_| "four sign-in variables".to_owned())?
            .map(Option::unwrap_or_default);
        return Ok(Source::SignIn {
            tenant,
            client_id,
            secret,
            refresh,
        });
    }
    Ok(match var("PC_ACCESS_TOKEN") {
        Some(token) => Source::AccessToken(token),
        None => Source::Fake,
    })
}

/// The cloud of `PC_CLOUD` and the API's base URL (`PC_BASE_URL`, or the
/// cloud's).
pub(crate) fn cloud_and_base() -> Result<(Cloud, String), String> {
    let cloud = match var("PC_CLOUD").map(|c| c.to_ascii_lowercase()).as_deref() {
        None | Some("global") => Cloud::Global,
        Some("china") => Cloud::China,
        Some("usgov") | Some("us-government") => Cloud::UsGovernment,
        Some(other) => {
            return Err(format!(
                "PC_CLOUD={other} is not a cloud (global, china, usgov)"
            ));
        }
    };
    let base = var("PC_BASE_URL").unwrap_or_else(|| cloud.api_endpoint().to_owned());
    Ok((cloud, base))
}

/// A client with `PC_ACCESS_TOKEN` as it is.
pub(crate) fn with_access_token(example: &str, token: String) -> Result<Client, String> {
    let (cloud, base) = cloud_and_base()?;
    eprintln!("{example}: using PC_ACCESS_TOKEN at {base}");
    Client::builder()
        .cloud(cloud)
        .base_url(&base)
        .bearer_token(token)
        .build()
        .map_err(|e| e.to_string())
}

/// A client of the real service, signed in with the refresh token; every
/// rotated refresh token is stored in `PC_REFRESH_TOKEN_FILE`.
pub(crate) fn real_service(
    example: &'static str,
    tenant: &str,
    client_id: &str,
    secret: &str,
    refresh: &str,
) -> Result<Client, String> {
    let (cloud, base) = cloud_and_base()?;
    let store = var("PC_REFRESH_TOKEN_FILE").map(PathBuf::from);
    match &store {
        Some(path) => eprintln!(
            "{example}: every rotated refresh token is stored in {} (use it next time)",
            path.display()
        ),
        None => eprintln!(
            "{example}: WARNING: PC_REFRESH_TOKEN_FILE is not set, so the rotated refresh tokens are not stored; only the newest is sure to stay valid (90 days from its last use)"
        ),
    }
    let authority = var("PC_AUTHORITY_HOST").unwrap_or_else(|| cloud.authority_host().to_owned());
    let credential = RefreshTokenCredential::builder()
        .tenant_id(tenant)
        .client_id(client_id)
        .client_secret(secret)
        .refresh_token(refresh)
        .cloud(cloud)
        .authority_host(&authority)
        .on_refresh_token(move |rotated: &Secret| {
            if let Some(path) = &store
                && let Err(error) = store_token(path, rotated)
            {
                eprintln!(
                    "{example}: could not store the rotated refresh token in {}: {error}",
                    path.display()
                );
            }
        })
        .build()
        .map_err(|e| e.to_string())?;
    eprintln!("{example}: signing in to tenant {tenant} at {authority} for {base}");
    Client::builder()
        .cloud(cloud)
        .base_url(base)
        .token_provider(credential)
        .build()
        .map_err(|e| e.to_string())
}

/// Writes the token to a file next to `path`, then renames it over `path`,
/// so a crash never leaves half a token; readable by the owner only.
pub(crate) fn store_token(path: &std::path::Path, token: &Secret) -> std::io::Result<()> {
    let temporary = path.with_extension("new");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        file.write_all(token.expose_secret().as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)
}

/// A client of `fake` (started with `default_sign_in`) that signs in to
/// its token endpoint with the refresh-token credential.
pub(crate) fn fake_client(
    example: &'static str,
    fake: &pc_fake::FakePartnerCenter,
) -> Result<Client, String> {
    let base = fake.base_url();
    eprintln!(
        "{example}: signing in to pc-fake's token endpoint {} with its refresh token",
        fake.token_url(pc_fake::DEFAULT_PARTNER_TENANT)
    );
    let credential = RefreshTokenCredential::builder()
        .tenant_id(pc_fake::DEFAULT_PARTNER_TENANT)
        .client_id(pc_fake::DEFAULT_CLIENT_ID)
        .client_secret(pc_fake::DEFAULT_CLIENT_SECRET)
        .refresh_token(pc_fake::DEFAULT_REFRESH_TOKEN)
        .authority_host(&base)
        .on_refresh_token(move |_: &Secret| {
            eprintln!("{example}: the refresh token was rotated (a real run stores it)");
        })
        .build()
        .map_err(|e| e.to_string())?;
    Client::builder()
        .base_url(&base)
        .token_provider(credential)
        .build()
        .map_err(|e| e.to_string())
}
