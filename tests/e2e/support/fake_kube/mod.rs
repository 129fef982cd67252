//! A fake Kubernetes API server for end-to-end tests: an axum server on a loopback port that
//! speaks the real wire protocol (discovery documents, `Status` errors, lists without item
//! types, server-side apply, namespace termination), so kube-rs talks to it exactly as it
//! talks to a cluster.
//!
//! ```ignore
//! let kube = FakeKube::start().await;
//! kube.set_termination_delay(Duration::from_millis(300));
//! kube.fail_next("PATCH", "/apis/apps/v1/namespaces/shop-pr-7/deployments", 500);
//! let client = kube.client();
//! // … drive gitferry, then:
//! assert!(kube.namespace_exists("shop-pr-7"));
//! let deployments = kube.objects("deployments", Some("shop-pr-7"));
//! ```
//!
//! Served kinds: core `v1` Namespace (cluster-scoped), ConfigMap, Secret, Service,
//! ServiceAccount; `apps/v1` Deployment; `networking.k8s.io/v1` Ingress;
//! `rbac.authorization.k8s.io/v1` ClusterRole and ClusterRoleBinding (cluster-scoped), Role
//! and RoleBinding. Verbs: get, list, patch (server-side apply only) and delete.
//!
//! For the pipeline's Kubernetes runner, also (outside discovery) `batch/v1` Job and `v1` Pod:
//! create, get, list, delete, a pod's `log`, and Jobs that run as scripted ([`JobScript`]).

mod apply;
mod catalog;
mod model;
mod objects;
mod routes;
mod selector;
mod status;
mod workloads;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use model::KubeRequest;
pub use workloads::{Deletion, JobScript};

use model::{FaultRule, ObjectKey, Shared};
use routes::Server;

/// Apply bodies can carry large ConfigMaps; the real server accepts up to 3 MiB per object.
const MAX_BODY: usize = 16 * 1024 * 1024;

pub struct FakeKube {
    shared: Shared,
    url: String,
    task: JoinHandle<()>,
}

impl FakeKube {
    /// Binds 127.0.0.1 on a free port and serves until dropped.
    pub async fn start() -> FakeKube {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fake Kubernetes API");
        let address = listener
            .local_addr()
            .expect("local address of the fake Kubernetes API")
            .to_string();
        let shared = Shared::default();
        let server = Server {
            shared: shared.clone(),
            address: address.clone(),
        };
        let app = Router::new()
            .fallback(routes::handle)
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(server);
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fake Kubernetes API stopped: {e}");
            }
        });
        FakeKube {
            shared,
            url: format!("http://{address}"),
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// A kube-rs client for this server, built the way gitferry builds one from a URL.
    /// A kubeconfig file pointing at this fake, for a gitferry started with
    /// `--kubeconfig <path>`; the file lives as long as the returned folder.
    pub fn kubeconfig(&self) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kubeconfig");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {{server: '{}'}}\n\
                 users:\n- name: gitferry\n  user: {{}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: gitferry}}\n\
                 current-context: fake\n",
                self.url()
            ),
        )
        .expect("kubeconfig");
        let path = path.display().to_string();
        (dir, path)
    }

    pub fn client(&self) -> kube::Client {
        gitferry::deploy::kubernetes::install_crypto_provider();
        let url = self.url.parse().expect("the fake's URL is a valid URI");
        kube::Client::try_from(kube::Config::new(url)).expect("a kube client for the fake")
    }

    /// Stored objects of one type (by plural, e.g. `deployments`), in their stored form (with
    /// `apiVersion` and `kind`), sorted by name. `namespace` is `None` for cluster-scoped kinds
    /// or to see every namespace.
    pub fn objects(&self, plural: &str, namespace: Option<&str>) -> Vec<Value> {
        self.shared
            .lock()
            .objects
            .iter()
            .filter(|(key, _)| key.plural == plural)
            .filter(|(key, _)| namespace.is_none_or(|ns| key.namespace == ns))
            .map(|(_, object)| object.clone())
            .collect()
    }

    /// One stored object.
    pub fn object(&self, plural: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        let resource = catalog::by_plural(plural)?;
        let key = ObjectKey::new(&resource, namespace, name);
        self.shared.lock().objects.get(&key).cloned()
    }

    /// Changes a stored object as `kubectl edit` would: an update by `manager`, recorded in
    /// its `managedFields`, with a new resourceVersion.
    pub fn edit(
        &self,
        plural: &str,
        namespace: Option<&str>,
        name: &str,
        manager: &str,
        change: impl FnOnce(&mut Value),
    ) {
        let resource = catalog::by_plural(plural).expect("a known kind");
        let key = ObjectKey::new(&resource, namespace, name);
        let mut model = self.shared.lock();
        let version = model.next_resource_version();
        let object = model.objects.get_mut(&key).expect("the object exists");
        change(object);
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let api_version = resource.api_version();
        let meta = &mut object["metadata"];
        meta["resourceVersion"] = Value::from(version);
        apply::record_manager(
            meta,
            manager,
            "Update",
            &api_version,
            &now,
            Value::Object(Default::default()),
        );
    }

    /// Names of the stored objects of one type in a namespace, sorted.
    pub fn names(&self, plural: &str, namespace: Option<&str>) -> Vec<String> {
        self.objects(plural, namespace)
            .iter()
            .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
            .collect()
    }

    /// Whether the namespace exists (Active or Terminating).
    pub fn namespace_exists(&self, name: &str) -> bool {
        self.namespace_phase(name).is_some()
    }

    /// `Active`, `Terminating`, or `None` once the namespace is gone.
    pub fn namespace_phase(&self, name: &str) -> Option<String> {
        self.shared.lock().namespace_phase(name)
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<KubeRequest> {
        self.shared.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// The next request with this method (`*` for any) whose path starts with `path_prefix`
    /// is answered with a `Status` of code `status` instead of being served.
    pub fn fail_next(&self, method: &str, path_prefix: &str, status: u16) {
        self.shared.lock().faults.push(FaultRule {
            method: method.to_uppercase(),
            prefix: path_prefix.to_string(),
            code: status,
        });
    }

    /// How long a deleted namespace stays `Terminating` before it and everything in it is
    /// gone. Zero (the default) removes it at once, though the DELETE still answers with the
    /// namespace in phase `Terminating`, as the real server does.
    pub fn set_termination_delay(&self, delay: Duration) {
        self.shared.lock().termination_delay = delay;
    }

    /// The next Job whose name starts with `name_prefix` (`""` for any) behaves as `script`;
    /// Jobs without a script succeed at once with an empty log.
    pub fn script_job(&self, name_prefix: &str, script: JobScript) {
        self.shared
            .lock()
            .job_scripts
            .push((name_prefix.to_string(), script));
    }

    /// Every object of one type (by plural) created by `POST`, in order, as first stored; kept
    /// after it is deleted.
    pub fn created(&self, plural: &str) -> Vec<Value> {
        self.shared
            .lock()
            .created
            .iter()
            .filter(|(p, _)| *p == plural)
            .map(|(_, object)| object.clone())
            .collect()
    }

    /// Every object of kind `plural` written by server-side apply, in order, as stored then
    /// (also those deleted since).
    pub fn applied(&self, plural: &str) -> Vec<Value> {
        self.shared
            .lock()
            .applied
            .iter()
            .filter(|(p, _)| *p == plural)
            .map(|(_, object)| object.clone())
            .collect()
    }

    /// Every DELETE served so far, in order, with its propagation policy.
    pub fn deletions(&self) -> Vec<Deletion> {
        self.shared.lock().deletions.clone()
    }

    /// Stores an object as if someone else had created it (no `gitferry` field manager).
    /// It needs `apiVersion`, `kind`, `metadata.name` and, when namespaced,
    /// `metadata.namespace`.
    pub fn insert(&self, object: Value) {
        apply::seed(&self.shared, object);
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        self.task.abort();
    }
}
