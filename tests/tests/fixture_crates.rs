//! The code generated from every fixture spec compiles and is clippy-clean:
//! each is put in a copy of `pc-api` in place of the real generated code and
//! checked with `cargo clippy -D warnings`.

mod support;

use std::path::PathBuf;
use std::process::Command;

#[test]
fn fixture_specs_generate_code_that_compiles_and_is_clippy_clean() {
    let root = support::root();
    let target = root.join("target/fixture-crates");
    let specs: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures/specs"))
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert!(!specs.is_empty());
    for spec in specs {
        let name = spec
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let dir = target.join(&name);
        let text = std::fs::read_to_string(&spec).expect("spec");
        pc_tests::fixture_crate(&root, &text, &dir);
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let output = Command::new(cargo)
            .args([
                "clippy",
                "--offline",
                "--quiet",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", target.join("target"))
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "code generated from {} does not pass clippy:\n{}",
            spec.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
