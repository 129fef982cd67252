//! Preview policies, end to end: which pull requests get a preview and when. A fork's pull
//! request waits for a writer's `/preview` (again after each push) or, with `forks: never`,
//! gets nothing; `/preview destroy` tears a preview down and `/preview` brings it back; an
//! idle preview expires after its `ttl`; `max_active` makes the rest wait in line, in order;
//! drafts and other bases get nothing.
//!
//! "Nothing happened" is asserted once the executor has settled the preview (its work for the
//! latest request is done) or once the webhook was handled without writing any, never by
//! waiting a while; the two capacity races are the exception, see their comments.

use gitferry::github::short_sha as short;
use std::time::Duration;

use gitferry::store::previews::Preview;

use crate::previews::{CONFIG, Scenario, scenario};
use crate::support::fake_github::{CheckRun, Fault, PrSpec, RepoHandle};
use crate::support::gitferry::eventually;

const REPO: &str = "octocat/shop";

/// The preview environment of [`CONFIG`] with these extra keys (`"    ttl: 1m\n"`).
fn config_with(keys: &str) -> String {
    format!("{CONFIG}{keys}")
}

/// The bot's answer to one comment (posted before the delivery is done).
pub(crate) fn reply_to(s: &Scenario, pr: u64, comment: u64) -> String {
    let marker = format!("<!-- gitferry:reply comment={comment} -->");
    s.repo
        .bot_comments(pr)
        .into_iter()
        .map(|c| c.body)
        .find(|b| b.starts_with(&marker))
        .unwrap_or_else(|| panic!("no answer to comment {comment}"))
}

/// Just the preview section of the PR's sticky comment ("" when there is none).
fn section(s: &Scenario, pr: u64) -> String {
    let body = s.preview_section(pr);
    let Some(start) = body.find("### Preview") else {
        return String::new();
    };
    body[start..]
        .split("<!-- /gitferry:section -->")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

async fn section_saying(s: &Scenario, pr: u64, needle: &str) -> String {
    eventually(
        &format!("the preview section of #{pr} to say {needle:?}"),
        || async { Some(section(s, pr)).filter(|text| text.contains(needle)) },
    )
    .await
}

pub(crate) async fn preview_row(s: &Scenario, pr: u64) -> Option<Preview> {
    s.gitferry
        .store
        .preview(REPO, pr as i64)
        .await
        .expect("store query")
}

/// The preview once the executor has done its latest work and left it in `status`.
pub(crate) async fn settled(s: &Scenario, pr: u64, status: &str) -> Preview {
    eventually(
        &format!("the preview of #{pr} to settle as {status}"),
        || async {
            preview_row(s, pr)
                .await
                .filter(|p| p.status == status && p.generation == p.done_generation)
        },
    )
    .await
}

/// The deploy script's calls for one pull request: `up|down pr=… sha=… ref=…`.
pub(crate) fn calls_for(s: &Scenario, pr: u64) -> Vec<String> {
    let pr_field = format!("pr={pr}");
    s.calls()
        .into_iter()
        .filter(|line| line.split_whitespace().nth(1) == Some(pr_field.as_str()))
        .collect()
}

fn is_call(line: &str, op: &str, pr: u64, sha: &str) -> bool {
    line.starts_with(&format!("{op} pr={pr} sha={sha} "))
}

/// Where the first call `op` for `pr` is in the script's log.
fn call_index(s: &Scenario, op: &str, pr: u64) -> Option<usize> {
    let prefix = format!("{op} pr={pr} ");
    s.calls().iter().position(|line| line.starts_with(&prefix))
}

async fn check_on(s: &Scenario, sha: &str, status: &str) -> CheckRun {
    eventually(
        &format!("a gitferry/preview check run on {sha} that is {status}"),
        || async {
            s.repo
                .check_run(sha, "gitferry/preview")
                .filter(|c| c.status == status)
        },
    )
    .await
}

/// Opens a pull request from `branch` (one commit on top of `main`) and tells gitferry.
async fn open(s: &Scenario, branch: &str) -> (u64, String) {
    let head = s
        .repo
        .commit_files(branch, &[("app.txt", branch)], "feature work");
    let pr = s.repo.open_pr(PrSpec::new(branch, "main").author("alice"));
    s.deliver_pr(pr, "opened").await;
    (pr, head)
}

/// Nothing about a preview anywhere: no row, no script call, no deployment, no section, no
/// check run. Call it once the webhook is handled (`deliver_pr` waits for that).
async fn assert_no_preview(s: &Scenario, pr: u64, head: &str) {
    assert_eq!(preview_row(s, pr).await, None, "no preview is wanted");
    assert_eq!(calls_for(s, pr), Vec::<String>::new());
    assert!(
        s.repo.deployments().iter().all(|d| d.sha != head),
        "{:?}",
        s.repo.deployments()
    );
    assert_eq!(section(s, pr), "", "no preview section");
    assert!(s.repo.check_run(head, "gitferry/preview").is_none());
}

// --- Forks -------------------------------------------------------------------------------

/// Mallory forks the repository and opens a pull request from her fork's `patch` branch;
/// returns the fork, the head and the PR once gitferry has seen it opened.
pub(crate) async fn open_fork_pr(s: &Scenario) -> (RepoHandle, String, u64) {
    let fork = s.repo.fork("mallory");
    let head = fork.commit_files("patch", &[("app.txt", "from a fork")], "fork work");
    let pr = s.repo.open_pr(
        PrSpec::new("patch", "main")
            .in_fork(&fork)
            .author("mallory"),
    );
    s.deliver_pr(pr, "opened").await;
    (fork, head, pr)
}

#[tokio::test]
async fn a_fork_is_deployed_only_when_a_writer_asks_and_asked_again_after_each_push() {
    let s = scenario(CONFIG).await;
    s.repo.set_permission("bob", "write");
    let (fork, head, pr) = open_fork_pr(&s).await;

    // gitferry looked at it and parked it: nothing of the fork's ran.
    settled(&s, pr, "awaiting_approval").await;
    assert_eq!(s.calls(), Vec::<String>::new());
    assert!(s.repo.deployments().is_empty());
    let waiting = section_saying(&s, pr, "comes from a fork").await;
    assert!(
        waiting.contains("waits for someone with write access to comment `/preview`"),
        "{waiting}"
    );
    assert!(waiting.contains(short(&head)), "{waiting}");
    let check = check_on(&s, &head, "queued").await;
    assert_eq!(check.conclusion, None);

    // The fork's author cannot approve their own code.
    let asked = s.comment(pr, "mallory", "/preview").await;
    let answer = reply_to(&s, pr, asked);
    assert!(answer.contains("@mallory"), "{answer}");
    assert!(
        answer.contains("The author of a pull request from a fork cannot run it"),
        "{answer}"
    );
    assert!(answer.contains("Nothing was changed"), "{answer}");
    let parked = settled(&s, pr, "awaiting_approval").await;
    assert_eq!(parked.approved_sha, None);
    assert_eq!(s.calls(), Vec::<String>::new());

    // A writer asks: that head is deployed.
    let approved = s.comment(pr, "bob", "/preview").await;
    let answer = reply_to(&s, pr, approved);
    assert!(
        answer.contains(&format!("Deploying `{}`", short(&head))),
        "{answer}"
    );
    s.deployment_state(&head, "success").await;
    let calls = calls_for(&s, pr);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        calls[0].starts_with(&format!("up pr={pr} sha={head} ref=patch ")),
        "{calls:?}"
    );
    let check = check_on(&s, &head, "completed").await;
    assert_eq!(check.conclusion.as_deref(), Some("success"));
    section_saying(&s, pr, "✅ Ready").await;

    // The fork pushes again: the approval was for the reviewed head only.
    let pushed = fork.commit_files("patch", &[("app.txt", "changed after review")], "more");
    s.deliver_pr(pr, "synchronize").await;
    let parked = eventually("the pushed head to be parked for approval", || async {
        preview_row(&s, pr).await.filter(|p| {
            p.head_sha == pushed
                && p.status == "awaiting_approval"
                && p.generation == p.done_generation
        })
    })
    .await;
    assert_eq!(parked.approved_sha.as_deref(), Some(head.as_str()));
    assert_eq!(calls_for(&s, pr).len(), 1, "{:?}", s.calls());
    assert!(s.repo.deployments().iter().all(|d| d.sha != pushed));
    let waiting = section_saying(&s, pr, short(&pushed)).await;
    assert!(waiting.contains("comes from a fork"), "{waiting}");
    assert_eq!(check_on(&s, &pushed, "queued").await.conclusion, None);

    // Another writer's `/preview` deploys the new head.
    s.comment(pr, "bob", "/preview").await;
    s.deployment_state(&pushed, "success").await;
    let calls = calls_for(&s, pr);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(is_call(&calls[1], "up", pr, &pushed), "{calls:?}");
}

#[tokio::test]
async fn with_forks_never_a_fork_pull_request_gets_nothing() {
    let s = scenario(&config_with("    forks: never\n")).await;
    let (fork, head, pr) = open_fork_pr(&s).await;
    assert_no_preview(&s, pr, &head).await;

    let pushed = fork.commit_files("patch", &[("app.txt", "again")], "more");
    s.deliver_pr(pr, "synchronize").await;
    assert_no_preview(&s, pr, &pushed).await;

    // The same config still previews the repository's own branches.
    let (own, own_head) = open(&s, "feature").await;
    s.deployment_state(&own_head, "success").await;
    assert_eq!(calls_for(&s, own).len(), 1);
}

#[tokio::test]
async fn with_forks_never_even_a_writers_preview_does_not_deploy_a_fork_nor_promise_to() {
    let s = scenario(&config_with("    forks: never\n")).await;
    s.repo.set_permission("bob", "write");
    let (_fork, head, pr) = open_fork_pr(&s).await;

    let asked = s.comment(pr, "bob", "/preview").await;
    // Whatever the command wrote has been worked on (or nothing was written).
    eventually("the executor to have nothing left to do", || async {
        match preview_row(&s, pr).await {
            None => Some(()),
            Some(p) => (p.generation == p.done_generation).then_some(()),
        }
    })
    .await;
    assert_eq!(calls_for(&s, pr), Vec::<String>::new());
    assert!(s.repo.deployments().iter().all(|d| d.sha != head));
    // Neither the answer nor the PR promise a deploy, or ask for a `/preview`, that can never
    // come (the config never previews forks), and no check is left waiting forever.
    let answer = reply_to(&s, pr, asked);
    let section = section(&s, pr);
    let check = s.repo.check_run(&head, "gitferry/preview");
    assert!(
        !answer.contains("Deploying")
            && !section.contains("comment `/preview`")
            && check.as_ref().is_none_or(|c| c.status == "completed"),
        "answer: {answer}\nsection: {section}\ncheck: {check:?}"
    );
}

// --- On request ----------------------------------------------------------------------------

#[tokio::test]
async fn a_writer_destroys_a_preview_on_request_and_preview_brings_it_back() {
    let s = scenario(CONFIG).await;
    s.repo.set_permission("bob", "write");
    let (pr, head) = open(&s, "feature").await;
    s.deployment_state(&head, "success").await;

    let asked = s.comment(pr, "bob", "/preview destroy").await;
    assert!(
        reply_to(&s, pr, asked).contains("Destroying the preview"),
        "{}",
        reply_to(&s, pr, asked)
    );
    s.deployment_state(&head, "inactive").await;
    let calls = calls_for(&s, pr);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(is_call(&calls[0], "up", pr, &head), "{calls:?}");
    assert!(is_call(&calls[1], "down", pr, &head), "{calls:?}");
    let destroyed = section_saying(&s, pr, "🧹 Destroyed").await;
    assert!(destroyed.contains("destroyed on request by"), "{destroyed}");
    assert!(destroyed.contains("bob"), "{destroyed}");
    settled(&s, pr, "destroyed").await;

    let asked = s.comment(pr, "bob", "/preview").await;
    assert!(
        reply_to(&s, pr, asked).contains(&format!("Deploying `{}`", short(&head))),
        "{}",
        reply_to(&s, pr, asked)
    );
    let again = eventually("a second deployment of the head that succeeded", || async {
        let deployments: Vec<_> = s
            .repo
            .deployments()
            .into_iter()
            .filter(|d| d.sha == head)
            .collect();
        (deployments.len() == 2 && deployments[1].latest_state() == Some("success"))
            .then(|| deployments[1].clone())
    })
    .await;
    assert_eq!(again.environment, format!("preview/pr-{pr}"));
    let calls = calls_for(&s, pr);
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(is_call(&calls[2], "up", pr, &head), "{calls:?}");
    section_saying(&s, pr, "✅ Ready").await;
}

// --- TTL -----------------------------------------------------------------------------------

/// Makes the preview look untouched since the epoch, as if its `ttl` had long passed (the
/// smallest `ttl` the config allows is a minute).
async fn age(s: &Scenario, pr: u64) {
    let pool = sqlx::AnyPool::connect(&s.db.url).await.expect("raw pool");
    let updated =
        sqlx::query("UPDATE previews SET touched_at = 0 WHERE repository = $1 AND pr = $2")
            .bind(REPO)
            .bind(pr as i64)
            .execute(&pool)
            .await
            .expect("age the preview");
    assert_eq!(updated.rows_affected(), 1);
    pool.close().await;
}

#[tokio::test]
async fn an_idle_preview_expires_after_its_ttl_and_comes_back_on_a_push_or_preview() {
    let s = scenario(&config_with("    ttl: 1m\n")).await;
    let (pr, head) = open(&s, "feature").await;
    s.deployment_state(&head, "success").await;
    settled(&s, pr, "ready").await;

    age(&s, pr).await;
    // The reconciler (every 200 ms here) destroys it.
    s.deployment_state(&head, "inactive").await;
    let calls = calls_for(&s, pr);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(is_call(&calls[1], "down", pr, &head), "{calls:?}");
    let expired = section_saying(&s, pr, "without activity").await;
    assert!(
        expired.contains("🧹 Destroyed after 1m without activity."),
        "{expired}"
    );
    assert!(
        expired.contains("Comment `/preview` to bring it back."),
        "{expired}"
    );
    settled(&s, pr, "expired").await;

    // A push brings it back.
    let pushed = s
        .repo
        .commit_files("feature", &[("app.txt", "v2")], "more work");
    s.deliver_pr(pr, "synchronize").await;
    s.deployment_state(&pushed, "success").await;
    let calls = calls_for(&s, pr);
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(is_call(&calls[2], "up", pr, &pushed), "{calls:?}");
    section_saying(&s, pr, "✅ Ready").await;
    settled(&s, pr, "ready").await;

    // Idle again, it expires again; `/preview` (as the section says) brings it back.
    age(&s, pr).await;
    s.deployment_state(&pushed, "inactive").await;
    settled(&s, pr, "expired").await;
    s.comment(pr, "alice", "/preview").await;
    eventually("the pushed head deployed a second time", || async {
        let calls = calls_for(&s, pr);
        (calls.len() == 5 && is_call(&calls[4], "up", pr, &pushed)).then_some(())
    })
    .await;
    settled(&s, pr, "ready").await;
    assert!(
        is_call(&calls_for(&s, pr)[3], "down", pr, &pushed),
        "{:?}",
        s.calls()
    );
}

// --- Capacity ------------------------------------------------------------------------------

const ONE_SLOT: &str = "    max_active: 1\n";

#[tokio::test]
async fn with_one_slot_a_second_preview_waits_and_starts_when_the_first_closes() {
    let s = scenario(&config_with(ONE_SLOT)).await;
    let (a, a_head) = open(&s, "first").await;
    s.deployment_state(&a_head, "success").await;

    let (b, b_head) = open(&s, "second").await;
    settled(&s, b, "queued").await;
    assert_eq!(calls_for(&s, b), Vec::<String>::new());
    let waiting = section_saying(&s, b, "Waiting for a free preview slot").await;
    assert!(
        waiting.contains("(1 at most at once): number 1 in line."),
        "{waiting}"
    );
    assert!(waiting.contains(short(&b_head)), "{waiting}");
    let check = check_on(&s, &b_head, "queued").await;
    assert_eq!(check.conclusion, None);
    assert_eq!(
        check.output.title.as_deref(),
        Some("Waiting for a free preview slot")
    );

    // Closing the first frees its slot; the second starts by itself (no event of its own).
    s.repo.close_pr(a);
    s.deliver_pr(a, "closed").await;
    s.deployment_state(&a_head, "inactive").await;
    s.deployment_state(&b_head, "success").await;
    assert!(
        is_call(&calls_for(&s, a)[1], "down", a, &a_head),
        "{:?}",
        s.calls()
    );
    assert_eq!(calls_for(&s, b).len(), 1, "{:?}", s.calls());
    assert!(
        is_call(&calls_for(&s, b)[0], "up", b, &b_head),
        "{:?}",
        s.calls()
    );
    section_saying(&s, b, "✅ Ready").await;
    assert_eq!(
        check_on(&s, &b_head, "completed")
            .await
            .conclusion
            .as_deref(),
        Some("success")
    );
}

#[tokio::test]
async fn waiting_previews_show_their_place_in_line_and_the_first_in_line_starts() {
    let s = scenario(&config_with(ONE_SLOT)).await;
    let (a, a_head) = open(&s, "first").await;
    s.deployment_state(&a_head, "success").await;
    let (b, b_head) = open(&s, "second").await;
    settled(&s, b, "queued").await;
    let (c, c_head) = open(&s, "third").await;
    settled(&s, c, "queued").await;

    let second = section_saying(&s, b, "Waiting for a free preview slot").await;
    assert!(second.contains("number 1 in line"), "{second}");
    let third = section_saying(&s, c, "Waiting for a free preview slot").await;
    assert!(third.contains("number 2 in line."), "{third}");
    assert!(third.contains(short(&c_head)), "{third}");
    assert_eq!(check_on(&s, &b_head, "queued").await.conclusion, None);
    assert_eq!(check_on(&s, &c_head, "queued").await.conclusion, None);
    assert_eq!(calls_for(&s, b).len() + calls_for(&s, c).len(), 0);

    // The first in line is the one the freed slot goes to.
    s.repo.close_pr(a);
    s.deliver_pr(a, "closed").await;
    s.deployment_state(&b_head, "success").await;
    section_saying(&s, b, "✅ Ready").await;
}

#[tokio::test]
async fn waiting_previews_start_one_at_a_time_in_their_order() {
    let s = scenario(&config_with(ONE_SLOT)).await;
    let (a, a_head) = open(&s, "first").await;
    s.deployment_state(&a_head, "success").await;
    let (b, b_head) = open(&s, "second").await;
    settled(&s, b, "queued").await;
    let (c, c_head) = open(&s, "third").await;
    settled(&s, c, "queued").await;

    // The first in line takes the freed slot; the other keeps waiting.
    s.repo.close_pr(a);
    s.deliver_pr(a, "closed").await;
    s.deployment_state(&b_head, "success").await;
    settled(&s, b, "ready").await;
    assert_eq!(calls_for(&s, c), Vec::<String>::new(), "{:?}", s.calls());

    // Then the next.
    s.repo.close_pr(b);
    s.deliver_pr(b, "closed").await;
    s.deployment_state(&c_head, "success").await;
    let ups: Vec<String> = s
        .calls()
        .into_iter()
        .filter(|line| line.starts_with("up "))
        .collect();
    assert_eq!(ups.len(), 3, "{:?}", s.calls());
    assert!(is_call(&ups[0], "up", a, &a_head), "{ups:?}");
    assert!(is_call(&ups[1], "up", b, &b_head), "{ups:?}");
    assert!(is_call(&ups[2], "up", c, &c_head), "{ups:?}");
}

#[tokio::test]
async fn a_waiting_preview_moves_up_in_line_when_the_one_ahead_of_it_starts() {
    let s = scenario(&config_with(ONE_SLOT)).await;
    let (a, a_head) = open(&s, "first").await;
    s.deployment_state(&a_head, "success").await;
    let (b, b_head) = open(&s, "second").await;
    settled(&s, b, "queued").await;
    let (c, _) = open(&s, "third").await;
    settled(&s, c, "queued").await;
    section_saying(&s, c, "number 2 in line.").await;

    s.repo.close_pr(a);
    s.deliver_pr(a, "closed").await;
    s.deployment_state(&b_head, "success").await;
    // The third is now first in line, and its comment says so.
    section_saying(&s, c, "number 1 in line.").await;
}

/// The deploy script of [`crate::previews::script`], except that a destroy waits until the
/// file `gate` exists and logs `down-done` when it ends.
fn gated_script(calls: &std::path::Path, gate: &std::path::Path) -> String {
    format!(
        "#!/bin/sh\nset -e\n\
         echo \"$1 pr=$GITFERRY_PR sha=$GITFERRY_SHA ref=$GITFERRY_REF env=$GITFERRY_ENV ns=$GITFERRY_NAMESPACE\" >> {calls}\n\
         if [ \"$1\" = down ]; then\n\
           while [ ! -f {gate} ]; do sleep 0.05; done\n\
           echo \"down-done pr=$GITFERRY_PR sha=$GITFERRY_SHA\" >> {calls}\n\
         fi\n\
         [ \"$1\" = up ] && echo \"GITFERRY_URL=https://pr-$GITFERRY_PR.dyn.example.com\"\n\
         exit 0\n",
        calls = calls.display(),
        gate = gate.display()
    )
}

/// How long a "does not happen" check watches: several reconciler passes (200 ms each) and
/// executor polls (50 ms). Only used where the wrong behaviour is a race with no event to
/// wait for; the correct behaviour never makes these tests slow to fail.
const A_FEW_PASSES: Duration = Duration::from_millis(1200);

#[tokio::test]
async fn a_slot_is_free_only_once_the_previous_preview_is_actually_destroyed() {
    let s = scenario(&config_with(ONE_SLOT)).await;
    let gate = s.calls.with_file_name("gate");
    // The first preview's own script (a destroy runs the deployed commit's script) holds its
    // destroy until the test opens the gate.
    let a_head = s.repo.commit_files(
        "first",
        &[("scripts/preview.sh", gated_script(&s.calls, &gate))],
        "slow teardown",
    );
    let a = s.repo.open_pr(PrSpec::new("first", "main").author("alice"));
    s.deliver_pr(a, "opened").await;
    s.deployment_state(&a_head, "success").await;
    let (b, b_head) = open(&s, "second").await;
    settled(&s, b, "queued").await;

    s.repo.close_pr(a);
    s.deliver_pr(a, "closed").await;
    eventually("the first preview's destroy to start", || async {
        call_index(&s, "down", a).map(|_| ())
    })
    .await;
    // While the first preview's resources are still being torn down, its slot stays taken.
    tokio::time::sleep(A_FEW_PASSES).await;
    assert_eq!(
        calls_for(&s, b),
        Vec::<String>::new(),
        "the second preview deployed while the first was still being destroyed: {:?}",
        s.calls()
    );

    std::fs::write(&gate, "open").expect("open the gate");
    s.deployment_state(&a_head, "inactive").await;
    s.deployment_state(&b_head, "success").await;
    let done = call_index(&s, "down-done", a).expect("the destroy finished");
    let up = call_index(&s, "up", b).expect("the second deployed");
    assert!(done < up, "{:?}", s.calls());
}

#[tokio::test]
async fn a_freed_slot_goes_to_one_waiting_preview_even_when_github_is_slow() {
    let s = scenario(&config_with(ONE_SLOT)).await;
    let (a, a_head) = open(&s, "first").await;
    s.deployment_state(&a_head, "success").await;
    let (b, b_head) = open(&s, "second").await;
    settled(&s, b, "queued").await;
    let (c, _) = open(&s, "third").await;
    settled(&s, c, "queued").await;

    // GitHub takes a second for each deployment write from now on: a preview handed the slot
    // spends that second between being woken and showing as deploying.
    s.fake.fail_next(
        "POST",
        "/repos/octocat/shop/deployments",
        100,
        Fault::Delay(Duration::from_secs(1)),
    );
    s.repo.close_pr(a);
    s.deliver_pr(a, "closed").await;
    s.deployment_state(&b_head, "success").await;
    // The reconciler passes several times while the second is starting; the slot is its.
    tokio::time::sleep(A_FEW_PASSES).await;
    s.fake.clear_faults();
    assert_eq!(
        calls_for(&s, c),
        Vec::<String>::new(),
        "the third preview took the same slot: {:?}",
        s.calls()
    );
    settled(&s, c, "queued").await;
}

// --- Which pull requests -------------------------------------------------------------------

#[tokio::test]
async fn a_draft_gets_a_preview_only_once_it_is_ready_for_review() {
    let s = scenario(CONFIG).await;
    let head = s
        .repo
        .commit_files("wip", &[("app.txt", "half done")], "wip");
    let pr = s
        .repo
        .open_pr(PrSpec::new("wip", "main").author("alice").draft());
    s.deliver_pr(pr, "opened").await;
    assert_no_preview(&s, pr, &head).await;

    let pushed = s
        .repo
        .commit_files("wip", &[("app.txt", "nearly")], "more wip");
    s.deliver_pr(pr, "synchronize").await;
    assert_no_preview(&s, pr, &pushed).await;

    s.repo.set_draft(pr, false);
    s.deliver_pr(pr, "ready_for_review").await;
    s.deployment_state(&pushed, "success").await;
    let calls = calls_for(&s, pr);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(is_call(&calls[0], "up", pr, &pushed), "{calls:?}");
    section_saying(&s, pr, "✅ Ready").await;
}

#[tokio::test]
async fn a_pull_request_into_a_base_without_previews_gets_nothing() {
    let s = scenario(CONFIG).await;
    s.repo.create_branch("release", "main");
    let head = s
        .repo
        .commit_files("hotfix", &[("app.txt", "fix")], "hotfix");
    let pr = s
        .repo
        .open_pr(PrSpec::new("hotfix", "release").author("alice"));
    s.deliver_pr(pr, "opened").await;
    assert_no_preview(&s, pr, &head).await;

    let pushed = s
        .repo
        .commit_files("hotfix", &[("app.txt", "fix 2")], "hotfix again");
    s.deliver_pr(pr, "synchronize").await;
    assert_no_preview(&s, pr, &pushed).await;

    s.repo.close_pr(pr);
    s.deliver_pr(pr, "closed").await;
    assert_no_preview(&s, pr, &pushed).await;
}
