//! OpenID Connect discovery and RFC 8414 metadata, built once per server for the directory.
//!
//! The documents list only what the server implements.

use std::sync::Arc;

use serde_json::json;

use crate::keys::ServerKeys;
use crate::model::{AuthServer, Document, MetadataPublish, OIDC_SCOPES, ORG_GROUPS_SCOPE};

/// An authorization server as the directory holds it: parsed, with its documents serialized
/// and its keys opened, read together and replaced together.
pub struct ServerEntry {
    /// The server, policies, scopes and claims included.
    pub server: Arc<AuthServer>,
    /// Its metadata documents.
    pub documents: Arc<ServerDocuments>,
    /// Its signer, JWKS and verifiers.
    pub keys: Arc<ServerKeys>,
}

impl ServerEntry {
    /// The entry for a server and its keys read from the store, under the given base URL.
    pub fn new(server: AuthServer, keys: Arc<ServerKeys>, base_url: &str) -> Self {
        Self {
            documents: Arc::new(ServerDocuments::build(&server, base_url)),
            server: Arc::new(server),
            keys,
        }
    }

    /// The same entry with keys read again.
    pub fn with_keys(&self, keys: Arc<ServerKeys>) -> Self {
        Self {
            server: self.server.clone(),
            documents: self.documents.clone(),
            keys,
        }
    }
}

/// One server's metadata documents.
pub struct ServerDocuments {
    /// `/.well-known/openid-configuration`.
    pub openid_configuration: Document,
    /// `/.well-known/oauth-authorization-server`.
    pub oauth_authorization_server: Document,
}

impl ServerDocuments {
    /// Builds the documents for a server under the given base URL.
    pub fn build(server: &AuthServer, base_url: &str) -> Self {
        let endpoints = server.endpoint_base(base_url);
        let mut scopes: Vec<&str> = OIDC_SCOPES.to_vec();
        if server.id.is_org() {
            scopes.push(ORG_GROUPS_SCOPE);
        }
        scopes.extend(
            server
                .scopes
                .iter()
                .filter(|scope| scope.metadata_publish == MetadataPublish::AllClients)
                .map(|scope| scope.name.as_str()),
        );
        let auth_methods = [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ];
        // RFC 8414 §2: what the server does, nothing it does not.
        let mut metadata = json!({
            "issuer": server.issuer(base_url),
            "authorization_endpoint": format!("{endpoints}/v1/authorize"),
            "token_endpoint": format!("{endpoints}/v1/token"),
            "jwks_uri": format!("{endpoints}/v1/keys"),
            "response_types_supported": [
                "code", "token", "id_token", "id_token token", "code id_token", "code token",
                "code id_token token"
            ],
            "response_modes_supported": ["query", "fragment", "form_post", "okta_post_message"],
            "grant_types_supported": [
                "authorization_code", "implicit", "refresh_token", "password", "client_credentials"
            ],
            "subject_types_supported": ["public"],
            "scopes_supported": scopes,
            "token_endpoint_auth_methods_supported": auth_methods,
            "token_endpoint_auth_signing_alg_values_supported": CLIENT_ASSERTION_ALGS,
            "code_challenge_methods_supported": ["S256"],
            "introspection_endpoint": format!("{endpoints}/v1/introspect"),
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint": format!("{endpoints}/v1/revoke"),
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "end_session_endpoint": format!("{endpoints}/v1/logout"),
            // RFC 9207: authorization responses carry `iss`.
            "authorization_response_iss_parameter_supported": true,
            "request_parameter_supported": false,
            "claims_parameter_supported": false,
        });
        let oauth_authorization_server = Document::json(&metadata);
        // OpenID Connect Discovery §3 adds the ID token and userinfo.
        metadata["userinfo_endpoint"] = format!("{endpoints}/v1/userinfo").into();
        metadata["id_token_signing_alg_values_supported"] = json!([server.signing_alg.as_str()]);
        metadata["claims_supported"] = json!([
            "iss",
            "ver",
            "sub",
            "aud",
            "iat",
            "exp",
            "jti",
            "auth_time",
            "amr",
            "idp",
            "nonce",
            "name",
            "nickname",
            "preferred_username",
            "given_name",
            "middle_name",
            "family_name",
            "profile",
            "zoneinfo",
            "locale",
            "updated_at",
            "email",
            "email_verified",
            "address",
            "phone_number",
            "at_hash",
            "c_hash"
        ]);
        Self {
            openid_configuration: Document::json(&metadata),
            oauth_authorization_server,
        }
    }
}

/// Signature algorithms accepted on `private_key_jwt` client assertions.
const CLIENT_ASSERTION_ALGS: [&str; 6] = ["RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"];
