//! The store as the engine uses it when metrics are kept: every operation is timed into
//! `authd_database_query_duration_seconds`, labelled with the operation's name, so that an
//! operator sees which of the database's round trips (a statement, or one transaction) is
//! slow. A server that keeps no metrics uses the store itself, and pays nothing.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use crate::metrics::Metrics;
use crate::model::{
    ApiToken, AppGroupAssignment, AppUserAssignment, AuthServer, AuthServerId, AuthorizationCode,
    Client, ClientId, ClientSecret, Group, LockoutPolicy, LogRange, Memberships, PendingAuthn,
    Presented, RefreshTokenRecord, Session, SessionId, SessionTokenGrant, SigningKey, Status,
    StoredLogEvent, Timestamp, TokenHash, TrustedOrigin, User, UserId, UserQuery,
};
use crate::store::{
    AdminStore, AssignmentStore, AuthServerStore, AuthnStore, ClientStore, DirectoryNotices,
    GrantStore, GroupStore, KeyStore, PoolUse, Result, RotatedSuccessor, RotationOutcome,
    RotationPlan, SeedStore, SessionStore, Store, TrustedOriginStore, UserStore,
};

/// A store whose operations are timed.
pub(super) struct TimedStore {
    inner: Arc<dyn Store>,
    metrics: Metrics,
}

impl TimedStore {
    /// The store to use: `inner` itself when nothing is recorded.
    pub(super) fn wrap(inner: Arc<dyn Store>, metrics: &Metrics) -> Arc<dyn Store> {
        if metrics.is_recording() {
            Arc::new(Self {
                inner,
                metrics: metrics.clone(),
            })
        } else {
            inner
        }
    }

    async fn timed<T>(&self, operation: &'static str, run: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let result = run.await;
        self.metrics.time_static(
            "authd_database_query_duration_seconds",
            &[("operation", operation)],
            started.elapsed(),
        );
        result
    }
}

#[async_trait]
impl Store for TimedStore {
    async fn migrate(&self) -> Result<()> {
        self.inner.migrate().await
    }

    async fn ping(&self) -> Result<()> {
        self.timed("ping", self.inner.ping()).await
    }

    fn pool_use(&self) -> PoolUse {
        self.inner.pool_use()
    }

    async fn check_writable(&self, now: Timestamp) -> Result<()> {
        self.timed("check_writable", self.inner.check_writable(now))
            .await
    }

    async fn close(&self) {
        self.inner.close().await;
    }

    async fn directory_revision(&self) -> Result<i64> {
        self.timed("directory_revision", self.inner.directory_revision())
            .await
    }

    async fn directory_notices(&self) -> Result<Option<Box<dyn DirectoryNotices>>> {
        self.inner.directory_notices().await
    }
}

#[async_trait]
impl AdminStore for TimedStore {
    async fn insert_api_token(&self, token: &ApiToken, hash: &TokenHash) -> Result<()> {
        self.timed("insert_api_token", self.inner.insert_api_token(token, hash))
            .await
    }

    async fn use_api_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
        unused_since: Timestamp,
    ) -> Result<Option<ApiToken>> {
        self.timed(
            "use_api_token",
            self.inner.use_api_token(hash, now, unused_since),
        )
        .await
    }

    async fn list_api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.timed("list_api_tokens", self.inner.list_api_tokens())
            .await
    }

    async fn delete_api_token(&self, id: &str) -> Result<bool> {
        self.timed("delete_api_token", self.inner.delete_api_token(id))
            .await
    }

    async fn append_log_event(
        &self,
        published_ms: i64,
        event_type: &str,
        json: &str,
    ) -> Result<()> {
        self.timed(
            "append_log_event",
            self.inner.append_log_event(published_ms, event_type, json),
        )
        .await
    }

    async fn log_events(&self, range: &LogRange) -> Result<Vec<StoredLogEvent>> {
        self.timed("log_events", self.inner.log_events(range)).await
    }

    async fn prune_log_events(&self, before_ms: i64) -> Result<u64> {
        self.timed("prune_log_events", self.inner.prune_log_events(before_ms))
            .await
    }
}

#[async_trait]
impl AuthServerStore for TimedStore {
    async fn get_auth_server(&self, id: &AuthServerId) -> Result<AuthServer> {
        self.timed("get_auth_server", self.inner.get_auth_server(id))
            .await
    }

    async fn list_auth_servers(&self) -> Result<Vec<AuthServer>> {
        self.timed("list_auth_servers", self.inner.list_auth_servers())
            .await
    }

    async fn insert_auth_server(&self, server: &AuthServer) -> Result<()> {
        self.timed("insert_auth_server", self.inner.insert_auth_server(server))
            .await
    }

    async fn insert_auth_server_with_keys(
        &self,
        server: &AuthServer,
        active: &SigningKey,
        next: &SigningKey,
    ) -> Result<()> {
        self.timed(
            "insert_auth_server_with_keys",
            self.inner
                .insert_auth_server_with_keys(server, active, next),
        )
        .await
    }

    async fn update_auth_server(&self, server: &AuthServer) -> Result<()> {
        self.timed("update_auth_server", self.inner.update_auth_server(server))
            .await
    }

    async fn delete_auth_server(&self, id: &AuthServerId) -> Result<bool> {
        self.timed("delete_auth_server", self.inner.delete_auth_server(id))
            .await
    }
}

#[async_trait]
impl AuthnStore for TimedStore {
    async fn count_sign_in_attempt(
        &self,
        key: &TokenHash,
        window_start: Timestamp,
    ) -> Result<(u64, Timestamp)> {
        self.timed(
            "count_sign_in_attempt",
            self.inner.count_sign_in_attempt(key, window_start),
        )
        .await
    }

    async fn record_failed_sign_in(
        &self,
        user: &UserId,
        now: Timestamp,
        policy: LockoutPolicy,
    ) -> Result<User> {
        self.timed(
            "record_failed_sign_in",
            self.inner.record_failed_sign_in(user, now, policy),
        )
        .await
    }

    async fn record_successful_sign_in(
        &self,
        user: &UserId,
        now: Timestamp,
        verified_hash: &str,
        rehashed_password: Option<&str>,
    ) -> Result<bool> {
        self.timed(
            "record_successful_sign_in",
            self.inner
                .record_successful_sign_in(user, now, verified_hash, rehashed_password),
        )
        .await
    }

    async fn replace_password(
        &self,
        user: &UserId,
        expected_hash: &str,
        new_hash: &str,
        now: Timestamp,
    ) -> Result<bool> {
        self.timed(
            "replace_password",
            self.inner
                .replace_password(user, expected_hash, new_hash, now),
        )
        .await
    }

    async fn insert_session_token(
        &self,
        token: &TokenHash,
        grant: &SessionTokenGrant,
    ) -> Result<()> {
        self.timed(
            "insert_session_token",
            self.inner.insert_session_token(token, grant),
        )
        .await
    }

    async fn consume_session_token(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<SessionTokenGrant>> {
        self.timed(
            "consume_session_token",
            self.inner.consume_session_token(token, now),
        )
        .await
    }

    async fn insert_transaction(&self, state: &TokenHash, pending: &PendingAuthn) -> Result<()> {
        self.timed(
            "insert_transaction",
            self.inner.insert_transaction(state, pending),
        )
        .await
    }

    async fn replace_recovery_token(
        &self,
        token: &TokenHash,
        pending: &PendingAuthn,
    ) -> Result<()> {
        self.timed(
            "replace_recovery_token",
            self.inner.replace_recovery_token(token, pending),
        )
        .await
    }

    async fn complete_recovery(&self, user: &User) -> Result<bool> {
        self.timed("complete_recovery", self.inner.complete_recovery(user))
            .await
    }

    async fn get_transaction(
        &self,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<PendingAuthn>> {
        self.timed("get_transaction", self.inner.get_transaction(state, now))
            .await
    }

    async fn consume_transaction(
        &self,
        state: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<PendingAuthn>> {
        self.timed(
            "consume_transaction",
            self.inner.consume_transaction(state, now),
        )
        .await
    }
}

#[async_trait]
impl ClientStore for TimedStore {
    async fn get_client(&self, id: &ClientId) -> Result<Client> {
        self.timed("get_client", self.inner.get_client(id)).await
    }

    async fn list_clients(&self) -> Result<Vec<Client>> {
        self.timed("list_clients", self.inner.list_clients()).await
    }

    async fn insert_client(&self, client: &Client, secret: Option<&ClientSecret>) -> Result<()> {
        self.timed("insert_client", self.inner.insert_client(client, secret))
            .await
    }

    async fn update_client(&self, client: &Client) -> Result<()> {
        self.timed("update_client", self.inner.update_client(client))
            .await
    }

    async fn delete_client(&self, id: &ClientId) -> Result<bool> {
        self.timed("delete_client", self.inner.delete_client(id))
            .await
    }

    async fn update_client_ending_access(&self, client: &Client, until: Timestamp) -> Result<()> {
        self.timed(
            "update_client_ending_access",
            self.inner.update_client_ending_access(client, until),
        )
        .await
    }

    async fn list_client_secrets(&self, id: &ClientId) -> Result<Vec<ClientSecret>> {
        self.timed("list_client_secrets", self.inner.list_client_secrets(id))
            .await
    }

    async fn add_client_secret(&self, secret: &ClientSecret) -> Result<bool> {
        self.timed("add_client_secret", self.inner.add_client_secret(secret))
            .await
    }

    async fn replace_client_and_secrets(
        &self,
        client: &Client,
        secret: Option<&ClientSecret>,
    ) -> Result<()> {
        self.timed(
            "replace_client_and_secrets",
            self.inner.replace_client_and_secrets(client, secret),
        )
        .await
    }

    async fn set_client_secret_status(
        &self,
        id: &ClientId,
        secret_id: &str,
        status: Status,
        now: Timestamp,
    ) -> Result<bool> {
        self.timed(
            "set_client_secret_status",
            self.inner
                .set_client_secret_status(id, secret_id, status, now),
        )
        .await
    }

    async fn delete_client_secret(&self, id: &ClientId, secret_id: &str) -> Result<bool> {
        self.timed(
            "delete_client_secret",
            self.inner.delete_client_secret(id, secret_id),
        )
        .await
    }

    async fn client_secret_hashes_like(&self, prefix: &str) -> Result<Vec<String>> {
        self.timed(
            "client_secret_hashes_like",
            self.inner.client_secret_hashes_like(prefix),
        )
        .await
    }

    async fn replace_client_secret_hash(&self, old: &str, new: &str) -> Result<bool> {
        self.timed(
            "replace_client_secret_hash",
            self.inner.replace_client_secret_hash(old, new),
        )
        .await
    }
}

#[async_trait]
impl GrantStore for TimedStore {
    async fn insert_authorization_code(
        &self,
        code: &TokenHash,
        grant: &AuthorizationCode,
    ) -> Result<()> {
        self.timed(
            "insert_authorization_code",
            self.inner.insert_authorization_code(code, grant),
        )
        .await
    }

    async fn find_authorization_code(
        &self,
        code: &TokenHash,
        now: Timestamp,
    ) -> Result<Presented<(AuthorizationCode, User)>> {
        self.timed(
            "find_authorization_code",
            self.inner.find_authorization_code(code, now),
        )
        .await
    }

    async fn consume_authorization_code(
        &self,
        code: &TokenHash,
        now: Timestamp,
        issued: Option<(&TokenHash, &RefreshTokenRecord)>,
    ) -> Result<bool> {
        self.timed(
            "consume_authorization_code",
            self.inner.consume_authorization_code(code, now, issued),
        )
        .await
    }

    async fn insert_refresh_token(
        &self,
        token: &TokenHash,
        record: &RefreshTokenRecord,
    ) -> Result<()> {
        self.timed(
            "insert_refresh_token",
            self.inner.insert_refresh_token(token, record),
        )
        .await
    }

    async fn find_refresh_token(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> Result<Presented<RefreshTokenRecord>> {
        self.timed(
            "find_refresh_token",
            self.inner.find_refresh_token(token, now),
        )
        .await
    }

    async fn rotate_refresh_token(
        &self,
        token: &TokenHash,
        now: Timestamp,
        successor: Option<(&TokenHash, &RefreshTokenRecord)>,
        sealed_successor: Option<&str>,
    ) -> Result<bool> {
        self.timed(
            "rotate_refresh_token",
            self.inner
                .rotate_refresh_token(token, now, successor, sealed_successor),
        )
        .await
    }

    async fn rotated_successor(&self, token: &TokenHash) -> Result<Option<RotatedSuccessor>> {
        self.timed("rotated_successor", self.inner.rotated_successor(token))
            .await
    }

    async fn extend_refresh_token(
        &self,
        token: &TokenHash,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool> {
        self.timed(
            "extend_refresh_token",
            self.inner.extend_refresh_token(token, now, expires_at),
        )
        .await
    }

    async fn revoke_grant(&self, grant_id: &str, until: Timestamp) -> Result<()> {
        self.timed("revoke_grant", self.inner.revoke_grant(grant_id, until))
            .await
    }

    async fn revoke_access_token(&self, jti: &str, until: Timestamp) -> Result<()> {
        self.timed(
            "revoke_access_token",
            self.inner.revoke_access_token(jti, until),
        )
        .await
    }

    async fn is_access_token_revoked(&self, jti: &str, grant_id: &str) -> Result<bool> {
        self.timed(
            "is_access_token_revoked",
            self.inner.is_access_token_revoked(jti, grant_id),
        )
        .await
    }

    async fn access_token_user(
        &self,
        jti: &str,
        grant_id: &str,
        user: &UserId,
    ) -> Result<Option<(User, bool)>> {
        self.timed(
            "access_token_user",
            self.inner.access_token_user(jti, grant_id, user),
        )
        .await
    }

    async fn record_client_assertion(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: Timestamp,
    ) -> Result<bool> {
        self.timed(
            "record_client_assertion",
            self.inner
                .record_client_assertion(client_id, jti, expires_at),
        )
        .await
    }
}

#[async_trait]
impl KeyStore for TimedStore {
    async fn list_keys(&self, auth_server_id: &AuthServerId) -> Result<Vec<SigningKey>> {
        self.timed("list_keys", self.inner.list_keys(auth_server_id))
            .await
    }

    async fn rotate_keys_locked(&self, plan: RotationPlan) -> Result<RotationOutcome> {
        self.timed("rotate_keys_locked", self.inner.rotate_keys_locked(plan))
            .await
    }

    async fn purge_retired_keys(
        &self,
        auth_server_id: &AuthServerId,
        now: Timestamp,
    ) -> Result<u64> {
        self.timed(
            "purge_retired_keys",
            self.inner.purge_retired_keys(auth_server_id, now),
        )
        .await
    }
}

#[async_trait]
impl SeedStore for TimedStore {
    async fn seed_digest(&self, kind: &str, key: &str) -> Result<Option<String>> {
        self.timed("seed_digest", self.inner.seed_digest(kind, key))
            .await
    }

    async fn record_seed_digest(&self, kind: &str, key: &str, digest: &str) -> Result<()> {
        self.timed(
            "record_seed_digest",
            self.inner.record_seed_digest(kind, key, digest),
        )
        .await
    }
}

#[async_trait]
impl SessionStore for TimedStore {
    async fn insert_session(&self, session: &Session, cookie: &TokenHash) -> Result<()> {
        self.timed("insert_session", self.inner.insert_session(session, cookie))
            .await
    }

    async fn get_session(&self, id: &SessionId, now: Timestamp) -> Result<Option<Session>> {
        self.timed("get_session", self.inner.get_session(id, now))
            .await
    }

    async fn get_session_by_cookie(
        &self,
        cookie: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<(Session, User)>> {
        self.timed(
            "get_session_by_cookie",
            self.inner.get_session_by_cookie(cookie, now),
        )
        .await
    }

    async fn refresh_session(
        &self,
        id: &SessionId,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Option<Session>> {
        self.timed(
            "refresh_session",
            self.inner.refresh_session(id, now, expires_at),
        )
        .await
    }

    async fn delete_session(&self, id: &SessionId, now: Timestamp) -> Result<bool> {
        self.timed("delete_session", self.inner.delete_session(id, now))
            .await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64> {
        self.timed("purge_expired", self.inner.purge_expired(now))
            .await
    }
}

#[async_trait]
impl TrustedOriginStore for TimedStore {
    async fn list_trusted_origins(&self) -> Result<Vec<TrustedOrigin>> {
        self.timed("list_trusted_origins", self.inner.list_trusted_origins())
            .await
    }

    async fn get_trusted_origin(&self, id: &str) -> Result<TrustedOrigin> {
        self.timed("get_trusted_origin", self.inner.get_trusted_origin(id))
            .await
    }

    async fn insert_trusted_origin(&self, origin: &TrustedOrigin) -> Result<()> {
        self.timed(
            "insert_trusted_origin",
            self.inner.insert_trusted_origin(origin),
        )
        .await
    }

    async fn update_trusted_origin(&self, origin: &TrustedOrigin) -> Result<()> {
        self.timed(
            "update_trusted_origin",
            self.inner.update_trusted_origin(origin),
        )
        .await
    }

    async fn delete_trusted_origin(&self, id: &str) -> Result<bool> {
        self.timed(
            "delete_trusted_origin",
            self.inner.delete_trusted_origin(id),
        )
        .await
    }
}

#[async_trait]
impl UserStore for TimedStore {
    async fn get_user_by_login(&self, login: &str) -> Result<User> {
        self.timed("get_user_by_login", self.inner.get_user_by_login(login))
            .await
    }

    async fn get_user(&self, id: &UserId) -> Result<User> {
        self.timed("get_user", self.inner.get_user(id)).await
    }

    async fn insert_user(&self, user: &User) -> Result<()> {
        self.timed("insert_user", self.inner.insert_user(user))
            .await
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        self.timed("update_user", self.inner.update_user(user))
            .await
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>> {
        self.timed("list_users", self.inner.list_users(query)).await
    }

    async fn unlock_user(&self, id: &UserId, now: Timestamp) -> Result<()> {
        self.timed("unlock_user", self.inner.unlock_user(id, now))
            .await
    }

    async fn delete_user(&self, id: &UserId) -> Result<bool> {
        self.timed("delete_user", self.inner.delete_user(id)).await
    }

    async fn update_user_ending_access(&self, user: &User, until: Timestamp) -> Result<()> {
        self.timed(
            "update_user_ending_access",
            self.inner.update_user_ending_access(user, until),
        )
        .await
    }

    async fn end_user_access(&self, id: &UserId, now: Timestamp, until: Timestamp) -> Result<()> {
        self.timed(
            "end_user_access",
            self.inner.end_user_access(id, now, until),
        )
        .await
    }
}
#[async_trait]
impl GroupStore for TimedStore {
    async fn insert_group(&self, group: &Group) -> Result<()> {
        self.timed("insert_group", self.inner.insert_group(group))
            .await
    }

    async fn get_group(&self, id: &str) -> Result<Group> {
        self.timed("get_group", self.inner.get_group(id)).await
    }

    async fn list_groups(&self) -> Result<Vec<Group>> {
        self.timed("list_groups", self.inner.list_groups()).await
    }

    async fn update_group(&self, group: &Group) -> Result<()> {
        self.timed("update_group", self.inner.update_group(group))
            .await
    }

    async fn delete_group(&self, id: &str) -> Result<bool> {
        self.timed("delete_group", self.inner.delete_group(id))
            .await
    }

    async fn add_group_member(&self, group_id: &str, user_id: &str, now: Timestamp) -> Result<()> {
        self.timed(
            "add_group_member",
            self.inner.add_group_member(group_id, user_id, now),
        )
        .await
    }

    async fn remove_group_member(
        &self,
        group_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<bool> {
        self.timed(
            "remove_group_member",
            self.inner.remove_group_member(group_id, user_id, now),
        )
        .await
    }

    async fn list_group_members(
        &self,
        group_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>> {
        self.timed(
            "list_group_members",
            self.inner.list_group_members(group_id, after, limit),
        )
        .await
    }

    async fn user_memberships(&self, user_id: &str) -> Result<Memberships> {
        self.timed("user_memberships", self.inner.user_memberships(user_id))
            .await
    }

    async fn list_user_groups(&self, user_id: &str) -> Result<Vec<Group>> {
        self.timed("list_user_groups", self.inner.list_user_groups(user_id))
            .await
    }
}

#[async_trait]
impl AssignmentStore for TimedStore {
    async fn put_app_user(&self, assignment: &AppUserAssignment) -> Result<()> {
        self.timed("put_app_user", self.inner.put_app_user(assignment))
            .await
    }

    async fn get_app_user(&self, app_id: &str, user_id: &str) -> Result<Option<AppUserAssignment>> {
        self.timed("get_app_user", self.inner.get_app_user(app_id, user_id))
            .await
    }

    async fn list_app_users(&self, app_id: &str) -> Result<Vec<AppUserAssignment>> {
        self.timed("list_app_users", self.inner.list_app_users(app_id))
            .await
    }

    async fn delete_app_user(&self, app_id: &str, user_id: &str) -> Result<bool> {
        self.timed(
            "delete_app_user",
            self.inner.delete_app_user(app_id, user_id),
        )
        .await
    }

    async fn put_app_group(&self, assignment: &AppGroupAssignment) -> Result<()> {
        self.timed("put_app_group", self.inner.put_app_group(assignment))
            .await
    }

    async fn get_app_group(
        &self,
        app_id: &str,
        group_id: &str,
    ) -> Result<Option<AppGroupAssignment>> {
        self.timed("get_app_group", self.inner.get_app_group(app_id, group_id))
            .await
    }

    async fn list_app_groups(&self, app_id: &str) -> Result<Vec<AppGroupAssignment>> {
        self.timed("list_app_groups", self.inner.list_app_groups(app_id))
            .await
    }

    async fn delete_app_group(&self, app_id: &str, group_id: &str) -> Result<bool> {
        self.timed(
            "delete_app_group",
            self.inner.delete_app_group(app_id, group_id),
        )
        .await
    }

    async fn is_assigned(&self, app_id: &str, user_id: &str) -> Result<bool> {
        self.timed("is_assigned", self.inner.is_assigned(app_id, user_id))
            .await
    }
}
