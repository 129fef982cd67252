//! The PR reporting surface against the fake GitHub, through a real `github::Client`: the
//! sticky comment is created once, edited in place, left alone on a replay, split when huge and
//! joined back when it shrinks; check runs get their annotations 50 a request, once.

use gitferry::github::{AppCredentials, Client, ClientConfig, InstallationClient, InstallationId};
use gitferry::metrics::Metrics;
use gitferry::report::checks::{
    Annotation, AnnotationLevel, CheckRunSpec, CheckStatus, Conclusion, upsert_check_run,
};
use gitferry::report::{
    COMMENT_LIMIT, Section, StickyComment, SyncOutcome, markdown, sync_sticky, update_section,
};

use crate::support::fake_github::{Comment, FakeGitHub, PrSpec, RepoHandle};

const REPO: &str = "acme/shop";

/// A repository with an open PR, and the App's client for its installation.
struct World {
    fake: FakeGitHub,
    repo: RepoHandle,
    gh: InstallationClient,
    pr: u64,
    head_sha: String,
    app_login: String,
}

async fn world() -> World {
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("acme");
    let repo = fake.add_repo(installation, REPO);
    repo.commit_files("main", &[("README.md", "shop")], "init");
    let head_sha = repo.commit_files("feature", &[("src/cart.rs", "fn cart() {}")], "cart");
    let pr = repo.open_pr(PrSpec::new("feature", "main").author("alice"));
    let credentials =
        AppCredentials::from_pem(fake.app_id(), fake.private_key_pem()).expect("the fake's key");
    let client = Client::new(
        ClientConfig::new(&fake.url()),
        Some(credentials),
        Metrics::new(),
    )
    .expect("client");
    let gh = client.installation(InstallationId(installation));
    let app_login = fake.bot_login();
    World {
        fake,
        repo,
        gh,
        pr,
        head_sha,
        app_login,
    }
}

impl World {
    async fn sync(&self, comment: &StickyComment) -> SyncOutcome {
        sync_sticky(&self.gh, REPO, self.pr, &self.app_login, comment)
            .await
            .expect("sync the sticky comment")
    }

    async fn update(&self, section: Section, markdown: &str) -> SyncOutcome {
        update_section(&self.gh, REPO, self.pr, &self.app_login, section, markdown)
            .await
            .expect("update a section")
    }

    /// The App's comments on the PR, oldest first.
    fn sticky(&self) -> Vec<Comment> {
        let mut comments = self.repo.bot_comments(self.pr);
        comments.sort_by_key(|c| c.id);
        comments
    }

    /// Writes to comments so far: (created, edited, deleted).
    fn comment_writes(&self) -> (usize, usize, usize) {
        let edits = format!("/repos/{REPO}/issues/comments/");
        (
            self.fake.count(
                "POST",
                &format!("/repos/{REPO}/issues/{}/comments", self.pr),
            ),
            self.fake.count("PATCH", &edits) + self.fake.count("POST", &edits),
            self.fake.count("DELETE", &edits),
        )
    }

    fn check_run_writes(&self) -> (usize, usize) {
        let runs = format!("/repos/{REPO}/check-runs");
        (
            self.fake.count("POST", &runs),
            self.fake.count("PATCH", &format!("{runs}/")),
        )
    }
}

fn preview(url: &str) -> String {
    format!(
        "{}\n\nReady at {}.",
        markdown::heading(3, "Preview"),
        markdown::link(url, url)
    )
}

/// A tests section whose log, in a code fence under `<details>`, has about `chars` characters.
fn test_log(chars: usize) -> String {
    let line = "test checkout::applies_the_coupon ... FAILED (expected 100, got 90)\n";
    let log: String = line.chars().cycle().take(chars).collect();
    format!(
        "{}\n\n{}",
        markdown::heading(3, "Tests"),
        markdown::details("unit: 1 failed", &markdown::code_block("text", &log))
    )
}

fn fences_balanced(body: &str) -> bool {
    body.lines().filter(|l| l.starts_with("```")).count() % 2 == 0
        && body.matches("<details>").count() == body.matches("</details>").count()
}

#[tokio::test]
async fn the_sticky_comment_is_created_once_edited_in_place_and_left_alone_on_a_replay() {
    let w = world().await;

    let first = StickyComment::new().with(Section::Preview, preview("https://pr-1.example.com"));
    let outcome = w.sync(&first).await;
    assert_eq!((outcome.created, outcome.updated), (1, 0));
    let posted = w.sticky();
    assert_eq!(posted.len(), 1);
    assert!(
        posted[0]
            .body
            .starts_with("<!-- gitferry:sticky pr=1 part=0 -->\n")
    );
    assert_eq!(outcome.first_part.map(|id| id.0), Some(posted[0].id));

    let second = first
        .clone()
        .with(Section::Tests, "### Tests\n\n128 passed");
    let outcome = w.sync(&second).await;
    assert_eq!((outcome.created, outcome.updated), (0, 1));
    let edited = w.sticky();
    assert_eq!(edited.len(), 1);
    assert_eq!(edited[0].id, posted[0].id, "edited in place");
    assert!(edited[0].body.contains("128 passed"));

    let before = w.comment_writes();
    let replay = w.sync(&second).await;
    assert_eq!(replay.writes(), 0);
    assert_eq!(w.comment_writes(), before, "a replay sends no write at all");
    assert_eq!(w.sticky()[0].body, edited[0].body);
}

#[tokio::test]
async fn a_huge_comment_is_split_into_three_and_joined_back_when_it_shrinks() {
    let w = world().await;
    let huge = StickyComment::new()
        .with(Section::Preview, preview("https://pr-1.example.com"))
        .with(Section::Tests, test_log(150_000));

    let outcome = w.sync(&huge).await;
    assert_eq!(outcome.created, 3);
    let parts = w.sticky();
    assert_eq!(parts.len(), 3);
    for (i, part) in parts.iter().enumerate() {
        assert!(part.body.chars().count() <= COMMENT_LIMIT);
        assert!(
            part.body
                .starts_with(&format!("<!-- gitferry:sticky pr=1 part={i}")),
            "part {i} starts with its marker"
        );
        assert!(fences_balanced(&part.body), "part {i} is balanced");
    }
    let bodies: Vec<&str> = parts.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(
        StickyComment::parse(&bodies),
        huge,
        "the parts read back whole"
    );
    assert_eq!(
        w.sync(&huge).await.writes(),
        0,
        "a replay of a split comment"
    );

    let small = huge.clone().with(Section::Tests, test_log(2_000));
    let outcome = w.sync(&small).await;
    assert_eq!((outcome.updated, outcome.deleted), (1, 2));
    let joined = w.sticky();
    assert_eq!(joined.len(), 1);
    assert_eq!(
        joined[0].id, parts[0].id,
        "the first part stays, the others go"
    );
    assert_eq!(StickyComment::parse(&[joined[0].body.as_str()]), small);
}

#[tokio::test]
async fn a_person_quoting_the_marker_keeps_their_comment() {
    let w = world().await;
    let comment = StickyComment::new().with(Section::Drift, "No drift.");
    w.sync(&comment).await;
    let quoted = w.sticky()[0].body.clone();
    let theirs = w.repo.add_comment(w.pr, "mallory", &quoted);

    let changed = comment.clone().with(Section::Drift, "staging drifted");
    w.sync(&changed).await;

    let mine = w
        .repo
        .comments(w.pr)
        .into_iter()
        .find(|c| c.id == theirs)
        .expect("their comment is still there");
    assert_eq!(mine.body, quoted, "their comment is untouched");
    assert_eq!(w.sticky().len(), 1);
    assert!(w.sticky()[0].body.contains("staging drifted"));
}

#[tokio::test]
async fn each_feature_updates_its_own_section_and_keeps_the_others() {
    let w = world().await;
    w.update(Section::Tests, "### Tests\n\n2 failed").await;
    w.update(Section::Preview, &preview("https://pr-1.example.com"))
        .await;
    w.update(Section::Tests, "### Tests\n\nall passed").await;

    let sticky = w.sticky();
    assert_eq!(sticky.len(), 1);
    let comment = StickyComment::parse(&[sticky[0].body.as_str()]);
    assert_eq!(
        comment.get(Section::Preview),
        Some(preview("https://pr-1.example.com").as_str())
    );
    assert_eq!(comment.get(Section::Tests), Some("### Tests\n\nall passed"));
    assert!(
        sticky[0].body.find("Preview") < sticky[0].body.find("Tests"),
        "sections keep their order"
    );

    let replay = w.update(Section::Tests, "### Tests\n\nall passed").await;
    assert_eq!(replay.writes(), 0);
}

fn unit_tests(w: &World, failures: usize) -> CheckRunSpec {
    let annotations = (1..=failures)
        .map(|i| {
            Annotation::new(
                "tests/checkout.rs",
                i as u32,
                AnnotationLevel::Failure,
                &format!("case {i}: expected 100, got 90"),
            )
        })
        .collect();
    CheckRunSpec {
        annotations,
        ..CheckRunSpec::new(
            "gitferry/unit",
            &w.head_sha,
            "pr-1/unit",
            CheckStatus::Completed(Conclusion::Failure),
            &format!("{failures} tests failed"),
            "See the annotations.",
        )
    }
}

#[tokio::test]
async fn a_check_run_gets_its_120_annotations_in_three_requests_and_only_once() {
    let w = world().await;
    let spec = unit_tests(&w, 120);

    let id = upsert_check_run(&w.gh, REPO, &spec)
        .await
        .expect("create the run");
    assert_eq!(w.check_run_writes(), (1, 2), "1 POST and 2 PATCHes");
    let run = w
        .repo
        .check_run(&w.head_sha, "gitferry/unit")
        .expect("the run");
    assert_eq!(run.id, id.0);
    assert_eq!(run.output.annotations.len(), 120);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(run.external_id.as_deref(), Some("pr-1/unit"));

    let again = upsert_check_run(&w.gh, REPO, &spec).await.expect("replay");
    assert_eq!(again, id, "the same run");
    assert_eq!(w.repo.check_runs().len(), 1, "no duplicate run");
    let run = w
        .repo
        .check_run(&w.head_sha, "gitferry/unit")
        .expect("the run");
    assert_eq!(
        run.output.annotations.len(),
        120,
        "no annotation sent twice"
    );
    assert_eq!(
        w.check_run_writes(),
        (1, 3),
        "the replay is one PATCH, without annotations"
    );
}

#[tokio::test]
async fn a_run_in_progress_is_completed_in_place_with_its_annotations() {
    let w = world().await;
    let started = CheckRunSpec::new(
        "gitferry/unit",
        &w.head_sha,
        "pr-1/unit",
        CheckStatus::InProgress,
        "Running",
        "",
    );
    let id = upsert_check_run(&w.gh, REPO, &started)
        .await
        .expect("start");
    let done = upsert_check_run(&w.gh, REPO, &unit_tests(&w, 60))
        .await
        .expect("finish");
    assert_eq!(done, id);
    let run = w.repo.check_run(&w.head_sha, "gitferry/unit").expect("run");
    assert_eq!(run.status, "completed");
    assert_eq!(run.output.annotations.len(), 60);
    assert_eq!(w.repo.check_runs().len(), 1);
}

#[tokio::test]
async fn a_replayed_earlier_attempt_updates_its_own_run() {
    let w = world().await;
    let first = unit_tests(&w, 3);
    let second = CheckRunSpec {
        external_id: "pr-1/unit/attempt-2".into(),
        ..unit_tests(&w, 1)
    };
    let first_id = upsert_check_run(&w.gh, REPO, &first).await.expect("first");
    let second_id = upsert_check_run(&w.gh, REPO, &second)
        .await
        .expect("second");
    assert_ne!(first_id, second_id, "a new attempt is a new run");

    let replayed = upsert_check_run(&w.gh, REPO, &first)
        .await
        .expect("replay of the first");
    assert_eq!(replayed, first_id);
    assert_eq!(w.repo.check_runs().len(), 2, "no third run");
}
