//! The grant flows end to end over HTTP, driven by the `openidconnect` crate where a real
//! client fits and by hand where the test is about the wire.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse,
};
use serde_json::{json, Value};

use crate::common::{Options, TestApp};

pub const PASSWORD: &str = "Correct-horse-9";
pub const REDIRECT: &str = "http://localhost:9999/callback";
pub const WEB: &str = "0oawebapp00000000001";
pub const WEB_SECRET: &str = "web-secret-0123456789";
pub const SPA: &str = "0oaspa00000000000001";
pub const SERVICE: &str = "0oaservice0000000001";
pub const SERVICE_SECRET: &str = "service-secret-0123456789";
pub const TRUSTED: &str = "0oatrusted0000000001";

pub fn seed() -> String {
    format!(
        r#"
[[authorization_servers]]
id = "default"
audiences = ["api://default"]
scopes = ["api.read", "api.write"]
[[authorization_servers.claims]]
name = "department"
value = "user.profile.department"
claim_type = "RESOURCE"
[[authorization_servers.claims]]
name = "app_label"
value = "app.label"
claim_type = "IDENTITY"

[[authorization_servers]]
id = "other"
audiences = ["api://other"]

[[apps]]
client_id = "{WEB}"
client_secret = "{WEB_SECRET}"
label = "Web app"
application_type = "web"
redirect_uris = ["{REDIRECT}"]
post_logout_redirect_uris = ["http://localhost:9999/bye"]
grant_types = ["authorization_code", "refresh_token", "implicit"]
response_types = ["code", "token", "id_token"]

[[apps]]
client_id = "{SPA}"
label = "SPA"
application_type = "browser"
redirect_uris = ["{REDIRECT}"]
grant_types = ["authorization_code", "refresh_token"]
response_types = ["code"]

[[apps]]
client_id = "{SERVICE}"
client_secret = "{SERVICE_SECRET}"
label = "Service"
application_type = "service"
grant_types = ["client_credentials"]

[[apps]]
client_id = "{TRUSTED}"
client_secret = "trusted-secret-0123456789"
label = "Trusted"
application_type = "web"
redirect_uris = ["{REDIRECT}"]
grant_types = ["password", "refresh_token"]
response_types = ["code"]
# No leeway: the reuse tests see a reuse as one at once.
refresh_token_leeway = 0

[[users]]
login = "alice@example.com"
password = "{PASSWORD}"
[users.profile]
firstName = "Alice"
lastName = "Example"
email = "alice@example.com"
department = "Engineering"
"#
    )
}

pub async fn spawn() -> TestApp {
    TestApp::spawn_with(Options {
        seed: Some(seed()),
        ..Default::default()
    })
    .await
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn session_token(app: &TestApp) -> String {
    let body: Value = app
        .post_json(
            "/api/v1/authn",
            &json!({ "username": "alice@example.com", "password": PASSWORD }),
        )
        .await
        .json()
        .await
        .unwrap();
    body["sessionToken"].as_str().unwrap().to_owned()
}

pub async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}{path}", app.base_url))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Follows an authorize URL (no redirects) and returns the Location's parameters.
pub async fn authorize(
    app: &TestApp,
    query: &[(&str, &str)],
) -> (u16, HashMap<String, String>, String) {
    let response = app
        .http
        .get(format!("{}/oauth2/default/v1/authorize", app.base_url))
        .query(query)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let params = parse_location(&location);
    (status, params, location)
}

pub fn parse_location(location: &str) -> HashMap<String, String> {
    let Ok(url) = url::Url::parse(location) else {
        return HashMap::new();
    };
    let encoded = url
        .fragment()
        .or(url.query())
        .unwrap_or_default()
        .to_owned();
    url::form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect()
}

pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

pub fn pkce() -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    (challenge.as_str().to_owned(), verifier.secret().to_owned())
}

/// A code for the web app with PKCE, through a session token.
pub async fn code_for_web(app: &TestApp, scope: &str) -> (String, String) {
    code_for(app, WEB, scope).await
}

/// A code for a client with PKCE, through a session token, and its verifier.
pub async fn code_for(app: &TestApp, client_id: &str, scope: &str) -> (String, String) {
    let token = session_token(app).await;
    let (challenge, verifier) = pkce();
    let (status, params, location) = authorize(
        app,
        &[
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", scope),
            ("state", "st"),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("sessionToken", &token),
        ],
    )
    .await;
    assert_eq!(status, 302, "{location}");
    assert_eq!(params["state"], "st");
    (params["code"].clone(), verifier)
}

/// Redeems a code for the web app at the default server.
pub async fn redeem(app: &TestApp, code: &str, verifier: &str) -> (u16, Value) {
    post_form(
        app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
            ("client_id", WEB),
            ("client_secret", WEB_SECRET),
        ],
    )
    .await
}

async fn introspect(app: &TestApp, token: &str) -> Value {
    post_form(
        app,
        "/oauth2/default/v1/introspect",
        &[
            ("token", token),
            ("client_id", WEB),
            ("client_secret", WEB_SECRET),
        ],
    )
    .await
    .1
}

#[tokio::test]
async fn authorization_code_with_pkce_through_openidconnect() {
    let app = spawn().await;
    let http = http_client();
    let issuer = IssuerUrl::new(format!("{}/oauth2/default", app.base_url)).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .expect("discovery parses");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(WEB.into()),
        Some(ClientSecret::new(WEB_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .add_scope(Scope::new("api.read".into()))
        .set_pkce_challenge(challenge)
        .url();
    let token = session_token(&app).await;
    let response = app
        .http
        .get(format!("{auth_url}&sessionToken={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.starts_with("sid="),
        "a sessionToken sets the sid cookie"
    );
    let params = parse_location(response.headers()["location"].to_str().unwrap());
    assert_eq!(&params["state"], csrf.secret());

    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let id_claims = id_token
        .claims(&verifier, &nonce)
        .expect("ID token verifies");
    assert_eq!(
        id_claims.email().map(|email| email.as_str()),
        Some("alice@example.com")
    );
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(id_claims.access_token_hash(), Some(&at_hash));
    let raw_id = claims(&id_token.to_string());
    assert!(raw_id["sub"].as_str().unwrap().starts_with("00u"));
    assert_eq!(raw_id["app_label"], "Web app", "custom identity claim");

    let access = claims(tokens.access_token().secret());
    assert_eq!(access["ver"], 1);
    assert!(access["jti"].as_str().unwrap().starts_with("AT."));
    assert_eq!(access["aud"], "api://default");
    assert_eq!(access["cid"], WEB);
    assert_eq!(access["sub"], "alice@example.com");
    assert_eq!(access["uid"], raw_id["sub"]);
    assert_eq!(access["department"], "Engineering", "custom resource claim");
    assert!(access["scp"]
        .as_array()
        .unwrap()
        .contains(&json!("api.read")));

    let userinfo: openidconnect::core::CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(userinfo.subject().as_str(), raw_id["sub"].as_str().unwrap());

    let refresh = tokens
        .refresh_token()
        .expect("offline_access gives a refresh token");
    let refreshed = client
        .exchange_refresh_token(refresh)
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    let rotated = refreshed.refresh_token().expect("rotated");
    assert_ne!(rotated.secret(), refresh.secret());
    // Past the app's leeway (Okta's default, 30 s), the replaced token is refused, and its
    // reuse revokes the family.
    app.clock.advance(Duration::from_secs(31));
    let reuse = client
        .exchange_refresh_token(refresh)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(reuse.is_err());
    let after_reuse = client
        .exchange_refresh_token(&RefreshToken::new(rotated.secret().clone()))
        .unwrap()
        .request_async(&http)
        .await;
    assert!(after_reuse.is_err(), "the whole family is revoked");
    assert_eq!(
        introspect(&app, refreshed.access_token().secret()).await["active"],
        false
    );
}

#[tokio::test]
async fn client_credentials_through_openidconnect() {
    let app = spawn().await;
    let http = http_client();
    let issuer = IssuerUrl::new(format!("{}/oauth2/default", app.base_url)).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(SERVICE.into()),
        Some(ClientSecret::new(SERVICE_SECRET.into())),
    );
    let tokens = client
        .exchange_client_credentials()
        .unwrap()
        .add_scope(Scope::new("api.read".into()))
        .request_async(&http)
        .await
        .expect("client credentials");
    assert!(tokens.refresh_token().is_none());
    assert_eq!(tokens.expires_in(), Some(Duration::from_secs(3600)));
    let access = claims(tokens.access_token().secret());
    assert_eq!(access["sub"], SERVICE);
    assert_eq!(access["cid"], SERVICE);
    assert!(access.get("uid").is_none());
    assert_eq!(access["scp"], json!(["api.read"]));

    // Verified by a second library against the published JWKS.
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .get("/oauth2/default/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(tokens.access_token().secret()).unwrap();
    let key = jwks.find(&header.kid.unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["api://default"]);
    jsonwebtoken::decode::<Value>(
        tokens.access_token().secret(),
        &jsonwebtoken::DecodingKey::from_jwk(key).unwrap(),
        &validation,
    )
    .unwrap();

    let active = post_form(
        &app,
        "/oauth2/default/v1/introspect",
        &[
            ("token", tokens.access_token().secret()),
            ("client_id", SERVICE),
            ("client_secret", SERVICE_SECRET),
        ],
    )
    .await
    .1;
    assert_eq!(active["active"], true);
    assert_eq!(active["client_id"], SERVICE);
    assert_eq!(active["scope"], "api.read");
}

#[tokio::test]
async fn a_wrong_client_secret_is_401_with_www_authenticate_for_basic() {
    let app = spawn().await;
    let response = app
        .http
        .post(format!("{}/oauth2/default/v1/token", app.base_url))
        .basic_auth(SERVICE, Some("wrong-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "api.read")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].as_str().is_some());

    let (status, body) = post_form(
        &app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", "api.read"),
            ("client_id", SERVICE),
            ("client_secret", "wrong-secret"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn grants_and_scopes_the_client_may_not_use_are_refused() {
    let app = spawn().await;
    let service = |grant: &'static str, scope: &'static str| {
        let app = &app;
        async move {
            post_form(
                app,
                "/oauth2/default/v1/token",
                &[
                    ("grant_type", grant),
                    ("scope", scope),
                    ("username", "alice@example.com"),
                    ("password", PASSWORD),
                    ("client_id", SERVICE),
                    ("client_secret", SERVICE_SECRET),
                ],
            )
            .await
        }
    };
    let (status, body) = service("password", "openid").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let (status, body) = service("client_credentials", "openid").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = service("client_credentials", "api.delete").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = service("urn:example:unknown", "api.read").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body) = post_form(&app, "/oauth2/default/v1/token", &[("scope", "x")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn a_reused_code_is_invalid_grant_and_revokes_the_first_tokens() {
    let app = spawn().await;
    let (code, verifier) = code_for_web(&app, "openid offline_access").await;
    let (status, first) = redeem(&app, &code, &verifier).await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(introspect(&app, access).await["active"], true);

    let (status, again) = redeem(&app, &code, &verifier).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(introspect(&app, access).await["active"], false);
    let (status, refresh) = post_form(
        &app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
            ("client_id", WEB),
            ("client_secret", WEB_SECRET),
        ],
    )
    .await;
    assert_eq!(
        (status, refresh["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn a_wrong_or_missing_pkce_verifier_is_invalid_grant() {
    let app = spawn().await;
    let (code, _) = code_for_web(&app, "openid").await;
    let (_, other_verifier) = pkce();
    let (status, body) = redeem(&app, &code, &other_verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let (code, _) = code_for_web(&app, "openid").await;
    let (status, body) = post_form(
        &app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", WEB),
            ("client_secret", WEB_SECRET),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant() {
    let app = spawn().await;
    let (code, verifier) = code_for_web(&app, "openid").await;
    app.clock.advance(Duration::from_secs(301));
    let (status, body) = redeem(&app, &code, &verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn a_public_client_must_use_pkce() {
    let app = spawn().await;
    let token = session_token(&app).await;
    let (status, params, _) = authorize(
        &app,
        &[
            ("client_id", SPA),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s1"),
            ("sessionToken", &token),
        ],
    )
    .await;
    assert_eq!(status, 302);
    assert_eq!(params["error"], "invalid_request");
    assert_eq!(params["state"], "s1");
    // plain is refused unless the app opted in.
    let (_, params, _) = authorize(
        &app,
        &[
            ("client_id", SPA),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", &"a".repeat(43)),
            ("code_challenge_method", "plain"),
        ],
    )
    .await;
    assert_eq!(params["error"], "invalid_request");
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_an_error_page_never_a_redirect() {
    let app = spawn().await;
    for (client, redirect) in [
        (WEB, "http://localhost:9999/callback/../evil"),
        (WEB, "http://localhost:9999/callback?x=1"),
        (WEB, "https://evil.example.net/callback"),
        ("0oaunknown0000000001", REDIRECT),
    ] {
        let response = app
            .http
            .get(format!("{}/oauth2/default/v1/authorize", app.base_url))
            .query(&[
                ("client_id", client),
                ("redirect_uri", redirect),
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", "s"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{redirect}");
        assert!(response.headers().get("location").is_none(), "{redirect}");
    }
}

#[tokio::test]
async fn prompt_none_without_a_session_redirects_login_required() {
    let app = spawn().await;
    let (status, params, _) = authorize(
        &app,
        &[
            ("client_id", WEB),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "xyz"),
            ("prompt", "none"),
        ],
    )
    .await;
    assert_eq!(status, 302);
    assert_eq!(params["error"], "login_required");
    assert!(params.contains_key("error_description"));
    assert_eq!(params["state"], "xyz");
}

#[tokio::test]
async fn without_a_session_the_browser_signs_in_and_comes_back() {
    let app = spawn().await;
    let (challenge, verifier) = pkce();
    let query = [
        ("client_id", WEB),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "back"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("login_hint", "alice@example.com"),
    ];
    let (status, _, location) = authorize(&app, &query).await;
    assert_eq!(status, 302);
    assert!(location.starts_with("/login?fromURI="), "{location}");
    let page = app.get(&location).await.text().await.unwrap();
    assert!(
        page.contains(r#"value="alice@example.com""#),
        "login_hint prefills"
    );
    let from_uri = url::form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "fromURI")
        .unwrap()
        .1
        .into_owned();

    let signed_in = submit_sign_in(&app, &from_uri, None).await;
    assert_eq!(signed_in.status(), 303);
    let sid = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let back = signed_in.headers()["location"].to_str().unwrap().to_owned();
    let response = app
        .http
        .get(&back)
        .header("cookie", sid)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let params = parse_location(response.headers()["location"].to_str().unwrap());
    assert_eq!(params["state"], "back");
    let (status, body) = redeem(&app, &params["code"], &verifier).await;
    assert_eq!(status, 200, "{body}");
}

/// The `sid` cookie (`name=value`) a response sets.
pub fn sid_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap())
        .find(|value| value.starts_with("sid="))
        .expect("a sid cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// Sends the hosted sign-in form for alice (with a fresh CSRF pair, and `cookie` besides the
/// CSRF one); the answer, not followed.
pub async fn submit_sign_in(
    app: &TestApp,
    from_uri: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    let (csrf_cookie, csrf) = crate::login_page::load_form(app, from_uri).await;
    let cookies = match cookie {
        Some(cookie) => format!("{csrf_cookie}; {cookie}"),
        None => csrf_cookie,
    };
    app.http
        .post(format!("{}/login", app.base_url))
        .header("cookie", cookies)
        .form(&[
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
            ("fromURI", from_uri),
        ])
        .send()
        .await
        .unwrap()
}

/// Signs a browser in at `/authorize` with a session token, as okta-auth-js does; its `sid`.
pub async fn sign_in_with_session_token(app: &TestApp, client_id: &str) -> String {
    let token = session_token(app).await;
    let (challenge, _) = pkce();
    let response = app
        .http
        .get(format!("{}/oauth2/default/v1/authorize", app.base_url))
        .query(&[
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "st"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("sessionToken", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    sid_cookie(&response)
}

#[tokio::test]
async fn prompt_login_and_max_age_make_a_signed_in_browser_sign_in_again() {
    let app = spawn().await;
    let old_sid = sign_in_with_session_token(&app, WEB).await;
    let first_sign_in = authd::clock::Clock::now(app.clock.as_ref()).unix();
    app.clock.advance(Duration::from_secs(120));

    for (extra, value) in [("prompt", "login"), ("max_age", "60")] {
        let (challenge, verifier) = pkce();
        let query = [
            ("client_id", WEB),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "again"),
            ("nonce", "n-again"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            (extra, value),
        ];
        let response = app
            .http
            .get(format!("{}/oauth2/default/v1/authorize", app.base_url))
            .query(&query)
            .header("cookie", &old_sid)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302, "{extra}");
        let login = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(login.starts_with("/login?fromURI="), "{login}");
        assert!(login.ends_with("&prompt=login"), "{login}");

        // The signed-in browser is shown the form, not sent straight back.
        let page = app
            .http
            .get(format!("{}{login}", app.base_url))
            .header("cookie", &old_sid)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{extra}");
        let policy = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            policy.contains("form-action 'self' http://localhost:9999;"),
            "{policy}"
        );
        let from_uri = url::form_urlencoded::parse(login.split_once('?').unwrap().1.as_bytes())
            .find(|(k, _)| k == "fromURI")
            .unwrap()
            .1
            .into_owned();
        assert!(!from_uri.contains("max_age"), "{from_uri}");
        assert!(!from_uri.contains("prompt"), "{from_uri}");

        let signed_in = submit_sign_in(&app, &from_uri, Some(&old_sid)).await;
        assert_eq!(signed_in.status(), 303);
        let new_sid = sid_cookie(&signed_in);
        assert_ne!(new_sid, old_sid);
        let back = signed_in.headers()["location"].to_str().unwrap().to_owned();
        let response = app
            .http
            .get(&back)
            .header("cookie", &new_sid)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        let params = parse_location(response.headers()["location"].to_str().unwrap());
        assert_eq!(params["state"], "again", "{params:?}");
        let (status, body) = redeem(&app, &params["code"], &verifier).await;
        assert_eq!(status, 200, "{body}");
        let auth_time = claims(body["id_token"].as_str().unwrap())["auth_time"]
            .as_i64()
            .unwrap();
        assert!(
            auth_time >= first_sign_in + 120,
            "{extra}: the code carries the new sign-in's auth_time"
        );
    }
}

#[tokio::test]
async fn an_id_token_from_the_authorization_endpoint_needs_a_nonce() {
    let app = spawn().await;
    let token = session_token(&app).await;
    let (status, params, location) = authorize(
        &app,
        &[
            ("client_id", WEB),
            ("redirect_uri", REDIRECT),
            ("response_type", "id_token"),
            ("scope", "openid"),
            ("state", "s"),
            ("sessionToken", &token),
        ],
    )
    .await;
    assert_eq!(status, 302);
    assert!(
        location.contains('#'),
        "errors of implicit requests go in the fragment"
    );
    assert_eq!(params["error"], "invalid_request");
}

#[tokio::test]
async fn implicit_and_hybrid_responses_carry_bound_tokens_in_the_fragment() {
    let app = spawn().await;
    let token = session_token(&app).await;
    let (_, params, location) = authorize(
        &app,
        &[
            ("client_id", WEB),
            ("redirect_uri", REDIRECT),
            ("response_type", "id_token token"),
            ("scope", "openid profile offline_access"),
            ("state", "s"),
            ("nonce", "abc"),
            ("sessionToken", &token),
        ],
    )
    .await;
    // offline_access is refused for implicit flows: no refresh token ever.
    assert_eq!(params["error"], "invalid_scope", "{location}");

    let token = session_token(&app).await;
    let (_, params, location) = authorize(
        &app,
        &[
            ("client_id", WEB),
            ("redirect_uri", REDIRECT),
            ("response_type", "id_token token"),
            ("scope", "openid profile"),
            ("state", "s"),
            ("nonce", "abc"),
            ("sessionToken", &token),
        ],
    )
    .await;
    assert!(location.starts_with(&format!("{REDIRECT}#")), "{location}");
    assert_eq!(params["token_type"], "Bearer");
    assert!(!params.contains_key("refresh_token"));
    let id = claims(&params["id_token"]);
    assert_eq!(id["nonce"], "abc");
    assert_eq!(
        id["at_hash"],
        authd::engine::oauth::mint::left_half_hash(
            authd::model::SigningAlg::RS256,
            &params["access_token"]
        )
        .as_str()
    );
    assert_eq!(id["name"], "Alice Example");

    let sid = crate::sessions::sid_cookie(&app, &session_token(&app).await, REDIRECT).await;
    let response = app
        .http
        .get(format!("{}/oauth2/default/v1/authorize", app.base_url))
        .query(&[
            ("client_id", WEB),
            ("redirect_uri", REDIRECT),
            ("response_type", "code id_token"),
            ("scope", "openid"),
            ("state", "s"),
            ("nonce", "abc"),
        ])
        .header("cookie", format!("sid={sid}"))
        .send()
        .await
        .unwrap();
    let params = parse_location(response.headers()["location"].to_str().unwrap());
    let id = claims(&params["id_token"]);
    assert_eq!(
        id["c_hash"],
        authd::engine::oauth::mint::left_half_hash(
            authd::model::SigningAlg::RS256,
            &params["code"]
        )
        .as_str()
    );
}

#[tokio::test]
async fn form_post_and_okta_post_message_render_pages_for_the_client() {
    let app = spawn().await;
    let mut pages = Vec::new();
    for mode in ["form_post", "okta_post_message"] {
        let token = session_token(&app).await;
        let (challenge, _) = pkce();
        let response = app
            .http
            .get(format!("{}/oauth2/default/v1/authorize", app.base_url))
            .query(&[
                ("client_id", WEB),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("response_mode", mode),
                ("scope", "openid"),
                ("state", "st<ate>"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("sessionToken", &token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{mode}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        pages.push((csp, response.text().await.unwrap()));
    }
    let (csp, form) = &pages[0];
    assert!(form.contains(&format!(r#"action="{REDIRECT}""#)));
    assert!(form.contains(r#"name="code""#));
    assert!(form.contains("st&lt;ate&gt;"), "values are escaped");
    assert!(csp.contains("frame-ancestors 'none'"));
    let (csp, message) = &pages[1];
    assert!(message.contains("postMessage"));
    assert!(message.contains("\"http://localhost:9999\""));
    assert!(
        message.contains("\\u003cate>"),
        "values cannot close the script"
    );
    assert!(csp.contains("frame-ancestors http://localhost:9999"));
}

#[tokio::test]
async fn the_password_grant_issues_tokens_for_a_trusted_app() {
    let app = spawn().await;
    let http = http_client();
    let issuer = IssuerUrl::new(format!("{}/oauth2/default", app.base_url)).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(TRUSTED.into()),
        Some(ClientSecret::new("trusted-secret-0123456789".into())),
    );
    let username = openidconnect::ResourceOwnerUsername::new("alice@example.com".into());
    let right = openidconnect::ResourceOwnerPassword::new(PASSWORD.into());
    let wrong = openidconnect::ResourceOwnerPassword::new("wrong".into());
    let password = |secret| {
        client
            .exchange_password(&username, secret)
            .unwrap()
            .add_scope(Scope::new("openid".into()))
            .add_scope(Scope::new("offline_access".into()))
            .request_async(&http)
    };
    let tokens = password(&right).await.expect("password grant");
    let id_token = tokens.id_token().expect("an ID token");
    // No nonce was sent, so none is expected.
    id_token
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .expect("ID token verifies");
    assert!(tokens.refresh_token().is_some());
    let scopes: Vec<String> = tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|scope| scope.to_string())
        .collect();
    assert_eq!(scopes, ["offline_access", "openid"]);
    assert!(password(&wrong).await.is_err());
    let (status, body) = post_form(
        &app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "password"),
            ("username", "alice@example.com"),
            ("password", "wrong"),
            ("scope", "openid"),
            ("client_id", TRUSTED),
            ("client_secret", "trusted-secret-0123456789"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn revoked_tokens_are_inactive_and_refused_by_userinfo() {
    let app = spawn().await;
    let (code, verifier) = code_for_web(&app, "openid offline_access").await;
    let (_, tokens) = redeem(&app, &code, &verifier).await;
    let access = tokens["access_token"].as_str().unwrap();
    let userinfo = |token: String| {
        let app = &app;
        async move {
            app.http
                .get(format!("{}/oauth2/default/v1/userinfo", app.base_url))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(userinfo(access.to_owned()).await.status(), 200);
    let (status, _) = post_form(
        &app,
        "/oauth2/default/v1/revoke",
        &[
            ("token", access),
            ("client_id", WEB),
            ("client_secret", WEB_SECRET),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(introspect(&app, access).await["active"], false);
    let refused = userinfo(access.to_owned()).await;
    assert_eq!(refused.status(), 401);
    assert!(refused.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));

    // Revoking the refresh token revokes its family.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&app, refresh).await["active"], true);
    post_form(
        &app,
        "/oauth2/default/v1/revoke",
        &[
            ("token", refresh),
            ("client_id", WEB),
            ("client_secret", WEB_SECRET),
        ],
    )
    .await;
    assert_eq!(introspect(&app, refresh).await["active"], false);
}

#[tokio::test]
async fn userinfo_refuses_missing_expired_and_foreign_tokens() {
    let app = spawn().await;
    let missing = app.get("/oauth2/default/v1/userinfo").await;
    assert_eq!(missing.status(), 401);
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");

    let (code, verifier) = code_for_web(&app, "openid").await;
    let (_, tokens) = redeem(&app, &code, &verifier).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    // Another server's userinfo does not accept this server's token.
    let foreign = app
        .http
        .get(format!("{}/oauth2/other/v1/userinfo", app.base_url))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 401);
    app.clock.advance(Duration::from_secs(3601));
    let expired = app
        .http
        .get(format!("{}/oauth2/default/v1/userinfo", app.base_url))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 401);
}

#[tokio::test]
async fn logout_ends_the_session_and_goes_only_to_registered_uris() {
    let app = spawn().await;
    let sid = crate::sessions::sid_cookie(&app, &session_token(&app).await, REDIRECT).await;
    let (code, verifier) = code_for_web(&app, "openid").await;
    let (_, tokens) = redeem(&app, &code, &verifier).await;
    let id_token = tokens["id_token"].as_str().unwrap();

    let refused = app
        .http
        .get(format!("{}/oauth2/default/v1/logout", app.base_url))
        .query(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", "https://evil.example.net/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.headers().get("location").is_none());

    let response = app
        .http
        .get(format!("{}/oauth2/default/v1/logout", app.base_url))
        .query(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", "http://localhost:9999/bye"),
            ("state", "bye-state"),
        ])
        .header("cookie", format!("sid={sid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        "http://localhost:9999/bye?state=bye-state"
    );
    let me = app
        .http
        .get(format!("{}/api/v1/sessions/me", app.base_url))
        .header("cookie", format!("sid={sid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 404, "the session ended");
}

#[tokio::test]
async fn one_code_redeemed_twenty_times_at_once_succeeds_exactly_once() {
    let first = spawn().await;
    let second = first.spawn_beside().await;
    let (code, verifier) = code_for_web(&first, "openid").await;
    let apps = Arc::new([first, second]);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let apps = apps.clone();
        let (code, verifier) = (code.clone(), verifier.clone());
        tasks.push(tokio::spawn(async move {
            redeem(&apps[i % 2], &code, &verifier).await.0
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        19,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn private_key_jwt_authenticates_with_each_assertion_once() {
    use ring::signature::KeyPair as _;
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    let jwks = json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA", "use": "sig" }] });
    let client = "0oajwtclient00000001";
    let app = TestApp::spawn_with(Options {
        seed: Some(format!(
            "{}\n[[apps]]\nclient_id = \"{client}\"\nlabel = \"JWT client\"\napplication_type = \"service\"\ngrant_types = [\"client_credentials\"]\ntoken_endpoint_auth_method = \"private_key_jwt\"\njwks = '{jwks}'\n",
            seed()
        )),
        ..Default::default()
    })
    .await;
    let token_endpoint = format!("{}/oauth2/default/v1/token", app.base_url);
    let key = jsonwebtoken::EncodingKey::from_ed_der(pkcs8.as_ref());
    let assertion = |audience: &str, jti: &str| {
        let now = app.state.engine.now().unix();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(
            &header,
            &json!({ "iss": client, "sub": client, "aud": audience, "iat": now, "exp": now + 300, "jti": jti }),
            &key,
        )
        .unwrap()
    };
    let request = |assertion: String| {
        let app = &app;
        async move {
            post_form(
                app,
                "/oauth2/default/v1/token",
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "api.read"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &assertion),
                ],
            )
            .await
        }
    };
    let signed = assertion(&token_endpoint, "jti-1");
    let (status, body) = request(signed.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["cid"],
        client
    );

    let (status, body) = request(signed).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "replayed jti"
    );
    let (status, _) = request(assertion("https://elsewhere.example/token", "jti-2")).await;
    assert_eq!(status, 401, "wrong audience");
}

#[tokio::test]
async fn token_lifetimes_are_set_per_server() {
    let app = TestApp::spawn_with(Options {
        seed: Some(format!(
            "{}\n[[authorization_servers]]\nid = \"short\"\nscopes = [\"api.read\"]\n[authorization_servers.token_lifetimes]\naccess_token = \"5m\"\n\n[[authorization_servers]]\nid = \"long\"\nscopes = [\"api.read\"]\n[authorization_servers.token_lifetimes]\naccess_token = \"24h\"\n",
            seed()
        )),
        ..Default::default()
    })
    .await;
    for (server, seconds) in [("short", 300), ("default", 3600), ("long", 86_400)] {
        let (status, body) = post_form(
            &app,
            &format!("/oauth2/{server}/v1/token"),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "api.read"),
                ("client_id", SERVICE),
                ("client_secret", SERVICE_SECRET),
            ],
        )
        .await;
        assert_eq!(status, 200, "{server}: {body}");
        assert_eq!(body["expires_in"], seconds, "{server}");
        let access = claims(body["access_token"].as_str().unwrap());
        assert_eq!(
            access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
            seconds,
            "{server}"
        );
    }
    // A retired key of the long-lived server stays published as long as its tokens live.
    let long = app
        .state
        .engine
        .directory()
        .auth_server(&authd::model::AuthServerId::parse("long").unwrap())
        .await
        .unwrap();
    app.state.engine.rotate_keys(&long).await.unwrap();
    let retired = app
        .state
        .engine
        .keys()
        .stored_keys(&long.id)
        .await
        .unwrap()
        .into_iter()
        .find(|key| key.state == authd::model::KeyState::Retired)
        .unwrap();
    assert!(retired.remove_after.unwrap().unix() - retired.retired_at.unwrap().unix() >= 86_400);
}

#[test]
fn out_of_range_lifetimes_and_unknown_claim_expressions_are_refused_by_the_seed() {
    let err = authd::seed::Seed::parse(
        "[[authorization_servers]]\nid = \"x\"\n[authorization_servers.token_lifetimes]\naccess_token = \"2d\"\n",
    )
    .unwrap_err();
    assert!(err.contains("token_lifetimes.access_token"), "{err}");
    let err = authd::seed::Seed::parse(
        "[[authorization_servers]]\nid = \"x\"\n[[authorization_servers.claims]]\nname = \"c\"\nvalue = \"String.reverse(user.email)\"\n",
    )
    .unwrap_err();
    assert!(err.contains("claims.c"), "{err}");
    assert!(err.contains("unknown function \"String.reverse\""), "{err}");
}
