//! Okta's Sessions API and `/login/sessionCookieRedirect` over HTTP.

use std::time::Duration;

use serde_json::{json, Value};

use crate::authn::{sign_in, spawn, PASSWORD};
use crate::common::{TestApp, TEST_ADMIN_TOKEN};

async fn session_token(app: &TestApp) -> String {
    let (status, body) = sign_in(app, "alice@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    body["sessionToken"].as_str().unwrap().to_owned()
}

fn admin(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request.header("authorization", format!("SSWS {TEST_ADMIN_TOKEN}"))
}

/// Follows `sessionCookieRedirect` and returns the `sid` cookie's value.
pub async fn sid_cookie(app: &TestApp, token: &str, redirect_url: &str) -> String {
    let response = app
        .http
        .get(format!("{}/login/sessionCookieRedirect", app.base_url))
        .query(&[("token", token), ("redirectUrl", redirect_url)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], redirect_url);
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "http base URL: {set_cookie}"
    );
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("sid=")
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn sessions_are_created_read_refreshed_and_closed_by_id() {
    let app = spawn(None).await;
    let token = session_token(&app).await;
    let created: Value = app
        .post_json("/api/v1/sessions", &json!({ "sessionToken": token }))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("102") && id.len() == 20, "{id}");
    assert_eq!(created["login"], "alice@example.com");
    assert!(created["userId"].as_str().unwrap().starts_with("00u"));
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["amr"], json!(["pwd"]));
    assert_eq!(created["idp"]["type"], "OKTA");
    assert_eq!(created["mfaActive"], false);
    for field in ["createdAt", "expiresAt", "lastPasswordVerification"] {
        assert!(created[field].as_str().unwrap().ends_with('Z'), "{field}");
    }
    assert_eq!(
        created["_links"]["refresh"]["href"],
        format!("{}/api/v1/sessions/{id}/lifecycle/refresh", app.base_url).as_str()
    );

    let url = format!("{}/api/v1/sessions/{id}", app.base_url);
    let unauthenticated = app.http.get(&url).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let body: Value = unauthenticated.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000011");
    let wrong_token = app
        .http
        .get(&url)
        .header("authorization", "SSWS not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_token.status(), 401);

    let fetched: Value = admin(app.http.get(&url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["id"], id.as_str());
    assert_eq!(fetched["expiresAt"], created["expiresAt"]);

    app.clock.advance(Duration::from_secs(3600));
    let refreshed: Value = admin(app.http.post(format!("{url}/lifecycle/refresh")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected = authd::model::Timestamp::from_unix(app.state.engine.now().unix() + 2 * 3600);
    assert_eq!(refreshed["expiresAt"], expected.to_okta_string().as_str());

    let closed = admin(app.http.delete(&url)).send().await.unwrap();
    assert_eq!(closed.status(), 204);
    let gone = admin(app.http.get(&url)).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    let body: Value = gone.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000007");
}

#[tokio::test]
async fn the_sid_cookie_drives_the_me_endpoints() {
    let app = spawn(None).await;
    let token = session_token(&app).await;
    let sid = sid_cookie(&app, &token, "http://app.example.com/after").await;
    let me = format!("{}/api/v1/sessions/me", app.base_url);

    let session: Value = app
        .http
        .get(&me)
        .header("cookie", format!("sid={sid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["login"], "alice@example.com");
    assert_eq!(session["_links"]["self"]["href"], me.as_str());
    assert_ne!(
        session["id"],
        sid.as_str(),
        "the cookie is not the public id"
    );

    let refreshed = app
        .http
        .post(format!("{me}/lifecycle/refresh"))
        .header("cookie", format!("sid={sid}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);

    let closed = app
        .http
        .delete(&me)
        .header("cookie", format!("sid={sid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 204);
    assert!(closed.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = app
        .http
        .get(&me)
        .header("cookie", format!("sid={sid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 404);
    let body: Value = after.json().await.unwrap();
    assert_eq!(
        body["errorSummary"],
        "Not found: Resource not found: me (Session)"
    );

    let no_cookie = app.http.get(&me).send().await.unwrap();
    assert_eq!(no_cookie.status(), 404);
}

#[tokio::test]
async fn sessions_end_after_the_idle_lifetime() {
    let app = spawn(None).await;
    let token = session_token(&app).await;
    let sid = sid_cookie(&app, &token, "http://app.example.com/after").await;
    let me = format!("{}/api/v1/sessions/me", app.base_url);
    app.clock.advance(Duration::from_secs(2 * 3600 - 1));
    let alive = app
        .http
        .get(&me)
        .header("cookie", format!("sid={sid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), 200);
    app.clock.advance(Duration::from_secs(1));
    let expired = app
        .http
        .get(&me)
        .header("cookie", format!("sid={sid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 404);
}

#[tokio::test]
async fn session_cookie_redirect_refuses_an_untrusted_redirect_url() {
    let app = spawn(None).await;
    let token = session_token(&app).await;
    for untrusted in [
        "https://evil.example.net/",
        "http://app.example.com.evil.net/callback",
        "javascript:alert(1)",
        "//evil.example.net/",
        "not a url",
    ] {
        let response = app
            .http
            .get(format!("{}/login/sessionCookieRedirect", app.base_url))
            .query(&[("token", token.as_str()), ("redirectUrl", untrusted)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{untrusted}");
        assert!(response.headers().get("location").is_none(), "{untrusted}");
        assert!(
            response.headers().get("set-cookie").is_none(),
            "{untrusted}"
        );
    }
    // The refused requests did not use up the token; this server's own URLs are trusted.
    sid_cookie(&app, &token, &format!("{}/somewhere", app.base_url)).await;
}

#[tokio::test]
async fn session_cookie_redirect_with_a_bad_token_shows_a_page() {
    let app = spawn(None).await;
    let response = app
        .http
        .get(format!("{}/login/sessionCookieRedirect", app.base_url))
        .query(&[
            ("token", "bogus"),
            ("redirectUrl", "http://app.example.com/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().get("location").is_none());
    assert!(response.text().await.unwrap().contains("invalid"));
}

#[tokio::test]
async fn browser_endpoints_answer_cors_preflights_for_registered_origins_only() {
    let app = spawn(None).await;
    let preflight = |origin: &'static str| {
        app.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/v1/authn", app.base_url),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,x-okta-user-agent-extended",
            )
            .send()
    };
    let allowed = preflight("http://app.example.com").await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://app.example.com"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let allowed_headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed_headers.contains("x-okta-user-agent-extended"));

    let refused = preflight("https://evil.example.net").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn a_redirect_url_with_a_newline_is_normalised_not_a_500() {
    let app = spawn(None).await;
    let token = session_token(&app).await;
    let response = app
        .http
        .get(format!("{}/login/sessionCookieRedirect", app.base_url))
        .query(&[
            ("token", token.as_str()),
            ("redirectUrl", "http://app.example.com/\nx"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "http://app.example.com/x");
}
