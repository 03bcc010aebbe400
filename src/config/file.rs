//! The config-file layer: every setting optional, unknown keys refused.

use std::path::Path;

use serde::Deserialize;

use super::Error;

/// Settings as written in `authd.toml`; each key is the env name without `AUTHD_`, lower case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub listen: Option<Scalar>,
    pub base_url: Option<Scalar>,
    pub database_url: Option<Scalar>,
    pub database_timeout: Option<Scalar>,
    pub api_token_window: Option<Scalar>,
    pub header_read_timeout: Option<Scalar>,
    pub request_body_timeout: Option<Scalar>,
    pub keep_alive_timeout: Option<Scalar>,
    pub shutdown_timeout: Option<Scalar>,
    pub secret_key: Option<Scalar>,
    pub admin_token: Option<Scalar>,
    pub seed_file: Option<Scalar>,
    pub log_format: Option<Scalar>,
    pub key_rotation_interval: Option<Scalar>,
    pub jwks_cache_lifetime: Option<Scalar>,
    pub key_check_interval: Option<Scalar>,
    pub access_token_lifetime: Option<Scalar>,
    pub id_token_lifetime: Option<Scalar>,
    pub refresh_token_idle_lifetime: Option<Scalar>,
    pub refresh_token_max_lifetime: Option<Scalar>,
    pub argon2_memory_kib: Option<Scalar>,
    pub argon2_iterations: Option<Scalar>,
    pub argon2_parallelism: Option<Scalar>,
    pub session_token_lifetime: Option<Scalar>,
    pub session_idle_lifetime: Option<Scalar>,
    pub session_max_lifetime: Option<Scalar>,
    pub lockout_threshold: Option<Scalar>,
    pub lockout_duration: Option<Scalar>,
    pub show_lockout_failures: Option<Scalar>,
    pub authn_rate_limit_per_ip: Option<Scalar>,
    pub authn_rate_limit_per_username: Option<Scalar>,
    pub password_max_age: Option<Scalar>,
    pub password_expiry_warning: Option<Scalar>,
    pub trusted_proxies: Option<Scalar>,
}

/// A setting's value as written: numbers need no quotes.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Text(String),
    Integer(i64),
    Boolean(bool),
}

impl Scalar {
    pub fn into_string(self) -> String {
        match self {
            Scalar::Text(text) => text,
            Scalar::Integer(number) => number.to_string(),
            Scalar::Boolean(flag) => flag.to_string(),
        }
    }
}

impl FileSettings {
    /// Reads and parses a config file.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|err| Error::ParseFile {
            path: path.to_owned(),
            message: err.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setting is documented in the example file, with a value that parses.
    #[test]
    fn the_example_file_documents_every_setting() {
        let example = include_str!("../../config/authd.example.toml");
        let uncommented: String = example
            .lines()
            .filter_map(|line| line.strip_prefix("# "))
            .filter(|line| {
                line.split_once(" = ").is_some_and(|(key, _)| {
                    key.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                })
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let settings: FileSettings = toml::from_str(&uncommented).unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("None"), "undocumented setting: {debug}");
    }
}
