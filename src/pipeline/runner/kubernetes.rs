//! The Kubernetes runner: each step as a Job in the configured namespace, one pod running the
//! step's command in the configured image. The pod fetches the commit's source itself (from
//! the short-lived archive URL), its log is followed into the step's log, and its JUnit
//! reports come back through that log (see [`wrapper`]) into the run's workspace, where the
//! executor reads them as it does for the local runner.
//!
//! The Job is deleted (with its pods) however the step ends. Its `activeDeadlineSeconds` is
//! the step's timeout, enforced here too in case the cluster does not.
//!
//! | file | responsibility |
//! |---|---|
//! | `wrapper` | the constant script around the command |
//! | `job` | the Job's name, labels and spec (restricted security context, resources) |
//! | `pod` | the pod's security context, resources and scratch folders |
//! | `secret` | the per-run Secret with the step's variables and the source link |
//! | `cluster` | create (replacing a leftover), delete, API errors |
//! | `watch` | polling the Job and its pod to the exit code |
//! | `logs` | following the container's log |
//! | `reports` | the log's report blocks into workspace files |

mod cluster;
mod job;
mod logs;
mod pod;
mod reports;
mod secret;
mod watch;
pub mod wrapper;

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::Api;
use tokio::sync::watch as channel;
use tokio_util::sync::CancellationToken;

use super::{Exit, Runner, RunnerError, StepRun};
use crate::deploy::BoxFuture;
pub use crate::deploy::kubernetes::connect;
pub use job::job_name;
use watch::{Polling, Watched};

/// How often the Job is looked at.
pub const DEFAULT_POLL: Duration = Duration::from_secs(2);
/// How long a container may fail to start (an image that does not pull) before the step fails.
pub const DEFAULT_START_GRACE: Duration = Duration::from_secs(60);
/// How long past the step's timeout gitferry waits for the cluster to enforce the deadline.
pub const LOCAL_TIMEOUT_GRACE: Duration = Duration::from_secs(30);
/// How long a log stream may stay silent after the Job ended before it is cut.
const LOG_DRAIN: Duration = Duration::from_secs(5);

/// Runs steps as Jobs through one client.
pub struct KubernetesRunner {
    client: kube::Client,
    namespace: String,
    image: Option<String>,
    service_account: Option<String>,
    resources: crate::repo_config::Resources,
    polling: Polling,
}

impl KubernetesRunner {
    pub fn new(client: kube::Client, config: &crate::repo_config::Runner) -> Self {
        Self {
            client,
            namespace: config.namespace.clone(),
            image: config.image.clone(),
            service_account: config.service_account.clone(),
            resources: config.resources.clone(),
            polling: Polling {
                interval: DEFAULT_POLL,
                start_grace: DEFAULT_START_GRACE,
            },
        }
    }

    /// Changes how often the Job is looked at (tests use milliseconds).
    #[must_use]
    pub fn with_polling(mut self, interval: Duration) -> Self {
        self.polling.interval = interval;
        self
    }

    /// Changes how long a container may fail to start before the step fails.
    #[must_use]
    pub fn with_start_grace(mut self, grace: Duration) -> Self {
        self.polling.start_grace = grace;
        self
    }

    async fn run_step(&self, run: StepRun<'_>) -> Result<Exit, RunnerError> {
        let image = self.image.as_deref().ok_or_else(|| {
            RunnerError::Failed(
                "the Kubernetes runner needs `runner.image`: the image steps run in".to_owned(),
            )
        })?;
        let source_url = run.source_url.ok_or_else(|| {
            RunnerError::Failed("the Kubernetes runner was given no source URL".to_owned())
        })?;
        let Some((program, args)) = run.argv.split_first() else {
            return Err(RunnerError::Failed("the step has no command".to_owned()));
        };
        let name = job_name(run.step, run.id);
        let settings = job::Settings {
            namespace: &self.namespace,
            image,
            service_account: self.service_account.as_deref(),
            resources: &self.resources,
        };
        let spec = job::build(&run, &settings, &name);
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), &self.namespace);
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &self.namespace);
        if run.cancel.is_cancelled() {
            return Err(RunnerError::Cancelled);
        }
        run.log.line(format!(
            "gitferry: running `{}` as Job {name} in namespace {} (image {image})",
            crate::process::display_command(program, args),
            self.namespace
        ));
        let values = job::secret_values(&run, source_url);
        let labels = job::labels(&run);
        let unowned = secret::build(&name, &self.namespace, &labels, &values, None);
        secret::apply(&secrets, &unowned)
            .await
            .map_err(|e| cluster::refused(&format!("writing the Secret {name}"), e))?;
        let cleanup = cluster::Cleanup::new(jobs.clone(), secrets.clone(), &name);
        let created = cluster::create(&jobs, &spec, &name, run.log, self.polling.interval).await;
        let created = match created {
            Ok(created) => created,
            Err(e) => {
                cleanup.run(run.log).await;
                return Err(e);
            }
        };
        let uid = created.metadata.uid.unwrap_or_default();
        // Owned by the Job, the Secret goes with it even if gitferry is not there to delete it.
        let owned = secret::build(
            &name,
            &self.namespace,
            &labels,
            &values,
            Some((&name, &uid)),
        );
        if let Err(e) = secret::apply(&secrets, &owned).await {
            run.log.line(format!(
                "gitferry: could not make the Job own its Secret {name} (it is deleted after the \
                 step all the same): {e}"
            ));
        }
        let watched = Watched {
            jobs: &jobs,
            pods: &pods,
            name: &name,
            uid: &uid,
            timeout: run.timeout,
        };
        let outcome = tokio::select! {
            biased;
            () = run.cancel.cancelled() => Err(RunnerError::Cancelled),
            () = tokio::time::sleep(run.timeout + LOCAL_TIMEOUT_GRACE) => {
                Err(RunnerError::Timeout { after: run.timeout })
            }
            outcome = self.follow(&watched, &pods, &run) => outcome,
        };
        cleanup.run(run.log).await;
        outcome
    }

    /// The Job's status and its log, side by side until both are done.
    async fn follow(
        &self,
        watched: &Watched<'_>,
        pods: &Api<Pod>,
        run: &StepRun<'_>,
    ) -> Result<Exit, RunnerError> {
        let (started, started_rx) = channel::channel(None);
        let finished = CancellationToken::new();
        let mut reports = reports::Reports::new(run.workspace.root(), run.log);
        let status = async {
            let outcome = watch::until_finished(watched, self.polling, &started).await;
            finished.cancel();
            outcome
        };
        let log = logs::follow(pods, started_rx, &finished, LOG_DRAIN, &mut reports);
        let (outcome, ()) = tokio::join!(status, log);
        outcome
    }
}

impl Runner for KubernetesRunner {
    fn run<'a>(&'a self, run: StepRun<'a>) -> BoxFuture<'a, Result<Exit, RunnerError>> {
        Box::pin(self.run_step(run))
    }
}
