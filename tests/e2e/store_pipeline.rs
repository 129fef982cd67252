//! The pipeline step runs on every configured dialect: attempts count up, a repository never
//! runs more steps at once than its concurrency, a newer head cancels the older one's runs,
//! after-deploy steps wait for their preview, and the base to compare with is the newest
//! finished branch run.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use gitferry::runs::token_hash;
use gitferry::store::Store;
use gitferry::store::pipeline::{NewStep, StepConclusion, StepOutcome, StepState};

use crate::support::db::TestDb;
use crate::support::fake_github::FakeGitHub;
use crate::support::gitferry::Gitferry;

const REPO: &str = "octocat/shop";
const HOUR: i64 = 3_600_000;

async fn open(db: &TestDb) -> Store {
    let store = Store::connect(&db.url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

/// A due run of `step` for PR `pr` (0: a push to `main`) on `sha`.
fn step<'a>(id: &'a str, pr: i64, sha: &'a str, step: &'a str) -> NewStep<'a> {
    NewStep {
        id,
        token_hash: "00",
        repository: REPO,
        pr,
        installation_id: 1,
        sha,
        branch: if pr == 0 { "main" } else { "feature" },
        base_ref: if pr == 0 { "" } else { "main" },
        default_branch: "main",
        step,
        after_deploy: false,
        concurrency: 2,
        actor: Some("octocat"),
        state: StepState::Due,
        preview_url: None,
        conclusion: None,
        reason: None,
    }
}

/// An after-deploy run, waiting for the preview.
fn after_deploy<'a>(id: &'a str, pr: i64, sha: &'a str, name: &'a str) -> NewStep<'a> {
    NewStep {
        after_deploy: true,
        state: StepState::Waiting,
        ..step(id, pr, sha, name)
    }
}

fn outcome(conclusion: StepConclusion) -> StepOutcome<'static> {
    StepOutcome {
        conclusion,
        reason: None,
        summary: Some("{\"passed\":3}"),
        failed_tests: None,
        log: "ran\n",
    }
}

async fn queue(store: &Store, steps: &[NewStep<'_>], now: i64) {
    store.queue_pipeline_steps(steps, now).await.expect("queue");
}

/// The id of the run `owner` claims at `now`, if any.
async fn claim(store: &Store, owner: &str, now: i64) -> Option<String> {
    store
        .claim_pipeline_step(owner, now + HOUR, now)
        .await
        .expect("claim")
        .map(|run| run.id)
}

async fn state_of(store: &Store, id: &str) -> (StepState, Option<StepConclusion>) {
    let run = store
        .pipeline_step(id)
        .await
        .expect("get")
        .expect("the run exists");
    (run.state(), run.conclusion())
}

/// Queues one run and takes it through to `done` with `outcome` at `now`.
async fn settle(store: &Store, new: NewStep<'_>, outcome: &StepOutcome<'_>, now: i64) {
    queue(store, std::slice::from_ref(&new), now).await;
    assert_eq!(claim(store, "settler", now).await.as_deref(), Some(new.id));
    assert!(
        store
            .record_pipeline_outcome(new.id, "settler", outcome, now)
            .await
            .expect("record")
    );
    assert!(
        store
            .finish_pipeline_report(new.id, "settler", now)
            .await
            .expect("finish")
    );
}

#[tokio::test]
async fn queueing_a_step_again_is_its_next_attempt() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let first = store
            .queue_pipeline_steps(
                &[step("a1", 7, "aaa", "unit"), step("a2", 7, "aaa", "lint")],
                1_000,
            )
            .await
            .expect("queue");
        assert_eq!(
            first.iter().map(|r| r.attempt).collect::<Vec<_>>(),
            [1, 1],
            "{}",
            db.dialect
        );
        assert!(first.iter().all(|r| r.state() == StepState::Due));
        assert_eq!(first[0].created_at, 1_000);
        assert_eq!(first[0].actor.as_deref(), Some("octocat"));

        // `/retest unit`: the same step on the same commit again.
        let again = store
            .queue_pipeline_steps(&[step("a3", 7, "aaa", "unit")], 2_000)
            .await
            .expect("queue");
        assert_eq!(again[0].attempt, 2, "{}", db.dialect);
        // Another PR (or the branch) on the same commit counts its own attempts.
        queue(&store, &[step("b1", 0, "aaa", "unit")], 3_000).await;
        assert_eq!(
            store
                .pipeline_step("b1")
                .await
                .expect("get")
                .map(|r| r.attempt),
            Some(1)
        );

        let of_pr: Vec<_> = store
            .pipeline_steps_of(REPO, 7, "feature", "aaa")
            .await
            .expect("list")
            .into_iter()
            .map(|r| (r.step, r.attempt))
            .collect();
        assert_eq!(
            of_pr,
            [("lint".into(), 1), ("unit".into(), 1), ("unit".into(), 2)]
        );
        let on_sha = store
            .pipeline_steps_on_sha(REPO, "aaa")
            .await
            .expect("list");
        assert_eq!(on_sha.len(), 4);
        assert_eq!(on_sha.last().map(|r| r.id.as_str()), Some("a3"));

        // A step settled before it runs is queued with only its report left.
        let settled = store
            .queue_pipeline_steps(
                &[NewStep {
                    conclusion: Some(StepConclusion::Skipped),
                    reason: Some("the PR gets no preview"),
                    ..after_deploy("a4", 7, "aaa", "e2e")
                }],
                4_000,
            )
            .await
            .expect("queue");
        assert_eq!(settled[0].state(), StepState::Reporting);
        assert_eq!(settled[0].conclusion(), Some(StepConclusion::Skipped));
        assert_eq!(settled[0].finished_at, Some(4_000));
        assert!(settled[0].is_after_deploy() && !settled[0].is_branch_run());
    }
}

#[tokio::test]
async fn the_claim_keeps_to_the_repositorys_concurrency_but_always_takes_reports() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        queue(
            &store,
            &[
                step("s1", 7, "aaa", "unit"),
                step("s2", 7, "aaa", "lint"),
                step("s3", 7, "aaa", "build"),
            ],
            1_000,
        )
        .await;
        queue(
            &store,
            &[NewStep {
                repository: "octocat/other",
                ..step("o1", 3, "ccc", "unit")
            }],
            1_100,
        )
        .await;

        let first = store
            .claim_pipeline_step("w1", 2_000 + HOUR, 2_000)
            .await
            .expect("claim")
            .expect("due");
        assert_eq!(first.id, "s1", "{}: oldest first", db.dialect);
        assert_eq!(
            (first.state(), first.started_at),
            (StepState::Running, Some(2_000))
        );
        assert_eq!(claim(&store, "w2", 2_000).await.as_deref(), Some("s2"));
        // Two of octocat/shop run: its third waits, another repository's run does not.
        assert_eq!(claim(&store, "w3", 2_000).await.as_deref(), Some("o1"));
        assert_eq!(claim(&store, "w3", 2_000).await, None, "{}", db.dialect);

        // A run with only its report left is taken however busy the repository is.
        queue(
            &store,
            &[NewStep {
                conclusion: Some(StepConclusion::Skipped),
                reason: Some("no preview"),
                ..after_deploy("r1", 7, "aaa", "e2e")
            }],
            2_500,
        )
        .await;
        let report = store
            .claim_pipeline_step("w4", 3_000 + HOUR, 3_000)
            .await
            .expect("claim")
            .expect("the report is claimable");
        assert_eq!(
            (report.id.as_str(), report.state(), report.started_at),
            ("r1", StepState::Reporting, None)
        );
        assert_eq!(claim(&store, "w5", 3_000).await, None);

        // s1 ends: its slot frees as soon as the outcome is recorded.
        let failed = StepOutcome {
            failed_tests: Some("shop::cart\nshop::pay"),
            reason: Some("2 tests failed"),
            ..outcome(StepConclusion::Failure)
        };
        assert!(
            store
                .record_pipeline_outcome("s1", "w1", &failed, 4_000)
                .await
                .expect("record")
        );
        let recorded = store.pipeline_step("s1").await.expect("get").expect("row");
        assert_eq!(recorded.state(), StepState::Reporting);
        assert_eq!(recorded.finished_at, Some(4_000));
        assert_eq!(
            recorded.failed_tests.as_deref(),
            Some("shop::cart\nshop::pay")
        );
        assert_eq!(recorded.summary.as_deref(), Some("{\"passed\":3}"));
        assert_eq!(recorded.log, "ran\n");
        assert_eq!(claim(&store, "w5", 4_000).await.as_deref(), Some("s3"));

        // While w1 reports s1 nobody else takes it; once reported it is done.
        assert_eq!(claim(&store, "w6", 4_500).await, None);
        assert!(
            store
                .finish_pipeline_report("s1", "w1", 5_000)
                .await
                .expect("finish")
        );
        assert_eq!(
            state_of(&store, "s1").await,
            (StepState::Done, Some(StepConclusion::Failure))
        );
        assert!(
            store
                .finish_pipeline_report("r1", "w4", 5_000)
                .await
                .expect("finish")
        );
        assert_eq!(claim(&store, "w6", 5_000).await, None);
    }
}

#[tokio::test]
async fn a_lost_lease_cannot_record_and_a_run_whose_process_died_runs_again() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        queue(&store, &[step("d1", 7, "aaa", "unit")], 1_000).await;
        let taken = store
            .claim_pipeline_step("dead", 3_000, 2_000)
            .await
            .expect("claim");
        assert_eq!(taken.map(|r| r.id).as_deref(), Some("d1"));
        assert_eq!(claim(&store, "w2", 2_500).await, None, "the lease holds");

        // The lease lapsed: the run is taken again and starts over.
        let again = store
            .claim_pipeline_step("w2", 4_000 + HOUR, 4_000)
            .await
            .expect("claim")
            .expect("the lapsed run");
        assert_eq!(
            (again.id.as_str(), again.state(), again.started_at),
            ("d1", StepState::Running, Some(4_000)),
            "{}",
            db.dialect
        );
        let success = outcome(StepConclusion::Success);
        assert!(
            !store
                .record_pipeline_outcome("d1", "dead", &success, 5_000)
                .await
                .expect("record"),
            "{}: the old holder's outcome is refused",
            db.dialect
        );
        assert_eq!(
            store
                .renew_pipeline_lease("d1", "dead", 9_000, Some("stale"))
                .await
                .expect("renew"),
            None
        );
        store
            .shorten_pipeline_lease("d1", "dead", 0)
            .await
            .expect("shorten");
        assert_eq!(claim(&store, "w3", 5_000).await, None, "w2 still holds it");
        assert!(
            !store
                .finish_pipeline_report("d1", "dead", 5_000)
                .await
                .expect("finish")
        );
        let run = store.pipeline_step("d1").await.expect("get").expect("row");
        assert_eq!((run.state(), run.log.as_str()), (StepState::Running, ""));

        // Shutdown gives it back: due again, for whoever claims next.
        store
            .release_pipeline_step("d1", "w2")
            .await
            .expect("release");
        assert_eq!(state_of(&store, "d1").await.0, StepState::Due);
        assert_eq!(claim(&store, "w3", 6_000).await.as_deref(), Some("d1"));

        // Reporting to GitHub failed: a shortened lease lets it be taken again soon.
        assert!(
            store
                .record_pipeline_outcome("d1", "w3", &success, 7_000)
                .await
                .expect("record")
        );
        store
            .shorten_pipeline_lease("d1", "w3", 7_500)
            .await
            .expect("shorten");
        assert_eq!(claim(&store, "w4", 7_000).await, None);
        assert_eq!(claim(&store, "w4", 8_000).await.as_deref(), Some("d1"));
        store
            .release_pipeline_step("d1", "w4")
            .await
            .expect("release");
        assert_eq!(
            state_of(&store, "d1").await,
            (StepState::Reporting, Some(StepConclusion::Success)),
            "a report given back is still only to be reported"
        );
    }
}

#[tokio::test]
async fn a_newer_head_cancels_the_older_heads_runs_and_asks_running_ones_to_stop() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        let wide = |new: NewStep<'static>| NewStep {
            concurrency: 10,
            ..new
        };
        queue(
            &store,
            &[
                wide(step("old-unit", 7, "aaa", "unit")),
                wide(step("old-lint", 7, "aaa", "lint")),
                wide(after_deploy("old-e2e", 7, "aaa", "e2e")),
                wide(step("other-pr", 8, "ddd", "unit")),
            ],
            1_000,
        )
        .await;
        assert_eq!(
            claim(&store, "w1", 2_000).await.as_deref(),
            Some("old-lint")
        );
        assert_eq!(
            store
                .renew_pipeline_lease("old-lint", "w1", 3_000 + HOUR, Some("compiling\n"))
                .await
                .expect("renew"),
            Some(false),
            "{}: not asked to stop yet",
            db.dialect
        );
        assert_eq!(
            store
                .pipeline_step("old-lint")
                .await
                .expect("get")
                .map(|r| r.log),
            Some("compiling\n".to_owned())
        );

        // The push of bbb.
        queue(&store, &[wide(step("new-unit", 7, "bbb", "unit"))], 4_000).await;
        let running = store
            .supersede_pipeline_steps(REPO, 7, "feature", "bbb", "superseded by bbb", 4_000)
            .await
            .expect("supersede");
        assert_eq!(running, ["old-lint"], "{}", db.dialect);

        for id in ["old-unit", "old-e2e"] {
            let run = store.pipeline_step(id).await.expect("get").expect("row");
            assert_eq!(
                (run.state(), run.conclusion(), run.reason.as_deref()),
                (
                    StepState::Reporting,
                    Some(StepConclusion::Cancelled),
                    Some("superseded by bbb")
                ),
                "{id}"
            );
            assert_eq!(run.finished_at, Some(4_000));
        }
        let lint = store
            .pipeline_step("old-lint")
            .await
            .expect("get")
            .expect("row");
        assert_eq!(
            (lint.state(), lint.cancel_requested),
            (StepState::Running, 1)
        );
        assert_eq!(
            store
                .renew_pipeline_lease("old-lint", "w1", 5_000 + HOUR, None)
                .await
                .expect("renew"),
            Some(true),
            "the runner learns it should stop"
        );
        assert_eq!(
            store
                .pipeline_step("old-lint")
                .await
                .expect("get")
                .map(|r| r.log),
            Some("compiling\n".to_owned()),
            "renewing without a log keeps the log"
        );
        assert_eq!(state_of(&store, "new-unit").await, (StepState::Due, None));
        assert_eq!(state_of(&store, "other-pr").await, (StepState::Due, None));
    }
}

#[tokio::test]
async fn a_push_to_a_branch_supersedes_only_that_branchs_runs() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        queue(
            &store,
            &[
                step("main-1", 0, "m1", "unit"),
                NewStep {
                    branch: "release",
                    ..step("release-1", 0, "r1", "unit")
                },
            ],
            1_000,
        )
        .await;
        queue(&store, &[step("main-2", 0, "m2", "unit")], 2_000).await;
        let running = store
            .supersede_pipeline_steps(REPO, 0, "main", "m2", "superseded by m2", 2_000)
            .await
            .expect("supersede");
        assert!(running.is_empty());
        assert_eq!(
            state_of(&store, "main-1").await,
            (StepState::Reporting, Some(StepConclusion::Cancelled)),
            "{}",
            db.dialect
        );
        assert_eq!(state_of(&store, "release-1").await, (StepState::Due, None));
        assert_eq!(state_of(&store, "main-2").await, (StepState::Due, None));
    }
}

#[tokio::test]
async fn after_deploy_steps_wait_for_their_preview_or_are_skipped_without_one() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        queue(
            &store,
            &[
                after_deploy("e2e-a", 7, "aaa", "e2e"),
                after_deploy("smoke-a", 7, "aaa", "smoke"),
                after_deploy("e2e-b", 7, "bbb", "e2e"),
                NewStep {
                    concurrency: 10,
                    ..step("unit-a", 7, "aaa", "unit")
                },
            ],
            1_000,
        )
        .await;
        assert_eq!(claim(&store, "w1", 2_000).await.as_deref(), Some("unit-a"));
        assert_eq!(
            claim(&store, "w1", 2_000).await,
            None,
            "{}: waiting runs are not claimable",
            db.dialect
        );

        let released = store
            .release_after_deploy_steps(
                REPO,
                7,
                "feature",
                "aaa",
                Some("https://pr-7.example.com"),
                3_000,
            )
            .await
            .expect("release");
        assert_eq!(released, 2, "{}", db.dialect);
        let e2e = store
            .claim_pipeline_step("w2", 4_000 + HOUR, 4_000)
            .await
            .expect("claim")
            .expect("released");
        assert_eq!(e2e.id, "e2e-a");
        assert_eq!(e2e.preview_url.as_deref(), Some("https://pr-7.example.com"));
        assert!(e2e.is_after_deploy());
        assert_eq!(state_of(&store, "e2e-b").await, (StepState::Waiting, None));

        // bbb's deploy failed: its e2e will never run.
        let skipped = store
            .skip_waiting_steps(
                REPO,
                7,
                "feature",
                "bbb",
                "the preview failed to deploy",
                5_000,
            )
            .await
            .expect("skip");
        assert_eq!(skipped, 1);
        let run = store
            .pipeline_step("e2e-b")
            .await
            .expect("get")
            .expect("row");
        assert_eq!(
            (run.state(), run.conclusion(), run.reason.as_deref()),
            (
                StepState::Reporting,
                Some(StepConclusion::Skipped),
                Some("the preview failed to deploy")
            )
        );
        assert_eq!(
            store
                .release_after_deploy_steps(REPO, 7, "feature", "bbb", None, 6_000)
                .await
                .expect("release"),
            0,
            "nothing waits any more"
        );
    }
}

#[tokio::test]
async fn the_base_is_the_newest_finished_branch_run_that_passed_or_failed() {
    for db in TestDb::all().await {
        let store = open(&db).await;
        assert_eq!(
            store
                .base_pipeline_result(REPO, "main", "unit")
                .await
                .expect("base"),
            None
        );
        let failed = StepOutcome {
            failed_tests: Some("shop::cart\nshop::pay"),
            ..outcome(StepConclusion::Failure)
        };
        settle(
            &store,
            step("m1", 0, "m1", "unit"),
            &outcome(StepConclusion::Success),
            1_000,
        )
        .await;
        settle(&store, step("m2", 0, "m2", "unit"), &failed, 2_000).await;
        // Newer, but none of them says which tests fail on main's unit step.
        settle(
            &store,
            step("m3", 0, "m3", "unit"),
            &outcome(StepConclusion::Cancelled),
            3_000,
        )
        .await;
        settle(
            &store,
            step("m4", 0, "m4", "unit"),
            &outcome(StepConclusion::TimedOut),
            3_500,
        )
        .await;
        settle(
            &store,
            NewStep {
                branch: "main",
                ..step("pr", 7, "p1", "unit")
            },
            &outcome(StepConclusion::Success),
            4_000,
        )
        .await;
        settle(
            &store,
            NewStep {
                branch: "release",
                ..step("rel", 0, "r1", "unit")
            },
            &outcome(StepConclusion::Success),
            5_000,
        )
        .await;
        settle(
            &store,
            step("lint", 0, "m5", "lint"),
            &outcome(StepConclusion::Success),
            6_000,
        )
        .await;
        queue(&store, &[step("m6", 0, "m6", "unit")], 7_000).await;
        assert_eq!(claim(&store, "w", 7_000).await.as_deref(), Some("m6"));

        assert_eq!(
            store
                .base_pipeline_result(REPO, "main", "unit")
                .await
                .expect("base"),
            Some(("m2".to_owned(), Some("shop::cart\nshop::pay".to_owned()))),
            "{}",
            db.dialect
        );
    }
}

#[tokio::test]
async fn concurrent_claimers_never_share_a_run_nor_exceed_a_repositorys_concurrency() {
    const PER_REPO: usize = 12;
    for db in TestDb::all().await {
        let store = open(&db).await;
        let limits = [("octocat/shop", 3_i64), ("octocat/docs", 2)];
        let ids: Vec<(String, &str, i64)> = limits
            .iter()
            .flat_map(|&(repo, limit)| {
                (0..PER_REPO).map(move |n| (format!("{repo}-{n}"), repo, limit))
            })
            .collect();
        let steps: Vec<NewStep<'_>> = ids
            .iter()
            .map(|(id, repo, limit)| NewStep {
                repository: repo,
                concurrency: *limit,
                ..step(id, 7, "aaa", id)
            })
            .collect();
        queue(&store, &steps, 1_000).await;

        // What the claimers hold right now, per repository: always a subset of what the
        // store counts as running, so exceeding the limit here means the store did.
        let holding: Arc<Mutex<HashMap<String, HashSet<String>>>> = Arc::default();
        let taken: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut claimers = Vec::new();
        for n in 0..6 {
            let store = store.clone();
            let holding = holding.clone();
            let taken = taken.clone();
            claimers.push(tokio::spawn(async move {
                let owner = format!("claimer-{n}");
                let mut idle = 0;
                while idle < 20 {
                    let Some(run) = store
                        .claim_pipeline_step(&owner, 2_000 + HOUR, 2_000)
                        .await
                        .expect("claim")
                    else {
                        idle += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        continue;
                    };
                    idle = 0;
                    {
                        let mut holding = holding.lock().expect("lock");
                        let running = holding.entry(run.repository.clone()).or_default();
                        assert!(running.insert(run.id.clone()), "{} taken twice", run.id);
                        assert!(
                            running.len() as i64 <= run.concurrency,
                            "{} runs {:?} at once",
                            run.repository,
                            running
                        );
                    }
                    taken.lock().expect("lock").push(run.id.clone());
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    if let Some(running) = holding.lock().expect("lock").get_mut(&run.repository) {
                        running.remove(&run.id);
                    }
                    let success = outcome(StepConclusion::Success);
                    assert!(
                        store
                            .record_pipeline_outcome(&run.id, &owner, &success, 2_000)
                            .await
                            .expect("record")
                    );
                    assert!(
                        store
                            .finish_pipeline_report(&run.id, &owner, 2_000)
                            .await
                            .expect("finish")
                    );
                }
            }));
        }
        // Every claimer ends before anything is asserted: one left mid-transaction would
        // keep the schema from being dropped.
        let mut failures = Vec::new();
        for claimer in claimers {
            if let Err(err) = claimer.await {
                failures.push(err.to_string());
            }
        }
        store.close().await;
        assert!(failures.is_empty(), "{}: {failures:?}", db.dialect);
        let mut taken = taken.lock().expect("lock").clone();
        taken.sort();
        let mut all: Vec<String> = ids.iter().map(|(id, _, _)| id.clone()).collect();
        all.sort();
        assert_eq!(taken, all, "{}: every run taken exactly once", db.dialect);
    }
}

#[tokio::test]
async fn a_steps_log_is_served_behind_its_token() {
    let db = TestDb::sqlite();
    let fake = FakeGitHub::start().await;
    let gitferry = Gitferry::start(&db, &fake).await;
    let store = &gitferry.store;
    let hash = token_hash("s3cret");
    // Real times: a run that ended long ago is past the log retention (410 Gone).
    let now = gitferry::store::now_ms();
    // Waiting runs: the running gitferry's executor leaves them alone.
    queue(
        store,
        &[
            NewStep {
                token_hash: &hash,
                ..after_deploy("0123456789abcdef", 7, "aaa", "unit")
            },
            NewStep {
                token_hash: &hash,
                ..after_deploy("fedcba9876543210", 0, "bbb", "unit")
            },
        ],
        now,
    )
    .await;

    assert_eq!(
        gitferry.get("/runs/0123456789abcdef?token=s3cret").await,
        (200, format!("step unit of {REPO}#7 at aaa: waiting\n\n"))
    );
    let (status, branch_run) = gitferry.get("/runs/fedcba9876543210?token=s3cret").await;
    assert_eq!(status, 200);
    assert!(
        branch_run.starts_with(&format!("step unit of {REPO} on main at bbb: waiting")),
        "{branch_run}"
    );
    store
        .skip_waiting_steps(
            REPO,
            7,
            "feature",
            "aaa",
            "the preview deploy failed",
            now + 1_000,
        )
        .await
        .expect("skip");
    assert_eq!(
        gitferry.get("/runs/0123456789abcdef?token=s3cret").await,
        (
            200,
            format!("step unit of {REPO}#7 at aaa: skipped (the preview deploy failed)\n\n")
        )
    );

    // A wrong token and an unknown id look alike.
    assert_eq!(
        gitferry.get("/runs/0123456789abcdef?token=guess").await.0,
        404
    );
    assert_eq!(gitferry.get("/runs/0123456789abcdef").await.0, 404);
    assert_eq!(
        gitferry.get("/runs/0000000000000000?token=s3cret").await.0,
        404
    );
}
