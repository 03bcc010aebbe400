//! The hosted sign-in page over HTTP.

use reqwest::StatusCode;

use crate::authn::{spawn, PASSWORD};
use crate::common::TestApp;

/// The CSRF cookie and hidden field of a freshly loaded form.
pub async fn load_form(app: &TestApp, from_uri: &str) -> (String, String) {
    let response = app
        .http
        .get(format!("{}/login", app.base_url))
        .query(&[("fromURI", from_uri)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    let field = html
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    (cookie, field)
}

/// Submits the form as a browser would; the status and the body.
pub async fn submit_form(app: &TestApp, username: &str, password: &str) -> (u16, String) {
    let (cookie, csrf) = load_form(app, "/health/live").await;
    let response = app
        .http
        .post(format!("{}/login", app.base_url))
        .header("cookie", cookie)
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf", &csrf),
            ("fromURI", "/health/live"),
        ])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_page_cannot_be_framed_and_sets_a_strict_csrf_cookie() {
    let app = spawn(None).await;
    let response = app.get("/login").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(headers["cache-control"], "no-store");
    let csrf = headers["set-cookie"].to_str().unwrap();
    assert!(
        csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"),
        "{csrf}"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"<label for="username">"#));
    assert!(html.contains(r#"<label for="password">"#));
}

#[tokio::test]
async fn signing_in_sets_sid_and_continues_to_from_uri() {
    let app = spawn(None).await;
    let (cookie, csrf) = load_form(&app, "/health/live").await;
    let response = app
        .http
        .post(format!("{}/login", app.base_url))
        .header("cookie", cookie)
        .form(&[
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
            ("fromURI", "/health/live"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        format!("{}/health/live", app.base_url).as_str()
    );
    let sid = response.headers()["set-cookie"].to_str().unwrap();
    assert!(sid.starts_with("sid=") && sid.contains("HttpOnly"), "{sid}");
    let me = app
        .http
        .get(format!("{}/api/v1/sessions/me", app.base_url))
        .header("cookie", sid.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["login"], "alice@example.com", "{me}");
    assert_eq!(me["amr"], serde_json::json!(["pwd"]), "{me}");
}

#[tokio::test]
async fn a_user_whose_password_expired_is_told_so_and_gets_no_session() {
    let app = spawn(None).await;
    let (status, body) = app
        .admin_call(
            reqwest::Method::POST,
            "/api/v1/users/alice@example.com/lifecycle/expire_password",
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, html) = submit_form(&app, "alice@example.com", PASSWORD).await;
    assert_eq!(status, 401);
    assert!(html.contains("Your password has expired"), "{html}");
    assert_eq!(
        app.database
            .texts(
                "SELECT CAST(COUNT(*) AS TEXT) FROM sessions UNION ALL \
                 SELECT CAST(COUNT(*) AS TEXT) FROM authn_transactions"
            )
            .await,
        ["0", "0"]
    );
}

#[tokio::test]
async fn a_wrong_password_shows_an_error_on_the_form() {
    let app = spawn(None).await;
    let (status, html) = submit_form(&app, "alice@example.com", "wrong").await;
    assert_eq!(status, 401);
    assert!(html.contains(r#"role="alert""#));
    assert!(html.contains("Check your username and password"));
    assert!(
        html.contains(r#"value="alice@example.com""#),
        "the username is kept"
    );
}

#[tokio::test]
async fn a_locked_user_sees_the_lockout_message_when_lockouts_are_shown() {
    let app = spawn(Some(Box::new(|settings| {
        settings.lockout_threshold = Some("2".into());
        settings.show_lockout_failures = Some("true".into());
    })))
    .await;
    submit_form(&app, "alice@example.com", "wrong").await;
    let (status, html) = submit_form(&app, "alice@example.com", "wrong").await;
    assert_eq!(status, 401);
    assert!(html.contains("Your account is locked"), "{html}");
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused() {
    let app = spawn(None).await;
    let response = app
        .http
        .post(format!("{}/login", app.base_url))
        .form(&[("username", "alice@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.headers().get("set-cookie").is_none());
    let (cookie, _) = load_form(&app, "").await;
    let mismatched = app
        .http
        .post(format!("{}/login", app.base_url))
        .header("cookie", cookie)
        .form(&[
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("csrf", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(mismatched.status(), 403);
}

#[tokio::test]
async fn from_uri_must_stay_on_this_server() {
    let app = spawn(None).await;
    for offsite in [
        "https://evil.example.net/",
        "//evil.example.net/x",
        "/\\evil.example.net",
    ] {
        let response = app
            .http
            .get(format!("{}/login", app.base_url))
            .query(&[("fromURI", offsite)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{offsite}");
    }
    let absolute_here = format!("{}/health/live", app.base_url);
    let response = app
        .http
        .get(format!("{}/login", app.base_url))
        .query(&[("fromURI", absolute_here.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn from_uri_with_control_characters_cannot_leave_this_server() {
    let app = spawn(None).await;
    for sneaky in [
        "/\t/evil.example.net",
        "/\n/evil.example.net",
        "/\\\t\\evil.example.net",
    ] {
        let response = app
            .http
            .get(format!("{}/login", app.base_url))
            .query(&[("fromURI", sneaky)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{sneaky:?}");
    }
}
