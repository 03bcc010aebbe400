use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// A bearer secret handed to a client once (session token, state token, `sid` cookie): 256
/// random bits. `Debug` prints nothing of it; only its [`TokenHash`] is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainToken(String);

impl PlainToken {
    /// A fresh random token.
    pub fn generate() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Wraps a token a client presented.
    pub fn from_presented(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The token, to hand to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps instead of the token.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl std::fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainToken(***)")
    }
}

/// SHA-256 of a token, hex. Lookups by hash need no constant-time comparison: an attacker who
/// can time them learns bits of a hash, not of the token.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// The hash of a token's text.
    pub fn of(token: &str) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        Self(digest.as_ref().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Rebuilds a hash read from the store.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hidden_from_debug() {
        let token = PlainToken::generate();
        assert_eq!(token.expose().len(), 43);
        assert_ne!(token, PlainToken::generate());
        assert!(!format!("{token:?}").contains(token.expose()));
        assert_eq!(token.hash(), TokenHash::of(token.expose()));
        assert_eq!(token.hash().as_str().len(), 64);
    }
}
