//! Which commit an approval approves. A maintainer's `/preview` or `/retest` on a fork's pull
//! request lets code nobody with write access wrote run with the repository's deploy
//! settings, so it must approve the commit the maintainer looked at, not whatever the fork
//! pushed between the comment and gitferry handling it.
//!
//! The commit is the one the command names (`/preview <sha>`), else the head gitferry had
//! recorded for the pull request when it handled the comment. One pull request's webhooks
//! are handled in the order they arrive, and GitHub sends them as things happen, so a push
//! made after the comment is recorded only after the comment is handled. The approval
//! applies only if that commit is still the head; gitferry never deploys or tests a commit
//! that is no longer the head, and a newer head needs its own approval.
//!
//! Limits: without a recorded head (a repository without a preview environment, or a
//! pull request older than gitferry's installation) a bare command approves the current
//! head; and if GitHub delivered a push made after the comment before the comment itself,
//! the newer head would count as seen. Naming the commit (`/preview <sha>`, `/retest
//! <sha>`) has neither limit.

use crate::github::short_sha;

/// What an approval binds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// The approved commit is the head: go ahead with it.
    Head,
    /// The approved commit is not the head (any more): do nothing.
    Stale {
        /// The commit approved, as far as it is known.
        approved: String,
        /// The head now.
        head: String,
        /// Whether the commenter named the commit (rather than it being the recorded head).
        named: bool,
    },
}

/// Binds an approval: `named` is the commit the command names, `recorded` the head gitferry
/// had recorded from the pull request's events, `head` the head now.
pub fn bind(named: Option<&str>, recorded: Option<&str>, head: &str) -> Binding {
    let (approved, named) = match (named, recorded) {
        (Some(sha), _) => (sha, true),
        (None, Some(recorded)) => (recorded, false),
        (None, None) => return Binding::Head,
    };
    if head.starts_with(&approved.to_ascii_lowercase()) {
        Binding::Head
    } else {
        Binding::Stale {
            approved: approved.to_owned(),
            head: head.to_owned(),
            named,
        }
    }
}

/// The answer when the approval does not apply: what was approved, that nothing ran, and how
/// to approve the head. `command` is the command to approve the head with (`/preview`).
pub fn stale_reply(approved: &str, head: &str, named: bool, command: &str) -> String {
    let (approved, head) = (short_sha(approved), short_sha(head));
    let what = if named {
        format!("`{approved}`")
    } else {
        format!("`{approved}` (the head when you commented)")
    };
    format!(
        "This approves {what}, but the head is now `{head}`, pushed since. Nothing was run: \
         gitferry only deploys and tests the head, and `{head}` needs its own approval. Once \
         you have looked at it, comment `{command} {head}`."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaa1111111111111111111111111111111111";
    const B: &str = "bbbbbbb2222222222222222222222222222222222";

    #[test]
    fn a_named_commit_binds_when_it_is_the_head() {
        assert_eq!(bind(Some("aaaaaaa"), Some(B), A), Binding::Head);
        assert_eq!(
            bind(Some("aaaaaaa"), None, B),
            Binding::Stale {
                approved: "aaaaaaa".into(),
                head: B.into(),
                named: true
            }
        );
    }

    #[test]
    fn without_a_name_the_recorded_head_is_what_was_approved() {
        assert_eq!(bind(None, Some(A), A), Binding::Head);
        assert_eq!(
            bind(None, Some(A), B),
            Binding::Stale {
                approved: A.into(),
                head: B.into(),
                named: false
            }
        );
        assert_eq!(
            bind(None, None, B),
            Binding::Head,
            "nothing recorded: today's head"
        );
    }

    #[test]
    fn the_reply_names_both_commits_and_how_to_approve_the_head() {
        assert_eq!(
            stale_reply(A, B, false, "/preview"),
            "This approves `aaaaaaa` (the head when you commented), but the head is now \
             `bbbbbbb`, pushed since. Nothing was run: gitferry only deploys and tests the \
             head, and `bbbbbbb` needs its own approval. Once you have looked at it, comment \
             `/preview bbbbbbb`."
        );
    }
}
