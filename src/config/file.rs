//! The config-file layer: every setting optional, unknown keys refused.

use std::path::Path;

use serde::Deserialize;

use super::settings::FileSettings;
use super::Error;

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
