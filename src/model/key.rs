use super::{AuthServerId, Kid, Timestamp};

wire_enum!(
    /// A JWS signing algorithm an authorization server can sign with.
    SigningAlg, "signing algorithm" {
        /// RSASSA-PKCS1-v1_5 with SHA-256 on RSA-2048 (what Okta's SDKs verify).
        RS256 = "RS256",
        /// ECDSA on P-256 with SHA-256.
        ES256 = "ES256",
        /// Ed25519.
        EdDSA = "EdDSA",
    }
);

#[expect(
    clippy::derivable_impls,
    reason = "wire_enum! declares the enum with a fixed derive list"
)]
impl Default for SigningAlg {
    fn default() -> Self {
        SigningAlg::RS256
    }
}

wire_enum!(
    /// Where a key is in its life (DESIGN §3).
    KeyState, "key state" {
        /// Published in the JWKS, not yet signing.
        Next = "NEXT",
        /// Signing new tokens.
        Active = "ACTIVE",
        /// No longer signing; published until every token it signed has expired.
        Retired = "RETIRED",
    }
);

/// A signing key as stored: public half in clear, private half sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// The `kid`.
    pub kid: Kid,
    /// The server it belongs to.
    pub auth_server_id: AuthServerId,
    /// What it signs with.
    pub alg: SigningAlg,
    /// Where it is in its life.
    pub state: KeyState,
    /// The public JWK, serialized.
    pub public_jwk: String,
    /// The PKCS#8 private key, sealed with the configured secret.
    pub sealed_private_key: Vec<u8>,
    /// When it was made (and published as NEXT).
    pub created_at: Timestamp,
    /// When it started signing.
    pub activated_at: Option<Timestamp>,
    /// When it stopped signing.
    pub retired_at: Option<Timestamp>,
    /// When no token it signed can still be valid; it leaves the JWKS then.
    pub remove_after: Option<Timestamp>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("auth_server_id", &self.auth_server_id)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .field("created_at", &self.created_at)
            .field("activated_at", &self.activated_at)
            .field("retired_at", &self.retired_at)
            .field("remove_after", &self.remove_after)
            .finish_non_exhaustive()
    }
}
