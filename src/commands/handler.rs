//! The I/O shell around slash commands: reads the comment, decides with the pure functions of
//! this module, reacts 👀, runs what is allowed, answers once per comment and audits each
//! command. Replays are harmless: the answer carries a marker naming the comment and is edited
//! in place, and audit entries are keyed by comment and command.

use std::sync::Arc;

use tracing::info;

use super::lookup::{self, Asker};
use super::{
    Actor, Command, CommandError, Extracted, PullRequestFacts, ReplyContext, Rules, authorize,
    extract, parse_command, replies, rules_from_config,
};
use crate::app::AppContext;
use crate::config_source::Loaded;
use crate::github::events::{IssueCommentEvent as Payload, PullRequest};
use crate::github::{GithubError, InstallationClient};
use crate::router::{Event, HandlerError, Router};
use crate::store::audit::AuditEntry;
use crate::store::now_ms;

mod answer;
mod approve;
mod drift;
mod edits;
mod effects;

pub use answer::answer_once;
use edits::{edited_by_someone_else, refuse_foreign_edit};

pub fn register(router: &mut Router) {
    router.on("issue_comment.created", handle);
    router.on("issue_comment.edited", handle);
}

/// The marker that finds this comment's answer again.
fn reply_marker(comment_id: u64) -> String {
    format!("<!-- gitferry:reply comment={comment_id} -->")
}

async fn handle(ctx: Arc<AppContext>, event: Arc<Event>) -> Result<(), HandlerError> {
    let payload = event.issue_comment()?;
    if !payload.issue.is_pull_request() || payload.comment.user.kind == "Bot" {
        return Ok(());
    }
    let installation = event.installation()?;
    let identity = ctx.identity().await?.clone();
    let gh = ctx.github.installation(installation);
    let repo = &payload.repository.full_name;

    let loaded = event.config(&ctx).await?;
    let config = loaded.usable();
    let prefix = config.map_or("/", |c| c.commands.prefix.as_str());
    let extracted = new_commands(payload, &identity.slug, prefix);
    if extracted.commands.is_empty() {
        return Ok(());
    }
    let rules = config.map_or_else(Rules::default, |c| rules_from_config(&c.commands));
    let cx = ReplyContext {
        prefix,
        app_slug: &identity.slug,
        org: payload.repository.owner(),
    };
    if let Some(author) = edited_by_someone_else(payload) {
        return refuse_foreign_edit(&ctx, &gh, payload, &event, &extracted, author, prefix).await;
    }
    let mut session = Session {
        ctx: &ctx,
        gh: &gh,
        payload,
        event: &event,
        rules: &rules,
        cx: &cx,
        pull: None,
    };

    gh.react_to_comment(repo, payload.comment.id, "eyes")
        .await?;

    let mut answers = Vec::new();
    for (index, raw) in extracted.commands.iter().enumerate() {
        let answer = match (loaded, parse_command(raw)) {
            (_, Err(err)) => session.invalid(index, &err).await?,
            (Loaded::Missing, Ok(Command::Help)) => {
                session.audit(index, "help", "done", None).await?;
                replies::not_configured(&cx)
            }
            // No config: gitferry stays quiet about everything but `/help`.
            (Loaded::Missing, Ok(_)) => continue,
            (_, Ok(command)) => session.run(index, &command).await?,
        };
        answers.push(answer);
    }
    if let Some(note) = replies::too_many_commands(&extracted) {
        answers.push(note);
    }
    if !answers.is_empty() {
        session
            .answer(&identity.bot_login(), &answers.join("\n\n---\n\n"))
            .await?;
    }
    Ok(())
}

/// Commands in the comment; for an edit, only those the previous text did not have.
fn new_commands(payload: &Payload, slug: &str, prefix: &str) -> Extracted {
    let mut extracted = extract(&payload.comment.body, slug, prefix);
    if let Some(previous) = payload.changes.as_ref().and_then(|c| c.body.as_ref()) {
        let before = extract(&previous.from, slug, prefix);
        extracted.commands.retain(|command| {
            !before
                .commands
                .iter()
                .any(|old| old.name == command.name && old.args == command.args)
        });
    }
    extracted
}

/// One comment's commands being handled.
struct Session<'a> {
    ctx: &'a AppContext,
    gh: &'a InstallationClient,
    payload: &'a Payload,
    event: &'a Event,
    rules: &'a Rules,
    cx: &'a ReplyContext<'a>,
    /// The pull request, read once and only if a decision needs it.
    pull: Option<PullRequest>,
}

impl Session<'_> {
    fn repo(&self) -> &str {
        &self.payload.repository.full_name
    }

    async fn pull(&mut self) -> Result<&PullRequest, GithubError> {
        let pull = match self.pull.take() {
            Some(pull) => pull,
            None => {
                let number = i64::try_from(self.payload.issue.number).unwrap_or_default();
                self.gh.pull(self.repo(), number).await?
            }
        };
        Ok(self.pull.insert(pull))
    }

    async fn invalid(&mut self, index: usize, err: &CommandError) -> Result<String, HandlerError> {
        let (action, outcome) = match err {
            CommandError::Unknown { name, .. } => (format!("unknown:{name}"), "unknown"),
            CommandError::BadArguments { command, .. } => (command.to_string(), "invalid"),
        };
        self.audit(index, &action, outcome, Some(err.to_string()))
            .await?;
        Ok(replies::command_error(err, self.cx))
    }

    async fn run(&mut self, index: usize, command: &Command) -> Result<String, HandlerError> {
        let login = self.payload.sender.login.clone();
        if *command == Command::Approve {
            // The environment's `approvals` decide, not a command rule (see `approve.rs`).
            let approved = self.approve().await?;
            self.audit(index, &command.to_string(), approved.outcome, None)
                .await?;
            return Ok(approved.text);
        }
        let is_pr_author = self.payload.issue.user.login.eq_ignore_ascii_case(&login);
        let rule = self.rules.rule_for(command);
        let from_fork = if rule.author && is_pr_author {
            let pull = self.pull().await?;
            pull.head.repo.as_ref().map(|r| &r.full_name)
                != pull.base.repo.as_ref().map(|r| &r.full_name)
        } else {
            false
        };
        let facts = PullRequestFacts { from_fork };
        let asker = Asker {
            repo: self.repo(),
            org: self.payload.repository.owner(),
            login: &login,
            is_pr_author,
        };
        let actor = lookup::actor(self.ctx, self.gh, &asker, &facts, command, self.rules).await?;
        match authorize(command, &actor, &facts, self.rules) {
            Err(refusal) => {
                let detail = refusal.sentence(self.cx.prefix, self.cx.org);
                self.audit(index, &command.to_string(), "refused", Some(detail))
                    .await?;
                Ok(replies::refusal(&login, &refusal, self.cx))
            }
            Ok(()) => {
                let outcome = self.execute(command, &actor).await?;
                self.audit(index, &command.to_string(), "allowed", None)
                    .await?;
                info!(command = %command, user = %login, "command run");
                Ok(outcome)
            }
        }
    }

    /// Each command's effect. The features that give `/retest`, `/drift`, the queue and
    /// promotion their effect plug in here as they land.
    async fn execute(&mut self, command: &Command, actor: &Actor) -> Result<String, HandlerError> {
        Ok(match command {
            Command::Help => replies::help(self.rules, self.cx),
            Command::Preview { destroy, sha } => {
                self.preview(*destroy, sha.as_deref(), actor).await?
            }
            Command::Retest { step, sha } => {
                self.retest(step.as_deref(), sha.as_deref(), actor).await?
            }
            Command::Rollback { env, sha } => self.rollback(env, sha.as_deref()).await?,
            Command::Promote { env } => self.promote(env).await?,
            Command::Drift => self.drift().await?,
            other => format!(
                "`{}{}` is understood and you may run it, but this gitferry does not do it yet.",
                self.cx.prefix, other
            ),
        })
    }

    async fn audit(
        &self,
        index: usize,
        action: &str,
        outcome: &str,
        detail: Option<String>,
    ) -> Result<(), HandlerError> {
        let sha = self.pull.as_ref().map(|p| p.head.sha.clone());
        self.ctx
            .store
            .record_audit(&AuditEntry {
                at: now_ms(),
                actor: self.payload.sender.login.clone(),
                action: format!("command:{action}"),
                repository: self.repo().to_owned(),
                pr: Some(self.payload.issue.number as i64),
                sha,
                outcome: outcome.to_owned(),
                detail,
                delivery_id: Some(self.event.delivery_id.clone()),
                source_id: Some(format!("comment:{}:{index}", self.payload.comment.id)),
                environment: None,
            })
            .await?;
        Ok(())
    }

    /// Posts the answer, or edits the one a previous attempt posted.
    async fn answer(&self, bot_login: &str, text: &str) -> Result<(), GithubError> {
        let marker = reply_marker(self.payload.comment.id);
        answer_once(
            self.gh,
            self.repo(),
            self.payload.issue.number,
            bot_login,
            &marker,
            text,
        )
        .await
    }
}
