//! Ending a user's or an app's access at once: its pending codes, sessions, refresh token
//! families, and the tokens issued before.

pub(super) const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";
pub(super) const REVOKE_USER_GRANTS: &str = "INSERT INTO revoked_grants (grant_id, expires_at) \
     SELECT DISTINCT grant_id, $2 FROM refresh_tokens WHERE user_id = $1 \
     ON CONFLICT (grant_id) DO NOTHING";
pub(super) const REVOKE_USER_REFRESH_TOKENS: &str =
    "UPDATE refresh_tokens SET revoked = 1 WHERE user_id = $1";
pub(super) const CONSUME_USER_CODES: &str = "UPDATE authorization_codes SET consumed_at = $2 \
     WHERE user_id = $1 AND consumed_at IS NULL";
pub(super) const END_USER_TOKENS: &str = "UPDATE users SET tokens_valid_after = $2 WHERE id = $1";
pub(super) const CONSUME_CLIENT_CODES: &str = "UPDATE authorization_codes SET consumed_at = $2 \
     WHERE client_id = $1 AND consumed_at IS NULL";
pub(super) const REVOKE_CLIENT_GRANTS: &str = "INSERT INTO revoked_grants (grant_id, expires_at) \
     SELECT DISTINCT grant_id, $2 FROM refresh_tokens WHERE client_id = $1 \
     ON CONFLICT (grant_id) DO NOTHING";
pub(super) const REVOKE_CLIENT_REFRESH_TOKENS: &str =
    "UPDATE refresh_tokens SET revoked = 1 WHERE client_id = $1";
pub(super) const END_CLIENT_TOKENS: &str =
    "UPDATE clients SET tokens_valid_after = $2 WHERE id = $1";

/// What ending a user's or a client's access runs, each statement with `$1` = its id.
pub(super) struct AccessStatements {
    /// Statements with no other parameter.
    pub(super) by_id: &'static [&'static str],
    /// Revokes the families' grants; `$2` = until when.
    pub(super) revoke_grants: &'static str,
    /// Spends the unredeemed codes, so that a redemption under way stores nothing; `$2` = now.
    pub(super) consume_codes: &'static str,
    /// Sets `tokens_valid_after`; `$2` = now.
    pub(super) end_tokens: &'static str,
}

pub(super) const USER_ACCESS: AccessStatements = AccessStatements {
    by_id: &[DELETE_USER_SESSIONS, REVOKE_USER_REFRESH_TOKENS],
    revoke_grants: REVOKE_USER_GRANTS,
    consume_codes: CONSUME_USER_CODES,
    end_tokens: END_USER_TOKENS,
};

pub(super) const CLIENT_ACCESS: AccessStatements = AccessStatements {
    by_id: &[REVOKE_CLIENT_REFRESH_TOKENS],
    revoke_grants: REVOKE_CLIENT_GRANTS,
    consume_codes: CONSUME_CLIENT_CODES,
    end_tokens: END_CLIENT_TOKENS,
};

/// Expanded by [`super::portable::portable_stores`] for each backend.
macro_rules! implement {
    () => {
        use $crate::model::Timestamp;
        use $crate::store::access::AccessStatements;
        use $crate::store::query::Run;
        use $crate::store::Result;

        /// Ends what a user or client had, inside `tx`: pending codes first (a redemption
        /// racing this one then stores nothing), then sessions (a user's) and refresh families,
        /// their grants, and every token issued before `now`.
        pub(super) async fn end_access(
            tx: &mut sqlx::Transaction<'static, Db>,
            statements: &AccessStatements,
            id: &str,
            now: Timestamp,
            until: Timestamp,
        ) -> Result<()> {
            let bind_at = |statement: &'static str, at: Timestamp| {
                sqlx::query(statement).bind(id.to_owned()).bind(at.unix())
            };
            bind_at(statements.consume_codes, now)
                .run(&mut **tx)
                .await?;
            for statement in statements.by_id {
                sqlx::query(statement).bind(id).run(&mut **tx).await?;
            }
            for (statement, at) in [
                (statements.revoke_grants, until),
                (statements.end_tokens, now),
            ] {
                bind_at(statement, at).run(&mut **tx).await?;
            }
            Ok(())
        }
    };
}

pub(super) use implement;
