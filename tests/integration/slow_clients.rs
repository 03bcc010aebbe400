//! Clients that are slow or idle on purpose, over raw TCP: half a header, a body that never
//! comes, a connection left open, and a shutdown while they hold on.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::common::{Options, TestApp};

/// A server with short limits for slow clients (each test's `changes` on top).
async fn spawn_with_limits(limits: &'static [(&'static str, &'static str)]) -> TestApp {
    TestApp::spawn_with(Options {
        settings: Some(Box::new(move |settings| {
            for (name, value) in limits {
                let value = Some((*value).to_owned());
                match *name {
                    "header_read" => settings.header_read_timeout = value,
                    "request_body" => settings.request_body_timeout = value,
                    "keep_alive" => settings.keep_alive_timeout = value,
                    other => panic!("no limit {other}"),
                }
            }
        })),
        ..Default::default()
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base_url.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Everything the server sends until it closes the connection, and how long that took; `None`
/// if it is still open after `patience`.
async fn read_until_closed(
    stream: &mut TcpStream,
    patience: Duration,
) -> Option<(String, Duration)> {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + patience).into(), stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => {
                return Some((
                    String::from_utf8_lossy(&received).into_owned(),
                    started.elapsed(),
                ))
            }
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
        }
    }
}

#[tokio::test]
async fn half_a_header_is_cut_off_after_the_header_read_timeout() {
    let app = spawn_with_limits(&[("header_read", "1s")]).await;
    let mut stalled = connect(&app).await;
    stalled
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: authd\r\n")
        .await
        .unwrap();
    let (_, after) = read_until_closed(&mut stalled, Duration::from_secs(10))
        .await
        .expect("a connection with half a header is still open after 10 s");
    assert!(
        after >= Duration::from_millis(900),
        "closed early: {after:?}"
    );

    // Trickling the header a byte at a time does not restart the clock.
    let mut trickling = connect(&app).await;
    let started = Instant::now();
    let mut closed = false;
    for byte in b"GET /health/live HTTP/1.1\r\nHost: authd\r\nX-Padding: "
        .iter()
        .cycle()
    {
        if trickling.write_all(&[*byte]).await.is_err()
            || started.elapsed() > Duration::from_secs(10)
        {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut probe = [0u8; 1];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_millis(1), trickling.read(&mut probe)).await
        {
            closed = true;
            break;
        }
    }
    assert!(
        closed && started.elapsed() < Duration::from_secs(10),
        "the trickle kept its connection"
    );

    // A whole request meanwhile is served.
    let response = app
        .http
        .get(format!("{}/health/live", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout() {
    let app = spawn_with_limits(&[("keep_alive", "1s"), ("header_read", "30s")]).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: authd\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let (_, after) = read_until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("an idle connection is still open after 10 s");
    assert!(after < Duration::from_secs(10));
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_answered_408_in_each_apis_shape() {
    let app = spawn_with_limits(&[("request_body", "1s")]).await;
    for (path, content_type) in [
        ("/api/v1/authn", "application/json"),
        (
            "/oauth2/default/v1/token",
            "application/x-www-form-urlencoded",
        ),
    ] {
        let mut stream = connect(&app).await;
        stream
            .write_all(
                format!(
                    "POST {path} HTTP/1.1\r\nHost: authd\r\nContent-Type: {content_type}\r\n\
                     Accept: application/json\r\nContent-Length: 100\r\n\r\n{{\"user"
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        let (response, _) = read_until_closed(&mut stream, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("{path}: no answer after 10 s"));
        assert!(response.starts_with("HTTP/1.1 408"), "{path}: {response}");
        let body: Value = serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap())
            .unwrap_or_else(|err| panic!("{path}: {err}: {response}"));
        if path.starts_with("/api/") {
            assert!(body["errorCode"].is_string(), "{body}");
        } else {
            assert_eq!(body["error"], "invalid_request", "{body}");
        }
    }
}

#[tokio::test]
async fn sigterm_ends_the_process_within_the_shutdown_timeout_despite_stalled_clients() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_authd"))
        .current_dir(dir.path())
        .env_clear()
        .env("AUTHD_LISTEN", address.to_string())
        .env("AUTHD_BASE_URL", format!("http://{address}"))
        .env("AUTHD_DATABASE_URL", "sqlite::memory:")
        .env("AUTHD_SHUTDOWN_TIMEOUT", "1s")
        // Long enough that only the shutdown deadline can end these connections.
        .env("AUTHD_HEADER_READ_TIMEOUT", "5m")
        .env("AUTHD_REQUEST_BODY_TIMEOUT", "5m")
        .env("AUTHD_KEEP_ALIVE_TIMEOUT", "5m")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    assert!(
        crate::common::answers_ok_within(
            &format!("http://{address}/health/ready"),
            Duration::from_secs(30)
        )
        .await,
        "authd did not become ready"
    );

    let mut half_header = TcpStream::connect(address).await.unwrap();
    half_header
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: authd\r\n")
        .await
        .unwrap();
    let mut half_body = TcpStream::connect(address).await.unwrap();
    half_body
        .write_all(
            b"POST /api/v1/authn HTTP/1.1\r\nHost: authd\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"user",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let pid = server.id().unwrap().to_string();
    let signalled = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = tokio::time::timeout(Duration::from_secs(20), server.wait())
        .await
        .expect("authd was still running 20 s after SIGTERM")
        .unwrap();
    assert!(exited.success(), "{exited:?}");
    let took = signalled.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "exited before the deadline: {took:?}"
    );
    // Both stalled clients see their connection closed.
    for stream in [&mut half_header, &mut half_body] {
        assert!(read_until_closed(stream, Duration::from_secs(5))
            .await
            .is_some());
    }
}
