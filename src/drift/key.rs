//! Which live object a desired object is: group, kind, namespace and name, as the API server
//! identifies it (the version is not part of it: one object is served in several versions).

use std::fmt;

use serde_json::Value;

/// Kinds that live outside any namespace. Without discovery this slice cannot ask the cluster,
/// and giving one of these the default namespace would make it never match its live copy.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("networking.k8s.io", "IngressClass"),
    ("node.k8s.io", "RuntimeClass"),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
];

/// An object's identity. Ordered by group, kind, namespace, name, which is the report's order.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// `apps` for `apps/v1`, empty for the core group (`v1`).
    pub group: String,
    pub kind: String,
    /// Empty for a cluster-scoped object (or a namespaced one when no default was given).
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.kind.is_empty() {
            "object"
        } else {
            &self.kind
        };
        let name = if self.name.is_empty() {
            "(unnamed)"
        } else {
            &self.name
        };
        if self.namespace.is_empty() {
            write!(f, "{kind} {name}")
        } else {
            write!(f, "{kind} {}/{name}", self.namespace)
        }
    }
}

/// Why a desired object cannot be compared. Reported for that object alone: one bad manifest
/// must not hide the drift of the others.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    #[error("desired object {index} is not a mapping")]
    NotAnObject { index: usize },
    #[error("desired object {index} has no kind")]
    NoKind { index: usize },
    #[error("desired object {index} has no metadata.name")]
    NoName { index: usize },
    #[error("desired object {index} is declared twice (also object {first})")]
    Duplicate { index: usize, first: usize },
}

/// An [`ObjectKey`] borrowed from the object (and the caller's default namespace): pairing
/// thousands of desired and live objects through a hash map copies no strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct KeyRef<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl KeyRef<'_> {
    pub(crate) fn to_key(self) -> ObjectKey {
        ObjectKey {
            group: self.group.to_owned(),
            kind: self.kind.to_owned(),
            namespace: self.namespace.to_owned(),
            name: self.name.to_owned(),
        }
    }
}

/// The key of `object`, or what could be read of it (for the report to sort and name it) with
/// the reason it is not usable. `index` is its position in the caller's list, for messages.
pub(crate) fn key_of<'a>(
    object: &'a Value,
    default_namespace: Option<&'a str>,
    index: usize,
) -> Result<KeyRef<'a>, (KeyRef<'a>, ObjectError)> {
    let text = |v: Option<&'a Value>| v.and_then(Value::as_str).unwrap_or_default();
    let metadata = object.get("metadata");
    let mut key = KeyRef {
        group: group_of(text(object.get("apiVersion"))),
        kind: text(object.get("kind")),
        namespace: text(metadata.and_then(|m| m.get("namespace"))),
        name: text(metadata.and_then(|m| m.get("name"))),
    };
    if key.namespace.is_empty() && !is_cluster_scoped(key.group, key.kind) {
        key.namespace = default_namespace.unwrap_or_default();
    }
    if !object.is_object() {
        return Err((key, ObjectError::NotAnObject { index }));
    }
    if key.kind.is_empty() {
        return Err((key, ObjectError::NoKind { index }));
    }
    if key.name.is_empty() {
        return Err((key, ObjectError::NoName { index }));
    }
    Ok(key)
}

/// The API group of an `apiVersion`: what is before the `/`, or nothing for the core group.
pub fn group_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map(|(group, _)| group)
        .unwrap_or("")
}

fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    CLUSTER_SCOPED.iter().any(|&(g, k)| g == group && k == kind)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_group_comes_from_the_api_version() {
        assert_eq!(group_of("apps/v1"), "apps");
        assert_eq!(group_of("v1"), "");
        assert_eq!(group_of("networking.k8s.io/v1"), "networking.k8s.io");
    }

    #[test]
    fn a_namespaced_object_takes_the_default_namespace_and_a_cluster_scoped_one_does_not() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}});
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
        assert_eq!(
            key_of(&cm, Some("shop"), 0).map(|k| k.namespace),
            Ok("shop")
        );
        assert_eq!(key_of(&ns, Some("shop"), 1).map(|k| k.namespace), Ok(""));
    }
}
