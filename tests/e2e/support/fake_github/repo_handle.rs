//! `RepoHandle`: setup helpers and assertions on one repository of the fake.

use std::sync::MutexGuard;

use chrono::Utc;
use serde_json::Value;

use super::api::AppState;
use super::git::{Commit, Tree};
use super::model::{
    CheckOutput, CheckRun, Comment, CommitStatus, Deployment, Issue, Model, PrState, PullRequest,
    Reaction, Review,
};
use super::{render, routes};

/// A cheap handle on one repository; clone it freely.
#[derive(Clone)]
pub struct RepoHandle {
    state: AppState,
    key: String,
}

/// What `open_pr` opens: `PrSpec::new("feature", "main").author("alice").draft()`.
#[derive(Clone, Debug)]
pub struct PrSpec {
    pub head: String,
    pub base: String,
    pub author: String,
    pub title: String,
    pub body: String,
    pub draft: bool,
    /// Key of the fork the head branch lives in (`in_fork`).
    pub head_repo: Option<String>,
}

impl PrSpec {
    pub fn new(head: &str, base: &str) -> Self {
        PrSpec {
            head: head.to_string(),
            base: base.to_string(),
            author: "octocat".to_string(),
            title: format!("Merge {head} into {base}"),
            body: String::new(),
            draft: false,
            head_repo: None,
        }
    }

    pub fn author(mut self, login: &str) -> Self {
        self.author = login.to_string();
        self
    }

    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_string();
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = body.to_string();
        self
    }

    pub fn draft(mut self) -> Self {
        self.draft = true;
        self
    }

    /// The head branch is in this fork (see `RepoHandle::fork`): `PrSpec::new(..).in_fork(&fork)`.
    pub fn in_fork(mut self, fork: &RepoHandle) -> Self {
        self.head_repo = Some(fork.key.clone());
        self
    }
}

impl RepoHandle {
    pub(super) fn new(state: AppState, key: String) -> Self {
        RepoHandle { state, key }
    }

    fn model(&self) -> MutexGuard<'_, Model> {
        self.state.lock()
    }

    /// Runs `f` on this repository's model entry.
    fn with<T>(&self, f: impl FnOnce(&mut super::model::Repo) -> T) -> T {
        let mut m = self.model();
        f(m.repo_mut(&self.key).expect("repository exists"))
    }

    /// Lower-case `owner/name`, the model's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn full_name(&self) -> String {
        self.with(|r| r.full_name())
    }

    pub fn id(&self) -> u64 {
        self.with(|r| r.id)
    }

    pub fn set_private(&self, private: bool) {
        self.with(|r| r.private = private);
    }

    pub fn set_default_branch(&self, branch: &str) {
        self.with(|r| r.default_branch = branch.to_string());
    }

    /// Commits files (added or overwritten) on `branch`, creating the branch from the default
    /// branch's head if needed. Returns the new commit's sha.
    pub fn commit_files<C: AsRef<[u8]>>(
        &self,
        branch: &str,
        files: &[(&str, C)],
        message: &str,
    ) -> String {
        self.commit_change(branch, message, |tree| {
            for (path, content) in files {
                tree.insert(path.to_string(), content.as_ref().to_vec());
            }
        })
    }

    /// Commits the removal of `paths` on `branch`.
    pub fn delete_files(&self, branch: &str, paths: &[&str], message: &str) -> String {
        self.commit_change(branch, message, |tree| {
            for p in paths {
                tree.remove(*p);
            }
        })
    }

    fn commit_change(&self, branch: &str, message: &str, change: impl FnOnce(&mut Tree)) -> String {
        let mut m = self.model();
        let repo = m.repo(&self.key).expect("repository exists");
        let parent = repo
            .branch(branch)
            .or_else(|| repo.branch(&repo.default_branch))
            .cloned();
        let author = repo.owner.clone();
        let mut tree: Tree = parent
            .as_ref()
            .and_then(|p| m.tree_of(p))
            .map(|t| (*t).clone())
            .unwrap_or_default();
        change(&mut tree);
        let sha = m.make_commit(tree, parent.into_iter().collect(), message, &author);
        m.set_ref(&self.key, &format!("refs/heads/{branch}"), &sha);
        sha
    }

    /// Creates `branch` at what `from` (branch or sha) points to.
    pub fn create_branch(&self, branch: &str, from: &str) -> String {
        let mut m = self.model();
        let sha = m
            .resolve(&self.key, from)
            .expect("`from` resolves to a commit");
        m.set_ref(&self.key, &format!("refs/heads/{branch}"), &sha);
        sha
    }

    /// Points `branch` at `sha` (force push).
    pub fn force_push(&self, branch: &str, sha: &str) {
        self.model()
            .set_ref(&self.key, &format!("refs/heads/{branch}"), sha);
    }

    pub fn delete_branch(&self, branch: &str) {
        self.model()
            .delete_ref(&self.key, &format!("refs/heads/{branch}"));
    }

    pub fn branch_sha(&self, branch: &str) -> Option<String> {
        self.with(|r| r.branch(branch).cloned())
    }

    pub fn branches(&self) -> Vec<String> {
        self.with(|r| {
            r.refs
                .keys()
                .filter_map(|k| k.strip_prefix("refs/heads/").map(String::from))
                .collect()
        })
    }

    pub fn commit(&self, sha: &str) -> Option<Commit> {
        self.model().commits.get(sha).cloned()
    }

    /// The files at a branch, tag or sha.
    pub fn files(&self, rev: &str) -> Option<Tree> {
        let m = self.model();
        let sha = m.resolve(&self.key, rev)?;
        m.tree_of(&sha).map(|t| (*t).clone())
    }

    /// One file's text at a branch, tag or sha.
    pub fn file(&self, rev: &str, path: &str) -> Option<String> {
        self.files(rev)?
            .get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// Forks this repository to `owner` (public, outside every installation, same branches).
    pub fn fork(&self, owner: &str) -> RepoHandle {
        let (name, refs, default_branch) =
            self.with(|r| (r.name.clone(), r.refs.clone(), r.default_branch.clone()));
        let key = self
            .model()
            .insert_repo(owner, &name, Some(self.key.clone()));
        let fork = RepoHandle::new(self.state.clone(), key);
        fork.with(|r| {
            r.private = false;
            r.default_branch = default_branch;
            r.refs = refs
                .into_iter()
                .filter(|(k, _)| k.starts_with("refs/heads/"))
                .collect();
        });
        fork
    }

    /// Opens a pull request; returns its number.
    pub fn open_pr(&self, spec: PrSpec) -> u64 {
        let mut m = self.model();
        open_pull(&mut m, &self.key, spec).unwrap_or_else(|problem| panic!("{problem}"))
    }

    /// Every pull request, by number.
    pub fn pulls(&self) -> Vec<PullRequest> {
        self.with(|r| r.pulls.values().cloned().collect())
    }

    pub fn pull(&self, number: u64) -> PullRequest {
        self.with(|r| r.pulls.get(&number).cloned().expect("pull request exists"))
    }

    pub fn close_pr(&self, number: u64) {
        self.with(|r| {
            let pr = r.pulls.get_mut(&number).expect("pull request exists");
            pr.state = PrState::Closed;
            pr.closed_at = Some(Utc::now());
        });
    }

    /// `merger` merges the PR with a merge commit (what the web UI's "Merge pull request"
    /// does); returns the merge commit. Panics on a conflict: a scenario that wants one asks
    /// the REST endpoint instead.
    pub fn merge_pr(&self, number: u64, merger: &str) -> String {
        let pr = self.pull(number);
        let mut m = self.model();
        let base_sha = m
            .repo(&self.key)
            .and_then(|r| r.branch(&pr.base_ref).cloned())
            .expect("the base branch exists");
        let tree = match m.merge_trees(&base_sha, &pr.head_sha) {
            Ok(Some(tree)) => tree,
            Ok(None) => (*m.tree_of(&base_sha).unwrap_or_default()).clone(),
            Err(conflicts) => panic!("merging #{number} conflicts in {conflicts:?}"),
        };
        let message = format!(
            "Merge pull request #{number} from {}\n\n{}",
            pr.head_ref, pr.title
        );
        let sha = m.make_commit(tree, vec![base_sha, pr.head_sha.clone()], &message, merger);
        m.set_ref(&self.key, &format!("refs/heads/{}", pr.base_ref), &sha);
        let now = Utc::now();
        let pull = m
            .repo_mut(&self.key)
            .and_then(|r| r.pulls.get_mut(&number))
            .expect("pull request exists");
        pull.state = PrState::Closed;
        pull.merged = true;
        pull.merged_by = Some(merger.to_owned());
        pull.merged_at = Some(now);
        pull.closed_at = Some(now);
        pull.updated_at = now;
        pull.merge_commit_sha = Some(sha.clone());
        sha
    }

    pub fn reopen_pr(&self, number: u64) {
        self.with(|r| {
            let pr = r.pulls.get_mut(&number).expect("pull request exists");
            pr.state = PrState::Open;
            pr.closed_at = None;
        });
        self.model().sync_pulls();
    }

    pub fn set_draft(&self, number: u64, draft: bool) {
        self.with(|r| r.pulls.get_mut(&number).expect("pull request exists").draft = draft);
    }

    /// Forces `mergeable` (`None` = GitHub is still computing it); `clear_mergeable` undoes.
    pub fn set_mergeable(&self, number: u64, mergeable: Option<bool>) {
        self.with(|r| {
            r.pulls
                .get_mut(&number)
                .expect("pull request exists")
                .mergeable_override = Some(mergeable)
        });
    }

    pub fn clear_mergeable(&self, number: u64) {
        self.with(|r| {
            r.pulls
                .get_mut(&number)
                .expect("pull request exists")
                .mergeable_override = None
        });
    }

    pub fn add_label(&self, number: u64, label: &str) {
        self.with(|r| {
            r.pulls
                .get_mut(&number)
                .expect("pull request exists")
                .labels
                .push(label.to_string())
        });
    }

    /// The plain issues (not pull requests), by number.
    pub fn issues(&self) -> Vec<Issue> {
        self.with(|r| r.issues.values().cloned().collect())
    }

    /// Opens a plain issue; returns its number.
    pub fn open_issue(&self, author: &str, title: &str) -> u64 {
        let mut m = self.model();
        let id = m.next_id();
        let r = m.repo_mut(&self.key).expect("repository exists");
        let number = r.next_number;
        r.next_number += 1;
        r.issues.insert(
            number,
            Issue {
                number,
                id,
                title: title.to_string(),
                body: String::new(),
                author: author.to_string(),
                open: true,
                created_at: Utc::now(),
            },
        );
        number
    }

    /// A comment by a person (for webhook payloads such as `/preview`); returns its id.
    pub fn add_comment(&self, issue: u64, author: &str, body: &str) -> u64 {
        let mut m = self.model();
        let id = m.next_id();
        let now = Utc::now();
        let r = m.repo_mut(&self.key).expect("repository exists");
        r.comments.insert(
            id,
            Comment {
                id,
                issue_number: issue,
                author: author.to_string(),
                body: body.to_string(),
                via_app: false,
                reactions: vec![],
                created_at: now,
                updated_at: now,
            },
        );
        id
    }

    /// Someone changes comment `id`'s text (GitHub lets collaborators edit others'
    /// comments); the author stays. Returns the text before.
    pub fn edit_comment(&self, id: u64, body: &str) -> String {
        self.with(|r| {
            let comment = r.comments.get_mut(&id).expect("comment exists");
            comment.updated_at = Utc::now();
            std::mem::replace(&mut comment.body, body.to_string())
        })
    }

    /// Comments on an issue or pull request, oldest first.
    pub fn comments(&self, issue: u64) -> Vec<Comment> {
        self.with(|r| {
            r.comments
                .values()
                .filter(|c| c.issue_number == issue)
                .cloned()
                .collect()
        })
    }

    /// Comments the App posted on an issue or pull request.
    pub fn bot_comments(&self, issue: u64) -> Vec<Comment> {
        self.comments(issue)
            .into_iter()
            .filter(|c| c.via_app)
            .collect()
    }

    pub fn reactions(&self, comment_id: u64) -> Vec<Reaction> {
        self.with(|r| {
            r.comments
                .get(&comment_id)
                .map(|c| c.reactions.clone())
                .unwrap_or_default()
        })
    }

    /// A review by a person: state is APPROVED, CHANGES_REQUESTED or COMMENTED.
    pub fn add_review(&self, pr: u64, user: &str, state: &str) -> u64 {
        let mut m = self.model();
        let id = m.next_id();
        let r = m.repo_mut(&self.key).expect("repository exists");
        let commit_id = r
            .pulls
            .get(&pr)
            .expect("pull request exists")
            .head_sha
            .clone();
        r.reviews.push(Review {
            id,
            pull_number: pr,
            user: user.to_string(),
            body: String::new(),
            state: state.to_string(),
            commit_id,
            submitted_at: Utc::now(),
        });
        id
    }

    /// A review by a person of a given commit (an approval given before a later push).
    pub fn add_review_of(&self, pr: u64, user: &str, state: &str, commit_id: &str) -> u64 {
        let id = self.add_review(pr, user, state);
        self.with(|r| {
            if let Some(review) = r.reviews.iter_mut().find(|x| x.id == id) {
                review.commit_id = commit_id.to_string();
            }
        });
        id
    }

    /// Dismisses review `id` (GitHub keeps it, as `DISMISSED`).
    pub fn dismiss_review(&self, id: u64) {
        self.with(|r| {
            if let Some(review) = r.reviews.iter_mut().find(|x| x.id == id) {
                review.state = "DISMISSED".to_string();
            }
        });
    }

    pub fn reviews(&self, pr: u64) -> Vec<Review> {
        self.with(|r| {
            r.reviews
                .iter()
                .filter(|x| x.pull_number == pr)
                .cloned()
                .collect()
        })
    }

    /// Gives `user` a role on the repository: admin, maintain, write, triage or read.
    pub fn set_permission(&self, user: &str, role_name: &str) {
        self.with(|r| {
            r.collaborators
                .insert(user.to_lowercase(), role_name.to_string())
        });
    }

    /// Check runs on this repository, oldest first.
    pub fn check_runs(&self) -> Vec<CheckRun> {
        self.with(|r| r.check_runs.values().cloned().collect())
    }

    /// The latest check run with this name on `sha`.
    pub fn check_run(&self, sha: &str, name: &str) -> Option<CheckRun> {
        self.with(|r| {
            r.check_runs
                .values()
                .rev()
                .find(|c| c.head_sha == sha && c.name == name)
                .cloned()
        })
    }

    /// A check run made by another CI (not the App); returns its id.
    pub fn add_foreign_check_run(&self, sha: &str, name: &str, conclusion: Option<&str>) -> u64 {
        let mut m = self.model();
        let id = m.next_id();
        let now = Utc::now();
        let r = m.repo_mut(&self.key).expect("repository exists");
        r.check_runs.insert(
            id,
            CheckRun {
                id,
                head_sha: sha.to_string(),
                name: name.to_string(),
                status: if conclusion.is_some() {
                    "completed"
                } else {
                    "in_progress"
                }
                .to_string(),
                conclusion: conclusion.map(String::from),
                external_id: None,
                details_url: None,
                started_at: Some(now),
                completed_at: conclusion.map(|_| now),
                output: CheckOutput::default(),
                actions: vec![],
                via_app: false,
                check_suite_id: 1,
            },
        );
        id
    }

    pub fn deployments(&self) -> Vec<Deployment> {
        self.with(|r| r.deployments.values().cloned().collect())
    }

    /// Commit statuses on `sha`, oldest first.
    pub fn statuses(&self, sha: &str) -> Vec<CommitStatus> {
        self.with(|r| {
            r.statuses
                .iter()
                .filter(|s| s.sha == sha)
                .cloned()
                .collect()
        })
    }

    /// A commit status set by another CI.
    pub fn add_status(&self, sha: &str, context: &str, state: &str) {
        let mut m = self.model();
        let id = m.next_id();
        let r = m.repo_mut(&self.key).expect("repository exists");
        r.statuses.push(CommitStatus {
            id,
            sha: sha.to_string(),
            state: state.to_string(),
            context: context.to_string(),
            description: None,
            target_url: None,
            creator: "other-ci".to_string(),
            created_at: Utc::now(),
        });
    }

    /// GitHub's merge queue taking pull request `pr` (alone in its group): the branch
    /// `gh-readonly-queue/<base>/pr-<n>-<head sha>` is created at a merge commit of the PR's
    /// head into its base, and the `merge_group` object of a `merge_group` webhook is
    /// returned. Panics when the PR conflicts with its base (GitHub would not queue it).
    pub fn queue_pull(&self, pr: u64) -> Value {
        let pull = self.pull(pr);
        let mut m = self.model();
        let repo = m.repo(&self.key).expect("repository exists");
        let base_sha = repo
            .branch(&pull.base_ref)
            .cloned()
            .expect("base branch exists");
        let head_owner = m
            .repo(&pull.head_repo)
            .map(|h| h.owner.clone())
            .unwrap_or_default();
        let tree = match m.merge_trees(&base_sha, &pull.head_sha) {
            Ok(Some(tree)) => tree,
            Ok(None) => (*m.tree_of(&base_sha).unwrap_or_default()).clone(),
            Err(paths) => panic!("pull request {pr} conflicts with its base: {paths:?}"),
        };
        let message = format!(
            "Merge pull request #{pr} from {head_owner}/{}\n\n{}",
            pull.head_ref, pull.title
        );
        let head_sha = m.make_commit(
            tree,
            vec![base_sha.clone(), pull.head_sha.clone()],
            &message,
            "github-merge-queue[bot]",
        );
        let head_ref = format!(
            "refs/heads/gh-readonly-queue/{}/pr-{pr}-{}",
            pull.base_ref, pull.head_sha
        );
        m.set_ref(&self.key, &head_ref, &head_sha);
        let commit = m.commits.get(&head_sha).expect("commit just made");
        let ident = serde_json::json!({
            "name": commit.author,
            "email": format!("{}@users.noreply.github.com", commit.author),
        });
        serde_json::json!({
            "head_sha": head_sha,
            "head_ref": head_ref,
            "base_sha": base_sha,
            "base_ref": format!("refs/heads/{}", pull.base_ref),
            "head_commit": {
                "id": head_sha,
                "tree_id": commit.tree_sha,
                "message": commit.message,
                "timestamp": super::api::fmt_time(commit.time),
                "author": ident,
                "committer": ident,
            },
        })
    }

    /// The repository as the API shows it (for webhook payloads).
    pub fn repo_json(&self) -> Value {
        let m = self.model();
        let r = m.repo(&self.key).expect("repository exists");
        render::repo(&self.state.base, &m, r)
    }

    /// The pull request as `GET /pulls/{n}` shows it (for webhook payloads).
    pub fn pull_json(&self, number: u64) -> Value {
        let m = self.model();
        let r = m.repo(&self.key).expect("repository exists");
        let pr = r.pulls.get(&number).expect("pull request exists");
        routes::pulls::pull_json(&self.state.base, &m, r, pr, true)
    }

    /// The issue side of an issue or pull request (for `issue_comment` payloads).
    pub fn issue_json(&self, number: u64) -> Value {
        let m = self.model();
        let r = m.repo(&self.key).expect("repository exists");
        routes::issues::issue_json(&self.state.base, &m, r, number)
            .expect("issue or pull request exists")
    }

    /// A comment as the API shows it (for `issue_comment` payloads).
    pub fn comment_json(&self, id: u64) -> Value {
        let m = self.model();
        let r = m.repo(&self.key).expect("repository exists");
        let c = r.comments.get(&id).expect("comment exists");
        routes::comment_json(&self.state.base, &m, r, c)
    }

    /// A check run as the API shows it (for `check_run` payloads).
    pub fn check_run_json(&self, id: u64) -> Value {
        let m = self.model();
        let r = m.repo(&self.key).expect("repository exists");
        let c = r.check_runs.get(&id).expect("check run exists");
        routes::check_run_json(&self.state.base, &m, r, c)
    }

    /// A person as the API shows them (for `sender`).
    pub fn user_json(&self, login: &str) -> Value {
        let m = self.model();
        render::user(&self.state.base, &m, login)
    }
}

/// Opens the pull request `spec` describes in repository `key`, as GitHub does (its
/// `refs/pull/<n>/head` too): shared by scenarios and the `POST /pulls` route.
pub fn open_pull(m: &mut Model, key: &str, spec: PrSpec) -> Result<u64, String> {
    let head_repo = spec.head_repo.clone().unwrap_or_else(|| key.to_owned());
    let head_sha = m
        .repo(&head_repo)
        .and_then(|r| r.branch(&spec.head))
        .cloned()
        .ok_or_else(|| format!("head branch {} does not exist", spec.head))?;
    let id = m.next_id();
    let now = Utc::now();
    let r = m.repo_mut(key).ok_or("repository does not exist")?;
    if r.branch(&spec.base).is_none() {
        return Err(format!("base branch {} does not exist", spec.base));
    }
    let number = r.next_number;
    r.next_number += 1;
    r.refs
        .insert(format!("refs/pull/{number}/head"), head_sha.clone());
    r.pulls.insert(
        number,
        PullRequest {
            number,
            id,
            title: spec.title,
            body: spec.body,
            author: spec.author,
            head_repo,
            head_ref: spec.head,
            head_sha,
            base_ref: spec.base,
            state: PrState::Open,
            draft: spec.draft,
            merged: false,
            merged_by: None,
            merged_at: None,
            merge_commit_sha: None,
            closed_at: None,
            labels: vec![],
            mergeable_override: None,
            created_at: now,
            updated_at: now,
        },
    );
    Ok(number)
}
