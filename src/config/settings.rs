//! Every setting, declared once: its name (the file key; `AUTHD_` and the upper-cased name in
//! the environment; `--name-with-dashes` as a flag), its default and what it does. The flags,
//! the file layer, `authd config`, `config/authd.example.toml` and the README's reference all
//! come from, or are checked against, [`SETTINGS`].

use std::path::PathBuf;

use serde::Deserialize;

use super::file::Scalar;

/// One setting as documented.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The environment variable, `AUTHD_…`.
    pub env: &'static str,
    /// The key in the config file.
    pub key: &'static str,
    /// The value when nothing sets it; `None` if unset means off or absent.
    pub default: Option<&'static str>,
    /// What it does.
    pub doc: &'static str,
    /// Whether it is secret: never a flag (flags show in `ps`), never printed.
    pub secret: bool,
}

/// A setting's default: `none`, or the text.
macro_rules! default_of {
    (none) => {
        None::<&'static str>
    };
    ($default:literal) => {
        Some($default)
    };
}

/// A flag's help: what it does, and its default.
macro_rules! help_of {
    ($doc:literal, none) => {
        $doc
    };
    ($doc:literal, $default:literal) => {
        concat!($doc, " [default: ", $default, "]")
    };
}

macro_rules! settings {
    (
        secrets { $( $secret:ident, $secret_env:literal, $secret_doc:literal; )* }
        settings { $( $field:ident, $env:literal, $default:tt, $doc:literal; )* }
    ) => {
        /// Settings as clap resolves them from flags and `AUTHD_*` variables; all optional.
        #[derive(Debug, Default, Clone, clap::Args)]
        pub struct SettingsArgs {
            /// Config file (TOML) [default: config/authd.toml if it exists]
            #[arg(long, env = "AUTHD_CONFIG", global = true)]
            pub config: Option<PathBuf>,
            $(
                #[doc = $secret_doc]
                #[arg(skip)]
                pub $secret: Option<String>,
            )*
            $(
                #[doc = $doc]
                // Listed in each command's help by `authd`'s own section, with only the settings
                // that command reads.
                #[arg(long, env = $env, global = true, hide = true, help = help_of!($doc, $default))]
                pub $field: Option<String>,
            )*
        }

        /// Settings as written in a config file; each key is the setting's name.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct FileSettings {
            $( pub $secret: Option<Scalar>, )*
            $( pub $field: Option<Scalar>, )*
        }

        /// Every setting but `AUTHD_CONFIG` (which names the file), secrets first.
        pub const SETTINGS: &[Setting] = &[
            $( Setting {
                env: $secret_env,
                key: stringify!($secret),
                default: None,
                doc: $secret_doc,
                secret: true,
            }, )*
            $( Setting {
                env: $env,
                key: stringify!($field),
                default: default_of!($default),
                doc: $doc,
                secret: false,
            }, )*
        ];

        /// The value of each setting: flags and environment, else the file, else the default.
        pub struct Layers {
            args: SettingsArgs,
            file: FileSettings,
            /// What each setting was taken as, in the order they were read.
            taken: Vec<(&'static str, Option<String>)>,
        }

        impl Layers {
            $(
                pub fn $secret(&mut self) -> Option<String> {
                    let value = self
                        .args
                        .$secret
                        .clone()
                        .or_else(|| self.file.$secret.take().map(Scalar::into_string));
                    self.taken.push(($secret_env, value.clone()));
                    value
                }
            )*
            $(
                pub fn $field(&mut self) -> Option<String> {
                    let value = self
                        .args
                        .$field
                        .clone()
                        .or_else(|| self.file.$field.take().map(Scalar::into_string))
                        .or_else(|| default_of!($default).map(str::to_owned));
                    self.taken.push(($env, value.clone()));
                    value
                }
            )*
        }
    };
}

impl Layers {
    /// The layers over one another.
    pub fn new(args: SettingsArgs, file: FileSettings) -> Self {
        Self {
            args,
            file,
            taken: Vec::new(),
        }
    }

    /// Each setting as it was taken (written, or its default), `None` where unset.
    pub fn taken(&self) -> &[(&'static str, Option<String>)] {
        &self.taken
    }
}

settings! {
    secrets {
        secret_key, "AUTHD_SECRET_KEY",
            "32 bytes, hex or base64, sealing private signing keys at rest. Required with PostgreSQL (every replica needs the same one); with SQLite one is generated once and kept beside the database file. `openssl rand -hex 32`";
        admin_token, "AUTHD_ADMIN_TOKEN",
            "Bootstrap admin API token (SSWS), at least 20 characters";
    }
    settings {
        listen, "AUTHD_LISTEN", "127.0.0.1:8080",
            "Address to listen on. The container image sets 0.0.0.0:8080";
        base_url, "AUTHD_BASE_URL", none,
            "Public base URL: the org issuer; a custom server's issuer is this URL followed by /oauth2/ and its id. Unset, it is http://localhost (https://localhost with AUTHD_TLS_CERT) with the port of AUTHD_LISTEN";
        tls_cert, "AUTHD_TLS_CERT", none,
            "Serve HTTPS with this certificate chain (PEM, leaf first; with AUTHD_TLS_KEY), reloaded on SIGHUP and when the file changes. `dev`: the development certificate of `authd dev-cert`, made in data/dev-tls if missing";
        tls_key, "AUTHD_TLS_KEY", none,
            "The private key (PEM) of AUTHD_TLS_CERT";
        database_url, "AUTHD_DATABASE_URL", "sqlite://data/authd.db",
            "sqlite://PATH (created if missing), sqlite::memory:, or postgres://USER:PASSWORD@HOST/DATABASE; TLS with ?sslmode=require, or verify-full with sslrootcert=CA-FILE (Mozilla's roots when none is given)";
        database_timeout, "AUTHD_DATABASE_TIMEOUT", "2s",
            "How long a request waits for the database (a connection, a statement) before it fails with 503";
        database_startup_wait, "AUTHD_DATABASE_STARTUP_WAIT", "30s",
            "At start, how long to keep trying a PostgreSQL that refuses connections or is starting up (a database container started beside authd) before giving up; 0 gives up at once";
        api_token_window, "AUTHD_API_TOKEN_WINDOW", "30d",
            "An API token (SSWS) unused for this long stops working, as Okta's tokenWindow";
        header_read_timeout, "AUTHD_HEADER_READ_TIMEOUT", "10s",
            "A request's header must arrive within this of its first byte, or the connection is dropped";
        request_body_timeout, "AUTHD_REQUEST_BODY_TIMEOUT", "10s",
            "A request's body must arrive within this of the request, or it is answered 408";
        keep_alive_timeout, "AUTHD_KEEP_ALIVE_TIMEOUT", "75s",
            "A connection idle this long between requests is closed; keep it longer than a load balancer's idle timeout";
        shutdown_timeout, "AUTHD_SHUTDOWN_TIMEOUT", "10s",
            "After SIGTERM, open connections get this long to finish before the process exits";
        seed_file, "AUTHD_SEED_FILE", none,
            "Seed file (TOML: authorization servers, apps, users, trusted origins) applied at every start";
        system_log_retention, "AUTHD_SYSTEM_LOG_RETENTION", "90d",
            "System Log events older than this are deleted (checked every AUTHD_KEY_CHECK_INTERVAL), as Okta keeps 90 days";
        metrics_listen, "AUTHD_METRICS_LISTEN", none,
            "Address to serve GET /metrics (Prometheus text format) on, apart from the public port; unset, there is no metrics endpoint";
        log_format, "AUTHD_LOG_FORMAT", "human",
            "Log format: human or json (RUST_LOG sets the filter)";
        key_rotation_interval, "AUTHD_KEY_ROTATION_INTERVAL", "90d",
            "How long a signing key signs before it is rotated";
        jwks_cache_lifetime, "AUTHD_JWKS_CACHE_LIFETIME", "24h",
            "How long verifiers may cache the JWKS (its max-age); a new key is published this long before it signs";
        key_check_interval, "AUTHD_KEY_CHECK_INTERVAL", "60s",
            "How often each replica checks the rotation schedule";
        access_token_lifetime, "AUTHD_ACCESS_TOKEN_LIFETIME", "1h",
            "Lifetime of access tokens, where a server or policy rule sets none";
        id_token_lifetime, "AUTHD_ID_TOKEN_LIFETIME", "1h",
            "Lifetime of ID tokens, where a server sets none";
        refresh_token_idle_lifetime, "AUTHD_REFRESH_TOKEN_IDLE_LIFETIME", "7d",
            "A refresh token expires unused after this long";
        refresh_token_max_lifetime, "AUTHD_REFRESH_TOKEN_MAX_LIFETIME", "90d",
            "A refresh token family ends this long after the grant, however used";
        argon2_memory_kib, "AUTHD_ARGON2_MEMORY_KIB", "19456",
            "argon2id memory cost of password hashes, in KiB";
        argon2_iterations, "AUTHD_ARGON2_ITERATIONS", "2",
            "argon2id iterations";
        argon2_parallelism, "AUTHD_ARGON2_PARALLELISM", "1",
            "argon2id lanes";
        session_token_lifetime, "AUTHD_SESSION_TOKEN_LIFETIME", "5m",
            "Lifetime of one-time session tokens and authentication transactions";
        session_idle_lifetime, "AUTHD_SESSION_IDLE_LIFETIME", "2h",
            "A session ends after this long without use";
        session_max_lifetime, "AUTHD_SESSION_MAX_LIFETIME", "24h",
            "A session ends this long after sign-in, however active";
        lockout_threshold, "AUTHD_LOCKOUT_THRESHOLD", "10",
            "Consecutive failed passwords that lock a user out";
        lockout_duration, "AUTHD_LOCKOUT_DURATION", "15m",
            "How long a lockout lasts";
        show_lockout_failures, "AUTHD_SHOW_LOCKOUT_FAILURES", "false",
            "Answer LOCKED_OUT instead of \"Authentication failed\" to a locked user (true or false)";
        authn_rate_limit_per_ip, "AUTHD_AUTHN_RATE_LIMIT_PER_IP", "100",
            "Sign-in attempts (Authentication API, sign-in page, password grant) per minute from one client IP, per replica";
        authn_rate_limit_per_username, "AUTHD_AUTHN_RATE_LIMIT_PER_USERNAME", "20",
            "Sign-in attempts per minute for one username, counted across replicas";
        password_max_age, "AUTHD_PASSWORD_MAX_AGE", "0s",
            "Passwords expire this long after they were set; 0s for never";
        password_expiry_warning, "AUTHD_PASSWORD_EXPIRY_WARNING", "7d",
            "Sign-in warns (PASSWORD_WARN) this long before a password expires";
        trusted_proxies, "AUTHD_TRUSTED_PROXIES", none,
            "Load balancers whose X-Forwarded-For names the client: comma-separated IPs or CIDRs";
    }
}

/// `config/authd.example.toml`: every setting, commented out at its default, under what it
/// does.
pub fn example_toml() -> String {
    let mut text = String::from(
        "# authd configuration. Copy to config/authd.toml (read automatically when present) or \
         pass\n# --config <file>. Every key is optional; the value shown is the default. \
         Environment variables\n# (AUTHD_<KEY in upper case>) override this file, and \
         command-line flags (--<key-with-dashes>)\n# override both; secrets are never flags. \
         `authd config` prints the effective settings.\n",
    );
    for setting in SETTINGS {
        text.push('\n');
        for line in wrap(setting.doc, 96) {
            text.push_str("# ");
            text.push_str(&line);
            text.push('\n');
        }
        let default = setting.default.unwrap_or("");
        let value = if default.parse::<i64>().is_ok() || matches!(default, "true" | "false") {
            default.to_owned()
        } else {
            format!("{default:?}")
        };
        text.push_str(&format!("# {} = {value}\n", setting.key));
    }
    text
}

/// The README's configuration reference: one row per setting, its default and what it does.
pub fn reference_table() -> String {
    let mut table = String::from("| setting | default | |\n|---|---|---|\n");
    for setting in SETTINGS {
        let default = setting
            .default
            .map_or("none".to_owned(), |default| format!("`{default}`"));
        table.push_str(&format!(
            "| `{}` | {default} | {} |\n",
            setting.env, setting.doc
        ));
    }
    table
}

/// `text` in lines of at most `width` characters (a longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().map_or(0, |line| line.chars().count());
        if line > 0 && line + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        let last = lines.len() - 1;
        if !lines[last].is_empty() {
            lines[last].push(' ');
        }
        lines[last].push_str(word);
    }
    lines
}
