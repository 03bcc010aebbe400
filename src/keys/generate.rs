//! New key pairs: RSA-2048 through the `rsa` crate (generation only, never signing:
//! RUSTSEC-2023-0071), P-256 and Ed25519 through ring. Every key leaves here as PKCS#8 DER with
//! its public JWK, whose RFC 7638 thumbprint is the `kid`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair as _};
use rsa::pkcs8::EncodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::json;

use crate::model::SigningAlg;

use super::Error;

/// A freshly generated key pair.
#[derive(Clone)]
pub struct GeneratedKey {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// The public JWK with `kid`, `alg` and `use`.
    pub public_jwk: serde_json::Value,
    /// The private key, PKCS#8 DER.
    pub pkcs8: Vec<u8>,
}

/// Generates a key pair for `alg`. RSA takes tens of milliseconds; call it off the runtime.
pub fn generate(alg: SigningAlg) -> Result<GeneratedKey, Error> {
    let rng = SystemRandom::new();
    let (members, pkcs8) = match alg {
        SigningAlg::RS256 => {
            let private = rsa::PrivateKey::new(&mut rand::rng(), 2048)
                .map_err(|_| Error::Crypto("RSA key generation"))?;
            let der = private
                .to_pkcs8_der()
                .map_err(|_| Error::Crypto("RSA PKCS#8 encoding"))?;
            let members = json!({
                "e": URL_SAFE_NO_PAD.encode(private.e_bytes()),
                "kty": "RSA",
                "n": URL_SAFE_NO_PAD.encode(private.n_bytes()),
            });
            (members, der.as_bytes().to_vec())
        }
        SigningAlg::ES256 => {
            let algorithm = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
            let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(algorithm, &rng)
                .map_err(|_| Error::Crypto("P-256 key generation"))?;
            let pair = signature::EcdsaKeyPair::from_pkcs8(algorithm, pkcs8.as_ref(), &rng)
                .map_err(|_| Error::Crypto("P-256 key parsing"))?;
            // An uncompressed SEC1 point: 0x04 || x || y.
            let point = pair.public_key().as_ref();
            let members = json!({
                "crv": "P-256",
                "kty": "EC",
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            });
            (members, pkcs8.as_ref().to_vec())
        }
        SigningAlg::EdDSA => {
            let pkcs8 = signature::Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| Error::Crypto("Ed25519 key generation"))?;
            let pair = signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
                .map_err(|_| Error::Crypto("Ed25519 key parsing"))?;
            let members = json!({
                "crv": "Ed25519",
                "kty": "OKP",
                "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            });
            (members, pkcs8.as_ref().to_vec())
        }
    };
    let kid = thumbprint(&members);
    let mut public_jwk = members;
    if let Some(object) = public_jwk.as_object_mut() {
        object.insert("kid".into(), kid.clone().into());
        object.insert("alg".into(), alg.as_str().into());
        object.insert("use".into(), "sig".into());
    }
    Ok(GeneratedKey {
        kid,
        public_jwk,
        pkcs8,
    })
}

/// Where a key ring's new key pairs come from.
pub trait KeySource: Send + Sync {
    /// A key pair for `alg` that this source has not handed out before. May block for tens of
    /// milliseconds (RSA generation): it is called off the runtime.
    fn key_pair(&self, alg: SigningAlg) -> Result<GeneratedKey, Error>;
}

/// Generates every key pair afresh: what a server runs with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Generator;

impl KeySource for Generator {
    fn key_pair(&self, alg: SigningAlg) -> Result<GeneratedKey, Error> {
        generate(alg)
    }
}

/// RFC 7638: SHA-256 over the required members, keys sorted, no whitespace.
fn thumbprint(required_members: &serde_json::Value) -> String {
    // serde_json's map is ordered by key, which is the order RFC 7638 §3.3 asks for.
    let canonical = required_members.to_string();
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_thumbprint_matches_rfc_7638_example() {
        // RFC 7638 §3.1.
        let members = json!({
            "e": "AQAB",
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        });
        assert_eq!(
            thumbprint(&members),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn each_algorithm_yields_a_key_with_a_matching_jwk() {
        for alg in SigningAlg::ALL {
            let key = generate(*alg).unwrap();
            assert_eq!(key.public_jwk["kid"], key.kid.as_str());
            assert_eq!(key.public_jwk["alg"], alg.as_str());
            assert!(!key.pkcs8.is_empty());
        }
    }
}
