//! The authorization endpoint (RFC 6749 §3.1, OIDC Core §3): validate the request, find the
//! user's session, and produce what goes back to the client.
//!
//! Errors before the client and its `redirect_uri` are trusted are shown as a page, never
//! redirected (RFC 6749 §4.1.2.1); after that they go back to the client with `state`.

use std::sync::Arc;

use crate::model::{
    AuthServer, AuthServerId, AuthorizationCode, Client, CodeChallengeMethod, GrantContext,
    GrantType, LogActor, PlainToken, PolicyUser, ResponseMode, ResponseType, ScopeSet, Session,
    TokenEndpointAuthMethod, User,
};

use super::mint::{new_grant_id, Subject};
use super::{pkce, scope, OAuth};
use crate::engine::sign_in::sessions::NewSession;
use crate::engine::system_log::Event;
use crate::engine::{Error, Result};

/// Okta's authorization code lifetime.
pub const CODE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);

/// An authorization request as received.
#[derive(Debug, Default, Clone)]
pub struct AuthorizationRequest {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `response_type`.
    pub response_type: Option<String>,
    /// `response_mode`.
    pub response_mode: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `prompt`.
    pub prompt: Option<String>,
    /// `max_age`.
    pub max_age: Option<String>,
    /// `sessionToken` (Okta).
    pub session_token: Option<String>,
    /// `code_challenge`.
    pub code_challenge: Option<String>,
    /// `code_challenge_method`.
    pub code_challenge_method: Option<String>,
}

/// The browser's session, as the HTTP layer found it.
#[derive(Debug, Default)]
pub struct BrowserSession {
    /// The `sid` cookie, if sent.
    pub cookie: Option<PlainToken>,
}

/// What the authorization endpoint answers.
#[derive(Debug)]
pub enum AuthorizeOutcome {
    /// The client or redirect URI cannot be trusted: show an error page, do not redirect.
    ErrorPage(Error),
    /// No usable session: send the browser to the sign-in page and back.
    NeedLogin {
        /// The browser may have a session, but the request wants a new sign-in
        /// (`prompt=login`, or a `max_age` the session is older than): the page must ask
        /// again instead of going straight back (OIDC Core §3.1.2.1).
        reauthenticate: bool,
    },
    /// Answer the client at its redirect URI.
    Respond(ClientResponse),
}

/// A response to deliver to the client (success or error).
#[derive(Debug)]
pub struct ClientResponse {
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// How to deliver it.
    pub mode: ResponseMode,
    /// The parameters, in order.
    pub params: Vec<(&'static str, String)>,
    /// A session created from a `sessionToken`, whose cookie must be set.
    pub new_session: Option<NewSession>,
}

struct Validated {
    server: Arc<AuthServer>,
    client: Arc<Client>,
    redirect_uri: String,
    mode: ResponseMode,
    response_types: Vec<ResponseType>,
    scopes: ScopeSet,
    nonce: Option<String>,
    challenge: Option<(String, CodeChallengeMethod)>,
    prompt_none: bool,
    prompt_login: bool,
    max_age: Option<u64>,
}

impl OAuth {
    /// Handles an authorization request against a server.
    #[tracing::instrument(skip_all, fields(as.id = %server_id))]
    pub async fn authorize(
        &self,
        server_id: &AuthServerId,
        request: AuthorizationRequest,
        browser: BrowserSession,
    ) -> Result<AuthorizeOutcome> {
        let server = match self.directory.auth_server(server_id).await {
            Ok(server) => server,
            Err(err) => return Ok(AuthorizeOutcome::ErrorPage(err)),
        };
        // Until client and redirect URI are known good, nothing is redirected.
        let Some(client_id) = request.client_id.as_deref().filter(|id| !id.is_empty()) else {
            return Ok(AuthorizeOutcome::ErrorPage(Error::InvalidRequest(
                "The 'client_id' parameter is required.".to_owned(),
            )));
        };
        let client = match self.active_client(client_id, false).await {
            Ok(client) => client,
            Err(Error::InvalidClient { .. }) => {
                return Ok(AuthorizeOutcome::ErrorPage(Error::InvalidRequest(
                    "The client is unknown or inactive.".to_owned(),
                )))
            }
            Err(err) => return Err(err),
        };
        let Some(redirect_uri) = request.redirect_uri.clone() else {
            return Ok(AuthorizeOutcome::ErrorPage(Error::InvalidRequest(
                "The 'redirect_uri' parameter is required.".to_owned(),
            )));
        };
        if !client.is_registered_redirect_uri(&redirect_uri) {
            return Ok(AuthorizeOutcome::ErrorPage(Error::InvalidRequest(
                "The 'redirect_uri' parameter must be a Login redirect URI in the client app \
                 settings."
                    .to_owned(),
            )));
        }
        let state = request.state.clone();
        // RFC 9207: every authorization response names its issuer, so that a client talking
        // to several servers can tell which one answered (mix-up attacks).
        let issuer = server.issuer(&self.base_url);
        // Errors found before the mode is validated still go where the client listens: the
        // fragment whenever tokens were asked for, as they never travel in a query.
        let wants_tokens = request
            .response_type
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .any(|word| word == "token" || word == "id_token");
        let fallback_mode = match request
            .response_mode
            .as_deref()
            .and_then(|mode| mode.parse::<ResponseMode>().ok())
        {
            Some(ResponseMode::Query) | None if wants_tokens => ResponseMode::Fragment,
            Some(mode) => mode,
            None => ResponseMode::Query,
        };
        let respond_error = |mode: ResponseMode, err: Error| {
            let (error, description) = err.oauth_error();
            let mut params = vec![
                ("error", error.to_owned()),
                ("error_description", description),
            ];
            if let Some(state) = &state {
                params.push(("state", state.clone()));
            }
            params.push(("iss", issuer.clone()));
            AuthorizeOutcome::Respond(ClientResponse {
                redirect_uri: redirect_uri.clone(),
                mode,
                params,
                new_session: None,
            })
        };
        let (server_target, app_target) = (LogActor::auth_server(&server), LogActor::app(&client));
        let validated = match self.validate(server, client, redirect_uri.clone(), &request) {
            Ok(validated) => validated,
            Err(err) => {
                let (code, description) = err.oauth_error();
                self.log
                    .record(
                        Event::new(
                            "app.oauth2.as.authorize",
                            format!("Authorization request refused: {description}"),
                            app_target.clone(),
                        )
                        .failed(code)
                        .target(app_target)
                        .target(server_target)
                        .debug("errorDescription", description),
                    )
                    .await;
                return Ok(respond_error(fallback_mode, err));
            }
        };
        let mode = validated.mode;

        // The user: a session token (consumed, and a session set), or the sid cookie, each
        // read with its user.
        let mut new_session = None;
        let session: Option<(Session, User)> =
            if let Some(token) = request.session_token.as_deref().filter(|t| !t.is_empty()) {
                match self
                    .sign_in
                    .create_session(&PlainToken::from_presented(token))
                    .await
                {
                    Ok(created) => {
                        let found = (created.session.clone(), (*created.user).clone());
                        new_session = Some(created);
                        Some(found)
                    }
                    Err(Error::AuthenticationFailed) => {
                        return Ok(respond_error(
                            mode,
                            Error::AccessDenied(
                                "The session token is invalid or has expired.".to_owned(),
                            ),
                        ))
                    }
                    Err(err) => return Err(err),
                }
            } else if validated.prompt_login {
                None
            } else {
                match &browser.cookie {
                    Some(cookie) => self.sign_in.session_and_user_for_cookie(cookie).await.ok(),
                    None => None,
                }
            };
        let now = self.now();
        let session = session.filter(|(session, _)| match validated.max_age {
            Some(max_age) if new_session.is_none() => {
                now.unix() - session.last_password_verification.unix() <= max_age as i64
            }
            _ => true,
        });
        let reauthenticate = validated.prompt_login || validated.max_age.is_some();
        let Some((session, user)) = session else {
            if validated.prompt_none {
                return Ok(respond_error(
                    mode,
                    Error::LoginRequired(
                        "The client specified not to prompt, but the user is not logged in."
                            .to_owned(),
                    ),
                ));
            }
            return Ok(AuthorizeOutcome::NeedLogin { reauthenticate });
        };
        if !user.may_sign_in(now) {
            return Ok(AuthorizeOutcome::NeedLogin {
                reauthenticate: true,
            });
        }
        let granted = self.grant(&validated, &session, &user, state.clone()).await;
        let sso = Event::new(
            "user.authentication.sso",
            format!("User single sign on to app {}", validated.client.label),
            LogActor::user(&user),
        )
        .target(LogActor::app(&validated.client))
        .target(LogActor::auth_server(&validated.server))
        .session(session.id.as_str());
        match &granted {
            Ok(_) => self.log.record(sso).await,
            Err(Error::Internal(_)) => {}
            Err(err) => {
                let (code, description) = err.oauth_error();
                self.log
                    .record(sso.failed(code).debug("errorDescription", description))
                    .await;
            }
        }
        match granted {
            Ok(mut params) => Ok(AuthorizeOutcome::Respond(ClientResponse {
                params: {
                    params.push(("iss", issuer));
                    params
                },
                redirect_uri,
                mode,
                new_session,
            })),
            Err(err @ Error::Internal(_)) => Err(err),
            Err(err) => Ok(respond_error(mode, err)),
        }
    }

    fn validate(
        &self,
        server: Arc<AuthServer>,
        client: Arc<Client>,
        redirect_uri: String,
        request: &AuthorizationRequest,
    ) -> Result<Validated> {
        let Some(response_type) = request.response_type.as_deref().filter(|t| !t.is_empty()) else {
            return Err(Error::InvalidRequest(
                "The 'response_type' parameter is required.".to_owned(),
            ));
        };
        let mut response_types = Vec::new();
        for word in response_type.split(' ').filter(|w| !w.is_empty()) {
            let parsed: ResponseType = word.parse().map_err(|_| {
                Error::UnsupportedResponseType(format!(
                    "The response type '{word}' is not supported."
                ))
            })?;
            if !response_types.contains(&parsed) {
                response_types.push(parsed);
            }
        }
        let has = |kind: ResponseType| response_types.contains(&kind);
        for kind in &response_types {
            if !client.response_types.contains(kind) {
                return Err(Error::UnauthorizedClient(format!(
                    "The client is not authorized to use response type '{kind}'."
                )));
            }
        }
        if has(ResponseType::Code) && !client.grant_types.contains(&GrantType::AuthorizationCode) {
            return Err(Error::UnauthorizedClient(
                "The client is not authorized to use the authorization code grant.".to_owned(),
            ));
        }
        let implicit = has(ResponseType::Token) || has(ResponseType::IdToken);
        if implicit && !client.grant_types.contains(&GrantType::Implicit) {
            return Err(Error::UnauthorizedClient(
                "The client is not authorized to use the implicit grant.".to_owned(),
            ));
        }
        let mode = match request.response_mode.as_deref().filter(|m| !m.is_empty()) {
            None if implicit => ResponseMode::Fragment,
            None => ResponseMode::Query,
            Some(mode) => mode.parse().map_err(|_| {
                Error::InvalidRequest(format!("The response mode '{mode}' is not supported."))
            })?,
        };
        // OAuth 2.0 Multiple Response Type Encoding Practices §3: tokens never in a query.
        if mode == ResponseMode::Query && implicit {
            return Err(Error::InvalidRequest(
                "The 'query' response mode is not allowed when tokens are returned.".to_owned(),
            ));
        }
        let requested = ScopeSet::parse(request.scope.as_deref().unwrap_or_default())
            .map_err(|err| Error::InvalidScope(err.to_string()))?;
        if requested.is_empty() {
            return Err(Error::InvalidScope(
                "The 'scope' parameter is required.".to_owned(),
            ));
        }
        let grant = if has(ResponseType::Code) {
            GrantType::AuthorizationCode
        } else {
            GrantType::Implicit
        };
        let scopes = scope::check(&server, &requested, grant)?;
        // Refused here, before the user signs in, as Okta does; the token endpoint checks the
        // code's exchange again. Tokens sent from here (implicit and hybrid flows) need a rule
        // that allows the implicit grant, and take its lifetimes.
        if has(ResponseType::Code) {
            crate::engine::oauth::governance::govern(
                &server,
                &client,
                GrantType::AuthorizationCode,
                &scopes,
                None,
            )?;
        }
        let server = if implicit {
            match crate::engine::oauth::governance::govern(
                &server,
                &client,
                GrantType::Implicit,
                &scopes,
                None,
            )?
            .server
            {
                std::borrow::Cow::Borrowed(_) => server.clone(),
                std::borrow::Cow::Owned(governed) => Arc::new(governed),
            }
        } else {
            server
        };
        if has(ResponseType::IdToken) {
            if !scopes.contains("openid") {
                return Err(Error::InvalidScope(
                    "The 'openid' scope is required when an ID token is requested.".to_owned(),
                ));
            }
            // OIDC Core §3.2.2.1, §3.3.2.11.
            if request.nonce.as_deref().unwrap_or_default().is_empty() {
                return Err(Error::InvalidRequest(
                    "The 'nonce' parameter is required for authorize requests with either the \
                     'id_token' or 'token' response types."
                        .to_owned(),
                ));
            }
        }
        let challenge = match (&request.code_challenge, &request.code_challenge_method) {
            (Some(challenge), method) if !challenge.is_empty() => {
                let method = match method.as_deref() {
                    None | Some("") | Some("plain") => CodeChallengeMethod::Plain,
                    Some("S256") => CodeChallengeMethod::S256,
                    Some(other) => {
                        return Err(Error::InvalidRequest(format!(
                            "The code_challenge_method '{other}' is not supported."
                        )))
                    }
                };
                // DESIGN §6: S256 only, unless the app opted into plain.
                if method == CodeChallengeMethod::Plain && !client.allow_plain_pkce {
                    return Err(Error::InvalidRequest(
                        "PKCE code_challenge_method must be S256.".to_owned(),
                    ));
                }
                if !pkce::is_valid_challenge(challenge) {
                    return Err(Error::InvalidRequest(
                        "The PKCE code_challenge is malformed.".to_owned(),
                    ));
                }
                Some((challenge.clone(), method))
            }
            _ => None,
        };
        if has(ResponseType::Code)
            && challenge.is_none()
            && client.token_endpoint_auth_method == TokenEndpointAuthMethod::None
        {
            return Err(Error::InvalidRequest(
                "PKCE code challenge is required when the token endpoint authentication method \
                 is 'NONE'."
                    .to_owned(),
            ));
        }
        let prompt: Vec<&str> = request
            .prompt
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|p| !p.is_empty())
            .collect();
        for value in &prompt {
            if !matches!(*value, "none" | "login" | "consent") {
                return Err(Error::InvalidRequest(format!(
                    "The prompt value '{value}' is not supported."
                )));
            }
        }
        let prompt_none = prompt.contains(&"none");
        if prompt_none && prompt.len() > 1 {
            return Err(Error::InvalidRequest(
                "prompt=none cannot be combined with other values.".to_owned(),
            ));
        }
        let max_age = match request.max_age.as_deref().filter(|m| !m.is_empty()) {
            None => None,
            Some(text) => Some(text.parse::<u64>().map_err(|_| {
                Error::InvalidRequest(
                    "The 'max_age' parameter must be a non-negative integer.".to_owned(),
                )
            })?),
        };
        Ok(Validated {
            server,
            client,
            redirect_uri,
            mode,
            response_types,
            scopes,
            nonce: request.nonce.clone().filter(|n| !n.is_empty()),
            challenge,
            prompt_none,
            prompt_login: prompt.contains(&"login"),
            max_age,
        })
    }

    async fn grant(
        &self,
        validated: &Validated,
        session: &Session,
        user: &User,
        state: Option<String>,
    ) -> Result<Vec<(&'static str, String)>> {
        if !self.is_assigned(&validated.client, user).await? {
            return Err(Error::AccessDenied(super::NOT_ASSIGNED.to_owned()));
        }
        let has = |kind: ResponseType| validated.response_types.contains(&kind);
        // A code alone carries no claims: what they read is loaded here only for tokens sent
        // from here, or for rules that ask about the user's groups.
        let inputs = if has(ResponseType::Token)
            || has(ResponseType::IdToken)
            || crate::engine::oauth::governance::policies_read_groups(&validated.server)
        {
            self.claim_inputs(
                &validated.server,
                &validated.client,
                Some(user),
                &validated.scopes,
            )
            .await?
        } else {
            super::claims::ClaimInputs::default()
        };
        // Refused before sign-in only when no rule could apply; now the user is known, a rule's
        // people decide.
        let group_ids = inputs.group_ids();
        for grant in [
            has(ResponseType::Code).then_some(GrantType::AuthorizationCode),
            (has(ResponseType::Token) || has(ResponseType::IdToken)).then_some(GrantType::Implicit),
        ]
        .into_iter()
        .flatten()
        {
            crate::engine::oauth::governance::govern(
                &validated.server,
                &validated.client,
                grant,
                &validated.scopes,
                Some(PolicyUser {
                    id: user.id.as_str(),
                    group_ids: &group_ids,
                }),
            )?;
        }
        let now = self.now();
        let grant = GrantContext {
            grant_id: new_grant_id(),
            auth_server_id: validated.server.id.clone(),
            client_id: validated.client.id.clone(),
            user_id: user.id.clone(),
            scopes: validated.scopes.clone(),
            auth_time: session.last_password_verification,
            amr: session.amr.clone(),
            session_id: Some(session.id.clone()),
        };
        let mut params = Vec::new();
        let mut code_text = None;
        if has(ResponseType::Code) {
            let code = PlainToken::generate();
            self.store
                .insert_authorization_code(
                    &code.hash(),
                    &AuthorizationCode {
                        grant: grant.clone(),
                        redirect_uri: validated.redirect_uri.clone(),
                        nonce: validated.nonce.clone(),
                        code_challenge: validated.challenge.clone(),
                        expires_at: now.plus(CODE_LIFETIME),
                    },
                )
                .await?;
            params.push(("code", code.expose().to_owned()));
            code_text = Some(code.expose().to_owned());
        }
        let subject = Subject {
            server: &validated.server,
            client: &validated.client,
            user: Some(user),
            scopes: &validated.scopes,
            auth_time: Some(session.last_password_verification),
            grant_id: &grant.grant_id,
            inputs: &inputs,
        };
        let mut access_token = None;
        if has(ResponseType::Token) {
            let minted = self.mint_access_token(&subject).await?;
            params.push(("access_token", minted.token.clone()));
            params.push(("token_type", "Bearer".to_owned()));
            params.push(("expires_in", minted.expires_in.to_string()));
            params.push(("scope", validated.scopes.to_string()));
            access_token = Some(minted.token);
        }
        if has(ResponseType::IdToken) {
            let id_token = self
                .mint_id_token(
                    &subject,
                    &session.amr,
                    validated.nonce.as_deref(),
                    access_token.as_deref(),
                    code_text.as_deref(),
                )
                .await?;
            params.push(("id_token", id_token));
        }
        if has(ResponseType::Token) || has(ResponseType::IdToken) {
            self.metrics.count(
                "authd_tokens_issued_total",
                &[
                    ("grant", GrantType::Implicit.as_str()),
                    ("server", validated.server.id.as_str()),
                ],
            );
        }
        if let Some(state) = state {
            params.push(("state", state));
        }
        Ok(params)
    }
}

/// What RP-initiated logout did, and where it sends the browser.
#[derive(Debug)]
pub struct LogoutOutcome {
    /// The registered `post_logout_redirect_uri` (with `state`), if one was asked for.
    pub redirect: Option<String>,
    /// Whether the browser's `sid` cookie should be cleared: its session ended, or it named
    /// none.
    pub clear_cookie: bool,
}

impl OAuth {
    /// OIDC RP-Initiated Logout. As on Okta, `id_token_hint` is required, so that a cross-site
    /// request without one (an image, a link) cannot sign anyone out; with a valid one, the
    /// browser's session ends if it is the ID token's user's, and the browser goes to the
    /// client's registered `post_logout_redirect_uri` if one was asked for. Anything invalid
    /// changes nothing.
    pub async fn logout(
        &self,
        server_id: &AuthServerId,
        id_token_hint: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
        cookie: Option<&PlainToken>,
    ) -> Result<LogoutOutcome> {
        let server = self.directory.auth_server(server_id).await?;
        let hint = id_token_hint
            .filter(|hint| !hint.is_empty())
            .ok_or_else(|| {
                Error::InvalidRequest("The 'id_token_hint' parameter is required.".to_owned())
            })?;
        let (client, subject) = self.id_token_subject(&server, hint).await?;
        let redirect = match post_logout_redirect_uri.filter(|uri| !uri.is_empty()) {
            None => None,
            Some(uri) => {
                // DESIGN §6: only a registered URI, exactly.
                if !client
                    .post_logout_redirect_uris
                    .iter()
                    .any(|registered| registered == uri)
                {
                    return Err(Error::InvalidRequest(
                        "The 'post_logout_redirect_uri' is not registered for the client."
                            .to_owned(),
                    ));
                }
                let mut url = url::Url::parse(uri).map_err(|_| {
                    Error::InvalidRequest("Malformed post_logout_redirect_uri.".to_owned())
                })?;
                if let Some(state) = state {
                    url.query_pairs_mut().append_pair("state", state);
                }
                Some(url.to_string())
            }
        };
        let clear_cookie = match cookie {
            None => false,
            Some(cookie) => match self.sign_in.session_for_cookie(cookie).await {
                Ok(session) if session.user_id.as_str() == subject => {
                    self.sign_in.end_session(&session.id).await?;
                    true
                }
                // Another user's session: the hint does not speak for it.
                Ok(_) => false,
                Err(_) => true,
            },
        };
        Ok(LogoutOutcome {
            redirect,
            clear_cookie,
        })
    }

    /// The client an ID token this server signed was issued to, and its subject (the user's
    /// id). Expired tokens are accepted: logout usually comes long after sign-in.
    async fn id_token_subject(
        &self,
        server: &AuthServer,
        id_token: &str,
    ) -> Result<(Arc<Client>, String)> {
        let invalid = || Error::InvalidRequest("The 'id_token_hint' is invalid.".to_owned());
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| invalid())?;
        let kid = header.kid.ok_or_else(invalid)?;
        let keys = self
            .directory
            .keys_verifying(&server.id, &kid, header.alg)
            .await?
            .ok_or_else(invalid)?;
        let verifier = keys.verifier(&kid, header.alg).ok_or_else(invalid)?;
        let mut validation = jsonwebtoken::Validation::new(verifier.algorithm);
        validation.set_issuer(&[server.issuer(&self.base_url)]);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["iss", "aud"]);
        let claims = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            id_token,
            &verifier.key,
            &validation,
        )
        .map_err(|_| invalid())?
        .claims;
        let client_id = claims
            .get("aud")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(invalid)?;
        let subject = claims
            .get("sub")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(invalid)?
            .to_owned();
        let client = self
            .active_client(client_id, false)
            .await
            .map_err(|_| invalid())?;
        Ok((client, subject))
    }
}
