//! Refresh token families and authorization codes under failure and concurrency: checked
//! before anything is spent, spent and replaced in one step, and revoked as a family, so that
//! a family whose reuse was detected has no token left that works.

use base64::Engine as _;
use serde_json::Value;

use crate::common::{Options, TestApp};
use crate::oauth::{post_form, PASSWORD, REDIRECT, SPA, TRUSTED, WEB, WEB_SECRET};

const TRUSTED_SECRET: &str = "trusted-secret-0123456789";

/// The trusted app's tokens from the password grant, with a refresh token.
async fn password_tokens(app: &TestApp) -> Value {
    let (status, tokens) = post_form(
        app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "password"),
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("scope", "openid offline_access"),
            ("client_id", TRUSTED),
            ("client_secret", TRUSTED_SECRET),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

async fn refresh_at(
    app: &TestApp,
    server: &str,
    refresh_token: &str,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", TRUSTED),
        ("client_secret", TRUSTED_SECRET),
    ];
    form.extend_from_slice(extra);
    post_form(app, &format!("/oauth2/{server}/v1/token"), &form).await
}

async fn refresh(app: &TestApp, refresh_token: &str) -> (u16, Value) {
    refresh_at(app, "default", refresh_token, &[]).await
}

async fn active(app: &TestApp, token: &str) -> bool {
    let (status, body) = post_form(
        app,
        "/oauth2/default/v1/introspect",
        &[
            ("token", token),
            ("client_id", TRUSTED),
            ("client_secret", TRUSTED_SECRET),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["active"].as_bool().unwrap()
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

#[tokio::test]
async fn a_refresh_whose_successor_cannot_be_stored_spends_nothing() {
    let app = crate::oauth::spawn().await;
    let first = password_tokens(&app).await;
    let token = text(&first["refresh_token"]);

    app.database.fail_inserts_into("refresh_tokens").await;
    let (status, failed) = refresh(&app, token).await;
    assert!(status >= 500, "{status} {failed}");
    app.database.allow_inserts_into("refresh_tokens").await;

    // The client's retry with the same token is not taken for reuse.
    let (status, renewed) = refresh(&app, token).await;
    assert_eq!(status, 200, "{renewed}");
    let successor = text(&renewed["refresh_token"]);
    assert!(
        active(&app, text(&first["access_token"])).await,
        "family intact"
    );
    assert!(active(&app, successor).await);
    let (status, again) = refresh(&app, successor).await;
    assert_eq!(status, 200, "{again}");
}

async fn redeem_at(
    app: &TestApp,
    server: &str,
    code: &str,
    verifier: &str,
    client: (&str, &str),
    redirect_uri: &str,
) -> (u16, Value) {
    post_form(
        app,
        &format!("/oauth2/{server}/v1/token"),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
            ("client_id", client.0),
            ("client_secret", client.1),
        ],
    )
    .await
}

#[tokio::test]
async fn a_redemption_whose_tokens_cannot_be_stored_leaves_the_code_usable() {
    let app = crate::oauth::spawn().await;
    let (code, verifier) = crate::oauth::code_for_web(&app, "openid offline_access").await;
    app.database.fail_inserts_into("refresh_tokens").await;
    let (status, failed) = crate::oauth::redeem(&app, &code, &verifier).await;
    assert!(status >= 500, "{status} {failed}");
    app.database.allow_inserts_into("refresh_tokens").await;

    let (status, tokens) = crate::oauth::redeem(&app, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let (status, renewed) = post_form(
        &app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", text(&tokens["refresh_token"])),
            ("client_id", WEB),
            ("client_secret", WEB_SECRET),
        ],
    )
    .await;
    assert_eq!(status, 200, "{renewed}");
}

#[tokio::test]
async fn a_refresh_token_refused_for_its_request_is_not_spent() {
    let app = crate::oauth::spawn().await;
    let first = password_tokens(&app).await;
    let token = text(&first["refresh_token"]);

    // Another client: a public one, naming itself only, as anyone holding a leaked token could.
    let (status, error) = post_form(
        &app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", SPA),
        ],
    )
    .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_grant");
    // Another authorization server.
    let (status, error) = refresh_at(&app, "other", token, &[]).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_grant");
    // A wider scope.
    let (status, error) = refresh_at(
        &app,
        "default",
        token,
        &[("scope", "openid email offline_access")],
    )
    .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_scope");

    // None of that spent the token or revoked the family.
    assert!(active(&app, text(&first["access_token"])).await);
    let (status, renewed) = refresh(&app, token).await;
    assert_eq!(status, 200, "{renewed}");
    assert!(active(&app, text(&renewed["access_token"])).await);
}

#[tokio::test]
async fn a_code_presented_by_another_client_or_server_is_not_spent() {
    let app = crate::oauth::spawn().await;
    let (code, verifier) = crate::oauth::code_for_web(&app, "openid offline_access").await;
    // The public SPA may redeem codes, with PKCE and no secret.
    let (status, error) = redeem_at(&app, "default", &code, &verifier, (SPA, ""), REDIRECT).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_grant");
    let (status, error) =
        redeem_at(&app, "other", &code, &verifier, (WEB, WEB_SECRET), REDIRECT).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_grant");
    let (status, tokens) = crate::oauth::redeem(&app, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test]
async fn a_code_presented_by_its_client_with_a_wrong_binding_is_spent() {
    let app = crate::oauth::spawn().await;
    let (code, verifier) = crate::oauth::code_for_web(&app, "openid offline_access").await;
    let (status, error) = redeem_at(
        &app,
        "default",
        &code,
        &verifier,
        (WEB, WEB_SECRET),
        "http://localhost:9999/elsewhere",
    )
    .await;
    assert_eq!(status, 400, "{error}");
    let (status, _) = crate::oauth::redeem(&app, &code, &verifier).await;
    assert_eq!(status, 400, "single use: the code is gone");

    let (code, _) = crate::oauth::code_for_web(&app, "openid offline_access").await;
    let (status, _) = redeem_at(
        &app,
        "default",
        &code,
        "a-wrong-verifier-a-wrong-verifier-a-wrong-verifier",
        (WEB, WEB_SECRET),
        REDIRECT,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = crate::oauth::redeem(&app, &code, &verifier).await;
    assert_eq!(status, 400, "single use: the code is gone");
}

/// Introspection from the other replica's point of view too.
async fn active_anywhere(replicas: &[&TestApp], token: &str) -> bool {
    for replica in replicas {
        if active(replica, token).await {
            return true;
        }
    }
    false
}

#[tokio::test]
async fn after_a_reuse_raced_across_two_replicas_no_token_of_the_family_works() {
    // Every round signs the user in with the password grant; the sign-in limits are not what
    // this test is about.
    let first = TestApp::spawn_with(Options {
        seed: Some(crate::oauth::seed()),
        settings: Some(Box::new(|settings| {
            settings.authn_rate_limit_per_username = Some("1000".into());
            settings.authn_rate_limit_per_ip = Some("1000".into());
        })),
        ..Default::default()
    })
    .await;
    let second = first.spawn_beside().await;
    const ROUNDS: usize = 30;
    for round in 0..ROUNDS {
        let issued = password_tokens(&first).await;
        let token = text(&issued["refresh_token"]).to_owned();
        // The same token on both replicas at once: one is the rotation, the other a reuse.
        let (a, b) = tokio::join!(refresh(&first, &token), refresh(&second, &token));
        let outcomes = [a, b];
        let winners: Vec<&Value> = outcomes
            .iter()
            .filter(|(status, _)| *status == 200)
            .map(|(_, body)| body)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .any(|(status, body)| *status == 400 && body["error"] == "invalid_grant"),
            "round {round}: {outcomes:?}"
        );
        let winner = winners[0];
        let replicas = [&first, &second];
        for token in [
            text(&issued["access_token"]),
            text(&winner["access_token"]),
            text(&winner["refresh_token"]),
        ] {
            assert!(
                !active_anywhere(&replicas, token).await,
                "round {round}: a token of the reused family is still active"
            );
        }
        let (status, body) = refresh(&second, text(&winner["refresh_token"])).await;
        assert_eq!(
            status, 400,
            "round {round}: the successor still refreshes: {body}"
        );
    }
}

#[tokio::test]
async fn a_public_client_cannot_burn_a_confidential_clients_code_with_basic() {
    // The same rule through okta-auth-js's header shape: Basic base64(client_id).
    let app = crate::oauth::spawn().await;
    let (code, verifier) = crate::oauth::code_for_web(&app, "openid offline_access").await;
    let response = app
        .http
        .post(format!("{}/oauth2/default/v1/token", app.base_url))
        .header(
            "authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(SPA)
            ),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let (status, tokens) = crate::oauth::redeem(&app, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
}

/// An app made through the Apps API with the given refresh token settings (password grant).
async fn app_with_rotation(app: &TestApp, refresh_token: Value) -> (String, String) {
    let (status, created) = app
        .admin_call(
            reqwest::Method::POST,
            "/api/v1/apps",
            Some(serde_json::json!({
                "label": "Rotation", "signOnMode": "OPENID_CONNECT",
                "credentials": { "oauthClient": { "token_endpoint_auth_method": "client_secret_post" } },
                "settings": { "oauthClient": {
                    "application_type": "web",
                    "redirect_uris": [REDIRECT],
                    "grant_types": ["password", "refresh_token"],
                    "response_types": ["code"],
                    "refresh_token": refresh_token
                } }
            })),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    // As on Okta, a new app has no users until they are assigned.
    let app_id = text(&created["id"]);
    let (status, assigned) = app
        .admin_call(
            reqwest::Method::POST,
            &format!("/api/v1/apps/{app_id}/users"),
            Some(serde_json::json!({ "id": "alice@example.com", "scope": "USER" })),
        )
        .await;
    assert_eq!(status, 200, "{assigned}");
    let credentials = &created["credentials"]["oauthClient"];
    (
        text(&credentials["client_id"]).to_owned(),
        text(&credentials["client_secret"]).to_owned(),
    )
}

async fn grant_as(app: &TestApp, client: &(String, String), form: &[(&str, &str)]) -> (u16, Value) {
    let mut form = form.to_vec();
    form.extend_from_slice(&[
        ("client_id", client.0.as_str()),
        ("client_secret", client.1.as_str()),
    ]);
    post_form(app, "/oauth2/default/v1/token", &form).await
}

async fn first_refresh_token(app: &TestApp, client: &(String, String)) -> String {
    let (status, tokens) = grant_as(
        app,
        client,
        &[
            ("grant_type", "password"),
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("scope", "openid offline_access"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    text(&tokens["refresh_token"]).to_owned()
}

async fn refresh_as(app: &TestApp, client: &(String, String), token: &str) -> (u16, Value) {
    grant_as(
        app,
        client,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

#[tokio::test]
async fn within_the_leeway_a_rotated_token_returns_the_same_successor() {
    let app = crate::oauth::spawn().await;
    let client = app_with_rotation(
        &app,
        serde_json::json!({ "rotation_type": "ROTATE", "leeway": 10 }),
    )
    .await;
    let (_, shown) = app
        .admin_call(
            reqwest::Method::GET,
            &format!("/api/v1/apps/{}", client.0),
            None,
        )
        .await;
    assert_eq!(
        shown["settings"]["oauthClient"]["refresh_token"],
        serde_json::json!({ "rotation_type": "ROTATE", "leeway": 10 })
    );

    let first = first_refresh_token(&app, &client).await;
    let (status, rotated) = refresh_as(&app, &client, &first).await;
    assert_eq!(status, 200, "{rotated}");
    let successor = text(&rotated["refresh_token"]).to_owned();
    assert_ne!(successor, first);
    // The response was lost; the client retries with the old token within the leeway.
    app.clock.advance(std::time::Duration::from_secs(10));
    let (status, retried) = refresh_as(&app, &client, &first).await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(
        text(&retried["refresh_token"]),
        successor,
        "the same successor"
    );
    assert_ne!(retried["access_token"], rotated["access_token"]);
    assert!(active(&app, text(&retried["access_token"])).await);

    // Once the successor has been used, the old token is a reuse, leeway or not.
    let (status, next) = refresh_as(&app, &client, &successor).await;
    assert_eq!(status, 200, "{next}");
    let (status, _) = refresh_as(&app, &client, &first).await;
    assert_eq!(status, 400);
    let (status, _) = refresh_as(&app, &client, text(&next["refresh_token"])).await;
    assert_eq!(status, 400, "the family is revoked");

    // Past the leeway, a rotated token is a reuse.
    let first = first_refresh_token(&app, &client).await;
    let (_, rotated) = refresh_as(&app, &client, &first).await;
    app.clock.advance(std::time::Duration::from_secs(11));
    let (status, _) = refresh_as(&app, &client, &first).await;
    assert_eq!(status, 400);
    let (status, _) = refresh_as(&app, &client, text(&rotated["refresh_token"])).await;
    assert_eq!(status, 400, "the family is revoked");
}

#[tokio::test]
async fn a_static_refresh_token_stays_the_same_on_every_use() {
    let app = crate::oauth::spawn().await;
    let client = app_with_rotation(&app, serde_json::json!({ "rotation_type": "STATIC" })).await;
    let token = first_refresh_token(&app, &client).await;
    let mut access_tokens = Vec::new();
    for _ in 0..3 {
        let (status, tokens) = refresh_as(&app, &client, &token).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(text(&tokens["refresh_token"]), token);
        access_tokens.push(text(&tokens["access_token"]).to_owned());
    }
    access_tokens.dedup();
    assert_eq!(access_tokens.len(), 3, "a new access token each time");
    // Revoked, it stops.
    let (status, _) = grant_as(&app, &client, &[("token", token.as_str())]).await;
    assert_eq!(status, 400, "not a grant request");
    let response = app
        .http
        .post(format!("{}/oauth2/default/v1/revoke", app.base_url))
        .form(&[
            ("token", token.as_str()),
            ("client_id", client.0.as_str()),
            ("client_secret", client.1.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, _) = refresh_as(&app, &client, &token).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn rotation_settings_are_validated_and_kept_when_an_app_is_replaced() {
    let app = crate::oauth::spawn().await;
    let (status, error) = app
        .admin_call(
            reqwest::Method::POST,
            "/api/v1/apps",
            Some(serde_json::json!({
                "label": "Too long", "signOnMode": "OPENID_CONNECT",
                "settings": { "oauthClient": {
                    "application_type": "service", "grant_types": ["client_credentials"],
                    "refresh_token": { "rotation_type": "ROTATE", "leeway": 61 }
                } }
            })),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["errorCode"], "E0000001");
    assert!(error["errorCauses"][0]["errorSummary"]
        .as_str()
        .unwrap()
        .starts_with("settings.oauthClient.refresh_token.leeway"));

    let client = app_with_rotation(
        &app,
        serde_json::json!({ "rotation_type": "STATIC", "leeway": 0 }),
    )
    .await;
    let (status, replaced) = app
        .admin_call(
            reqwest::Method::PUT,
            &format!("/api/v1/apps/{}", client.0),
            Some(serde_json::json!({
                "label": "Renamed", "signOnMode": "OPENID_CONNECT",
                "settings": { "oauthClient": {
                    "application_type": "web", "redirect_uris": [REDIRECT],
                    "grant_types": ["password", "refresh_token"], "response_types": ["code"]
                } }
            })),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(
        replaced["settings"]["oauthClient"]["refresh_token"],
        serde_json::json!({ "rotation_type": "STATIC", "leeway": 0 })
    );
}

#[tokio::test]
async fn the_seed_file_sets_rotation_and_refuses_a_long_leeway() {
    let seed = format!(
        "{}\n{}",
        crate::oauth::seed(),
        r#"
[[apps]]
client_id = "0oastatic00000000001"
client_secret = "static-secret-0123456789"
label = "Static"
application_type = "web"
redirect_uris = ["http://localhost:9999/callback"]
grant_types = ["password", "refresh_token"]
refresh_token_rotation = "STATIC"
refresh_token_leeway = 0
"#
    );
    let app = TestApp::spawn_with(Options {
        seed: Some(seed),
        ..Default::default()
    })
    .await;
    let client = (
        "0oastatic00000000001".to_owned(),
        "static-secret-0123456789".to_owned(),
    );
    let token = first_refresh_token(&app, &client).await;
    let (status, tokens) = refresh_as(&app, &client, &token).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(text(&tokens["refresh_token"]), token);

    let refused = authd::seed::Seed::parse(
        "[[apps]]\nclient_id = \"x\"\nlabel = \"X\"\napplication_type = \"browser\"\n\
         grant_types = [\"refresh_token\"]\nrefresh_token_leeway = 61\n",
    )
    .unwrap_err();
    assert!(refused.contains("refresh_token_leeway"), "{refused}");
}

#[tokio::test]
async fn two_requests_racing_with_one_token_within_the_leeway_share_the_successor() {
    let app = crate::oauth::spawn().await;
    let client = app_with_rotation(
        &app,
        serde_json::json!({ "rotation_type": "ROTATE", "leeway": 10 }),
    )
    .await;
    for round in 0..10 {
        let token = first_refresh_token(&app, &client).await;
        let (a, b) = tokio::join!(
            refresh_as(&app, &client, &token),
            refresh_as(&app, &client, &token)
        );
        assert_eq!((a.0, b.0), (200, 200), "round {round}: {a:?} {b:?}");
        assert_eq!(a.1["refresh_token"], b.1["refresh_token"], "round {round}");
        let (status, next) = refresh_as(&app, &client, text(&a.1["refresh_token"])).await;
        assert_eq!(status, 200, "round {round}: the family is intact: {next}");
    }
}
