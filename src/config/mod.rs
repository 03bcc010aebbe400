//! Configuration: built-in defaults < config file < `AUTHD_*` environment < command-line flags.
//!
//! Flags and environment are resolved together by clap ([`SettingsArgs`]); the file fills what
//! they leave unset; defaults fill the rest. [`Config::resolve`] then parses every value into its
//! type, so the rest of the program never sees an unchecked string.
//!
//! Environment variables (each also a `--flag` and a key in the TOML file, except the two
//! secrets, which are never taken from flags because flags show in `ps`):
//! `AUTHD_CONFIG`, `AUTHD_LISTEN`, `AUTHD_BASE_URL`, `AUTHD_DATABASE_URL`, `AUTHD_SECRET_KEY`,
//! `AUTHD_ADMIN_TOKEN`, `AUTHD_SEED_FILE`, `AUTHD_LOG_FORMAT`, `AUTHD_KEY_ROTATION_INTERVAL`,
//! `AUTHD_JWKS_CACHE_LIFETIME`, `AUTHD_KEY_CHECK_INTERVAL`, `AUTHD_ACCESS_TOKEN_LIFETIME`,
//! `AUTHD_ID_TOKEN_LIFETIME`, `AUTHD_ARGON2_MEMORY_KIB`, `AUTHD_ARGON2_ITERATIONS`,
//! `AUTHD_ARGON2_PARALLELISM`. `config/authd.example.toml` documents each.

mod error;
mod file;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretBox, SecretString};

pub use error::Error;
use file::FileSettings;

/// The config file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "config/authd.toml";

/// Settings as clap resolves them from flags and `AUTHD_*` variables; all optional.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct SettingsArgs {
    /// Config file (TOML) [default: config/authd.toml if it exists]
    #[arg(long, env = "AUTHD_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "AUTHD_LISTEN", global = true)]
    pub listen: Option<String>,
    /// Public base URL; the org issuer [default: http://localhost:8080]
    #[arg(long, env = "AUTHD_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// sqlite://… or postgres://… [default: sqlite://data/authd.db]
    #[arg(long, env = "AUTHD_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// How long a request waits for the database (a connection, a statement) before it fails with 503 [default: 2s]
    #[arg(long, env = "AUTHD_DATABASE_TIMEOUT", global = true)]
    pub database_timeout: Option<String>,
    /// An API token unused for this long stops working (Okta's tokenWindow) [default: 30d]
    #[arg(long, env = "AUTHD_API_TOKEN_WINDOW", global = true)]
    pub api_token_window: Option<String>,
    /// A request's header must arrive within this of its first byte [default: 10s]
    #[arg(long, env = "AUTHD_HEADER_READ_TIMEOUT", global = true)]
    pub header_read_timeout: Option<String>,
    /// A request's body must arrive within this of the request, or it is answered 408 [default: 10s]
    #[arg(long, env = "AUTHD_REQUEST_BODY_TIMEOUT", global = true)]
    pub request_body_timeout: Option<String>,
    /// A connection idle this long between requests is closed [default: 75s]
    #[arg(long, env = "AUTHD_KEEP_ALIVE_TIMEOUT", global = true)]
    pub keep_alive_timeout: Option<String>,
    /// After SIGTERM, open connections get this long to finish before the process exits [default: 10s]
    #[arg(long, env = "AUTHD_SHUTDOWN_TIMEOUT", global = true)]
    pub shutdown_timeout: Option<String>,
    /// 32-byte key that seals private keys at rest, hex or base64 (environment or file only)
    #[arg(skip)]
    pub secret_key: Option<String>,
    /// Bootstrap admin API token (environment or file only)
    #[arg(skip)]
    pub admin_token: Option<String>,
    /// Seed file applied at start
    #[arg(long, env = "AUTHD_SEED_FILE", global = true)]
    pub seed_file: Option<String>,
    /// Log format: human or json [default: human]
    #[arg(long, env = "AUTHD_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// How long a key signs before it is rotated [default: 90d]
    #[arg(long, env = "AUTHD_KEY_ROTATION_INTERVAL", global = true)]
    pub key_rotation_interval: Option<String>,
    /// How long verifiers may cache the JWKS; a new key is published this long before it signs [default: 24h]
    #[arg(long, env = "AUTHD_JWKS_CACHE_LIFETIME", global = true)]
    pub jwks_cache_lifetime: Option<String>,
    /// How often each replica checks the rotation schedule and reloads keys [default: 60s]
    #[arg(long, env = "AUTHD_KEY_CHECK_INTERVAL", global = true)]
    pub key_check_interval: Option<String>,
    /// Lifetime of access tokens [default: 1h]
    #[arg(long, env = "AUTHD_ACCESS_TOKEN_LIFETIME", global = true)]
    pub access_token_lifetime: Option<String>,
    /// Lifetime of ID tokens [default: 1h]
    #[arg(long, env = "AUTHD_ID_TOKEN_LIFETIME", global = true)]
    pub id_token_lifetime: Option<String>,
    /// A refresh token expires unused after this long [default: 7d]
    #[arg(long, env = "AUTHD_REFRESH_TOKEN_IDLE_LIFETIME", global = true)]
    pub refresh_token_idle_lifetime: Option<String>,
    /// A refresh token family ends this long after the grant, however used [default: 90d]
    #[arg(long, env = "AUTHD_REFRESH_TOKEN_MAX_LIFETIME", global = true)]
    pub refresh_token_max_lifetime: Option<String>,
    /// argon2id memory cost in KiB [default: 19456]
    #[arg(long, env = "AUTHD_ARGON2_MEMORY_KIB", global = true)]
    pub argon2_memory_kib: Option<String>,
    /// argon2id iterations [default: 2]
    #[arg(long, env = "AUTHD_ARGON2_ITERATIONS", global = true)]
    pub argon2_iterations: Option<String>,
    /// argon2id lanes [default: 1]
    #[arg(long, env = "AUTHD_ARGON2_PARALLELISM", global = true)]
    pub argon2_parallelism: Option<String>,
    /// Lifetime of one-time session tokens and authentication transactions [default: 5m]
    #[arg(long, env = "AUTHD_SESSION_TOKEN_LIFETIME", global = true)]
    pub session_token_lifetime: Option<String>,
    /// A session ends after this long without use [default: 2h]
    #[arg(long, env = "AUTHD_SESSION_IDLE_LIFETIME", global = true)]
    pub session_idle_lifetime: Option<String>,
    /// A session ends this long after sign-in however active [default: 24h]
    #[arg(long, env = "AUTHD_SESSION_MAX_LIFETIME", global = true)]
    pub session_max_lifetime: Option<String>,
    /// Consecutive failed passwords that lock a user out [default: 10]
    #[arg(long, env = "AUTHD_LOCKOUT_THRESHOLD", global = true)]
    pub lockout_threshold: Option<String>,
    /// How long a lockout lasts [default: 15m]
    #[arg(long, env = "AUTHD_LOCKOUT_DURATION", global = true)]
    pub lockout_duration: Option<String>,
    /// Answer LOCKED_OUT instead of "Authentication failed" to locked users [default: false]
    #[arg(long, env = "AUTHD_SHOW_LOCKOUT_FAILURES", global = true)]
    pub show_lockout_failures: Option<String>,
    /// Sign-in attempts (Authentication API, sign-in page, password grant) per minute from one client IP [default: 100]
    #[arg(long, env = "AUTHD_AUTHN_RATE_LIMIT_PER_IP", global = true)]
    pub authn_rate_limit_per_ip: Option<String>,
    /// Sign-in attempts (Authentication API, sign-in page, password grant) per minute for one username [default: 20]
    #[arg(long, env = "AUTHD_AUTHN_RATE_LIMIT_PER_USERNAME", global = true)]
    pub authn_rate_limit_per_username: Option<String>,
    /// Passwords expire this long after they were set; 0 for never [default: 0]
    #[arg(long, env = "AUTHD_PASSWORD_MAX_AGE", global = true)]
    pub password_max_age: Option<String>,
    /// Sign-in warns (PASSWORD_WARN) this long before a password expires [default: 7d]
    #[arg(long, env = "AUTHD_PASSWORD_EXPIRY_WARNING", global = true)]
    pub password_expiry_warning: Option<String>,
    /// Load balancers whose X-Forwarded-For is believed: comma-separated IPs or CIDRs [default: none]
    #[arg(long, env = "AUTHD_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
}

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
    /// `AUTHD_DATABASE_URL`.
    pub database_url: DatabaseUrl,
    /// `AUTHD_DATABASE_TIMEOUT`: the longest a request waits for the database.
    pub database_timeout: Duration,
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
}

/// Collects the values that clap left unset from the file, then from the defaults.
struct Layers {
    args: SettingsArgs,
    file: FileSettings,
}

macro_rules! layered {
    ($layers:expr, $field:ident) => {
        $layers
            .args
            .$field
            .clone()
            .or_else(|| $layers.file.$field.take().map(file::Scalar::into_string))
    };
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
        let file = match &args.config {
            Some(path) => FileSettings::read(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                FileSettings::read(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => FileSettings::default(),
        };
        let mut layers = Layers {
            args: SettingsArgs {
                secret_key: env_secret.or(args.secret_key.clone()),
                admin_token: env_admin_token.or(args.admin_token.clone()),
                ..args
            },
            file,
        };

        let listen = layered!(layers, listen).unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen = SocketAddr::from_str(&listen).map_err(|_| {
            Error::invalid(
                "AUTHD_LISTEN",
                format!("{listen:?} is not an address like 127.0.0.1:8080"),
            )
        })?;

        let base_url =
            layered!(layers, base_url).unwrap_or_else(|| "http://localhost:8080".to_owned());
        let base_url = parse_base_url(&base_url)
            .map_err(|problem| Error::invalid("AUTHD_BASE_URL", problem))?;

        let database_url =
            layered!(layers, database_url).unwrap_or_else(|| "sqlite://data/authd.db".to_owned());
        let database_url = DatabaseUrl::parse(&database_url)
            .map_err(|problem| Error::invalid("AUTHD_DATABASE_URL", problem))?;

        let database_timeout = duration(
            "AUTHD_DATABASE_TIMEOUT",
            layered!(layers, database_timeout),
            "2s",
        )?;
        if database_timeout.is_zero() {
            return Err(Error::invalid(
                "AUTHD_DATABASE_TIMEOUT",
                "must be longer than zero",
            ));
        }

        let api_token_window = duration(
            "AUTHD_API_TOKEN_WINDOW",
            layered!(layers, api_token_window),
            "30d",
        )?;

        let positive = |name: &'static str, value: Option<String>, default: &str| {
            let parsed = duration(name, value, default)?;
            if parsed.is_zero() {
                return Err(Error::invalid(name, "must be longer than zero"));
            }
            Ok(parsed)
        };
        let server_limits = ServerLimits {
            header_read: positive(
                "AUTHD_HEADER_READ_TIMEOUT",
                layered!(layers, header_read_timeout),
                "10s",
            )?,
            request_body: positive(
                "AUTHD_REQUEST_BODY_TIMEOUT",
                layered!(layers, request_body_timeout),
                "10s",
            )?,
            keep_alive: positive(
                "AUTHD_KEEP_ALIVE_TIMEOUT",
                layered!(layers, keep_alive_timeout),
                "75s",
            )?,
            shutdown: duration(
                "AUTHD_SHUTDOWN_TIMEOUT",
                layered!(layers, shutdown_timeout),
                "10s",
            )?,
        };

        let (secret_key, secret_key_source) =
            resolve_secret_key(layered!(layers, secret_key), &database_url)?;

        let admin_token = layered!(layers, admin_token)
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

        let seed_file = layered!(layers, seed_file).map(PathBuf::from);
        if let Some(path) = &seed_file {
            if !path.is_file() {
                return Err(Error::invalid(
                    "AUTHD_SEED_FILE",
                    format!("{} is not a readable file", path.display()),
                ));
            }
        }

        let log_format = match layered!(layers, log_format).as_deref() {
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
            layered!(layers, key_rotation_interval),
            "90d",
        )?;
        let jwks_cache_lifetime = duration(
            "AUTHD_JWKS_CACHE_LIFETIME",
            layered!(layers, jwks_cache_lifetime),
            "24h",
        )?;
        let check_interval = duration(
            "AUTHD_KEY_CHECK_INTERVAL",
            layered!(layers, key_check_interval),
            "60s",
        )?;
        let access_token_lifetime = duration(
            "AUTHD_ACCESS_TOKEN_LIFETIME",
            layered!(layers, access_token_lifetime),
            "1h",
        )?;
        let id_token_lifetime = duration(
            "AUTHD_ID_TOKEN_LIFETIME",
            layered!(layers, id_token_lifetime),
            "1h",
        )?;
        let refresh_token_idle_lifetime = duration(
            "AUTHD_REFRESH_TOKEN_IDLE_LIFETIME",
            layered!(layers, refresh_token_idle_lifetime),
            "7d",
        )?;
        let refresh_token_max_lifetime = duration(
            "AUTHD_REFRESH_TOKEN_MAX_LIFETIME",
            layered!(layers, refresh_token_max_lifetime),
            "90d",
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
                layered!(layers, argon2_memory_kib),
                19_456,
                8..=4_194_304,
            )?,
            iterations: number(
                "AUTHD_ARGON2_ITERATIONS",
                layered!(layers, argon2_iterations),
                2,
                1..=100,
            )?,
            parallelism: number(
                "AUTHD_ARGON2_PARALLELISM",
                layered!(layers, argon2_parallelism),
                1,
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
                layered!(layers, session_token_lifetime),
                "5m",
            )?,
            session_idle_lifetime: duration(
                "AUTHD_SESSION_IDLE_LIFETIME",
                layered!(layers, session_idle_lifetime),
                "2h",
            )?,
            session_max_lifetime: duration(
                "AUTHD_SESSION_MAX_LIFETIME",
                layered!(layers, session_max_lifetime),
                "24h",
            )?,
            lockout_threshold: number(
                "AUTHD_LOCKOUT_THRESHOLD",
                layered!(layers, lockout_threshold),
                10,
                1..=1000,
            )?,
            lockout_duration: duration(
                "AUTHD_LOCKOUT_DURATION",
                layered!(layers, lockout_duration),
                "15m",
            )?,
            show_lockout_failures: boolean(
                "AUTHD_SHOW_LOCKOUT_FAILURES",
                layered!(layers, show_lockout_failures),
            )?,
            rate_limit_per_ip: number(
                "AUTHD_AUTHN_RATE_LIMIT_PER_IP",
                layered!(layers, authn_rate_limit_per_ip),
                100,
                1..=1_000_000,
            )?,
            rate_limit_per_username: number(
                "AUTHD_AUTHN_RATE_LIMIT_PER_USERNAME",
                layered!(layers, authn_rate_limit_per_username),
                20,
                1..=1_000_000,
            )?,
            password_max_age: Some(duration(
                "AUTHD_PASSWORD_MAX_AGE",
                layered!(layers, password_max_age),
                "0s",
            )?)
            .filter(|age| !age.is_zero()),
            password_expiry_warning: duration(
                "AUTHD_PASSWORD_EXPIRY_WARNING",
                layered!(layers, password_expiry_warning),
                "7d",
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

        let trusted_proxies = layered!(layers, trusted_proxies)
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

        Ok(Config {
            trusted_proxies,
            sign_in,
            listen,
            base_url,
            database_url,
            database_timeout,
            api_token_window,
            server_limits,
            secret_key,
            secret_key_source,
            admin_token,
            seed_file,
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

    /// The effective settings as `KEY = value` lines, secrets withheld.
    pub fn describe(&self) -> String {
        let secret = match &self.secret_key_source {
            SecretKeySource::Configured => "(set)".to_owned(),
            SecretKeySource::DevFile(path) => format!("(generated, kept in {})", path.display()),
            SecretKeySource::Ephemeral => "(generated for this process)".to_owned(),
        };
        let lines = [
            ("AUTHD_LISTEN", self.listen.to_string()),
            ("AUTHD_BASE_URL", self.base_url.clone()),
            ("AUTHD_DATABASE_URL", self.database_url.redacted()),
            ("AUTHD_SECRET_KEY", secret),
            (
                "AUTHD_ADMIN_TOKEN",
                if self.admin_token.is_some() {
                    "(set)"
                } else {
                    "(none)"
                }
                .to_owned(),
            ),
            (
                "AUTHD_SEED_FILE",
                self.seed_file
                    .as_ref()
                    .map_or("(none)".to_owned(), |p| p.display().to_string()),
            ),
            ("AUTHD_DATABASE_TIMEOUT", written(self.database_timeout)),
            ("AUTHD_API_TOKEN_WINDOW", written(self.api_token_window)),
            (
                "AUTHD_HEADER_READ_TIMEOUT",
                written(self.server_limits.header_read),
            ),
            (
                "AUTHD_REQUEST_BODY_TIMEOUT",
                written(self.server_limits.request_body),
            ),
            (
                "AUTHD_KEEP_ALIVE_TIMEOUT",
                written(self.server_limits.keep_alive),
            ),
            (
                "AUTHD_SHUTDOWN_TIMEOUT",
                written(self.server_limits.shutdown),
            ),
            (
                "AUTHD_LOG_FORMAT",
                match self.log_format {
                    LogFormat::Human => "human",
                    LogFormat::Json => "json",
                }
                .to_owned(),
            ),
            (
                "AUTHD_KEY_ROTATION_INTERVAL",
                written(self.keys.rotation_interval),
            ),
            (
                "AUTHD_JWKS_CACHE_LIFETIME",
                written(self.keys.jwks_cache_lifetime),
            ),
            (
                "AUTHD_KEY_CHECK_INTERVAL",
                written(self.keys.check_interval),
            ),
            (
                "AUTHD_ACCESS_TOKEN_LIFETIME",
                written(self.tokens.access_token_lifetime),
            ),
            (
                "AUTHD_ID_TOKEN_LIFETIME",
                written(self.tokens.id_token_lifetime),
            ),
            (
                "AUTHD_REFRESH_TOKEN_IDLE_LIFETIME",
                written(self.tokens.refresh_token_idle_lifetime),
            ),
            (
                "AUTHD_REFRESH_TOKEN_MAX_LIFETIME",
                written(self.tokens.refresh_token_max_lifetime),
            ),
            (
                "AUTHD_ARGON2_MEMORY_KIB",
                self.passwords.memory_kib.to_string(),
            ),
            (
                "AUTHD_ARGON2_ITERATIONS",
                self.passwords.iterations.to_string(),
            ),
            (
                "AUTHD_ARGON2_PARALLELISM",
                self.passwords.parallelism.to_string(),
            ),
        ];
        lines
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

fn duration(
    setting: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<Duration, Error> {
    let text = value.unwrap_or_else(|| default.to_owned());
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
        .find(|(_, size)| nanos % size == 0)
        .unwrap_or(&("ns", 1));
    format!("{}{unit}", nanos / size)
}

/// Longer durations would put expiry times past what timestamps are written for.
const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 86_400);

fn number(
    setting: &'static str,
    value: Option<String>,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, Error> {
    let Some(text) = value else {
        return Ok(default);
    };
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

fn resolve_secret_key(
    value: Option<String>,
    database_url: &DatabaseUrl,
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
            let text = if path.exists() {
                std::fs::read_to_string(&path).map_err(dev_error)?
            } else {
                std::fs::create_dir_all(dir).map_err(dev_error)?;
                let text = SecretKey::generate_hex();
                write_private_file(&path, &text).map_err(dev_error)?;
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
