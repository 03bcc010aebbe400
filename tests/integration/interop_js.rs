//! Okta's own JavaScript SDK against authd: `@okta/okta-auth-js` signs in as it does against
//! Okta. Needs Node.js and the packages `scripts/install-test-deps` installs.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use serde_json::Value;

use crate::authn::{spawn, PASSWORD};

static INSTALL: Mutex<bool> = Mutex::new(false);

/// Runs `scripts/install-test-deps` once per test process, failing loudly if it cannot.
pub fn install_test_deps() {
    let mut installed = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if *installed {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(root.join("scripts/install-test-deps"))
        .current_dir(root)
        .status()
        .expect("scripts/install-test-deps runs");
    assert!(
        status.success(),
        "scripts/install-test-deps failed: the browser and JavaScript tests need Chromium, \
         ChromeDriver and Node.js with npm (see README, Tests)"
    );
    *installed = true;
}

pub async fn node(script: &str, args: Vec<String>) -> Value {
    node_with_env(script, args, Vec::new()).await
}

/// [`node`], with these environment variables set.
pub async fn node_with_env(script: &str, args: Vec<String>, env: Vec<(String, String)>) -> Value {
    tokio::task::spawn_blocking(install_test_deps)
        .await
        .unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    let script = script.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .current_dir(&dir)
            .arg(&script)
            .args(&args)
            .envs(env)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|err| panic!("{err}: {stdout}"))
}

#[tokio::test]
async fn okta_auth_js_signs_in_with_credentials() {
    let app = spawn(None).await;
    let result = node(
        "signin.mjs",
        vec![
            app.base_url.clone(),
            "alice@example.com".into(),
            PASSWORD.into(),
        ],
    )
    .await;
    assert_eq!(result["status"], "SUCCESS", "{result}");
    assert_eq!(result["user"]["profile"]["login"], "alice@example.com");
    let token = result["sessionToken"].as_str().unwrap();

    // The token the SDK received is a real one: it buys a session once.
    let response = app
        .post_json(
            "/api/v1/sessions",
            &serde_json::json!({ "sessionToken": token }),
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn okta_auth_js_reports_a_wrong_password_as_oktas_error() {
    let app = spawn(None).await;
    let result = node(
        "signin.mjs",
        vec![
            app.base_url.clone(),
            "alice@example.com".into(),
            "wrong".into(),
        ],
    )
    .await;
    assert_eq!(result["error"], "AuthApiError", "{result}");
    assert_eq!(result["errorCode"], "E0000004");
    assert_eq!(result["errorSummary"], "Authentication failed");
}

#[tokio::test]
async fn openid_client_does_discovery_code_with_pkce_and_refresh() {
    use crate::oauth::{PASSWORD as OAUTH_PASSWORD, REDIRECT, WEB, WEB_SECRET};
    let app = crate::oauth::spawn().await;
    let result = node(
        "oidc.mjs",
        vec![
            app.base_url.clone(),
            WEB.into(),
            WEB_SECRET.into(),
            REDIRECT.into(),
            "alice@example.com".into(),
            OAUTH_PASSWORD.into(),
        ],
    )
    .await;
    assert_eq!(
        result["issuer"],
        format!("{}/oauth2/default", app.base_url).as_str()
    );
    assert!(
        result["sub"].as_str().unwrap().starts_with("00u"),
        "{result}"
    );
    assert_eq!(result["email"], "alice@example.com");
    assert_eq!(result["refreshed"], true);
    assert_eq!(result["rotated"], true);
}

#[tokio::test]
async fn okta_sdk_nodejs_sets_up_a_tenant_gets_tokens_and_tears_it_down() {
    let app = crate::common::TestApp::spawn().await;
    let seen = node(
        "sdk.mjs",
        vec![
            app.base_url.clone(),
            crate::common::TEST_ADMIN_TOKEN.to_owned(),
        ],
    )
    .await;
    assert_eq!(seen["userStatus"], "ACTIVE", "{seen}");
    assert_eq!(seen["userByLogin"], true);
    assert_eq!(
        seen["searched"],
        serde_json::json!(["sdk.user@example.com"])
    );
    assert_eq!(seen["otherStatus"], "STAGED");
    // Both users, one per page: the SDK followed the next link.
    assert_eq!(seen["paged"], 2);
    assert_eq!(seen["nickName"], "sdk");
    assert_eq!(seen["keptLastName"], "User");
    assert_eq!(seen["appUserScope"], "USER");
    assert_eq!(seen["appClass"], "OpenIdConnectApplication");
    assert_eq!(seen["listedApps"], serde_json::json!(["SDK app renamed"]));
    assert_eq!(seen["secretsLeft"], 1);
    assert_eq!(
        seen["rules"],
        serde_json::json!(["Password and client credentials"])
    );
    assert_eq!(seen["passwordGrant"]["scope"], "openid orders:read");
    assert_eq!(seen["passwordGrant"]["expiresIn"], 900);
    assert_eq!(seen["oldSecret"], "invalid_client");
    assert_eq!(seen["deletedUser"]["status"], 404);
    assert_eq!(seen["deletedUser"]["errorCode"], "E0000007");
    assert_eq!(seen["serversLeft"], serde_json::json!(["default"]));
}
