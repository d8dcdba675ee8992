//! Lists every user of a customer with `pc-api`, page after page, signing in
//! the way partners do (the secure application model's refresh token).
//!
//! - With nothing set, it starts `pc-fake` in-process with 3,000 users and
//!   sign-in on, signs in to the fake's token endpoint with
//!   `pc_api::auth::RefreshTokenCredential` and lists them: the real flow,
//!   locally.
//! - With `PC_TENANT_ID`, `PC_CLIENT_ID`, `PC_CLIENT_SECRET`,
//!   `PC_REFRESH_TOKEN` and `PC_CUSTOMER_ID` set, it signs in to Microsoft
//!   Entra ID with the refresh token and lists a real customer's users.
//!   Every exchange rotates the refresh token: each new one is written to
//!   the file `PC_REFRESH_TOKEN_FILE` names (use it next time). Optional:
//!   `PC_BASE_URL`, `PC_CLOUD=china` (21Vianet) or `PC_CLOUD=usgov`, and
//!   `PC_AUTHORITY_HOST` (another sign-in authority, e.g. a `pc-fake
//!   --sign-in` on `http://127.0.0.1:8080`).
//! - With `PC_ACCESS_TOKEN` and `PC_CUSTOMER_ID` set, it uses that App+User
//!   access token as it is.
//!
//! ```text
//! cargo run --example list_users            # a table on stdout
//! cargo run --example list_users -- --json  # JSON lines on stdout
//! ```
//!
//! Progress (sign-in, pages, users, rate) goes to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use futures::TryStreamExt;
use pc_api::auth::RefreshTokenCredential;
use pc_api::{Client, Cloud, Secret};

const FAKE_USERS: usize = 3_000;

/// The sign-in variables, all four needed together.
const SIGN_IN: [&str; 4] = [
    "PC_TENANT_ID",
    "PC_CLIENT_ID",
    "PC_CLIENT_SECRET",
    "PC_REFRESH_TOKEN",
];

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[tokio::main]
async fn main() -> ExitCode {
    let json = std::env::args().skip(1).any(|a| a == "--json");
    match run(json).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("list_users: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(json: bool) -> Result<(), String> {
    let sign_in: Vec<Option<String>> = SIGN_IN.iter().map(|name| var(name)).collect();
    let access_token = var("PC_ACCESS_TOKEN");
    // Keeps the fake running for as long as the listing needs it.
    let mut fake = None;
    let (client, customer) = if sign_in.iter().any(Option::is_some) {
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
        let customer = var("PC_CUSTOMER_ID")
            .ok_or("set PC_CUSTOMER_ID to the customer (tenant) id whose users to list")?;
        (
            real_service(&tenant, &client_id, &secret, &refresh)?,
            customer,
        )
    } else if let Some(token) = access_token {
        let customer = var("PC_CUSTOMER_ID")
            .ok_or("PC_ACCESS_TOKEN needs PC_CUSTOMER_ID, the customer whose users to list")?;
        let (cloud, base) = cloud_and_base()?;
        eprintln!("list_users: listing customer {customer} at {base} with PC_ACCESS_TOKEN");
        let client = Client::builder()
            .cloud(cloud)
            .base_url(&base)
            .bearer_token(token)
            .build()
            .map_err(|e| e.to_string())?;
        (client, customer)
    } else {
        let (started, client) = local_fake().await?;
        fake = Some(started);
        (client, pc_fake::DEFAULT_CUSTOMER.to_owned())
    };
    let listed = list(&client, &customer, json)
        .await
        .map_err(|e| e.to_string());
    if let Some(fake) = &fake {
        let counters = fake.counters();
        eprintln!(
            "list_users: pc-fake issued {} access token(s) for {} API requests",
            counters.tokens_issued, counters.api_requests
        );
    }
    listed
}

/// The cloud of `PC_CLOUD` and the API's base URL (`PC_BASE_URL`, or the
/// cloud's).
fn cloud_and_base() -> Result<(Cloud, String), String> {
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

/// A client of the real service, signed in with the refresh token; every
/// rotated refresh token is stored in `PC_REFRESH_TOKEN_FILE`.
fn real_service(
    tenant: &str,
    client_id: &str,
    secret: &str,
    refresh: &str,
) -> Result<Client, String> {
    let (cloud, base) = cloud_and_base()?;
    let store = var("PC_REFRESH_TOKEN_FILE").map(PathBuf::from);
    match &store {
        Some(path) => eprintln!(
            "list_users: every rotated refresh token is stored in {} (use it next time)",
            path.display()
        ),
        None => eprintln!(
            "list_users: WARNING: PC_REFRESH_TOKEN_FILE is not set, so the rotated refresh tokens are not stored; only the newest is sure to stay valid (90 days from its last use)"
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
                    "list_users: could not store the rotated refresh token in {}: {error}",
                    path.display()
                );
            }
        })
        .build()
        .map_err(|e| e.to_string())?;
    eprintln!("list_users: signing in to tenant {tenant} at {authority} for {base}");
    Client::builder()
        .cloud(cloud)
        .base_url(base)
        .token_provider(credential)
        .build()
        .map_err(|e| e.to_string())
}

/// Writes the token to a file next to `path`, then renames it over `path`,
/// so a crash never leaves half a token; readable by the owner only.
fn store_token(path: &std::path::Path, token: &Secret) -> std::io::Result<()> {
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

/// pc-fake in-process, with sign-in on, and a client that signs in to its
/// token endpoint with the refresh-token credential.
async fn local_fake() -> Result<(pc_fake::FakePartnerCenter, Client), String> {
    let users = pc_fake::generate_users(FAKE_USERS, 42, pc_fake::DEFAULT_DOMAIN);
    let fake = pc_fake::FakePartnerCenter::builder()
        .customer(pc_fake::DEFAULT_CUSTOMER, users)
        .company(
            pc_fake::DEFAULT_CUSTOMER,
            pc_fake::DEFAULT_COMPANY_NAME,
            pc_fake::DEFAULT_DOMAIN,
        )
        .default_sign_in()
        .bom(true)
        .start()
        .await
        .map_err(|e| format!("cannot start pc-fake: {e}"))?;
    let base = fake.base_url();
    eprintln!(
        "list_users: no PC_TENANT_ID/PC_CLIENT_ID/PC_CLIENT_SECRET/PC_REFRESH_TOKEN (or PC_ACCESS_TOKEN) set; listing {FAKE_USERS} users of pc-fake at {base}"
    );
    eprintln!(
        "list_users: signing in to pc-fake's token endpoint {} with its refresh token",
        fake.token_url(pc_fake::DEFAULT_PARTNER_TENANT)
    );
    let credential = RefreshTokenCredential::builder()
        .tenant_id(pc_fake::DEFAULT_PARTNER_TENANT)
        .client_id(pc_fake::DEFAULT_CLIENT_ID)
        .client_secret(pc_fake::DEFAULT_CLIENT_SECRET)
        .refresh_token(pc_fake::DEFAULT_REFRESH_TOKEN)
        .authority_host(&base)
        .on_refresh_token(|_: &Secret| {
            eprintln!("list_users: the refresh token was rotated (a real run stores it)");
        })
        .build()
        .map_err(|e| e.to_string())?;
    let client = Client::builder()
        .base_url(&base)
        .token_provider(credential)
        .build()
        .map_err(|e| e.to_string())?;
    Ok((fake, client))
}

async fn list(
    client: &Client,
    customer: &str,
    json: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    // The table's header, once the first page (or the end) shows that
    // signing in worked.
    let mut header = !json;
    let mut write_header = |out: &mut std::io::BufWriter<_>| -> std::io::Result<()> {
        if std::mem::take(&mut header) {
            writeln!(
                out,
                "{:<48} {:<32} {:<9} {:<9}",
                "USER PRINCIPAL NAME", "DISPLAY NAME", "STATE", "DOMAIN"
            )?;
        }
        Ok(())
    };
    let mut pages = client.get_customer_users(customer).size(500).pages();
    let mut users = 0usize;
    while let Some(page) = pages.try_next().await? {
        write_header(&mut out)?;
        for user in &page.items {
            if json {
                serde_json::to_writer(&mut out, user)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{:<48} {:<32} {:<9} {:<9}",
                    user.user_principal_name.as_deref().unwrap_or("-"),
                    user.display_name.as_deref().unwrap_or("-"),
                    user.state.as_ref().map_or("-", |s| s.as_str()),
                    user.user_domain_type.as_ref().map_or("-", |d| d.as_str()),
                )?;
            }
        }
        users += page.items.len();
        let seconds = started.elapsed().as_secs_f64().max(1e-9);
        eprintln!(
            "list_users: page {} · {users} users · {:.0} users/s",
            page.number(),
            users as f64 / seconds
        );
    }
    write_header(&mut out)?;
    out.flush()?;
    eprintln!(
        "list_users: done, {users} users in {:.2?}",
        started.elapsed()
    );
    Ok(())
}
