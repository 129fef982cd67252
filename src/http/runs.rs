//! `GET /runs/<id>?token=…`: a deploy's or a pipeline step's log, as plain text (never HTML,
//! so nothing a deploy script or a test prints can run in the reader's browser). After the
//! retention ([`crate::runs::retention`]) the page answers `410 Gone` and says so.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::HttpState;
use crate::runs::retention::is_expired;
use crate::runs::token_matches;
use crate::store::drift::DriftCheck;
use crate::store::now_ms;
use crate::store::pipeline::PipelineStep;
use crate::store::previews::PreviewRun;
use crate::store::releases::ReleaseLog;
use crate::store::{Store, StoreError};

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub async fn show(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    Query(query): Query<TokenQuery>,
) -> Response {
    let found = match find(&state.ctx.store, &id).await {
        Ok(found) => found,
        Err(err) => {
            tracing::error!(error = %err, "reading a run failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable\n",
            )
                .into_response();
        }
    };
    // An unknown id and a wrong token look the same, so ids cannot be probed.
    let Some(run) = found.filter(|run| token_matches(&query.token, run.token_hash())) else {
        return (
            StatusCode::NOT_FOUND,
            "no such run (or the link is incomplete)\n",
        )
            .into_response();
    };
    let retention = state.ctx.settings.run_retention;
    let (status, text) = if run.is_expired(now_ms(), retention) {
        let kept = humantime::format_duration(retention);
        (
            StatusCode::GONE,
            format!(
                "this run's log has expired: gitferry keeps logs and their links for {kept} \
                 after the run ends (GITFERRY_RUN_RETENTION)\n"
            ),
        )
    } else {
        (StatusCode::OK, run.text())
    };
    let mut response = (status, text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What a run id names: preview runs and pipeline steps share the `/runs/` links (both ids
/// are 16 random hex chars, so they do not collide).
enum Run {
    Preview(Box<PreviewRun>),
    Step(Box<PipelineStep>),
    Release(Box<ReleaseLog>),
    /// A drift check and its whole report.
    Drift(Box<(DriftCheck, Option<String>)>),
}

async fn find(store: &Store, id: &str) -> Result<Option<Run>, StoreError> {
    if let Some(run) = store.preview_run(id).await? {
        return Ok(Some(Run::Preview(Box::new(run))));
    }
    if let Some(step) = store.pipeline_step(id).await? {
        return Ok(Some(Run::Step(Box::new(step))));
    }
    if let Some(release) = store.release_log(id).await? {
        return Ok(Some(Run::Release(Box::new(release))));
    }
    Ok(store
        .drift_report(id)
        .await?
        .map(|drift| Run::Drift(Box::new(drift))))
}

impl Run {
    fn is_expired(&self, now: i64, retention: std::time::Duration) -> bool {
        match self {
            Self::Preview(run) => is_expired(run.finished_at, run.log_expired_at, now, retention),
            Self::Step(step) => is_expired(step.finished_at, step.log_expired_at, now, retention),
            Self::Release(run) => {
                is_expired(run.release.finished_at, run.log_expired_at, now, retention)
            }
            Self::Drift(drift) => is_expired(drift.0.finished_at, None, now, retention),
        }
    }

    fn token_hash(&self) -> &str {
        match self {
            Self::Preview(run) => &run.token_hash,
            Self::Step(step) => &step.token_hash,
            Self::Release(run) => &run.release.token_hash,
            Self::Drift(drift) => &drift.0.token_hash,
        }
    }

    /// A header line saying what ran and how it stands, then the log.
    fn text(&self) -> String {
        match self {
            Self::Preview(run) => {
                let finished = match run.finished_at {
                    Some(_) => format!(
                        "{} ({})",
                        run.state,
                        run.reason.as_deref().unwrap_or("no details")
                    ),
                    None => "running".to_owned(),
                };
                format!(
                    "{} of {}#{} at {}: {finished}\n\n{}",
                    run.operation, run.repository, run.pr, run.sha, run.log
                )
            }
            Self::Step(step) => {
                let attempt = match step.attempt {
                    1 => String::new(),
                    n => format!(" (attempt {n})"),
                };
                let place = if step.is_branch_run() {
                    format!("{} on {}", step.repository, step.branch)
                } else {
                    format!("{}#{}", step.repository, step.pr)
                };
                // A settled run shows how it ended; an unsettled one where it stands.
                let standing = match (&step.conclusion, &step.reason) {
                    (Some(conclusion), Some(reason)) => format!("{conclusion} ({reason})"),
                    (Some(conclusion), None) => conclusion.clone(),
                    (None, Some(reason)) => format!("{} ({reason})", step.state),
                    (None, None) => step.state.clone(),
                };
                format!(
                    "step {}{attempt} of {place} at {}: {standing}\n\n{}",
                    step.step, step.sha, step.log
                )
            }
            Self::Release(run) => {
                let r = &run.release;
                let standing = match &r.reason {
                    Some(reason) => format!("{} ({reason})", r.state),
                    None => r.state.clone(),
                };
                format!(
                    "release {} of {} to {} at {}: {standing}\n\n{}",
                    r.version(),
                    r.repository,
                    r.environment,
                    r.sha,
                    run.log
                )
            }
            Self::Drift(drift) => {
                let (check, report) = drift.as_ref();
                let what = match check.pr {
                    0 => format!("drift sweep of {}", check.environment),
                    pr => format!("drift check of #{pr} into {}", check.environment),
                };
                format!(
                    "{what} of {} at {}: {}\n\n{}",
                    check.repository,
                    check.base_sha,
                    check.outcome.as_deref().unwrap_or("running"),
                    report.as_deref().unwrap_or_default()
                )
            }
        }
    }
}
