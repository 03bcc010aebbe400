use std::fmt;

use rand::distr::Alphanumeric;
use rand::RngExt as _;

/// A new Okta-style object id: a three-character type prefix and 17 random characters.
pub fn new_okta_id(prefix: &str) -> String {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20 - prefix.len())
        .map(char::from)
        .collect();
    format!("{prefix}{random}")
}

/// An Okta-style id that is always the same for the same prefix and seed, for objects whose
/// stored form predates their ids.
pub fn derived_okta_id(prefix: &str, seed: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{}", &hex[..20 - prefix.len()])
}

/// An id that cannot be used in a URL path segment.
#[derive(Debug, thiserror::Error)]
#[error("{what} must be 1 to 100 characters from A-Z, a-z, 0-9, '-', '_' and '.', got {value:?}")]
pub struct InvalidId {
    what: &'static str,
    value: String,
}

fn check_path_safe(what: &'static str, value: &str) -> Result<(), InvalidId> {
    let ok = !value.is_empty()
        && value.len() <= 100
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(InvalidId {
            what,
            value: value.to_owned(),
        })
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks that `value` is usable as this id.
            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidId> {
                let value = value.into();
                check_path_safe($what, &value)?;
                Ok(Self(value))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

string_id!(
    /// An authorization server's id: `default`, an Okta-style `aus…` id, or a seeded name.
    AuthServerId,
    "an authorization server id"
);
string_id!(
    /// An OAuth client id, which is also the Okta app id.
    ClientId,
    "a client id"
);
string_id!(
    /// A user's Okta id (`00u…`).
    UserId,
    "a user id"
);
string_id!(
    /// A signing key's id as published in the JWKS (its RFC 7638 thumbprint).
    Kid,
    "a key id"
);

string_id!(
    /// A sign-in session's Okta id (`102…`). Not a secret: the `sid` cookie is a separate one.
    SessionId,
    "a session id"
);

impl SessionId {
    /// A fresh random session id.
    pub fn generate() -> Self {
        Self(new_okta_id("102"))
    }
}

impl AuthServerId {
    /// The org authorization server: issuer = base URL, endpoints under `/oauth2/v1`.
    pub fn org() -> Self {
        Self("org".to_owned())
    }

    /// The custom authorization server every installation starts with.
    pub fn default_server() -> Self {
        Self("default".to_owned())
    }

    /// Whether this is the org authorization server.
    pub fn is_org(&self) -> bool {
        self.0 == "org"
    }
}

impl UserId {
    /// A fresh random user id.
    pub fn generate() -> Self {
        Self(new_okta_id("00u"))
    }
}

impl ClientId {
    /// A fresh random client id.
    pub fn generate() -> Self {
        Self(new_okta_id("0oa"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_okta_shape() {
        let id = UserId::generate();
        assert_eq!(id.as_str().len(), 20);
        assert!(id.as_str().starts_with("00u"));
        assert!(ClientId::generate().as_str().starts_with("0oa"));
        assert_ne!(UserId::generate(), UserId::generate());
    }

    #[test]
    fn ids_that_would_break_a_path_are_refused() {
        for bad in ["", "a/b", "a b", "ä", "x?y", &"a".repeat(101)] {
            assert!(AuthServerId::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(AuthServerId::parse("aus1a2B3-c_d.e").is_ok());
    }
}
