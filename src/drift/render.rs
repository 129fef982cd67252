//! The drift report as GitHub-flavoured Markdown: a summary line, then one collapsed
//! `<details>` block per object that is not in sync, cut to fit a comment.

use crate::report::markdown;
use crate::report::units;

use super::key::ObjectKey;
use super::report::{Outcome, Report};

/// GitHub's limit for a comment body, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// How many field labels a block's summary names before saying how many more.
const LABELS_IN_SUMMARY: usize = 5;

/// `report` as Markdown of at most `limit_chars` characters (counted as GitHub does, see
/// [`units`]). Blocks are added whole until the next would not fit; the rest are counted in a
/// closing line, so a `<details>` block or a code fence is never cut. The summary line and that
/// closing line are always there, even over a limit too small for them.
pub fn markdown(report: &Report, limit_chars: usize) -> String {
    markdown_as(report, limit_chars, View::Drift)
}

/// What a report compares, which decides its words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The cluster against Git ([`super::compare`]).
    Drift,
    /// A pull request's head against its base, both Git ([`super::changes`]): what is only
    /// at the base is removed by the pull request, what is only at the head is added.
    Changes,
}

/// [`markdown`] in the words of `view`.
pub fn markdown_as(report: &Report, limit_chars: usize, view: View) -> String {
    let mut out = summary(report, view);
    let blocks: Vec<String> = report
        .not_in_sync()
        .map(|object| block(&object.key, &object.outcome, view))
        .collect();
    let reserve = units::len(&rest_line(blocks.len())) + 2;
    let mut used = units::len(&out);
    for (shown, text) in blocks.iter().enumerate() {
        let is_last = shown + 1 == blocks.len();
        let needed = used + 2 + units::len(text) + if is_last { 0 } else { reserve };
        if needed > limit_chars {
            out.push_str("\n\n");
            out.push_str(&rest_line(blocks.len() - shown));
            return out;
        }
        out.push_str("\n\n");
        out.push_str(text);
        used += 2 + units::len(text);
    }
    out
}

fn summary(report: &Report, view: View) -> String {
    let c = report.counts;
    let total = report.objects.len();
    if c.modified + c.missing + c.extra + c.errors == 0 {
        return match view {
            View::Drift => format!("**No drift:** {total} {} in sync with Git.", objects(total)),
            View::Changes => format!("**No changes:** {total} {} as they are.", objects(total)),
        };
    }
    let (modified, missing, extra, same) = match view {
        View::Drift => (
            "modified",
            "missing from the cluster",
            "no longer in Git",
            "in sync",
        ),
        View::Changes => ("changed", "removed", "added", "unchanged"),
    };
    let parts: Vec<String> = [
        (c.modified, modified),
        (c.missing, missing),
        (c.extra, extra),
        (c.errors, if c.errors == 1 { "error" } else { "errors" }),
        (c.in_sync, same),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    let title = match (view, c.modified + c.missing + c.extra == 0) {
        (View::Drift, true) => "Drift check",
        (View::Drift, false) => "Drift",
        (View::Changes, _) => "Changes",
    };
    format!("**{title}:** {}.", parts.join(", "))
}

fn block(key: &ObjectKey, outcome: &Outcome, view: View) -> String {
    let (what, body) = match outcome {
        Outcome::Modified { labels, diff, .. } => {
            let what = if key.kind == "Secret" && key.group.is_empty() {
                "changed (values hidden)"
            } else if view == View::Changes {
                "changed"
            } else {
                "modified"
            };
            let mut named: Vec<&str> = labels
                .iter()
                .take(LABELS_IN_SUMMARY)
                .map(String::as_str)
                .collect();
            let more = labels.len().saturating_sub(LABELS_IN_SUMMARY);
            let more = format!("{more} more");
            if labels.len() > LABELS_IN_SUMMARY {
                named.push(&more);
            }
            let what = format!("{what} ({})", named.join(", "));
            let diff = match view {
                View::Drift => diff.clone(),
                View::Changes => diff.replacen("--- git\n+++ live\n", "--- base\n+++ head\n", 1),
            };
            (what, markdown::code_block("diff", &diff))
        }
        Outcome::MissingLive if view == View::Changes => (
            "removed".to_owned(),
            "Declared at the base; this pull request removes it.".to_owned(),
        ),
        Outcome::ExtraLive if view == View::Changes => (
            "added".to_owned(),
            "Not at the base; this pull request adds it.".to_owned(),
        ),
        Outcome::MissingLive => (
            "missing from the cluster".to_owned(),
            "Declared in Git, not found in the cluster.".to_owned(),
        ),
        Outcome::ExtraLive => (
            "no longer in Git".to_owned(),
            "Applied by gitferry and still in the cluster, but no longer declared in Git."
                .to_owned(),
        ),
        Outcome::Error(message) => ("cannot be compared".to_owned(), markdown::escape(message)),
        Outcome::InSync => ("in sync".to_owned(), String::new()),
    };
    markdown::details(&format!("{key}: {what}"), &body)
}

fn rest_line(count: usize) -> String {
    format!(
        "… and {count} more {}: see the full report.",
        objects(count)
    )
}

fn objects(count: usize) -> &'static str {
    if count == 1 { "object" } else { "objects" }
}
