//! Wires configuration, store, keys and engine together, and serves HTTP. The only place that
//! names concrete types from several layers.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::{Config, SecretKeySource, TlsCertificate};
use crate::engine::Engine;
use crate::keys::{Generator, KeyRing, KeySource};
use crate::seed::Seed;
use crate::store::{self, Store};
use crate::tls::{DevCertificate, ReloadingCertificate};

/// Everything a running authd holds.
pub struct App {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The rules.
    pub engine: Engine,
    store: Arc<dyn Store>,
}

/// Cheap handle on the [`App`], given to every handler.
#[derive(Clone)]
pub struct AppState(Arc<App>);

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

impl App {
    /// Connects to the database, applies migrations and checks that the configured secret opens
    /// the stored keys. Creates nothing else.
    pub async fn open(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Self::open_with_key_source(config, clock, Arc::new(Generator)).await
    }

    /// [`App::open`], with new signing keys taken from `key_source` rather than generated.
    pub async fn open_with_key_source(
        config: Config,
        clock: Arc<dyn Clock>,
        key_source: Arc<dyn KeySource>,
    ) -> anyhow::Result<Self> {
        match &config.secret_key_source {
            SecretKeySource::Configured => {}
            SecretKeySource::DevFile(path) => tracing::warn!(
                "AUTHD_SECRET_KEY is not set: using the development secret kept in {}; \
                 set AUTHD_SECRET_KEY in production",
                path.display()
            ),
            SecretKeySource::DevFileNotYet(_) | SecretKeySource::Ephemeral => tracing::warn!(
                "AUTHD_SECRET_KEY is not set: using a secret generated for this process only"
            ),
        }
        let store = store::connect_waiting(
            &config.database_url,
            config.database_timeout,
            config.database_startup_wait,
        )
        .await
        .with_context(|| {
            format!(
                "AUTHD_DATABASE_URL: cannot connect to {}",
                config.database_url.redacted()
            )
        })?;
        store
            .migrate()
            .await
            .context("cannot apply database migrations")?;
        let keys = Arc::new(
            KeyRing::new(
                store.clone(),
                &config.secret_key,
                clock.clone(),
                config.keys,
            )?
            .with_source(key_source),
        );
        for server in store.list_auth_servers().await? {
            keys.check_secret(&server.id).await?;
        }
        let engine = Engine::new(store.clone(), keys, clock, &config)?;
        Ok(App {
            config: Arc::new(config),
            engine,
            store,
        })
    }

    /// Creates the built-in servers, applies the seed file, and brings every server's keys up
    /// to date: what `serve` does before it listens.
    pub async fn prepare(&self) -> anyhow::Result<()> {
        self.engine.provisioning().ensure_builtin_servers().await?;
        // Before the seed file, so that its secrets compare equal to the stored ones. Not
        // fatal: secrets in the earlier form still authenticate.
        match self.engine.admin().rekey_client_secrets().await {
            Ok(0) => {}
            Ok(rekeyed) => tracing::info!(rekeyed, "client secret hashes re-keyed"),
            Err(err) => tracing::warn!(
                error = %err,
                "client secret hashes could not be re-keyed; they keep working as they are"
            ),
        }
        if let Some(path) = &self.config.seed_file {
            match Seed::read(path)?.apply(&self.engine, path).await {
                Ok(report) => tracing::info!(
                    created = report.created,
                    updated = report.updated,
                    unchanged = report.unchanged,
                    "applied seed file {}",
                    path.display()
                ),
                Err(crate::seed::Error::Apply {
                    source: crate::engine::Error::Unwritable,
                    ..
                }) => tracing::warn!(
                    "the seed file could not be applied: the database cannot be written"
                ),
                Err(err) => return Err(err.into()),
            }
        }
        // A database that cannot be written (read-only, full) still serves reads: clean-up
        // that fails for that reason is reported, not fatal.
        match self.maintain().await {
            Err(err) if unwritable(&err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "start-up clean-up skipped: the database cannot be written"
                );
                Ok(())
            }
            other => other,
        }
    }

    /// One pass of key maintenance over every server, and removal of expired sign-in state.
    /// A failure on one server does not keep the others from their rotation; the first failure
    /// is returned after all were tried.
    pub async fn maintain(&self) -> anyhow::Result<()> {
        let mut first_failure = None;
        if let Err(err) = self.engine.purge_expired().await {
            first_failure =
                Some(anyhow::Error::new(err).context("removing expired sign-in state and grants"));
        }
        match self
            .engine
            .system_log()
            .prune(self.config.system_log_retention)
            .await
        {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "System Log events past their retention deleted"),
            Err(err) => {
                first_failure.get_or_insert(
                    anyhow::Error::new(err).context("deleting System Log events past retention"),
                );
            }
        }
        let servers = self.engine.auth_servers().await?;
        // Inactive servers answer nothing, so their keys are neither rotated nor cached.
        for server in servers
            .iter()
            .filter(|server| server.status == crate::model::Status::Active)
        {
            if let Err(err) = self.engine.maintain_keys(server).await {
                let err = anyhow::Error::new(err).context(format!(
                    "key maintenance of authorization server {}",
                    server.id
                ));
                tracing::error!(error = format!("{err:#}"), "maintenance failed");
                first_failure.get_or_insert(err);
            }
        }
        first_failure.map_or(Ok(()), Err)
    }

    /// Closes the database pool.
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Wraps the app for handlers.
    pub fn into_state(self) -> AppState {
        AppState(Arc::new(self))
    }
}

/// Serves HTTP on `listener` until `shutdown` completes, then lets in-flight requests finish.
/// Keys are maintained in the background on the configured schedule.
pub async fn serve(
    app: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let address = listener.local_addr()?;
    // Bound before anything starts, so that a refused address leaves nothing running.
    let metrics_listener = match app.config.metrics_listen {
        Some(address) => Some(
            TcpListener::bind(address)
                .await
                .with_context(|| format!("AUTHD_METRICS_LISTEN: cannot listen on {address}"))?,
        ),
        None => None,
    };
    let certificate = match &app.config.tls {
        Some(tls) => Some(load_certificate(tls)?),
        None => None,
    };
    let maintenance = tokio::spawn(maintain_forever(app.clone()));
    // Start-up's own writes bumped the revision; following it must not drop, for them, what
    // the first requests read.
    if let Err(err) = app.engine.start_directory().await {
        tracing::warn!(error = %err, "cannot read the directory revision; following it from the start");
    }
    let directory = tokio::spawn(app.engine.follow_directory_changes());
    let metrics = match metrics_listener {
        Some(listener) => {
            let metrics_address = listener.local_addr()?;
            tracing::info!(address = %metrics_address, "metrics on http://{metrics_address}/metrics");
            let router = crate::http::ops::metrics_router(app.clone());
            let limits = app.config.server_limits;
            let engine = app.engine.clone();
            Some(tokio::spawn(async move {
                let upkeep = async {
                    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
                    loop {
                        every.tick().await;
                        engine.metrics().upkeep();
                    }
                };
                tokio::select! {
                    _ = crate::http::server::serve(listener, router, limits, None, std::future::pending()) => {}
                    () = upkeep => {}
                }
            }))
        }
        None => None,
    };
    let scheme = if certificate.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(
        issuer = %app.config.base_url,
        address = %address,
        "authd ready: issuer {}, listening on {scheme}://{address}",
        app.config.base_url
    );
    let acceptor = certificate.as_ref().map(ReloadingCertificate::acceptor);
    let reloads = certificate.map(|certificate| tokio::spawn(certificate.watch()));
    let router = crate::http::router(app.clone());
    crate::http::server::serve(
        listener,
        router,
        app.config.server_limits,
        acceptor,
        shutdown,
    )
    .await;
    if let Some(reloads) = reloads {
        reloads.abort();
    }
    maintenance.abort();
    directory.abort();
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    app.close().await;
    Ok(())
}

/// The certificate to serve, the development one made first if it is missing.
fn load_certificate(tls: &TlsCertificate) -> anyhow::Result<Arc<ReloadingCertificate>> {
    let files = match tls {
        TlsCertificate::Files(files) => files.clone(),
        TlsCertificate::Development => {
            let dev =
                DevCertificate::ensure(std::path::Path::new(crate::tls::DEV_DIRECTORY), false)
                    .context("AUTHD_TLS_CERT=dev")?;
            if dev.new_ca {
                tracing::warn!(
                    ca = %dev.ca.display(),
                    "made a development CA; run `authd dev-cert` to see how to trust it"
                );
            }
            dev.files
        }
    };
    ReloadingCertificate::load(files).context("AUTHD_TLS_CERT")
}

async fn maintain_forever(app: AppState) {
    let mut interval = tokio::time::interval(app.config.keys.check_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick completes at once; `prepare` has just done that pass.
    interval.tick().await;
    loop {
        interval.tick().await;
        if let Err(err) = app.maintain().await {
            tracing::error!(
                error = format!("{err:#}"),
                "key maintenance failed; retrying at the next check"
            );
        }
    }
}

/// Whether an error comes from a database that answers but cannot be written.
fn unwritable(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<crate::engine::Error>(),
            Some(crate::engine::Error::Unwritable)
        ) || matches!(
            cause.downcast_ref::<store::Error>(),
            Some(store::Error::Unwritable(_))
        ) || matches!(
            cause.downcast_ref::<crate::keys::Error>(),
            Some(crate::keys::Error::Store(store::Error::Unwritable(_)))
        )
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
