use super::{AccessPolicy, AuthServerId, SigningAlg, Status, Timestamp};

wire_enum!(
    /// Which token a custom claim goes into (Okta's `claimType`).
    ClaimType, "claim type" {
        /// The access token.
        Resource = "RESOURCE",
        /// The ID token.
        Identity = "IDENTITY",
    }
);

wire_enum!(
    /// Whether a user is asked to consent to a scope (Okta's `consent`).
    Consent, "consent" {
        /// Granted without asking.
        Implicit = "IMPLICIT",
        /// The user is asked on Okta. authd has no consent screen: the value is kept, and the
        /// scope is granted as an `IMPLICIT` one is.
        Required = "REQUIRED",
    }
);

wire_enum!(
    /// Whether a scope is listed in discovery's `scopes_supported` (Okta's `metadataPublish`).
    MetadataPublish, "metadata publish" {
        /// Listed.
        AllClients = "ALL_CLIENTS",
        /// Not listed.
        NoClients = "NO_CLIENTS",
    }
);

/// A custom scope of an authorization server. Stored scopes from before scopes had ids were
/// bare names; they read back with an id derived from the name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Scope {
    /// Okta-style id (`scp…`).
    pub id: String,
    /// What a client asks for.
    pub name: String,
    /// Shown to people.
    pub display_name: Option<String>,
    /// Free text.
    pub description: String,
    /// Whether the user is asked.
    pub consent: Consent,
    /// Granted to client credentials requests that ask for no scope.
    pub default: bool,
    /// Whether discovery lists it.
    pub metadata_publish: MetadataPublish,
}

impl Scope {
    /// A scope with Okta's defaults for everything but its name.
    pub fn named(name: &str) -> Self {
        Scope {
            id: super::derived_okta_id("scp", name),
            name: name.to_owned(),
            display_name: None,
            description: String::new(),
            consent: Consent::Implicit,
            default: false,
            metadata_publish: MetadataPublish::AllClients,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Stored {
            id: String,
            name: String,
            display_name: Option<String>,
            #[serde(default)]
            description: String,
            consent: Consent,
            default: bool,
            metadata_publish: MetadataPublish,
        }
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Either {
            Name(String),
            Stored(Stored),
        }
        Ok(match Either::deserialize(deserializer)? {
            Either::Name(name) => Scope::named(&name),
            Either::Stored(stored) => Scope {
                id: stored.id,
                name: stored.name,
                display_name: stored.display_name,
                description: stored.description,
                consent: stored.consent,
                default: stored.default,
                metadata_publish: stored.metadata_publish,
            },
        })
    }
}

wire_enum!(
    /// What a custom claim's value is (Okta's `valueType`).
    ClaimValueType, "claim value type" {
        /// An expression in Okta Expression Language.
        Expression = "EXPRESSION",
        /// The names of the user's groups that a filter picks.
        Groups = "GROUPS",
    }
);

/// A claim an authorization server adds to its tokens: an expression (Okta Expression
/// Language, see `engine::expression`), or the user's groups that a filter picks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustomClaim {
    /// Okta-style id (`ocl…`); claims stored before claims had ids get one derived from their
    /// name and type when read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Inactive claims are not added.
    #[serde(default = "active")]
    pub status: Status,
    /// The claim's name in the token.
    pub name: String,
    /// The expression, or for `GROUPS` the filter's value.
    pub value: String,
    /// What `value` is. Left out when it is an expression, so that a server stored (or a seed
    /// entry digested) before groups claims existed reads and digests as it did.
    #[serde(default = "expression", skip_serializing_if = "is_expression")]
    pub value_type: ClaimValueType,
    /// For `GROUPS`: how `value` picks groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_filter_type: Option<super::GroupFilterType>,
    /// Which token it goes into.
    #[serde(rename = "claim_type", default = "resource")]
    pub claim_type: ClaimType,
    /// Added only when one of these scopes is granted; always when empty.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Okta's `alwaysIncludeInToken`, kept as given: an active claim is added whenever its
    /// scopes allow.
    #[serde(default = "yes")]
    pub always_include_in_token: bool,
}

fn expression() -> ClaimValueType {
    ClaimValueType::Expression
}

fn is_expression(value_type: &ClaimValueType) -> bool {
    *value_type == ClaimValueType::Expression
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

fn yes() -> bool {
    true
}

fn active() -> Status {
    Status::Active
}

impl CustomClaim {
    /// Gives a claim read from before claims had ids its stable derived id.
    pub fn with_id(mut self) -> Self {
        if self.id.is_empty() {
            self.id = super::derived_okta_id(
                "ocl",
                &format!("{}/{}", self.claim_type.as_str(), self.name),
            );
        }
        self
    }
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
    pub scopes: Vec<Scope>,
    /// Custom claims it adds to tokens.
    pub claims: Vec<CustomClaim>,
    /// Token lifetimes it sets for itself.
    pub token_lifetimes: TokenLifetimes,
    /// Its access policies; a custom server without any issues no tokens (as Okta). The org
    /// server has none and is not governed by them.
    pub policies: Vec<AccessPolicy>,
    /// Counts the changes written, so that a change made from a stale copy is detected.
    pub revision: i64,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// The issuer URL of the server `id` under the given base URL (no trailing slash).
pub fn issuer_url(id: &AuthServerId, base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    if id.is_org() {
        base.to_owned()
    } else {
        format!("{base}/oauth2/{id}")
    }
}

impl AuthServer {
    /// The custom scope with this name.
    pub fn scope(&self, name: &str) -> Option<&Scope> {
        self.scopes.iter().find(|scope| scope.name == name)
    }

    /// The issuer URL of this server under the given base URL (no trailing slash).
    pub fn issuer(&self, base_url: &str) -> String {
        issuer_url(&self.id, base_url)
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
            policies: vec![],
            revision: 0,
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
