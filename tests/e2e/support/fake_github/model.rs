//! The in-memory model of GitHub the fake serves: the App, installations, repositories and
//! everything in them. Fields are public so tests can assert on them directly.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::faults::FaultRule;
use super::git::{self, Commit, Tree};
use super::log::RequestRecord;

pub const APP_ID: u64 = 4242;
pub const APP_SLUG: &str = "gitferry-test";

#[derive(Clone, Debug)]
pub struct AppConfig {
    pub id: u64,
    pub slug: String,
    pub name: String,
    pub owner: String,
    pub client_id: String,
    pub client_secret: String,
    pub webhook_secret: String,
    pub webhook_url: Option<String>,
    pub external_url: String,
    pub permissions: BTreeMap<String, String>,
    pub events: Vec<String>,
    pub token_lifetime: Duration,
    pub created_at: DateTime<Utc>,
}

pub fn default_permissions() -> BTreeMap<String, String> {
    [
        ("checks", "write"),
        ("contents", "write"),
        ("deployments", "write"),
        ("issues", "write"),
        ("members", "read"),
        ("metadata", "read"),
        ("pull_requests", "write"),
        ("statuses", "write"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[derive(Clone, Debug)]
pub struct UserInfo {
    pub login: String,
    pub id: u64,
    pub kind: &'static str,
}

#[derive(Clone, Debug)]
pub struct Installation {
    pub id: u64,
    pub account: String,
    pub account_type: String,
    pub suspended: bool,
    pub repository_selection: String,
    /// Repository keys (lower-case `owner/name`).
    pub repos: BTreeSet<String>,
    pub permissions: BTreeMap<String, String>,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub token: String,
    pub installation_id: u64,
    pub expires_at: DateTime<Utc>,
    /// Set when the token was scoped down to some repositories (keys).
    pub repos: Option<BTreeSet<String>>,
    pub permissions: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub struct ManifestRegistration {
    pub code: String,
    pub org: Option<String>,
    pub state: Option<String>,
    pub manifest: Value,
    pub converted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrState {
    Open,
    Closed,
}

#[derive(Clone, Debug)]
pub struct PullRequest {
    pub number: u64,
    pub id: u64,
    pub title: String,
    pub body: String,
    pub author: String,
    /// Key of the repository the head branch lives in (the fork for fork PRs).
    pub head_repo: String,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    pub state: PrState,
    pub draft: bool,
    pub merged: bool,
    pub merged_by: Option<String>,
    pub merged_at: Option<DateTime<Utc>>,
    pub merge_commit_sha: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub labels: Vec<String>,
    /// `Some(v)` forces the reported `mergeable` (`None` inside = "still computing").
    pub mergeable_override: Option<Option<bool>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Issue {
    pub number: u64,
    pub id: u64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub open: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Reaction {
    pub id: u64,
    pub user: String,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: u64,
    pub issue_number: u64,
    pub author: String,
    pub body: String,
    pub via_app: bool,
    pub reactions: Vec<Reaction>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Review {
    pub id: u64,
    pub pull_number: u64,
    pub user: String,
    pub body: String,
    /// APPROVED, CHANGES_REQUESTED, COMMENTED, PENDING or DISMISSED.
    pub state: String,
    pub commit_id: String,
    pub submitted_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default)]
pub struct CheckOutput {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub text: Option<String>,
    pub annotations: Vec<Value>,
    pub images: Vec<Value>,
}

#[derive(Clone, Debug)]
pub struct CheckRun {
    pub id: u64,
    pub head_sha: String,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub external_id: Option<String>,
    pub details_url: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub output: CheckOutput,
    pub actions: Vec<Value>,
    /// Created by the fake's App (as opposed to another CI, set up by a test).
    pub via_app: bool,
    pub check_suite_id: u64,
}

#[derive(Clone, Debug)]
pub struct DeploymentStatus {
    pub id: u64,
    pub state: String,
    pub description: String,
    pub environment: String,
    pub environment_url: String,
    pub log_url: String,
    pub creator: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Deployment {
    pub id: u64,
    pub sha: String,
    pub ref_name: String,
    pub task: String,
    pub environment: String,
    pub original_environment: String,
    pub payload: Value,
    pub description: Option<String>,
    pub transient_environment: bool,
    pub production_environment: bool,
    pub creator: String,
    /// Oldest first.
    pub statuses: Vec<DeploymentStatus>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Deployment {
    pub fn latest_state(&self) -> Option<&str> {
        self.statuses.last().map(|s| s.state.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct CommitStatus {
    pub id: u64,
    pub sha: String,
    pub state: String,
    pub context: String,
    pub description: Option<String>,
    pub target_url: Option<String>,
    pub creator: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Repo {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub private: bool,
    /// Key of the parent repository when this is a fork.
    pub fork_of: Option<String>,
    pub default_branch: String,
    /// Full ref names (`refs/heads/main`) → commit sha.
    pub refs: BTreeMap<String, String>,
    pub pulls: BTreeMap<u64, PullRequest>,
    pub issues: BTreeMap<u64, Issue>,
    pub comments: BTreeMap<u64, Comment>,
    pub reviews: Vec<Review>,
    pub check_runs: BTreeMap<u64, CheckRun>,
    pub deployments: BTreeMap<u64, Deployment>,
    pub statuses: Vec<CommitStatus>,
    /// Lower-case login → role name (admin, maintain, write, triage, read).
    pub collaborators: BTreeMap<String, String>,
    pub next_number: u64,
    pub created_at: DateTime<Utc>,
}

impl Repo {
    /// An empty private repository with default branch `main`.
    pub fn new(id: u64, owner: &str, name: &str) -> Self {
        Repo {
            id,
            owner: owner.to_string(),
            name: name.to_string(),
            private: true,
            fork_of: None,
            default_branch: "main".to_string(),
            refs: BTreeMap::new(),
            pulls: BTreeMap::new(),
            issues: BTreeMap::new(),
            comments: BTreeMap::new(),
            reviews: Vec::new(),
            check_runs: BTreeMap::new(),
            deployments: BTreeMap::new(),
            statuses: Vec::new(),
            collaborators: BTreeMap::new(),
            next_number: 1,
            created_at: Utc::now(),
        }
    }

    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    pub fn key(&self) -> String {
        repo_key(&self.owner, &self.name)
    }

    pub fn branch(&self, name: &str) -> Option<&String> {
        self.refs.get(&format!("refs/heads/{name}"))
    }
}

pub fn repo_key(owner: &str, name: &str) -> String {
    format!("{owner}/{name}").to_lowercase()
}

#[derive(Clone, Debug)]
pub struct RateWindow {
    pub remaining: u32,
    pub reset: i64,
}

#[derive(Clone, Debug)]
pub struct RateLimits {
    pub limit: u32,
    pub window: Duration,
    /// Keyed by "installation:{id}", "app" or "anonymous".
    pub windows: HashMap<String, RateWindow>,
}

#[derive(Debug)]
pub struct Model {
    pub app: AppConfig,
    pub installations: BTreeMap<u64, Installation>,
    pub repos: BTreeMap<String, Repo>,
    pub commits: HashMap<String, Commit>,
    /// Blobs and trees made with the git data API (commits' own files are in `commits`).
    pub blobs: HashMap<String, Vec<u8>>,
    pub trees: HashMap<String, Arc<Tree>>,
    pub tokens: HashMap<String, IssuedToken>,
    /// Installation id → number of tokens issued through `POST …/access_tokens`.
    pub tokens_issued: BTreeMap<u64, u32>,
    pub manifests: Vec<ManifestRegistration>,
    /// (org, team slug), both lower-case → lower-case login → role ("member" | "maintainer").
    pub teams: BTreeMap<(String, String), BTreeMap<String, String>>,
    pub rate: RateLimits,
    pub faults: Vec<FaultRule>,
    pub requests: Vec<RequestRecord>,
    pub latency: Duration,
    pub next_id: u64,
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Model {
    pub fn new() -> Self {
        Model {
            app: AppConfig {
                id: APP_ID,
                slug: APP_SLUG.to_string(),
                name: "gitferry test".to_string(),
                owner: "gitferry-org".to_string(),
                client_id: "Iv1.fakeclientid0001".to_string(),
                client_secret: "fake-client-secret".to_string(),
                webhook_secret: "fake-webhook-secret".to_string(),
                webhook_url: None,
                external_url: "https://gitferry.example.com".to_string(),
                permissions: default_permissions(),
                events: [
                    "check_run",
                    "issue_comment",
                    "pull_request",
                    "pull_request_review",
                    "push",
                ]
                .into_iter()
                .map(String::from)
                .collect(),
                token_lifetime: Duration::from_secs(3600),
                created_at: epoch(),
            },
            installations: BTreeMap::new(),
            repos: BTreeMap::new(),
            commits: HashMap::new(),
            blobs: HashMap::new(),
            trees: HashMap::new(),
            tokens: HashMap::new(),
            tokens_issued: BTreeMap::new(),
            manifests: Vec::new(),
            teams: BTreeMap::new(),
            rate: RateLimits {
                limit: 5000,
                window: Duration::from_secs(3600),
                windows: HashMap::new(),
            },
            faults: Vec::new(),
            requests: Vec::new(),
            latency: Duration::ZERO,
            next_id: 1000,
        }
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn bot_login(&self) -> String {
        format!("{}[bot]", self.app.slug)
    }

    /// A user by login. Ids are derived from the login so they are stable without a registry.
    pub fn user(&self, login: &str) -> UserInfo {
        let kind = if login.ends_with("[bot]") {
            "Bot"
        } else if self
            .installations
            .values()
            .any(|i| i.account.eq_ignore_ascii_case(login) && i.account_type == "Organization")
        {
            "Organization"
        } else {
            "User"
        };
        let digest = git::blob_sha(login.to_lowercase().as_bytes());
        let id = 100_000 + u64::from_str_radix(&digest[..6], 16).expect("hex digest");
        UserInfo {
            login: login.to_string(),
            id,
            kind,
        }
    }

    /// Adds a repository; returns its key.
    pub fn insert_repo(&mut self, owner: &str, name: &str, fork_of: Option<String>) -> String {
        let key = repo_key(owner, name);
        assert!(
            !self.repos.contains_key(&key),
            "repository {owner}/{name} exists already"
        );
        let id = self.next_id();
        let mut repo = Repo::new(id, owner, name);
        repo.fork_of = fork_of;
        self.repos.insert(key.clone(), repo);
        key
    }

    pub fn repo(&self, key: &str) -> Option<&Repo> {
        self.repos.get(key)
    }

    pub fn repo_mut(&mut self, key: &str) -> Option<&mut Repo> {
        self.repos.get_mut(key)
    }

    pub fn installation_of_repo(&self, key: &str) -> Option<&Installation> {
        self.installations.values().find(|i| i.repos.contains(key))
    }

    /// Resolves a branch, tag, full ref, or (abbreviated) sha to a commit sha.
    pub fn resolve(&self, key: &str, rev: &str) -> Option<String> {
        let repo = self.repos.get(key)?;
        let rev = rev.trim();
        for candidate in [
            rev.to_string(),
            format!("refs/{rev}"),
            format!("refs/heads/{rev}"),
            format!("refs/tags/{rev}"),
        ] {
            if let Some(sha) = repo.refs.get(&candidate) {
                return Some(sha.clone());
            }
        }
        if rev.len() >= 7 && rev.chars().all(|c| c.is_ascii_hexdigit()) {
            let rev = rev.to_lowercase();
            if self.commits.contains_key(&rev) {
                return Some(rev);
            }
            let mut found = self.commits.keys().filter(|s| s.starts_with(&rev));
            if let (Some(one), None) = (found.next(), found.next()) {
                return Some(one.clone());
            }
        }
        None
    }

    pub fn tree_of(&self, sha: &str) -> Option<Arc<Tree>> {
        self.commits.get(sha).map(|c| c.tree.clone())
    }

    /// Stores a commit (deterministic time, so the same history gives the same shas).
    pub fn make_commit(
        &mut self,
        tree: Tree,
        parents: Vec<String>,
        message: &str,
        author: &str,
    ) -> String {
        let time = epoch() + chrono::Duration::seconds(self.commits.len() as i64 + 1);
        let tree_sha = git::tree_sha(&tree);
        let sha = git::commit_sha(&tree_sha, &parents, author, time, message);
        self.commits.entry(sha.clone()).or_insert_with(|| Commit {
            sha: sha.clone(),
            tree_sha,
            parents,
            message: message.to_string(),
            author: author.to_string(),
            time,
            tree: Arc::new(tree),
        });
        sha
    }

    /// Moves (or creates) a ref and refreshes the head sha of pull requests that follow it.
    pub fn set_ref(&mut self, key: &str, full_ref: &str, sha: &str) {
        let old = self
            .repos
            .get(key)
            .and_then(|r| r.refs.get(full_ref).cloned());
        if let Some(repo) = self.repos.get_mut(key) {
            repo.refs.insert(full_ref.to_string(), sha.to_string());
        }
        if let Some(branch) = full_ref.strip_prefix("refs/heads/") {
            self.mark_landed_pulls(key, branch, old.as_deref(), sha);
        }
        self.sync_pulls();
    }

    /// GitHub marks an open pull request merged when a push to its base brings its head in
    /// (a fast-forward, or a merge commit made outside the pull request).
    fn mark_landed_pulls(&mut self, key: &str, base: &str, old: Option<&str>, new: &str) {
        let commits = &self.commits;
        let Some(repo) = self.repos.get(key) else {
            return;
        };
        let landed: Vec<u64> = repo
            .pulls
            .values()
            .filter(|p| p.state == PrState::Open && p.base_ref == base)
            .filter(|p| git::is_ancestor(commits, &p.head_sha, new))
            .filter(|p| old.is_none_or(|old| !git::is_ancestor(commits, &p.head_sha, old)))
            .map(|p| p.number)
            .collect();
        let now = Utc::now();
        if let Some(repo) = self.repos.get_mut(key) {
            for number in landed {
                if let Some(pull) = repo.pulls.get_mut(&number) {
                    pull.state = PrState::Closed;
                    pull.merged = true;
                    pull.merged_at = Some(now);
                    pull.closed_at = Some(now);
                    pull.updated_at = now;
                    pull.merge_commit_sha = Some(new.to_string());
                }
            }
        }
    }

    pub fn delete_ref(&mut self, key: &str, full_ref: &str) -> bool {
        self.repos
            .get_mut(key)
            .is_some_and(|r| r.refs.remove(full_ref).is_some())
    }

    /// Open pull requests follow their head branch, as on GitHub.
    pub fn sync_pulls(&mut self) {
        let mut updates = Vec::new();
        for (key, repo) in &self.repos {
            for pr in repo.pulls.values().filter(|p| p.state == PrState::Open) {
                let head = self
                    .repos
                    .get(&pr.head_repo)
                    .and_then(|r| r.branch(&pr.head_ref))
                    .cloned();
                if let Some(sha) = head.filter(|s| *s != pr.head_sha) {
                    updates.push((key.clone(), pr.number, sha));
                }
            }
        }
        let now = Utc::now();
        for (key, number, sha) in updates {
            if let Some(pr) = self
                .repos
                .get_mut(&key)
                .and_then(|r| r.pulls.get_mut(&number))
            {
                pr.head_sha = sha.clone();
                pr.updated_at = now;
                if let Some(repo) = self.repos.get_mut(&key) {
                    repo.refs.insert(format!("refs/pull/{number}/head"), sha);
                }
            }
        }
    }

    /// Three-way merge of `theirs` into `ours`. Ok(None) when `theirs` is already contained.
    pub fn merge_trees(&self, ours: &str, theirs: &str) -> Result<Option<Tree>, Vec<String>> {
        if git::is_ancestor(&self.commits, theirs, ours) {
            return Ok(None);
        }
        let empty = Arc::new(Tree::new());
        let base = git::merge_base(&self.commits, ours, theirs)
            .and_then(|b| self.tree_of(&b))
            .unwrap_or(empty.clone());
        let ours_tree = self.tree_of(ours).unwrap_or(empty.clone());
        let theirs_tree = self.tree_of(theirs).unwrap_or(empty);
        git::three_way(&base, &ours_tree, &theirs_tree).map(Some)
    }

    /// Whether the pull request merges cleanly (what GitHub reports as `mergeable`).
    pub fn pull_mergeable(&self, key: &str, pr: &PullRequest) -> Option<bool> {
        if let Some(forced) = pr.mergeable_override {
            return forced;
        }
        if pr.state != PrState::Open {
            return None;
        }
        let base = self.repos.get(key)?.branch(&pr.base_ref)?;
        Some(self.merge_trees(base, &pr.head_sha).is_ok())
    }

    /// Rate-limit window for a key, reset when its time has passed.
    pub fn rate_window(&mut self, key: &str) -> RateWindow {
        let now = Utc::now().timestamp();
        let (limit, window) = (self.rate.limit, self.rate.window.as_secs() as i64);
        let w = self
            .rate
            .windows
            .entry(key.to_string())
            .or_insert(RateWindow {
                remaining: limit,
                reset: now + window,
            });
        if w.reset <= now {
            *w = RateWindow {
                remaining: limit,
                reset: now + window,
            };
        }
        w.clone()
    }
}

/// The fixed start of the fake's commit clock.
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("valid fixed date")
}
