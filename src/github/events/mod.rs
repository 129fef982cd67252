//! Typed webhook payloads: every delivery is parsed once, by its `X-GitHub-Event` name, into a
//! [`GitHubEvent`] that all the handlers of the delivery share (see `router::Event`).
//!
//! One set of structs serves every feature, with only the fields some handler reads: GitHub's
//! payloads are large and unknown fields are ignored. A field is required when a handler
//! cannot work without it, so a payload that lacks it fails to parse, and the handler that asks
//! for it fails permanently (the delivery is dead-lettered, as retrying cannot add the field).
//! The pull request structs also read `GET /repos/{repo}/pulls/{number}` answers, which have
//! the same shape.

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

mod merge_group;

pub use merge_group::{
    HeadCommit, MergeGroup, MergeGroupAction, MergeGroupEvent, MergeGroupInstallation,
    MergeGroupReason, QueuedPull,
};

/// One delivery's payload, typed by its event name.
#[derive(Debug)]
pub enum GitHubEvent {
    PullRequest(PullRequestEvent),
    Push(PushEvent),
    IssueComment(IssueCommentEvent),
    CheckRun(CheckRunEvent),
    Installation(InstallationEvent),
    InstallationRepositories(InstallationRepositoriesEvent),
    MergeGroup(MergeGroupEvent),
    PullRequestReview(PullRequestReviewEvent),
    Status(StatusEvent),
    /// An event whose payload no handler reads (whether any handler runs for it is the
    /// router's call, made from the event name and action alone).
    Other,
}

impl GitHubEvent {
    /// Parses `payload` as the event `name` says. The error is malformed JSON, or (when
    /// [`serde_json::Error::is_data`]) a payload without what its event type needs.
    pub fn parse(name: &str, payload: &[u8]) -> Result<Self, serde_json::Error> {
        fn typed<T: DeserializeOwned>(
            payload: &[u8],
            variant: fn(T) -> GitHubEvent,
        ) -> Result<GitHubEvent, serde_json::Error> {
            serde_json::from_slice(payload).map(variant)
        }
        match name {
            "pull_request" => typed(payload, Self::PullRequest),
            "push" => typed(payload, Self::Push),
            "issue_comment" => typed(payload, Self::IssueComment),
            "check_run" => typed(payload, Self::CheckRun),
            "installation" => typed(payload, Self::Installation),
            "installation_repositories" => typed(payload, Self::InstallationRepositories),
            "merge_group" => typed(payload, Self::MergeGroup),
            "pull_request_review" => typed(payload, Self::PullRequestReview),
            "status" => typed(payload, Self::Status),
            // Still checked to be JSON, as before the payloads were typed: a malformed body is
            // a permanent failure whatever the event.
            _ => serde_json::from_slice::<IgnoredAny>(payload).map(|_| Self::Other),
        }
    }

    /// The repository the event happened in, for the event types that carry one gitferry
    /// reads (its config lives on that repository's default branch).
    pub fn repository(&self) -> Option<&Repository> {
        match self {
            Self::PullRequest(e) => Some(&e.repository),
            Self::Push(e) => Some(&e.repository),
            Self::IssueComment(e) => Some(&e.repository),
            Self::CheckRun(e) => Some(&e.repository),
            Self::PullRequestReview(e) => Some(&e.repository),
            Self::Status(e) => Some(&e.repository),
            Self::Installation(_)
            | Self::InstallationRepositories(_)
            | Self::MergeGroup(_)
            | Self::Other => None,
        }
    }

    /// Who caused the event, when the payload says.
    pub fn sender(&self) -> Option<&User> {
        match self {
            Self::PullRequest(e) => e.sender.as_ref(),
            Self::Push(e) => e.sender.as_ref(),
            Self::IssueComment(e) => Some(&e.sender),
            Self::CheckRun(e) => e.sender.as_ref(),
            Self::PullRequestReview(e) => e.sender.as_ref(),
            Self::Status(e) => e.sender.as_ref(),
            Self::Installation(_)
            | Self::InstallationRepositories(_)
            | Self::MergeGroup(_)
            | Self::Other => None,
        }
    }
}

/// `pull_request.*`.
#[derive(Debug, Deserialize)]
pub struct PullRequestEvent {
    pub action: String,
    pub pull_request: PullRequest,
    pub repository: Repository,
    /// Absent in deliveries gitferry writes itself (the preview resync's missed events).
    #[serde(default)]
    pub sender: Option<User>,
}

/// A pull request, as in a `pull_request` payload or a `GET …/pulls/{number}` answer.
#[derive(Debug, Deserialize)]
pub struct PullRequest {
    pub number: i64,
    /// `open` or `closed`.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub merged: bool,
    pub head: Branch,
    pub base: Branch,
    /// The author (the Re-run button asks whether its presser wrote the pull request).
    #[serde(default)]
    pub user: Option<User>,
}

impl PullRequest {
    /// Whether the head lives in another repository than `repository` (a deleted fork counts).
    pub fn is_from_fork(&self, repository: &str) -> bool {
        self.head.repo.as_ref().map(|r| r.full_name.as_str()) != Some(repository)
    }
}

/// A pull request's head or base.
#[derive(Debug, Deserialize)]
pub struct Branch {
    pub sha: String,
    #[serde(rename = "ref")]
    pub name: String,
    /// `null` when the fork was deleted.
    pub repo: Option<BranchRepository>,
}

#[derive(Debug, Deserialize)]
pub struct BranchRepository {
    pub full_name: String,
}

/// The `repository` of an event.
#[derive(Debug, Deserialize)]
pub struct Repository {
    pub full_name: String,
    pub default_branch: String,
}

impl Repository {
    /// The owner's login: GitHub's `full_name` is always `owner/name`.
    pub fn owner(&self) -> &str {
        crate::github::repository_owner(&self.full_name)
    }
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub login: String,
    /// `User`, `Bot` or `Organization`; empty when the payload leaves it out.
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// `push`.
#[derive(Debug, Deserialize)]
pub struct PushEvent {
    /// `refs/heads/<branch>` or `refs/tags/<tag>`.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The branch before the push; all zeros when it was created.
    #[serde(default)]
    pub before: String,
    /// The new head; all zeros when the ref was deleted.
    pub after: String,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub commits: Vec<PushedCommit>,
    pub repository: Repository,
    #[serde(default)]
    pub sender: Option<User>,
}

impl PushEvent {
    /// Whether any pushed commit added, changed or removed `path`.
    pub fn touches(&self, path: &str) -> bool {
        self.commits.iter().any(|c| {
            [&c.added, &c.modified, &c.removed]
                .iter()
                .any(|paths| paths.iter().any(|p| p == path))
        })
    }
}

/// The paths one pushed commit changed.
#[derive(Debug, Deserialize)]
pub struct PushedCommit {
    #[serde(default)]
    pub added: Vec<String>,
    #[serde(default)]
    pub modified: Vec<String>,
    #[serde(default)]
    pub removed: Vec<String>,
}

/// `issue_comment.*`.
#[derive(Debug, Deserialize)]
pub struct IssueCommentEvent {
    pub issue: Issue,
    pub comment: Comment,
    pub repository: Repository,
    /// Who did this: the comment's author for `created`, whoever edited it for `edited`.
    /// Commands act and are audited as the sender, never as the comment's author.
    pub sender: User,
    /// What an edit changed.
    #[serde(default)]
    pub changes: Option<Changes>,
}

#[derive(Debug, Deserialize)]
pub struct Issue {
    pub number: u64,
    pub user: User,
    /// Present only when the issue is a pull request.
    #[serde(default)]
    pub pull_request: Option<IgnoredAny>,
}

impl Issue {
    /// Whether the comment is on a pull request (commands are only read there).
    pub fn is_pull_request(&self) -> bool {
        self.pull_request.is_some()
    }
}

#[derive(Debug, Deserialize)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub body: String,
    pub user: User,
}

#[derive(Debug, Deserialize)]
pub struct Changes {
    pub body: Option<PreviousValue>,
}

#[derive(Debug, Deserialize)]
pub struct PreviousValue {
    pub from: String,
}

/// `check_run.*` (gitferry handles `rerequested` and `requested_action`).
#[derive(Debug, Deserialize)]
pub struct CheckRunEvent {
    pub check_run: CheckRun,
    /// The pressed button, for `requested_action`. Read from the payload itself: octocrab's
    /// typed event drops its `identifier`, which is the whole point of the event.
    #[serde(default)]
    pub requested_action: Option<RequestedAction>,
    pub repository: Repository,
    #[serde(default)]
    pub sender: Option<User>,
}

#[derive(Debug, Deserialize)]
pub struct CheckRun {
    /// `gitferry/<feature>` for gitferry's own runs: it says which feature owns the run.
    pub name: String,
    pub head_sha: String,
}

#[derive(Debug, Deserialize)]
pub struct RequestedAction {
    pub identifier: String,
}

/// `pull_request_review.*` (submitted, edited, dismissed): approvals of promotions.
#[derive(Debug, Deserialize)]
pub struct PullRequestReviewEvent {
    pub action: String,
    pub pull_request: PullRequest,
    pub repository: Repository,
    #[serde(default)]
    pub sender: Option<User>,
}

/// `status`: another app's commit status (a required check of a promotion).
#[derive(Debug, Deserialize)]
pub struct StatusEvent {
    pub sha: String,
    pub context: String,
    pub state: String,
    pub repository: Repository,
    #[serde(default)]
    pub sender: Option<User>,
}

/// `installation.*`.
#[derive(Debug, Deserialize)]
pub struct InstallationEvent {
    pub installation: AppInstallation,
    /// The repositories it was installed on (`created`; absent for most other actions).
    #[serde(default)]
    pub repositories: Vec<RepositoryRef>,
}

/// `installation_repositories.*`.
#[derive(Debug, Deserialize)]
pub struct InstallationRepositoriesEvent {
    pub installation: AppInstallation,
    #[serde(default)]
    pub repositories_added: Vec<RepositoryRef>,
    #[serde(default)]
    pub repositories_removed: Vec<RepositoryRef>,
}

/// The installation an `installation*` event is about.
#[derive(Debug, Deserialize)]
pub struct AppInstallation {
    pub id: i64,
    pub account: Account,
}

#[derive(Debug, Deserialize)]
pub struct Account {
    pub login: String,
    /// `User` or `Organization`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A repository in an installation's list (also what `GET /installation/repositories` pages).
#[derive(Debug, Deserialize)]
pub struct RepositoryRef {
    pub id: i64,
    pub full_name: String,
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::app::AppContext;
    use crate::router::{Event, HandlerError, Router};

    const HELLO: &str = "Codertocat/Hello-World";
    const PR_HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

    fn fixture(event: &str, file: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/github/webhooks")
            .join(event)
            .join(file);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn parsed(event: &str, file: &str) -> GitHubEvent {
        GitHubEvent::parse(event, &fixture(event, file))
            .unwrap_or_else(|e| panic!("{event}/{file}: {e}"))
    }

    fn variant(event: &GitHubEvent) -> &'static str {
        match event {
            GitHubEvent::PullRequest(_) => "pull_request",
            GitHubEvent::Push(_) => "push",
            GitHubEvent::IssueComment(_) => "issue_comment",
            GitHubEvent::CheckRun(_) => "check_run",
            GitHubEvent::Installation(_) => "installation",
            GitHubEvent::InstallationRepositories(_) => "installation_repositories",
            GitHubEvent::MergeGroup(_) => "merge_group",
            GitHubEvent::PullRequestReview(_) => "pull_request_review",
            GitHubEvent::Status(_) => "status",
            GitHubEvent::Other => "other",
        }
    }

    /// Every fixture of an event type gitferry reads parses into that type's variant (the
    /// actions no handler is registered for included: their shape is the same); the others
    /// are `Other`.
    #[test]
    fn every_fixture_parses_into_the_variant_of_its_event() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github/webhooks");
        let typed = [
            "pull_request",
            "push",
            "issue_comment",
            "check_run",
            "installation",
            "installation_repositories",
            "merge_group",
            "pull_request_review",
            "status",
        ];
        let mut checked = 0;
        for dir in std::fs::read_dir(&root).unwrap() {
            let dir = dir.unwrap().path();
            let event = dir.file_name().unwrap().to_str().unwrap().to_owned();
            let expected = if typed.contains(&event.as_str()) {
                event.as_str()
            } else {
                "other"
            };
            for file in std::fs::read_dir(&dir).unwrap() {
                let file = file.unwrap().path();
                let name = file.file_name().unwrap().to_str().unwrap();
                assert_eq!(variant(&parsed(&event, name)), expected, "{event}/{name}");
                checked += 1;
            }
        }
        assert!(checked > 90, "only {checked} fixtures found");
    }

    #[test]
    fn pull_request_events_carry_head_base_repository_and_sender() {
        for action in [
            "opened",
            "reopened",
            "synchronize",
            "ready_for_review",
            "closed",
        ] {
            let GitHubEvent::PullRequest(e) =
                parsed("pull_request", &format!("{action}.payload.json"))
            else {
                panic!("{action}: not a pull request");
            };
            assert_eq!(e.action, action);
            let pull = &e.pull_request;
            assert_eq!(pull.number, 2);
            assert_eq!((pull.draft, pull.merged), (false, false), "{action}");
            assert_eq!(pull.head.sha, PR_HEAD);
            assert_eq!(pull.head.name, "changes");
            assert_eq!(pull.base.sha, "f95f852bd8fca8fcc58a9a2d6c842781e32a215e");
            assert_eq!(pull.base.name, "master");
            assert_eq!(
                pull.user.as_ref().map(|u| u.login.as_str()),
                Some("Codertocat")
            );
            assert!(!pull.is_from_fork(HELLO));
            assert!(pull.is_from_fork("someone/Hello-World"));
            assert_eq!(e.repository.full_name, HELLO);
            assert_eq!(e.repository.default_branch, "master");
            assert_eq!(e.repository.owner(), "Codertocat");
            assert_eq!(
                e.sender.as_ref().map(|u| u.login.as_str()),
                Some("Codertocat")
            );
        }
        let GitHubEvent::PullRequest(draft) =
            parsed("pull_request", "converted_to_draft.payload.json")
        else {
            panic!("not a pull request");
        };
        assert!(draft.pull_request.draft);
    }

    #[test]
    fn a_pull_request_without_a_head_repository_is_a_deleted_fork() {
        let mut raw: serde_json::Value =
            serde_json::from_slice(&fixture("pull_request", "synchronize.payload.json")).unwrap();
        raw["pull_request"]["head"]["repo"] = serde_json::Value::Null;
        let e: PullRequestEvent = serde_json::from_value(raw).unwrap();
        assert!(e.pull_request.head.repo.is_none());
        assert!(e.pull_request.is_from_fork(HELLO));
    }

    #[test]
    fn push_events_say_what_the_commits_touched() {
        let GitHubEvent::Push(branch) = parsed("push", "with-new-branch.payload.json") else {
            panic!("not a push");
        };
        assert_eq!(branch.git_ref, "refs/heads/master");
        assert_eq!(branch.after, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
        assert!(!branch.deleted);
        assert_eq!(branch.commits.len(), 1);
        assert!(branch.touches("README.md"));
        assert!(!branch.touches(".github/gitferry.yml"));
        assert_eq!(branch.repository.full_name, HELLO);
        assert_eq!(branch.repository.default_branch, "master");
        assert_eq!(
            branch.sender.as_ref().map(|u| u.login.as_str()),
            Some("Codertocat")
        );

        let GitHubEvent::Push(tag) = parsed("push", "payload.json") else {
            panic!("not a push");
        };
        assert_eq!(tag.git_ref, "refs/tags/simple-tag");
        assert!(tag.deleted);
        assert_eq!(tag.after, "0".repeat(40));
        assert!(tag.commits.is_empty());
    }

    #[test]
    fn issue_comment_events_carry_the_comment_its_issue_and_an_edit() {
        let GitHubEvent::IssueComment(created) = parsed("issue_comment", "created.payload.json")
        else {
            panic!("not an issue comment");
        };
        assert_eq!(created.issue.number, 1);
        assert_eq!(created.issue.user.login, "Codertocat");
        assert!(
            !created.issue.is_pull_request(),
            "the fixture is a plain issue"
        );
        assert_eq!(created.comment.id, 492700400);
        assert!(created.comment.body.starts_with("You are totally right!"));
        assert_eq!(created.comment.user.login, "Codertocat");
        assert_eq!(created.comment.user.kind, "User");
        assert_eq!(created.sender.login, "Codertocat");
        assert_eq!(created.repository.full_name, HELLO);
        assert_eq!(created.repository.default_branch, "master");
        assert!(created.changes.is_none());

        let mut raw: serde_json::Value =
            serde_json::from_slice(&fixture("issue_comment", "created.payload.json")).unwrap();
        raw["issue"]["pull_request"] = serde_json::json!({ "url": "https://…/pulls/1" });
        let on_pull: IssueCommentEvent = serde_json::from_value(raw).unwrap();
        assert!(on_pull.issue.is_pull_request());

        let GitHubEvent::IssueComment(edited) = parsed("issue_comment", "edited.payload.json")
        else {
            panic!("not an issue comment");
        };
        let previous = edited.changes.as_ref().and_then(|c| c.body.as_ref());
        assert_eq!(
            previous.map(|p| p.from.as_str()),
            Some("You are totally right! I'll get this fixed right away.")
        );
    }

    #[test]
    fn check_run_events_name_the_run_and_the_pressed_button() {
        let GitHubEvent::CheckRun(rerun) = parsed("check_run", "rerequested.payload.json") else {
            panic!("not a check run");
        };
        assert_eq!(rerun.check_run.name, "randscape");
        assert_eq!(
            rerun.check_run.head_sha,
            "d6fde92930d4715a2b49857d24b940956b26d2d3"
        );
        assert!(rerun.requested_action.is_none());
        assert_eq!(rerun.repository.full_name, "github/hello-world");
        assert_eq!(rerun.repository.default_branch, "master");
        assert_eq!(
            rerun.sender.as_ref().map(|u| u.login.as_str()),
            Some("octocat")
        );

        let GitHubEvent::CheckRun(button) = parsed("check_run", "requested_action.payload.json")
        else {
            panic!("not a check run");
        };
        assert_eq!(button.check_run.name, "API Review");
        assert_eq!(
            button.check_run.head_sha,
            "5bd5f196a46b8222fb7484f05faba41a73cf34bd"
        );
        assert_eq!(
            button
                .requested_action
                .as_ref()
                .map(|a| a.identifier.as_str()),
            Some("lgtm|26764")
        );
    }

    fn repositories(list: &[RepositoryRef]) -> Vec<(i64, &str)> {
        list.iter().map(|r| (r.id, r.full_name.as_str())).collect()
    }

    #[test]
    fn installation_events_carry_the_account_and_the_repositories() {
        let GitHubEvent::Installation(created) = parsed("installation", "created.payload.json")
        else {
            panic!("not an installation");
        };
        assert_eq!(created.installation.id, 957387);
        assert_eq!(created.installation.account.login, "Codertocat");
        assert_eq!(created.installation.account.kind, "User");
        assert_eq!(
            repositories(&created.repositories),
            [(186853002, "Codertocat/Hello-World")]
        );
        for file in ["suspend.payload.json", "unsuspend.payload.json"] {
            let GitHubEvent::Installation(e) = parsed("installation", file) else {
                panic!("{file}: not an installation");
            };
            assert_eq!(e.installation.id, 16598467, "{file}");
            assert!(e.repositories.is_empty(), "{file}");
        }
        let GitHubEvent::Installation(deleted) = parsed("installation", "deleted.payload.json")
        else {
            panic!("not an installation");
        };
        assert_eq!(deleted.installation.id, 2);
        assert_eq!(deleted.installation.account.login, "octocat");

        let GitHubEvent::InstallationRepositories(added) =
            parsed("installation_repositories", "added.payload.json")
        else {
            panic!("not installation_repositories");
        };
        assert_eq!(added.installation.id, 957387);
        assert_eq!(
            repositories(&added.repositories_added),
            [(186853007, "Codertocat/Space")]
        );
        assert!(added.repositories_removed.is_empty());
        let GitHubEvent::InstallationRepositories(removed) =
            parsed("installation_repositories", "removed.payload.json")
        else {
            panic!("not installation_repositories");
        };
        assert!(removed.repositories_added.is_empty());
        assert_eq!(
            repositories(&removed.repositories_removed),
            [(1296269, "octocat/Hello-World")]
        );
    }

    #[test]
    fn merge_group_events_carry_the_groups_head_and_base() {
        let GitHubEvent::MergeGroup(e) = parsed("merge_group", "checks_requested.payload.json")
        else {
            panic!("not a merge group");
        };
        assert_eq!(e.action, MergeGroupAction::ChecksRequested);
        assert_eq!(
            e.merge_group.head_sha,
            "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d"
        );
        assert_eq!(
            e.merge_group.head_ref,
            "refs/heads/gh-readonly-queue/main/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64"
        );
        assert_eq!(
            e.merge_group.base_sha,
            "380387fbc80638b734a49e1be1c4dfec1c01b33c"
        );
        assert_eq!(e.merge_group.base_ref, "refs/heads/main");
    }

    fn event(name: &str, action: &str, payload: &[u8]) -> Event {
        Event::new(
            "d-1".into(),
            name.into(),
            Some(action.into()),
            Some(7),
            Some(HELLO.into()),
            payload,
        )
        .expect("JSON")
    }

    fn permanent_message(result: Result<impl std::fmt::Debug, HandlerError>) -> String {
        match result {
            Err(HandlerError::Permanent(err)) => format!("{err:#}"),
            other => panic!("expected a permanent failure, got {other:?}"),
        }
    }

    #[test]
    fn a_payload_lacking_what_its_event_needs_fails_its_handlers_permanently() {
        let account_less = br#"{"action": "created", "installation": {"id": 5}}"#;
        let e = event("installation", "created", account_less);
        // Only reading the payload fails: the delivery itself is fine.
        assert_eq!(e.key(), "installation.created");
        assert_eq!(e.installation().map(|i| i.stored()).ok(), Some(7));
        let message = permanent_message(e.installation_event());
        assert!(
            message.starts_with("installation.created payload lacks what its handler needs:"),
            "{message}"
        );
        assert!(message.contains("`account`"), "{message}");

        let mut headless: serde_json::Value =
            serde_json::from_slice(&fixture("pull_request", "synchronize.payload.json")).unwrap();
        headless["pull_request"]
            .as_object_mut()
            .unwrap()
            .remove("head");
        let e = event(
            "pull_request",
            "synchronize",
            &serde_json::to_vec(&headless).unwrap(),
        );
        let message = permanent_message(e.pull_request());
        assert!(
            message.starts_with("pull_request.synchronize payload lacks what its handler needs:")
                && message.contains("`head`"),
            "{message}"
        );
        assert!(e.sender().is_none());
        assert!(permanent_message(e.payload_repository()).contains("lacks"));
    }

    #[test]
    fn a_handler_of_another_event_type_fails_permanently() {
        let e = event("push", "", &fixture("push", "with-new-branch.payload.json"));
        assert!(e.push().is_ok());
        let message = permanent_message(e.pull_request());
        assert!(
            message.contains("reached a handler of pull_request events"),
            "{message}"
        );
        let ping = event("ping", "", &fixture("ping", "payload.json"));
        assert!(matches!(ping.payload(), Ok(GitHubEvent::Other)));
        assert!(permanent_message(ping.payload_repository()).contains("names no repository"));
    }

    #[test]
    fn malformed_json_is_refused_whatever_the_event() {
        for name in ["pull_request", "ping"] {
            let err = Event::new("d".into(), name.into(), None, None, None, b"{\"action\":")
                .expect_err("malformed");
            assert!(!err.is_data(), "{name}: {err}");
        }
    }

    /// A fake GitHub answering token exchanges and the config file, counting the latter.
    struct FakeGithub {
        url: String,
        contents_requests: Arc<AtomicUsize>,
    }

    const CONFIG: &str = "pipeline:\n  - { name: unit, run: [make, test] }\n";

    impl FakeGithub {
        async fn start() -> Self {
            use base64::Engine as _;
            let contents_requests = Arc::new(AtomicUsize::new(0));
            let counter = Arc::clone(&contents_requests);
            let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
                let counter = Arc::clone(&counter);
                async move {
                    let path = req.uri().path().to_owned();
                    let (status, body) = if path.ends_with("/access_tokens") {
                        let token = serde_json::json!({
                            "token": "tok", "expires_at": "2099-01-01T00:00:00Z"
                        });
                        (201, token)
                    } else if path == format!("/repos/{HELLO}/contents/.github/gitferry.yml") {
                        counter.fetch_add(1, Ordering::SeqCst);
                        let content = base64::engine::general_purpose::STANDARD.encode(CONFIG);
                        (
                            200,
                            serde_json::json!({ "sha": "blob-1", "content": content }),
                        )
                    } else {
                        (404, serde_json::json!({ "message": "Not Found" }))
                    };
                    axum::response::Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(body.to_string()))
                        .unwrap()
                }
            });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
            Self {
                url,
                contents_requests,
            }
        }

        fn contents_requests(&self) -> usize {
            self.contents_requests.load(Ordering::SeqCst)
        }
    }

    async fn context(github_url: &str, dir: &tempfile::TempDir) -> Arc<AppContext> {
        let url = format!("sqlite://{}", dir.path().join("events.db").display());
        let store = crate::store::Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let metrics = crate::metrics::Metrics::new();
        let key = include_str!("../../../tests/fixtures/test-app-key.pem");
        let credentials = crate::github::AppCredentials::from_pem(42, key).unwrap();
        let config = crate::github::ClientConfig {
            // An unreachable GitHub fails at once instead of after the production backoff.
            retry: crate::github::RetryPolicy {
                max_attempts: 1,
                base_delay: std::time::Duration::from_millis(1),
                max_delay: std::time::Duration::from_millis(1),
                max_wait: std::time::Duration::from_millis(1),
            },
            ..crate::github::ClientConfig::new(github_url)
        };
        let client =
            crate::github::Client::new(config, Some(credentials), Arc::clone(&metrics)).unwrap();
        let sandbox = crate::sandbox::Sandbox::new(
            crate::sandbox::Mode::Off,
            crate::sandbox::Policy {
                read: Vec::new(),
                write: Vec::new(),
                devices: Vec::new(),
            },
            None,
        );
        Arc::new(AppContext::new(
            Arc::new(crate::settings::Settings::parse_from(["gitferry"])),
            store,
            client,
            metrics,
            sandbox,
        ))
    }

    /// `pull_request.synchronize` reaches the config check, previews and the pipeline: three
    /// handlers, one config read. Each handler here first forgets the process-wide config
    /// cache, so a handler that bypassed the delivery's config would read GitHub again.
    #[tokio::test]
    async fn one_delivery_reaching_three_handlers_loads_the_config_once() {
        let github = FakeGithub::start().await;
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(&github.url, &dir).await;
        let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
        let mut router = Router::default();
        for _ in 0..3 {
            let seen = Arc::clone(&seen);
            router.on(
                "pull_request.synchronize",
                move |ctx: Arc<AppContext>, event: Arc<Event>| {
                    let seen = Arc::clone(&seen);
                    async move {
                        ctx.configs.invalidate(HELLO);
                        let loaded = event.config(&ctx).await?;
                        assert!(loaded.usable().is_some_and(|c| !c.pipeline.is_empty()));
                        seen.lock()
                            .unwrap()
                            .push(loaded.blob_sha().map(str::to_owned));
                        Ok(())
                    }
                },
            );
        }
        let delivery = || {
            Arc::new(event(
                "pull_request",
                "synchronize",
                &fixture("pull_request", "synchronize.payload.json"),
            ))
        };

        router.dispatch(Arc::clone(&ctx), delivery()).await.unwrap();
        assert_eq!(*seen.lock().unwrap(), vec![Some("blob-1".to_owned()); 3]);
        assert_eq!(github.contents_requests(), 1, "one delivery, one read");

        // The next delivery reads the config again (here: the cache was just forgotten).
        router.dispatch(Arc::clone(&ctx), delivery()).await.unwrap();
        assert_eq!(seen.lock().unwrap().len(), 6);
        assert_eq!(
            github.contents_requests(),
            2,
            "a delivery's config is its own"
        );
    }

    #[tokio::test]
    async fn a_config_that_cannot_be_read_is_retried() {
        let dir = tempfile::tempdir().unwrap();
        // Nothing listens there: the read fails the way a GitHub outage does.
        let ctx = context("http://127.0.0.1:9", &dir).await;
        let e = event(
            "pull_request",
            "synchronize",
            &fixture("pull_request", "synchronize.payload.json"),
        );
        assert!(matches!(
            e.config(&ctx).await,
            Err(HandlerError::Retry { .. })
        ));
    }
}
