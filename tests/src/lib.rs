//! The workspace's test crate: snapshot tests of the code generator on
//! fixture specs (`fixtures/specs`, `fixtures/invalid`), the staleness check of
//! the committed generated code, wire tests of `pc-api` against mock servers
//! on 127.0.0.1, and a compile-and-run test of the downstream example.
//!
//! Everything is in `tests/`; this library is empty.
