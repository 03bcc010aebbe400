use std::time::Duration;

/// A point in time, in whole seconds since the Unix epoch (the resolution of JWT claims).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The time `seconds` after the Unix epoch.
    pub const fn from_unix(seconds: i64) -> Self {
        Self(seconds)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// This time moved forward by `by` (saturating far in the future).
    pub fn plus(self, by: Duration) -> Self {
        let by = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(by))
    }
}

/// `millis` after the Unix epoch in ISO 8601 with milliseconds: `2015-11-03T10:15:57.123Z`.
pub fn okta_time_millis(millis: i64) -> String {
    let millis = u64::try_from(millis).unwrap_or(0);
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + Duration::from_millis(millis))
        .to_string()
}

impl Timestamp {
    /// ISO 8601 in UTC with milliseconds, as Okta writes times: `2015-11-03T10:15:57.000Z`.
    pub fn to_okta_string(self) -> String {
        let seconds = u64::try_from(self.0).unwrap_or(0);
        let time = std::time::UNIX_EPOCH + Duration::from_secs(seconds);
        humantime::format_rfc3339_millis(time).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn okta_timestamps_have_milliseconds_and_zulu() {
        assert_eq!(
            Timestamp::from_unix(1_446_545_757).to_okta_string(),
            "2015-11-03T10:15:57.000Z"
        );
    }
}
