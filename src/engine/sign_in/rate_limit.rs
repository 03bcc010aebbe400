//! Fixed-window request limits, as Okta reports them in `X-Rate-Limit-*` headers.
//!
//! [`RateLimiter`] counts in this process: the per-IP limits, a first line that costs no
//! database round trip, where each replica enforcing its own share is acceptable. Limits that
//! must hold across replicas (per username) count in the database through
//! [`RateInfo::for_count`] and the same windows.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::Timestamp;

const WINDOW_SECONDS: i64 = 60;
/// The most keys tracked at once. Ended windows are dropped when a new window starts; keys
/// beyond this within one window are not tracked (the per-IP limit, checked first, still
/// holds), so a flood of distinct usernames cannot grow memory without bound.
const MAX_TRACKED_KEYS: usize = 100_000;

/// Where a caller stands against a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateInfo {
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests left in this window.
    pub remaining: u32,
    /// When the window ends.
    pub reset: Timestamp,
}

impl RateInfo {
    /// The standing after `count` requests in the window starting at `window_start`; `Err`
    /// if that is over `limit`.
    pub fn for_count(limit: u32, count: u64, window_start: Timestamp) -> Result<Self, Self> {
        let info = Self {
            limit,
            remaining: u32::try_from(u64::from(limit).saturating_sub(count)).unwrap_or(0),
            reset: Timestamp::from_unix(window_start.unix() + WINDOW_SECONDS),
        };
        if count > u64::from(limit) {
            Err(info)
        } else {
            Ok(info)
        }
    }
}

/// The start of the one-minute window `now` falls in.
pub fn window_start(now: Timestamp) -> Timestamp {
    Timestamp::from_unix(now.unix() - now.unix().rem_euclid(WINDOW_SECONDS))
}

/// Requests per minute per key.
pub struct RateLimiter {
    per_window: u32,
    windows: Mutex<Windows>,
}

#[derive(Default)]
struct Windows {
    /// Start of the window the map was last swept in.
    swept: i64,
    counts: HashMap<String, (i64, u32)>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per key per minute.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_window: per_minute,
            windows: Mutex::new(Windows::default()),
        }
    }

    /// The key's standing if it is over the limit in the current window, counting nothing.
    pub fn exceeded(&self, key: &str, now: Timestamp) -> Option<RateInfo> {
        let window_start = now.unix() - now.unix().rem_euclid(WINDOW_SECONDS);
        let windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (start, count) = *windows.counts.get(key)?;
        (start == window_start && count >= self.per_window).then(|| RateInfo {
            limit: self.per_window,
            remaining: 0,
            reset: Timestamp::from_unix(window_start + WINDOW_SECONDS),
        })
    }

    /// Counts one request for `key`; `Err` if it is over the limit.
    pub fn hit(&self, key: &str, now: Timestamp) -> Result<RateInfo, RateInfo> {
        let window_start = now.unix() - now.unix().rem_euclid(WINDOW_SECONDS);
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.swept != window_start {
            windows
                .counts
                .retain(|_, (start, _)| *start == window_start);
            windows.swept = window_start;
        }
        let untracked = RateInfo {
            limit: self.per_window,
            remaining: self.per_window.saturating_sub(1),
            reset: Timestamp::from_unix(window_start + WINDOW_SECONDS),
        };
        let tracked = windows.counts.len();
        let entry = match windows.counts.get_mut(key) {
            Some(entry) => entry,
            None if tracked >= MAX_TRACKED_KEYS => return Ok(untracked),
            None => windows
                .counts
                .entry(key.to_owned())
                .or_insert((window_start, 0)),
        };
        if entry.0 != window_start {
            *entry = (window_start, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        let info = RateInfo {
            limit: self.per_window,
            remaining: self.per_window.saturating_sub(entry.1),
            reset: Timestamp::from_unix(window_start + WINDOW_SECONDS),
        };
        if entry.1 > self.per_window {
            Err(info)
        } else {
            Ok(info)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_within_a_window_and_resets_after() {
        let limiter = RateLimiter::new(2);
        let t = Timestamp::from_unix(120);
        assert_eq!(limiter.hit("ip", t).unwrap().remaining, 1);
        assert_eq!(limiter.hit("ip", t).unwrap().remaining, 0);
        let over = limiter.hit("ip", Timestamp::from_unix(179)).unwrap_err();
        assert_eq!(over.reset, Timestamp::from_unix(180));
        assert!(limiter.hit("other", t).is_ok(), "keys are independent");
        assert!(limiter.hit("ip", Timestamp::from_unix(180)).is_ok());
    }
}
