//! Sign-in throughput and latency: `cargo bench --bench authn`.
//!
//! Starts the release `authd` binary on a temporary SQLite database with the default argon2id
//! cost, then measures `POST /api/v1/authn` from this process: one sign-in at a time (latency)
//! and many at once (sustained sign-ins per second). Rate limits are raised so that they do not
//! cap the figures. Options: `AUTHD_BENCH_SECONDS` (default 10), `AUTHD_BENCH_CONCURRENCY`
//! (default 16).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark command: failures abort it, figures go to stdout"
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "Bench-password-1";

struct Server {
    child: Child,
    base_url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let seed = dir.path().join("seed.toml");
    std::fs::write(
        &seed,
        format!("[[users]]\nlogin = \"bench@example.com\"\npassword = \"{PASSWORD}\"\n\
             [users.profile]\nfirstName = \"Bench\"\nlastName = \"User\"\nemail = \"bench@example.com\"\n"),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_authd"))
        .current_dir(dir.path())
        .env_clear()
        .env("AUTHD_LISTEN", format!("127.0.0.1:{port}"))
        .env("AUTHD_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("AUTHD_SEED_FILE", &seed)
        .env("AUTHD_AUTHN_RATE_LIMIT_PER_IP", "1000000")
        .env("AUTHD_AUTHN_RATE_LIMIT_PER_USERNAME", "1000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("authd starts");
    Server {
        child,
        base_url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

async fn sign_in(client: &reqwest::Client, base_url: &str) -> Duration {
    let started = Instant::now();
    let response = client
        .post(format!("{base_url}/api/v1/authn"))
        .json(&serde_json::json!({ "username": "bench@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap();
    started.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("AUTHD_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let concurrency: usize = std::env::var("AUTHD_BENCH_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let server = start_server();
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(response) = client
            .get(format!("{}/health/ready", server.base_url))
            .send()
            .await
        {
            if response.status().is_success() {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "authd did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "authd ready in {} (first start: creates keys for org and default)",
        ms(started.elapsed())
    );

    for _ in 0..5 {
        sign_in(&client, &server.base_url).await;
    }
    let mut sequential: Vec<Duration> = Vec::new();
    for _ in 0..100 {
        sequential.push(sign_in(&client, &server.base_url).await);
    }
    sequential.sort();
    println!(
        "one at a time, 100 sign-ins: p50 {}, p90 {}, p99 {}",
        ms(percentile(&sequential, 0.5)),
        ms(percentile(&sequential, 0.9)),
        ms(percentile(&sequential, 0.99))
    );

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let client = client.clone();
            let base_url = server.base_url.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    latencies.push(sign_in(&client, &base_url).await);
                }
                latencies
            })
        })
        .collect();
    let load_started = Instant::now();
    let mut under_load = Vec::new();
    for worker in workers {
        under_load.extend(worker.await.unwrap());
    }
    let elapsed = load_started.elapsed();
    under_load.sort();
    println!(
        "{concurrency} at once for {seconds} s: {} sign-ins, {:.1} sign-ins/s, p50 {}, p99 {}",
        under_load.len(),
        under_load.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&under_load, 0.5)),
        ms(percentile(&under_load, 0.99))
    );
}
