//! The raw signing rate of this machine, in process, with authd's own signer:
//! `cargo bench --bench signing`. The ceiling a token endpoint can approach: every token is one
//! signature. Signs an access token's claims for `AUTHD_BENCH_SECONDS` (default 3) per case, on
//! one thread and on every core.

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark command: failures abort it, figures go to stdout"
)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authd::keys::generate::generate;
use authd::keys::Signer;
use authd::model::{Kid, SigningAlg};

fn main() {
    let seconds: u64 = std::env::var("AUTHD_BENCH_SECONDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(3);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    // The shape of a client-credentials access token.
    let claims = serde_json::json!({
        "ver": 1, "jti": "AT.hHxBCWJLSmmuABbMY71NGQywNq_ms27Zs", "iss": "http://127.0.0.1:18080/oauth2/default",
        "aud": "api://default", "iat": 1_796_154_932, "exp": 1_796_158_532,
        "cid": "0oabenchservice00001", "scp": ["api.read"], "sub": "0oabenchservice00001"
    });
    println!("{:<8} {:>8} {:>14}", "alg", "threads", "signatures/s");
    for alg in [SigningAlg::RS256, SigningAlg::ES256] {
        let key = generate(alg).unwrap();
        let signer =
            Arc::new(Signer::from_pkcs8(Kid::parse(key.kid).unwrap(), alg, &key.pkcs8).unwrap());
        for threads in [1, cores] {
            let rate = rate(&signer, &claims, threads, Duration::from_secs(seconds));
            println!("{:<8} {threads:>8} {rate:>14.0}", alg.as_str());
        }
    }
}

fn rate(signer: &Arc<Signer>, claims: &serde_json::Value, threads: usize, period: Duration) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (signer, claims, stop) = (signer.clone(), claims.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut signed = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    std::hint::black_box(signer.sign_jwt(&claims).unwrap());
                    signed += 1;
                }
                signed
            })
        })
        .collect();
    std::thread::sleep(period);
    stop.store(true, Ordering::Relaxed);
    let signed: u64 = workers
        .into_iter()
        .map(|worker| worker.join().unwrap())
        .sum();
    signed as f64 / started.elapsed().as_secs_f64()
}
