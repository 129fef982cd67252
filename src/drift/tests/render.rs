//! The Markdown report and the fingerprint the caller notifies on.

use serde_json::{Value, json};

use super::fixtures::{deployment, live_copy};
use super::kubectl_edit;
use crate::drift::render::{COMMENT_LIMIT, markdown};
use crate::drift::{Options, Report, compare};

/// `count` Deployments whose replicas were edited live, and `image_edits` of them also their
/// image; `replicas` is the edited value.
fn drifted(count: usize, image_edits: usize, replicas: u64) -> (Vec<Value>, Vec<Value>) {
    let desired: Vec<Value> = (0..count)
        .map(|i| deployment(&format!("app-{i:02}"), "shop/app:1.0", 2))
        .collect();
    let mut live: Vec<Value> = desired.iter().map(live_copy).collect();
    for (i, object) in live.iter_mut().enumerate() {
        kubectl_edit(
            object,
            "/spec/replicas",
            json!(replicas),
            &["f:spec", "f:replicas"],
        );
        if i < image_edits {
            let image = "/spec/template/spec/containers/0/image";
            if let Some(value) = object.pointer_mut(image) {
                *value = json!("shop/app:hotfix");
            }
        }
    }
    (desired, live)
}

fn report(desired: &[Value], live: &[Value]) -> Report {
    compare(desired, live, &Options::default())
}

#[test]
fn each_drifted_object_is_a_details_block_naming_its_fields_over_a_diff() {
    let (desired, live) = drifted(1, 1, 5);

    let comment = markdown(&report(&desired, &live), COMMENT_LIMIT);

    assert!(
        comment.starts_with("**Drift:** 1 modified.\n\n"),
        "{comment}"
    );
    let summary = "<summary>Deployment shop/app-00: modified \
                   (spec.replicas, spec.template.spec.containers[name=app-00].image)</summary>";
    assert!(comment.contains(summary), "{comment}");
    assert!(
        comment.contains("```diff\n--- git\n+++ live\n"),
        "{comment}"
    );
    assert!(
        comment.contains("\n-  replicas: 2\n+  replicas: 5\n"),
        "{comment}"
    );
}

#[test]
fn a_report_without_drift_says_so_in_one_line() {
    let desired = vec![deployment("web", "shop/web:1.0", 2)];
    let live: Vec<Value> = desired.iter().map(live_copy).collect();

    let comment = markdown(&report(&desired, &live), COMMENT_LIMIT);

    assert_eq!(comment, "**No drift:** 1 object in sync with Git.");
}

#[test]
fn a_small_limit_keeps_whole_details_blocks_and_counts_the_rest() {
    let (desired, live) = drifted(10, 0, 5);
    let full = markdown(&report(&desired, &live), usize::MAX);
    let limit = full.len() / 3;

    let comment = markdown(&report(&desired, &live), limit);

    assert!(comment.chars().count() <= limit);
    let shown = comment.matches("<details>").count();
    assert!((1..10).contains(&shown), "{shown} blocks");
    assert_eq!(
        comment.matches("</details>").count(),
        shown,
        "no block is cut"
    );
    assert_eq!(comment.matches("```").count(), 2 * shown, "no fence is cut");
    let rest = format!(
        "\n\n… and {} more objects: see the full report.",
        10 - shown
    );
    assert!(comment.ends_with(&rest), "{comment}");
    assert!(
        comment.contains("</details>\n\n… and"),
        "the note follows a whole block"
    );
}

#[test]
fn the_fingerprint_is_stable_under_reordering_and_changes_with_the_drifted_fields() {
    let (desired, live) = drifted(4, 1, 5);
    let (mut reordered_desired, mut reordered_live) = (desired.clone(), live.clone());
    reordered_desired.reverse();
    reordered_live.rotate_left(1);
    let (_, live_six) = drifted(4, 1, 6);
    let (_, live_two_images) = drifted(4, 2, 5);

    let fingerprint = report(&desired, &live).fingerprint();

    assert_eq!(
        report(&reordered_desired, &reordered_live).fingerprint(),
        fingerprint
    );
    assert_eq!(
        report(&desired, &live_six).fingerprint(),
        fingerprint,
        "same fields, new value"
    );
    assert_ne!(
        report(&desired, &live_two_images).fingerprint(),
        fingerprint
    );
    assert_ne!(report(&desired[1..], &live[1..]).fingerprint(), fingerprint);
    let in_sync: Vec<Value> = desired.iter().map(live_copy).collect();
    assert_ne!(report(&desired, &in_sync).fingerprint(), fingerprint);
}
