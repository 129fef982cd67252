//! Rules for `pipeline:`.

use std::collections::HashMap;

use super::{Context, MAX_TIMEOUT, MIN_TIMEOUT};
use crate::repo_config::load::{ConfigPath, Problem, Section};
use crate::repo_config::model::{RunnerKind, Step};
use crate::repo_config::values::{is_variable_name, shown};

/// Check runs gitferry creates itself; a step with one of these names would collide.
pub(crate) const RESERVED_STEP_NAMES: [&str; 5] =
    ["config", "preview", "drift", "queue", "promotion"];

pub(super) fn check(cx: &mut Context<'_>) {
    let config = cx.config;
    let mut first_path: HashMap<&str, ConfigPath> = HashMap::new();
    for (index, step) in config.pipeline.iter().enumerate() {
        let at = cx.item(Section::Pipeline, index);
        let name = step.name.as_str();
        if let Some(first) = first_path.get(name) {
            cx.report(Problem::at_value(
                at.key("name"),
                format!("step names must be unique: {first} is also named `{name}`"),
            ));
        } else {
            first_path.insert(name, at.clone());
        }
        if RESERVED_STEP_NAMES.contains(&name) {
            cx.report(Problem::at_value(
                at.key("name"),
                format!("`{name}` is taken by gitferry's own check run gitferry/{name}"),
            ));
        }
        cx.no_placeholders(&at.key("run"), &step.run);
        cx.duration_between(
            at.key("timeout"),
            step.timeout,
            MIN_TIMEOUT,
            MAX_TIMEOUT,
            "",
        );
        variables(cx, &at, step);
        if step.after.is_some()
            && cx.complete(Section::Environments)
            && config.environments.is_empty()
        {
            cx.report(Problem::at_value(
                at.key("after"),
                "`after: deploy` runs against a deployed environment, and there is none (add a \
                 preview environment with `pull_requests`, or one with `branch`)",
            ));
        }
        let on_kubernetes = step.runner == Some(RunnerKind::Kubernetes);
        if on_kubernetes
            && config.runner.kind != RunnerKind::Kubernetes
            && config.runner.image.is_none()
            && cx.complete(Section::Runner)
        {
            cx.report(Problem::at_value(
                at.key("runner"),
                "steps on the kubernetes runner need `runner.image` (the image they run in)",
            ));
        }
    }
}

fn variables(cx: &mut Context<'_>, at: &ConfigPath, step: &Step) {
    for name in step.env.keys() {
        let at = at.key("env").key(name);
        if !is_variable_name(name) {
            cx.report(Problem::at_key(
                at,
                format!("`{}` is not a variable name: use letters, digits and `_`, not starting with a digit", shown(name)),
            ));
        } else if name.starts_with("GITFERRY_") {
            cx.report(Problem::at_key(
                at,
                "variables starting with GITFERRY_ are set by gitferry",
            ));
        }
    }
}
