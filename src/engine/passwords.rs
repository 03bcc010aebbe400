//! Password hashing: argon2id with configured cost, run on the blocking pool so that a burst of
//! sign-ins cannot stall the async workers.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::config::PasswordSettings;

use super::{Error, Result};

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
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
        Ok(Self { params })
    }

    /// A PHC string (`$argon2id$v=19$…`) for the password, with a random salt.
    pub async fn hash(&self, password: SecretString) -> Result<String> {
        let params = self.params.clone();
        run_blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|err| Error::Internal(err.to_string().into()))
        })
        .await
    }

    /// Whether the password matches a stored PHC string. An unreadable hash matches nothing.
    pub async fn verify(&self, stored_hash: String, password: SecretString) -> Result<bool> {
        run_blocking(move || {
            let Ok(parsed) = PasswordHash::new(&stored_hash) else {
                return Ok(false);
            };
            // The stored string carries its own algorithm and cost; verification follows it.
            Ok(Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok())
        })
        .await
    }
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| Error::Internal(Box::new(err)))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify_only_the_right_password() {
        let passwords = Passwords::new(PasswordSettings {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap();
        let hash = passwords.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(passwords
            .verify(hash.clone(), "correct horse".into())
            .await
            .unwrap());
        assert!(!passwords.verify(hash, "wrong".into()).await.unwrap());
        assert!(!passwords
            .verify("not a hash".into(), "x".into())
            .await
            .unwrap());
    }
}
