//! Typed calls: one function per GitHub endpoint a feature uses, so that REST paths are
//! written here and nowhere else, and callers get types instead of JSON.
//!
//! This module grows as features move onto it (issue: "one typed GitHub API").
//!
//! | file | endpoints |
//! |---|---|
//! | `pulls.rs` | a pull request (plain and conditional) |
//! | `issues.rs` | issue comments and reactions |
//! | `checks.rs` | check runs and their annotations |
//! | `repos.rs` | contents, permissions, teams, deployments |
//! | `git.rs` | branch refs (get, create, fast-forward, force, delete) and commit objects |
//! | `merges.rs` | the merges API and merging a pull request, with typed outcomes |
//! | `commits.rs` | a commit, compare, commit statuses and the combined status |
//! | `reviews.rs` | pull request reviews |
//! | `merge_group.rs` | the `merge_group` webhook payload (GitHub's merge queue) |

mod checks;
mod commits;
mod git;
mod issues;
mod merges;
mod pulls;
mod repos;
mod reviews;

pub use checks::CheckRunState;
pub use commits::{
    ChangedFile, CombinedState, CombinedStatus, Commit, CommitStatus, CompareStatus, Comparison,
    FileStatus, GitIdentity, NewStatus, StatusState,
};
pub use git::{BranchCreation, FastForward, GitCommit, GitRef, NewCommit};
pub use issues::IssueRef;
pub use merges::{BranchMerge, MergeMethod, PullMerge, PullMergeOutcome};
pub use pulls::{AssociatedPull, Conditional, PullRef, PullSnapshot};
pub use repos::TeamMember;
pub use reviews::{Review, ReviewState};

use crate::github::GithubError;

/// What a write answered, decoded; `None` in dry run, where GitHub was not asked and the
/// answer is a stand-in.
fn created<T: serde::de::DeserializeOwned>(
    gh: &crate::github::InstallationClient,
    route: &str,
    answer: serde_json::Value,
) -> Result<Option<T>, GithubError> {
    if gh.client().is_dry_run() {
        return Ok(None);
    }
    serde_json::from_value(answer)
        .map(Some)
        .map_err(|source| GithubError::Decode {
            route: route.to_owned(),
            source,
        })
}

/// GitHub's refusal when its status is one of `expected` and its message contains `says`
/// (lower case; `""` for any): an answer the caller acts on (a merge conflict, a ref that
/// exists already), not a failure. Anything else is handed back as the error it was.
///
/// Some answers can only be told apart by GitHub's text (a 422 is "already exists" or "not a
/// fast forward" or a real validation failure); should GitHub reword one, the answer stays an
/// error, which is the safe side.
fn refusal(error: GithubError, expected: &[u16], says: &str) -> Result<(u16, String), GithubError> {
    match &error {
        GithubError::Status {
            status, message, ..
        } if expected.contains(status) && message.to_lowercase().contains(says) => {
            Ok((*status, message.clone()))
        }
        _ => Err(error),
    }
}

/// Everything but the characters logins and team slugs are made of.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

/// Logins and slugs come from payloads: keep each one a single path segment.
fn segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

/// A ref or branch name in a path: its `/` stay (GitHub reads `heads/feature/x` as one ref
/// after `git/ref/`), every segment is encoded so `#`, `?`, `%` or spaces in a name taken
/// from a payload cannot end the path or reach another endpoint. `.` and `..` segments (which
/// git forbids in ref names) stay as they are and the request core refuses the path.
fn ref_segments(name: &str) -> String {
    name.split('/').map(segment).collect::<Vec<_>>().join("/")
}

/// Timestamps in answers (chrono's serde support is not enabled in this crate).
mod time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer};

    /// An RFC 3339 time that may be absent or `null` (a pending review has no
    /// `submitted_at`).
    pub(super) fn optional<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        text.map(|t| {
            DateTime::parse_from_rfc3339(&t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names_keep_their_slashes_and_nothing_else_escapes() {
        assert_eq!(ref_segments("main"), "main");
        assert_eq!(ref_segments("feature/x"), "feature/x");
        assert_eq!(
            ref_segments("team/ünï+fix#1?q=%2F&x"),
            "team/%C3%BCn%C3%AF%2Bfix%231%3Fq%3D%252F%26x"
        );
        assert_eq!(ref_segments("a b/../c"), "a%20b/../c");
    }

    #[test]
    fn only_expected_statuses_are_refusals() {
        let status = |status| GithubError::Status {
            status,
            method: "POST".into(),
            route: "/repos/{owner}/{repo}/merges".into(),
            message: "Merge conflict".into(),
        };
        assert_eq!(
            refusal(status(409), &[409], "").ok(),
            Some((409, "Merge conflict".to_owned()))
        );
        assert_eq!(
            refusal(status(409), &[405, 409], "conflict").ok(),
            Some((409, "Merge conflict".to_owned()))
        );
        assert!(matches!(
            refusal(status(409), &[409], "already exists"),
            Err(GithubError::Status { status: 409, .. })
        ));
        assert!(matches!(
            refusal(status(404), &[409], ""),
            Err(GithubError::Status { status: 404, .. })
        ));
        assert!(refusal(GithubError::NoCredentials, &[409], "").is_err());
    }
}
