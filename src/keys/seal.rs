//! Private keys at rest: AES-256-GCM under the configured secret (DESIGN §3).
//!
//! The key id is the associated data, so a sealed key copied onto another row does not open.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

use super::Error;

/// The first byte of every sealed value, so the format can change later.
const FORMAT_V1: u8 = 1;

/// Encrypts and authenticates private keys with the configured secret.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl Sealer {
    /// A sealer for the given 32-byte secret.
    pub fn new(secret: &[u8; 32]) -> Result<Self, Error> {
        let key = UnboundKey::new(&AES_256_GCM, secret).map_err(|_| Error::Crypto("aead key"))?;
        Ok(Self {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }

    /// `format byte || nonce || ciphertext || tag`.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| Error::Crypto("random nonce"))?;
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| Error::Crypto("seal"))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        sealed.push(FORMAT_V1);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&in_out);
        Ok(sealed)
    }

    /// Opens a sealed value; [`Error::WrongSecret`] if this secret did not seal it.
    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, Error> {
        let Some((&FORMAT_V1, rest)) = sealed.split_first() else {
            return Err(Error::WrongSecret);
        };
        if rest.len() < NONCE_LEN {
            return Err(Error::WrongSecret);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::WrongSecret)?;
        let mut in_out = ciphertext.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut in_out)
            .map_err(|_| Error::WrongSecret)?;
        Ok(plaintext.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_secret_and_kid() {
        let sealer = Sealer::new(&[7; 32]).unwrap();
        let sealed = sealer.seal("kid-1", b"private key bytes").unwrap();
        assert!(!sealed
            .windows(b"private key bytes".len())
            .any(|w| w == b"private key bytes"));
        assert_eq!(sealer.open("kid-1", &sealed).unwrap(), b"private key bytes");
        assert!(matches!(
            sealer.open("kid-2", &sealed),
            Err(Error::WrongSecret)
        ));
        let other = Sealer::new(&[8; 32]).unwrap();
        assert!(matches!(
            other.open("kid-1", &sealed),
            Err(Error::WrongSecret)
        ));
    }
}
