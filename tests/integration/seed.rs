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
password = "Correct-horse-battery-9"
[users.profile]
firstName = "Alice"
lastName = "Example"
email = "alice@example.com"
"#;

/// A server started on [`SEED`], and the seeded user it finds by `login`.
async fn seeded(login: &str) -> (TestApp, authd::model::User) {
    let app = TestApp::spawn_with(Options {
        seed: Some(SEED.into()),
        ..Default::default()
    })
    .await;
    let user = app
        .state
        .engine
        .sign_in()
        .user_by_login(login)
        .await
        .unwrap();
    (app, user)
}

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
    let (app, user) = seeded("alice@example.com").await;
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
    let (app, before) = seeded("alice@example.com").await;
    let changed = SEED
        .replace("lastName = \"Example\"", "lastName = \"Changed\"")
        .replace("Correct-horse-battery-9", "A-new-passw0rd")
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
    let (_app, user) = seeded("ALICE@example.COM").await;
    assert_eq!(user.login, "Alice@Example.com");
    assert!(user.id.as_str().starts_with("00u") && user.id.as_str().len() == 20);
    let hash = user.password_hash.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains("Correct-horse"));
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

#[tokio::test]
async fn seeded_users_and_servers_are_checked_by_the_management_api_rules() {
    let user = |profile: &str, password: &str| {
        format!(
            "[[users]]\nlogin = \"bob@example.com\"\npassword = \"{password}\"\n\
             [users.profile]\n{profile}"
        )
    };
    let complete = "firstName = \"Bob\"\nlastName = \"Example\"\nemail = \"bob@example.com\"\n";
    let refused = [
        (
            user("firstName = \"Bob\"\nemail = \"bob@example.com\"\n", "Passw0rd-long"),
            "users.bob@example.com: lastName: The field cannot be left blank",
        ),
        (
            user("firstName = \"Bob\"\nlastName = \"E\"\nemail = \"bob\"\n", "Passw0rd-long"),
            "users.bob@example.com: email: Does not match required pattern",
        ),
        (
            user(complete, "pass"),
            "users.bob@example.com: password: Password requirements were not met. Passwords \
             must have at least 8 characters, an uppercase letter, a number",
        ),
        (
            user(complete, "Bob-Passw0rd"),
            "no parts of your username",
        ),
        (
            user(&format!("{complete}login = \"carol@example.com\"\n"), "Passw0rd-long"),
            "users.bob@example.com: profile.login: must be the same as login",
        ),
        (
            "[[authorization_servers]]\nid = \"api\"\nscopes = [\"okta.users.read\"]\n".to_owned(),
            "authorization_servers.api.scopes.okta.users.read: name: \"okta.users.read\" is reserved",
        ),
        (
            "[[authorization_servers]]\nid = \"api\"\naudiences = [\" \"]\n".to_owned(),
            "authorization_servers.api: audiences: at least one non-empty audience is required",
        ),
        (
            "[[authorization_servers]]\nid = \"api\"\nscopes = [\"a.read\", \"a.read\"]\n"
                .to_owned(),
            "authorization_servers.api.scopes.a.read: name: The scope \"a.read\" already exists",
        ),
        (
            "[[authorization_servers]]\nid = \"api\"\n\
             [[authorization_servers.claims]]\nname = \"team\"\nvalue = \"user.login\"\n\
             [[authorization_servers.claims]]\nname = \"team\"\nvalue = \"user.id\"\n"
                .to_owned(),
            "authorization_servers.api.claims.team: name: A RESOURCE claim named \"team\" already exists",
        ),
        (
            "[[authorization_servers]]\nid = \"api\"\nname = \"\"\n".to_owned(),
            "authorization_servers.api: name: The field cannot be left blank",
        ),
    ];
    for (seed, expected) in refused {
        let (code, message) = run_seed_command(&seed).await;
        assert_eq!(code, Some(1), "{seed}");
        assert!(message.contains(expected), "{seed}\n{message}");
    }
    let (code, message) = run_seed_command(&user(complete, "Passw0rd-long")).await;
    assert_eq!(code, Some(0), "{message}");
}

#[tokio::test]
async fn a_seeded_user_is_a_users_api_user_with_its_login_in_the_profile() {
    let (app, stored) = seeded("alice@example.com").await;
    assert_eq!(stored.profile["login"], "Alice@Example.com");
    let (status, user) = app
        .admin_call(
            reqwest::Method::GET,
            "/api/v1/users/alice@example.com",
            None,
        )
        .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["profile"]["login"], "Alice@Example.com");
    // A partial update keeps the login, as it does for users the API created.
    let (status, user) = app
        .admin_call(
            reqwest::Method::POST,
            &format!("/api/v1/users/{}", stored.id.as_str()),
            Some(serde_json::json!({"profile": {"nickName": "Al"}})),
        )
        .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["profile"]["login"], "Alice@Example.com");
    assert_eq!(user["profile"]["nickName"], "Al");

    // A user seeded by an earlier version has its login only in its login column.
    app.database
        .execute(
            r#"UPDATE users SET profile = '{"firstName":"Alice","lastName":"Example","email":"alice@example.com"}'"#,
        )
        .await;
    let (status, user) = app
        .admin_call(
            reqwest::Method::POST,
            &format!("/api/v1/users/{}", stored.id.as_str()),
            Some(serde_json::json!({"profile": {"nickName": "Ally"}})),
        )
        .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["profile"]["login"], "Alice@Example.com");
    assert_eq!(user["profile"]["nickName"], "Ally");
}
