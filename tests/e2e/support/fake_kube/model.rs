//! The fake's in-memory state: stored objects (in their stored form, with `apiVersion` and
//! `kind`), the resourceVersion clock, scripted faults and the request log.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

use super::catalog::{self, Resource};
use super::workloads::{Deletion, JobScript};

/// Where an object lives: its type, its namespace (`""` for cluster-scoped) and its name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectKey {
    pub group: &'static str,
    pub plural: &'static str,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(resource: &Resource, namespace: Option<&str>, name: &str) -> Self {
        ObjectKey {
            group: resource.group,
            plural: resource.plural,
            namespace: namespace.unwrap_or_default().to_string(),
            name: name.to_string(),
        }
    }

    pub fn namespace_object(name: &str) -> Self {
        Self::new(&catalog::namespaces(), None, name)
    }
}

/// One request as the fake saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub content_type: Option<String>,
    /// The status the fake answered with.
    pub status: u16,
}

impl KubeRequest {
    /// Anything but a read: PATCH, POST, PUT or DELETE.
    pub fn is_write(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }

    /// One query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then(|| {
                percent_encoding::percent_decode_str(&value.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            })
        })
    }
}

/// A scripted failure: the next request with this method and a path starting with `prefix`
/// is answered with a `Status` of this code.
#[derive(Clone, Debug)]
pub struct FaultRule {
    /// Upper-case method, or `*` for any.
    pub method: String,
    pub prefix: String,
    pub code: u16,
}

#[derive(Debug, Default)]
pub struct Model {
    pub objects: BTreeMap<ObjectKey, Value>,
    /// The last resourceVersion handed out; every write takes the next one.
    pub resource_version: u64,
    pub uids: u64,
    pub faults: Vec<FaultRule>,
    pub requests: Vec<KubeRequest>,
    /// How long a deleted namespace stays `Terminating` before it and its content are gone.
    pub termination_delay: Duration,
    /// How the next Jobs behave, by name prefix; each script is used once.
    pub job_scripts: Vec<(String, JobScript)>,
    /// What each pod's container printed, by (namespace, pod).
    pub pod_logs: BTreeMap<(String, String), String>,
    /// Every served DELETE, with its propagation policy.
    pub deletions: Vec<Deletion>,
    /// Every object created by `POST`, as stored then, kept after it is deleted.
    pub created: Vec<(&'static str, Value)>,
    /// Every object written by server-side apply, as stored then, kept after it is deleted.
    pub applied: Vec<(&'static str, Value)>,
}

impl Model {
    pub fn next_resource_version(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    pub fn new_uid(&mut self) -> String {
        self.uids += 1;
        format!("6a1f0c2e-0000-4000-8000-{:012x}", self.uids)
    }

    /// `Active`, `Terminating`, or `None` when the namespace does not exist.
    pub fn namespace_phase(&self, name: &str) -> Option<String> {
        let ns = self.objects.get(&ObjectKey::namespace_object(name))?;
        Some(
            ns.pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("Active")
                .to_string(),
        )
    }

    /// Removes a namespace and everything in it, as the namespace controller does once the
    /// namespace's content is gone.
    pub fn purge_namespace(&mut self, name: &str) {
        self.objects
            .retain(|key, _| key.namespace != name && *key != ObjectKey::namespace_object(name));
    }

    /// Consumes the first fault matching this request.
    pub fn take_fault(&mut self, method: &str, path: &str) -> Option<u16> {
        let idx = self.faults.iter().position(|f| {
            (f.method == "*" || f.method.eq_ignore_ascii_case(method))
                && path.starts_with(&f.prefix)
        })?;
        Some(self.faults.remove(idx).code)
    }
}

/// The state shared by the handlers and the test's handle.
#[derive(Clone, Debug, Default)]
pub struct Shared(Arc<Mutex<Model>>);

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Model> {
        self.0.lock().expect("fake Kubernetes model lock poisoned")
    }
}
