//! Rules for `drift:`.

use super::{Context, section};
use crate::repo_config::load::{Problem, Section};
use crate::repo_config::values::Duration;

pub(super) fn check(cx: &mut Context<'_>) {
    let drift = &cx.config.drift;
    let at = section(Section::Drift);
    cx.duration_between(
        at.key("every"),
        drift.every,
        Duration::from_mins(1),
        Duration::from_mins(7 * 24 * 60),
        " (comparing more often loads the cluster and GitHub for nothing)",
    );
    for (index, ignore) in drift.ignore.iter().enumerate() {
        let at = at.key("ignore").index(index);
        if ignore.kind.trim().is_empty() {
            cx.report(Problem::at_value(
                at.key("kind"),
                "name the object kind, e.g. Deployment",
            ));
        }
        if ignore
            .name
            .as_ref()
            .is_some_and(|name| name.trim().is_empty())
        {
            cx.report(Problem::at_value(
                at.key("name"),
                "the name is empty; leave it out to match every object of the kind",
            ));
        }
    }
}
