//! `/api/v1/authn` over HTTP.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{Options, TestApp, Tweak};

pub const PASSWORD: &str = "Correct-horse-9";

pub fn seed() -> String {
    format!(
        r#"
[[apps]]
client_id = "0oatrustedwebapp0001"
client_secret = "a-long-enough-client-secret"
label = "Trusted app"
application_type = "web"
redirect_uris = ["http://app.example.com/callback"]
grant_types = ["authorization_code"]
response_types = ["code"]

[[users]]
login = "alice@example.com"
password = "{PASSWORD}"
[users.profile]
firstName = "Alice"
lastName = "Example"
email = "alice@example.com"

[[users]]
login = "expired@example.com"
password = "{PASSWORD}"
status = "PASSWORD_EXPIRED"
[users.profile]
firstName = "Expired"
lastName = "Example"
email = "expired@example.com"

[[users]]
login = "suspended@example.com"
password = "{PASSWORD}"
status = "SUSPENDED"
[users.profile]
firstName = "Suspended"
lastName = "Example"
email = "suspended@example.com"
"#
    )
}

pub async fn spawn(settings: Tweak) -> TestApp {
    TestApp::spawn_with(Options {
        seed: Some(seed()),
        settings,
        ..Default::default()
    })
    .await
}

pub async fn sign_in(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    let response = app
        .post_json(
            "/api/v1/authn",
            &json!({ "username": username, "password": password }),
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn without_error_id(mut body: Value) -> Value {
    let id = body["errorId"].take();
    assert!(
        id.as_str().is_some_and(|id| !id.is_empty()),
        "errorId present"
    );
    body
}

#[tokio::test]
async fn success_returns_a_session_token_that_works_exactly_once() {
    let app = spawn(None).await;
    let response = app
        .post_json(
            "/api/v1/authn",
            &json!({
                "username": "Alice@Example.com",
                "password": PASSWORD,
                "relayState": "/after",
                "options": { "multiOptionalFactorEnroll": false, "warnBeforePasswordExpired": true },
                "context": { "deviceToken": "26q43Ak9Eh04p7H6Nnx0m69JqYOrfVBY" }
            }),
        )
        .await;
    assert_eq!(response.status(), 200);
    for header in [
        "x-rate-limit-limit",
        "x-rate-limit-remaining",
        "x-rate-limit-reset",
    ] {
        assert!(response.headers().contains_key(header), "{header}");
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "SUCCESS");
    assert_eq!(body["relayState"], "/after");
    let expires_at = body["expiresAt"].as_str().unwrap();
    assert!(
        expires_at.ends_with(".000Z") && expires_at.len() == 24,
        "{expires_at}"
    );
    let user = &body["_embedded"]["user"];
    assert!(user["id"].as_str().unwrap().starts_with("00u"));
    assert!(user["passwordChanged"].as_str().is_some());
    assert_eq!(user["profile"]["login"], "alice@example.com");
    assert_eq!(user["profile"]["firstName"], "Alice");
    assert_eq!(user["profile"]["lastName"], "Example");
    assert_eq!(user["profile"]["locale"], "en_US");
    assert!(user["profile"]["timeZone"].as_str().is_some());
    assert!(body.get("stateToken").is_none());

    let token = body["sessionToken"].as_str().unwrap();
    assert!(token.len() >= 40);
    let first = app
        .post_json("/api/v1/sessions", &json!({ "sessionToken": token }))
        .await;
    assert_eq!(first.status(), 200);
    let second = app
        .post_json("/api/v1/sessions", &json!({ "sessionToken": token }))
        .await;
    assert_eq!(second.status(), 401);
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000004");
}

#[tokio::test]
async fn an_expired_session_token_is_refused() {
    let app = spawn(None).await;
    let (_, body) = sign_in(&app, "alice@example.com", PASSWORD).await;
    app.clock.advance(Duration::from_secs(5 * 60));
    let response = app
        .post_json(
            "/api/v1/sessions",
            &json!({ "sessionToken": body["sessionToken"] }),
        )
        .await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn wrong_password_unknown_user_and_inactive_user_get_identical_401_bodies() {
    let app = spawn(None).await;
    let (status, wrong_password) = sign_in(&app, "alice@example.com", "nope").await;
    assert_eq!(status, 401);
    let (status, unknown_user) = sign_in(&app, "nobody@example.com", "nope").await;
    assert_eq!(status, 401);
    let (status, suspended) = sign_in(&app, "suspended@example.com", PASSWORD).await;
    assert_eq!(status, 401);
    let wrong_password = without_error_id(wrong_password);
    assert_eq!(
        wrong_password,
        json!({
            "errorCode": "E0000004",
            "errorSummary": "Authentication failed",
            "errorLink": "E0000004",
            "errorId": null,
            "errorCauses": []
        })
    );
    assert_eq!(without_error_id(unknown_user), wrong_password);
    assert_eq!(without_error_id(suspended), wrong_password);
}

fn lockout_after_three(show: bool) -> Tweak {
    Some(Box::new(move |settings| {
        settings.lockout_threshold = Some("3".into());
        settings.lockout_duration = Some("15m".into());
        if show {
            settings.show_lockout_failures = Some("true".into());
        }
    }))
}

#[tokio::test]
async fn lockout_after_n_failures_and_unlock_after_the_duration() {
    let app = spawn(lockout_after_three(false)).await;
    for _ in 0..3 {
        assert_eq!(sign_in(&app, "alice@example.com", "wrong").await.0, 401);
    }
    let (status, body) = sign_in(&app, "alice@example.com", PASSWORD).await;
    assert_eq!(status, 401, "locked: the right password is refused too");
    assert_eq!(body["errorCode"], "E0000004", "lockout hidden by default");
    let user = app
        .state
        .engine
        .sign_in()
        .user_by_login("alice@example.com")
        .await
        .unwrap();
    assert_eq!(user.status.as_str(), "LOCKED_OUT");

    app.clock.advance(Duration::from_secs(14 * 60));
    assert_eq!(sign_in(&app, "alice@example.com", PASSWORD).await.0, 401);
    app.clock.advance(Duration::from_secs(60));
    let (status, body) = sign_in(&app, "alice@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "SUCCESS");
    let user = app
        .state
        .engine
        .sign_in()
        .user_by_login("alice@example.com")
        .await
        .unwrap();
    assert_eq!(user.status.as_str(), "ACTIVE");
    assert_eq!(user.failed_sign_ins, 0);
}

#[tokio::test]
async fn a_successful_sign_in_resets_the_failure_count() {
    let app = spawn(lockout_after_three(false)).await;
    for _ in 0..2 {
        sign_in(&app, "alice@example.com", "wrong").await;
    }
    assert_eq!(sign_in(&app, "alice@example.com", PASSWORD).await.0, 200);
    for _ in 0..2 {
        sign_in(&app, "alice@example.com", "wrong").await;
    }
    assert_eq!(sign_in(&app, "alice@example.com", PASSWORD).await.0, 200);
}

#[tokio::test]
async fn locked_out_is_shown_when_configured() {
    let app = spawn(lockout_after_three(true)).await;
    for _ in 0..2 {
        assert_eq!(sign_in(&app, "alice@example.com", "wrong").await.0, 401);
    }
    let (status, body) = sign_in(&app, "alice@example.com", "wrong").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "LOCKED_OUT");
    assert!(body.get("sessionToken").is_none());
    let (status, body) = sign_in(&app, "alice@example.com", PASSWORD).await;
    assert_eq!((status, &body["status"]), (200, &json!("LOCKED_OUT")));
}

#[tokio::test]
async fn a_locked_user_cannot_get_a_session_any_other_way() {
    let app = spawn(lockout_after_three(false)).await;
    let (_, body) = sign_in(&app, "alice@example.com", PASSWORD).await;
    let earlier_token = body["sessionToken"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        sign_in(&app, "alice@example.com", "wrong").await;
    }
    // A session token issued before the lockout no longer buys a session.
    let response = app
        .post_json(
            "/api/v1/sessions",
            &json!({ "sessionToken": earlier_token }),
        )
        .await;
    assert_eq!(response.status(), 401);
    // Nor does the sign-in page.
    let (status, page) = crate::login_page::submit_form(&app, "alice@example.com", PASSWORD).await;
    assert_eq!(status, 401, "{page}");
}

#[tokio::test]
async fn too_many_requests_get_429_with_oktas_headers() {
    let app = spawn(Some(Box::new(|settings| {
        settings.authn_rate_limit_per_username = Some("3".into());
    })))
    .await;
    for remaining in [2, 1, 0] {
        let response = app
            .post_json(
                "/api/v1/authn",
                &json!({ "username": "alice@example.com", "password": PASSWORD }),
            )
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["x-rate-limit-remaining"],
            remaining.to_string().as_str()
        );
    }
    let response = app
        .post_json(
            "/api/v1/authn",
            &json!({ "username": "ALICE@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["x-rate-limit-limit"], "3");
    assert_eq!(response.headers()["x-rate-limit-remaining"], "0");
    let reset: i64 = response.headers()["x-rate-limit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > app.state.engine.now().unix());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000047");

    // Another username is not affected.
    assert_eq!(sign_in(&app, "expired@example.com", PASSWORD).await.0, 200);
}

#[tokio::test]
async fn the_per_username_limit_holds_across_two_replicas() {
    let limited = || -> Tweak {
        Some(Box::new(|settings| {
            settings.authn_rate_limit_per_username = Some("4".into());
        }))
    };
    let first = spawn(limited()).await;
    let second = TestApp::spawn_with(Options {
        database: Some(first.database.clone()),
        clock: Some(first.clock.clone()),
        settings: limited(),
        ..Default::default()
    })
    .await;
    // Spread over both replicas, concurrently: each would allow 4 if it counted alone.
    let attempt = |replica| sign_in(replica, "alice@example.com", PASSWORD);
    let (a, b, c, d, e, f, g, h) = tokio::join!(
        attempt(&first),
        attempt(&second),
        attempt(&first),
        attempt(&second),
        attempt(&first),
        attempt(&second),
        attempt(&first),
        attempt(&second),
    );
    let statuses = [a.0, b.0, c.0, d.0, e.0, f.0, g.0, h.0];
    let allowed = statuses.iter().filter(|status| **status == 200).count();
    let limited = statuses.iter().filter(|status| **status == 429).count();
    assert_eq!((allowed, limited), (4, 4), "{statuses:?}");
    // Either replica refuses the username for the rest of the window, whatever the case.
    for replica in [&first, &second] {
        assert_eq!(sign_in(replica, "Alice@Example.com", PASSWORD).await.0, 429);
    }
    // The next window starts afresh on both.
    first.clock.advance(Duration::from_secs(60));
    assert_eq!(sign_in(&second, "alice@example.com", PASSWORD).await.0, 200);
    assert_eq!(sign_in(&first, "alice@example.com", PASSWORD).await.0, 200);
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_400_never_500() {
    let app = spawn(None).await;
    let post_raw = |body: Vec<u8>| {
        app.http
            .post(format!("{}/api/v1/authn", app.base_url))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for (body, code) in [
        (b"not json".to_vec(), "E0000003"),
        (b"".to_vec(), "E0000003"),
        (b"{\"username\": ".to_vec(), "E0000003"),
        (b"{}".to_vec(), "E0000001"),
        (
            b"{\"username\": 5, \"password\": \"x\"}".to_vec(),
            "E0000001",
        ),
        (b"[1, 2]".to_vec(), "E0000001"),
        (
            format!(
                "{{\"username\": \"{}\", \"password\": \"x\"}}",
                "a".repeat(100_000)
            )
            .into_bytes(),
            "E0000003",
        ),
    ] {
        let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
        let response = post_raw(body).await.unwrap();
        assert_eq!(response.status(), 400, "{shown}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errorCode"], code, "{shown}: {body}");
        assert!(body["errorSummary"].as_str().is_some());
    }
    let body: Value = app
        .post_json("/api/v1/authn", &json!({ "username": "alice@example.com" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["errorCauses"][0]["errorSummary"],
        "password: The field cannot be left blank"
    );
    for path in [
        "/api/v1/authn/cancel",
        "/api/v1/authn/skip",
        "/api/v1/authn/credentials/change_password",
        "/api/v1/sessions",
    ] {
        let response = app.post_json(path, &json!({ "unexpected": true })).await;
        assert_eq!(response.status(), 400, "{path}");
    }
}

#[tokio::test]
async fn an_expired_password_must_be_changed_to_finish_signing_in() {
    let app = spawn(None).await;
    let (status, body) = sign_in(&app, "expired@example.com", PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "PASSWORD_EXPIRED");
    assert!(body.get("sessionToken").is_none());
    let state_token = body["stateToken"].as_str().unwrap().to_owned();
    assert_eq!(body["_links"]["next"]["name"], "changePassword");
    assert_eq!(
        body["_links"]["next"]["href"],
        format!("{}/api/v1/authn/credentials/change_password", app.base_url).as_str()
    );
    assert_eq!(body["_links"]["next"]["hints"]["allow"], json!(["POST"]));
    assert!(body["_links"]["cancel"]["href"].as_str().is_some());
    assert_eq!(body["_embedded"]["policy"]["complexity"]["minLength"], 8);

    // The transaction's state can be read back with the state token alone.
    let current: Value = app
        .post_json("/api/v1/authn", &json!({ "stateToken": state_token }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(current["status"], "PASSWORD_EXPIRED");

    let change = |old: &str, new: &str| {
        let body = json!({ "stateToken": state_token, "oldPassword": old, "newPassword": new });
        let app = &app;
        async move {
            app.post_json("/api/v1/authn/credentials/change_password", &body)
                .await
        }
    };
    let wrong_old = change("nope", "Brand-new-pass-1").await;
    assert_eq!(wrong_old.status(), 403);
    let body: Value = wrong_old.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000014");
    let weak = change(PASSWORD, "short").await;
    assert_eq!(weak.status(), 403);
    let body: Value = weak.json().await.unwrap();
    assert!(body["errorCauses"][0]["errorSummary"]
        .as_str()
        .unwrap()
        .contains("at least 8 characters"));

    let done = change(PASSWORD, "Brand-new-pass-1").await;
    assert_eq!(done.status(), 200);
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["status"], "SUCCESS");
    assert!(body["sessionToken"].as_str().is_some());

    let reused = change(PASSWORD, "Another-pass-2").await;
    assert_eq!(reused.status(), 401);
    let body: Value = reused.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000011");

    let (status, body) = sign_in(&app, "expired@example.com", "Brand-new-pass-1").await;
    assert_eq!((status, &body["status"]), (200, &json!("SUCCESS")));
    assert_eq!(sign_in(&app, "expired@example.com", PASSWORD).await.0, 401);
}

#[tokio::test]
async fn a_password_near_expiry_warns_when_asked_and_can_be_skipped() {
    let app = spawn(Some(Box::new(|settings| {
        settings.password_max_age = Some("30d".into());
        settings.password_expiry_warning = Some("7d".into());
    })))
    .await;
    app.clock.advance(Duration::from_secs(25 * 86_400));
    let (_, body) = sign_in(&app, "alice@example.com", PASSWORD).await;
    assert_eq!(body["status"], "SUCCESS", "no warning unless asked");

    let body: Value = app
        .post_json(
            "/api/v1/authn",
            &json!({
                "username": "alice@example.com",
                "password": PASSWORD,
                "options": { "warnBeforePasswordExpired": true }
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "PASSWORD_WARN");
    assert_eq!(
        body["_embedded"]["policy"]["expiration"]["passwordExpireDays"],
        5
    );
    assert_eq!(body["_links"]["skip"]["name"], "skip");
    let skipped: Value = app
        .post_json(
            "/api/v1/authn/skip",
            &json!({ "stateToken": body["stateToken"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(skipped["status"], "SUCCESS");
    assert!(skipped["sessionToken"].as_str().is_some());

    app.clock.advance(Duration::from_secs(6 * 86_400));
    let (_, body) = sign_in(&app, "alice@example.com", PASSWORD).await;
    assert_eq!(body["status"], "PASSWORD_EXPIRED");
    let skip = app
        .post_json(
            "/api/v1/authn/skip",
            &json!({ "stateToken": body["stateToken"] }),
        )
        .await;
    assert_eq!(skip.status(), 403, "an expired password cannot be skipped");
    let body: Value = skip.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000079");
}

#[tokio::test]
async fn cancel_ends_the_transaction() {
    let app = spawn(None).await;
    let body: Value = app
        .post_json(
            "/api/v1/authn",
            &json!({ "username": "expired@example.com", "password": PASSWORD, "relayState": "/r" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let state_token = body["stateToken"].clone();
    let cancelled = app
        .post_json(
            "/api/v1/authn/cancel",
            &json!({ "stateToken": state_token }),
        )
        .await;
    assert_eq!(cancelled.status(), 200);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["relayState"], "/r");
    let again = app
        .post_json(
            "/api/v1/authn/cancel",
            &json!({ "stateToken": state_token }),
        )
        .await;
    assert_eq!(again.status(), 401);
}

#[tokio::test]
async fn an_imported_bcrypt_hash_signs_in_and_is_upgraded_to_argon2id() {
    let hash = bcrypt::hash("imported-Pass-1", 4).unwrap();
    let app = TestApp::spawn_with(Options {
        seed: Some(format!(
            "[[users]]\nlogin = \"legacy@example.com\"\npassword_hash = \"{hash}\"\n\
                 [users.profile]\nfirstName = \"Legacy\"\nlastName = \"Example\"\n\
                 email = \"legacy@example.com\"\n"
        )),
        ..Default::default()
    })
    .await;
    let before = app
        .state
        .engine
        .sign_in()
        .user_by_login("legacy@example.com")
        .await
        .unwrap();
    assert!(before.password_hash.unwrap().starts_with("$2b$"));
    assert_eq!(sign_in(&app, "legacy@example.com", "wrong").await.0, 401);
    let (status, _) = sign_in(&app, "legacy@example.com", "imported-Pass-1").await;
    assert_eq!(status, 200);
    let after = app
        .state
        .engine
        .sign_in()
        .user_by_login("legacy@example.com")
        .await
        .unwrap();
    assert!(after.password_hash.unwrap().starts_with("$argon2id$"));
    assert_eq!(
        sign_in(&app, "legacy@example.com", "imported-Pass-1")
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn a_password_changed_at_sign_in_survives_reapplying_the_seed() {
    let app = spawn(None).await;
    let (_, body) = sign_in(&app, "expired@example.com", PASSWORD).await;
    let changed = app
        .post_json(
            "/api/v1/authn/credentials/change_password",
            &json!({
                "stateToken": body["stateToken"],
                "oldPassword": PASSWORD,
                "newPassword": "Brand-new-pass-1"
            }),
        )
        .await;
    assert_eq!(changed.status(), 200);

    // What every restart does: the same seed, applied again.
    let report = authd::seed::Seed::parse(&seed())
        .unwrap()
        .apply(&app.state.engine, std::path::Path::new("seed.toml"))
        .await
        .unwrap();
    assert_eq!((report.created, report.updated), (0, 0));
    let (status, body) = sign_in(&app, "expired@example.com", "Brand-new-pass-1").await;
    assert_eq!((status, &body["status"]), (200, &json!("SUCCESS")));
}

#[tokio::test]
async fn wrong_passwords_also_carry_rate_limit_headers() {
    let app = spawn(None).await;
    let response = app
        .post_json(
            "/api/v1/authn",
            &json!({ "username": "alice@example.com", "password": "wrong" }),
        )
        .await;
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("x-rate-limit-remaining"));
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_rate_limited() {
    let app = spawn(Some(Box::new(|settings| {
        settings.trusted_proxies = Some("127.0.0.1".into());
        settings.authn_rate_limit_per_ip = Some("2".into());
    })))
    .await;
    let attempt = |client: &'static str| {
        app.http
            .post(format!("{}/api/v1/authn", app.base_url))
            .header("x-forwarded-for", format!("198.51.100.9, {client}"))
            .json(&json!({ "username": "alice@example.com", "password": "wrong" }))
            .send()
    };
    assert_eq!(attempt("203.0.113.5").await.unwrap().status(), 401);
    assert_eq!(attempt("203.0.113.5").await.unwrap().status(), 401);
    assert_eq!(attempt("203.0.113.5").await.unwrap().status(), 429);
    assert_eq!(
        attempt("203.0.113.6").await.unwrap().status(),
        401,
        "another client"
    );
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = spawn(Some(Box::new(|settings| {
        settings.authn_rate_limit_per_ip = Some("2".into());
    })))
    .await;
    for (client, expected) in [
        ("203.0.113.5", 401),
        ("203.0.113.6", 401),
        ("203.0.113.7", 429),
    ] {
        let response = app
            .http
            .post(format!("{}/api/v1/authn", app.base_url))
            .header("x-forwarded-for", client)
            .json(&json!({ "username": "alice@example.com", "password": "wrong" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{client}");
    }
}
