//! Making a PR's comments match a [`StickyComment`]: a pure plan, and a thin executor that
//! lists the PR's comments through `github::Client`, plans and applies.
//!
//! Idempotent by construction (DESIGN.md principle 2): a part whose body is already right is
//! not written, so replaying a delivery writes nothing. Only comments written by the App *and*
//! starting with a part marker count as parts, so a person quoting the marker cannot have their
//! comment taken over. Parts are matched to existing comments by age, oldest first, so part 0 is
//! always the oldest comment and the parts read in order in the conversation; when the comment
//! shrinks, the extra parts are deleted.

use serde::Deserialize;

use super::sticky::{PartMarker, Section, StickyComment};
use crate::github::{GithubError, InstallationClient, RepoFullName};

/// The id of an issue or pull-request comment.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct CommentId(pub u64);

/// A comment already on the PR, as far as planning needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingComment {
    pub id: CommentId,
    pub body: String,
    /// Written by the App itself (its `<slug>[bot]` login).
    pub author_is_app: bool,
}

/// One write to bring the PR's comments in line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommentAction {
    /// Post part `index` as a new comment.
    Create(usize, String),
    /// Replace the body of an existing part.
    Update(CommentId, String),
    /// Remove a part that is no longer needed.
    Delete(CommentId),
}

/// The App's sticky parts among `existing`, oldest first.
pub fn sticky_parts(existing: &[ExistingComment]) -> Vec<&ExistingComment> {
    let mut parts: Vec<&ExistingComment> = existing
        .iter()
        .filter(|c| c.author_is_app && PartMarker::is_on(&c.body))
        .collect();
    // Comment ids grow with time on GitHub; sorting by id does not depend on the list order.
    parts.sort_by_key(|c| c.id);
    parts
}

/// The writes that turn the App's parts among `existing` into `desired` (bodies in order):
/// the k-th oldest part becomes part k (updated only if its body differs), missing parts are
/// created, parts beyond `desired` deleted. Writes come in part order, deletions last, so a
/// crash half-way leaves the first parts right and a replay finishes the job.
pub fn plan(existing: &[ExistingComment], desired: &[String]) -> Vec<CommentAction> {
    let parts = sticky_parts(existing);
    let mut actions = Vec::new();
    for (index, body) in desired.iter().enumerate() {
        match parts.get(index) {
            Some(part) if same_body(&part.body, body) => {}
            Some(part) => actions.push(CommentAction::Update(part.id, body.clone())),
            None => actions.push(CommentAction::Create(index, body.clone())),
        }
    }
    for extra in parts.iter().skip(desired.len()) {
        actions.push(CommentAction::Delete(extra.id));
    }
    actions
}

/// Whether a stored body equals the one we would write. GitHub returns API-written bodies as
/// sent; line endings are normalised anyway, in case an edit on the web turned them into CRLF.
fn same_body(stored: &str, desired: &str) -> bool {
    stored == desired || stored.replace("\r\n", "\n") == desired
}

/// What one sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    /// The first part, to link to; `None` when the comment is empty (or in dry run, newly
    /// created).
    pub first_part: Option<CommentId>,
}

impl SyncOutcome {
    /// How many writes the sync made (zero on a replay).
    pub fn writes(&self) -> usize {
        self.created + self.updated + self.deleted
    }
}

#[derive(Deserialize)]
struct ListedComment {
    id: CommentId,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    user: Option<Login>,
}

#[derive(Deserialize)]
struct Login {
    login: String,
}

#[derive(Deserialize)]
struct Created {
    id: CommentId,
}

/// The PR's comments, every page (pagination stops with an error rather than conclude from a
/// partial list that a part is missing).
pub async fn list_comments(
    gh: &InstallationClient,
    repo: &str,
    pr: u64,
    app_login: &str,
) -> Result<Vec<ExistingComment>, GithubError> {
    let repo = repo_name(repo)?;
    let listed: Vec<ListedComment> = gh.issue_comments(repo.as_str(), pr).await?;
    Ok(listed
        .into_iter()
        .map(|c| ExistingComment {
            id: c.id,
            author_is_app: c
                .user
                .is_some_and(|u| u.login.eq_ignore_ascii_case(app_login)),
            body: c.body.unwrap_or_default(),
        })
        .collect())
}

/// Makes the PR's sticky comment say `comment`. `app_login` is the App's bot login
/// (`<slug>[bot]`), which tells its comments from people's.
pub async fn sync_sticky(
    gh: &InstallationClient,
    repo: &str,
    pr: u64,
    app_login: &str,
    comment: &StickyComment,
) -> Result<SyncOutcome, GithubError> {
    let existing = list_comments(gh, repo, pr, app_login).await?;
    apply(gh, repo, pr, &existing, comment).await
}

/// Reads the sticky comment back, lets `edit` change it (typically one section) and syncs the
/// result: how a feature updates its section without clobbering the others.
///
/// Writers in this process take turns per PR (the preview, several pipeline steps and
/// commands all edit one comment, and a read-edit-write racing another loses an edit). Across
/// processes two edits at the same moment can still lose one; the next update of that section
/// repairs it.
pub async fn edit_sticky(
    gh: &InstallationClient,
    repo: &str,
    pr: u64,
    app_login: &str,
    edit: impl FnOnce(&mut StickyComment),
) -> Result<SyncOutcome, GithubError> {
    let turn = super::turns::for_pr(repo, pr);
    let _turn = turn.lock().await;
    let existing = list_comments(gh, repo, pr, app_login).await?;
    let bodies: Vec<&str> = sticky_parts(&existing)
        .into_iter()
        .map(|c| c.body.as_str())
        .collect();
    let mut comment = StickyComment::parse(&bodies);
    edit(&mut comment);
    apply(gh, repo, pr, &existing, &comment).await
}

/// [`edit_sticky`] setting one section (empty Markdown removes it).
pub async fn update_section(
    gh: &InstallationClient,
    repo: &str,
    pr: u64,
    app_login: &str,
    section: Section,
    markdown: &str,
) -> Result<SyncOutcome, GithubError> {
    edit_sticky(gh, repo, pr, app_login, |c| {
        c.set(section, markdown);
    })
    .await
}

async fn apply(
    gh: &InstallationClient,
    repo: &str,
    pr: u64,
    existing: &[ExistingComment],
    comment: &StickyComment,
) -> Result<SyncOutcome, GithubError> {
    let repo = repo_name(repo)?;
    let desired = comment.render_parts(pr);
    let mut outcome = SyncOutcome {
        first_part: desired
            .first()
            .and(sticky_parts(existing).first().map(|c| c.id)),
        ..SyncOutcome::default()
    };
    for action in plan(existing, &desired) {
        match action {
            CommentAction::Create(index, body) => {
                let id = create(gh, &repo, pr, &body).await?;
                if index == 0 {
                    outcome.first_part = id;
                }
                outcome.created += 1;
            }
            CommentAction::Update(id, body) => {
                match gh.update_issue_comment(repo.as_str(), id.0, &body).await {
                    Ok(_) => outcome.updated += 1,
                    // Deleted by someone since we listed: post it again.
                    Err(e) if e.is_not_found() => {
                        let new_id = create(gh, &repo, pr, &body).await?;
                        if outcome.first_part == Some(id) {
                            outcome.first_part = new_id;
                        }
                        outcome.created += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
            CommentAction::Delete(id) => match gh.delete_issue_comment(repo.as_str(), id.0).await {
                Ok(()) => outcome.deleted += 1,
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            },
        }
    }
    Ok(outcome)
}

/// Posts a part; its id, unless in dry run (where GitHub was not asked).
async fn create(
    gh: &InstallationClient,
    repo: &RepoFullName,
    pr: u64,
    body: &str,
) -> Result<Option<CommentId>, GithubError> {
    let created: Option<Created> = gh.create_issue_comment(repo.as_str(), pr, body).await?;
    Ok(created.map(|created| created.id))
}

pub(super) fn repo_name(repo: &str) -> Result<RepoFullName, GithubError> {
    repo.parse()
        .map_err(|e: crate::github::InvalidRepoFullName| GithubError::InvalidRequest(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(id: u64, body: &str) -> ExistingComment {
        ExistingComment {
            id: CommentId(id),
            body: body.to_owned(),
            author_is_app: true,
        }
    }

    fn theirs(id: u64, body: &str) -> ExistingComment {
        ExistingComment {
            author_is_app: false,
            ..ours(id, body)
        }
    }

    fn parts(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("<!-- gitferry:sticky pr=7 part={i} -->\npart {i}"))
            .collect()
    }

    #[test]
    fn first_sync_creates_every_part() {
        assert_eq!(
            plan(&[theirs(1, "LGTM")], &parts(2)),
            vec![
                CommentAction::Create(0, parts(2)[0].clone()),
                CommentAction::Create(1, parts(2)[1].clone()),
            ]
        );
    }

    #[test]
    fn a_replay_writes_nothing() {
        let existing: Vec<_> = parts(2)
            .iter()
            .enumerate()
            .map(|(i, b)| ours(10 + i as u64, b))
            .collect();
        assert!(plan(&existing, &parts(2)).is_empty());
        let crlf = ours(10, &parts(1)[0].replace('\n', "\r\n"));
        assert!(plan(&[crlf], &parts(1)).is_empty());
    }

    #[test]
    fn changed_parts_are_edited_in_place() {
        let existing = [ours(10, &parts(1)[0])];
        let desired = vec!["<!-- gitferry:sticky pr=7 part=0 -->\nnew".to_owned()];
        assert_eq!(
            plan(&existing, &desired),
            vec![CommentAction::Update(CommentId(10), desired[0].clone())]
        );
    }

    #[test]
    fn a_shrinking_comment_deletes_its_extra_parts() {
        let existing: Vec<_> = parts(3)
            .iter()
            .enumerate()
            .map(|(i, b)| ours(10 + i as u64, b))
            .collect();
        assert_eq!(
            plan(&existing, &parts(1)),
            vec![
                CommentAction::Delete(CommentId(11)),
                CommentAction::Delete(CommentId(12))
            ]
        );
        assert_eq!(
            plan(&existing, &[]),
            vec![
                CommentAction::Delete(CommentId(10)),
                CommentAction::Delete(CommentId(11)),
                CommentAction::Delete(CommentId(12))
            ]
        );
    }

    #[test]
    fn a_person_quoting_the_marker_is_not_a_part() {
        let quote = theirs(5, &parts(1)[0]);
        let bot_mention = ours(6, &format!("Thanks!\n{}", parts(1)[0]));
        assert_eq!(
            plan(&[quote, bot_mention], &parts(1)),
            vec![CommentAction::Create(0, parts(1)[0].clone())]
        );
    }

    #[test]
    fn parts_are_matched_by_age_not_by_their_number() {
        // Part 0 was deleted by hand: the oldest remaining comment becomes part 0.
        let existing = [ours(12, &parts(2)[1]), theirs(11, "hi")];
        assert_eq!(
            plan(&existing, &parts(2)),
            vec![
                CommentAction::Update(CommentId(12), parts(2)[0].clone()),
                CommentAction::Create(1, parts(2)[1].clone()),
            ]
        );
    }
}
