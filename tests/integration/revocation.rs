//! What ends a user's or an app's access, and that it stays ended: deactivation, suspension
//! and password changes end sessions, refresh token families and access tokens, and
//! reactivation does not revive them (Okta's rules).

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::oauth::{post_form, PASSWORD, TRUSTED};

const TRUSTED_SECRET: &str = "trusted-secret-0123456789";
const LOGIN: &str = "alice@example.com";

/// Everything a signed-in user holds: a browser session and the trusted app's tokens.
struct Held {
    session_id: String,
    access_token: String,
    refresh_token: String,
    /// From a grant without a refresh token, which no family revocation reaches.
    lone_access_token: String,
}

async fn hold(app: &TestApp, password: &str) -> Held {
    let (status, authn) = post_json(
        app,
        "/api/v1/authn",
        &json!({ "username": LOGIN, "password": password }),
    )
    .await;
    assert_eq!(status, 200, "{authn}");
    let (status, session) = post_json(
        app,
        "/api/v1/sessions",
        &json!({ "sessionToken": authn["sessionToken"] }),
    )
    .await;
    assert_eq!(status, 200, "{session}");
    let (status, tokens) = password_grant(app, password, "openid offline_access").await;
    assert_eq!(status, 200, "{tokens}");
    let (status, lone) = password_grant(app, password, "openid").await;
    assert_eq!(status, 200, "{lone}");
    let held = Held {
        session_id: session["id"].as_str().unwrap().to_owned(),
        access_token: tokens["access_token"].as_str().unwrap().to_owned(),
        refresh_token: tokens["refresh_token"].as_str().unwrap().to_owned(),
        lone_access_token: lone["access_token"].as_str().unwrap().to_owned(),
    };
    // Whatever ends access happens at a later second than the tokens were issued.
    app.clock.advance(Duration::from_secs(1));
    held
}

async fn post_json(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let response = app.post_json(path, body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn password_grant(app: &TestApp, password: &str, scope: &str) -> (u16, Value) {
    post_form(
        app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "password"),
            ("username", LOGIN),
            ("password", password),
            ("scope", scope),
            ("client_id", TRUSTED),
            ("client_secret", TRUSTED_SECRET),
        ],
    )
    .await
}

/// What still works of what was held: (session, access token at userinfo and introspection,
/// refresh token, the lone access token).
async fn still_working(app: &TestApp, held: &Held) -> (bool, bool, bool, bool, bool) {
    let (session, _) = app
        .admin_call(
            Method::GET,
            &format!("/api/v1/sessions/{}", held.session_id),
            None,
        )
        .await;
    let userinfo = |token: String| async move {
        app.http
            .get(format!("{}/oauth2/default/v1/userinfo", app.base_url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            == 200
    };
    // Introspected by another client than the one it was issued to: only the token counts.
    let (_, introspected) = post_form(
        app,
        "/oauth2/default/v1/introspect",
        &[
            ("token", &held.access_token),
            ("client_id", crate::oauth::WEB),
            ("client_secret", crate::oauth::WEB_SECRET),
        ],
    )
    .await;
    let (refresh, _) = post_form(
        app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &held.refresh_token),
            ("client_id", TRUSTED),
            ("client_secret", TRUSTED_SECRET),
        ],
    )
    .await;
    (
        session == 200,
        userinfo(held.access_token.clone()).await,
        introspected["active"] == true,
        refresh == 200,
        userinfo(held.lone_access_token.clone()).await,
    )
}

const NOTHING: (bool, bool, bool, bool, bool) = (false, false, false, false, false);

async fn user_id(app: &TestApp) -> String {
    let (_, user) = app
        .admin_call(Method::GET, &format!("/api/v1/users/{LOGIN}"), None)
        .await;
    user["id"].as_str().unwrap().to_owned()
}

async fn lifecycle(app: &TestApp, path: &str) {
    let (status, body) = app.admin_call(Method::POST, path, None).await;
    assert_eq!(status, 200, "{path}: {body}");
}

#[tokio::test]
async fn a_reactivated_user_gets_none_of_their_old_tokens_back() {
    let app = crate::oauth::spawn().await;
    let held = hold(&app, PASSWORD).await;
    // Everything works before (the refresh rotated the token, so hold anew).
    assert_eq!(
        still_working(&app, &held).await,
        (true, true, true, true, true)
    );
    let held = hold(&app, PASSWORD).await;
    let id = user_id(&app).await;
    lifecycle(&app, &format!("/api/v1/users/{id}/lifecycle/deactivate")).await;
    assert_eq!(still_working(&app, &held).await, NOTHING);
    lifecycle(&app, &format!("/api/v1/users/{id}/lifecycle/activate")).await;
    assert_eq!(
        still_working(&app, &held).await,
        NOTHING,
        "after reactivation"
    );
    // The user signs in afresh.
    let fresh = hold(&app, PASSWORD).await;
    let (session, userinfo, active, _, lone) = still_working(&app, &fresh).await;
    assert!(session && userinfo && active && lone);
}

#[tokio::test]
async fn suspension_ends_sessions_and_tokens_and_unsuspension_does_not_revive_them() {
    let app = crate::oauth::spawn().await;
    let held = hold(&app, PASSWORD).await;
    let id = user_id(&app).await;
    lifecycle(&app, &format!("/api/v1/users/{id}/lifecycle/suspend")).await;
    assert_eq!(still_working(&app, &held).await, NOTHING);
    lifecycle(&app, &format!("/api/v1/users/{id}/lifecycle/unsuspend")).await;
    assert_eq!(
        still_working(&app, &held).await,
        NOTHING,
        "after unsuspension"
    );
    let fresh = hold(&app, PASSWORD).await;
    assert!(still_working(&app, &fresh).await.1);
}

#[tokio::test]
async fn a_reactivated_app_gets_none_of_its_old_tokens_back() {
    let app = crate::oauth::spawn().await;
    let held = hold(&app, PASSWORD).await;
    lifecycle(
        &app,
        &format!("/api/v1/apps/{TRUSTED}/lifecycle/deactivate"),
    )
    .await;
    lifecycle(&app, &format!("/api/v1/apps/{TRUSTED}/lifecycle/activate")).await;
    let (session, userinfo, active, refresh, lone) = still_working(&app, &held).await;
    assert!(session, "the user's own session is not the app's");
    assert!(
        !userinfo && !active && !refresh && !lone,
        "the app's old tokens stay dead"
    );
    let (status, fresh) = password_grant(&app, PASSWORD, "openid").await;
    assert_eq!(status, 200, "{fresh}");
}

#[tokio::test]
async fn every_kind_of_password_change_ends_what_the_old_password_started() {
    let app = crate::oauth::spawn().await;
    let id = user_id(&app).await;

    // An administrator sets it.
    let held = hold(&app, PASSWORD).await;
    let (status, body) = app
        .admin_call(
            Method::POST,
            &format!("/api/v1/users/{id}"),
            Some(json!({ "credentials": { "password": { "value": "Admin-set-pass-1" } } })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(still_working(&app, &held).await, NOTHING, "admin set");

    // The user changes it, proving the old one.
    let held = hold(&app, "Admin-set-pass-1").await;
    let (status, body) = app
        .admin_call(
            Method::POST,
            &format!("/api/v1/users/{id}/credentials/change_password"),
            Some(json!({
                "oldPassword": { "value": "Admin-set-pass-1" },
                "newPassword": { "value": "Self-changed-pass-2" }
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        still_working(&app, &held).await,
        NOTHING,
        "self-service change"
    );

    // A reset link, completed through the Authentication API.
    let held = hold(&app, "Self-changed-pass-2").await;
    let (status, reset) = app
        .admin_call(
            Method::POST,
            &format!("/api/v1/users/{id}/lifecycle/reset_password?sendEmail=false"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{reset}");
    let url = reset["resetPasswordUrl"].as_str().unwrap();
    let token = url.rsplit('/').next().unwrap();
    let (status, transaction) = post_json(
        &app,
        "/api/v1/authn/recovery/token",
        &json!({ "recoveryToken": token }),
    )
    .await;
    assert_eq!(status, 200, "{transaction}");
    let (status, done) = post_json(
        &app,
        "/api/v1/authn/credentials/reset_password",
        &json!({ "stateToken": transaction["stateToken"], "newPassword": "Reset-pass-3" }),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(still_working(&app, &held).await, NOTHING, "completed reset");

    // The session token the reset returned is fresh, and works.
    let (status, session) = post_json(
        &app,
        "/api/v1/sessions",
        &json!({ "sessionToken": done["sessionToken"] }),
    )
    .await;
    assert_eq!(status, 200, "{session}");
    let (status, _) = password_grant(&app, "Reset-pass-3", "openid").await;
    assert_eq!(status, 200);
}
