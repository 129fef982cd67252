//! What is never compared, as Argo CD normalises: fields the API server writes on every
//! object, and marks tools leave that Git never declares.
//!
//! Applied while walking rather than on a copy, so an in-sync object is never cloned.

use super::path::Seg;

/// Holds the whole previous client-side apply, so it differs whenever anything does (and on a
/// Secret it holds the values in clear): comparing it would only repeat, or leak, the rest.
pub(crate) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `metadata` fields the API server sets and no one declares, and `namespace`: part of the
/// object's key, already matched (with the caller's default filling in one Git leaves out).
const SERVER_METADATA: &[&str] = &[
    "namespace",
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Whether the map entry `key` under `path` is left out of the comparison: the top-level
/// `status`, server-set metadata, the last-applied annotation, and the caller's bookkeeping
/// label and annotation keys.
pub(crate) fn dropped(path: &[Seg<'_>], key: &str, ignored_labels: &[String]) -> bool {
    match path {
        [] => key == "status",
        [Seg::Field("metadata")] => SERVER_METADATA.contains(&key),
        [Seg::Field("metadata"), Seg::Field("annotations")] => {
            key == LAST_APPLIED || ignored_labels.iter().any(|l| l == key)
        }
        [Seg::Field("metadata"), Seg::Field("labels")] => ignored_labels.iter().any(|l| l == key),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_server_metadata_are_dropped_but_a_field_named_status_deeper_is_not() {
        let metadata = [Seg::Field("metadata")];
        assert!(dropped(&[], "status", &[]));
        assert!(dropped(&metadata, "managedFields", &[]));
        assert!(dropped(&metadata, "resourceVersion", &[]));
        assert!(!dropped(&metadata, "labels", &[]));
        assert!(!dropped(&[Seg::Field("spec")], "status", &[]));
    }

    #[test]
    fn bookkeeping_keys_are_dropped_from_labels_and_annotations() {
        let ours = ["gitferry.dev/release".to_owned()];
        let labels = [Seg::Field("metadata"), Seg::Field("labels")];
        let annotations = [Seg::Field("metadata"), Seg::Field("annotations")];
        assert!(dropped(&labels, "gitferry.dev/release", &ours));
        assert!(dropped(&annotations, "gitferry.dev/release", &ours));
        assert!(dropped(&annotations, LAST_APPLIED, &ours));
        assert!(!dropped(&labels, "app", &ours));
    }
}
