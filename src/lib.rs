//! authd: an OAuth 2.0 / OpenID Connect authorization server that speaks Okta's public API.
//!
//! Layout (dependencies point down the list, never up):
//! - [`cli`]: the `authd` command line; parses flags and runs one subcommand.
//! - [`app`]: wires configuration, store, keys and engine together and serves HTTP.
//! - [`http`]: axum routers, one module per API family; parse → engine → render.
//! - [`engine`]: the rules (seeding, passwords, later grant flows); no HTTP types.
//! - [`keys`]: signing-key generation, sealing at rest, rotation and the JWKS cache.
//! - [`store`]: one storage trait with SQLite and PostgreSQL backends.
//! - [`seed`]: the seed-file model, applied idempotently through the engine.
//! - [`config`]: layered, validated configuration.
//! - [`telemetry`]: logging and request ids.
//! - [`tls`]: HTTPS certificates, reloaded when they change, and the development CA.
//! - [`metrics`]: the Prometheus series each server counts.
//! - [`model`]: plain domain data shared by every layer.
//! - [`clock`]: the only source of the current time.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod engine;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod model;
pub mod seed;
pub mod store;
pub mod telemetry;
pub mod tls;
