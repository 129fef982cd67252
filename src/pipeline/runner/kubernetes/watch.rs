//! Waiting for the Job: its status is polled until it is `Complete` or `Failed`, and its pod
//! is looked at on the way, to tell the log follower when the container started, to give up
//! on a container that cannot start (a wrong image name never pulls, and the Job would wait
//! for its deadline), and at the end to read the container's exit code.

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ContainerState, Pod};
use kube::api::{Api, ListParams};
use tokio::sync::watch;
use tokio::time::Instant;

use super::cluster;
use super::job::CONTAINER;
use crate::pipeline::runner::{Exit, RunnerError};

/// Waiting reasons of a container that will not start without someone changing something.
const CANNOT_START: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
];

/// How the Job is looked at.
#[derive(Clone, Copy, Debug)]
pub struct Polling {
    /// Between two looks at the Job and its pod.
    pub interval: Duration,
    /// How long a container may stay in a [`CANNOT_START`] state (an image pull may succeed
    /// on a retry) before the step fails.
    pub start_grace: Duration,
}

/// One Job of one run, as created.
pub struct Watched<'a> {
    pub jobs: &'a Api<Job>,
    pub pods: &'a Api<Pod>,
    pub name: &'a str,
    /// The created Job's uid: its pods carry it, a leftover Job's pods do not.
    pub uid: &'a str,
    /// The step's timeout, which the Job's deadline enforces.
    pub timeout: Duration,
}

/// Polls until the Job ends; sends the pod's name on `started` once its container runs.
pub async fn until_finished(
    watched: &Watched<'_>,
    polling: Polling,
    started: &watch::Sender<Option<String>>,
) -> Result<Exit, RunnerError> {
    let mut stuck_since: Option<Instant> = None;
    loop {
        let pod = find_pod(watched).await?;
        let state = pod.as_ref().and_then(container_state);
        if let (Some(pod), Some(state)) = (&pod, &state)
            && (state.running.is_some() || state.terminated.is_some())
        {
            let name = pod.metadata.name.clone().unwrap_or_default();
            started.send_if_modified(|current| {
                let changed = current.as_deref() != Some(name.as_str());
                *current = Some(name.clone());
                changed
            });
        }
        if let Some(waiting) = state.as_ref().and_then(|s| s.waiting.as_ref())
            && let Some(reason) = waiting.reason.as_deref()
            && CANNOT_START.contains(&reason)
        {
            let since = *stuck_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= polling.start_grace {
                let message = waiting.message.as_deref().unwrap_or("no details");
                return Err(RunnerError::Failed(format!(
                    "the step's container cannot start: {reason}: {message}"
                )));
            }
        } else {
            stuck_since = None;
        }
        let job = watched
            .jobs
            .get(watched.name)
            .await
            .map_err(|e| cluster::lost(&format!("reading the Job {}", watched.name), e))?;
        if let Some(end) = ended(&job) {
            return finish(watched, end, state).await;
        }
        tokio::time::sleep(polling.interval).await;
    }
}

/// How a Job ended, from its conditions (or, on older clusters, its counts).
enum End {
    Complete,
    Failed { reason: String, message: String },
}

fn ended(job: &Job) -> Option<End> {
    let status = job.status.as_ref()?;
    for condition in status.conditions.iter().flatten() {
        if condition.status != "True" {
            continue;
        }
        match condition.type_.as_str() {
            "Complete" => return Some(End::Complete),
            "Failed" => {
                return Some(End::Failed {
                    reason: condition.reason.clone().unwrap_or_default(),
                    message: condition.message.clone().unwrap_or_default(),
                });
            }
            _ => {}
        }
    }
    if status.succeeded.unwrap_or(0) > 0 {
        return Some(End::Complete);
    }
    (status.failed.unwrap_or(0) > 0).then(|| End::Failed {
        reason: String::new(),
        message: String::new(),
    })
}

/// The Exit of an ended Job: its container's exit code, read once more (the last poll may
/// have seen it still running).
async fn finish(
    watched: &Watched<'_>,
    end: End,
    last_seen: Option<ContainerState>,
) -> Result<Exit, RunnerError> {
    if let End::Failed { reason, .. } = &end
        && reason == "DeadlineExceeded"
    {
        return Err(RunnerError::Timeout {
            after: watched.timeout,
        });
    }
    let state = match find_pod(watched).await?.as_ref().and_then(container_state) {
        Some(state) => Some(state),
        None => last_seen,
    };
    if let Some(terminated) = state.and_then(|s| s.terminated) {
        let code = terminated.exit_code;
        let mut description = format!("exit status {code}");
        if let Some(reason) = terminated
            .reason
            .filter(|r| !matches!(r.as_str(), "Completed" | "Error"))
        {
            description.push_str(&format!(" ({reason})"));
        }
        return Ok(Exit {
            success: code == 0,
            description,
        });
    }
    match end {
        End::Complete => Ok(Exit {
            success: true,
            description: "exit status 0".to_owned(),
        }),
        End::Failed { reason, message } => Err(RunnerError::Failed(format!(
            "the Job {} failed without an exit status: {}",
            watched.name,
            [reason, message]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(": ")
        ))),
    }
}

/// The Job's pod (it has one: `backoffLimit: 0`, `restartPolicy: Never`).
async fn find_pod(watched: &Watched<'_>) -> Result<Option<Pod>, RunnerError> {
    let selector = format!("controller-uid={}", watched.uid);
    let pods = watched
        .pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| cluster::lost(&format!("listing the pods of Job {}", watched.name), e))?;
    Ok(pods.items.into_iter().next())
}

fn container_state(pod: &Pod) -> Option<ContainerState> {
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .find(|c| c.name == CONTAINER)?
        .state
        .clone()
}
