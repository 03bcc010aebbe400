use std::collections::BTreeSet;
use std::fmt;

/// The org authorization server's scope for the app's groups claim in ID tokens (Okta's
/// "Groups claim" setting of an app, `authd.groupsClaim` here).
pub const ORG_GROUPS_SCOPE: &str = "groups";

/// The scopes OpenID Connect defines, which every authorization server knows.
pub const OIDC_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

/// A set of scope tokens (RFC 6749 §3.3), kept sorted so that it prints the same every time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<String>);

/// A `scope` parameter that is not a space-separated list of scope tokens.
#[derive(Debug, thiserror::Error)]
#[error("scope {0:?} has a character RFC 6749 §3.3 does not allow")]
pub struct InvalidScope(pub String);

impl ScopeSet {
    /// Parses a space-separated `scope` parameter; an empty parameter is an empty set.
    pub fn parse(text: &str) -> Result<Self, InvalidScope> {
        let mut scopes = BTreeSet::new();
        for token in text.split(' ').filter(|token| !token.is_empty()) {
            // scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
            let valid = token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
            if !valid {
                return Err(InvalidScope(token.to_owned()));
            }
            scopes.insert(token.to_owned());
        }
        Ok(Self(scopes))
    }

    /// A set of the given scopes.
    pub fn from_scopes<I: IntoIterator<Item = S>, S: Into<String>>(scopes: I) -> Self {
        Self(scopes.into_iter().map(Into::into).collect())
    }

    /// Whether the scope is in the set.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Whether there are no scopes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes as a list, for the `scp` claim and storage.
    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().cloned().collect()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(scope)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A scope token: 1*( %x21 / %x23-5B / %x5D-7E ).
    const TOKEN: &str = "[!#-\\[\\]-~]{1,12}";

    proptest! {
        #[test]
        fn any_tokens_joined_by_spaces_parse_to_their_set_and_print_back(
            tokens in proptest::collection::vec(TOKEN, 0..6),
            gaps in proptest::collection::vec(1usize..4, 6),
        ) {
            let text = tokens
                .iter()
                .zip(&gaps)
                .map(|(token, gap)| format!("{token}{}", " ".repeat(*gap)))
                .collect::<String>();
            let parsed = ScopeSet::parse(&text).unwrap();
            prop_assert_eq!(&parsed, &ScopeSet::from_scopes(tokens.iter().cloned()));
            prop_assert_eq!(ScopeSet::parse(&parsed.to_string()).unwrap(), parsed);
        }

        #[test]
        fn a_token_with_a_character_outside_the_grammar_is_refused(
            before in "[!#-\\[]{0,5}",
            bad in "[\"\\\\\\x00-\\x1f\\x7f\\u{80}-\\u{10ffff}]",
            after in "[!#-\\[]{0,5}",
        ) {
            let text = format!("openid {before}{bad}{after}");
            prop_assert!(ScopeSet::parse(&text).is_err(), "{:?} parsed", text);
        }
    }

    #[test]
    fn scopes_parse_from_spaces_and_print_sorted() {
        let scopes = ScopeSet::parse("openid  profile api.read openid").unwrap();
        assert_eq!(scopes.to_string(), "api.read openid profile");
        assert!(ScopeSet::parse("").unwrap().is_empty());
        assert!(ScopeSet::parse("bad\"quote").is_err());
        assert!(ScopeSet::parse("back\\slash").is_err());
    }
}
