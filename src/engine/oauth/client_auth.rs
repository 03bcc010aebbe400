//! Client authentication at the token, introspection and revocation endpoints (RFC 6749
//! §2.3, OIDC Core §9): `client_secret_basic`, `client_secret_post`, `private_key_jwt` and
//! `none` for public clients.

use std::sync::Arc;

use crate::model::{AuthServerId, Client, ClientId, Status, TokenEndpointAuthMethod};

use super::OAuth;
use crate::engine::{Error, Result};

/// How the request tried to authenticate the client.
#[derive(Debug, Default)]
pub struct ClientCredentials {
    /// From the `Authorization: Basic` header: the id, and the secret unless it is absent or
    /// empty (a public client sends `base64(client_id)` or `base64(client_id:)`, as Okta's
    /// okta-auth-js does at `/revoke`).
    pub basic: Option<(String, Option<String>)>,
    /// `client_id` in the body.
    pub client_id: Option<String>,
    /// `client_secret` in the body.
    pub client_secret: Option<String>,
    /// `client_assertion` in the body (`private_key_jwt`).
    pub client_assertion: Option<String>,
    /// `client_assertion_type` in the body.
    pub client_assertion_type: Option<String>,
}

/// How far in the future a client assertion's `nbf` and `iat` may be: clocks differ a little.
const ASSERTION_CLOCK_SKEW_SECONDS: i64 = 60;

/// RFC 7523 §2.2.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

impl OAuth {
    /// The client the request authenticates as, at `endpoint` (a URL) of the authorization
    /// server `server_id`. A client assertion names as its audience the endpoint, as Okta
    /// documents, or the server's issuer, as RFC 7523bis and openid-client do.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate_client(
        &self,
        credentials: ClientCredentials,
        server_id: &AuthServerId,
        endpoint: &str,
    ) -> Result<Arc<Client>> {
        let used_basic = credentials.basic.is_some();
        let failed = |reason: &str| Error::InvalidClient {
            reason: reason.to_owned(),
            used_basic,
        };
        let methods = [
            credentials.basic.is_some(),
            credentials.client_secret.is_some(),
            credentials.client_assertion.is_some(),
        ];
        if methods.iter().filter(|used| **used).count() > 1 {
            return Err(Error::InvalidRequest(
                "The client used more than one authentication method.".to_owned(),
            ));
        }
        if let Some(assertion) = credentials.client_assertion {
            if credentials.client_assertion_type.as_deref() != Some(JWT_BEARER_ASSERTION) {
                return Err(Error::InvalidRequest(format!(
                    "client_assertion_type must be {JWT_BEARER_ASSERTION}"
                )));
            }
            let issuer = crate::model::issuer_url(server_id, &self.base_url);
            return self
                .authenticate_assertion(
                    &assertion,
                    credentials.client_id.as_deref(),
                    &[endpoint, &issuer],
                )
                .await;
        }
        let (id, secret) = match (
            credentials.basic,
            credentials.client_id,
            credentials.client_secret,
        ) {
            // A body secret beside Basic was refused above as a second method.
            (Some((id, secret)), body_id, _) => {
                if body_id.as_ref().is_some_and(|body_id| body_id != &id) {
                    return Err(failed(
                        "client_id in the body differs from the Basic credentials",
                    ));
                }
                (id, secret)
            }
            (None, Some(id), secret) => (id, secret),
            (None, None, _) => {
                return Err(failed(
                    "Client authentication failed: no client credentials.",
                ))
            }
        };
        let client = self.active_client(&id, used_basic).await?;
        match (client.token_endpoint_auth_method, secret) {
            (TokenEndpointAuthMethod::None, None) => Ok(client),
            (TokenEndpointAuthMethod::None, Some(_)) => Err(failed(
                "This client is public: it authenticates with PKCE, not a secret.",
            )),
            (
                TokenEndpointAuthMethod::ClientSecretBasic
                | TokenEndpointAuthMethod::ClientSecretPost,
                Some(secret),
            ) => {
                // Every active secret is compared, so the time does not tell which one matched.
                let matched = client.secret_hashes.iter().fold(false, |matched, stored| {
                    self.secret_hasher.matches(&secret, stored) | matched
                });
                if matched {
                    Ok(client)
                } else {
                    Err(failed(
                        "The client secret supplied for a confidential client is invalid.",
                    ))
                }
            }
            (TokenEndpointAuthMethod::PrivateKeyJwt, _) => Err(failed(
                "This client authenticates with private_key_jwt: send a client_assertion.",
            )),
            (_, None) => Err(failed(
                "Client authentication failed: this client needs its client secret.",
            )),
        }
    }

    /// An active client by id, for requests that name one without authenticating it.
    pub async fn active_client(&self, id: &str, used_basic: bool) -> Result<Arc<Client>> {
        let failed = || Error::InvalidClient {
            reason: "The client is unknown or inactive.".to_owned(),
            used_basic,
        };
        let id = ClientId::parse(id).map_err(|_| failed())?;
        let client = self.directory.client(&id).await?.ok_or_else(failed)?;
        if client.status == Status::Active {
            Ok(client)
        } else {
            Err(failed())
        }
    }

    async fn authenticate_assertion(
        &self,
        assertion: &str,
        body_client_id: Option<&str>,
        audiences: &[&str],
    ) -> Result<Arc<Client>> {
        let failed = |reason: String| Error::InvalidClient {
            reason,
            used_basic: false,
        };
        // Only to find the client whose keys verify it; nothing here is trusted until then.
        let unverified = unverified_claims(assertion)
            .ok_or_else(|| failed("The client_assertion is not a JWT.".to_owned()))?;
        let Some(issuer) = unverified.get("iss").and_then(serde_json::Value::as_str) else {
            return Err(failed("The client_assertion has no iss.".to_owned()));
        };
        if body_client_id.is_some_and(|id| id != issuer) {
            return Err(failed(
                "client_id differs from the assertion's issuer.".to_owned(),
            ));
        }
        let client = self.active_client(issuer, false).await?;
        if client.token_endpoint_auth_method != TokenEndpointAuthMethod::PrivateKeyJwt {
            return Err(failed(
                "This client does not authenticate with private_key_jwt.".to_owned(),
            ));
        }
        let jwks: jsonwebtoken::jwk::JwkSet = client
            .jwks
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .ok_or_else(|| failed("The client has no usable registered JWKS.".to_owned()))?;
        if let Some(critical) =
            unverified_header(assertion).and_then(|header| header.get("crit").cloned())
        {
            return Err(failed(format!(
                "The client_assertion has critical header parameters that are not understood: {critical}."
            )));
        }
        let header = jsonwebtoken::decode_header(assertion)
            .map_err(|_| failed("The client_assertion header is malformed.".to_owned()))?;
        let key = match &header.kid {
            Some(kid) => jwks.find(kid),
            None => jwks.keys.first().filter(|_| jwks.keys.len() == 1),
        }
        .ok_or_else(|| {
            failed("No registered key matches the client_assertion's kid.".to_owned())
        })?;
        // The key decides the algorithm, never the token: a header naming another one (an
        // HMAC over the public key, say) is refused before anything is verified.
        let algorithms = key_algorithms(key);
        if !algorithms.contains(&header.alg) {
            return Err(failed(format!(
                "The client_assertion is signed with {:?}, which is not the registered key's \
                 algorithm.",
                header.alg
            )));
        }
        let decoding_key = jsonwebtoken::DecodingKey::from_jwk(key)
            .map_err(|_| failed("The registered key cannot verify signatures.".to_owned()))?;
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.algorithms = algorithms;
        validation.set_audience(audiences);
        validation.set_issuer(&[client.id.as_str()]);
        validation.sub = Some(client.id.to_string());
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        // Times are checked against the engine's clock below.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let verified =
            jsonwebtoken::decode::<serde_json::Value>(assertion, &decoding_key, &validation)
                .map_err(|err| failed(format!("The client_assertion is invalid: {err}.")))?;
        let claims = verified.claims;
        let now = self.now();
        let time = |name: &str| claims.get(name).and_then(serde_json::Value::as_i64);
        let exp = time("exp").unwrap_or(0);
        if exp <= now.unix() {
            return Err(failed("The client_assertion has expired.".to_owned()));
        }
        if exp > now.unix() + 3600 {
            return Err(failed(
                "The client_assertion lives longer than an hour.".to_owned(),
            ));
        }
        if time("nbf").is_some_and(|nbf| nbf > now.unix() + ASSERTION_CLOCK_SKEW_SECONDS) {
            return Err(failed(
                "The client_assertion is not valid yet (nbf).".to_owned(),
            ));
        }
        if time("iat").is_some_and(|iat| iat > now.unix() + ASSERTION_CLOCK_SKEW_SECONDS) {
            return Err(failed(
                "The client_assertion was issued in the future (iat).".to_owned(),
            ));
        }
        let Some(jti) = claims.get("jti").and_then(serde_json::Value::as_str) else {
            return Err(failed("The client_assertion has no jti.".to_owned()));
        };
        // RFC 7523 §3: each assertion is used once.
        if !self
            .store
            .record_client_assertion(&client.id, jti, crate::model::Timestamp::from_unix(exp))
            .await?
        {
            return Err(failed(
                "The client_assertion's jti has been used before.".to_owned(),
            ));
        }
        Ok(client)
    }
}

/// The signature algorithms a registered key verifies: the one it names, or those its type
/// allows. Never an HMAC algorithm: a public key is not a shared secret.
pub(crate) fn key_algorithms(key: &jsonwebtoken::jwk::Jwk) -> Vec<jsonwebtoken::Algorithm> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, PublicKeyUse};
    use jsonwebtoken::Algorithm;
    if matches!(key.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return Vec::new();
    }
    let by_type = match &key.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(params) => match params.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => Vec::new(),
        },
        AlgorithmParameters::OctetKeyPair(params) if params.curve == EllipticCurve::Ed25519 => {
            vec![Algorithm::EdDSA]
        }
        _ => Vec::new(),
    };
    let named = key
        .common
        .key_algorithm
        .and_then(|named| serde_json::to_value(named).ok())
        .and_then(|named| {
            named
                .as_str()
                .and_then(|name| name.parse::<Algorithm>().ok())
        });
    match named {
        Some(named) => by_type.into_iter().filter(|alg| *alg == named).collect(),
        None if key.common.key_algorithm.is_some() => Vec::new(),
        None => by_type,
    }
}

/// The header of a compact JWS, not verified.
fn unverified_header(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine as _;
    let header = jwt.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The payload of a compact JWS, not verified.
fn unverified_claims(jwt: &str) -> Option<serde_json::Value> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}
