//! Misspelt keys, wrong types and YAML mistakes: each reported at its line and column.

use super::{assert_error, error_paths, errors};

#[test]
fn a_misspelt_section_gets_a_suggestion() {
    assert_error(
        "merge_qeue:\n  branches: [latest]\n",
        "1:1: unknown key `merge_qeue`; did you mean `merge_queue`?",
    );
}

#[test]
fn a_key_like_nothing_known_lists_what_is_valid() {
    assert_error(
        "colour: blue\n",
        "1:1: unknown key `colour`; expected one of: commands, pipeline, runner, environments, \
         drift, merge_queue, notify",
    );
}

#[test]
fn a_misspelt_key_deep_inside_is_found_where_it_is() {
    let yaml = "environments:\n  staging:\n    brnch: latest\n    deploy: { provider: command, deploy: [./d.sh] }\n";
    assert_eq!(
        errors(yaml),
        ["3:5: unknown key `brnch`; did you mean `branch`?"]
    );
    assert_eq!(error_paths(yaml), ["environments.staging.brnch"]);
}

#[test]
fn a_misspelt_value_gets_a_suggestion() {
    assert_error(
        "notify:\n  - { on: [drift], slack: SLACK_URL }\n",
        "2:12: unknown value `drift`; did you mean `drift_detected`?",
    );
    assert_error(
        "merge_queue:\n  branches: [latest]\n  method: fast-forward\n",
        "3:11: unknown value `fast-forward`; expected one of: merge, squash, rebase",
    );
}

#[test]
fn a_command_written_as_a_string_gets_the_list_to_write() {
    assert_error(
        "pipeline:\n  - name: unit\n    run: \"make test\"\n",
        "3:10: a command is a list of arguments, not a string (a string would invite shell \
         interpolation); write it as a list: [make, test]",
    );
}

#[test]
fn a_webhook_url_instead_of_a_variable_name_is_refused_without_echoing_it() {
    let yaml =
        "notify:\n  - on: [promoted]\n    slack: https://hooks.slack.com/services/T0/B0/s3cr3t\n";
    let found = errors(yaml);
    assert_eq!(
        found,
        [
            "3:12: this looks like a URL or a secret; name an environment variable of the gitferry \
          process, not the secret itself"
        ]
    );
    assert!(!found[0].contains("s3cr3t"));
}

#[test]
fn wrong_types_are_reported_at_the_value() {
    assert_error(
        "merge_queue:\n  branches: [latest]\n  batch_size: lots\n",
        "3:15: invalid type: string \"lots\", expected u32",
    );
    assert_error(
        "environments:\n  staging:\n    branch: [latest]\n    deploy: { provider: command, deploy: [d] }\n",
        "3:13: invalid type: sequence, expected a string",
    );
}

#[test]
fn a_duration_needs_a_unit() {
    assert_error(
        "drift:\n  every: 600\n",
        "2:10: a duration needs a unit: write it like `90s`, `10m` or `72h`",
    );
    assert_error(
        "drift:\n  every: 3 dayz\n",
        "2:10: `3 dayz` is not a duration (unknown unit `dayz`); write it like `90s`, `10m`, \
         `1h30m` or `72h`",
    );
}

#[test]
fn a_missing_key_points_at_the_entry_that_lacks_it() {
    assert_error("pipeline:\n  - name: unit\n", "2:5: missing key `run`");
}

#[test]
fn errors_in_different_entries_and_sections_are_all_reported() {
    let yaml = r#"pipeline:
  - name: unit
    run: "make test"
  - name: Lint
    run: [make, lint]
environments:
  staging:
    branch: latest
    ttl: 3 days
    deploy: { provider: command, deploy: [d] }
  production:
    branch: main
    deploy: { provider: kubernetes, manifest: deploy/prod, namespace: shop }
drift: { every: soon }
notify:
  - { on: [promoted], slack: hooks.slack.com/x }
"#;
    assert_eq!(
        error_paths(yaml),
        [
            "pipeline[0].run",
            "pipeline[1].name",
            "environments.staging.ttl",
            "environments.production.deploy.manifest",
            "drift.every",
            "notify[0].slack",
        ]
    );
}

#[test]
fn the_config_must_be_a_mapping() {
    assert_error(
        "- pipeline\n",
        "1:1: the config is a mapping of sections (pipeline, environments, …), not a list",
    );
}

#[test]
fn duplicate_keys_are_refused_at_the_second() {
    assert_error(
        "drift:\n  every: 5m\n  every: 10m\n",
        "3:3: duplicate key `every` (first written at line 2)",
    );
}

#[test]
fn yaml_syntax_errors_are_located() {
    assert_error(
        "pipeline:\n  - name: unit\n   run: [make]\n",
        "3:4: YAML syntax error: while parsing a block collection, did not find expected '-' indicator",
    );
    assert_error(
        "drift: { every: 10m\n",
        "2:1: YAML syntax error: while parsing a flow mapping, did not find expected ',' or '}'",
    );
}

#[test]
fn tags_and_merge_keys_are_refused() {
    assert_error(
        "drift: !vault { every: 10m }\n",
        "1:8: YAML tags such as `!vault` have no meaning in a gitferry config",
    );
    assert_error(
        "base: &base { every: 10m }\ndrift:\n  <<: *base\n",
        "3:3: YAML merge keys (`<<`) are not supported; repeat the keys, or point an alias at a \
         whole value",
    );
}

#[test]
fn anchors_and_aliases_for_whole_values_work() {
    let yaml =
        "pipeline:\n  - name: unit\n    run: &make [make, test]\n  - name: again\n    run: *make\n";
    let config = crate::repo_config::parse(yaml).unwrap();
    assert_eq!(config.pipeline[1].run, config.pipeline[0].run);
}

#[test]
fn a_wrong_value_inside_a_provider_is_reported_at_its_own_key() {
    assert_error(
        "environments:\n  staging:\n    branch: latest\n    deploy:\n      provider: command\n      deploy: [./deploy.sh, 1.5]\n",
        "6:29: invalid type: floating point `1.5`, expected a string",
    );
    assert_error(
        "environments:\n  staging:\n    branch: latest\n    deploy: { provider: kubernets }\n",
        "4:25: unknown value `kubernets`; did you mean `kubernetes`?",
    );
}

#[test]
fn a_key_of_the_other_provider_is_pointed_at() {
    assert_error(
        "environments:\n  staging:\n    branch: latest\n    deploy:\n      provider: command\n      deploy: [./deploy.sh]\n      namespace: shop\n",
        "7:7: `namespace` belongs to the kubernetes provider, not to command",
    );
}

#[test]
fn pod_security_is_a_kubernetes_level_defaulting_to_restricted() {
    use crate::repo_config::{Deploy, PodSecurity};
    let level = |extra: &str| {
        let yaml = format!(
            "environments:\n  staging:\n    branch: latest\n    deploy:\n      provider: kubernetes\n      \
             manifests: deploy\n      namespace: shop\n{extra}"
        );
        let config = crate::repo_config::parse(&yaml).unwrap();
        match &config.environments["staging"].deploy {
            Deploy::Kubernetes(k) => k.pod_security,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(level(""), PodSecurity::Restricted);
    assert_eq!(
        level("      pod_security: baseline\n"),
        PodSecurity::Baseline
    );
    assert_eq!(
        level("      pod_security: privileged\n"),
        PodSecurity::Privileged
    );
    assert_error(
        "environments:\n  staging:\n    branch: latest\n    deploy:\n      provider: kubernetes\n      \
         manifests: deploy\n      namespace: shop\n      pod_security: priviledged\n",
        "8:21: unknown value `priviledged`; did you mean `privileged`?",
    );
    assert_error(
        "environments:\n  staging:\n    branch: latest\n    deploy:\n      provider: command\n      \
         deploy: [./deploy.sh]\n      pod_security: baseline\n",
        "7:7: `pod_security` belongs to the kubernetes provider, not to command",
    );
}
