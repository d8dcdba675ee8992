//! Section 7: a partner-wide inventory. Every user of every customer of a
//! generated partner, listed with the fan-out (`client.all_customer_users()`)
//! and with the two loops a user would write without it (one customer after
//! another; an unbounded `join_all` over every customer), through a
//! partner-wide budget of pc-fake; then the fan-out against the sequential
//! loop without a budget; then the fan-out's peak memory at 500 and 5,000
//! customers, each in a process of its own.
//!
//! Subcommands: `serve-partner N R` (a fake of N generated customers and a
//! budget of R requests per second, 0 for none, in a process of its own) and
//! `fanout-rss URL SIZE` (one fan-out over that fake, printing every
//! customer's count and then the peak RSS).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use pc_api::fanout::{Event, Progress};
use pc_api::types::CustomerUser;
use pc_api::{Client, RetryPolicy};
use pc_fake::{CustomerInfo, FakePartnerCenter};

use crate::{TOKEN, median, peak_rss_kib, runtime};

/// The seed of the generated partner (its customers and their sizes).
const SEED: u64 = 42;
/// The customers of parts 1 and 2 (about 100,000 users).
const CUSTOMERS: usize = 500;
/// The customers of the large run of part 3 (about a million users).
const MANY_CUSTOMERS: usize = 5_000;
/// The partner-wide budget of part 1, in requests per second. Its burst is
/// left at the fake's default: the rate rounded up.
const RATE: f64 = 50.0;
/// The page size of every users listing, the service's default.
const PAGE_SIZE: i32 = 100;
/// The page size of the customer listing: `all_customer_users` sets none,
/// so the fake's default, and the other loops set none either.
const CUSTOMER_PAGE_SIZE: usize = 100;
/// Timed runs of part 2 (the median is reported).
const RUNS: usize = 5;

/// A pc-fake in this process, on a runtime of its own (one worker thread),
/// so that it serves while the client's runtime runs.
struct InProcess {
    /// Declared first: dropped (its task aborted) before its runtime.
    fake: FakePartnerCenter,
    _runtime: tokio::runtime::Runtime,
}

impl InProcess {
    /// `customers` generated customers of [`SEED`], behind a budget of
    /// `rate` requests per second when given (burst: the default).
    fn start(customers: usize, rate: Option<f64>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let mut builder = FakePartnerCenter::builder().generated_customers(customers, SEED);
        if let Some(rate) = rate {
            builder = builder.partner_rate(rate);
        }
        let fake = runtime.block_on(builder.start()).expect("fake");
        InProcess {
            fake,
            _runtime: runtime,
        }
    }
}

/// A client of `url` with the default retry policy (3 retries, `Retry-After`
/// honoured up to 60 s).
fn client(url: &str) -> Client {
    Client::builder()
        .base_url(url)
        .bearer_token(TOKEN)
        .retry_policy(RetryPolicy::default())
        .build()
        .expect("client")
}

/// The requests a perfect client sends to list every user of customers
/// with these numbers of `users`: the pages of the customer listing, and of
/// each customer's users (an empty listing is one page).
fn requests_needed(users: &[usize]) -> (usize, usize) {
    let customer_pages = users.len().div_ceil(CUSTOMER_PAGE_SIZE).max(1);
    let user_pages = users
        .iter()
        .map(|n| n.div_ceil(PAGE_SIZE as usize).max(1))
        .sum();
    (customer_pages, user_pages)
}

/// What one loop listed: the distinct user ids of each customer, the users
/// handed out, the customers completed and those that failed.
#[derive(Default)]
struct Tally {
    ids: HashMap<String, HashSet<String>>,
    users: usize,
    done: HashSet<String>,
    /// The customers that failed, with the status and the message of their
    /// error.
    failed: Vec<(String, Option<u16>, String)>,
}

impl Tally {
    /// Counts `users` of `customer`, each id at most once.
    fn add(&mut self, customer: &str, users: &[CustomerUser]) {
        let ids = self.ids.entry(customer.to_owned()).or_default();
        for user in users {
            let id = user.id.clone().expect("a user id");
            assert!(ids.insert(id), "a user of {customer} listed twice");
        }
        self.users += users.len();
    }

    /// `customer`'s listing is complete.
    fn done(&mut self, customer: String) {
        assert!(!self.done.contains(&customer), "{customer} completed twice");
        self.done.insert(customer);
    }

    /// `customer` failed with `error`.
    fn failed(&mut self, customer: String, error: pc_api::Error) {
        let status = error.status().map(|s| s.as_u16());
        self.failed.push((customer, status, error.to_string()));
    }

    /// Asserts that every completed customer has exactly the fake's users
    /// (none twice, by [`add`](Self::add)) and that every customer was
    /// completed or failed.
    fn check(&self, customers: &[CustomerInfo], what: &str) {
        for customer in customers {
            let listed = self.ids.get(&customer.id).map_or(0, HashSet::len);
            if self.done.contains(&customer.id) {
                assert_eq!(listed, customer.users, "{what}: users of {}", customer.id);
            } else {
                assert!(
                    self.failed.iter().any(|(id, _, _)| *id == customer.id),
                    "{what}: {} neither completed nor failed",
                    customer.id
                );
            }
        }
        assert_eq!(
            self.done.len() + self.failed.len(),
            customers.len(),
            "{what}"
        );
    }
}

/// Every customer's users with `client.all_customer_users()` (default
/// concurrency), of the customers the run lists or of `only`.
async fn fan_out(client: &Client, only: Option<&[String]>) -> (Tally, Progress) {
    let mut builder = client.all_customer_users().page_size(PAGE_SIZE);
    if let Some(ids) = only {
        builder = builder.customers(ids.iter().cloned());
    }
    let mut run = builder.run();
    let mut tally = Tally::default();
    while let Some(event) = run.try_next().await.expect("the run") {
        match event {
            Event::Page { customer, page } => tally.add(&customer, &page.items),
            Event::Done { customer } => tally.done(customer),
            Event::Failed { customer, error } => tally.failed(customer, error),
        }
    }
    (tally, run.progress())
}

/// The partner's customer ids, as a user lists them (default page size).
async fn customer_ids(client: &Client) -> Vec<String> {
    client
        .get_customers()
        .stream()
        .map_ok(|c| c.id.unwrap_or_default())
        .try_collect()
        .await
        .expect("customers")
}

/// One customer's users into `tally`, one page after another.
async fn list_one(client: &Client, customer: String, tally: &mut Tally) {
    let mut users = client.get_customer_users(&customer).size(PAGE_SIZE).pages();
    loop {
        match users.try_next().await {
            Ok(Some(page)) => tally.add(&customer, &page.items),
            Ok(None) => return tally.done(customer),
            Err(error) => return tally.failed(customer, error),
        }
    }
}

/// Every customer's users, one customer after another.
async fn sequential(client: &Client) -> Tally {
    let mut tally = Tally::default();
    for customer in customer_ids(client).await {
        list_one(client, customer, &mut tally).await;
    }
    tally
}

/// Every customer's users, every customer at once: `join_all` over each
/// customer's `stream().try_collect()`.
async fn join_all(client: &Client) -> Tally {
    let ids = customer_ids(client).await;
    let listings = ids.iter().map(|id| {
        client
            .get_customer_users(id)
            .size(PAGE_SIZE)
            .stream()
            .try_collect::<Vec<CustomerUser>>()
    });
    let results = futures::future::join_all(listings).await;
    let mut tally = Tally::default();
    for (id, result) in ids.into_iter().zip(results) {
        match result {
            Ok(users) => {
                tally.add(&id, &users);
                tally.done(id);
            }
            Err(error) => tally.failed(id, error),
        }
    }
    tally
}

/// One loop's run through the budget, against a fresh fake.
struct BudgetRun {
    /// `fan-out`, `sequential` or `join_all`.
    name: &'static str,
    /// Seconds from the first request to the last user.
    wall: f64,
    /// API requests the fake received, and those it answered 429.
    requests: u64,
    throttled: u64,
    /// What the loop listed.
    tally: Tally,
    /// The fan-out's own view at the end.
    progress: Option<Progress>,
}

/// The loop `name` through a budget of [`RATE`], against a fresh fake of
/// [`CUSTOMERS`] customers, checked with [`Tally::check`]; and the fake's
/// customers.
fn budget_run(name: &'static str) -> (BudgetRun, Vec<CustomerInfo>) {
    let server = InProcess::start(CUSTOMERS, Some(RATE));
    let customers = server.fake.customers();
    let client = client(&server.fake.base_url());
    let rt = runtime();
    let start = Instant::now();
    let (tally, progress) = rt.block_on(async {
        match name {
            "fan-out" => {
                let (tally, progress) = fan_out(&client, None).await;
                (tally, Some(progress))
            }
            "sequential" => (sequential(&client).await, None),
            _ => (join_all(&client).await, None),
        }
    });
    let wall = start.elapsed().as_secs_f64();
    tally.check(&customers, name);
    let counters = server.fake.counters();
    (
        BudgetRun {
            name,
            wall,
            requests: counters.api_requests,
            throttled: counters.throttled,
            tally,
            progress,
        },
        customers,
    )
}

/// Part 2: the fan-out and the sum of the per-customer listing times, one
/// customer at a time, over one client, without a budget (medians).
fn without_budget() -> (f64, f64) {
    let server = InProcess::start(CUSTOMERS, None);
    let customers = server.fake.customers();
    let ids: Vec<String> = customers.iter().map(|c| c.id.clone()).collect();
    let client = client(&server.fake.base_url());
    let rt = runtime();
    // Warm-up: connections, allocator.
    let (warm, _) = rt.block_on(fan_out(&client, Some(&ids)));
    warm.check(&customers, "warm-up");
    let (mut fanned, mut summed) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let start = Instant::now();
        let (tally, _) = rt.block_on(fan_out(&client, Some(&ids)));
        fanned.push(start.elapsed().as_secs_f64());
        tally.check(&customers, "fan-out without a budget");
        assert!(tally.failed.is_empty(), "{:?}", tally.failed.first());

        let mut tally = Tally::default();
        let mut sum = Duration::ZERO;
        rt.block_on(async {
            for id in &ids {
                let start = Instant::now();
                list_one(&client, id.clone(), &mut tally).await;
                sum += start.elapsed();
            }
        });
        summed.push(sum.as_secs_f64());
        tally.check(&customers, "one at a time");
        assert!(tally.failed.is_empty(), "{:?}", tally.failed.first());
    }
    (median(fanned), median(summed))
}

/// `serve-partner`: a pc-fake of `customers` generated customers of
/// [`SEED`] and a budget of `rate` requests per second (none if 0), until
/// killed. Prints its URL, then each customer's id and users, then `ready`.
pub(crate) fn serve_partner(customers: usize, rate: f64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let mut builder = FakePartnerCenter::builder().generated_customers(customers, SEED);
        if rate > 0.0 {
            builder = builder.partner_rate(rate);
        }
        let fake = builder.start().await.expect("fake");
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", fake.base_url());
        for customer in fake.customers() {
            let _ = writeln!(out, "{} {}", customer.id, customer.users);
        }
        let _ = writeln!(out, "ready");
        let _ = out.flush();
        drop(out);
        std::future::pending::<()>().await;
    });
}

/// `fanout-rss`: one fan-out over the fake at `url`, pages of `size`; the
/// pages are counted and dropped. Prints `done ID USERS` or `failed ID
/// ERROR` for each customer, then `requests N` and `peak KIB`.
pub(crate) fn fanout_rss(url: &str, size: i32) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let requests = runtime().block_on(async {
        let client = client(url);
        let mut run = client.all_customer_users().page_size(size).run();
        // Only the customers being listed: at most the concurrency.
        let mut counts: HashMap<String, usize> = HashMap::new();
        while let Some(event) = run.try_next().await.expect("the run") {
            match event {
                Event::Page { customer, page } => {
                    *counts.entry(customer).or_default() += page.items.len();
                }
                Event::Done { customer } => {
                    let users = counts.remove(&customer).unwrap_or(0);
                    let _ = writeln!(out, "done {customer} {users}");
                }
                Event::Failed { customer, error } => {
                    counts.remove(&customer);
                    let _ = writeln!(out, "failed {customer} {error}");
                }
            }
        }
        run.progress().throttle.requests
    });
    let _ = writeln!(out, "requests {requests}");
    let _ = writeln!(out, "peak {}", peak_rss_kib());
}

/// A child process of this binary running `serve-partner`, killed on drop.
struct PartnerServer {
    child: std::process::Child,
    /// The fake's base URL.
    url: String,
    /// Each customer's id and users, as the fake reported them.
    customers: Vec<(String, usize)>,
}

impl PartnerServer {
    /// Starts `serve-partner customers rate` and reads what it prints.
    fn start(customers: usize, rate: f64) -> Self {
        let mut child = Command::new(std::env::current_exe().expect("exe"))
            .args(["serve-partner", &customers.to_string(), &rate.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("serve-partner");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = lines.next().expect("a URL").expect("a URL");
        let mut listed = Vec::new();
        for line in lines {
            let line = line.expect("a customer");
            if line == "ready" {
                break;
            }
            let (id, users) = line.split_once(' ').expect("id and users");
            listed.push((id.to_owned(), users.parse().expect("users")));
        }
        assert_eq!(listed.len(), customers);
        PartnerServer {
            child,
            url,
            customers: listed,
        }
    }
}

impl Drop for PartnerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One fan-out in a fresh process over a fake of `customers` customers in
/// another, without a budget: (users, requests sent, requests needed, wall
/// in s, peak RSS in KiB). Asserts every customer is done with exactly its
/// users.
fn measured_fan_out(customers: usize) -> (usize, u64, usize, f64, u64) {
    let server = PartnerServer::start(customers, 0.0);
    let start = Instant::now();
    let output = Command::new(std::env::current_exe().expect("exe"))
        .args(["fanout-rss", &server.url, &PAGE_SIZE.to_string()])
        .output()
        .expect("fanout-rss");
    let wall = start.elapsed().as_secs_f64();
    assert!(output.status.success(), "fanout-rss failed");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut done: HashMap<&str, usize> = HashMap::new();
    let (mut requests, mut peak) = (0, 0);
    for line in text.lines() {
        let mut words = line.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some("done"), Some(id), Some(users)) => {
                let first = done.insert(id, users.parse().expect("users"));
                assert!(first.is_none(), "{id} done twice");
            }
            (Some("requests"), Some(n), None) => requests = n.parse().expect("requests"),
            (Some("peak"), Some(kib), None) => peak = kib.parse().expect("peak"),
            _ => panic!("fanout-rss: {line}"),
        }
    }
    assert_eq!(done.len(), server.customers.len(), "every customer done");
    for (id, users) in &server.customers {
        assert_eq!(done.get(id.as_str()), Some(users), "users of {id}");
    }
    let users: Vec<usize> = server.customers.iter().map(|(_, users)| *users).collect();
    let (customer_pages, user_pages) = requests_needed(&users);
    (
        users.iter().sum(),
        requests,
        customer_pages + user_pages,
        wall,
        peak,
    )
}

/// `value` seconds with `decimals` decimals.
fn seconds(value: f64, decimals: usize) -> String {
    format!("{value:.decimals$} s")
}

/// `value` with thousands separators.
fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A target's verdict.
fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "not met" }
}

/// Section 7 of BENCHMARKS.md, in markdown.
pub(crate) fn section() -> String {
    let started = Instant::now();
    eprintln!("bench: fan-out through the budget");
    let mut runs = Vec::new();
    let mut customers = Vec::new();
    for name in ["fan-out", "sequential", "join_all"] {
        let (run, listed) = budget_run(name);
        eprintln!(
            "bench:   {name}: {:.1} s, {} requests, {} 429s, {} failed",
            run.wall,
            run.requests,
            run.throttled,
            run.tally.failed.len()
        );
        runs.push(run);
        customers = listed;
    }
    let total: usize = customers.iter().map(|c| c.users).sum();
    let largest = customers.iter().map(|c| c.users).max().unwrap_or(0);
    let sizes: Vec<usize> = customers.iter().map(|c| c.users).collect();
    let (customer_pages, user_pages) = requests_needed(&sizes);
    let needed = customer_pages + user_pages;
    let floor = needed as f64 / RATE;
    let fan = &runs[0];
    assert!(
        fan.tally.failed.is_empty(),
        "the fan-out failed customers: {:?}",
        fan.tally.failed.first()
    );
    assert_eq!(fan.tally.users, total, "the fan-out listed every user");

    eprintln!("bench: fan-out without a budget");
    let (fanned, summed) = without_budget();

    eprintln!("bench: peak memory of the fan-out");
    let small = measured_fan_out(CUSTOMERS);
    let large = measured_fan_out(MANY_CUSTOMERS);

    let burst = RATE.ceil();
    let mut text = format!(
        "## 7. A partner-wide inventory\n\n\
         Every user of every customer of a partner: {customers_count} customers generated by pc-fake (seed {SEED}), \
         {total_users} users, the largest customer {largest_users}. Listed with `client.all_customer_users()` (the fan-out: \
         default concurrency 8, no fixed rate cap, `.page_size({PAGE_SIZE})`), and with the two loops a user writes without it: \
         one customer after another (`get_customer_users(id).size({PAGE_SIZE})`), and an unbounded \
         `futures::future::join_all` over every customer's `get_customer_users(id).size({PAGE_SIZE}).stream().try_collect()`. \
         All three list the customers first (default page size, {CUSTOMER_PAGE_SIZE}) and use a client with the default \
         `RetryPolicy` (3 retries, `Retry-After` honoured). Every run asserts that each customer it completed has \
         exactly the users the fake has, none twice (ids checked per customer). In parts 1 and 2 pc-fake runs in the \
         bench's process on a runtime of its own (one worker thread), the client on another (the caller's thread and one \
         worker), against a fresh fake for every run.\n\n\
         ### Through a partner budget of {RATE} requests per second\n\n\
         The fake admits at most {RATE} API requests a second across all customers, a token bucket with its default burst \
         of {burst} (the rate rounded up), and answers 429 with `Retry-After` (whole seconds, at least 1) beyond it. \
         The floor is what a client sending exactly the requests needed at exactly the budget would take: \
         {customer_pages} customer pages + {user_pages_text} user pages = {needed_text} requests ÷ {RATE}/s = **{floor:.1} s** \
         (the bucket's initial burst makes (requests − {burst}) ÷ rate = {strict:.1} s the strict minimum).\n\n\
         | loop | wall | × floor | requests received | 429s answered | customers failed | users listed |\n\
         |---|---|---|---|---|---|---|\n",
        customers_count = thousands(customers.len()),
        total_users = thousands(total),
        largest_users = thousands(largest),
        strict = (needed as f64 - burst) / RATE,
        user_pages_text = thousands(user_pages),
        needed_text = thousands(needed),
    );
    for run in &runs {
        let label = match run.name {
            "fan-out" => "fan-out (`all_customer_users`)",
            "sequential" => "one customer after another",
            _ => "unbounded `join_all`",
        };
        // A loop that failed customers did not list everything: its wall is
        // not comparable with the floor.
        let incomplete = if run.tally.failed.is_empty() {
            ""
        } else {
            " (incomplete)"
        };
        text.push_str(&format!(
            "| {label} | {} | {:.2}x{incomplete} | {} | {} | {} | {} of {} |\n",
            seconds(run.wall, 1),
            run.wall / floor,
            thousands(run.requests as usize),
            thousands(run.throttled as usize),
            run.tally.failed.len(),
            thousands(run.tally.users),
            thousands(total),
        ));
    }
    if let Some(progress) = &fan.progress {
        let throttle = progress.throttle;
        text.push_str(&format!(
            "\nThe fan-out's own count (its gate): {} attempts, of which {} answered 429; at the end, a rate cap of {} and {} \
             requests allowed in flight.\n",
            thousands(throttle.requests as usize),
            thousands(throttle.throttled as usize),
            throttle
                .rate_cap
                .map_or("none".to_owned(), |cap| format!("{cap:.1}/s")),
            throttle.concurrency
        ));
    }
    for run in &runs[1..] {
        if let Some((_, _, error)) = run.tally.failed.first() {
            let throttled = run
                .tally
                .failed
                .iter()
                .filter(|(_, status, _)| *status == Some(429))
                .count();
            // The request ids differ from run to run.
            let error = error.split(" (MS-RequestId").next().unwrap_or(error);
            text.push_str(&format!(
                "\n{} failed {} customers ({} of them on a 429 after the retries), their users not listed; \
                 the first: `{}`.\n",
                match run.name {
                    "sequential" => "One customer after another",
                    _ => "The unbounded `join_all`",
                },
                run.tally.failed.len(),
                throttled,
                error.replace('`', "'")
            ));
        }
    }

    text.push_str(&format!(
        "\n### Without a budget\n\n\
         The same {customers_count} customers, no budget: the fan-out (given the customer ids with `.customers(ids)`, so \
         that both do the same requests) against the sum of each customer's listing time, listed one at a time over the \
         same client; median of {RUNS} interleaved runs after a warm-up.\n\n\
         | | wall | × one at a time |\n|---|---|---|\n\
         | one customer at a time (sum of the listings) | {} | 1.00x |\n\
         | fan-out, concurrency 8 | {} | {:.2}x |\n",
        seconds(summed, 2),
        seconds(fanned, 2),
        fanned / summed,
        customers_count = thousands(customers.len()),
    ));

    let (small_users, small_requests, small_needed, small_wall, small_peak) = small;
    let (large_users, large_requests, large_needed, large_wall, large_peak) = large;
    let ratio = large_peak as f64 / small_peak.max(1) as f64;
    let per_customer =
        (large_peak as f64 - small_peak as f64) * 1024.0 / (MANY_CUSTOMERS - CUSTOMERS) as f64;
    text.push_str(&format!(
        "\n### Peak memory of the fan-out\n\n\
         The fan-out in a fresh process (`pc-bench fanout-rss URL {PAGE_SIZE}`: pages of {PAGE_SIZE}, no budget), \
         which counts each page's users and drops the page, and reports its peak RSS (`VmHWM`); pc-fake in another \
         process (`pc-bench serve-partner N 0`), so that the fake's memory is not counted. The child prints each \
         customer's count as it completes (so it keeps none), and the bench checks them against the fake's. Wall is \
         the child process's, start to exit.\n\n\
         | customers | users | requests sent (needed) | wall | peak RSS | × {} |\n|---|---|---|---|---|---|\n\
         | {} | {} | {} ({}) | {} | {:.1} MiB | 1.00x |\n\
         | {} | {} | {} ({}) | {} | {:.1} MiB | {ratio:.2}x |\n\n\
         The fan-out reads the customer listing ahead of the users listings (each customer id is queued until its \
         turn), so part of its memory grows with the number of customers: {per_customer:.0} bytes of peak RSS per \
         customer between these two runs.\n",
        thousands(CUSTOMERS),
        thousands(CUSTOMERS),
        thousands(small_users),
        thousands(small_requests as usize),
        thousands(small_needed),
        seconds(small_wall, 2),
        small_peak as f64 / 1024.0,
        thousands(MANY_CUSTOMERS),
        thousands(large_users),
        thousands(large_requests as usize),
        thousands(large_needed),
        seconds(large_wall, 2),
        large_peak as f64 / 1024.0,
    ));

    let over_floor = fan.wall / floor;
    text.push_str(&format!(
        "\n| target | result |\n|---|---|\n\
         | fan-out wall ≤ 1.10x the floor through the budget | {} ({over_floor:.2}x) |\n\
         | fan-out: no customer failed, every user exactly once | met ({} failed, {} users) |\n\
         | fan-out peak RSS at {} customers ≤ 1.2x that at {} | {} ({ratio:.2}x) |\n\n\
         Section 7 took {:.0} s.\n",
        met(over_floor <= 1.10),
        fan.tally.failed.len(),
        thousands(fan.tally.users),
        thousands(MANY_CUSTOMERS),
        thousands(CUSTOMERS),
        met(ratio <= 1.2),
        started.elapsed().as_secs_f64(),
    ));
    text
}
