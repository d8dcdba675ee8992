//! Section 6: the generator on the third-party corpus. The end-to-end time
//! of the release xtask on the largest spec, the in-process generation time
//! of every spec, and how the time grows with the size of a spec: the
//! largest spec copied 1, 2, 4 and 8 times into one (paths, operationIds and
//! components renamed per copy), generated in-process.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Map, Value};
use xtask::codegen::{self, Options, Strictness};

use crate::median;

fn lenient() -> Options {
    let mut options = Options::standalone("corpus").expect("runtime sources");
    options.strictness = Strictness::Lenient;
    options
}

/// Median milliseconds of `runs` in-process generations of `text`.
fn generate_ms(name: &str, text: &str, options: &Options, runs: usize) -> (f64, usize, usize) {
    let mut times = Vec::new();
    let mut counts = (0, 0);
    for _ in 0..runs {
        let start = Instant::now();
        let generated = codegen::generate_report(name, text, options).expect("generates");
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        counts = (generated.operations_generated, generated.operations_total);
    }
    (median(times), counts.0, counts.1)
}

/// `copies` renamed copies of the OpenAPI document `spec` in one document.
pub(crate) fn replicate(spec: &Value, copies: usize) -> Value {
    let mut out = spec.clone();
    let mut paths = Map::new();
    let mut components: Map<String, Value> = Map::new();
    for copy in 0..copies {
        let suffix = if copy == 0 {
            String::new()
        } else {
            format!("C{copy}")
        };
        let renamed = rename(spec, &suffix);
        for (path, item) in renamed["paths"].as_object().into_iter().flatten() {
            let path = if copy == 0 {
                path.clone()
            } else {
                format!("/c{copy}{path}")
            };
            paths.insert(path, item.clone());
        }
        for (kind, entries) in renamed["components"].as_object().into_iter().flatten() {
            let slot = components
                .entry(kind.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let (Value::Object(slot), Value::Object(entries)) = (slot, entries) {
                for (key, value) in entries {
                    let key = if kind == "securitySchemes" {
                        key.clone()
                    } else {
                        format!("{key}{suffix}")
                    };
                    slot.insert(key, value.clone());
                }
            }
        }
    }
    out["paths"] = Value::Object(paths);
    out["components"] = Value::Object(components);
    out
}

/// `value` with every component reference and operationId suffixed.
fn rename(value: &Value, suffix: &str) -> Value {
    match value {
        Value::String(s)
            if s.starts_with("#/components/")
                && !s.starts_with("#/components/securitySchemes/") =>
        {
            Value::String(format!("{s}{suffix}"))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| rename(v, suffix)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("operationId", Value::String(id)) => {
                            Value::String(format!("{id}{suffix}"))
                        }
                        _ => rename(v, suffix),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

pub(crate) fn section(root: &Path) -> String {
    let options = lenient();
    let dir = root.join("tests/fixtures/third-party");
    let mut specs: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    specs.sort_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    let mut table = String::from(
        "| spec | size | operations generated | generation (in-process, median of 5) |\n|---|---:|---:|---:|\n",
    );
    for spec in &specs {
        let text = std::fs::read_to_string(spec).expect("spec");
        let name = spec.file_name().unwrap_or_default().to_string_lossy();
        let (ms, generated, total) = generate_ms(&name, &text, &options, 5);
        table.push_str(&format!(
            "| {name} | {:.0} KB | {generated} of {total} | {ms:.1} ms |\n",
            text.len() as f64 / 1024.0
        ));
    }
    let largest = specs.last().expect("a corpus");
    let largest_name = largest.file_name().unwrap_or_default().to_string_lossy();

    // End to end: the release xtask, reading the spec and writing the crate.
    let xtask = crate::release_xtask(root);
    let out = root.join("target/bench/largest-spec");
    let mut runs = Vec::new();
    for _ in 0..5 {
        let _ = std::fs::remove_dir_all(&out);
        let start = Instant::now();
        let ok = Command::new(&xtask)
            .arg("codegen")
            .arg("--spec")
            .arg(largest)
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("xtask");
        runs.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(ok.success(), "codegen --spec {}", largest.display());
    }
    let end_to_end = median(runs);

    // Growth: the largest spec copied into one document 1, 2, 4, 8 times.
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(largest).expect("spec"))
        .expect("the largest spec is JSON");
    let mut growth = String::from(
        "| copies | size | operations | generation (median of 3) | per MB | × one copy, per MB |\n|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut base_per_mb = None;
    for copies in [1usize, 2, 4, 8] {
        let text = serde_json::to_string(&replicate(&spec, copies)).expect("json");
        let mb = text.len() as f64 / (1024.0 * 1024.0);
        let (ms, generated, total) = generate_ms("replicated.json", &text, &options, 3);
        assert_eq!(generated, total, "every copy generates");
        let per_mb = ms / mb;
        let base = *base_per_mb.get_or_insert(per_mb);
        growth.push_str(&format!(
            "| {copies} | {mb:.1} MB | {generated} | {ms:.0} ms | {per_mb:.0} ms | {:.2}x |\n",
            per_mb / base
        ));
    }
    format!(
        "## 6. The generator on third-party specs\n\n\
         `target/release/xtask codegen --spec tests/fixtures/third-party/{largest_name} --out DIR`, the largest spec of the corpus\n\
         ({:.0} KB), end to end (reading, generating, formatting, writing the crate; median of 5): **{end_to_end:.0} ms**.\n\n\
         Every spec of the corpus, generated in-process by the release build (lenient, as `--spec`):\n\n{table}\n\
         Growth with the size of a spec: the largest copied 1, 2, 4 and 8 times into one document (paths, operationIds and\n\
         components renamed per copy), generated in-process. Time per MB that stays flat is linear growth:\n\n{growth}",
        std::fs::metadata(largest).map(|m| m.len()).unwrap_or(0) as f64 / 1024.0,
    )
}
