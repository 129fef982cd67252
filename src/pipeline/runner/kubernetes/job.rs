//! The Job a step runs as: its name (a DNS label made from the step and the run id), its
//! labels, and its spec. One pod, never restarted and never retried (`backoffLimit: 0`): a
//! step's result is its first attempt's, as with the local runner.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, EnvVarSource, PodSpec, PodTemplateSpec, SecretKeySelector,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::pod::{SCRATCH, container_security, pod_security, resources, scratch_volumes};
use super::wrapper::{SCRIPT_NAME, WORKSPACE, WRAPPER};
use crate::pipeline::runner::StepRun;
use crate::repo_config::Resources;

pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGER: &str = "gitferry";
pub const RUN: &str = "gitferry.dev/run";
pub const STEP: &str = "gitferry.dev/step";

/// The one container's name, for its logs and status.
pub const CONTAINER: &str = "step";

/// How long a finished Job stays if gitferry dies before deleting it.
const TTL_AFTER_FINISHED_SECONDS: i32 = 600;

/// The longest DNS label (and label value).
const MAX_LABEL: usize = 63;

/// The variables the wrapper reads; a step's own `env` cannot replace them.
const SOURCE_URL: &str = "GITFERRY_SOURCE_URL";
const STEP_DIR: &str = "GITFERRY_STEP_DIR";
const JUNIT: &str = "GITFERRY_JUNIT";
const WORKSPACE_VAR: &str = "GITFERRY_WORKSPACE";

/// What the Job is made of besides the step itself.
pub struct Settings<'a> {
    pub namespace: &'a str,
    pub image: &'a str,
    pub service_account: Option<&'a str>,
    pub resources: &'a Resources,
}

/// `gitferry-<step>-<id>`: the step is cut (never the id, which keeps names unique per run) so
/// the whole stays a DNS label.
pub fn job_name(step: &str, id: &str) -> String {
    let id: String = dns_chars(id).chars().take(MAX_LABEL - 20).collect();
    let room = MAX_LABEL - "gitferry-".len() - 1 - id.len();
    let step: String = dns_chars(step).chars().take(room).collect();
    format!(
        "gitferry-{}-{}",
        step.trim_matches('-'),
        id.trim_matches('-')
    )
}

/// Lower-case letters, digits and `-`; anything else (`_`) becomes `-`.
fn dns_chars(text: &str) -> String {
    text.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect()
}

/// A valid label value: letters, digits, `-`, `_`, `.`, at most 63, alphanumeric at both ends.
fn label_value(text: &str) -> String {
    let kept: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(MAX_LABEL)
        .collect();
    kept.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

pub fn labels(run: &StepRun<'_>) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.to_owned(), MANAGER.to_owned()),
        (RUN.to_owned(), label_value(run.id)),
        (STEP.to_owned(), label_value(run.step)),
    ])
}

/// Whole seconds, rounded up, at least one: `activeDeadlineSeconds` must be positive.
pub fn deadline_seconds(timeout: Duration) -> i64 {
    let seconds = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    i64::try_from(seconds.max(1)).unwrap_or(i64::MAX)
}

/// The values that reach the pod through the run's Secret (see `secret`): the step's own
/// `env`, its secrets among them, and the source archive's link, which is a credential.
pub fn secret_values(run: &StepRun<'_>, source_url: &str) -> Vec<(String, String)> {
    let ours = [SOURCE_URL, STEP_DIR, JUNIT, WORKSPACE_VAR];
    let mut values: Vec<(String, String)> = run
        .env
        .iter()
        .filter(|(name, _)| !ours.contains(&name.as_str()))
        .cloned()
        .collect();
    values.push((SOURCE_URL.to_owned(), source_url.to_owned()));
    values
}

/// The step's environment: its own `env` and the source link by reference to the Secret
/// `secret` (keys named as the variables), then the plain values the wrapper reads.
fn environment(run: &StepRun<'_>, secret: &str) -> Vec<EnvVar> {
    let var = |name: &str, value: &str| EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        value_from: None,
    };
    let mut env: Vec<EnvVar> = secret_values(run, "")
        .into_iter()
        .map(|(name, _)| EnvVar {
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: secret.to_owned(),
                    key: name.clone(),
                    optional: Some(false),
                }),
                ..EnvVarSource::default()
            }),
            name,
            value: None,
        })
        .collect();
    env.push(var(STEP_DIR, run.dir.unwrap_or(".")));
    env.push(var(JUNIT, &run.junit.join("\n")));
    env.push(var(WORKSPACE_VAR, WORKSPACE));
    for default in ["HOME", "TMPDIR"] {
        if !run.env.iter().any(|(name, _)| name == default) {
            env.push(var(default, SCRATCH));
        }
    }
    env
}

/// The Job for one step, its variables read from the Secret `name` (the Job's own name).
/// `sh -c WRAPPER gitferry-step <argv...>`: the argv are positional arguments of a constant
/// script, never shell text.
pub fn build(run: &StepRun<'_>, settings: &Settings<'_>, name: &str) -> Job {
    let labels = labels(run);
    let mut command = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        WRAPPER.to_owned(),
        SCRIPT_NAME.to_owned(),
    ];
    command.extend(run.argv.iter().cloned());
    let (volumes, mounts) = scratch_volumes();
    let container = Container {
        name: CONTAINER.to_owned(),
        image: Some(settings.image.to_owned()),
        command: Some(command),
        env: Some(environment(run, name)),
        security_context: Some(container_security()),
        resources: Some(resources(settings.resources)),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    let pod = PodSpec {
        containers: vec![container],
        restart_policy: Some("Never".to_owned()),
        service_account_name: settings.service_account.map(str::to_owned),
        // Without a configured account, the step has no business talking to the cluster.
        automount_service_account_token: Some(settings.service_account.is_some()),
        security_context: Some(pod_security()),
        volumes: Some(volumes),
        ..PodSpec::default()
    };
    Job {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(settings.namespace.to_owned()),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            backoff_limit: Some(0),
            active_deadline_seconds: Some(deadline_seconds(run.timeout)),
            ttl_seconds_after_finished: Some(TTL_AFTER_FINISHED_SECONDS),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..JobSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_name_keeps_the_run_id_and_is_a_dns_label() {
        assert_eq!(
            job_name("unit_tests", "0123456789abcdef"),
            "gitferry-unit-tests-0123456789abcdef"
        );
        let long = job_name(&"integration_".repeat(10), "0123456789abcdef");
        assert_eq!(long.len(), 63, "{long}");
        assert!(long.ends_with("-0123456789abcdef"), "{long}");
        assert!(
            long.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
        assert!(!long.contains("--0123"), "{long}");
    }

    #[test]
    fn label_values_are_trimmed_to_alphanumeric_ends() {
        assert_eq!(label_value("_lint_"), "lint");
        assert_eq!(label_value(&"a".repeat(70)).len(), 63);
    }

    #[test]
    fn the_deadline_rounds_up_to_whole_seconds() {
        assert_eq!(deadline_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(deadline_seconds(Duration::from_secs(600)), 600);
        assert_eq!(deadline_seconds(Duration::ZERO), 1);
    }
}
