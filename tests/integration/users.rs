//! Okta's Users API over HTTP.

use serde_json::{json, Value};

use crate::common::TestApp;

fn profile(login: &str) -> Value {
    json!({ "firstName": "Test", "lastName": "User", "email": login, "login": login })
}

async fn create(app: &TestApp, login: &str, password: Option<&str>, activate: bool) -> Value {
    let mut body = json!({ "profile": profile(login) });
    if let Some(password) = password {
        body["credentials"] = json!({ "password": { "value": password } });
    }
    let (status, user, _) = app
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/users?activate={activate}"),
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{user}");
    user
}

#[tokio::test]
async fn users_are_created_in_the_status_okta_gives_them_and_can_sign_in() {
    let app = TestApp::spawn().await;
    let active = create(&app, "ann@example.com", Some("Secret-pass-1"), true).await;
    assert_eq!(active["status"], "ACTIVE");
    assert!(active["id"].as_str().unwrap().starts_with("00u"));
    assert_eq!(active["profile"]["login"], "ann@example.com");
    assert!(active["_links"]["self"]["href"].as_str().is_some());
    assert!(active.to_string().find("Secret-pass-1").is_none());
    let provisioned = create(&app, "pat@example.com", None, true).await;
    assert_eq!(provisioned["status"], "PROVISIONED");
    let staged = create(&app, "sam@example.com", Some("Secret-pass-1"), false).await;
    assert_eq!(staged["status"], "STAGED");

    let (status, body) = crate::authn::sign_in(&app, "ann@example.com", "Secret-pass-1").await;
    assert_eq!((status, &body["status"]), (200, &json!("SUCCESS")));
    assert_eq!(
        crate::authn::sign_in(&app, "sam@example.com", "Secret-pass-1")
            .await
            .0,
        401
    );

    let (status, body, _) = app
        .admin(
            reqwest::Method::POST,
            "/api/v1/users",
            Some(json!({ "profile": { "login": "x@example.com", "email": "not-an-email" } })),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errorCode"], "E0000001");
    let causes: Vec<&str> = body["errorCauses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cause| cause["errorSummary"].as_str().unwrap())
        .collect();
    assert!(
        causes.iter().any(|c| c.starts_with("firstName:")),
        "{causes:?}"
    );
    assert!(causes.iter().any(|c| c.starts_with("email:")), "{causes:?}");

    let (status, body, _) = app
        .admin(
            reqwest::Method::POST,
            "/api/v1/users",
            Some(json!({ "profile": profile("ANN@example.com") })),
        )
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("E0000001"))
    );
}

#[tokio::test]
async fn users_are_found_by_id_or_login_and_listed_page_by_page() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for login in ["a@example.com", "b@example.com", "c@example.com"] {
        ids.push(
            create(&app, login, None, false).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let (status, by_login, _) = app
        .admin(reqwest::Method::GET, "/api/v1/users/b@example.com", None)
        .await;
    assert_eq!(status, 200);
    let (_, by_id, _) = app
        .admin(
            reqwest::Method::GET,
            &format!("/api/v1/users/{}", by_login["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(by_id["profile"]["login"], "b@example.com");
    let (status, missing, _) = app
        .admin(
            reqwest::Method::GET,
            "/api/v1/users/nobody@example.com",
            None,
        )
        .await;
    assert_eq!(
        (status, missing["errorCode"].as_str()),
        (404, Some("E0000007"))
    );

    let (_, first, headers) = app
        .admin(reqwest::Method::GET, "/api/v1/users?limit=2", None)
        .await;
    assert_eq!(first.as_array().unwrap().len(), 2);
    let links: Vec<&str> = headers
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let next = links
        .iter()
        .find(|l| l.ends_with("rel=\"next\""))
        .expect("a next link");
    let next = next.trim_start_matches('<').split('>').next().unwrap();
    let path = next.trim_start_matches(&app.base_url);
    let (_, second, headers) = app.admin(reqwest::Method::GET, path, None).await;
    assert_eq!(second.as_array().unwrap().len(), 1);
    assert!(headers
        .get_all("link")
        .iter()
        .all(|v| !v.to_str().unwrap().contains("rel=\"next\"")));
    let mut seen: Vec<String> = first
        .as_array()
        .unwrap()
        .iter()
        .chain(second.as_array().unwrap())
        .map(|user| user["id"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids);

    let (_, filtered, _) = app
        .admin(
            reqwest::Method::GET,
            "/api/v1/users?filter=profile.login%20eq%20%22c%40example.com%22",
            None,
        )
        .await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    let (_, staged, _) = app
        .admin(
            reqwest::Method::GET,
            "/api/v1/users?filter=status%20eq%20%22STAGED%22",
            None,
        )
        .await;
    assert_eq!(staged.as_array().unwrap().len(), 3);
    let (_, found, _) = app
        .admin(reqwest::Method::GET, "/api/v1/users?q=b%40", None)
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (status, _, _) = app
        .admin(
            reqwest::Method::GET,
            "/api/v1/users?filter=lastName%20sw%20%22x%22",
            None,
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn profiles_are_merged_by_post_and_replaced_by_put() {
    let app = TestApp::spawn().await;
    let user = create(&app, "up@example.com", None, true).await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let (_, merged, _) = app
        .admin(
            reqwest::Method::POST,
            &path,
            Some(json!({ "profile": { "nickName": "Uppy" } })),
        )
        .await;
    assert_eq!(merged["profile"]["nickName"], "Uppy");
    assert_eq!(merged["profile"]["firstName"], "Test");
    let (_, replaced, _) = app
        .admin(
            reqwest::Method::PUT,
            &path,
            Some(json!({ "profile": profile("up@example.com") })),
        )
        .await;
    assert!(replaced["profile"].get("nickName").is_none());
    let (status, _, _) = app
        .admin(
            reqwest::Method::PUT,
            &path,
            Some(json!({ "profile": { "login": "up@example.com" } })),
        )
        .await;
    assert_eq!(status, 400, "a replacement must be a whole profile");
}

#[tokio::test]
async fn lifecycle_transitions_follow_okta_and_deactivation_ends_access() {
    let app = crate::oauth::spawn().await;
    let user = create(&app, "life@example.com", Some("Secret-pass-1"), true).await;
    let id = user["id"].as_str().unwrap().to_owned();
    let lifecycle = |op: &'static str| {
        let app = &app;
        let path = format!("/api/v1/users/{id}/lifecycle/{op}");
        async move { app.admin(reqwest::Method::POST, &path, None).await }
    };
    let (status, body, _) = lifecycle("unsuspend").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("E0000001")),
        "not suspended"
    );
    assert_eq!(lifecycle("suspend").await.1["status"], "SUSPENDED");
    assert_eq!(
        crate::authn::sign_in(&app, "life@example.com", "Secret-pass-1")
            .await
            .0,
        401
    );
    assert_eq!(lifecycle("unsuspend").await.1["status"], "ACTIVE");
    assert_eq!(
        lifecycle("expire_password").await.1["status"],
        "PASSWORD_EXPIRED"
    );
    let (_, body) = crate::authn::sign_in(&app, "life@example.com", "Secret-pass-1").await;
    assert_eq!(body["status"], "PASSWORD_EXPIRED");
    assert_eq!(lifecycle("nonsense").await.0, 404);

    // A session and a refresh token, then deactivation.
    let other = create(&app, "live@example.com", Some("Secret-pass-1"), true).await;
    let other_id = other["id"].as_str().unwrap().to_owned();
    let (_, authn) = crate::authn::sign_in(&app, "live@example.com", "Secret-pass-1").await;
    let session: Value = app
        .post_json(
            "/api/v1/sessions",
            &json!({ "sessionToken": authn["sessionToken"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let tokens: Value = app
        .http
        .post(format!("{}/oauth2/default/v1/token", app.base_url))
        .form(&[
            ("grant_type", "password"),
            ("username", "live@example.com"),
            ("password", "Secret-pass-1"),
            ("scope", "openid offline_access"),
            ("client_id", crate::oauth::TRUSTED),
            ("client_secret", "trusted-secret-0123456789"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    let (_, deactivated, _) = app
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/users/{other_id}/lifecycle/deactivate"),
            None,
        )
        .await;
    assert_eq!(deactivated["status"], "DEPROVISIONED");
    let (status, _, _) = app
        .admin(
            reqwest::Method::GET,
            &format!("/api/v1/sessions/{}", session["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 404, "sessions end");
    let introspected: Value = app
        .http
        .post(format!("{}/oauth2/default/v1/introspect", app.base_url))
        .form(&[
            ("token", refresh.as_str()),
            ("client_id", crate::oauth::TRUSTED),
            ("client_secret", "trusted-secret-0123456789"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], false, "refresh tokens are revoked");
    let userinfo = app
        .http
        .get(format!("{}/oauth2/default/v1/userinfo", app.base_url))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401, "access tokens stop working");
}

#[tokio::test]
async fn delete_deactivates_first_then_deletes() {
    let app = TestApp::spawn().await;
    let user = create(&app, "gone@example.com", None, true).await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let (status, _, _) = app.admin(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    let (_, still, _) = app.admin(reqwest::Method::GET, &path, None).await;
    assert_eq!(still["status"], "DEPROVISIONED");
    let (status, _, _) = app.admin(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    let (status, _, _) = app.admin(reqwest::Method::GET, &path, None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn passwords_are_set_by_an_administrator_or_changed_with_the_old_one() {
    let app = TestApp::spawn().await;
    let user = create(&app, "pw@example.com", None, true).await;
    assert_eq!(user["status"], "PROVISIONED");
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
    let (status, body, _) = app
        .admin(
            reqwest::Method::POST,
            &path,
            Some(json!({ "credentials": { "password": { "value": "weak" } } })),
        )
        .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("E0000001"))
    );
    let (status, set, _) = app
        .admin(
            reqwest::Method::POST,
            &path,
            Some(json!({ "credentials": { "password": { "value": "First-pass-1" } } })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(set["status"], "ACTIVE");
    assert_eq!(
        crate::authn::sign_in(&app, "pw@example.com", "First-pass-1")
            .await
            .0,
        200
    );

    let change = |old: &'static str, new: &'static str| {
        let app = &app;
        let path = format!("{path}/credentials/change_password");
        async move {
            app.admin(
                reqwest::Method::POST,
                &path,
                Some(json!({ "oldPassword": { "value": old }, "newPassword": { "value": new } })),
            )
            .await
        }
    };
    let (status, body, _) = change("wrong", "Second-pass-2").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (403, Some("E0000014"))
    );
    let (status, body, _) = change("First-pass-1", "Second-pass-2").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["provider"]["type"], "OKTA");
    assert_eq!(
        crate::authn::sign_in(&app, "pw@example.com", "Second-pass-2")
            .await
            .0,
        200
    );
    assert_eq!(
        crate::authn::sign_in(&app, "pw@example.com", "First-pass-1")
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn operators_manage_users_from_the_command_line() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let app = TestApp::spawn().await;
    let url = app.database.url().to_owned();
    let run = move |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_authd"))
            .env_clear()
            .env("AUTHD_DATABASE_URL", &url)
            .env("AUTHD_SECRET_KEY", crate::common::TEST_SECRET)
            .env("AUTHD_ARGON2_MEMORY_KIB", "64")
            .env("AUTHD_ARGON2_ITERATIONS", "1")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let created = tokio::task::spawn_blocking({
        let run = run.clone();
        move || {
            run(
                &[
                    "users",
                    "create",
                    "--login",
                    "op@example.com",
                    "--first-name",
                    "Op",
                    "--last-name",
                    "Erator",
                    "--password-stdin",
                    "--json",
                ],
                Some("Operator-pass-1\n"),
            )
        }
    })
    .await
    .unwrap();
    let created: Value = serde_json::from_str(&created).unwrap();
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(
        crate::authn::sign_in(&app, "op@example.com", "Operator-pass-1")
            .await
            .0,
        200
    );

    let listed = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["users", "list", "--json"], None)
    })
    .await
    .unwrap();
    assert!(listed.contains("op@example.com"));
    tokio::task::spawn_blocking(move || run(&["users", "deactivate", "op@example.com"], None))
        .await
        .unwrap();
    assert_eq!(
        crate::authn::sign_in(&app, "op@example.com", "Operator-pass-1")
            .await
            .0,
        401
    );
}

async fn post(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let response = app.post_json(path, body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The token at the end of a `resetPasswordUrl`, after checking the URL's shape.
fn recovery_token(app: &TestApp, reset: &Value) -> String {
    let url = reset["resetPasswordUrl"].as_str().unwrap();
    let prefix = format!("{}/reset_password/", app.base_url);
    assert!(url.starts_with(&prefix), "{url}");
    url[prefix.len()..].to_owned()
}

#[tokio::test]
async fn reset_password_puts_the_user_in_recovery_until_the_authn_api_sets_a_new_one() {
    let app = TestApp::spawn().await;
    let user = create(&app, "rosa@example.com", Some("Old-password-1"), true).await;
    let lifecycle = format!(
        "/api/v1/users/{}/lifecycle/reset_password",
        user["id"].as_str().unwrap()
    );

    let (status, refused, _) = app.admin(reqwest::Method::POST, &lifecycle, None).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["errorCauses"].to_string().contains("sendEmail"));

    let (status, reset, _) = app
        .admin(
            reqwest::Method::POST,
            &format!("{lifecycle}?sendEmail=false"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{reset}");
    let token = recovery_token(&app, &reset);
    let (_, fetched, _) = app
        .admin(
            reqwest::Method::GET,
            &format!("/api/v1/users/{}", user["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(fetched["status"], "RECOVERY");
    // The old password no longer signs in.
    let (status, body) = crate::authn::sign_in(&app, "rosa@example.com", "Old-password-1").await;
    assert_eq!(status, 401, "{body}");

    let (status, body) = post(
        &app,
        "/api/v1/authn/recovery/token",
        &json!({ "recoveryToken": "not-a-token" }),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errorCode"], "E0000011");
    // A recovery token is not a state token.
    let (status, _) = post(&app, "/api/v1/authn", &json!({ "stateToken": token })).await;
    assert_eq!(status, 401);

    let (status, transaction) = post(
        &app,
        "/api/v1/authn/recovery/token",
        &json!({ "recoveryToken": token }),
    )
    .await;
    assert_eq!(status, 200, "{transaction}");
    assert_eq!(transaction["status"], "PASSWORD_RESET");
    assert_eq!(transaction["_links"]["next"]["name"], "resetPassword");
    assert_eq!(
        transaction["_embedded"]["user"]["profile"]["login"],
        "rosa@example.com"
    );
    let state_token = transaction["stateToken"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &app,
        "/api/v1/authn/recovery/token",
        &json!({ "recoveryToken": token }),
    )
    .await;
    assert_eq!(status, 401, "a recovery token works once");

    let (status, weak) = post(
        &app,
        "/api/v1/authn/credentials/reset_password",
        &json!({ "stateToken": state_token, "newPassword": "short" }),
    )
    .await;
    assert_eq!(status, 403, "{weak}");
    assert_eq!(weak["errorCode"], "E0000014");
    let (status, done) = post(
        &app,
        "/api/v1/authn/credentials/reset_password",
        &json!({ "stateToken": state_token, "newPassword": "New-password-2" }),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "SUCCESS");
    assert!(done["sessionToken"].as_str().is_some());
    let (status, _) = crate::authn::sign_in(&app, "rosa@example.com", "New-password-2").await;
    assert_eq!(status, 200);
    let (status, _) = crate::authn::sign_in(&app, "rosa@example.com", "Old-password-1").await;
    assert_eq!(status, 401);

    // Okta refuses a reset for a user who has not been activated.
    let staged = create(&app, "staged@example.com", None, false).await;
    let (status, refused, _) = app
        .admin(
            reqwest::Method::POST,
            &format!(
                "/api/v1/users/{}/lifecycle/reset_password?sendEmail=false",
                staged["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 400, "{refused}");
}

#[tokio::test]
async fn the_reset_link_opens_a_page_that_sets_the_new_password_once() {
    let app = TestApp::spawn().await;
    let user = create(&app, "page@example.com", Some("Old-password-1"), true).await;
    let (_, reset, _) = app
        .admin(
            reqwest::Method::POST,
            &format!(
                "/api/v1/users/{}/lifecycle/reset_password?sendEmail=false",
                user["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    let url = reset["resetPasswordUrl"].as_str().unwrap().to_owned();
    recovery_token(&app, &reset);

    let page = app.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Path=/reset_password"), "{cookie}");
    let csrf_cookie = cookie.split(';').next().unwrap().to_owned();
    let html = page.text().await.unwrap();
    let csrf = html
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let submit = |password: &str, csrf: &str, with_cookie: bool| {
        let mut request = app
            .http
            .post(&url)
            .form(&[("password", password), ("csrf", csrf)]);
        if with_cookie {
            request = request.header("cookie", &csrf_cookie);
        }
        request.send()
    };

    assert_eq!(
        submit("New-password-2", &csrf, false)
            .await
            .unwrap()
            .status(),
        403
    );
    let weak = submit("weak", &csrf, true).await.unwrap();
    assert_eq!(weak.status(), 400);
    assert!(weak.text().await.unwrap().contains(r#"id="error""#));
    let done = submit("New-password-2", &csrf, true).await.unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("password-reset"));
    assert_eq!(
        submit("Other-password-3", &csrf, true)
            .await
            .unwrap()
            .status(),
        404
    );

    let (status, _) = crate::authn::sign_in(&app, "page@example.com", "New-password-2").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_new_reset_link_replaces_the_old_and_deactivation_ends_a_reset_under_way() {
    let app = TestApp::spawn().await;
    let user = create(&app, "twice@example.com", Some("Old-password-1"), true).await;
    let id = user["id"].as_str().unwrap().to_owned();
    let reset = |id: String| {
        let app = &app;
        async move {
            let (status, body, _) = app
                .admin(
                    reqwest::Method::POST,
                    &format!("/api/v1/users/{id}/lifecycle/reset_password?sendEmail=false"),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{body}");
            recovery_token(app, &body)
        }
    };
    let first = reset(id.clone()).await;
    let second = reset(id.clone()).await;
    let (status, _) = post(
        &app,
        "/api/v1/authn/recovery/token",
        &json!({ "recoveryToken": first }),
    )
    .await;
    assert_eq!(status, 401, "the first link no longer works");
    let (status, transaction) = post(
        &app,
        "/api/v1/authn/recovery/token",
        &json!({ "recoveryToken": second }),
    )
    .await;
    assert_eq!(status, 200, "{transaction}");

    // An administrator deactivates the user before the new password is sent.
    let (status, _, _) = app
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/users/{id}/lifecycle/deactivate"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &app,
        "/api/v1/authn/credentials/reset_password",
        &json!({ "stateToken": transaction["stateToken"], "newPassword": "New-password-2" }),
    )
    .await;
    assert_eq!(status, 401);
    let (_, fetched, _) = app
        .admin(reqwest::Method::GET, &format!("/api/v1/users/{id}"), None)
        .await;
    assert_eq!(fetched["status"], "DEPROVISIONED");

    let (status, refused, _) = app
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/users/{id}/lifecycle/reset_password?sendEmail=maybe"),
            None,
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["errorCode"], "E0000001");
}

#[tokio::test]
async fn q_finds_users_by_the_start_of_their_login_names_or_email_in_any_case() {
    let app = TestApp::spawn().await;
    for (login, first, last, email) in [
        (
            "elodie@example.com",
            "Élodie",
            "Durand",
            "elodie@example.com",
        ),
        (
            "bob@example.com",
            "Bob",
            "Øster",
            "robert.smith@example.org",
        ),
        ("line@example.com", "Two", "Line\nBreak", "line@example.com"),
    ] {
        let (status, user, _) = app
            .admin(
                reqwest::Method::POST,
                "/api/v1/users?activate=false",
                Some(json!({ "profile": {
                    "login": login, "firstName": first, "lastName": last, "email": email
                } })),
            )
            .await;
        assert_eq!(status, 200, "{user}");
    }
    let found = |q: &'static str| {
        let app = &app;
        async move {
            let (status, users, _) = app
                .admin(
                    reqwest::Method::GET,
                    &format!(
                        "/api/v1/users?q={}",
                        url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
                    ),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{users}");
            let mut logins: Vec<String> = users
                .as_array()
                .unwrap()
                .iter()
                .map(|user| user["profile"]["login"].as_str().unwrap().to_owned())
                .collect();
            logins.sort();
            logins
        }
    };
    // Unicode case-folding, the same on SQLite and PostgreSQL.
    assert_eq!(found("élo").await, ["elodie@example.com"]);
    assert_eq!(found("ÉLODIE").await, ["elodie@example.com"]);
    assert_eq!(found("øs").await, ["bob@example.com"]);
    assert_eq!(found("ØSTER").await, ["bob@example.com"]);
    // First name, last name, email and login, each by its start.
    assert_eq!(found("dur").await, ["elodie@example.com"]);
    assert_eq!(found("robert.").await, ["bob@example.com"]);
    assert_eq!(found("bob@").await, ["bob@example.com"]);
    assert_eq!(found("urand").await, Vec::<String>::new());
    // Neither the profile's attribute names nor LIKE wildcards match.
    assert_eq!(found("firstname").await, Vec::<String>::new());
    assert_eq!(found("_").await, Vec::<String>::new());
    assert_eq!(found("%").await, Vec::<String>::new());
    // A line break in a value or in `q` reads as a space: it neither starts a term nor joins
    // two.
    assert_eq!(found("break").await, Vec::<String>::new());
    assert_eq!(found("élodie\ndurand").await, Vec::<String>::new());
    assert_eq!(found("line break").await, ["line@example.com"]);
    assert_eq!(found("line\nbreak").await, ["line@example.com"]);
}

#[tokio::test]
async fn users_stored_before_search_terms_were_kept_are_found_after_an_upgrade() {
    let first = TestApp::spawn().await;
    create(&first, "kim@example.com", None, false).await;
    first
        .database
        .execute("UPDATE users SET search_terms = NULL")
        .await;
    let second = first.spawn_beside().await;
    let (_, users, _) = second
        .admin(reqwest::Method::GET, "/api/v1/users?q=kim", None)
        .await;
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
}
