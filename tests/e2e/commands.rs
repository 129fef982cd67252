//! Slash commands on a pull request: who may run what, what the bot answers, what it ignores.

use gitferry::store::DeliveryState;
use serde_json::json;

use crate::support::db::TestDb;
use crate::support::fake_github::{FakeGitHub, PrSpec, RepoHandle};
use crate::support::gitferry::Gitferry;
use crate::support::payloads;

const CONFIG: &str = "\
commands:
  roles:
    promote:
      environments:
        production: { permission: admin, teams: [release-managers] }
environments:
  staging:
    branch: main
    deploy: { provider: command, deploy: [./deploy.sh], destroy: [./destroy.sh] }
  production:
    branch: release
    promote_from: staging
    deploy: { provider: command, deploy: [./deploy.sh], destroy: [./destroy.sh] }
";

struct Scenario {
    fake: FakeGitHub,
    _db: TestDb,
    gitferry: Gitferry,
    repo: RepoHandle,
    installation: u64,
    pr: u64,
}

impl Scenario {
    async fn start(config: Option<&str>) -> Self {
        let fake = FakeGitHub::start().await;
        let installation = fake.add_installation("octocat");
        let repo = fake.add_repo(installation, "octocat/shop");
        let mut files = vec![("README.md", "shop")];
        if let Some(config) = config {
            files.push((".github/gitferry.yml", config));
        }
        repo.commit_files("main", &files, "init");
        repo.commit_files("feature", &[("src/lib.rs", "fn shop() {}")], "work");
        let pr = repo.open_pr(PrSpec::new("feature", "main").author("alice"));
        repo.set_permission("bob", "write");
        repo.set_permission("carol", "read");
        repo.set_permission("dora", "admin");
        let db = TestDb::sqlite();
        let gitferry = Gitferry::start(&db, &fake).await;
        Self {
            fake,
            _db: db,
            gitferry,
            repo,
            installation,
            pr,
        }
    }

    /// `author` writes `body` on the PR; GitHub tells gitferry. Returns the comment id.
    async fn comment(&self, author: &str, body: &str) -> u64 {
        let id = self.repo.add_comment(self.pr, author, body);
        self.deliver_comment(id, "created", None).await;
        id
    }

    async fn deliver_comment(&self, id: u64, action: &str, previous: Option<&str>) {
        let author = self.repo.comment_json(id)["user"]["login"]
            .as_str()
            .expect("an author")
            .to_owned();
        self.deliver_comment_by(&author, id, action, previous).await;
    }

    /// `sender` (the comment's author, or whoever edited it) acted on comment `id`.
    async fn deliver_comment_by(
        &self,
        sender: &str,
        id: u64,
        action: &str,
        previous: Option<&str>,
    ) {
        let mut payload = json!({
            "action": action,
            "issue": self.repo.issue_json(self.pr),
            "comment": self.repo.comment_json(id),
            "repository": self.repo.repo_json(),
            "sender": self.repo.user_json(sender),
            "installation": { "id": self.installation },
        });
        if let Some(previous) = previous {
            payload["changes"] = json!({ "body": { "from": previous } });
        }
        let body = serde_json::to_vec(&payload).expect("json");
        let (status, text, delivery) = self.gitferry.deliver("issue_comment", &body).await;
        assert_eq!(status, 202, "{text}");
        self.gitferry.wait_for(&delivery, DeliveryState::Done).await;
    }

    async fn audit(&self) -> Vec<gitferry::store::audit::AuditEntry> {
        self.gitferry
            .store
            .audit_entries("octocat/shop")
            .await
            .expect("audit")
    }

    fn replies(&self) -> Vec<String> {
        self.repo
            .bot_comments(self.pr)
            .into_iter()
            .map(|c| c.body)
            .collect()
    }

    fn reactions(&self, comment: u64) -> Vec<String> {
        self.repo
            .reactions(comment)
            .into_iter()
            .map(|r| r.content)
            .collect()
    }
}

#[tokio::test]
async fn a_writer_may_ask_for_a_preview_and_the_bot_says_it_took_the_command() {
    let s = Scenario::start(Some(CONFIG)).await;
    let comment = s.comment("bob", "Looks good.\n/preview\n").await;
    assert_eq!(s.reactions(comment), ["eyes"]);
    let replies = s.replies();
    assert_eq!(replies.len(), 1);
    // Allowed, and answered with why nothing happens: this config has no preview environment.
    assert!(
        replies[0].contains("has no preview environment"),
        "{}",
        replies[0]
    );
    let audit = s.audit().await;
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (
            audit[0].actor.as_str(),
            audit[0].action.as_str(),
            audit[0].outcome.as_str()
        ),
        ("bob", "command:preview", "allowed")
    );
}

#[tokio::test]
async fn promoting_to_production_is_refused_to_a_reader_and_says_which_role_is_needed() {
    let s = Scenario::start(Some(CONFIG)).await;
    s.comment("carol", "/promote production").await;
    let replies = s.replies();
    assert_eq!(replies.len(), 1);
    insta::assert_snapshot!("refusal_promote_production", replies[0]);
    let audit = s.audit().await;
    assert_eq!(audit[0].outcome, "refused");
    // A member of the release team may, whatever their permission.
    s.repo.set_permission("erin", "read");
    s.fake
        .add_team_member("octocat", "release-managers", "erin", "member");
    s.comment("erin", "/promote production").await;
    // Allowed: the promotion itself answers (staging has no verified release yet).
    assert!(
        s.replies()
            .iter()
            .any(|r| r.contains("has no verified release to promote to **production**")),
        "{:?}",
        s.replies()
    );
}

#[tokio::test]
async fn quoted_and_fenced_commands_are_ignored_and_bots_are_not_answered() {
    let s = Scenario::start(Some(CONFIG)).await;
    let quoted = s.comment("bob", "> /preview\nas you said above").await;
    let fenced = s.comment("bob", "```\n/preview\n```").await;
    let bot = s.repo.add_comment(s.pr, "renovate[bot]", "/preview");
    s.deliver_comment(bot, "created", None).await;
    assert!(s.replies().is_empty());
    assert!(s.reactions(quoted).is_empty() && s.reactions(fenced).is_empty());
}

#[tokio::test]
async fn a_replayed_comment_is_answered_once_and_audited_once() {
    let s = Scenario::start(Some(CONFIG)).await;
    let comment = s.comment("bob", "/drift").await;
    s.deliver_comment(comment, "created", None).await;
    assert_eq!(s.replies().len(), 1);
    assert!(
        s.replies()[0].contains("has no `status` command, so there is nothing to compare"),
        "{}",
        s.replies()[0]
    );
    assert_eq!(s.audit().await.len(), 1);
    assert_eq!(s.reactions(comment), ["eyes"]);
}

#[tokio::test]
async fn an_unknown_command_gets_the_closest_one() {
    let s = Scenario::start(Some(CONFIG)).await;
    s.comment("bob", "/prevew").await;
    let replies = s.replies();
    insta::assert_snapshot!("unknown_command_suggestion", replies[0]);
}

#[tokio::test]
async fn without_a_config_only_help_is_answered() {
    let s = Scenario::start(None).await;
    let preview = s.comment("bob", "/preview").await;
    assert!(s.replies().is_empty());
    assert_eq!(s.reactions(preview), ["eyes"]);
    s.comment("carol", "/help").await;
    let replies = s.replies();
    assert_eq!(replies.len(), 1);
    assert!(
        replies[0].contains(".github/gitferry.yml"),
        "{}",
        replies[0]
    );
}

#[tokio::test]
async fn the_pull_requests_own_config_is_never_used() {
    // The default branch keeps /preview for admins; the PR head tries to open it to readers.
    let strict = "commands:\n  roles:\n    preview: { permission: admin }\n";
    let s = Scenario::start(Some(strict)).await;
    s.repo.commit_files(
        "feature",
        &[(
            ".github/gitferry.yml",
            "commands:\n  roles:\n    preview: { permission: read }\n",
        )],
        "widen",
    );
    s.comment("carol", "/preview").await;
    assert!(s.replies()[0].contains("needs"), "{}", s.replies()[0]);
}

#[tokio::test]
async fn editing_a_comment_runs_only_the_commands_it_adds() {
    let s = Scenario::start(Some(CONFIG)).await;
    let comment = s.comment("bob", "/drift").await;
    {
        let mut model = s.fake.model();
        let repo = model.repo_mut(s.repo.key()).expect("repo");
        if let Some(c) = repo.comments.get_mut(&comment) {
            c.body = "/drift\n/retest unit".into();
        }
    }
    s.deliver_comment(comment, "edited", Some("/drift")).await;
    let audit = s.audit().await;
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["command:drift", "command:retest unit"]);
}

/// Red team: GitHub lets a collaborator edit anyone's comment. A writer edits an admin's
/// comment to add `/approve`; it must not run with the admin's role, nor be audited as the
/// admin's.
#[tokio::test]
async fn a_command_added_by_editing_someone_elses_comment_runs_nothing_and_says_why() {
    let s = Scenario::start(Some(CONFIG)).await;
    let comment = s.comment("dora", "Nice work.").await;
    assert!(s.replies().is_empty());
    {
        let mut model = s.fake.model();
        let repo = model.repo_mut(s.repo.key()).expect("repo");
        if let Some(c) = repo.comments.get_mut(&comment) {
            c.body = "Nice work.\n/approve".into();
        }
    }

    s.deliver_comment_by("bob", comment, "edited", Some("Nice work."))
        .await;

    let replies = s.replies();
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(
        replies[0].contains(
            "@bob `/approve` was added by your edit of a comment @dora wrote, so it did not run"
        ),
        "{}",
        replies[0]
    );
    let audit = s.audit().await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(
        (
            audit[0].actor.as_str(),
            audit[0].action.as_str(),
            audit[0].outcome.as_str()
        ),
        ("bob", "command:approve", "refused")
    );
    assert!(audit.iter().all(|a| a.actor != "dora"));
}

#[tokio::test]
async fn a_command_added_by_editing_ones_own_comment_runs_as_its_author() {
    let s = Scenario::start(Some(CONFIG)).await;
    let comment = s.comment("carol", "Hm.").await;
    {
        let mut model = s.fake.model();
        let repo = model.repo_mut(s.repo.key()).expect("repo");
        if let Some(c) = repo.comments.get_mut(&comment) {
            c.body = "Hm.\n/drift".into();
        }
    }
    s.deliver_comment_by("carol", comment, "edited", Some("Hm."))
        .await;
    let audit = s.audit().await;
    assert_eq!(
        (audit[0].actor.as_str(), audit[0].outcome.as_str()),
        ("carol", "refused"),
        "carol (read) is refused for her own role"
    );
    assert!(s.replies()[0].contains("needs"), "{}", s.replies()[0]);
}

#[tokio::test]
async fn a_thousand_commands_in_one_comment_run_ten_and_say_so() {
    let s = Scenario::start(Some(CONFIG)).await;
    // GitHub's largest comment: 1,000 commands, each followed by a line of prose.
    let mut body =
        "/drift\nplease check the drift of this environment again, thanks\n".repeat(1000);
    body.push_str(&"x".repeat(65_536 - body.len()));
    assert_eq!(body.len(), 65_536);
    s.comment("bob", &body).await;
    let replies = s.replies();
    assert_eq!(replies.len(), 1);
    assert!(
        replies[0]
            .contains("Ran the first 10 of 1,000 commands in this comment; the rest were ignored."),
        "{}",
        replies[0]
    );
    let audit = s.audit().await;
    assert_eq!(audit.len(), 10);
}

#[tokio::test]
async fn the_config_is_read_once_until_a_push_touches_it() {
    let s = Scenario::start(Some(CONFIG)).await;
    s.comment("bob", "/drift").await;
    s.comment("bob", "/drift").await;
    assert_eq!(
        s.fake.count("GET", "/repos/octocat/shop/contents/.github"),
        1
    );

    // The default branch tightens /drift to admins; the push tells gitferry to read it again.
    let before = s.repo.branch_sha("main").expect("main");
    let stricter = CONFIG.replace(
        "commands:\n  roles:\n",
        "commands:\n  roles:\n    drift: { permission: admin }\n",
    );
    let after = s.repo.commit_files(
        "main",
        &[(".github/gitferry.yml", stricter.as_str())],
        "tighten",
    );
    let body = payloads::push(
        &s.repo,
        s.installation,
        &before,
        &after,
        &[".github/gitferry.yml"],
    );
    let (_, _, id) = s.gitferry.deliver("push", &body).await;
    s.gitferry.wait_for(&id, DeliveryState::Done).await;
    s.comment("bob", "/drift").await;
    assert!(
        s.replies()
            .iter()
            .any(|r| r.contains("needs admin permission")),
        "{:?}",
        s.replies()
    );
}

/// Every command with its default role: one user who may run it, one who may not.
#[tokio::test]
async fn each_command_is_allowed_for_its_default_role_and_refused_below_it() {
    let s = Scenario::start(Some(CONFIG)).await;
    s.repo.set_permission("mia", "maintain");
    let cases = [
        ("/help", "carol", None),
        ("/preview", "bob", Some(("carol", "write permission"))),
        ("/retest unit", "bob", Some(("carol", "write permission"))),
        ("/drift", "alice", Some(("carol", "write permission"))),
        ("/queue p=3", "mia", Some(("bob", "maintain permission"))),
        ("/dequeue", "mia", Some(("bob", "maintain permission"))),
        (
            "/promote staging",
            "dora",
            Some(("mia", "admin permission")),
        ),
        (
            "/rollback staging",
            "dora",
            Some(("mia", "admin permission")),
        ),
        (
            "/queue freeze deploy window",
            "dora",
            Some(("mia", "admin permission")),
        ),
        ("/queue unfreeze", "dora", Some(("mia", "admin permission"))),
    ];
    for (command, allowed, refused) in cases {
        s.comment(allowed, command).await;
        let answer = s.replies().pop().expect("an answer");
        assert!(
            !answer.contains("Nothing was changed"),
            "{allowed} {command}: {answer}"
        );
        if let Some((user, needed)) = refused {
            s.comment(user, command).await;
            let answer = s.replies().pop().expect("an answer");
            assert!(
                answer.contains(&format!("needs {needed}")),
                "{user} {command}: {answer}"
            );
            assert!(answer.contains("Nothing was changed"), "{answer}");
        }
    }
    // `/approve` is the environment's `approvals` to decide, and only on a promotion.
    s.comment("dora", "/approve").await;
    let answer = s.replies().pop().expect("an answer");
    assert!(answer.contains("this is not an open one"), "{answer}");
    let audit = s.audit().await;
    let refused = audit.iter().filter(|a| a.outcome == "refused").count();
    assert_eq!(refused, 9);
    assert!(audit.iter().any(|a| a.outcome == "not a promotion"));
}
