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
use std::process::ExitCode;
use std::time::Instant;

use futures::TryStreamExt;
use pc_api::Client;

#[path = "support/mod.rs"]
mod support;

use support::{Source, var};

const FAKE_USERS: usize = 3_000;

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
    // Keeps the fake running for as long as the listing needs it.
    let mut fake = None;
    let customer_needed = || {
        var("PC_CUSTOMER_ID")
            .ok_or("set PC_CUSTOMER_ID to the customer (tenant) id whose users to list")
    };
    let (client, customer) = match support::source()? {
        Source::SignIn {
            tenant,
            client_id,
            secret,
            refresh,
        } => {
            let customer = customer_needed()?;
            (
                support::real_service("list_users", &tenant, &client_id, &secret, &refresh)?,
                customer,
            )
        }
        Source::AccessToken(token) => {
            let customer = customer_needed()?;
            eprintln!("list_users: listing customer {customer}");
            (support::with_access_token("list_users", token)?, customer)
        }
        Source::Fake => {
            let started = local_fake().await?;
            let client = support::fake_client("list_users", &started)?;
            fake = Some(started);
            (client, pc_fake::DEFAULT_CUSTOMER.to_owned())
        }
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

/// pc-fake in-process with sign-in on and one customer of 3,000 users.
async fn local_fake() -> Result<pc_fake::FakePartnerCenter, String> {
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
    eprintln!(
        "list_users: no PC_TENANT_ID/PC_CLIENT_ID/PC_CLIENT_SECRET/PC_REFRESH_TOKEN (or PC_ACCESS_TOKEN) set; listing {FAKE_USERS} users of pc-fake at {}",
        fake.base_url()
    );
    Ok(fake)
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
