//! authd serving HTTPS as a developer runs it: `AUTHD_TLS_CERT=dev` and nothing else, the CA
//! that `authd dev-cert` prints trusted by the clients, which then need no switch for an
//! insecure issuer: openid-client (Node.js, `NODE_EXTRA_CA_CERTS`) and Okta's
//! okta-jwt-verifier (Python, which refuses an `http://` issuer). The certificate is replaced
//! under a running server, which keeps its open connections.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;

const SEED: &str = include_str!("../../config/seed.example.toml");

fn free_address() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn authd(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_authd"));
    command.current_dir(dir).env_clear();
    command
}

/// A TLS client trusting only `ca`, as a client given the development CA does.
fn tls_trusting(ca: &Path) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// An HTTP/1.1 connection over TLS to `address` and the leaf certificate it was shown.
async fn connect(
    address: std::net::SocketAddr,
    ca: &Path,
) -> (
    hyper::client::conn::http1::SendRequest<axum::body::Body>,
    Vec<u8>,
) {
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tls_trusting(ca).connect(name, tcp).await.unwrap();
    let leaf = tls.get_ref().1.peer_certificates().unwrap()[0].to_vec();
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(connection);
    (sender, leaf)
}

async fn ready_status(
    sender: &mut hyper::client::conn::http1::SendRequest<axum::body::Body>,
) -> u16 {
    sender.ready().await.unwrap();
    let request = axum::http::Request::get("/health/ready")
        .header("host", "localhost")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    axum::body::to_bytes(axum::body::Body::new(response.into_body()), 1 << 20)
        .await
        .unwrap();
    status
}

fn leaf_in(path: &Path) -> Vec<u8> {
    CertificateDer::pem_file_iter(path)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn an_https_issuer_from_one_setting_is_trusted_by_okta_and_openid_clients_and_reloads_its_certificate(
) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("seed.toml"), SEED).unwrap();

    // What a developer runs first, and what it tells them.
    let made = authd(dir.path()).arg("dev-cert").output().unwrap();
    assert!(made.status.success(), "{made:?}");
    let told = String::from_utf8(made.stdout).unwrap();
    let ca: PathBuf = dir.path().join("data/dev-tls/ca.pem");
    let ca_shown = std::path::absolute(&ca).unwrap().display().to_string();
    assert!(
        told.contains(&format!("export NODE_EXTRA_CA_CERTS={ca_shown}")),
        "{told}"
    );
    assert!(told.contains("keytool -importcert"), "{told}");
    assert!(told.contains("AUTHD_TLS_CERT=dev cargo run"), "{told}");

    let address = free_address();
    let issuer = format!("https://localhost:{}", address.port());
    let database = crate::common::TestDatabase::create().await;
    let _server = tokio::process::Command::new(env!("CARGO_BIN_EXE_authd"))
        .current_dir(dir.path())
        .env_clear()
        .env("AUTHD_TLS_CERT", "dev")
        .env("AUTHD_LISTEN", address.to_string())
        .env("AUTHD_DATABASE_URL", database.url())
        .env("AUTHD_SECRET_KEY", "44".repeat(32))
        .env("AUTHD_SEED_FILE", "seed.toml")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let ca_pem = std::fs::read(&ca).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let ready = async {
        loop {
            if let Ok(response) = http.get(format!("{issuer}/health/ready")).send().await {
                if response.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), ready)
        .await
        .expect("authd did not become ready over https");

    let discovery: serde_json::Value = http
        .get(format!(
            "{issuer}/oauth2/default/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], format!("{issuer}/oauth2/default"));
    assert_eq!(
        discovery["token_endpoint"],
        format!("{issuer}/oauth2/default/v1/token")
    );

    // The health check of the container image speaks TLS to its own server.
    let health = authd(dir.path())
        .arg("healthcheck")
        .env("AUTHD_TLS_CERT", "dev")
        .env("AUTHD_LISTEN", address.to_string())
        .output()
        .unwrap();
    assert!(health.status.success(), "{health:?}");

    // Session cookies on an https issuer are Secure and usable from an app on another site.
    let session: serde_json::Value = http
        .post(format!("{issuer}/api/v1/authn"))
        .json(&serde_json::json!({
            "username": "alice@example.com",
            "password": "Correct-horse-battery-9",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let redirect = http
        .get(format!(
            "{issuer}/login/sessionCookieRedirect?token={}&redirectUrl={issuer}/",
            session["sessionToken"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    let cookie = redirect
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|value| value.starts_with("sid="))
        .unwrap_or_else(|| panic!("no sid cookie: {redirect:?}"));
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("SameSite=None"), "{cookie}");

    // openid-client: discovery, code with PKCE, userinfo and refresh, trusting the CA the
    // way Node.js applications are told to, without allowInsecureRequests.
    let node = crate::interop_js::node_with_env(
        "oidc.mjs",
        vec![
            issuer.clone(),
            "0oaexamplewebapp0001".into(),
            "example-web-secret-change-me".into(),
            "http://localhost:3000/callback".into(),
            "alice@example.com".into(),
            "Correct-horse-battery-9".into(),
        ],
        vec![("NODE_EXTRA_CA_CERTS".into(), ca_shown.clone())],
    )
    .await;
    assert_eq!(node["issuer"], format!("{issuer}/oauth2/default"), "{node}");
    assert_eq!(node["email"], "alice@example.com", "{node}");
    assert_eq!(node["refreshed"], true, "{node}");

    // Okta's Python verifier, which takes only an https issuer.
    let token: serde_json::Value = http
        .post(format!("{issuer}/oauth2/api/v1/token"))
        .basic_auth(
            "0oaexampleservice001",
            Some("example-service-secret-change-me"),
        )
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "example.read"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = token["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{token}"));
    let verified = python_verify(
        &format!("{issuer}/oauth2/api"),
        "api://example",
        access_token,
        &ca_shown,
    )
    .await;
    assert_eq!(verified["sync"], "valid", "{verified}");
    assert_eq!(verified["async"], "valid", "{verified}");
    assert_eq!(verified["claims"]["cid"], "0oaexampleservice001");
    // And it does check: the same token for another audience is refused.
    let refused = python_verify(
        &format!("{issuer}/oauth2/api"),
        "api://other",
        access_token,
        &ca_shown,
    )
    .await;
    assert_ne!(refused["sync"], "valid", "{refused}");

    // A new certificate is written under the running server: new connections get it, one
    // opened before keeps working.
    let (mut before, old_leaf) = connect(address, &ca).await;
    assert_eq!(ready_status(&mut before).await, 200);
    let renewed = authd(dir.path())
        .args(["dev-cert", "--renew"])
        .output()
        .unwrap();
    assert!(renewed.status.success(), "{renewed:?}");
    let new_leaf = leaf_in(&dir.path().join("data/dev-tls/localhost.pem"));
    assert_ne!(new_leaf, old_leaf);
    let served_new = async {
        loop {
            let (_, leaf) = connect(address, &ca).await;
            if leaf == new_leaf {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), served_new)
        .await
        .expect("the renewed certificate was not served");
    assert_eq!(
        ready_status(&mut before).await,
        200,
        "a connection made with the old certificate is kept"
    );
}

async fn python_verify(issuer: &str, audience: &str, token: &str, ca: &str) -> serde_json::Value {
    tokio::task::spawn_blocking(crate::interop_js::install_test_deps)
        .await
        .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = tokio::process::Command::new(root.join("tests/py/.venv/bin/python"))
        .arg(root.join("tests/py/verify_access_token.py"))
        .args([issuer, audience, token])
        .env("REQUESTS_CA_BUNDLE", ca)
        .env("SSL_CERT_FILE", ca)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "okta-jwt-verifier failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|err| panic!("{err}: {stdout}"))
}
