//! Token minting: Okta-shaped access and ID tokens (DESIGN §1), opaque codes and refresh
//! tokens, and the hashes that bind them (`at_hash`, `c_hash`: OIDC Core §3.1.3.6, §3.3.2.11).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::model::{AuthServer, ClaimType, Client, ScopeSet, SigningAlg, Timestamp, User};

use super::OAuth;
use crate::engine::{Error, Result};

/// The identity provider ID tokens name: authd itself, as Okta names its own org.
pub const ORG_IDP_ID: &str = "00oauthdorgidp000000";

/// A signed access token.
#[derive(Debug)]
pub struct MintedAccessToken {
    /// The JWT.
    pub token: String,
    /// Its `jti`.
    pub jti: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// When it expires.
    pub expires_at: Timestamp,
}

/// Who and what a token is for.
pub struct Subject<'a> {
    /// The server issuing it.
    pub server: &'a AuthServer,
    /// The client it is for.
    pub client: &'a Client,
    /// The user; `None` for client credentials.
    pub user: Option<&'a User>,
    /// Granted scopes.
    pub scopes: &'a ScopeSet,
    /// When the user authenticated.
    pub auth_time: Option<Timestamp>,
    /// The grant the token belongs to (revoked together).
    pub grant_id: &'a str,
    /// What its custom claims read beyond the user and the app.
    pub inputs: &'a super::claims::ClaimInputs,
}

/// A new grant id: 22 characters, the fixed-length head of every access token `jti` of the
/// grant, so that revocation of a grant can be checked without storing each token.
pub fn new_grant_id() -> String {
    let bytes: [u8; 16] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The grant id inside an access token's `jti` (`AT.` + grant id + random suffix).
pub fn grant_id_of(jti: &str) -> Option<&str> {
    jti.strip_prefix("AT.").and_then(|rest| rest.get(..22))
}

/// OIDC Core §3.1.3.6: the left half of the hash of the token's ASCII octets, with the hash
/// the signing algorithm uses (SHA-512 for Ed25519).
pub fn left_half_hash(alg: SigningAlg, value: &str) -> String {
    let algorithm = match alg {
        SigningAlg::RS256 | SigningAlg::ES256 => &ring::digest::SHA256,
        SigningAlg::EdDSA => &ring::digest::SHA512,
    };
    let digest = ring::digest::digest(algorithm, value.as_bytes());
    let bytes = digest.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

impl OAuth {
    /// Signs an access token (Okta's claims: `ver`, `jti`, `iss`, `aud`, `iat`, `exp`, `cid`,
    /// `uid`, `scp`, `sub`, `auth_time`, then custom resource claims).
    pub async fn mint_access_token(&self, subject: &Subject<'_>) -> Result<MintedAccessToken> {
        let now = self.now();
        let lifetime = self.lifetimes.of(subject.server).access_token_lifetime;
        let expires_at = now.plus(lifetime);
        let suffix: [u8; 8] = rand::random();
        let jti = format!("AT.{}{}", subject.grant_id, URL_SAFE_NO_PAD.encode(suffix));
        let server = subject.server;
        let mut claims = Map::new();
        claims.insert("ver".into(), 1.into());
        claims.insert("jti".into(), jti.clone().into());
        claims.insert("iss".into(), server.issuer(&self.base_url).into());
        claims.insert("aud".into(), self.audience(server));
        claims.insert("iat".into(), now.unix().into());
        claims.insert("exp".into(), expires_at.unix().into());
        claims.insert("cid".into(), subject.client.id.as_str().into());
        if let Some(user) = subject.user {
            claims.insert("uid".into(), user.id.as_str().into());
        }
        claims.insert("scp".into(), subject.scopes.to_vec().into());
        if let Some(auth_time) = subject.auth_time {
            claims.insert("auth_time".into(), auth_time.unix().into());
        }
        let sub = subject
            .user
            .map_or(subject.client.id.as_str(), |user| user.login.as_str());
        claims.insert("sub".into(), sub.into());
        self.add_custom_claims(&mut claims, ClaimType::Resource, subject)?;
        let signer = self.directory.signer(&server.id).await?;
        let token = signer
            .sign_jwt(&claims)
            .map_err(|err| Error::Internal(Box::new(err)))?;
        Ok(MintedAccessToken {
            token,
            jti,
            expires_in: lifetime.as_secs(),
            expires_at,
        })
    }

    /// Signs an ID token for the user, with the claims its scopes allow.
    pub async fn mint_id_token(
        &self,
        subject: &Subject<'_>,
        amr: &[String],
        nonce: Option<&str>,
        access_token: Option<&str>,
        code: Option<&str>,
    ) -> Result<String> {
        let Some(user) = subject.user else {
            return Err(Error::Internal("an ID token needs a user".into()));
        };
        let server = subject.server;
        let signer = self.directory.signer(&server.id).await?;
        let now = self.now();
        let mut claims = Map::new();
        claims.insert("sub".into(), user.id.as_str().into());
        claims.insert("ver".into(), 1.into());
        claims.insert("iss".into(), server.issuer(&self.base_url).into());
        claims.insert("aud".into(), subject.client.id.as_str().into());
        claims.insert("iat".into(), now.unix().into());
        claims.insert(
            "exp".into(),
            now.plus(self.lifetimes.of(server).id_token_lifetime)
                .unix()
                .into(),
        );
        let random: [u8; 16] = rand::random();
        claims.insert(
            "jti".into(),
            format!("ID.{}", URL_SAFE_NO_PAD.encode(random)).into(),
        );
        claims.insert("amr".into(), amr.to_vec().into());
        claims.insert("idp".into(), ORG_IDP_ID.into());
        if let Some(nonce) = nonce {
            claims.insert("nonce".into(), nonce.into());
        }
        if let Some(auth_time) = subject.auth_time {
            claims.insert("auth_time".into(), auth_time.unix().into());
        }
        if let Some(access_token) = access_token {
            claims.insert(
                "at_hash".into(),
                left_half_hash(signer.alg(), access_token).into(),
            );
        }
        if let Some(code) = code {
            claims.insert("c_hash".into(), left_half_hash(signer.alg(), code).into());
        }
        for (name, value) in user_claims(user, subject.scopes) {
            claims.insert(name, value);
        }
        self.add_custom_claims(&mut claims, ClaimType::Identity, subject)?;
        signer
            .sign_jwt(&claims)
            .map_err(|err| Error::Internal(Box::new(err)))
    }

    /// The `aud` of a server's access tokens: its audience (a list if several); the base URL
    /// for the org server, as Okta's org server uses the org URL.
    pub fn audience(&self, server: &AuthServer) -> Value {
        match server.audiences.as_slice() {
            [] => self.base_url.clone().into(),
            [one] => one.clone().into(),
            many => many.to_vec().into(),
        }
    }
}

/// The standard claims the scopes allow (OIDC Core §5.4), from the user's Okta profile.
pub fn user_claims(user: &User, scopes: &ScopeSet) -> Map<String, Value> {
    let mut claims = Map::new();
    let text = |key: &str| {
        user.profile_text(key)
            .map(|value| Value::from(value.to_owned()))
    };
    if scopes.contains("profile") {
        let name = match (
            user.profile_text("firstName"),
            user.profile_text("lastName"),
        ) {
            (Some(first), Some(last)) => Some(format!("{first} {last}")),
            (Some(one), None) | (None, Some(one)) => Some(one.to_owned()),
            (None, None) => None,
        };
        for (claim, value) in [
            ("name", name.map(Value::from)),
            ("given_name", text("firstName")),
            ("family_name", text("lastName")),
            ("middle_name", text("middleName")),
            ("nickname", text("nickName")),
            ("preferred_username", Some(user.login.clone().into())),
            ("profile", text("profileUrl")),
            ("locale", text("locale")),
            ("zoneinfo", text("timeZone")),
            ("updated_at", Some(user.updated_at.unix().into())),
        ] {
            if let Some(value) = value {
                claims.insert(claim.into(), value);
            }
        }
    }
    if scopes.contains("email") {
        if let Some(email) = text("email") {
            claims.insert("email".into(), email);
            claims.insert(
                "email_verified".into(),
                user.profile
                    .get("emailVerified")
                    .cloned()
                    .unwrap_or(Value::Bool(true)),
            );
        }
    }
    if scopes.contains("address") {
        let address: Map<String, Value> = [
            ("street_address", "streetAddress"),
            ("locality", "city"),
            ("region", "state"),
            ("postal_code", "zipCode"),
            ("country", "countryCode"),
        ]
        .into_iter()
        .filter_map(|(claim, key)| text(key).map(|value| (claim.to_owned(), value)))
        .collect();
        if !address.is_empty() {
            claims.insert("address".into(), Value::Object(address));
        }
    }
    if scopes.contains("phone") {
        if let Some(phone) = text("mobilePhone").or_else(|| text("primaryPhone")) {
            claims.insert("phone_number".into(), phone);
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_sha256_for_rs256() {
        // OIDC Core, appendix A.3: access token and its at_hash.
        assert_eq!(
            left_half_hash(
                SigningAlg::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(left_half_hash(SigningAlg::EdDSA, "x").len(), 43);
    }

    #[test]
    fn grant_ids_are_recovered_from_jtis() {
        let grant = new_grant_id();
        assert_eq!(grant.len(), 22);
        let jti = format!("AT.{grant}AAAAAAAAAAA");
        assert_eq!(grant_id_of(&jti), Some(grant.as_str()));
        assert_eq!(grant_id_of("ID.x"), None);
    }
}
