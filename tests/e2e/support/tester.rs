//! One tester for end-to-end scenarios, in the manner of rust-lang/bors's `BorsTester`: each
//! action changes the fake GitHub and sends gitferry the webhook GitHub would send (a real
//! payload with the fake's state laid over it, `webhooks`), then waits until gitferry has
//! processed it. So a scenario reads like the story it tells:
//!
//! ```ignore
//! let t = Tester::new().config(CONFIG).start().await;
//! let pr = t.open_pr("feature", &[("app.txt", "v1")]).await;
//! t.push(pr, &[("app.txt", "v2")]).await;
//! t.comment(pr, "bob", "/retest").await;
//! ```

use std::path::PathBuf;

use gitferry::store::DeliverySummary;

use super::db::TestDb;
use super::fake_github::{FakeGitHub, PrSpec, RepoHandle};
use super::gitferry::Gitferry;
use super::webhooks;

/// The repository every scenario plays in.
pub const REPO: &str = "octocat/shop";
/// Who opens pull requests and pushes unless a scenario says otherwise.
pub const AUTHOR: &str = "alice";

/// How a [`Tester`] starts: the default branch's files, who may do what, gitferry's flags.
#[derive(Default)]
pub struct TesterBuilder {
    files: Vec<(String, String)>,
    permissions: Vec<(String, String)>,
    flags: Vec<String>,
    postgres: bool,
}

impl TesterBuilder {
    /// `.github/gitferry.yml` on the default branch.
    pub fn config(self, config: &str) -> Self {
        self.file(".github/gitferry.yml", config)
    }

    /// Another file on the default branch (a deploy script, manifests…).
    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files.push((path.to_owned(), text.to_owned()));
        self
    }

    /// `login` has `role` (`read`, `triage`, `write`, `maintain`, `admin`) on the repository.
    pub fn permission(mut self, login: &str, role: &str) -> Self {
        self.permissions.push((login.to_owned(), role.to_owned()));
        self
    }

    /// A flag of `gitferry serve` on top of the test defaults (`--reconcile-interval`, …).
    pub fn flag(mut self, flag: &str, value: &str) -> Self {
        self.flags.push(flag.to_owned());
        self.flags.push(value.to_owned());
        self
    }

    /// The store on PostgreSQL (when the CI's database is configured) instead of SQLite.
    pub fn on_postgres(mut self) -> Self {
        self.postgres = true;
        self
    }

    pub async fn start(self) -> Tester {
        let fake = FakeGitHub::start().await;
        let installation = fake.add_installation("octocat");
        let repo = fake.add_repo(installation, REPO);
        let mut files = vec![("README.md".to_owned(), "shop".to_owned())];
        files.extend(self.files);
        let tree: Vec<(&str, &str)> = files
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_str()))
            .collect();
        repo.commit_files("main", &tree, "init");
        for (login, role) in &self.permissions {
            repo.set_permission(login, role);
        }
        let db = match self.postgres {
            true => TestDb::postgres().await.unwrap_or_else(TestDb::sqlite),
            false => TestDb::sqlite(),
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let work_dir = dir.path().join("work").display().to_string();
        let mut flags = vec!["--work-dir".to_owned(), work_dir];
        flags.extend(self.flags);
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let gitferry = Gitferry::start_with(&db, &fake, gitferry::app::router(), &flags).await;
        Tester {
            fake,
            db,
            dir,
            gitferry,
            repo,
            installation,
        }
    }
}

/// A running gitferry, the fake GitHub it talks to, and the repository scenarios play in.
pub struct Tester {
    pub fake: FakeGitHub,
    pub db: TestDb,
    /// Scratch space the scenario may use (files a deploy script writes, …).
    pub dir: tempfile::TempDir,
    pub gitferry: Gitferry,
    pub repo: RepoHandle,
    pub installation: u64,
}

impl Tester {
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> TesterBuilder {
        TesterBuilder::default()
    }

    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Sends one webhook and waits until gitferry has processed it.
    pub async fn deliver(&self, event: &str, body: &[u8]) -> DeliverySummary {
        self.gitferry.deliver_processed(event, body).await
    }

    /// `AUTHOR` pushes `files` to a new branch `branch` and opens a pull request into `main`.
    pub async fn open_pr(&self, branch: &str, files: &[(&str, &str)]) -> u64 {
        self.open_pr_with(PrSpec::new(branch, "main").author(AUTHOR), files)
            .await
    }

    /// Opens the pull request `spec` describes after committing `files` to its head branch.
    pub async fn open_pr_with(&self, spec: PrSpec, files: &[(&str, &str)]) -> u64 {
        let author = spec.author.clone();
        self.repo.commit_files(&spec.head, files, "work");
        let pr = self.repo.open_pr(spec);
        let body =
            webhooks::pull_request(&self.repo, self.installation, pr, "opened", &author, None);
        self.deliver("pull_request", &body).await;
        pr
    }

    /// The PR's author pushes a commit with `files` to its branch; GitHub sends `push` and
    /// `pull_request.synchronize`. Returns the new head.
    pub async fn push(&self, pr: u64, files: &[(&str, &str)]) -> String {
        let pull = self.repo.pull(pr);
        let before = pull.head_sha.clone();
        let head = self.repo.commit_files(&pull.head_ref, files, "more work");
        let push = webhooks::push(
            &self.repo,
            self.installation,
            &pull.head_ref,
            &before,
            &head,
            &pull.author,
        );
        self.deliver("push", &push).await;
        let body = webhooks::pull_request(
            &self.repo,
            self.installation,
            pr,
            "synchronize",
            &pull.author,
            Some(&before),
        );
        self.deliver("pull_request", &body).await;
        head
    }

    /// `author` pushes a commit with `files` straight to `branch` (e.g. `main`); GitHub sends
    /// `push`. Returns the new head.
    pub async fn push_to(&self, branch: &str, author: &str, files: &[(&str, &str)]) -> String {
        let before = self
            .repo
            .branch_sha(branch)
            .unwrap_or_else(|| "0".repeat(40));
        let head = self.repo.commit_files(branch, files, "direct work");
        let push = webhooks::push(
            &self.repo,
            self.installation,
            branch,
            &before,
            &head,
            author,
        );
        self.deliver("push", &push).await;
        head
    }

    /// `author` comments `body` on the PR. Returns the comment's id.
    pub async fn comment(&self, pr: u64, author: &str, body: &str) -> u64 {
        let id = self.repo.add_comment(pr, author, body);
        let hook = webhooks::issue_comment(
            &self.repo,
            self.installation,
            pr,
            id,
            "created",
            author,
            None,
        );
        self.deliver("issue_comment", &hook).await;
        id
    }

    /// `editor` (not necessarily its author) changes comment `id` to `body`.
    pub async fn edit_comment(&self, pr: u64, id: u64, editor: &str, body: &str) {
        let previous = self.repo.edit_comment(id, body);
        let hook = webhooks::issue_comment(
            &self.repo,
            self.installation,
            pr,
            id,
            "edited",
            editor,
            Some(&previous),
        );
        self.deliver("issue_comment", &hook).await;
    }

    /// `reviewer` submits a review (`approved`, `changes_requested`, `commented`).
    pub async fn review(&self, pr: u64, reviewer: &str, state: &str) -> u64 {
        let id = self.repo.add_review(pr, reviewer, &state.to_uppercase());
        let hook =
            webhooks::review_submitted(&self.repo, self.installation, pr, reviewer, state, id);
        self.deliver("pull_request_review", &hook).await;
        id
    }

    /// `reviewer` submits a review of an earlier head `sha` (an approval given before the
    /// branch moved, delivered late).
    pub async fn review_of(&self, pr: u64, reviewer: &str, state: &str, sha: &str) -> u64 {
        let id = self
            .repo
            .add_review_of(pr, reviewer, &state.to_uppercase(), sha);
        let hook =
            webhooks::review_submitted(&self.repo, self.installation, pr, reviewer, state, id);
        self.deliver("pull_request_review", &hook).await;
        id
    }

    /// `by` dismisses review `id` (an approval withdrawn).
    pub async fn dismiss_review(&self, pr: u64, id: u64, by: &str) {
        self.repo.dismiss_review(id);
        let hook = webhooks::review_dismissed(&self.repo, self.installation, pr, by, id);
        self.deliver("pull_request_review", &hook).await;
    }

    /// `closer` closes the PR without merging it.
    pub async fn close(&self, pr: u64, closer: &str) {
        self.repo.close_pr(pr);
        let body =
            webhooks::pull_request(&self.repo, self.installation, pr, "closed", closer, None);
        self.deliver("pull_request", &body).await;
    }

    /// `merger` merges the PR; GitHub sends `pull_request.closed` (merged) and the `push` of
    /// the merge commit to the base. Returns the merge commit.
    pub async fn merge(&self, pr: u64, merger: &str) -> String {
        let pull = self.repo.pull(pr);
        let before = self
            .repo
            .branch_sha(&pull.base_ref)
            .unwrap_or_else(|| "0".repeat(40));
        let merged = self.repo.merge_pr(pr, merger);
        let closed =
            webhooks::pull_request(&self.repo, self.installation, pr, "closed", merger, None);
        self.deliver("pull_request", &closed).await;
        let push = webhooks::push(
            &self.repo,
            self.installation,
            &pull.base_ref,
            &before,
            &merged,
            merger,
        );
        self.deliver("push", &push).await;
        merged
    }

    /// Another app (a CI) reports a check run on `sha`; `None` leaves it in progress.
    pub async fn check_from_other_app(
        &self,
        sha: &str,
        name: &str,
        conclusion: Option<&str>,
    ) -> u64 {
        let id = self.repo.add_foreign_check_run(sha, name, conclusion);
        let action = if conclusion.is_some() {
            "completed"
        } else {
            "created"
        };
        let hook = webhooks::check_run(&self.repo, self.installation, id, action, "ci-app[bot]");
        self.deliver("check_run", &hook).await;
        id
    }

    /// `user` presses *Re-run* on one of gitferry's check runs.
    pub async fn rerun(&self, check_run: u64, user: &str) {
        let hook = webhooks::check_run(
            &self.repo,
            self.installation,
            check_run,
            "rerequested",
            user,
        );
        self.deliver("check_run", &hook).await;
    }

    /// Waits until gitferry's check run `name` on `sha` has concluded `conclusion`.
    pub async fn wait_check(&self, sha: &str, name: &str, conclusion: &str) {
        super::gitferry::eventually(&format!("{name} on {sha} to be {conclusion}"), || async {
            self.repo
                .check_run(sha, name)
                .filter(|run| run.conclusion.as_deref() == Some(conclusion))
        })
        .await;
    }

    /// The PR's current head.
    pub fn head(&self, pr: u64) -> String {
        self.repo.pull(pr).head_sha
    }

    /// The bot's sticky comment on the PR (all parts, joined), or `""`.
    pub fn sticky(&self, pr: u64) -> String {
        self.repo
            .bot_comments(pr)
            .into_iter()
            .map(|comment| comment.body)
            .filter(|body| body.contains("<!-- gitferry:sticky"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits for the bot's answer on the PR that contains `needle`, and returns it.
    pub async fn reply_containing(&self, pr: u64, needle: &str) -> String {
        super::gitferry::eventually(&format!("a reply containing {needle:?}"), || async {
            self.replies(pr).into_iter().find(|r| r.contains(needle))
        })
        .await
    }

    /// The bot's answers on the PR that are not the sticky comment, oldest first.
    pub fn replies(&self, pr: u64) -> Vec<String> {
        self.repo
            .bot_comments(pr)
            .into_iter()
            .map(|comment| comment.body)
            .filter(|body| !body.contains("<!-- gitferry:sticky"))
            .collect()
    }
}
