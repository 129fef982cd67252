//! Rules for `merge_queue:`.

use std::collections::HashSet;

use super::pipeline::RESERVED_STEP_NAMES;
use super::{Context, MAX_TIMEOUT, section};
use crate::repo_config::load::{Problem, Section, with_suggestion};
use crate::repo_config::values::{Duration, shown};

pub(super) fn check(cx: &mut Context<'_>) {
    let Some(queue) = &cx.config.merge_queue else {
        return;
    };
    let at = section(Section::MergeQueue);
    if queue.branches.is_empty() {
        cx.report(Problem::at(
            at.key("branches"),
            "list the base branches whose pull requests are queued",
        ));
    }
    cx.branches(&at.key("branches"), &queue.branches);
    cx.in_range(at.key("batch_size"), queue.batch_size, 1, 32);
    cx.in_range(at.key("parallel"), queue.parallel, 1, 8);
    cx.duration_between(
        at.key("timeout"),
        queue.timeout,
        Duration::from_mins(1),
        MAX_TIMEOUT,
        "",
    );
    let steps: Vec<&str> = cx
        .config
        .pipeline
        .iter()
        .map(|step| step.name.as_str())
        .collect();
    let known_steps: HashSet<&str> = steps.iter().copied().collect();
    for (index, check) in queue.checks.iter().enumerate() {
        let at = at.key("checks").index(index);
        if check.trim().is_empty() {
            cx.report(Problem::at_value(at, "the check name is empty"));
            continue;
        }
        let Some(step) = check.strip_prefix("gitferry/") else {
            continue;
        };
        let known = known_steps.contains(step) || RESERVED_STEP_NAMES.contains(&step);
        if !known && cx.complete(Section::Pipeline) {
            let lead = format!("no pipeline step named `{}`", shown(step));
            cx.report(Problem::at_value(at, with_suggestion(&lead, step, &steps)));
        }
    }
}
