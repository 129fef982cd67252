//! What a comparison found: one outcome per object, counts, and a fingerprint of the drift.

use sha2::{Digest, Sha256};

use super::key::ObjectKey;

/// How one object compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    InSync,
    /// The live object differs from Git.
    Modified {
        /// JSON pointers of the drifted fields, sorted. List items are addressed by their index
        /// in the desired object (in the live one for an item only live has).
        fields: Vec<String>,
        /// The same fields as a person reads them, in the same order
        /// (`spec.template.spec.containers[name=web].image`).
        labels: Vec<String>,
        /// A unified diff (3 lines of context) of the YAML of the compared views: Git's object
        /// normalised, and the part of the live one that was compared. Hidden values read
        /// `(hidden)`.
        diff: String,
    },
    /// In Git, not in the cluster.
    MissingLive,
    /// In the cluster as gitferry's, no longer in Git.
    ExtraLive,
    /// The desired object cannot be compared (no name, no kind, declared twice).
    Error(String),
}

impl Outcome {
    /// Whether the object differs from Git (an error is not drift: nothing was compared).
    pub fn is_drift(&self) -> bool {
        matches!(
            self,
            Outcome::Modified { .. } | Outcome::MissingLive | Outcome::ExtraLive
        )
    }
}

/// One object's line in the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectReport {
    pub key: ObjectKey,
    pub outcome: Outcome,
}

/// How many objects had each outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub in_sync: usize,
    pub modified: usize,
    pub missing: usize,
    pub extra: usize,
    pub errors: usize,
}

/// Every object compared, sorted by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub objects: Vec<ObjectReport>,
    pub counts: Counts,
}

impl Report {
    /// The report of `objects`, sorted by key (stably: two unnamed objects keep their order).
    pub fn new(mut objects: Vec<ObjectReport>) -> Self {
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        let mut counts = Counts::default();
        for object in &objects {
            match object.outcome {
                Outcome::InSync => counts.in_sync += 1,
                Outcome::Modified { .. } => counts.modified += 1,
                Outcome::MissingLive => counts.missing += 1,
                Outcome::ExtraLive => counts.extra += 1,
                Outcome::Error(_) => counts.errors += 1,
            }
        }
        Self { objects, counts }
    }

    /// The objects that are not in sync, errors included, in report order.
    pub fn not_in_sync(&self) -> impl Iterator<Item = &ObjectReport> {
        self.objects.iter().filter(|o| o.outcome != Outcome::InSync)
    }

    /// Whether nothing drifted (errors aside).
    pub fn is_in_sync(&self) -> bool {
        !self.objects.iter().any(|o| o.outcome.is_drift())
    }

    /// A stable hash (SHA-256, hex) of which objects drifted and how: the key, the outcome and
    /// the drifted fields' labels. Values are left out, so a replica count moving from 5 to 6
    /// is the same drift and the caller does not notify again; labels rather than pointers,
    /// so that reordering containers in Git does not look like new drift. Errors are left out:
    /// they are about the render, not the cluster.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        for object in self.objects.iter().filter(|o| o.outcome.is_drift()) {
            let key = &object.key;
            for part in [&key.group, &key.kind, &key.namespace, &key.name] {
                field(&mut hash, part);
            }
            match &object.outcome {
                Outcome::Modified { labels, .. } => {
                    field(&mut hash, "modified");
                    let mut labels: Vec<&String> = labels.iter().collect();
                    labels.sort();
                    labels.iter().for_each(|l| field(&mut hash, l));
                }
                Outcome::MissingLive => field(&mut hash, "missing"),
                Outcome::ExtraLive => field(&mut hash, "extra"),
                Outcome::InSync | Outcome::Error(_) => {}
            }
            field(&mut hash, "\n");
        }
        hex::encode(hash.finalize())
    }
}

/// Length-prefixed, so that no two different reports hash the same text.
fn field(hash: &mut Sha256, text: &str) {
    hash.update((text.len() as u64).to_le_bytes());
    hash.update(text.as_bytes());
}
