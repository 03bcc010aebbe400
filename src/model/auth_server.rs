use super::{AuthServerId, SigningAlg, Status, Timestamp};

wire_enum!(
    /// Which token a custom claim goes into (Okta's `claimType`).
    ClaimType, "claim type" {
        /// The access token.
        Resource = "RESOURCE",
        /// The ID token.
        Identity = "IDENTITY",
    }
);

/// A claim an authorization server adds to its tokens. The value is an expression limited to
/// `user.profile.<attribute>`, `user.id`, `user.login`, `app.id`, `app.label`, or a quoted
/// string literal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustomClaim {
    /// The claim's name in the token.
    pub name: String,
    /// The value expression.
    pub value: String,
    /// Which token it goes into.
    #[serde(rename = "claim_type", default = "resource")]
    pub claim_type: ClaimType,
    /// Added only when one of these scopes is granted; always when empty.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Token lifetimes an authorization server sets for itself, in seconds; unset ones follow the
/// configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenLifetimes {
    /// Access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<u64>,
    /// ID tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<u64>,
    /// Refresh tokens unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_idle: Option<u64>,
    /// Refresh token families.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_max: Option<u64>,
}

fn resource() -> ClaimType {
    ClaimType::Resource
}

wire_enum!(
    /// How the issuer URL of an authorization server is formed (Okta's `issuerMode`).
    IssuerMode, "issuer mode" {
        /// The issuer is built from the configured base URL.
        OrgUrl = "ORG_URL",
    }
);

/// An authorization server: its own issuer, audience and signing keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthServer {
    /// Path segment under `/oauth2/`, or [`AuthServerId::org`].
    pub id: AuthServerId,
    /// Display name, unique.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The `aud` of access tokens it issues.
    pub audiences: Vec<String>,
    /// How its issuer URL is formed.
    pub issuer_mode: IssuerMode,
    /// Whether it answers requests.
    pub status: Status,
    /// The algorithm its keys sign with.
    pub signing_alg: SigningAlg,
    /// Custom scopes it grants, besides the OpenID Connect ones.
    pub scopes: Vec<String>,
    /// Custom claims it adds to tokens.
    pub claims: Vec<CustomClaim>,
    /// Token lifetimes it sets for itself.
    pub token_lifetimes: TokenLifetimes,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl AuthServer {
    /// The issuer URL of this server under the given base URL (no trailing slash).
    pub fn issuer(&self, base_url: &str) -> String {
        let base = base_url.trim_end_matches('/');
        if self.id.is_org() {
            base.to_owned()
        } else {
            format!("{base}/oauth2/{}", self.id)
        }
    }

    /// The URL prefix of this server's `/v1/…` endpoints.
    pub fn endpoint_base(&self, base_url: &str) -> String {
        let base = base_url.trim_end_matches('/');
        if self.id.is_org() {
            format!("{base}/oauth2")
        } else {
            format!("{base}/oauth2/{}", self.id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(id: AuthServerId) -> AuthServer {
        AuthServer {
            id,
            name: "n".into(),
            description: String::new(),
            audiences: vec![],
            issuer_mode: IssuerMode::OrgUrl,
            status: Status::Active,
            signing_alg: SigningAlg::RS256,
            scopes: vec![],
            claims: vec![],
            token_lifetimes: TokenLifetimes::default(),
            created_at: Timestamp::from_unix(0),
            updated_at: Timestamp::from_unix(0),
        }
    }

    #[test]
    fn org_issuer_is_the_base_url_and_custom_issuers_live_under_oauth2() {
        let base = "https://id.example.com/";
        assert_eq!(
            server(AuthServerId::org()).issuer(base),
            "https://id.example.com"
        );
        assert_eq!(
            server(AuthServerId::default_server()).issuer(base),
            "https://id.example.com/oauth2/default"
        );
        assert_eq!(
            server(AuthServerId::org()).endpoint_base(base),
            "https://id.example.com/oauth2"
        );
    }
}
