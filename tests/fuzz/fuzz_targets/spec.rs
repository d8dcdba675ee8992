//! The spec loader and generator: any text gives generated code or a clean
//! error, never a panic or a hang.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match xtask::codegen::generate("fuzz.yaml", text) {
            Ok(files) => assert!(files.iter().all(|f| f.contents.starts_with("// @generated"))),
            Err(errors) => assert!(!errors.0.is_empty() && errors.0.iter().all(|e| e.pointer.starts_with('#'))),
        }
    }
});
