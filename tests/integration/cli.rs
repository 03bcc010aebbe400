//! The `authd` binary as an operator runs it: configuration layers, error messages, and the
//! key commands.

use std::path::Path;
use std::process::{Command, Output};

use authd::model::AuthServerId;

use crate::common::{TestApp, TEST_SECRET};

/// Runs `authd` in `dir` with only the given environment.
fn authd(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_authd"))
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn effective(output: &Output, key: &str) -> String {
    assert!(output.status.success(), "{}", stderr(output));
    stdout(output)
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("{key} not printed"))
        .to_owned()
}

const MEMORY_DB: (&str, &str) = ("AUTHD_DATABASE_URL", "sqlite::memory:");

#[test]
fn flags_beat_environment_beats_file_beats_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    let listen = |args: &[&str], env: &[(&str, &str)]| {
        let mut env = env.to_vec();
        env.push(MEMORY_DB);
        effective(&authd(dir.path(), args, &env), "AUTHD_LISTEN")
    };
    assert_eq!(listen(&["config"], &[]), "127.0.0.1:8080");

    // config/authd.toml is read when present.
    std::fs::write(
        dir.path().join("config/authd.toml"),
        "listen = \"127.0.0.1:1111\"\nargon2_iterations = 3\n",
    )
    .unwrap();
    assert_eq!(listen(&["config"], &[]), "127.0.0.1:1111");
    assert_eq!(
        effective(
            &authd(dir.path(), &["config"], &[MEMORY_DB]),
            "AUTHD_ARGON2_ITERATIONS"
        ),
        "3"
    );

    let env = [("AUTHD_LISTEN", "127.0.0.1:2222")];
    assert_eq!(listen(&["config"], &env), "127.0.0.1:2222");
    assert_eq!(
        listen(&["--listen", "127.0.0.1:3333", "config"], &env),
        "127.0.0.1:3333"
    );

    // --config names another file instead of the default one.
    std::fs::write(
        dir.path().join("other.toml"),
        "listen = \"127.0.0.1:4444\"\n",
    )
    .unwrap();
    assert_eq!(
        listen(&["--config", "other.toml", "config"], &[]),
        "127.0.0.1:4444"
    );
}

#[test]
fn each_bad_value_stops_start_up_with_a_message_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("AUTHD_LISTEN", "localhost", "not an address"),
        (
            "AUTHD_BASE_URL",
            "ftp://example.com",
            "must start with http",
        ),
        ("AUTHD_BASE_URL", "not a url", "is not a URL"),
        (
            "AUTHD_DATABASE_URL",
            "mysql://localhost/authd",
            "neither sqlite",
        ),
        ("AUTHD_SECRET_KEY", "too-short", "32 bytes"),
        ("AUTHD_LOG_FORMAT", "xml", "neither \"human\" nor \"json\""),
        ("AUTHD_KEY_ROTATION_INTERVAL", "soon", "not a duration"),
        ("AUTHD_KEY_ROTATION_INTERVAL", "2h", "must be longer than"),
        ("AUTHD_JWKS_CACHE_LIFETIME", "0s", "longer than zero"),
        ("AUTHD_ACCESS_TOKEN_LIFETIME", "-1h", "not a duration"),
        ("AUTHD_ARGON2_MEMORY_KIB", "lots", "not a whole number"),
        ("AUTHD_ARGON2_ITERATIONS", "0", "not a whole number from 1"),
        ("AUTHD_ADMIN_TOKEN", "short", "at least 20 characters"),
        ("AUTHD_SEED_FILE", "missing.toml", "not a readable file"),
    ];
    for (setting, value, problem) in cases {
        let mut env = vec![(*setting, *value)];
        if *setting != "AUTHD_DATABASE_URL" {
            env.push(MEMORY_DB);
        }
        let output = authd(dir.path(), &["config"], &env);
        let message = stderr(&output);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{setting}={value}: {message}"
        );
        assert!(
            message.contains(setting) && message.contains(problem),
            "{setting}={value}: {message}"
        );
        assert!(!message.contains("panicked"), "{message}");
    }

    let output = authd(
        dir.path(),
        &["config"],
        &[("AUTHD_DATABASE_URL", "postgres://127.0.0.1/authd")],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("AUTHD_SECRET_KEY is required with PostgreSQL"));

    std::fs::write(dir.path().join("bad.toml"), "lisen = \"127.0.0.1:1\"\n").unwrap();
    let output = authd(
        dir.path(),
        &["--config", "bad.toml", "config"],
        &[MEMORY_DB],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("unknown field `lisen`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_config_command_never_prints_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let token = "ssws-token-that-must-stay-secret";
    let output = authd(
        dir.path(),
        &["config"],
        &[
            MEMORY_DB,
            ("AUTHD_SECRET_KEY", TEST_SECRET),
            ("AUTHD_ADMIN_TOKEN", token),
        ],
    );
    let printed = stdout(&output);
    assert!(printed.contains("AUTHD_SECRET_KEY = (set)"), "{printed}");
    assert!(!printed.contains(TEST_SECRET) && !printed.contains(token));
}

#[tokio::test]
async fn the_wrong_secret_stops_start_up_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let url = app.database.url().to_owned();
    let database = app.database.clone();
    app.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = "ab".repeat(32);
    let output = authd(
        dir.path(),
        &["keys", "list"],
        &[("AUTHD_DATABASE_URL", &url), ("AUTHD_SECRET_KEY", &wrong)],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("AUTHD_SECRET_KEY does not open the signing keys"),
        "{}",
        stderr(&output)
    );
    // The right secret still works: nothing was damaged.
    let output = authd(
        dir.path(),
        &["keys", "list", "--as", "default", "--json"],
        &[
            ("AUTHD_DATABASE_URL", &url),
            ("AUTHD_SECRET_KEY", TEST_SECRET),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    drop(database);
}

#[tokio::test]
async fn keys_rotate_from_the_command_line_is_picked_up_by_a_running_server() {
    let app = TestApp::spawn().await;
    let id = AuthServerId::default_server();
    let before = app
        .state
        .engine
        .directory()
        .signer(&id)
        .await
        .unwrap()
        .kid()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let url = app.database.url().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        authd(
            dir.path(),
            &["keys", "rotate", "--as", "default"],
            &[
                ("AUTHD_DATABASE_URL", &url),
                ("AUTHD_SECRET_KEY", TEST_SECRET),
            ],
        )
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("rotated the keys of default"));

    app.state.maintain().await.unwrap();
    let after = app
        .state
        .engine
        .directory()
        .signer(&id)
        .await
        .unwrap()
        .kid()
        .to_string();
    assert_ne!(before, after);
    let jwks = app.get_json("/oauth2/default/v1/keys").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 3);
}

#[test]
fn keys_rotate_names_an_unknown_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/authd.db", dir.path().display());
    let output = authd(
        dir.path(),
        &["keys", "rotate", "--as", "nope"],
        &[("AUTHD_DATABASE_URL", &db)],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("AuthorizationServer not found: nope"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn config_and_healthcheck_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let output = authd(dir.path(), &["config"], &[]);
    assert_eq!(
        effective(&output, "AUTHD_SECRET_KEY"),
        "(to be generated in data/authd.secret at the first start)"
    );
    let output = authd(
        dir.path(),
        &["healthcheck"],
        &[("AUTHD_LISTEN", "127.0.0.1:9")],
    );
    assert!(!output.status.success(), "nothing listens there");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files written: {left:?}");
}

#[test]
fn an_unwritable_data_directory_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the directory should be: not writable as a directory, even for root.
    std::fs::write(dir.path().join("data"), "").unwrap();
    let output = authd(
        dir.path(),
        &["migrate"],
        &[("AUTHD_DATABASE_URL", "sqlite://data/authd.db")],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("AUTHD_DATABASE_URL: the data directory data cannot be written"),
        "{message}"
    );
    assert!(!message.contains("AUTHD_SECRET_KEY"), "{message}");
}

#[test]
fn a_fresh_sqlite_database_keeps_its_generated_secret_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = authd(dir.path(), &["migrate"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(dir.path().join("data/authd.db").exists());
    let secret = dir.path().join("data/authd.secret");
    let first = std::fs::read_to_string(&secret).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
    }
    assert!(stderr(&output).contains("AUTHD_SECRET_KEY is not set"));
    let output = authd(dir.path(), &["keys", "list"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        first,
        "kept, not regenerated"
    );
}

#[tokio::test]
async fn apps_are_created_listed_and_their_secrets_rotated_from_the_command_line() {
    let app = crate::oauth::spawn().await;
    let url = app.database.url().to_owned();
    let run = move |args: Vec<String>| {
        let url = url.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let dir = tempfile::tempdir().unwrap();
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                authd(
                    dir.path(),
                    &args,
                    &[
                        ("AUTHD_DATABASE_URL", &url),
                        ("AUTHD_SECRET_KEY", TEST_SECRET),
                    ],
                )
            })
            .await
            .unwrap()
        }
    };
    let args = |text: &str| text.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let json = |output: &Output| -> serde_json::Value {
        assert!(output.status.success(), "{}", stderr(output));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let token = |id: String, secret: String| {
        let http = app.http.clone();
        let url = format!("{}/oauth2/default/v1/token", app.base_url);
        async move {
            http.post(url)
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials"), ("scope", "api.read")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };

    // What the command line changes, the running server puts in force within a second.
    let settles = |id: String, secret: String, expected: u16| async move {
        let started = std::time::Instant::now();
        loop {
            let status = token(id.clone(), secret.clone()).await;
            if status == expected {
                break;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(1),
                "still {status} a second after the change"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };

    let created = json(&run(args("apps create --label Billing --type service --json")).await);
    let id = created["client_id"].as_str().unwrap().to_owned();
    let first = created["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(token(id.clone(), first.clone()).await, 200);

    let listed = json(&run(args("apps list --json")).await);
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["client_id"] == id.as_str())
        .unwrap();
    assert_eq!(
        entry["grant_types"],
        serde_json::json!(["client_credentials"])
    );
    let table = run(args("apps list")).await;
    assert!(stdout(&table).contains("Billing"), "{}", stdout(&table));

    let rotated = json(&run(args(&format!("apps rotate-secret {id} --json"))).await);
    let second = rotated["client_secret"].as_str().unwrap().to_owned();
    let old_id = rotated["previous"][0].as_str().unwrap().to_owned();
    settles(id.clone(), second.clone(), 200).await;
    assert_eq!(token(id.clone(), first.clone()).await, 200);

    let refused = run(args(&format!("apps rotate-secret {id}"))).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("retire-secret"),
        "{}",
        stderr(&refused)
    );

    let retired = run(args(&format!("apps retire-secret {id} {old_id}"))).await;
    assert!(retired.status.success(), "{}", stderr(&retired));
    settles(id.clone(), first, 401).await;
    assert_eq!(token(id.clone(), second).await, 200);

    let public = json(
        &run(args(
            "apps create --label Spa --type browser --redirect-uri http://localhost:5173/cb --json",
        ))
        .await,
    );
    assert!(public["client_secret"].is_null(), "{public}");

    let static_app = json(
        &run(args(
            "apps create --label Static --type web --redirect-uri http://localhost:5173/cb \
             --grant-type authorization_code --grant-type refresh_token \
             --refresh-rotation STATIC --refresh-leeway 0 --json",
        ))
        .await,
    );
    let (_, shown) = app
        .admin_call(
            reqwest::Method::GET,
            &format!("/api/v1/apps/{}", static_app["client_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        shown["settings"]["oauthClient"]["refresh_token"],
        serde_json::json!({ "rotation_type": "STATIC", "leeway": 0 })
    );
    let refused = run(args(
        "apps create --label Long --type browser --redirect-uri http://localhost:5173/cb \
         --refresh-leeway 61",
    ))
    .await;
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--refresh-leeway: must be from 0 to 60 seconds"),
        "{}",
        stderr(&refused)
    );
    let refused = run(args(
        "apps create --label Spa --type browser --grant-type client_credentials",
    ))
    .await;
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--grant-type: client_credentials needs a confidential client"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn command_line_mistakes_name_the_flag_and_list_the_allowed_values() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/authd.db", dir.path().display());
    let env = [("AUTHD_DATABASE_URL", database.as_str())];
    let blank = authd(
        dir.path(),
        &[
            "users",
            "create",
            "--login",
            "a@example.com",
            "--first-name",
            "",
            "--last-name",
            "B",
        ],
        &env,
    );
    assert!(!blank.status.success());
    assert!(
        stderr(&blank).contains("authd: --first-name: The field cannot be left blank"),
        "{}",
        stderr(&blank)
    );
    let no_email = authd(
        dir.path(),
        &[
            "users",
            "create",
            "--login",
            "not-an-email",
            "--first-name",
            "A",
            "--last-name",
            "B",
        ],
        &env,
    );
    assert!(
        stderr(&no_email).contains("--login (the email when --email is not given): "),
        "{}",
        stderr(&no_email)
    );
    let bad_type = authd(
        dir.path(),
        &["apps", "create", "--label", "X", "--type", "spa"],
        &env,
    );
    assert_eq!(bad_type.status.code(), Some(2));
    assert!(
        stderr(&bad_type).contains("[possible values: web, service, browser, native]"),
        "{}",
        stderr(&bad_type)
    );
    let help = authd(dir.path(), &["apps", "create", "--help"], &env);
    let help = stdout(&help);
    for listed in [
        "[possible values: web, service, browser, native]",
        "[possible values: authorization_code, refresh_token, implicit, password, client_credentials]",
        "[possible values: ROTATE, STATIC]",
    ] {
        assert!(help.contains(listed), "{listed} missing from:\n{help}");
    }
}

#[test]
fn each_command_help_lists_only_the_settings_it_reads_and_flags_still_work_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| stdout(&authd(dir.path(), args, &[]));
    let users = help(&["users", "list", "--help"]);
    assert!(
        users.contains("--database-url [env: AUTHD_DATABASE_URL]"),
        "{users}"
    );
    assert!(
        users.contains("AUTHD_SECRET_KEY (environment only)"),
        "{users}"
    );
    assert!(users.contains("--argon2-memory-kib"), "{users}");
    assert!(!users.contains("metrics-listen"), "{users}");
    assert!(!users.contains("tls-cert"), "{users}");
    let health = help(&["healthcheck", "--help"]);
    assert!(
        health.contains("--tls-cert [env: AUTHD_TLS_CERT]"),
        "{health}"
    );
    assert!(!health.contains("database-url"), "{health}");
    let dev_cert = help(&["dev-cert", "--help"]);
    assert!(dev_cert.contains("Settings: none"), "{dev_cert}");
    assert!(
        !dev_cert.contains("AUTHD_DATABASE_URL") && !dev_cert.contains("AUTHD_LISTEN"),
        "{dev_cert}"
    );
    for every in [help(&["serve", "--help"]), help(&["--help"])] {
        for setting in authd::config::SETTINGS {
            assert!(
                every.contains(setting.env),
                "{} missing from:\n{every}",
                setting.env
            );
        }
    }
    // Hidden from help, the flags still parse before or after the command.
    let database = format!("sqlite://{}/authd.db", dir.path().display());
    for args in [
        vec!["--database-url", database.as_str(), "users", "list"],
        vec!["users", "list", "--database-url", database.as_str()],
    ] {
        let listed = authd(dir.path(), &args, &[]);
        assert!(listed.status.success(), "{args:?}: {}", stderr(&listed));
        assert!(stdout(&listed).starts_with("ID"), "{}", stdout(&listed));
    }
}
