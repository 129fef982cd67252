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
    let resources = &runner.resources;
    for (kind, quantities) in [
        ("requests", &resources.requests),
        ("limits", &resources.limits),
    ] {
        for (key, value) in [("cpu", &quantities.cpu), ("memory", &quantities.memory)] {
            if !is_quantity(value) {
                cx.report(Problem::at_value(
                    at.key("resources").key(kind).key(key),
                    format!(
                        "`{}` is not a Kubernetes quantity: write e.g. `250m` or `2` for cpu, \
                         `512Mi` or `2Gi` for memory",
                        shown(value)
                    ),
                ));
            }
        }
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

/// A plain decimal number with an optional Kubernetes suffix (`m`, `k`, `M`, `G`, `T`, `Ki`,
/// `Mi`, `Gi`, `Ti`): the forms anyone writes; exponents are not accepted.
fn is_quantity(value: &str) -> bool {
    let suffixes = ["Ki", "Mi", "Gi", "Ti", "m", "k", "M", "G", "T"];
    let number = suffixes
        .iter()
        .find_map(|suffix| value.strip_suffix(suffix))
        .unwrap_or(value);
    let mut parts = number.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    !whole.is_empty()
        && whole.len() <= 12
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::is_quantity;
    use crate::repo_config::parse;

    #[test]
    fn quantities_are_kubernetes_numbers_with_a_unit() {
        for good in ["250m", "2", "0.5", "512Mi", "2Gi", "1G"] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in ["", "two", "2 Gi", "-1", "1e3", "1.", "Gi", "2GB"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn resources_default_and_bad_ones_are_errors_at_their_line() {
        let config =
            parse("runner:\n  resources:\n    limits: { cpu: 500m, memory: 1Gi }\n").unwrap();
        assert_eq!(config.runner.resources.requests.cpu, "250m");
        assert_eq!(config.runner.resources.limits.memory, "1Gi");
        let errors =
            parse("runner:\n  resources:\n    requests: { cpu: lots, memory: 1Gi }\n").unwrap_err();
        let error = &errors.errors()[0];
        assert_eq!(
            (error.line, error.path.as_str()),
            (3, "runner.resources.requests.cpu")
        );
        assert!(
            error.message.contains("not a Kubernetes quantity"),
            "{}",
            error.message
        );
    }
}
