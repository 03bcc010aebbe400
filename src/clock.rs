//! The current time, injected so that expiry and rotation can be tested without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::model::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time, in whole seconds since the Unix epoch.
    fn now(&self) -> Timestamp;

    /// The current time in milliseconds since the Unix epoch, for what records when, not what
    /// expires: the System Log.
    fn now_millis(&self) -> i64 {
        self.now().unix().saturating_mul(1000)
    }
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "this is the one place that reads the system time"
    )]
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::from_unix(since_epoch.as_secs() as i64)
    }

    #[expect(
        clippy::disallowed_methods,
        reason = "this is the one place that reads the system time"
    )]
    fn now_millis(&self) -> i64 {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct TestClock {
    seconds: AtomicI64,
}

impl TestClock {
    /// A clock standing at the given time.
    pub fn new(start: Timestamp) -> Self {
        Self {
            seconds: AtomicI64::new(start.unix()),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.seconds
            .fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix(self.seconds.load(Ordering::SeqCst))
    }
}
