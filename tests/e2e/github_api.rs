//! gitferry's typed GitHub calls (`github::api`) through a real `InstallationClient` against the
//! fake GitHub: refs really move, merges really make merge commits or answer 204/409, compare
//! and commits read the fake's git model, statuses are stored, reviews carry the commit they
//! saw. Every typed outcome (conflict, nothing to merge, ref exists, not a fast-forward, head
//! changed) is provoked for real, and branch names with `/` and odd characters stay one ref.

use gitferry::github::api::{
    BranchCreation, BranchMerge, CombinedState, CompareStatus, FastForward, FileStatus,
    MergeMethod, NewCommit, NewStatus, PullMerge, PullMergeOutcome, ReviewState, StatusState,
};
use gitferry::github::events::{MergeGroupAction, MergeGroupEvent, QueuedPull};
use gitferry::github::{
    AppCredentials, Client, ClientConfig, GithubError, InstallationClient, InstallationId,
};
use gitferry::metrics::Metrics;
use serde_json::json;

use crate::support::fake_github::{FakeGitHub, PrSpec, RepoHandle, Tree};

const REPO: &str = "acme/shop";

/// `acme/shop` with one commit on `main`, and the App's client for its installation.
struct World {
    fake: FakeGitHub,
    installation: u64,
    repo: RepoHandle,
    gh: InstallationClient,
    main: String,
}

async fn world() -> World {
    world_with(|config| config).await
}

async fn world_with(config: impl FnOnce(ClientConfig) -> ClientConfig) -> World {
    let fake = FakeGitHub::start().await;
    let installation = fake.add_installation("acme");
    let repo = fake.add_repo(installation, REPO);
    let main = repo.commit_files("main", &[("README.md", "# shop\n")], "init");
    let credentials =
        AppCredentials::from_pem(fake.app_id(), fake.private_key_pem()).expect("the fake's key");
    let client = Client::new(
        config(ClientConfig::new(&fake.url())),
        Some(credentials),
        Metrics::new(),
    )
    .expect("client");
    let gh = client.installation(InstallationId(installation));
    World {
        fake,
        installation,
        repo,
        gh,
        main,
    }
}

async fn set_status(gh: &InstallationClient, sha: &str, state: StatusState, context: &str) {
    let status = NewStatus {
        state,
        context,
        description: None,
        target_url: None,
    };
    gh.create_status(REPO, sha, &status).await.expect("status");
}

fn status_of(result: Result<impl std::fmt::Debug, GithubError>) -> Option<u16> {
    match result {
        Err(e) => e.status(),
        Ok(value) => panic!("expected GitHub to refuse, got {value:?}"),
    }
}

#[tokio::test]
async fn branch_refs_are_read_created_and_deleted_and_a_second_create_is_already_exists() {
    let w = world().await;
    let main = w.gh.branch_ref(REPO, "main").await.expect("read main");
    let main = main.expect("main exists");
    assert_eq!(
        (main.name.as_str(), main.sha.as_str()),
        ("refs/heads/main", w.main.as_str())
    );
    assert_eq!(w.gh.branch_ref(REPO, "nope").await.expect("read"), None);

    let created = w.gh.create_branch(REPO, "release/next", &w.main).await;
    match created.expect("create").expect("not a dry run") {
        BranchCreation::Created(r) => {
            assert_eq!(
                (r.name.as_str(), r.sha.as_str()),
                ("refs/heads/release/next", w.main.as_str())
            )
        }
        other => panic!("expected a new branch, got {other:?}"),
    }
    assert_eq!(w.repo.branch_sha("release/next"), Some(w.main.clone()));

    let moved = w
        .repo
        .commit_files("release/next", &[("a", "1")], "moved on");
    let again = w.gh.create_branch(REPO, "release/next", &w.main).await;
    assert_eq!(
        again.expect("an answer, not an error"),
        Some(BranchCreation::AlreadyExists)
    );
    assert_eq!(
        w.repo.branch_sha("release/next"),
        Some(moved),
        "an existing branch is left alone"
    );

    // Other 422s stay errors: an unknown object, a name git refuses.
    let missing = "0123456789012345678901234567890123456789";
    assert_eq!(
        status_of(w.gh.create_branch(REPO, "x", missing).await),
        Some(422)
    );
    assert_eq!(
        status_of(w.gh.create_branch(REPO, "bad name", &w.main).await),
        Some(422)
    );
    assert_eq!(w.repo.branches(), ["main", "release/next"]);

    w.gh.delete_branch(REPO, "release/next")
        .await
        .expect("delete");
    assert_eq!(w.repo.branch_sha("release/next"), None);
    w.gh.delete_branch(REPO, "release/next")
        .await
        .expect("deleting a branch that is gone is done");
    let deletes = w
        .fake
        .requests_to("DELETE", "/repos/acme/shop/git/refs/heads/release/next");
    let statuses: Vec<u16> = deletes.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [204, 422],
        "GitHub said 'does not exist' the second time"
    );
    assert_eq!(w.repo.branches(), ["main"]);
}

#[tokio::test]
async fn fast_forwards_only_move_forward_and_forced_updates_move_anywhere() {
    let w = world().await;
    w.repo.create_branch("production", "main");
    let staged = w.repo.commit_files("staging", &[("app.yml", "v2")], "v2");

    let promoted = w.gh.fast_forward_branch(REPO, "production", &staged).await;
    match promoted.expect("fast-forward").expect("not a dry run") {
        FastForward::Moved(r) => assert_eq!(r.sha, staged),
        other => panic!("expected a move, got {other:?}"),
    }
    assert_eq!(w.repo.branch_sha("production"), Some(staged.clone()));

    let back = w.gh.fast_forward_branch(REPO, "production", &w.main).await;
    assert_eq!(back.expect("an answer"), Some(FastForward::NotFastForward));
    assert_eq!(
        w.repo.branch_sha("production"),
        Some(staged.clone()),
        "refused, so not moved"
    );
    let patch = w
        .fake
        .requests_to("PATCH", "/repos/acme/shop/git/refs/heads/production");
    assert_eq!(patch.last().map(|r| r.status), Some(422));
    assert_eq!(
        patch
            .last()
            .and_then(|r| r.json())
            .map(|b| b["force"].clone()),
        Some(json!(false))
    );

    let rolled_back = w.gh.force_branch(REPO, "production", &w.main).await;
    let rolled_back = rolled_back.expect("forced").expect("not a dry run");
    assert_eq!(rolled_back.sha, w.main);
    assert_eq!(w.repo.branch_sha("production"), Some(w.main.clone()));

    // A side commit that does not contain production's head: only force gets there.
    let side = w.repo.commit_files("side", &[("other", "x")], "side");
    w.repo.force_push("production", &staged);
    let diverged = w.gh.fast_forward_branch(REPO, "production", &side).await;
    assert_eq!(diverged.expect("answer"), Some(FastForward::NotFastForward));
    w.gh.force_branch(REPO, "production", &side)
        .await
        .expect("forced");
    assert_eq!(w.repo.branch_sha("production"), Some(side.clone()));

    // A missing branch is not "not a fast forward": GitHub says it does not exist (422).
    assert_eq!(
        status_of(w.gh.fast_forward_branch(REPO, "nope", &side).await),
        Some(422)
    );
    assert_eq!(w.repo.branch_sha("nope"), None);
}

#[tokio::test]
async fn merging_branches_makes_a_merge_commit_or_says_nothing_to_merge_or_conflict() {
    let w = world().await;
    w.repo.create_branch("production", "main");
    let staged = w.repo.commit_files("staging", &[("app.yml", "v2")], "v2");

    let merged =
        w.gh.merge_branches(REPO, "production", "staging", "Promote staging")
            .await;
    let commit = match merged.expect("merge").expect("not a dry run") {
        BranchMerge::Merged(commit) => commit,
        other => panic!("expected a merge commit, got {other:?}"),
    };
    assert_eq!(commit.parents, [w.main.clone(), staged.clone()]);
    assert_eq!(commit.message, "Promote staging");
    assert_eq!(w.repo.branch_sha("production"), Some(commit.sha.clone()));
    assert_eq!(w.repo.file("production", "app.yml").as_deref(), Some("v2"));
    let in_model = w
        .repo
        .commit(&commit.sha)
        .expect("the merge commit is in the model");
    assert_eq!(in_model.tree_sha, commit.tree_sha);

    let again =
        w.gh.merge_branches(REPO, "production", &staged, "Promote staging")
            .await;
    assert_eq!(again.expect("answer"), Some(BranchMerge::NothingToMerge));
    assert_eq!(w.repo.branch_sha("production"), Some(commit.sha.clone()));

    w.repo.commit_files("staging", &[("app.yml", "v3")], "v3");
    w.repo
        .commit_files("production", &[("app.yml", "hotfix")], "hotfix");
    let before = w.repo.branch_sha("production");
    let conflict =
        w.gh.merge_branches(REPO, "production", "staging", "Promote staging")
            .await;
    match conflict.expect("answer").expect("not a dry run") {
        BranchMerge::Conflict { message } => {
            assert!(message.contains("Merge conflict"), "{message}")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        w.repo.branch_sha("production"),
        before,
        "the base was not touched"
    );

    let missing = w.gh.merge_branches(REPO, "production", "nope", "x").await;
    assert_eq!(status_of(missing), Some(404));
}

#[tokio::test]
async fn a_pull_request_merges_only_at_the_sha_that_was_checked() {
    let w = world().await;
    let checked = w.repo.commit_files("feature", &[("f.txt", "1")], "one");
    let pr = w
        .repo
        .open_pr(PrSpec::new("feature", "main").title("Feature"));
    let pushed = w.repo.commit_files("feature", &[("f.txt", "2")], "two");

    let stale =
        w.gh.merge_pull(REPO, pr, &PullMerge::new(&checked, MergeMethod::Merge))
            .await;
    match stale.expect("answer").expect("not a dry run") {
        PullMergeOutcome::HeadChanged { message } => {
            assert!(message.contains("Head branch was modified"), "{message}")
        }
        other => panic!("expected 409, got {other:?}"),
    }
    assert!(!w.repo.pull(pr).merged);

    w.repo.set_mergeable(pr, Some(false));
    let refused =
        w.gh.merge_pull(REPO, pr, &PullMerge::new(&pushed, MergeMethod::Merge))
            .await;
    assert!(
        matches!(
            refused.expect("answer"),
            Some(PullMergeOutcome::NotMergeable { .. })
        ),
        "405"
    );
    w.repo.clear_mergeable(pr);

    let merge = PullMerge {
        commit_title: Some("Feature (#1)"),
        ..PullMerge::new(&pushed, MergeMethod::Squash)
    };
    let merged = w.gh.merge_pull(REPO, pr, &merge).await;
    let sha = match merged.expect("merge").expect("not a dry run") {
        PullMergeOutcome::Merged { sha } => sha,
        other => panic!("expected a merge, got {other:?}"),
    };
    assert_eq!(w.repo.branch_sha("main"), Some(sha.clone()));
    let pull = w.repo.pull(pr);
    assert!(pull.merged);
    assert_eq!(pull.merge_commit_sha, Some(sha.clone()));
    let squashed = w.repo.commit(&sha).expect("commit");
    assert_eq!(
        squashed.parents,
        [w.main.as_str()],
        "a squash has one parent"
    );
    assert!(squashed.message.starts_with("Feature (#1)"));

    let closed =
        w.gh.merge_pull(REPO, pr, &PullMerge::new(&pushed, MergeMethod::Merge))
            .await;
    assert!(matches!(
        closed.expect("answer"),
        Some(PullMergeOutcome::NotMergeable { .. })
    ));
}

#[tokio::test]
async fn compare_reports_ahead_behind_identical_and_diverged_from_the_model() {
    let w = world().await;
    let first = w.repo.commit_files("feature/x", &[("a.txt", "a")], "add a");
    let second = w
        .repo
        .commit_files("feature/x", &[("README.md", "# shop 2\n")], "readme");

    let c =
        w.gh.compare(REPO, "main", "feature/x")
            .await
            .expect("compare");
    assert_eq!(c.status, CompareStatus::Ahead);
    assert_eq!((c.ahead_by, c.behind_by, c.total_commits), (2, 0, 2));
    assert_eq!(c.merge_base_sha, w.main);
    let commits: Vec<(&str, &str)> = c
        .commits
        .iter()
        .map(|c| (c.sha.as_str(), c.message.as_str()))
        .collect();
    assert_eq!(
        commits,
        [(first.as_str(), "add a"), (second.as_str(), "readme")]
    );
    let files: Vec<(&str, FileStatus)> = c
        .files
        .iter()
        .map(|f| (f.filename.as_str(), f.status))
        .collect();
    assert_eq!(
        files,
        [
            ("README.md", FileStatus::Modified),
            ("a.txt", FileStatus::Added)
        ]
    );
    assert!(!c.is_truncated());

    let c =
        w.gh.compare(REPO, "feature/x", "main")
            .await
            .expect("compare");
    assert_eq!(
        (c.status, c.ahead_by, c.behind_by),
        (CompareStatus::Behind, 0, 2)
    );
    let c = w.gh.compare(REPO, "main", &w.main).await.expect("compare");
    assert_eq!(
        (c.status, c.ahead_by, c.behind_by),
        (CompareStatus::Identical, 0, 0)
    );

    w.repo.delete_files("main", &["README.md"], "drop readme");
    let c =
        w.gh.compare(REPO, "main", "feature/x")
            .await
            .expect("compare");
    assert_eq!(
        (c.status, c.ahead_by, c.behind_by),
        (CompareStatus::Diverged, 2, 1)
    );
    assert_eq!(c.merge_base_sha, w.main);

    // Unrelated histories have no merge base: GitHub answers 404.
    {
        let mut m = w.fake.model();
        let orphan = m.make_commit(Tree::new(), vec![], "orphan", "acme");
        m.set_ref(w.repo.key(), "refs/heads/orphan", &orphan);
    }
    assert_eq!(
        status_of(w.gh.compare(REPO, "main", "orphan").await),
        Some(404)
    );
}

#[tokio::test]
async fn commits_read_the_model_and_a_merge_commit_can_be_built_and_landed() {
    let w = world().await;
    let c = w.gh.commit(REPO, "main").await.expect("commit");
    assert_eq!(
        (c.sha.as_str(), c.message.as_str()),
        (w.main.as_str(), "init")
    );
    assert!(c.parents.is_empty());
    let author = c.author.as_ref().expect("git author");
    assert_eq!(author.name, "acme");
    assert!(author.date.is_some());
    assert_eq!(c.author_login.as_deref(), Some("acme"));

    let feature = w.repo.commit_files("feature", &[("f.txt", "1")], "feature");
    let c = w.gh.commit(REPO, &feature).await.expect("commit by sha");
    assert_eq!(c.parents, [w.main.as_str()]);
    assert_eq!(
        status_of(
            w.gh.commit(REPO, "0123456789abcdef0123456789abcdef01234567")
                .await
        ),
        Some(422)
    );

    // bors-style: the tested merge commit is an object first, and lands by fast-forward.
    let main_head = w.repo.commit_files("main", &[("m.txt", "m")], "main moves");
    let git = w.gh.git_commit(REPO, &feature).await.expect("git commit");
    assert_eq!(
        git.tree_sha,
        w.repo.commit(&feature).expect("model").tree_sha
    );
    assert_eq!(git.parents, [w.main.as_str()]);
    let staged =
        w.gh.merge_branches(REPO, "main", &feature, "test merge")
            .await
            .expect("merge");
    let Some(BranchMerge::Merged(merged)) = staged else {
        panic!("expected a merge commit, got {staged:?}");
    };
    w.gh.force_branch(REPO, "main", &main_head)
        .await
        .expect("reset main");
    let parents = [main_head.as_str(), feature.as_str()];
    let made =
        w.gh.create_commit(
            REPO,
            &NewCommit {
                message: "Merge #1: feature",
                tree: &merged.tree_sha,
                parents: &parents,
            },
        )
        .await
        .expect("create commit")
        .expect("not a dry run");
    assert_eq!(made.parents, parents);
    assert_eq!(made.tree_sha, merged.tree_sha);
    assert_eq!(made.message, "Merge #1: feature");
    let in_model = w.repo.commit(&made.sha).expect("stored in the model");
    assert_eq!(in_model.parents, parents);
    assert_eq!(
        w.repo.branch_sha("main"),
        Some(main_head),
        "on no branch yet"
    );
    let landed = w.gh.fast_forward_branch(REPO, "main", &made.sha).await;
    assert!(matches!(landed.expect("land"), Some(FastForward::Moved(_))));
    assert_eq!(w.repo.file("main", "f.txt").as_deref(), Some("1"));
    assert_eq!(w.repo.file("main", "m.txt").as_deref(), Some("m"));
}

#[tokio::test]
async fn reviews_carry_the_commit_the_reviewer_saw_over_all_pages() {
    let w = world().await;
    let seen = w.repo.commit_files("feature", &[("f.txt", "1")], "one");
    let pr = w.repo.open_pr(PrSpec::new("feature", "main"));
    w.repo.add_review(pr, "alice", "APPROVED");
    let head = w.repo.commit_files("feature", &[("f.txt", "2")], "two");
    w.repo.add_review(pr, "bob", "APPROVED");
    w.repo.add_review(pr, "carol", "CHANGES_REQUESTED");
    w.repo.add_review_of(pr, "dave", "APPROVED", &seen);

    let reviews = w.gh.pull_reviews(REPO, pr).await.expect("reviews");
    let seen_by: Vec<(Option<&str>, ReviewState, Option<&str>)> = reviews
        .iter()
        .map(|r| (r.user.as_deref(), r.state, r.commit_id.as_deref()))
        .collect();
    assert_eq!(
        seen_by,
        [
            (Some("alice"), ReviewState::Approved, Some(seen.as_str())),
            (Some("bob"), ReviewState::Approved, Some(head.as_str())),
            (
                Some("carol"),
                ReviewState::ChangesRequested,
                Some(head.as_str())
            ),
            (Some("dave"), ReviewState::Approved, Some(seen.as_str())),
        ]
    );
    let approvers: Vec<&str> = reviews
        .iter()
        .filter(|r| r.approves(&head))
        .filter_map(|r| r.user.as_deref())
        .collect();
    assert_eq!(
        approvers,
        ["bob"],
        "approvals of an older head do not count"
    );
    assert!(reviews.iter().all(|r| r.submitted_at.is_some()));

    for n in 0..120 {
        w.repo.add_review(pr, &format!("user{n}"), "COMMENTED");
    }
    w.fake.clear_requests();
    let all = w.gh.pull_reviews(REPO, pr).await.expect("reviews");
    assert_eq!(all.len(), 124);
    assert_eq!(
        w.fake
            .count("GET", &format!("/repos/acme/shop/pulls/{pr}/reviews")),
        2,
        "two pages of 100"
    );
    assert_eq!(status_of(w.gh.pull_reviews(REPO, 999).await), Some(404));
}

#[tokio::test]
async fn statuses_are_stored_and_combined_per_context() {
    let w = world().await;
    let sha = w.main.clone();
    let none = w.gh.combined_status(REPO, &sha).await.expect("combined");
    assert_eq!((none.state, none.total_count), (CombinedState::Pending, 0));

    let long = "x".repeat(200);
    let status = NewStatus {
        state: StatusState::Success,
        context: "gitferry/queue",
        description: Some(&long),
        target_url: Some("https://gitferry.example.com/runs/1"),
    };
    let stored =
        w.gh.create_status(REPO, &sha, &status)
            .await
            .expect("create a status")
            .expect("not a dry run");
    assert_eq!(stored.state, StatusState::Success);
    assert_eq!(stored.context, "gitferry/queue");
    assert_eq!(
        stored.description.as_deref().map(|d| d.chars().count()),
        Some(140)
    );
    let in_model = w.repo.statuses(&sha);
    assert_eq!(in_model.len(), 1);
    assert_eq!(in_model[0].creator, w.fake.bot_login());
    assert_eq!(
        in_model[0].target_url.as_deref(),
        Some("https://gitferry.example.com/runs/1")
    );

    let set = |state, context| set_status(&w.gh, &sha, state, context);
    set(StatusState::Pending, "ci/test").await;
    let combined = w.gh.combined_status(REPO, "main").await.expect("combined");
    assert_eq!(
        (combined.state, combined.total_count),
        (CombinedState::Pending, 2)
    );
    assert_eq!(combined.sha, sha);
    set(StatusState::Failure, "ci/test").await;
    let combined = w.gh.combined_status(REPO, &sha).await.expect("combined");
    assert_eq!(combined.state, CombinedState::Failure);
    set(StatusState::Success, "ci/test").await;
    let combined = w.gh.combined_status(REPO, &sha).await.expect("combined");
    assert_eq!(
        (combined.state, combined.total_count),
        (CombinedState::Success, 2)
    );
    let contexts: Vec<(&str, StatusState)> = combined
        .statuses
        .iter()
        .map(|s| (s.context.as_str(), s.state))
        .collect();
    assert_eq!(
        contexts,
        [
            ("ci/test", StatusState::Success),
            ("gitferry/queue", StatusState::Success)
        ],
        "the latest per context"
    );
    assert_eq!(w.repo.statuses(&sha).len(), 4, "every status is kept");

    let unknown = "0123456789abcdef0123456789abcdef01234567";
    assert_eq!(
        status_of(w.gh.create_status(REPO, unknown, &status).await),
        Some(422)
    );
}

#[tokio::test]
async fn team_members_are_listed_and_an_unknown_team_is_not_found() {
    let w = world().await;
    w.fake
        .add_team_member("acme", "release", "bob", "maintainer");
    w.fake.add_team_member("acme", "release", "Alice", "member");
    w.fake.add_team_member("acme", "other", "carol", "member");
    let members = w.gh.team_members("acme", "release").await.expect("members");
    let logins: Vec<&str> = members.iter().map(|m| m.login.as_str()).collect();
    assert_eq!(logins, ["alice", "bob"]);
    assert!(members.iter().all(|m| m.id > 0));
    let missing = w.gh.team_members("acme", "nope").await;
    assert!(
        matches!(missing, Err(ref e) if e.is_not_found()),
        "{missing:?}"
    );
}

#[tokio::test]
async fn branch_names_with_slashes_and_odd_characters_stay_one_ref() {
    let w = world().await;
    let odd = "team/ünï+fix#1%2F&x=y";
    // Were `#` or `?` sent raw, these would read or delete `hotfix` itself.
    w.repo.create_branch("hotfix", "main");
    assert_eq!(w.gh.branch_ref(REPO, "hotfix#2").await.expect("read"), None);
    assert_eq!(
        w.gh.branch_ref(REPO, "hotfix?x=1").await.expect("read"),
        None
    );
    w.gh.delete_branch(REPO, "hotfix#2").await.expect("delete");
    assert_eq!(w.repo.branch_sha("hotfix"), Some(w.main.clone()));

    let created =
        w.gh.create_branch(REPO, odd, &w.main)
            .await
            .expect("create");
    match created.expect("not a dry run") {
        BranchCreation::Created(r) => assert_eq!(r.name, format!("refs/heads/{odd}")),
        other => panic!("expected a new branch, got {other:?}"),
    }
    assert_eq!(w.repo.branches(), ["hotfix", "main", odd]);
    let read =
        w.gh.branch_ref(REPO, odd)
            .await
            .expect("read")
            .expect("exists");
    assert_eq!(read.sha, w.main);
    let next = w.repo.commit_files(odd, &[("n", "1")], "next");
    let ff =
        w.gh.fast_forward_branch(REPO, odd, &next)
            .await
            .expect("ff");
    assert!(matches!(ff, Some(FastForward::Moved(ref r)) if r.sha == next));
    let c = w.gh.compare(REPO, "main", odd).await.expect("compare");
    assert_eq!((c.status, c.ahead_by), (CompareStatus::Ahead, 1));
    assert_eq!(w.gh.commit(REPO, odd).await.expect("commit").sha, next);
    let combined = w.gh.combined_status(REPO, odd).await.expect("combined");
    assert_eq!(combined.sha, next);

    let encoded = "team/%C3%BCn%C3%AF%2Bfix%231%252F%26x%3Dy";
    let sent: Vec<String> = w
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("team/"))
        .map(|r| {
            assert_eq!(
                r.query.as_deref().filter(|q| !q.starts_with("per_page")),
                None
            );
            r.path
        })
        .collect();
    assert_eq!(
        sent,
        [
            format!("/repos/acme/shop/git/ref/heads/{encoded}"),
            format!("/repos/acme/shop/git/refs/heads/{encoded}"),
            format!("/repos/acme/shop/compare/main...{encoded}"),
            format!("/repos/acme/shop/commits/{encoded}"),
            format!("/repos/acme/shop/commits/{encoded}/status"),
        ]
    );

    w.gh.delete_branch(REPO, odd).await.expect("delete");
    assert_eq!(w.repo.branches(), ["hotfix", "main"]);

    // A name git would refuse anyway cannot walk to another endpoint: it is not sent.
    w.fake.clear_requests();
    let walk = w.gh.branch_ref(REPO, "../../../user").await;
    assert!(
        matches!(walk, Err(GithubError::InvalidRequest(_))),
        "{walk:?}"
    );
    assert_eq!(w.fake.count("GET", "/"), 0);
}

#[tokio::test]
async fn in_dry_run_writes_are_shown_not_sent_and_answer_none() {
    let w = world_with(|config| ClientConfig {
        dry_run: true,
        ..config
    })
    .await;
    let feature = w.repo.commit_files("feature", &[("f.txt", "1")], "feature");
    let pr = w.repo.open_pr(PrSpec::new("feature", "main"));
    let tree = w.repo.commit(&feature).expect("commit").tree_sha;
    let status = NewStatus {
        state: StatusState::Success,
        context: "c",
        description: None,
        target_url: None,
    };
    let parents = [feature.as_str()];
    let commit = NewCommit {
        message: "m",
        tree: &tree,
        parents: &parents,
    };
    let gh = &w.gh;
    assert_eq!(
        gh.create_branch(REPO, "b", &feature).await.expect("dry"),
        None
    );
    assert_eq!(
        gh.fast_forward_branch(REPO, "main", &feature)
            .await
            .expect("dry"),
        None
    );
    assert_eq!(
        gh.force_branch(REPO, "main", &feature).await.expect("dry"),
        None
    );
    gh.delete_branch(REPO, "feature").await.expect("dry");
    assert_eq!(
        gh.merge_branches(REPO, "main", "feature", "m")
            .await
            .expect("dry"),
        None
    );
    let merge = PullMerge::new(&feature, MergeMethod::Merge);
    assert_eq!(gh.merge_pull(REPO, pr, &merge).await.expect("dry"), None);
    assert_eq!(
        gh.create_status(REPO, &feature, &status)
            .await
            .expect("dry"),
        None
    );
    assert_eq!(gh.create_commit(REPO, &commit).await.expect("dry"), None);

    let writes = w
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET" && !r.path.ends_with("/access_tokens"))
        .count();
    assert_eq!(writes, 0, "GitHub was not asked");
    assert_eq!(gh.client().dry_run_log().len(), 8);
    assert_eq!(w.repo.branches(), ["feature", "main"]);
    assert_eq!(w.repo.branch_sha("main"), Some(w.main.clone()));
    assert!(w.repo.statuses(&feature).is_empty());
    // Reads still go to GitHub.
    assert_eq!(gh.commit(REPO, "main").await.expect("read").sha, w.main);
}

#[tokio::test]
async fn a_merge_group_decodes_into_the_typed_payload_and_its_commit_is_the_queues() {
    let w = world().await;
    let head = w.repo.commit_files("feature", &[("f.txt", "1")], "feature");
    w.repo.commit_files("main", &[("m.txt", "m")], "main moves");
    let pr = w
        .repo
        .open_pr(PrSpec::new("feature", "main").author("alice"));
    let group = w.repo.queue_pull(pr);
    let payload = json!({
        "action": "checks_requested",
        "merge_group": group,
        "repository": w.repo.repo_json(),
        "installation": { "id": w.installation },
        "sender": w.repo.user_json("alice"),
    });
    let event: MergeGroupEvent = serde_json::from_value(payload).expect("typed payload");
    assert_eq!(event.action, MergeGroupAction::ChecksRequested);
    assert_eq!(event.installation.map(|i| i.id), Some(w.installation));
    let group = event.merge_group;
    assert_eq!(
        group.queued_pull(),
        Some(QueuedPull {
            number: pr,
            head_sha: head.clone()
        })
    );
    assert_eq!(group.base_branch(), "main");
    let base_sha = w.repo.branch_sha("main").expect("main");
    assert_eq!(group.base_sha, base_sha);

    // The group's branch and commit, through the typed calls a queue uses.
    let queue_ref =
        w.gh.branch_ref(REPO, group.head_branch())
            .await
            .expect("read")
            .expect("the queue branch exists");
    assert_eq!(queue_ref.sha, group.head_sha);
    let commit = w.gh.commit(REPO, &group.head_sha).await.expect("commit");
    assert_eq!(commit.parents, [base_sha.clone(), head.clone()]);
    assert_eq!(commit.tree_sha, group.head_commit.tree_id);
    assert!(
        commit
            .message
            .starts_with(&format!("Merge pull request #{pr} from acme/feature"))
    );
    let c =
        w.gh.compare(REPO, group.base_branch(), &group.head_sha)
            .await
            .expect("compare");
    assert_eq!((c.status, c.ahead_by), (CompareStatus::Ahead, 2));

    let status = NewStatus {
        state: StatusState::Success,
        context: "gitferry/queue",
        description: Some("tested"),
        target_url: None,
    };
    w.gh.create_status(REPO, &group.head_sha, &status)
        .await
        .expect("status");
    let combined =
        w.gh.combined_status(REPO, &group.head_sha)
            .await
            .expect("combined");
    assert_eq!(combined.state, CombinedState::Success);
    let landed =
        w.gh.fast_forward_branch(REPO, "main", &group.head_sha)
            .await;
    assert!(matches!(landed.expect("land"), Some(FastForward::Moved(_))));
    w.gh.delete_branch(REPO, group.head_branch())
        .await
        .expect("delete");
    assert_eq!(w.repo.branches(), ["feature", "main"]);
}
