//! Drift detection's pure core: does the cluster still hold what Git declares?
//!
//! [`compare`] takes the desired objects (a render of the manifests) and the live ones (as
//! `kubectl get -o json` gives them, `metadata.managedFields` included) and reports, per
//! object, whether it is in sync, modified (which fields, and a diff), missing from the
//! cluster, live but no longer in Git, or not comparable. No I/O: the caller fetches, decides
//! when to compare, and what to do with the [`Report`].
//!
//! Like Argo CD, it compares only what gitferry is responsible for: the fields Git declares
//! and the fields gitferry's server-side apply owns. Values the API server defaulted, fields
//! other controllers own, `status` and server-set metadata are not drift. Secret values (and
//! `checksum/` annotations) are compared by hash and never shown.
//!
//! | file | responsibility |
//! |---|---|
//! | `mod.rs` | [`compare`]: pairing desired and live objects by key, one outcome each |
//! | `options.rs` | [`Options`] and [`IgnoreRule`]: what the caller decides |
//! | `key.rs` | [`ObjectKey`] (group, kind, namespace, name) and bad desired objects |
//! | `normalise.rs` | what is never compared: `status`, server metadata, bookkeeping keys |
//! | `managed.rs` | which fields gitferry owns, read from the FieldsV1 of its `Apply` entry |
//! | `lists.rs` | pairing list items by merge key, set value or position |
//! | `walk.rs` | the comparison of one object: drifted fields and the compared views |
//! | `path.rs` | a field's place as a JSON pointer and as a label people read |
//! | `secrets.rs` | Secret data by hash, and which values are never shown |
//! | `diff.rs` | the unified diff of the views' YAML |
//! | `report.rs` | [`Report`], [`Outcome`], counts and the drift fingerprint |
//! | `render.rs` | the report as Markdown that fits a GitHub comment |
//! | `changes.rs` | what a pull request changes: its head against its base, both Git |
//! | `ask.rs` | pull requests into an environment's branch, and `/drift`, ask for a check |
//! | `executor.rs` | the background loop that claims drift checks |
//! | `work.rs` | one check: desired at the base and the head, the cluster, `status` |
//! | `publish.rs` | the findings on the pull request: `gitferry/drift` and the sticky section |
//! | `sweep.rs` | the scheduled sweep: each environment's check asked for as often as it says |
//! | `issue.rs` | a sweep's findings: the "Drift in <env>" issue, `drift_detected`, the gauge |
//! | `heal.rs` | `drift.mode: heal`: Git's version applied again, audited, checked again |
//! | `unserved.rs` | objects of a kind the cluster does not serve, named per object |
//! | `tests/` | scenarios, from a kubectl edit to 5,000 objects |

pub mod ask;
mod changes;
mod diff;
pub mod executor;
mod heal;
mod issue;
mod key;
mod lists;
mod managed;
mod normalise;
mod options;
mod path;
mod publish;
pub mod render;
mod report;
mod secrets;
pub mod sweep;
mod unserved;
mod walk;
mod work;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde_json::Value;

pub use changes::changes;
pub use key::{ObjectError, ObjectKey};
pub use options::{DEFAULT_FIELD_MANAGER, IgnoreRule, Options};
pub use report::{Counts, ObjectReport, Outcome, Report};

use key::KeyRef;
use managed::Owned;
use walk::Walk;

/// Compares `desired` (the render of Git) with `live` (what the cluster holds of gitferry's:
/// the live copies of the desired objects and whatever else the caller found as gitferry's).
/// A live object that no desired object matches is reported as [`Outcome::ExtraLive`].
///
/// Objects are paired through a hash map by key, so the work grows with the number of objects,
/// not with its square.
pub fn compare(desired: &[Value], live: &[Value], options: &Options) -> Report {
    let namespace = options.namespace.as_deref();
    let mut live_by_key: HashMap<KeyRef<'_>, &Value> = HashMap::with_capacity(live.len());
    for (index, object) in live.iter().enumerate() {
        // A live object always has a kind and a name; one without cannot be named either.
        if let Ok(key) = key::key_of(object, namespace, index) {
            live_by_key.entry(key).or_insert(object);
        }
    }
    let mut first_seen: HashMap<KeyRef<'_>, usize> = HashMap::with_capacity(desired.len());
    let mut objects = Vec::with_capacity(desired.len() + live.len());
    for (index, object) in desired.iter().enumerate() {
        let (key, outcome) = match key::key_of(object, namespace, index) {
            Err((key, error)) => (key, Outcome::Error(error.to_string())),
            Ok(key) => match first_seen.entry(key) {
                Entry::Occupied(first) => {
                    let error = ObjectError::Duplicate {
                        index,
                        first: *first.get(),
                    };
                    (key, Outcome::Error(error.to_string()))
                }
                Entry::Vacant(slot) => {
                    slot.insert(index);
                    let outcome = match live_by_key.remove(&key) {
                        Some(live) => compare_object(key, object, live, options),
                        None => Outcome::MissingLive,
                    };
                    (key, outcome)
                }
            },
        };
        objects.push(ObjectReport {
            key: key.to_key(),
            outcome,
        });
    }
    objects.extend(live_by_key.into_keys().map(|key| ObjectReport {
        key: key.to_key(),
        outcome: Outcome::ExtraLive,
    }));
    Report::new(objects)
}

/// The outcome of one desired object against its live copy.
fn compare_object(key: KeyRef<'_>, desired: &Value, live: &Value, options: &Options) -> Outcome {
    let secret = key.group.is_empty() && key.kind == "Secret";
    let (desired, live) = if secret {
        (
            Cow::Owned(secrets::hashed(desired)),
            Cow::Owned(secrets::hashed(live)),
        )
    } else {
        (Cow::Borrowed(desired), Cow::Borrowed(live))
    };
    let owned = Owned::of(&live, &options.field_manager);
    let ignore: Vec<Vec<String>> = options
        .ignore
        .iter()
        .filter(|rule| rule.applies_to(key.kind, key.name))
        .map(IgnoreRule::tokens)
        .collect();
    // An empty pointer is the whole object: nothing of it is compared.
    if ignore.iter().any(Vec::is_empty) {
        return Outcome::InSync;
    }
    let labels = &options.ignored_labels;
    // First without views: most objects are in sync, and for them nothing needs copying.
    let mut check = Walk::new(secret, &ignore, labels, false);
    check.both(&desired, &live, owned);
    if !check.has_drift() {
        return Outcome::InSync;
    }
    let mut walk = Walk::new(secret, &ignore, labels, true);
    let (desired_view, live_view) = walk.both(&desired, &live, owned);
    let mut drift = walk.into_drift();
    drift.sort();
    drift.dedup_by(|a, b| a.pointer == b.pointer);
    let diff = diff::unified(
        &desired_view.unwrap_or_default(),
        &live_view.unwrap_or_default(),
    );
    let (fields, labels) = drift.into_iter().map(|d| (d.pointer, d.label)).unzip();
    Outcome::Modified {
        fields,
        labels,
        diff,
    }
}
