//! Password hashing: argon2id with configured cost, run on the blocking pool so that a burst of
//! sign-ins cannot stall the async workers. Imported bcrypt hashes verify too, and are reported
//! for an upgrade to argon2id at the next successful sign-in.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OnceCell, Semaphore};

use crate::config::PasswordSettings;

use super::{Error, Result};

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
        })
    }

    /// A PHC string (`$argon2id$v=19$…`) for the password, with a random salt.
    pub async fn hash(&self, password: SecretString) -> Result<String> {
        let params = self.params.clone();
        self.run_blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|err| Error::Internal(err.to_string().into()))
        })
        .await
    }

    /// Checks a password against a stored argon2 PHC string or bcrypt hash. An unreadable hash
    /// matches nothing.
    pub async fn verify(&self, stored_hash: String, password: SecretString) -> Result<Verified> {
        let params = self.params.clone();
        self.run_blocking(move || Ok(verify_blocking(&stored_hash, &password, &params)))
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

fn verify_blocking(stored_hash: &str, password: &SecretString, params: &Params) -> Verified {
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
    let Ok(parsed) = PasswordHash::new(stored_hash) else {
        return Verified {
            matches: false,
            needs_rehash: false,
        };
    };
    // The stored string carries its own algorithm and cost; verification follows it.
    let matches = Argon2::default().verify_password(password, &parsed).is_ok();
    let current = parsed.algorithm.as_str() == "argon2id"
        && Params::try_from(&parsed).is_ok_and(|stored| {
            stored.m_cost() == params.m_cost()
                && stored.t_cost() == params.t_cost()
                && stored.p_cost() == params.p_cost()
        });
    Verified {
        matches,
        needs_rehash: !current,
    }
}

impl Passwords {
    /// Runs CPU-heavy work on the blocking pool, at most one task per core at a time.
    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|err| Error::Internal(Box::new(err)))?;
        tokio::task::spawn_blocking(work)
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
