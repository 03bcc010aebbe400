//! The raw signing rate of this machine, in process, with authd's own signer:
//! `cargo bench --bench signing`. Signs an access token's claims for `AUTHD_BENCH_SECONDS`
//! (default 3) per case, on one thread and on every core.

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark command: failures abort it, figures go to stdout"
)]

#[path = "common/signing_rate.rs"]
mod signing_rate;

use std::time::Duration;

use authd::model::SigningAlg;

fn main() {
    let seconds: u64 = std::env::var("AUTHD_BENCH_SECONDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(3);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("{:<8} {:>8} {:>14}", "alg", "threads", "signatures/s");
    for alg in [SigningAlg::RS256, SigningAlg::ES256] {
        for threads in [1, cores] {
            let rate =
                signing_rate::signatures_per_second(alg, threads, Duration::from_secs(seconds));
            println!("{:<8} {threads:>8} {rate:>14.0}", alg.as_str());
        }
    }
}
