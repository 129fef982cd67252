//! Rules for `environments:`.

use std::collections::{BTreeMap, HashMap};

use super::{Context, MAX_TIMEOUT, MIN_TIMEOUT, section};
use crate::repo_config::load::{ConfigPath, Problem, Section, with_suggestion};
use crate::repo_config::model::{Approvals, Deploy, Environment};
use crate::repo_config::values::{
    Duration, Placeholder, Template, is_dns_label, is_environment_name, shown,
};

pub(super) fn check(cx: &mut Context<'_>) {
    let environments = &cx.config.environments;
    let mut preview: Option<&str> = None;
    for (name, environment) in environments {
        let at = section(Section::Environments).key(name);
        if !is_environment_name(name) {
            cx.report(Problem::at_key(
                at.clone(),
                format!(
                    "`{}` is not an environment name: use a-z, 0-9, `-` and `_`, at most 63 characters",
                    shown(name)
                ),
            ));
        }
        if let Some(settings) = environment.preview() {
            match preview {
                Some(first) => cx.report(Problem::at_key(
                    at.key("pull_requests"),
                    format!(
                        "only one environment can have `pull_requests`; `{first}` already does"
                    ),
                )),
                None => preview = Some(name),
            }
            let base = at.key("pull_requests").key("base");
            if settings.pull_requests.base.is_empty() {
                cx.report(Problem::at(
                    base.clone(),
                    "list the base branches whose pull requests get a preview",
                ));
            }
            cx.branches(&base, &settings.pull_requests.base);
            if let Some(ttl) = settings.ttl {
                cx.duration_between(
                    at.key("ttl"),
                    ttl,
                    Duration::from_mins(1),
                    Duration::from_mins(365 * 24 * 60),
                    "",
                );
            }
            if settings.max_active == Some(0) {
                cx.report(Problem::at_value(
                    at.key("max_active"),
                    "must be at least 1 (leave it out for no limit)",
                ));
            }
        }
        if let Some(branch) = environment.branch() {
            cx.branch(at.key("branch"), branch);
        }
        promotion(cx, &at, name, environment);
        if let Some(approvals) = &environment.approvals {
            self::approvals(
                cx,
                &at.key("approvals"),
                approvals,
                environment.promote_from.is_some(),
            );
        }
        promotion_gates(cx, &at, environment);
        deploy(cx, &at.key("deploy"), environment);
        if let Some(url) = &environment.url {
            template(cx, at.key("url"), url, environment);
            let text = url.as_str();
            if !(text.starts_with("https://") || text.starts_with("http://")) {
                cx.report(Problem::at_value(
                    at.key("url"),
                    "`url` is a web address starting with https:// or http://",
                ));
            }
        }
    }
    cycles(cx, environments);
}

fn promotion(cx: &mut Context<'_>, at: &ConfigPath, name: &str, environment: &Environment) {
    let Some(source) = &environment.promote_from else {
        return;
    };
    let at = at.key("promote_from");
    let environments = &cx.config.environments;
    if environment.preview().is_some() {
        cx.report(Problem::at_key(
            at,
            "the preview environment is deployed from pull requests, not promoted into",
        ));
    } else if source == name {
        cx.report(Problem::at_value(
            at,
            "an environment cannot be promoted from itself",
        ));
    } else if let Some(from) = environments.get(source) {
        if from.preview().is_some() {
            cx.report(Problem::at_value(
                at,
                format!("`{source}` is the preview environment; promote from a branch-bound one"),
            ));
        }
    } else if cx.environment_written(source) == Some(false) {
        let lead = format!("no environment named `{}`", shown(source));
        let problem =
            Problem::at_value(at, with_suggestion(&lead, source, &cx.environment_names()));
        cx.report(problem);
    }
}

/// `a` promoted from `b` promoted from `a` can never start. Each environment has at most one
/// source, so walking the sources from every environment once, marking where the walk has been,
/// finds every circle in linear time (a 1 MiB file can hold ten thousand environments). Each
/// circle is reported once, at its alphabetically first member.
fn cycles(cx: &mut Context<'_>, environments: &BTreeMap<String, Environment>) {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Mark {
        OnWalk,
        Done,
    }
    let mut marks: HashMap<&str, Mark> = HashMap::new();
    for start in environments.keys() {
        let mut walk: Vec<&str> = Vec::new();
        let mut current = Some(start.as_str());
        while let Some(name) = current {
            match marks.get(name) {
                Some(Mark::Done) => break,
                Some(Mark::OnWalk) => {
                    if let Some(at) = walk.iter().position(|seen| *seen == name) {
                        report_circle(cx, walk.get(at..).unwrap_or_default());
                    }
                    break;
                }
                None => {}
            }
            let Some(environment) = environments.get(name) else {
                break;
            };
            marks.insert(name, Mark::OnWalk);
            walk.push(name);
            current = environment.promote_from.as_deref();
        }
        for name in walk {
            marks.insert(name, Mark::Done);
        }
    }
}

/// `members` in promotion order (each promoted from the next, the last from the first).
fn report_circle(cx: &mut Context<'_>, members: &[&str]) {
    let Some(first) = members.iter().enumerate().min_by_key(|(_, name)| **name) else {
        return;
    };
    if members.len() < 2 {
        return; // promoted from itself: reported with the environment
    }
    let (at, first) = (first.0, *first.1);
    let mut chain: Vec<&str> = members
        .iter()
        .cycle()
        .skip(at)
        .take(members.len())
        .copied()
        .collect();
    chain.push(first);
    cx.report(Problem::at_value(
        section(Section::Environments)
            .key(first)
            .key("promote_from"),
        format!("promotion goes round in a circle: {}", chain.join(" ← ")),
    ));
}

/// `required_checks` and `auto_promote` act on promotions into the environment.
fn promotion_gates(cx: &mut Context<'_>, at: &ConfigPath, environment: &Environment) {
    let promoted = environment.promote_from.is_some();
    if !promoted && !environment.required_checks.is_empty() {
        cx.report(Problem::at_key(
            at.key("required_checks"),
            "required checks gate promotion, and this environment has no `promote_from`",
        ));
    }
    if !promoted && environment.auto_promote {
        cx.report(Problem::at_key(
            at.key("auto_promote"),
            "`auto_promote` opens promotions into this environment, and it has no `promote_from`",
        ));
    }
    for (index, check) in environment.required_checks.iter().enumerate() {
        if check.trim().is_empty() || check.len() > 255 {
            cx.report(Problem::at_value(
                at.key("required_checks").index(index),
                "a check's name: 1 to 255 characters, as the other app reports it",
            ));
        }
    }
}

fn approvals(cx: &mut Context<'_>, at: &ConfigPath, approvals: &Approvals, promoted: bool) {
    if !promoted {
        cx.report(Problem::at_key(
            at.clone(),
            "approvals gate promotion, and this environment has no `promote_from`",
        ));
    }
    cx.in_range(at.key("min"), approvals.min, 1, 10);
    cx.people(at, &approvals.users, &approvals.teams);
    let nobody =
        approvals.permission.is_none() && approvals.teams.is_empty() && approvals.users.is_empty();
    if nobody {
        cx.report(Problem::at_key(
            at.clone(),
            "say who may approve: `permission`, `teams` or `users`",
        ));
        return;
    }
    let mut users = approvals.users.clone();
    users.sort();
    users.dedup();
    let only_users = approvals.permission.is_none() && approvals.teams.is_empty();
    if only_users && (approvals.min as usize) > users.len() {
        cx.report(Problem::at_value(
            at.key("min"),
            format!(
                "{} approvals are needed but only {} user(s) may give them",
                approvals.min,
                users.len()
            ),
        ));
    }
}

fn deploy(cx: &mut Context<'_>, at: &ConfigPath, environment: &Environment) {
    let preview = environment.preview().is_some();
    match &environment.deploy {
        Deploy::Kubernetes(kubernetes) => {
            let namespace = &kubernetes.namespace;
            template(cx, at.key("namespace"), namespace, environment);
            if preview && !namespace.uses(Placeholder::Pr) {
                cx.report(Problem::at_value(
                    at.key("namespace"),
                    "a preview namespace must contain {pr}, or every pull request would deploy \
                     into the same namespace",
                ));
            }
            let literal_ok = namespace.literals().all(|text| {
                text.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            });
            let fixed = namespace.placeholders().next().is_none();
            if !literal_ok || (fixed && !is_dns_label(namespace.as_str())) {
                cx.report(Problem::at_value(
                    at.key("namespace"),
                    "a namespace is a DNS label: use a-z, 0-9 and `-`, at most 63 characters",
                ));
            }
            if let Some(render) = &kubernetes.render {
                cx.no_placeholders(&at.key("render"), render);
            }
            if kubernetes
                .context
                .as_ref()
                .is_some_and(|context| context.trim().is_empty())
            {
                cx.report(Problem::at_value(at.key("context"), "the context is empty"));
            }
        }
        Deploy::Command(command) => {
            cx.no_placeholders(&at.key("deploy"), &command.deploy);
            if let Some(destroy) = &command.destroy {
                cx.no_placeholders(&at.key("destroy"), destroy);
            } else if preview {
                cx.report(Problem::at_key(
                    at.clone(),
                    "the preview environment's command provider needs `destroy`, to remove \
                     previews when their pull request closes",
                ));
            }
            if let Some(status) = &command.status {
                cx.no_placeholders(&at.key("status"), status);
            }
            cx.duration_between(
                at.key("timeout"),
                command.timeout,
                MIN_TIMEOUT,
                MAX_TIMEOUT,
                "",
            );
        }
    }
}

/// `{pr}` exists only for previews: a branch-bound environment has no pull request.
fn template(cx: &mut Context<'_>, at: ConfigPath, template: &Template, environment: &Environment) {
    if environment.preview().is_none() && template.uses(Placeholder::Pr) {
        cx.report(Problem::at_value(
            at,
            "{pr} is only known in the preview environment; this one is deployed from a branch",
        ));
    }
}
