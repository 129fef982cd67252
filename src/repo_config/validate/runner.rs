//! Rules for `runner:`.

use super::{Context, section};
use crate::repo_config::load::{Problem, Section};
use crate::repo_config::model::RunnerKind;
use crate::repo_config::values::{is_dns_label, shown};

pub(super) fn check(cx: &mut Context<'_>) {
    let runner = &cx.config.runner;
    let at = section(Section::Runner);
    cx.in_range(at.key("concurrency"), runner.concurrency, 1, 64);
    if !is_dns_label(&runner.namespace) {
        cx.report(Problem::at_value(
            at.key("namespace"),
            format!(
                "`{}` is not a namespace name: use a-z, 0-9 and `-`",
                shown(&runner.namespace)
            ),
        ));
    }
    if let Some(account) = &runner.service_account
        && !is_dns_label(account)
    {
        cx.report(Problem::at_value(
            at.key("service_account"),
            format!(
                "`{}` is not a service account name: use a-z, 0-9 and `-`",
                shown(account)
            ),
        ));
    }
    if runner
        .image
        .as_ref()
        .is_some_and(|image| image.trim().is_empty())
    {
        cx.report(Problem::at_value(at.key("image"), "the image is empty"));
    }
    if runner.kind == RunnerKind::Kubernetes && runner.image.is_none() {
        cx.report(Problem::at_value(
            at.key("kind"),
            "the kubernetes runner needs `image` (the image steps run in)",
        ));
    }
}
