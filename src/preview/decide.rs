//! Which pull requests get a preview, as pure functions of the config and the PR's facts.

use crate::flow::Deploy;
use crate::repo_config::{ForkPolicy, Preview, RepoConfig};
use crate::store::previews::{self, PreviewStatus};

/// What a `pull_request` event asks of the preview.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// Deploy (or redeploy) the head; for a fork PR the executor checks the approval first.
    Up,
    /// Tear it down.
    Down,
    /// Not for this PR (another base, a draft, a fork the config never deploys).
    Nothing,
}

/// A pull request as the event shows it.
#[derive(Clone, Copy, Debug)]
pub struct PullFacts<'a> {
    pub action: &'a str,
    pub base: &'a str,
    pub draft: bool,
    pub from_fork: bool,
}

pub fn on_pull_request(preview: &Preview, pull: &PullFacts<'_>) -> Wanted {
    match pull.action {
        "closed" => return Wanted::Down,
        "opened" | "reopened" | "synchronize" | "ready_for_review" => {}
        _ => return Wanted::Nothing,
    }
    let base_matches = base_matches(preview, pull.base);
    let draft_excluded = pull.draft && !preview.pull_requests.drafts;
    let fork_excluded = pull.from_fork && preview.forks == ForkPolicy::Never;
    if !base_matches || draft_excluded || fork_excluded {
        Wanted::Nothing
    } else {
        Wanted::Up
    }
}

/// Whether previews are for pull requests into `base`.
pub fn base_matches(preview: &Preview, base: &str) -> bool {
    preview.pull_requests.base.iter().any(|b| b == base)
}

/// Whether this pull request's head will be deployed as a preview its after-deploy steps can
/// test, and why not.
pub fn deploy_expected(config: &RepoConfig, pull: &PullFacts<'_>) -> Deploy {
    let Some(settings) = config
        .preview_environment()
        .and_then(|(_, env)| env.preview())
    else {
        return Deploy::Never("the repository has no preview environment");
    };
    match on_pull_request(settings, pull) {
        Wanted::Up => Deploy::Coming,
        _ if pull.draft => Deploy::Never("drafts get no preview in this repository"),
        _ => Deploy::Never("this pull request gets no preview (see `pull_requests`)"),
    }
}

/// Whether a `pull_request` event that wants `head_sha` up asks for nothing new: the preview
/// is already wanted up at that head and is on its way (queued, waiting for steps or approval),
/// deploying, deployed, or settled for it (blocked or failed). GitHub can deliver the same event
/// twice under different delivery ids; a second Deployment for one sha would break the rule
/// that deployments are keyed by (environment, sha), and would cancel a deploy in progress.
/// `/preview` is how someone redeploys the same head on purpose.
pub fn is_repeat(current: Option<&previews::Preview>, head_sha: &str) -> bool {
    let Some(current) = current else {
        return false;
    };
    current.wants_up()
        && current.head_sha == head_sha
        && !matches!(
            current.status(),
            PreviewStatus::Destroying | PreviewStatus::Destroyed | PreviewStatus::Expired
        )
}

/// Whether a preview wanted up may deploy `head_sha` now, or waits for a maintainer's
/// `/preview` (fork PRs under `maintainer_approval`: the approval is for one head only, so a
/// later push from the fork needs it again).
pub fn may_deploy(
    preview: &Preview,
    from_fork: bool,
    head_sha: &str,
    approved: Option<&str>,
) -> bool {
    if !from_fork {
        return true;
    }
    match preview.forks {
        ForkPolicy::Always => true,
        ForkPolicy::Never => false,
        ForkPolicy::MaintainerApproval => approved == Some(head_sha),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo_config::PullRequests;

    fn preview(forks: ForkPolicy, drafts: bool) -> Preview {
        Preview {
            pull_requests: PullRequests {
                base: vec!["main".into()],
                drafts,
            },
            ttl: None,
            max_active: None,
            forks,
        }
    }

    fn pull(action: &str) -> PullFacts<'_> {
        PullFacts {
            action,
            base: "main",
            draft: false,
            from_fork: false,
        }
    }

    #[test]
    fn pushes_to_a_configured_base_deploy_and_closing_destroys() {
        let p = preview(ForkPolicy::MaintainerApproval, false);
        for action in ["opened", "reopened", "synchronize", "ready_for_review"] {
            assert_eq!(on_pull_request(&p, &pull(action)), Wanted::Up, "{action}");
        }
        assert_eq!(on_pull_request(&p, &pull("closed")), Wanted::Down);
        assert_eq!(on_pull_request(&p, &pull("labeled")), Wanted::Nothing);
    }

    #[test]
    fn other_bases_and_drafts_get_nothing_unless_drafts_are_on() {
        let p = preview(ForkPolicy::MaintainerApproval, false);
        let other_base = PullFacts {
            base: "release",
            ..pull("opened")
        };
        assert_eq!(on_pull_request(&p, &other_base), Wanted::Nothing);
        let draft = PullFacts {
            draft: true,
            ..pull("opened")
        };
        assert_eq!(on_pull_request(&p, &draft), Wanted::Nothing);
        let with_drafts = preview(ForkPolicy::MaintainerApproval, true);
        assert_eq!(on_pull_request(&with_drafts, &draft), Wanted::Up);
    }

    fn stored(wanted: &str, head_sha: &str, status: PreviewStatus) -> previews::Preview {
        previews::Preview {
            wanted: wanted.into(),
            head_sha: head_sha.into(),
            status: status.as_str().into(),
            ..previews::Preview::default()
        }
    }

    #[test]
    fn the_same_head_again_is_a_repeat_while_it_is_wanted_up() {
        use PreviewStatus::*;
        for status in [
            Queued,
            AwaitingSteps,
            AwaitingApproval,
            Deploying,
            Ready,
            Blocked,
            Failed,
        ] {
            assert!(
                is_repeat(Some(&stored("up", "a1", status)), "a1"),
                "{status:?}"
            );
        }
        assert!(!is_repeat(None, "a1"), "a first event");
        assert!(
            !is_repeat(Some(&stored("up", "a1", Ready)), "b2"),
            "a new head"
        );
        assert!(
            !is_repeat(Some(&stored("down", "a1", Destroyed)), "a1"),
            "reopened after closing"
        );
        for status in [Destroying, Destroyed, Expired] {
            assert!(
                !is_repeat(Some(&stored("up", "a1", status)), "a1"),
                "{status:?}"
            );
        }
    }

    #[test]
    fn fork_heads_deploy_only_as_their_policy_says() {
        let approval = preview(ForkPolicy::MaintainerApproval, false);
        assert!(!may_deploy(&approval, true, "b2", None));
        assert!(
            !may_deploy(&approval, true, "b2", Some("a1")),
            "a later push needs it again"
        );
        assert!(may_deploy(&approval, true, "b2", Some("b2")));
        assert!(may_deploy(&approval, false, "b2", None));
        assert!(may_deploy(
            &preview(ForkPolicy::Always, false),
            true,
            "b2",
            None
        ));
        let never = preview(ForkPolicy::Never, false);
        assert!(!may_deploy(&never, true, "b2", Some("b2")));
        let fork = PullFacts {
            from_fork: true,
            ..pull("opened")
        };
        assert_eq!(on_pull_request(&never, &fork), Wanted::Nothing);
    }
}
