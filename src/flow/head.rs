//! The head a flow carries: a commit on its way into an environment, and for whom.

use crate::store::pipeline::PipelineStep;
use crate::store::previews::Preview;

/// The commit its steps run on and its environment deploys.
#[derive(Clone, Copy, Debug)]
pub struct Head<'a> {
    pub repository: &'a str,
    /// 0 for a branch run.
    pub pr: i64,
    pub installation_id: i64,
    pub sha: &'a str,
    /// The PR's head ref, or the pushed branch.
    pub branch: &'a str,
    /// The PR's base; empty for a branch run.
    pub base_ref: &'a str,
    pub default_branch: &'a str,
    pub actor: Option<&'a str>,
}

impl<'a> Head<'a> {
    /// A preview's head: the pull request's latest commit.
    pub fn of_preview(preview: &'a Preview) -> Self {
        Head {
            repository: &preview.repository,
            pr: preview.pr,
            installation_id: preview.installation_id,
            sha: &preview.head_sha,
            branch: &preview.head_ref,
            base_ref: &preview.base_ref,
            default_branch: &preview.default_branch,
            actor: None,
        }
    }

    /// The head a step run belongs to.
    pub fn of_run(run: &'a PipelineStep) -> Self {
        Head {
            repository: &run.repository,
            pr: run.pr,
            installation_id: run.installation_id,
            sha: &run.sha,
            branch: &run.branch,
            base_ref: &run.base_ref,
            default_branch: &run.default_branch,
            actor: run.actor.as_deref(),
        }
    }
}
