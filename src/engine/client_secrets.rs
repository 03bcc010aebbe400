//! How client secrets are stored: a keyed hash, so that someone who reads the database cannot
//! test guesses of a secret offline without `AUTHD_SECRET_KEY` (DESIGN §6).
//!
//! The stored text names its scheme. `hmac-sha256:` is HMAC-SHA-256, under a key derived from
//! the configured secret, of the secret's SHA-256 digest; hashing the digest rather than the
//! secret lets the `sha256:` hashes of earlier versions (the digest alone, marked so by a
//! migration) be re-keyed at start without knowing the secrets. A fast hash is right for both:
//! the secrets are random or at least [`MIN_CLIENT_SECRET_LENGTH`] long, and a slow hash on
//! every client-credentials request would be a bottleneck.

use crate::model::MIN_CLIENT_SECRET_LENGTH;

use super::constant_time_eq;

const KEYED: &str = "hmac-sha256:";
const LEGACY: &str = "sha256:";

/// Hashes and checks client secrets under one key.
pub struct SecretHasher {
    key: ring::hmac::Key,
}

impl SecretHasher {
    /// A hasher keyed for client secrets.
    pub fn new(key: ring::hmac::Key) -> Self {
        Self { key }
    }

    /// What the store keeps for `secret`.
    pub fn hash(&self, secret: &str) -> String {
        self.keyed(&digest(secret))
    }

    /// Whether `secret` is the one `stored` was made from, in time that does not depend on
    /// where they differ.
    pub fn matches(&self, secret: &str, stored: &str) -> bool {
        let digest = digest(secret);
        let expected = if stored.starts_with(LEGACY) {
            format!("{LEGACY}{}", hex(&digest))
        } else {
            self.keyed(&digest)
        };
        constant_time_eq(expected.as_bytes(), stored.as_bytes())
    }

    /// The keyed form of a hash stored by an earlier version, or `None` if it is not one.
    pub fn rekey(&self, stored: &str) -> Option<String> {
        let digest = unhex(stored.strip_prefix(LEGACY)?)?;
        Some(self.keyed(&digest))
    }

    fn keyed(&self, digest: &[u8]) -> String {
        format!(
            "{KEYED}{}",
            hex(ring::hmac::sign(&self.key, digest).as_ref())
        )
    }
}

/// The reason a chosen secret is refused, if it is.
pub fn check_secret(secret: &str) -> Option<String> {
    (secret.chars().count() < MIN_CLIENT_SECRET_LENGTH)
        .then(|| format!("must be at least {MIN_CLIENT_SECRET_LENGTH} characters"))
}

fn digest(secret: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, secret.as_bytes())
        .as_ref()
        .to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(key: &[u8]) -> SecretHasher {
        SecretHasher::new(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key))
    }

    #[test]
    fn a_stored_hash_reveals_nothing_without_the_key() {
        let hasher = hasher(b"one key");
        let stored = hasher.hash("a-client-secret-0001");
        assert!(stored.starts_with(KEYED));
        assert!(!stored.contains(&hex(&digest("a-client-secret-0001"))));
        assert_ne!(
            stored,
            self::hasher(b"another key").hash("a-client-secret-0001")
        );
        assert!(hasher.matches("a-client-secret-0001", &stored));
        assert!(!hasher.matches("a-client-secret-0002", &stored));
    }

    #[test]
    fn earlier_hashes_still_match_and_rekey_to_the_current_form() {
        let hasher = hasher(b"one key");
        let legacy = format!("{LEGACY}{}", hex(&digest("a-client-secret-0001")));
        assert!(hasher.matches("a-client-secret-0001", &legacy));
        assert!(!hasher.matches("a-client-secret-0002", &legacy));
        assert_eq!(
            hasher.rekey(&legacy).as_deref(),
            Some(hasher.hash("a-client-secret-0001").as_str())
        );
        assert_eq!(hasher.rekey(&hasher.hash("x")), None);
        assert_eq!(hasher.rekey("sha256:zz"), None);
    }

    #[test]
    fn the_minimum_length_counts_characters() {
        assert!(check_secret("13-characters").is_some());
        assert!(check_secret("14-characters!").is_none());
    }
}
