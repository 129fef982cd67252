//! What `/preview` and `/retest` do once allowed, and the check that a fork's approval still
//! binds to the head ([`approval`]).

use super::{HandlerError, Session};
use crate::commands::approval::{self, Binding};
use crate::commands::{Actor, Permission};
use crate::preview::ask::{self, Asked, Refused};

impl Session<'_> {
    /// `/preview` (re)deploys the head, and is a fork PR's approval when the commenter has
    /// write access; `/preview destroy` tears the preview down. The preview decides; this
    /// only words its answer.
    pub(super) async fn preview(
        &mut self,
        destroy: bool,
        named: Option<&str>,
        actor: &Actor,
    ) -> Result<String, HandlerError> {
        let repo = self.repo().to_owned();
        let number = self.payload.issue.number as i64;
        let p = self.cx.prefix;
        if destroy {
            let reason = format!("destroyed on request by @{}", actor.login);
            return Ok(if ask::destroy(self.ctx, &repo, number, &reason).await? {
                "Destroying the preview; the preview section above follows it.".to_owned()
            } else {
                "There is no preview to destroy.".to_owned()
            });
        }
        let loaded = self.event.config(self.ctx).await?;
        let Some(config) = loaded.usable() else {
            return Ok(refused(&Refused::NoEnvironment, "", p));
        };
        let pull = self.pull().await?;
        let from_fork = pull.head.repo.as_ref().map(|r| &r.full_name)
            != pull.base.repo.as_ref().map(|r| &r.full_name);
        if let Some(refusal) = ask::refusal(config, from_fork, &pull.base.name) {
            return Ok(refused(&refusal, &pull.base.name, p));
        }
        let maintainer = actor.permission >= Permission::Write;
        if let Some(stale) = self
            .stale(named, from_fork && maintainer, "preview")
            .await?
        {
            return Ok(stale);
        }
        let (ctx, gh, payload) = (self.ctx, self.gh, self.payload);
        let pull = self.pull().await?;
        let asked = Asked {
            repository: &repo,
            pr: number,
            installation_id: gh.id().stored(),
            head_sha: &pull.head.sha,
            head_ref: &pull.head.name,
            base_ref: &pull.base.name,
            default_branch: &payload.repository.default_branch,
            from_fork,
            by_maintainer: maintainer,
        };
        if let Err(refusal) = ask::deploy(ctx, config, &asked).await? {
            return Ok(refused(&refusal, &pull.base.name, p));
        }
        let short = crate::github::short_sha(&pull.head.sha).to_owned();
        Ok(if from_fork && !maintainer {
            format!(
                "This pull request comes from a fork: its preview is deployed once someone \
                 with write access comments `{p}preview`."
            )
        } else if from_fork {
            format!(
                "Deploying `{short}`, approved for this fork; the preview section above \
                 follows it. A newer push needs a new approval."
            )
        } else {
            format!("Deploying `{short}`; the preview section above follows it.")
        })
    }

    /// `/retest [step]`: a new attempt on the head. Who may ask is the command rules' call
    /// (by default write access, or the PR's author unless it comes from a fork), so this also
    /// runs a fork's steps once a maintainer asks.
    /// The answer when the approval does not bind to the head ([`approval::bind`]), or
    /// `None` to go ahead. The recorded head counts only for a fork's approval by a
    /// maintainer (`binds`); a named commit always must be the head.
    async fn stale(
        &mut self,
        named: Option<&str>,
        binds: bool,
        command: &str,
    ) -> Result<Option<String>, HandlerError> {
        if named.is_none() && !binds {
            return Ok(None);
        }
        let recorded = if binds {
            let number = self.payload.issue.number as i64;
            let repo = self.repo().to_owned();
            ask::recorded_head(self.ctx, &repo, number).await?
        } else {
            None
        };
        let head = self.pull().await?.head.sha.clone();
        Ok(match approval::bind(named, recorded.as_deref(), &head) {
            Binding::Head => None,
            Binding::Stale {
                approved,
                head,
                named,
            } => {
                let command = format!("{}{command}", self.cx.prefix);
                Some(approval::stale_reply(&approved, &head, named, &command))
            }
        })
    }

    pub(super) async fn retest(
        &mut self,
        step: Option<&str>,
        named: Option<&str>,
        actor: &Actor,
    ) -> Result<String, HandlerError> {
        let repo = self.repo().to_owned();
        let default_branch = self.payload.repository.default_branch.clone();
        let loaded = self.event.config(self.ctx).await?;
        let Some(config) = loaded.usable() else {
            return Ok(
                "The config on the default branch is not valid, so there are no steps to run."
                    .to_owned(),
            );
        };
        let (ctx, number, installation) = (
            self.ctx,
            self.payload.issue.number as i64,
            self.gh.id().stored(),
        );
        let pull = self.pull().await?;
        let from_fork = pull.head.repo.as_ref().map(|r| &r.full_name)
            != pull.base.repo.as_ref().map(|r| &r.full_name);
        let maintainer = actor.permission >= Permission::Write;
        let command = match step {
            Some(step) => format!("retest {step}"),
            None => "retest".to_owned(),
        };
        if let Some(stale) = self.stale(named, from_fork && maintainer, &command).await? {
            return Ok(stale);
        }
        let actor = self.payload.sender.login.clone();
        let pull = self.pull().await?;
        let head = crate::flow::Head {
            repository: &repo,
            pr: number,
            installation_id: installation,
            sha: &pull.head.sha,
            branch: &pull.head.name,
            base_ref: &pull.base.name,
            default_branch: &default_branch,
            actor: Some(&actor),
        };
        let outcome = crate::flow::retest::retest(ctx, config, &head, step)
            .await
            .map_err(|e| HandlerError::retry(anyhow::Error::new(e)))?;
        Ok(outcome.reply(&pull.head.sha))
    }
}

/// The answer when the preview refuses the pull request.
fn refused(refusal: &Refused, base: &str, prefix: &str) -> String {
    match refusal {
        Refused::NoEnvironment => format!(
            "This repository's config has no preview environment, so `{prefix}preview` has \
             nothing to deploy. See `environments` in the config reference."
        ),
        Refused::Fork => "Pull requests from forks never get a preview in this repository \
                          (`forks: never` in the config)."
            .to_owned(),
        Refused::OtherBase { bases } => {
            let bases: Vec<String> = bases.iter().map(|b| format!("`{b}`")).collect();
            format!(
                "Previews are for pull requests into {}; this one is into `{base}`.",
                bases.join(", ")
            )
        }
    }
}

impl Session<'_> {
    /// `/rollback <env> [<sha>]`: the environments feature does it; this words the answer.
    /// Who may ask is the command rules' call (admin by default).
    pub(super) async fn rollback(
        &mut self,
        environment: &str,
        named: Option<&str>,
    ) -> Result<String, HandlerError> {
        let loaded = self.event.config(self.ctx).await?;
        let Some(config) = loaded.usable() else {
            return Ok(
                "The config on the default branch is not valid, so there is no environment to \
                 roll back."
                    .to_owned(),
            );
        };
        let repo = self.repo().to_owned();
        let asked = crate::environments::rollback::Asked {
            repository: &repo,
            default_branch: &self.payload.repository.default_branch,
            environment,
            named,
            actor: &self.payload.sender.login,
        };
        let outcome =
            crate::environments::rollback::rollback(self.ctx, self.gh, config, &asked).await?;
        Ok(outcome.reply(environment))
    }

    /// `/promote <env>`: the environments feature opens or updates the promotion pull
    /// request; this words the answer. Who may ask is the command rules' call.
    pub(super) async fn promote(&mut self, environment: &str) -> Result<String, HandlerError> {
        let loaded = self.event.config(self.ctx).await?;
        let Some(config) = loaded.usable() else {
            return Ok(
                "The config on the default branch is not valid, so there is nothing to promote."
                    .to_owned(),
            );
        };
        let repo = self.repo().to_owned();
        let asked = crate::environments::promote::Asked {
            repository: &repo,
            environment,
            actor: &self.payload.sender.login,
            delivery_id: &self.event.delivery_id,
            only_if_open: false,
            lifts_hold: true,
        };
        let outcome =
            crate::environments::promote::promote(self.ctx, self.gh, config, &asked).await?;
        Ok(outcome.reply(environment))
    }
}
