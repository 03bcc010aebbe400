use super::Timestamp;

wire_enum!(
    /// What kind of group (Okta's `type`).
    GroupType, "group type" {
        /// Made and managed through the Groups API or the seed file.
        OktaGroup = "OKTA_GROUP",
        /// Okta's `Everyone`: every user is a member, and it cannot be changed.
        BuiltIn = "BUILT_IN",
    }
);

/// The name of Okta's built-in group of every user.
pub const EVERYONE: &str = "Everyone";

/// A group of users, for app assignments, policy rules and the `groups` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Okta id (`00g…`).
    pub id: String,
    /// Its kind.
    pub kind: GroupType,
    /// `profile.name`: unique among groups, in any case.
    pub name: String,
    /// `profile.description`.
    pub description: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its profile last changed.
    pub updated_at: Timestamp,
    /// When a member was last added or removed.
    pub membership_updated_at: Timestamp,
}

impl Group {
    /// Whether it is `Everyone`, whose members are every user and which nobody changes.
    pub fn is_built_in(&self) -> bool {
        self.kind == GroupType::BuiltIn
    }
}

/// A group a user is in, as claims and policy rules see it: its id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The group's id.
    pub id: String,
    /// The group's name.
    pub name: String,
}

/// A user's groups, `Everyone` included, as read at one revision of them
/// ([`crate::model::User::groups_revision`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memberships {
    /// The user's groups revision when they were read.
    pub revision: i64,
    /// The groups, in any order.
    pub groups: Vec<Membership>,
}

wire_enum!(
    /// How a user came to be assigned to an app (Okta's app user `scope`).
    AssignmentScope, "assignment scope" {
        /// Assigned directly.
        User = "USER",
        /// Assigned through a group assigned to the app.
        Group = "GROUP",
    }
);

/// A user assigned to an app directly (Okta's app user with scope `USER`).
#[derive(Debug, Clone, PartialEq)]
pub struct AppUserAssignment {
    /// The app's client id.
    pub app_id: String,
    /// The user's id.
    pub user_id: String,
    /// Okta's app user profile: attributes for this app only (`appuser.*` in expressions).
    pub profile: serde_json::Map<String, serde_json::Value>,
    /// `credentials.userName`, when set.
    pub user_name: Option<String>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A group assigned to an app: its members are assigned.
#[derive(Debug, Clone, PartialEq)]
pub struct AppGroupAssignment {
    /// The app's client id.
    pub app_id: String,
    /// The group's id.
    pub group_id: String,
    /// Okta's `priority`: which group's profile wins for a member of several (0 first).
    pub priority: u32,
    /// Attributes its members get for this app.
    pub profile: serde_json::Map<String, serde_json::Value>,
    /// When it last changed.
    pub updated_at: Timestamp,
}

wire_enum!(
    /// How a `GROUPS` claim picks the user's groups by name (Okta's `group_filter_type`).
    GroupFilterType, "group filter type" {
        /// Names starting with the value, in any case.
        StartsWith = "STARTS_WITH",
        /// The name equal to the value, in any case.
        Equals = "EQUALS",
        /// Names containing the value, in any case.
        Contains = "CONTAINS",
        /// Names the regular expression matches whole, case-sensitively.
        Regex = "REGEX",
    }
);

/// A compiled group filter: which names a `GROUPS` claim includes.
#[derive(Debug, Clone)]
pub enum GroupFilter {
    /// A case-insensitive comparison with this lowercased value.
    Text(GroupFilterType, String),
    /// A regular expression anchored at both ends.
    Regex(regex::Regex),
}

impl GroupFilter {
    /// The filter of a claim; `Err` with the reason if a regular expression does not compile.
    pub fn new(kind: GroupFilterType, value: &str) -> Result<Self, String> {
        match kind {
            GroupFilterType::Regex => whole_name_regex(value).map(GroupFilter::Regex),
            other => Ok(GroupFilter::Text(other, value.to_lowercase())),
        }
    }

    /// Whether a group of this name is included.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            GroupFilter::Regex(regex) => regex.is_match(name),
            // Most names are ASCII, whose lowercase is ASCII's: compared without a copy, as
            // a token may test hundreds of names.
            GroupFilter::Text(kind, value) if name.is_ascii() => {
                let (name, value) = (name.as_bytes(), value.as_bytes());
                match kind {
                    GroupFilterType::StartsWith => name
                        .get(..value.len())
                        .is_some_and(|start| start.eq_ignore_ascii_case(value)),
                    GroupFilterType::Equals => name.eq_ignore_ascii_case(value),
                    GroupFilterType::Contains => {
                        value.is_empty()
                            || name
                                .windows(value.len())
                                .any(|window| window.eq_ignore_ascii_case(value))
                    }
                    GroupFilterType::Regex => false,
                }
            }
            GroupFilter::Text(kind, value) => {
                let name = name.to_lowercase();
                match kind {
                    GroupFilterType::StartsWith => name.starts_with(value.as_str()),
                    GroupFilterType::Equals => name == *value,
                    GroupFilterType::Contains => name.contains(value.as_str()),
                    GroupFilterType::Regex => false,
                }
            }
        }
    }
}

/// The most memory a group name pattern may compile to: far more than any name filter needs.
const MAX_REGEX_SIZE: usize = 256 * 1024;

/// A regular expression that matches whole names only, as Java's `matches` does (Okta's
/// regex filters); `Err` with the reason if it does not compile. The pattern must compile on
/// its own first, so that one like `a)|(b` cannot escape the anchors.
pub fn whole_name_regex(pattern: &str) -> Result<regex::Regex, String> {
    let build = |pattern: &str| {
        regex::RegexBuilder::new(pattern)
            .size_limit(MAX_REGEX_SIZE)
            .build()
            .map_err(|err| format!("{pattern:?} is not a regular expression: {err}"))
    };
    build(pattern)?;
    build(&format!("^(?:{pattern})$"))
}

/// The most groups a `GROUPS` claim may hold: Okta refuses the token request when more match.
pub const MAX_GROUPS_IN_CLAIM: usize = 100;

/// An app's groups claim in ID tokens of the org authorization server, for the `groups`
/// scope: Okta's "Groups claim" setting of an OpenID Connect app, which Okta keeps outside its
/// public Apps API and authd keeps under the app's `authd.groupsClaim`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppGroupsClaim {
    /// The claim's name (`groups`).
    pub name: String,
    /// `GROUPS` (a filter) or `EXPRESSION`.
    #[serde(alias = "value_type")]
    pub value_type: crate::model::ClaimValueType,
    /// The filter, for `GROUPS`.
    #[serde(
        default,
        alias = "group_filter_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub group_filter_type: Option<GroupFilterType>,
    /// The filter's value, or the expression.
    pub value: String,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{GroupFilter, GroupFilterType};

    proptest! {
        /// ASCII names are compared without lowercasing a copy: the answers are those of
        /// comparing lowercased copies.
        #[test]
        fn text_filters_answer_as_lowercased_comparisons(
            value in "[a-cA-C\u{212a}kK\u{e9}\u{c9}-]{0,3}",
            name in "[a-cA-C\u{212a}kK\u{e9}\u{c9}-]{0,6}",
        ) {
            let (lower_value, lower_name) = (value.to_lowercase(), name.to_lowercase());
            for (kind, expected) in [
                (GroupFilterType::StartsWith, lower_name.starts_with(&lower_value)),
                (GroupFilterType::Equals, lower_name == lower_value),
                (GroupFilterType::Contains, lower_name.contains(&lower_value)),
            ] {
                let filter = GroupFilter::new(kind, &value).unwrap();
                prop_assert_eq!(filter.matches(&name), expected, "{:?}", kind);
            }
        }
    }

    #[test]
    fn group_filters_compare_names_as_okta_does() {
        let matches =
            |kind, value: &str, name: &str| GroupFilter::new(kind, value).unwrap().matches(name);
        assert!(matches(GroupFilterType::StartsWith, "group1", "Group123"));
        assert!(!matches(GroupFilterType::StartsWith, "group1", "my-group1"));
        assert!(matches(GroupFilterType::Equals, "admins", "Admins"));
        assert!(!matches(GroupFilterType::Equals, "admins", "Admins2"));
        assert!(matches(GroupFilterType::Contains, "PORT", "reports"));
        assert!(matches(GroupFilterType::Regex, ".*", "anything"));
        assert!(matches(GroupFilterType::Regex, "app-[a-z]+", "app-billing"));
        // Whole names, and case-sensitive.
        assert!(!matches(GroupFilterType::Regex, "app", "app-billing"));
        assert!(!matches(GroupFilterType::Regex, "app-.*", "App-billing"));
        assert!(GroupFilter::new(GroupFilterType::Regex, "(").is_err());
        // A pattern cannot close the anchoring group and match part of a name.
        assert!(GroupFilter::new(GroupFilterType::Regex, "a)|(b").is_err());
    }
}
