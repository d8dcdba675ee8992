//! `pc-fake`: serve a fake Partner Center until stopped.
//!
//! ```text
//! cargo run -p pc-fake -- --users 200000 --port 8080
//! cargo run -p pc-fake -- --customers 500 --partner-rate 50 --sign-in
//! ```

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use pc_fake::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_COMPANY_NAME, DEFAULT_CUSTOMER,
    DEFAULT_DOMAIN, DEFAULT_PARTNER_TENANT, DEFAULT_REFRESH_TOKEN, FakePartnerCenter, Faults,
    generate_users,
};

const USAGE: &str = "usage: pc-fake [options]

Serves a fake Partner Center (every operation of spec/partner-center.yaml;
see crates/pc-fake/README.md): one customer, or with --customers a partner's
many; with --sign-in also Microsoft Entra ID's token endpoint.

One customer (served unless --customers is given without --users):
  --users N                 users of the customer (default 1000)
  --customer ID             the customer id (default 4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04)
  --company-name NAME       the customer's company name (default Contoso Ltd.)
  --domain DOMAIN           the customer's domain, and its users' (default contoso.onmicrosoft.com)
  --seed N                  seed of the generated users and customers (default 42)

A partner at scale:
  --customers N             N generated customers with skewed numbers of users (most
                            2-60, a fifth 60-600, 4% 600-3,000, 0.4% 10,000-40,000;
                            about 200 on average, plus ~5% deleted users), company
                            names and domains, deterministic from --seed
  --no-relationship K       K of them (picked from the seed) have no relationship: 403 20002
  --deleted K               K others are deleted tenants: 404 60003 (both stay listed)
  --partner-rate R          at most R API requests per second across all customers (a
                            token bucket); beyond it 429 with Retry-After (whole seconds
                            until a request is admitted, at least 1). Token requests
                            are not counted
  --partner-burst B         requests the bucket holds (default R rounded up, at least 1)

Signing in (Microsoft Entra ID at POST /{tenant}/oauth2/v2.0/token; then the API
accepts only the access tokens it issued, until they expire):
  --sign-in                 turn it on with the defaults below
  --tenant T                the partner tenant (default contoso-partner.onmicrosoft.com)
  --client-id ID            the application (default 5f1c2a9e-7a3b-4e7c-9d2f-8b6a1c0e3d4f)
  --client-secret S         its secret (default pc-fake-client-secret)
  --refresh-token T         a valid refresh token (repeatable; default
                            0.AAAA-pc-fake-initial-refresh-token)
  --token-lifetime S        access tokens expire after S seconds (default 3599)
  --token-uses N            access tokens expire after N API requests
  --no-mfa                  App+User tokens lack MFA: the API answers 401 900421
  --revoke-rotated          an exchanged refresh token is revoked (default: kept valid,
                            as Entra ID does)
  (each of these implies --sign-in)

Serving:
  --max-page-size N         the largest size accepted, larger gets 400 (default 500;
                            the fake's choice: the service documents no maximum)
  --app-only-token TOKEN    this bearer token is App-only: 403 on the customer-user
                            operations (repeatable; without sign-in: with it, the
                            client-credentials grant's tokens are the App-only ones)
  --host IP                 address to listen on (default 127.0.0.1)
  --port N                  port to listen on (default 8080; 0 picks a free one)
  --allow-remote            allow a --host that is not loopback (the fake has no security)
  --v1-links                next links start with /v1
  --bom                     bodies start with a UTF-8 byte order mark
  --throttle-every N        every N-th request gets 429
  --retry-after S           Retry-After of throttled responses (default 1)
  --unavailable-every N     in every N requests, the last --unavailable-burst get 503
  --unavailable-burst K     (default 1)
  --delay-ms MS             every response waits MS milliseconds
  --close-every N           every N-th page is cut off mid-body
  --token-expires-after N   a bearer token works for N requests, then gets 401";

#[derive(Default)]
struct SignIn {
    on: bool,
    tenant: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_tokens: Vec<String>,
    lifetime: Option<u64>,
    uses: Option<u64>,
    no_mfa: bool,
    revoke_rotated: bool,
}

struct Args {
    users: Option<usize>,
    customers: Option<usize>,
    no_relationship: usize,
    deleted: usize,
    partner_rate: Option<f64>,
    partner_burst: Option<u32>,
    sign_in: SignIn,
    customer: String,
    company_name: String,
    domain: String,
    seed: u64,
    max_page_size: u16,
    app_only_tokens: Vec<String>,
    host: IpAddr,
    port: u16,
    allow_remote: bool,
    v1_links: bool,
    bom: bool,
    faults: Faults,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args {
        users: None,
        customers: None,
        no_relationship: 0,
        deleted: 0,
        partner_rate: None,
        partner_burst: None,
        sign_in: SignIn::default(),
        customer: DEFAULT_CUSTOMER.to_owned(),
        company_name: DEFAULT_COMPANY_NAME.to_owned(),
        domain: DEFAULT_DOMAIN.to_owned(),
        seed: 42,
        max_page_size: 500,
        app_only_tokens: Vec::new(),
        host: IpAddr::from([127, 0, 0, 1]),
        port: 8080,
        allow_remote: false,
        v1_links: false,
        bom: false,
        faults: Faults {
            retry_after_secs: 1,
            unavailable_burst: 1,
            ..Faults::default()
        },
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
            text.parse()
                .map_err(|_| format!("{flag}: {text:?} is not a valid number"))
        }
        match flag.as_str() {
            "--users" => parsed.users = Some(number(flag, value()?)?),
            "--customers" => parsed.customers = Some(number(flag, value()?)?),
            "--no-relationship" => parsed.no_relationship = number(flag, value()?)?,
            "--deleted" => parsed.deleted = number(flag, value()?)?,
            "--partner-rate" => {
                let rate: f64 = number(flag, value()?)?;
                if !(rate.is_finite() && rate > 0.0) {
                    return Err(format!("{flag} must be a positive number"));
                }
                parsed.partner_rate = Some(rate);
            }
            "--partner-burst" => parsed.partner_burst = Some(number(flag, value()?)?),
            "--sign-in" => parsed.sign_in.on = true,
            "--tenant" => {
                parsed.sign_in.on = true;
                parsed.sign_in.tenant = Some(value()?.clone());
            }
            "--client-id" => {
                parsed.sign_in.on = true;
                parsed.sign_in.client_id = Some(value()?.clone());
            }
            "--client-secret" => {
                parsed.sign_in.on = true;
                parsed.sign_in.client_secret = Some(value()?.clone());
            }
            "--refresh-token" => {
                parsed.sign_in.on = true;
                parsed.sign_in.refresh_tokens.push(value()?.clone());
            }
            "--token-lifetime" => {
                parsed.sign_in.on = true;
                parsed.sign_in.lifetime = Some(number(flag, value()?)?);
            }
            "--token-uses" => {
                parsed.sign_in.on = true;
                parsed.sign_in.uses = Some(number(flag, value()?)?);
            }
            "--no-mfa" => {
                parsed.sign_in.on = true;
                parsed.sign_in.no_mfa = true;
            }
            "--revoke-rotated" => {
                parsed.sign_in.on = true;
                parsed.sign_in.revoke_rotated = true;
            }
            "--customer" => parsed.customer = value()?.clone(),
            "--company-name" => parsed.company_name = value()?.clone(),
            "--domain" => parsed.domain = value()?.clone(),
            "--seed" => parsed.seed = number(flag, value()?)?,
            "--max-page-size" => parsed.max_page_size = number(flag, value()?)?,
            "--app-only-token" => parsed.app_only_tokens.push(value()?.clone()),
            "--host" => {
                parsed.host = value()?
                    .parse()
                    .map_err(|_| format!("{flag}: not an IP address"))?
            }
            "--port" => parsed.port = number(flag, value()?)?,
            "--allow-remote" => parsed.allow_remote = true,
            "--v1-links" => parsed.v1_links = true,
            "--bom" => parsed.bom = true,
            "--throttle-every" => parsed.faults.throttle_every = Some(number(flag, value()?)?),
            "--retry-after" => parsed.faults.retry_after_secs = number(flag, value()?)?,
            "--unavailable-every" => {
                parsed.faults.unavailable_every = Some(number(flag, value()?)?)
            }
            "--unavailable-burst" => parsed.faults.unavailable_burst = number(flag, value()?)?,
            "--delay-ms" => {
                parsed.faults.delay = Some(Duration::from_millis(number(flag, value()?)?))
            }
            "--close-every" => parsed.faults.close_mid_body_every = Some(number(flag, value()?)?),
            "--token-expires-after" => {
                parsed.faults.token_expires_after = Some(number(flag, value()?)?)
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if parsed.customers.is_none() && (parsed.no_relationship > 0 || parsed.deleted > 0) {
        return Err("--no-relationship and --deleted need --customers".to_owned());
    }
    if let Some(count) = parsed.customers
        && parsed.no_relationship + parsed.deleted > count
    {
        return Err(format!(
            "--no-relationship {} and --deleted {} are more than the {count} customers",
            parsed.no_relationship, parsed.deleted
        ));
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&raw) {
        Ok(args) => args,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("pc-fake: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let addr = SocketAddr::new(args.host, args.port);
    if !addr.ip().is_loopback() && args.allow_remote {
        eprintln!(
            "pc-fake: WARNING: listening on {addr}, which is not loopback; the fake has no security"
        );
    }
    // The single customer, unless only generated customers were asked for.
    let single = match (args.users, args.customers) {
        (Some(users), _) => Some(users),
        (None, None) => Some(1000),
        (None, Some(_)) => None,
    };
    let mut builder = FakePartnerCenter::builder().max_page_size(args.max_page_size);
    if let Some(users) = single {
        builder = builder
            .customer(
                args.customer.clone(),
                generate_users(users, args.seed, &args.domain),
            )
            .company(
                args.customer.clone(),
                args.company_name.clone(),
                args.domain.clone(),
            );
    }
    if let Some(count) = args.customers {
        builder = builder
            .generated_customers(count, args.seed)
            .customers_without_relationship(args.no_relationship)
            .deleted_customers(args.deleted);
    }
    if let Some(rate) = args.partner_rate {
        builder = builder.partner_rate(rate);
    }
    if let Some(burst) = args.partner_burst {
        builder = builder.partner_burst(burst);
    }
    let sign_in = &args.sign_in;
    let tenant = sign_in.tenant.as_deref().unwrap_or(DEFAULT_PARTNER_TENANT);
    let client_id = sign_in.client_id.as_deref().unwrap_or(DEFAULT_CLIENT_ID);
    let client_secret = sign_in
        .client_secret
        .as_deref()
        .unwrap_or(DEFAULT_CLIENT_SECRET);
    let refresh_tokens = if sign_in.refresh_tokens.is_empty() {
        vec![DEFAULT_REFRESH_TOKEN.to_owned()]
    } else {
        sign_in.refresh_tokens.clone()
    };
    if sign_in.on {
        builder = builder
            .sign_in(tenant, client_id, client_secret)
            .without_mfa(sign_in.no_mfa)
            .keep_rotated_refresh_tokens(!sign_in.revoke_rotated);
        for token in &refresh_tokens {
            builder = builder.refresh_token(token.clone());
        }
        if let Some(seconds) = sign_in.lifetime {
            builder = builder.access_token_lifetime(Duration::from_secs(seconds));
        }
        if let Some(uses) = sign_in.uses {
            builder = builder.access_token_uses(uses);
        }
    }
    for token in &args.app_only_tokens {
        builder = builder.app_only_token(token.clone());
    }
    let started = builder
        .addr(addr)
        .allow_remote(args.allow_remote)
        .v1_links(args.v1_links)
        .bom(args.bom)
        .faults(args.faults)
        .start()
        .await;
    let mut fake = match started {
        Ok(fake) => fake,
        Err(error) => {
            eprintln!("pc-fake: cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(users) = single {
        println!(
            "pc-fake: customer {} ({}, {}) with {users} users (seed {})",
            args.customer, args.company_name, args.domain, args.seed
        );
    }
    if let Some(count) = args.customers {
        let customers = fake.customers();
        let generated = &customers[customers.len() - count..];
        let users: usize = generated.iter().map(|c| c.users).sum();
        let largest = generated.iter().map(|c| c.users).max().unwrap_or(0);
        println!(
            "pc-fake: {count} generated customers with {users} active users (the largest {largest}; seed {}), {} without a relationship, {} deleted",
            args.seed, args.no_relationship, args.deleted
        );
    }
    if let Some(rate) = args.partner_rate {
        println!("pc-fake: partner-wide budget of {rate} requests per second");
    }
    if sign_in.on {
        println!(
            "pc-fake: sign-in at {} (client id {client_id}, client secret {client_secret}, refresh token {})",
            fake.token_url(tenant),
            refresh_tokens.join(", ")
        );
    }
    println!("pc-fake: listening on {}", fake.base_url());
    println!("pc-fake: ready");
    tokio::select! {
        _ = fake.wait() => {}
        _ = tokio::signal::ctrl_c() => println!("pc-fake: stopping"),
    }
    ExitCode::SUCCESS
}
