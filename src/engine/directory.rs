//! The directory: what every request reads and almost nothing writes (authorization servers
//! with their policies, scopes, claims and discovery documents; apps with their secrets; the
//! trusted origins), held in memory so that a steady stream of token requests does not touch
//! the database for them. Each server is held with its signing keys (signer, JWKS, verifiers),
//! read together and dropped together.
//!
//! One rule keeps every replica right: whatever changes one of these objects bumps the
//! database's directory revision in the same transaction (triggers do it), and a process that
//! sees a revision it has not applied drops everything it holds. Its own changes it drops at
//! once; another process's it learns from `LISTEN` on PostgreSQL within milliseconds, or from
//! a poll of the revision ([`Directory::follow`]).
//!
//! Values read from the store before a drop must not be kept after it: each cache keeps a
//! value only if no drop happened since the read began (a *generation* check).
//!
//! While a process cannot follow the revision (the database is unreachable, or the
//! subscription was lost and not yet renewed), another replica's change could go unseen: then
//! every decision reads the store again, and only public documents (discovery, JWKS) are served
//! from what is held.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::clock::Clock;
use crate::keys::{KeyRing, ServerKeys, Signer};
use crate::metrics::Metrics;
use crate::model::{AuthServer, AuthServerId, Client, ClientId, Document, OriginScope, Status};
use crate::store::{self, Store};

use super::discovery::ServerEntry;
use super::{Error, Result};

/// How often a process polls the revision when the database does not push it (SQLite, or a
/// PostgreSQL standby), and so the bound within which another process's change is in force
/// here.
pub const REVISION_POLL: Duration = Duration::from_millis(250);

/// How often a PostgreSQL replica reads the revision although `LISTEN` should have told it:
/// a safety net for notices lost with a connection.
pub const POSTGRES_REVISION_POLL: Duration = Duration::from_secs(5);

/// How often a `kid` this replica does not know may make it re-read a server's keys: another
/// replica may have rotated them a moment ago, but random `kid`s must not turn every request
/// into a database read.
const UNKNOWN_KID_RELOAD_INTERVAL_SECONDS: i64 = 1;

/// The in-memory copies of directory objects, and the generation that invalidates them.
pub struct Directory {
    generation: AtomicU64,
    /// The highest database revision this process has applied.
    applied_revision: AtomicI64,
    /// Whether changes committed elsewhere reach this process within the bound.
    following: AtomicBool,
    keys: Arc<KeyRing>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    base_url: String,
    servers: Cache<AuthServerId, ServerEntry>,
    clients: Cache<ClientId, Client>,
    lookups: Lookups,
    origin_trust: Cache<(), OriginTrust>,
}

/// The origins trusted for each purpose, as browsers spell them in `Origin`.
#[derive(Debug, Default)]
struct OriginTrust {
    cors: HashSet<String>,
    redirect: HashSet<String>,
}

/// How often a lookup found what it wanted held, and how often it read the database.
struct Lookups {
    server_hits: metrics::Counter,
    server_misses: metrics::Counter,
    app_hits: metrics::Counter,
    app_misses: metrics::Counter,
}

impl Lookups {
    fn new(metrics: &Metrics) -> Self {
        let counter = |cache, result| {
            metrics.counter(
                "authd_directory_lookups_total",
                &[("cache", cache), ("result", result)],
            )
        };
        Self {
            server_hits: counter("servers", "hit"),
            server_misses: counter("servers", "miss"),
            app_hits: counter("apps", "hit"),
            app_misses: counter("apps", "miss"),
        }
    }
}

/// A map whose values are kept only if no drop happened since they were read.
struct Cache<K, V> {
    entries: RwLock<HashMap<K, Arc<V>>>,
}

impl<K: Eq + Hash, V> Default for Cache<K, V> {
    fn default() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V> Cache<K, V> {
    fn get(&self, key: &K) -> Option<Arc<V>> {
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// The generation a read from the store began in; the value read may be kept only if it is
/// still current.
#[derive(Clone, Copy)]
struct Reading(u64);

impl Directory {
    /// An empty directory of what `store` holds, with keys opened by `keys`, for a server at
    /// `base_url`.
    pub fn new(
        keys: Arc<KeyRing>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        base_url: String,
        metrics: &Metrics,
    ) -> Self {
        Self {
            lookups: Lookups::new(metrics),
            generation: AtomicU64::new(0),
            applied_revision: AtomicI64::new(0),
            following: AtomicBool::new(false),
            keys,
            store,
            clock,
            base_url,
            servers: Cache::default(),
            clients: Cache::default(),
            origin_trust: Cache::default(),
        }
    }

    /// Whether what is held may decide a request: changes made elsewhere are being followed.
    fn is_followed(&self) -> bool {
        self.following.load(Ordering::Acquire)
    }

    /// Marks the start of a read from the store whose result is to be cached.
    fn reading(&self) -> Reading {
        Reading(self.generation.load(Ordering::Acquire))
    }

    /// Keeps `value` read during `reading`, unless the directory was dropped since.
    fn keep<K: Eq + Hash, V>(&self, cache: &Cache<K, V>, reading: Reading, key: K, value: Arc<V>) {
        let mut entries = cache
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Checked under the lock that `drop_all` clears under, after bumping: a value read
        // before a drop is either refused here or cleared there.
        if self.generation.load(Ordering::Acquire) == reading.0 {
            entries.insert(key, value);
        }
    }

    /// An active authorization server, to decide a request by.
    pub async fn auth_server(&self, id: &AuthServerId) -> Result<Arc<AuthServer>> {
        Ok(self.deciding_entry(id).await?.server.clone())
    }

    /// The signer of an active server's new tokens.
    pub async fn signer(&self, id: &AuthServerId) -> Result<Arc<Signer>> {
        self.deciding_entry(id)
            .await?
            .keys
            .signer
            .clone()
            .ok_or_else(|| crate::keys::Error::NoActiveKey(id.clone()).into())
    }

    /// The published JWKS of an active server, held like its discovery documents.
    pub async fn jwks(&self, id: &AuthServerId) -> Result<Document> {
        Ok(self.server_entry(id).await?.keys.jwks.clone())
    }

    /// The server's keys if one of them verifies `kid` with `algorithm`. A `kid` the held keys
    /// lack makes the directory read them again first (at most once a second), so a token
    /// signed with a key that another replica has just rotated in is not rejected here.
    pub async fn keys_verifying(
        &self,
        id: &AuthServerId,
        kid: &str,
        algorithm: jsonwebtoken::Algorithm,
    ) -> Result<Option<Arc<ServerKeys>>> {
        let entry = self.deciding_entry(id).await?;
        if entry.keys.verifier(kid, algorithm).is_some() {
            return Ok(Some(entry.keys.clone()));
        }
        if self.clock.now().unix() - entry.keys.loaded_at.unix()
            < UNKNOWN_KID_RELOAD_INTERVAL_SECONDS
        {
            return Ok(None);
        }
        let reading = self.reading();
        let keys = self.keys.load(id).await?;
        let refreshed = Arc::new(entry.with_keys(keys.clone()));
        self.keep(&self.servers, reading, id.clone(), refreshed);
        Ok(keys.verifier(kid, algorithm).is_some().then_some(keys))
    }

    /// An active server's entry, to decide a request by: held only while changes are
    /// followed.
    async fn deciding_entry(&self, id: &AuthServerId) -> Result<Arc<ServerEntry>> {
        let cached = self.is_followed().then(|| self.servers.get(id));
        self.load_server(id, cached.flatten()).await
    }

    /// An active authorization server with its discovery documents, from the directory. What is
    /// held is served even while changes cannot be followed: the documents are public, and a
    /// stale copy is better than none while the database is away.
    pub async fn server_entry(&self, id: &AuthServerId) -> Result<Arc<ServerEntry>> {
        let cached = self.servers.get(id);
        self.load_server(id, cached).await
    }

    async fn load_server(
        &self,
        id: &AuthServerId,
        cached: Option<Arc<ServerEntry>>,
    ) -> Result<Arc<ServerEntry>> {
        let entry = match cached {
            Some(entry) => {
                self.lookups.server_hits.increment(1);
                entry
            }
            None => {
                self.lookups.server_misses.increment(1);
                let reading = self.reading();
                let (server, keys) =
                    tokio::join!(self.store.get_auth_server(id), self.keys.load(id));
                let server = match server {
                    Ok(server) => server,
                    Err(store::Error::NotFound) => return Err(server_not_found(id)),
                    Err(err) => return Err(err.into()),
                };
                let entry = Arc::new(ServerEntry::new(server, keys?, &self.base_url));
                self.keep(&self.servers, reading, id.clone(), entry.clone());
                entry
            }
        };
        if entry.server.status == Status::Active {
            Ok(entry)
        } else {
            Err(server_not_found(id))
        }
    }

    /// An app by id, whatever its status; `None` if there is none. Held apps decide only while
    /// changes are followed.
    pub async fn client(&self, id: &ClientId) -> Result<Option<Arc<Client>>> {
        if self.is_followed() {
            if let Some(client) = self.clients.get(id) {
                self.lookups.app_hits.increment(1);
                return Ok(Some(client));
            }
        }
        self.lookups.app_misses.increment(1);
        let reading = self.reading();
        let client = match self.store.get_client(id).await {
            Ok(client) => Arc::new(client),
            Err(store::Error::NotFound) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        self.keep(&self.clients, reading, id.clone(), client.clone());
        Ok(Some(client))
    }

    /// Whether a page on `origin` (an `Origin` header) may call the browser endpoints
    /// cross-origin with credentials (DESIGN §8).
    pub async fn cors_origin_allowed(&self, origin: &str) -> bool {
        if origin == "null" {
            return false;
        }
        match self.origin_trust().await {
            Ok(trust) => trust.cors.contains(origin) || self.is_own_origin(origin),
            Err(err) => {
                tracing::error!(error = %err, "cannot read the trusted origins; CORS refused");
                false
            }
        }
    }

    /// Where the browser may be sent after sign-in, if `url` is allowed: this server itself,
    /// or an origin trusted for redirects (DESIGN §6: no open redirect). The URL comes back as
    /// parsed and re-serialized, so what goes into `Location` is what was checked.
    pub async fn trusted_redirect(&self, url: &str) -> Result<Option<url::Url>> {
        let Ok(target) = url::Url::parse(url) else {
            return Ok(None);
        };
        if !matches!(target.scheme(), "http" | "https") {
            return Ok(None);
        }
        let origin = target.origin().ascii_serialization();
        if self.is_own_origin(&origin) || self.origin_trust().await?.redirect.contains(&origin) {
            Ok(Some(target))
        } else {
            Ok(None)
        }
    }

    fn is_own_origin(&self, origin: &str) -> bool {
        url::Url::parse(&self.base_url)
            .is_ok_and(|base| base.origin().ascii_serialization() == origin)
    }

    /// The trusted origins, from the directory, so that CORS checks do not each read every
    /// app.
    async fn origin_trust(&self) -> Result<Arc<OriginTrust>> {
        if self.is_followed() {
            if let Some(trust) = self.origin_trust.get(&()) {
                return Ok(trust);
            }
        }
        let reading = self.reading();
        let (clients, origins) =
            tokio::try_join!(self.store.list_clients(), self.store.list_trusted_origins())?;
        let mut trust = OriginTrust::default();
        let registered = clients
            .iter()
            .filter(|client| client.status == Status::Active)
            .flat_map(|client| {
                client
                    .redirect_uris
                    .iter()
                    .chain(&client.post_logout_redirect_uris)
            })
            .filter_map(|registered| url::Url::parse(registered).ok())
            // A private-use redirect URI (`com.example.app:/cb`) has an opaque origin, which
            // serializes as `null`: the `Origin` of sandboxed frames and `data:` pages, never
            // to be trusted.
            .map(|registered| registered.origin())
            .filter(url::Origin::is_tuple)
            .map(|origin| origin.ascii_serialization());
        for origin in registered {
            trust.cors.insert(origin.clone());
            trust.redirect.insert(origin);
        }
        for origin in &origins {
            let Some(normalized) = origin.normalized_origin() else {
                continue;
            };
            if origin.trusts(OriginScope::Cors) {
                trust.cors.insert(normalized.clone());
            }
            if origin.trusts(OriginScope::Redirect) {
                trust.redirect.insert(normalized);
            }
        }
        let trust = Arc::new(trust);
        self.keep(&self.origin_trust, reading, (), trust.clone());
        Ok(trust)
    }

    /// Drops every held object, servers' keys with them: the next request reads them again.
    pub fn drop_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.servers.clear();
        self.clients.clear();
        self.origin_trust.clear();
    }

    /// Applies a database revision: drops everything if it is newer than the last applied.
    fn apply(&self, revision: i64) {
        if self.applied_revision.fetch_max(revision, Ordering::AcqRel) < revision {
            tracing::debug!(revision, "directory changed; cached objects dropped");
            self.drop_all();
        }
    }

    /// Takes the database's current revision as the one this process has applied, dropping
    /// what it held: what it reads from now on is at least that recent, so following the
    /// revision afterwards drops only for later changes. The revision is read before the drop,
    /// so that nothing read before it is kept.
    pub async fn start_at_current_revision(&self) -> store::Result<()> {
        let revision = self.store.directory_revision().await?;
        self.drop_all();
        self.applied_revision.fetch_max(revision, Ordering::AcqRel);
        Ok(())
    }

    /// Keeps this process in step with changes other processes commit, until the task is
    /// dropped: through the store's notices where it pushes them, else by polling.
    pub async fn follow(self: Arc<Self>) {
        let store = self.store.clone();
        loop {
            match store.directory_notices().await {
                Ok(Some(notices)) => self.listen(&store, notices).await,
                Ok(None) => return self.poll(&store, REVISION_POLL).await,
                // A standby cannot LISTEN (nor would it be told: notices are not replicated).
                Err(store::Error::Unwritable(_)) => {
                    tracing::info!("the database is read-only: polling its directory revision");
                    return self.poll(&store, REVISION_POLL).await;
                }
                Err(err) => {
                    self.following.store(false, Ordering::Release);
                    tracing::warn!(error = %err, "cannot listen for directory changes; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Applies pushed revisions, and polls as a safety net; returns when the subscription
    /// fails.
    async fn listen(&self, store: &Arc<dyn Store>, mut notices: Box<dyn store::DirectoryNotices>) {
        // Changes committed before the subscription began were not pushed.
        self.read_revision(store).await;
        let mut poll = tokio::time::interval(POSTGRES_REVISION_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        poll.tick().await;
        loop {
            tokio::select! {
                notice = notices.next() => match notice {
                    Ok(Some(revision)) => self.apply(revision),
                    // The connection was lost, and with it what is pushed until it is back:
                    // nothing held decides a request until a new subscription is in place
                    // and the revision is read after it.
                    Ok(None) => {
                        self.following.store(false, Ordering::Release);
                        return;
                    }
                    Err(err) => {
                        self.following.store(false, Ordering::Release);
                        tracing::warn!(error = %err, "lost the directory change subscription");
                        return;
                    }
                },
                _ = poll.tick() => self.read_revision(store).await,
            }
        }
    }

    async fn poll(&self, store: &Arc<dyn Store>, every: Duration) {
        let mut poll = tokio::time::interval(every);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            poll.tick().await;
            self.read_revision(store).await;
        }
    }

    /// Reads and applies the revision; whether it could be read decides whether what is held
    /// may decide requests.
    async fn read_revision(&self, store: &Arc<dyn Store>) {
        match store.directory_revision().await {
            Ok(revision) => {
                self.apply(revision);
                self.following.store(true, Ordering::Release);
            }
            Err(err) => {
                if self.following.swap(false, Ordering::AcqRel) {
                    tracing::warn!(error = %err, "cannot read the directory revision");
                }
            }
        }
    }
}

fn server_not_found(id: &AuthServerId) -> Error {
    Error::NotFound {
        kind: "AuthorizationServer",
        id: id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::TestClock;
    use crate::config::{KeySettings, SecretKey};
    use crate::model::{IssuerMode, SigningAlg, Timestamp, TokenLifetimes};

    #[tokio::test]
    async fn a_kid_the_directory_does_not_hold_makes_it_read_the_keys_again_at_most_once_a_second()
    {
        let url = crate::config::DatabaseUrl::parse("sqlite::memory:").unwrap();
        let store = store::connect(&url, Duration::from_secs(5)).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(TestClock::new(Timestamp::from_unix(1_700_000_000)));
        let secret = SecretKey::parse(&"11".repeat(32)).unwrap();
        let settings = KeySettings {
            rotation_interval: Duration::from_secs(90 * 86_400),
            jwks_cache_lifetime: Duration::from_secs(300),
            check_interval: Duration::from_secs(3600),
            max_token_lifetime: Duration::from_secs(86_400),
        };
        let keys = Arc::new(KeyRing::new(store.clone(), &secret, clock.clone(), settings).unwrap());
        let behind = Directory::new(
            keys.clone(),
            store.clone(),
            clock.clone(),
            "http://authd.test".into(),
            &Metrics::disabled(),
        );
        let now = clock.now();
        let server = AuthServer {
            id: AuthServerId::default_server(),
            name: "default".into(),
            description: String::new(),
            audiences: vec!["api://default".into()],
            issuer_mode: IssuerMode::OrgUrl,
            status: Status::Active,
            signing_alg: SigningAlg::ES256,
            scopes: vec![],
            claims: vec![],
            token_lifetimes: TokenLifetimes::default(),
            policies: vec![],
            revision: 0,
            created_at: now,
            updated_at: now,
        };
        store.insert_auth_server(&server).await.unwrap();
        keys.maintain(&server).await.unwrap();
        // Following the revision, so that what it holds decides; but it hears of nothing that
        // happens after, as a replica whose notice was lost.
        behind.read_revision(&store).await;
        behind.signer(&server.id).await.unwrap();
        // Two rotations elsewhere: the new signing key was not even published when it read.
        keys.rotate_now(&server).await.unwrap();
        keys.rotate_now(&server).await.unwrap();
        let rotated_in = keys.load(&server.id).await.unwrap();
        let kid = rotated_in.signer.as_ref().unwrap().kid().to_string();
        let es256 = jsonwebtoken::Algorithm::ES256;
        let held = behind.servers.get(&server.id).unwrap();
        assert!(held.keys.verifier(&kid, es256).is_none());

        // Read this second already: an unknown kid does not make it read again.
        assert!(behind
            .keys_verifying(&server.id, &kid, es256)
            .await
            .unwrap()
            .is_none());
        clock.advance(Duration::from_secs(1));
        let found = behind
            .keys_verifying(&server.id, &kid, es256)
            .await
            .unwrap()
            .expect("the key rotated in elsewhere is read and found");
        assert!(found.verifier(&kid, es256).is_some());
        assert!(behind
            .keys_verifying(&server.id, "no-such-kid", es256)
            .await
            .unwrap()
            .is_none());
    }
}
