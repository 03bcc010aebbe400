//! The raw signing rate of this machine with authd's own signer: the ceiling a token endpoint
//! can approach, since every token is one signature.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authd::keys::generate::generate;
use authd::keys::Signer;
use authd::model::{Kid, SigningAlg};

/// Signatures per second for `alg` on `threads` threads, signing an access token's claims for
/// `period`.
pub fn signatures_per_second(alg: SigningAlg, threads: usize, period: Duration) -> f64 {
    let key = generate(alg).unwrap();
    let signer =
        Arc::new(Signer::from_pkcs8(Kid::parse(key.kid).unwrap(), alg, &key.pkcs8).unwrap());
    // The shape of a client-credentials access token.
    let claims = serde_json::json!({
        "ver": 1, "jti": "AT.hHxBCWJLSmmuABbMY71NGQywNq_ms27Zs",
        "iss": "http://127.0.0.1:18080/oauth2/default", "aud": "api://default",
        "iat": 1_796_154_932, "exp": 1_796_158_532, "cid": "0oabenchservice00001",
        "scp": ["api.read"], "sub": "0oabenchservice00001"
    });
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
