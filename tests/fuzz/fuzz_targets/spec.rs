//! The spec loader and generator: any text gives generated code or a clean
//! error, never a panic or a hang, held strictly (as our own specs) and
//! leniently (as specs written elsewhere, `--spec`).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use xtask::codegen::{self, Options, Strictness};

fn options(strictness: Strictness) -> &'static Options {
    static STRICT: OnceLock<Options> = OnceLock::new();
    static LENIENT: OnceLock<Options> = OnceLock::new();
    let cell = match strictness {
        Strictness::Strict => &STRICT,
        Strictness::Lenient => &LENIENT,
    };
    cell.get_or_init(|| {
        let mut options = Options::standalone("fuzzed").expect("runtime sources");
        options.strictness = strictness;
        options
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for strictness in [Strictness::Strict, Strictness::Lenient] {
            match codegen::generate_report("fuzz.yaml", text, options(strictness)) {
                Ok(generated) => {
                    assert!(generated.files.iter().all(|f| f.contents.starts_with("// @generated")));
                    assert!(generated.operations_generated <= generated.operations_total);
                    if strictness == Strictness::Strict {
                        assert!(generated.warnings.is_empty() && generated.refused.is_empty());
                    }
                }
                Err(errors) => assert!(
                    !errors.0.is_empty() && errors.0.iter().all(|e| e.pointer.starts_with('#'))
                ),
            }
        }
    }
});
