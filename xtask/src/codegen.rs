//! The code generator: `spec/partner-center.yaml` → `crates/pc-api/src/generated/`.
//!
//! The pipeline is load ([`spec`]) → lower ([`lower`]) into the validated
//! intermediate representation ([`ir`]) → emit ([`emit`]) → format
//! ([`format`]) → write or check. [`generate`] is a pure function of the spec
//! text and the names reserved by hand-written code ([`reserved`]); only
//! [`run`] in [`Mode::Write`] touches the file system.

mod emit;
mod error;
mod format;
mod ir;
mod lower;
mod names;
pub mod reserved;
mod spec;
mod yaml;

use std::fmt;
use std::path::{Path, PathBuf};

pub use self::emit::Target;
pub use self::error::{Error, SpecError, SpecErrors};
pub use self::lower::Strictness;
pub use self::reserved::Reserved;

/// The spec the crate is generated from, relative to the workspace root.
pub const SPEC_PATH: &str = "spec/partner-center.yaml";
/// Where the generated modules go, relative to the workspace root.
pub const OUTPUT_DIR: &str = "crates/pc-api/src/generated";

/// Whether [`run`] writes the generated files or only compares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Write every generated file and delete stale ones.
    Write,
    /// Write nothing; report every file whose content differs.
    Check,
}

/// One generated file: its name inside the output directory and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name relative to [`OUTPUT_DIR`], e.g. `types.rs`.
    pub name: String,
    /// The complete contents, starting with the `@generated` line.
    pub contents: String,
}

/// The workspace root, found from this crate's manifest directory so that
/// `cargo xtask codegen` works from any directory of the workspace.
pub fn workspace_root() -> PathBuf {
    let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask_dir.parent().unwrap_or(xtask_dir).to_path_buf()
}

/// What a generation is for: where the output goes, and the names that
/// hand-written code already takes.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// How doc examples name the generated crate.
    pub target: Target,
    /// Method names an operation may not take.
    pub reserved: Reserved,
    /// Whether what cannot be generated fails the generation (the
    /// project's own specs) or is left out and reported (specs of others).
    pub strictness: Strictness,
}

impl Options {
    /// Options for a crate whose only hand-written neighbour is the runtime.
    pub fn standalone(crate_path: &str) -> Result<Options, SpecErrors> {
        let reserved = Reserved::runtime().map_err(|message| {
            SpecErrors::single(SpecError::internal_message(
                "the runtime's sources",
                message,
            ))
        })?;
        Ok(Options {
            target: Target {
                crate_path: crate_path.to_owned(),
            },
            reserved,
            strictness: Strictness::Strict,
        })
    }
}

/// A generation: the files, and what was tolerated or left out.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The generated modules.
    pub files: Vec<GeneratedFile>,
    /// What the spec gets slightly wrong and the generator tolerated, and
    /// renames; located. Always empty for [`Strictness::Strict`].
    pub warnings: Vec<SpecError>,
    /// What was left out, and why; located. Always empty for
    /// [`Strictness::Strict`].
    pub refused: Vec<SpecError>,
    /// The operations of the spec.
    pub operations_total: usize,
    /// The operations generated.
    pub operations_generated: usize,
    /// The models generated.
    pub models_generated: usize,
}

/// Generates the modules of a client from spec text, for `pc_api` with the
/// runtime's reserved names. `spec_name` is how the spec is named in error
/// messages and in the `@generated` line.
pub fn generate(spec_name: &str, spec_text: &str) -> Result<Vec<GeneratedFile>, SpecErrors> {
    generate_with(spec_name, spec_text, &Options::standalone("pc_api")?)
}

/// [`generate`] with explicit [`Options`].
pub fn generate_with(
    spec_name: &str,
    spec_text: &str,
    options: &Options,
) -> Result<Vec<GeneratedFile>, SpecErrors> {
    generate_report(spec_name, spec_text, options).map(|generated| generated.files)
}

/// [`generate_with`], with what was tolerated and left out.
pub fn generate_report(
    spec_name: &str,
    spec_text: &str,
    options: &Options,
) -> Result<Generated, SpecErrors> {
    let document = spec::load(spec_name, spec_text)?;
    let lowered = lower::lower(&document, &options.reserved, options.strictness)
        .map_err(|errors| errors.located(&document));
    if options.strictness == Strictness::Strict && !document.unknown_keys.is_empty() {
        // Every problem at once: the unknown keys, then what lowering found.
        let mut errors = document.unknown_keys.clone();
        if let Err(SpecErrors(more)) = lowered {
            errors.extend(more);
        }
        return Err(SpecErrors(errors));
    }
    let mut lowered = lowered?;
    lowered
        .warnings
        .splice(0..0, document.unknown_keys.iter().cloned());
    let preamble =
        format!("// @generated by `cargo xtask codegen` from {spec_name}. DO NOT EDIT.\n");
    let modules = emit::emit(&lowered.api, &options.target);
    let mut files = Vec::with_capacity(modules.len());
    for module in modules {
        let contents = format::format_file(&preamble, module.tokens).map_err(|message| {
            SpecErrors::single(SpecError::internal(spec_name, module.name, message))
        })?;
        files.push(GeneratedFile {
            name: module.name.to_owned(),
            contents,
        });
    }
    Ok(Generated {
        files,
        warnings: lowered.warnings,
        refused: lowered.refused,
        operations_total: lowered.operations_total,
        operations_generated: lowered.api.operations.len(),
        models_generated: lowered.api.models.len(),
    })
}

/// The options of pc-api: its hand-written modules (`src/*.rs` beside
/// `generated/`) reserve the names of their `impl Client` methods.
pub fn pc_api_options(root: &Path) -> Result<Options, Error> {
    let mut options = Options::standalone("pc_api").map_err(Error::Spec)?;
    let crate_dir = root.join("crates/pc-api/src");
    let sources =
        reserved::read_sources(root, &crate_dir, &["generated"]).map_err(|message| Error::Io {
            path: crate_dir.clone(),
            source: std::io::Error::other(message),
        })?;
    options.reserved = options
        .reserved
        .merged(Reserved::from_impls(&sources, "Client", false));
    Ok(options)
}

/// Where the generated code of the fixture specs goes: a crate of the
/// workspace, compiled and linted like pc-api, so that a change of the
/// generator that breaks generated code fails the build.
pub const FIXTURE_SPECS_DIR: &str = "tests/fixtures/specs";
/// The crate of the fixture specs' generated code.
pub const FIXTURE_OUTPUT_DIR: &str = "tests/output/src";

/// One generated file, relative to the workspace root.
struct Output {
    path: String,
    contents: String,
}

/// Generates pc-api from [`SPEC_PATH`] into [`OUTPUT_DIR`], and every spec of
/// [`FIXTURE_SPECS_DIR`] into a module of [`FIXTURE_OUTPUT_DIR`], and writes
/// or checks the files.
pub fn run(root: &Path, mode: Mode) -> Result<Report, Error> {
    let mut outputs = Vec::new();
    let mut dirs = Vec::new();

    let text = read(&root.join(SPEC_PATH))?;
    let options = pc_api_options(root)?;
    for file in generate_with(SPEC_PATH, &text, &options).map_err(Error::Spec)? {
        outputs.push(Output {
            path: format!("{OUTPUT_DIR}/{}", file.name),
            contents: file.contents,
        });
    }
    dirs.push(OUTPUT_DIR.to_owned());

    let mut stems = Vec::new();
    for spec in fixture_specs(root)? {
        let file_stem = spec
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file_name = spec
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = format!("{FIXTURE_SPECS_DIR}/{file_name}");
        let stem = file_stem.replace('-', "_");
        let text = read(&spec)?;
        let options =
            Options::standalone(&format!("pc_codegen_fixtures::{stem}")).map_err(Error::Spec)?;
        for file in generate_with(&name, &text, &options).map_err(Error::Spec)? {
            outputs.push(Output {
                path: format!("{FIXTURE_OUTPUT_DIR}/{stem}/{}", file.name),
                contents: file.contents,
            });
        }
        dirs.push(format!("{FIXTURE_OUTPUT_DIR}/{stem}"));
        stems.push(stem);
    }
    outputs.push(Output {
        path: format!("{FIXTURE_OUTPUT_DIR}/lib.rs"),
        contents: fixture_lib(&stems),
    });

    let mut report = Report {
        mode,
        changes: Vec::new(),
    };
    for output in &outputs {
        let path = root.join(&output.path);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(output.contents.as_str()) {
            continue;
        }
        let diff = unified_diff(
            current.as_deref().unwrap_or(""),
            &output.contents,
            &output.path,
        );
        report.changes.push(Change {
            file: output.path.clone(),
            diff,
        });
        if mode == Mode::Write {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            std::fs::write(&path, &output.contents).map_err(|source| Error::Io { path, source })?;
        }
    }
    let mut stale = Vec::new();
    for dir in &dirs {
        stale.extend(stale_entries(root, dir, &outputs, false)?);
    }
    stale.extend(stale_entries(root, FIXTURE_OUTPUT_DIR, &outputs, true)?);
    for path in stale {
        report.changes.push(Change {
            file: path.clone(),
            diff: "not generated from a spec; it must be removed\n".to_owned(),
        });
        if mode == Mode::Write {
            let full = root.join(&path);
            let removed = if full.is_dir() {
                std::fs::remove_dir_all(&full)
            } else {
                std::fs::remove_file(&full)
            };
            removed.map_err(|source| Error::Io { path: full, source })?;
        }
    }
    Ok(report)
}

/// Writes a standalone crate generated from `spec_text` into `out`: its
/// `Cargo.toml` (depending on the runtime crate of the workspace at `root`
/// by path), `src/lib.rs` and `src/generated/`. It builds with `cargo build`
/// in `out`. Returns the files written, relative to `out`, and the
/// generation's report.
pub fn write_standalone(
    root: &Path,
    spec_name: &str,
    spec_text: &str,
    out: &Path,
    crate_name: &str,
    strictness: Strictness,
) -> Result<(Vec<String>, Generated), Error> {
    let crate_path = crate_name.replace('-', "_");
    let valid_name = !crate_name.is_empty()
        && crate_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && crate_name.starts_with(|c: char| c.is_ascii_alphabetic());
    if !valid_name {
        return Err(Error::Usage(format!(
            "`{crate_name}` is not a crate name (ASCII letters, digits, `-` and `_`, starting with a letter)"
        )));
    }
    let mut options = Options::standalone(&crate_path).map_err(Error::Spec)?;
    options.strictness = strictness;
    let generated = generate_report(spec_name, spec_text, &options).map_err(Error::Spec)?;
    let runtime = root.join("crates/pc-api-runtime");
    let runtime = runtime.canonicalize().unwrap_or(runtime);
    let manifest = format!(
        "[package]\nname = \"{crate_name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\npc-api-runtime = {{ path = {runtime:?} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n\n\
         # A workspace of its own, wherever it is written.\n[workspace]\n",
        runtime = runtime.to_string_lossy().replace('\\', "/"),
    );
    let lib = format!(
        "// @generated by `cargo xtask codegen --spec` from {spec_name}. DO NOT EDIT.\n\
         //! A client generated from `{spec_name}` by `cargo xtask codegen --spec`.\n\n\
         #[rustfmt::skip]\nmod generated;\n\n\
         pub use generated::*;\n\
         pub use pc_api_runtime::{{\n    BoxError, ClientCore, ErrorKind, Page, Paged, ResponseValue, RetryPolicy, Secret, Timestamp,\n    TokenProvider, decode,\n}};\n"
    );
    let mut written = Vec::new();
    let mut write = |relative: String, contents: &str| -> Result<(), Error> {
        let path = out.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, contents).map_err(|source| Error::Io { path, source })?;
        written.push(relative);
        Ok(())
    };
    write("Cargo.toml".to_owned(), &manifest)?;
    write("src/lib.rs".to_owned(), &lib)?;
    for file in &generated.files {
        write(format!("src/generated/{}", file.name), &file.contents)?;
    }
    Ok((written, generated))
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The fixture specs, sorted.
fn fixture_specs(root: &Path) -> Result<Vec<PathBuf>, Error> {
    let dir = root.join(FIXTURE_SPECS_DIR);
    let entries = std::fs::read_dir(&dir).map_err(|source| Error::Io {
        path: dir.clone(),
        source,
    })?;
    let mut specs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    specs.sort();
    Ok(specs)
}

/// The root of the fixture crate: one module per fixture spec.
fn fixture_lib(stems: &[String]) -> String {
    let mut out = String::from(
        "// @generated by `cargo xtask codegen` from tests/fixtures/specs/. DO NOT EDIT.\n\
         //! The code generated from every fixture spec, one module each, compiled and\n\
         //! linted with the workspace so that generated code that does not build fails CI.\n",
    );
    for stem in stems {
        out.push_str(&format!("#[rustfmt::skip]\npub mod {stem};\n"));
    }
    out
}

/// The entries of `dir` that no output accounts for: files (or, with
/// `dirs_only`, directories) that are not generated.
fn stale_entries(
    root: &Path,
    dir: &str,
    outputs: &[Output],
    dirs_only: bool,
) -> Result<Vec<String>, Error> {
    let full = root.join(dir);
    let entries = match std::fs::read_dir(&full) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::Io { path: full, source }),
    };
    let mut stale = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let is_dir = entry.path().is_dir();
        if is_dir != dirs_only {
            continue;
        }
        let path = format!("{dir}/{}", entry.file_name().to_string_lossy());
        let prefix = format!("{path}/");
        let generated = outputs
            .iter()
            .any(|o| o.path == path || o.path.starts_with(&prefix));
        if !generated {
            stale.push(path);
        }
    }
    stale.sort();
    Ok(stale)
}

/// What [`run`] changed (in [`Mode::Write`]) or found stale (in [`Mode::Check`]).
#[derive(Debug)]
pub struct Report {
    mode: Mode,
    changes: Vec<Change>,
}

#[derive(Debug)]
struct Change {
    file: String,
    diff: String,
}

impl Report {
    /// True when nothing is stale: in check mode the committed code is up to
    /// date; in write mode there was nothing to change.
    pub fn is_clean(&self) -> bool {
        self.mode == Mode::Write || self.changes.is_empty()
    }

    /// The files that were (or would be) changed, relative to the workspace root.
    pub fn changed_files(&self) -> Vec<&str> {
        self.changes.iter().map(|c| c.file.as_str()).collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.mode, self.changes.is_empty()) {
            (Mode::Write, true) => writeln!(
                f,
                "codegen: {OUTPUT_DIR} and {FIXTURE_OUTPUT_DIR} are up to date"
            ),
            (Mode::Write, false) => {
                for change in &self.changes {
                    writeln!(f, "codegen: updated {}", change.file)?;
                }
                Ok(())
            }
            (Mode::Check, true) => writeln!(
                f,
                "codegen --check: {OUTPUT_DIR} and {FIXTURE_OUTPUT_DIR} are up to date"
            ),
            (Mode::Check, false) => {
                for change in &self.changes {
                    writeln!(
                        f,
                        "codegen --check: {} is stale:\n{}",
                        change.file, change.diff
                    )?;
                }
                writeln!(
                    f,
                    "codegen --check: {} file(s) stale; run `cargo xtask codegen` and commit the result",
                    self.changes.len()
                )
            }
        }
    }
}

fn unified_diff(old: &str, new: &str, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("committed/{name}"), &format!("generated/{name}"))
        .to_string()
}
