//! Protocol details clients and attackers probe: RFC 9207 `iss` on authorization responses,
//! server path segments that do not decode.

use serde_json::Value;

use crate::oauth::{authorize, pkce, session_token, REDIRECT, WEB};

#[tokio::test]
async fn authorization_responses_name_their_issuer() {
    let app = crate::oauth::spawn().await;
    let issuer = format!("{}/oauth2/default", app.base_url);
    let discovery = app
        .get_json("/oauth2/default/.well-known/openid-configuration")
        .await;
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );

    let token = session_token(&app).await;
    let (challenge, _) = pkce();
    let (status, params, location) = authorize(
        &app,
        &[
            ("client_id", WEB),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("sessionToken", &token),
        ],
    )
    .await;
    assert_eq!(status, 302, "{location}");
    assert!(params.contains_key("code"), "{location}");
    assert_eq!(params["iss"], issuer);

    // An error redirected to the client names the issuer too.
    let (status, params, location) = authorize(
        &app,
        &[
            ("client_id", WEB),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid not-a-scope"),
            ("state", "s2"),
        ],
    )
    .await;
    assert_eq!(status, 302, "{location}");
    assert!(params.contains_key("error"), "{location}");
    assert_eq!(params["iss"], issuer);
    assert_eq!(params["state"], "s2");
}

#[tokio::test]
async fn a_server_segment_that_does_not_decode_names_no_server() {
    let app = crate::common::TestApp::spawn().await;
    for path in [
        "/oauth2/%FF/v1/keys",
        "/oauth2/%C3%28/.well-known/openid-configuration",
        "/oauth2/%FF/v1/authorize?client_id=x",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errorCode"], "E0000007", "{path}");
    }
    // Routes without a server segment are the org server's, as before.
    assert_eq!(app.get("/oauth2/v1/keys").await.status(), 200);
    assert_eq!(
        app.get("/.well-known/openid-configuration").await.status(),
        200
    );
}

#[tokio::test]
async fn only_web_and_private_use_redirect_uris_can_be_registered() {
    let app = crate::common::TestApp::spawn().await;
    let create = |uri: &'static str| {
        let app = &app;
        async move {
            app.admin_call(
                reqwest::Method::POST,
                "/api/v1/apps",
                Some(serde_json::json!({
                    "label": "Native", "signOnMode": "OPENID_CONNECT",
                    "settings": { "oauthClient": {
                        "application_type": "native", "redirect_uris": [uri],
                        "grant_types": ["authorization_code"], "response_types": ["code"]
                    } }
                })),
            )
            .await
        }
    };
    for refused in [
        "javascript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "https://attacker@app.example.com/cb",
        "https://app.example.com/cb#x",
        "https://*.example.com/cb",
    ] {
        let (status, error) = create(refused).await;
        assert_eq!(status, 400, "{refused}: {error}");
        assert_eq!(error["errorCode"], "E0000001");
        assert!(
            error["errorCauses"][0]["errorSummary"]
                .as_str()
                .unwrap()
                .starts_with("settings.oauthClient.redirect_uris"),
            "{error}"
        );
    }
    for accepted in [
        "com.example.app:/oauth2redirect",
        "http://localhost:8100/cb",
    ] {
        let (status, created) = create(accepted).await;
        assert_eq!(status, 200, "{accepted}: {created}");
    }
}

#[tokio::test]
async fn logout_without_a_valid_id_token_hint_changes_nothing() {
    let app = crate::oauth::spawn().await;
    let sid = crate::sessions::sid_cookie(&app, &session_token(&app).await, REDIRECT).await;
    for query in [
        vec![],
        vec![("post_logout_redirect_uri", "http://localhost:9999/bye")],
        vec![("id_token_hint", "not-a-token")],
        vec![("id_token_hint", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")],
    ] {
        let response = app
            .http
            .get(format!("{}/oauth2/default/v1/logout", app.base_url))
            .query(&query)
            .header("cookie", format!("sid={sid}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query:?}");
        assert!(response.headers().get("set-cookie").is_none(), "{query:?}");
        assert!(response.headers().get("location").is_none(), "{query:?}");
        let me = app
            .http
            .get(format!("{}/api/v1/sessions/me", app.base_url))
            .header("cookie", format!("sid={sid}"))
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200, "{query:?}: the session is alive");
    }
}

#[tokio::test]
async fn the_sqlite_database_and_its_journal_files_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    // On SQLite whatever backend the suite runs on: the files are the point.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/authd.db").display().to_string();
    let url = format!("sqlite://{path}");
    let app = crate::common::TestApp::spawn_with(crate::common::Options {
        seed: Some(crate::oauth::seed()),
        settings: Some(Box::new(move |settings| settings.database_url = Some(url))),
        ..Default::default()
    })
    .await;
    // A write, so that the WAL and shared-memory files exist.
    session_token(&app).await;
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{path}{suffix}");
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|err| panic!("{file}: {err}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
    }
}

async fn password_grant(app: &crate::common::TestApp, password: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/oauth2/default/v1/token", app.base_url))
        .form(&[
            ("grant_type", "password"),
            ("username", "alice@example.com"),
            ("password", password),
            ("scope", "openid"),
            ("client_id", crate::oauth::TRUSTED),
            ("client_secret", "trusted-secret-0123456789"),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_password_grant_counts_against_the_sign_in_limits() {
    let app = crate::common::TestApp::spawn_with(crate::common::Options {
        seed: Some(crate::oauth::seed()),
        settings: Some(Box::new(|settings| {
            settings.authn_rate_limit_per_username = Some("3".into());
        })),
        ..Default::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            password_grant(&app, crate::oauth::PASSWORD).await.status(),
            200
        );
    }
    let limited = password_grant(&app, crate::oauth::PASSWORD).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["x-rate-limit-limit"], "3");
    assert_eq!(limited.headers()["x-rate-limit-remaining"], "0");
    assert!(limited.headers().contains_key("x-rate-limit-reset"));
    let body: Value = limited.json().await.unwrap();
    assert!(body["error"].is_string() && body["error_description"].is_string());
    // The same counter as the Authentication API's.
    let (status, _) =
        crate::authn::sign_in(&app, "alice@example.com", crate::oauth::PASSWORD).await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn failed_password_grants_lock_the_user_out_everywhere() {
    let app = crate::common::TestApp::spawn_with(crate::common::Options {
        seed: Some(crate::oauth::seed()),
        settings: Some(Box::new(|settings| {
            settings.lockout_threshold = Some("3".into());
        })),
        ..Default::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(password_grant(&app, "Wrong-pass-1").await.status(), 400);
    }
    let locked = password_grant(&app, crate::oauth::PASSWORD).await;
    assert_eq!(locked.status(), 400, "the right password no longer works");
    let (status, _) =
        crate::authn::sign_in(&app, "alice@example.com", crate::oauth::PASSWORD).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_frameworks_own_rejections_come_in_each_apis_error_shape() {
    let app = crate::oauth::spawn().await;
    let content_type = |response: &reqwest::Response| {
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    // A token request body over the server's size limit.
    let huge = "a".repeat(3 * 1024 * 1024);
    let response = app
        .http
        .post(format!("{}/oauth2/default/v1/token", app.base_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=password&x={huge}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert!(content_type(&response).starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert!(body["error_description"].is_string());

    // A repeated parameter on the browser pages: an HTML page.
    for path in [
        "/login?fromURI=%2Fa&fromURI=%2Fb",
        "/login/sessionCookieRedirect?token=a&token=b&redirectUrl=%2F",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 400, "{path}");
        assert!(content_type(&response).starts_with("text/html"), "{path}");
        let page = response.text().await.unwrap();
        assert!(page.contains(r#"role="alert""#), "{page}");
    }
    // The sign-in form sent as JSON.
    let response = app
        .http
        .post(format!("{}/login", app.base_url))
        .json(&serde_json::json!({ "username": "alice@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    assert!(content_type(&response).starts_with("text/html"));

    // A method a management route does not take.
    let response = app
        .http
        .patch(format!("{}/api/v1/trustedOrigins", app.base_url))
        .header(
            "authorization",
            format!("SSWS {}", crate::common::TEST_ADMIN_TOKEN),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000022");
}

#[tokio::test]
async fn replicas_started_together_with_one_seed_file_both_start() {
    let seed = format!(
        "{}\n{}",
        crate::oauth::seed(),
        r#"
[[trusted_origins]]
name = "Dev"
origin = "http://localhost:5173"
scopes = ["CORS"]
"#
    );
    for _ in 0..5 {
        let database = std::sync::Arc::new(crate::common::TestDatabase::create().await);
        let options = || crate::common::Options {
            seed: Some(seed.clone()),
            database: Some(database.clone()),
            ..Default::default()
        };
        let (first, second) = tokio::join!(
            crate::common::TestApp::spawn_with(options()),
            crate::common::TestApp::spawn_with(options())
        );
        for replica in [&first, &second] {
            let (status, apps) = replica
                .admin_call(reqwest::Method::GET, "/api/v1/apps", None)
                .await;
            assert_eq!(status, 200);
            assert_eq!(apps.as_array().unwrap().len(), 4, "{apps}");
        }
    }
}

async fn ssws(app: &crate::common::TestApp, token: &str) -> reqwest::Response {
    app.http
        .get(format!("{}/api/v1/api-tokens", app.base_url))
        .header("authorization", format!("SSWS {token}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn wrong_api_tokens_are_logged_and_an_ip_that_keeps_guessing_is_refused() {
    let app = crate::common::TestApp::spawn().await;
    let guess = "a-guessed-token-0123456789abcdef";
    let refused = ssws(&app, guess).await;
    assert_eq!(refused.status(), 401);

    let (status, logs) = app
        .admin_call(
            reqwest::Method::GET,
            "/api/v1/logs?q=system.api_token.authenticate",
            None,
        )
        .await;
    assert_eq!(status, 200);
    let failures: Vec<&Value> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["eventType"] == "system.api_token.authenticate")
        .collect();
    assert_eq!(failures.len(), 1, "{logs}");
    assert_eq!(failures[0]["outcome"]["result"], "FAILURE");
    assert_eq!(failures[0]["client"]["ipAddress"], "127.0.0.1");
    assert!(
        !logs.to_string().contains(guess),
        "the token itself is never logged"
    );

    for _ in 1..10 {
        assert_eq!(ssws(&app, guess).await.status(), 401);
    }
    // Past ten wrong guesses in a minute, wrong tokens get 429 for the rest of the minute.
    let throttled = ssws(&app, guess).await;
    assert_eq!(throttled.status(), 429);
    assert!(throttled.headers().contains_key("x-rate-limit-reset"));
    let body: Value = throttled.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000047");
    // The administrators behind the same address are not locked out.
    assert_eq!(
        ssws(&app, crate::common::TEST_ADMIN_TOKEN).await.status(),
        200
    );
    app.clock.advance(std::time::Duration::from_secs(60));
    assert_eq!(ssws(&app, guess).await.status(), 401);
}

#[tokio::test]
async fn an_api_token_unused_for_its_window_expires() {
    let app = crate::common::TestApp::spawn().await;
    let (_, kept) = app
        .state
        .engine
        .admin()
        .create_api_token("kept")
        .await
        .unwrap();
    let (_, idle) = app
        .state
        .engine
        .admin()
        .create_api_token("idle")
        .await
        .unwrap();
    let day = std::time::Duration::from_secs(86_400);
    let (status, listed) = app
        .admin_call(reqwest::Method::GET, "/api/v1/api-tokens", None)
        .await;
    assert_eq!(status, 200);
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|token| token["tokenWindow"] == "P30D" && token["lastUpdated"].is_string()));

    app.clock.advance(20 * day);
    assert_eq!(ssws(&app, kept.expose()).await.status(), 200);
    app.clock.advance(11 * day);
    // 31 days after creation: the idle token has expired; the one used on day 20 has not.
    assert_eq!(ssws(&app, idle.expose()).await.status(), 401);
    assert_eq!(ssws(&app, kept.expose()).await.status(), 200);
}
