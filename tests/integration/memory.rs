//! The memory of the `authd` process under sign-in load, with the production argon2id cost.

use std::time::Duration;

use serde_json::json;

/// Resident memory of a process, in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn memory_returns_near_idle_after_a_burst_of_sign_ins() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.toml");
    std::fs::write(
        &seed,
        "[[users]]\nlogin = \"alice@example.com\"\npassword = \"Memory-passw0rd-1\"\n\
         [users.profile]\nfirstName = \"Alice\"\nlastName = \"Example\"\nemail = \"alice@example.com\"\n",
    )
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let base_url = format!("http://{address}");
    // The default argon2id cost: 19 MiB per hash.
    let server = tokio::process::Command::new(env!("CARGO_BIN_EXE_authd"))
        .current_dir(dir.path())
        .env_clear()
        .env("AUTHD_LISTEN", address.to_string())
        .env("AUTHD_BASE_URL", &base_url)
        .env("AUTHD_DATABASE_URL", "sqlite::memory:")
        .env("AUTHD_SEED_FILE", &seed)
        .env("AUTHD_AUTHN_RATE_LIMIT_PER_IP", "1000000")
        .env("AUTHD_AUTHN_RATE_LIMIT_PER_USERNAME", "1000000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = server.id().unwrap();
    let http = reqwest::Client::new();
    assert!(
        crate::common::answers_ok_within(
            &format!("{base_url}/health/ready"),
            Duration::from_secs(60)
        )
        .await,
        "authd did not become ready"
    );
    let idle = resident_kib(pid);

    // Far more sign-ins at once than there are cores, in waves, so that the blocking pool
    // runs them on many threads.
    for _ in 0..3 {
        let mut wave = tokio::task::JoinSet::new();
        for _ in 0..48 {
            let http = http.clone();
            let url = format!("{base_url}/api/v1/authn");
            wave.spawn(async move {
                http.post(url)
                    .json(&json!({ "username": "alice@example.com", "password": "Memory-passw0rd-1" }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            });
        }
        while let Some(status) = wave.join_next().await {
            assert_eq!(status.unwrap(), 200);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = resident_kib(pid);

    // At most one hash's memory per core is kept, plus slack for everything else.
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    let bound = (cores + 2) * 19 * 1024;
    assert!(
        after.saturating_sub(idle) <= bound,
        "resident memory grew from {} MiB to {} MiB after 144 sign-ins (bound: {} MiB more)",
        idle / 1024,
        after / 1024,
        bound / 1024
    );
}
