//! Scenarios of drift detection, from a `kubectl edit` to 5,000 objects. The live objects come
//! from [`fixtures::live_copy`]: what a real API server returns after gitferry applied them.

mod deployments;
pub(crate) mod fixtures;
mod inventory;
mod render;
mod secrets;

use serde_json::{Value, json};

use super::Outcome;

/// The fields of a Modified outcome; panics (failing the test) on any other.
fn modified(outcome: &Outcome) -> (&[String], &[String], &str) {
    match outcome {
        Outcome::Modified {
            fields,
            labels,
            diff,
        } => (fields, labels, diff),
        other => panic!("expected Modified, got {other:?}"),
    }
}

/// The lines a diff removes (Git's) and adds (the cluster's), without the `-`/`+` and indent.
fn changed_lines(diff: &str) -> (Vec<&str>, Vec<&str>) {
    let body = diff
        .lines()
        .filter(|l| !l.starts_with("---") && !l.starts_with("+++"));
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for line in body {
        if let Some(rest) = line.strip_prefix('-') {
            removed.push(rest.trim());
        } else if let Some(rest) = line.strip_prefix('+') {
            added.push(rest.trim());
        }
    }
    (removed, added)
}

/// What `kubectl edit` does to a live object: sets the value at `pointer` and, since an update
/// takes a field over from the applier, moves `fields` (a FieldsV1 path) from gitferry's entry
/// to a `kubectl-edit` one.
fn kubectl_edit(live: &mut Value, pointer: &str, value: Value, fields: &[&str]) {
    *live.pointer_mut(pointer).expect("the edited field is live") = value;
    take_over(live, "kubectl-edit", fields);
}

/// Moves `fields` (a FieldsV1 path) from gitferry's entry to `manager`'s.
fn take_over(live: &mut Value, manager: &str, fields: &[&str]) {
    let ours = live
        .pointer_mut("/metadata/managedFields/0/fieldsV1")
        .expect("gitferry's entry comes first in the fixtures");
    let (last, parents) = fields.split_last().expect("a path");
    let mut node = ours;
    for step in parents {
        node = node.get_mut(*step).expect("gitferry owns the path");
    }
    node.as_object_mut().expect("a FieldsV1 map").remove(*last);
    let mut theirs = json!({});
    let mut node = &mut theirs;
    for step in fields {
        node = node
            .as_object_mut()
            .expect("a FieldsV1 map")
            .entry((*step).to_owned())
            .or_insert_with(|| json!({}));
    }
    let entries = live["metadata"]["managedFields"]
        .as_array_mut()
        .expect("a list");
    entries.push(
        json!({"manager": manager, "operation": "Update", "fieldsType": "FieldsV1",
                        "fieldsV1": theirs}),
    );
}
