//! A fake GitHub for end-to-end tests: an axum server on a loopback port holding an
//! in-memory model of GitHub (App, installations, repositories, git objects, pull requests,
//! comments, reactions, reviews, check runs, deployments, statuses, permissions), that checks
//! the App's JWT and installation tokens like GitHub, logs every request, and fails on
//! command.
//!
//! ```ignore
//! let gh = FakeGitHub::start().await;
//! let inst = gh.add_installation("acme");
//! let repo = gh.add_repo(inst, "acme/shop");
//! let base = repo.commit_files("main", &[(".github/gitferry.yml", "pipeline: []")], "init");
//! repo.commit_files("feature", &[("src/lib.rs", "fn x() {}")], "work");
//! let pr = repo.open_pr(PrSpec::new("feature", "main").author("alice"));
//! ```

mod api;
mod auth;
mod faults;
mod git;
mod log;
mod model;
mod permissions;
mod render;
mod repo_handle;
mod routes;
mod server;
mod setup;

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

// The fake's public API, for the e2e tests; not every test uses every item.
#[allow(unused_imports)]
pub use auth::{OTHER_PRIVATE_KEY_PEM, PRIVATE_KEY_PEM, PUBLIC_KEY_PEM, sign_jwt, sign_jwt_with};
pub use faults::Fault;
#[allow(unused_imports)]
pub use git::{Commit, Tree, blob_sha};
#[allow(unused_imports)]
pub use log::{AuthUsed, RequestRecord};
#[allow(unused_imports)]
pub use model::{
    APP_ID, APP_SLUG, AppConfig, CheckRun, Comment, CommitStatus, Deployment, DeploymentStatus,
    Installation, Issue, ManifestRegistration, Model, PrState, PullRequest, Reaction, Repo, Review,
};
pub use repo_handle::{PrSpec, RepoHandle};

use api::AppState;

pub struct FakeGitHub {
    state: AppState,
    task: JoinHandle<()>,
}

impl FakeGitHub {
    /// Binds 127.0.0.1 on a free port and serves until dropped.
    pub async fn start() -> FakeGitHub {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fake GitHub");
        let addr = listener
            .local_addr()
            .expect("local address of the fake GitHub");
        let state = AppState {
            model: Arc::new(Mutex::new(Model::new())),
            base: format!("http://{addr}").into(),
        };
        let app = routes::router()
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                server::observe,
            ))
            .with_state(state.clone());
        let service = app.into_make_service_with_connect_info::<server::ConnKill>();
        let task = tokio::spawn(async move {
            let served = axum::serve(server::KillableListener(listener), service).await;
            if let Err(e) = served {
                eprintln!("fake GitHub stopped: {e}");
            }
        });
        FakeGitHub { state, task }
    }

    /// `http://127.0.0.1:PORT`: both the API URL and the web URL.
    pub fn url(&self) -> String {
        self.state.base.to_string()
    }

    /// The whole model, for setups and assertions the helpers do not cover. Do not hold it
    /// across an `.await` on a request to the fake.
    pub fn model(&self) -> MutexGuard<'_, Model> {
        self.state.lock()
    }

    pub fn app_id(&self) -> u64 {
        self.model().app.id
    }

    /// The App's slug (`gitferry-test` until a manifest conversion renames it).
    pub fn slug(&self) -> String {
        self.model().app.slug.clone()
    }

    /// The App's bot login, `<slug>[bot]`.
    pub fn bot_login(&self) -> String {
        self.model().bot_login()
    }

    pub fn private_key_pem(&self) -> &'static str {
        PRIVATE_KEY_PEM
    }

    pub fn webhook_secret(&self) -> String {
        self.model().app.webhook_secret.clone()
    }

    /// A valid App JWT (issued a minute ago, expiring in nine).
    pub fn app_jwt(&self) -> String {
        let now = chrono::Utc::now().timestamp();
        sign_jwt(self.app_id(), now - 60, now + 540)
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.task.abort();
    }
}
