//! One test binary for every integration test: linking many is where CI time goes.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "in the harness as in the tests, a failure should panic the test"
)]

mod common;

mod admin;
mod apps;
mod authn;
mod authorization_servers;
mod browser;
mod cli;
mod client_assertions;
mod cors;
mod database_startup;
mod discovery;
mod engine;
mod groups;
mod https;
mod interop_js;
mod jwks;
mod layout;
mod login_page;
mod manifest;
mod memory;
mod metrics;
mod oauth;
mod ops;
mod outage;
mod policies;
mod postgres_tls;
mod protocol;
mod readme;
mod replicas;
mod revocation;
mod rotation;
mod seed;
mod sessions;
mod slow_clients;
mod snapshots;
mod spa;
mod storage;
mod store_conformance;
mod system_log;
mod token_families;
mod users;
