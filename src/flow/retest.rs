//! `/retest [step]` and a check run's "Re-run": a new attempt of the step (or of every step)
//! on the pull request's head. Steps after the deploy run at once when the head is deployed,
//! wait for its deploy when one is coming, and are skipped otherwise.

use super::Head;
use super::executor::{Flow, FlowError};
use super::steps::Selection;
use crate::app::AppContext;
use crate::github::short_sha;
use crate::repo_config::RepoConfig;
use crate::store::pipeline::PipelineStep;

/// What a retest did, for the command's answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Retest {
    Queued(Vec<String>),
    NoPipeline,
    UnknownStep { name: String, known: Vec<String> },
}

impl Retest {
    /// The answer to the person who asked.
    pub fn reply(&self, sha: &str) -> String {
        let list = |names: &[String]| {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Retest::Queued(names) => format!(
                "Running {} again on `{}`; the check runs and the tests section follow.",
                list(names),
                short_sha(sha)
            ),
            Retest::NoPipeline => {
                "This repository's config has no `pipeline` steps to run.".to_owned()
            }
            Retest::UnknownStep { name, known } => format!(
                "There is no step `{name}` in the config; its steps are {}.",
                list(known)
            ),
        }
    }
}

/// Queues a new attempt of `step` (or of all steps) on `head`.
pub async fn retest(
    ctx: &AppContext,
    config: &RepoConfig,
    head: &Head<'_>,
    step: Option<&str>,
) -> Result<Retest, FlowError> {
    if config.pipeline.is_empty() {
        return Ok(Retest::NoPipeline);
    }
    let selection = match step {
        Some(name) if config.step(name).is_none() => {
            return Ok(Retest::UnknownStep {
                name: name.to_owned(),
                known: config
                    .pipeline
                    .iter()
                    .map(|s| s.name.as_str().to_owned())
                    .collect(),
            });
        }
        Some(name) => Selection::Only(name),
        None => Selection::All,
    };
    let created = Flow::new(ctx, *head)
        .add_attempts(config, selection)
        .await?;
    Ok(Retest::Queued(
        created.into_iter().map(|r| r.step).collect(),
    ))
}

/// The head a check run's Re-run is for, from the runs of its commit (a check run names only
/// the commit and the step). PR runs win over a branch run of the same commit.
pub fn head_of_rerun<'a>(runs: &'a [PipelineStep], step: &str) -> Option<Head<'a>> {
    let run = runs
        .iter()
        .filter(|r| r.step == step)
        .max_by_key(|r| (r.pr > 0, r.created_at))?;
    Some(Head {
        actor: None,
        ..Head::of_run(run)
    })
}
