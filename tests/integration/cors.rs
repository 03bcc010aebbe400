//! What a page on another origin may call: CORS on the browser endpoints for trusted origins
//! only, Okta's Trusted Origins API, and the endpoints okta-auth-js reaches cross-origin
//! (`/api/v1/users/me`, public clients at `/revoke` and `/introspect`).

use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{Options, TestApp};
use crate::oauth::{
    post_form, session_token, sid_cookie, sign_in_with_session_token, submit_sign_in, REDIRECT,
    SPA, WEB, WEB_SECRET,
};

/// The origin of the seeded apps' redirect URI.
const APP_ORIGIN: &str = "http://localhost:9999";
const UNTRUSTED: &str = "https://evil.example.net";
/// Every header okta-auth-js and the Sign-In Widget send cross-origin.
const SDK_HEADERS: [&str; 5] = [
    "authorization",
    "content-type",
    "dpop",
    "x-device-fingerprint",
    "x-okta-user-agent-extended",
];

async fn preflight(app: &TestApp, method: &str, path: &str, origin: &str) -> reqwest::Response {
    app.http
        .request(Method::OPTIONS, format!("{}{path}", app.base_url))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", SDK_HEADERS.join(","))
        .send()
        .await
        .unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_lowercase())
}

async fn cors_allowed(app: &TestApp, origin: &str) -> bool {
    let response = preflight(app, "GET", "/oauth2/default/v1/keys", origin).await;
    assert!(response.status().is_success());
    header(&response, "access-control-allow-origin").as_deref() == Some(origin)
}

#[tokio::test]
async fn every_browser_endpoint_answers_preflights_for_a_trusted_origin_only() {
    let app = crate::oauth::spawn().await;
    let endpoints = [
        ("GET", "/.well-known/openid-configuration"),
        ("GET", "/.well-known/oauth-authorization-server"),
        ("GET", "/.well-known/okta-organization"),
        ("GET", "/oauth2/default/.well-known/openid-configuration"),
        (
            "GET",
            "/oauth2/default/.well-known/oauth-authorization-server",
        ),
        ("GET", "/oauth2/v1/keys"),
        ("GET", "/oauth2/default/v1/keys"),
        ("POST", "/oauth2/default/v1/token"),
        ("POST", "/oauth2/v1/token"),
        ("POST", "/oauth2/default/v1/introspect"),
        ("POST", "/oauth2/default/v1/revoke"),
        ("GET", "/oauth2/default/v1/userinfo"),
        ("POST", "/oauth2/v1/userinfo"),
        ("GET", "/oauth2/default/v1/logout"),
        ("POST", "/api/v1/authn"),
        ("GET", "/api/v1/sessions/me"),
        ("DELETE", "/api/v1/sessions/me"),
        ("GET", "/api/v1/users/me"),
    ];
    for (method, path) in endpoints {
        let allowed = preflight(&app, method, path, APP_ORIGIN).await;
        assert!(allowed.status().is_success(), "{method} {path}");
        assert_eq!(
            header(&allowed, "access-control-allow-origin").as_deref(),
            Some(APP_ORIGIN),
            "{method} {path}"
        );
        assert_eq!(
            header(&allowed, "access-control-allow-credentials").as_deref(),
            Some("true"),
            "{method} {path}"
        );
        let methods = header(&allowed, "access-control-allow-methods").unwrap();
        assert!(methods.contains(&method.to_lowercase()), "{methods}");
        let headers = header(&allowed, "access-control-allow-headers").unwrap();
        for name in SDK_HEADERS {
            assert!(
                headers.contains(name),
                "{method} {path}: {name} in {headers}"
            );
        }

        let refused = preflight(&app, method, path, UNTRUSTED).await;
        assert_eq!(
            header(&refused, "access-control-allow-origin"),
            None,
            "{method} {path}"
        );
        assert_eq!(header(&refused, "access-control-allow-credentials"), None);
    }
}

#[tokio::test]
async fn cached_documents_echo_only_trusted_origins_and_vary_by_origin() {
    let app = crate::oauth::spawn().await;
    for path in [
        "/oauth2/default/.well-known/openid-configuration",
        "/oauth2/default/v1/keys",
    ] {
        for (origin, echoed) in [(APP_ORIGIN, Some(APP_ORIGIN)), (UNTRUSTED, None)] {
            let response = app
                .http
                .get(format!("{}{path}", app.base_url))
                .header("origin", origin)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(
                header(&response, "access-control-allow-origin").as_deref(),
                echoed,
                "{path} from {origin}"
            );
            let vary = header(&response, "vary").unwrap_or_default();
            assert!(vary.contains("origin"), "{path}: vary {vary}");
            assert!(header(&response, "cache-control")
                .unwrap()
                .starts_with("public"));
        }
    }
}

#[tokio::test]
async fn trusted_origins_are_managed_through_oktas_api_and_take_effect_at_once() {
    let app = crate::oauth::spawn().await;
    let origin = "http://spa.example.test:3000";
    assert!(!cors_allowed(&app, origin).await);

    let (status, created) = app
        .admin_call(
            Method::POST,
            "/api/v1/trustedOrigins",
            Some(json!({
                "name": "SPA",
                "origin": format!("{origin}/"),
                "scopes": [{ "type": "CORS" }]
            })),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("tos") && id.len() == 20, "{id}");
    assert_eq!(created["origin"], format!("{origin}/"));
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["scopes"], json!([{ "type": "CORS" }]));
    assert_eq!(created["createdBy"], created["lastUpdatedBy"]);
    assert!(created["_links"]["deactivate"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/api/v1/trustedOrigins/{id}/lifecycle/deactivate")));
    assert!(cors_allowed(&app, origin).await);

    // CORS only: sign-in may not continue there.
    let token = session_token(&app).await;
    let redirect_to = |token: String| {
        let app = &app;
        async move {
            app.http
                .get(format!("{}/login/sessionCookieRedirect", app.base_url))
                .query(&[
                    ("token", token.as_str()),
                    ("redirectUrl", &format!("{origin}/home")),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(redirect_to(token.clone()).await.status(), 400);

    let (status, replaced) = app
        .admin_call(
            Method::PUT,
            &format!("/api/v1/trustedOrigins/{id}"),
            Some(json!({
                "id": id,
                "name": "SPA renamed",
                "origin": origin,
                "scopes": [{ "type": "CORS" }, { "type": "REDIRECT" }],
                "status": "ACTIVE"
            })),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["name"], "SPA renamed");
    assert_eq!(replaced["created"], created["created"]);
    let followed = redirect_to(token).await;
    assert_eq!(followed.status(), 302);
    assert_eq!(followed.headers()["location"], format!("{origin}/home"));

    // Listing: q on name or origin, filter, paging with Link.
    app.admin_call(
        Method::POST,
        "/api/v1/trustedOrigins",
        Some(json!({
            "name": "Second", "origin": "https://second.example", "scopes": [{ "type": "REDIRECT" }]
        })),
    )
    .await;
    let (_, found) = app
        .admin_call(
            Method::GET,
            "/api/v1/trustedOrigins?q=https%3A%2F%2Fsec",
            None,
        )
        .await;
    assert_eq!(names(&found), ["Second"]);
    let (_, found) = app
        .admin_call(
            Method::GET,
            "/api/v1/trustedOrigins?filter=type%20eq%20%22CORS%22",
            None,
        )
        .await;
    assert_eq!(names(&found), ["SPA renamed"]);
    let (status, first_page, headers) = app
        .admin(Method::GET, "/api/v1/trustedOrigins?limit=1", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(first_page.as_array().unwrap().len(), 1);
    let next = headers
        .get_all("link")
        .iter()
        .map(|link| link.to_str().unwrap())
        .find(|link| link.ends_with("rel=\"next\""))
        .expect("a next link")
        .to_owned();
    let next_url = next.trim_start_matches('<').split('>').next().unwrap();
    let (_, second_page) = app
        .admin_call(
            Method::GET,
            next_url.trim_start_matches(&app.base_url),
            None,
        )
        .await;
    assert_eq!(second_page.as_array().unwrap().len(), 1);
    assert_ne!(second_page[0]["id"], first_page[0]["id"]);

    // Deactivated: trusted for nothing; activated again: trusted again.
    let (status, deactivated) = app
        .admin_call(
            Method::POST,
            &format!("/api/v1/trustedOrigins/{id}/lifecycle/deactivate"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(deactivated["status"], "INACTIVE");
    assert!(deactivated["_links"]["activate"].is_object());
    assert!(!cors_allowed(&app, origin).await);
    let (status, _) = app
        .admin_call(
            Method::POST,
            &format!("/api/v1/trustedOrigins/{id}/lifecycle/activate"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(cors_allowed(&app, origin).await);

    let (status, _) = app
        .admin_call(
            Method::DELETE,
            &format!("/api/v1/trustedOrigins/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert!(!cors_allowed(&app, origin).await);
    let (status, gone) = app
        .admin_call(Method::GET, &format!("/api/v1/trustedOrigins/{id}"), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(gone["errorCode"], "E0000007");

    let (_, logs) = app.admin_call(Method::GET, "/api/v1/logs", None).await;
    let types: Vec<&str> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["eventType"].as_str())
        .filter(|kind| kind.starts_with("trusted_origin."))
        .collect();
    assert!(types.contains(&"trusted_origin.create"), "{types:?}");
    assert!(types.contains(&"trusted_origin.deactivate"), "{types:?}");
    assert!(types.contains(&"trusted_origin.delete"), "{types:?}");
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|origin| origin["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn invalid_trusted_origins_are_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let create = |body: Value| {
        let app = &app;
        async move {
            app.admin_call(Method::POST, "/api/v1/trustedOrigins", Some(body))
                .await
        }
    };
    let (status, _) = create(json!({
        "name": "First", "origin": "https://app.example", "scopes": [{ "type": "CORS" }]
    }))
    .await;
    assert_eq!(status, 200);
    let cases = [
        (
            json!({ "name": "Bad", "origin": "app.example", "scopes": [{ "type": "CORS" }] }),
            "origin: Origin value is not valid",
        ),
        (
            json!({ "name": "Path", "origin": "https://app.example/x", "scopes": [{ "type": "CORS" }] }),
            "origin: Origin value is not valid",
        ),
        (
            json!({ "name": "Again", "origin": "https://APP.example:443/", "scopes": [{ "type": "CORS" }] }),
            "origin: An object with this field already exists in the current organization",
        ),
        (
            json!({ "name": "First", "origin": "https://other.example", "scopes": [{ "type": "CORS" }] }),
            "name: An object with this field already exists in the current organization",
        ),
        (
            json!({ "name": "None", "origin": "https://none.example", "scopes": [] }),
            "scopes: At least one scope (CORS or REDIRECT) is required",
        ),
        (
            json!({ "name": "Frame", "origin": "https://frame.example", "scopes": [{ "type": "IFRAME_EMBED" }] }),
            "scopes: IFRAME_EMBED is not supported: the sign-in page cannot be embedded",
        ),
    ];
    for (body, cause) in cases {
        let (status, error) = create(body.clone()).await;
        assert_eq!(status, 400, "{body} → {error}");
        assert_eq!(error["errorCode"], "E0000001");
        assert_eq!(error["errorCauses"][0]["errorSummary"], cause, "{body}");
    }
    let (status, error) = create(json!({
        "name": "Odd", "origin": "https://odd.example", "scopes": [{ "type": "EVERYTHING" }]
    }))
    .await;
    assert_eq!(status, 400, "{error}");
    let (status, error) = app
        .admin_call(
            Method::GET,
            "/api/v1/trustedOrigins?filter=colour%20eq%20%22red%22",
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error["errorCode"], "E0000001");
}

#[tokio::test]
async fn seeded_trusted_origins_are_trusted_unless_inactive() {
    let seed = r#"
[[trusted_origins]]
name = "Dev server"
origin = "http://localhost:5173"
scopes = ["CORS", "REDIRECT"]

[[trusted_origins]]
name = "Retired"
origin = "https://old.example"
scopes = ["CORS"]
status = "INACTIVE"
"#;
    let app = TestApp::spawn_with(Options {
        seed: Some(seed.to_owned()),
        ..Default::default()
    })
    .await;
    assert!(cors_allowed(&app, "http://localhost:5173").await);
    assert!(!cors_allowed(&app, "https://old.example").await);
    let (_, listed) = app
        .admin_call(Method::GET, "/api/v1/trustedOrigins", None)
        .await;
    let mut listed = names(&listed);
    listed.sort_unstable();
    assert_eq!(listed, ["Dev server", "Retired"]);
}

/// Tokens for the public SPA: a code through a session token, redeemed with PKCE alone.
async fn spa_tokens(app: &TestApp) -> Value {
    let (code, verifier) = crate::oauth::code_for(app, SPA, "openid offline_access").await;
    let (status, tokens) = post_form(
        app,
        "/oauth2/default/v1/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", SPA),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

async fn with_basic(
    app: &TestApp,
    path: &str,
    credentials: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}{path}", app.base_url))
        .header(
            "authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            ),
        )
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_public_client_revokes_and_introspects_with_its_id_alone_in_basic() {
    let app = crate::oauth::spawn().await;
    let tokens = spa_tokens(&app).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    // okta-auth-js's header: base64(client_id), no colon.
    let (status, introspected) = with_basic(
        &app,
        "/oauth2/default/v1/introspect",
        SPA,
        &[("token", access), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(status, 200, "{introspected}");
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["client_id"], SPA);

    let (status, _) = with_basic(
        &app,
        "/oauth2/default/v1/revoke",
        SPA,
        &[("token", refresh), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = with_basic(
        &app,
        "/oauth2/default/v1/revoke",
        &format!("{SPA}:"),
        &[("token", access), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(status, 200);
    for token in [access, refresh] {
        let (_, introspected) = with_basic(
            &app,
            "/oauth2/default/v1/introspect",
            &format!("{SPA}:"),
            &[("token", token)],
        )
        .await;
        assert_eq!(introspected["active"], false);
    }

    // A confidential client still needs its secret.
    for credentials in [WEB.to_owned(), format!("{WEB}:")] {
        let (status, error) = with_basic(
            &app,
            "/oauth2/default/v1/revoke",
            &credentials,
            &[("token", access)],
        )
        .await;
        assert_eq!(status, 401, "{credentials}");
        assert_eq!(error["error"], "invalid_client");
    }
    let (status, _) = with_basic(
        &app,
        "/oauth2/default/v1/introspect",
        &format!("{WEB}:{WEB_SECRET}"),
        &[("token", access)],
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_current_user_is_read_with_the_session_cookie() {
    let app = crate::oauth::spawn().await;
    let sid = sign_in_with_session_token(&app, SPA).await;
    let get = |path: &'static str, cookie: Option<String>| {
        let app = &app;
        async move {
            let mut request = app
                .http
                .get(format!("{}{path}", app.base_url))
                .header("origin", APP_ORIGIN);
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie);
            }
            request.send().await.unwrap()
        }
    };
    let session = get("/api/v1/sessions/me", Some(sid.clone())).await;
    let session: Value = session.json().await.unwrap();
    let user_link = session["_links"]["user"]["href"].as_str().unwrap();
    assert_eq!(user_link, format!("{}/api/v1/users/me", app.base_url));

    let me = get("/api/v1/users/me", Some(sid)).await;
    assert_eq!(me.status(), 200);
    assert_eq!(
        header(&me, "access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["profile"]["login"], "alice@example.com");
    assert_eq!(me["id"], session["userId"]);
    assert_eq!(me["status"], "ACTIVE");

    let anonymous = get("/api/v1/users/me", None).await;
    assert_eq!(anonymous.status(), 403);
    let error: Value = anonymous.json().await.unwrap();
    assert_eq!(error["errorCode"], "E0000005");
    assert_eq!(error["errorSummary"], "Invalid session");
    let stale = get("/api/v1/users/me", Some("sid=not-a-session".to_owned())).await;
    assert_eq!(stale.status(), 403);
}

#[tokio::test]
async fn okta_organization_metadata_names_the_org_and_its_pipeline() {
    let app = TestApp::spawn().await;
    let org = app.get_json("/.well-known/okta-organization").await;
    let id = org["id"].as_str().unwrap();
    assert!(id.starts_with("00o") && id.len() == 20, "{id}");
    assert_eq!(org["pipeline"], "v1");
    assert_eq!(org["_links"]["organization"]["href"], app.base_url);
}

#[tokio::test]
async fn the_sign_in_page_continues_to_an_origin_trusted_for_redirects_only() {
    let seed = format!(
        "{}\n{}",
        crate::oauth::seed(),
        r#"
[[trusted_origins]]
name = "Portal"
origin = "https://portal.example"
scopes = ["REDIRECT"]

[[trusted_origins]]
name = "Widget host"
origin = "https://widget.example"
scopes = ["CORS"]
"#
    );
    let app = TestApp::spawn_with(Options {
        seed: Some(seed),
        ..Default::default()
    })
    .await;
    let refused = app
        .http
        .get(format!("{}/login", app.base_url))
        .query(&[("fromURI", "https://widget.example/home")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);

    let target = "https://portal.example/welcome?tab=1";
    let form = app
        .http
        .get(format!("{}/login", app.base_url))
        .query(&[("fromURI", target)])
        .send()
        .await
        .unwrap();
    let policy = header(&form, "content-security-policy").unwrap();
    assert!(
        policy.contains("form-action 'self' https://portal.example;"),
        "{policy}"
    );
    let signed_in = submit_sign_in(&app, target, None).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], target);
    sid_cookie(&signed_in);
}

#[tokio::test]
async fn a_trusted_origin_added_on_one_replica_is_trusted_by_another_within_a_second() {
    let first = crate::oauth::spawn().await;
    let second = first.spawn_beside().await;
    let origin = "https://replicated.example";
    // The second replica has read (and cached) the trust before the change.
    assert!(!cors_allowed(&second, origin).await);
    let added = std::time::Instant::now();
    let (status, created) = first
        .admin_call(
            Method::POST,
            "/api/v1/trustedOrigins",
            Some(json!({ "name": "Replicated", "origin": origin, "scopes": [{ "type": "CORS" }] })),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert!(
        cors_allowed(&first, origin).await,
        "at once where it was made"
    );
    // Polled, never slept for a fixed time; the deadline only keeps a broken build from hanging.
    while !cors_allowed(&second, origin).await {
        assert!(
            added.elapsed() < std::time::Duration::from_secs(10),
            "the second replica never trusted the origin"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let trusted_after = added.elapsed();

    let id = created["id"].as_str().unwrap();
    first
        .admin_call(
            Method::POST,
            &format!("/api/v1/trustedOrigins/{id}/lifecycle/deactivate"),
            None,
        )
        .await;
    let deactivated = std::time::Instant::now();
    while cors_allowed(&second, origin).await {
        assert!(
            deactivated.elapsed() < std::time::Duration::from_secs(10),
            "the second replica kept trusting a deactivated origin"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    #[expect(
        clippy::print_stdout,
        reason = "the measured bound is printed with --nocapture"
    )]
    {
        println!(
            "trusted origin propagation to a second replica: added {} ms, deactivated {} ms",
            trusted_after.as_millis(),
            deactivated.elapsed().as_millis()
        );
    }
}

#[tokio::test]
async fn a_native_apps_private_use_redirect_uri_does_not_trust_the_null_origin() {
    let seed = format!(
        "{}\n{}",
        crate::oauth::seed(),
        r#"
[[apps]]
client_id = "0oanative00000000001"
label = "Native"
application_type = "native"
redirect_uris = ["com.example.app:/callback"]
grant_types = ["authorization_code"]
"#
    );
    let app = TestApp::spawn_with(Options {
        seed: Some(seed),
        ..Default::default()
    })
    .await;
    // Sandboxed frames and data: pages send `Origin: null`.
    for path in [
        "/api/v1/users/me",
        "/api/v1/sessions/me",
        "/oauth2/default/v1/keys",
    ] {
        let response = preflight(&app, "GET", path, "null").await;
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            None,
            "{path}"
        );
        let response = app
            .http
            .get(format!("{}{path}", app.base_url))
            .header("origin", "null")
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            None,
            "{path}"
        );
    }
    assert!(cors_allowed(&app, APP_ORIGIN).await);
}
