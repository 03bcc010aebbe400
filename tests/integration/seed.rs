use std::path::Path;
use std::process::Command;

use crate::common::{Options, TestApp, TEST_SECRET};

const SEED: &str = r#"
[[authorization_servers]]
id = "api"
audiences = ["api://example"]

[[apps]]
client_id = "0oaseedtestwebapp001"
client_secret = "a-long-enough-client-secret"
label = "Web"
application_type = "web"
redirect_uris = ["http://localhost:3000/callback"]
grant_types = ["authorization_code", "refresh_token"]
response_types = ["code"]

[[users]]
login = "Alice@Example.com"
password = "correct horse battery staple"
[users.profile]
firstName = "Alice"
lastName = "Example"
"#;

fn seed(dir: &Path, url: &str, file: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_authd"))
        .current_dir(dir)
        .env_clear()
        .env("AUTHD_DATABASE_URL", url)
        .env("AUTHD_SECRET_KEY", TEST_SECRET)
        // The CLI uses production argon2 cost; keep it low here.
        .env("AUTHD_ARGON2_MEMORY_KIB", "64")
        .env("AUTHD_ARGON2_ITERATIONS", "1")
        .args(["seed", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn applying_the_same_seed_twice_changes_nothing() {
    let app = TestApp::spawn_with(Options {
        seed: Some(SEED.into()),
        ..Default::default()
    })
    .await;
    let user = app
        .state
        .engine
        .sign_in()
        .user_by_login("alice@example.com")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seed.toml");
    std::fs::write(&file, SEED).unwrap();
    let url = app.database.url().to_owned();
    let (dir_path, file_path) = (dir.path().to_owned(), file.clone());
    let printed = tokio::task::spawn_blocking(move || seed(&dir_path, &url, &file_path))
        .await
        .unwrap();
    assert_eq!(printed, "seed applied: 0 created, 0 updated, 3 unchanged\n");
    let again = app
        .state
        .engine
        .sign_in()
        .user_by_login("alice@example.com")
        .await
        .unwrap();
    assert_eq!(again, user, "not even the password hash was rewritten");
}

#[tokio::test]
async fn changing_the_seed_updates_the_objects_it_names() {
    let app = TestApp::spawn_with(Options {
        seed: Some(SEED.into()),
        ..Default::default()
    })
    .await;
    let before = app
        .state
        .engine
        .sign_in()
        .user_by_login("alice@example.com")
        .await
        .unwrap();
    let changed = SEED
        .replace("lastName = \"Example\"", "lastName = \"Changed\"")
        .replace("correct horse battery staple", "a new password")
        .replace("api://example", "api://changed");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seed.toml");
    std::fs::write(&file, changed).unwrap();
    let url = app.database.url().to_owned();
    let (dir_path, file_path) = (dir.path().to_owned(), file.clone());
    let printed = tokio::task::spawn_blocking(move || seed(&dir_path, &url, &file_path))
        .await
        .unwrap();
    assert_eq!(printed, "seed applied: 0 created, 2 updated, 1 unchanged\n");
    let after = app
        .state
        .engine
        .sign_in()
        .user_by_login("alice@example.com")
        .await
        .unwrap();
    assert_eq!(after.id, before.id);
    assert_eq!(after.profile["lastName"], "Changed");
    assert_ne!(after.password_hash, before.password_hash);
}

#[tokio::test]
async fn seeded_passwords_are_stored_as_argon2id() {
    let app = TestApp::spawn_with(Options {
        seed: Some(SEED.into()),
        ..Default::default()
    })
    .await;
    let user = app
        .state
        .engine
        .sign_in()
        .user_by_login("ALICE@example.COM")
        .await
        .unwrap();
    assert_eq!(user.login, "Alice@Example.com");
    assert!(user.id.as_str().starts_with("00u") && user.id.as_str().len() == 20);
    let hash = user.password_hash.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains("correct horse"));
}

/// Runs `authd seed` on a fresh in-memory database: its exit code and standard error.
pub async fn run_seed_command(seed: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seed.toml");
    std::fs::write(&file, seed).unwrap();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_authd"))
            .current_dir(dir.path())
            .env_clear()
            .env("AUTHD_DATABASE_URL", "sqlite::memory:")
            .args(["seed", file.to_str().unwrap()])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn an_invalid_seed_file_stops_start_up_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seed.toml");
    std::fs::write(&file, "[[apps]]\nclient_id = \"x\"\nlabel = \"x\"\napplication_type = \"spaceship\"\ngrant_types = []\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_authd"))
        .current_dir(dir.path())
        .env_clear()
        .env("AUTHD_DATABASE_URL", "sqlite::memory:")
        .args(["seed", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("unknown application type: \"spaceship\""),
        "{message}"
    );
}
