//! The maintainer tasks of the pc-api workspace, as a library so that tests can
//! run the code generator on fixture specs.
//!
//! This is the only crate of the workspace that knows `openapiv3`: the data
//! flows one way, `spec/*.yaml` → [`codegen`] → `crates/pc-api/src/generated/`.

pub mod codegen;
