use std::time::Duration;

/// A point in time, in whole seconds since the Unix epoch (the resolution of JWT claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
