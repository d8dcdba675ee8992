//! `cargo xtask`: maintainer tasks for the pc-api workspace.
//!
//! `cargo xtask codegen` regenerates `crates/pc-api/src/generated/` from
//! `spec/partner-center.yaml` (and the fixture crate from
//! `tests/fixtures/specs/`); `cargo xtask codegen --check` writes nothing and
//! fails, with a diff, when the committed code is stale; `cargo xtask codegen
//! --spec FILE --out DIR` writes a standalone crate for any spec.

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::codegen::{self, Mode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["codegen"] => run(Mode::Write),
        ["codegen", "--check"] => run(Mode::Check),
        ["codegen", rest @ ..] if rest.iter().any(|a| *a == "--spec" || *a == "--out") => {
            match Standalone::parse(rest) {
                Ok(standalone) => standalone.run(),
                Err(message) => usage_error(&message),
            }
        }
        ["help" | "--help" | "-h"] | [] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => usage_error(&format!("unknown arguments {args:?}")),
    }
}

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  codegen          regenerate crates/pc-api/src/generated/ from spec/partner-center.yaml
                   (and tests/output/ from tests/fixtures/specs/)
  codegen --check  write nothing; fail with a diff if the generated code is stale
  codegen --spec FILE --out DIR [--crate-name NAME] [--strict]
                   write a standalone crate for any OpenAPI 3.0 spec (YAML or JSON)
                   into DIR: Cargo.toml (on the runtime crate, by path), src/lib.rs,
                   src/generated/; `cargo build` in DIR builds it. NAME defaults to
                   the file name of DIR. Operations and schemas that cannot be
                   generated are left out and listed with their spec line, and what
                   the spec gets slightly wrong is listed as warnings; with
                   `--strict` either fails the generation instead.";

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}\n\n{USAGE}");
    ExitCode::from(2)
}

fn run(mode: Mode) -> ExitCode {
    let root = codegen::workspace_root();
    match codegen::run(&root, mode) {
        Ok(report) => {
            print!("{report}");
            if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// `codegen --spec FILE --out DIR [--crate-name NAME]`.
struct Standalone {
    spec: PathBuf,
    out: PathBuf,
    crate_name: String,
    strictness: codegen::Strictness,
}

impl Standalone {
    fn parse(args: &[&str]) -> Result<Standalone, String> {
        let mut spec = None;
        let mut out = None;
        let mut crate_name = None;
        let mut strictness = codegen::Strictness::Lenient;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .map(|v| (*v).to_owned())
                    .ok_or_else(|| format!("`{name}` needs a value"))
            };
            match *arg {
                "--spec" => spec = Some(PathBuf::from(value("--spec")?)),
                "--out" => out = Some(PathBuf::from(value("--out")?)),
                "--crate-name" => crate_name = Some(value("--crate-name")?),
                "--strict" => strictness = codegen::Strictness::Strict,
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        let spec = spec.ok_or("`--spec FILE` is required")?;
        let out = out.ok_or("`--out DIR` is required")?;
        let crate_name = match crate_name {
            Some(name) => name,
            None => out
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or("`--out` has no file name to name the crate after; give `--crate-name`")?,
        };
        Ok(Standalone {
            spec,
            out,
            crate_name,
            strictness,
        })
    }

    fn run(self) -> ExitCode {
        let root = codegen::workspace_root();
        let text = match std::fs::read_to_string(&self.spec) {
            Ok(text) => text,
            Err(error) => {
                eprintln!("error: {}: {error}", self.spec.display());
                return ExitCode::FAILURE;
            }
        };
        let name = self.spec.to_string_lossy().replace('\\', "/");
        match codegen::write_standalone(
            &root,
            &name,
            &text,
            &self.out,
            &self.crate_name,
            self.strictness,
        ) {
            Ok((files, report)) => {
                for warning in &report.warnings {
                    eprintln!("warning: {}", warning.located());
                }
                for refused in &report.refused {
                    eprintln!("left out: {}", refused.located());
                }
                for file in files {
                    println!("codegen: wrote {}", self.out.join(file).display());
                }
                println!(
                    "codegen: {} of {} operations and {} models generated; {} left out, {} warnings",
                    report.operations_generated,
                    report.operations_total,
                    report.models_generated,
                    report.refused.len(),
                    report.warnings.len()
                );
                println!(
                    "codegen: `cargo build` in {} builds the crate `{}`",
                    self.out.display(),
                    self.crate_name
                );
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        }
    }
}
