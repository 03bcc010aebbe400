//! Users' groups kept in memory between token requests. Each entry is kept under the user's
//! groups revision ([`crate::model::User::groups_revision`]), which the database bumps with
//! every change to the user's groups and which every token request reads with the user: an
//! entry whose revision the user row no longer shows is never used, whichever replica made the
//! change. A user in hundreds of groups then costs a token what one in a few does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::model::{Membership, Memberships, User};

/// The most memberships held, over all users: about 100 bytes each. Reaching it empties the
/// cache, which refills from the users who sign in next.
const MAX_HELD: usize = 200_000;

/// Users' groups by user id, each as read at one revision.
#[derive(Debug, Default)]
pub struct MembershipCache {
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    by_user: HashMap<String, (i64, Arc<[Membership]>)>,
    memberships: usize,
}

impl MembershipCache {
    /// The user's groups, if they were read at the revision the user row shows.
    pub fn get(&self, user: &User) -> Option<Arc<[Membership]>> {
        let held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.by_user
            .get(user.id.as_str())
            .filter(|(revision, _)| *revision == user.groups_revision)
            .map(|(_, groups)| groups.clone())
    }

    /// Keeps the groups just read for the user, and hands them back.
    pub fn put(&self, user_id: &str, read: Memberships) -> Arc<[Membership]> {
        let groups: Arc<[Membership]> = read.groups.into();
        if groups.len() > MAX_HELD {
            return groups;
        }
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.memberships + groups.len() > MAX_HELD {
            held.by_user.clear();
            held.memberships = 0;
        }
        held.memberships += groups.len();
        if let Some((_, replaced)) = held
            .by_user
            .insert(user_id.to_owned(), (read.revision, groups.clone()))
        {
            held.memberships -= replaced.len();
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(revision: i64) -> User {
        User {
            id: crate::model::UserId::parse("00ualice000000000001").unwrap(),
            status: crate::model::UserStatus::Active,
            login: "alice@example.com".to_owned(),
            profile: serde_json::Map::new(),
            password_hash: None,
            created_at: crate::model::Timestamp::from_unix(0),
            activated_at: None,
            status_changed_at: None,
            last_login_at: None,
            updated_at: crate::model::Timestamp::from_unix(0),
            password_changed_at: None,
            failed_sign_ins: 0,
            locked_until: None,
            tokens_valid_after: None,
            groups_revision: revision,
        }
    }

    fn read(revision: i64, names: &[&str]) -> Memberships {
        Memberships {
            revision,
            groups: names
                .iter()
                .map(|name| Membership {
                    id: format!("00g{name}"),
                    name: (*name).to_owned(),
                })
                .collect(),
        }
    }

    #[test]
    fn groups_are_served_only_at_the_revision_they_were_read_at() {
        let cache = MembershipCache::default();
        let id = user(3).id.as_str().to_owned();
        assert!(cache.get(&user(3)).is_none());
        cache.put(&id, read(3, &["a", "b"]));
        assert_eq!(cache.get(&user(3)).unwrap().len(), 2);
        // The user's groups changed since: what was read before is not used.
        assert!(cache.get(&user(4)).is_none());
        cache.put(&id, read(4, &["a"]));
        assert_eq!(cache.get(&user(4)).unwrap()[0].name, "a");
        assert!(cache.get(&user(3)).is_none());
        assert_eq!(cache.held.lock().unwrap().memberships, 1);
    }

    #[test]
    fn the_cache_empties_rather_than_grow_past_its_bound() {
        let cache = MembershipCache::default();
        let names: Vec<String> = (0..MAX_HELD / 2 + 1).map(|n| n.to_string()).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        cache.put("00ufirst", read(1, &names));
        cache.put("00usecond", read(1, &names));
        let held = cache.held.lock().unwrap();
        assert_eq!(held.by_user.len(), 1);
        assert!(held.by_user.contains_key("00usecond"));
        assert_eq!(held.memberships, names.len());
    }
}
