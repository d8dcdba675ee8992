//! Every user of every customer: the partner-wide inventory, under one
//! throttle, resumable, every user exactly once.
//!
//! ```text
//! cargo run --release --example all_users -- [--json | --csv] [--concurrency N]
//!     [--output FILE --checkpoint FILE] [--page-size N] [--max-rate R]
//! ```
//!
//! - `--json` (the default) writes one JSON object per user and line:
//!   `{"customerId": "<customer id>", "user": {<the user, camelCase>}}`;
//!   `--csv` a header and one row per user.
//! - Output goes to stdout, or to `--output FILE`. With `--checkpoint FILE`
//!   too, each page is written to the output and then the checkpoint (per
//!   customer: done, or the continuation token of its next page, and how
//!   many bytes of output it covers) is replaced atomically. A rerun with
//!   the same two files cuts the output back to what the checkpoint covers
//!   and continues: after an interruption at any moment (`kill -9`
//!   included), the output ends with every user exactly once.
//! - Which service: with `PC_TENANT_ID`, `PC_CLIENT_ID`, `PC_CLIENT_SECRET`
//!   and `PC_REFRESH_TOKEN` set it signs in (the secure application model;
//!   `PC_REFRESH_TOKEN_FILE` stores every rotated refresh token); with
//!   `PC_ACCESS_TOKEN` it uses that token as it is (`PC_BASE_URL` for
//!   another endpoint, `PC_CLOUD` for a national cloud); with nothing set,
//!   an embedded `pc-fake` of 100 generated customers behind a partner-wide
//!   budget of 100 requests a second, signed in to its token endpoint.
//! - Progress on stderr: a progress bar when stderr is a terminal, plain
//!   lines otherwise; then a summary (customers listed, failed with status
//!   and fault code, users, requests, 429s, elapsed).
//! - Exit status: 0 when every customer was listed, 3 when some failed and
//!   the rest completed, 1 when the run could not proceed.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, IsTerminal, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use pc_api::fanout::{Checkpoint, Event, Progress};
use pc_api::types::CustomerUser;
use serde::{Deserialize, Serialize};

#[path = "support/mod.rs"]
mod support;

use support::Source;

/// Customers and budget of the embedded fake.
const FAKE_CUSTOMERS: usize = 100;
const FAKE_SEED: u64 = 2026;
const FAKE_RATE: f64 = 100.0;

/// The columns of `--csv`, after `customerId`.
const CSV_COLUMNS: [&str; 10] = [
    "id",
    "userPrincipalName",
    "displayName",
    "firstName",
    "lastName",
    "usageLocation",
    "state",
    "userDomainType",
    "lastDirectorySyncTime",
    "softDeletionTime",
];

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    Csv,
}

struct Options {
    format: Format,
    concurrency: usize,
    output: Option<PathBuf>,
    checkpoint: Option<PathBuf>,
    page_size: Option<i32>,
    max_rate: Option<f64>,
}

const USAGE: &str = "usage: all_users [--json | --csv] [--concurrency N] [--output FILE --checkpoint FILE] [--page-size N] [--max-rate R]";

fn options() -> Result<Options, String> {
    let mut options = Options {
        format: Format::Json,
        concurrency: 8,
        output: None,
        checkpoint: None,
        page_size: None,
        max_rate: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("`{name}` needs a value"));
        match arg.as_str() {
            "--json" => options.format = Format::Json,
            "--csv" => options.format = Format::Csv,
            "--concurrency" => {
                options.concurrency = value("--concurrency")?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("`--concurrency` needs a number above 0")?;
            }
            "--output" => options.output = Some(PathBuf::from(value("--output")?)),
            "--checkpoint" => options.checkpoint = Some(PathBuf::from(value("--checkpoint")?)),
            "--page-size" => {
                options.page_size = Some(
                    value("--page-size")?
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or("`--page-size` needs a number above 0")?,
                );
            }
            "--max-rate" => {
                options.max_rate = Some(
                    value("--max-rate")?
                        .parse()
                        .ok()
                        .filter(|r: &f64| r.is_finite() && *r > 0.0)
                        .ok_or("`--max-rate` needs requests per second above 0")?,
                );
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if options.checkpoint.is_some() && options.output.is_none() {
        return Err(
            "`--checkpoint` needs `--output`: the checkpoint says how much of the output it covers"
                .to_owned(),
        );
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("all_users: {message}");
            return ExitCode::from(1);
        }
    };
    match run(options).await {
        Ok(summary) if summary.failed.is_empty() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(3),
        Err(message) => {
            eprintln!("all_users: {message}");
            ExitCode::from(1)
        }
    }
}

/// What the checkpoint file holds: the run's checkpoint and how many bytes
/// of the output it covers.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Saved {
    version: u32,
    format: String,
    output_bytes: u64,
    run: Checkpoint,
}

/// The output: stdout, or a file committed together with a checkpoint.
struct Output {
    out: Box<dyn Write>,
    file: Option<File>,
    checkpoint: Option<PathBuf>,
    /// Bytes of the file, committed or not.
    written: u64,
}

impl Output {
    /// Opens the output; with a checkpoint file, continues from it.
    fn open(options: &Options) -> Result<(Output, Checkpoint), String> {
        let format = format_name(options.format);
        let Some(path) = &options.output else {
            let mut output = Output {
                out: Box::new(BufWriter::new(std::io::stdout())),
                file: None,
                checkpoint: None,
                written: 0,
            };
            output.header(options.format)?;
            return Ok((output, Checkpoint::new()));
        };
        let saved = match &options.checkpoint {
            Some(checkpoint) => read_saved(checkpoint)?,
            None => None,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let (covered, run) = match saved {
            Some(saved) => {
                if saved.format != format {
                    return Err(format!(
                        "the checkpoint is of a {} run; rerun with --{}",
                        saved.format, saved.format
                    ));
                }
                let length = file.metadata().map(|m| m.len()).unwrap_or(0);
                if length < saved.output_bytes {
                    return Err(format!(
                        "{} holds {length} bytes but the checkpoint covers {}: it is not the output of this checkpoint",
                        path.display(),
                        saved.output_bytes
                    ));
                }
                eprintln!(
                    "all_users: continuing from {} ({} customers done; {} bytes of output kept, {} cut)",
                    options
                        .checkpoint
                        .as_deref()
                        .map(Path::display)
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    saved.run.done(),
                    saved.output_bytes,
                    length - saved.output_bytes
                );
                (saved.output_bytes, saved.run)
            }
            None => (0, Checkpoint::new()),
        };
        // What a killed run wrote after its last commit is cut.
        file.set_len(covered)
            .and_then(|()| file.seek(SeekFrom::Start(covered)).map(drop))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let writer = file
            .try_clone()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let mut output = Output {
            out: Box::new(BufWriter::new(writer)),
            file: Some(file),
            checkpoint: options.checkpoint.clone(),
            written: covered,
        };
        if covered == 0 {
            output.header(options.format)?;
            output.commit(options.format, &run)?;
        }
        Ok((output, run))
    }

    fn header(&mut self, format: Format) -> Result<(), String> {
        if format == Format::Csv {
            let header = format!("customerId,{}\n", CSV_COLUMNS.join(","));
            self.write(header.as_bytes())?;
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.out
            .write_all(bytes)
            .map_err(|e| format!("writing the output: {e}"))?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Makes what was written durable, then replaces the checkpoint with
    /// one that covers it.
    fn commit(&mut self, format: Format, run: &Checkpoint) -> Result<(), String> {
        self.out
            .flush()
            .map_err(|e| format!("writing the output: {e}"))?;
        let (Some(file), Some(path)) = (&self.file, &self.checkpoint) else {
            return Ok(());
        };
        file.sync_data()
            .map_err(|e| format!("syncing the output: {e}"))?;
        let saved = Saved {
            version: 1,
            format: format_name(format).to_owned(),
            output_bytes: self.written,
            run: run.clone(),
        };
        let text = serde_json::to_vec(&saved).map_err(|e| e.to_string())?;
        let temporary = path.with_extension("new");
        let written = (|| -> std::io::Result<()> {
            let mut options = OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temporary)?;
            file.write_all(&text)?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)
        })();
        written.map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Json => "json",
        Format::Csv => "csv",
    }
}

fn read_saved(path: &Path) -> Result<Option<Saved>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{} is not a checkpoint of all_users: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// One user as a line of output.
fn line(format: Format, customer: &str, user: &CustomerUser) -> Result<String, String> {
    match format {
        Format::Json => {
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Line<'a> {
                customer_id: &'a str,
                user: &'a CustomerUser,
            }
            let mut text = serde_json::to_string(&Line {
                customer_id: customer,
                user,
            })
            .map_err(|e| e.to_string())?;
            text.push('\n');
            Ok(text)
        }
        Format::Csv => {
            let timestamp = |t: &Option<pc_api::Timestamp>| t.as_ref().map(|t| t.to_string());
            let fields = [
                Some(customer.to_owned()),
                user.id.clone(),
                user.user_principal_name.clone(),
                user.display_name.clone(),
                user.first_name.clone(),
                user.last_name.clone(),
                user.usage_location.clone(),
                user.state.as_ref().map(|s| s.as_str().to_owned()),
                user.user_domain_type
                    .as_ref()
                    .map(|d| d.as_str().to_owned()),
                timestamp(&user.last_directory_sync_time),
                timestamp(&user.soft_deletion_time),
            ];
            let mut text = fields
                .iter()
                .map(|f| csv_field(f.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",");
            text.push('\n');
            Ok(text)
        }
    }
}

/// RFC 4180: quoted when it holds a comma, a quote or a line break.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[derive(Default)]
struct Summary {
    listed: u64,
    users: u64,
    /// Customer, status, fault code.
    failed: Vec<(String, Option<u16>, Option<String>)>,
}

async fn run(options: Options) -> Result<Summary, String> {
    let started = Instant::now();
    // Keeps the fake running for as long as the run needs it.
    let mut fake = None;
    let client = match support::source()? {
        Source::SignIn {
            tenant,
            client_id,
            secret,
            refresh,
        } => support::real_service("all_users", &tenant, &client_id, &secret, &refresh)?,
        Source::AccessToken(token) => support::with_access_token("all_users", token)?,
        Source::Fake => {
            let started = pc_fake::FakePartnerCenter::builder()
                .generated_customers(FAKE_CUSTOMERS, FAKE_SEED)
                .partner_rate(FAKE_RATE)
                .default_sign_in()
                .start()
                .await
                .map_err(|e| format!("cannot start pc-fake: {e}"))?;
            eprintln!(
                "all_users: nothing set (PC_TENANT_ID/PC_CLIENT_ID/PC_CLIENT_SECRET/PC_REFRESH_TOKEN or PC_ACCESS_TOKEN); inventorying pc-fake at {}: {FAKE_CUSTOMERS} customers, a partner budget of {FAKE_RATE} requests a second",
                started.base_url()
            );
            let client = support::fake_client("all_users", &started)?;
            fake = Some(started);
            client
        }
    };
    let (mut output, mut checkpoint) = Output::open(&options)?;
    let mut builder = client
        .all_customer_users()
        .concurrency(options.concurrency)
        .checkpoint(checkpoint.clone());
    if let Some(size) = options.page_size {
        builder = builder.page_size(size);
    }
    if let Some(rate) = options.max_rate {
        builder = builder.max_requests_per_second(rate);
    }
    let mut run = builder.run();
    let mut progress = Reporter::new();
    let mut summary = Summary::default();
    let outcome: Result<(), String> = async {
        while let Some(event) = run.try_next().await.map_err(|e| e.to_string())? {
            match &event {
                Event::Page { customer, page } => {
                    let mut text = String::new();
                    for user in &page.items {
                        text.push_str(&line(options.format, customer, user)?);
                    }
                    output.write(text.as_bytes())?;
                    summary.users += page.items.len() as u64;
                }
                Event::Done { .. } => summary.listed += 1,
                Event::Failed { customer, error } => {
                    progress.println(&format!("all_users: customer {customer} failed: {error}"));
                    summary.failed.push((
                        customer.clone(),
                        error.status().map(|s| s.as_u16()),
                        error.code(),
                    ));
                }
            }
            // The output, then the checkpoint that covers it.
            checkpoint.record(&event);
            output.commit(options.format, &checkpoint)?;
            progress.update(&run.progress(), started);
        }
        Ok(())
    }
    .await;
    progress.finish();
    let last = run.progress();
    let skipped = last.customers_skipped;
    eprintln!(
        "all_users: {} customers listed{}, {} failed; {} users; {} requests, {} answered 429; {:.1?}",
        summary.listed,
        if skipped > 0 {
            format!(" ({skipped} done before this run)")
        } else {
            String::new()
        },
        summary.failed.len(),
        summary.users,
        last.throttle.requests,
        last.throttle.throttled,
        started.elapsed()
    );
    for (customer, status, code) in &summary.failed {
        eprintln!(
            "all_users:   failed: {customer} (status {}, fault code {})",
            status.map_or("-".to_owned(), |s| s.to_string()),
            code.as_deref().unwrap_or("-")
        );
    }
    if let Some(fake) = &fake {
        let counters = fake.counters();
        eprintln!(
            "all_users: pc-fake served {} requests and refused {} over its budget",
            counters.served, counters.budget_throttled
        );
    }
    outcome.map(|()| summary)
}

/// Progress on stderr: a bar on a terminal, a line every 2 s otherwise.
struct Reporter {
    bar: Option<indicatif::ProgressBar>,
    last_line: Instant,
}

impl Reporter {
    fn new() -> Reporter {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} customers {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Reporter {
            bar,
            last_line: Instant::now(),
        }
    }

    fn update(&mut self, progress: &Progress, started: Instant) {
        let finished =
            progress.customers_done + progress.customers_failed + progress.customers_skipped;
        let known = finished + progress.customers_running + progress.customers_queued;
        let message = format!(
            "· {} users · {} failed · {} requests · {} × 429 · {:.0} req/s",
            progress.items,
            progress.customers_failed,
            progress.throttle.requests,
            progress.throttle.throttled,
            progress.throttle.rate
        );
        match &self.bar {
            Some(bar) => {
                bar.set_length(known);
                bar.set_position(finished);
                bar.set_message(message);
            }
            None if self.last_line.elapsed() >= Duration::from_secs(2) => {
                self.last_line = Instant::now();
                eprintln!(
                    "all_users: {:.0?} · {finished}/{known} customers {message}",
                    started.elapsed()
                );
            }
            None => {}
        }
    }

    fn println(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
