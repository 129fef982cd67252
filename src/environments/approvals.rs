//! Who has approved a promotion, counted as the environment's `approvals` demand (pure).
//!
//! An approval is a GitHub review "approve" or `/approve`, and it approves one commit: the
//! promotion's head when it was given. It counts only while that commit is still the head
//! (the promotion branch moves to each newer verified release, and what was approved before
//! is not what would ship). The promotion's author (whoever asked for it) and bots never
//! count: approval is a second person's judgement. A "changes requested" review by someone
//! who may approve blocks until it is dismissed or followed by their approval, whatever
//! commit it was given on, as GitHub's own required reviews do.

use crate::commands::{Permission, Rule};
use crate::repo_config::Environment;

/// What an environment's promotions need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub min: u32,
    /// Who may approve.
    pub rule: Rule,
}

impl Policy {
    /// The environment's `approvals`; without them one approval by an admin (promotion is
    /// an admin's release, unless the config says who else may give it).
    pub fn of(environment: &Environment) -> Policy {
        match &environment.approvals {
            Some(approvals) => Policy {
                min: approvals.min.max(1),
                rule: Rule {
                    permission: approvals.permission.map(crate::commands::config_permission),
                    users: approvals.users.clone(),
                    teams: approvals.teams.clone(),
                    author: false,
                },
            },
            None => Policy {
                min: 1,
                rule: Rule::at_least(Permission::Admin),
            },
        }
    }
}

/// What a person said about the promotion, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote {
    pub login: String,
    pub kind: VoteKind,
    /// The commit it was given on (`None`: GitHub did not say).
    pub sha: Option<String>,
    /// Milliseconds since the epoch: a person's latest vote is theirs.
    pub at: i64,
    pub bot: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteKind {
    Approve,
    RequestChanges,
    /// The person's review was dismissed: what it said no longer stands.
    Dismissed,
}

/// The count, and why each vote that does not count does not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub needed: u32,
    /// Approvals of the head by people who may approve, in the order given.
    pub counted: Vec<String>,
    /// Approved an earlier head of the promotion.
    pub stale: Vec<String>,
    /// Approved but may not approve this environment's promotions.
    pub not_allowed: Vec<String>,
    /// Approved their own promotion.
    pub own: Vec<String>,
    /// Requested changes, and may approve: blocks.
    pub blocking: Vec<String>,
}

impl Tally {
    pub fn approved(&self) -> bool {
        self.blocking.is_empty() && self.counted.len() >= self.needed as usize
    }

    /// How many more approvals are needed.
    pub fn missing(&self) -> usize {
        (self.needed as usize).saturating_sub(self.counted.len())
    }
}

/// Counts `votes` for a promotion whose head is `head` and whose author (who asked for it)
/// is `author`. `may_approve` says whether a login may approve this environment.
pub fn tally(
    needed: u32,
    head: &str,
    author: &str,
    votes: &[Vote],
    may_approve: impl Fn(&str) -> bool,
) -> Tally {
    let mut latest: Vec<&Vote> = Vec::new();
    let mut ordered: Vec<&Vote> = votes.iter().filter(|v| !v.bot).collect();
    ordered.sort_by_key(|v| v.at);
    for vote in ordered {
        match latest
            .iter_mut()
            .find(|v| v.login.eq_ignore_ascii_case(&vote.login))
        {
            Some(slot) => *slot = vote,
            None => latest.push(vote),
        }
    }
    let mut tally = Tally {
        needed,
        ..Tally::default()
    };
    for vote in latest {
        let login = vote.login.clone();
        match vote.kind {
            VoteKind::Dismissed => {}
            VoteKind::RequestChanges => {
                if may_approve(&login) {
                    tally.blocking.push(login);
                }
            }
            VoteKind::Approve if login.eq_ignore_ascii_case(author) => tally.own.push(login),
            VoteKind::Approve if !may_approve(&login) => tally.not_allowed.push(login),
            VoteKind::Approve if vote.sha.as_deref() != Some(head) => tally.stale.push(login),
            VoteKind::Approve => tally.counted.push(login),
        }
    }
    tally
}

/// The tally in words, for the check run and the answers: "1 of 2 approvals: @ann. …".
pub fn describe(tally: &Tally, who: &str) -> String {
    let names = |logins: &[String]| {
        logins
            .iter()
            .map(|l| format!("`@{l}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!(
        "{} of {} approval{}",
        tally.counted.len().min(tally.needed as usize),
        tally.needed,
        if tally.needed == 1 { "" } else { "s" }
    );
    if !tally.counted.is_empty() {
        text.push_str(&format!(": {}", names(&tally.counted)));
    }
    text.push_str(&format!(" (approvers: {who})."));
    if !tally.blocking.is_empty() {
        text.push_str(&format!(
            " Changes requested by {}: it waits until they approve or their review is \
             dismissed.",
            names(&tally.blocking)
        ));
    }
    if !tally.stale.is_empty() {
        text.push_str(&format!(
            " Not counted, given before the promotion last moved: {}.",
            names(&tally.stale)
        ));
    }
    if !tally.own.is_empty() {
        text.push_str(&format!(
            " Not counted, their own promotion: {}.",
            names(&tally.own)
        ));
    }
    if !tally.not_allowed.is_empty() {
        text.push_str(&format!(
            " Not counted, not approvers of this environment: {}.",
            names(&tally.not_allowed)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "bbbb";

    fn vote(login: &str, kind: VoteKind, sha: &str, at: i64) -> Vote {
        Vote {
            login: login.into(),
            kind,
            sha: Some(sha.into()),
            at,
            bot: false,
        }
    }

    fn admins(login: &str) -> bool {
        ["ann", "bob", "mona"].contains(&login.to_ascii_lowercase().as_str())
    }

    #[test]
    fn an_approval_counts_only_for_the_head_it_saw() {
        let votes = [
            vote("ann", VoteKind::Approve, "aaaa", 1),
            vote("bob", VoteKind::Approve, HEAD, 2),
        ];
        let t = tally(2, HEAD, "mona", &votes, admins);
        assert_eq!(t.counted, ["bob"]);
        assert_eq!(t.stale, ["ann"]);
        assert!(!t.approved());
        assert_eq!(t.missing(), 1);
    }

    #[test]
    fn the_author_bots_and_people_who_may_not_approve_never_count() {
        let mut bot = vote("ci[bot]", VoteKind::Approve, HEAD, 4);
        bot.bot = true;
        let votes = [
            vote("mona", VoteKind::Approve, HEAD, 1),
            vote("dev", VoteKind::Approve, HEAD, 2),
            bot,
        ];
        let t = tally(1, HEAD, "mona", &votes, admins);
        assert!(t.counted.is_empty());
        assert_eq!(t.own, ["mona"]);
        assert_eq!(t.not_allowed, ["dev"]);
        assert!(!t.approved());
    }

    #[test]
    fn changes_requested_by_an_approver_block_until_dismissed_or_approved() {
        let votes = [
            vote("ann", VoteKind::Approve, HEAD, 1),
            vote("bob", VoteKind::RequestChanges, "aaaa", 2),
            vote("dev", VoteKind::RequestChanges, HEAD, 3),
        ];
        let t = tally(1, HEAD, "mona", &votes, admins);
        assert_eq!(
            t.blocking,
            ["bob"],
            "dev may not approve, so dev cannot block"
        );
        assert!(!t.approved());
        let mut dismissed = votes.to_vec();
        dismissed.push(vote("bob", VoteKind::Dismissed, "aaaa", 5));
        assert!(tally(1, HEAD, "mona", &dismissed, admins).approved());
        let mut approved = votes.to_vec();
        approved.push(vote("BOB", VoteKind::Approve, HEAD, 5));
        let t = tally(2, HEAD, "mona", &approved, admins);
        assert!(t.approved(), "{t:?}");
    }

    #[test]
    fn a_withdrawn_approval_no_longer_counts() {
        let votes = [
            vote("ann", VoteKind::Approve, HEAD, 1),
            vote("ann", VoteKind::Dismissed, HEAD, 2),
        ];
        let t = tally(1, HEAD, "mona", &votes, admins);
        assert!(!t.approved());
        assert!(t.counted.is_empty());
    }

    #[test]
    fn the_description_says_what_counts_and_why_the_rest_does_not() {
        let votes = [
            vote("ann", VoteKind::Approve, "aaaa", 1),
            vote("mona", VoteKind::Approve, HEAD, 2),
        ];
        let t = tally(1, HEAD, "mona", &votes, admins);
        assert_eq!(
            describe(&t, "admin permission"),
            "0 of 1 approval (approvers: admin permission). Not counted, given before the \
             promotion last moved: `@ann`. Not counted, their own promotion: `@mona`."
        );
    }
}
