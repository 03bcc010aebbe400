//! Password hashing: argon2id with configured cost, run on the blocking pool so that a burst of
//! sign-ins cannot stall the async workers. Imported bcrypt hashes verify too, and are reported
//! for an upgrade to argon2id at the next successful sign-in.
//!
//! Each argon2id hash needs its whole memory cost at once (19 MiB by default). Allocated per
//! hash, that memory lands in the allocator arena of whichever blocking thread ran it and stays
//! there: under a burst of sign-ins the process grew by hundreds of MiB and never shrank. So
//! the memory is allocated once per concurrent hash (one per core, as the permits allow) and
//! reused; a stored hash of a larger cost borrows memory of its own for that one verification.

use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OnceCell, Semaphore};

use crate::config::PasswordSettings;

use crate::engine::{constant_time_eq, Error, Result};

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// A hash of nothing in particular, verified when there is no user, so that an unknown
    /// login costs the same time as a wrong password.
    decoy: Arc<OnceCell<String>>,
    /// One hash at a time per core: more would only share the cores slower and queue the
    /// rest of the server's work behind them.
    permits: Arc<Semaphore>,
    /// argon2 memory of the configured cost, one buffer per permit in use so far.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password is right.
    pub matches: bool,
    /// The stored hash is not argon2id with the configured cost and should be replaced.
    pub needs_rehash: bool,
}

impl Passwords {
    /// A hasher with the configured argon2id cost.
    pub fn new(settings: PasswordSettings) -> Result<Self> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|err| Error::Validation(vec![format!("argon2 parameters: {err}")]))?;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Self {
            params,
            decoy: Arc::new(OnceCell::new()),
            permits: Arc::new(Semaphore::new(cores)),
            memory: Arc::default(),
        })
    }

    /// A PHC string (`$argon2id$v=19$…`) for the password, with a random salt.
    pub async fn hash(&self, password: SecretString) -> Result<String> {
        let params = self.params.clone();
        let memory = self.memory.clone();
        self.run_blocking(move || {
            let salt = argon2::password_hash::try_generate_salt()
                .map_err(|err| Error::Internal(err.to_string().into()))?;
            let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
            with_memory(&memory, &params, params.block_count(), |blocks| {
                argon2.hash_password_into_with_memory(
                    password.expose_secret().as_bytes(),
                    &salt,
                    &mut output,
                    blocks,
                )
            })
            .map_err(|err| Error::Internal(err.to_string().into()))?;
            let phc = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params)
                    .map_err(|err| Error::Internal(err.to_string().into()))?,
                salt: Some(
                    Salt::new(&salt).map_err(|err| Error::Internal(err.to_string().into()))?,
                ),
                hash: Some(
                    Output::new(&output).map_err(|err| Error::Internal(err.to_string().into()))?,
                ),
            };
            Ok(phc.to_string())
        })
        .await
    }

    /// Checks a password against a stored argon2 PHC string or bcrypt hash. An unreadable hash
    /// matches nothing.
    pub async fn verify(&self, stored_hash: String, password: SecretString) -> Result<Verified> {
        let params = self.params.clone();
        let memory = self.memory.clone();
        self.run_blocking(move || Ok(verify_blocking(&stored_hash, &password, &params, &memory)))
            .await
    }

    /// Spends the time of one verification without a user, and never matches.
    pub async fn verify_decoy(&self, password: SecretString) -> Result<()> {
        let decoy = self
            .decoy
            .get_or_try_init(|| self.hash(SecretString::from("decoy password")))
            .await?
            .clone();
        self.verify(decoy, password).await?;
        Ok(())
    }
}

/// Runs `work` on argon2 memory of at least `blocks` blocks: a pooled buffer of the configured
/// cost when that is enough, otherwise memory of its own that is freed afterwards.
fn with_memory<T>(
    pool: &Mutex<Vec<Vec<Block>>>,
    configured: &Params,
    blocks: usize,
    work: impl FnOnce(&mut [Block]) -> T,
) -> T {
    let pooled_size = configured.block_count();
    if blocks > pooled_size {
        // A stored hash's own cost, perhaps imported: refused rather than aborting the
        // process if that much memory cannot be had.
        let mut own = Vec::new();
        if own.try_reserve_exact(blocks).is_err() {
            return work(&mut []);
        }
        own.resize(blocks, Block::new());
        return work(&mut own);
    }
    let lock = || {
        pool.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let taken = lock().pop();
    let mut buffer = taken.unwrap_or_else(|| vec![Block::new(); pooled_size]);
    let result = work(&mut buffer);
    lock().push(buffer);
    result
}

fn verify_blocking(
    stored_hash: &str,
    password: &SecretString,
    configured: &Params,
    memory: &Mutex<Vec<Vec<Block>>>,
) -> Verified {
    let password = password.expose_secret().as_bytes();
    if ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|prefix| stored_hash.starts_with(prefix))
    {
        return Verified {
            matches: bcrypt::verify(password, stored_hash).unwrap_or(false),
            needs_rehash: true,
        };
    }
    let unreadable = Verified {
        matches: false,
        needs_rehash: false,
    };
    let Ok(parsed) = PasswordHash::new(stored_hash) else {
        return unreadable;
    };
    // The stored string carries its own algorithm and cost; verification follows it.
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm.as_str()),
        Params::try_from(&parsed),
        parsed.salt.as_ref(),
        parsed.hash.as_ref(),
    ) else {
        return unreadable;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return unreadable,
    };
    let current = algorithm == Algorithm::Argon2id
        && params.m_cost() == configured.m_cost()
        && params.t_cost() == configured.t_cost()
        && params.p_cost() == configured.p_cost();
    let mut output = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let hashed = with_memory(memory, configured, params.block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password, salt.as_ref(), &mut output, blocks)
    });
    Verified {
        matches: hashed.is_ok() && constant_time_eq(&output, expected.as_bytes()),
        needs_rehash: !current,
    }
}

impl Passwords {
    /// Runs CPU-heavy work on the blocking pool, at most one task per core at a time.
    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        // The permit goes with the work, so that a request given up mid-hash still holds it
        // until the hash ends: the pooled memory never outnumbers the permits.
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|err| Error::Internal(Box::new(err)))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|err| Error::Internal(Box::new(err)))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passwords(iterations: u32) -> Passwords {
        Passwords::new(PasswordSettings {
            memory_kib: 64,
            iterations,
            parallelism: 1,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify_only_the_right_password() {
        let passwords = passwords(1);
        let hash = passwords.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        let right = passwords
            .verify(hash.clone(), "correct horse".into())
            .await
            .unwrap();
        assert_eq!(
            right,
            Verified {
                matches: true,
                needs_rehash: false
            }
        );
        assert!(
            !passwords
                .verify(hash, "wrong".into())
                .await
                .unwrap()
                .matches
        );
        assert!(
            !passwords
                .verify("not a hash".into(), "x".into())
                .await
                .unwrap()
                .matches
        );
    }

    #[tokio::test]
    async fn bcrypt_hashes_verify_and_ask_for_an_upgrade() {
        let imported = bcrypt::hash("imported secret", 4).unwrap();
        let verified = passwords(1)
            .verify(imported.clone(), "imported secret".into())
            .await
            .unwrap();
        assert_eq!(
            verified,
            Verified {
                matches: true,
                needs_rehash: true
            }
        );
        assert!(
            !passwords(1)
                .verify(imported, "other".into())
                .await
                .unwrap()
                .matches
        );
    }

    #[tokio::test]
    async fn a_hash_with_other_costs_asks_for_an_upgrade() {
        let old = passwords(1).hash("pw".into()).await.unwrap();
        let verified = passwords(2).verify(old, "pw".into()).await.unwrap();
        assert!(verified.matches && verified.needs_rehash);
    }
}
