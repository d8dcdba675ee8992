//! The integration tests of the workspace, in one test binary (one link,
//! one run): the generator's output and errors, the client on the wire
//! against mock servers and `pc-fake` on 127.0.0.1, and the downstream
//! examples. Shared helpers are in [`support`].

mod codegen;
mod downstream;
mod fake;
mod fake_partner;
mod fake_signin;
mod fanout;
mod limits;
mod lookups;
mod operations;
mod paging;
mod properties;
mod reliability;
mod scenario;
mod shapes;
mod signin;
mod support;
mod tracing;
mod wire;
