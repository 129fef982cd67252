//! `gitferry serve`: the HTTP server and the workers, sharing one store and one GitHub client.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::app::{self, AppContext};
use crate::github;
use crate::http::body::BodyBudget;
use crate::http::serve::ConnectionLimits;
use crate::http::setup_guard::SetupGuard;
use crate::http::{self, EdgeLimits, HttpState, MetricsRoute};
use crate::inbox::{Ingest, WorkerConfig, WorkerPool};
use crate::metrics::Metrics;
use crate::router::Router;
use crate::settings::Settings;
use crate::store::{Store, redact_url};

/// A server started by [`start`]: where it listens and how to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// Where `/metrics` is served when `GITFERRY_METRICS_LISTEN` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub ctx: Arc<AppContext>,
    /// The first-run link carrying the setup token; `None` when the App is configured.
    pub setup_link: Option<String>,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, lets deliveries in hand finish (or releases them after the grace
    /// period) and waits until everything has stopped.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.task.await.context("server task panicked")?
    }

    /// Resolves when the server stops by itself (it should not) or after [`Self::shutdown`].
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("server task panicked")?
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

/// Prepares the data folder, opens the store named by the settings and brings its schema up
/// to date.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    crate::data_dir::prepare(&settings.data_dir)?;
    let url = settings.database_url();
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("opening {}", redact_url(&url)))?;
    store.migrate().await.context("migrating the store")?;
    Ok(store)
}

/// Opens and migrates the store, builds the GitHub client.
pub async fn build_context(settings: Settings, dry_run: bool) -> anyhow::Result<Arc<AppContext>> {
    let store = open_store(&settings).await?;
    let metrics = Metrics::new();
    let credentials = match settings.app_credentials()? {
        Some((app_id, pem)) => Some(
            github::AppCredentials::from_pem(app_id, secrecy::ExposeSecret::expose_secret(&pem))
                .context("GITHUB_PRIVATE_KEY is not a valid RSA private key")?,
        ),
        None => None,
    };
    let config = github::ClientConfig {
        dry_run,
        ..github::ClientConfig::new(&settings.github_api_url)
    };
    let client = github::Client::new(config, credentials, Arc::clone(&metrics))
        .context("building the GitHub client")?;
    let sandbox = crate::sandbox::startup::from_settings(&settings)?;
    Ok(Arc::new(AppContext::new(
        Arc::new(settings),
        store,
        client,
        metrics,
        sandbox,
    )))
}

/// Starts the server with gitferry's own features.
pub async fn start(settings: Settings) -> anyhow::Result<RunningServer> {
    start_with_router(settings, app::router()).await
}

/// Starts the server with the given handlers (tests add their own to observe processing).
pub async fn start_with_router(
    settings: Settings,
    router: Router,
) -> anyhow::Result<RunningServer> {
    http::body::return_large_buffers_promptly();
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let metrics_listener = match settings.metrics_listen {
        Some(metrics_listen) => Some(
            TcpListener::bind(metrics_listen)
                .await
                .with_context(|| format!("cannot listen on {metrics_listen} for /metrics"))?,
        ),
        None => None,
    };
    let metrics_addr = metrics_listener
        .as_ref()
        .map(TcpListener::local_addr)
        .transpose()?;
    let mut settings = settings;
    // With port 0 (tests) only the bound address says where this server really is.
    settings
        .public_url
        .get_or_insert_with(|| format!("http://{addr}"));
    let worker_config = WorkerConfig::from_settings(&settings);
    let limits = ConnectionLimits {
        header_timeout: settings.header_timeout,
        max_connections: usize::try_from(settings.max_connections).unwrap_or(usize::MAX),
        shutdown_grace: settings.shutdown_grace,
    };
    let body_timeout = settings.body_timeout;
    let body_budget = settings.body_budget;
    let ctx = build_context(settings, false).await?;
    let edge = EdgeLimits {
        budget: BodyBudget::new(body_budget, ctx.metrics.webhook_body_bytes_reserved.clone()),
        body_timeout,
    };
    let setup = Arc::new(SetupGuard::new().context("no random numbers for the setup token")?);
    let setup_link = (!ctx.github.has_credentials()).then(|| {
        let token = setup.token().expose_secret();
        let link = format!("{}/?token={token}", ctx.settings.public_url());
        // The one place the token is shown: whoever reads this log runs the server.
        info!(
            "no GitHub App credentials: open {link} to register the App \
             (or open {}/ and enter the setup token {token})",
            ctx.settings.public_url()
        );
        link
    });
    let router = Arc::new(router);
    let wake = Arc::new(Notify::new());
    let ingest = Ingest::new(
        ctx.store.clone(),
        Arc::clone(&router),
        Arc::clone(&ctx.metrics),
        Arc::clone(&wake),
    );
    let state = HttpState {
        ctx: Arc::clone(&ctx),
        ingest,
        setup,
        edge,
        metrics: if metrics_listener.is_some() {
            MetricsRoute::Separate
        } else {
            MetricsRoute::Included
        },
    };
    info!(%addr, metrics = ?metrics_addr, "listening");
    let shutdown = CancellationToken::new();
    let workers = WorkerPool::new(Arc::clone(&ctx), router, worker_config, wake);
    let ticks = app::ticks(&ctx.settings)?;
    let task = {
        let shutdown = shutdown.clone();
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move {
            let workers = tokio::spawn(workers.run(shutdown.clone()));
            let previews = tokio::spawn(crate::preview::executor::run(
                Arc::clone(&ctx),
                shutdown.clone(),
            ));
            let pipeline = tokio::spawn(crate::pipeline::executor::run(
                Arc::clone(&ctx),
                shutdown.clone(),
            ));
            let releases = tokio::spawn(crate::environments::executor::run(
                Arc::clone(&ctx),
                shutdown.clone(),
            ));
            let drift = tokio::spawn(crate::drift::executor::run(
                Arc::clone(&ctx),
                shutdown.clone(),
            ));
            let ticks =
                tokio::spawn(ticks.run(ctx.store.clone(), Arc::clone(&ctx), shutdown.clone()));
            let metrics = metrics_listener.map(|listener| {
                let app = http::metrics_routes(state.clone());
                tokio::spawn(http::serve::serve(listener, app, limits, shutdown.clone()))
            });
            http::serve::serve(listener, http::routes(state), limits, shutdown.clone()).await;
            // The HTTP side stopped (shutdown, or a fatal error): stop the workers too.
            shutdown.cancel();
            workers.await.context("worker pool panicked")?;
            previews.await.context("preview executor panicked")?;
            pipeline.await.context("pipeline executor panicked")?;
            releases.await.context("release executor panicked")?;
            drift.await.context("drift executor panicked")?;
            ticks.await.context("tick scheduler panicked")?;
            if let Some(metrics) = metrics {
                metrics.await.context("metrics listener panicked")?;
            }
            ctx.store.close().await;
            info!("stopped");
            Ok(())
        })
    };
    Ok(RunningServer {
        addr,
        metrics_addr,
        ctx,
        setup_link,
        shutdown,
        task,
    })
}

/// A future resolving on SIGTERM (Kubernetes stopping the pod) or SIGINT (Ctrl-C).
///
/// The handlers are installed when this function returns, not when the future is first
/// polled, so a signal that arrives while the server is still starting is not lost (and does
/// not kill the process with the default action).
pub fn termination_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}
