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
    /// Swappable: the setup page registers the App while the server runs.
    webhook_secret: RwLock<Option<SecretString>>,
}

impl AppContext {
    pub fn new(
        settings: Arc<Settings>,
        store: Store,
        github: github::Client,
        metrics: Arc<Metrics>,
    ) -> Self {
        let webhook_secret = RwLock::new(settings.github_webhook_secret.clone());
        Self {
            settings,
            store,
            github,
            metrics,
            webhook_secret,
        }
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
    router
}
