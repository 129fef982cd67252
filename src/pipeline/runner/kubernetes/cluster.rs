//! Creating and deleting the step's Job, and how API failures become [`RunnerError`]s with
//! the Job named. A Job of the same name left by an earlier attempt (gitferry restarted
//! mid-step) is deleted and the Job created anew: a Job's pod template cannot be updated.

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, PostParams};

use crate::pipeline::runner::RunnerError;
use crate::runs::RunLog;

/// How many times a create meets a leftover Job (still being deleted) before giving up.
const REPLACE_ATTEMPTS: u32 = 30;

/// Creates the Job, replacing a leftover of the same name.
pub async fn create(
    jobs: &Api<Job>,
    job: &Job,
    name: &str,
    log: &RunLog,
    interval: Duration,
) -> Result<Job, RunnerError> {
    let params = PostParams {
        field_manager: Some("gitferry".to_owned()),
        ..PostParams::default()
    };
    for attempt in 0..REPLACE_ATTEMPTS {
        match jobs.create(&params, job).await {
            Ok(created) => return Ok(created),
            Err(e) if code(&e) == Some(409) => {
                if attempt == 0 {
                    log.line(format!(
                        "gitferry: replacing the Job {name} left by an earlier attempt"
                    ));
                }
                delete(jobs, name)
                    .await
                    .map_err(|e| refused(&format!("deleting the earlier Job {name}"), e))?;
                tokio::time::sleep(interval).await;
            }
            Err(e) => return Err(refused(&format!("creating the Job {name}"), e)),
        }
    }
    Err(RunnerError::Failed(format!(
        "the cluster refused the Job: an earlier Job {name} is still being deleted"
    )))
}

/// Deletes the Job and, in the background, its pods (without a propagation policy, a Job's
/// pods would be orphaned). An already gone Job is fine.
pub async fn delete(jobs: &Api<Job>, name: &str) -> Result<(), kube::Error> {
    match jobs.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(e) if code(&e) == Some(404) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Deletes the Job and its Secret (of the same name) once the step is over, however it
/// ended; also when the run is dropped half-way (the executor aborted), then in a task of its
/// own.
pub struct Cleanup {
    jobs: Api<Job>,
    secrets: Api<Secret>,
    name: String,
    armed: bool,
}

impl Cleanup {
    pub fn new(jobs: Api<Job>, secrets: Api<Secret>, name: &str) -> Self {
        Self {
            jobs,
            secrets,
            name: name.to_owned(),
            armed: true,
        }
    }

    /// Deletes now; a failure is noted in the log (the Job's TTL still removes it, and the
    /// Secret with it once the Job owns it).
    pub async fn run(mut self, log: &RunLog) {
        self.armed = false;
        if let Err(e) = delete(&self.jobs, &self.name).await {
            log.line(format!(
                "gitferry: could not delete the Job {} (it expires on its own): {}",
                self.name,
                chain(&e)
            ));
        }
        if let Err(e) = super::secret::delete(&self.secrets, &self.name).await {
            log.line(format!(
                "gitferry: could not delete the Secret {} (it goes with its Job): {}",
                self.name,
                chain(&e)
            ));
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let jobs = self.jobs.clone();
            let secrets = self.secrets.clone();
            let name = std::mem::take(&mut self.name);
            runtime.spawn(async move {
                if let Err(e) = delete(&jobs, &name).await {
                    tracing::warn!(job = %name, error = %chain(&e), "could not delete a step's Job");
                }
                if let Err(e) = super::secret::delete(&secrets, &name).await {
                    tracing::warn!(secret = %name, error = %chain(&e), "could not delete a step's Secret");
                }
            });
        }
    }
}

fn code(error: &kube::Error) -> Option<u16> {
    match error {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// A call that failed before the step ran: `the cluster refused the Job: <what>: <why>`.
pub fn refused(what: &str, error: kube::Error) -> RunnerError {
    RunnerError::Failed(format!(
        "the cluster refused the Job: {what}: {}",
        words(&error)
    ))
}

/// A call that failed while the step ran: gitferry lost track of it.
pub fn lost(what: &str, error: kube::Error) -> RunnerError {
    RunnerError::Failed(format!("lost the step's Job: {what}: {}", words(&error)))
}

/// The server's own message and code, or the error's causes when it was never reached.
fn words(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => {
            let message = if status.message.is_empty() {
                &status.reason
            } else {
                &status.message
            };
            format!("{message} (HTTP {})", status.code)
        }
        other => chain(other),
    }
}

/// `outer: inner: innermost`, so "connection refused" is not lost behind "client error".
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
