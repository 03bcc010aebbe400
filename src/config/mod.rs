//! Configuration: built-in defaults < config file < `AUTHD_*` environment < command-line flags.
//!
//! Flags and environment are resolved together by clap ([`SettingsArgs`]); the file fills what
//! they leave unset; defaults fill the rest. [`Config::resolve`] then parses every value into its
//! type, so the rest of the program never sees an unchecked string.
//!
//! Every setting is declared once, in [`SETTINGS`] (`settings.rs`): the flags, the file layer,
//! `authd config`, `config/authd.example.toml` and the README's reference come from it.

mod error;
mod file;
mod settings;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretBox, SecretString};

pub use error::Error;
pub use settings::{example_toml, reference_table, Setting, SettingsArgs, SETTINGS};
use settings::{FileSettings, Layers};

/// The config file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "config/authd.toml";

/// Sign-in rules (Okta's password and session policies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInSettings {
    /// One-time session tokens and state tokens live this long.
    pub session_token_lifetime: Duration,
    /// Idle session lifetime.
    pub session_idle_lifetime: Duration,
    /// Absolute session lifetime.
    pub session_max_lifetime: Duration,
    /// Failed passwords before lockout.
    pub lockout_threshold: u32,
    /// Lockout length.
    pub lockout_duration: Duration,
    /// Whether locked users are told so.
    pub show_lockout_failures: bool,
    /// Requests per minute per client IP on `/api/v1/authn`.
    pub rate_limit_per_ip: u32,
    /// Requests per minute per username on `/api/v1/authn`.
    pub rate_limit_per_username: u32,
    /// Password age at which it expires; `None` for never.
    pub password_max_age: Option<Duration>,
    /// How long before expiry sign-in warns.
    pub password_expiry_warning: Duration,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One compact human-readable line per event.
    Human,
    /// One flat JSON object per event.
    Json,
}

/// Where data lives. `Debug` shows the URL with its password withheld.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file (created if missing), or `sqlite::memory:`.
    Sqlite {
        /// The URL as given.
        url: String,
        /// The database file; `None` for an in-memory database.
        path: Option<PathBuf>,
    },
    /// A PostgreSQL server.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://path`, `sqlite:path`, `sqlite::memory:` or `postgres(ql)://…`.
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Err(format!(
                "{url:?} is neither sqlite://<path> nor postgres://<host>/<database>"
            ));
        };
        if rest.starts_with(":memory:") {
            return Ok(DatabaseUrl::Sqlite {
                url: url.to_owned(),
                path: None,
            });
        }
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(format!("{url:?} names no database file"));
        }
        Ok(DatabaseUrl::Sqlite {
            url: url.to_owned(),
            path: Some(PathBuf::from(path)),
        })
    }

    /// The URL with any password replaced, for logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { url, .. } => url.clone(),
            DatabaseUrl::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("***"));
                    parsed.to_string()
                }
                _ => url.clone(),
            },
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

/// The 32-byte key that seals private signing keys at rest.
pub struct SecretKey(SecretBox<[u8; 32]>);

impl SecretKey {
    /// Parses 64 hex characters or base64 (standard or URL-safe, padded or not) of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|err| err.to_string())?
        } else {
            let engines = [
                base64::engine::general_purpose::STANDARD,
                base64::engine::general_purpose::STANDARD_NO_PAD,
                base64::engine::general_purpose::URL_SAFE,
                base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ];
            engines
                .iter()
                .find_map(|engine| engine.decode(text).ok())
                .ok_or_else(|| "must be 32 bytes as 64 hex characters or base64".to_owned())?
        };
        let key: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
            format!(
                "must be 32 bytes as 64 hex characters or base64, got {} bytes",
                bytes.len()
            )
        })?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    /// A fresh random key, as 64 hex characters.
    pub fn generate_hex() -> String {
        let bytes: [u8; 32] = rand::random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// Where the secret key came from, so start-up can warn about a generated one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretKeySource {
    /// `AUTHD_SECRET_KEY` or the config file.
    Configured,
    /// Generated once and kept in this file beside the SQLite database.
    DevFile(PathBuf),
    /// Not generated yet: a command that writes nothing found no file, and used a key of its
    /// own for this process.
    DevFileNotYet(PathBuf),
    /// Generated for this process only (in-memory SQLite).
    Ephemeral,
}

/// How long the server waits for slow clients.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// From a request's first byte to the end of its header.
    pub header_read: Duration,
    /// From the start of a request to the end of its body.
    pub request_body: Duration,
    /// How long a connection may sit idle between requests.
    pub keep_alive: Duration,
    /// After the shutdown signal, how long open connections may take to finish.
    pub shutdown: Duration,
}

/// Key lifecycle timing (DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySettings {
    /// How long an ACTIVE key signs before scheduled rotation.
    pub rotation_interval: Duration,
    /// JWKS `max-age`, and how long a NEXT key is published before it may sign.
    pub jwks_cache_lifetime: Duration,
    /// How often each replica checks the schedule and reloads keys.
    pub check_interval: Duration,
    /// The longest a token signed by a key can stay valid.
    pub max_token_lifetime: Duration,
}

/// Token lifetimes for servers that set none of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSettings {
    /// Access tokens.
    pub access_token_lifetime: Duration,
    /// ID tokens.
    pub id_token_lifetime: Duration,
    /// Refresh tokens expire unused after this long.
    pub refresh_token_idle_lifetime: Duration,
    /// Refresh token families end this long after the grant.
    pub refresh_token_max_lifetime: Duration,
}

/// Where the development CA and certificate are kept, relative to the working directory, as
/// the default SQLite database is.
pub const DEV_TLS_DIRECTORY: &str = "data/dev-tls";

/// The two PEM files the public listener serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The leaf's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The certificate the public listener serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsCertificate {
    /// `AUTHD_TLS_CERT` and `AUTHD_TLS_KEY`.
    Files(CertificateFiles),
    /// `AUTHD_TLS_CERT=dev`: the development certificate in [`DEV_TLS_DIRECTORY`].
    Development,
}

fn tls_certificate(
    cert: Option<String>,
    key: Option<String>,
) -> Result<Option<TlsCertificate>, Error> {
    let cert = cert.filter(|cert| !cert.is_empty());
    let key = key.filter(|key| !key.is_empty());
    match (cert, key) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(Error::invalid(
            "AUTHD_TLS_KEY",
            "is set without AUTHD_TLS_CERT; set both to serve HTTPS",
        )),
        (Some(cert), None) if cert == "dev" => Ok(Some(TlsCertificate::Development)),
        (Some(cert), Some(_)) if cert == "dev" => Err(Error::invalid(
            "AUTHD_TLS_KEY",
            "must not be set with AUTHD_TLS_CERT=dev, which has its own key",
        )),
        (Some(_), None) => Err(Error::invalid(
            "AUTHD_TLS_CERT",
            "needs AUTHD_TLS_KEY, the certificate's private key (or AUTHD_TLS_CERT=dev for the development certificate)",
        )),
        (Some(cert), Some(key)) => {
            for (setting, path) in [("AUTHD_TLS_CERT", &cert), ("AUTHD_TLS_KEY", &key)] {
                if !Path::new(path).is_file() {
                    return Err(Error::invalid(
                        setting,
                        format!("{path} is not a readable file"),
                    ));
                }
            }
            Ok(Some(TlsCertificate::Files(CertificateFiles {
                cert: PathBuf::from(cert),
                key: PathBuf::from(key),
            })))
        }
    }
}

/// argon2id cost parameters for new password hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordSettings {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

/// The validated configuration.
#[derive(Debug)]
pub struct Config {
    /// `AUTHD_LISTEN`.
    pub listen: SocketAddr,
    /// `AUTHD_BASE_URL`, without a trailing slash.
    pub base_url: String,
    /// `AUTHD_TLS_CERT` and `AUTHD_TLS_KEY`: HTTPS on the public listener, if set.
    pub tls: Option<TlsCertificate>,
    /// `AUTHD_DATABASE_URL`.
    pub database_url: DatabaseUrl,
    /// `AUTHD_DATABASE_TIMEOUT`: the longest a request waits for the database.
    pub database_timeout: Duration,
    /// `AUTHD_DATABASE_STARTUP_WAIT`: how long start-up waits for a PostgreSQL that is not
    /// accepting connections yet.
    pub database_startup_wait: Duration,
    /// `AUTHD_API_TOKEN_WINDOW`: an API token unused for this long stops working.
    pub api_token_window: Duration,
    /// `AUTHD_HEADER_READ_TIMEOUT`, `AUTHD_REQUEST_BODY_TIMEOUT`, `AUTHD_KEEP_ALIVE_TIMEOUT`
    /// and `AUTHD_SHUTDOWN_TIMEOUT`.
    pub server_limits: ServerLimits,
    /// `AUTHD_SECRET_KEY`, or the generated development key.
    pub secret_key: SecretKey,
    /// Where the secret key came from.
    pub secret_key_source: SecretKeySource,
    /// `AUTHD_ADMIN_TOKEN`.
    pub admin_token: Option<SecretString>,
    /// `AUTHD_SEED_FILE`.
    pub seed_file: Option<PathBuf>,
    /// `AUTHD_SYSTEM_LOG_RETENTION`: how long System Log events are kept.
    pub system_log_retention: Duration,
    /// `AUTHD_METRICS_LISTEN`: where `/metrics` is served, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// `AUTHD_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// Key lifecycle timing.
    pub keys: KeySettings,
    /// Default token lifetimes.
    pub tokens: TokenSettings,
    /// Password hashing cost.
    pub passwords: PasswordSettings,
    /// Sign-in rules.
    pub sign_in: SignInSettings,
    /// `AUTHD_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Every setting as it was taken, for `authd config`: as written or defaulted, secrets
    /// withheld.
    effective: Vec<(&'static str, String)>,
}

impl Config {
    /// Resolves the layers: `args` (flags and environment) over the config file over defaults.
    ///
    /// `env_secret` and `env_admin_token` are `AUTHD_SECRET_KEY` and `AUTHD_ADMIN_TOKEN`,
    /// read by the caller so that they never pass through clap.
    pub fn resolve(
        args: SettingsArgs,
        env_secret: Option<String>,
        env_admin_token: Option<String>,
    ) -> Result<Self, Error> {
        Self::resolve_with(args, env_secret, env_admin_token, Writes::Allowed)
    }

    /// As [`Config::resolve`], for a command that only reports (`authd config`, `authd
    /// healthcheck`): it writes nothing, so the development secret is not generated if it
    /// does not exist yet.
    pub fn resolve_without_writing(
        args: SettingsArgs,
        env_secret: Option<String>,
        env_admin_token: Option<String>,
    ) -> Result<Self, Error> {
        Self::resolve_with(args, env_secret, env_admin_token, Writes::Forbidden)
    }

    fn resolve_with(
        args: SettingsArgs,
        env_secret: Option<String>,
        env_admin_token: Option<String>,
        writes: Writes,
    ) -> Result<Self, Error> {
        let file = match &args.config {
            Some(path) => FileSettings::read(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                FileSettings::read(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => FileSettings::default(),
        };
        let mut layers = Layers::new(
            SettingsArgs {
                secret_key: env_secret.or(args.secret_key.clone()),
                admin_token: env_admin_token.or(args.admin_token.clone()),
                ..args
            },
            file,
        );

        let listen = layers.listen().unwrap_or_default();
        let listen = SocketAddr::from_str(&listen).map_err(|_| {
            Error::invalid(
                "AUTHD_LISTEN",
                format!("{listen:?} is not an address like 127.0.0.1:8080"),
            )
        })?;

        let tls = tls_certificate(layers.tls_cert(), layers.tls_key())?;

        // Unset, the issuer follows the listen port, so that moving the port alone does not
        // leave discovery pointing at a port nothing listens on.
        let base_url = layers.base_url().unwrap_or_else(|| {
            let scheme = if tls.is_some() { "https" } else { "http" };
            format!("{scheme}://localhost:{}", listen.port())
        });
        let base_url = parse_base_url(&base_url)
            .map_err(|problem| Error::invalid("AUTHD_BASE_URL", problem))?;

        let database_url = layers.database_url().unwrap_or_default();
        let database_url = DatabaseUrl::parse(&database_url)
            .map_err(|problem| Error::invalid("AUTHD_DATABASE_URL", problem))?;

        let database_timeout = duration("AUTHD_DATABASE_TIMEOUT", layers.database_timeout())?;
        if database_timeout.is_zero() {
            return Err(Error::invalid(
                "AUTHD_DATABASE_TIMEOUT",
                "must be longer than zero",
            ));
        }

        let database_startup_wait = duration(
            "AUTHD_DATABASE_STARTUP_WAIT",
            layers.database_startup_wait(),
        )?;

        let api_token_window = duration("AUTHD_API_TOKEN_WINDOW", layers.api_token_window())?;

        let positive = |name: &'static str, value: Option<String>| {
            let parsed = duration(name, value)?;
            if parsed.is_zero() {
                return Err(Error::invalid(name, "must be longer than zero"));
            }
            Ok(parsed)
        };
        let server_limits = ServerLimits {
            header_read: positive("AUTHD_HEADER_READ_TIMEOUT", layers.header_read_timeout())?,
            request_body: positive("AUTHD_REQUEST_BODY_TIMEOUT", layers.request_body_timeout())?,
            keep_alive: positive("AUTHD_KEEP_ALIVE_TIMEOUT", layers.keep_alive_timeout())?,
            shutdown: duration("AUTHD_SHUTDOWN_TIMEOUT", layers.shutdown_timeout())?,
        };

        let (secret_key, secret_key_source) =
            resolve_secret_key(layers.secret_key(), &database_url, writes)?;

        let admin_token = layers
            .admin_token()
            .filter(|token| !token.is_empty())
            .map(SecretString::from);
        if let Some(token) = &admin_token {
            if token.expose_secret().len() < 20 {
                return Err(Error::invalid(
                    "AUTHD_ADMIN_TOKEN",
                    "must be at least 20 characters",
                ));
            }
        }

        let seed_file = layers.seed_file().map(PathBuf::from);
        let system_log_retention =
            duration("AUTHD_SYSTEM_LOG_RETENTION", layers.system_log_retention())?;
        if system_log_retention.is_zero() {
            return Err(Error::invalid(
                "AUTHD_SYSTEM_LOG_RETENTION",
                "must be longer than zero",
            ));
        }
        let metrics_listen = layers
            .metrics_listen()
            .map(|text| {
                SocketAddr::from_str(&text).map_err(|_| {
                    Error::invalid(
                        "AUTHD_METRICS_LISTEN",
                        format!("{text:?} is not an address like 127.0.0.1:9090"),
                    )
                })
            })
            .transpose()?;
        if let Some(path) = &seed_file {
            if !path.is_file() {
                return Err(Error::invalid(
                    "AUTHD_SEED_FILE",
                    format!("{} is not a readable file", path.display()),
                ));
            }
        }

        let log_format = match layers.log_format().as_deref() {
            None | Some("human") => LogFormat::Human,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(Error::invalid(
                    "AUTHD_LOG_FORMAT",
                    format!("{other:?} is neither \"human\" nor \"json\""),
                ))
            }
        };

        let rotation_interval = duration(
            "AUTHD_KEY_ROTATION_INTERVAL",
            layers.key_rotation_interval(),
        )?;
        let jwks_cache_lifetime =
            duration("AUTHD_JWKS_CACHE_LIFETIME", layers.jwks_cache_lifetime())?;
        let check_interval = duration("AUTHD_KEY_CHECK_INTERVAL", layers.key_check_interval())?;
        let access_token_lifetime = duration(
            "AUTHD_ACCESS_TOKEN_LIFETIME",
            layers.access_token_lifetime(),
        )?;
        let id_token_lifetime = duration("AUTHD_ID_TOKEN_LIFETIME", layers.id_token_lifetime())?;
        let refresh_token_idle_lifetime = duration(
            "AUTHD_REFRESH_TOKEN_IDLE_LIFETIME",
            layers.refresh_token_idle_lifetime(),
        )?;
        let refresh_token_max_lifetime = duration(
            "AUTHD_REFRESH_TOKEN_MAX_LIFETIME",
            layers.refresh_token_max_lifetime(),
        )?;
        for (setting, value) in [
            (
                "AUTHD_REFRESH_TOKEN_IDLE_LIFETIME",
                refresh_token_idle_lifetime,
            ),
            (
                "AUTHD_REFRESH_TOKEN_MAX_LIFETIME",
                refresh_token_max_lifetime,
            ),
            ("AUTHD_KEY_ROTATION_INTERVAL", rotation_interval),
            ("AUTHD_JWKS_CACHE_LIFETIME", jwks_cache_lifetime),
            ("AUTHD_KEY_CHECK_INTERVAL", check_interval),
            ("AUTHD_ACCESS_TOKEN_LIFETIME", access_token_lifetime),
            ("AUTHD_ID_TOKEN_LIFETIME", id_token_lifetime),
        ] {
            if value.is_zero() {
                return Err(Error::invalid(setting, "must be longer than zero"));
            }
        }
        // A key must be published for a whole cache lifetime before it signs and then sign for
        // a while; a rotation interval shorter than that would leave no key ready to rotate to.
        if rotation_interval <= jwks_cache_lifetime + check_interval {
            return Err(Error::invalid(
                "AUTHD_KEY_ROTATION_INTERVAL",
                format!(
                    "must be longer than AUTHD_JWKS_CACHE_LIFETIME plus AUTHD_KEY_CHECK_INTERVAL ({})",
                    written(jwks_cache_lifetime + check_interval)
                ),
            ));
        }

        let passwords = PasswordSettings {
            memory_kib: number(
                "AUTHD_ARGON2_MEMORY_KIB",
                layers.argon2_memory_kib(),
                8..=4_194_304,
            )?,
            iterations: number(
                "AUTHD_ARGON2_ITERATIONS",
                layers.argon2_iterations(),
                1..=100,
            )?,
            parallelism: number(
                "AUTHD_ARGON2_PARALLELISM",
                layers.argon2_parallelism(),
                1..=64,
            )?,
        };
        if passwords.memory_kib < 8 * passwords.parallelism {
            return Err(Error::invalid(
                "AUTHD_ARGON2_MEMORY_KIB",
                "must be at least 8 × AUTHD_ARGON2_PARALLELISM",
            ));
        }

        let sign_in = SignInSettings {
            session_token_lifetime: duration(
                "AUTHD_SESSION_TOKEN_LIFETIME",
                layers.session_token_lifetime(),
            )?,
            session_idle_lifetime: duration(
                "AUTHD_SESSION_IDLE_LIFETIME",
                layers.session_idle_lifetime(),
            )?,
            session_max_lifetime: duration(
                "AUTHD_SESSION_MAX_LIFETIME",
                layers.session_max_lifetime(),
            )?,
            lockout_threshold: number(
                "AUTHD_LOCKOUT_THRESHOLD",
                layers.lockout_threshold(),
                1..=1000,
            )?,
            lockout_duration: duration("AUTHD_LOCKOUT_DURATION", layers.lockout_duration())?,
            show_lockout_failures: boolean(
                "AUTHD_SHOW_LOCKOUT_FAILURES",
                layers.show_lockout_failures(),
            )?,
            rate_limit_per_ip: number(
                "AUTHD_AUTHN_RATE_LIMIT_PER_IP",
                layers.authn_rate_limit_per_ip(),
                1..=1_000_000,
            )?,
            rate_limit_per_username: number(
                "AUTHD_AUTHN_RATE_LIMIT_PER_USERNAME",
                layers.authn_rate_limit_per_username(),
                1..=1_000_000,
            )?,
            password_max_age: Some(duration(
                "AUTHD_PASSWORD_MAX_AGE",
                layers.password_max_age(),
            )?)
            .filter(|age| !age.is_zero()),
            password_expiry_warning: duration(
                "AUTHD_PASSWORD_EXPIRY_WARNING",
                layers.password_expiry_warning(),
            )?,
        };
        for (setting, value) in [
            (
                "AUTHD_SESSION_TOKEN_LIFETIME",
                sign_in.session_token_lifetime,
            ),
            ("AUTHD_SESSION_IDLE_LIFETIME", sign_in.session_idle_lifetime),
            ("AUTHD_SESSION_MAX_LIFETIME", sign_in.session_max_lifetime),
            ("AUTHD_LOCKOUT_DURATION", sign_in.lockout_duration),
        ] {
            if value.is_zero() {
                return Err(Error::invalid(setting, "must be longer than zero"));
            }
        }

        let trusted_proxies = layers
            .trusted_proxies()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        Error::invalid(
                            "AUTHD_TRUSTED_PROXIES",
                            format!("{entry:?} is not an IP address or CIDR like 10.0.0.0/8"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let effective = SETTINGS
            .iter()
            .map(|setting| {
                let taken = layers
                    .taken()
                    .iter()
                    .find(|(env, _)| *env == setting.env)
                    .and_then(|(_, value)| value.clone());
                let shown = match (setting.env, taken) {
                    ("AUTHD_SECRET_KEY", _) => match &secret_key_source {
                        SecretKeySource::Configured => "(set)".to_owned(),
                        SecretKeySource::DevFile(path) => {
                            format!("(generated, kept in {})", path.display())
                        }
                        SecretKeySource::DevFileNotYet(path) => {
                            format!("(to be generated in {} at the first start)", path.display())
                        }
                        SecretKeySource::Ephemeral => "(generated for this process)".to_owned(),
                    },
                    (_, Some(_)) if setting.secret => "(set)".to_owned(),
                    ("AUTHD_DATABASE_URL", Some(_)) => database_url.redacted(),
                    ("AUTHD_BASE_URL", None) => format!("{base_url} (from AUTHD_LISTEN)"),
                    (_, Some(value)) => value,
                    (_, None) => "(none)".to_owned(),
                };
                (setting.env, shown)
            })
            .collect();
        Ok(Config {
            effective,
            trusted_proxies,
            sign_in,
            listen,
            base_url,
            tls,
            database_url,
            database_timeout,
            database_startup_wait,
            api_token_window,
            server_limits,
            secret_key,
            secret_key_source,
            admin_token,
            seed_file,
            system_log_retention,
            metrics_listen,
            log_format,
            keys: KeySettings {
                rotation_interval,
                jwks_cache_lifetime,
                check_interval,
                max_token_lifetime: access_token_lifetime.max(id_token_lifetime),
            },
            tokens: TokenSettings {
                access_token_lifetime,
                id_token_lifetime,
                refresh_token_idle_lifetime,
                refresh_token_max_lifetime,
            },
            passwords,
        })
    }

    /// The effective settings as `KEY = value` lines, every one of [`SETTINGS`], each as it was
    /// written (or its default), secrets withheld.
    pub fn describe(&self) -> String {
        self.effective
            .iter()
            .map(|(key, value)| format!("{key} = {value}\n"))
            .collect()
    }
}

fn parse_base_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|err| format!("{text:?} is not a URL: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?} must start with http:// or https://"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{text:?} must not have a query or fragment"));
    }
    if url.host_str().is_none() {
        return Err(format!("{text:?} has no host"));
    }
    // The serialized form has a lower-case scheme and host, so the issuer and the `Secure`
    // decision do not depend on how the operator typed it.
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn duration(setting: &'static str, value: Option<String>) -> Result<Duration, Error> {
    let text = value.unwrap_or_default();
    let parsed = humantime::parse_duration(&text).map_err(|err| {
        Error::invalid(
            setting,
            format!("{text:?} is not a duration like 90s, 15m, 24h or 90d ({err})"),
        )
    })?;
    if parsed > MAX_DURATION {
        return Err(Error::invalid(
            setting,
            format!("{text:?} is longer than 10 years"),
        ));
    }
    Ok(parsed)
}

/// A duration in the largest unit that holds it whole (`90d`, `24h` as `1d`, `90s` as `90s`),
/// so that what `authd config` prints reads like what one writes and parses back the same;
/// never in months, whose length varies.
pub fn written(duration: Duration) -> String {
    const UNITS: [(&str, u128); 7] = [
        ("d", 86_400_000_000_000),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ];
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    let (unit, size) = UNITS
        .iter()
        .find(|(_, size)| nanos.is_multiple_of(*size))
        .unwrap_or(&("ns", 1));
    format!("{}{unit}", nanos / size)
}

/// Longer durations would put expiry times past what timestamps are written for.
const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 86_400);

fn number(
    setting: &'static str,
    value: Option<String>,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, Error> {
    let text = value.unwrap_or_default();
    match text.trim().parse::<u32>() {
        Ok(number) if range.contains(&number) => Ok(number),
        _ => Err(Error::invalid(
            setting,
            format!(
                "{text:?} is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

fn boolean(setting: &'static str, value: Option<String>) -> Result<bool, Error> {
    match value.as_deref().map(str::trim) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(Error::invalid(
            setting,
            format!("{other:?} is neither true nor false"),
        )),
    }
}

const DEV_SECRET_FILE: &str = "authd.secret";

/// Whether resolving the configuration may create files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writes {
    Allowed,
    Forbidden,
}

fn resolve_secret_key(
    value: Option<String>,
    database_url: &DatabaseUrl,
    writes: Writes,
) -> Result<(SecretKey, SecretKeySource), Error> {
    if let Some(text) = value {
        let key = SecretKey::parse(&text)
            .map_err(|problem| Error::invalid("AUTHD_SECRET_KEY", problem))?;
        return Ok((key, SecretKeySource::Configured));
    }
    match database_url {
        DatabaseUrl::Postgres(_) => Err(Error::Missing {
            setting: "AUTHD_SECRET_KEY",
            why: "with PostgreSQL: every replica must seal and open keys with the same secret \
                  (generate one with `openssl rand -hex 32`)",
        }),
        DatabaseUrl::Sqlite { path: None, .. } => {
            let key = SecretKey::parse(&SecretKey::generate_hex())
                .map_err(|problem| Error::invalid("AUTHD_SECRET_KEY", problem))?;
            Ok((key, SecretKeySource::Ephemeral))
        }
        DatabaseUrl::Sqlite {
            path: Some(db_path),
            ..
        } => {
            let dir = db_path.parent().unwrap_or(Path::new("."));
            let path = dir.join(DEV_SECRET_FILE);
            let dev_error = |source| Error::DevSecret {
                path: path.clone(),
                source,
            };
            let unwritable = |source| Error::DataDirectoryUnwritable {
                dir: dir.to_owned(),
                source,
            };
            let text = if path.exists() {
                std::fs::read_to_string(&path).map_err(dev_error)?
            } else if writes == Writes::Forbidden {
                let key = SecretKey::parse(&SecretKey::generate_hex())
                    .map_err(|problem| Error::invalid("AUTHD_SECRET_KEY", problem))?;
                return Ok((key, SecretKeySource::DevFileNotYet(path)));
            } else {
                std::fs::create_dir_all(dir).map_err(unwritable)?;
                let text = SecretKey::generate_hex();
                write_private_file(&path, &text).map_err(unwritable)?;
                text
            };
            let key = SecretKey::parse(&text).map_err(|problem| {
                Error::invalid(
                    "AUTHD_SECRET_KEY",
                    format!("the generated secret in {} {problem}", path.display()),
                )
            })?;
            Ok((key, SecretKeySource::DevFile(path)))
        }
    }
}

fn write_private_file(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_is_the_settings_table() {
        assert_eq!(
            include_str!("../../config/authd.example.toml"),
            super::example_toml(),
            "regenerate it with `authd config --example > config/authd.example.toml`"
        );
    }

    #[test]
    fn the_readme_reference_is_the_settings_table() {
        let readme = include_str!("../../README.md");
        let table = super::reference_table();
        assert!(
            readme.contains(&table),
            "the README's configuration reference should read:\n{table}"
        );
    }

    #[test]
    fn authd_config_prints_every_setting_as_written() {
        let config = resolve(SettingsArgs {
            key_rotation_interval: Some("2160h".into()),
            ..SettingsArgs::default()
        })
        .unwrap();
        let described = config.describe();
        for setting in super::SETTINGS {
            assert!(
                described.contains(&format!("{} = ", setting.env)),
                "{} missing from:\n{described}",
                setting.env
            );
        }
        assert!(
            described.contains("AUTHD_KEY_ROTATION_INTERVAL = 2160h\n"),
            "{described}"
        );
        assert!(
            described.contains("AUTHD_JWKS_CACHE_LIFETIME = 24h\n"),
            "{described}"
        );
    }

    fn resolve(args: SettingsArgs) -> Result<Config, Error> {
        Config::resolve(
            SettingsArgs {
                database_url: args.database_url.clone().or(Some("sqlite::memory:".into())),
                ..args
            },
            None,
            None,
        )
    }

    #[test]
    fn durations_are_written_in_the_largest_whole_unit_and_parse_back() {
        for (text, written_as) in [
            ("90d", "90d"),
            ("24h", "1d"),
            ("36h", "36h"),
            ("60s", "1m"),
            ("90s", "90s"),
            ("1500ms", "1500ms"),
            ("0s", "0s"),
        ] {
            let parsed = humantime::parse_duration(text).unwrap();
            assert_eq!(super::written(parsed), written_as, "{text}");
            assert_eq!(humantime::parse_duration(written_as).unwrap(), parsed);
        }
    }

    #[test]
    fn an_unset_base_url_follows_the_listen_port_and_a_set_one_stays() {
        let config = resolve(SettingsArgs {
            listen: Some("127.0.0.1:9090".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(config.base_url, "http://localhost:9090");
        let config = resolve(SettingsArgs {
            listen: Some("127.0.0.1:9090".into()),
            base_url: Some("https://id.example.com".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(config.base_url, "https://id.example.com");
    }

    #[test]
    fn tls_takes_a_certificate_with_its_key_or_the_development_one_and_makes_the_issuer_https() {
        let config = resolve(SettingsArgs {
            listen: Some("127.0.0.1:8443".into()),
            tls_cert: Some("dev".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(config.tls, Some(TlsCertificate::Development));
        assert_eq!(config.base_url, "https://localhost:8443");

        let refused = |args: SettingsArgs| resolve(args).expect_err("refused").to_string();
        let missing_key = refused(SettingsArgs {
            tls_cert: Some("cert.pem".into()),
            ..Default::default()
        });
        assert!(
            missing_key.starts_with("AUTHD_TLS_CERT: needs AUTHD_TLS_KEY"),
            "{missing_key}"
        );
        let missing_cert = refused(SettingsArgs {
            tls_key: Some("key.pem".into()),
            ..Default::default()
        });
        assert!(
            missing_cert.starts_with("AUTHD_TLS_KEY: is set without AUTHD_TLS_CERT"),
            "{missing_cert}"
        );
        let absent = refused(SettingsArgs {
            tls_cert: Some("/nonexistent/cert.pem".into()),
            tls_key: Some("/nonexistent/key.pem".into()),
            ..Default::default()
        });
        assert_eq!(
            absent,
            "AUTHD_TLS_CERT: /nonexistent/cert.pem is not a readable file"
        );
    }

    #[test]
    fn defaults_match_the_design() {
        let config = resolve(SettingsArgs::default()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.base_url, "http://localhost:8080");
        assert_eq!(
            config.keys.rotation_interval,
            Duration::from_secs(90 * 86_400)
        );
        assert_eq!(config.keys.jwks_cache_lifetime, Duration::from_secs(86_400));
        assert_eq!(config.secret_key_source, SecretKeySource::Ephemeral);
    }

    #[test]
    fn database_urls_are_told_apart() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/authd.db").unwrap(),
            DatabaseUrl::Sqlite {
                url: "sqlite://data/authd.db".into(),
                path: Some("data/authd.db".into())
            }
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:p@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert_eq!(
            DatabaseUrl::parse("postgres://u:hunter2@h/db")
                .unwrap()
                .redacted(),
            "postgres://u:***@h/db"
        );
        let debug = format!(
            "{:?}",
            DatabaseUrl::parse("postgres://u:hunter2@h/db").unwrap()
        );
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn secret_keys_parse_from_hex_and_base64_of_32_bytes_only() {
        let hex = "00".repeat(32);
        assert!(SecretKey::parse(&hex).is_ok());
        assert!(SecretKey::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_ok());
        assert!(SecretKey::parse("short").is_err());
        assert!(SecretKey::parse(&"00".repeat(31)).is_err());
        assert!(!format!("{:?}", SecretKey::parse(&hex).unwrap()).contains("00"));
    }

    #[test]
    fn postgres_without_a_secret_is_refused_with_the_setting_named() {
        let err = resolve(SettingsArgs {
            database_url: Some("postgres://localhost/authd".into()),
            ..SettingsArgs::default()
        })
        .unwrap_err();
        assert!(err.to_string().starts_with("AUTHD_SECRET_KEY is required"));
    }

    #[test]
    fn a_rotation_interval_shorter_than_the_publication_lead_is_refused() {
        let err = resolve(SettingsArgs {
            key_rotation_interval: Some("1h".into()),
            ..SettingsArgs::default()
        })
        .unwrap_err();
        assert!(err.to_string().starts_with("AUTHD_KEY_ROTATION_INTERVAL:"));
    }
}
