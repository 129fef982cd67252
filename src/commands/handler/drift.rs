//! `/drift`: the pull request's drift check made again (what it changes in its environment,
//! and whether the environment has drifted). The drift feature does it; this words the answer.

use super::{HandlerError, Session};
use crate::drift::ask::{self, Asked, PullAt};

impl Session<'_> {
    pub(super) async fn drift(&mut self) -> Result<String, HandlerError> {
        let loaded = self.event.config(self.ctx).await?;
        let Some(config) = loaded.usable() else {
            return Ok(
                "The config on the default branch is not valid, so there is no environment to \
                 compare."
                    .to_owned(),
            );
        };
        let repo = self.repo().to_owned();
        let default_branch = self.payload.repository.default_branch.clone();
        let sender = self.payload.sender.login.clone();
        let installation_id = self.gh.id().stored();
        let ctx = self.ctx;
        let pull = self.pull().await?;
        let at = PullAt {
            repository: &repo,
            installation_id,
            pr: pull.number,
            head_sha: &pull.head.sha,
            base_ref: &pull.base.name,
            base_sha: &pull.base.sha,
            default_branch: &default_branch,
            requested_by: Some(&sender),
        };
        Ok(match ask::pull_request(ctx, config, &at).await? {
            Asked::Check(environment) => format!(
                "Comparing **{environment}** with Git; the `gitferry/drift` check and the drift \
                 section above follow."
            ),
            Asked::NothingToCompare(environment) => format!(
                "**{environment}** is deployed by commands and has no `status` command, so \
                 there is nothing to compare. A `status` command that exits 0 in sync and 2 \
                 drifted (as `terraform plan -detailed-exitcode` does) is its drift check."
            ),
            Asked::NoEnvironment => format!(
                "This pull request is into `{}`, which no environment deploys: there is no \
                 environment to compare.",
                pull.base.name
            ),
        })
    }
}
