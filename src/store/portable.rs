//! The store operations whose SQL is the same on SQLite and PostgreSQL (both accept `$N`
//! placeholders). Each aggregate's module holds its statements, row types and an `implement!`
//! macro; [`portable_stores!`] expands all of them for one backend.
//!
//! Only what differs stays in the backend modules: connecting, migrations, error codes and the
//! statement that locks a server's keys.

pub const DIRECTORY_REVISION: &str = "SELECT revision FROM directory_revision WHERE id = 1";
pub const RECORD_HEALTH_CHECK: &str = "INSERT INTO health_checks (id, checked_at) \
     VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at";

/// Implements every per-aggregate store trait for a backend type that has a `pool` field, in a
/// module whose `Db` and `Pool` name the backend's sqlx types, for which
/// [`Backend`](super::query::Backend) is implemented, and with a statement in `$lock_keys`
/// that takes the server's row lock inside a transaction (`$1` = server id). Each aggregate
/// gets a module of its own inside the backend's, so that what one uses of another is named.
macro_rules! portable_stores {
    ($store:ty, lock_keys = $lock_keys:expr) => {
        mod auth_servers {
            use super::*;
            $crate::store::auth_servers::implement!($store);
        }
        mod clients {
            use super::*;
            $crate::store::clients::implement!($store);
        }
        mod users {
            use super::*;
            $crate::store::users::implement!($store);
        }
        mod access {
            use super::*;
            $crate::store::access::implement!();
        }
        mod authn {
            use super::*;
            $crate::store::authn::implement!($store);
        }
        mod sessions {
            use super::*;
            $crate::store::sessions::implement!($store);
        }
        mod grants {
            use super::*;
            $crate::store::grants::implement!($store);
        }
        mod admin {
            use super::*;
            $crate::store::admin::implement!($store);
        }
        mod trusted_origins {
            use super::*;
            $crate::store::trusted_origins::implement!($store);
        }
        mod groups {
            use super::*;
            $crate::store::groups::implement!($store);
        }
        mod assignments {
            use super::*;
            $crate::store::assignments::implement!($store);
        }
        mod seed_entries {
            use super::*;
            $crate::store::seed_entries::implement!($store);
        }
        mod keys {
            use super::*;
            $crate::store::keys::implement!($store, lock_keys = $lock_keys);
        }

        impl $store {
            /// Brings rows written before a migration up to what this version reads.
            async fn materialise(&self) -> $crate::store::Result<()> {
                auth_servers::materialise_default_policies(&self.pool).await?;
                users::materialise_search_terms(&self.pool).await
            }
        }
    };
}

pub(crate) use portable_stores;
