//! `/approve` on a promotion pull request. Who may approve is the target environment's
//! `approvals` (not a command rule): the same people whose GitHub review "approve" counts, so
//! a comment and a review are two ways of saying one thing. The approval binds to the
//! promotion's head as gitferry had it when handling the comment, and counts only while that
//! commit is the head.

use super::{HandlerError, Session};
use crate::commands::lookup::{self, Asker};
use crate::environments::approvals::Policy;
use crate::environments::promotion::{Settle, Settled};
use crate::github::short_sha;
use crate::store::now_ms;
use crate::store::promotions::PromotionState;

/// The answer, and the audit log's outcome.
pub(super) struct Approved {
    pub text: String,
    pub outcome: &'static str,
}

impl Approved {
    fn new(text: impl Into<String>, outcome: &'static str) -> Self {
        Self {
            text: text.into(),
            outcome,
        }
    }
}

impl Session<'_> {
    pub(super) async fn approve(&mut self) -> Result<Approved, HandlerError> {
        let repo = self.repo().to_owned();
        let number = self.payload.issue.number as i64;
        let login = self.payload.sender.login.clone();
        let p = self.cx.prefix;
        let promotion = self.ctx.store.promotion_of_pull(&repo, number).await?;
        let Some(promotion) = promotion.filter(|p| p.state() == Some(PromotionState::Open)) else {
            return Ok(Approved::new(
                format!(
                    "`{p}approve` approves promotion pull requests (the ones `{p}promote` \
                     opens); this is not an open one. To approve this pull request, submit a \
                     review."
                ),
                "not a promotion",
            ));
        };
        let loaded = self.event.config(self.ctx).await?;
        let Some(config) = loaded.usable() else {
            return Ok(Approved::new(
                "The config on the default branch is not valid, so nothing can be approved.",
                "invalid config",
            ));
        };
        let Some(env) = config.environments.get(&promotion.environment) else {
            return Ok(Approved::new(
                format!(
                    "**{}** is no longer in the config; this promotion cannot merge.",
                    promotion.environment
                ),
                "no environment",
            ));
        };
        let policy = Policy::of(env);
        let asker = Asker {
            repo: &repo,
            org: self.cx.org,
            login: &login,
            is_pr_author: false,
        };
        if !lookup::admits(self.ctx, self.gh, &asker, &policy.rule).await? {
            return Ok(Approved::new(
                format!(
                    "@{login}, approving promotions into **{}** needs {}. Nothing changed.",
                    promotion.environment,
                    policy.rule.describe(self.cx.org)
                ),
                "refused",
            ));
        }
        if login.eq_ignore_ascii_case(&promotion.proposed_by) {
            return Ok(Approved::new(
                format!(
                    "@{login}, you asked for this promotion, so your approval does not count: \
                     it needs someone else's. Nothing changed."
                ),
                "refused: own promotion",
            ));
        }
        let head = self.pull().await?.head.sha.clone();
        if head != promotion.sha {
            return Ok(Approved::new(
                format!(
                    "The promotion is moving (its head is `{}`, gitferry proposes `{}`); \
                     nothing was approved. Look again once it settles.",
                    short_sha(&head),
                    short_sha(&promotion.sha)
                ),
                "refused: moving",
            ));
        }
        self.ctx
            .store
            .record_promotion_approval(&repo, number, &promotion.sha, &login, now_ms())
            .await?;
        let settled = Settle {
            ctx: self.ctx,
            gh: self.gh,
            config,
            promotion: &promotion,
            delivery_id: Some(&self.event.delivery_id),
        }
        .run()
        .await?;
        let approved = format!(
            "Approved `{}` for **{}**.",
            short_sha(&promotion.sha),
            promotion.environment
        );
        let text = match settled {
            Settled::Waiting(gate) => format!("{approved} {}", gate.describe(p)),
            Settled::Merged { sha, version } => format!(
                "{approved} Merged: **{}** moves to {version} (`{}`).",
                promotion.environment,
                short_sha(&sha)
            ),
            Settled::Refused(why) => format!("{approved} {why}"),
            Settled::Busy => format!("{approved} gitferry is merging it already."),
            Settled::Gone | Settled::NotTheCandidate { .. } => {
                format!("{approved} The promotion changed meanwhile; see its check run.")
            }
        };
        Ok(Approved::new(text, "approved"))
    }
}
