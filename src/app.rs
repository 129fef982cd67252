//! What every part of a running gitferry shares, and the features it is built from.

use std::sync::{Arc, RwLock};

use secrecy::SecretString;

use crate::github;
use crate::installations;
use crate::metrics::Metrics;
use crate::router::Router;
use crate::settings::Settings;
use crate::store::Store;

/// Shared by the HTTP layer, the workers and every handler.
pub struct AppContext {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub github: github::Client,
    pub metrics: Arc<Metrics>,
    /// How commands from repositories are confined on this host (decided at start-up).
    pub sandbox: crate::sandbox::Sandbox,
    /// Permissions and team memberships, briefly cached.
    pub access: crate::access::AccessCache,
    /// Repository configs from their default branches.
    pub configs: crate::config_source::ConfigCache,
    /// Wakes the preview executor and stops superseded deploys in this process.
    pub previews: crate::preview::Signals,
    /// Wakes the pipeline executor and stops superseded steps in this process.
    pub pipeline: crate::pipeline::Signals,
    /// Wakes the release executor and stops superseded releases in this process.
    pub releases: crate::environments::Signals,
    /// Wakes the drift executor.
    pub drift: crate::jobs::Signals<String>,
    /// Each head's commit, fetched once for its steps and its deploy.
    pub tarballs: github::TarballCache,
    /// Makes and redraws run-log links (their key lives in the settings, not the store).
    pub run_links: crate::runs::RunLinks,
    /// Swappable: the setup page registers the App while the server runs.
    webhook_secret: RwLock<Option<SecretString>>,
    /// Read from GitHub once (`GET /app`); the slug is how people mention the bot.
    identity: tokio::sync::OnceCell<AppIdentity>,
}

/// Who the App is on GitHub.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct AppIdentity {
    pub slug: String,
}

impl AppIdentity {
    /// The login the App's comments are written under.
    pub fn bot_login(&self) -> String {
        format!("{}[bot]", self.slug)
    }
}

impl AppContext {
    pub fn new(
        settings: Arc<Settings>,
        store: Store,
        github: github::Client,
        metrics: Arc<Metrics>,
        sandbox: crate::sandbox::Sandbox,
    ) -> Self {
        let webhook_secret = RwLock::new(settings.github_webhook_secret.clone());
        let run_links = crate::runs::RunLinks::from_settings(&settings);
        let configs = crate::config_source::ConfigCache::new(settings.repo_secrets.clone());
        Self {
            settings,
            store,
            github,
            metrics,
            sandbox,
            access: crate::access::AccessCache::default(),
            configs,
            previews: crate::preview::Signals::default(),
            pipeline: crate::pipeline::Signals::default(),
            releases: crate::environments::Signals::default(),
            drift: crate::jobs::Signals::default(),
            tarballs: github::TarballCache::default(),
            run_links,
            webhook_secret,
            identity: tokio::sync::OnceCell::new(),
        }
    }

    pub async fn identity(&self) -> Result<&AppIdentity, github::GithubError> {
        self.identity
            .get_or_try_init(|| self.github.app_get::<AppIdentity>("/app"))
            .await
    }

    pub fn webhook_secret(&self) -> Option<SecretString> {
        self.webhook_secret
            .read()
            .map(|secret| secret.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    pub fn set_webhook_secret(&self, secret: SecretString) {
        let mut guard = self
            .webhook_secret
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = Some(secret);
    }
}

/// Every feature's handlers; the one place that says which events gitferry handles.
pub fn router() -> Router {
    let mut router = Router::default();
    installations::register(&mut router);
    crate::commands::handler::register(&mut router);
    crate::config_check::register(&mut router);
    crate::check_actions::register(&mut router);
    // Before previews: a new head's steps are queued before its preview is asked for.
    crate::pipeline::events::register(&mut router);
    crate::preview::events::register(&mut router);
    crate::environments::events::register(&mut router);
    crate::environments::promotion_events::register(&mut router);
    crate::drift::ask::register(&mut router);
    router
}

/// Every feature's periodic ticks; each runs on one replica at a time (`jobs`).
pub fn ticks(settings: &Settings) -> anyhow::Result<crate::jobs::Scheduler<Arc<AppContext>>> {
    let mut ticks = crate::jobs::Scheduler::new(settings.tick_lease);
    crate::notify::sender::register(&mut ticks, settings)?;
    crate::preview::reconcile::register(&mut ticks, settings);
    crate::preview::resync::register(&mut ticks, settings);
    crate::drift::sweep::register(&mut ticks, settings);
    crate::runs::retention::register(&mut ticks, settings);
    Ok(ticks)
}
