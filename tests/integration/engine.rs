//! The engine's services driven directly, without a socket: an in-memory SQLite database and
//! the test clock, so that a flow's rules are tested in milliseconds and time is moved rather
//! than waited for.

use std::sync::Arc;
use std::time::Duration;

use authd::app::App;
use authd::clock::TestClock;
use authd::config::{Config, SettingsArgs};
use authd::engine::oauth::authorize::{AuthorizationRequest, AuthorizeOutcome, BrowserSession};
use authd::engine::oauth::client_auth::ClientCredentials;
use authd::engine::oauth::token::TokenGrant;
use authd::engine::sign_in::authn::{AuthnResult, AuthnStatus, PrimaryAuthentication};
use authd::engine::{Engine, Error};
use authd::model::{AuthServerId, PlainToken};
use secrecy::SecretString;

use crate::common::keys::KeyPool;
use crate::common::{test_start, TEST_ADMIN_TOKEN, TEST_SECRET};
use crate::oauth::{PASSWORD, REDIRECT, WEB, WEB_SECRET};

/// An engine on its own in-memory database, seeded as the OAuth tests' servers are.
async fn engine() -> (Engine, Arc<TestClock>) {
    let files = tempfile::tempdir().unwrap();
    let seed = files.path().join("seed.toml");
    std::fs::write(&seed, crate::oauth::seed()).unwrap();
    let config_file = files.path().join("authd.toml");
    std::fs::write(&config_file, "").unwrap();
    let settings = SettingsArgs {
        config: Some(config_file),
        base_url: Some("http://authd.test".into()),
        database_url: Some("sqlite::memory:".into()),
        seed_file: Some(seed.display().to_string()),
        argon2_memory_kib: Some("64".into()),
        argon2_iterations: Some("1".into()),
        lockout_threshold: Some("3".into()),
        ..SettingsArgs::default()
    };
    let config = Config::resolve(
        settings,
        Some(TEST_SECRET.to_owned()),
        Some(TEST_ADMIN_TOKEN.to_owned()),
    )
    .unwrap();
    let clock = Arc::new(TestClock::new(test_start()));
    let app = App::open_with_key_source(config, clock.clone(), Arc::new(KeyPool::default()))
        .await
        .unwrap();
    app.prepare().await.unwrap();
    (app.into_state().engine.clone(), clock)
}

/// Alice's primary authentication, counted against the sign-in limits as every sign-in is.
async fn authenticate(engine: &Engine, password: &str) -> Result<AuthnResult, Error> {
    let sign_in = engine.sign_in();
    let permit = sign_in
        .check_sign_in_rate(None, Some("alice@example.com"))
        .await?;
    sign_in
        .authenticate(PrimaryAuthentication {
            permit,
            username: "alice@example.com".into(),
            password: SecretString::from(password.to_owned()),
            relay_state: None,
            warn_before_password_expired: false,
        })
        .await
}

async fn sign_in(engine: &Engine, password: &str) -> Result<AuthnStatus, Error> {
    Ok(authenticate(engine, password).await?.status)
}

fn web_credentials() -> ClientCredentials {
    ClientCredentials {
        basic: Some((WEB.into(), Some(WEB_SECRET.into()))),
        client_id: None,
        client_secret: None,
        client_assertion: None,
        client_assertion_type: None,
    }
}

#[tokio::test]
async fn a_code_with_pkce_is_issued_for_a_session_token_and_redeemed_once() {
    let (engine, _) = engine().await;
    let signed_in = authenticate(&engine, PASSWORD).await.unwrap();
    let session_token = signed_in.session_token.unwrap().token;

    let verifier = "a-verifier-of-at-least-forty-three-characters-long";
    let challenge = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()),
    );
    let server = AuthServerId::default_server();
    let outcome = engine
        .oauth()
        .authorize(
            &server,
            AuthorizationRequest {
                client_id: Some(WEB.into()),
                redirect_uri: Some(REDIRECT.into()),
                response_type: Some("code".into()),
                scope: Some("openid".into()),
                state: Some("state-1".into()),
                nonce: Some("nonce-1".into()),
                session_token: Some(session_token.expose().to_owned()),
                code_challenge: Some(challenge),
                code_challenge_method: Some("S256".into()),
                ..AuthorizationRequest::default()
            },
            BrowserSession::default(),
        )
        .await
        .unwrap();
    let AuthorizeOutcome::Respond(response) = outcome else {
        panic!("expected a response to the client, got {outcome:?}");
    };
    assert!(
        response.new_session.is_some(),
        "the session token starts a session"
    );
    let code = response
        .params
        .iter()
        .find(|(name, _)| *name == "code")
        .map(|(_, value)| value.clone())
        .expect("a code");

    let redeem = || {
        engine.oauth().token(
            &server,
            web_credentials(),
            "http://authd.test/oauth2/default/v1/token",
            TokenGrant::AuthorizationCode {
                code: code.clone(),
                redirect_uri: Some(REDIRECT.into()),
                code_verifier: Some(verifier.into()),
            },
        )
    };
    let tokens = redeem().await.unwrap();
    assert!(tokens.id_token.is_some());
    assert!(matches!(redeem().await, Err(Error::InvalidGrant(_))));
}

#[tokio::test]
async fn a_lockout_ends_when_its_time_has_passed_on_the_clock() {
    let (engine, clock) = engine().await;
    for _ in 0..3 {
        assert!(matches!(
            sign_in(&engine, "wrong-password-1").await,
            Err(Error::AuthenticationFailed)
        ));
    }
    // Locked: even the right password is refused.
    assert!(matches!(
        sign_in(&engine, PASSWORD).await,
        Err(Error::AuthenticationFailed)
    ));
    clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(
        sign_in(&engine, PASSWORD).await.unwrap(),
        AuthnStatus::Success
    );
}

#[tokio::test]
async fn a_session_token_is_single_use() {
    let (engine, _) = engine().await;
    let result = authenticate(&engine, PASSWORD).await.unwrap();
    let token: PlainToken = result.session_token.unwrap().token;
    let session = engine.sign_in().create_session(&token).await.unwrap();
    assert_eq!(session.session.login, "alice@example.com");
    assert!(engine.sign_in().create_session(&token).await.is_err());
}
