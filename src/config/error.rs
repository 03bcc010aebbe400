use std::path::PathBuf;

/// Why the configuration cannot be used. Every message names the setting by its environment
/// variable, because that is what an operator of a container sets.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting has a value that cannot be used.
    #[error("{setting}: {problem}")]
    Invalid {
        /// The environment variable's name, e.g. `AUTHD_LISTEN`.
        setting: &'static str,
        /// What is wrong with the value.
        problem: String,
    },
    /// A required setting is missing.
    #[error("{setting} is required {why}")]
    Missing {
        /// The environment variable's name.
        setting: &'static str,
        /// When it is required.
        why: &'static str,
    },
    /// The config file cannot be read.
    #[error("config file {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not valid TOML for our settings.
    #[error("config file {path}: {message}")]
    ParseFile {
        /// The file.
        path: PathBuf,
        /// The parser's message, which names the key and line.
        message: String,
    },
    /// The directory of the SQLite database cannot be created or written, so neither the
    /// database nor the development secret beside it can be kept there.
    #[error(
        "AUTHD_DATABASE_URL: the data directory {dir} cannot be written: {source} (choose a \
         writable path in AUTHD_DATABASE_URL)"
    )]
    DataDirectoryUnwritable {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The generated development secret could not be read.
    #[error("AUTHD_SECRET_KEY: cannot read the generated development secret in {path}: {source}")]
    DevSecret {
        /// The file beside the SQLite database.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(super) fn invalid(setting: &'static str, problem: impl Into<String>) -> Self {
        Error::Invalid {
            setting,
            problem: problem.into(),
        }
    }
}
