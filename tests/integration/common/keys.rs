//! Signing key pairs generated once per test process: a test server would otherwise spend
//! most of its start generating its servers' RSA keys.

use std::sync::{Mutex, OnceLock};

use authd::keys::generate::{generate, GeneratedKey};
use authd::keys::{Error, KeySource};
use authd::model::SigningAlg;

/// Enough for the two built-in servers' ACTIVE and NEXT keys, a second replica's and a few
/// rotations; a database that needs more gets freshly generated ones.
const POOLED_RSA_KEYS: usize = 12;

fn rsa_keys() -> &'static [GeneratedKey] {
    static KEYS: OnceLock<Vec<GeneratedKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..POOLED_RSA_KEYS)
                .map(|_| scope.spawn(|| generate(SigningAlg::RS256).unwrap()))
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        })
    })
}

/// Hands out the process's RSA key pairs in order, each at most once per database (kids are
/// unique in one), and generates every other key.
#[derive(Default)]
pub struct KeyPool {
    rsa_handed_out: Mutex<usize>,
}

impl KeySource for KeyPool {
    fn key_pair(&self, alg: SigningAlg) -> Result<GeneratedKey, Error> {
        if alg == SigningAlg::RS256 {
            let mut handed_out = self.rsa_handed_out.lock().unwrap();
            if let Some(key) = rsa_keys().get(*handed_out) {
                *handed_out += 1;
                return Ok(key.clone());
            }
        }
        generate(alg)
    }
}
