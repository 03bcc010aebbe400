//! When keys change: NEXT → ACTIVE → RETIRED → gone (DESIGN §3).
//!
//! Pure decisions over a server's key rows and the clock; the store applies them under a lock.

use std::time::Duration;

use crate::config::KeySettings;
use crate::model::{KeyState, SigningKey, Timestamp};

/// How long after its last possible token a retired key stays published, for verifiers whose
/// clocks run behind ours.
pub const CLOCK_SKEW_ALLOWANCE: Duration = Duration::from_secs(300);

/// What a server's keys need now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Nothing.
    Nothing,
    /// The server has no ACTIVE key: create ACTIVE and NEXT at once.
    Bootstrap,
    /// The server has no NEXT key: publish one.
    AddNext,
    /// The ACTIVE key has signed for the whole rotation interval and the NEXT key has been
    /// published long enough that every verifier's cached JWKS holds it.
    Rotate,
}

/// The ACTIVE and NEXT keys among a server's keys.
pub fn current(keys: &[SigningKey]) -> (Option<&SigningKey>, Option<&SigningKey>) {
    let find = |state| keys.iter().find(|key| key.state == state);
    (find(KeyState::Active), find(KeyState::Next))
}

/// What the schedule asks for at `now`.
pub fn scheduled(keys: &[SigningKey], now: Timestamp, settings: &KeySettings) -> Due {
    match current(keys) {
        (None, _) => Due::Bootstrap,
        (Some(_), None) => Due::AddNext,
        (Some(active), Some(next)) => {
            let signed_long_enough = now
                >= active
                    .activated_at
                    .unwrap_or(active.created_at)
                    .plus(settings.rotation_interval);
            // Another replica may serve a JWKS up to one check interval old.
            let published_long_enough = now
                >= next
                    .created_at
                    .plus(settings.jwks_cache_lifetime + settings.check_interval);
            if signed_long_enough && published_long_enough {
                Due::Rotate
            } else {
                Due::Nothing
            }
        }
    }
}

/// When a key retired at `now` may leave the JWKS: after the last token it signed has expired,
/// counting the replicas that sign with it until their next reload.
pub fn remove_after(now: Timestamp, settings: &KeySettings) -> Timestamp {
    now.plus(settings.max_token_lifetime + settings.check_interval + CLOCK_SKEW_ALLOWANCE)
}

/// Whether a key belongs in the published JWKS at `now`.
pub fn is_published(key: &SigningKey, now: Timestamp) -> bool {
    match key.state {
        KeyState::Active | KeyState::Next => true,
        KeyState::Retired => key.remove_after.is_some_and(|at| now < at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuthServerId, Kid, SigningAlg};

    const DAY: u64 = 86_400;

    fn settings() -> KeySettings {
        KeySettings {
            rotation_interval: Duration::from_secs(90 * DAY),
            jwks_cache_lifetime: Duration::from_secs(DAY),
            check_interval: Duration::from_secs(60),
            max_token_lifetime: Duration::from_secs(3600),
        }
    }

    fn key(kid: &str, state: KeyState, created: i64, activated: Option<i64>) -> SigningKey {
        SigningKey {
            kid: Kid::parse(kid).unwrap(),
            auth_server_id: AuthServerId::default_server(),
            alg: SigningAlg::RS256,
            state,
            public_jwk: "{}".into(),
            sealed_private_key: vec![],
            created_at: Timestamp::from_unix(created),
            activated_at: activated.map(Timestamp::from_unix),
            retired_at: None,
            remove_after: None,
        }
    }

    #[test]
    fn rotation_waits_for_the_interval_and_for_the_next_key_to_be_published() {
        let s = settings();
        let day = DAY as i64;
        let keys = [
            key("a", KeyState::Active, 0, Some(0)),
            key("b", KeyState::Next, 0, None),
        ];
        assert_eq!(
            scheduled(&keys, Timestamp::from_unix(89 * day), &s),
            Due::Nothing
        );
        assert_eq!(
            scheduled(&keys, Timestamp::from_unix(90 * day), &s),
            Due::Rotate
        );

        // A NEXT key created an hour ago must not sign yet, however old the ACTIVE key is.
        let fresh_next = [
            key("a", KeyState::Active, 0, Some(0)),
            key("b", KeyState::Next, 100 * day - 3600, None),
        ];
        assert_eq!(
            scheduled(&fresh_next, Timestamp::from_unix(100 * day), &s),
            Due::Nothing
        );
    }

    #[test]
    fn missing_keys_are_created() {
        let s = settings();
        let now = Timestamp::from_unix(0);
        assert_eq!(scheduled(&[], now, &s), Due::Bootstrap);
        assert_eq!(
            scheduled(&[key("a", KeyState::Active, 0, Some(0))], now, &s),
            Due::AddNext
        );
    }

    #[test]
    fn retired_keys_outlive_every_token_they_signed() {
        let s = settings();
        let retired_at = Timestamp::from_unix(1_000);
        let until = remove_after(retired_at, &s);
        assert!(until >= retired_at.plus(s.max_token_lifetime));
        let mut retired = key("a", KeyState::Retired, 0, Some(0));
        retired.remove_after = Some(until);
        assert!(is_published(
            &retired,
            retired_at.plus(s.max_token_lifetime)
        ));
        assert!(!is_published(&retired, until));
    }
}
