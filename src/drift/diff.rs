//! The text a person reads for a modified object: a unified diff of the YAML of the compared
//! views, Git's on the `-` side and the cluster's on the `+` side.

use serde_json::Value;
use similar::TextDiff;

/// Lines of context around each change, as `diff -u` gives.
const CONTEXT: usize = 3;

/// The unified diff from `desired` to `live`, with `--- git` / `+++ live` headers.
pub(crate) fn unified(desired: &Value, live: &Value) -> String {
    let (desired, live) = (yaml(desired), yaml(live));
    TextDiff::from_lines(&desired, &live)
        .unified_diff()
        .context_radius(CONTEXT)
        .header("git", "live")
        .to_string()
}

/// YAML is what the manifests are written in. A value serde cannot write as YAML (none that
/// came from JSON) falls back to JSON rather than losing the diff.
fn yaml(value: &Value) -> String {
    serde_yaml_ng::to_string(value)
        .or_else(|_| serde_json::to_string_pretty(value))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_diff_shows_git_then_live_with_three_lines_of_context() {
        let desired = json!({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8});
        let mut live = desired.clone();
        live["h"] = json!(9);
        let diff = unified(&desired, &live);
        assert!(diff.starts_with("--- git\n+++ live\n"), "{diff}");
        assert!(diff.contains("-h: 8\n+h: 9\n"), "{diff}");
        assert!(
            diff.contains(" e: 5\n") && !diff.contains(" d: 4\n"),
            "{diff}"
        );
    }
}
