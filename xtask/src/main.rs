//! `cargo xtask`: maintainer tasks for the pc-api workspace.
//!
//! `cargo xtask codegen` regenerates `crates/pc-api/src/generated/` from
//! `spec/partner-center.yaml`; `cargo xtask codegen --check` writes nothing and
//! fails, with a diff, when the committed code is stale.

use std::process::ExitCode;

use xtask::codegen::{self, Mode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["codegen"] => run(Mode::Write),
        ["codegen", "--check"] => run(Mode::Check),
        ["help" | "--help" | "-h"] | [] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("error: unknown arguments {args:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  codegen          regenerate crates/pc-api/src/generated/ from spec/partner-center.yaml
  codegen --check  write nothing; fail with a diff if the generated code is stale";

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
