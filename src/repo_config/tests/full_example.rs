//! A complete config, as a team would write it, parses into what it says.

use std::collections::BTreeMap;

use crate::repo_config::*;

pub(super) const FULL: &str = r#"# .github/gitferry.yml — read from the default branch only
commands:
  prefix: "/"
  roles:
    preview: { permission: write, author: true }
    queue: { permission: maintain, teams: [mergers] }
    promote:
      permission: admin
      environments:
        production: { permission: admin, teams: [release-managers] }
pipeline:
  - name: unit
    run: [make, test]
    junit: [target/junit/*.xml]
    env:
      RUST_LOG: debug
      RETRIES: 3
      CARGO_REGISTRY_TOKEN: { secret: CARGO_TOKEN }
  - name: functional
    after: deploy
    run: [./scripts/smoke.sh, --fast]
    junit: [reports/*.xml]
    timeout: 15m
runner:
  kind: local
  concurrency: 2
environments:
  preview:
    pull_requests: { base: [latest] }
    deploy:
      provider: kubernetes
      manifests: deploy/preview
      namespace: "shop-pr-{pr}"
      render: [kustomize, build, deploy/preview]
    url: "https://shop-pr-{pr}.preview.example.com"
    ttl: 72h
    max_active: 10
    forks: maintainer_approval
  staging:
    branch: latest
    deploy: { provider: kubernetes, manifests: deploy/staging, namespace: shop-staging }
    url: https://staging.example.com
  production:
    branch: main
    promote_from: staging
    approvals: { min: 1, permission: admin, teams: [release-managers] }
    deploy: { provider: command, deploy: [./scripts/release.sh], status: [./scripts/status.sh] }
    url: https://shop.example.com
drift:
  every: 10m
  mode: warn
  ignore:
    - { kind: Deployment, path: /spec/replicas }
merge_queue:
  branches: [latest]
  batch_size: 4
  parallel: 2
  method: merge
  checks: [gitferry/unit]
notify:
  - { on: [preview_ready, tests_failed, promoted, drift_detected], slack: SLACK_WEBHOOK_URL }
  - { on: [promoted, rolled_back], dingtalk: DINGTALK_WEBHOOK, secret: DINGTALK_SECRET }
"#;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn argv(items: &[&str]) -> Argv {
    Argv::try_from(strings(items)).unwrap()
}

#[test]
fn a_full_config_parses_into_what_it_says() {
    let config = parse(FULL).unwrap();

    assert_eq!(config.commands.prefix, "/");
    assert_eq!(
        config.commands.roles["preview"],
        CommandRule {
            permission: Some(Permission::Write),
            author: Some(true),
            ..CommandRule::default()
        }
    );
    let production_rule = &config.commands.roles["promote"].environments["production"];
    assert_eq!(production_rule.teams, ["release-managers"]);

    let unit = config.step("unit").unwrap();
    assert_eq!(unit.run, argv(&["make", "test"]));
    assert_eq!(unit.timeout, Duration::from_mins(30));
    assert_eq!(unit.junit, [RepoPath::new("target/junit/*.xml").unwrap()]);
    assert_eq!(
        unit.env,
        BTreeMap::from([
            ("RUST_LOG".to_owned(), EnvValue::Literal("debug".into())),
            ("RETRIES".to_owned(), EnvValue::Literal("3".into())),
            (
                "CARGO_REGISTRY_TOKEN".to_owned(),
                EnvValue::Secret(EnvVarName::new("CARGO_TOKEN").unwrap())
            ),
        ])
    );
    let functional = config.step("functional").unwrap();
    assert_eq!(functional.after, Some(After::Deploy));
    assert_eq!(functional.timeout, Duration::from_mins(15));

    assert_eq!(config.runner, Runner::default());

    let (name, preview) = config.preview_environment().unwrap();
    assert_eq!(name, "preview");
    let settings = preview.preview().unwrap();
    assert_eq!(
        settings.pull_requests,
        PullRequests {
            base: strings(&["latest"]),
            drafts: false
        }
    );
    assert_eq!(settings.ttl, Some(Duration::from_mins(72 * 60)));
    assert_eq!(settings.max_active, Some(10));
    assert_eq!(settings.forks, ForkPolicy::MaintainerApproval);
    let Deploy::Kubernetes(kubernetes) = &preview.deploy else {
        panic!("{:?}", preview.deploy)
    };
    assert_eq!(kubernetes.manifests.as_str(), "deploy/preview");
    assert!(kubernetes.namespace.uses(Placeholder::Pr));
    assert_eq!(
        kubernetes.render,
        Some(argv(&["kustomize", "build", "deploy/preview"]))
    );
    assert!(kubernetes.prune);
    let values = TemplateValues {
        pr: Some(7),
        sha: "abc1234def",
        branch: "feature/x",
        env: "preview",
    };
    assert_eq!(
        preview.url.as_ref().unwrap().render(&values),
        "https://shop-pr-7.preview.example.com"
    );

    let production = &config.environments["production"];
    assert_eq!(production.branch(), Some("main"));
    assert_eq!(production.promote_from.as_deref(), Some("staging"));
    assert_eq!(
        production.approvals,
        Some(Approvals {
            min: 1,
            permission: Some(Permission::Admin),
            teams: strings(&["release-managers"]),
            users: vec![]
        })
    );
    assert_eq!(
        production.deploy,
        Deploy::Command(CommandDeploy {
            deploy: argv(&["./scripts/release.sh"]),
            destroy: None,
            status: Some(argv(&["./scripts/status.sh"])),
            timeout: Duration::from_mins(30),
        })
    );

    assert_eq!(config.drift.every, Duration::from_mins(10));
    assert_eq!(config.drift.mode, DriftMode::Warn);
    assert_eq!(config.drift.ignore[0].path.as_str(), "/spec/replicas");

    let queue = config.merge_queue.as_ref().unwrap();
    assert_eq!(
        (queue.batch_size, queue.parallel, queue.method),
        (4, 2, MergeMethod::Merge)
    );
    assert_eq!(queue.checks, ["gitferry/unit"]);
    assert_eq!(queue.timeout, Duration::from_mins(60));

    assert_eq!(config.notify.len(), 2);
    assert_eq!(
        config.notify[0].channel,
        Channel::Slack {
            url: EnvVarName::new("SLACK_WEBHOOK_URL").unwrap()
        }
    );
    assert_eq!(
        config.notify[1].channel,
        Channel::DingTalk {
            url: EnvVarName::new("DINGTALK_WEBHOOK").unwrap(),
            secret: Some(EnvVarName::new("DINGTALK_SECRET").unwrap()),
        }
    );
    assert_eq!(
        config.notify[1].on,
        [NotifyEvent::Promoted, NotifyEvent::RolledBack]
    );
}

#[test]
fn an_empty_file_is_a_valid_config_of_defaults() {
    for empty in ["", "{}", "# nothing yet\n", "---\n", "pipeline:\nnotify:\n"] {
        assert_eq!(parse(empty), Ok(RepoConfig::default()), "{empty:?}");
    }
    let defaults = RepoConfig::default();
    assert_eq!(defaults.commands.prefix, "/");
    assert_eq!(defaults.runner.kind, RunnerKind::Local);
    assert_eq!(defaults.drift.every, Duration::from_mins(10));
    assert!(defaults.merge_queue.is_none());
}

#[test]
fn the_bytes_from_github_parse_the_same_way() {
    assert_eq!(parse_bytes(FULL.as_bytes()), parse(FULL));
    let with_bom = format!("\u{feff}{FULL}");
    assert_eq!(parse_bytes(with_bom.as_bytes()), parse(FULL));
}
