//! `pc-fake`: serve a fake Partner Center until stopped.
//!
//! ```text
//! cargo run -p pc-fake -- --users 200000 --port 8080
//! ```

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use pc_fake::{
    DEFAULT_COMPANY_NAME, DEFAULT_CUSTOMER, DEFAULT_DOMAIN, FakePartnerCenter, Faults,
    generate_users,
};

const USAGE: &str = "usage: pc-fake [options]

Serves one customer of a fake Partner Center (every operation of
spec/partner-center.yaml; see crates/pc-fake/README.md).

  --users N                 users of the customer (default 1000)
  --customer ID             the customer id (default 4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04)
  --company-name NAME       the customer's company name (default Contoso Ltd.)
  --domain DOMAIN           the customer's domain, and its users' (default contoso.onmicrosoft.com)
  --seed N                  seed of the generated users (default 42)
  --max-page-size N         the largest size accepted, larger gets 400 (default 500;
                            the fake's choice: the service documents no maximum)
  --app-only-token TOKEN    this bearer token is App-only: 403 on the customer-user
                            operations (repeatable)
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

struct Args {
    users: usize,
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
        users: 1000,
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
            "--users" => parsed.users = number(flag, value()?)?,
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
    let users = generate_users(args.users, args.seed, &args.domain);
    let mut builder = FakePartnerCenter::builder()
        .customer(args.customer.clone(), users)
        .company(
            args.customer.clone(),
            args.company_name.clone(),
            args.domain.clone(),
        )
        .max_page_size(args.max_page_size);
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
    println!(
        "pc-fake: customer {} ({}, {}) with {} users (seed {})",
        args.customer, args.company_name, args.domain, args.users, args.seed
    );
    println!("pc-fake: listening on {}", fake.base_url());
    println!("pc-fake: ready");
    tokio::select! {
        _ = fake.wait() => {}
        _ = tokio::signal::ctrl_c() => println!("pc-fake: stopping"),
    }
    ExitCode::SUCCESS
}
