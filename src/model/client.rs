use super::{new_okta_id, ClientId, Status, Timestamp};

wire_enum!(
    /// An OAuth 2.0 grant type (RFC 6749 §4), as Okta spells them in app settings.
    GrantType, "grant type" {
        /// RFC 6749 §4.1.
        AuthorizationCode = "authorization_code",
        /// RFC 6749 §4.2.
        Implicit = "implicit",
        /// RFC 6749 §4.3.
        Password = "password",
        /// RFC 6749 §4.4.
        ClientCredentials = "client_credentials",
        /// RFC 6749 §6.
        RefreshToken = "refresh_token",
    }
);

wire_enum!(
    /// Okta's refresh token `rotation_type` for an app.
    RotationType, "refresh token rotation type" {
        /// A new refresh token on every use; reuse of a rotated one (after the leeway) revokes
        /// the family (RFC 9700 §4.14.2).
        Rotate = "ROTATE",
        /// The same refresh token on every use, until it expires.
        Static = "STATIC",
    }
);

/// Okta's refresh token settings of an app (`settings.oauthClient.refresh_token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTokenSettings {
    /// Rotate or not.
    pub rotation_type: RotationType,
    /// Seconds during which a rotated token still works, returning the same successor.
    pub leeway_seconds: u32,
}

impl RefreshTokenSettings {
    /// The longest leeway Okta allows.
    pub const MAX_LEEWAY_SECONDS: u32 = 60;
}

impl Default for RefreshTokenSettings {
    /// Okta's defaults: rotation, with a 30-second leeway.
    fn default() -> Self {
        Self {
            rotation_type: RotationType::Rotate,
            leeway_seconds: 30,
        }
    }
}

wire_enum!(
    /// One word of a `response_type` (OAuth 2.0 Multiple Response Type Encoding Practices).
    ResponseType, "response type" {
        /// An authorization code.
        Code = "code",
        /// An access token.
        Token = "token",
        /// An ID token.
        IdToken = "id_token",
    }
);

wire_enum!(
    /// How the authorization response reaches the client (OAuth 2.0 Multiple Response Type
    /// Encoding Practices, Form Post Response Mode, and Okta's `okta_post_message`).
    ResponseMode, "response mode" {
        /// Parameters in the redirect URI's query.
        Query = "query",
        /// Parameters in the redirect URI's fragment.
        Fragment = "fragment",
        /// An auto-submitting HTML form POSTed to the redirect URI.
        FormPost = "form_post",
        /// An HTML page that `postMessage`s the parameters to the redirect URI's origin.
        OktaPostMessage = "okta_post_message",
    }
);

wire_enum!(
    /// How a client authenticates at the token endpoint (OIDC Core §9).
    TokenEndpointAuthMethod, "token endpoint auth method" {
        /// HTTP Basic with the client secret.
        ClientSecretBasic = "client_secret_basic",
        /// The client secret in the form body.
        ClientSecretPost = "client_secret_post",
        /// A JWT signed with a key from the client's registered JWKS.
        PrivateKeyJwt = "private_key_jwt",
        /// A public client: no secret, PKCE instead.
        None = "none",
    }
);

wire_enum!(
    /// Okta's `application_type` for OIDC apps.
    ApplicationType, "application type" {
        /// A server-side web app (confidential).
        Web = "web",
        /// A native or mobile app (public).
        Native = "native",
        /// A single-page app (public).
        Browser = "browser",
        /// A machine-to-machine service (confidential, no user).
        Service = "service",
    }
);

impl ApplicationType {
    /// How an app of this type authenticates unless it says otherwise, as Okta decides it:
    /// native and browser apps are public (PKCE), web apps and services send a secret with
    /// Basic. The Apps API, the seed file and the command line all take this.
    pub fn default_auth_method(self) -> TokenEndpointAuthMethod {
        match self {
            Self::Native | Self::Browser => TokenEndpointAuthMethod::None,
            Self::Web | Self::Service => TokenEndpointAuthMethod::ClientSecretBasic,
        }
    }
}

/// An OIDC client, which Okta calls an app.
#[derive(Clone, PartialEq, Eq)]
pub struct Client {
    /// The client id, also the app id.
    pub id: ClientId,
    /// Display name.
    pub label: String,
    /// What kind of app it is.
    pub application_type: ApplicationType,
    /// Redirect URIs; a request's `redirect_uri` must equal one exactly (DESIGN §6).
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser.
    pub post_logout_redirect_uris: Vec<String>,
    /// Grants it may use.
    pub grant_types: Vec<GrantType>,
    /// Response types it may request at the authorization endpoint.
    pub response_types: Vec<ResponseType>,
    /// How it authenticates at the token endpoint.
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// The stored hash of each of its active secrets: one, or two while a secret is rolled
    /// over; none for public clients.
    pub secret_hashes: Vec<String>,
    /// Whether PKCE `plain` is accepted (S256 otherwise only; DESIGN §6).
    pub allow_plain_pkce: bool,
    /// The JWKS its `private_key_jwt` assertions are signed with.
    pub jwks: Option<String>,
    /// Whether it may be used.
    pub status: Status,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Tokens issued (and grants authenticated) before this time are invalid for good: set
    /// when the app is deactivated; kept by the store.
    pub tokens_valid_after: Option<Timestamp>,
    /// How its refresh tokens rotate.
    pub refresh_token: RefreshTokenSettings,
    /// Its groups claim in the org server's ID tokens, for the `groups` scope: Okta's "Groups
    /// claim" setting of an app, which Okta's public Apps API does not carry (authd's own
    /// `authd.groupsClaim`).
    pub groups_claim: Option<super::AppGroupsClaim>,
}

impl Client {
    /// Whether something issued or authenticated at `at` predates the app's deactivation and
    /// so stays invalid after it is reactivated.
    pub fn predates_revocation(&self, at: Timestamp) -> bool {
        self.tokens_valid_after.is_some_and(|after| at < after)
    }

    /// Whether `uri` is one of the app's redirect URIs: byte for byte (DESIGN §6), with no
    /// normalisation of case, trailing slash, port or query, so that nothing but what was
    /// registered receives a code or token.
    pub fn is_registered_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("label", &self.label)
            .field("application_type", &self.application_type)
            .field("grant_types", &self.grant_types)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The shortest client secret an administrator may choose (Okta's rule), wherever it is given.
pub const MIN_CLIENT_SECRET_LENGTH: usize = 14;

/// The most secrets an app holds at once (as Okta): the current one and its successor.
pub const MAX_CLIENT_SECRETS: usize = 2;

/// One of an app's client secrets. Only its hash is kept; the secret itself is shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSecret {
    /// Okta-style id (`ocs…`).
    pub id: String,
    /// The app it belongs to.
    pub client_id: ClientId,
    /// The secret's keyed hash (see `engine::client_secrets`).
    pub secret_hash: String,
    /// Only active secrets authenticate the app.
    pub status: Status,
    /// When it was added.
    pub created_at: Timestamp,
    /// When its status last changed.
    pub updated_at: Timestamp,
}

impl ClientSecret {
    /// A new active secret of `client_id` with the given hash.
    pub fn new(client_id: ClientId, secret_hash: String, now: Timestamp) -> Self {
        Self {
            id: new_okta_id("ocs"),
            client_id,
            secret_hash,
            status: Status::Active,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Why a redirect URI cannot be registered, if it cannot: only `https`, `http` (any host;
/// localhost is common in development and tests) and private-use schemes of native apps in
/// reverse-domain form (`com.example.app:/callback`, RFC 8252 §7.1); no credentials, no
/// fragment (RFC 6749 §3.1.2) and no wildcard.
pub fn redirect_uri_problem(uri: &str) -> Option<String> {
    if uri.contains('*') {
        return Some("must not contain a wildcard".to_owned());
    }
    let parsed = match url::Url::parse(uri) {
        Ok(parsed) => parsed,
        Err(err) => return Some(format!("is not an absolute URI ({err})")),
    };
    let scheme = parsed.scheme();
    let web = matches!(scheme, "https" | "http");
    if !web && !scheme.contains('.') {
        return Some(format!(
            "has the scheme {scheme:?}: use https, http, or a private-use scheme such as com.example.app"
        ));
    }
    if web && parsed.host_str().is_none_or(str::is_empty) {
        return Some("has no host".to_owned());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some("must not contain a user name or password".to_owned());
    }
    if parsed.fragment().is_some() {
        return Some("must not have a fragment (RFC 6749 §3.1.2)".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{redirect_uri_problem, ApplicationType, Client, TokenEndpointAuthMethod};

    fn client_with(redirect_uris: Vec<String>) -> Client {
        Client {
            id: crate::model::ClientId::generate(),
            label: "app".into(),
            application_type: ApplicationType::Web,
            redirect_uris,
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            response_types: vec![],
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            secret_hashes: vec![],
            allow_plain_pkce: false,
            jwks: None,
            status: crate::model::Status::Active,
            created_at: crate::model::Timestamp::from_unix(0),
            updated_at: crate::model::Timestamp::from_unix(0),
            tokens_valid_after: None,
            refresh_token: Default::default(),
            groups_claim: None,
        }
    }

    fn redirect_uri() -> impl Strategy<Value = String> {
        (
            prop_oneof!["https", "http", "com.example.app"],
            "[a-zA-Z0-9.-]{1,20}",
            proptest::option::of(1u16..),
            "(/[a-zA-Z0-9._~%-]{0,12}){0,3}",
            proptest::option::of("[a-zA-Z0-9=&]{0,12}"),
        )
            .prop_map(|(scheme, host, port, path, query)| {
                let port = port.map(|port| format!(":{port}")).unwrap_or_default();
                let query = query.map(|query| format!("?{query}")).unwrap_or_default();
                format!("{scheme}://{host}{port}{path}{query}")
            })
    }

    proptest! {
        #[test]
        fn a_redirect_uri_matches_only_itself(
            registered in proptest::collection::vec(redirect_uri(), 1..4),
            pick in any::<prop::sample::Index>(),
            suffix in "[/a-zA-Z0-9?#.]{1,3}",
        ) {
            let client = client_with(registered.clone());
            let chosen = pick.get(&registered);
            prop_assert!(client.is_registered_redirect_uri(chosen));
            let variants = [
                format!("{chosen}{suffix}"),
                chosen.to_uppercase(),
                chosen.trim_end_matches('/').to_owned(),
                format!(" {chosen}"),
            ];
            for variant in variants {
                prop_assert_eq!(
                    client.is_registered_redirect_uri(&variant),
                    registered.contains(&variant),
                    "{} against {:?}", variant, registered
                );
            }
        }

        #[test]
        fn no_text_makes_the_registration_check_panic_and_fragments_never_pass(
            text in "\\PC{0,40}",
            uri in redirect_uri(),
            fragment in "[a-z]{0,5}",
        ) {
            let _ = redirect_uri_problem(&text);
            let with_fragment = format!("{uri}#{fragment}");
            prop_assert!(redirect_uri_problem(&with_fragment).is_some());
        }
    }

    #[test]
    fn public_app_types_default_to_no_secret_and_confidential_ones_to_basic() {
        for (kind, method) in [
            (ApplicationType::Native, TokenEndpointAuthMethod::None),
            (ApplicationType::Browser, TokenEndpointAuthMethod::None),
            (
                ApplicationType::Web,
                TokenEndpointAuthMethod::ClientSecretBasic,
            ),
            (
                ApplicationType::Service,
                TokenEndpointAuthMethod::ClientSecretBasic,
            ),
        ] {
            assert_eq!(kind.default_auth_method(), method, "{kind}");
        }
    }

    #[test]
    fn only_web_and_private_use_redirect_uris_are_registered() {
        for good in [
            "https://app.example.com/callback",
            "http://localhost:3000/callback",
            "http://127.0.0.1:8080/cb?x=1",
            "com.example.app:/oauth2redirect",
            "com.okta.dev-123:/callback",
        ] {
            assert_eq!(redirect_uri_problem(good), None, "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "vbscript:msgbox",
            "myapp:/callback",
            "https://user:pass@app.example.com/cb",
            "https://app.example.com/cb#fragment",
            "https://*.example.com/cb",
            "/relative/callback",
            "https://",
        ] {
            assert!(redirect_uri_problem(bad).is_some(), "{bad}");
        }
    }
}
