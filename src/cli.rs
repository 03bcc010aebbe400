//! The `authd` command line: `serve` (the default), `migrate`, `keys rotate|list`, `seed`,
//! `config`. Each subcommand is one function.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::builder::TypedValueParser as _;
use clap::{Parser, Subcommand};

use crate::app::{self, App};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, SettingsArgs};
use crate::engine::admin::apps::{AppField, AppSpec};
use crate::model::{
    ApplicationType, AuthServerId, GrantType, KeyState, RefreshTokenSettings, ResponseType,
    RotationType,
};
use crate::seed::Seed;
use crate::store::RotationOutcome;
use crate::telemetry;

/// An OAuth 2.0 / OpenID Connect authorization server that speaks Okta's API.
#[derive(Debug, Parser)]
#[command(name = "authd", version, about)]
pub struct Cli {
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Apply a seed file (idempotent) and exit.
    Seed {
        /// The seed file (TOML); see config/seed.example.toml.
        file: PathBuf,
    },
    /// Print the effective configuration (every setting; secrets withheld) and exit.
    Config {
        /// Print instead a config file with every setting at its default, each explained
        /// (config/authd.example.toml).
        #[arg(long)]
        example: bool,
    },
    /// Manage API tokens (SSWS) for the management API.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage OpenID Connect apps (OAuth clients) and their secrets.
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Exit 0 if the server on AUTHD_LISTEN reports ready (for container health checks).
    Healthcheck,
    /// Make a local development CA and a certificate for localhost, 127.0.0.1 and ::1, and
    /// print where they are and how to trust the CA. The CA is kept; the certificate is made
    /// again when missing, expiring or asked for.
    DevCert {
        /// Where the CA and the certificate are kept (`AUTHD_TLS_CERT=dev` reads the default).
        #[arg(long, value_name = "DIR", default_value = crate::tls::DEV_DIRECTORY)]
        dir: PathBuf,
        /// Make the certificate again even if the current one is still valid.
        #[arg(long)]
        renew: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Create an active user; with --password-stdin the password is read from standard input.
    Create {
        /// Sign-in name.
        #[arg(long)]
        login: String,
        /// Given name.
        #[arg(long)]
        first_name: String,
        /// Family name.
        #[arg(long)]
        last_name: String,
        /// Email [default: the login].
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password, read from the first line of standard input.
    SetPassword {
        /// The user's login or id.
        user: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List users.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Deactivate a user: ends their sessions and revokes their tokens.
    Deactivate {
        /// The user's login or id.
        user: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AppsCommand {
    /// Create an app; a confidential app's secret is printed once.
    Create {
        /// Display name.
        #[arg(long)]
        label: String,
        /// web (confidential, signs users in), service (confidential, no users), browser or
        /// native (public, PKCE).
        #[arg(long = "type", value_name = "TYPE", value_parser = clap::builder::PossibleValuesParser::new(["web", "service", "browser", "native"]).try_map(|value| value.parse::<ApplicationType>()))]
        application_type: ApplicationType,
        /// A redirect URI; repeat for more.
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// A grant type; repeat for more [default: by type: authorization_code and
        /// refresh_token for web, authorization_code for browser and native,
        /// client_credentials for service].
        #[arg(long = "grant-type", value_name = "GRANT", value_parser = clap::builder::PossibleValuesParser::new(["authorization_code", "refresh_token", "implicit", "password", "client_credentials"]).try_map(|value| value.parse::<GrantType>()))]
        grant_types: Vec<GrantType>,
        /// A fixed client id instead of a generated one.
        #[arg(long)]
        client_id: Option<String>,
        /// Refresh token rotation: ROTATE (a new token on every use) or STATIC (Okta's
        /// `rotation_type`).
        #[arg(long, value_name = "TYPE", default_value = "ROTATE", value_parser = clap::builder::PossibleValuesParser::new(["ROTATE", "STATIC"]).try_map(|value| value.parse::<RotationType>()))]
        refresh_rotation: RotationType,
        /// Seconds a rotated refresh token still works, returning the same successor, 0 to 60
        /// (Okta's `leeway`).
        #[arg(long, value_name = "SECONDS", default_value_t = 30)]
        refresh_leeway: u32,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List apps.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Add a new client secret, printed once. The previous one keeps working until it is
    /// retired, so deployments can move to the new one first.
    RotateSecret {
        /// The app's client id.
        app: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Deactivate and delete a client secret that is no longer used.
    RetireSecret {
        /// The app's client id.
        app: String,
        /// The secret's id (`ocs…`), as `rotate-secret` or the API lists it.
        secret_id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokensCommand {
    /// Create a token; it is printed once and stored only as a hash.
    Create {
        /// What to call it.
        #[arg(long)]
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List tokens (never the tokens themselves).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id.
    Revoke {
        /// The token's id (`00T…`).
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Rotate now: the NEXT key signs at once, a new NEXT key is published.
    Rotate {
        /// The authorization server: `default`, another id, or `org`.
        #[arg(long = "as", value_name = "ID")]
        auth_server: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List signing keys and their states.
    List {
        /// Only this authorization server.
        #[arg(long = "as", value_name = "ID")]
        auth_server: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Parses the command line and runs it; the process's exit code.
pub fn run() -> ExitCode {
    let matches = command().get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    let reports_only = matches!(
        cli.command,
        Some(Command::Config { .. } | Command::Healthcheck | Command::DevCert { .. })
    );
    let resolve = if reports_only {
        Config::resolve_without_writing
    } else {
        Config::resolve
    };
    let config = match resolve(
        cli.settings,
        std::env::var("AUTHD_SECRET_KEY").ok(),
        std::env::var("AUTHD_ADMIN_TOKEN").ok(),
    ) {
        Ok(config) => config,
        Err(err) => {
            print_error(&format!("configuration error: {err}"));
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            print_error(&format!("cannot start the async runtime: {err}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command.unwrap_or(Command::Serve), config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            print_error(&causes(&err));
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::Keys(KeysCommand::Rotate { auth_server, json }) => {
            rotate_keys(config, &auth_server, json).await
        }
        Command::Keys(KeysCommand::List { auth_server, json }) => {
            list_keys(config, auth_server.as_deref(), json).await
        }
        Command::Seed { file } => seed(config, file).await,
        Command::Config { example } => {
            print_out(&if example {
                crate::config::example_toml()
            } else {
                config.describe()
            });
            Ok(())
        }
        Command::Healthcheck => healthcheck(config).await,
        Command::DevCert { dir, renew } => dev_cert(&dir, renew),
        Command::Tokens(command) => tokens(config, command).await,
        Command::Users(command) => users(config, command).await,
        Command::Apps(command) => apps(config, command).await,
    }
}

fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let app = App::open(config, clock()).await?;
    app.prepare().await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("AUTHD_LISTEN: cannot listen on {listen}"))?;
    app::serve(app.into_state(), listener, app::shutdown_signal()).await
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let app = App::open(config, clock()).await?;
    app.close().await;
    print_out("migrations applied\n");
    Ok(())
}

async fn seed(config: Config, file: PathBuf) -> anyhow::Result<()> {
    let seed = Seed::read(&file)?;
    let app = App::open(config, clock()).await?;
    app.engine.provisioning().ensure_builtin_servers().await?;
    let report = seed.apply(&app.engine, &file).await?;
    app.maintain().await?;
    app.close().await;
    print_out(&format!(
        "seed applied: {} created, {} updated, {} unchanged\n",
        report.created, report.updated, report.unchanged
    ));
    Ok(())
}

async fn rotate_keys(config: Config, auth_server: &str, json: bool) -> anyhow::Result<()> {
    let id = AuthServerId::parse(auth_server).context("--as")?;
    let app = App::open(config, clock()).await?;
    app.engine.provisioning().ensure_builtin_servers().await?;
    let server = app.engine.directory().auth_server(&id).await?;
    let outcome = app.engine.rotate_keys(&server).await?;
    let signer = app.engine.directory().signer(&id).await?;
    app.close().await;
    if json {
        print_out(&format!(
            "{}\n",
            serde_json::json!({
                "authorizationServer": id,
                "signingKid": signer.kid(),
                "rotatedHere": outcome == RotationOutcome::Applied,
            })
        ));
        return Ok(());
    }
    match outcome {
        RotationOutcome::Applied => print_out(&format!(
            "rotated the keys of {id}: {} now signs; running servers sign with it within a second\n",
            signer.kid()
        )),
        RotationOutcome::Superseded => print_out(&format!(
            "the keys of {id} were rotated concurrently by another process; {} now signs\n",
            signer.kid()
        )),
    }
    Ok(())
}

async fn list_keys(config: Config, auth_server: Option<&str>, json: bool) -> anyhow::Result<()> {
    let app = App::open(config, clock()).await?;
    let servers = app.engine.auth_servers().await?;
    let wanted = auth_server
        .map(AuthServerId::parse)
        .transpose()
        .context("--as")?;
    if let Some(id) = &wanted {
        if !servers.iter().any(|server| &server.id == id) {
            anyhow::bail!("--as: no authorization server {id}");
        }
    }
    let mut rows = Vec::new();
    for server in servers
        .iter()
        .filter(|server| wanted.as_ref().is_none_or(|id| &server.id == id))
    {
        for key in app.engine.keys().stored_keys(&server.id).await? {
            rows.push(key);
        }
    }
    app.close().await;
    let time = |t: Option<crate::model::Timestamp>| t.map(|t| t.unix());
    if json {
        let listed: Vec<_> = rows
            .iter()
            .map(|key| {
                serde_json::json!({
                    "authorizationServer": key.auth_server_id,
                    "kid": key.kid,
                    "alg": key.alg,
                    "status": key.state.as_str(),
                    "created": key.created_at.unix(),
                    "activated": time(key.activated_at),
                    "retired": time(key.retired_at),
                    "removeAfter": time(key.remove_after),
                })
            })
            .collect();
        print_out(&format!("{}\n", serde_json::Value::from(listed)));
    } else {
        let rows = rows.iter().map(|key| {
            let state = match key.state {
                KeyState::Active => "ACTIVE",
                KeyState::Next => "NEXT",
                KeyState::Retired => "RETIRED",
            };
            vec![
                key.auth_server_id.to_string(),
                state.to_owned(),
                key.alg.to_string(),
                key.kid.to_string(),
            ]
        });
        print_out(&table(&["SERVER", "STATE", "ALG", "KID"], rows));
    }
    Ok(())
}

fn read_password() -> anyhow::Result<secrecy::SecretString> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        anyhow::bail!("no password on standard input");
    }
    Ok(password.into())
}

async fn users(config: Config, command: UsersCommand) -> anyhow::Result<()> {
    let app = App::open(config, clock()).await?;
    let result = async {
        match command {
            UsersCommand::Create {
                login,
                first_name,
                last_name,
                email,
                password_stdin,
                json,
            } => {
                let password = if password_stdin {
                    Some(read_password()?)
                } else {
                    None
                };
                let email_given = email.is_some();
                let mut profile = serde_json::Map::new();
                profile.insert(
                    "email".into(),
                    email.unwrap_or_else(|| login.clone()).into(),
                );
                profile.insert("login".into(), login.into());
                profile.insert("firstName".into(), first_name.into());
                profile.insert("lastName".into(), last_name.into());
                let user = app
                    .engine
                    .admin()
                    .create_user(profile, password, true)
                    .await
                    .map_err(|err| {
                        named_by_flags(
                            err,
                            &[
                                ("login", "--login"),
                                ("firstName", "--first-name"),
                                ("lastName", "--last-name"),
                                (
                                    "email",
                                    if email_given {
                                        "--email"
                                    } else {
                                        "--login (the email when --email is not given)"
                                    },
                                ),
                                ("password", "the password on standard input"),
                            ],
                        )
                    })?;
                if json {
                    print_out(&format!("{}\n", user_json(&user)));
                } else {
                    print_out(&format!(
                        "created user {} ({}, {})\n",
                        user.login, user.id, user.status
                    ));
                }
            }
            UsersCommand::SetPassword { user, json } => {
                let password = read_password()?;
                let user = app
                    .engine
                    .admin()
                    .set_user_password(&user, password)
                    .await?;
                if json {
                    print_out(&format!("{}\n", user_json(&user)));
                } else {
                    print_out(&format!("set the password of {}\n", user.login));
                }
            }
            UsersCommand::List { json } => {
                let users = app
                    .engine
                    .admin()
                    .list_users(&crate::model::UserQuery {
                        limit: u32::MAX,
                        ..Default::default()
                    })
                    .await?;
                if json {
                    let listed: Vec<_> = users.iter().map(user_json).collect();
                    print_out(&format!("{}\n", serde_json::Value::from(listed)));
                } else {
                    let rows = users.iter().map(|user| {
                        vec![
                            user.id.to_string(),
                            user.status.to_string(),
                            user.login.clone(),
                        ]
                    });
                    print_out(&table(&["ID", "STATUS", "LOGIN"], rows));
                }
            }
            UsersCommand::Deactivate { user, json } => {
                let user = app
                    .engine
                    .admin()
                    .user_lifecycle(&user, crate::engine::admin::users::Lifecycle::Deactivate)
                    .await?;
                if json {
                    print_out(&format!("{}\n", user_json(&user)));
                } else {
                    print_out(&format!("deactivated {}\n", user.login));
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    app.close().await;
    result
}

async fn apps(config: Config, command: AppsCommand) -> anyhow::Result<()> {
    let app = App::open(config, clock()).await?;
    let result = async {
        match command {
            AppsCommand::Create {
                label,
                application_type,
                redirect_uris,
                grant_types,
                client_id,
                refresh_rotation,
                refresh_leeway,
                json,
            } => {
                let refresh_token = RefreshTokenSettings {
                    rotation_type: refresh_rotation,
                    leeway_seconds: refresh_leeway,
                };
                let grant_types = if grant_types.is_empty() {
                    match application_type {
                        ApplicationType::Web => {
                            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
                        }
                        ApplicationType::Browser | ApplicationType::Native => {
                            vec![GrantType::AuthorizationCode]
                        }
                        ApplicationType::Service => vec![GrantType::ClientCredentials],
                    }
                } else {
                    grant_types
                };
                let mut response_types = Vec::new();
                if grant_types.contains(&GrantType::AuthorizationCode) {
                    response_types.push(ResponseType::Code);
                }
                if grant_types.contains(&GrantType::Implicit) {
                    response_types.extend([ResponseType::Token, ResponseType::IdToken]);
                }
                let token_endpoint_auth_method = application_type.default_auth_method();
                let spec = AppSpec {
                    client_id,
                    client_secret: None,
                    label,
                    application_type,
                    redirect_uris,
                    post_logout_redirect_uris: vec![],
                    grant_types,
                    response_types,
                    token_endpoint_auth_method,
                    jwks: None,
                    refresh_token: Some(refresh_token),
                    groups_claim: None,
                };
                if let Some((field, problem)) = spec.problems().into_iter().next() {
                    let flag = match field {
                        AppField::Label => "--label",
                        AppField::RedirectUris => "--redirect-uri",
                        AppField::GrantTypes => "--grant-type",
                        AppField::RefreshTokenLeeway => "--refresh-leeway",
                        // Not set from the command line.
                        AppField::PostLogoutRedirectUris
                        | AppField::Jwks
                        | AppField::ClientSecret
                        | AppField::GroupsClaim => field.in_api(),
                    };
                    anyhow::bail!("{flag}: {problem}");
                }
                let (client, secret) = app.engine.admin().create_app(spec).await?;
                if json {
                    print_out(&format!(
                        "{}\n",
                        serde_json::json!({
                            "client_id": client.id,
                            "client_secret": secret.as_ref().map(|secret| secret.expose()),
                            "label": client.label,
                            "status": client.status,
                        })
                    ));
                } else {
                    let mut text = format!("created app {} ({})\n", client.label, client.id);
                    if let Some(secret) = &secret {
                        text.push_str(&format!(
                            "client secret, shown only now:\n{}\n",
                            secret.expose()
                        ));
                    }
                    print_out(&text);
                }
            }
            AppsCommand::List { json } => {
                let clients = app.engine.admin().apps().await?;
                if json {
                    let listed: Vec<_> = clients
                        .iter()
                        .map(|client| {
                            serde_json::json!({
                                "client_id": client.id,
                                "label": client.label,
                                "application_type": client.application_type,
                                "status": client.status,
                                "grant_types": client.grant_types,
                            })
                        })
                        .collect();
                    print_out(&format!("{}\n", serde_json::Value::from(listed)));
                } else {
                    let rows = clients.iter().map(|client| {
                        vec![
                            client.id.to_string(),
                            client.status.to_string(),
                            client.application_type.to_string(),
                            client.label.clone(),
                        ]
                    });
                    print_out(&table(&["CLIENT ID", "STATUS", "TYPE", "LABEL"], rows));
                }
            }
            AppsCommand::RotateSecret { app: id, json } => {
                let previous = app.engine.admin().client_secrets(&id).await?;
                let (secret, plain) = app
                    .engine
                    .admin()
                    .add_client_secret(&id, None, crate::model::Status::Active)
                    .await
                    .map_err(|err| match err {
                        crate::engine::Error::Validation(_) if previous.len() >= 2 => anyhow::anyhow!(
                            "{id} already holds two secrets: retire one first with \
                             `authd apps retire-secret {id} <secret-id>` ({})",
                            previous
                                .iter()
                                .map(|secret| secret.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        other => other.into(),
                    })?;
                if json {
                    print_out(&format!(
                        "{}\n",
                        serde_json::json!({
                            "id": secret.id,
                            "client_secret": plain.expose(),
                            "previous": previous.iter().map(|secret| &secret.id).collect::<Vec<_>>(),
                        })
                    ));
                } else {
                    let mut text = format!(
                        "added client secret {} to {id}; shown only now:\n{}\n",
                        secret.id,
                        plain.expose()
                    );
                    for old in previous
                        .iter()
                        .filter(|old| old.status == crate::model::Status::Active)
                    {
                        text.push_str(&format!(
                            "the previous secret {} still works until `authd apps retire-secret {id} {}`\n",
                            old.id, old.id
                        ));
                    }
                    print_out(&text);
                }
            }
            AppsCommand::RetireSecret {
                app: id,
                secret_id,
                json,
            } => {
                app.engine
                    .admin()
                    .set_client_secret_status(&id, &secret_id, crate::model::Status::Inactive)
                    .await?;
                app.engine.admin().delete_client_secret(&id, &secret_id).await?;
                if json {
                    print_out(&format!(
                        "{}\n",
                        serde_json::json!({ "id": secret_id, "status": "DELETED" })
                    ));
                } else {
                    print_out(&format!("retired client secret {secret_id} of {id}\n"));
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    app.close().await;
    result
}

fn user_json(user: &crate::model::User) -> serde_json::Value {
    serde_json::json!({ "id": user.id, "login": user.login, "status": user.status })
}

async fn tokens(config: Config, command: TokensCommand) -> anyhow::Result<()> {
    let app = App::open(config, clock()).await?;
    let result = async {
        match command {
            TokensCommand::Create { name, json } => {
                let (record, token) = app.engine.admin().create_api_token(&name).await?;
                if json {
                    print_out(&format!(
                        "{}\n",
                        serde_json::json!({
                            "id": record.id,
                            "name": record.name,
                            "token": token.expose(),
                        })
                    ));
                } else {
                    print_out(&format!(
                        "created API token {} ({}); use it as `Authorization: SSWS <token>`. \
                         It is shown only now:\n{}\n",
                        record.id,
                        record.name,
                        token.expose()
                    ));
                }
            }
            TokensCommand::List { json } => {
                let tokens = app.engine.admin().api_tokens().await?;
                if json {
                    let listed: Vec<_> = tokens
                        .iter()
                        .map(|token| {
                            serde_json::json!({
                                "id": token.id,
                                "name": token.name,
                                "created": token.created_at.unix(),
                                "lastUsed": token.last_used_at.map(|t| t.unix()),
                            })
                        })
                        .collect();
                    print_out(&format!("{}\n", serde_json::Value::from(listed)));
                } else {
                    let rows = tokens.iter().map(|token| {
                        vec![
                            token.id.clone(),
                            token.created_at.to_okta_string(),
                            token.name.clone(),
                        ]
                    });
                    print_out(&table(&["ID", "CREATED", "NAME"], rows));
                }
            }
            TokensCommand::Revoke { id, json } => {
                app.engine.admin().revoke_api_token(&id).await?;
                if json {
                    print_out(&format!(
                        "{}\n",
                        serde_json::json!({ "id": id, "status": "REVOKED" })
                    ));
                } else {
                    print_out(&format!("revoked API token {id}\n"));
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    app.close().await;
    result
}

fn dev_cert(directory: &std::path::Path, renew: bool) -> anyhow::Result<()> {
    let dev = crate::tls::DevCertificate::ensure(directory, renew)?;
    let absolute = |path: &std::path::Path| {
        std::path::absolute(path)
            .unwrap_or_else(|_| path.to_owned())
            .display()
            .to_string()
    };
    let ca = absolute(&dev.ca);
    let cert = absolute(&dev.files.cert);
    let key = absolute(&dev.files.key);
    let ca_state = if dev.new_ca {
        "made now: trust it once, as below"
    } else {
        "kept from before"
    };
    let serve = if directory == std::path::Path::new(crate::tls::DEV_DIRECTORY) {
        "  AUTHD_TLS_CERT=dev cargo run\n".to_owned()
    } else {
        format!("  AUTHD_TLS_CERT={cert} AUTHD_TLS_KEY={key} cargo run\n")
    };
    print_out(&format!(
        "Development CA:  {ca} ({ca_state})\n\
         Certificate:     {cert} (localhost, 127.0.0.1, ::1; the CA follows it in the file)\n\
         Key:             {key}\n\
         \n\
         Serve HTTPS with it (the issuer becomes https://localhost:8080):\n\
         {serve}\
         \n\
         Trust the CA where your app runs:\n\
         \x20 Debian, Ubuntu  sudo cp {ca} /usr/local/share/ca-certificates/authd-dev-ca.crt && sudo update-ca-certificates\n\
         \x20 Fedora, RHEL    sudo cp {ca} /etc/pki/ca-trust/source/anchors/authd-dev-ca.pem && sudo update-ca-trust\n\
         \x20 macOS           sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {ca}\n\
         \x20 Windows         certutil -user -addstore Root {ca}\n\
         \x20 Node.js         export NODE_EXTRA_CA_CERTS={ca}\n\
         \x20 Python          export REQUESTS_CA_BUNDLE={ca} SSL_CERT_FILE={ca}  (these replace the default roots)\n\
         \x20 Java            keytool -importcert -noprompt -cacerts -storepass changeit -alias authd-dev-ca -file {ca}\n\
         \x20 .NET            the system store: on Linux as for Debian or Fedora above, on Windows as above\n"
    ));
    Ok(())
}

/// A plain HTTP/1.0 request to `/health/ready`, so the container image needs no HTTP client.
/// Over HTTPS it trusts exactly the certificate the server is configured with.
async fn healthcheck(config: Config) -> anyhow::Result<()> {
    use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

    async fn ask<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> std::io::Result<Vec<u8>> {
        stream
            .write_all(b"GET /health/ready HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok(response)
    }

    let mut address = config.listen;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let cert = match &config.tls {
        None => None,
        Some(crate::config::TlsCertificate::Files(files)) => Some(files.cert.clone()),
        Some(crate::config::TlsCertificate::Development) => Some(
            crate::tls::DevCertificate::paths(std::path::Path::new(crate::tls::DEV_DIRECTORY))
                .files
                .cert,
        ),
    };
    let connector = cert
        .map(|cert| {
            crate::tls::client_pinned_to(&cert)
                .map(|client| tokio_rustls::TlsConnector::from(Arc::new(client)))
        })
        .transpose()?;
    let check = async {
        let stream = tokio::net::TcpStream::connect(address).await?;
        let response = match connector {
            None => ask(stream).await?,
            Some(connector) => {
                let name = rustls::pki_types::ServerName::try_from("localhost")?;
                ask(connector.connect(name, stream).await?).await?
            }
        };
        anyhow::Ok(response)
    };
    let response = tokio::time::timeout(std::time::Duration::from_secs(5), check)
        .await
        .context("no answer within 5 seconds")?
        .with_context(|| format!("cannot reach {address}"))?;
    let status_line = String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    if status_line.split_whitespace().nth(1) == Some("200") {
        print_out("ready\n");
        Ok(())
    } else {
        anyhow::bail!("not ready: {status_line}")
    }
}

/// The settings each command reads, by environment variable, listed in its help; `serve` and
/// `config` read every one, `dev-cert` none.
const COMMAND_SETTINGS: &[(&str, &[&str])] = &[
    (
        "migrate",
        &[
            "AUTHD_DATABASE_URL",
            "AUTHD_DATABASE_TIMEOUT",
            "AUTHD_SECRET_KEY",
        ],
    ),
    (
        "keys",
        &[
            "AUTHD_DATABASE_URL",
            "AUTHD_DATABASE_TIMEOUT",
            "AUTHD_SECRET_KEY",
            "AUTHD_KEY_ROTATION_INTERVAL",
            "AUTHD_JWKS_CACHE_LIFETIME",
            "AUTHD_KEY_CHECK_INTERVAL",
            "AUTHD_ACCESS_TOKEN_LIFETIME",
            "AUTHD_ID_TOKEN_LIFETIME",
        ],
    ),
    (
        "seed",
        &[
            "AUTHD_DATABASE_URL",
            "AUTHD_DATABASE_TIMEOUT",
            "AUTHD_SECRET_KEY",
            "AUTHD_BASE_URL",
            "AUTHD_ARGON2_MEMORY_KIB",
            "AUTHD_ARGON2_ITERATIONS",
            "AUTHD_ARGON2_PARALLELISM",
        ],
    ),
    (
        "tokens",
        &[
            "AUTHD_DATABASE_URL",
            "AUTHD_DATABASE_TIMEOUT",
            "AUTHD_SECRET_KEY",
            "AUTHD_API_TOKEN_WINDOW",
        ],
    ),
    (
        "users",
        &[
            "AUTHD_DATABASE_URL",
            "AUTHD_DATABASE_TIMEOUT",
            "AUTHD_SECRET_KEY",
            "AUTHD_ARGON2_MEMORY_KIB",
            "AUTHD_ARGON2_ITERATIONS",
            "AUTHD_ARGON2_PARALLELISM",
        ],
    ),
    (
        "apps",
        &[
            "AUTHD_DATABASE_URL",
            "AUTHD_DATABASE_TIMEOUT",
            "AUTHD_SECRET_KEY",
        ],
    ),
    (
        "healthcheck",
        &["AUTHD_LISTEN", "AUTHD_TLS_CERT", "AUTHD_TLS_KEY"],
    ),
    ("dev-cert", &[]),
];

/// `authd`'s command line, each command's help listing the settings it reads.
fn command() -> clap::Command {
    use clap::CommandFactory as _;

    let every: Vec<&str> = crate::config::SETTINGS
        .iter()
        .map(|setting| setting.env)
        .collect();
    let mut command = Cli::command().after_long_help(settings_help(&every));
    for name in ["serve", "config"] {
        command = command.mut_subcommand(name, |sub| sub.after_long_help(settings_help(&every)));
    }
    for (name, settings) in COMMAND_SETTINGS {
        let help = settings_help(settings);
        command = command.mut_subcommand(*name, |sub| {
            let subcommands: Vec<String> = sub
                .get_subcommands()
                .map(|nested| nested.get_name().to_owned())
                .collect();
            let mut sub = sub.after_long_help(help.clone());
            for nested in subcommands {
                let help = help.clone();
                sub = sub.mut_subcommand(nested, move |nested| nested.after_long_help(help));
            }
            sub
        });
    }
    command
}

/// The settings `envs` names, as a help section: the flag, the variable, the default, what
/// it does. Secrets are variables only.
fn settings_help(envs: &[&str]) -> String {
    if envs.is_empty() {
        return "Settings: none; only --config and AUTHD_LOG_FORMAT apply.".to_owned();
    }
    let mut text = String::from(
        "Settings (a flag, its AUTHD_ environment variable, or the config file's key; \
         `authd config` shows them all):\n",
    );
    for setting in crate::config::SETTINGS
        .iter()
        .filter(|setting| envs.contains(&setting.env))
    {
        let name = if setting.secret {
            format!("  {} (environment only)", setting.env)
        } else {
            format!(
                "  --{} [env: {}]",
                setting.key.replace('_', "-"),
                setting.env
            )
        };
        text.push_str(&name);
        if let Some(default) = setting.default {
            text.push_str(&format!(" [default: {default}]"));
        }
        text.push_str(&format!("\n      {}\n", setting.doc));
    }
    text
}

/// Rows under their headers, each column as wide as its widest cell.
fn table(headers: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = rows.collect();
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|header| header.chars().count())
        .collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut line = String::new();
        for (column, cell) in cells.iter().enumerate() {
            if column + 1 == cells.len() {
                line.push_str(cell);
            } else {
                let padding = widths[column] - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(padding + 2));
            }
        }
        line.push('\n');
        line
    };
    let mut text = line(headers.to_vec());
    for row in &rows {
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text
}

/// A validation error of the management API's rules, its fields named by the flags that set
/// them: `--first-name: The field cannot be left blank`, not `firstName: …`.
fn named_by_flags(err: crate::engine::Error, flags: &[(&str, &str)]) -> anyhow::Error {
    let (crate::engine::Error::Validation(causes)
    | crate::engine::Error::CredentialsUpdateFailed(causes)) = &err
    else {
        return err.into();
    };
    let renamed: Vec<String> = causes
        .iter()
        .map(|cause| {
            let (field, problem) = cause.split_once(": ").unwrap_or(("", cause));
            let field = field.trim_start_matches("profile.");
            match flags.iter().find(|(name, _)| *name == field) {
                Some((_, flag)) => format!("{flag}: {problem}"),
                None => cause.clone(),
            }
        })
        .collect();
    anyhow::anyhow!(renamed.join("; "))
}

/// An error and its causes on one line. A cause that its error's own message already ends
/// with (sqlx repeats the database's message) is not said twice.
fn causes(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[expect(clippy::print_stdout, reason = "the CLI's output channel")]
fn print_out(text: &str) {
    print!("{text}");
}

#[expect(clippy::print_stderr, reason = "the CLI's error channel")]
fn print_error(text: &str) {
    eprintln!("authd: {text}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn a_cause_its_error_already_ends_with_is_said_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("error returned from database: {0}")]
        struct Repeating(#[source] Cause);
        #[derive(Debug, thiserror::Error)]
        #[error("no encryption")]
        struct Cause;
        let err = anyhow::Error::new(Repeating(Cause)).context("cannot connect");
        assert_eq!(
            causes(&err),
            "cannot connect: error returned from database: no encryption"
        );
    }

    #[test]
    fn tables_align_every_column_to_its_widest_cell() {
        let text = table(
            &["ID", "STATUS", "LOGIN"],
            [
                vec![
                    "00u1".to_owned(),
                    "ACTIVE".to_owned(),
                    "a@example.com".to_owned(),
                ],
                vec![
                    "00u22222".to_owned(),
                    "DEPROVISIONED".to_owned(),
                    "b".to_owned(),
                ],
            ]
            .into_iter(),
        );
        assert_eq!(
            text,
            "ID        STATUS         LOGIN\n\
             00u1      ACTIVE         a@example.com\n\
             00u22222  DEPROVISIONED  b\n"
        );
    }

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
        command().debug_assert();
    }

    #[test]
    fn each_command_listed_with_its_settings_exists_and_names_real_settings() {
        let cli = Cli::command();
        for (name, settings) in COMMAND_SETTINGS {
            assert!(cli.find_subcommand(name).is_some(), "{name}");
            for env in *settings {
                assert!(
                    crate::config::SETTINGS
                        .iter()
                        .any(|setting| setting.env == *env),
                    "{env}"
                );
            }
        }
    }
}
