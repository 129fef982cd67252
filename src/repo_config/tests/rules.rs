//! Every rule that spans values, with the message a user sees and where it points.

use super::{assert_error, errors};

/// A valid preview environment (lines 2–4 under `environments:`).
const PREVIEW: &str = "  preview:
    pull_requests: { base: [latest] }
    deploy: { provider: kubernetes, manifests: deploy/preview, namespace: \"pr-{pr}\" }
";

/// A valid branch-bound environment (3 lines).
const STAGING: &str = "  staging:
    branch: latest
    deploy: { provider: kubernetes, manifests: deploy/staging, namespace: staging }
";

fn environments(parts: &[&str]) -> String {
    format!("environments:\n{}", parts.concat())
}

mod pipeline {
    use super::*;

    #[test]
    fn step_names_are_unique() {
        assert_error(
            "pipeline:\n  - { name: unit, run: [make] }\n  - { name: unit, run: [make, again] }\n",
            "3:13: step names must be unique: pipeline[0] is also named `unit`",
        );
    }

    #[test]
    fn a_step_cannot_take_the_name_of_gitferrys_own_check_runs() {
        assert_error(
            "pipeline:\n  - { name: preview, run: [make] }\n",
            "2:13: `preview` is taken by gitferry's own check run gitferry/preview",
        );
    }

    #[test]
    fn variables_have_proper_names_and_leave_gitferrys_alone() {
        assert_eq!(
            errors(
                "pipeline:\n  - name: unit\n    run: [make]\n    env:\n      my-var: x\n      GITFERRY_PR: \"1\"\n"
            ),
            [
                "5:7: `my-var` is not a variable name: use letters, digits and `_`, not starting with a digit",
                "6:7: variables starting with GITFERRY_ are set by gitferry",
            ]
        );
    }

    #[test]
    fn a_secret_must_not_be_one_of_gitferrys_own_settings() {
        assert_error(
            "pipeline:\n  - name: unit\n    run: [make]\n    env:\n      KEY: { secret: GITHUB_PRIVATE_KEY }\n",
            "5:22: this names one of gitferry's own settings (GITFERRY_*, GITHUB_*, DATABASE_URL), \
             which a repository cannot read",
        );
    }

    #[test]
    fn commands_are_not_templates() {
        assert_error(
            "pipeline:\n  - { name: unit, run: [make, \"PR={pr}\"] }\n",
            "2:31: commands are not templates: `{pr}` would be passed as it is; read the value \
             from the GITFERRY_* environment variables instead",
        );
    }

    #[test]
    fn after_deploy_needs_an_environment_to_run_against() {
        assert_error(
            "pipeline:\n  - { name: smoke, after: deploy, run: [./smoke.sh] }\n",
            "2:27: `after: deploy` runs against a deployed environment, and there is none (add a \
             preview environment with `pull_requests`, or one with `branch`)",
        );
        // A branch environment's releases are verified by them.
        let with_staging = format!(
            "pipeline:\n  - {{ name: smoke, after: deploy, run: [./smoke.sh] }}\n{}",
            environments(&[STAGING])
        );
        assert_eq!(errors(&with_staging), Vec::<String>::new());
        let with_preview = format!(
            "pipeline:\n  - {{ name: smoke, after: deploy, run: [./smoke.sh] }}\n{}",
            environments(&[PREVIEW])
        );
        assert_eq!(errors(&with_preview), Vec::<String>::new());
    }

    #[test]
    fn auto_rollback_is_for_branch_bound_environments_only() {
        let on_staging = environments(&[STAGING, "    auto_rollback: true\n"]);
        assert_eq!(errors(&on_staging), Vec::<String>::new());
        let on_preview = environments(&[PREVIEW, "    auto_rollback: true\n"]);
        let found = errors(&on_preview);
        assert!(
            found
                .iter()
                .any(|e| e.contains("`auto_rollback` applies to branch-bound")),
            "{found:?}"
        );
    }

    #[test]
    fn a_step_on_kubernetes_needs_an_image() {
        assert_error(
            "pipeline:\n  - { name: unit, run: [make], runner: kubernetes }\n",
            "2:40: steps on the kubernetes runner need `runner.image` (the image they run in)",
        );
    }

    #[test]
    fn timeouts_are_bounded() {
        assert_error(
            "pipeline:\n  - { name: unit, run: [make], timeout: 3d }\n",
            "2:41: must be at most 1day",
        );
    }
}

mod runner {
    use super::*;

    #[test]
    fn the_kubernetes_runner_needs_an_image_and_sane_limits() {
        assert_eq!(
            errors("runner:\n  kind: kubernetes\n  namespace: CI_Jobs\n  concurrency: 0\n"),
            [
                "2:9: the kubernetes runner needs `image` (the image steps run in)",
                "3:14: `CI_Jobs` is not a namespace name: use a-z, 0-9 and `-`",
                "4:16: must be between 1 and 64, not 0",
            ]
        );
    }
}

mod environments {
    use super::*;

    #[test]
    fn names_are_lower_case() {
        let yaml = environments(&[&STAGING.replace("staging:", "Staging:")]);
        assert_error(
            &yaml,
            "2:3: `Staging` is not an environment name: use a-z, 0-9, `-` and `_`, at most 63 characters",
        );
    }

    #[test]
    fn there_is_at_most_one_preview_environment() {
        let yaml = environments(&[PREVIEW, &PREVIEW.replace("preview:", "review:")]);
        assert_error(
            &yaml,
            "6:5: only one environment can have `pull_requests`; `preview` already does",
        );
    }

    #[test]
    fn an_environment_is_preview_or_branch_bound() {
        assert_error(
            &environments(
                &[&PREVIEW.replace("pull_requests:", "branch: main\n    pull_requests:")],
            ),
            "3:5: an environment has either `pull_requests` (a preview environment) or `branch`, not both",
        );
        assert_error(
            "environments:\n  loose:\n    deploy: { provider: command, deploy: [d] }\n",
            "2:3: an environment needs `pull_requests` (a preview environment) or `branch` (one \
             deployed from a branch)",
        );
    }

    #[test]
    fn preview_settings_belong_to_the_preview_environment() {
        assert_error(
            &environments(&[STAGING, "    ttl: 72h\n"]),
            "5:5: `ttl` applies to the preview environment (`pull_requests`) only",
        );
    }

    #[test]
    fn previews_need_base_branches_a_real_ttl_and_room() {
        let yaml = environments(&[
            &PREVIEW.replace("[latest]", "[]"),
            "    ttl: 30s\n    max_active: 0\n",
        ]);
        assert_eq!(
            errors(&yaml),
            [
                "3:22: list the base branches whose pull requests get a preview",
                "5:10: must be at least 1m",
                "6:17: must be at least 1 (leave it out for no limit)",
            ]
        );
    }

    #[test]
    fn branch_names_follow_gits_rules() {
        assert_error(
            &environments(&[&STAGING.replace("branch: latest", "branch: \"my branch\"")]),
            "3:13: `my branch` is not a branch name",
        );
    }

    #[test]
    fn promote_from_names_an_existing_environment() {
        let yaml = environments(&[
            STAGING,
            "  production:\n    branch: main\n    promote_from: stagin\n    deploy: { provider: command, deploy: [d] }\n",
        ]);
        assert_error(
            &yaml,
            "7:19: no environment named `stagin`; did you mean `staging`?",
        );
    }

    #[test]
    fn promotion_runs_between_branch_bound_environments() {
        let from_preview = environments(&[
            PREVIEW,
            "  production:\n    branch: main\n    promote_from: preview\n    deploy: { provider: command, deploy: [d] }\n",
        ]);
        assert_error(
            &from_preview,
            "7:19: `preview` is the preview environment; promote from a branch-bound one",
        );
        let into_preview = environments(&[STAGING, PREVIEW, "    promote_from: staging\n"]);
        assert_error(
            &into_preview,
            "8:5: the preview environment is deployed from pull requests, not promoted into",
        );
        let itself = environments(&[STAGING, "    promote_from: staging\n"]);
        assert_error(
            &itself,
            "5:19: an environment cannot be promoted from itself",
        );
    }

    #[test]
    fn promotion_cannot_go_round_in_a_circle() {
        let yaml = environments(&[
            STAGING,
            "    promote_from: production\n",
            "  production:\n    branch: main\n    promote_from: staging\n    deploy: { provider: command, deploy: [d] }\n",
        ]);
        assert_error(
            &yaml,
            "8:19: promotion goes round in a circle: production ← staging ← production",
        );
    }

    #[test]
    fn a_circle_is_reported_once_even_with_a_tail_leading_into_it() {
        let env = |name: &str, from: &str| {
            format!(
                "  {name}:\n    branch: {name}\n    promote_from: {from}\n    deploy: {{ provider: command, deploy: [d] }}\n"
            )
        };
        let yaml = environments(&[
            &env("a", "c"),
            &env("b", "a"),
            &env("c", "b"),
            &env("d", "a"),
        ]);
        assert_error(
            &yaml,
            "4:19: promotion goes round in a circle: a ← c ← b ← a",
        );
    }

    #[test]
    fn approvals_gate_promotion_and_must_be_possible() {
        let without_promotion = environments(&[STAGING, "    approvals: { permission: admin }\n"]);
        assert_error(
            &without_promotion,
            "5:5: approvals gate promotion, and this environment has no `promote_from`",
        );
        let production = |approvals: &str| {
            environments(&[
                STAGING,
                "  production:\n    branch: main\n    promote_from: staging\n",
                &format!("    approvals: {approvals}\n"),
                "    deploy: { provider: command, deploy: [d] }\n",
            ])
        };
        assert_error(
            &production("{ min: 2 }"),
            "8:5: say who may approve: `permission`, `teams` or `users`",
        );
        assert_error(
            &production("{ min: 2, users: [alice, alice] }"),
            "8:23: 2 approvals are needed but only 1 user(s) may give them",
        );
        assert_error(
            &production("{ min: 0, permission: admin }"),
            "8:23: must be between 1 and 10, not 0",
        );
        assert_error(
            &production("{ teams: [release managers] }"),
            "8:26: `release managers` is not a team: write its slug, or org/slug",
        );
    }

    #[test]
    fn a_preview_namespace_contains_the_pr_number() {
        let yaml = environments(&[&PREVIEW.replace("\"pr-{pr}\"", "previews")]);
        assert_error(
            &yaml,
            "4:75: a preview namespace must contain {pr}, or every pull request would deploy into \
             the same namespace",
        );
    }

    #[test]
    fn a_branch_bound_environment_has_no_pr_number() {
        let yaml = environments(&[STAGING, "    url: \"https://pr-{pr}.example.com\"\n"]);
        assert_error(
            &yaml,
            "5:10: {pr} is only known in the preview environment; this one is deployed from a branch",
        );
    }

    #[test]
    fn namespaces_are_dns_labels() {
        let yaml =
            environments(&[&STAGING.replace("namespace: staging", "namespace: Shop_Staging")]);
        assert_error(
            &yaml,
            "4:75: a namespace is a DNS label: use a-z, 0-9 and `-`, at most 63 characters",
        );
    }

    #[test]
    fn templates_know_their_placeholders() {
        let yaml = environments(&[PREVIEW, "    url: \"https://pr-{pr_number}.example.com\"\n"]);
        assert_error(
            &yaml,
            "5:10: unknown placeholder `{pr_number}`; did you mean `{pr}`?",
        );
    }

    #[test]
    fn urls_are_web_addresses() {
        let yaml = environments(&[STAGING, "    url: staging.example.com\n"]);
        assert_error(
            &yaml,
            "5:10: `url` is a web address starting with https:// or http://",
        );
    }

    #[test]
    fn a_command_provider_for_previews_can_destroy_them() {
        let yaml = "environments:\n  preview:\n    pull_requests: { base: [latest] }\n    deploy: { provider: command, deploy: [./up.sh] }\n";
        assert_error(
            yaml,
            "4:5: the preview environment's command provider needs `destroy`, to remove previews \
             when their pull request closes",
        );
    }

    #[test]
    fn the_kubernetes_provider_needs_its_manifests() {
        let yaml = environments(&[&STAGING.replace("manifests: deploy/staging, ", "")]);
        assert_error(
            &yaml,
            "4:5: the kubernetes provider needs `manifests` (the folder of manifests to apply)",
        );
    }

    #[test]
    fn manifests_stay_inside_the_repository() {
        let yaml = environments(&[&STAGING.replace("deploy/staging", "../../etc")]);
        assert_error(
            &yaml,
            "4:48: `../../etc` leaves the repository (`..`); write it relative to the repository root",
        );
    }
}

mod drift {
    use super::*;

    #[test]
    fn drift_is_not_checked_more_than_once_a_minute() {
        assert_error(
            "drift: { every: 10s }\n",
            "1:17: must be at least 1m (comparing more often loads the cluster and GitHub for nothing)",
        );
    }

    #[test]
    fn ignore_rules_use_json_pointers() {
        assert_error(
            "drift:\n  ignore:\n    - { kind: Deployment, path: spec.replicas }\n",
            "3:33: `spec.replicas` is not a JSON pointer: start with `/`, e.g. /spec/replicas, and \
             write `~` as `~0` and `/` inside a name as `~1`",
        );
    }
}

mod merge_queue {
    use super::*;

    #[test]
    fn batches_and_parallelism_are_bounded() {
        assert_eq!(
            errors("merge_queue:\n  branches: [latest]\n  batch_size: 40\n  parallel: 0\n"),
            [
                "3:15: must be between 1 and 32, not 40",
                "4:13: must be between 1 and 8, not 0"
            ]
        );
    }

    #[test]
    fn the_queue_needs_branches() {
        assert_error(
            "merge_queue:\n  branches: []\n",
            "2:3: list the base branches whose pull requests are queued",
        );
    }

    #[test]
    fn required_checks_of_gitferry_name_real_steps() {
        let yaml = "pipeline:\n  - { name: unit, run: [make] }\nmerge_queue:\n  branches: [latest]\n  checks: [gitferry/unti, gitferry/preview, ci/circle]\n";
        assert_error(
            yaml,
            "5:12: no pipeline step named `unti`; did you mean `unit`?",
        );
    }
}

mod notify {
    use super::*;

    #[test]
    fn one_channel_per_entry() {
        assert_error(
            "notify:\n  - on: [promoted]\n    slack: SLACK_URL\n    webhook: HOOK_URL\n",
            "4:5: one channel per entry: `slack` and `webhook` are both set; write two entries",
        );
        assert_error(
            "notify:\n  - on: [promoted]\n",
            "2:5: name a channel: `slack`, `dingtalk` or `webhook`",
        );
    }

    #[test]
    fn only_dingtalk_is_signed() {
        assert_error(
            "notify:\n  - on: [promoted]\n    webhook: HOOK_URL\n    secret: HOOK_SECRET\n",
            "4:5: `secret` signs DingTalk messages; it needs `dingtalk`",
        );
    }

    #[test]
    fn an_entry_sends_something() {
        assert_error(
            "notify:\n  - { on: [], slack: SLACK_URL }\n",
            "2:7: list the events to send, e.g. [preview_ready, tests_failed]",
        );
    }

    #[test]
    fn variable_names_are_upper_case() {
        assert_error(
            "notify:\n  - { on: [promoted], slack: slack_url }\n",
            "2:30: not an environment variable name: use upper-case letters, digits and `_`, not \
             starting with a digit (e.g. SLACK_WEBHOOK_URL)",
        );
    }

    #[test]
    fn rules_still_point_at_the_right_entry_after_a_broken_one() {
        assert_eq!(
            errors("notify:\n  - { on: [nope], slack: A }\n  - { on: [], slack: B }\n"),
            [
                "2:12: unknown value `nope`; expected one of: preview_ready, preview_failed, \
                 tests_failed, tests_passed, released, release_failed, promoted, rolled_back, \
                 drift_detected, queue_merged, \
                 queue_failed",
                "3:7: list the events to send, e.g. [preview_ready, tests_failed]",
            ]
        );
    }
}

mod commands {
    use super::*;

    #[test]
    fn roles_are_for_known_commands() {
        assert_error(
            "commands:\n  roles:\n    promte: { permission: admin }\n",
            "3:5: unknown command `promte`; did you mean `promote`?",
        );
    }

    #[test]
    fn per_environment_rules_are_for_promote_and_rollback() {
        let yaml = format!(
            "commands:\n  roles:\n    queue:\n      environments:\n        staging: {{ permission: admin }}\n{}",
            environments(&[STAGING])
        );
        assert_error(
            &yaml,
            "4:7: per-environment rules apply to promote and rollback only",
        );
    }

    #[test]
    fn per_environment_rules_name_environments_that_can_be_promoted() {
        let yaml = format!(
            "commands:\n  roles:\n    promote:\n      environments:\n        staging: {{ permission: admin }}\n        prod: {{ teams: [release] }}\n{}",
            environments(&[STAGING])
        );
        assert_eq!(
            errors(&yaml),
            [
                "5:9: `staging` has no `promote_from`, so nothing is promoted into it",
                "6:9: no environment named `prod`; expected one of: staging",
            ]
        );
    }

    #[test]
    fn previews_are_not_rolled_back() {
        let yaml = format!(
            "commands:\n  roles:\n    rollback:\n      environments:\n        preview: {{ permission: admin }}\n{}",
            environments(&[PREVIEW])
        );
        assert_error(
            &yaml,
            "5:9: previews are not rolled back; name a branch-bound environment",
        );
    }

    #[test]
    fn people_are_github_logins_and_teams() {
        assert_eq!(
            errors(
                "commands:\n  prefix: \"\"\n  roles:\n    queue: { users: [\"-bad\"], teams: [a b] }\n"
            ),
            [
                "2:11: the prefix is 1 to 16 characters without spaces, e.g. `/`",
                "4:22: `-bad` is not a GitHub login",
                "4:39: `a b` is not a team: write its slug, or org/slug",
            ]
        );
    }
}
