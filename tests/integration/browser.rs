//! The hosted sign-in page in a real headless Chromium, driven over WebDriver (ChromeDriver).

use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::authn::{spawn, PASSWORD};
use crate::interop_js::install_test_deps;

/// A ChromeDriver process on a free port, killed on drop, and a browser session on it.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Self {
        tokio::task::spawn_blocking(install_test_deps)
            .await
            .unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Its own process group, so that Chromium, its child, goes with it even when a test
        // panics before closing the session.
        let mut driver = Command::new("chromedriver")
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        _profile: profile,
                    }
                }
                Err(err) => {
                    last_error = Some(err);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        let _ = driver.kill();
        panic!("cannot start Chromium through ChromeDriver: {last_error:?}");
    }

    pub async fn sign_in(&self, login_url: &str, username: &str, password: &str) {
        self.client.goto(login_url).await.unwrap();
        self.fill_sign_in_form(username, password).await;
    }

    /// Fills the hosted sign-in form the browser is on and sends it.
    pub async fn fill_sign_in_form(&self, username: &str, password: &str) {
        self.client
            .find(Locator::Css("#username"))
            .await
            .unwrap()
            .send_keys(username)
            .await
            .unwrap();
        self.client
            .find(Locator::Css("#password"))
            .await
            .unwrap()
            .send_keys(password)
            .await
            .unwrap();
        self.client
            .find(Locator::Css("#sign-in"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test]
async fn signing_in_in_a_browser_lands_on_from_uri_with_the_sid_cookie() {
    let app = spawn(None).await;
    let browser = Browser::start().await;
    // fromURI is the current-session endpoint: landing there shows the session the cookie names.
    let login = format!("{}/login?fromURI=%2Fapi%2Fv1%2Fsessions%2Fme", app.base_url);
    browser.sign_in(&login, "alice@example.com", PASSWORD).await;
    browser
        .client
        .wait()
        .for_url(&url::Url::parse(&format!("{}/api/v1/sessions/me", app.base_url)).unwrap())
        .await
        .unwrap();
    let sid = browser.client.get_named_cookie("sid").await.unwrap();
    assert!(sid.http_only().unwrap_or(false));
    assert!(sid.value().len() >= 40);
    let page = browser.client.source().await.unwrap();
    assert!(page.contains("alice@example.com"), "{page}");
    assert!(page.contains("\"status\":\"ACTIVE\""), "{page}");

    // Back on the sign-in page with a session, the browser goes straight on.
    browser.client.goto(&login).await.unwrap();
    assert_eq!(
        browser.client.current_url().await.unwrap().path(),
        "/api/v1/sessions/me"
    );
    browser.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn a_wrong_password_in_a_browser_shows_the_error() {
    let app = spawn(None).await;
    let browser = Browser::start().await;
    let login = format!("{}/login?fromURI=%2Fhealth%2Flive", app.base_url);
    browser
        .sign_in(&login, "alice@example.com", "not-the-password")
        .await;
    let error = browser
        .client
        .wait()
        .for_element(Locator::Css("#error"))
        .await
        .unwrap();
    assert!(error
        .text()
        .await
        .unwrap()
        .contains("Check your username and password"));
    assert_eq!(browser.client.current_url().await.unwrap().path(), "/login");
    assert!(browser.client.get_named_cookie("sid").await.is_err());
    browser.client.clone().close().await.unwrap();
}
