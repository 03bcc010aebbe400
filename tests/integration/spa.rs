//! Okta's browser SDKs in a real Chromium, from an app page on another origin than authd: the
//! way SPAs (okta-react, okta-angular, okta-vue, all on okta-auth-js) and the Sign-In Widget use
//! Okta. The app's pages are served from a second `127.0.0.1` port; the SDKs are the npm
//! packages in `tests/js`.

use std::path::{Path, PathBuf};

use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use fantoccini::Locator;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::common::{Options, TestApp};

const CLIENT_ID: &str = "0oaspabrowser0000001";
const LOGIN: &str = "alice@example.com";
const PASSWORD: &str = "Correct-horse-9";

/// A static site for the app: its pages, the SDK bundles and the app's scripts.
struct Site {
    origin: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

impl Site {
    async fn serve(listener: tokio::net::TcpListener, config: Value) -> Self {
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let config = config.to_string().replace('<', "\\u003c");
        let router = axum::Router::new().fallback(move |uri: Uri| {
            let config = config.clone();
            async move { site_response(uri.path(), &config).await }
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Site { origin, server }
    }
}

async fn site_response(path: &str, config: &str) -> Response {
    let page = |scripts: &str, extra_head: &str| {
        let html = format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test SPA</title>{extra_head}</head>
<body><div id="widget"></div><pre id="result" data-state="pending"></pre>
<script>window.AUTHD_TEST_CONFIG = {config};</script>{scripts}</body></html>"#
        );
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
    };
    match path {
        "/" | "/callback" => page(
            r#"<script src="/static/okta-auth-js.min.js"></script><script src="/static/app.js"></script>"#,
            "",
        ),
        "/widget" => page(
            r#"<script src="/siw/js/okta-sign-in.classic.min.js"></script><script src="/static/widget.js"></script>"#,
            r#"<link rel="stylesheet" href="/siw/css/okta-sign-in.min.css">"#,
        ),
        "/static/okta-auth-js.min.js" => {
            file(js_dir().join("node_modules/@okta/okta-auth-js/dist/okta-auth-js.min.js")).await
        }
        "/static/app.js" => file(js_dir().join("spa/app.js")).await,
        "/static/widget.js" => file(js_dir().join("spa/widget.js")).await,
        other => match other.strip_prefix("/siw/") {
            Some(rest) if !rest.split('/').any(|segment| segment == "..") => {
                file(
                    js_dir()
                        .join("node_modules/@okta/okta-signin-widget/dist")
                        .join(rest),
                )
                .await
            }
            _ => StatusCode::NOT_FOUND.into_response(),
        },
    }
}

async fn file(path: PathBuf) -> Response {
    let content_type = match path.extension().and_then(|ext| ext.to_str()) {
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// authd with a public SPA registered for the app's origin, the app's site, and a browser.
struct Spa {
    app: TestApp,
    site: Site,
    browser: Browser,
}

impl Spa {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let seed = format!(
            r#"
[[apps]]
client_id = "{CLIENT_ID}"
label = "Browser SPA"
application_type = "browser"
redirect_uris = ["{origin}/callback"]
post_logout_redirect_uris = ["{origin}"]
grant_types = ["authorization_code", "refresh_token"]
response_types = ["code"]

[[users]]
login = "{LOGIN}"
password = "{PASSWORD}"
[users.profile]
firstName = "Alice"
lastName = "Example"
email = "{LOGIN}"
"#
        );
        let app = TestApp::spawn_with(Options {
            seed: Some(seed),
            ..Default::default()
        })
        .await;
        let site = Site::serve(listener, site_config(&app, &origin)).await;
        let browser = Browser::start().await;
        Spa { app, site, browser }
    }

    fn issuer(&self) -> String {
        format!("{}/oauth2/default", self.app.base_url)
    }

    /// Runs `body` (the inside of an async function, with `app` in scope) on the current page;
    /// `{ok: true, value}` or `{ok: false, error: {name, message, …}}`.
    async fn run(&self, body: &str) -> Value {
        let script = format!(
            "const done = arguments[arguments.length - 1];
             const app = window.app;
             (async () => {{ {body} }})().then(
               (value) => done({{ ok: true, value: value === undefined ? null : value }}),
               (error) => done({{ ok: false, error: app.describeError(error) }}));"
        );
        self.browser
            .client
            .execute_async(&script, vec![])
            .await
            .unwrap()
    }

    /// What the page shows in `#result` once it is done.
    async fn result(&self) -> Value {
        let element = self
            .browser
            .client
            .wait()
            .for_element(Locator::Css("#result[data-state='done']"))
            .await
            .unwrap();
        serde_json::from_str(&element.text().await.unwrap()).unwrap()
    }

    /// `signInWithRedirect` → authd's hosted sign-in form, filled as a person would →
    /// `handleLoginRedirect` on the app's callback page. Returns what the callback page shows.
    async fn sign_in_with_redirect(&self) -> Value {
        let client = &self.browser.client;
        client
            .goto(&format!("{}/", self.site.origin))
            .await
            .unwrap();
        client
            .execute(
                "window.app.authClient.signInWithRedirect(); return null;",
                vec![],
            )
            .await
            .unwrap();
        client
            .wait()
            .for_element(Locator::Css("#username"))
            .await
            .unwrap();
        let at = client.current_url().await.unwrap();
        assert_eq!(
            at.origin().ascii_serialization(),
            self.app.base_url,
            "the sign-in form is authd's"
        );
        assert_eq!(at.path(), "/login");
        self.browser.fill_sign_in_form(LOGIN, PASSWORD).await;
        let outcome = self.result().await;
        let at = client.current_url().await.unwrap();
        assert_eq!(
            at.origin().ascii_serialization(),
            self.site.origin,
            "back on the app: {outcome}"
        );
        assert_eq!(outcome["ok"], true, "{outcome}");
        outcome
    }

    /// Introspects a token as the SPA does (public client, `Basic base64(client_id)`).
    async fn active(&self, token: &str) -> bool {
        let response = self
            .app
            .http
            .post(format!("{}/v1/introspect", self.issuer()))
            .header(
                "authorization",
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(CLIENT_ID)
                ),
            )
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["active"].as_bool().unwrap()
    }

    async fn close(self) {
        self.browser.client.clone().close().await.unwrap();
    }
}

fn site_config(app: &TestApp, origin: &str) -> Value {
    json!({
        "issuer": format!("{}/oauth2/default", app.base_url),
        "baseUrl": app.base_url,
        "clientId": CLIENT_ID,
        "redirectUri": format!("{origin}/callback"),
    })
}

fn string(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

#[tokio::test]
async fn okta_auth_js_signs_in_with_redirect_from_another_origin() {
    let spa = Spa::start().await;
    let outcome = spa.sign_in_with_redirect().await;
    assert_eq!(outcome["authenticated"], true, "{outcome}");
    let tokens = &outcome["tokens"];
    // The SDK verified the ID token (RS256 against authd's JWKS, iss, aud) before storing it.
    let id = &tokens["idToken"]["claims"];
    assert_eq!(id["iss"], spa.issuer());
    assert_eq!(id["aud"], CLIENT_ID);
    assert_eq!(id["email"], LOGIN);
    assert!(string(&id["sub"]).starts_with("00u"));
    let access = &tokens["accessToken"]["claims"];
    assert_eq!(access["sub"], LOGIN, "{tokens}");
    assert_eq!(access["cid"], CLIENT_ID);
    assert_eq!(access["uid"], id["sub"]);
    assert!(tokens["refreshToken"].is_string(), "{tokens}");
    assert!(spa.active(string(&tokens["accessToken"]["value"])).await);

    // The callback page's user, through userinfo.
    let user = spa
        .run("const user = await app.authClient.getUser(); return user;")
        .await;
    assert_eq!(user["ok"], true, "{user}");
    assert_eq!(user["value"]["email"], LOGIN, "{user}");
    assert_eq!(user["value"]["sub"], id["sub"]);
    spa.close().await;
}

#[tokio::test]
async fn okta_auth_js_renews_tokens_silently_with_the_session() {
    let spa = Spa::start().await;
    let first = spa.sign_in_with_redirect().await["tokens"].clone();

    // A hidden iframe, prompt=none and okta_post_message, on the session from the sign-in.
    let silent = spa
        .run(
            "const { tokens } = await app.authClient.token.getWithoutPrompt();
             return { access: tokens.accessToken.accessToken, id: tokens.idToken.claims };",
        )
        .await;
    assert_eq!(silent["ok"], true, "{silent}");
    let silent = &silent["value"];
    assert_ne!(silent["access"], first["accessToken"]["value"]);
    assert_eq!(silent["id"]["email"], LOGIN);
    assert_eq!(
        silent["id"]["auth_time"], first["idToken"]["claims"]["auth_time"],
        "the same sign-in"
    );
    assert!(spa.active(string(&silent["access"])).await);

    // The token manager renews with the refresh token, which rotates.
    let renewed = spa
        .run(
            "const token = await app.authClient.tokenManager.renew('accessToken');
             return { access: token.accessToken, tokens: await app.tokens() };",
        )
        .await;
    assert_eq!(renewed["ok"], true, "{renewed}");
    let renewed = &renewed["value"];
    assert_ne!(renewed["access"], first["accessToken"]["value"]);
    assert_eq!(renewed["tokens"]["accessToken"]["value"], renewed["access"]);
    assert_ne!(renewed["tokens"]["refreshToken"], first["refreshToken"]);
    assert!(spa.active(string(&renewed["access"])).await);
    assert!(!spa.active(string(&first["refreshToken"])).await);
    spa.close().await;
}

#[tokio::test]
async fn okta_auth_js_sees_the_session_and_its_user() {
    let spa = Spa::start().await;
    spa.browser
        .client
        .goto(&format!("{}/", spa.site.origin))
        .await
        .unwrap();
    let before = spa
        .run("return await app.authClient.session.exists();")
        .await;
    assert_eq!(before, json!({ "ok": true, "value": false }));

    spa.sign_in_with_redirect().await;
    let session = spa
        .run(
            "const exists = await app.authClient.session.exists();
             const session = await app.authClient.session.get();
             const user = await session.user();
             return { exists, status: session.status, login: session.login,
                      userId: session.userId, user: { id: user.id, login: user.profile.login } };",
        )
        .await;
    assert_eq!(session["ok"], true, "{session}");
    let session = &session["value"];
    assert_eq!(session["exists"], true);
    assert_eq!(session["status"], "ACTIVE");
    assert_eq!(session["login"], LOGIN);
    assert_eq!(session["user"]["login"], LOGIN);
    assert_eq!(session["user"]["id"], session["userId"]);
    spa.close().await;
}

#[tokio::test]
async fn okta_auth_js_signs_out_revoking_tokens_and_ending_the_session() {
    let spa = Spa::start().await;
    let tokens = spa.sign_in_with_redirect().await["tokens"].clone();
    let access = string(&tokens["accessToken"]["value"]).to_owned();
    let refresh = string(&tokens["refreshToken"]).to_owned();
    assert!(spa.active(&access).await && spa.active(&refresh).await);

    let client = &spa.browser.client;
    client
        .execute(
            "window.app.authClient.signOut().catch((error) => {
               document.getElementById('result').textContent = 'signOut failed: ' + error.message;
             });
             return null;",
            vec![],
        )
        .await
        .unwrap();
    // Revocations, then /v1/logout, then back to the registered post-logout URI: the app.
    let home = url::Url::parse(&format!("{}/", spa.site.origin)).unwrap();
    client.wait().for_url(&home).await.unwrap();
    assert!(!spa.active(&access).await, "access token revoked");
    assert!(!spa.active(&refresh).await, "refresh token revoked");
    let after = spa
        .run("return await app.authClient.session.exists();")
        .await;
    assert_eq!(after, json!({ "ok": true, "value": false }), "session gone");
    spa.close().await;
}

#[tokio::test]
async fn the_sign_in_widget_signs_in_on_the_apps_page_and_gets_tokens() {
    let spa = Spa::start().await;
    let client = &spa.browser.client;
    client
        .goto(&format!("{}/widget", spa.site.origin))
        .await
        .unwrap();
    let username = client
        .wait()
        .for_element(Locator::Css("#okta-signin-username"))
        .await
        .unwrap();
    username.send_keys(LOGIN).await.unwrap();
    client
        .find(Locator::Css("#okta-signin-password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Css("#okta-signin-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let outcome = spa.result().await;
    assert_eq!(outcome["ok"], true, "{outcome}");
    assert_eq!(
        client.current_url().await.unwrap().as_str(),
        format!("{}/widget", spa.site.origin),
        "the user never left the app's page"
    );
    let id = &outcome["idToken"]["claims"];
    assert_eq!(id["iss"], spa.issuer());
    assert_eq!(id["aud"], CLIENT_ID);
    assert_eq!(id["email"], LOGIN);
    assert_eq!(outcome["accessToken"]["claims"]["sub"], LOGIN);
    assert!(spa.active(string(&outcome["accessToken"]["value"])).await);
    spa.close().await;
}

#[tokio::test]
async fn from_an_untrusted_origin_okta_auth_js_fails_on_cors() {
    let spa = Spa::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let untrusted_origin = format!("http://{}", listener.local_addr().unwrap());
    let untrusted = Site::serve(listener, site_config(&spa.app, &untrusted_origin)).await;
    let client = &spa.browser.client;
    client
        .goto(&format!("{}/", untrusted.origin))
        .await
        .unwrap();
    // Discovery is the SDK's first request; the browser refuses the answer.
    let refused = spa
        .run("await app.authClient.signInWithRedirect(); return 'navigating';")
        .await;
    assert_eq!(refused["ok"], false, "{refused}");
    assert_eq!(refused["error"]["name"], "AuthApiError");
    assert_eq!(refused["error"]["message"], "Failed to fetch");
    assert_eq!(
        client
            .current_url()
            .await
            .unwrap()
            .origin()
            .ascii_serialization(),
        untrusted.origin
    );

    // The same page on the trusted origin gets through.
    client.goto(&format!("{}/", spa.site.origin)).await.unwrap();
    // Preparing a PKCE request reads discovery to check that S256 is supported.
    let prepared = spa
        .run("const params = await app.authClient.token.prepareTokenParams(); return params.codeChallengeMethod;")
        .await;
    assert_eq!(prepared, json!({ "ok": true, "value": "S256" }));
    spa.close().await;
}
