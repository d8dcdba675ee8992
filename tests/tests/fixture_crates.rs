//! The code generated from every fixture spec compiles and is clippy-clean:
//! each is put in a copy of `pc-api` in place of the real generated code and
//! checked with `cargo clippy -D warnings`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes a copy of `crates/pc-api` with `generated/` from `spec` into `dir`.
fn fixture_crate(spec: &Path, dir: &Path) {
    let root = support::root();
    let text = std::fs::read_to_string(spec).expect("spec");
    let files = xtask::codegen::generate("fixture.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("src/generated")).expect("mkdir");
    copy_sources(&root.join("crates/pc-api/src"), &dir.join("src"));
    for file in files {
        std::fs::write(dir.join("src/generated").join(&file.name), file.contents).expect("write");
    }
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("lock");
    std::fs::write(dir.join("Cargo.toml"), standalone_manifest(&root)).expect("manifest");
}

/// Copies the hand-written sources of pc-api, every folder but `generated/`,
/// and without `helpers.rs`, the Partner Center shortcuts.
fn copy_sources(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("pc-api src") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name");
        if path.is_dir() {
            if name != "generated" {
                copy_sources(&path, &to.join(name));
            }
        } else if name == "helpers.rs" {
            // Partner Center shortcuts, written against the real spec's operations.
        } else if name == "lib.rs" {
            let lib = std::fs::read_to_string(&path).expect("lib.rs");
            std::fs::write(to.join(name), lib.replace("mod helpers;\n", "")).expect("write");
        } else if path.extension().is_some_and(|e| e == "rs") {
            std::fs::copy(&path, to.join(name)).expect("copy");
        }
    }
}

/// pc-api's manifest with the workspace-inherited values written out, as a
/// workspace of its own.
fn standalone_manifest(root: &Path) -> String {
    let workspace = std::fs::read_to_string(root.join("Cargo.toml")).expect("workspace manifest");
    let manifest =
        std::fs::read_to_string(root.join("crates/pc-api/Cargo.toml")).expect("manifest");
    let inherited = |key: &str| -> String {
        workspace
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("{key} in [workspace.*]"))
            .to_owned()
    };
    let mut out = String::new();
    let mut in_lints = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_lints = line == "[lints]";
        }
        if in_lints || line.starts_with("readme") {
            continue;
        }
        match line.strip_suffix(".workspace = true") {
            Some(key) => out.push_str(&inherited(key)),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out.push_str("\n[workspace]\n");
    out
}

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
        fixture_crate(&spec, &dir);
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
