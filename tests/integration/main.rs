//! One test binary for every integration test: linking many is where CI time goes.

#![expect(
    clippy::unwrap_used,
    reason = "in the harness as in the tests, a failure should panic the test"
)]

mod common;

mod authn;
mod cli;
mod discovery;
mod jwks;
mod login_page;
mod ops;
mod rotation;
mod seed;
mod sessions;
