//! The kinds the fake serves and the discovery documents that describe them, shaped like a
//! real API server's answers to `/api`, `/api/v1`, `/apis` and `/apis/{group}/{version}`.

use serde_json::{Value, json};

/// One served resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource {
    /// `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
}

impl Resource {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The name error messages use, as the real server does: `configmaps`,
    /// `deployments.apps`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

const fn res(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Resource {
    Resource {
        group,
        version,
        kind,
        plural,
        namespaced,
    }
}

/// Everything the fake serves.
pub const RESOURCES: &[Resource] = &[
    res("", "v1", "Namespace", "namespaces", false),
    res("", "v1", "ConfigMap", "configmaps", true),
    res("", "v1", "Secret", "secrets", true),
    res("", "v1", "Service", "services", true),
    res("", "v1", "ServiceAccount", "serviceaccounts", true),
    res("apps", "v1", "Deployment", "deployments", true),
    res("networking.k8s.io", "v1", "Ingress", "ingresses", true),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    res("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
];

/// Served for the pipeline's Kubernetes runner but left out of discovery: the runner uses
/// typed APIs that need none, and the deploy provider's scenarios keep `batch/v1 Job` as their
/// example of a kind the cluster does not serve.
pub const UNLISTED: &[Resource] = &[
    res("", "v1", "Pod", "pods", true),
    res("batch", "v1", "Job", "jobs", true),
];

pub fn all() -> impl Iterator<Item = &'static Resource> {
    RESOURCES.iter().chain(UNLISTED)
}

pub fn jobs() -> Resource {
    UNLISTED[1]
}

pub fn pods() -> Resource {
    UNLISTED[0]
}

/// The resource served at `group/version` under `plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<Resource> {
    all()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
        .copied()
}

/// The resource for a plural in any group (plurals are unique among the served kinds).
pub fn by_plural(plural: &str) -> Option<Resource> {
    all().find(|r| r.plural == plural).copied()
}

pub fn namespaces() -> Resource {
    RESOURCES[0]
}

fn groups() -> Vec<&'static str> {
    let mut groups: Vec<&str> = RESOURCES
        .iter()
        .map(|r| r.group)
        .filter(|g| !g.is_empty())
        .collect();
    groups.dedup();
    groups
}

pub fn version_info() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-fake",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T00:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            { "clientCIDR": "0.0.0.0/0", "serverAddress": server_address }
        ],
    })
}

fn group_doc(group: &str) -> Value {
    let version = RESOURCES
        .iter()
        .find(|r| r.group == group)
        .map_or("v1", |r| r.version);
    let gv = json!({ "groupVersion": format!("{group}/{version}"), "version": version });
    json!({ "name": group, "versions": [gv.clone()], "preferredVersion": gv })
}

/// `/apis`.
pub fn group_list() -> Value {
    let groups: Vec<Value> = groups().into_iter().map(group_doc).collect();
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

/// `/apis/{group}`, or `None` when the group is not served.
pub fn group(group: &str) -> Option<Value> {
    if !groups().contains(&group) {
        return None;
    }
    let mut doc = group_doc(group);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

/// `/api/v1` or `/apis/{group}/{version}`, or `None` when that group version is not served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .map(|r| {
            json!({
                "name": r.plural,
                "singularName": r.kind.to_lowercase(),
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["delete", "get", "list", "patch"],
            })
        })
        .collect();
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}
