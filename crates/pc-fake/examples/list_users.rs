//! Lists every user of a customer with `pc-api`, page after page.
//!
//! With no configuration it starts `pc-fake` in-process with a few thousand
//! users and lists them; with `PC_ACCESS_TOKEN` and `PC_CUSTOMER_ID` (and
//! optionally `PC_BASE_URL`) set, it lists a real customer's users.
//!
//! ```text
//! cargo run --example list_users            # a table on stdout
//! cargo run --example list_users -- --json  # JSON lines on stdout
//! ```
//!
//! Progress (pages, users, rate) goes to stderr.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use futures::TryStreamExt;
use pc_api::Client;

const FAKE_USERS: usize = 3_000;

#[tokio::main]
async fn main() -> ExitCode {
    let json = std::env::args().skip(1).any(|a| a == "--json");
    let token = std::env::var("PC_ACCESS_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let customer = std::env::var("PC_CUSTOMER_ID")
        .ok()
        .filter(|c| !c.is_empty());
    // Keeps the fake running for as long as the listing needs it.
    let mut _fake = None;
    let (base_url, token, customer) = match (token, customer) {
        (Some(token), Some(customer)) => {
            let base = std::env::var("PC_BASE_URL")
                .unwrap_or_else(|_| pc_api::DEFAULT_BASE_URL.to_owned());
            eprintln!("list_users: listing customer {customer} at {base}");
            (base, token, customer)
        }
        _ => {
            let users = pc_fake::generate_users(FAKE_USERS, 42, pc_fake::DEFAULT_DOMAIN);
            let fake = match pc_fake::FakePartnerCenter::builder()
                .customer(pc_fake::DEFAULT_CUSTOMER, users)
                .company(
                    pc_fake::DEFAULT_CUSTOMER,
                    pc_fake::DEFAULT_COMPANY_NAME,
                    pc_fake::DEFAULT_DOMAIN,
                )
                .bom(true)
                .start()
                .await
            {
                Ok(fake) => fake,
                Err(error) => {
                    eprintln!("list_users: cannot start pc-fake: {error}");
                    return ExitCode::FAILURE;
                }
            };
            let base = fake.base_url();
            eprintln!(
                "list_users: no PC_ACCESS_TOKEN/PC_CUSTOMER_ID set; listing {FAKE_USERS} users of pc-fake at {base}"
            );
            _fake = Some(fake);
            (
                base,
                "pc-fake-token".to_owned(),
                pc_fake::DEFAULT_CUSTOMER.to_owned(),
            )
        }
    };
    let client = match Client::builder()
        .base_url(&base_url)
        .bearer_token(token)
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            eprintln!("list_users: {error}");
            return ExitCode::FAILURE;
        }
    };
    match list(&client, &customer, json).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("list_users: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn list(
    client: &Client,
    customer: &str,
    json: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if !json {
        writeln!(
            out,
            "{:<48} {:<32} {:<9} {:<9}",
            "USER PRINCIPAL NAME", "DISPLAY NAME", "STATE", "DOMAIN"
        )?;
    }
    let mut pages = client.get_customer_users(customer).size(500).pages();
    let mut users = 0usize;
    while let Some(page) = pages.try_next().await? {
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
    out.flush()?;
    eprintln!(
        "list_users: done, {users} users in {:.2?}",
        started.elapsed()
    );
    Ok(())
}
